/* proxy/conn: one proxied client connection (contract and state diagram in conn.h). */
#include "proxy/conn.h"
#include "proxy/conn_int.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <time.h>

#include "policy/addr.h"
#include "policy/canon.h"
#include "policy/engine.h"
#include "proxy/forward.h"
#include "proxy/gen.h"
#include "proxy/http1.h"
#include "proxy/l7.h"
#include "proxy/resolve.h"
#include "proxy/respond.h"
#include "util/evloop.h"
#include "util/sbuf.h"
#include "util/util.h"


static void conn_client_cb(struct evloop *loop, int fd, uint32_t events, void *data);
static void conn_upstream_cb(struct evloop *loop, int fd, uint32_t events, void *data);
static long conn_timer_cb(struct evloop *loop, long long id, void *data);

static const char *const conn_state_names[] = {
	[CS_HEAD] = "head",   [CS_DECIDE] = "decide", [CS_RESOLVE] = "resolve",
	[CS_DIAL] = "dial",   [CS_RELAY] = "relay",   [CS_REPLY] = "reply",
	[CS_DRAIN] = "drain", [CS_CLOSED] = "closed", [CS_SNIFF] = "sniff",
	[CS_L7] = "l7",
};

const char *
conn_state_str(enum conn_state s)
{
	return (size_t)s < NELEM(conn_state_names) ? conn_state_names[s] : "?";
}

/* The timeout of each state; 0: none (transient states). */
static long
conn_state_timeout(enum conn_state s)
{
	switch (s) {
	case CS_HEAD:
	case CS_SNIFF:
	case CS_L7: return CONN_HEAD_MS; /* CS_L7: re-armed from l7_deadline() */
	case CS_RESOLVE: return CONN_RESOLVE_MS;
	case CS_DIAL: return CONN_DIAL_MS;
	case CS_RELAY: return CONN_IDLE_MS;
	case CS_REPLY:
	case CS_DRAIN: return CONN_REPLY_MS;
	case CS_DECIDE:
	case CS_CLOSED: break;
	}
	return 0;
}

/* The one state setter: logs the transition and re-arms the state's timeout. */
void
conn_set_state(struct conn *c, enum conn_state s)
{
	long ms = conn_state_timeout(s);

	log_debug("%s: conn %d %s -> %s", __func__, c->cfd, conn_state_str(c->state),
		  conn_state_str(s));
	c->state = s;
	if (c->timer > 0)
		evloop_timer_del(c->px->loop, c->timer);
	c->timer = 0;
	if (ms > 0 && (c->timer = evloop_timer_add(c->px->loop, ms, conn_timer_cb, c)) == -1) {
		c->timer = 0;
		conn_close(c, "no memory for a timer"); /* a state without a timeout: refuse */
	}
}

int
conn_rearm(struct conn *c, long ms)
{
	if (c->timer > 0)
		evloop_timer_del(c->px->loop, c->timer);
	c->timer = evloop_timer_add(c->px->loop, ms, conn_timer_cb, c);
	if (c->timer == -1) {
		c->timer = 0;
		return -1;
	}
	return 0;
}

/* Registers (or updates) the events wanted on the client and upstream sockets. */
int
conn_watch(struct conn *c, uint32_t cmask, uint32_t umask)
{
	if (cmask != c->cmask) {
		if (evloop_mod(c->px->loop, c->cfd, cmask) == -1)
			return -1;
		c->cmask = cmask;
	}
	if (c->ufd < 0)
		return 0;
	if (!c->u_registered) {
		if (evloop_add(c->px->loop, c->ufd, umask, conn_upstream_cb, c) == -1)
			return -1;
		c->u_registered = true;
		c->umask = umask;
	} else if (umask != c->umask) {
		if (evloop_mod(c->px->loop, c->ufd, umask) == -1)
			return -1;
		c->umask = umask;
	}
	return 0;
}

/* Unregisters and closes the upstream socket: evloop_forget(), as the close() right
 * after takes it out of the epoll set (the proxy never shares its sockets). */
static void
conn_close_upstream(struct conn *c)
{
	if (c->u_registered)
		evloop_forget(c->px->loop, c->ufd);
	c->u_registered = false;
	c->umask = 0;
	ut_close(&c->ufd);
}

static void
conn_who_free(struct conn_who *w)
{
	for (size_t i = 0; i < w->nancestors; i++)
		free(w->ancestors[i]);
	free(w->ancestors);
	w->ancestors = NULL;
	w->nancestors = 0;
	free(w->exe);
	w->exe = NULL;
}

