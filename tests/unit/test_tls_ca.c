/*
 * tls/ca: the per-sandbox CA certificate and the leaves it mints, checked by real
 * handshakes between a server SSL from tls_ca_server_ssl() and an OpenSSL client that
 * trusts only the CA, over a non-blocking socketpair driven from one thread.
 */
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "t.h"
#include "tls/ca.h"
#include "tls/stream.h"
#include "tls_fixture.h"
#include "util/util.h"

static const unsigned char alpn_h2_h11[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
static const unsigned char alpn_h2[] = {2, 'h', '2'};

static X509 *
pem_to_x509(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return x;
}

static time_t
asn1_to_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return (time_t)-1;
	return timegm(&tm);
}

/* Client context trusting only <ca>, offering ALPN <alpn> (NULL: none). */
static SSL_CTX *
client_ctx(const struct tls_ca *ca, const unsigned char *alpn, unsigned alpn_len)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509 *x = pem_to_x509(tls_ca_cert_pem(ca));

	if (!ctx || !x || X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), x) != 1)
		abort();
	X509_free(x);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (alpn && SSL_CTX_set_alpn_protos(ctx, alpn, alpn_len) != 0)
		abort();
	return ctx;
}

/* Handshake: server leaf for <host>, client trusting <cctx> verifying <vhost> (name) or
 * <vip> (IP literal). 0 on success of both. */
static int
pair_run(struct tlsfx_pair *pr, struct tls_ca *ca, const char *host, SSL_CTX *cctx,
         const char *vhost, const char *vip)
{
	char err[256];
	SSL *s, *c;

	tlsfx_pair_open(pr);
	s = tls_ca_server_ssl(ca, host, pr->sv[1], err, sizeof(err));
	if (!s) {
		printf("# server ssl: %s\n", err);
		return -1;
	}
	c = SSL_new(cctx);
	if (!c)
		abort();
	SSL_set_connect_state(c);
	if (vhost && (SSL_set1_host(c, vhost) != 1 || SSL_set_tlsext_host_name(c, vhost) != 1))
		abort();
	if (vip && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c), vip) != 1)
		abort();
	if (tstream_init(&pr->cli, pr->sv[0], c, NULL, 0) == -1 ||
	    tstream_init(&pr->srv, pr->sv[1], s, NULL, 0) == -1)
		abort();
	return tlsfx_pair_handshake(pr);
}

