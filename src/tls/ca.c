/*
 * tls/ca: per-sandbox CA and leaf cache (contract in ca.h).
 *
 * Keys: ECDSA P-256 throughout. Signing costs ~27 µs there against ~850 µs for RSA-2048,
 * and RSA key generation costs ~340 ms (peers.md item 6), so nothing RSA is ever made.
 * All leaves of a CA share one key (made with the first leaf): a leaf then costs one
 * signature and no key generation (mitmproxy does the same). It is no weaker for the
 * sandbox: every leaf is trusted only because of the CA, whose key lives next to the
 * leaf key in this process anyway.
 *
 * Cache: host -> server SSL_CTX holding that host's leaf and the leaf key, so a warm
 * connection costs one SSL_new (~1 µs). One shared SSL_CTX with the leaf attached per
 * SSL instead would save ~13 KiB per cached host but cost ~29 µs per connection in
 * SSL_use_certificate (measured, OpenSSL 3.0); hosts are few, connections many.
 * Leaves start as a copy of a template holding issuer and public key (X509_dup, ~0.2
 * ms): X509_set_pubkey goes through OpenSSL 3.0's encoder and costs ~0.6 ms per call.
 * A cold host then costs ~0.5 ms in all (copy, signature, SSL_CTX_new + certificate;
 * measured on the project VM, OpenSSL 3.0.19; was ~1-2.5 ms with X509_set_pubkey).
 *
 * The cache is a hash of TLS_CA_BUCKETS chains over a ring of TLS_CA_CACHE_MAX entries
 * kept in minting order, so when the ring is full the oldest entry is the one replaced.
 * Evicting only drops the cache's reference: SSLs still using the SSL_CTX hold their
 * own (SSL_new takes one).
 *
 * Start-up cost (tls_ca_new sits on `agentcage run`'s critical path: init waits for the
 * certificate before it applies Landlock). Only what the trust store needs is made
 * there: the CA key, its certificate and the PEM. The leaf key, the leaf template and the
 * cache's ring are made on the first terminated connection (leaf_setup), and freeing
 * walks only the ring's used entries: touching all of the ring's zero pages cost ~1.4 ms
 * at exit on this VM. Public keys are written into certificates by cert_set_pubkey_p256,
 * not X509_set_pubkey, whose first use builds OpenSSL 3's encoder and decoder tables
 * (~1-2 ms here). The DRBG is a Hash_DRBG (tls_rand_setup, common.h).
 */
#include "tls/ca.h"

#include <errno.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls/common.h"
#include "util/util.h"

#define TLS_CA_BUCKETS      2048 /* power of two, twice the cache: short chains */
#define TLS_CA_SERIAL_BYTES 16   /* 128-bit serials (RFC 5280 §4.1.2.2 allows 20 octets) */
#define TLS_CA_SESS_CACHE   1024 /* TLS 1.2 session-id cache entries: bounded memory */
#define TLS_CA_PEM_MAX      4096 /* a P-256 CA certificate in PEM is ~700 bytes */
#define SECS_PER_DAY        86400
#define P256_POINT_LEN      65   /* uncompressed point: 0x04, X, Y (SEC 1 §2.3.3) */

struct leaf_entry {
	char host[TLS_HOST_CAP]; /* normalised (tls_host_parse) */
	SSL_CTX *ctx;            /* NULL: slot unused */
	int next;                /* next entry in the same bucket; -1 ends the chain */
};

struct tls_ca {
	EVP_PKEY *key;             /* the CA's private key */
	X509 *cert;                /* self-signed CA certificate */
	char *pem;                 /* cert in PEM, NUL-terminated */
	time_t not_after;          /* the CA's notAfter: no leaf outlives it */
	/* The three below are NULL until the first leaf (leaf_setup). */
	EVP_PKEY *leaf_key;        /* shared by every leaf */
	X509 *leaf_tmpl;           /* issuer + leaf public key, copied for each leaf */
	struct leaf_entry *leaves; /* TLS_CA_CACHE_MAX, ring in minting order */
	size_t count;              /* entries in use */
	size_t oldest;             /* when full: the next entry to replace */
	size_t minted;
	int bucket[TLS_CA_BUCKETS]; /* first entry per hash, -1 none */
};

