/*
 * test_sni: the ClientHello server_name reader. Real hellos captured from openssl
 * s_client and curl (tests/data/tls/, see README there) must give their names; each is
 * also cut at every length (must be SNI_PARTIAL), split over records of several sizes
 * (same answer), and put flush against a PROT_NONE page so an over-read crashes. Built
 * hellos cover each malformation the reader refuses.
 */
#include "proxy/sni.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "t.h"

#define MAXBUF (SNI_MAX_HELLO * 2)

struct guarded {
	unsigned char *map;
	size_t maplen;
	unsigned char *p;
};

static struct guarded
guard_copy(const unsigned char *s, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t data_pages = (len + pg - 1) / pg + 1;
	struct guarded g = { 0 };

	g.maplen = (data_pages + 1) * pg;
	g.map = mmap(NULL, g.maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g.map == MAP_FAILED || mprotect(g.map + data_pages * pg, pg, PROT_NONE) == -1) {
		perror("mmap");
		abort();
	}
	g.p = g.map + data_pages * pg - len;
	if (len > 0)
		memcpy(g.p, s, len);
	return g;
}

/* sni_parse on a guarded copy; host is "" unless FOUND. */
static int
parse(const unsigned char *s, size_t len, char *host, size_t cap, const char **why)
{
	struct guarded g = guard_copy(s, len);
	int r;

	host[0] = '\0';
	*why = NULL;
	r = sni_parse(g.p, len, host, cap, why);
	munmap(g.map, g.maplen);
	return r;
}

static size_t
read_data(const char *name, unsigned char *buf, size_t cap)
{
	char path[256];
	ssize_t n;
	int fd;

	ut_snprintf(path, sizeof(path), "tests/data/tls/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return 0;
	n = read(fd, buf, cap);
	close(fd);
	return n > 0 ? (size_t)n : 0;
}

/* Re-frames a single-record hello <in> into records of <frag> handshake bytes each. */
static size_t
refragment(const unsigned char *in, size_t len, size_t frag, unsigned char *out)
{
	size_t hs = len - 5, o = 0;

	for (size_t off = 0; off < hs; off += frag) {
		size_t n = hs - off < frag ? hs - off : frag;

		memcpy(out + o, in, 3);
		out[o + 3] = (unsigned char)(n >> 8);
		out[o + 4] = (unsigned char)n;
		memcpy(out + o + 5, in + 5 + off, n);
		o += 5 + n;
	}
	return o;
}

static void
check_partial_everywhere(const unsigned char *buf, size_t len, const char *what)
{
	char host[SNI_MAX_NAME + 1];
	const char *why;
	size_t bad_at = 0;
	bool ok = true;

	for (size_t cut = 0; cut < len && ok; cut++)
		if (parse(buf, cut, host, sizeof(host), &why) != SNI_PARTIAL) {
			ok = false;
			bad_at = cut;
		}
	T_OK(ok, "%s: every prefix is SNI_PARTIAL (first other at %zu)", what, bad_at);
}

static void
test_captured(const char *file, int want, const char *want_host)
{
	static unsigned char buf[MAXBUF], frag[MAXBUF * 2];
	char host[SNI_MAX_NAME + 1], what[128];
	const char *why;
	size_t len = read_data(file, buf, sizeof(buf)), flen;
	static const size_t sizes[] = { 1, 2, 3, 5, 64, 100 };
	int r;

	if (!T_OK(len > 5, "%s: test data readable (run from the repository root)", file))
		return;
	r = parse(buf, len, host, sizeof(host), &why);
	T_OK(r == want, "%s: status %d (want %d) %s", file, r, want, why ? why : "");
	T_STREQ(host, want_host, "%s: host", file);
	check_partial_everywhere(buf, len, file);
	/* Trailing bytes (the client's next flight) do not matter. */
	memcpy(buf + len, "\x14\x03\x03\x00\x01\x01", 6);
	r = parse(buf, len + 6, host, sizeof(host), &why);
	T_OK(r == want && strcmp(host, want_host) == 0, "%s: bytes after the hello ignored", file);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		flen = refragment(buf, len, sizes[i], frag);
		r = parse(frag, flen, host, sizeof(host), &why);
		ut_snprintf(what, sizeof(what), "%s in records of %zu bytes", file, sizes[i]);
		T_OK(r == want && strcmp(host, want_host) == 0, "%s: same answer (%d %s)", what, r,
		     why ? why : host);
		if (sizes[i] == 3 || sizes[i] == 100)
			check_partial_everywhere(frag, flen, what);
	}
}