static void
test_ca_cert(void)
{
	char err[256] = "", cn[128] = "", o[64] = "";
	struct tls_ca *ca = NULL, *ca2 = NULL;
	const time_t now = time(NULL);
	X509 *x, *x2;
	EVP_PKEY *k;
	X509_STORE *st;
	X509_STORE_CTX *sc;
	char group[32] = "";

	T_OK(tls_ca_new(&ca, "demo", err, sizeof(err)) == 0, "CA created (%s)", err);
	if (!ca)
		return;
	T_OK(strncmp(tls_ca_cert_pem(ca), "-----BEGIN CERTIFICATE-----\n", 28) == 0,
	     "CA cert is PEM text");
	x = pem_to_x509(tls_ca_cert_pem(ca));
	T_OK(x != NULL, "CA PEM parses");
	if (!x)
		goto out_free_ca;
	T_OK(X509_check_issued(x, x) == X509_V_OK, "CA cert is self-issued");
	st = X509_STORE_new();
	sc = X509_STORE_CTX_new();
	X509_STORE_add_cert(st, x);
	X509_STORE_CTX_init(sc, st, x, NULL);
	T_OK(X509_verify_cert(sc) == 1, "CA cert verifies with itself as the only anchor");
	X509_STORE_CTX_free(sc);
	X509_STORE_free(st);
	T_OK(X509_check_ca(x) == 1 && (X509_get_extension_flags(x) & EXFLAG_CA) &&
	             X509_get_pathlen(x) == 0,
	     "basicConstraints CA:TRUE pathlen:0");
	T_OK(!(X509_get_extension_flags(x) & EXFLAG_CRITICAL), "no unknown critical extension");
	T_OK(X509_get_key_usage(x) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN),
	     "keyUsage keyCertSign+cRLSign");
	{
		int crit = -1;
		BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);

		T_OK(bc && crit == 1, "basicConstraints is critical");
		BASIC_CONSTRAINTS_free(bc);
	}
	T_OK(X509_get0_subject_key_id(x) != NULL, "subjectKeyIdentifier present");
	k = X509_get0_pubkey(x);
	T_OK(k && EVP_PKEY_get_id(k) == EVP_PKEY_EC &&
	             EVP_PKEY_get_group_name(k, group, sizeof(group), NULL) == 1 &&
	             strcmp(group, "prime256v1") == 0,
	     "key is ECDSA P-256 (%s)", group);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_organizationName, o, sizeof(o));
	T_STREQ(cn, "agentcage sandbox demo CA", "CN names agentcage and the sandbox");
	T_STREQ(o, "agentcage", "O is agentcage");
	{
		const time_t nb = asn1_to_time(X509_get0_notBefore(x));
		const time_t na = asn1_to_time(X509_get0_notAfter(x));

		T_OK(nb <= now - TLS_CA_BACKDATE_SECS + 5 && nb >= now - TLS_CA_BACKDATE_SECS - 5,
		     "notBefore is now - 1 h (clock skew)");
		T_OK(na >= now + TLS_CA_VALIDITY_DAYS * 86400L - 5 &&
		             na <= now + TLS_CA_VALIDITY_DAYS * 86400L + 5,
		     "notAfter is now + %d days", TLS_CA_VALIDITY_DAYS);
	}
	T_OK(tls_ca_new(&ca2, "demo", err, sizeof(err)) == 0, "second CA for the same name");
	x2 = ca2 ? pem_to_x509(tls_ca_cert_pem(ca2)) : NULL;
	T_OK(x2 && ASN1_INTEGER_cmp(X509_get0_serialNumber(x), X509_get0_serialNumber(x2)) != 0,
	     "two CAs have different serials");
	T_OK(x2 && EVP_PKEY_eq(X509_get0_pubkey(x), X509_get0_pubkey(x2)) != 1,
	     "two CAs have different keys");
	{
		const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
		BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);

		T_OK(bn && !BN_is_negative(bn) && BN_num_bits(bn) > 120,
		     "serial is positive and ~128 bits");
		BN_free(bn);
	}
	X509_free(x2);
	X509_free(x);
out_free_ca:
	tls_ca_free(ca2);
	tls_ca_free(ca);
}

static void
test_ca_odd_names(void)
{
	char err[256], cn[256] = "", name[300];
	struct tls_ca *ca = NULL;
	X509 *x;

	errno = 0;
	T_OK(tls_ca_new(&ca, NULL, err, sizeof(err)) == -1 && errno == EINVAL && !ca,
	     "NULL sandbox name refused with EINVAL");
	/* control characters, invalid UTF-8, far too long */
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	name[3] = '\n';
	name[4] = (char)0xff;
	T_OK(tls_ca_new(&ca, name, err, sizeof(err)) == 0, "odd long name accepted (%s)", err);
	x = ca ? pem_to_x509(tls_ca_cert_pem(ca)) : NULL;
	if (x)
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	T_OK(strlen(cn) <= TLS_CA_CN_MAX && strncmp(cn, "agentcage sandbox nnn??n", 24) == 0 &&
	             strcmp(cn + strlen(cn) - 3, " CA") == 0,
	     "CN capped at 64, bad bytes replaced, still ends in CA (%s)", cn);
	X509_free(x);
	tls_ca_free(ca);
	ca = NULL;
	/* UTF-8 kept whole: 'é' is two bytes; a cut never splits it */
	memset(name, 'a', sizeof(name));
	memcpy(name + 41, "\xc3\xa9\xc3\xa9", 4);
	name[45] = '\0';
	T_OK(tls_ca_new(&ca, name, err, sizeof(err)) == 0, "UTF-8 name accepted");
	x = ca ? pem_to_x509(tls_ca_cert_pem(ca)) : NULL;
	cn[0] = '\0';
	if (x) {
		X509_NAME_ENTRY *e = X509_NAME_get_entry(
		        X509_get_subject_name(x),
		        X509_NAME_get_index_by_NID(X509_get_subject_name(x), NID_commonName, -1));
		const ASN1_STRING *s = e ? X509_NAME_ENTRY_get_data(e) : NULL;

		if (s)
			ut_snprintf(cn, sizeof(cn), "%.*s", ASN1_STRING_length(s),
			            (const char *)ASN1_STRING_get0_data(s));
	}
	/* 18 + 41 'a' = 59 bytes, one 'é' fits (61), the second would need 63 + 3 > 64 */
	T_OK(strlen(cn) <= TLS_CA_CN_MAX && strstr(cn, "a\xc3\xa9 CA") != NULL &&
	             strstr(cn, "\xc3\xa9\xc3\xa9") == NULL,
	     "UTF-8 cut on a character boundary (%s)", cn);
	X509_free(x);
	tls_ca_free(ca);
}

