/* load_endpoint: network_policies.<key>.endpoints[]: fields, rules and matchers; the
 * checks are in validate_endpoint.c. */
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "policy/load_ep_int.h"
#include "util/arena.h"
#include "util/util.h"

const char *const ld_protocol_names[] = { "", "tcp", "rest", "websocket", "graphql",
					 "sql", "json-rpc", "mcp", NULL };
const char *const ld_tls_names[] = { "", "skip", "terminate", "passthrough", NULL };
static const char *const access_names[] = { "", "read-only", "read-write", "full", NULL };
static const char *const enforcement_names[] = { "", "audit", "enforce", NULL };
static const char *const persisted_names[] = { "deny", "allow_registered", NULL };
static const char *const signing_names[] = { "sigv4", "sigv4:body", "sigv4:no_body", NULL };
static const char *const optype_names[] = { "query", "mutation", "subscription", NULL };

#define EP_OFF(m) offsetof(struct ld_ep, ep.m)

/* --- matchers: `glob` or {any: [glob...]} --- */

static int
ld_matcher_pair(struct ld *l, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
	struct pol_matcher *m = arg;

	if (!strcmp(key, "any")) {
		if (ld_strlist(l, v, &m->globs, &m->nglobs) == -1)
			return -1;
		m->any = true;
		if (m->nglobs == 0) {
			ld_err(l, v, "`any` is empty and would match nothing; hint: list at least "
				     "one glob, or remove the matcher");
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "glob")) {
		ld_err(l, k, "matcher key `glob` is not accepted; hint: write the glob as a plain "
			     "string (`key: \"v*\"`) or use {any: [\"a\", \"b\"]}");
		return -1;
	}
	ld_err(l, k, "unknown field `%s` in a matcher; accepted: a glob string, or {any: [...]}",
	       key);
	return -1;
}

static int
ld_matcher(struct ld *l, yaml_node_t *v, struct pol_matcher *m)
{
	memset(m, 0, sizeof(*m));
	m->mark = ld_mark(v);
	if (v->type == YAML_MAPPING_NODE) {
		int rc = ld_map_each(l, v, "a matcher", ld_matcher_pair, m);

		if (rc == 0 && !m->any) {
			ld_err(l, v, "empty matcher; accepted: a glob string, or {any: [...]}");
			return -1;
		}
		return rc;
	}
	m->globs = arena_alloc(l->a, sizeof(char *));
	if (ld_str(l, v, &m->globs[0]) == -1)
		return -1;
	m->nglobs = 1;
	return 0;
}

static int
ld_query_pair(struct ld *l, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
	struct pol_rule *r = arg;
	struct pol_query *q;

	(void)k;
	q = arena_push(l->a, &r->query, &r->nquery, sizeof(*q));
	q->key = arena_strdup(l->a, key);
	return ld_matcher(l, v, &q->m);
}

static int
ld_rule_query(struct ld *l, yaml_node_t *v, void *obj)
{
	return ld_map_each(l, v, "query", ld_query_pair, obj);
}

static int
ld_rule_fieldlist(struct ld *l, yaml_node_t *v, void *obj)
{
	struct pol_rule *r = obj;

	r->fields_set = true;
	return ld_strlist(l, v, &r->fields, &r->nfields);
}

static int
ld_rule_tool(struct ld *l, yaml_node_t *v, void *obj)
{
	struct pol_rule *r = obj;

	if (r->has_tool) {
		ld_err(l, v, "`tool` and `params.name` say the same thing; hint: set only one");
		return -1;
	}
	r->has_tool = true;
	return ld_matcher(l, v, &r->tool);
}

static int
ld_params_pair(struct ld *l, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
	if (strcmp(key, "name")) {
		ld_err(l, k, "unknown field `%s` in params; accepted: name (the MCP tool name)",
		       key);
		return -1;
	}
	return ld_rule_tool(l, v, arg);
}

