/*
 * test_http1_resp: the response-head parser (http1_parse_response). Every input sits
 * flush against a PROT_NONE page, so an over-read crashes; every valid head is cut at
 * every byte (must be HTTP1_PARTIAL) and fed a byte at a time with <seen> (same result).
 */
#include "proxy/http1.h"
#include "util/util.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "t.h"

struct out {
	int r, status, minor;
	char reason[128];
	size_t nh;
	char hdr0[128];	/* "name=value" of the first header */
	const char *err;
	int err_status;
};

static struct out
parse(const char *s, size_t len, size_t seen)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), pages = (len + pg - 1) / pg + 1;
	char *map = mmap(NULL, (pages + 1) * pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct http1_hdr hdrs[HTTP1_MAX_HEADERS + 10];
	struct http1_resp resp;
	struct out o = { 0 };
	char *p;

	if (map == MAP_FAILED || mprotect(map + pages * pg, pg, PROT_NONE) == -1)
		abort();
	p = map + pages * pg - len;
	memcpy(p, s, len);
	o.nh = sizeof(hdrs) / sizeof(hdrs[0]);
	o.r = http1_parse_response(p, len, seen, &resp, hdrs, &o.nh);
	if (o.r >= 0) {
		o.status = resp.status;
		o.minor = resp.minor_version;
		ut_snprintf(o.reason, sizeof(o.reason), "%.*s", (int)resp.reason.len,
			    resp.reason.p);
		if (o.nh > 0)
			ut_snprintf(o.hdr0, sizeof(o.hdr0), "%.*s=%.*s", (int)hdrs[0].name.len,
				    hdrs[0].name.p, (int)hdrs[0].value.len, hdrs[0].value.p);
	} else if (o.r == HTTP1_BAD) {
		o.err = resp.err;
		o.err_status = resp.err_status;
		if (resp.err == NULL || resp.err_off >= len)
			o.err = NULL;	/* the checks below fail on it */
	}
	munmap(map, (pages + 1) * pg);
	return o;
}

static void
ok_case(const char *s, int status, int minor, const char *reason, const char *hdr0)
{
	size_t len = strlen(s);
	struct out o = parse(s, len, 0), b = { 0 };
	bool partial = true, same = true;
	size_t seen = 0;

	T_OK(o.r == (int)len && o.status == status && o.minor == minor,
	     "%.*s: parsed (r=%d status=%d)", (int)strcspn(s, "\r"), s, o.r, o.status);
	T_STREQ(o.reason, reason, "  reason");
	T_STREQ(o.hdr0, hdr0, "  first header");
	for (size_t cut = 0; cut < len; cut++)
		if (parse(s, cut, 0).r != HTTP1_PARTIAL)
			partial = false;
	T_OK(partial, "  every prefix is HTTP1_PARTIAL");
	for (size_t n = 1; n <= len; n++) {
		b = parse(s, n, seen);
		if (n < len && b.r != HTTP1_PARTIAL)
			same = false;
		seen = n;
	}
	T_OK(same && b.r == o.r && b.nh == o.nh && b.status == o.status,
	     "  byte at a time with <seen> gives the same result");
}

static void
bad_case(const char *s, const char *why_part, int err_status)
{
	struct out o = parse(s, strlen(s), 0);

	T_OK(o.r == HTTP1_BAD && o.err != NULL && o.err_status == err_status,
	     "%.*s...: HTTP1_BAD %d", (int)strcspn(s, "\r\n"), s, err_status);
	T_CONTAINS(o.err, why_part, "  reason");
}

