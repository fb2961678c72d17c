/* tls/common: host checks and OpenSSL error text (contract in common.h). */
#include "tls/common.h"

#include <arpa/inet.h>
#include <errno.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "util/util.h"

/* Locale-independent: host names are ASCII. */
static bool
ascii_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* IPv4 or IPv6 (brackets stripped) literal -> canonical text; 0, or -1 if not one. */
static int
host_parse_ip(const char *host, size_t len, struct tls_host *out)
{
	char buf[TLS_HOST_CAP];
	unsigned char addr[16];
	int af = AF_INET;

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
		af = AF_INET6;
	}
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, host, len);
	buf[len] = '\0';
	if (af == AF_INET && inet_pton(AF_INET, buf, addr) != 1)
		af = AF_INET6; /* "::1" without brackets is accepted too */
	if (inet_pton(af, buf, addr) != 1)
		return -1;
	if (!inet_ntop(af, addr, out->name, sizeof(out->name)))
		return -1;
	out->is_ip = true;
	return 0;
}

int
tls_host_parse(const char *host, struct tls_host *out, const char **why)
{
	size_t len = host ? strlen(host) : 0;
	bool label_start = true;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (len == 0) {
		*why = "empty host";
		goto err_inval;
	}
	if (host_parse_ip(host, len, out) == 0)
		return 0;
	if (host[len - 1] == '.')
		len--; /* the absolute form "github.com." names the same host */
	if (len == 0 || len > TLS_HOST_CAP - 1) {
		*why = "host name empty or longer than 253 characters";
		goto err_inval;
	}
	for (size_t i = 0; i < len; i++) {
		const unsigned char c = (unsigned char)host[i];

		if (c == '.') {
			if (label_start) {
				*why = "empty label in host name";
				goto err_inval;
			}
			label_start = true;
			out->name[i] = '.';
			continue;
		}
		/* '_' is not valid in a host name (RFC 952) but occurs in real DNS names,
		 * and it cannot change the meaning of a DNS SAN or a CN. */
		if (!ascii_alnum(c) && c != '-' && c != '_') {
			*why = "host name holds a character other than letters, digits, '-', "
			       "'_' and '.'";
			goto err_inval;
		}
		label_start = false;
		out->name[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	out->name[len] = '\0';
	out->is_ip = false;
	return 0;

err_inval:
	memset(out, 0, sizeof(*out));
	errno = EINVAL;
	return -1;
}

void
tls_err_set(char *err, size_t errlen, const char *what)
{
	char reason[256];
	const unsigned long e = ERR_peek_error();

	if (e == 0)
		ut_strlcpy(reason, "unknown error", sizeof(reason));
	else
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	(void)ut_snprintf(err, errlen, "%s: %s", what, reason); /* truncated is still useful */
	errno = EPROTO;
}

bool
tls_rand_setup(void)
{
	/* Fails with RAND_R_ALREADY_INSTANTIATED once the DRBGs exist: not an error. */
	if (RAND_set_DRBG_type(NULL, "HASH-DRBG", NULL, NULL, "SHA256") == 1)
		return true;
	ERR_clear_error();
	return false;
}