static int
ld_rule_params(struct ld *l, yaml_node_t *v, void *obj)
{
	return ld_map_each(l, v, "params", ld_params_pair, obj);
}

const struct ld_field ld_rule_fields[RF_COUNT] = {
	[RF_METHOD] = { .name = "method", .kind = LK_STR, .off = offsetof(struct pol_rule, method) },
	[RF_PATH] = { .name = "path", .kind = LK_STR, .off = offsetof(struct pol_rule, path) },
	[RF_COMMAND] = { .name = "command", .kind = LK_STR, .off = offsetof(struct pol_rule, command) },
	[RF_QUERY] = { .name = "query", .kind = LK_FN, .fn = ld_rule_query },
	[RF_OPTYPE] = { .name = "operation_type", .kind = LK_STR,
			.off = offsetof(struct pol_rule, operation_type) },
	[RF_OPNAME] = { .name = "operation_name", .kind = LK_STR,
			.off = offsetof(struct pol_rule, operation_name) },
	[RF_FIELDS] = { .name = "fields", .kind = LK_FN, .fn = ld_rule_fieldlist },
	[RF_TOOL] = { .name = "tool", .kind = LK_FN, .fn = ld_rule_tool },
	[RF_PARAMS] = { .name = "params", .kind = LK_FN, .fn = ld_rule_params },
};

/* rules[i] is {allow: {...}}; the allow object is parsed into the same pol_rule. */
struct ld_rule_wrap {
	struct pol_rule r;
	struct ld_seen allow_seen;
};

static int
ld_rule_allow(struct ld *l, yaml_node_t *v, void *obj)
{
	struct ld_rule_wrap *w = obj;

	return ld_object(l, v, "an allow rule", ld_rule_fields, RF_COUNT, &w->r, &w->allow_seen);
}

static const struct ld_field rule_wrap_fields[] = {
	{ .name = "allow", .kind = LK_FN, .fn = ld_rule_allow, .required = true },
};

static int
ld_rule_item(struct ld *l, size_t i, yaml_node_t *item, void *arg)
{
	struct ld_ep *e = arg;
	struct ld_rule_wrap w = { 0 };
	struct ld_rule_meta *meta;
	struct ld_seen seen;
	int rc;

	(void)i;
	w.r.mark = ld_mark(item);
	rc = ld_object(l, item, "a rule", rule_wrap_fields, NELEM(rule_wrap_fields), &w, &seen);
	*(struct pol_rule *)arena_push(l->a, &e->ep.rules, &e->ep.nrules, sizeof(w.r)) = w.r;
	meta = arena_push(l->a, &e->rmeta, &e->nrmeta, sizeof(*meta));
	meta->node = seen.val[0] ? seen.val[0] : item;
	meta->seen = w.allow_seen;
	meta->has_allow = seen.mask & 1;
	return rc;
}

static int
ld_deny_item(struct ld *l, size_t i, yaml_node_t *item, void *arg)
{
	struct ld_ep *e = arg;
	struct pol_rule r = { 0 };
	struct ld_rule_meta *meta;
	struct ld_seen seen;
	int rc;

	(void)i;
	r.mark = ld_mark(item);
	rc = ld_object(l, item, "a deny rule", ld_rule_fields, RF_COUNT, &r, &seen);
	*(struct pol_rule *)arena_push(l->a, &e->ep.deny_rules, &e->ep.ndeny_rules, sizeof(r)) = r;
	meta = arena_push(l->a, &e->dmeta, &e->ndmeta, sizeof(*meta));
	meta->node = item;
	meta->seen = seen;
	return rc;
}

static int
ld_ep_rules(struct ld *l, yaml_node_t *v, void *obj)
{
	struct ld_ep *e = obj;

	e->ep.rules_set = true;
	return ld_seq_each(l, v, ld_rule_item, e);
}

static int
ld_ep_deny_rules(struct ld *l, yaml_node_t *v, void *obj)
{
	struct ld_ep *e = obj;

	e->ep.deny_rules_set = true;
	return ld_seq_each(l, v, ld_deny_item, e);
}

