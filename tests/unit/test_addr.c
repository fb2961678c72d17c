/* Unit tests for policy/addr: literals, odd IPv4 spellings, classes, CIDR (network.md §9.11). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "policy/addr.h"
#include "t.h"
#include "util/util.h"

static bool
is_internal(const char *s)
{
	struct addr a;

	return addr_parse(s, strlen(s), &a) == 0 && (addr_classify(&a) & ADDR_INTERNAL_MASK);
}

static void
test_parse(void)
{
	static const struct {
		const char *in, *formatted; /* NULL: refused */
	} cases[] = {
	        {"10.0.0.1", "10.0.0.1"},
	        {"255.255.255.255", "255.255.255.255"},
	        {"0.0.0.0", "0.0.0.0"},
	        {"10.0.0.01", NULL},
	        {"010.0.0.1", NULL},
	        {"256.0.0.1", NULL},
	        {"1.2.3", NULL},
	        {"1.2.3.4.5", NULL},
	        {"1.2.3.4.", NULL},
	        {" 1.2.3.4", NULL},
	        {"1.2.3.-4", NULL},
	        {"127.1", NULL},
	        {"::1", "::1"},
	        {"[::1]", "::1"},
	        {"2001:DB8::1", "2001:db8::1"},
	        {"::ffff:127.0.0.1", "127.0.0.1"},
	        {"::FFFF:7f00:1", "127.0.0.1"},
	        {"fe80::1%eth0", NULL},
	        {"[::1", NULL},
	        {"example.com", NULL},
	        {"", NULL},
	        {"1:2:3:4:5:6:7:8:9", NULL},
	};
	char buf[ADDR_STRLEN];
	struct addr a;

	for (size_t i = 0; i < NELEM(cases); i++) {
		int rc = addr_parse(cases[i].in, strlen(cases[i].in), &a);
		if (cases[i].formatted == NULL)
			T_OK(rc == -1 && errno == EINVAL, "addr_parse refuses '%s'", cases[i].in);
		else
			T_STREQ(rc == 0 ? addr_format(&a, buf, sizeof(buf)) : "(refused)",
			        cases[i].formatted, "addr_parse '%s'", cases[i].in);
	}
}

static void
test_odd_ipv4(void)
{
	static const struct {
		const char *in;
		bool odd;
	} cases[] = {
	        {"127.1", true},        {"0x7f.0.0.1", true},  {"0177.0.0.1", true},
	        {"2130706433", true},   {"10.0.0.01", true},   {"127.0.1", true},
	        {"0x7f000001", true},   {"127.0.0.1.", true},  {"127.0.0.1", false},
	        {"example.com", false}, {"1.2.3.4.5", false},  {"256.1.1.1", false},
	        {"08.0.0.1", false},    {"1e3", false},        {"", false},
	        {"a.b.c.d", false},     {"4294967296", false}, {"1.16777216", false},
	};

	for (size_t i = 0; i < NELEM(cases); i++)
		T_OK(addr_is_odd_ipv4(cases[i].in, strlen(cases[i].in)) == cases[i].odd,
		     "'%s' is %san odd IPv4 spelling", cases[i].in, cases[i].odd ? "" : "not ");
}

static void
test_classes(void)
{
	static const char *const internal[] = {
	        "127.0.0.1",
	        "127.0.0.2",
	        "10.0.0.1",
	        "10.255.255.255",
	        "172.16.0.1",
	        "172.31.255.255",
	        "192.168.0.1",
	        "192.168.255.255",
	        "169.254.169.254",
	        "169.254.0.1",
	        "0.0.0.0",
	        "100.64.0.1",
	        "100.100.50.3",
	        "100.127.255.255",
	        "192.0.0.1",
	        "198.18.0.1",
	        "198.19.255.255",
	        "198.51.100.1",
	        "203.0.113.1",
	        "::ffff:100.64.0.1",
	        "::1",
	        "::",
	        "fe80::1",
	        "fdc4:f303:9324::254",
	        "::ffff:10.0.0.1",
	        "::ffff:127.0.0.1",
	        "::ffff:169.254.169.254",
	        /* beyond the reference */
	        "0.1.2.3",
	        "224.0.0.1",
	        "240.0.0.1",
	        "255.255.255.255",
	        "2001:db8::1",
	        "ff02::1",
	        "64:ff9b::7f00:1",
	        "2002:7f00:1::",
	        "::127.0.0.1",
	};
	static const char *const public[] = {
	        "100.128.0.1",
	        "100.63.255.255",
	        "8.8.8.8",
	        "1.1.1.1",
	        "93.184.216.34",
	        "172.32.0.1",
	        "2001:4860:4860::8888",
	        "::ffff:8.8.8.8",
	        "64:ff9b::808:808",
	};

	for (size_t i = 0; i < NELEM(internal); i++)
		T_OK(is_internal(internal[i]), "%s is internal", internal[i]);
	for (size_t i = 0; i < NELEM(public); i++) {
		struct addr a;
		T_OK(addr_parse(public[i], strlen(public[i]), &a) == 0 &&
		             addr_classify(&a) == ADDR_PUBLIC,
		     "%s is public", public[i]);
	}
	struct addr a;
	addr_parse("169.254.169.254", 15, &a);
	T_STREQ(addr_class_name(addr_classify(&a)), "cloud metadata",
	        "metadata address is named so");
	T_OK(addr_classify(&a) & ADDR_ALWAYS_BLOCKED_MASK, "metadata address is always blocked");
	addr_parse("10.1.2.3", 8, &a);
	T_OK(!(addr_classify(&a) & ADDR_ALWAYS_BLOCKED_MASK),
	     "private address is not always blocked");
}

