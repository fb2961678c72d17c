/*
 * proxy/conn_gen: a new policy generation for the connections of a proxy (contract at
 * conn_set_policy() in conn.h): the swap, and what it does to tunnels already open.
 * Split from conn.c, whose teardown it uses through conn_int.h.
 */
#include "proxy/conn.h"
#include "proxy/conn_int.h"

#include "policy/engine.h"
#include "policy/load.h"
#include "proxy/gen.h"
#include "proxy/l7.h"
#include "proxy/respond.h"
#include "sandbox/tlstrust.h"
#include "util/util.h"

/* Closes tunnel <c> because generation <n> denies it: logged "deny" (a DENIED line). */
static void
conn_gen_deny(struct conn *c, unsigned long long n, const struct decision *d)
{
	snprintf(
	        c->reason, sizeof(c->reason),
	        "policy generation %llu no longer allows %s:%u; the open tunnel was closed: %.600s",
	        n, c->host, c->port, d->reason);
	c->allowed = false;
	c->learned = false;
	c->error = RESPOND_POLICY_DENIED;
	c->px->denied++;
	conn_close(c, c->reason);
}

/*
 * An established tunnel meets generation <g>: re-checked at L4 (host:port and the binary,
 * learn mode included); closed when denied, or, for a passthrough (not <inspected>), when
 * its requests must now be inspected (it would carry them unchecked); otherwise kept and
 * moved to <g>, so the old generation can go.
 */
static void
conn_gen_recheck(struct conn *c, struct proxy_gen *g, bool inspected)
{
	const struct ident id = {
	        .exe = c->who.exe,
	        .ancestors = (const char *const *)c->who.ancestors,
	        .nancestors = c->who.nancestors,
	};
	struct decision d;
	bool learned;

	if (engine_decide_connect(g->engine, &id, c->host, c->port, &d) == -1)
		return; /* the arguments were good for the old generation: keep it */
	learned = conn_learn(c->px, &d, !d.allow);
	if (!d.allow) {
		conn_gen_deny(c, g->n, &d);
		return;
	}
	if (!inspected && c->px->ca != NULL && !learned && conn_tunnel_needs_l7(&d)) {
		snprintf(c->reason, sizeof(c->reason),
		         "policy generation %llu inspects the requests of %s:%u; the passthrough "
		         "tunnel was closed so the client reconnects through inspection",
		         g->n, c->host, c->port);
		conn_close(c, c->reason);
		return;
	}
	c->dec = d;
	c->learned = learned;
	gen_put(&c->gen);
	c->gen = gen_ref(g);
}

/* Every connection with a decision of an older generation that cannot wait for a later
 * step: established passthrough tunnels, and inspected streams a 101 turned into raw
 * tunnels (no request boundary comes again; only L4 is checked). Resolving and dialling ones are
 * re-decided when that completes, inspected streams at their next request, forward requests finish.
 */
static void
conn_gen_apply(struct proxy_ctx *px, struct proxy_gen *g)
{
	struct conn *next;

	for (struct conn *c = px->live; c != NULL; c = next) {
		next = c->next; /* conn_close() unlinks c only */
		if (c->gen == g)
			continue;
		if (c->state == CS_RELAY && c->is_connect)
			conn_gen_recheck(c, g, false);
		else if (c->state == CS_L7 && l7_upgraded(c->l7))
			conn_gen_recheck(c, g, true);
	}
}

/* The sandbox's trust store holds the CA made at start, or none: a policy that needs
 * termination cannot be served by a sandbox started without. */
static int
conn_gen_check_ca(const struct proxy_ctx *px, const struct engine *eng, char *err, size_t errlen)
{
	if (px->ca != NULL || !tlstrust_policy_terminates(engine_policy(eng)))
		return 0;
	snprintf(err, errlen,
	         "policy refused: it has endpoints whose TLS the proxy would terminate (an L7 "
	         "protocol such as rest with tls other than skip), and this sandbox was started "
	         "without a CA, so the programs in it would not trust the proxy's certificates; "
	         "the old policy stays in force; hint: restart the sandbox to add TLS-terminated "
	         "endpoints, or set `tls: skip` on them");
	errno = EPERM;
	return -1;
}

int
conn_set_policy(struct proxy_ctx *px, struct policy *pol, struct engine *eng,
                unsigned long long *generation, char *err, size_t errlen)
{
	struct proxy_gen *g, *old;
	int e;

	if (px == NULL || pol == NULL || eng == NULL || generation == NULL) {
		snprintf(err, errlen, "policy refused: no policy given");
		errno = EINVAL;
		goto refuse;
	}
	if (conn_gen_check_ca(px, eng, err, errlen) == -1)
		goto refuse;
	if ((px->engine != NULL && engine_set_root(eng, engine_root(px->engine)) == -1) ||
	    (px->gen == NULL && (px->gen = gen_new(1, px->engine, NULL, NULL)) == NULL)) {
		snprintf(err, errlen, "policy refused: out of memory");
		errno = ENOMEM;
		goto refuse;
	}
	if ((g = gen_new(px->gen->n + 1, NULL, pol, eng)) == NULL) { /* took pol and eng */
		snprintf(err, errlen, "policy refused: out of memory");
		return -1;
	}
	old = px->gen;
	px->gen = g;
	px->engine = g->engine;
	conn_gen_apply(px, g);
	gen_put(&old); /* freed here unless a connection still decides with it */
	*generation = g->n;
	return 0;
refuse:
	e = errno;
	engine_free(eng);
	policy_free(pol);
	errno = e;
	return -1;
}

unsigned long long
conn_generation(const struct proxy_ctx *px)
{
	return px->gen != NULL ? px->gen->n : 1;
}

void
conn_ctx_release(struct proxy_ctx *px)
{
	gen_put(&px->gen);
}
