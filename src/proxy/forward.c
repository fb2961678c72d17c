/* proxy/forward: a forward request rewritten for its origin server (forward.h). */
#include "proxy/forward.h"

#include <errno.h>
#include <stdlib.h>
#include <strings.h>

#include "proxy/h1msg.h"
#include "util/sbuf.h"
#include "util/util.h"

/* Hop-by-hop (RFC 9110 §7.6.1) and proxy-only fields, never sent upstream. Host is
 * replaced by the URL's authority. Transfer-Encoding stays: the body is relayed as is. */
static bool
forward_hdr_dropped(struct http1_slice name)
{
	static const char *const drop[] = {
		"host",   "connection",          "proxy-connection",   "keep-alive",
		"te",     "trailer",             "upgrade",            "proxy-authorization",
		"proxy-authenticate",
	};

	for (size_t i = 0; i < NELEM(drop); i++)
		if (http1_slice_caseeq(name, drop[i]))
			return true;
	return false;
}

/* Does some Connection header list <name> (RFC 9110 §7.6.1: those fields are hop-by-hop)? */
static bool
forward_hdr_nominated(const struct http1_hdr *hdrs, size_t n, struct http1_slice name)
{
	for (size_t i = 0; i < n; i++) {
		const char *p, *end;

		if (!http1_slice_caseeq(hdrs[i].name, "connection"))
			continue;
		p = hdrs[i].value.p;
		end = p + hdrs[i].value.len;
		while (p < end) {
			const char *comma = memchr(p, ',', (size_t)(end - p));
			const char *te = comma ? comma : end, *ts = p;

			while (ts < te && (*ts == ' ' || *ts == '\t'))
				ts++;
			while (te > ts && (te[-1] == ' ' || te[-1] == '\t'))
				te--;
			if ((size_t)(te - ts) == name.len && strncasecmp(ts, name.p, name.len) == 0)
				return true;
			p = comma ? comma + 1 : end;
		}
	}
	return false;
}

/* The bytes of a chunked body among the <have> already read; out->chunked when more
 * are to come. -1 as forward_build(). */
static int
forward_chunked(const char *body, size_t have, size_t *take, struct forward_body *out,
		const char **why)
{
	struct h1msg *m = malloc(sizeof(*m));
	bool done = false;
	ssize_t k;

	if (m == NULL) {
		*why = "out of memory";
		errno = ENOMEM;
		return -1;
	}
	h1msg_init_chunked(m, H1MSG_REQUEST);
	if ((k = h1msg_body(m, body, have, &done)) < 0) {
		*why = m->err;
		free(m);
		errno = EPROTO;
		return -1;
	}
	*take = (size_t)k;
	if (done)
		free(m);
	else
		out->chunked = m;
	return 0;
}

int
forward_build(struct sbuf *b, const struct http1_req *req, const struct http1_hdr *hdrs,
	      size_t n, const struct http1_url *url, const char *host, uint16_t port,
	      const char *canon, const struct http1_framing *fr, const char *body, size_t have,
	      struct forward_body *out, const char **why)
{
	size_t take = 0;

	out->left = 0;
	out->chunked = NULL;
	sbuf_add(b, req->method.p, req->method.len);
	sbuf_putc(b, ' ');
	if (canon != NULL) {
		sbuf_puts(b, canon);
	} else {
		sbuf_add(b, url->path.p, url->path.len);
		sbuf_add(b, url->query.p, url->query.len);
	}
	sbuf_printf(b, " HTTP/1.%d\r\nHost: %s%s%s", req->minor_version, url->is_ipv6 ? "[" : "",
		    host, url->is_ipv6 ? "]" : "");
	if (port != 80)
		sbuf_printf(b, ":%u", port);
	sbuf_puts(b, "\r\n");
	for (size_t i = 0; i < n; i++) {
		if (forward_hdr_dropped(hdrs[i].name) || forward_hdr_nominated(hdrs, n, hdrs[i].name))
			continue;
		sbuf_add(b, hdrs[i].name.p, hdrs[i].name.len);
		sbuf_puts(b, ": ");
		sbuf_add(b, hdrs[i].value.p, hdrs[i].value.len);
		sbuf_puts(b, "\r\n");
	}
	sbuf_puts(b, "Connection: close\r\n\r\n");
	switch (fr->kind) {
	case HTTP1_BODY_NONE:
		break;
	case HTTP1_BODY_LENGTH:
		take = have < fr->length ? have : (size_t)fr->length;
		out->left = fr->length - take;
		break;
	case HTTP1_BODY_CHUNKED:
		if (forward_chunked(body, have, &take, out, why) == -1)
			return -1; /* the caller answers 400 or closes: <b> is never sent */
		break;
	}
	sbuf_add(b, body, take);
	return 0;
}

