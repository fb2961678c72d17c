/*
 * tls/upstream: client context towards real servers (contract in upstream.h).
 *
 * Verification is never optional here: SSL_VERIFY_PEER with the system store and the
 * extra CA file, and the host (or IP) checked against the certificate. A failed check
 * fails the handshake; tstream reports "certificate verify failed: <reason>".
 */
#include "tls/upstream.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls/common.h"
#include "util/util.h"

struct tls_upstream {
	SSL_CTX *ctx;
	bool system_loaded; /* the system store is read on first use, not at start */
};

/* "\x08http/1.1" in ALPN wire format: the proxy speaks HTTP/1.1 upstream too. */
static const unsigned char alpn_http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

/*
 * Loads <path> into the context's store. Opened first by ourselves so a missing or
 * unreadable file gets its errno and not OpenSSL's vaguer "system library" text.
 * 0 / -1 with <err>.
 */
static int
upstream_load_ca(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
	static const char hint[] = "hint: give a PEM file with the registry's CA certificate";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char what[512];

	if (fd == -1) {
		const int saved = errno;

		ut_snprintf(err, errlen, "upstream CA file %s: %s; %s", path, strerror(saved),
		            hint);
		errno = saved;
		return -1;
	}
	close(fd);
	if (SSL_CTX_load_verify_file(ctx, path) != 1) {
		(void)ut_snprintf(what, sizeof(what), "upstream CA file %s", path);
		tls_err_set(err, errlen, what);
		/* append the hint after OpenSSL's reason */
		if (strlen(err) + sizeof(hint) + 2 < errlen) {
			const size_t n = strlen(err);

			(void)ut_snprintf(err + n, errlen - n, "; %s", hint);
		}
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* The client context (the system store is read separately, on first use). 0 / -1. */
static int
upstream_make_ctx(struct tls_upstream *u, const char *extra_ca_file, char *err, size_t errlen)
{
	ERR_clear_error();
	u->ctx = SSL_CTX_new(TLS_client_method());
	if (!u->ctx || SSL_CTX_set_min_proto_version(u->ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_alpn_protos(u->ctx, alpn_http11, sizeof(alpn_http11)) != 0) {
		tls_err_set(err, errlen, "TLS upstream: creating the client context");
		return -1;
	}
	if (extra_ca_file && upstream_load_ca(u->ctx, extra_ca_file, err, errlen) == -1)
		return -1;
	SSL_CTX_set_verify(u->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(u->ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
	                                 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* A server's FIN without close_notify is EOF: HTTP framing detects truncation. */
	SSL_CTX_set_options(u->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
	return 0;
}

int
tls_upstream_new(struct tls_upstream **out, const char *extra_ca_file, char *err, size_t errlen)
{
	struct tls_upstream *u;
	int saved;

	*out = NULL;
	u = calloc(1, sizeof(*u));
	if (!u) {
		ut_snprintf(err, errlen, "TLS upstream: %s", strerror(ENOMEM));
		errno = ENOMEM;
		return -1;
	}
	/* With an extra CA file the context is made now, so a bad file stops the start;
	 * without one, on first use: a sandbox that never terminates pays no OpenSSL. */
	if (extra_ca_file && upstream_make_ctx(u, extra_ca_file, err, errlen) == -1)
		goto err_free_u;
	*out = u;
	return 0;

err_free_u:
	saved = errno;
	tls_upstream_free(u);
	errno = saved;
	return -1;
}

void
tls_upstream_free(struct tls_upstream *u)
{
	if (!u)
		return;
	SSL_CTX_free(u->ctx);
	u->ctx = NULL;
	free(u);
}

SSL *
tls_upstream_ssl(struct tls_upstream *u, const char *host, int fd, char *err, size_t errlen)
{
	struct tls_host h;
	const char *why;
	SSL *ssl;

	ERR_clear_error();
	if (tls_host_parse(host, &h, &why) == -1) {
		ut_snprintf(err, errlen, "TLS upstream: bad host: %s", why);
		errno = EINVAL;
		return NULL;
	}
	/* Parsing the system bundle costs ~30 ms: paid by the first terminated connection,
	 * not by every sandbox start (most never open one). */
	if (u->ctx == NULL && upstream_make_ctx(u, NULL, err, errlen) == -1) {
		errno = EPROTO;
		return NULL;
	}
	if (!u->system_loaded) {
		if (SSL_CTX_set_default_verify_paths(u->ctx) != 1) {
			tls_err_set(err, errlen, "TLS upstream: loading the system trust store");
			errno = EPROTO;
			return NULL;
		}
		u->system_loaded = true;
	}
	ssl = SSL_new(u->ctx);
	if (!ssl)
		goto err_openssl;
	SSL_set_connect_state(ssl);
	if (h.is_ip) {
		/* RFC 6066 §3: no SNI for IP literals; the IP must be in an IP SAN. */
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), h.name) != 1)
			goto err_free_ssl;
	} else {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (SSL_set_tlsext_host_name(ssl, h.name) != 1 || SSL_set1_host(ssl, h.name) != 1)
			goto err_free_ssl;
	}
	if (SSL_set_fd(ssl, fd) != 1)
		goto err_free_ssl;
	return ssl;

err_free_ssl:
	SSL_free(ssl);
err_openssl:
	tls_err_set(err, errlen, "TLS upstream: creating a client connection");
	return NULL;
}