/* --- scalar-ish endpoint fields --- */

static int
ld_ep_port(struct ld *l, yaml_node_t *v, void *obj)
{
	return ld_port(l, v, &((struct ld_ep *)obj)->port);
}

static int
ld_ports_item(struct ld *l, size_t i, yaml_node_t *item, void *arg)
{
	struct ld_ep *e = arg;
	uint16_t p;

	(void)i;
	if (ld_port(l, item, &p) == -1)
		return -1;
	*(uint16_t *)arena_push(l->a, &e->ports, &e->nports, sizeof(p)) = p;
	return 0;
}

static int
ld_ep_ports(struct ld *l, yaml_node_t *v, void *obj)
{
	return ld_seq_each(l, v, ld_ports_item, obj);
}

static int
ld_ep_enforcement(struct ld *l, yaml_node_t *v, void *obj)
{
	struct ld_ep *e = obj;
	int x;

	if (ld_enum(l, v, enforcement_names, false, &x) == -1)
		return -1;
	e->ep.enforcement_set = true;
	e->ep.enforcement = x == 2 ? POL_ENF_ENFORCE : POL_ENF_AUDIT;
	return 0;
}

/* A string field restricted to <names>, kept as written; "" means unset. */
static int
ld_str_enum(struct ld *l, yaml_node_t *v, const char *const *names, char **out)
{
	int x;

	if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0 &&
	    v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		*out = NULL; /* "" = the default */
		return 0;
	}
	if (ld_enum(l, v, names, false, &x) == -1)
		return -1;
	*out = arena_strdup(l->a, names[x]);
	return 0;
}

static int
ld_ep_signing(struct ld *l, yaml_node_t *v, void *obj)
{
	return ld_str_enum(l, v, signing_names, &((struct ld_ep *)obj)->ep.credential_signing);
}

static int
ld_ep_persisted(struct ld *l, yaml_node_t *v, void *obj)
{
	return ld_str_enum(l, v, persisted_names, &((struct ld_ep *)obj)->ep.persisted_queries);
}

static const struct ld_field binding_fields[] = {
	{ .name = "provider", .kind = LK_STR, .off = 0, .required = true },
};

static int
ld_ep_binding(struct ld *l, yaml_node_t *v, void *obj)
{
	struct ld_ep *e = obj;
	struct ld_seen seen;
	char *prov = NULL;

	if (ld_object(l, v, "credential_binding", binding_fields, NELEM(binding_fields), &prov,
		      &seen) == -1)
		return -1;
	if (prov[0] == '\0') {
		ld_diag_field(l, DIAG_ERROR, &seen, binding_fields, 0, v,
			      "empty provider; hint: name the attached provider");
		return -1;
	}
	e->ep.credential_binding_provider = prov;
	return 0;
}

bool
ld_is_optype(const char *s)
{
	for (size_t i = 0; optype_names[i]; i++)
		if (!strcmp(s, optype_names[i]))
			return true;
	return false;
}

/* graphql_persisted_queries: id -> {operation_type, operation_name, fields} */
static const struct ld_field pq_fields[] = {
	{ .name = "operation_type", .kind = LK_STR,
	  .off = offsetof(struct pol_persisted_query, operation_type) },
	{ .name = "operation_name", .kind = LK_STR,
	  .off = offsetof(struct pol_persisted_query, operation_name) },
	{ .name = "fields", .kind = LK_STRLIST, .off = offsetof(struct pol_persisted_query, fields),
	  .off2 = offsetof(struct pol_persisted_query, nfields) },
};