/* The connection's "net" line, once; <why> is how it ended. */
static void
conn_log(struct conn *c, const char *why)
{
	const struct pol_block *b = c->dec.block;
	struct declog_event ev = {
		.pid = c->who.pid, .binary = c->who.exe,
		.ancestors = (const char *const *)c->who.ancestors, .nancestors = c->who.nancestors,
		.host = c->host[0] ? c->host : NULL, .port = c->port,
		.address = c->address[0] ? c->address : NULL, .allow = c->allowed,
		.learn = c->learned, .generation = c->gen ? c->gen->n : conn_generation(c->px),
		.error = c->error, .block = b ? b->key : NULL, .reason = c->reason,
		.end = why, .bytes_up = c->relaying ? c->up.bytes : 0,
		.bytes_down = c->relaying ? c->down.bytes : 0,
		.duration_ms = ut_now_ms() - c->t0_ms,
	};

	if (c->l7_up + c->l7_down > 0) {
		ev.bytes_up = c->l7_up;
		ev.bytes_down = c->l7_down;
	}

	if (c->logged || (c->host[0] == '\0' && c->error == NULL))
		return; /* a client that connected and left without a request: no decision */
	c->logged = true;
	if (c->relaying && c->down.bytes >= strlen(RESPOND_ESTABLISHED) && c->is_connect)
		ev.bytes_down -= strlen(RESPOND_ESTABLISHED); /* count the upstream's bytes only */
	declog_write(&c->px->log, &ev);
}

static long
conn_reap_cb(struct evloop *loop, long long id, void *data)
{
	struct proxy_ctx *px = data;

	(void)loop;
	(void)id;
	px->reap_timer = 0;
	conn_reap(px);
	return EV_TIMER_STOP;
}

void
conn_reap(struct proxy_ctx *px)
{
	struct conn *c;

	while ((c = px->reap) != NULL) {
		px->reap = c->next;
		free(c);
		px->freed++;
	}
	/* After a burst (thousands of tunnels, each ~25 KiB), give the freed heap back to
	 * the system once nothing is open, instead of holding the peak for the sandbox's
	 * life. */
	if (px->nlive == 0 && px->freed >= CONN_TRIM_AFTER) {
		malloc_trim(0);
		px->freed = 0;
	}
	if (px->nlive == 0 && px->ops.idle != NULL)
		px->ops.idle(px->ops.arg);
}

/* The one teardown (house rule 10): logs once, frees both sides. The memory itself is
 * freed by a 0 ms timer, after the callback that called us has returned. */
void
conn_close(struct conn *c, const char *why)
{
	struct proxy_ctx *px = c->px;

	char end[ENGINE_REASON_MAX];

	if (c->state == CS_CLOSED)
		return;
	log_debug("%s: conn %d in %s: %s", __func__, c->cfd, conn_state_str(c->state), why);
	if (c->error == NULL && c->allowed && c->reason[0] == '\0')
		ut_strlcpy(c->reason, why, sizeof(c->reason));
	/* <why> may live in the session freed below (l7_why()): the log line needs a copy. */
	ut_strlcpy(end, why, sizeof(end));
	why = end;
	if (c->l7 != NULL) {
		/* its request line first (a request still in flight), then the "net" line */
		l7_bytes(c->l7, &c->l7_up, &c->l7_down);
		l7_free(c->l7);
		c->l7 = NULL;
	}
	conn_log(c, why);
	gen_put(&c->gen); /* after the log line: its block points into the generation */
	conn_set_state(c, CS_CLOSED);
	if (c->rq > 0)
		resolver_cancel(px->resolver, c->rq);
	c->rq = 0;
	conn_close_upstream(c);
	evloop_forget(px->loop, c->cfd); /* the close() below leaves epoll: no syscall */
	ut_close(&c->cfd);
	if (c->relaying) {
		relay_free(&c->up);
		relay_free(&c->down);
	}
	sbuf_free(&c->pre);
	free(c->body.chunked);
	c->body.chunked = NULL;
	conn_who_free(&c->who);
	/* unlink from the live list, onto the reap list */
	if (c->prev)
		c->prev->next = c->next;
	else
		px->live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	px->nlive--;
	c->prev = NULL;
	c->next = px->reap;
	px->reap = c;
	if (px->reap_timer == 0 &&
	    (px->reap_timer = evloop_timer_add(px->loop, 0, conn_reap_cb, px)) == -1)
		px->reap_timer = 0; /* freed at the next close or at proxy_free() */
}

