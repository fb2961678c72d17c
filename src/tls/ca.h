/*
 * tls/ca: the per-sandbox certificate authority that lets the proxy terminate TLS.
 *
 * At sandbox start a fresh ECDSA P-256 CA is made (tls_ca_new, or tls_ca_start/finish to
 * make it in a child process beside the start-up); its certificate (tls_ca_cert_pem) is
 * installed in the sandbox's trust store, its private key is only ever in the memory of
 * the process that made it and of the supervisor that receives it. For each host the proxy terminates, a leaf
 * certificate (SAN = the host name or IP literal, signed by the CA) is minted on first use
 * and its server SSL_CTX cached, so a host costs one signature per sandbox, not one per
 * connection. All leaves share one P-256 key generated with the CA.
 *
 * Context: created in the supervisor, then used only by the proxy loop (one thread; no
 * locking). Errors: 0 / -1 (or NULL) with errno set and a human message in <err>
 * (what failed, OpenSSL's reason, hint). Ownership: the caller owns the tls_ca and frees
 * it with tls_ca_free(); SSLs returned by tls_ca_server_ssl() belong to the caller
 * (normally handed to tstream_init()) and stay valid after the CA cache evicts their
 * host or the CA is freed (OpenSSL reference-counts the SSL_CTX and the leaf).
 */
#ifndef AGENTCAGE_TLS_CA_H
#define AGENTCAGE_TLS_CA_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

/* Hosts whose leaf SSL_CTX is cached; beyond it the oldest entry is evicted. */
#define TLS_CA_CACHE_MAX 1024
/* CA lifetime: a sandbox can live for weeks (a long agent session, a dev container), and
 * the CA dies with the sandbox anyway, so a short but not tiny validity. */
#define TLS_CA_VALIDITY_DAYS 30
/* Leaf lifetime (capped at the CA's notAfter): short, leaves are cheap to mint again. */
#define TLS_CA_LEAF_VALIDITY_DAYS 7
/* Clock skew allowance: notBefore is this far in the past. */
#define TLS_CA_BACKDATE_SECS 3600
/* X.509 upper bound for a CN (RFC 5280 ub-common-name). */
#define TLS_CA_CN_MAX 64
/* Longest DNS name accepted for a leaf (RFC 1035 presentation form without final dot). */
#define TLS_CA_HOST_MAX 253

struct tls_ca;

/* Bounds of what tls_ca_finish() accepts from the CA maker. */
#define TLS_CA_DER_MAX 4096
#define TLS_CA_PEM_MAX 4096 /* a P-256 CA certificate in PEM is ~700 bytes */

/* A CA being made in a child process (tls_ca_start). */
struct tls_ca_job {
	pid_t pid;	/* the maker, -1 once reaped */
	int fd;		/* read end of its pipe */
};

/*
 * Creates a fresh ECDSA P-256 CA for sandbox <sandbox> (any string; the CN is
 * "agentcage sandbox <sandbox> CA", truncated to TLS_CA_CN_MAX), random 128-bit serial,
 * valid from now - 1 h to now + TLS_CA_VALIDITY_DAYS. 0 and *<out> set; -1 with errno
 * (ENOMEM, EINVAL for a NULL name, EPROTO for an OpenSSL failure) and <err> filled.
 */
int tls_ca_new(struct tls_ca **out, const char *sandbox, char *err, size_t errlen);

/*
 * The same CA made beside the caller's own start-up: tls_ca_start() forks a child that
 * runs tls_ca_new() and sends back the two private keys (DER) and the certificate (PEM)
 * over a pipe; tls_ca_finish() reads them (blocking) and reaps the child. The keys exist
 * in the caller's memory only from tls_ca_finish() on, so the supervisor calls it after
 * cloning the sandbox's init; they are parsed (OpenSSL's start-up, ~5 ms) by the first
 * tls_ca_server_ssl(), not at start. tls_ca_cert_pem() works right after finish.
 * tls_ca_abort() kills and reaps a child not finished (idempotent). 0 / -1 with errno
 * and <err> (the child's own message when it failed).
 */
int tls_ca_start(struct tls_ca_job *job, const char *sandbox, char *err, size_t errlen);
int tls_ca_finish(struct tls_ca_job *job, struct tls_ca **out, char *err, size_t errlen);
void tls_ca_abort(struct tls_ca_job *job);

/* Frees the CA, its key, the leaf key and the cache. NULL ok. */
void tls_ca_free(struct tls_ca *ca);

/* The CA certificate as NUL-terminated PEM text, owned by <ca>. */
const char *tls_ca_cert_pem(const struct tls_ca *ca);

/*
 * A server-role SSL (not yet handshaken) on <fd> presenting a leaf for <host> (DNS name
 * of 1..TLS_CA_HOST_MAX letters, digits, '-', '.', or an IPv4/IPv6 literal, brackets
 * allowed), minted on first use and cached (TLS_CA_CACHE_MAX hosts). TLS >= 1.2; ALPN
 * selects only "http/1.1" (no ALPN when the client does not offer it). The caller owns
 * the SSL (SSL_free, or hand it to tstream_init). NULL with errno EINVAL (bad host),
 * ENOMEM or EPROTO, and <err> filled.
 */
SSL *tls_ca_server_ssl(struct tls_ca *ca, const char *host, int fd, char *err, size_t errlen);

/* Number of leaves minted so far (tests: proves the cache). */
size_t tls_ca_leaves_minted(const struct tls_ca *ca);

#endif
