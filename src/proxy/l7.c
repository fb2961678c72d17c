/* proxy/l7: the HTTP session in an inspected tunnel, I/O and state machine (l7.h). */
#include "proxy/l7.h"
#include "proxy/l7_int.h"

#include <time.h>

#include "proxy/conn.h"
#include "proxy/gen.h"
#include "proxy/respond.h"
#include "tls/ca.h"
#include "tls/upstream.h"
#include "util/evloop.h"
#include "util/util.h"

/* Passes of l7_run() over both directions per wake-up: a connection moving bytes as fast
 * as both peers go must still let the loop serve others. */
#define L7_RUN_MAX 32

/* --- buffers --- */

static size_t
buf_n(const struct l7_buf *b)
{
	return b->len - b->off;
}

static char *
buf_data(const struct l7_buf *b)
{
	return b->p + b->off;
}

static void
buf_consume(struct l7_buf *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

/* Room for a read; moves the unread bytes to the front first (offsets relative to the
 * data, which the parsers' <seen> and the side's <pass> are, stay valid). */
static size_t
buf_room(struct l7_buf *b)
{
	if (b->off > 0 && b->len == L7_BUF_SIZE) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	return L7_BUF_SIZE - b->len;
}

/* --- session end --- */

void
l7_end(struct l7 *s, const char *fmt, ...)
{
	va_list ap;

	if (s->ended)
		return;
	s->ended = true;
	va_start(ap, fmt);
	if (vsnprintf(s->why, sizeof(s->why), fmt, ap) < 0)
		ut_strlcpy(s->why, "ended", sizeof(s->why));
	va_end(ap);
}

const char *
l7_why(const struct l7 *s)
{
	return s->why[0] ? s->why : "finished";
}

void
l7_bytes(const struct l7 *s, uint64_t *up, uint64_t *down)
{
	*up = s->u.written;
	*down = s->c.written;
}

/* --- I/O on one side --- */

static const char *
l7_side_name(const struct l7 *s, const struct l7_side *x)
{
	return x == &s->c ? "client" : "upstream";
}

static const char *
l7_ts_err(const struct l7_side *x, int e)
{
	return x->ts.err[0] ? x->ts.err : strerror(e);
}

/* One read into <x>'s buffer; true when something changed (bytes, EOF, an error). */
static bool
l7_read(struct l7 *s, struct l7_side *x)
{
	size_t room;
	ssize_t n;

	if (x->eof || !x->hs_done || (room = buf_room(&x->in)) == 0)
		return false;
	/* A read that blocked is retried only after an event for its fd, or with bytes
	 * OpenSSL already holds: no EAGAIN per loop turn (bench/tls saw 11 per request). */
	if (x->rwant && !x->ready && !tstream_pending(&x->ts))
		return false;
	n = tstream_read(&x->ts, x->in.p + x->in.len, room);
	if (n > 0) {
		x->in.len += (size_t)n;
		x->rwant = 0;
		s->t_last = ut_now_ms();
		return true;
	}
	x->rwant = 0;
	if (n == 0) {
		x->eof = true;
		return true;
	}
	if (errno == EAGAIN) {
		x->rwant = x->ts.want;
		x->ready = false;
		return false;
	}
	if (errno == ECONNRESET || errno == EPIPE) {
		/* a reset counts as the end of the stream; the state machine says whether
		 * that was clean (between requests) or not */
		x->eof = true;
		return true;
	}
	l7_end(s, "reading from the %s: %s", l7_side_name(s, x), l7_ts_err(x, errno));
	return true;
}

/* Writes <bytes>[0..<len>) to <dst>; returns bytes written, 0 when it would block,
 * -1 when the session ended. */
static ssize_t
l7_write_some(struct l7 *s, struct l7_side *dst, const char *bytes, size_t len)
{
	ssize_t n = tstream_write(&dst->ts, bytes, len);

	if (n > 0) {
		dst->wwant = 0;
		dst->written += (uint64_t)n;
		s->t_last = ut_now_ms();
		return n;
	}
	if (n == -1 && errno == EAGAIN) {
		dst->wwant = dst->ts.want;
		return 0;
	}
	l7_end(s, "writing to the %s: %s", l7_side_name(s, dst),
	       n == -1 ? l7_ts_err(dst, errno) : "nothing written");
	return -1;
}

/* What goes to <dst>: its own queue first (our head or answer), then the framed bytes
 * of <src>. true when bytes moved. */
static bool
l7_write(struct l7 *s, struct l7_side *dst, struct l7_side *src)
{
	bool moved = false;
	ssize_t n;

	if (!dst->hs_done || dst->shut)
		return false;
	while (dst->out_off < dst->out.len) {
		if ((n = l7_write_some(s, dst, dst->out.s + dst->out_off,
				       dst->out.len - dst->out_off)) <= 0)
			return moved || n == -1;
		dst->out_off += (size_t)n;
		moved = true;
	}
	if (dst->out.len > 0) {
		sbuf_reset(&dst->out);
		dst->out_off = 0;
	}
	while (src->pass > 0) {
		if ((n = l7_write_some(s, dst, buf_data(&src->in), src->pass)) <= 0)
			return moved || n == -1;
		src->pass -= (size_t)n;
		buf_consume(&src->in, (size_t)n);
		moved = true;
	}
	return moved;
}

static bool
l7_out_pending(const struct l7_side *x)
{
	return x->out_off < x->out.len;
}

/* --- handshakes: both at once; the client's must finish before any answer --- */

static bool
l7_handshake(struct l7 *s)
{
	bool moved = false;

	if (!s->c.hs_done) {
		if (tstream_handshake(&s->c.ts) == 0) {
			s->c.hs_done = true;
			s->c.rwant = 0;
			moved = true;
		} else if (errno == EAGAIN) {
			s->c.rwant = s->c.ts.want;
		} else {
			l7_end(s, "TLS handshake with the client failed: %s (hint: the client must "
			       "trust the sandbox CA, /run/agentcage/ca.crt)", l7_ts_err(&s->c, errno));
			return true;
		}
	}
	if (!s->u.hs_done && !s->upstream_failed) {
		if (tstream_handshake(&s->u.ts) == 0) {
			s->u.hs_done = true;
			s->u.rwant = 0;
			moved = true;
		} else if (errno == EAGAIN) {
			s->u.rwant = s->u.ts.want;
		} else {
			/* Answered 502 at the first request (inside the client's TLS, which
			 * may still be handshaking): never a fallback to no verification. */
			s->upstream_failed = true;
			snprintf(s->upstream_err, sizeof(s->upstream_err), "%s: %.256s", s->conf.host,
				 l7_ts_err(&s->u, errno));
			moved = true;
			if (s->dn == DN_HEAD) { /* a request already waits for it: answer now */
				sbuf_reset(&s->u.out);
				s->u.out_off = 0;
				s->up = UP_WAIT;
				l7_answer(s, 502, RESPOND_UPSTREAM_TLS, s->upstream_err, true, false);
			}
		}
	}
	return moved;
}

/* --- client -> upstream --- */

static void
l7_next_request(struct l7 *s)
{
	l7_log_request(s);
	s->rq.active = false;
	h1msg_init(&s->req, H1MSG_REQUEST, false, false);
	s->req_seen = 0;
	s->req_done = false;
	s->skipped = 0;
	s->t_head = 0;
	s->up = UP_HEAD;
}

static bool
l7_up_head(struct l7 *s)
{
	struct l7_side *c = &s->c;
	size_t n = buf_n(&c->in);
	int rc;

	if (s->dn != DN_IDLE || s->close_after)
		return false;
	if (n == 0) {
		if (c->eof)
			l7_end(s, "finished");
		return c->eof;
	}
	if (s->t_head == 0)
		s->t_head = ut_now_ms();
	rc = h1msg_head(&s->req, buf_data(&c->in), n, s->req_seen);
	if (rc == HTTP1_PARTIAL) {
		s->req_seen = n;
		if (c->eof)
			l7_end(s, "client closed the connection in the middle of a request head");
		return c->eof;
	}
	if (rc == HTTP1_BAD) {
		l7_on_bad_request(s);
		return true;
	}
	l7_on_request(s, (size_t)rc);
	return true;
}

/* UP_BODY and UP_SKIP: frame the request body; skipped bytes are dropped here. */
static bool
l7_up_body(struct l7 *s)
{
	struct l7_side *c = &s->c;
	size_t n = buf_n(&c->in);
	bool moved = false;

	if (!s->req_done && c->pass < n) {
		bool done = false;
		ssize_t k = h1msg_body(&s->req, buf_data(&c->in) + c->pass, n - c->pass, &done);

		if (k == -1) {
			l7_end(s, "request body: %s", s->req.err ? s->req.err : "malformed");
			return true;
		}
		c->pass += (size_t)k;
		s->req_done = done;
		moved = k > 0 || done;
	}
	if (s->up == UP_SKIP && c->pass > 0) {
		s->skipped += c->pass;
		buf_consume(&c->in, c->pass);
		c->pass = 0;
		moved = true;
		if (s->skipped > L7_SKIP_MAX && !s->req_done) {
			l7_close_after(s, "denied request's body is over the skip limit");
			s->up = UP_WAIT;
			return true;
		}
	}
	if (s->req_done && c->pass == 0) {
		s->up = UP_WAIT;
		return true;
	}
	if (!s->req_done && c->eof && buf_n(&c->in) == 0) {
		l7_end(s, "client closed the connection in the middle of a request body");
		return true;
	}
	return moved;
}

/* After 101: raw bytes; one side's EOF is passed on as a shutdown of the other. */
static bool
l7_tunnel(struct l7_side *src, struct l7_side *dst)
{
	size_t n = buf_n(&src->in);

	if (src->pass < n) {
		src->pass = n;
		return true;
	}
	if (src->eof && src->pass == 0 && !dst->shut && !l7_out_pending(dst)) {
		tstream_shutdown(&dst->ts); /* best effort: the peer may be gone already */
		dst->shut = true;
		return true;
	}
	return false;
}

static bool
l7_up_step(struct l7 *s)
{
	switch (s->up) {
	case UP_HEAD:
		return l7_up_head(s);
	case UP_BODY:
	case UP_SKIP:
		return l7_up_body(s);
	case UP_WAIT:
		if (s->dn != DN_IDLE || s->close_after)
			return false;
		l7_next_request(s);
		return true;
	case UP_TUNNEL:
		return l7_tunnel(&s->c, &s->u);
	}
	return false;
}

/* --- upstream -> client --- */

static bool
l7_dn_head(struct l7 *s)
{
	struct l7_side *u = &s->u;
	size_t n = buf_n(&u->in) - u->pass; /* interim heads before it may wait for the client */
	const char *head = buf_data(&u->in) + u->pass;
	int rc;

	if (n == 0) {
		if (u->eof)
			l7_end(s, "upstream closed the connection before responding");
		return u->eof;
	}
	rc = h1msg_head(&s->resp, head, n, s->resp_seen);
	if (rc == HTTP1_PARTIAL) {
		s->resp_seen = n;
		if (u->eof)
			l7_end(s, "upstream closed the connection in the middle of a response head");
		return u->eof;
	}
	if (rc == HTTP1_BAD) {
		char why[256];

		snprintf(why, sizeof(why), "%s:%u sent a malformed response head: %s",
			 s->conf.host, s->conf.port, s->resp.err ? s->resp.err : "?");
		if (u->pass > 0) { /* an interim response is still on its way: cannot answer */
			l7_end(s, "%s", why);
			return true;
		}
		u->eof = true; /* nothing more is read from it */
		buf_consume(&u->in, buf_n(&u->in));
		l7_answer(s, 502, RESPOND_UPSTREAM_BAD, why, true, false);
		return true;
	}
	s->resp_seen = 0;
	u->pass += (size_t)rc;
	s->rq.status = s->resp.resp.status;
	if (s->resp.interim) { /* 100 Continue and friends: relayed, the final one follows */
		h1msg_init(&s->resp, H1MSG_RESPONSE, s->resp.req_head, false);
		return true;
	}
	if (s->resp.body == H1MSG_BODY_TUNNEL) {
		if (!s->req.upgrade) {
			l7_end(s, "upstream switched protocols (%d) without an upgrade request",
			       s->rq.status);
			return true;
		}
		s->rq.note = "upgraded: the bytes after the 101 are relayed, not inspected";
		l7_log_request(s);
		s->dn = DN_TUNNEL;
		s->up = UP_TUNNEL;
		return true;
	}
	s->dn = DN_BODY;
	s->resp_done = s->resp.body == H1MSG_BODY_NONE;
	return true;
}

static bool
l7_dn_body(struct l7 *s)
{
	struct l7_side *u = &s->u;
	size_t n = buf_n(&u->in);
	bool moved = false;

	if (!s->resp_done && u->pass < n) {
		bool done = false;
		ssize_t k = h1msg_body(&s->resp, buf_data(&u->in) + u->pass, n - u->pass, &done);

		if (k == -1) {
			l7_end(s, "response body from %s: %s", s->conf.host,
			       s->resp.err ? s->resp.err : "malformed");
			return true;
		}
		u->pass += (size_t)k;
		s->resp_done = done;
		moved = k > 0 || done;
	}
	if (!s->resp_done && u->eof && u->pass == buf_n(&u->in)) {
		if (s->resp.body == H1MSG_BODY_UNTIL_CLOSE) {
			s->resp_done = true; /* its end is the close */
			l7_close_after(s, "finished (response delimited by the upstream's close)");
			moved = true;
		} else if (u->pass == 0) {
			/* never completed by the proxy: the client must see a broken response */
			l7_end(s, "upstream closed the connection in the middle of a response body");
			return true;
		}
	}
	if (s->resp_done && u->pass == 0) {
		if (!s->resp.keep_alive || !s->req_keep)
			l7_close_after(s, "finished (Connection: close)");
		s->dn = DN_IDLE;
		moved = true;
	}
	return moved;
}

static bool
l7_dn_step(struct l7 *s)
{
	switch (s->dn) {
	case DN_IDLE:
		if (buf_n(&s->u.in) > 0) {
			l7_end(s, "upstream sent %zu bytes with no request outstanding",
			       buf_n(&s->u.in));
			return true;
		}
		if (s->u.eof && !s->close_after && s->up != UP_WAIT) {
			/* an idle keep-alive connection the origin closed: the client reconnects */
			l7_end(s, "upstream closed the idle connection");
			return true;
		}
		return false;
	case DN_HEAD:
		return l7_dn_head(s);
	case DN_BODY:
		return l7_dn_body(s);
	case DN_LOCAL:
		if (l7_out_pending(&s->c))
			return false;
		s->dn = DN_IDLE;
		return true;
	case DN_TUNNEL:
		if (l7_tunnel(&s->u, &s->c))
			return true;
		if (s->u.eof && s->c.eof && s->u.pass == 0 && s->c.pass == 0) {
			l7_end(s, "finished (upgraded connection closed)");
			return true;
		}
		return false;
	}
	return false;
}

/* --- closing after a response: flush, close_notify + FIN, read until the client's EOF
 * (closing with unread bytes would send an RST that can destroy the response) --- */

static bool
l7_finish_step(struct l7 *s)
{
	if (!s->close_after)
		return false;
	if (!s->finishing) {
		if (l7_out_pending(&s->c) || s->u.pass > 0 || s->dn == DN_HEAD ||
		    (s->dn == DN_BODY && !s->resp_done))
			return false;
		l7_log_request(s);
		tstream_shutdown(&s->c.ts); /* best effort */
		s->c.shut = true;
		s->finishing = true;
		s->t_fin = ut_now_ms();
		return true;
	}
	if (buf_n(&s->c.in) > 0) {
		buf_consume(&s->c.in, buf_n(&s->c.in));
		s->c.pass = 0;
		return true;
	}
	if (s->c.eof) {
		l7_end(s, "%s", s->fin_why);
		return true;
	}
	return false;
}

void
l7_ready(struct l7 *s, bool client)
{
	(client ? &s->c : &s->u)->ready = true;
}

enum l7_status
l7_run(struct l7 *s)
{
	int i;

	s->again = false;
	for (i = 0; i < L7_RUN_MAX && !s->ended; i++) {
		bool moved = false;

		if (!s->c.hs_done || (!s->u.hs_done && !s->upstream_failed))
			moved |= l7_handshake(s);
		if (s->ended)
			break;
		moved |= l7_read(s, &s->c);
		if (!s->finishing) {
			moved |= l7_read(s, &s->u);
			moved |= l7_up_step(s);
			moved |= l7_dn_step(s);
			moved |= l7_write(s, &s->u, &s->c);
		}
		moved |= l7_write(s, &s->c, &s->u);
		moved |= l7_finish_step(s);
		if (!moved)
			break;
	}
	/* Stopped while still moving: decrypted bytes may wait inside OpenSSL where epoll
	 * cannot see them; ask to be woken again as soon as a socket is writable. */
	s->again = i == L7_RUN_MAX;
	return s->ended ? L7_END : L7_GO;
}

/* --- what to wait for --- */

static uint32_t
l7_ev(unsigned want, unsigned dflt)
{
	unsigned w = want ? want : dflt;

	return ((w & TS_WANT_READ) ? EV_READ : 0u) | ((w & TS_WANT_WRITE) ? EV_WRITE : 0u);
}

static uint32_t
l7_side_events(const struct l7_side *x, bool rd, bool wr)
{
	uint32_t m = 0;

	if (!x->hs_done)
		return l7_ev(x->rwant, TS_WANT_READ);
	if (rd && !x->eof && buf_n(&x->in) < L7_BUF_SIZE)
		m |= l7_ev(x->rwant, TS_WANT_READ);
	if (wr && !x->shut)
		m |= l7_ev(x->wwant, TS_WANT_WRITE);
	return m;
}

void
l7_events(const struct l7 *s, uint32_t *cmask, uint32_t *umask)
{
	bool c_wr = l7_out_pending(&s->c) || s->u.pass > 0;
	bool u_wr = l7_out_pending(&s->u) || s->c.pass > 0;

	*cmask = *umask = 0;
	if (s->ended)
		return;
	*cmask = l7_side_events(&s->c, true, c_wr);
	if (!s->finishing && !(s->upstream_failed && !s->u.hs_done))
		*umask = l7_side_events(&s->u, true, u_wr);
	if (s->again) {
		*cmask |= EV_WRITE;
		*umask |= s->upstream_failed ? 0 : EV_WRITE;
	}
}

long long
l7_deadline(const struct l7 *s)
{
	if (s->finishing)
		return s->t_fin + CONN_REPLY_MS;
	if (!s->c.hs_done || (!s->u.hs_done && !s->upstream_failed))
		return s->t0 + CONN_HEAD_MS;
	if (s->up == UP_HEAD && s->t_head > 0)
		return s->t_head + CONN_HEAD_MS;
	return s->t_last + CONN_IDLE_MS;
}

enum l7_status
l7_expire(struct l7 *s, long long now_ms)
{
	if (s->ended || now_ms < l7_deadline(s))
		return s->ended ? L7_END : L7_GO;
	if (s->finishing) {
		l7_end(s, "%s (the client did not close within %d s)", s->fin_why,
		       CONN_REPLY_MS / 1000);
	} else if (!s->c.hs_done || (!s->u.hs_done && !s->upstream_failed)) {
		l7_end(s, "TLS handshake with the %s did not finish within %d s",
		       s->c.hs_done ? "upstream" : "client", CONN_HEAD_MS / 1000);
	} else if (s->up == UP_HEAD && s->t_head > 0 && s->dn == DN_IDLE && !s->close_after) {
		char why[128];

		snprintf(why, sizeof(why), "no complete request head within %d s",
			 CONN_HEAD_MS / 1000);
		l7_rq_start(s, "?", 1);
		s->rq.error = RESPOND_REQUEST_TIMEOUT;
		s->rq.decision = "deny";
		ut_strlcpy(s->rq.reason, why, sizeof(s->rq.reason));
		s->t_head = 0;
		l7_answer(s, 408, RESPOND_REQUEST_TIMEOUT, why, true, false);
		return l7_run(s);
	} else {
		l7_end(s, "idle timeout (%d s)", CONN_IDLE_MS / 1000);
	}
	return L7_END;
}

/* --- life cycle --- */

struct l7 *
l7_new(const struct l7_conf *conf, int cfd, int ufd, bool tls, const void *first, size_t flen,
       char *err, size_t errlen)
{
	struct l7 *s = calloc(1, sizeof(*s));
	SSL *cssl = NULL, *ussl = NULL;
	int e;

	if (s == NULL)
		goto nomem;
	s->conf = *conf;
	gen_ref(s->conf.gen); /* put back in l7_free() */
	if ((s->canon = malloc(L7_CANON_LEN)) == NULL ||
	    (s->c.in.p = malloc(L7_BUF_SIZE)) == NULL || (s->u.in.p = malloc(L7_BUF_SIZE)) == NULL)
		goto nomem;
	if (tls) {
		if (conf->ca == NULL) {
			snprintf(err, errlen, "TLS termination without a CA");
			errno = EINVAL;
			goto fail;
		}
		if ((cssl = tls_ca_server_ssl(conf->ca, conf->host, cfd, err, errlen)) == NULL)
			goto fail;
		if (conf->upstream == NULL) {
			s->upstream_failed = true;
			snprintf(s->upstream_err, sizeof(s->upstream_err),
				 "%s: no TLS client context towards origins", conf->host);
		} else if ((ussl = tls_upstream_ssl(conf->upstream, conf->host, ufd, s->upstream_err,
						    sizeof(s->upstream_err))) == NULL) {
			s->upstream_failed = true;
		}
	}
	/* tstream_init takes the SSL even when it fails */
	if (tstream_init(&s->c.ts, cfd, cssl, first, flen) == -1) {
		SSL_free(ussl);
		goto nomem;
	}
	if (tstream_init(&s->u.ts, ufd, ussl, NULL, 0) == -1)
		goto nomem;
	s->c.tls = tls;
	s->u.tls = ussl != NULL;
	s->c.hs_done = !tls;
	s->u.hs_done = !tls;
	h1msg_init(&s->req, H1MSG_REQUEST, false, false);
	s->t0 = s->t_last = ut_now_ms();
	return s;
nomem:
	snprintf(err, errlen, "out of memory for the HTTP session");
	errno = ENOMEM;
fail:
	e = errno;
	l7_free(s);
	errno = e;
	return NULL;
}

bool
l7_upgraded(const struct l7 *s)
{
	return s->up == UP_TUNNEL;
}

void
l7_free(struct l7 *s)
{
	if (s == NULL)
		return;
	l7_log_request(s);
	tstream_free(&s->c.ts);
	tstream_free(&s->u.ts);
	free(s->c.in.p);
	s->c.in.p = NULL;
	free(s->u.in.p);
	s->u.in.p = NULL;
	sbuf_free(&s->c.out);
	sbuf_free(&s->u.out);
	sbuf_free(&s->rq.path);
	free(s->canon);
	s->canon = NULL;
	gen_put(&s->conf.gen); /* after the last log line: its block points into it */
	free(s);
}