/* FNV-1a over the normalised host; the table is local to one CA, not exposed to a
 * chosen-collision risk beyond slower lookups of the attacker's own hosts. */
static unsigned
host_hash(const char *host)
{
	uint32_t h = 2166136261u;

	for (; *host; host++) {
		h ^= (unsigned char)*host;
		h *= 16777619u;
	}
	return h & (TLS_CA_BUCKETS - 1);
}

/* Fresh P-256 key, or NULL with <err> filled. */
static EVP_PKEY *
keygen_p256(char *err, size_t errlen, const char *what)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	if (!k)
		tls_err_set(err, errlen, what);
	return k;
}

/* Random positive serial (top bit cleared, never zero). 0 / -1. */
static int
cert_set_serial(X509 *x)
{
	unsigned char b[TLS_CA_SERIAL_BYTES];
	BIGNUM *bn;
	int rc = -1;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	b[0] &= 0x7f; /* DER INTEGER is signed: keep it positive */
	b[0] |= 0x40; /* and 16 bytes long, so never zero */
	bn = BN_bin2bn(b, sizeof(b), NULL);
	if (!bn)
		return -1;
	if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		rc = 0;
	BN_free(bn);
	return rc;
}

/*
 * <x>'s SubjectPublicKeyInfo for the P-256 key <k>, written directly as RFC 5480 §2.1 has
 * it: id-ecPublicKey, namedCurve prime256v1, the uncompressed point. Same DER as
 * X509_set_pubkey produces, without its trip through OpenSSL 3's encoder and decoder
 * (see the top of this file). <x>'s cached EVP_PKEY stays unset: nothing here reads it
 * (signing takes the private key, the key identifiers hash the encoded point, and a
 * parsed copy of <x> decodes the key from the DER as usual). 0 / -1.
 */
static int
cert_set_pubkey_p256(X509 *x, const EVP_PKEY *k)
{
	unsigned char point[P256_POINT_LEN];
	unsigned char *enc;
	size_t len = 0;

	if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
	                                    sizeof(point), &len) != 1 ||
	    len != sizeof(point) || point[0] != POINT_CONVERSION_UNCOMPRESSED)
		return -1;
	enc = OPENSSL_memdup(point, len);
	if (!enc)
		return -1;
	/* On success the X509_PUBKEY owns <enc>; the OIDs are OpenSSL's static objects. */
	if (X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
	                           V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1), enc,
	                           (int)len) != 1) {
		OPENSSL_free(enc);
		return -1;
	}
	return 0;
}

/* Version 3, serial, validity [<nb>, <na>]. 0 / -1. */
static int
cert_set_basics(X509 *x, time_t nb, time_t na)
{
	if (X509_set_version(x, X509_VERSION_3) != 1 || cert_set_serial(x) == -1)
		return -1;
	if (!ASN1_TIME_set(X509_getm_notBefore(x), nb) || !ASN1_TIME_set(X509_getm_notAfter(x), na))
		return -1;
	return 0;
}

/* Adds extension <nid> written in openssl.cnf syntax ("critical,CA:TRUE"). 0 / -1. */
static int
cert_add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, v3, nid, value);
	int rc;

	if (!ext)
		return -1;
	rc = X509_add_ext(x, ext, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ext);
	return rc;
}

/* Subject with O (may be NULL) and CN, UTF-8. 0 / -1. */
static int
cert_set_subject(X509 *x, const char *org, const char *cn)
{
	X509_NAME *n = X509_NAME_new();
	int rc = -1;

	if (!n)
		return -1;
	if (org && X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)org, -1,
	                                      -1, 0) != 1)
		goto out_free_name;
	if (X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
	                               0) != 1)
		goto out_free_name;
	if (X509_set_subject_name(x, n) == 1)
		rc = 0;
