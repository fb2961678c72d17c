/*
 * h1msg: framing of HTTP/1.1 messages on an opened stream (a terminated TLS stream or
 * plain HTTP inside a CONNECT tunnel): where each request or response head ends, how its
 * body is delimited, and where the body ends, so the proxy can relay body bytes VERBATIM
 * (chunk framing and trailers included) and find the next pipelined message.
 *
 * Context: proxy loop. Sans-I/O: no allocation, nothing global; head results are slices
 * into the caller's head buffer (valid while that buffer is). One struct h1msg per message
 * being framed; h1msg_init() again for the next one on the same connection.
 *
 * Errors: h1msg_head() returns the head length, HTTP1_PARTIAL or HTTP1_BAD with m->err (a
 * static reason) and m->err_status (400 or 431 for a request the proxy answers itself;
 * 502 for a bad response from upstream). h1msg_body() returns -1 with m->err on malformed
 * chunking. errno is never set.
 *
 * Rules (RFC 9112 §6.3, network.md §5.6): requests refuse the smuggling shapes
 * (http1_body_framing(): CL with TE, differing CL, TE other than chunked; the parser:
 * obs-fold, bare CR/LF, bad names) and a missing (HTTP/1.1) or repeated Host. Responses:
 * HEAD or 1xx/204/304 have no body (101 is a tunnel, other 1xx are interim), a 2xx to
 * CONNECT is a tunnel, chunked last in TE is chunked (CL ignored, no keep-alive), other TE
 * is until-close, a valid CL is a length, else until-close.
 */
#ifndef AGENTCAGE_H1MSG_H
#define AGENTCAGE_H1MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proxy/http1.h"

/* One chunk-size or trailer line (with extensions) in bytes; longer is malformed. */
#define H1MSG_MAX_CHUNK_LINE (4 * 1024)
/* One chunk of a request body; a larger size is malformed (what an upstream that parses
 * it into fewer bits would read as another request was never decided). */
#define H1MSG_MAX_REQUEST_CHUNK (1ULL << 40)
/* All trailer fields of one message together; more is malformed. */
#define H1MSG_MAX_TRAILERS (16 * 1024)

enum h1msg_kind { H1MSG_REQUEST, H1MSG_RESPONSE };

enum h1msg_body {
	H1MSG_BODY_NONE,	/* ends with the head */
	H1MSG_BODY_LENGTH,	/* Content-Length */
	H1MSG_BODY_CHUNKED,	/* chunked (+ trailers) */
	H1MSG_BODY_UNTIL_CLOSE,	/* response without length: ends at EOF, connection closes */
	H1MSG_BODY_TUNNEL,	/* 101 Switching Protocols: raw bytes both ways from here */
};

struct h1msg {
	enum h1msg_kind kind;
	bool req_head, req_connect;	/* response: the request was HEAD / CONNECT (set by init) */
	/* head results; slices point into the caller's head buffer */
	struct http1_req req;		/* request */
	struct http1_resp resp;		/* response */
	struct http1_hdr hdrs[HTTP1_MAX_HEADERS];
	size_t nhdrs;
	enum h1msg_body body;
	uint64_t length;		/* LENGTH: bytes of body still expected */
	bool keep_alive;		/* another message may follow on this connection */
	bool interim;			/* response 1xx other than 101: a final response follows */
	bool expect_continue;		/* request: Expect: 100-continue */
	bool upgrade;			/* request: Upgrade header present */
	const char *err;		/* HTTP1_BAD / body error: static reason */
	int err_status;			/* 400, 431, or 502 for a bad response */
	/* private chunk decoder state */
	int ck_state;			/* enum in h1msg.c */
	uint64_t ck_left;		/* data bytes left in the current chunk */
	unsigned ck_digits;		/* hex digits of the size read so far */
	size_t ck_line;			/* bytes of the current size/trailer line so far */
	size_t ck_trailers;		/* bytes of trailer section so far */
};

/*
 * Resets <m> for a new message of <kind>. For a response, <req_head> / <req_connect> say
 * whether the request it answers was HEAD / CONNECT (they decide the framing).
 */
void h1msg_init(struct h1msg *m, enum h1msg_kind kind, bool req_head, bool req_connect);

/* Resets <m> to frame only a chunked body whose head was read elsewhere (the forward
 * path's http1_body_framing()): h1msg_body() from its first chunk-size line. */
void h1msg_init_chunked(struct h1msg *m, enum h1msg_kind kind);

/*
 * Parses the head at <buf>[0..<len>) (<seen> as in http1_parse_request: bytes examined by
 * a previous call that returned HTTP1_PARTIAL). Returns the head length and sets body,
 * length, keep_alive, interim, expect_continue, upgrade; or HTTP1_PARTIAL; or HTTP1_BAD
 * (m->err, m->err_status). Requests: the smuggling shapes http1_body_framing() refuses,
 * and a missing (HTTP/1.1) or duplicate Host, are HTTP1_BAD with 400.
 */
int h1msg_head(struct h1msg *m, const char *buf, size_t len, size_t seen);

/*
 * Body bytes: how many of <buf>[0..<len>) belong to this message (chunk framing and
 * trailers included); *<done> set when the message ended there (the rest starts the next
 * message). Call with successive buffers of the stream after the head; state is kept in
 * <m>. NONE: 0 and done. UNTIL_CLOSE/TUNNEL: all bytes, never done. -1 on malformed
 * chunking (m->err, e.g. "bad chunk size"); the connection must then be closed.
 */
ssize_t h1msg_body(struct h1msg *m, const char *buf, size_t len, bool *done);

#endif
