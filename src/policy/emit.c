/* policy/emit: the model back to YAML (contract in emit.h). Block style throughout,
 * two-space indentation, keys in the schema's order. */
#include "policy/emit.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "util/sbuf.h"
#include "util/util.h"

/* Spellings of the model's enums, index = enum value ("" = the default, not written). */
static const char *const em_protocol[] = {"",        "tcp", "rest",     "websocket",
                                          "graphql", "sql", "json-rpc", "mcp"};
static const char *const em_tls[] = {"", "skip", "terminate", "passthrough"};
static const char *const em_access[] = {"", "read-only", "read-write", "full"};
static const char *const em_enforcement[] = {"audit", "enforce"};
static const char *const em_compat[] = {"best_effort", "hard_requirement"};
static const char *const em_on_error[] = {"fail_closed", "fail_open"};

/* Words some YAML version reads as null or a boolean when unquoted. */
static const char *const em_special[] = {"~",    "null",  "y",     "yes", "n", "no",
                                         "true", "false", "on",    "off", "=", "<<",
                                         ".inf", "-.inf", "+.inf", ".nan"};

/* The emitter's state: <dash> is set after "- " so the next key goes on that line. */
struct em {
	struct sbuf *out;
	bool dash;
};

static void
em_indent(struct em *e, int ind)
{
	if (e->dash) {
		e->dash = false;
		return;
	}
	for (int i = 0; i < ind; i++)
		sbuf_putc(e->out, ' ');
}

/* Length of the UTF-8 line break (NEL, LS, PS) or BOM starting at <s>, else 0: libyaml
 * breaks a plain scalar there, so such strings are quoted. */
static size_t
em_unicode_break(const unsigned char *s)
{
	if (s[0] == 0xc2 && s[1] == 0x85)
		return 2;
	if (s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9))
		return 3;
	if (s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		return 3;
	return 0;
}

/* True when <s> written plain on one line in block context reads back as <s>. */
static bool
em_plain_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || strchr(",[]{}#&*!|>'\"%@` \t", s[0]) || s[n - 1] == ' ' || s[n - 1] == ':')
		return false;
	/* `-`, `?` and `:` start a plain scalar only when a non-blank follows (YAML 1.2
	 * ns-plain-first; libyaml agrees in block context) */
	if (strchr("-?:", s[0]) && (s[1] == '\0' || s[1] == ' ' || s[1] == '\t'))
		return false;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c < 0x20 || *c == 0x7f || em_unicode_break(c))
			return false;
		if (c[0] == ':' && c[1] == ' ')
			return false;
		if (c[0] == ' ' && c[1] == '#')
			return false;
	}
	return true;
}

/* True when YAML 1.1 or 1.2 would read plain <s> as something other than a string. */
static bool
em_ambiguous(const char *s)
{
	for (size_t i = 0; i < NELEM(em_special); i++)
		if (!strcasecmp(s, em_special[i]))
			return true;
	if (s[0] >= '0' && s[0] <= '9')
		return true;
	return (s[0] == '+' || s[0] == '.') && s[1] >= '0' && s[1] <= '9';
}

/* Double-quoted scalar; escapes what a double-quoted YAML scalar cannot hold raw. */
static void
em_dquote(struct sbuf *out, const char *s)
{
	sbuf_putc(out, '"');
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		size_t ub = em_unicode_break(c);

		if (ub) {
			sbuf_puts(out, c[0] == 0xc2   ? "\\N"
			               : c[0] == 0xef ? "\\uFEFF"
			               : c[2] == 0xa8 ? "\\L"
			                              : "\\P");
			c += ub - 1;
		} else if (*c == '"' || *c == '\\') {
			sbuf_putc(out, '\\');
			sbuf_putc(out, (char)*c);
		} else if (*c == '\n') {
			sbuf_puts(out, "\\n");
		} else if (*c == '\t') {
			sbuf_puts(out, "\\t");
		} else if (*c < 0x20 || *c == 0x7f) {
			sbuf_printf(out, "\\x%02x", *c);
		} else {
			sbuf_putc(out, (char)*c);
		}
	}
	sbuf_putc(out, '"');
}

