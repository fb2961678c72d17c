/* fuzz_sni: libFuzzer target for the ClientHello server_name reader (proxy/sni.h). Any
 * input must give a valid status (SNI_BAD with a reason); a found name must be 1..253
 * bytes of lower-case letters, digits, '-' and '.' without a trailing dot; a prefix of the
 * input must answer SNI_PARTIAL or the same as the whole (the bytes seen so far never
 * change their verdict); a small host buffer must never be overrun. Never crash,
 * over-read or hang. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proxy/sni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_name(const char *host)
{
	size_t n = strlen(host);

	if (n == 0 || n > SNI_MAX_NAME || host[n - 1] == '.' || host[0] == '.')
		__builtin_trap();
	for (size_t i = 0; i < n; i++) {
		char c = host[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			__builtin_trap();
		if (c == '.' && host[i + 1] == '.')
			__builtin_trap();
	}
}

static int
parse_checked(const uint8_t *data, size_t size, char *host, size_t cap)
{
	const char *why = NULL;
	int r = sni_parse(data, size, host, cap, &why);

	switch (r) {
	case SNI_FOUND:
		check_name(host);
		if (strlen(host) >= cap)
			__builtin_trap();
		break;
	case SNI_BAD:
		if (why == NULL)
			__builtin_trap();
		break;
	case SNI_ABSENT:
	case SNI_PARTIAL:
	case SNI_NOT_TLS:
		break;
	default:
		__builtin_trap();
	}
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char host[SNI_MAX_NAME + 1], host2[SNI_MAX_NAME + 1], small[9];
	int t = sni_is_tls(data, size);
	int r = parse_checked(data, size, host, sizeof(host));
	int r2;

	if (t < -1 || t > 1 || (t == -1 && size >= 3))
		__builtin_trap();
	if (t == 0 && r != SNI_NOT_TLS)
		__builtin_trap();
	/* Prefix: PARTIAL, or the same verdict (and name) as the whole. */
	r2 = parse_checked(data, size / 2, host2, sizeof(host2));
	if (r2 != SNI_PARTIAL && r2 != r)
		__builtin_trap();
	if (r2 == SNI_FOUND && strcmp(host, host2) != 0)
		__builtin_trap();
	/* A buffer too small for the name: SNI_BAD, never an overrun (ASan checks). */
	r2 = parse_checked(data, size, small, sizeof(small));
	if (r == SNI_FOUND && strlen(host) >= sizeof(small) ? r2 != SNI_BAD : r2 != r)
		__builtin_trap();
	return 0;
}
