/*
 * proxy/hostsfile: the `agentcage run --hosts FILE` table, in hosts(5) format, which the
 * proxy's resolver consults before any DNS query (tests, offline use, pinning a name to a
 * lab address).
 *
 * Format (hosts(5)): one entry per line, "ADDRESS NAME [ALIAS...]", fields separated by
 * spaces or tabs, '#' starts a comment anywhere on a line, blank lines are ignored. The
 * address is a strict IPv4 dotted quad or an IPv6 literal (no zone id); names are 1 to
 * HOSTS_MAX_NAME bytes of letters, digits, '-', '.' and '_' and are compared without
 * regard to ASCII case and one trailing dot. A name listed on several lines gets every
 * address, in file order, duplicates dropped (as glibc's "multi on").
 *
 * Context: supervisor (parsed before the sandbox starts); lookups run in the proxy loop
 * and never allocate. Errors: 0 / -1 with errno and, for parse errors, "FILE:LINE: what;
 * hint: ..." in the caller's buffer. Ownership: a struct hosts owns its entries;
 * hosts_free() releases them.
 */
#ifndef AGENTCAGE_PROXY_HOSTSFILE_H
#define AGENTCAGE_PROXY_HOSTSFILE_H

#include <stddef.h>
#include <sys/socket.h>

#define HOSTS_MAX_FILE    (4 * 1024 * 1024) /* bytes of a hosts file */
#define HOSTS_MAX_ENTRIES 65536             /* (name, address) pairs */
#define HOSTS_MAX_NAME    253               /* RFC 1035 name length in text form */
#define HOSTS_MAX_ADDRS   16                /* addresses returned for one name */

struct hosts_entry {
	char *name;                  /* lower case, no trailing dot */
	struct sockaddr_storage addr; /* AF_INET or AF_INET6, port 0 */
};

struct hosts {
	struct hosts_entry *v;
	size_t n, cap;
};

/*
 * Parses <text>[0..<len>) (named <path> in messages) into <h>, which must be zero-filled.
 * Refuses: a bad address, a line with an address but no name, a bad name, more than
 * HOSTS_MAX_ENTRIES pairs, a NUL byte. -1 with EINVAL (E2BIG for too many) and
 * "<path>:<line>: ..." in <err>; <h> is then empty.
 */
int hosts_parse(struct hosts *h, const char *path, const char *text, size_t len, char *err,
		size_t errlen);

/* Reads <path> (at most HOSTS_MAX_FILE bytes) and parses it as hosts_parse() does. */
int hosts_load(struct hosts *h, const char *path, char *err, size_t errlen);

/*
 * Copies the addresses of <name> (case-insensitive, one trailing dot ignored) into
 * <out>[0..<cap>) with their port set to <port>; returns how many (0: not listed).
 */
size_t hosts_lookup(const struct hosts *h, const char *name, unsigned short port,
		    struct sockaddr_storage *out, size_t cap);

/* Frees the entries; <h> is left empty and reusable. NULL is accepted. */
void hosts_free(struct hosts *h);

#endif
