/*
 * tls/ca start-up shortcuts (issue 3's speed target): the CA certificate's public key is
 * written without OpenSSL's encoder, the leaf key and template wait for the first leaf,
 * and the process's DRBG is a Hash_DRBG chosen before the first random byte. Each must
 * leave the CA exactly as trustworthy as before: the key in the certificate is the one
 * that signed it, in the DER X509_set_pubkey would write, and leaves still chain to it.
 */
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "t.h"
#include "tls/ca.h"
#include "tls/common.h"
#include "util/util.h"

/* True when <a> and <b> have the same DER encoding. */
static bool
pubkey_der_equal(X509_PUBKEY *a, X509_PUBKEY *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la = i2d_X509_PUBKEY(a, &da), lb = i2d_X509_PUBKEY(b, &db);
	bool eq = la > 0 && la == lb && memcmp(da, db, (size_t)la) == 0;

	OPENSSL_free(da);
	OPENSSL_free(db);
	return eq;
}

/* The DRBG is chosen before the first random byte, and only then. */
static void
test_drbg(struct tls_ca **ca)
{
	char err[512] = "";
	EVP_RAND_CTX *primary;
	const char *name;

	T_OK(tls_ca_new(ca, "startup3", err, sizeof(err)) == 0, "CA created (%s)", err);
	primary = RAND_get0_primary(NULL);
	name = primary ? EVP_RAND_get0_name(EVP_RAND_CTX_get0_rand(primary)) : NULL;
	T_STREQ(name, "HASH-DRBG", "the primary DRBG is a Hash_DRBG");
	T_OK(primary && EVP_RAND_get_strength(primary) >= 256,
	     "of 256-bit security strength, as the default CTR_DRBG (AES-256)");
	T_OK(!tls_rand_setup(), "once the DRBGs exist, tls_rand_setup changes nothing");
	T_OK(ERR_peek_error() == 0, "and leaves no error on the queue");
}

/* The certificate <x> (the CA's PEM, parsed): its key is the CA's, encoded as
 * X509_set_pubkey would. */
static void
test_ca_pubkey(X509 *x)
{
	EVP_PKEY *pub = x ? X509_get0_pubkey(x) : NULL;
	X509_PUBKEY *ref = NULL;
	char group[32] = "";
	size_t glen = 0;
	unsigned char sha1[EVP_MAX_MD_SIZE];
	unsigned int sha1_len = 0;
	const ASN1_OCTET_STRING *ski = x ? X509_get0_subject_key_id(x) : NULL;

	T_OK(x && pub, "the PEM parses and its public key decodes");
	if (!x || !pub)
		return;
	T_OK(EVP_PKEY_is_a(pub, "EC") &&
	     EVP_PKEY_get_utf8_string_param(pub, "group", group, sizeof(group), &glen) == 1,
	     "an EC key");
	T_STREQ(group, "prime256v1", "on P-256");
	T_OK(X509_verify(x, pub) == 1, "the self-signature verifies with the key in the "
	     "certificate: it is the key that signed it");
	T_OK(X509_PUBKEY_set(&ref, pub) == 1 && pubkey_der_equal(X509_get_X509_PUBKEY(x), ref),
	     "SubjectPublicKeyInfo is byte for byte what X509_set_pubkey writes");
	T_OK(X509_pubkey_digest(x, EVP_sha1(), sha1, &sha1_len) == 1 && ski &&
	     (unsigned)ASN1_STRING_length(ski) == sha1_len &&
	     memcmp(ASN1_STRING_get0_data(ski), sha1, sha1_len) == 0,
	     "subjectKeyIdentifier is the SHA-1 of the key bits (RFC 5280 4.2.1.2)");
	X509_PUBKEY_free(ref);
}

/* A leaf for <host> from <ca> on one end of a socketpair; NULL on failure. */
static X509 *
mint_leaf(struct tls_ca *ca, const char *host)
{
	char err[512] = "";
	int sv[2];
	SSL *s;
	X509 *leaf = NULL;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return NULL;
	s = tls_ca_server_ssl(ca, host, sv[0], err, sizeof(err));
	if (s && (leaf = SSL_get_certificate(s)) != NULL)
		X509_up_ref(leaf);
	if (!s)
		printf("# %s\n", err);
	SSL_free(s);
	close(sv[0]);
	close(sv[1]);
	return leaf;
}

/* The leaf key and template are made on the first leaf; leaves still chain to the CA
 * (<cax>, its certificate parsed). */
static void
test_lazy_leaves(struct tls_ca *ca, X509 *cax)
{
	X509 *a, *b;
	const ASN1_OCTET_STRING *aki, *ski = cax ? X509_get0_subject_key_id(cax) : NULL;

	T_OK(tls_ca_leaves_minted(ca) == 0, "no leaf exists before the first connection");
	a = mint_leaf(ca, "example.com");
	b = mint_leaf(ca, "10.0.0.1");
	T_OK(a && b && tls_ca_leaves_minted(ca) == 2, "the first leaves are minted on demand");
	if (!cax || !a || !b)
		goto out_free;
	T_OK(X509_verify(a, X509_get0_pubkey(cax)) == 1 && X509_verify(b, X509_get0_pubkey(cax)) == 1,
	     "both are signed by the CA's key");
	T_OK(EVP_PKEY_eq(X509_get0_pubkey(a), X509_get0_pubkey(b)) == 1,
	     "and share one leaf key");
	T_OK(EVP_PKEY_eq(X509_get0_pubkey(a), X509_get0_pubkey(cax)) != 1,
	     "which is not the CA's key");
	aki = X509_get0_authority_key_id(a);
	T_OK(aki && ski && ASN1_OCTET_STRING_cmp(aki, ski) == 0,
	     "authorityKeyIdentifier names the CA's subjectKeyIdentifier");
	T_OK(X509_check_host(a, "example.com", 0, 0, NULL) == 1 &&
	     X509_check_ip_asc(b, "10.0.0.1", 0) == 1, "each names its host in the SAN");
out_free:
	X509_free(a);
	X509_free(b);
}

int
main(void)
{
	struct tls_ca *ca = NULL, *idle = NULL;
	char err[512] = "";

	test_drbg(&ca);
	if (ca) {
		BIO *b = BIO_new_mem_buf(tls_ca_cert_pem(ca), -1);
		X509 *cax = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

		BIO_free(b);
		test_ca_pubkey(cax);
		test_lazy_leaves(ca, cax);
		X509_free(cax);
	}
	tls_ca_free(ca);
	/* A CA that never minted frees without its ring (ASan checks the rest). */
	T_OK(tls_ca_new(&idle, "idle", err, sizeof(err)) == 0 && tls_ca_leaves_minted(idle) == 0,
	     "a second CA, never used");
	tls_ca_free(idle);
	return t_done();
}
