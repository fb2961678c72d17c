/*
 * test_http1: the request-head parser and the proxy's target/framing helpers. Every input
 * sits flush against a PROT_NONE page, so a one-byte over-read crashes the test; every
 * valid input is also cut at every byte (must be HTTP1_PARTIAL) and fed a byte at a time
 * with <seen> (must give the same result as one call).
 */
#include "proxy/http1.h"
#include "util/util.h"

#include <sys/mman.h>

#include "t.h"

struct guarded {
	char *map;
	size_t maplen;
	char *p;	/* the data, ending exactly at the guard page */
};

static struct guarded
guard_copy(const char *s, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t data_pages = (len + pg - 1) / pg;
	struct guarded g = { 0 };

	if (data_pages == 0)
		data_pages = 1;
	g.maplen = (data_pages + 1) * pg;
	g.map = mmap(NULL, g.maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g.map == MAP_FAILED) {
		perror("mmap");
		abort();
	}
	if (mprotect(g.map + data_pages * pg, pg, PROT_NONE) == -1) {
		perror("mprotect");
		abort();
	}
	g.p = g.map + data_pages * pg - len;
	memcpy(g.p, s, len);
	return g;
}

static void
guard_free(struct guarded *g)
{
	munmap(g->map, g->maplen);
	g->map = NULL;
}

static int
parse_guarded(const char *s, size_t len, size_t seen, struct http1_req *req,
	      struct http1_hdr *hdrs, size_t *nh)
{
	struct guarded g = guard_copy(s, len);
	int r = http1_parse_request(g.p, len, seen, req, hdrs, nh);

	/* Slices point into the guarded copy: re-point them at <s> before it goes away. */
	if (r >= 0) {
		req->method.p = s + (req->method.p - g.p);
		req->target.p = s + (req->target.p - g.p);
		for (size_t i = 0; i < *nh; i++) {
			hdrs[i].name.p = s + (hdrs[i].name.p - g.p);
			hdrs[i].value.p = s + (hdrs[i].value.p - g.p);
		}
	}
	guard_free(&g);
	return r;
}

static char *
slice_str(struct http1_slice s)
{
	static char buf[4][256];
	static int k;
	char *b = buf[k++ % 4];

	snprintf(b, sizeof(buf[0]), "%.*s", (int)s.len, s.p);
	return b;
}

struct valid_case {
	const char *in;
	size_t head_len;	/* 0: whole input */
	const char *method, *target;
	int minor;
	size_t nh;
	const char *h0name, *h0value;	/* first header, or NULL */
};

static const struct valid_case valid[] = {
	{ "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 0, "CONNECT",
	  "example.com:443", 1, 1, "Host", "example.com:443" },
	{ "GET http://a.test/x?y=1 HTTP/1.0\r\n\r\n", 0, "GET", "http://a.test/x?y=1", 0, 0, NULL,
	  NULL },
	{ "POST /p HTTP/1.1\r\nContent-Length: 3\r\nX-E:\r\n\r\nabc", 45, "POST", "/p", 1, 2,
	  "Content-Length", "3" },
	{ "GET / HTTP/1.1\r\nA:  \t spaced value \t \r\nB: obs\x80text\r\n\r\n", 0, "GET", "/", 1, 2,
	  "A", "spaced value" },
	{ "M-._~!#$%&'*+^`| * HTTP/1.1\r\nx-!#$%&'*+-.^_`|~: v\r\n\r\n", 0, "M-._~!#$%&'*+^`|", "*",
	  1, 1, "x-!#$%&'*+-.^_`|~", "v" },
	{ "CONNECT [::1]:8443 HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n", 31, "CONNECT", "[::1]:8443",
	  1, 0, NULL, NULL },
};

