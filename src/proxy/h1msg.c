/*
 * h1msg.c: see h1msg.h. Heads go through the strict parsers of http1.c; the framing
 * decision for requests is http1_body_framing() (which refuses the smuggling shapes), for
 * responses the RFC 9112 §6.3 order below. The chunked decoder is a byte-wise state
 * machine kept in struct h1msg, so a body may arrive split at any byte and the answer is
 * the same as for the whole; only chunk data is skipped in bulk.
 */
#include "proxy/h1msg.h"

#include <string.h>

#include "util/util.h"

enum ck_state {
	CK_SIZE = 0,	/* first hex digit of a chunk-size line */
	CK_SIZE_MORE,	/* further hex digits */
	CK_SIZE_BWS,	/* whitespace after the size: only before ';' */
	CK_EXT,		/* chunk extensions up to CR */
	CK_SIZE_LF,	/* CR of the size line seen */
	CK_DATA,	/* ck_left data bytes */
	CK_DATA_CR,	/* CRLF after the data */
	CK_DATA_LF,
	CK_TRAILER,	/* start of a trailer line, or the final CRLF */
	CK_TRAILER_NAME,
	CK_TRAILER_VALUE,
	CK_TRAILER_LF,
	CK_FINAL_LF,
	CK_DONE,
};

/* Hex digits of a chunk size: 16 fill a uint64, so no overflow check is needed. */
#define CK_MAX_DIGITS 16

void
h1msg_init(struct h1msg *m, enum h1msg_kind kind, bool req_head, bool req_connect)
{
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->req_head = req_head;
	m->req_connect = req_connect;
	m->ck_state = CK_SIZE;
}

void
h1msg_init_chunked(struct h1msg *m, enum h1msg_kind kind)
{
	h1msg_init(m, kind, false, false);
	m->body = H1MSG_BODY_CHUNKED;
}

static int
head_bad(struct h1msg *m, const char *why, int status)
{
	m->err = why;
	m->err_status = status;
	return HTTP1_BAD;
}

/* Connection tokens of a message; lenient (a response is not ours to refuse for these). */
struct conn_opts {
	bool close, keep_alive;
};

/* Next comma-separated element of <v> from *<i>, OWS trimmed; false at the end. */
static bool
next_element(struct http1_slice v, size_t *i, struct http1_slice *e)
{
	size_t start, end;

	if (*i > v.len)
		return false;
	start = *i;
	while (*i < v.len && v.p[*i] != ',')
		(*i)++;
	end = *i;
	(*i)++;	/* past ',' (or past the end: the next call stops) */
	while (start < end && http1_is_ows((unsigned char)v.p[start]))
		start++;
	while (end > start && http1_is_ows((unsigned char)v.p[end - 1]))
		end--;
	*e = (struct http1_slice){ v.p + start, end - start };
	return true;
}

static struct conn_opts
connection_opts(const struct h1msg *m)
{
	struct conn_opts o = { false, false };

	for (size_t k = 0; k < m->nhdrs; k++) {
		struct http1_slice e;
		size_t i = 0;

		if (!http1_slice_caseeq(m->hdrs[k].name, "connection"))
			continue;
		while (next_element(m->hdrs[k].value, &i, &e)) {
			if (http1_slice_caseeq(e, "close"))
				o.close = true;
			else if (http1_slice_caseeq(e, "keep-alive"))
				o.keep_alive = true;
		}
	}
	return o;
}

static bool
keep_alive_for(int minor_version, struct conn_opts o)
{
	return minor_version == 1 ? !o.close : o.keep_alive && !o.close;
}

