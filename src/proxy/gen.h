/*
 * proxy/gen: one policy generation of the proxy (issue 6, docs/proxy.md "Live policy
 * generations"): a policy, the engine compiled from it and its number. Generation 1 is
 * the policy the sandbox started with, borrowed from the supervisor; each later one is
 * owned and freed when the last thing deciding with it lets go.
 *
 * Why a reference count: a decision (policy/engine.h) points into its engine and policy,
 * and a connection keeps its decision for its whole life (the log line names the block);
 * so the proxy's "current" pointer holds one reference and every connection or HTTP
 * session that decided with a generation holds one more. The resolver thread never sees
 * an engine (it only resolves names), so the count is touched by the proxy loop only and
 * needs no atomics.
 *
 * Context: proxy loop. Errors: gen_new() returns NULL with errno ENOMEM.
 * Ownership: see gen_new().
 */
#ifndef AGENTCAGE_PROXY_GEN_H
#define AGENTCAGE_PROXY_GEN_H

#include <stdbool.h>

struct engine;
struct policy;

struct proxy_gen {
	unsigned long long n;        /* 1, 2, ...: named in decision lines */
	const struct engine *engine; /* what decisions use */
	struct engine *owned_eng;    /* freed with the generation, or NULL (borrowed) */
	struct policy *owned_pol;    /* freed after owned_eng, or NULL (borrowed) */
	unsigned refs;
};

/*
 * A generation numbered <n> with one reference. <borrowed>: an engine that outlives the
 * generation (generation 1); else <eng> and <pol> are taken over (also on failure: freed
 * then). NULL with errno ENOMEM, or EINVAL when no engine is given.
 */
struct proxy_gen *gen_new(unsigned long long n, const struct engine *borrowed, struct policy *pol,
                          struct engine *eng);

/* One more reference to <g> (NULL passes through); returns <g>. */
struct proxy_gen *gen_ref(struct proxy_gen *g);

/* Drops the reference in *<g> and sets it to NULL; the last one frees the generation
 * (engine, then policy). NULL and *<g> NULL are accepted. */
void gen_put(struct proxy_gen **g);

#endif