int
main(void)
{
	static char big[HTTP1_MAX_HEAD + 64];
	struct out o;
	size_t n;

	ok_case("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 200, 1, "OK",
		"Content-Length=5");
	ok_case("HTTP/1.0 404 Not Found\r\n\r\n", 404, 0, "Not Found", "");
	ok_case("HTTP/1.1 204 \r\nServer:  x  \r\n\r\n", 204, 1, "", "Server=x");
	ok_case("HTTP/1.1 304\r\nETag: \"a\"\r\n\r\n", 304, 1, "", "ETag=\"a\"");
	ok_case("HTTP/1.1 200 D\xc3\xa9j\xc3\xa0 vu\t!\r\n\r\n", 200, 1, "D\xc3\xa9j\xc3\xa0 vu\t!",
		"");
	ok_case("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\n\r\n",
		101, 1, "Switching Protocols", "Upgrade=websocket");
	ok_case("HTTP/1.1 999 Whatever\r\n\r\n", 999, 1, "Whatever", "");

	bad_case("HTTP/2 200 OK\r\n\r\n", "HTTP/1.0 or HTTP/1.1", 502);
	bad_case("HTTP/1.2 200 OK\r\n\r\n", "HTTP/1.0 or HTTP/1.1", 502);
	bad_case("http/1.1 200 OK\r\n\r\n", "HTTP/1.0 or HTTP/1.1", 502);
	bad_case("HTTP/1.1 20 OK\r\n\r\n", "three digits", 502);
	bad_case("HTTP/1.1 2000 OK\r\n\r\n", "junk after the status code", 502);
	bad_case("HTTP/1.1  200 OK\r\n\r\n", "three digits", 502);
	bad_case("HTTP/1.1\t200 OK\r\n\r\n", "SP after the HTTP version", 502);
	bad_case("HTTP/1.1 099 Low\r\n\r\n", "below 100", 502);
	bad_case("HTTP/1.1 200 O\x01K\r\n\r\n", "control byte in the reason", 502);
	bad_case("HTTP/1.1 200 OK\n\r\n", "bare LF", 502);
	bad_case("HTTP/1.1 200 OK\rX\r\n\r\n", "bare CR", 502);
	bad_case("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", "obs-fold", 502);
	bad_case("HTTP/1.1 200 OK\r\nA : b\r\n\r\n", "whitespace before ':'", 502);
	bad_case("HTTP/1.1 200 OK\r\nA@b: c\r\n\r\n", "header name", 502);
	bad_case("HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n", "control byte", 502);
	bad_case("\r\nHTTP/1.1 200 OK\r\n\r\n", "HTTP/1.0 or HTTP/1.1", 502);
	o = parse("<html>", 6, 0);
	T_OK(o.r == HTTP1_BAD, "a body where a head should be is HTTP1_BAD at once");
	o = parse("HTTP/1.1 200 OK\r\n\n", 18, 0);
	T_OK(o.r == HTTP1_BAD, "bare LF in an incomplete head is HTTP1_BAD at once");

	/* Limits: 431 (the caller answers 502 but logs which limit). */
	n = (size_t)ut_snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i <= HTTP1_MAX_HEADERS; i++)
		n += (size_t)ut_snprintf(big + n, sizeof(big) - n, "H%d: v\r\n", i);
	n += (size_t)ut_snprintf(big + n, sizeof(big) - n, "\r\n");
	o = parse(big, n, 0);
	T_OK(o.r == HTTP1_BAD && o.err_status == 431, "101 headers: 431 (%s)", o.err);
	memset(big, 'a', sizeof(big));
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	o = parse(big, HTTP1_MAX_HEAD, 0);
	T_OK(o.r == HTTP1_BAD && o.err_status == 431, "head over 16 KiB: 431 (%s)", o.err);
	o = parse(big, HTTP1_MAX_HEAD - 1, 0);
	T_OK(o.r == HTTP1_PARTIAL, "16 KiB - 1 without the end: still partial");
	memcpy(big + HTTP1_MAX_HEAD - 4, "\r\n\r\n", 4);
	o = parse(big, HTTP1_MAX_HEAD, 0);
	T_OK(o.r == HTTP1_MAX_HEAD, "head of exactly 16 KiB accepted (%d)", o.r);
	return t_done();
}
