/* policy/pdiff: the static-section check of `policy set` and a deep model equality
 * (contract in pdiff.h). */
#include "policy/pdiff.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "util/sbuf.h"
#include "util/util.h"

#define PDIFF_PATH_MAX 512 /* field path in a difference message; longer ones are cut */

static const char *const pd_compat[] = {"best_effort", "hard_requirement"};

/* --- the static sections --- */

static bool
pd_in(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* Same set of strings, whatever the order and repeats. O(n*m). */
static bool
pd_same_set(char *const *a, size_t na, char *const *b, size_t nb)
{
	for (size_t i = 0; i < na; i++)
		if (!pd_in(b, nb, a[i]))
			return false;
	for (size_t i = 0; i < nb; i++)
		if (!pd_in(a, na, b[i]))
			return false;
	return true;
}

static void
pd_list(struct sbuf *msg, char *const *v, size_t n)
{
	sbuf_putc(msg, '[');
	for (size_t i = 0; i < n; i++)
		sbuf_printf(msg, "%s%s", i ? ", " : "", v[i]);
	sbuf_putc(msg, ']');
}

static int
pd_paths(struct sbuf *msg, const char *field, char *const *a, size_t na, char *const *b, size_t nb)
{
	if (pd_same_set(a, na, b, nb))
		return 0;
	sbuf_printf(msg, "filesystem_policy.%s: running ", field);
	pd_list(msg, a, na);
	sbuf_puts(msg, ", new ");
	pd_list(msg, b, nb);
	sbuf_putc(msg, '\n');
	return 1;
}

/* An absent or empty identity is "not set" (the loader stores both as NULL). */
static int
pd_identity(struct sbuf *msg, const char *field, const char *a, const char *b)
{
	if ((a == NULL && b == NULL) || (a && b && !strcmp(a, b)))
		return 0;
	sbuf_printf(msg, "process.%s: running %s, new %s\n", field, a ? a : "(not set)",
	            b ? b : "(not set)");
	return 1;
}

int
policy_static_diff(const struct policy *running, const struct policy *next, struct sbuf *msg)
{
	const struct policy *r = running, *n = next;
	int ndiff = 0;

	if (r == NULL || n == NULL || msg == NULL) {
		errno = EINVAL;
		return -1;
	}
	/* an absent filesystem_policy holds include_workdir false and no paths */
	if (r->include_workdir != n->include_workdir) {
		sbuf_printf(msg, "filesystem_policy.include_workdir: running %s, new %s\n",
		            r->include_workdir ? "true" : "false",
		            n->include_workdir ? "true" : "false");
		ndiff++;
	}
	ndiff += pd_paths(msg, "read_only", r->read_only, r->nread_only, n->read_only,
	                  n->nread_only);
	ndiff += pd_paths(msg, "read_write", r->read_write, r->nread_write, n->read_write,
	                  n->nread_write);
	if (r->compat != n->compat) {
		sbuf_printf(msg, "landlock.compatibility: running %s, new %s\n",
		            pd_compat[r->compat], pd_compat[n->compat]);
		ndiff++;
	}
	ndiff += pd_identity(msg, "run_as_user", r->run_as_user, n->run_as_user);
	ndiff += pd_identity(msg, "run_as_group", r->run_as_group, n->run_as_group);
	if (ndiff)
		sbuf_puts(msg, PDIFF_STATIC_HINT "\n");
	return ndiff;
}

/* --- deep equality --- */

/* The comparison's state: the first difference is recorded, later ones ignored. */
struct deq {
	struct sbuf *why;
	bool differ;
};

static bool __attribute__((format(printf, 4, 5)))
deq_fail(struct deq *d, const char *path, const char *field, const char *fmt, ...)
{
	va_list ap;
	char buf[PDIFF_PATH_MAX];

	if (d->differ)
		return false;
	d->differ = true;
	if (d->why == NULL)
		return false;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sbuf_printf(d->why, "%s%s%s: %s", path, path[0] ? "." : "", field, buf);
	return false;
}

static bool
deq_num(struct deq *d, const char *path, const char *field, long long a, long long b)
{
	return a == b || deq_fail(d, path, field, "%lld vs %lld", a, b);
}

static bool
deq_str(struct deq *d, const char *path, const char *field, const char *a, const char *b)
{
	if ((a == NULL && b == NULL) || (a && b && !strcmp(a, b)))
		return true;
	return deq_fail(d, path, field, "%s%s%s vs %s%s%s", a ? "`" : "", a ? a : "NULL",
	                a ? "`" : "", b ? "`" : "", b ? b : "NULL", b ? "`" : "");
}

static bool
deq_strs(struct deq *d, const char *path, const char *field, char *const *a, size_t na,
         char *const *b, size_t nb)
{
	char f[PDIFF_PATH_MAX];

	if (!deq_num(d, path, field, (long long)na, (long long)nb))
		return false;
	for (size_t i = 0; i < na; i++) {
		(void)ut_snprintf(f, sizeof(f), "%s[%zu]", field, i);
		if (!deq_str(d, path, f, a[i], b[i]))
			return false;
	}
	return true;
}

#define DQ_NUM(f)  deq_num(d, path, #f, (long long)a->f, (long long)b->f)
#define DQ_STR(f)  deq_str(d, path, #f, a->f, b->f)
#define DQ_STRS(f) deq_strs(d, path, #f, a->f, a->n##f, b->f, b->n##f)

/* "<parent>.<field>[<i>]" into <buf>. */
static const char *
deq_sub(char *buf, size_t size, const char *parent, const char *field, size_t i)
{
	(void)ut_snprintf(buf, size, "%s%s%s[%zu]", parent, parent[0] ? "." : "", field, i);
	return buf;
}

static bool
deq_matcher(struct deq *d, const char *path, const struct pol_matcher *a,
            const struct pol_matcher *b)
{
	return DQ_NUM(any) && DQ_STRS(globs);
}

static bool
deq_rule(struct deq *d, const char *path, const struct pol_rule *a, const struct pol_rule *b)
{
	char sub[PDIFF_PATH_MAX];

	if (!(DQ_STR(method) && DQ_STR(path) && DQ_STR(command) && DQ_NUM(nquery) &&
	      DQ_STR(operation_type) && DQ_STR(operation_name) && DQ_NUM(fields_set) &&
	      DQ_STRS(fields) && DQ_NUM(has_tool) && deq_matcher(d, path, &a->tool, &b->tool)))
		return false;
	for (size_t i = 0; i < a->nquery; i++) {
		deq_sub(sub, sizeof(sub), path, "query", i);
		if (!deq_str(d, sub, "key", a->query[i].key, b->query[i].key) ||
		    !deq_matcher(d, sub, &a->query[i].m, &b->query[i].m))
			return false;
	}
	return true;
}

static bool
deq_rules(struct deq *d, const char *path, const char *field, const struct pol_rule *a, size_t na,
          const struct pol_rule *b, size_t nb)
{
	char sub[PDIFF_PATH_MAX];

	if (!deq_num(d, path, field, (long long)na, (long long)nb))
		return false;
	for (size_t i = 0; i < na; i++)
		if (!deq_rule(d, deq_sub(sub, sizeof(sub), path, field, i), &a[i], &b[i]))
			return false;
	return true;
}

static bool
deq_pq(struct deq *d, const char *path, const struct pol_persisted_query *a,
       const struct pol_persisted_query *b)
{
	return DQ_STR(id) && DQ_STR(operation_type) && DQ_STR(operation_name) && DQ_STRS(fields);
}

static bool
deq_endpoint_options(struct deq *d, const char *path, const struct pol_endpoint *a,
                     const struct pol_endpoint *b)
{
	char sub[PDIFF_PATH_MAX];

	if (!(DQ_NUM(allow_encoded_slash) && DQ_NUM(websocket_credential_rewrite) &&
	      DQ_NUM(request_body_credential_rewrite) && DQ_NUM(allow_uninspected_credentials) &&
	      DQ_STR(credential_signing) && DQ_STR(signing_service) && DQ_STR(signing_region) &&
	      DQ_STR(credential_binding_provider) && DQ_STR(persisted_queries) &&
	      DQ_NUM(graphql_max_body_bytes) && DQ_NUM(has_json_rpc) &&
	      DQ_NUM(json_rpc_max_body_bytes) && DQ_NUM(has_mcp) && DQ_NUM(mcp_max_body_bytes) &&
	      DQ_NUM(mcp_strict_tool_names) && DQ_NUM(mcp_allow_all_known_mcp_methods) &&
	      DQ_NUM(ngraphql_persisted_queries)))
		return false;
	for (size_t i = 0; i < a->ngraphql_persisted_queries; i++)
		if (!deq_pq(d, deq_sub(sub, sizeof(sub), path, "graphql_persisted_queries", i),
		            &a->graphql_persisted_queries[i], &b->graphql_persisted_queries[i]))
			return false;
	return true;
}

static bool
deq_endpoint(struct deq *d, const char *path, const struct pol_endpoint *a,
             const struct pol_endpoint *b)
{
	if (!(DQ_STR(host) && DQ_NUM(host_wildcard) && DQ_NUM(nports) && DQ_STR(path) &&
	      DQ_NUM(protocol) && DQ_NUM(tls) && DQ_NUM(enforcement) && DQ_NUM(enforcement_set) &&
	      DQ_NUM(access) && DQ_NUM(rules_set) && DQ_NUM(deny_rules_set) &&
	      DQ_STRS(allowed_ips)))
		return false;
	for (size_t i = 0; i < a->nports; i++)
		if (!deq_num(d, path, "ports[]", a->ports[i], b->ports[i]))
			return false;
	return deq_rules(d, path, "rules", a->rules, a->nrules, b->rules, b->nrules) &&
	       deq_rules(d, path, "deny_rules", a->deny_rules, a->ndeny_rules, b->deny_rules,
	                 b->ndeny_rules) &&
	       deq_endpoint_options(d, path, a, b);
}

static bool
deq_block(struct deq *d, const char *path, const struct pol_block *a, const struct pol_block *b)
{
	char sub[PDIFF_PATH_MAX];

	if (!(DQ_STR(key) && DQ_STR(name) && DQ_NUM(nendpoints) && DQ_NUM(nbinaries)))
		return false;
	for (size_t i = 0; i < a->nendpoints; i++)
		if (!deq_endpoint(d, deq_sub(sub, sizeof(sub), path, "endpoints", i),
		                  &a->endpoints[i], &b->endpoints[i]))
			return false;
	for (size_t i = 0; i < a->nbinaries; i++) {
		deq_sub(sub, sizeof(sub), path, "binaries", i);
		if (!deq_str(d, sub, "path", a->binaries[i].path, b->binaries[i].path) ||
		    !deq_num(d, sub, "harness", a->binaries[i].harness, b->binaries[i].harness))
			return false;
	}
	return true;
}

static bool
deq_value(struct deq *d, const char *path, const struct pol_value *a, const struct pol_value *b)
{
	char sub[PDIFF_PATH_MAX];

	if (!(DQ_NUM(kind) && DQ_NUM(nitems)))
		return false;
	if (a->kind == POL_VALUE_SCALAR)
		return DQ_STR(scalar) && DQ_NUM(quoted);
	for (size_t i = 0; i < a->nitems; i++) {
		deq_sub(sub, sizeof(sub), path, "items", i);
		if (a->kind == POL_VALUE_MAP && !deq_str(d, sub, "key", a->keys[i], b->keys[i]))
			return false;
		if (!deq_value(d, sub, &a->items[i], &b->items[i]))
			return false;
	}
	return true;
}

static bool
deq_middleware(struct deq *d, const char *path, const struct pol_middleware *a,
               const struct pol_middleware *b)
{
	return DQ_STR(key) && DQ_STR(name) && DQ_STR(middleware) && DQ_NUM(order) &&
	       DQ_NUM(has_config) &&
	       (!a->has_config || deq_value(d, path, &a->config, &b->config)) && DQ_NUM(on_error) &&
	       DQ_STRS(include) && DQ_STRS(exclude);
}

static bool
deq_static(struct deq *d, const struct policy *a, const struct policy *b)
{
	const char *path = "";

	return DQ_NUM(version) && DQ_NUM(has_filesystem) && DQ_NUM(include_workdir) &&
	       DQ_STRS(read_only) && DQ_STRS(read_write) && DQ_NUM(has_landlock) &&
	       DQ_NUM(compat) && DQ_NUM(has_process) && DQ_STR(run_as_user) &&
	       DQ_STR(run_as_group) && DQ_NUM(network_policies_set) && DQ_NUM(nblocks) &&
	       DQ_NUM(nmiddlewares);
}

bool
policy_deep_equal(const struct policy *a, const struct policy *b, struct sbuf *why)
{
	struct deq dq = {why, false}, *d = &dq;
	char sub[PDIFF_PATH_MAX];

	if (a == NULL || b == NULL)
		return false;
	if (!deq_static(d, a, b))
		return false;
	for (size_t i = 0; i < a->nblocks; i++) {
		(void)ut_snprintf(sub, sizeof(sub), "network_policies.%s", a->blocks[i].key);
		if (!deq_block(d, sub, &a->blocks[i], &b->blocks[i]))
			return false;
	}
	for (size_t i = 0; i < a->nmiddlewares; i++) {
		(void)ut_snprintf(sub, sizeof(sub), "network_middlewares.%s",
		                  a->middlewares[i].key);
		if (!deq_middleware(d, sub, &a->middlewares[i], &b->middlewares[i]))
			return false;
	}
	return true;
}