static void
check_valid(const struct valid_case *v)
{
	size_t len = strlen(v->in), head = v->head_len ? v->head_len : len;
	struct http1_req req;
	struct http1_hdr hdrs[8];
	size_t nh = NELEM(hdrs);
	int r = parse_guarded(v->in, len, 0, &req, hdrs, &nh);
	int bad_cut = -1, bad_feed = -1;

	T_OK(r == (int)head, "valid %s: head length %d (want %zu, err %s)", slice_str((struct http1_slice){ v->in, 12 }), r, head, req.err ? req.err : "-");
	if (r < 0)
		return;
	T_STREQ(slice_str(req.method), v->method, "  method");
	T_STREQ(slice_str(req.target), v->target, "  target");
	T_OK(req.minor_version == v->minor && nh == v->nh, "  version 1.%d, %zu headers",
	     req.minor_version, nh);
	if (v->h0name != NULL) {
		T_STREQ(slice_str(hdrs[0].name), v->h0name, "  first header name");
		T_STREQ(slice_str(hdrs[0].value), v->h0value, "  first header value (OWS trimmed)");
	}
	/* Every strict prefix of the head is incomplete, never bad. */
	for (size_t k = 0; k < head && bad_cut == -1; k++) {
		nh = NELEM(hdrs);
		if (parse_guarded(v->in, k, 0, &req, hdrs, &nh) != HTTP1_PARTIAL)
			bad_cut = (int)k;
	}
	T_OK(bad_cut == -1, "  every cut of the head is PARTIAL (first failing cut %d)", bad_cut);
	/* Byte at a time with <seen>: PARTIAL until the head is complete, then the same. */
	for (size_t k = 1; k <= head && bad_feed == -1; k++) {
		nh = NELEM(hdrs);
		r = parse_guarded(v->in, k, k - 1, &req, hdrs, &nh);
		if ((k < head && r != HTTP1_PARTIAL) || (k == head && r != (int)head))
			bad_feed = (int)k;
	}
	T_OK(bad_feed == -1, "  byte-at-a-time feed with seen agrees (first failure at %d)",
	     bad_feed);
}

struct bad_case {
	const char *in;
	const char *why;	/* substring of req.err */
	size_t off;
	int status;
};