static int
ld_pq_pair(struct ld *l, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
	struct ld_ep *e = arg;
	struct pol_persisted_query q = { 0 };
	struct ld_seen seen;
	int rc;

	(void)k;
	q.id = arena_strdup(l->a, key);
	rc = ld_object(l, v, "a persisted query", pq_fields, NELEM(pq_fields), &q, &seen);
	if (rc == 0 && q.operation_type == NULL) {
		ld_err(l, v, "missing operation_type; accepted: query, mutation, subscription");
		rc = -1;
	} else if (rc == 0 && !ld_is_optype(q.operation_type)) {
		ld_diag_field(l, DIAG_ERROR, &seen, pq_fields, 0, v,
			      "unknown operation_type `%s`; accepted: query, mutation, subscription",
			      q.operation_type);
		rc = -1;
	}
	*(struct pol_persisted_query *)arena_push(l->a, &e->ep.graphql_persisted_queries,
						  &e->ep.ngraphql_persisted_queries,
						  sizeof(q)) = q;
	return rc;
}

static int
ld_ep_gql_persisted(struct ld *l, yaml_node_t *v, void *obj)
{
	return ld_map_each(l, v, "graphql_persisted_queries", ld_pq_pair, obj);
}

/* max_body_bytes-style limits: u32, and 0 would refuse every body. */
static int
ld_body_limit(struct ld *l, yaml_node_t *v, uint32_t *out)
{
	long long x;

	if (ld_int(l, v, 0, UINT32_MAX, &x) == -1)
		return -1;
	if (x == 0) {
		ld_err(l, v, "a body limit of 0 refuses every request; accepted: 1..4294967295 "
			     "(default 65536); hint: remove the field for the default");
		return -1;
	}
	*out = (uint32_t)x;
	return 0;
}

static int
ld_ep_gql_max(struct ld *l, yaml_node_t *v, void *obj)
{
	return ld_body_limit(l, v, &((struct ld_ep *)obj)->ep.graphql_max_body_bytes);
}

static int
ld_jr_max(struct ld *l, yaml_node_t *v, void *obj)
{
	return ld_body_limit(l, v, &((struct pol_endpoint *)obj)->json_rpc_max_body_bytes);
}

static const struct ld_field json_rpc_fields[] = {
	{ .name = "max_body_bytes", .kind = LK_FN, .fn = ld_jr_max },
};

static int
ld_ep_json_rpc(struct ld *l, yaml_node_t *v, void *obj)
{
	struct ld_ep *e = obj;
	struct ld_seen seen;

	e->ep.has_json_rpc = true;
	return ld_object(l, v, "json_rpc", json_rpc_fields, NELEM(json_rpc_fields), &e->ep, &seen);
}

static int
ld_mcp_max(struct ld *l, yaml_node_t *v, void *obj)
{
	return ld_body_limit(l, v, &((struct pol_endpoint *)obj)->mcp_max_body_bytes);
}

static const struct ld_field mcp_fields[] = {
	{ .name = "max_body_bytes", .kind = LK_FN, .fn = ld_mcp_max },
	{ .name = "strict_tool_names", .kind = LK_BOOL,
	  .off = offsetof(struct pol_endpoint, mcp_strict_tool_names) },
	{ .name = "allow_all_known_mcp_methods", .kind = LK_BOOL,
	  .off = offsetof(struct pol_endpoint, mcp_allow_all_known_mcp_methods) },
};

static int
ld_ep_mcp(struct ld *l, yaml_node_t *v, void *obj)
{
	struct ld_ep *e = obj;
	struct ld_seen seen;

	e->ep.has_mcp = true;
	return ld_object(l, v, "mcp", mcp_fields, NELEM(mcp_fields), &e->ep, &seen);
}