out_free_name:
	X509_NAME_free(n);
	return rc;
}

/*
 * "agentcage sandbox <name> CA" in at most TLS_CA_CN_MAX bytes (so also characters):
 * the name is cut on a character boundary; bytes that are not valid UTF-8 and control
 * characters become '?', so any name gives a valid DirectoryString.
 */
static void
ca_common_name(const char *sandbox, char *cn, size_t cap)
{
	static const char pre[] = "agentcage sandbox ", post[] = " CA";
	const unsigned char *p = (const unsigned char *)sandbox;
	size_t left = strlen(sandbox), o = sizeof(pre) - 1;
	const size_t budget = TLS_CA_CN_MAX - (sizeof(post) - 1);

	BUG_ON(cap < TLS_CA_CN_MAX + 1);
	memcpy(cn, pre, o);
	while (left > 0) {
		unsigned long cp = 0;
		int n = UTF8_getc(p, (int)(left > 8 ? 8 : left), &cp);

		/* UTF8_getc rejects overlong forms; controls, surrogates and code points
		 * past U+10FFFF are refused here (X509_NAME would reject the whole name) */
		if (n <= 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ||
		    (cp >= 0xd800 && cp < 0xe000) || cp > 0x10ffff) {
			n = 1;
			if (o + 1 > budget)
				break;
			cn[o++] = '?';
		} else {
			if (o + (size_t)n > budget)
				break;
			memcpy(cn + o, p, (size_t)n);
			o += (size_t)n;
		}
		p += n;
		left -= (size_t)n;
	}
	memcpy(cn + o, post, sizeof(post)); /* with its NUL */
}

/* The CA certificate for <ca>->key, self-signed. 0 / -1 with <err>. */
static int
ca_make_cert(struct tls_ca *ca, const char *sandbox, time_t now, char *err, size_t errlen)
{
	char cn[TLS_CA_CN_MAX + 1];
	X509V3_CTX v3;
	X509 *x = X509_new();

	if (!x)
		goto err_openssl;
	ca_common_name(sandbox, cn, sizeof(cn));
	ca->not_after = now + (time_t)TLS_CA_VALIDITY_DAYS * SECS_PER_DAY;
	if (cert_set_basics(x, now - TLS_CA_BACKDATE_SECS, ca->not_after) == -1 ||
	    cert_set_subject(x, "agentcage", cn) == -1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(x)) != 1 ||
	    cert_set_pubkey_p256(x, ca->key) == -1)
		goto err_free_cert;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if (cert_add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") == -1 ||
	    cert_add_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign") == -1 ||
	    cert_add_ext(x, &v3, NID_subject_key_identifier, "hash") == -1)
		goto err_free_cert;
	if (X509_sign(x, ca->key, EVP_sha256()) <= 0)
		goto err_free_cert;
	ca->cert = x;
	return 0;

err_free_cert:
	X509_free(x);
err_openssl:
	tls_err_set(err, errlen, "TLS CA: creating the CA certificate");
	return -1;
}

/* ca->pem from ca->cert. 0 / -1 with <err>. */
static int
ca_make_pem(struct tls_ca *ca, char *err, size_t errlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;

	if (!b || PEM_write_bio_X509(b, ca->cert) != 1)
		goto err_free_bio;
	len = BIO_get_mem_data(b, &data);
	if (len <= 0 || len > TLS_CA_PEM_MAX)
		goto err_free_bio;
	ca->pem = malloc((size_t)len + 1);
	if (!ca->pem) {
		BIO_free(b);
		ut_snprintf(err, errlen, "TLS CA: %s", strerror(ENOMEM));
		errno = ENOMEM;
		return -1;
	}
	memcpy(ca->pem, data, (size_t)len);
	ca->pem[len] = '\0';
	BIO_free(b);
	return 0;

err_free_bio:
	BIO_free(b);
	tls_err_set(err, errlen, "TLS CA: writing the CA certificate as PEM");
	return -1;
}