/* Every single-byte change of a real hello: no crash, a valid status, a valid name. */
static void
test_mutations(const char *file)
{
	static unsigned char buf[MAXBUF];
	static const unsigned char vals[] = { 0x00, 0x01, 0x20, 0x41, 0x7f, 0x80, 0xff };
	char host[SNI_MAX_NAME + 1];
	const char *why;
	size_t len = read_data(file, buf, sizeof(buf));
	bool ok = len > 0;

	for (size_t i = 0; i < len && ok; i++) {
		unsigned char orig = buf[i];

		for (size_t v = 0; v < sizeof(vals) && ok; v++) {
			int r;

			buf[i] = vals[v];
			r = parse(buf, len, host, sizeof(host), &why);
			if (r == SNI_BAD && why == NULL)
				ok = false;
			if (r == SNI_FOUND)
				for (const char *h = host; *h; h++)
					if (!((*h >= 'a' && *h <= 'z') || (*h >= '0' && *h <= '9') ||
					      *h == '-' || *h == '.'))
						ok = false;
			if (r < SNI_PARTIAL - 1 || r > SNI_FOUND)
				ok = false;
		}
		buf[i] = orig;
	}
	T_OK(ok, "%s: every one-byte mutation gives a valid status, reason and name", file);
}

/* Builds a hello record: <exts> == NULL means no extensions block at all. */
struct hello {
	size_t sid_len, suites_len, comp_len;
	const unsigned char *exts;
	size_t exts_len;
	int hs_type;
};

