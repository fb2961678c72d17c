/*
 * tls/ca: the per-sandbox certificate authority that lets the proxy terminate TLS.
 *
 * At sandbox start the supervisor creates a fresh ECDSA P-256 CA (tls_ca_new); its
 * certificate (tls_ca_cert_pem) is installed in the sandbox's trust store, its private
 * key never leaves this process's memory. For each host the proxy terminates, a leaf
 * certificate (SAN = the host name or IP literal, signed by the CA) is minted on first use
 * and its server SSL_CTX cached, so a host costs one signature per sandbox, not one per
 * connection. All leaves share one P-256 key, generated with the first leaf.
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

/*
 * Creates a fresh ECDSA P-256 CA for sandbox <sandbox> (any string; the CN is
 * "agentcage sandbox <sandbox> CA", truncated to TLS_CA_CN_MAX), random 128-bit serial,
 * valid from now - 1 h to now + TLS_CA_VALIDITY_DAYS. 0 and *<out> set; -1 with errno
 * (ENOMEM, EINVAL for a NULL name, EPROTO for an OpenSSL failure) and <err> filled.
 */
int tls_ca_new(struct tls_ca **out, const char *sandbox, char *err, size_t errlen);

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
