/*
 * http1.c: see http1.h. Two passes keep re-parsing cheap: a scan of only the new bytes
 * for the terminating empty line (and for a bare LF, which can never become valid), and
 * one full, strict parse of the head once it is complete. The full parse therefore runs
 * at most once per request however the bytes arrive.
 *
 * Every byte is read through at(), which answers -1 past the parse limit, so no path can
 * read beyond the caller's <len> (the tests put each input against a PROT_NONE page).
 */
#include "proxy/http1.h"

#include <arpa/inet.h>
#include <string.h>

/* Internal: the parse ran off its limit without an error (needs more bytes). */
#define HTTP1_TRUNC (-3)

struct cur {
	const char *buf;
	size_t lim;
	struct http1_req *req;		/* error sink (a scratch one for responses) */
	struct http1_resp *resp;	/* non-NULL: the head is a response */
};

static int
at(const struct cur *c, size_t i)
{
	return i < c->lim ? (unsigned char)c->buf[i] : -1;
}

bool
http1_is_tchar(int c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c > 0 && c < 0x80 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* request-target bytes: visible ASCII only (no CTL, SP, DEL, >= 0x80). */
static bool
is_target_char(int c)
{
	return c > 0x20 && c < 0x7f;
}

bool
http1_is_value_char(int c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

bool
http1_is_ows(int c)
{
	return c == ' ' || c == '\t';
}

/* Records the first error; a "failure" at the limit only means the bytes ran out. */
static int
fail(const struct cur *c, size_t off, const char *why, int status)
{
	if (off >= c->lim)
		return HTTP1_TRUNC;
	c->req->err_off = off;
	c->req->err = why;
	c->req->err_status = status;
	return HTTP1_BAD;
}

/* The byte at <off> should have started a CRLF: say why it does not. */
static int
fail_line_end(const struct cur *c, size_t off, const char *what)
{
	if (at(c, off) == '\n')
		return fail(c, off, "bare LF (lines must end in CRLF)", 400);
	if (at(c, off) == '\r' && at(c, off + 1) == -1)
		return HTTP1_TRUNC;
	if (at(c, off) == '\r' && at(c, off + 1) != '\n')
		return fail(c, off, "bare CR (CR not followed by LF)", 400);
	return fail(c, off, what, 400);
}

static bool
at_crlf(const struct cur *c, size_t off)
{
	return at(c, off) == '\r' && at(c, off + 1) == '\n';
}

/* "METHOD SP target SP HTTP/1.x CRLF"; *<pos> = first byte after the CRLF. */
static int
parse_request_line(const struct cur *c, size_t *pos)
{
	struct http1_req *req = c->req;
	static const char version[] = "HTTP/1.";
	size_t i = 0, start;

	while (http1_is_tchar(at(c, i)))
		i++;
	if (i == 0)
		return at(c, 0) == '\r' || at(c, 0) == '\n'
			       ? fail(c, 0, "empty request line", 400)
			       : fail(c, 0, "method is not a token", 400);
	if (at(c, i) != ' ')
		return fail(c, i, "method is not a token or not followed by one SP", 400);
	req->method = (struct http1_slice){ c->buf, i };
	start = ++i;
	while (is_target_char(at(c, i)))
		i++;
	if (i == start)
		return fail(c, i,
			    at(c, i) == ' ' ? "more than one SP after the method"
					    : "empty or invalid request target",
			    400);
	if (at(c, i) != ' ')
		return at(c, i) == '\r' || at(c, i) == '\n'
			       ? fail(c, i, "request line has no HTTP version", 400)
			       : fail(c, i, "control, space or non-ASCII byte in the request target",
				      400);
	req->target = (struct http1_slice){ c->buf + start, i - start };
	start = ++i;
	for (size_t k = 0; k < sizeof(version) - 1; k++)
		if (at(c, start + k) != version[k])
			return fail(c, start + k, "version is not HTTP/1.0 or HTTP/1.1", 400);
	i = start + sizeof(version) - 1;
	if (at(c, i) != '0' && at(c, i) != '1')
		return fail(c, i, "version is not HTTP/1.0 or HTTP/1.1", 400);
	req->minor_version = at(c, i) - '0';
	i++;
	if (!at_crlf(c, i))
		return fail_line_end(c, i, "junk after the HTTP version");
	*pos = i + 2;
	return 0;
}

/*
 * "HTTP/1.x SP 3DIGIT SP reason CRLF"; *<pos> = first byte after the CRLF. The SP before
 * an empty reason may be missing: RFC 9112 §4 tells clients to ignore the reason, and
 * servers that omit both are common enough that refusing them would only break sites.
 */
static int
parse_status_line(const struct cur *c, size_t *pos)
{
	struct http1_resp *resp = c->resp;
	static const char version[] = "HTTP/1.";
	size_t i, start;

	for (size_t k = 0; k < sizeof(version) - 1; k++)
		if (at(c, k) != version[k])
			return fail(c, k, "status line does not start with HTTP/1.0 or HTTP/1.1",
				    400);
	i = sizeof(version) - 1;
	if (at(c, i) != '0' && at(c, i) != '1')
		return fail(c, i, "version is not HTTP/1.0 or HTTP/1.1", 400);
	resp->minor_version = at(c, i) - '0';
	i++;
	if (at(c, i) != ' ')
		return fail(c, i, "no single SP after the HTTP version", 400);
	i++;
	resp->status = 0;
	for (start = i; i < start + 3; i++) {
		int d = at(c, i);

		if (d < '0' || d > '9')
			return fail(c, i, "status code is not three digits", 400);
		resp->status = resp->status * 10 + (d - '0');
	}
	if (resp->status < 100)
		return fail(c, start, "status code below 100", 400);
	if (at_crlf(c, i)) {
		resp->reason = (struct http1_slice){ c->buf + i, 0 };
		*pos = i + 2;
		return 0;
	}
	if (at(c, i) != ' ')
		return fail_line_end(c, i, "junk after the status code");
	start = ++i;
	while (http1_is_value_char(at(c, i)))
		i++;
	if (!at_crlf(c, i))
		return fail_line_end(c, i, "control byte in the reason phrase");
	resp->reason = (struct http1_slice){ c->buf + start, i - start };
	*pos = i + 2;
	return 0;
}

/* One "name: value CRLF" line at *<pos> into <h>; advances *<pos>. */
static int
parse_header_line(const struct cur *c, size_t *pos, struct http1_hdr *h)
{
	size_t i = *pos, start = i, vstart, vend;

	if (http1_is_ows(at(c, i)))
		return fail(c, i, "obs-fold (header line starts with whitespace)", 400);
	while (http1_is_tchar(at(c, i)))
		i++;
	if (i == start)
		return fail_line_end(c, i, "header name is not a token");
	if (at(c, i) != ':') {
		if (http1_is_ows(at(c, i)))
			return fail(c, i, "whitespace before ':' in a header", 400);
		return fail_line_end(c, i, "header name is not a token or has no ':'");
	}
	h->name = (struct http1_slice){ c->buf + start, i - start };
	i++;
	while (http1_is_ows(at(c, i)))
		i++;
	vstart = i;
	while (http1_is_value_char(at(c, i)))
		i++;
	if (!at_crlf(c, i))
		return fail_line_end(c, i, "control byte in a header value");
	for (vend = i; vend > vstart && http1_is_ows(at(c, vend - 1)); vend--)
		;
	h->value = (struct http1_slice){ c->buf + vstart, vend - vstart };
	*pos = i + 2;
	return 0;
}

/* The strict parse of the head in [0..c->lim); HTTP1_TRUNC when the bytes run out. */
static int
parse_head(const struct cur *c, struct http1_hdr *hdrs, size_t *nhdrs)
{
	size_t cap = *nhdrs < HTTP1_MAX_HEADERS ? *nhdrs : HTTP1_MAX_HEADERS;
	size_t pos = 0, n = 0;
	int r;

	r = c->resp != NULL ? parse_status_line(c, &pos) : parse_request_line(c, &pos);
	if (r != 0)
		return r;
	for (;;) {
		if (at(c, pos) == -1)
			return HTTP1_TRUNC;
		if (at_crlf(c, pos))
			break;
		if (n == cap)
			return fail(c, pos, "too many header fields", 431);
		r = parse_header_line(c, &pos, &hdrs[n]);
		if (r != 0)
			return r;
		n++;
	}
	if (pos + 2 > HTTP1_MAX_HEAD)
		return fail(c, 0, c->resp != NULL ? "response head larger than 16 KiB"
						  : "request head larger than 16 KiB",
			    431);
	*nhdrs = n;
	return (int)(pos + 2);
}

/*
 * Scans <buf>[from..lim) for the end of the head. Returns its length when a CRLF CRLF
 * ends there, -1 when a bare LF makes the head invalid whatever follows, 0 otherwise.
 */
static long
scan_for_end(const char *buf, size_t from, size_t lim)
{
	for (size_t i = from; i < lim; i++) {
		if (buf[i] != '\n')
			continue;
		if (i == 0 || buf[i - 1] != '\r')
			return -1;
		if (i >= 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return (long)i + 1;
	}
	return 0;
}

int
http1_parse_request(const char *buf, size_t len, size_t seen, struct http1_req *req,
		    struct http1_hdr *hdrs, size_t *nhdrs)
{
	size_t scan_lim = len < HTTP1_MAX_HEAD ? len : HTTP1_MAX_HEAD;
	struct cur c = { buf, len, req, NULL };
	long end;
	int r;

	req->err = NULL;
	req->err_off = 0;
	req->err_status = 0;
	if (seen > scan_lim)
		seen = scan_lim;
	/* Back up 3 bytes: the terminator may straddle the old and the new bytes. */
	end = scan_for_end(buf, seen >= 3 ? seen - 3 : 0, scan_lim);
	if (end == 0 && seen == 0 && len > 0 && !http1_is_tchar(at(&c, 0)))
		end = -1;	/* not a request at all (a TLS hello, a stray CRLF): say so now */
	if (end == 0) {
		if (len >= HTTP1_MAX_HEAD)
			return fail(&c, HTTP1_MAX_HEAD - 1, "request head larger than 16 KiB", 431);
		return HTTP1_PARTIAL;
	}
	if (end > 0)
		c.lim = (size_t)end;
	else
		c.lim = scan_lim;
	r = parse_head(&c, hdrs, nhdrs);
	if (r == HTTP1_TRUNC)	/* the head scanned as complete or invalid; cannot happen */
		return len >= HTTP1_MAX_HEAD
			       ? fail(&c, HTTP1_MAX_HEAD - 1, "request head larger than 16 KiB", 431)
			       : HTTP1_PARTIAL;
	return r;
}

/* Copies the scratch request's error into <resp>; a bad response is a 502 to our client. */
static int
resp_result(int r, const struct http1_req *scratch, struct http1_resp *resp)
{
	if (r == HTTP1_BAD) {
		resp->err_off = scratch->err_off;
		resp->err = scratch->err;
		resp->err_status = scratch->err_status == 431 ? 431 : 502;
	}
	return r;
}

int
http1_parse_response(const char *buf, size_t len, size_t seen, struct http1_resp *resp,
		     struct http1_hdr *hdrs, size_t *nhdrs)
{
	size_t scan_lim = len < HTTP1_MAX_HEAD ? len : HTTP1_MAX_HEAD;
	struct http1_req scratch = { 0 };
	struct cur c = { buf, len, &scratch, resp };
	long end;
	int r;

	resp->err = NULL;
	resp->err_off = 0;
	resp->err_status = 0;
	if (seen > scan_lim)
		seen = scan_lim;
	end = scan_for_end(buf, seen >= 3 ? seen - 3 : 0, scan_lim);
	if (end == 0 && seen == 0 && len > 0 && buf[0] != 'H')
		end = -1;	/* not a response at all: say so now */
	if (end == 0) {
		if (len >= HTTP1_MAX_HEAD)
			return resp_result(fail(&c, HTTP1_MAX_HEAD - 1,
						"response head larger than 16 KiB", 431),
					   &scratch, resp);
		return HTTP1_PARTIAL;
	}
	c.lim = end > 0 ? (size_t)end : scan_lim;
	r = parse_head(&c, hdrs, nhdrs);
	if (r == HTTP1_TRUNC)	/* the head scanned as complete or invalid; cannot happen */
		return len >= HTTP1_MAX_HEAD
			       ? resp_result(fail(&c, HTTP1_MAX_HEAD - 1,
						  "response head larger than 16 KiB", 431),
					     &scratch, resp)
			       : HTTP1_PARTIAL;
	return resp_result(r, &scratch, resp);
}

bool
http1_slice_eq(struct http1_slice s, const char *lit)
{
	return strlen(lit) == s.len && memcmp(s.p, lit, s.len) == 0;
}

static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool
mem_caseeq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return false;
	return true;
}

bool
http1_slice_caseeq(struct http1_slice s, const char *lit)
{
	return mem_caseeq(s.p, s.len, lit, strlen(lit));
}

const struct http1_hdr *
http1_find_header(const struct http1_hdr *hdrs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (http1_slice_caseeq(hdrs[i].name, name))
			return &hdrs[i];
	return NULL;
}

/* Decimal port 1..65535: 1 to 5 digits, nothing else. */
static int
parse_port(const char *s, size_t len, uint16_t *port, const char **why)
{
	unsigned long v = 0;

	if (len == 0) {
		*why = "empty port";
		return -1;
	}
	if (len > 5) {
		*why = "port out of range 1..65535";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*why = "port is not a decimal number";
			return -1;
		}
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535) {
		*why = "port out of range 1..65535";
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

static bool
is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.';
}

/* A bracket-less IPv6 literal inside [..]: hex, ':' and '.' (v4 suffix), inet_pton-valid. */
static int
check_ipv6(const char *s, size_t len, const char **why)
{
	char tmp[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (len == 0 || len >= sizeof(tmp)) {
		*why = "invalid IPv6 literal";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		      (ch >= 'A' && ch <= 'F') || ch == ':' || ch == '.')) {
			*why = "invalid byte in an IPv6 literal (zone ids are refused)";
			return -1;
		}
	}
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET6, tmp, &a) != 1) {
		*why = "invalid IPv6 literal";
		return -1;
	}
	return 0;
}