static void
test_leaf_github(struct tls_ca *ca)
{
	SSL_CTX *cctx = client_ctx(ca, alpn_h2_h11, sizeof(alpn_h2_h11));
	const unsigned char *sel = NULL;
	unsigned sel_len = 0;
	struct tlsfx_pair pr;
	X509 *leaf;
	const size_t before = tls_ca_leaves_minted(ca);

	T_OK(pair_run(&pr, ca, "github.com", cctx, "github.com", NULL) == 0,
	     "github.com: client trusting only the CA completes the handshake (%s | %s)",
	     pr.cli.err, pr.srv.err);
	SSL_get0_alpn_selected(pr.cli.ssl, &sel, &sel_len);
	T_OK(sel_len == 8 && memcmp(sel, "http/1.1", 8) == 0,
	     "client offering h2,http/1.1 gets http/1.1");
	leaf = SSL_get0_peer_certificate(pr.cli.ssl);
	T_OK(leaf && X509_check_host(leaf, "github.com", 0, 0, NULL) == 1 &&
	             X509_check_host(leaf, "api.github.com", 0, 0, NULL) != 1,
	     "leaf SAN is exactly github.com");
	T_OK(leaf && X509_check_ca(leaf) == 0 && X509_get_key_usage(leaf) == KU_DIGITAL_SIGNATURE &&
	             (X509_get_extended_key_usage(leaf) & XKU_SSL_SERVER) &&
	             X509_get0_authority_key_id(leaf) != NULL,
	     "leaf: CA:FALSE, digitalSignature, serverAuth, authorityKeyIdentifier");
	{
		X509 *cax = pem_to_x509(tls_ca_cert_pem(ca));

		T_OK(leaf && cax &&
		             ASN1_TIME_compare(X509_get0_notAfter(leaf), X509_get0_notAfter(cax)) <=
		                     0 &&
		             X509_cmp_current_time(X509_get0_notBefore(leaf)) < 0,
		     "leaf validity inside the CA's and already started");
		X509_free(cax);
	}
	T_OK(sk_X509_num(SSL_get_peer_cert_chain(pr.cli.ssl)) == 1, "server sends the leaf only");
	T_OK(tls_ca_leaves_minted(ca) == before + 1, "first github.com minted one leaf");
	T_STREQ(tstream_version(&pr.srv), "TLSv1.3", "TLS 1.3 negotiated");
	tlsfx_pair_close(&pr);

	T_OK(pair_run(&pr, ca, "api.github.com", cctx, "api.github.com", NULL) == 0,
	     "api.github.com handshake");
	T_OK(tls_ca_leaves_minted(ca) == before + 2, "api.github.com minted a second leaf");
	tlsfx_pair_close(&pr);
	T_OK(pair_run(&pr, ca, "github.com", cctx, "github.com", NULL) == 0, "github.com again");
	tlsfx_pair_close(&pr);
	T_OK(pair_run(&pr, ca, "GitHub.COM.", cctx, "github.com", NULL) == 0,
	     "GitHub.COM. (case, final dot) handshake");
	T_OK(tls_ca_leaves_minted(ca) == before + 2,
	     "github.com again (any spelling): no new leaf");
	tlsfx_pair_close(&pr);

	T_OK(pair_run(&pr, ca, "github.com", cctx, "evil.com", NULL) == -1 && pr.ecli == EPROTO,
	     "client verifying evil.com refuses the github.com leaf");
	T_CONTAINS(pr.cli.err, "certificate verify failed: hostname mismatch", "reason given");
	tlsfx_pair_close(&pr);
	SSL_CTX_free(cctx);

	/* ALPN: nothing acceptable, or nothing offered: no ALPN, handshake still fine */
	cctx = client_ctx(ca, alpn_h2, sizeof(alpn_h2));
	T_OK(pair_run(&pr, ca, "github.com", cctx, "github.com", NULL) == 0,
	     "client offering only h2 still connects");
	SSL_get0_alpn_selected(pr.cli.ssl, &sel, &sel_len);
	T_OK(sel_len == 0, "and gets no ALPN (never h2)");
	tlsfx_pair_close(&pr);
	SSL_CTX_free(cctx);
}