void
policy_emit_scalar(struct sbuf *out, const char *s)
{
	/* strings starting with an indicator are quoted even where YAML would not need it:
	 * "-x" or "?x" read plain by a person look like list or key syntax */
	if (em_plain_ok(s) && !em_ambiguous(s) && !strchr("-?:", s[0]))
		sbuf_puts(out, s);
	else
		em_dquote(out, s);
}

/* `key: value` with <val> already a YAML token (number, boolean, enum word). */
static void
em_kv_raw(struct em *e, int ind, const char *key, const char *val)
{
	em_indent(e, ind);
	sbuf_printf(e->out, "%s: %s\n", key, val);
}

static void
em_kv_str(struct em *e, int ind, const char *key, const char *val)
{
	em_indent(e, ind);
	sbuf_printf(e->out, "%s: ", key);
	policy_emit_scalar(e->out, val);
	sbuf_putc(e->out, '\n');
}

/* Writes `key: value` only when <val> is set (absent fields stay absent). */
static void
em_kv_opt(struct em *e, int ind, const char *key, const char *val)
{
	if (val)
		em_kv_str(e, ind, key, val);
}

static void
em_kv_u32(struct em *e, int ind, const char *key, uint32_t v)
{
	em_indent(e, ind);
	sbuf_printf(e->out, "%s: %u\n", key, v);
}

static void
em_kv_bool(struct em *e, int ind, const char *key, bool v)
{
	em_kv_raw(e, ind, key, v ? "true" : "false");
}

/* Writes `key: true` only when <on>: false is every such field's default. */
static void
em_flag(struct em *e, int ind, const char *key, bool on)
{
	if (on)
		em_kv_bool(e, ind, key, true);
}

/* `key:` at <ind>: a schema word as is, a user's key (<user_key>) quoted as needed. */
static void
em_key(struct em *e, int ind, const char *key, bool user_key)
{
	em_indent(e, ind);
	if (user_key)
		policy_emit_scalar(e->out, key);
	else
		sbuf_puts(e->out, key);
	sbuf_putc(e->out, ':');
}

/* `key:` opening a nested block. */
static void
em_open(struct em *e, int ind, const char *key, bool user_key)
{
	em_key(e, ind, key, user_key);
	sbuf_putc(e->out, '\n');
}

/* "- " at <ind>; the item's first key follows on the same line. */
static void
em_item(struct em *e, int ind)
{
	em_indent(e, ind);
	sbuf_puts(e->out, "- ");
	e->dash = true;
}

/* `key: []` for an empty list, else `key:` with the <n> items to follow. */
static void
em_list_open(struct em *e, int ind, const char *key, size_t n)
{
	if (n == 0)
		em_kv_raw(e, ind, key, "[]");
	else
		em_open(e, ind, key, false);
}

static void
em_strlist(struct em *e, int ind, const char *key, char *const *v, size_t n)
{
	em_list_open(e, ind, key, n);
	for (size_t i = 0; i < n; i++) {
		em_indent(e, ind + 2);
		sbuf_puts(e->out, "- ");
		policy_emit_scalar(e->out, v[i]);
		sbuf_putc(e->out, '\n');
	}
}

/* --- middleware config: any YAML value, styles kept --- */

static void em_value_after(struct em *e, int ind, const struct pol_value *v);

/* The children of a non-empty map or list <v>, one per line at <ind>; a pending dash
 * puts the first one on the dash's line. */
static void
em_value_block(struct em *e, int ind, const struct pol_value *v)
{
	for (size_t i = 0; i < v->nitems; i++) {
		const struct pol_value *it = &v->items[i];

		em_indent(e, ind);
		if (v->kind == POL_VALUE_MAP) {
			policy_emit_scalar(e->out, v->keys[i]);
			sbuf_putc(e->out, ':');
			em_value_after(e, ind + 2, it);
		} else if (it->kind != POL_VALUE_SCALAR && it->nitems > 0) {
			sbuf_puts(e->out, "- ");
			e->dash = true;
			em_value_block(e, ind + 2, it);
		} else {
			sbuf_putc(e->out, '-');
			em_value_after(e, ind + 2, it);
		}
	}
}

