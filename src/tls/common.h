/*
 * tls/common: what ca, upstream and stream share: checking and normalising a host as
 * it appears in a CONNECT target, and turning OpenSSL's error queue into a message.
 * Internal to src/tls/ (other parts use ca.h, upstream.h, stream.h).
 *
 * Context: any. Errors: tls_host_parse() returns 0 / -1 with errno EINVAL.
 * Ownership: no allocation.
 */
#ifndef AGENTCAGE_TLS_COMMON_H
#define AGENTCAGE_TLS_COMMON_H

#include <stdbool.h>
#include <stddef.h>

/* Room for the longest DNS name (253) or IPv6 text (45, INET6_ADDRSTRLEN - 1) + NUL. */
#define TLS_HOST_CAP 254

struct tls_host {
	bool is_ip;              /* an IPv4 or IPv6 literal */
	char name[TLS_HOST_CAP]; /* lower-case name without a final dot, or the IP in
	                          * canonical text form (inet_ntop), without brackets */
};

/*
 * Checks <host>: a DNS name of 1..253 characters made of letters, digits, '-', '_'
 * and '.' with no empty label (one final dot is dropped), or an IPv4 / IPv6 literal
 * (brackets around IPv6 allowed). 0 and <out> filled; -1 errno EINVAL, *<why> says what
 * is wrong (static string).
 */
int tls_host_parse(const char *host, struct tls_host *out, const char **why);

/*
 * Writes "<what>: <OpenSSL reason>" into <err> from the oldest error in this thread's
 * OpenSSL queue ("<what>: unknown error" when empty), then clears the queue and sets
 * errno to EPROTO.
 */
void tls_err_set(char *err, size_t errlen, const char *what);

/*
 * Makes this process's DRBGs Hash_DRBG over SHA-256 instead of OpenSSL's default
 * CTR_DRBG over AES-256: both are SP 800-90A generators of 256-bit security strength, fed
 * by the same seed source and reseeded the same way, but the CTR one's first use builds
 * the provider's whole cipher table (~1.2 ms of `agentcage run`'s start here), while the
 * digests it needs are built already. Has an effect only before the first random byte
 * of the process is drawn; later (a TLS context made earlier) it changes nothing. An
 * openssl.cnf `random` section already loaded is overridden. Returns true when it took.
 */
bool tls_rand_setup(void);

#endif