static void
test_leaf_ip(struct tls_ca *ca)
{
	SSL_CTX *cctx = client_ctx(ca, NULL, 0);
	struct tlsfx_pair pr;

	T_OK(pair_run(&pr, ca, "10.0.0.1", cctx, NULL, "10.0.0.1") == 0,
	     "10.0.0.1: IP SAN verifies (%s)", pr.cli.err);
	tlsfx_pair_close(&pr);
	T_OK(pair_run(&pr, ca, "10.0.0.1", cctx, NULL, "10.0.0.2") == -1 && pr.ecli == EPROTO,
	     "10.0.0.2 refuses the 10.0.0.1 leaf");
	tlsfx_pair_close(&pr);
	T_OK(pair_run(&pr, ca, "10.0.0.1", cctx, NULL, "10.0.0.1") == 0 &&
	             X509_check_host(SSL_get0_peer_certificate(pr.cli.ssl), "10.0.0.1", 0,
	                             X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL) != 1,
	     "an IP leaf has no DNS SAN for the same text");
	tlsfx_pair_close(&pr);
	T_OK(pair_run(&pr, ca, "[::1]", cctx, NULL, "::1") == 0, "[::1]: IPv6 SAN verifies (%s)",
	     pr.cli.err);
	tlsfx_pair_close(&pr);
	T_OK(pair_run(&pr, ca, "::1", cctx, NULL, "0:0::1") == 0,
	     "::1 without brackets: same leaf, any IPv6 spelling verifies");
	tlsfx_pair_close(&pr);
	SSL_CTX_free(cctx);
}

static void
test_bad_hosts(struct tls_ca *ca)
{
	static const char *const bad[] = {"",     "a b", "a..b",      ".a",          "evil.com/x",
	                                  "x\ny", "a:b", "[10.0.0.1", "*.github.com"};
	char err[256], longname[300];
	const size_t before = tls_ca_leaves_minted(ca);

	for (size_t i = 0; i < NELEM(bad); i++) {
		SSL *s;

		errno = 0;
		s = tls_ca_server_ssl(ca, bad[i], -1, err, sizeof(err));
		T_OK(!s && errno == EINVAL, "bad host #%zu refused with EINVAL (%s)", i, err);
		SSL_free(s);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	for (size_t i = 63; i < 250; i += 64)
		longname[i] = '.';
	longname[254] = '\0';
	errno = 0;
	T_OK(!tls_ca_server_ssl(ca, longname, -1, err, sizeof(err)) && errno == EINVAL,
	     "254-character name refused");
	longname[253] = '\0';
	{
		SSL *s = tls_ca_server_ssl(ca, longname, -1, err, sizeof(err));
		X509 *leaf = s ? SSL_get_certificate(s) : NULL;
		char cn[128] = "";

		if (leaf)
			X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn,
			                          sizeof(cn));
		T_OK(leaf && X509_check_host(leaf, longname, 0, 0, NULL) == 1 &&
		             strlen(cn) == TLS_CA_CN_MAX,
		     "253-character name: full SAN, CN cut at 64 (%s)", err);
		SSL_free(s);
	}
	T_OK(tls_ca_leaves_minted(ca) == before + 1, "refused hosts minted nothing");
}

