/*
 * tls/stream: plain or TLS non-blocking stream (contract in stream.h).
 *
 * A TLS stream talks to its socket through our own BIO ("agentcage fd+prefix") instead
 * of OpenSSL's socket BIO, for two reasons: it hands OpenSSL the prefix bytes before
 * anything from the fd (a ClientHello the proxy already read to find the SNI), and it
 * writes with send(MSG_NOSIGNAL), so a peer that closed gives EPIPE and never SIGPIPE
 * whatever the process's signal disposition.
 */
#include "tls/stream.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "util/util.h"

/* --- the fd+prefix BIO --- */

struct pbio {
	int fd;             /* borrowed */
	unsigned char *pre; /* owned copy of the prefix; NULL when none */
	size_t pre_len, pre_off;
	bool eof; /* recv returned 0 */
};

static BIO_METHOD *pbio_method;
static pthread_once_t pbio_once = PTHREAD_ONCE_INIT;

static int
pbio_read(BIO *b, char *buf, int len)
{
	struct pbio *p = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (p->pre_off < p->pre_len) {
		size_t k = p->pre_len - p->pre_off;

		if (k > (size_t)len)
			k = (size_t)len;
		memcpy(buf, p->pre + p->pre_off, k);
		p->pre_off += k;
		if (p->pre_off == p->pre_len) {
			free(p->pre);
			p->pre = NULL;
			p->pre_len = p->pre_off = 0;
		}
		return (int)k;
	}
	n = TEMP_FAILURE_RETRY_INT(recv(p->fd, buf, (size_t)len, 0));
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			BIO_set_retry_read(b);
		return -1;
	}
	if (n == 0)
		p->eof = true;
	return (int)n;
}

static int
pbio_write(BIO *b, const char *buf, int len)
{
	struct pbio *p = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	n = TEMP_FAILURE_RETRY_INT(send(p->fd, buf, (size_t)len, MSG_NOSIGNAL));
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_write(b);
	return (int)n;
}

static long
pbio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct pbio *p = BIO_get_data(b);

	(void)num;
	switch (cmd) {
	case BIO_CTRL_FLUSH: /* writes go straight to the socket */
		return 1;
	case BIO_CTRL_PENDING:
		return p ? (long)(p->pre_len - p->pre_off) : 0;
	case BIO_CTRL_WPENDING:
		return 0;
	case BIO_CTRL_EOF:
		return p && p->eof && p->pre_off == p->pre_len;
	case BIO_C_GET_FD: /* SSL_get_fd() */
		if (!p)
			return -1;
		if (ptr)
			*(int *)ptr = p->fd;
		return p->fd;
	default: /* dup, push/pop, kTLS...: not supported */
		return 0;
	}
}

static int
pbio_create(BIO *b)
{
	BIO_set_data(b, NULL);
	BIO_set_init(b, 0);
	return 1;
}

static int
pbio_destroy(BIO *b)
{
	struct pbio *p = BIO_get_data(b);

	if (p) {
		free(p->pre);
		free(p);
	}
	BIO_set_data(b, NULL);
	BIO_set_init(b, 0);
	return 1;
}

static void
pbio_method_init(void)
{
	const int type = BIO_get_new_index();
	BIO_METHOD *m;

	if (type == -1)
		return;
	m = BIO_meth_new(type | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "agentcage fd+prefix");
	if (!m)
		return;
	if (BIO_meth_set_read(m, pbio_read) != 1 || BIO_meth_set_write(m, pbio_write) != 1 ||
	    BIO_meth_set_ctrl(m, pbio_ctrl) != 1 || BIO_meth_set_create(m, pbio_create) != 1 ||
	    BIO_meth_set_destroy(m, pbio_destroy) != 1) {
		BIO_meth_free(m);
		return;
	}
	pbio_method = m; /* lives as long as the process */
}