int
tls_ca_new(struct tls_ca **out, const char *sandbox, char *err, size_t errlen)
{
	const time_t now = time(NULL);
	struct tls_ca *ca;
	int saved;

	*out = NULL;
	if (!sandbox) {
		ut_snprintf(err, errlen, "TLS CA: no sandbox name");
		errno = EINVAL;
		return -1;
	}
	tls_rand_setup(); /* before anything draws random bytes */
	ERR_clear_error();
	ca = calloc(1, sizeof(*ca));
	if (!ca) {
		ut_snprintf(err, errlen, "TLS CA: %s", strerror(ENOMEM));
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < TLS_CA_BUCKETS; i++)
		ca->bucket[i] = -1;
	ca->key = keygen_p256(err, errlen, "TLS CA: generating the P-256 CA key");
	if (!ca->key || ca_make_cert(ca, sandbox, now, err, errlen) == -1 ||
	    ca_make_pem(ca, err, errlen) == -1)
		goto err_free_ca;
	*out = ca;
	return 0;

err_free_ca:
	saved = errno;
	tls_ca_free(ca);
	errno = saved;
	return -1;
}

void
tls_ca_free(struct tls_ca *ca)
{
	if (!ca)
		return;
	if (ca->leaves)
		for (size_t i = 0; i < ca->count; i++) /* the ring fills from 0 up */
			SSL_CTX_free(ca->leaves[i].ctx);
	free(ca->leaves);
	ca->leaves = NULL;
	free(ca->pem);
	ca->pem = NULL;
	X509_free(ca->leaf_tmpl);
	ca->leaf_tmpl = NULL;
	X509_free(ca->cert);
	ca->cert = NULL;
	EVP_PKEY_free(ca->leaf_key);
	ca->leaf_key = NULL;
	EVP_PKEY_free(ca->key);
	ca->key = NULL;
	free(ca);
}

const char *
tls_ca_cert_pem(const struct tls_ca *ca)
{
	return ca->pem;
}

size_t
tls_ca_leaves_minted(const struct tls_ca *ca)
{
	return ca->minted;
}

/*
 * First leaf only: the leaf key, the template every leaf starts from, and the cache's
 * ring (see the top of this file for why not at tls_ca_new). 0 / -1 with <err>; a failure
 * leaves <ca> as it was, so the next connection tries again.
 */
static int
leaf_setup(struct tls_ca *ca, char *err, size_t errlen)
{
	const time_t now = time(NULL);
	struct leaf_entry *leaves;
	EVP_PKEY *key;
	X509 *tmpl;

	leaves = calloc(TLS_CA_CACHE_MAX, sizeof(*leaves));
	if (!leaves) {
		ut_snprintf(err, errlen, "TLS CA: %s", strerror(ENOMEM));
		errno = ENOMEM;
		return -1;
	}
	key = keygen_p256(err, errlen, "TLS CA: generating the P-256 leaf key");
	if (!key)
		goto err_free_leaves;
	tmpl = X509_new();
	if (!tmpl || X509_set_version(tmpl, X509_VERSION_3) != 1 ||
	    X509_set_issuer_name(tmpl, X509_get_subject_name(ca->cert)) != 1 ||
	    cert_set_pubkey_p256(tmpl, key) == -1 ||
	    /* placeholders, replaced in each leaf: X509_dup needs an encodable cert */
	    cert_set_basics(tmpl, now, now) == -1 || X509_sign(tmpl, ca->key, EVP_sha256()) <= 0) {
		tls_err_set(err, errlen, "TLS CA: preparing the leaf template");
		goto err_free_tmpl;
	}
	ca->leaves = leaves;
	ca->leaf_key = key;
	ca->leaf_tmpl = tmpl;
	return 0;

err_free_tmpl:
	X509_free(tmpl);
	EVP_PKEY_free(key);
err_free_leaves:
	free(leaves);
	return -1;
}