/* A config scalar after "key:" or "-": plain ones stay plain when they can. */
static void
em_value_scalar(struct em *e, const struct pol_value *v)
{
	if (!v->quoted && v->scalar[0] == '\0')
		return; /* `key:` with nothing after it, as written */
	sbuf_putc(e->out, ' ');
	if (!v->quoted && em_plain_ok(v->scalar))
		sbuf_puts(e->out, v->scalar);
	else
		em_dquote(e->out, v->scalar);
}

/* Writes what follows "key:" or "-" for <v>, whose children sit at <ind>. */
static void
em_value_after(struct em *e, int ind, const struct pol_value *v)
{
	if (v->kind == POL_VALUE_SCALAR) {
		em_value_scalar(e, v);
		sbuf_putc(e->out, '\n');
	} else if (v->nitems == 0) {
		sbuf_puts(e->out, v->kind == POL_VALUE_MAP ? " {}\n" : " []\n");
	} else {
		sbuf_putc(e->out, '\n');
		em_value_block(e, ind, v);
	}
}

/* --- network_policies --- */

/* A matcher: one glob as a string, or {any: [...]}. */
static void
em_matcher(struct em *e, int ind, const char *key, bool user_key, const struct pol_matcher *m)
{
	if (!m->any) {
		em_key(e, ind, key, user_key);
		sbuf_putc(e->out, ' ');
		policy_emit_scalar(e->out, m->nglobs ? m->globs[0] : "");
		sbuf_putc(e->out, '\n');
		return;
	}
	em_open(e, ind, key, user_key);
	em_strlist(e, ind + 2, "any", m->globs, m->nglobs);
}

static bool
em_rule_empty(const struct pol_rule *r)
{
	return !r->method && !r->path && !r->command && !r->nquery && !r->operation_type &&
	       !r->operation_name && !r->fields_set && !r->has_tool;
}

/* The fields of one allow or deny rule, at <ind>. */
static void
em_rule_fields(struct em *e, int ind, const struct pol_rule *r)
{
	em_kv_opt(e, ind, "method", r->method);
	em_kv_opt(e, ind, "path", r->path);
	em_kv_opt(e, ind, "command", r->command);
	if (r->nquery) {
		em_open(e, ind, "query", false);
		for (size_t i = 0; i < r->nquery; i++)
			em_matcher(e, ind + 2, r->query[i].key, true, &r->query[i].m);
	}
	em_kv_opt(e, ind, "operation_type", r->operation_type);
	em_kv_opt(e, ind, "operation_name", r->operation_name);
	if (r->fields_set)
		em_strlist(e, ind, "fields", r->fields, r->nfields);
	if (r->has_tool)
		em_matcher(e, ind, "tool", false, &r->tool);
}

static void
em_rules(struct em *e, int ind, const struct pol_endpoint *ep)
{
	if (ep->nrules) {
		em_open(e, ind, "rules", false);
		for (size_t i = 0; i < ep->nrules; i++) {
			em_item(e, ind + 2);
			if (em_rule_empty(&ep->rules[i])) {
				em_kv_raw(e, ind + 4, "allow", "{}");
				continue;
			}
			em_open(e, ind + 4, "allow", false);
			em_rule_fields(e, ind + 6, &ep->rules[i]);
		}
	}
	if (ep->ndeny_rules) {
		em_open(e, ind, "deny_rules", false);
		for (size_t i = 0; i < ep->ndeny_rules; i++) {
			if (em_rule_empty(&ep->deny_rules[i])) {
				em_indent(e, ind + 2);
				sbuf_puts(e->out, "- {}\n");
				continue;
			}
			em_item(e, ind + 2);
			em_rule_fields(e, ind + 4, &ep->deny_rules[i]);
		}
	}
}