static int
check_hostname(const char *s, size_t len, const char **why)
{
	if (len == 0) {
		*why = "empty host";
		return -1;
	}
	if (len > HTTP1_MAX_HOST) {
		*why = "host name longer than 253 bytes";
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if (!is_host_char(s[i])) {
			*why = s[i] == ':' ? "IPv6 literal must be in brackets"
					   : "invalid byte in host (allowed: letters, digits, '-', '.')";
			return -1;
		}
	return 0;
}

/*
 * "host[:port]" or "[v6][:port]" in <s>[0..<len>). <default_port> 0 means the port is
 * required.
 */
static int
parse_hostport(const char *s, size_t len, uint16_t default_port, struct http1_slice *host,
	       uint16_t *port, bool *is_ipv6, const char **why)
{
	const char *colon;
	size_t hlen;

	*is_ipv6 = false;
	if (len == 0) {
		*why = "empty host";
		return -1;
	}
	if (s[0] == '[') {
		const char *rb = memchr(s, ']', len);

		if (rb == NULL) {
			*why = "missing ']' after an IPv6 literal";
			return -1;
		}
		hlen = (size_t)(rb - s) - 1;
		if (check_ipv6(s + 1, hlen, why) == -1)
			return -1;
		*host = (struct http1_slice){ s + 1, hlen };
		*is_ipv6 = true;
		colon = rb + 1 < s + len ? rb + 1 : NULL;
		if (colon != NULL && *colon != ':') {
			*why = "junk after ']' (expected ':port')";
			return -1;
		}
	} else {
		colon = memchr(s, ':', len);
		hlen = colon != NULL ? (size_t)(colon - s) : len;
		if (colon != NULL && memchr(colon + 1, ':', len - hlen - 1) != NULL) {
			*why = "IPv6 literal must be in brackets";
			return -1;
		}
		if (check_hostname(s, hlen, why) == -1)
			return -1;
		*host = (struct http1_slice){ s, hlen };
	}
	if (colon == NULL) {
		if (default_port == 0) {
			*why = "missing ':port'";
			return -1;
		}
		*port = default_port;
		return 0;
	}
	return parse_port(colon + 1, (size_t)(s + len - colon - 1), port, why);
}

int
http1_parse_authority(const char *s, size_t len, struct http1_authority *out, const char **why)
{
	return parse_hostport(s, len, 0, &out->host, &out->port, &out->is_ipv6, why);
}

int
http1_parse_absolute(const char *s, size_t len, struct http1_url *out, const char **why)
{
	static const char slash[] = "/";
	const char *sep = len >= 3 ? memmem(s, len, "://", 3) : NULL;
	size_t scheme_len, i, auth_start;

	if (sep == NULL) {
		*why = "target is not an absolute URL (expected http://host/path)";
		return -1;
	}
	scheme_len = (size_t)(sep - s);
	if (mem_caseeq(s, scheme_len, "https", 5)) {
		*why = "use CONNECT for https URLs";
		return -1;
	}
	if (!mem_caseeq(s, scheme_len, "http", 4)) {
		*why = "forward proxy requests must use http";
		return -1;
	}
	for (i = 0; i < len; i++)
		if (!is_target_char((unsigned char)s[i]) || s[i] == '#') {
			*why = s[i] == '#' ? "fragment ('#') in a request target"
					   : "control, space or non-ASCII byte in the URL";
			return -1;
		}
	auth_start = scheme_len + 3;
	for (i = auth_start; i < len && s[i] != '/' && s[i] != '?'; i++)
		if (s[i] == '@') {
			*why = "userinfo ('user@') in a proxy URL is refused";
			return -1;
		}
	if (parse_hostport(s + auth_start, i - auth_start, 80, &out->host, &out->port,
			   &out->is_ipv6, why) == -1)
		return -1;
	if (i < len && s[i] == '/') {
		const char *q = memchr(s + i, '?', len - i);
		size_t plen = q != NULL ? (size_t)(q - (s + i)) : len - i;

		out->path = (struct http1_slice){ s + i, plen };
		i += plen;
	} else {
		out->path = (struct http1_slice){ slash, 1 };
	}
	out->query = (struct http1_slice){ s + i, len - i };
	return 0;
}

/* Calls <fn> for each comma-separated element of <v>, OWS-trimmed; stops on -1. */
static int
for_each_element(struct http1_slice v, int (*fn)(struct http1_slice, void *), void *arg)
{
	size_t i = 0;

	for (;;) {
		size_t start = i, end;

		while (i < v.len && v.p[i] != ',')
			i++;
		end = i;
		while (start < end && http1_is_ows((unsigned char)v.p[start]))
			start++;
		while (end > start && http1_is_ows((unsigned char)v.p[end - 1]))
			end--;
		if (fn((struct http1_slice){ v.p + start, end - start }, arg) == -1)
			return -1;
		if (i == v.len)
			return 0;
		i++;	/* past ',' */
	}
}

struct framing_ctx {
	struct http1_framing *out;
	const char *why;
	int te_elems;
	bool te_chunked;
};

static int
on_te_element(struct http1_slice e, void *arg)
{
	struct framing_ctx *f = arg;

	if (e.len == 0) {
		f->why = "empty element in Transfer-Encoding";
		return -1;
	}
	f->te_elems++;
	if (f->te_elems > 1 || !http1_slice_caseeq(e, "chunked")) {
		f->why = "Transfer-Encoding other than exactly \"chunked\"";
		return -1;
	}
	f->te_chunked = true;
	return 0;
}

static int
on_connection_token(struct http1_slice e, void *arg)
{
	struct framing_ctx *f = arg;

	if (e.len == 0) {
		f->why = "empty Connection token";
		return -1;
	}
	for (size_t i = 0; i < e.len; i++)
		if (!http1_is_tchar((unsigned char)e.p[i])) {
			f->why = "Connection token is not a token";
			return -1;
		}
	/* Hop-by-hop removal of these would change the request's framing or target. */
	if (http1_slice_caseeq(e, "host") || http1_slice_caseeq(e, "content-length") ||
	    http1_slice_caseeq(e, "transfer-encoding")) {
		f->why = "Connection nominates host, content-length or transfer-encoding";
		return -1;
	}
	if (http1_slice_caseeq(e, "close"))
		f->out->conn_close = true;
	else if (http1_slice_caseeq(e, "keep-alive"))
		f->out->conn_keep_alive = true;
	return 0;
}

static int
parse_content_length(struct http1_slice v, uint64_t *out, const char **why)
{
	uint64_t n = 0;

	if (v.len == 0) {
		*why = "empty Content-Length";
		return -1;
	}
	for (size_t i = 0; i < v.len; i++) {
		unsigned d = (unsigned char)v.p[i] - '0';

		if (d > 9) {
			*why = "Content-Length is not a decimal number";
			return -1;
		}
		if (n > (UINT64_MAX - d) / 10) {
			*why = "Content-Length overflows";
			return -1;
		}
		n = n * 10 + d;
	}
	*out = n;
	return 0;
}

int
http1_body_framing(const struct http1_req *req, const struct http1_hdr *hdrs, size_t n,
		   struct http1_framing *out, const char **why)
{
	struct framing_ctx f = { .out = out };
	bool have_cl = false, have_te = false;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const struct http1_hdr *h = &hdrs[i];

		if (http1_slice_caseeq(h->name, "content-length")) {
			uint64_t v;

			if (parse_content_length(h->value, &v, why) == -1)
				return -1;
			if (have_cl && v != out->length) {
				*why = "several Content-Length headers that differ";
				return -1;
			}
			have_cl = true;
			out->length = v;
		} else if (http1_slice_caseeq(h->name, "transfer-encoding")) {
			have_te = true;
			if (for_each_element(h->value, on_te_element, &f) == -1)
				goto err_element;
		} else if (http1_slice_caseeq(h->name, "connection")) {
			if (for_each_element(h->value, on_connection_token, &f) == -1)
				goto err_element;
		}
	}
	if (have_te && have_cl) {
		*why = "both Transfer-Encoding and Content-Length (request smuggling)";
		return -1;
	}
	out->kind = have_te ? HTTP1_BODY_CHUNKED : have_cl ? HTTP1_BODY_LENGTH : HTTP1_BODY_NONE;
	if (out->kind != HTTP1_BODY_NONE && http1_slice_eq(req->method, "CONNECT")) {
		*why = "CONNECT with a request body";
		return -1;
	}
	return 0;

err_element:
	*why = f.why;
	return -1;
}
