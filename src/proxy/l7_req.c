/*
 * proxy/l7_req: one request of the HTTP session (l7.h): authority binding, the engine's
 * decision, the head sent upstream, the proxy's own answers and the request's log line.
 */
#include "proxy/l7.h"
#include "proxy/l7_int.h"

#include <strings.h>

#include "proxy/declog.h"
#include "proxy/gen.h"
#include "proxy/respond.h"
#include "util/util.h"

void
l7_close_after(struct l7 *s, const char *why)
{
	if (s->close_after)
		return;
	s->close_after = true;
	ut_strlcpy(s->fin_why, why, sizeof(s->fin_why));
}

void
l7_rq_start(struct l7 *s, const char *m, size_t mlen)
{
	l7_log_request(s); /* a request still unlogged ends here */
	sbuf_reset(&s->rq.path);
	s->rq.active = true;
	s->rq.logged = false;
	if (mlen >= sizeof(s->rq.method))
		mlen = sizeof(s->rq.method) - 1;
	memcpy(s->rq.method, m, mlen);
	s->rq.method[mlen] = '\0';
	s->rq.status = 0;
	s->rq.decision = NULL;
	s->rq.note = NULL;
	s->rq.error = NULL;
	s->rq.reason[0] = '\0';
	s->rq.block = NULL;
	s->rq.up0 = s->u.written;
	s->rq.down0 = s->c.written;
	s->rq.t0 = ut_now_ms();
}

void
l7_log_request(struct l7 *s)
{
	struct declog_http ev;

	if (!s->rq.active || s->rq.logged || s->conf.log == NULL)
		return;
	s->rq.logged = true;
	ev = (struct declog_http){
		.pid = s->conf.pid, .binary = s->conf.id.exe, .host = s->conf.host,
		.port = s->conf.port, .method = s->rq.method, .path = sbuf_str(&s->rq.path),
		.status = s->rq.status, .decision = s->rq.decision ? s->rq.decision : "allow",
		.error = s->rq.error, .block = s->rq.block, .reason = s->rq.reason,
		.note = s->rq.note, .bytes_up = s->u.written - s->rq.up0,
		.bytes_down = s->c.written - s->rq.down0,
		.duration_ms = ut_now_ms() - s->rq.t0, .tls = s->c.tls,
		.generation = s->conf.gen ? s->conf.gen->n : 1,
	};
	declog_write_http(s->conf.log, &ev);
}

void
l7_answer(struct l7 *s, int status, const char *kind, const char *detail, bool close, bool text)
{
	char buf[RESPOND_MAX];
	int n = respond_error_ex(buf, sizeof(buf), status, kind, detail,
				 (close ? 0u : RESPOND_KEEP_ALIVE) | (text ? RESPOND_TEXT : 0u));

	if (n > 0)
		sbuf_add(&s->c.out, buf, (size_t)n);
	s->dn = DN_LOCAL;
	if (s->rq.active) {
		s->rq.status = status;
		if (s->rq.error == NULL)
			s->rq.error = kind; /* as the "net" lines: the answer's "error" */
		if (s->rq.reason[0] == '\0')
			ut_strlcpy(s->rq.reason, detail, sizeof(s->rq.reason));
	}
	if (close)
		l7_close_after(s, detail);
}

void
l7_on_bad_request(struct l7 *s)
{
	const struct h1msg *m = &s->req;
	char why[256];

	snprintf(why, sizeof(why), "malformed request: %s", m->err ? m->err : "?");
	const char *buf = s->c.in.p + s->c.in.off;
	const struct http1_slice me = m->req.method;
	/* the parser may have failed before the method: name it only when it is a slice
	 * of this head */
	const bool named = me.p != NULL && me.len > 0 && me.p >= buf &&
			   me.p + me.len <= s->c.in.p + s->c.in.len;

	l7_rq_start(s, named ? me.p : "-", named ? me.len : 1);
	s->rq.decision = "deny";
	s->rq.error = RESPOND_BAD_REQUEST;
	l7_answer(s, m->err_status == 431 ? 431 : 400, RESPOND_BAD_REQUEST, why, true, false);
	s->up = UP_WAIT; /* nothing of it is read any more */
}

/* --- authority binding --- */

/* Host names equal ignoring case and one trailing dot. */
static bool
l7_host_eq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen > 0 && a[alen - 1] == '.')
		alen--;
	if (blen > 0 && b[blen - 1] == '.')
		blen--;
	return alen == blen && strncasecmp(a, b, alen) == 0;
}