static void
put16(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static size_t
build(const struct hello *h, unsigned char *out)
{
	size_t o = 9;

	out[o++] = 3;
	out[o++] = 3;
	memset(out + o, 0xaa, 32);
	o += 32;
	out[o++] = (unsigned char)h->sid_len;
	memset(out + o, 0x11, h->sid_len);
	o += h->sid_len;
	put16(out + o, h->suites_len);
	o += 2;
	memset(out + o, 0x13, h->suites_len);
	o += h->suites_len;
	out[o++] = (unsigned char)h->comp_len;
	memset(out + o, 0, h->comp_len);
	o += h->comp_len;
	if (h->exts != NULL) {
		put16(out + o, h->exts_len);
		memcpy(out + o + 2, h->exts, h->exts_len);
		o += 2 + h->exts_len;
	}
	out[0] = 0x16;
	out[1] = 3;
	out[2] = 1;
	put16(out + 3, o - 5);
	out[5] = (unsigned char)h->hs_type;
	out[6] = (unsigned char)((o - 9) >> 16);
	put16(out + 7, o - 9);
	return o;
}

/* A server_name extension with the given list bytes. */
static size_t
sni_ext(unsigned char *out, const char *name, size_t nlen)
{
	put16(out, 0);
	put16(out + 2, nlen + 5);
	put16(out + 4, nlen + 3);
	out[6] = 0;
	put16(out + 7, nlen);
	memcpy(out + 9, name, nlen);
	return 9 + nlen;
}

static int
build_parse(const struct hello *h, char *host, size_t cap, const char **why)
{
	static unsigned char buf[MAXBUF];

	return parse(buf, build(h, buf), host, cap, why);
}

static struct hello
std_hello(const unsigned char *exts, size_t exts_len)
{
	return (struct hello){ 32, 4, 1, exts, exts_len, 1 };
}

static void
expect_bad(const unsigned char *exts, size_t exts_len, const char *what)
{
	struct hello h = std_hello(exts, exts_len);
	char host[SNI_MAX_NAME + 1];
	const char *why;
	int r = build_parse(&h, host, sizeof(host), &why);

	T_OK(r == SNI_BAD && why != NULL, "%s is SNI_BAD (%d: %s)", what, r, why ? why : "-");
}

static void
test_names(void)
{
	unsigned char e[1024];
	char host[SNI_MAX_NAME + 1], name[300];
	const char *why;
	struct hello h;
	size_t n;
	int r;

	n = sni_ext(e, "WWW.Example.ORG.", 16);
	h = std_hello(e, n);
	r = build_parse(&h, host, sizeof(host), &why);
	T_OK(r == SNI_FOUND, "built hello with SNI is found");
	T_STREQ(host, "www.example.org", "name is lower-cased, trailing dot stripped");
	n = sni_ext(e, "10.0.0.1", 8);
	h = std_hello(e, n);
	r = build_parse(&h, host, sizeof(host), &why);
	T_OK(r == SNI_FOUND && strcmp(host, "10.0.0.1") == 0,
	     "IPv4 literal SNI is passed through (compared with the CONNECT target)");
	r = build_parse(&h, host, 8, &why);
	T_OK(r == SNI_BAD, "name that does not fit the caller's buffer is SNI_BAD");
	memset(name, 'a', sizeof(name));
	for (size_t i = 63; i < sizeof(name); i += 64)
		name[i] = '.';
	n = sni_ext(e, name, 253);
	h = std_hello(e, n);
	T_OK(build_parse(&h, host, sizeof(host), &why) == SNI_FOUND && strlen(host) == 253,
	     "253-byte name accepted");
	expect_bad(e, sni_ext(e, name, 254), "254-byte name");
	expect_bad(e, sni_ext(e, "a_b.com", 7), "'_' in name");
	expect_bad(e, sni_ext(e, "a\0b.com", 7), "NUL in name");
	expect_bad(e, sni_ext(e, "::1", 3), "IPv6 literal");
	expect_bad(e, sni_ext(e, "", 0), "empty name");
	expect_bad(e, sni_ext(e, ".", 1), "name '.'");
	expect_bad(e, sni_ext(e, "a..b", 4), "empty label");
	expect_bad(e, sni_ext(e, "a..", 3), "two trailing dots (fuzz finding)");
	expect_bad(e, sni_ext(e, ".a", 2), "leading dot");
	expect_bad(e, sni_ext(e, "a b", 3), "space in name");
}

static void
test_structure(void)
{
	unsigned char e[1024], buf[MAXBUF];
	char host[SNI_MAX_NAME + 1];
	const char *why;
	struct hello h;
	size_t n, len;

	h = std_hello(NULL, 0);
	T_OK(build_parse(&h, host, sizeof(host), &why) == SNI_ABSENT,
	     "hello without extensions is SNI_ABSENT");
	h = std_hello(e, 0);
	T_OK(build_parse(&h, host, sizeof(host), &why) == SNI_ABSENT,
	     "hello with an empty extensions block is SNI_ABSENT");
	put16(e, 0x0017);
	put16(e + 2, 0);
	h = std_hello(e, 4);
	T_OK(build_parse(&h, host, sizeof(host), &why) == SNI_ABSENT,
	     "hello with other extensions only is SNI_ABSENT");

	n = sni_ext(e, "a.com", 5);
	n += sni_ext(e + n, "b.com", 5);
	expect_bad(e, n, "duplicate server_name extension");
	/* One extension, two host_name entries. */
	n = sni_ext(e, "a.com", 5);
	put16(e + 2, 5 + 16);
	put16(e + 4, 3 + 16);
	e[n] = 0;
	put16(e + n + 1, 5);
	memcpy(e + n + 3, "b.com", 5);
	expect_bad(e, n + 8, "two host_names in one server_name list");
	n = sni_ext(e, "a.com", 5);
	put16(e + 4, 7);	/* list shorter than the extension */
	expect_bad(e, n, "server_name list shorter than its extension");
	put16(e + 4, 9);
	expect_bad(e, n, "server_name list longer than its extension");
	n = sni_ext(e, "a.com", 5);
	put16(e + 7, 6);	/* name longer than the list */
	expect_bad(e, n, "host_name overrunning its list");
	put16(e, 0);
	put16(e + 2, 0);
	expect_bad(e, 4, "empty server_name extension");
	put16(e, 0);
	put16(e + 2, 200);
	expect_bad(e, 4, "extension overrunning the extensions block");
	/* Unknown name types are skipped; no host_name at all is ABSENT. */
	n = sni_ext(e, "a.com", 5);
	e[6] = 7;
	h = std_hello(e, n);
	T_OK(build_parse(&h, host, sizeof(host), &why) == SNI_ABSENT,
	     "server_name with only an unknown name type is SNI_ABSENT");

	n = sni_ext(e, "a.com", 5);
	h = std_hello(e, n);
	h.sid_len = 33;
	T_OK(build_parse(&h, host, sizeof(host), &why) == SNI_BAD, "session_id of 33 bytes");
	h = std_hello(e, n);
	h.suites_len = 3;
	T_OK(build_parse(&h, host, sizeof(host), &why) == SNI_BAD, "odd cipher_suites length");
	h.suites_len = 0;
	T_OK(build_parse(&h, host, sizeof(host), &why) == SNI_BAD, "empty cipher_suites");
	h = std_hello(e, n);
	h.comp_len = 0;
	T_OK(build_parse(&h, host, sizeof(host), &why) == SNI_BAD, "no compression method");
	h = std_hello(e, n);
	h.hs_type = 2;
	T_OK(build_parse(&h, host, sizeof(host), &why) == SNI_BAD,
	     "handshake type ServerHello is SNI_BAD");

	/* Record-layer shapes. */
	h = std_hello(e, n);
	len = build(&h, buf);
	buf[len] = 0;
	put16(buf + 7, (size_t)buf[7] << 8 | (buf[8] + 1u));	/* hello claims one more byte */
	put16(buf + 3, len - 5 + 1);
	T_OK(parse(buf, len + 1, host, sizeof(host), &why) == SNI_BAD,
	     "extensions not filling the hello are SNI_BAD");
	len = build(&h, buf);
	put16(buf + 3, 0);
	T_OK(parse(buf, len, host, sizeof(host), &why) == SNI_BAD, "empty record is SNI_BAD");
	put16(buf + 3, 16 * 1024 + 1);
	T_OK(parse(buf, len, host, sizeof(host), &why) == SNI_BAD,
	     "record over 2^14 bytes is SNI_BAD");
	len = build(&h, buf);
	buf[6] = 0x01;	/* message length 64 KiB+ */
	T_OK(parse(buf, len, host, sizeof(host), &why) == SNI_BAD,
	     "hello longer than SNI_MAX_HELLO is SNI_BAD at once");
	/* A hello fragmented so that a ChangeCipherSpec record interrupts it. */
	len = build(&h, buf);
	{
		unsigned char f[MAXBUF];
		size_t fl = refragment(buf, len, 10, f);

		f[15] = 20;
		T_OK(parse(f, fl, host, sizeof(host), &why) == SNI_BAD,
		     "non-handshake record inside the hello is SNI_BAD");
	}
	/* A complete hello that needs more than SNI_MAX_HELLO input bytes. */
	{
		static unsigned char big[MAXBUF], f[MAXBUF * 2];
		static unsigned char ext[16 * 1024];
		size_t fl;

		put16(ext, 0x0015);	/* padding */
		put16(ext + 2, 16200);
		memset(ext + 4, 0, 16200);
		h = std_hello(ext, 16204);
		len = build(&h, big);
		fl = refragment(big, len, 100, f);
		T_OK(parse(f, SNI_MAX_HELLO - 1, host, sizeof(host), &why) == SNI_PARTIAL,
		     "hello not complete below SNI_MAX_HELLO is SNI_PARTIAL");
		T_OK(parse(f, fl, host, sizeof(host), &why) == SNI_BAD,
		     "hello not complete at SNI_MAX_HELLO is SNI_BAD (%s)", why ? why : "-");
		T_OK(parse(big, len, host, sizeof(host), &why) == SNI_ABSENT,
		     "the same hello in one record fits");
	}
}

static void
test_is_tls(void)
{
	char host[SNI_MAX_NAME + 1];
	const char *why;

	T_OK(sni_is_tls((const unsigned char *)"\x16\x03\x01", 3) == 1, "16 03 01 is TLS");
	T_OK(sni_is_tls((const unsigned char *)"\x16\x03\x04", 3) == 1, "16 03 04 is TLS");
	T_OK(sni_is_tls((const unsigned char *)"\x16\x03\x00", 3) == 0, "SSLv3 is not");
	T_OK(sni_is_tls((const unsigned char *)"\x16\x03\x05", 3) == 0, "16 03 05 is not");
	T_OK(sni_is_tls((const unsigned char *)"\x17\x03\x03", 3) == 0, "app data is not");
	T_OK(sni_is_tls((const unsigned char *)"\x16\x03", 2) == -1, "16 03 needs more");
	T_OK(sni_is_tls((const unsigned char *)"", 0) == -1, "empty needs more");
	T_OK(sni_is_tls((const unsigned char *)"GE", 2) == 0, "GE is not TLS at once");
	T_OK(parse((const unsigned char *)"GET / HTTP/1.1\r\n", 16, host, sizeof(host), &why) ==
		     SNI_NOT_TLS,
	     "plain HTTP is SNI_NOT_TLS");
	T_OK(parse((const unsigned char *)"SSH-2.0-OpenSSH", 15, host, sizeof(host), &why) ==
		     SNI_NOT_TLS,
	     "SSH banner is SNI_NOT_TLS");
	T_OK(parse((const unsigned char *)"\x16\x03\x03\x00\x05\x02\x00\x00\x01\x00", 10, host,
		   sizeof(host), &why) == SNI_BAD,
	     "a ServerHello-typed handshake is SNI_BAD");
}

int
main(void)
{
	test_is_tls();
	test_captured("hello_openssl_sni.bin", SNI_FOUND, "example.com");
	test_captured("hello_openssl_tls12.bin", SNI_FOUND, "github.com");
	test_captured("hello_curl.bin", SNI_FOUND, "api.github.com");
	test_captured("hello_openssl_nosni.bin", SNI_ABSENT, "");
	test_captured("hello_curl_ip.bin", SNI_ABSENT, "");
	test_mutations("hello_curl.bin");
	test_mutations("hello_openssl_tls12.bin");
	test_names();
	test_structure();
	return t_done();
}