/* A BIO on <fd> that reads <prefix> first. NULL (errno ENOMEM) on failure. */
static BIO *
pbio_new(int fd, const void *prefix, size_t plen)
{
	struct pbio *p;
	BIO *b;

	pthread_once(&pbio_once, pbio_method_init);
	p = calloc(1, sizeof(*p));
	if (!p)
		goto err_nomem;
	p->fd = fd;
	if (plen > 0) {
		p->pre = malloc(plen);
		if (!p->pre)
			goto err_free_p;
		memcpy(p->pre, prefix, plen);
		p->pre_len = plen;
	}
	b = pbio_method ? BIO_new(pbio_method) : NULL;
	if (!b)
		goto err_free_p;
	BIO_set_data(b, p);
	BIO_set_init(b, 1);
	return b;

err_free_p:
	free(p->pre);
	free(p);
err_nomem:
	errno = ENOMEM;
	return NULL;
}

/* --- the stream --- */

int
tstream_init(struct tstream *s, int fd, SSL *ssl, const void *prefix, size_t plen)
{
	BIO *b;

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	if (!ssl) {
		if (plen > 0) {
			s->pre = malloc(plen);
			if (!s->pre) {
				errno = ENOMEM;
				return -1;
			}
			memcpy(s->pre, prefix, plen);
			s->pre_len = plen;
		}
		return 0;
	}
	ERR_clear_error();
	b = pbio_new(fd, prefix, plen);
	if (!b) {
		SSL_free(ssl); /* taken even on failure (stream.h) */
		errno = ENOMEM;
		return -1;
	}
	/* One BIO for both directions: SSL_set_bio takes the single reference we hold
	 * and frees the socket BIO SSL_set_fd had installed. */
	SSL_set_bio(ssl, b, b);
	s->ssl = ssl;
	return 0;
}

/* Fills s->err for a failed SSL call of kind <op>: the verify result when the
 * certificate was refused, else OpenSSL's first queued error. Clears the queue. */
static void
ts_ssl_err(struct tstream *s, const char *op)
{
	const unsigned long e = ERR_peek_error();
	const long vr = SSL_get_verify_result(s->ssl);
	char reason[200];

	if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED &&
	    vr != X509_V_OK) {
		ut_snprintf(s->err, sizeof(s->err), "certificate verify failed: %s",
		            X509_verify_cert_error_string(vr));
	} else {
		if (e == 0)
			ut_strlcpy(reason, "unknown error", sizeof(reason));
		else
			ERR_error_string_n(e, reason, sizeof(reason));
		(void)ut_snprintf(s->err, sizeof(s->err), "TLS %s: %s", op, reason);
	}
	ERR_clear_error();
}

/*
 * Maps a failed SSL call (<ret> its return value, <op> for messages, <saved> the errno
 * right after it) to this module's convention. Returns 0 for EOF, else -1 with errno.
 */
static int
ts_ssl_fail(struct tstream *s, int ret, const char *op, int saved)
{
	switch (SSL_get_error(s->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		s->want = TS_WANT_READ;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		s->want = TS_WANT_WRITE;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN: /* close_notify, or a bare FIN (IGNORE_UNEXPECTED_EOF) */
		ERR_clear_error();
		return 0;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() != 0) {
			ts_ssl_err(s, op);
			errno = EPROTO;
			return -1;
		}
		if (saved == 0)
			return 0; /* EOF that OpenSSL did not classify: EOF all the same */
		(void)ut_snprintf(s->err, sizeof(s->err), "TLS %s: %s", op, strerror(saved));
		errno = saved;
		return -1;
	default: /* SSL_ERROR_SSL and anything newer */
		ts_ssl_err(s, op);
		errno = EPROTO;
		return -1;
	}
}

int
tstream_handshake(struct tstream *s)
{
	int r;

	s->want = 0;
	if (!s->ssl)
		return 0;
	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(s->ssl);
	if (r == 1)
		return 0;
	if (ts_ssl_fail(s, r, "handshake", errno) == 0) {
		/* EOF in the middle of a handshake is a reset for the caller */
		ut_strlcpy(s->err, "TLS handshake: peer closed the connection", sizeof(s->err));
		errno = ECONNRESET;
	}
	return -1;
}