void
conn_close_all(struct proxy_ctx *px)
{
	while (px->live != NULL)
		conn_close(px->live, "the sandbox ended");
}

/* --- our own responses --- */

static void
conn_reply_write(struct conn *c)
{
	while (c->roff < c->rlen) {
		ssize_t n = send(c->cfd, c->reply + c->roff, c->rlen - c->roff, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1) {
			conn_close(c, "client went away before the response was sent");
			return;
		}
		c->roff += (size_t)n;
	}
	/* Shut our side and read until the client's EOF: closing with unread bytes would
	 * send an RST that can destroy the response before the client reads it. */
	shutdown(c->cfd, SHUT_WR);
	conn_set_state(c, CS_DRAIN);
	if (c->state == CS_DRAIN && conn_watch(c, EV_READ, 0) == -1)
		conn_close(c, "event loop refused the client socket");
}

void
conn_reply(struct conn *c, int status, const char *kind, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (vsnprintf(c->reason, sizeof(c->reason), fmt, ap) < 0)
		c->reason[0] = '\0';
	va_end(ap);
	c->error = kind;
	if (strcmp(kind, RESPOND_POLICY_DENIED) == 0 || strcmp(kind, RESPOND_DESTINATION_DENIED) == 0)
		c->px->denied++;
	n = respond_error(c->reply, sizeof(c->reply), status, kind, c->reason);
	c->rlen = n > 0 ? (size_t)n : 0;
	c->roff = 0;
	if (c->rq > 0)
		resolver_cancel(c->px->resolver, c->rq);
	c->rq = 0;
	conn_close_upstream(c);
	conn_set_state(c, CS_REPLY);
	if (c->state != CS_REPLY)
		return;
	if (conn_watch(c, EV_WRITE, 0) == -1) {
		conn_close(c, "event loop refused the client socket");
		return;
	}
	conn_reply_write(c);
}

