/*
 * tls/stream: one side of a proxied connection, plain (ssl == NULL) or TLS, on a
 * non-blocking socket, with one read/write API so the HTTP layer need not care which.
 *
 * Bytes the proxy already read from the fd before the stream existed (a ClientHello it
 * peeked at for the SNI, bytes after a CONNECT head) are handed in as a prefix: a TLS
 * stream feeds them to OpenSSL before anything from the fd, a plain stream returns them
 * first from tstream_read().
 *
 * Context: proxy loop; never blocks. After -1/EAGAIN, s->want says which fd event
 * (TS_WANT_READ / TS_WANT_WRITE) to wait for before calling the same operation again
 * (a TLS read may need the fd writable and the other way round).
 * Errors: -1 with errno EAGAIN, ECONNRESET, EPIPE or EPROTO; s->err says what failed
 * ("certificate verify failed: ..."). The OpenSSL error queue is cleared before each
 * call, so one connection's errors never show up on another.
 * Ownership: the fd is borrowed (never closed here); the SSL and the prefix copy are
 * owned and released by tstream_free().
 * SIGPIPE: SSL_write cannot pass MSG_NOSIGNAL; the proxy process ignores SIGPIPE.
 */
#ifndef AGENTCAGE_TLS_STREAM_H
#define AGENTCAGE_TLS_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#define TS_WANT_READ  1u
#define TS_WANT_WRITE 2u

struct tstream {
	int fd;        /* borrowed */
	SSL *ssl;      /* owned; NULL: plain */
	unsigned want; /* after EAGAIN: which fd event the operation waits for */
	char err[256]; /* after EPROTO/ECONNRESET: what failed ("certificate verify
	                * failed: unable to get local issuer certificate") */
	/* private: prefix bytes (read by the proxy before the stream existed) */
	char *pre;
	size_t pre_len, pre_off;
};

/*
 * Takes <ssl> (may be NULL: plain). <prefix>[0..<plen>) are bytes already read from <fd>:
 * they are consumed first (TLS: fed to OpenSSL before the fd; plain: returned by read).
 * 0; -1 with errno ENOMEM. <ssl> is taken even on failure (freed then, the stream left
 * empty), so the caller never has to know whether to free it; tstream_free() on the
 * failed stream is harmless.
 */
int tstream_init(struct tstream *s, int fd, SSL *ssl, const void *prefix, size_t plen);

/*
 * 0 done (plain: at once); -1 errno EAGAIN (s->want set), ECONNRESET (also for a peer
 * that closed mid-handshake), EPROTO (s->err: TLS alert, verification failure) or the
 * socket's own errno (EPIPE...; s->err).
 */
int tstream_handshake(struct tstream *s);

/*
 * > 0 bytes read; 0 EOF (close_notify, or a FIN without close_notify: counted as EOF
 * too); -1 errno EAGAIN (s->want), ECONNRESET or EPROTO (s->err). <len> 0 returns 0.
 */
ssize_t tstream_read(struct tstream *s, void *buf, size_t len);

/*
 * > 0 bytes written (partial writes allowed; after EAGAIN retry with the same or a moved
 * buffer holding the same bytes); -1 errno EAGAIN (s->want), EPIPE (also after the
 * peer's close_notify), ECONNRESET, EPROTO. Never raises SIGPIPE (send MSG_NOSIGNAL).
 * <len> 0 returns 0.
 */
ssize_t tstream_write(struct tstream *s, const void *buf, size_t len);

/* TLS: sends close_notify (best effort, non-blocking); then shutdown(fd, SHUT_WR). 0/-1. */
int tstream_shutdown(struct tstream *s);

/* Bytes readable without waiting for the fd (prefix left, or decrypted in SSL_pending). */
bool tstream_pending(const struct tstream *s);

/* Negotiated protocol for logs: "TLSv1.3", "TLSv1.2" or "plain". Static string. */
const char *tstream_version(const struct tstream *s);

/* SSL_free + the prefix copy; the fd is untouched. Idempotent; zeroed struct ok. */
void tstream_free(struct tstream *s);

#endif
