/* policy/addr: IP literals, CIDR and address classes; see addr.h. */
#include "policy/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "util/util.h"

#define ADDR_MAX_LITERAL 64 /* longer text is no IP literal */

static const uint8_t addr_v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool
addr_is_v4(const struct addr *a)
{
	return memcmp(a->b, addr_v4_prefix, sizeof(addr_v4_prefix)) == 0;
}

bool
addr_equal(const struct addr *a, const struct addr *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

static void
addr_set_v4(struct addr *a, uint32_t host_order)
{
	memcpy(a->b, addr_v4_prefix, sizeof(addr_v4_prefix));
	a->b[12] = (uint8_t)(host_order >> 24);
	a->b[13] = (uint8_t)(host_order >> 16);
	a->b[14] = (uint8_t)(host_order >> 8);
	a->b[15] = (uint8_t)host_order;
}

/* Strict dotted quad: exactly four decimal parts 0..255 without leading zeros. */
static int
addr_parse_v4(const char *s, size_t len, uint32_t *out)
{
	uint32_t v = 0;
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
		size_t start = i;
		unsigned n = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 4)
			n = n * 10 + (unsigned)(s[i++] - '0');
		if (i == start || i - start > 3 || n > 255 || (s[start] == '0' && i - start > 1))
			return -1;
		v = v << 8 | n;
	}
	if (i != len)
		return -1;
	*out = v;
	return 0;
}

int
addr_parse(const char *s, size_t len, struct addr *out)
{
	char buf[ADDR_MAX_LITERAL];
	uint32_t v4;

	if (addr_parse_v4(s, len, &v4) == 0) {
		addr_set_v4(out, v4);
		return 0;
	}
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	/* inet_pton wants a NUL; a zone id ('%') or anything odd makes it fail. */
	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) || memchr(s, ':', len) == NULL)
		goto invalid;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET6, buf, out->b) != 1)
		goto invalid;
	return 0;
invalid:
	errno = EINVAL;
	return -1;
}

/* One inet_aton() part: decimal, 0-prefixed octal or 0x-prefixed hex. */
static bool
addr_aton_part(const char *s, size_t len, unsigned long long *v)
{
	unsigned base = 10;
	size_t i = 0;

	if (len == 0)
		return false;
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	} else if (s[0] == '0') {
		base = 8;
	}
	*v = 0;
	for (; i < len; i++) {
		unsigned d;
		char c = s[i];
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		if (d >= base)
			return false;
		*v = *v * base + d;
		if (*v > 0xffffffffULL)
			return false;
	}
	return true;
}

bool
addr_is_odd_ipv4(const char *s, size_t len)
{
	uint32_t v4;
	unsigned long long part[4];
	size_t n = 0, start = 0;

	if (len == 0 || addr_parse_v4(s, len, &v4) == 0)
		return false;
	if (s[len - 1] == '.') /* inet_aton accepts one trailing dot */
		len--;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (n == 4 || !addr_aton_part(s + start, i - start, &part[n]))
			return false;
		n++;
		start = i + 1;
	}
	/* The last part fills the remaining bytes (inet_aton(3)); earlier ones are bytes. */
	for (size_t i = 0; i + 1 < n; i++)
		if (part[i] > 255)
			return false;
	return part[n - 1] <= (0xffffffffULL >> (8 * (n - 1)));
}

int
addr_from_sockaddr(const struct sockaddr *sa, struct addr *out)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		addr_set_v4(out, ntohl(in->sin_addr.s_addr));
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		memcpy(out->b, in6->sin6_addr.s6_addr, 16);
		return 0;
	}
	errno = EAFNOSUPPORT;
	return -1;
}

void
addr_to_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (addr_is_v4(a)) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, a->b + 12, 4);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, a->b, 16);
	}
}

const char *
addr_format(const struct addr *a, char *buf, size_t size)
{
	if (addr_is_v4(a)) {
		if (ut_snprintf(buf, size, "%u.%u.%u.%u", a->b[12], a->b[13], a->b[14], a->b[15]) ==
		            -1 &&
		    size > 0)
			buf[0] = '\0';
		return buf;
	}
	if (inet_ntop(AF_INET6, a->b, buf, (socklen_t)size) == NULL && size > 0)
		buf[0] = '\0';
	return buf;
}

static uint32_t
addr_v4_value(const uint8_t *b4)
{
	return (uint32_t)b4[0] << 24 | (uint32_t)b4[1] << 16 | (uint32_t)b4[2] << 8 | b4[3];
}

/* Classes of an IPv4 address given in host order. */
static unsigned
addr_classify_v4(uint32_t v)
{
	static const struct {
		uint32_t net;
		unsigned bits;
		unsigned cls;
	} nets[] = {
	        {0x00000000, 8, ADDR_UNSPECIFIED},
	        {0x0a000000, 8, ADDR_PRIVATE},
	        {0x64400000, 10, ADDR_CGNAT},
	        {0x7f000000, 8, ADDR_LOOPBACK},
	        {0xa9fea9fe, 32, ADDR_METADATA | ADDR_LINK_LOCAL},
	        {0xa9fe0000, 16, ADDR_LINK_LOCAL},
	        {0xac100000, 12, ADDR_PRIVATE},
	        {0xc0000000, 24, ADDR_PROTOCOL},
	        {0xc0000200, 24, ADDR_DOCUMENTATION},
	        {0xc0a80000, 16, ADDR_PRIVATE},
	        {0xc6120000, 15, ADDR_BENCHMARK},
	        {0xc6336400, 24, ADDR_DOCUMENTATION},
	        {0xcb007100, 24, ADDR_DOCUMENTATION},
	        {0xe0000000, 4, ADDR_MULTICAST},
	        {0xffffffff, 32, ADDR_BROADCAST},
	        {0xf0000000, 4, ADDR_RESERVED},
	};
	unsigned cls = 0;

	for (size_t i = 0; i < NELEM(nets); i++) {
		uint32_t mask = nets[i].bits == 0 ? 0 : 0xffffffffu << (32 - nets[i].bits);
		if ((v & mask) == nets[i].net)
			cls |= nets[i].cls;
	}
	if (cls & ADDR_BROADCAST)
		cls &= ~(unsigned)ADDR_RESERVED;
	return cls;
}

