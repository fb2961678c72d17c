/*
 * proxy/conn_decide: from the request head to a decision. Reads and parses the head
 * (CONNECT or absolute-form), asks who is calling (proxy_ops.identify), decides under
 * the current policy generation (L4, L7 for a forward request, the uninspectable-tunnel
 * refusal, learn mode), and decides again when a new generation arrives while the
 * connection resolves or dials. Proxy loop only; split from conn.c (contract in conn.h).
 * A refusal answers the client itself (conn_reply) or closes the connection.
 */
#include "proxy/conn.h"
#include "proxy/conn_int.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/canon.h"
#include "policy/engine.h"
#include "proxy/forward.h"
#include "proxy/gen.h"
#include "proxy/http1.h"
#include "proxy/respond.h"
#include "util/util.h"

static int
conn_identify(struct conn *c)
{
	char why[ENGINE_REASON_MAX];
	int probe;

	if (c->px->ops.identify(c->px->ops.arg, &c->peer, &c->local, &c->who, why, sizeof(why)) ==
	    -1) {
		/* A lookup that failed because the proxy has no fd left to read /proc with is
		 * an overload, not a verdict on the caller (refused all the same). */
		probe = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
		if (probe == -1 && (errno == EMFILE || errno == ENFILE)) {
			conn_reply(c, 503, RESPOND_OVERLOADED,
				   "the proxy is out of file descriptors (%zu connections open); "
				   "hint: retry later, or raise agentcage's RLIMIT_NOFILE",
				   c->px->nlive);
			return -1;
		}
		if (probe != -1)
			close(probe);
		conn_reply(c, 403, RESPOND_POLICY_DENIED, "caller identity: %s", why);
		return -1;
	}
	return 0;
}

/*
 * True when <d> allowed a CONNECT to an endpoint whose HTTP rules restrict requests
 * under enforcement: passing such a tunnel through would let every request by (git
 * push where only clone is allowed). An `access: full` endpoint without deny rules, or
 * an audit-mode one, loses nothing but its request log when passed through.
 */
bool
conn_tunnel_needs_l7(const struct decision *d)
{
	const struct pol_endpoint *ep = d->endpoint;

	if (!d->inspect || ep == NULL || ep->enforcement != POL_ENF_ENFORCE)
		return false;
	return !(ep->access == POL_ACCESS_FULL && ep->ndeny_rules == 0);
}

/* Fail closed when this proxy has no CA (TLS termination off): the tunnel's requests
 * cannot be checked. */
static void
conn_refuse_uninspectable(struct conn *c)
{
	const struct pol_block *b = c->dec.block;

	c->dec.allow = false;
	snprintf(c->dec.reason, sizeof(c->dec.reason),
		 "%s:%u is allowed by block %s only for some HTTP requests (enforcement: "
		 "enforce), and agentcage cannot inspect requests inside a CONNECT tunnel here "
		 "(TLS termination is off: no CA), so the tunnel is refused rather than passed "
		 "through unchecked; hint: plain http:// requests to it are checked and "
		 "forwarded, or use `access: full` if every request may pass",
		 c->host, c->port, b ? b->key : "-");
}

bool
conn_learn(const struct proxy_ctx *px, struct decision *d, bool l4_denied)
{
	char why[ENGINE_REASON_MAX];

	if (!px->learn || d->allow || d->malformed)
		return false;
	ut_strlcpy(why, d->reason, sizeof(why));
	snprintf(d->reason, sizeof(d->reason), "learn mode: would be denied: %.990s", why);
	d->allow = true;
	d->learn = l4_denied;
	return true;
}

const struct engine *
conn_engine(const struct conn *c)
{
	return c->gen != NULL ? c->gen->engine : c->px->engine;
}

/*
 * Decides c->dec under the current generation (taking a reference to it): L4, then L7
 * for a forward request to an endpoint with HTTP rules, then learn mode. <canon> gets
 * the canonical target (forward requests only). 0: allowed or learned; 1: denied
 * (c->dec.reason says why); -1: the connection was closed.
 */
