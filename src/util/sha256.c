/* sha256: SHA-256 through OpenSSL's EVP interface. */
#include "util/sha256.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/util.h"

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

/* libcrypto reads openssl.cnf and registers exit handlers on first use unless told not
 * to; a digest needs neither, and `agentcage run` pays for both on every start. */
static void
sha256_init_crypto(void)
{
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT, NULL);
}

int
sha256_buf(const void *buf, size_t len, uint8_t out[SHA256_LEN])
{
	unsigned int n = SHA256_LEN;

	pthread_once(&sha256_once, sha256_init_crypto);
	if (!EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) || n != SHA256_LEN) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int
sha256_fd(int fd, uint8_t out[SHA256_LEN])
{
	cleanup_free unsigned char *buf = malloc(SHA256_FD_BLOCK);
	EVP_MD_CTX *ctx;
	unsigned int n = 0;
	off_t off = 0;
	int rc = -1;

	pthread_once(&sha256_once, sha256_init_crypto);
	ctx = EVP_MD_CTX_new();
	if (buf == NULL || ctx == NULL) {
		errno = ENOMEM;
		goto out_free_ctx;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto err_crypto;
	for (;;) {
		ssize_t r = TEMP_FAILURE_RETRY_INT(pread(fd, buf, SHA256_FD_BLOCK, off));

		if (r == -1)
			goto out_free_ctx;
		if (r == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)r) != 1)
			goto err_crypto;
		off += r;
	}
	if (EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != SHA256_LEN)
		goto err_crypto;
	rc = 0;
	goto out_free_ctx;

err_crypto:
	errno = EIO;
out_free_ctx:
	{
		int saved = errno;
		EVP_MD_CTX_free(ctx);
		errno = saved;
	}
	return rc;
}

void
sha256_hex(const uint8_t md[SHA256_LEN], char hex[SHA256_HEX_LEN])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < SHA256_LEN; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * SHA256_LEN] = '\0';
}