/* Plain read: prefix first, then the socket. */
static ssize_t
ts_plain_read(struct tstream *s, void *buf, size_t len)
{
	ssize_t n;

	if (s->pre_off < s->pre_len) {
		size_t k = s->pre_len - s->pre_off;

		if (k > len)
			k = len;
		memcpy(buf, s->pre + s->pre_off, k);
		s->pre_off += k;
		if (s->pre_off == s->pre_len) {
			free(s->pre);
			s->pre = NULL;
			s->pre_len = s->pre_off = 0;
		}
		return (ssize_t)k;
	}
	n = TEMP_FAILURE_RETRY_INT(recv(s->fd, buf, len, 0));
	if (n == -1) {
		const int saved = errno;

		if (saved == EAGAIN || saved == EWOULDBLOCK)
			s->want = TS_WANT_READ;
		else
			(void)ut_snprintf(s->err, sizeof(s->err), "read: %s", strerror(saved));
		errno = saved == EWOULDBLOCK ? EAGAIN : saved;
	}
	return n;
}

ssize_t
tstream_read(struct tstream *s, void *buf, size_t len)
{
	size_t got = 0;
	int r;

	s->want = 0;
	if (len == 0)
		return 0;
	if (!s->ssl)
		return ts_plain_read(s, buf, len);
	ERR_clear_error();
	errno = 0;
	r = SSL_read_ex(s->ssl, buf, len, &got);
	if (r == 1)
		return (ssize_t)got;
	return ts_ssl_fail(s, r, "read", errno);
}

ssize_t
tstream_write(struct tstream *s, const void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;
	int r;

	s->want = 0;
	if (len == 0)
		return 0;
	if (!s->ssl) {
		n = TEMP_FAILURE_RETRY_INT(send(s->fd, buf, len, MSG_NOSIGNAL));
		if (n == -1) {
			const int saved = errno;

			if (saved == EAGAIN || saved == EWOULDBLOCK)
				s->want = TS_WANT_WRITE;
			else
				(void)ut_snprintf(s->err, sizeof(s->err), "write: %s",
				                  strerror(saved));
			errno = saved == EWOULDBLOCK ? EAGAIN : saved;
		}
		return n;
	}
	ERR_clear_error();
	errno = 0;
	r = SSL_write_ex(s->ssl, buf, len, &done);
	if (r == 1)
		return (ssize_t)done;
	if (ts_ssl_fail(s, r, "write", errno) == 0) {
		/* the peer's close_notify arrived, or the socket closed under us */
		ut_strlcpy(s->err, "TLS write: peer closed the connection", sizeof(s->err));
		errno = EPIPE;
	}
	return -1;
}

int
tstream_shutdown(struct tstream *s)
{
	/* close_notify only on an established session: after a fatal error OpenSSL
	 * forbids SSL_shutdown, and before the handshake there is nothing to close. */
	if (s->ssl && SSL_is_init_finished(s->ssl)) {
		ERR_clear_error();
		(void)SSL_shutdown(s->ssl); /* best effort: 0, 1 or a would-block alike */
		ERR_clear_error();
	}
	if (shutdown(s->fd, SHUT_WR) == -1) {
		const int saved = errno;

		(void)ut_snprintf(s->err, sizeof(s->err), "shutdown: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	return 0;
}

bool
tstream_pending(const struct tstream *s)
{
	if (!s->ssl)
		return s->pre_off < s->pre_len;
	return SSL_pending(s->ssl) > 0 || BIO_ctrl_pending(SSL_get_rbio(s->ssl)) > 0;
}

const char *
tstream_version(const struct tstream *s)
{
	return s->ssl ? SSL_get_version(s->ssl) : "plain";
}

void
tstream_free(struct tstream *s)
{
	SSL_free(s->ssl); /* frees the BIO and its prefix copy */
	s->ssl = NULL;
	free(s->pre);
	s->pre = NULL;
	s->pre_len = s->pre_off = 0;
}
