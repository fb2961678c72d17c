/*
 * http1: strict HTTP/1.x request-head and response-head parsers and the proxy's
 * target/framing helpers, after picohttpparser's contract (style.md §6). Message framing
 * on an opened stream (bodies, pipelining) is proxy/h1msg.h.
 *
 * Context: proxy loop. No I/O, no allocation, nothing global, nothing NUL-terminated:
 * every result is a slice pointing into the caller's buffer (or, for an empty path, to a
 * static "/"). The caller owns the header array and passes its capacity in.
 *
 * Errors: http1_parse_request() returns the head length (>= 0), HTTP1_PARTIAL or
 * HTTP1_BAD; on HTTP1_BAD the request records the first error's byte offset, a reason a
 * log can print ("byte 37: whitespace before ':' in a header") and the status the caller
 * should answer (400, or 431 for HTTP1_MAX_HEAD / HTTP1_MAX_HEADERS). The helpers return
 * 0, or -1 and set *<why> to a static reason string; they never set errno.
 *
 * Strictness (network.md §2.1; RFC 9112; deliberate where it is stricter than the
 * reference): method is 1+ tchar; exactly one SP between request-line parts; the target is
 * 1+ visible ASCII bytes (no CTL, SP, DEL or bytes >= 0x80); version is HTTP/1.0 or
 * HTTP/1.1; header names are 1+ tchar with no whitespace before ':'; obs-fold, bare CR
 * and bare LF are rejected anywhere in the head; values are HTAB, SP, VCHAR or obs-text
 * (>= 0x80), with leading and trailing OWS trimmed from the slice. Leading empty lines
 * before the request line are rejected.
 */
#ifndef AGENTCAGE_HTTP1_H
#define AGENTCAGE_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP1_PARTIAL (-2)
#define HTTP1_BAD     (-1)

/* Request line + headers + the empty line, in bytes; beyond it the caller answers 431. */
#define HTTP1_MAX_HEAD (16 * 1024)
/* Header fields per request; more is a 431 even if the caller's array is larger. */
#define HTTP1_MAX_HEADERS 100
/* Longest host name accepted in a target (RFC 1035 name length in text form). */
#define HTTP1_MAX_HOST 253

struct http1_slice {
	const char *p;
	size_t len;
};

struct http1_hdr {
	struct http1_slice name;
	struct http1_slice value;	/* OWS trimmed on both sides */
};

struct http1_req {
	struct http1_slice method;
	struct http1_slice target;
	int minor_version;	/* 0 or 1 */
	/* Set on HTTP1_BAD only: */
	size_t err_off;		/* offset in the buffer of the first offending byte */
	const char *err;	/* static reason, e.g. "bare LF" */
	int err_status;		/* 400, or 431 when a limit was exceeded */
};

/*
 * Parses a request head in <buf>[0..<len>); <seen> bytes of the same buffer were examined
 * by a previous call that returned HTTP1_PARTIAL (0 on the first call), so feeding a
 * byte-at-a-time client costs O(len) in total, not O(len^2): until the terminating empty
 * line arrives only the new bytes are scanned (and a bare LF among them fails at once).
 * <hdrs> holds *<nhdrs> entries on entry; on success *<nhdrs> is the header count.
 * Returns the head length (request line through the empty line; body bytes follow it),
 * HTTP1_PARTIAL (need more bytes; *<nhdrs> untouched) or HTTP1_BAD (<req>->err_off, err,
 * err_status set). A head longer than HTTP1_MAX_HEAD, or with more headers than
 * min(*<nhdrs>, HTTP1_MAX_HEADERS), is HTTP1_BAD with err_status 431.
 */
int http1_parse_request(const char *buf, size_t len, size_t seen, struct http1_req *req,
			struct http1_hdr *hdrs, size_t *nhdrs);

struct http1_resp {
	int minor_version;		/* 0 or 1 */
	int status;			/* 100..999 (three digits) */
	struct http1_slice reason;	/* may be empty; obs-text allowed */
	/* Set on HTTP1_BAD only: */
	size_t err_off;			/* offset in the buffer of the first offending byte */
	const char *err;		/* static reason, e.g. "bad status code" */
	int err_status;			/* 502, or 431 when a limit was exceeded (for logs) */
};