static void
em_ports(struct em *e, int ind, const struct pol_endpoint *ep)
{
	if (ep->nports == 1) {
		em_kv_u32(e, ind, "port", ep->ports[0]);
		return;
	}
	em_indent(e, ind);
	sbuf_puts(e->out, "ports: [");
	for (size_t i = 0; i < ep->nports; i++)
		sbuf_printf(e->out, "%s%u", i ? ", " : "", ep->ports[i]);
	sbuf_puts(e->out, "]\n");
}

/* GraphQL, JSON-RPC and MCP options. */
static void
em_protocol_options(struct em *e, int ind, const struct pol_endpoint *ep)
{
	em_kv_opt(e, ind, "persisted_queries", ep->persisted_queries);
	if (ep->ngraphql_persisted_queries) {
		em_open(e, ind, "graphql_persisted_queries", false);
		for (size_t i = 0; i < ep->ngraphql_persisted_queries; i++) {
			const struct pol_persisted_query *q = &ep->graphql_persisted_queries[i];

			em_open(e, ind + 2, q->id, true);
			if (q->operation_type)
				em_kv_str(e, ind + 4, "operation_type", q->operation_type);
			if (q->operation_name)
				em_kv_str(e, ind + 4, "operation_name", q->operation_name);
			if (q->nfields)
				em_strlist(e, ind + 4, "fields", q->fields, q->nfields);
		}
	}
	if (ep->graphql_max_body_bytes)
		em_kv_u32(e, ind, "graphql_max_body_bytes", ep->graphql_max_body_bytes);
	if (ep->has_json_rpc && ep->json_rpc_max_body_bytes) {
		em_open(e, ind, "json_rpc", false);
		em_kv_u32(e, ind + 2, "max_body_bytes", ep->json_rpc_max_body_bytes);
	} else if (ep->has_json_rpc) {
		em_kv_raw(e, ind, "json_rpc", "{}");
	}
	if (ep->has_mcp) {
		em_open(e, ind, "mcp", false);
		if (ep->mcp_max_body_bytes)
			em_kv_u32(e, ind + 2, "max_body_bytes", ep->mcp_max_body_bytes);
		em_kv_bool(e, ind + 2, "strict_tool_names", ep->mcp_strict_tool_names);
		em_kv_bool(e, ind + 2, "allow_all_known_mcp_methods",
		           ep->mcp_allow_all_known_mcp_methods);
	}
}

static void
em_endpoint(struct em *e, int ind, const struct pol_endpoint *ep)
{
	if (ep->host[0])
		em_kv_str(e, ind, "host", ep->host);
	em_ports(e, ind, ep);
	em_kv_opt(e, ind, "path", ep->path);
	if (ep->protocol != POL_PROTO_L4)
		em_kv_raw(e, ind, "protocol", em_protocol[ep->protocol]);
	if (ep->tls != POL_TLS_AUTO)
		em_kv_raw(e, ind, "tls", em_tls[ep->tls]);
	if (ep->enforcement_set)
		em_kv_raw(e, ind, "enforcement", em_enforcement[ep->enforcement]);
	if (ep->access != POL_ACCESS_NONE)
		em_kv_raw(e, ind, "access", em_access[ep->access]);
	em_rules(e, ind, ep);
	if (ep->nallowed_ips)
		em_strlist(e, ind, "allowed_ips", ep->allowed_ips, ep->nallowed_ips);
	em_flag(e, ind, "allow_encoded_slash", ep->allow_encoded_slash);
	em_flag(e, ind, "websocket_credential_rewrite", ep->websocket_credential_rewrite);
	em_flag(e, ind, "request_body_credential_rewrite", ep->request_body_credential_rewrite);
	em_flag(e, ind, "allow_uninspected_credentials", ep->allow_uninspected_credentials);
	em_kv_opt(e, ind, "credential_signing", ep->credential_signing);
	em_kv_opt(e, ind, "signing_service", ep->signing_service);
	em_kv_opt(e, ind, "signing_region", ep->signing_region);
	if (ep->credential_binding_provider) {
		em_open(e, ind, "credential_binding", false);
		em_kv_str(e, ind + 2, "provider", ep->credential_binding_provider);
	}
	em_protocol_options(e, ind, ep);
}