/* Does authority <p>[0..<len>) ("host", "host:port", "[v6]", "[v6]:port") name the
 * tunnel's host, and its port when it has one? */
static bool
l7_authority_is_tunnel(const struct l7 *s, const char *p, size_t len)
{
	struct http1_authority au;
	const char *why;

	if (http1_parse_authority(p, len, &au, &why) == 0)
		return au.port == s->conf.port && l7_host_eq(au.host.p, au.host.len, s->conf.host);
	if (len >= 2 && p[0] == '[' && p[len - 1] == ']') /* "[v6]" without a port */
		return l7_host_eq(p + 1, len - 2, s->conf.host);
	if (len == 0 || memchr(p, ':', len) != NULL) /* a bad port, or junk */
		return false;
	return l7_host_eq(p, len, s->conf.host);
}

/* The request's effective authority (absolute-form target, else Host) must be the
 * tunnel's: a request for another host inside an allowed tunnel would be decided under
 * the wrong host's rules (network.md §5.6). 0, or -1 with <why> filled. */
static int
l7_check_authority(const struct l7 *s, char *why, size_t wlen)
{
	const struct h1msg *m = &s->req;
	const struct http1_slice t = m->req.target;
	const struct http1_hdr *h = http1_find_header(m->hdrs, m->nhdrs, "host");
	size_t skip = 0;

	if (t.len > 7 && strncasecmp(t.p, "http://", 7) == 0)
		skip = 7;
	else if (t.len > 8 && strncasecmp(t.p, "https://", 8) == 0)
		skip = 8;
	if (skip > 0) {
		const char *a = t.p + skip, *e = a;

		while (e < t.p + t.len && *e != '/' && *e != '?' && *e != '#')
			e++;
		if (!l7_authority_is_tunnel(s, a, (size_t)(e - a))) {
			snprintf(why, wlen, "the request names %.*s, the tunnel is to %s:%u",
				 (int)(e - a), a, s->conf.host, s->conf.port);
			return -1;
		}
	}
	if (h != NULL && !l7_authority_is_tunnel(s, h->value.p, h->value.len)) {
		snprintf(why, wlen, "Host header names %.*s, the tunnel is to %s:%u",
			 (int)(h->value.len > 200 ? 200 : h->value.len), h->value.p, s->conf.host,
			 s->conf.port);
		return -1;
	}
	return 0;
}

/* --- the head upstream --- */

static bool
l7_hdr_dropped(struct http1_slice name)
{
	/* proxy credentials and the proxy's own hop; Connection stays (it is the
	 * origin's hop too: keep-alive, upgrade) */
	return http1_slice_caseeq(name, "proxy-connection") ||
	       http1_slice_caseeq(name, "proxy-authorization");
}

static void
l7_build_head(struct l7 *s)
{
	const struct h1msg *m = &s->req;
	struct sbuf *b = &s->u.out;

	sbuf_add(b, m->req.method.p, m->req.method.len);
	sbuf_putc(b, ' ');
	sbuf_puts(b, s->canon);
	sbuf_printf(b, " HTTP/1.%d\r\n", m->req.minor_version);
	for (size_t i = 0; i < m->nhdrs; i++) {
		if (l7_hdr_dropped(m->hdrs[i].name))
			continue;
		sbuf_add(b, m->hdrs[i].name.p, m->hdrs[i].name.len);
		sbuf_puts(b, ": ");
		sbuf_add(b, m->hdrs[i].value.p, m->hdrs[i].value.len);
		sbuf_puts(b, "\r\n");
	}
	sbuf_puts(b, "\r\n");
}

/* git shows a text/plain error body to its user ("remote: ..."), a JSON one not at all
 * (remote-curl.c, show_http_message). */
static bool
l7_client_is_git(const struct h1msg *m)
{
	const struct http1_hdr *h = http1_find_header(m->hdrs, m->nhdrs, "user-agent");

	return h != NULL && h->value.len >= 4 && strncmp(h->value.p, "git/", 4) == 0;
}

/* Drops the request head (<hlen> bytes) from the client's buffer. */
static void
l7_consume_head(struct l7 *s, size_t hlen)
{
	struct l7_buf *in = &s->c.in;

	s->c.pass = 0;
	in->off += hlen;
	if (in->off == in->len)
		in->off = in->len = 0;
}