const struct ld_field ld_ep_fields[EF_COUNT] = {
	[EF_HOST] = { .name = "host", .kind = LK_STR, .off = EP_OFF(host) },
	[EF_PORT] = { .name = "port", .kind = LK_FN, .fn = ld_ep_port },
	[EF_PORTS] = { .name = "ports", .kind = LK_FN, .fn = ld_ep_ports },
	[EF_PATH] = { .name = "path", .kind = LK_STR, .off = EP_OFF(path) },
	[EF_PROTOCOL] = { .name = "protocol", .kind = LK_ENUM, .off = EP_OFF(protocol),
			  .names = ld_protocol_names, .icase = true },
	[EF_TLS] = { .name = "tls", .kind = LK_ENUM, .off = EP_OFF(tls), .names = ld_tls_names },
	[EF_ENFORCEMENT] = { .name = "enforcement", .kind = LK_FN, .fn = ld_ep_enforcement },
	[EF_ACCESS] = { .name = "access", .kind = LK_ENUM, .off = EP_OFF(access),
			.names = access_names },
	[EF_RULES] = { .name = "rules", .kind = LK_FN, .fn = ld_ep_rules },
	[EF_DENY_RULES] = { .name = "deny_rules", .kind = LK_FN, .fn = ld_ep_deny_rules },
	[EF_ALLOWED_IPS] = { .name = "allowed_ips", .kind = LK_STRLIST, .off = EP_OFF(allowed_ips),
			     .off2 = EP_OFF(nallowed_ips) },
	[EF_ALLOW_ENCODED_SLASH] = { .name = "allow_encoded_slash", .kind = LK_BOOL,
				     .off = EP_OFF(allow_encoded_slash) },
	[EF_WS_REWRITE] = { .name = "websocket_credential_rewrite", .kind = LK_BOOL,
			    .off = EP_OFF(websocket_credential_rewrite) },
	[EF_BODY_REWRITE] = { .name = "request_body_credential_rewrite", .kind = LK_BOOL,
			      .off = EP_OFF(request_body_credential_rewrite) },
	[EF_UNINSPECTED] = { .name = "allow_uninspected_credentials", .kind = LK_BOOL,
			     .off = EP_OFF(allow_uninspected_credentials) },
	[EF_SIGNING] = { .name = "credential_signing", .kind = LK_FN, .fn = ld_ep_signing },
	[EF_SIGNING_SERVICE] = { .name = "signing_service", .kind = LK_STR,
				 .off = EP_OFF(signing_service) },
	[EF_SIGNING_REGION] = { .name = "signing_region", .kind = LK_STR,
				.off = EP_OFF(signing_region) },
	[EF_BINDING] = { .name = "credential_binding", .kind = LK_FN, .fn = ld_ep_binding },
	[EF_PERSISTED] = { .name = "persisted_queries", .kind = LK_FN, .fn = ld_ep_persisted },
	[EF_GQL_PERSISTED] = { .name = "graphql_persisted_queries", .kind = LK_FN,
			       .fn = ld_ep_gql_persisted },
	[EF_GQL_MAX] = { .name = "graphql_max_body_bytes", .kind = LK_FN, .fn = ld_ep_gql_max },
	[EF_JSON_RPC] = { .name = "json_rpc", .kind = LK_FN, .fn = ld_ep_json_rpc },
	[EF_MCP] = { .name = "mcp", .kind = LK_FN, .fn = ld_ep_mcp },
};

static int
ld_endpoint(struct ld *l, size_t i, yaml_node_t *item, void *arg)
{
	struct pol_block *b = arg;
	struct ld_ep e;
	struct ld_seen seen;
	size_t errors0 = l->d->nerrors;

	(void)i;
	memset(&e, 0, sizeof(e));
	e.ep.mark = ld_mark(item);
	e.ep.mcp_strict_tool_names = true; /* the reference's default */
	if (ld_object(l, item, "an endpoint", ld_ep_fields, EF_COUNT, &e, &seen) == -1 &&
	    item->type != YAML_MAPPING_NODE)
		return -1;
	if (l->over_budget)
		return -1;
	vd_endpoint(l, &e, item, &seen);
	*(struct pol_endpoint *)arena_push(l->a, &b->endpoints, &b->nendpoints, sizeof(e.ep)) =
		e.ep;
	return l->d->nerrors == errors0 ? 0 : -1;
}

int
ld_endpoints(struct ld *l, yaml_node_t *n, void *block)
{
	return ld_seq_each(l, n, ld_endpoint, block);
}
