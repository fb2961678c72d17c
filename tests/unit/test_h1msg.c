/*
 * test_h1msg: message framing on an opened stream. A small driver plays the proxy: it
 * buffers stream bytes, parses heads with h1msg_head(), relays body bytes as
 * h1msg_body() counts them and starts the next message when one is done; it writes one
 * event line per message. Each stream is fed whole, split at every byte boundary, and a
 * byte at a time: the events must be the same (pipelining must not depend on how TCP
 * cut the bytes).
 */
#include "proxy/h1msg.h"
#include "util/util.h"

#include <inttypes.h>

#include "t.h"

#define DRV_BUF (64 * 1024)

struct drv {
	enum h1msg_kind kind;
	struct h1msg m;
	const char *heads;	/* response: per message, 'H' = the request was HEAD, 'C' CONNECT */
	size_t nmsg;
	char buf[DRV_BUF];
	size_t have, seen;
	bool in_body, failed, bad_count;
	uint64_t body_bytes;
	char ev[4096];
	size_t evlen;
};

static void
ev(struct drv *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
ev(struct drv *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(d->ev + d->evlen, sizeof(d->ev) - d->evlen, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(d->ev) - d->evlen)
		d->evlen += (size_t)n;
}

static void
drv_next(struct drv *d)
{
	char c = d->heads != NULL && d->nmsg < strlen(d->heads) ? d->heads[d->nmsg] : '-';

	h1msg_init(&d->m, d->kind, c == 'H', c == 'C');
}

static void
drv_init(struct drv *d, enum h1msg_kind kind, const char *heads)
{
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->heads = heads;
	drv_next(d);
}

static const char *body_names[] = { "none", "length", "chunked", "close", "tunnel" };

static void
consume(struct drv *d, size_t n)
{
	memmove(d->buf, d->buf + n, d->have - n);
	d->have -= n;
}

static void
drv_feed(struct drv *d, const char *p, size_t n)
{
	struct h1msg *m = &d->m;

	if (d->failed)
		return;
	memcpy(d->buf + d->have, p, n);
	d->have += n;
	for (;;) {
		bool done = false;
		ssize_t c;

		if (!d->in_body) {
			int r = h1msg_head(m, d->buf, d->have, d->seen);

			if (r == HTTP1_PARTIAL) {
				d->seen = d->have;
				return;
			}
			if (r == HTTP1_BAD) {
				ev(d, "BAD %d %s|", m->err_status, m->err ? m->err : "(null)");
				d->failed = true;
				return;
			}
			if (m->kind == H1MSG_REQUEST)
				ev(d, "%.*s %.*s", (int)m->req.method.len, m->req.method.p,
				   (int)m->req.target.len, m->req.target.p);
			else
				ev(d, "%d", m->resp.status);
			ev(d, " %s%s%s%s%s", body_names[m->body], m->keep_alive ? " ka" : "",
			   m->interim ? " interim" : "", m->expect_continue ? " continue" : "",
			   m->upgrade ? " upgrade" : "");
			consume(d, (size_t)r);
			d->seen = 0;
			d->in_body = true;
			d->body_bytes = 0;
		}
		c = h1msg_body(m, d->buf, d->have, &done);
		if (c < 0) {
			ev(d, " ERR %s|", m->err ? m->err : "(null)");
			d->failed = true;
			return;
		}
		if ((size_t)c > d->have)
			d->bad_count = true;
		d->body_bytes += (uint64_t)c;
		consume(d, (size_t)c);
		if (!done)
			return;
		ev(d, " %" PRIu64 "|", d->body_bytes);
		d->in_body = false;
		d->nmsg++;
		drv_next(d);
	}
}

static void
drv_eof(struct drv *d)
{
	if (d->failed)
		return;
	if (d->in_body)
		ev(d, " EOF %" PRIu64 "|", d->body_bytes);
	else if (d->have > 0)
		ev(d, "EOF in head|");
}

/* Events for <s> fed in pieces: cut at <a> and <b> (0 = whole). */
static void
run(struct drv *d, enum h1msg_kind kind, const char *heads, const char *s, size_t len,
    size_t a, size_t b)
{
	drv_init(d, kind, heads);
	if (a > len)
		a = len;
	if (b < a || b > len)
		b = len;
	drv_feed(d, s, a);
	drv_feed(d, s + a, b - a);
	drv_feed(d, s + b, len - b);
	drv_eof(d);
}

static void
run_bytewise(struct drv *d, enum h1msg_kind kind, const char *heads, const char *s, size_t len)
{
	drv_init(d, kind, heads);
	for (size_t i = 0; i < len; i++)
		drv_feed(d, s + i, 1);
	drv_eof(d);
}

/* The stream's events, whole and split anywhere, must be <want>. */
static void
stream_case(enum h1msg_kind kind, const char *heads, const char *s, const char *want,
	    const char *what)
{
	static struct drv d;
	size_t len = strlen(s), first_bad = SIZE_MAX;
	bool same = true;

	run(&d, kind, heads, s, len, len, len);
	T_STREQ(d.ev, want, "%s: events", what);
	T_OK(!d.bad_count, "%s: body counts within the buffer", what);
	/* Long inputs (the limit tests) are cut at ~600 points spread over them. */
	for (size_t a = 0; a <= len && same; a += len > 600 ? len / 600 + 1 : 1) {
		run(&d, kind, heads, s, len, a, len);
		if (strcmp(d.ev, want) != 0 || d.bad_count) {
			same = false;
			first_bad = a;
		}
	}
	T_OK(same, "%s: same events split at every byte (first differing at %zu)", what,
	     first_bad);
	if (!same)
		printf("#   got:  %s\n", d.ev);
	/* Two cuts on a coarse grid, then a byte at a time. */
	for (size_t a = 1; a < len && same; a += len / 40 + 1)
		for (size_t b = a + 1; b < len && same; b += len / 30 + 1) {
			run(&d, kind, heads, s, len, a, b);
			same = strcmp(d.ev, want) == 0;
		}
	T_OK(same, "%s: same events split at two points", what);
	run_bytewise(&d, kind, heads, s, len);
	T_STREQ(d.ev, want, "%s: same events a byte at a time", what);
}

static void
req_case(const char *s, const char *want, const char *what)
{
	stream_case(H1MSG_REQUEST, NULL, s, want, what);
}

static void
resp_case(const char *heads, const char *s, const char *want, const char *what)
{
	stream_case(H1MSG_RESPONSE, heads, s, want, what);
}

static void
test_requests(void)
{
	req_case("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
		 "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
		 "PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "5;ext=1;q=\"a b\"\r\nhello\r\n1a ; x\r\nabcdefghijklmnopqrstuvwxyz\r\n"
		 "0\r\nX-Trailer: v\r\nChecksum:abc\r\n\r\n"
		 "GET /d HTTP/1.0\r\n\r\n",
		 "GET /a none ka 0|POST /b length ka 5|PUT /c chunked ka 93|GET /d none 0|",
		 "pipelined GET, CL, chunked with extensions and trailers, HTTP/1.0");
	req_case("POST /u HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n"
		 "Connection: close\r\n\r\nabc",
		 "POST /u length continue 3|", "Expect: 100-continue, Connection: close");
	req_case("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
		 "GET /ws none ka upgrade 0|", "Upgrade");
	req_case("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n",
		 "GET / none ka 0|GET / none 0|", "HTTP/1.0 keep-alive only when asked");
	req_case("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
		 "POST / none ka 0|GET / none ka 0|", "Content-Length: 0 is no body");
	req_case("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "0000000000000010\r\n0123456789abcdef\r\n0\r\n\r\n",
		 "POST / chunked ka 41|", "16-digit chunk size");
	req_case("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
		 "POST / length ka EOF 3|", "EOF inside a body is visible");

	/* Smuggling and head shapes: 400. */
	req_case("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		 "BAD 400 both Transfer-Encoding and Content-Length (request smuggling)|", "CL.TE");
	req_case("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
		 "BAD 400 both Transfer-Encoding and Content-Length (request smuggling)|", "TE.CL");
	req_case("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		 "BAD 400 several Content-Length headers that differ|", "differing duplicate CL");
	req_case("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n",
		 "BAD 400 Content-Length is not a decimal number|", "CL list");
	req_case("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		 "BAD 400 Transfer-Encoding other than exactly \"chunked\"|", "TE gzip, chunked");
	req_case("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
		 "BAD 400 Transfer-Encoding other than exactly \"chunked\"|", "two TE headers");
	req_case("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n",
		 "BAD 400 whitespace before ':' in a header|", "TE with space before ':'");
	req_case("POST / HTTP/1.1\r\nHost: x\r\nX: a\r\n Transfer-Encoding: chunked\r\n\r\n",
		 "BAD 400 obs-fold (header line starts with whitespace)|", "obs-fold");
	req_case("GET / HTTP/1.1\nHost: x\r\n\r\n", "BAD 400 bare LF (lines must end in CRLF)|",
		 "bare LF");
	req_case("GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n",
		 "BAD 400 bare CR (CR not followed by LF)|", "bare CR");
	req_case("GET / HTTP/1.1\r\n\r\n", "BAD 400 HTTP/1.1 request without a Host header|",
		 "HTTP/1.1 without Host");
	req_case("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", "BAD 400 several Host headers|",
		 "two Host headers");
	req_case("GET / HTTP/1.1\r\nHost: a\r\nConnection: content-length\r\n\r\n",
		 "BAD 400 Connection nominates host, content-length or transfer-encoding|",
		 "Connection: content-length");
	req_case("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
		 "GET /a none ka 0|BAD 400 both Transfer-Encoding and Content-Length (request smuggling)|",
		 "smuggling in the second pipelined request");
}

static void
chunk_err(const char *body, const char *want_err)
{
	static char s[H1MSG_MAX_TRAILERS + 256];
	char want[256];

	ut_snprintf(s, sizeof(s), "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%s",
		    body);
	ut_snprintf(want, sizeof(want), "POST / chunked ka ERR %s|", want_err);
	req_case(s, want, want_err);
}

static void
test_chunk_errors(void)
{
	static char line[H1MSG_MAX_CHUNK_LINE + 64], tr[H1MSG_MAX_TRAILERS + 64];
	size_t n;

	chunk_err("zz\r\n", "bad chunk size (not a hex number)");
	chunk_err("\r\n", "bad chunk size (not a hex number)");
	chunk_err("-5\r\n", "bad chunk size (not a hex number)");
	chunk_err("0x5\r\n", "bad chunk size (junk after the hex digits)");
	chunk_err("5\nhello", "bad chunk size (junk after the hex digits)");
	chunk_err("5;a\nhello", "bare LF in a chunk-size line");
	chunk_err("5\rhello", "bare CR in a chunk-size line");
	chunk_err("5 \r\n", "whitespace after a chunk size not before ';'");
	chunk_err("5;a\x01\r\n", "control byte in a chunk extension");
	chunk_err("00000000000000001\r\n", "chunk size longer than 16 hex digits");
	chunk_err("ffffffffffffffff\r\n", "request chunk size over 1 TiB");
	chunk_err("10000000001\r\n", "request chunk size over 1 TiB");
	chunk_err("5\r\nhelloX", "missing CRLF after chunk data");
	chunk_err("5\r\nhello\rX", "missing CRLF after chunk data");
	chunk_err("5\r\nhello\n", "missing CRLF after chunk data");
	chunk_err("0\r\n X: y\r\n\r\n", "obs-fold in a trailer");
	chunk_err("0\r\nX : y\r\n\r\n", "whitespace before ':' in a trailer");
	chunk_err("0\r\nX\r\n\r\n", "trailer name is not a token or has no ':'");
	chunk_err("0\r\nX: a\x7f\r\n\r\n", "control byte in a trailer value");
	chunk_err("0\r\nX: a\n\r\n", "bare LF in a trailer");
	chunk_err("0\r\nX: a\rb\r\n", "bare CR in a trailer");
	chunk_err("0\r\n\n", "bare LF in the trailer section");
	chunk_err("0\r\n\rX", "bare CR at the end of the chunked body");
	n = (size_t)ut_snprintf(line, sizeof(line), "1;");
	memset(line + n, 'e', H1MSG_MAX_CHUNK_LINE);
	line[n + H1MSG_MAX_CHUNK_LINE] = '\0';
	chunk_err(line, "chunk-size line longer than 4 KiB");
	n = (size_t)ut_snprintf(tr, sizeof(tr), "0\r\n");
	while (n + 12 < sizeof(tr) - 1)
		n += (size_t)ut_snprintf(tr + n, sizeof(tr) - n, "X-T: abcde\r\n");
	chunk_err(tr, "trailer section larger than 16 KiB");
}

static void
test_responses(void)
{
	resp_case("--", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		  "100 none ka interim 0|200 length ka 2|", "100-continue then 200");
	resp_case("--", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
		  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		  "103 none ka interim 0|200 chunked ka 13|", "103 then chunked 200");
	resp_case("-", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		  "Connection: Upgrade\r\n\r\n\x81\x05hello\x88\x80",
		  "101 tunnel EOF 9|", "101 -> tunnel; later bytes are raw");
	resp_case("H-", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
		  "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nx",
		  "200 none ka 0|404 length ka 1|", "response to HEAD with CL has no body");
	resp_case("H", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		  "200 none ka 0|", "response to HEAD with chunked has no body");
	resp_case("--", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"
		  "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
		  "204 none ka 0|304 none ka 0|", "204 and 304 have no body");
	resp_case("-", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this\r\n\r\n",
		  "200 close EOF 15|", "no framing: close-delimited, no keep-alive");
	resp_case("-", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
		  "200 length 2|", "HTTP/1.0 response: no keep-alive by default");
	resp_case("-", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok",
		  "200 length ka 2|", "HTTP/1.0 response with keep-alive");
	resp_case("-", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
		  "200 length 2|", "Connection: close");
	resp_case("-", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "2\r\nok\r\n0\r\n\r\n",
		  "200 chunked 12|", "chunked wins over CL, connection not reused");
	resp_case("-", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
		  "200 chunked ka 5|", "gzip, chunked: chunked last");
	resp_case("-", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nabc",
		  "200 close EOF 3|", "chunked not last: until close");
	resp_case("-", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabcdef",
		  "200 close EOF 6|", "TE gzip with CL: until close");
	resp_case("-", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
		  "200 length ka 2|", "equal duplicate CL");
	resp_case("-", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
		  "BAD 502 several Content-Length values that differ in the response|",
		  "differing CL: 502");
	resp_case("-", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		  "BAD 502 invalid Content-Length in the response|", "invalid CL: 502");
	resp_case("-", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		  "BAD 502 invalid Content-Length in the response|", "overflowing CL: 502");
	resp_case("-", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
		  "BAD 502 obs-fold (header line starts with whitespace)|", "bad head: 502");
	resp_case("C", "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01",
		  "200 tunnel EOF 3|", "2xx to CONNECT: tunnel");
	resp_case("C", "HTTP/1.1 407 Auth\r\nContent-Length: 1\r\n\r\nx",
		  "407 length ka 1|", "non-2xx to CONNECT: normal body");
	resp_case("---", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
		  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n"
		  "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		  "200 length ka 3|200 chunked ka 23|200 none ka 0|", "pipelined responses");
}

int
main(void)
{
	test_requests();
	test_chunk_errors();
	test_responses();
	return t_done();
}
