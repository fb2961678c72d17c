/*
 * proxy/conn_tunnel: the two ways a CONNECT tunnel is watched after its 200 (conn.h):
 * passthrough tunnels get their ClientHello's server name checked against the CONNECT
 * host; inspected ones become an HTTP session (proxy/l7.h). Split from conn.c, whose
 * state machine and teardown it uses through conn_int.h.
 */
#include "proxy/conn.h"
#include "proxy/conn_int.h"

#include <strings.h>

#include "proxy/l7.h"
#include "proxy/respond.h"
#include "proxy/sni.h"
#include "util/evloop.h"
#include "util/sbuf.h"
#include "util/util.h"

/* --- passthrough: the ClientHello's server name must be the CONNECT host --- */

/* <sni> (lower case, no trailing dot) names the CONNECT host (one trailing dot and case
 * ignored). An IP-literal target matches only the same literal: a name sent to an
 * allowed address would reach whatever virtual host the name selects there. */
static bool
conn_sni_matches(const char *host, const char *sni)
{
	size_t hl = strlen(host);

	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	return strlen(sni) == hl && strncasecmp(host, sni, hl) == 0;
}

static void
conn_sni_deny(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* No HTTP answer is possible after the 200: the tunnel just closes. */
static void
conn_sni_deny(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(c->reason, sizeof(c->reason), fmt, ap) < 0)
		c->reason[0] = '\0';
	va_end(ap);
	c->allowed = false;
	c->error = RESPOND_SNI_MISMATCH;
	c->px->denied++;
	conn_close(c, c->reason);
}

/* Reads the client's first bytes into c->pre until they show whether the tunnel may
 * carry them; then hands them to the client -> upstream relay. */
void
conn_sni_check(struct conn *c)
{
	char name[SNI_MAX_NAME + 1];
	const char *why = NULL;
	int st;

	for (;;) {
		const unsigned char *b = (const unsigned char *)c->pre.s;
		char chunk[4096];
		size_t want;
		ssize_t n;

		st = sni_is_tls(b, c->pre.len);
		if (st == 1)
			st = sni_parse(b, c->pre.len, name, sizeof(name), &why);
		else
			st = st == 0 ? SNI_NOT_TLS : SNI_PARTIAL;
		if (st != SNI_PARTIAL || c->sniff_eof)
			break;
		if (c->c_dry)
			return; /* wait for the client's readiness event (conn.c) */
		want = SNI_MAX_HELLO - c->pre.len;
		if (want > sizeof(chunk))
			want = sizeof(chunk);
		n = read(c->cfd, chunk, want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			c->c_dry = true;
			return;
		}
		if (n <= 0) {
			c->sniff_eof = true; /* the relay meets the EOF (or error) again */
			continue;
		}
		/* A short read took all the socket held: the next read would find nothing. */
		c->c_dry = (size_t)n < want;
		sbuf_add(&c->pre, chunk, (size_t)n);
	}
	if (st == SNI_FOUND && !conn_sni_matches(c->host, name)) {
		conn_sni_deny(c, "the TLS server name (SNI) %s is not the CONNECT target %s:%u: a "
			      "tunnel allowed for %s must not carry a connection to %s (domain "
			      "fronting); hint: CONNECT to %s itself, if the policy allows it",
			      name, c->host, c->port, c->host, name, name);
		return;
	}
	if (st == SNI_BAD) {
		conn_sni_deny(c, "the TLS ClientHello in the tunnel to %s:%u cannot be read (%s), "
			      "so its server name cannot be checked against the CONNECT target",
			      c->host, c->port, why ? why : "malformed");
		return;
	}
	/* not TLS, no SNI, the matching name, or a client gone mid-hello: relayed */
	if (relay_init(&c->up, c->cfd, c->ufd, c->px->relay_mode, c->pre.s, c->pre.len) == -1) {
		conn_close(c, "out of memory for relay buffers");
		return;
	}
	sbuf_free(&c->pre);
	c->up.evented = true;
	c->up.dry = c->c_dry && !c->sniff_eof; /* an EOF is read again by the relay */
	c->sniffing = false;
}

/* --- inspected tunnel: the HTTP session of proxy/l7.h --- */

void
conn_l7_run(struct conn *c)
{
	uint32_t cm, um;
	long long dl;

	if (l7_run(c->l7) == L7_END) {
		conn_close(c, l7_why(c->l7));
		return;
	}
	l7_events(c->l7, &cm, &um);
	if (conn_watch(c, cm, um) == -1) {
		conn_close(c, "event loop refused a socket");
		return;
	}
	/* The timer fires at the deadline it was armed for and re-arms from there; a
	 * deadline that moved earlier (a request head started) re-arms it now. */
	dl = l7_deadline(c->l7);
	if (dl < c->l7_armed) {
		long long now = ut_now_ms();

		if (conn_rearm(c, dl > now ? (long)(dl - now) : 0) == -1) {
			conn_close(c, "no memory for a timer");
			return;
		}
		c->l7_armed = dl;
	}
}

static void
conn_l7_start(struct conn *c, bool tls)
{
	struct proxy_ctx *px = c->px;
	const struct l7_conf lc = {
		.engine = conn_engine(c),
		.id = { .exe = c->who.exe, .ancestors = (const char *const *)c->who.ancestors,
			.nancestors = c->who.nancestors },
		.pid = c->who.pid,
		.host = c->host,
		.port = c->port,
		.log = &px->log,
		.ca = px->ca,
		.upstream = px->upstream,
		.denied = &px->denied,
		.gen = c->gen,
		.current = &px->gen,
		.learn = px->learn,
		.learned = &px->learned,
	};
	char err[256];

	c->l7 = l7_new(&lc, c->cfd, c->ufd, tls, c->pre.s, c->pre.len, err, sizeof(err));
	sbuf_free(&c->pre);
	if (c->l7 == NULL) {
		conn_close(c, err); /* after the 200 no HTTP answer is possible */
		return;
	}
	if (c->learned)
		px->learned++;
	else
		px->served++;
	conn_set_state(c, CS_L7);
	if (c->state != CS_L7)
		return;
	c->l7_armed = ut_now_ms() + CONN_HEAD_MS;
	conn_l7_run(c);
}

/* CS_SNIFF: writes the 200, reads until the first bytes say TLS or not. */
void
conn_sniff(struct conn *c)
{
	int tls;

	while (c->roff < c->rlen) {
		ssize_t n = send(c->cfd, c->reply + c->roff, c->rlen - c->roff, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n == -1) {
			conn_close(c, "client went away before the tunnel opened");
			return;
		}
		c->roff += (size_t)n;
	}
	while ((tls = sni_is_tls((const unsigned char *)c->pre.s, c->pre.len)) == -1 ||
	       c->pre.len == 0) {
		char b[512];
		ssize_t n = read(c->cfd, b, sizeof(b));

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_close(c, "client closed the tunnel before sending a request");
			return;
		}
		sbuf_add(&c->pre, b, (size_t)n);
	}
	if (c->roff == c->rlen && tls != -1 && c->pre.len > 0) {
		c->rlen = c->roff = 0;
		conn_l7_start(c, tls == 1);
		return;
	}
	if (conn_watch(c, EV_READ | (c->roff < c->rlen ? EV_WRITE : 0), 0) == -1)
		conn_close(c, "event loop refused the client socket");
}