static int
request_head(struct h1msg *m, const char *buf, size_t len, size_t seen)
{
	size_t n = HTTP1_MAX_HEADERS, hosts = 0;
	struct http1_framing fr;
	const struct http1_hdr *h;
	const char *why = NULL;
	int r;

	r = http1_parse_request(buf, len, seen, &m->req, m->hdrs, &n);
	if (r == HTTP1_BAD)
		return head_bad(m, m->req.err, m->req.err_status);
	if (r < 0)
		return r;
	m->nhdrs = n;
	if (http1_body_framing(&m->req, m->hdrs, n, &fr, &why) == -1)
		return head_bad(m, why, 400);
	for (size_t i = 0; i < n; i++)
		if (http1_slice_caseeq(m->hdrs[i].name, "host"))
			hosts++;
	/* RFC 9112 §3.2: exactly one Host in HTTP/1.1; two could name two authorities. */
	if (hosts > 1)
		return head_bad(m, "several Host headers", 400);
	if (hosts == 0 && m->req.minor_version == 1)
		return head_bad(m, "HTTP/1.1 request without a Host header", 400);
	m->body = fr.kind == HTTP1_BODY_CHUNKED				 ? H1MSG_BODY_CHUNKED
		  : fr.kind == HTTP1_BODY_LENGTH && fr.length > 0 ? H1MSG_BODY_LENGTH
								  : H1MSG_BODY_NONE;
	m->length = m->body == H1MSG_BODY_LENGTH ? fr.length : 0;
	m->keep_alive = keep_alive_for(m->req.minor_version,
				       (struct conn_opts){ fr.conn_close, fr.conn_keep_alive });
	h = http1_find_header(m->hdrs, n, "expect");
	m->expect_continue = h != NULL && http1_slice_caseeq(h->value, "100-continue");
	m->upgrade = http1_find_header(m->hdrs, n, "upgrade") != NULL;
	return r;
}

static bool
parse_u64(struct http1_slice v, uint64_t *out)
{
	uint64_t n = 0;

	if (v.len == 0)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		unsigned d = (unsigned)((unsigned char)v.p[i] - '0');

		if (d > 9 || n > (UINT64_MAX - d) / 10)
			return false;
		n = n * 10 + d;
	}
	*out = n;
	return true;
}

/*
 * Transfer-Encoding and Content-Length of a response: *<te> = TE present, *<chunked_last>
 * = its last coding is chunked, *<cl> = Content-Length present (*<length>). All headers
 * are looked at; an invalid or inconsistent Content-Length sets *<why> (it matters only
 * when no TE overrides it).
 */
static void
response_lengths(const struct h1msg *m, bool *te, bool *chunked_last, bool *cl,
		 uint64_t *length, const char **why)
{
	*te = *chunked_last = *cl = false;
	*length = 0;
	for (size_t k = 0; k < m->nhdrs; k++) {
		const struct http1_hdr *h = &m->hdrs[k];
		struct http1_slice e;
		size_t i = 0;
		uint64_t v = 0;

		if (http1_slice_caseeq(h->name, "transfer-encoding")) {
			*te = true;
			while (next_element(h->value, &i, &e))
				if (e.len > 0)	/* "chunked, " ends in chunked too */
					*chunked_last = http1_slice_caseeq(e, "chunked");
		} else if (http1_slice_caseeq(h->name, "content-length")) {
			if (!parse_u64(h->value, &v))
				*why = "invalid Content-Length in the response";
			else if (*cl && v != *length)
				*why = "several Content-Length values that differ in the response";
			*cl = true;
			*length = v;
		}
	}
}