/* Fills the cache past TLS_CA_CACHE_MAX: the oldest host is evicted while an SSL made
 * from it still works; a recent host is still cached. */
static void
test_eviction(void)
{
	char err[256], host[64];
	struct tls_ca *ca = NULL;
	struct tlsfx_pair pr;
	SSL_CTX *cctx;
	SSL *held;
	int sv[2];
	size_t n;

	if (tls_ca_new(&ca, "evict", err, sizeof(err)) == -1) {
		T_OK(0, "CA for eviction (%s)", err);
		return;
	}
	cctx = client_ctx(ca, NULL, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	held = tls_ca_server_ssl(ca, "h0.test", sv[1], err, sizeof(err));
	for (int i = 1; i <= TLS_CA_CACHE_MAX; i++) {
		ut_snprintf(host, sizeof(host), "h%d.test", i);
		SSL_free(tls_ca_server_ssl(ca, host, -1, err, sizeof(err)));
	}
	n = tls_ca_leaves_minted(ca);
	T_OK(n == TLS_CA_CACHE_MAX + 1, "%d hosts minted %zu leaves", TLS_CA_CACHE_MAX + 1, n);
	{
		struct tstream cli, srv;
		SSL *c = SSL_new(cctx);
		int ec, es;

		SSL_set_connect_state(c);
		SSL_set1_host(c, "h0.test");
		SSL_set_fd(c, sv[0]);
		tstream_init(&cli, sv[0], c, NULL, 0);
		tstream_init(&srv, sv[1], held, NULL, 0);
		T_OK(tlsfx_handshake_both(&cli, &srv, &ec, &es) == 0,
		     "an SSL of the evicted host still handshakes (SSL_CTX refcount)");
		tstream_free(&cli);
		tstream_free(&srv);
	}
	T_OK(pair_run(&pr, ca, "h1024.test", cctx, "h1024.test", NULL) == 0 &&
	             tls_ca_leaves_minted(ca) == n,
	     "a recent host is still cached");
	tlsfx_pair_close(&pr);
	T_OK(pair_run(&pr, ca, "h0.test", cctx, "h0.test", NULL) == 0 &&
	             tls_ca_leaves_minted(ca) == n + 1,
	     "the evicted (oldest) host is minted again");
	tlsfx_pair_close(&pr);
	close(sv[0]);
	close(sv[1]);
	SSL_CTX_free(cctx);
	tls_ca_free(ca);
}

/* An SSL outlives the CA that made it. */
static void
test_ssl_outlives_ca(void)
{
	char err[256];
	struct tls_ca *ca = NULL;
	SSL *s;

	if (tls_ca_new(&ca, "short", err, sizeof(err)) == -1)
		abort();
	s = tls_ca_server_ssl(ca, "example.org", -1, err, sizeof(err));
	tls_ca_free(ca);
	T_OK(s && SSL_get_certificate(s) != NULL, "server SSL keeps its leaf after tls_ca_free");
	SSL_free(s);
}

int
main(void)
{
	char err[256];
	struct tls_ca *ca = NULL;

	test_ca_cert();
	test_ca_odd_names();
	if (tls_ca_new(&ca, "leaves", err, sizeof(err)) == -1) {
		T_OK(0, "CA for leaf tests (%s)", err);
		return t_done();
	}
	test_leaf_github(ca);
	test_leaf_ip(ca);
	test_bad_hosts(ca);
	tls_ca_free(ca);
	test_eviction();
	test_ssl_outlives_ca();
	return t_done();
}
