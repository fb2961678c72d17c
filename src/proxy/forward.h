/*
 * proxy/forward: rewrites an absolute-form proxy request (GET http://host/path) into
 * what its origin server expects (network.md §2.3 step 12, RFC 9112 §3.2.1): origin-form
 * request line, Host from the URL, hop-by-hop and Proxy-* fields removed (Connection and
 * every field it names, Keep-Alive, TE, Trailer, Upgrade, Proxy-Connection,
 * Proxy-Authorization, Proxy-Authenticate), "Connection: close" appended: one request
 * per client connection. Only this request's body bytes are kept: a request pipelined
 * behind it is dropped, never forwarded without a decision. A Content-Length body ends
 * after its length, a chunked one where its decoder (proxy/h1msg.h) finds its last chunk
 * and trailers; chunk framing is relayed as sent.
 *
 * Context: proxy loop. No I/O; appends to a caller's sbuf (util/sbuf.h, aborts on ENOMEM).
 */
#ifndef AGENTCAGE_PROXY_FORWARD_H
#define AGENTCAGE_PROXY_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/http1.h"

struct h1msg;

struct sbuf;

/* What of the request's body is still to come from the client once the head is built. */
struct forward_body {
	uint64_t left;          /* Content-Length: bytes still to come */
	struct h1msg *chunked;  /* chunked, not ended in the bytes already read: its decoder
	                         * (malloc'd, the caller frees it), to relay the rest with
	                         * (relay_frame); else NULL */
};

/*
 * Appends to <b> the rewritten head of <req> (headers <hdrs>[0..<n>), target <url>,
 * lower-cased <host> and <port>; <canon>: the engine's canonical path+query to send
 * instead of the URL's, or NULL) followed by the body bytes of <body>[0..<have>) that
 * belong to it per <fr>, and says in *<out> what is still to come. 0, or -1 with *<why>
 * (static) when those bytes are malformed chunking (errno EPROTO: a 400) or with ENOMEM.
 */
int forward_build(struct sbuf *b, const struct http1_req *req, const struct http1_hdr *hdrs,
		  size_t n, const struct http1_url *url, const char *host, uint16_t port,
		  const char *canon, const struct http1_framing *fr, const char *body, size_t have,
		  struct forward_body *out, const char **why);

#endif