/* RFC 9112 §6.3, in its order. */
static int
response_framing(struct h1msg *m)
{
	int status = m->resp.status;
	bool te, chunked_last, cl;
	uint64_t length;
	const char *why = NULL;

	m->keep_alive = keep_alive_for(m->resp.minor_version, connection_opts(m));
	if (status == 101) {
		m->body = H1MSG_BODY_TUNNEL;
		m->keep_alive = false;
		return 0;
	}
	if (status < 200) {
		m->interim = true;	/* the final response follows on the same stream */
		m->body = H1MSG_BODY_NONE;
		return 0;
	}
	if (m->req_head || status == 204 || status == 304) {
		m->body = H1MSG_BODY_NONE;
		return 0;
	}
	if (m->req_connect && status < 300) {
		m->body = H1MSG_BODY_TUNNEL;
		m->keep_alive = false;
		return 0;
	}
	response_lengths(m, &te, &chunked_last, &cl, &length, &why);
	if (why != NULL && !te) {
		head_bad(m, why, 502);
		return -1;
	}
	if (te) {
		/* A TE response may carry a CL as well (an old intermediary's): chunked wins,
		 * but such a peer is not trusted with another message on the connection. */
		m->body = chunked_last ? H1MSG_BODY_CHUNKED : H1MSG_BODY_UNTIL_CLOSE;
		if (!chunked_last || cl || m->resp.minor_version == 0)
			m->keep_alive = false;
		return 0;
	}
	if (cl) {
		m->body = length > 0 ? H1MSG_BODY_LENGTH : H1MSG_BODY_NONE;
		m->length = length;
		return 0;
	}
	m->body = H1MSG_BODY_UNTIL_CLOSE;
	m->keep_alive = false;
	return 0;
}

static int
response_head(struct h1msg *m, const char *buf, size_t len, size_t seen)
{
	size_t n = HTTP1_MAX_HEADERS;
	int r;

	r = http1_parse_response(buf, len, seen, &m->resp, m->hdrs, &n);
	if (r == HTTP1_BAD)
		return head_bad(m, m->resp.err, 502);
	if (r < 0)
		return r;
	m->nhdrs = n;
	if (response_framing(m) == -1)
		return HTTP1_BAD;
	return r;
}

int
h1msg_head(struct h1msg *m, const char *buf, size_t len, size_t seen)
{
	m->err = NULL;
	m->err_status = 0;
	return m->kind == H1MSG_REQUEST ? request_head(m, buf, len, seen)
					: response_head(m, buf, len, seen);
}

static int
ck_fail(struct h1msg *m, const char *why)
{
	m->err = why;
	return -1;
}

/* One byte of a chunk-size line; 0, or -1 with m->err. */
static int
size_line_byte(struct h1msg *m, int c)
{
	int h = ut_hexval(c);

	if (++m->ck_line > H1MSG_MAX_CHUNK_LINE)
		return ck_fail(m, "chunk-size line longer than 4 KiB");
	switch (m->ck_state) {
	case CK_SIZE:
	case CK_SIZE_MORE:
		if (h >= 0) {
			if (++m->ck_digits > CK_MAX_DIGITS)
				return ck_fail(m, "chunk size longer than 16 hex digits");
			m->ck_left = m->ck_left << 4 | (uint64_t)h;
			/* A request is forwarded after a decision: a size an upstream's parser
			 * might truncate must not frame what follows as another request. */
			if (m->kind == H1MSG_REQUEST && m->ck_left > H1MSG_MAX_REQUEST_CHUNK)
				return ck_fail(m, "request chunk size over 1 TiB");
			m->ck_state = CK_SIZE_MORE;
			return 0;
		}
		if (m->ck_state == CK_SIZE)
			return ck_fail(m, "bad chunk size (not a hex number)");
		if (c == ';')
			m->ck_state = CK_EXT;
		else if (http1_is_ows(c))
			m->ck_state = CK_SIZE_BWS;
		else if (c == '\r')
			m->ck_state = CK_SIZE_LF;
		else
			return ck_fail(m, "bad chunk size (junk after the hex digits)");
		return 0;
	case CK_SIZE_BWS:
		if (c == ';')
			m->ck_state = CK_EXT;
		else if (!http1_is_ows(c))
			return ck_fail(m, "whitespace after a chunk size not before ';'");
		return 0;
	case CK_EXT:
		if (c == '\r')
			m->ck_state = CK_SIZE_LF;
		else if (!http1_is_value_char(c))
			return ck_fail(m, c == '\n' ? "bare LF in a chunk-size line"
							  : "control byte in a chunk extension");
		return 0;
	default:	/* CK_SIZE_LF */
		if (c != '\n')
			return ck_fail(m, "bare CR in a chunk-size line");
		m->ck_line = 0;
		m->ck_digits = 0;
		m->ck_state = m->ck_left == 0 ? CK_TRAILER : CK_DATA;
		return 0;
	}
}