static int
conn_decide_now(struct conn *c, char *canon, size_t canon_len)
{
	const struct ident id = {
		.exe = c->who.exe,
		.ancestors = (const char *const *)c->who.ancestors,
		.nancestors = c->who.nancestors,
	};
	const struct engine *e;
	bool l4;

	gen_put(&c->gen);
	c->gen = gen_ref(c->px->gen);
	e = conn_engine(c);
	if (engine_decide_connect(e, &id, c->host, c->port, &c->dec) == -1)
		goto refused;
	l4 = c->dec.allow;
	if (c->dec.allow && !c->is_connect && c->dec.l7 &&
	    engine_decide_request(e, &id, c->host, c->port, c->method, c->head + c->target_off,
				  c->target_len, &c->dec, canon, canon_len) == -1)
		goto refused;
	if (c->dec.allow && c->is_connect && c->px->ca == NULL && conn_tunnel_needs_l7(&c->dec))
		conn_refuse_uninspectable(c);
	c->learned = conn_learn(c->px, &c->dec, !l4);
	return c->dec.allow ? 0 : 1;
refused:
	conn_close(c, "policy engine refused the arguments");
	return -1;
}

static int
conn_decide(struct conn *c, char *canon, size_t canon_len)
{
	int rc = conn_decide_now(c, canon, canon_len);

	if (rc == 1)
		conn_reply(c, 403, RESPOND_POLICY_DENIED, "%s", c->dec.reason);
	if (rc != 0)
		return -1;
	c->allowed = true;
	ut_strlcpy(c->reason, c->dec.reason, sizeof(c->reason));
	return 0;
}

/*
 * A new generation came while this connection was resolving or dialling: it is decided
 * again under it (new connections use the current generation); <dialled>: the address
 * already dialled is checked again too. 0: carry on; -1: refused (403) or closed.
 */
int
conn_follow_generation(struct conn *c, bool dialled)
{
	const size_t canon_len = CANON_OUT_MAX + ENGINE_MAX_QUERY + 2;
	cleanup_free char *canon = NULL;
	char why[ENGINE_REASON_MAX];
	const struct sockaddr_storage *sa;
	int rc;

	if (c->px->gen == NULL || c->gen == c->px->gen)
		return 0;
	if (!c->is_connect && (canon = malloc(canon_len)) == NULL) {
		conn_close(c, "out of memory");
		return -1;
	}
	rc = conn_decide_now(c, canon, canon_len);
	if (rc == -1)
		return -1;
	if (rc == 1) {
		conn_reply(c, 403, RESPOND_POLICY_DENIED,
			   "policy generation %llu no longer allows it: %.900s", c->gen->n,
			   c->dec.reason);
		return -1;
	}
	ut_strlcpy(c->reason, c->dec.reason, sizeof(c->reason));
	if (!dialled || c->next_addr == 0)
		return 0;
	sa = &c->ans.addrs[c->next_addr - 1];
	if (c->px->ops.check_address(conn_engine(c), &c->dec, c->host, (const struct sockaddr *)sa,
				     c->port, why, sizeof(why)) == 0)
		return 0;
	c->allowed = false;
	conn_reply(c, 403, RESPOND_DESTINATION_DENIED, "policy generation %llu: %.990s", c->gen->n,
		   why);
	return -1;
}

