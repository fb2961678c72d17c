/* hosts(5) parsing for `agentcage run --hosts FILE` (proxy/hostsfile.h). */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "proxy/hostsfile.h"
#include "t.h"
#include "util/util.h"

static const char *
fmt(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(in6->sin6_port));
	}
	return buf;
}

static void
test_good(void)
{
	static const char text[] = "# lab hosts\n"
				   "\n"
				   "10.213.0.2\tupstream.test  alias.test # trailing comment\n"
				   "  fd00::2 upstream.test\r\n"
				   "10.213.0.2 UPPER.Test.\n"
				   "10.213.0.3 upstream.test\n"
				   "10.213.0.2 upstream.test\n" /* duplicate address: dropped */
				   "127.0.0.1 local.test";      /* no final newline */
	struct hosts h = { 0 };
	struct sockaddr_storage out[HOSTS_MAX_ADDRS];
	char err[256], a[64];
	size_t n;

	T_OK(hosts_parse(&h, "hosts", text, strlen(text), err, sizeof(err)) == 0,
	     "a hosts file with comments, tabs, CRLF, IPv6 and aliases parses");
	n = hosts_lookup(&h, "upstream.test", 8080, out, NELEM(out));
	T_OK(n == 3, "a name on several lines gets every distinct address (got %zu)", n);
	if (n == 3) {
		T_STREQ(fmt(&out[0], a, sizeof(a)), "10.213.0.2:8080", "file order, port applied");
		T_STREQ(fmt(&out[1], a, sizeof(a)), "[fd00::2]:8080", "IPv6 second");
		T_STREQ(fmt(&out[2], a, sizeof(a)), "10.213.0.3:8080", "then the next line");
	}
	T_OK(hosts_lookup(&h, "ALIAS.test.", 1, out, NELEM(out)) == 1,
	     "aliases match, case-insensitively, with a trailing dot");
	T_OK(hosts_lookup(&h, "upper.test", 1, out, NELEM(out)) == 1,
	     "names written in upper case or with a dot are stored normalised");
	T_OK(hosts_lookup(&h, "local.test", 1, out, NELEM(out)) == 1, "last line without newline");
	T_OK(hosts_lookup(&h, "nothere.test", 1, out, NELEM(out)) == 0, "unknown name: 0");
	T_OK(hosts_lookup(&h, "upstream.tes", 1, out, NELEM(out)) == 0, "no prefix matching");
	T_OK(hosts_lookup(&h, "upstream.test", 1, out, 1) == 1, "capacity is respected");
	T_OK(hosts_lookup(NULL, "upstream.test", 1, out, 1) == 0, "no table: 0");
	hosts_free(&h);
	T_OK(h.n == 0 && h.v == NULL, "hosts_free empties the table");
}

static void
test_bad(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "10.0.0.1 ok.test\n300.1.1.1 bad.test\n", "f:2: not an IP address: '300.1.1.1'" },
		{ "127.1 short.test\n", "f:1: not an IP address: '127.1'" },
		{ "fe80::1%eth0 zone.test\n", "f:1: not an IP address" },
		{ "[::1] brackets.test\n", "f:1: not an IP address" },
		{ "# c\n\n10.0.0.1\n", "f:3: address without a name" },
		{ "10.0.0.1 # only a comment\n", "f:1: address without a name" },
		{ "10.0.0.1 bad/name\n", "f:1: not a host name: 'bad/name'" },
		{ "10.0.0.1 a..b\n", "f:1: not a host name" },
		{ "10.0.0.1 -lead\n", "f:1: not a host name" },
		{ "upstream.test 10.0.0.1\n", "f:1: not an IP address: 'upstream.test'" },
	};
	char err[256];

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct hosts h = { 0 };
		int rc = hosts_parse(&h, "f", cases[i].text, strlen(cases[i].text), err, sizeof(err));
		T_OK(rc == -1 && errno == EINVAL && h.n == 0, "refused: %s", cases[i].want);
		T_CONTAINS(err, cases[i].want, "message names file:line and the token");
		T_CONTAINS(err, "hint:", "message has a hint");
		hosts_free(&h);
	}
	{
		struct hosts h = { 0 };
		static const char nul[] = "10.0.0.1 a.test\0\n";
		T_OK(hosts_parse(&h, "f", nul, sizeof(nul) - 1, err, sizeof(err)) == -1,
		     "a NUL byte is refused");
	}
	{
		struct hosts h = { 0 };
		T_OK(hosts_load(&h, "/nonexistent/hosts", err, sizeof(err)) == -1 && errno == ENOENT,
		     "a missing file fails with ENOENT");
		T_CONTAINS(err, "/nonexistent/hosts", "and names it");
	}
}

int
main(void)
{
	test_good();
	test_bad();
	return t_done();
}