static void
em_block(struct em *e, const struct pol_block *b)
{
	em_open(e, 2, b->key, true);
	if (strcmp(b->name, b->key))
		em_kv_str(e, 4, "name", b->name);
	em_list_open(e, 4, "endpoints", b->nendpoints);
	for (size_t i = 0; i < b->nendpoints; i++) {
		em_item(e, 6);
		em_endpoint(e, 8, &b->endpoints[i]);
	}
	em_list_open(e, 4, "binaries", b->nbinaries);
	for (size_t i = 0; i < b->nbinaries; i++) {
		em_item(e, 6);
		em_kv_str(e, 8, "path", b->binaries[i].path);
		if (b->binaries[i].harness)
			em_kv_bool(e, 8, "harness", true);
	}
}

static void
em_network_policies(struct em *e, const struct policy *p, const char *extra)
{
	bool has_extra = extra && extra[0];
	size_t n;

	if (p->nblocks == 0 && !has_extra) {
		if (p->network_policies_set)
			sbuf_puts(e->out, "network_policies: {}\n");
		return;
	}
	sbuf_puts(e->out, "network_policies:\n");
	for (size_t i = 0; i < p->nblocks; i++)
		em_block(e, &p->blocks[i]);
	if (!has_extra)
		return;
	n = strlen(extra);
	sbuf_add(e->out, extra, n);
	if (extra[n - 1] != '\n')
		sbuf_putc(e->out, '\n');
}

/* --- network_middlewares --- */

static void
em_middleware(struct em *e, const struct pol_middleware *mw)
{
	em_open(e, 2, mw->key, true);
	if (strcmp(mw->name, mw->key))
		em_kv_str(e, 4, "name", mw->name);
	em_kv_str(e, 4, "middleware", mw->middleware);
	em_indent(e, 4);
	sbuf_printf(e->out, "order: %d\n", (int)mw->order);
	if (mw->has_config) {
		em_indent(e, 4);
		sbuf_puts(e->out, "config:");
		em_value_after(e, 6, &mw->config);
	}
	em_kv_raw(e, 4, "on_error", em_on_error[mw->on_error]);
	em_open(e, 4, "endpoints", false);
	em_strlist(e, 6, "include", mw->include, mw->ninclude);
	if (mw->nexclude)
		em_strlist(e, 6, "exclude", mw->exclude, mw->nexclude);
}

/* --- static sections and the document --- */

static void
em_static(struct em *e, const struct policy *p)
{
	if (p->has_filesystem) {
		sbuf_puts(e->out, "filesystem_policy:\n");
		em_kv_bool(e, 2, "include_workdir", p->include_workdir);
		em_strlist(e, 2, "read_only", p->read_only, p->nread_only);
		em_strlist(e, 2, "read_write", p->read_write, p->nread_write);
	}
	if (p->has_landlock) {
		sbuf_puts(e->out, "landlock:\n");
		em_kv_raw(e, 2, "compatibility", em_compat[p->compat]);
	}
	if (p->has_process && !p->run_as_user && !p->run_as_group) {
		sbuf_puts(e->out, "process: {}\n");
	} else if (p->has_process) {
		sbuf_puts(e->out, "process:\n");
		if (p->run_as_user)
			em_kv_str(e, 2, "run_as_user", p->run_as_user);
		if (p->run_as_group)
			em_kv_str(e, 2, "run_as_group", p->run_as_group);
	}
}

int
policy_emit(const struct policy *p, const char *extra_blocks, struct sbuf *out)
{
	struct em e = {out, false};

	if (p == NULL || out == NULL) {
		errno = EINVAL;
		return -1;
	}
	sbuf_printf(out, "version: %u\n", p->version);
	em_static(&e, p);
	em_network_policies(&e, p, extra_blocks);
	if (p->nmiddlewares) {
		sbuf_puts(out, "network_middlewares:\n");
		for (size_t i = 0; i < p->nmiddlewares; i++)
			em_middleware(&e, &p->middlewares[i]);
	}
	return 0;
}