static const struct bad_case bad[] = {
	{ "GET / HTTP/1.1\n\n", "bare LF", 14, 400 },
	{ "GET / HTTP/1.1\r\nA: b\n\r\n\r\n", "bare LF", 20, 400 },
	{ "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", "bare CR", 20, 400 },
	{ "GET / HTTP/1.1\r\nA : b\r\n\r\n", "whitespace before ':'", 17, 400 },
	{ "GET / HTTP/1.1\r\nA\t: b\r\n\r\n", "whitespace before ':'", 17, 400 },
	{ "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", "obs-fold", 22, 400 },
	{ "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", "control byte", 20, 400 },
	{ "GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n", "control byte", 20, 400 },
	{ "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", "control byte", 20, 400 },
	{ "GET / HTTP/1.1\r\nA(b: c\r\n\r\n", "not a token", 17, 400 },
	{ "GET / HTTP/1.1\r\n: c\r\n\r\n", "not a token", 16, 400 },
	{ "GET / HTTP/1.1\r\nNoColon\r\n\r\n", "no ':'", 23, 400 },
	{ "GET  / HTTP/1.1\r\n\r\n", "more than one SP", 4, 400 },
	{ "GET /  HTTP/1.1\r\n\r\n", "version", 6, 400 },
	{ "GET\t/ HTTP/1.1\r\n\r\n", "one SP", 3, 400 },
	{ "G(T / HTTP/1.1\r\n\r\n", "one SP", 1, 400 },
	{ "GET /a\x01 HTTP/1.1\r\n\r\n", "request target", 6, 400 },
	{ "GET /\x80 HTTP/1.1\r\n\r\n", "request target", 5, 400 },
	{ "GET /a\x7f HTTP/1.1\r\n\r\n", "request target", 6, 400 },
	{ "GET / HTTP/2.0\r\n\r\n", "version", 11, 400 },
	{ "GET / HTTP/1.2\r\n\r\n", "version", 13, 400 },
	{ "GET / http/1.1\r\n\r\n", "version", 6, 400 },
	{ "GET / HTTP/1.1 \r\n\r\n", "junk after", 14, 400 },
	{ "GET /\r\n\r\n", "no HTTP version", 5, 400 },
	{ "\r\nGET / HTTP/1.1\r\n\r\n", "empty request line", 0, 400 },
	{ "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "method is not a token", 0, 400 },
	{ " GET / HTTP/1.1\r\n\r\n", "method is not a token", 0, 400 },
};

static void
check_bad(const struct bad_case *b, size_t len)
{
	struct http1_req req;
	struct http1_hdr hdrs[8];
	size_t nh = NELEM(hdrs);
	int r = parse_guarded(b->in, len, 0, &req, hdrs, &nh);
	int crash_or_ok = -1;

	T_OK(r == HTTP1_BAD && req.err_status == b->status && req.err_off == b->off,
	     "bad input %zu bytes: BAD %d at byte %zu (want %zu), status %d", len, r, req.err_off,
	     b->off, req.err_status);
	T_CONTAINS(req.err, b->why, "  reason names the problem");
	/* Prefixes never succeed and never crash (the guard page would stop us). */
	for (size_t k = 0; k < len && crash_or_ok == -1; k++) {
		nh = NELEM(hdrs);
		r = parse_guarded(b->in, k, 0, &req, hdrs, &nh);
		if (r != HTTP1_PARTIAL && r != HTTP1_BAD)
			crash_or_ok = (int)k;
	}
	T_OK(crash_or_ok == -1, "  no prefix parses as a complete head (%d)", crash_or_ok);
}

static void
test_limits(void)
{
	static char big[HTTP1_MAX_HEAD + 64];
	struct http1_req req;
	struct http1_hdr hdrs[HTTP1_MAX_HEADERS + 8];
	size_t nh, len;
	int r;

	/* 100 headers pass, 101 is a 431. */
	for (int n = HTTP1_MAX_HEADERS; n <= HTTP1_MAX_HEADERS + 1; n++) {
		len = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
		for (int i = 0; i < n; i++)
			len += (size_t)snprintf(big + len, sizeof(big) - len, "H%d: v\r\n", i);
		len += (size_t)snprintf(big + len, sizeof(big) - len, "\r\n");
		nh = NELEM(hdrs);
		r = parse_guarded(big, len, 0, &req, hdrs, &nh);
		if (n == HTTP1_MAX_HEADERS)
			T_OK(r == (int)len && nh == HTTP1_MAX_HEADERS, "100 headers accepted");
		else
			T_OK(r == HTTP1_BAD && req.err_status == 431, "101 headers: 431 (%s)",
			     req.err ? req.err : "-");
	}
	nh = 2;
	{
		static const char three[] = "GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n";

		r = parse_guarded(three, sizeof(three) - 1, 0, &req, hdrs, &nh);
	}
	T_OK(r == HTTP1_BAD && req.err_status == 431, "caller capacity 2, 3 headers: error");

	/* A head of exactly HTTP1_MAX_HEAD bytes is accepted; one more byte is a 431. */
	for (size_t want = HTTP1_MAX_HEAD; want <= HTTP1_MAX_HEAD + 1; want++) {
		size_t fill;

		len = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: ");
		fill = want - len - 4;
		memset(big + len, 'a', fill);
		len += fill;
		memcpy(big + len, "\r\n\r\n", 4);
		len += 4;
		nh = NELEM(hdrs);
		r = parse_guarded(big, len, 0, &req, hdrs, &nh);
		if (want == HTTP1_MAX_HEAD)
			T_OK(r == (int)len, "head of exactly 16 KiB accepted (%d)", r);
		else
			T_OK(r == HTTP1_BAD && req.err_status == 431, "head of 16 KiB + 1: 431");
	}
	/* No terminator within the limit: 431 as soon as the limit is reached, not before. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	nh = NELEM(hdrs);
	r = parse_guarded(big, HTTP1_MAX_HEAD - 1, 0, &req, hdrs, &nh);
	T_OK(r == HTTP1_PARTIAL, "16 KiB - 1 without terminator: still PARTIAL");
	r = parse_guarded(big, HTTP1_MAX_HEAD, 0, &req, hdrs, &nh);
	T_OK(r == HTTP1_BAD && req.err_status == 431, "16 KiB without terminator: 431");
}

struct auth_case {
	const char *in;
	int ok;
	const char *host;
	unsigned port;
	int v6;
	const char *why;
};

static const struct auth_case auths[] = {
	{ "example.com:443", 1, "example.com", 443, 0, NULL },
	{ "EXAMPLE.com:1", 1, "EXAMPLE.com", 1, 0, NULL },
	{ "10.0.0.1:65535", 1, "10.0.0.1", 65535, 0, NULL },
	{ "[::1]:8443", 1, "::1", 8443, 1, NULL },
	{ "[2001:db8::1]:80", 1, "2001:db8::1", 80, 1, NULL },
	{ "[::ffff:1.2.3.4]:80", 1, "::ffff:1.2.3.4", 80, 1, NULL },
	{ "example.com", 0, NULL, 0, 0, "missing ':port'" },
	{ "example.com:", 0, NULL, 0, 0, "empty port" },
	{ "example.com:0", 0, NULL, 0, 0, "out of range" },
	{ "example.com:65536", 0, NULL, 0, 0, "out of range" },
	{ "example.com:+80", 0, NULL, 0, 0, "not a decimal" },
	{ "example.com:080x", 0, NULL, 0, 0, "not a decimal" },
	{ ":443", 0, NULL, 0, 0, "empty host" },
	{ "", 0, NULL, 0, 0, "empty host" },
	{ "a%2e.com:443", 0, NULL, 0, 0, "invalid byte in host" },
	{ "a/b:443", 0, NULL, 0, 0, "invalid byte in host" },
	{ "a\\b:443", 0, NULL, 0, 0, "invalid byte in host" },
	{ "user@a.com:443", 0, NULL, 0, 0, "invalid byte in host" },
	{ "a_b.com:443", 0, NULL, 0, 0, "invalid byte in host" },
	{ "::1:443", 0, NULL, 0, 0, "in brackets" },
	{ "[::1:443", 0, NULL, 0, 0, "missing ']'" },
	{ "[::1]443", 0, NULL, 0, 0, "junk after ']'" },
	{ "[::1]", 0, NULL, 0, 0, "missing ':port'" },
	{ "[fe80::1%eth0]:443", 0, NULL, 0, 0, "zone ids" },
	{ "[1.2.3.4]:443", 0, NULL, 0, 0, "invalid IPv6" },
	{ "[]:443", 0, NULL, 0, 0, "invalid IPv6" },
};

static void
test_authority(void)
{
	for (size_t i = 0; i < NELEM(auths); i++) {
		const struct auth_case *a = &auths[i];
		size_t len = strlen(a->in);
		struct guarded g = guard_copy(a->in, len);
		struct http1_authority au;
		const char *why = NULL;
		int r = http1_parse_authority(g.p, len, &au, &why);

		if (a->ok) {
			T_OK(r == 0 && au.port == a->port && au.is_ipv6 == a->v6,
			     "authority \"%s\" -> port %u%s", a->in, a->port, a->v6 ? " (v6)" : "");
			T_STREQ(r == 0 ? slice_str(au.host) : why, a->host, "  host");
		} else {
			T_OK(r == -1, "authority \"%s\" refused", a->in);
			T_CONTAINS(why, a->why, "  reason");
		}
		guard_free(&g);
	}
	{	/* NUL inside the host: lengths, not C strings, decide. */
		struct http1_authority au;
		const char *why = NULL;

		T_OK(http1_parse_authority("a\0b.com:443", 11, &au, &why) == -1,
		     "authority with NUL in the host refused");
	}
	{
		char longhost[HTTP1_MAX_HOST + 8];
		struct http1_authority au;
		const char *why = NULL;

		memset(longhost, 'a', HTTP1_MAX_HOST + 1);
		memcpy(longhost + HTTP1_MAX_HOST + 1, ":1", 2);
		T_OK(http1_parse_authority(longhost, HTTP1_MAX_HOST + 3, &au, &why) == -1,
		     "254-byte host refused");
		memcpy(longhost + HTTP1_MAX_HOST, ":1", 2);
		T_OK(http1_parse_authority(longhost, HTTP1_MAX_HOST + 2, &au, &why) == 0,
		     "253-byte host accepted");
	}
}