/* One byte of the trailer section (after the last chunk); 0, or -1 with m->err. */
static int
trailer_byte(struct h1msg *m, int c)
{
	if (++m->ck_trailers > H1MSG_MAX_TRAILERS)
		return ck_fail(m, "trailer section larger than 16 KiB");
	switch (m->ck_state) {
	case CK_TRAILER:
		if (c == '\r')
			m->ck_state = CK_FINAL_LF;
		else if (http1_is_tchar(c))
			m->ck_state = CK_TRAILER_NAME;
		else
			return ck_fail(m, http1_is_ows(c) ? "obs-fold in a trailer"
				: c == '\n'	 ? "bare LF in the trailer section"
						 : "trailer name is not a token");
		return 0;
	case CK_TRAILER_NAME:
		if (c == ':')
			m->ck_state = CK_TRAILER_VALUE;
		else if (!http1_is_tchar(c))
			return ck_fail(m, http1_is_ows(c) ? "whitespace before ':' in a trailer"
							  : "trailer name is not a token or has no ':'");
		return 0;
	case CK_TRAILER_VALUE:
		if (c == '\r')
			m->ck_state = CK_TRAILER_LF;
		else if (!http1_is_value_char(c))
			return ck_fail(m, c == '\n' ? "bare LF in a trailer"
							  : "control byte in a trailer value");
		return 0;
	case CK_TRAILER_LF:
		if (c != '\n')
			return ck_fail(m, "bare CR in a trailer");
		m->ck_state = CK_TRAILER;
		return 0;
	default:	/* CK_FINAL_LF */
		if (c != '\n')
			return ck_fail(m, "bare CR at the end of the chunked body");
		m->ck_state = CK_DONE;
		return 0;
	}
}

static ssize_t
chunked_body(struct h1msg *m, const char *buf, size_t len, bool *done)
{
	size_t i = 0;

	while (i < len && m->ck_state != CK_DONE) {
		int c = (unsigned char)buf[i];
		int r;

		switch (m->ck_state) {
		case CK_DATA: {
			size_t n = m->ck_left < len - i ? (size_t)m->ck_left : len - i;

			i += n;
			m->ck_left -= n;
			if (m->ck_left == 0)
				m->ck_state = CK_DATA_CR;
			continue;
		}
		case CK_DATA_CR:
		case CK_DATA_LF:
			if (c != (m->ck_state == CK_DATA_CR ? '\r' : '\n'))
				return ck_fail(m, "missing CRLF after chunk data");
			m->ck_state = m->ck_state == CK_DATA_CR ? CK_DATA_LF : CK_SIZE;
			r = 0;
			break;
		case CK_SIZE:
		case CK_SIZE_MORE:
		case CK_SIZE_BWS:
		case CK_EXT:
		case CK_SIZE_LF:
			r = size_line_byte(m, c);
			break;
		default:
			r = trailer_byte(m, c);
			break;
		}
		if (r == -1)
			return -1;
		i++;
	}
	*done = m->ck_state == CK_DONE;
	return (ssize_t)i;
}

ssize_t
h1msg_body(struct h1msg *m, const char *buf, size_t len, bool *done)
{
	size_t n;

	*done = false;
	switch (m->body) {
	case H1MSG_BODY_NONE:
		*done = true;
		return 0;
	case H1MSG_BODY_LENGTH:
		n = m->length < len ? (size_t)m->length : len;
		m->length -= n;
		*done = m->length == 0;
		return (ssize_t)n;
	case H1MSG_BODY_CHUNKED:
		return chunked_body(m, buf, len, done);
	default:	/* UNTIL_CLOSE, TUNNEL: everything until EOF */
		return (ssize_t)len;
	}
}