/* The leaf for <h>, signed by <ca>. NULL on failure (OpenSSL queue holds why). */
static X509 *
leaf_make_cert(struct tls_ca *ca, const struct tls_host *h)
{
	char cn[TLS_CA_CN_MAX + 1], san[TLS_HOST_CAP + 8];
	const time_t now = time(NULL);
	time_t na = now + (time_t)TLS_CA_LEAF_VALIDITY_DAYS * SECS_PER_DAY;
	X509V3_CTX v3;
	X509 *x = X509_dup(ca->leaf_tmpl); /* version, issuer, public key */

	if (!x)
		return NULL;
	if (na > ca->not_after)
		na = ca->not_after;
	/* CN is capped at 64 (RFC 5280 ub-common-name); clients match the SAN, which
	 * holds the full name. */
	ut_strlcpy(cn, h->name, sizeof(cn));
	if (ut_snprintf(san, sizeof(san), "%s:%s", h->is_ip ? "IP" : "DNS", h->name) == -1 ||
	    cert_set_basics(x, now - TLS_CA_BACKDATE_SECS, na) == -1 ||
	    cert_set_subject(x, NULL, cn) == -1)
		goto err_free_cert;
	X509V3_set_ctx(&v3, ca->cert, x, NULL, NULL, 0);
	if (cert_add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") == -1 ||
	    cert_add_ext(x, &v3, NID_key_usage, "critical,digitalSignature") == -1 ||
	    cert_add_ext(x, &v3, NID_ext_key_usage, "serverAuth") == -1 ||
	    cert_add_ext(x, &v3, NID_subject_alt_name, san) == -1 ||
	    cert_add_ext(x, &v3, NID_authority_key_identifier, "keyid:always") == -1)
		goto err_free_cert;
	if (X509_sign(x, ca->key, EVP_sha256()) <= 0)
		goto err_free_cert;
	return x;

err_free_cert:
	X509_free(x);
	return NULL;
}

/*
 * ALPN (RFC 7301): the proxy speaks HTTP/1.1 only, so that is all it selects, whatever
 * order the client prefers. Nothing acceptable: NOACK, the handshake goes on without
 * ALPN (clients then assume HTTP/1.1) instead of failing with no_application_protocol.
 * Own loop instead of SSL_select_next_proto: that one mishandled empty lists before
 * OpenSSL 3.0.15 (CVE-2024-5535).
 */
static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
            unsigned int inlen, void *arg)
{
	static const char want[] = "http/1.1";
	unsigned int i = 0;

	(void)ssl, (void)arg;
	while (i < inlen) {
		const unsigned int n = in[i];

		if (n == 0 || n > inlen - i - 1)
			break; /* malformed list: no ALPN rather than a guess */
		if (n == sizeof(want) - 1 && memcmp(in + i + 1, want, n) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)n;
			return SSL_TLSEXT_ERR_OK;
		}
		i += n + 1;
	}
	return SSL_TLSEXT_ERR_NOACK;
}

/*
 * The server context for one host's <leaf>. Only the leaf is sent, not leaf + CA: a client can only
 * accept it if it already holds our CA as a trust anchor, so the CA certificate on the wire would
 * be ~500 bytes per handshake for nothing (RFC 8446 §4.4.2 lets the anchor be omitted). NULL on
 * failure (OpenSSL queue holds why).
 */
static SSL_CTX *
leaf_make_ctx(const struct tls_ca *ca, X509 *leaf)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return NULL;
	/* key first: SSL_CTX_use_certificate then checks the pair */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, ca->leaf_key) != 1 ||
	    SSL_CTX_use_certificate(ctx, leaf) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* NO_AUTO_CHAIN: never build a chain from a store (see above). RELEASE_BUFFERS:
	 * idle keep-alive connections give their record buffers back (RSS per
	 * connection). Partial writes and moving buffers: stream.h's contract. */
	SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN | SSL_MODE_RELEASE_BUFFERS |
	                              SSL_MODE_ENABLE_PARTIAL_WRITE |
	                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* IGNORE_UNEXPECTED_EOF: a FIN without close_notify is EOF (clients do it all the
	 * time; HTTP framing tells truncation). NO_RENEGOTIATION: client-initiated
	 * renegotiation is a CPU DoS and nothing here needs it. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION |
	                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Resumption makes a client's reconnects cheap: tickets (stateless) are on by
	 * default; the TLS 1.2 session-id cache is bounded per host. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(ctx, TLS_CA_SESS_CACHE);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	return ctx;
}