struct url_case {
	const char *in;
	int ok;
	const char *host;
	unsigned port;
	const char *path, *query, *why;
};

static const struct url_case urls[] = {
	{ "http://a.test/x/y?q=1", 1, "a.test", 80, "/x/y", "?q=1", NULL },
	{ "HTTP://A.test:8080", 1, "A.test", 8080, "/", "", NULL },
	{ "http://a.test?q", 1, "a.test", 80, "/", "?q", NULL },
	{ "http://[::1]:81/p", 1, "::1", 81, "/p", "", NULL },
	{ "http://[::1]/", 1, "::1", 80, "/", "", NULL },
	{ "https://a.test/", 0, NULL, 0, NULL, NULL, "use CONNECT" },
	{ "ftp://a.test/", 0, NULL, 0, NULL, NULL, "must use http" },
	{ "/relative", 0, NULL, 0, NULL, NULL, "not an absolute URL" },
	{ "http://a.test/#frag", 0, NULL, 0, NULL, NULL, "fragment" },
	{ "http://u:p@a.test/", 0, NULL, 0, NULL, NULL, "userinfo" },
	{ "http:///x", 0, NULL, 0, NULL, NULL, "empty host" },
	{ "http://a.test:0/", 0, NULL, 0, NULL, NULL, "out of range" },
	{ "http://a.test:/", 0, NULL, 0, NULL, NULL, "empty port" },
	{ "http://a%2etest/", 0, NULL, 0, NULL, NULL, "invalid byte" },
};

static void
test_absolute(void)
{
	for (size_t i = 0; i < NELEM(urls); i++) {
		const struct url_case *u = &urls[i];
		size_t len = strlen(u->in);
		struct guarded g = guard_copy(u->in, len);
		struct http1_url url;
		const char *why = NULL;
		int r = http1_parse_absolute(g.p, len, &url, &why);

		if (u->ok) {
			T_OK(r == 0 && url.port == u->port, "url %s -> port %u (%s)", u->in, u->port,
			     why ? why : "-");
			if (r == 0) {
				T_STREQ(slice_str(url.host), u->host, "  host");
				T_STREQ(slice_str(url.path), u->path, "  path");
				T_STREQ(slice_str(url.query), u->query, "  query");
			}
		} else {
			T_OK(r == -1, "url %s refused", u->in);
			T_CONTAINS(why, u->why, "  reason");
		}
		guard_free(&g);
	}
}