static void
conn_drain(struct conn *c)
{
	char buf[4096];

	for (;;) {
		ssize_t n = read(c->cfd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		conn_close(c, c->reason[0] ? c->reason : "response sent");
		return;
	}
}

/* --- relay --- */

static void
conn_pump(struct conn *c)
{
	const uint64_t before = c->up.bytes + c->down.bytes;
	bool done;

	if (c->sniffing) {
		conn_sni_check(c);
		if (c->state != CS_RELAY)
			return;
	}
	/* A direction that ends while the other has read its socket to EOF ends the
	 * connection: the close() right after sends its FIN (relay.h). The upstream's
	 * direction always reads to EOF; a forward request's client direction stops at
	 * its body's end, with maybe a pipelined request unread: it keeps its shutdown(),
	 * whose FIN goes before the reset such a close() sends. */
	c->up.close_follows = relay_done(&c->down);
	if (!c->sniffing && relay_pump(&c->up) == -1) {
		conn_close(c, errno == ECONNRESET ? "client reset the connection"
			      : errno == EPROTO	 ? "malformed chunked request body"
						 : "relay to upstream failed");
		return;
	}
	c->down.close_follows = c->is_connect && !c->sniffing && relay_done(&c->up);
	if (relay_pump(&c->down) == -1) {
		conn_close(c, errno == ECONNRESET ? "upstream reset the connection" : "relay to client failed");
		return;
	}
	if (c->up.bytes + c->down.bytes != before)
		c->last_io_ms = ut_now_ms(); /* idle means no byte moved, not no wake-up */
	/* A tunnel ends when both directions have; a forward request when the response has
	 * (the upstream closes after it: we sent "Connection: close"). */
	done = relay_done(&c->down) && ((!c->sniffing && relay_done(&c->up)) || !c->is_connect);
	if (done) {
		conn_close(c, "finished");
		return;
	}
	if (conn_watch(c,
		       (relay_want_read(&c->up) || c->sniffing ? EV_READ : 0) |
			       (relay_want_write(&c->down) ? EV_WRITE : 0),
		       (relay_want_read(&c->down) ? EV_READ : 0) |
			       (relay_want_write(&c->up) ? EV_WRITE : 0)) == -1)
		conn_close(c, "event loop refused a socket");
}

static void
conn_on_connected(struct conn *c)
{
	static const int one = 1;
	struct proxy_ctx *px = c->px;
	const char *est = c->is_connect ? RESPOND_ESTABLISHED : "";

	if (conn_follow_generation(c, true) == -1)
		return;
	setsockopt(c->ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* best effort */
	if (!px->client_nodelay)
		setsockopt(c->cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->is_connect && c->dec.inspect && px->ca != NULL) {
		memcpy(c->reply, RESPOND_ESTABLISHED, strlen(RESPOND_ESTABLISHED));
		c->rlen = strlen(RESPOND_ESTABLISHED);
		c->roff = 0;
		conn_set_state(c, CS_SNIFF);
		if (c->state == CS_SNIFF)
			conn_sniff(c);
		return;
	}
	if (c->is_connect) {
		/* c->up starts once the client's first bytes passed the SNI check */
		memset(&c->up, 0, sizeof(c->up));
		c->up.pipe[0] = c->up.pipe[1] = -1;
		c->sniffing = true;
		/* A client that waits for the 200 has nothing to read yet: the first read
		 * waits for its readiness event (still registered unless it fired). */
		c->c_dry = !c->c_pending;
	} else if (relay_init(&c->up, c->cfd, c->ufd,
			      c->body.chunked != NULL ? RELAY_COPY : px->relay_mode, c->pre.s,
			      c->pre.len) == -1) {
		goto nomem;
	} else {
		c->up.evented = true;
		c->up.dry = !c->c_pending; /* as for sniffing above */
	}
	if (relay_init(&c->down, c->ufd, c->cfd, px->relay_mode, est, strlen(est)) == -1) {
		relay_free(&c->up);
		goto nomem;
	}
	/* The upstream has not been sent anything yet: unless it speaks first (SSH, SMTP),
	 * a read now finds nothing; one that does raises a readiness event. */
	c->down.evented = true;
	c->down.dry = true;
	if (!c->sniffing)
		sbuf_free(&c->pre);
	c->relaying = true;
	if (!c->is_connect) {
		/* Only this request's body goes upstream; a pipelined request is dropped. */
		c->up.shut_on_eof = false;
		if (c->body.chunked != NULL) {
			if (relay_frame(&c->up, c->body.chunked) == -1) { /* RELAY_COPY above */
				conn_close(c, "internal error: chunked body on a splicing relay");
				return;
			}
		} else {
			c->up.left = c->body.left;
			c->up.eof = c->body.left == 0;
		}
	}
	if (c->learned)
		px->learned++;
	else
		px->served++;
	conn_set_state(c, CS_RELAY);
	if (c->state == CS_RELAY)
		conn_pump(c);
	return;
nomem:
	conn_close(c, "out of memory for relay buffers");
}

/* --- dial --- */

static void
conn_dial_failed(struct conn *c)
{
	if (c->dial_timed_out)
		conn_reply(c, 504, RESPOND_UPSTREAM_TIMEOUT,
			   "connecting to %s:%u (%s) timed out after %d s", c->host, c->port,
			   c->address, CONN_DIAL_MS / 1000);
	else
		conn_reply(c, 502, RESPOND_UPSTREAM_UNREACHABLE, "connecting to %s:%u failed: %s",
			   c->host, c->port, c->dial_err[0] ? c->dial_err : "no address");
}

static socklen_t
conn_salen(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* Tries the next accepted address; ends in CS_DIAL, relay, or a 502/504. */
static void
conn_dial_next(struct conn *c)
{
	while (c->next_addr < c->ans.naddrs) {
		const struct sockaddr_storage *sa = &c->ans.addrs[c->next_addr++];
		struct addr a;

		if (addr_from_sockaddr((const struct sockaddr *)sa, &a) == 0)
			addr_format(&a, c->address, sizeof(c->address));
		c->dial_timed_out = false;
		c->ufd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->ufd == -1) {
			snprintf(c->dial_err, sizeof(c->dial_err), "%s: socket: %s", c->address,
				 strerror(errno));
			continue;
		}
		if (connect(c->ufd, (const struct sockaddr *)sa, conn_salen(sa)) == 0) {
			conn_on_connected(c);
			return;
		}
		if (errno == EINPROGRESS) {
			conn_set_state(c, CS_DIAL);
			if (c->state == CS_DIAL && conn_watch(c, c->cmask, EV_WRITE) == -1)
				conn_close(c, "event loop refused the upstream socket");
			return;
		}
		snprintf(c->dial_err, sizeof(c->dial_err), "%s: %s", c->address, strerror(errno));
		ut_close(&c->ufd);
	}
	conn_dial_failed(c);
}

static void
conn_dial_result(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0) {
		conn_on_connected(c);
		return;
	}
	snprintf(c->dial_err, sizeof(c->dial_err), "%s: %s", c->address, strerror(err));
	conn_close_upstream(c);
	conn_dial_next(c);
}

/* --- resolve and address rules --- */

static void
conn_on_resolved(struct conn *c, const struct resolve_answer *a)
{
	char why[ENGINE_REASON_MAX] = "";
	size_t kept = 0;

	c->rq = 0;
	if (conn_follow_generation(c, false) == -1)
		return;
	if (a->naddrs == 0) {
		conn_reply(c, 502, RESPOND_DNS_FAILURE, "%s", a->why);
		return;
	}
	/* Every address is checked; only the accepted ones are dialled (no re-resolution
	 * later, so a rebinding DNS answer cannot swap in another address). */
	for (size_t i = 0; i < a->naddrs; i++) {
		char r[ENGINE_REASON_MAX];

		if (c->px->ops.check_address(conn_engine(c), &c->dec, c->host,
					     (const struct sockaddr *)&a->addrs[i], c->port, r,
					     sizeof(r)) == 0)
			c->ans.addrs[kept++] = a->addrs[i];
		else if (why[0] == '\0')
			ut_strlcpy(why, r, sizeof(why));
	}
	c->ans.naddrs = kept;
	if (kept == 0) {
		c->allowed = false;
		conn_reply(c, 403, RESPOND_DESTINATION_DENIED, "%s", why);
		return;
	}
	c->next_addr = 0;
	conn_dial_next(c);
}

static void
conn_resolved_cb(void *data, const struct resolve_answer *a)
{
	struct conn *c = data;

	if (c->state == CS_RESOLVE)
		conn_on_resolved(c, a);
}

void
conn_resolve(struct conn *c)
{
	struct resolve_answer a;

	if (resolve_quick(c->px->resolver, c->host, c->port, &a)) {
		conn_on_resolved(c, &a);
		return;
	}
	c->rq = resolver_submit(c->px->resolver, c->host, c->port, conn_resolved_cb, c);
	if (c->rq == -1) {
		c->rq = 0;
		conn_reply(c, 502, RESPOND_DNS_FAILURE, "cannot look up %s: %s", c->host,
			   errno == EAGAIN ? "too many lookups in progress" : strerror(errno));
		return;
	}
	/* The client stays registered for reading (parked lazily in conn_client_cb). */
	conn_set_state(c, CS_RESOLVE);
}


/* --- callbacks --- */

/*
 * CS_RESOLVE / CS_DIAL: the client stays registered for reading from its head on (no
 * epoll_ctl to park and re-add it per connection); most clients wait for the answer, so
 * this rarely fires. When it does, a hang-up closes; bytes (a TLS ClientHello sent
 * without waiting for the 200) park the socket until the upstream is reached, so the
 * level-triggered loop does not spin on them.
 */
static void
conn_client_wait(struct conn *c, uint32_t events)
{
	if (events & EV_ERROR) {
		conn_close(c, "client went away while the upstream was being reached");
		return;
	}
	c->c_pending = true;
	if (conn_watch(c, 0, c->umask) == -1)
		conn_close(c, "event loop refused the client socket");
}

static void
conn_client_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct conn *c = data;

	(void)loop;
	(void)fd;
	if (events & (EV_READ | EV_ERROR))
		c->c_dry = false;
	switch (c->state) {
	case CS_HEAD:
		conn_read_head(c);
		break;
	case CS_RESOLVE:
	case CS_DIAL:
		conn_client_wait(c, events);
		break;
	case CS_RELAY:
		if (events & (EV_READ | EV_ERROR))
			c->up.dry = false;
		conn_pump(c);
		break;
	case CS_SNIFF:
		conn_sniff(c);
		break;
	case CS_L7:
		l7_ready(c->l7, true);
		conn_l7_run(c);
		break;
	case CS_REPLY:
		conn_reply_write(c);
		break;
	case CS_DRAIN:
		conn_drain(c);
		break;
	case CS_DECIDE:
	case CS_CLOSED:
		break;
	}
}

