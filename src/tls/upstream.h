/*
 * tls/upstream: the proxy's TLS client towards real servers when it terminates a
 * client's TLS. Peer verification is always on: the system trust store plus an optional
 * extra CA file (--upstream-ca, for private registries and the tests); a verification
 * failure is an error the caller turns into a 502, never a fallback to no verification.
 *
 * Context: created in the supervisor (reads the extra CA file, so a bad one stops the
 * start), used by the proxy loop. The system store is read by the first
 * tls_upstream_ssl() (~30 ms parsing the bundle), so sandboxes that never terminate a
 * connection do not pay it at start.
 * Errors: 0 / -1 (or NULL) with errno set and a message in <err> (what, which file,
 * OpenSSL's reason, hint). Ownership: the caller owns the tls_upstream (tls_upstream_free)
 * and each SSL returned by tls_upstream_ssl() (SSL_free or tstream_free); an SSL stays
 * valid after tls_upstream_free() (the SSL_CTX is reference-counted).
 */
#ifndef AGENTCAGE_TLS_UPSTREAM_H
#define AGENTCAGE_TLS_UPSTREAM_H

#include <stddef.h>

#include <openssl/ssl.h>

struct tls_upstream;

/*
 * Client context: system trust store + <extra_ca_file> (PEM, may hold several
 * certificates; NULL = none), peer verification on, TLS >= 1.2, ALPN "http/1.1".
 * 0 and *<out> set; -1 with errno (ENOENT/EACCES/EINVAL for the file, ENOMEM, EPROTO)
 * and <err> naming the file, OpenSSL's reason and a hint.
 */
int tls_upstream_new(struct tls_upstream **out, const char *extra_ca_file, char *err,
                     size_t errlen);

/* Frees the context. NULL ok. */
void tls_upstream_free(struct tls_upstream *u);

/*
 * A client-role SSL on <fd> for <host>: SNI = host unless it is an IP literal; the
 * certificate must match <host> (DNS name, or the IP for a literal; brackets allowed).
 * Not yet handshaken. NULL with errno (EINVAL bad host, ENOMEM, EPROTO: also an
 * unreadable system store on first use) and <err>.
 */
SSL *tls_upstream_ssl(struct tls_upstream *u, const char *host, int fd, char *err, size_t errlen);

#endif