static void
test_cidr(void)
{
	struct cidr c, d;
	struct addr a;

	T_OK(addr_cidr_parse("10.0.5.0/24", &c) == 0, "parse 10.0.5.0/24");
	addr_parse("10.0.5.1", 8, &a);
	T_OK(addr_cidr_contains(&c, &a), "10.0.5.0/24 contains 10.0.5.1");
	addr_parse("10.0.6.1", 8, &a);
	T_OK(!addr_cidr_contains(&c, &a), "10.0.5.0/24 does not contain 10.0.6.1");
	addr_parse("::ffff:10.0.5.9", 15, &a);
	T_OK(addr_cidr_contains(&c, &a), "10.0.5.0/24 contains IPv4-mapped ::ffff:10.0.5.9");
	T_OK(addr_cidr_parse("10.0.5.20", &c) == 0 && c.prefix == 128,
	     "bare IP is a single address");
	addr_parse("10.0.5.20", 9, &a);
	T_OK(addr_cidr_contains(&c, &a), "bare 10.0.5.20 contains itself");
	T_OK(addr_cidr_parse("10.0.5.77/24", &c) == 0 && addr_cidr_contains(&c, &a),
	     "host bits are cleared");
	static const char *const bad[] = {"not-an-ip",   "10.0.0.0/33", "10.0.0.0/",
	                                  "10.0.0.0/-1", "10.0.0.0/08", "10.0.0.0/ 8",
	                                  "::/129",      "/8",          "10.0.0.0/8/8"};
	for (size_t i = 0; i < NELEM(bad); i++)
		T_OK(addr_cidr_parse(bad[i], &c) == -1 && errno == EINVAL, "cidr '%s' refused",
		     bad[i]);
	static const char *const blocked[] = {
	        "127.0.0.0/8",     "169.254.0.0/16",  "0.0.0.0", "127.0.0.1",
	        "169.254.169.254", "0.0.0.0/0",       "::1",     "::/0",
	        "fe80::/64",       "::ffff:127.0.0.1"};
	for (size_t i = 0; i < NELEM(blocked); i++)
		T_OK(addr_cidr_parse(blocked[i], &c) == 0 && addr_cidr_hits_always_blocked(&c),
		     "allowed_ips '%s' hits an always-blocked range", blocked[i]);
	static const char *const ok[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.1.1", "fd00::/8",
	                                 "8.8.8.8"};
	for (size_t i = 0; i < NELEM(ok); i++)
		T_OK(addr_cidr_parse(ok[i], &c) == 0 && !addr_cidr_hits_always_blocked(&c),
		     "allowed_ips '%s' is usable", ok[i]);
	addr_cidr_parse("10.0.0.0/8", &c);
	addr_cidr_parse("10.1.0.0/16", &d);
	T_OK(addr_cidr_overlaps(&c, &d) && addr_cidr_overlaps(&d, &c), "10/8 and 10.1/16 overlap");
	addr_cidr_parse("11.0.0.0/8", &d);
	T_OK(!addr_cidr_overlaps(&c, &d), "10/8 and 11/8 do not overlap");
}

static void
test_sockaddr_ports(void)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	struct sockaddr sa = {.sa_family = AF_UNIX};
	char buf[ADDR_STRLEN];
	struct addr a;

	inet_pton(AF_INET, "192.0.2.7", &in.sin_addr);
	T_OK(addr_from_sockaddr((struct sockaddr *)&in, &a) == 0, "AF_INET sockaddr converts");
	T_STREQ(addr_format(&a, buf, sizeof(buf)), "192.0.2.7", "AF_INET sockaddr formats");
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &in6.sin6_addr);
	struct addr b;
	addr_from_sockaddr((struct sockaddr *)&in6, &b);
	T_OK(addr_equal(&a, &b), "mapped AF_INET6 equals AF_INET");
	T_OK(addr_from_sockaddr(&sa, &a) == -1 && errno == EAFNOSUPPORT, "AF_UNIX refused");
	static const uint16_t cp[] = {2379, 2380, 6443, 10250, 10255};
	for (size_t i = 0; i < NELEM(cp); i++)
		T_OK(addr_port_is_control_plane(cp[i]), "port %u is control plane", cp[i]);
	T_OK(!addr_port_is_control_plane(443) && !addr_port_is_control_plane(8443),
	     "443, 8443 are not");
}

int
main(void)
{
	test_parse();
	test_odd_ipv4();
	test_classes();
	test_cidr();
	test_sockaddr_ports();
	return t_done();
}