unsigned
addr_classify(const struct addr *a)
{
	static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t metadata6[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0,    0,
	                                      0,    0,    0,    0,    0, 0, 0x02, 0x54};
	const uint8_t *b = a->b;
	unsigned cls = 0;

	if (addr_is_v4(a))
		return addr_classify_v4(addr_v4_value(b + 12));
	/* Translated forms carry an IPv4 address that is what the packet finally reaches. */
	if (memcmp(b, nat64, sizeof(nat64)) == 0)
		return addr_classify_v4(addr_v4_value(b + 12));
	if (b[0] == 0x20 && b[1] == 0x02) /* 6to4 2002:V4ADDR::/48 */
		return addr_classify_v4(addr_v4_value(b + 2));
	static const uint8_t zero[15];
	if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
		return b[15] == 0 ? ADDR_UNSPECIFIED : ADDR_LOOPBACK;
	if (memcmp(b, zero, 12) == 0) /* ::a.b.c.d, deprecated IPv4-compatible */
		return ADDR_RESERVED | addr_classify_v4(addr_v4_value(b + 12));
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		cls |= ADDR_LINK_LOCAL;
	if ((b[0] & 0xfe) == 0xfc)
		cls |= ADDR_PRIVATE;
	if (memcmp(b, metadata6, 16) == 0)
		cls |= ADDR_METADATA;
	if (b[0] == 0xff)
		cls |= ADDR_MULTICAST;
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
		cls |= ADDR_DOCUMENTATION;
	return cls;
}

const char *
addr_class_name(unsigned c)
{
	static const struct {
		unsigned cls;
		const char *name;
	} names[] = {
	        {ADDR_METADATA, "cloud metadata"},
	        {ADDR_LOOPBACK, "loopback"},
	        {ADDR_UNSPECIFIED, "unspecified"},
	        {ADDR_LINK_LOCAL, "link-local"},
	        {ADDR_PRIVATE, "private"},
	        {ADDR_CGNAT, "carrier-grade NAT"},
	        {ADDR_DOCUMENTATION, "documentation"},
	        {ADDR_BROADCAST, "broadcast"},
	        {ADDR_PROTOCOL, "IETF protocol assignment"},
	        {ADDR_BENCHMARK, "benchmarking"},
	        {ADDR_MULTICAST, "multicast"},
	        {ADDR_RESERVED, "reserved"},
	};

	for (size_t i = 0; i < NELEM(names); i++)
		if (c & names[i].cls)
			return names[i].name;
	return "public";
}

static void
addr_mask(struct addr *a, unsigned prefix)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 : (prefix > 8 * i ? prefix - 8 * i : 0);
		a->b[i] &= (uint8_t)(0xff00u >> keep);
	}
}

int
addr_cidr_parse(const char *s, struct cidr *out)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	long long prefix;
	const char *err;

	if (addr_parse(s, alen, &out->net) == -1)
		return -1;
	out->v4 = addr_is_v4(&out->net);
	if (slash == NULL) {
		out->prefix = 128;
		return 0;
	}
	/* ut_strtonum refuses blanks and signs; a leading zero ("/08") is refused too. */
	if (slash[1] == '0' && slash[2] != '\0')
		goto invalid;
	prefix = ut_strtonum(slash + 1, 0, out->v4 ? 32 : 128, &err);
	if (err)
		goto invalid;
	out->prefix = (unsigned)prefix + (out->v4 ? 96 : 0);
	addr_mask(&out->net, out->prefix);
	return 0;
invalid:
	errno = EINVAL;
	return -1;
}

bool
addr_cidr_contains(const struct cidr *c, const struct addr *a)
{
	struct addr m = *a;

	addr_mask(&m, c->prefix);
	return addr_equal(&m, &c->net);
}

bool
addr_cidr_overlaps(const struct cidr *a, const struct cidr *b)
{
	/* Two prefixes overlap iff the shorter contains the other's network. */
	return a->prefix <= b->prefix ? addr_cidr_contains(a, &b->net)
	                              : addr_cidr_contains(b, &a->net);
}

bool
addr_cidr_hits_always_blocked(const struct cidr *c)
{
	static const char *const blocked[] = {
	        "127.0.0.0/8",   "169.254.0.0/16", "0.0.0.0/8",           "::1/128",
	        "::/128",        "fe80::/10",      "64:ff9b::7f00:0/104", "64:ff9b::a9fe:0/112",
	        "64:ff9b::/104", "2002:7f00::/24", "2002:a9fe::/32",      "2002::/24",
	};
	struct cidr b;

	for (size_t i = 0; i < NELEM(blocked); i++)
		if (addr_cidr_parse(blocked[i], &b) == 0 && addr_cidr_overlaps(c, &b))
			return true;
	return false;
}

bool
addr_port_is_control_plane(uint16_t port)
{
	return port == 2379 || port == 2380 || port == 6443 || port == 10250 || port == 10255;
}