static void
conn_set_host(struct conn *c, struct http1_slice host, uint16_t port)
{
	size_t n = host.len < sizeof(c->host) ? host.len : sizeof(c->host) - 1;

	for (size_t i = 0; i < n; i++) {
		char ch = host.p[i];
		c->host[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	c->host[n] = '\0';
	c->port = port;
}

/* A complete head: CONNECT or absolute-form; identity, policy, then the lookup. */
static void
conn_on_head(struct conn *c, const struct http1_req *req, const struct http1_hdr *hdrs,
	     size_t n)
{
	struct http1_framing fr;
	struct http1_authority au;
	struct http1_url url;
	const char *why = NULL;
	char method[32];
	cleanup_free char *canon = NULL;
	const size_t canon_len = CANON_OUT_MAX + ENGINE_MAX_QUERY + 2;

	if (http1_body_framing(req, hdrs, n, &fr, &why) == -1) {
		conn_reply(c, 400, RESPOND_BAD_REQUEST, "%s", why);
		return;
	}
	c->is_connect = http1_slice_eq(req->method, "CONNECT");
	if (c->is_connect) {
		if (http1_parse_authority(req->target.p, req->target.len, &au, &why) == -1) {
			conn_reply(c, 400, RESPOND_BAD_REQUEST, "CONNECT target: %s", why);
			return;
		}
		conn_set_host(c, au.host, au.port);
		/* Bytes the client sent after its head belong to the tunnel (a TLS ClientHello
		 * sent without waiting for our 200). */
		sbuf_add(&c->pre, c->head + c->head_end, c->hlen - c->head_end);
	} else {
		if (http1_parse_absolute(req->target.p, req->target.len, &url, &why) == -1) {
			conn_reply(c, 400, RESPOND_BAD_REQUEST, "%s; hint: this is a proxy: send "
				   "CONNECT host:port, or an absolute URL (GET http://host/path)", why);
			return;
		}
		conn_set_host(c, url.host, url.port);
	}
	conn_set_state(c, CS_DECIDE);
	if (c->state != CS_DECIDE || conn_identify(c) == -1)
		return;
	if (!c->is_connect && (canon = malloc(canon_len)) == NULL) {
		conn_close(c, "out of memory");
		return;
	}
	if (ut_snprintf(method, sizeof(method), "%.*s", (int)req->method.len, req->method.p) == -1) {
		conn_reply(c, 400, RESPOND_BAD_REQUEST, "method longer than %zu bytes",
			   sizeof(method) - 1);
		return;
	}
	ut_strlcpy(c->method, method, sizeof(c->method));
	c->target_off = (size_t)(req->target.p - c->head);
	c->target_len = req->target.len;
	if (conn_decide(c, canon, canon_len) == -1)
		return;
	/* A forward request ends where its body ends (its length, or its last chunk), so a
	 * request pipelined behind it never reaches the upstream undecided. */
	if (!c->is_connect &&
	    forward_build(&c->pre, req, hdrs, n, &url, c->host, c->port,
			  c->dec.l7 && canon[0] != '\0' ? canon : NULL, &fr, c->head + c->head_end,
			  c->hlen - c->head_end, &c->body, &why) == -1) {
		if (errno == ENOMEM)
			conn_close(c, "out of memory");
		else
			conn_reply(c, 400, RESPOND_BAD_REQUEST, "request body: %s", why);
		return;
	}
	conn_resolve(c);
}

void
conn_read_head(struct conn *c)
{
	struct http1_hdr hdrs[HTTP1_MAX_HEADERS];
	struct http1_req req;
	size_t nh = NELEM(hdrs);
	ssize_t n;
	int rc;

	/* One read per readiness event: a head usually comes whole, and a read until
	 * EAGAIN would cost a second syscall per connection to learn that; the rest of a
	 * split head raises another (level-triggered) event. */
	n = TEMP_FAILURE_RETRY_INT(read(c->cfd, c->head + c->hlen, sizeof(c->head) - c->hlen));
	if (n == -1 && errno == EAGAIN)
		return;
	if (n <= 0) {
		conn_close(c, n == 0 ? "client closed before a complete request"
				     : "client read error");
		return;
	}
	c->hlen += (size_t)n;
	rc = http1_parse_request(c->head, c->hlen, c->hseen, &req, hdrs, &nh);
	if (rc == HTTP1_PARTIAL) {
		c->hseen = c->hlen;
		if (c->hlen < sizeof(c->head))
			return;
		/* the parser reports 431 itself past HTTP1_MAX_HEAD; this is a backstop */
		conn_reply(c, 431, RESPOND_BAD_REQUEST, "request head over %d bytes", HTTP1_MAX_HEAD);
		return;
	}
	if (rc == HTTP1_BAD) {
		conn_reply(c, req.err_status, RESPOND_BAD_REQUEST, "byte %zu: %s", req.err_off,
			   req.err);
		return;
	}
	c->head_end = (size_t)rc;
	conn_on_head(c, &req, hdrs, nh);
}