static SSL_CTX *
cache_lookup(const struct tls_ca *ca, const char *host)
{
	for (int i = ca->bucket[host_hash(host)]; i != -1; i = ca->leaves[i].next)
		if (strcmp(ca->leaves[i].host, host) == 0)
			return ca->leaves[i].ctx;
	return NULL;
}

/* Stores <ctx> (the cache takes the caller's reference) for <host>, replacing the
 * oldest entry when full. */
static void
cache_insert(struct tls_ca *ca, const char *host, SSL_CTX *ctx)
{
	struct leaf_entry *e;
	size_t i;
	unsigned b;

	if (ca->count < TLS_CA_CACHE_MAX) {
		i = ca->count++;
	} else {
		int *p;

		i = ca->oldest;
		ca->oldest = (ca->oldest + 1) % TLS_CA_CACHE_MAX;
		e = &ca->leaves[i];
		for (p = &ca->bucket[host_hash(e->host)]; *p != (int)i; p = &ca->leaves[*p].next)
			BUG_ON(*p == -1);
		*p = e->next;
		SSL_CTX_free(e->ctx); /* SSLs using it hold their own reference */
		e->ctx = NULL;
	}
	e = &ca->leaves[i];
	ut_strlcpy(e->host, host, sizeof(e->host));
	e->ctx = ctx;
	b = host_hash(host);
	e->next = ca->bucket[b];
	ca->bucket[b] = (int)i;
}

/* Mints the leaf and its context for <h> and caches them. NULL with <err>. */
static SSL_CTX *
leaf_mint(struct tls_ca *ca, const struct tls_host *h, char *err, size_t errlen)
{
	char what[TLS_HOST_CAP + 64];
	X509 *leaf = leaf_make_cert(ca, h);
	SSL_CTX *ctx = leaf ? leaf_make_ctx(ca, leaf) : NULL;

	X509_free(leaf); /* the context holds its own reference */
	if (!ctx) {
		(void)ut_snprintf(what, sizeof(what), "TLS CA: minting a certificate for %s",
		                  h->name);
		tls_err_set(err, errlen, what);
		return NULL;
	}
	cache_insert(ca, h->name, ctx);
	ca->minted++;
	return ctx;
}

/* Printable copy of untrusted <s> for messages: at most 64 bytes, others -> '?'. */
static void
printable(const char *s, char *out, size_t cap)
{
	size_t o = 0;

	for (; s && *s && o + 1 < cap && o < 64; s++)
		out[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	out[o] = '\0';
}

SSL *
tls_ca_server_ssl(struct tls_ca *ca, const char *host, int fd, char *err, size_t errlen)
{
	struct tls_host h;
	const char *why;
	SSL_CTX *ctx;
	SSL *ssl;

	ERR_clear_error();
	if (tls_host_parse(host, &h, &why) == -1) {
		char shown[80];

		printable(host, shown, sizeof(shown));
		ut_snprintf(err, errlen, "TLS CA: no certificate for \"%s\": %s", shown, why);
		errno = EINVAL;
		return NULL;
	}
	if (!ca->leaf_tmpl && leaf_setup(ca, err, errlen) == -1)
		return NULL;
	ctx = cache_lookup(ca, h.name);
	if (!ctx)
		ctx = leaf_mint(ca, &h, err, errlen);
	if (!ctx)
		return NULL;
	ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		tls_err_set(err, errlen, "TLS CA: creating a server connection");
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}