/* A denied request: 403, and its body skipped when that keeps the connection cheaply. */
static void
l7_deny(struct l7 *s, size_t hlen, const char *reason)
{
	const struct h1msg *m = &s->req;
	const bool git = l7_client_is_git(m);
	bool close = !m->keep_alive;

	/* a client waiting for 100-continue may never send the body: its end is unknown */
	if (m->body != H1MSG_BODY_NONE && m->expect_continue)
		close = true;
	if (m->body == H1MSG_BODY_LENGTH && m->length > L7_SKIP_MAX)
		close = true;
	s->rq.decision = "deny";
	if (s->conf.denied)
		(*s->conf.denied)++;
	l7_consume_head(s, hlen);
	s->up = close ? UP_WAIT : UP_SKIP;
	l7_answer(s, 403, RESPOND_POLICY_DENIED, reason, close, git);
}

/* true when query <q>[0..<n>) has the parameter "service=git-receive-pack". */
static bool
l7_query_is_receive_pack(const char *q, size_t n)
{
	static const char want[] = "service=git-receive-pack";
	const size_t wl = sizeof(want) - 1;

	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && q[j] != '&')
			j++;
		if (j - i == wl && memcmp(q + i, want, wl) == 0)
			return true;
		i = j + 1;
	}
	return false;
}

/*
 * git push starts with GET <repo>/info/refs?service=git-receive-pack and only then
 * POSTs <repo>/git-receive-pack; git shows the user an error body only for that first
 * GET (a refused POST prints "RPC failed; HTTP 403" and nothing else). So when the POST
 * the push is about to make would be denied, the GET is refused with that reason. -1
 * and <why> when it is; 0 otherwise (not a push, or the push would be allowed).
 */
static int
l7_git_push_preflight(struct l7 *s, const struct ident *id, char *why, size_t whylen)
{
	static const char refs[] = "/info/refs";
	const size_t rl = sizeof(refs) - 1;
	const char *q = strchr(s->canon, '?');
	size_t plen = q ? (size_t)(q - s->canon) : strlen(s->canon);
	char post[L7_CANON_LEN], canon[L7_CANON_LEN];
	struct decision d;

	if (!http1_slice_eq(s->req.req.method, "GET") || q == NULL || plen < rl ||
	    memcmp(s->canon + plen - rl, refs, rl) != 0 ||
	    !l7_query_is_receive_pack(q + 1, strlen(q + 1)))
		return 0;
	if ((size_t)snprintf(post, sizeof(post), "%.*s/git-receive-pack", (int)(plen - rl),
			     s->canon) >= sizeof(post))
		return 0;
	if (engine_decide_request(s->conf.engine, id, s->conf.host, s->conf.port, "POST", post,
				  strlen(post), &d, canon, sizeof(canon)) == -1 ||
	    d.allow)
		return 0;
	snprintf(why, whylen, "git push refused before it starts: %s", d.reason);
	return -1;
}

/* The raw request target as the head to send upstream, for a request no L7 rule decides
 * (learned, or a stream its generation no longer inspects). 0, or -1 when it does not fit. */
static int
l7_raw_target(struct l7 *s)
{
	const struct http1_slice t = s->req.req.target;

	if (t.len >= L7_CANON_LEN)
		return -1;
	memcpy(s->canon, t.p, t.len);
	s->canon[t.len] = '\0';
	return 0;
}

/* The request is allowed (or learned): its head goes upstream, its response comes back. */
static void
l7_forward(struct l7 *s, size_t hlen)
{
	const struct h1msg *m = &s->req;

	if (s->upstream_failed) {
		char detail[512];

		snprintf(detail, sizeof(detail), "%s", s->upstream_err);
		l7_consume_head(s, hlen);
		s->up = UP_WAIT;
		l7_answer(s, 502, RESPOND_UPSTREAM_TLS, detail, true, false);
		return;
	}
	l7_build_head(s);
	h1msg_init(&s->resp, H1MSG_RESPONSE, http1_slice_eq(m->req.method, "HEAD"),
		   http1_slice_eq(m->req.method, "CONNECT"));
	l7_consume_head(s, hlen); /* the head's slices are dead from here */
	s->up = UP_BODY;
	s->dn = DN_HEAD;
	s->resp_seen = 0;
	s->resp_done = false;
}

/* Learn mode: a policy denial of this request is forwarded and logged "learn" with the
 * reason it would have been denied. Malformed requests are never learned. true when it
 * was (the caller forwards), false when the denial stands. */