static void
conn_upstream_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct conn *c = data;

	(void)loop;
	(void)fd;
	if (c->state == CS_DIAL && (events & (EV_WRITE | EV_ERROR)) == EV_WRITE)
		conn_on_connected(c); /* writable without an error: connected (tcp_poll) */
	else if (c->state == CS_DIAL)
		conn_dial_result(c);
	else if (c->state == CS_RELAY) {
		if (events & (EV_READ | EV_ERROR))
			c->down.dry = false;
		conn_pump(c);
	}
	else if (c->state == CS_L7) {
		l7_ready(c->l7, false);
		conn_l7_run(c);
	}
}

static long
conn_timer_cb(struct evloop *loop, long long id, void *data)
{
	struct conn *c = data;
	long long idle;

	(void)loop;
	(void)id;
	switch (c->state) {
	case CS_HEAD:
		c->timer = 0;
		conn_reply(c, 408, RESPOND_REQUEST_TIMEOUT, "no complete request head within %d s",
			   CONN_HEAD_MS / 1000);
		return EV_TIMER_STOP;
	case CS_RESOLVE:
		c->timer = 0;
		conn_reply(c, 502, RESPOND_DNS_FAILURE, "DNS lookup of %s timed out after %d s",
			   c->host, CONN_RESOLVE_MS / 1000);
		return EV_TIMER_STOP;
	case CS_DIAL:
		c->timer = 0;
		c->dial_timed_out = true;
		snprintf(c->dial_err, sizeof(c->dial_err), "%s: timed out", c->address);
		conn_close_upstream(c);
		if (c->next_addr < c->ans.naddrs)
			conn_dial_next(c);
		else
			conn_dial_failed(c);
		return EV_TIMER_STOP;
	case CS_RELAY:
		idle = ut_now_ms() - c->last_io_ms;
		if (idle < CONN_IDLE_MS)
			return (long)(CONN_IDLE_MS - idle); /* activity since: check again later */
		c->timer = 0;
		conn_close(c, "idle timeout");
		return EV_TIMER_STOP;
	case CS_REPLY:
	case CS_DRAIN:
		c->timer = 0;
		conn_close(c, c->reason[0] ? c->reason : "client did not read the response");
		return EV_TIMER_STOP;
	case CS_SNIFF:
		c->timer = 0;
		conn_close(c, "the client sent nothing in the tunnel within the head timeout");
		return EV_TIMER_STOP;
	case CS_L7: {
		const long long now = ut_now_ms();
		long long dl;

		if (l7_expire(c->l7, now) == L7_END) {
			c->timer = 0;
			conn_close(c, l7_why(c->l7));
			return EV_TIMER_STOP;
		}
		dl = l7_deadline(c->l7);
		c->l7_armed = dl;
		conn_l7_run(c); /* l7_expire may have queued a 408 */
		if (c->state != CS_L7)
			return EV_TIMER_STOP; /* closed: its timer was deleted there */
		return dl > now ? (long)(dl - now) : 1;
	}
	case CS_DECIDE:
	case CS_CLOSED:
		break;
	}
	c->timer = 0;
	return EV_TIMER_STOP;
}

