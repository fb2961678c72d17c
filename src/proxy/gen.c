/* proxy/gen: reference-counted policy generations (contract in gen.h). */
#include "proxy/gen.h"

#include "policy/engine.h"
#include "policy/load.h"
#include "util/util.h"

struct proxy_gen *
gen_new(unsigned long long n, const struct engine *borrowed, struct policy *pol, struct engine *eng)
{
	struct proxy_gen *g;

	if (borrowed == NULL && eng == NULL) {
		policy_free(pol);
		errno = EINVAL;
		return NULL;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		engine_free(eng);
		policy_free(pol);
		errno = ENOMEM;
		return NULL;
	}
	g->n = n;
	g->engine = borrowed != NULL ? borrowed : eng;
	g->owned_eng = borrowed != NULL ? NULL : eng;
	g->owned_pol = borrowed != NULL ? NULL : pol;
	g->refs = 1;
	return g;
}

struct proxy_gen *
gen_ref(struct proxy_gen *g)
{
	if (g != NULL)
		g->refs++;
	return g;
}

void
gen_put(struct proxy_gen **gp)
{
	struct proxy_gen *g = *gp;

	*gp = NULL;
	if (g == NULL || --g->refs > 0)
		return;
	engine_free(g->owned_eng); /* it points into the policy: first */
	g->owned_eng = NULL;
	policy_free(g->owned_pol);
	g->owned_pol = NULL;
	free(g);
}
