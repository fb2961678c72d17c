/*
 * policy/addr: IP literals, CIDR ranges and the address classes of the destination
 * rules (network.md §4.7, §9.11).
 *
 * Every address is held as 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d), so an
 * IPv4-mapped IPv6 address and its IPv4 form are the same value and classify the same
 * (an SSRF filter that forgets this is bypassed with ::ffff:127.0.0.1).
 *
 * IPv4 literals are accepted only as a strict dotted quad (four decimal parts 0..255, no
 * leading zeros). Other spellings that inet_aton() and so getaddrinfo() would still
 * resolve to an address (`127.1`, `0x7f.0.0.1`, `0177.0.0.1`, `2130706433`) are refused
 * by addr_parse() and recognised by addr_is_odd_ipv4() so callers can refuse such hosts
 * with a hint instead of letting the resolver reinterpret them.
 *
 * Context: any; pure functions, no allocation. Errors: 0 / -1 with errno EINVAL.
 */
#ifndef AGENTCAGE_POLICY_ADDR_H
#define AGENTCAGE_POLICY_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADDR_STRLEN 46 /* INET6_ADDRSTRLEN: longest formatted address + NUL */

struct addr {
	uint8_t b[16]; /* network order; IPv4 as ::ffff:a.b.c.d */
};

struct cidr {
	struct addr net; /* host bits cleared */
	unsigned prefix; /* 0..128, in the 128-bit space (IPv4 /n is 96+n) */
	bool v4;         /* written as IPv4 (for formatting) */
};

/* Address classes (bit set); an address may be in several (metadata is link-local). */
enum addr_class {
	ADDR_PUBLIC = 0,
	ADDR_LOOPBACK = 1 << 0,      /* 127/8, ::1 */
	ADDR_PRIVATE = 1 << 1,       /* 10/8, 172.16/12, 192.168/16, fc00::/7 */
	ADDR_LINK_LOCAL = 1 << 2,    /* 169.254/16, fe80::/10 */
	ADDR_METADATA = 1 << 3,      /* 169.254.169.254 (cloud instance metadata), fd00:ec2::254 */
	ADDR_UNSPECIFIED = 1 << 4,   /* 0.0.0.0/8 ("this network"), :: */
	ADDR_DOCUMENTATION = 1 << 5, /* 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32 */
	ADDR_CGNAT = 1 << 6,         /* 100.64/10 shared address space */
	ADDR_BROADCAST = 1 << 7,     /* 255.255.255.255 */
	ADDR_PROTOCOL = 1 << 8,      /* 192.0.0/24 IETF protocol assignments */
	ADDR_BENCHMARK = 1 << 9,     /* 198.18/15 */
	ADDR_MULTICAST = 1 << 10,    /* 224/4, ff00::/8 */
	ADDR_RESERVED = 1 << 11,     /* 240/4, ::/96 IPv4-compatible (deprecated) */
};

/* Classes the default rule refuses: everything except ADDR_PUBLIC (network.md §4.7,
 * extended with 0/8, multicast, 240/4, and 2001:db8::/32). */
#define ADDR_INTERNAL_MASK 0xfffu
/* Classes no allowed_ips entry or declared host can open: loopback, link-local (so the
 * metadata address), unspecified. */
#define ADDR_ALWAYS_BLOCKED_MASK                                                                   \
	(ADDR_LOOPBACK | ADDR_LINK_LOCAL | ADDR_METADATA | ADDR_UNSPECIFIED)

/*
 * Parses an IP literal from <s>[0..<len>): a strict dotted quad, or IPv6 (inet_pton
 * syntax, optionally in brackets, no zone id). -1/EINVAL otherwise.
 */
int addr_parse(const char *s, size_t len, struct addr *out);

/* True when <s> is not a strict literal but inet_aton() would turn it into an IPv4
 * address (short forms, octal, hex, one big number). */
bool addr_is_odd_ipv4(const char *s, size_t len);

/* Converts an AF_INET or AF_INET6 <sa>; -1/EAFNOSUPPORT for other families. */
int addr_from_sockaddr(const struct sockaddr *sa, struct addr *out);

/* The reverse: <a> as an AF_INET (IPv4, incl. v4-mapped) or AF_INET6 socket address with
 * <port> (host order); the rest of *<ss> is zeroed. */
void addr_to_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *ss);

bool addr_is_v4(const struct addr *a);
bool addr_equal(const struct addr *a, const struct addr *b);

/* Formats <a> (dotted quad for IPv4, RFC 5952 for IPv6) into <buf>; returns <buf>. */
const char *addr_format(const struct addr *a, char *buf, size_t size);

/* Returns the enum addr_class bits of <a>. */
unsigned addr_classify(const struct addr *a);

/* Name of the most telling class bit set in <classes> ("loopback", "private", ...),
 * "public" for none. */
const char *addr_class_name(unsigned classes);

/*
 * Parses "IP/prefix" or a bare IP (/32 or /128) from <s>. Host bits set below the prefix
 * are cleared. -1/EINVAL on anything else (prefix out of range, leading zeros, blanks).
 */
int addr_cidr_parse(const char *s, struct cidr *out);

bool addr_cidr_contains(const struct cidr *c, const struct addr *a);

/* True when the two ranges share at least one address. */
bool addr_cidr_overlaps(const struct cidr *a, const struct cidr *b);

/* True when some address of <c> is always blocked (loopback, link-local, unspecified):
 * such an allowed_ips entry is refused. */
bool addr_cidr_hits_always_blocked(const struct cidr *c);

/* Kubernetes/etcd control-plane ports refused for every non-public destination:
 * 2379, 2380 (etcd), 6443 (API server), 10250, 10255 (kubelet). */
bool addr_port_is_control_plane(uint16_t port);

#endif