static bool
l7_learn(struct l7 *s, const struct decision *d)
{
	if (!s->conf.learn || d->malformed)
		return false;
	if (s->canon[0] == '\0' && l7_raw_target(s) == -1)
		return false;
	s->rq.decision = "learn";
	snprintf(s->rq.reason, sizeof(s->rq.reason), "learn mode: would be denied: %.990s", d->reason);
	if (s->conf.learned)
		(*s->conf.learned)++;
	return true;
}

/*
 * Moves the session to the proxy's current generation when a new one came since its last
 * request (the request logged before has let go of the old one) and re-checks host:port
 * and the binary under it (L4). 0: decide this request with the new generation as usual;
 * 1: it was answered or forwarded here (the stream ends after it).
 */
static int
l7_follow_generation(struct l7 *s, size_t hlen)
{
	struct proxy_gen *cur = s->conf.current ? *s->conf.current : NULL;
	struct decision d;

	if (cur == NULL || cur == s->conf.gen)
		return 0;
	gen_put(&s->conf.gen);
	s->conf.gen = gen_ref(cur);
	s->conf.engine = cur->engine;
	if (engine_decide_connect(cur->engine, &s->conf.id, s->conf.host, s->conf.port, &d) == -1)
		return 0; /* engine_decide_request() meets the same arguments and ends it */
	if (d.allow && d.inspect)
		return 0;
	s->canon[0] = '\0'; /* the last request's: this one goes as the client wrote it */
	s->rq.block = d.block ? d.block->key : NULL;
	if (d.allow || l7_learn(s, &d)) {
		if (d.allow) {
			s->rq.decision = "allow";
			snprintf(s->rq.reason, sizeof(s->rq.reason),
				 "policy generation %llu allows %s:%u without inspecting its "
				 "requests (%.500s): this one is forwarded and the stream closed "
				 "after it, so the client reconnects through a plain tunnel",
				 cur->n, s->conf.host, s->conf.port, d.reason);
			if (l7_raw_target(s) == -1) {
				l7_deny(s, hlen, "request target too long to forward unchecked");
				return 1;
			}
		}
		l7_close_after(s, s->rq.reason);
		l7_forward(s, hlen);
		return 1;
	}
	snprintf(s->rq.reason, sizeof(s->rq.reason),
		 "policy generation %llu no longer allows %s:%u: %.600s", cur->n, s->conf.host,
		 s->conf.port, d.reason);
	l7_deny(s, hlen, s->rq.reason);
	l7_close_after(s, s->rq.reason); /* this generation does not decide the stream */
	return 1;
}

void
l7_on_request(struct l7 *s, size_t hlen)
{
	const struct h1msg *m = &s->req;
	struct ident id = s->conf.id;
	char why[ENGINE_REASON_MAX + 64];

	l7_rq_start(s, m->req.method.p, m->req.method.len);
	declog_redact_target(&s->rq.path, m->req.target.p, m->req.target.len);
	s->req_keep = m->keep_alive;
	s->req_done = m->body == H1MSG_BODY_NONE;
	s->t_head = 0;
	if (l7_check_authority(s, why, sizeof(why)) == -1) {
		ut_strlcpy(s->rq.reason, why, sizeof(s->rq.reason));
		l7_deny(s, hlen, why);
		return;
	}
	if (l7_follow_generation(s, hlen) == 1)
		return;
	if (engine_decide_request(s->conf.engine, &id, s->conf.host, s->conf.port,
				  s->rq.method, m->req.target.p, m->req.target.len, &s->dec,
				  s->canon, L7_CANON_LEN) == -1) {
		l7_end(s, "policy engine refused the arguments");
		return;
	}
	if (s->canon[0] != '\0') {
		sbuf_reset(&s->rq.path);
		declog_redact_target(&s->rq.path, s->canon, strlen(s->canon));
	}
	s->rq.block = s->dec.block ? s->dec.block->key : NULL;
	ut_strlcpy(s->rq.reason, s->dec.reason, sizeof(s->rq.reason));
	if (!s->dec.allow) {
		if (l7_learn(s, &s->dec))
			l7_forward(s, hlen);
		else
			l7_deny(s, hlen, s->dec.reason);
		return;
	}
	if (!s->conf.learn && l7_git_push_preflight(s, &id, why, sizeof(why)) == -1) {
		ut_strlcpy(s->rq.reason, why, sizeof(s->rq.reason));
		l7_deny(s, hlen, why);
		return;
	}
	s->rq.decision = s->dec.audit ? "audit" : "allow";
	l7_forward(s, hlen);
}