int
conn_start_addrs(struct proxy_ctx *px, int fd, const struct sockaddr_storage *peer,
		 const struct sockaddr_storage *local)
{
	struct conn *c = calloc(1, sizeof(*c));
	socklen_t pl = sizeof(c->peer), ll = sizeof(c->local);

	if (c == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	c->px = px;
	c->cfd = fd;
	c->ufd = -1;
	c->state = CS_HEAD;
	c->t0_ms = c->last_io_ms = ut_now_ms();
	if (peer != NULL)
		c->peer = *peer;
	if (local != NULL)
		c->local = *local;
	if ((peer == NULL && getpeername(fd, (struct sockaddr *)&c->peer, &pl) == -1) ||
	    (local == NULL && getsockname(fd, (struct sockaddr *)&c->local, &ll) == -1) ||
	    evloop_add(px->loop, fd, EV_READ, conn_client_cb, c) == -1) {
		const int e = errno;
		close(fd);
		free(c);
		errno = e;
		return -1;
	}
	c->cmask = EV_READ;
	c->next = px->live;
	if (px->live)
		px->live->prev = c;
	px->live = c;
	px->nlive++;
	conn_set_state(c, CS_HEAD); /* arms the head timeout */
	return 0;
}

int
conn_start(struct proxy_ctx *px, int fd)
{
	return conn_start_addrs(px, fd, NULL, NULL);
}