struct framing_case {
	const char *head;
	int ok;
	enum http1_body_kind kind;
	unsigned long long length;
	const char *why;
};

static const struct framing_case framings[] = {
	{ "GET / HTTP/1.1\r\n\r\n", 1, HTTP1_BODY_NONE, 0, NULL },
	{ "POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n", 1, HTTP1_BODY_LENGTH, 12, NULL },
	{ "POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", 1,
	  HTTP1_BODY_LENGTH, 5, NULL },
	{ "POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n", 1, HTTP1_BODY_LENGTH,
	  18446744073709551615ULL, NULL },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", 1, HTTP1_BODY_CHUNKED, 0, NULL },
	{ "GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n\r\n", 1, HTTP1_BODY_NONE, 0, NULL },
	{ "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 0, 0, 0, "differ" },
	{ "POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n", 0, 0, 0, "overflows" },
	{ "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 0, 0, 0, "not a decimal" },
	{ "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", 0, 0, 0, "not a decimal" },
	{ "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 0, 0, 0, "empty" },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 0, 0, 0,
	  "smuggling" },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 0, 0, 0, "exactly" },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 0, 0, 0, "exactly" },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked,\r\n\r\n", 0, 0, 0, "empty element" },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunkedx\r\n\r\n", 0, 0, 0, "exactly" },
	{ "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
	  0, 0, "exactly" },
	{ "GET / HTTP/1.1\r\nConnection: close, Content-Length\r\n\r\n", 0, 0, 0, "nominates" },
	{ "GET / HTTP/1.1\r\nConnection: host\r\n\r\n", 0, 0, 0, "nominates" },
	{ "GET / HTTP/1.1\r\nConnection: transfer-encoding\r\n\r\n", 0, 0, 0, "nominates" },
	{ "GET / HTTP/1.1\r\nConnection: close,,x\r\n\r\n", 0, 0, 0, "empty Connection token" },
	{ "GET / HTTP/1.1\r\nConnection: a b\r\n\r\n", 0, 0, 0, "not a token" },
	{ "CONNECT a.test:443 HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 0, 0, 0, "CONNECT with" },
};

static void
test_framing(void)
{
	for (size_t i = 0; i < NELEM(framings); i++) {
		const struct framing_case *f = &framings[i];
		struct http1_req req;
		struct http1_hdr hdrs[8];
		size_t nh = NELEM(hdrs), len = strlen(f->head);
		struct http1_framing fr;
		const char *why = NULL;
		int r = http1_parse_request(f->head, len, 0, &req, hdrs, &nh);

		if (r != (int)len) {
			T_OK(0, "framing case %zu: head did not parse (%s)", i, req.err);
			continue;
		}
		r = http1_body_framing(&req, hdrs, nh, &fr, &why);
		if (f->ok)
			T_OK(r == 0 && fr.kind == f->kind && fr.length == f->length,
			     "framing case %zu: kind %d length %llu (%s)", i, f->kind, f->length,
			     why ? why : "-");
		else
			T_OK(r == -1 && why && strstr(why, f->why), "framing case %zu refused: %s", i,
			     why ? why : "(accepted)");
	}
	{
		struct http1_req req;
		struct http1_hdr hdrs[4];
		size_t nh = NELEM(hdrs);
		struct http1_framing fr;
		const char *why;
		const char *h = "GET / HTTP/1.1\r\nConnection: Close\r\nHOST: x\r\n\r\n";

		http1_parse_request(h, strlen(h), 0, &req, hdrs, &nh);
		T_OK(http1_body_framing(&req, hdrs, nh, &fr, &why) == 0 && fr.conn_close &&
			     !fr.conn_keep_alive,
		     "Connection: Close sets conn_close");
		T_OK(http1_find_header(hdrs, nh, "host") == &hdrs[1] &&
			     http1_find_header(hdrs, nh, "via") == NULL,
		     "find_header is case-insensitive and NULL when absent");
	}
}

int
main(void)
{
	for (size_t i = 0; i < NELEM(valid); i++)
		check_valid(&valid[i]);
	for (size_t i = 0; i < NELEM(bad); i++)
		check_bad(&bad[i], i == 8 ? 26 : strlen(bad[i].in));
	test_limits();
	test_authority();
	test_absolute();
	test_framing();
	return t_done();
}