/*
 * Parses a response head in <buf>[0..<len>): "HTTP/1.x SP 3DIGIT SP reason CRLF" (the
 * reason may be empty, its bytes HTAB, SP, VCHAR or obs-text), then header fields with
 * the same strictness and limits as requests (HTTP1_MAX_HEAD, HTTP1_MAX_HEADERS). Same
 * contract as http1_parse_request(): <seen> bytes were examined by a previous PARTIAL
 * call; returns the head length, HTTP1_PARTIAL (*<nhdrs> untouched) or HTTP1_BAD
 * (<resp>->err_off, err, err_status set).
 */
int http1_parse_response(const char *buf, size_t len, size_t seen, struct http1_resp *resp,
			 struct http1_hdr *hdrs, size_t *nhdrs);

/* Character classes (RFC 9110 §5.6): tchar ("!#$%&'*+-.^_`|~", DIGIT, ALPHA); a
 * field-value byte (HTAB, SP, VCHAR, obs-text); optional whitespace (SP, HTAB). */
bool http1_is_tchar(int c);
bool http1_is_value_char(int c);
bool http1_is_ows(int c);

/* true when <s> equals the NUL-terminated <lit> exactly (case-sensitive, e.g. methods). */
bool http1_slice_eq(struct http1_slice s, const char *lit);

/* true when <s> equals <lit> ignoring ASCII case (header names, schemes, tokens). */
bool http1_slice_caseeq(struct http1_slice s, const char *lit);

/* First header named <name> (case-insensitive) in <hdrs>[0..<n>), or NULL. */
const struct http1_hdr *http1_find_header(const struct http1_hdr *hdrs, size_t n,
					  const char *name);

struct http1_authority {
	struct http1_slice host;	/* without brackets for IPv6 */
	uint16_t port;			/* 1..65535 */
	bool is_ipv6;			/* host was a bracketed IPv6 literal */
};

/*
 * Parses a CONNECT target <s>[0..<len>): "host:port" or "[v6]:port". The host is 1 to
 * HTTP1_MAX_HOST letters, digits, '-' and '.', or a bracketed literal inet_pton(AF_INET6)
 * accepts (no zone id); the port is 1..65535 in decimal without sign or leading '+'.
 * Refuses (why set): empty host, missing or empty port, port 0 or out of range, any other
 * byte in the host (NUL, '%', '/', '\\', '@', '_', space...), a missing ']'. Stricter than
 * the reference, which passes the host through unvalidated (network.md §2.2).
 */
int http1_parse_authority(const char *s, size_t len, struct http1_authority *out,
			  const char **why);

struct http1_url {
	struct http1_slice host;	/* validated as in http1_parse_authority() */
	uint16_t port;			/* default 80 */
	bool is_ipv6;
	struct http1_slice path;	/* starts with '/'; static "/" when the URL had none */
	struct http1_slice query;	/* "?..." or empty; origin form = path + query */
};

/*
 * Parses an absolute-form target "http://host[:port][/path][?query]" (scheme case-
 * insensitive). Refuses: any other scheme ("https" gets "use CONNECT for https URLs"),
 * userinfo, a '#' fragment, an empty host, a bad port, host bytes outside the authority
 * charset. 0 or -1 with *<why>.
 */
int http1_parse_absolute(const char *s, size_t len, struct http1_url *out, const char **why);

enum http1_body_kind {
	HTTP1_BODY_NONE = 0,	/* no Content-Length, no Transfer-Encoding */
	HTTP1_BODY_LENGTH,	/* Content-Length: length bytes follow the head */
	HTTP1_BODY_CHUNKED,	/* Transfer-Encoding: chunked */
};

struct http1_framing {
	enum http1_body_kind kind;
	uint64_t length;	/* HTTP1_BODY_LENGTH only */
	bool conn_close;	/* Connection lists "close" */
	bool conn_keep_alive;	/* Connection lists "keep-alive" */
};

/*
 * Decides the body framing of a parsed request (network.md §2.1, RFC 9112 §6.3).
 * Refuses (why set; answer 400): Content-Length that is not 1+ digits or overflows
 * uint64, several Content-Length values that differ (equal duplicates are fine),
 * Transfer-Encoding other than exactly one "chunked" over all TE headers (gzip, "chunked,
 * gzip", "chunked,", two TE headers), TE together with Content-Length (request smuggling,
 * RFC 9112 §6.1), an empty or non-tchar Connection token, a Connection token naming
 * host, content-length or transfer-encoding, and a CONNECT request with any body framing.
 */
int http1_body_framing(const struct http1_req *req, const struct http1_hdr *hdrs, size_t n,
		       struct http1_framing *out, const char **why);

#endif
