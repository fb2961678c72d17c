/* validate_endpoint: per-endpoint checks (spec/policy.md §1.8, §1.9, §1.14): host shape
 * and normalisation, ports, the protocol matrix, rule fields, credentials, allowed_ips,
 * and the non-fatal warnings. */
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "policy/load_ep_int.h"
#include "util/arena.h"
#include "util/util.h"

/* --- checks --- */

struct ld_epc {
	struct ld *l;
	struct ld_ep *e;
	yaml_node_t *node;
	struct ld_seen *seen;
};

#define EP_HAS(c, f) (((c)->seen->mask >> (f)) & 1)

static void __attribute__((format(printf, 4, 5)))
ep_diag(struct ld_epc *c, enum diag_sev sev, size_t field, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ld_diag_field(c->l, sev, c->seen, ld_ep_fields, field, c->node, "%s", msg);
}

/* Reports at rules[i].allow.<field> (or deny_rules[i].<field>). */
static void __attribute__((format(printf, 5, 6)))
rule_diag(struct ld_epc *c, bool deny, size_t i, size_t field, const char *fmt, ...)
{
	struct ld_rule_meta *m = deny ? &c->e->dmeta[i] : &c->e->rmeta[i];
	char msg[768];
	va_list ap;
	size_t old;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	old = ld_push_key(c->l, ld_ep_fields[deny ? EF_DENY_RULES : EF_RULES].name);
	ld_push_idx(c->l, i);
	if (!deny)
		ld_push_key(c->l, "allow");
	ld_diag_field(c->l, DIAG_ERROR, &m->seen, ld_rule_fields, field, m->node, "%s", msg);
	ld_pop(c->l, old);
}

static bool
ld_rule_empty(const struct pol_rule *r)
{
	return !r->method && !r->path && !r->command && !r->nquery && !r->operation_type &&
	       !r->operation_name && !r->fields_set && !r->has_tool;
}

static bool
ld_has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Host: present unless hostless with allowed_ips; tcp needs a DNS name; shapes. */
static void
ep_check_host(struct ld_epc *c)
{
	struct pol_endpoint *ep = &c->e->ep;
	bool tcp = ep->protocol == POL_PROTO_TCP;
	char *h = ep->host;
	const char *why;
	size_t n;

	if (h == NULL || h[0] == '\0') {
		ep->host = arena_strdup(c->l->a, "");
		if (tcp)
			ep_diag(c, DIAG_ERROR, EF_HOST, "a tcp endpoint needs a host (a DNS name); "
							"hint: add `host: name.example`");
		else if (ep->nallowed_ips == 0)
			ep_diag(c, DIAG_ERROR, EF_HOST, "missing host; accepted: a DNS name, an IP "
							"address or a wildcard such as *.example.com; "
							"hint: a hostless endpoint needs allowed_ips");
		return;
	}
	if (strpbrk(h, " \t\r\n\v\f")) {
		ep_diag(c, DIAG_ERROR, EF_HOST, "host `%s` contains whitespace; hint: remove it", h);
		return;
	}
	n = strlen(h);
	if (h[n - 1] == '.') {
		if (tcp) {
			ep_diag(c, DIAG_ERROR, EF_HOST, "tcp host `%s` ends in a dot; hint: remove "
							"the trailing dot",
				h);
			return;
		}
		h[--n] = '\0'; /* `example.com.` names the same host as `example.com` */
	}
	for (char *p = h; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (vd_is_ip(h)) {
		if (tcp)
			ep_diag(c, DIAG_ERROR, EF_HOST, "tcp host `%s` is an IP address; accepted: "
							"a DNS name; hint: use protocol \"\" (L4) "
							"with allowed_ips for IP destinations",
				h);
		return;
	}
	if (n == 0 || h[0] == '.' || strstr(h, "..")) {
		ep_diag(c, DIAG_ERROR, EF_HOST, "host `%s` has an empty label", h);
		return;
	}
	for (const char *p = h; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_' || *p == '.' || *p == '*')) {
			ep_diag(c, DIAG_ERROR, EF_HOST, "host `%s` contains `%c`; accepted: "
							"letters, digits, `-`, `_`, `.` and `*` "
							"wildcards",
				h, *p);
			return;
		}
	}
	ep->host_wildcard = strchr(h, '*') != NULL;
	if (ep->host_wildcard && (why = vd_wildcard_shape(h)) != NULL)
		ep_diag(c, DIAG_ERROR, EF_HOST, "host `%s`: %s", h, why);
}

static void
ep_check_ports(struct ld_epc *c)
{
	struct ld_ep *e = c->e;

	if (EP_HAS(c, EF_PORT) && EP_HAS(c, EF_PORTS)) {
		ep_diag(c, DIAG_ERROR, EF_PORTS, "both port and ports are set; hint: keep one "
						 "(ports: [a, b] for several)");
	} else if (EP_HAS(c, EF_PORTS) && e->nports == 0) {
		ep_diag(c, DIAG_ERROR, EF_PORTS, "ports is empty; hint: list at least one port");
	} else if (!EP_HAS(c, EF_PORT) && !EP_HAS(c, EF_PORTS)) {
		ld_err(c->l, c->node, "missing port; hint: add `port: 443` (or ports: [...])");
	}
	if (e->nports) {
		e->ep.ports = e->ports;
		e->ep.nports = e->nports;
	} else if (e->port) {
		e->ep.ports = arena_alloc(c->l->a, sizeof(uint16_t));
		e->ep.ports[0] = e->port;
		e->ep.nports = 1;
	}
}

/* tcp endpoints are plain byte streams: every L7 field is meaningless there. */
static void
ep_check_tcp(struct ld_epc *c)
{
	static const int l7f[] = { EF_ENFORCEMENT,  EF_PATH,	     EF_ACCESS,
				   EF_RULES,	    EF_DENY_RULES,   EF_WS_REWRITE,
				   EF_BODY_REWRITE, EF_SIGNING,	     EF_SIGNING_SERVICE,
				   EF_SIGNING_REGION, EF_PERSISTED,  EF_GQL_PERSISTED,
				   EF_GQL_MAX,	    EF_JSON_RPC,     EF_MCP };
	char list[512] = "";
	size_t off = 0;
	int first = -1;

	for (size_t i = 0; i < NELEM(l7f); i++) {
		if (!EP_HAS(c, l7f[i]))
			continue;
		if (first == -1)
			first = l7f[i];
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", off ? ", " : "",
					ld_ep_fields[l7f[i]].name);
		if (off >= sizeof(list))
			break;
	}
	if (first != -1)
		ep_diag(c, DIAG_ERROR, (size_t)first,
			"a tcp endpoint carries no HTTP, so these fields do not apply: %s; hint: "
			"remove them, or use an L7 protocol such as rest",
			list);
}

static bool
ep_is_method(const char *m, const char *const *set)
{
	for (size_t i = 0; set[i]; i++)
		if (!strcasecmp(m, set[i]))
			return true;
	return false;
}

/* Field-level checks of one allow or deny rule against the endpoint's protocol. */
static void
ep_check_rule(struct ld_epc *c, bool deny, size_t i)
{
	static const char *const rest_methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE",
						    "PATCH", "OPTIONS", "*", NULL };
	static const char *const ws_methods[] = { "GET", "WEBSOCKET_TEXT", "*", NULL };
	struct pol_endpoint *ep = &c->e->ep;
	struct pol_rule *r = deny ? &ep->deny_rules[i] : &ep->rules[i];
	struct ld_rule_meta *m = deny ? &c->e->dmeta[i] : &c->e->rmeta[i];
	struct ld *l = c->l;

	if (r->path && r->path[0] != '/' && strncmp(r->path, "**", 2))
		rule_diag(c, deny, i, RF_PATH,
			  "path `%s` must start with `/` or `**`; hint: write /%s", r->path,
			  r->path);
	if (r->fields_set && r->nfields == 0)
		rule_diag(c, deny, i, RF_FIELDS, "fields is empty and matches no operation; "
						 "hint: list field globs or remove `fields`");
	switch (ep->protocol) {
	case POL_PROTO_REST:
	case POL_PROTO_WEBSOCKET: {
		const char *const *set = ep->protocol == POL_PROTO_REST ? rest_methods : ws_methods;

		if (r->method && !ep_is_method(r->method, set) &&
		    !(ep->protocol == POL_PROTO_WEBSOCKET && r->operation_type)) {
			size_t old = ld_push_key(l, deny ? "deny_rules" : "rules");

			ld_push_idx(l, i);
			if (!deny)
				ld_push_key(l, "allow");
			ld_diag_field(l, DIAG_WARNING, &m->seen, ld_rule_fields, RF_METHOD, m->node,
				      "unknown HTTP method `%s` never matches a request; accepted: "
				      "%s",
				      r->method,
				      ep->protocol == POL_PROTO_REST
					      ? "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, *"
					      : "GET, WEBSOCKET_TEXT, *");
			ld_pop(l, old);
		}
		if (r->has_tool)
			rule_diag(c, deny, i, (m->seen.mask >> RF_TOOL) & 1 ? RF_TOOL : RF_PARAMS,
				  "tool matchers are for protocol mcp only");
		break;
	}
	case POL_PROTO_GRAPHQL:
		if (r->operation_type == NULL)
			rule_diag(c, deny, i, RF_OPTYPE,
				  "a graphql rule needs operation_type; accepted: query, mutation, "
				  "subscription");
		else if (!ld_is_optype(r->operation_type))
			rule_diag(c, deny, i, RF_OPTYPE,
				  "unknown operation_type `%s`; accepted: query, mutation, "
				  "subscription",
				  r->operation_type);
		break;
	case POL_PROTO_JSON_RPC:
		if (r->method && strcmp(r->method, "*") && ld_has_glob(r->method))
			rule_diag(c, deny, i, RF_METHOD,
				  "json-rpc method `%s` is a glob; accepted: an exact method name or "
				  "`*`",
				  r->method);
		if (r->has_tool)
			rule_diag(c, deny, i, (m->seen.mask >> RF_TOOL) & 1 ? RF_TOOL : RF_PARAMS,
				  "json-rpc rules match the method only; tool/params are for mcp");
		if (r->path || r->nquery)
			rule_diag(c, deny, i, r->path ? RF_PATH : RF_QUERY,
				  "json-rpc rules match the method only; path and query do not "
				  "apply");
		break;
	case POL_PROTO_MCP:
		if (r->method && ld_has_glob(r->method) && strcmp(r->method, "*") &&
		    strncmp(r->method, "tools/", 6))
			rule_diag(c, deny, i, RF_METHOD,
				  "mcp method `%s`: globs are accepted only in the tools/ family "
				  "(e.g. tools/*)",
				  r->method);
		if (r->has_tool && !ep->mcp_strict_tool_names) {
			for (size_t g = 0; g < r->tool.nglobs; g++) {
				if (ld_has_glob(r->tool.globs[g])) {
					rule_diag(c, deny, i,
						  (m->seen.mask >> RF_TOOL) & 1 ? RF_TOOL : RF_PARAMS,
						  "wildcard tool `%s` needs mcp.strict_tool_names: "
						  "true",
						  r->tool.globs[g]);
					break;
				}
			}
		}
		break;
	default:
		break;
	}
}

/* A broad `tools/call` allow (no tool) would swallow the tool-specific ones. */
static void
ep_check_mcp_broad(struct ld_epc *c)
{
	struct pol_endpoint *ep = &c->e->ep;
	ssize_t broad = -1;
	bool specific = false;

	for (size_t i = 0; i < ep->nrules; i++) {
		const struct pol_rule *r = &ep->rules[i];

		if (r->has_tool)
			specific = true;
		else if (r->method && !strcmp(r->method, "tools/call") && broad == -1)
			broad = (ssize_t)i;
	}
	if (broad != -1 && specific)
		rule_diag(c, false, (size_t)broad, RF_METHOD,
			  "a `tools/call` rule without a tool allows every tool, so the "
			  "tool-specific rules mean nothing; hint: add `tool:` here or remove it");
}

static void
ep_check_l7(struct ld_epc *c)
{
	struct pol_endpoint *ep = &c->e->ep;
	bool mcp_all = ep->protocol == POL_PROTO_MCP && ep->mcp_allow_all_known_mcp_methods;
	bool l7 = ep->protocol != POL_PROTO_L4 && ep->protocol != POL_PROTO_TCP;
	bool has_access = ep->access != POL_ACCESS_NONE;
	bool any_nonempty = false, all_have_allow = true;

	if (EP_HAS(c, EF_RULES) && ep->nrules == 0)
		ep_diag(c, DIAG_ERROR, EF_RULES, "rules is empty; hint: add allow rules, use "
						 "access: read-only|read-write|full, or remove it");
	if (EP_HAS(c, EF_DENY_RULES) && ep->ndeny_rules == 0)
		ep_diag(c, DIAG_ERROR, EF_DENY_RULES, "deny_rules is empty; hint: remove it");
	if (ep->nrules && has_access)
		ep_diag(c, DIAG_ERROR, EF_ACCESS, "rules and access are mutually exclusive; hint: "
						  "keep the rules, or only the access preset");
	if (ep->protocol == POL_PROTO_L4) {
		if (ep->ndeny_rules)
			ep_diag(c, DIAG_ERROR, EF_DENY_RULES,
				"deny_rules require a protocol; hint: add protocol: rest");
		if (ep->nrules || has_access)
			ep_diag(c, DIAG_WARNING, ep->nrules ? EF_RULES : EF_ACCESS,
				"rules and access have no effect without a protocol: the "
				"connection is passed through uninspected; hint: add protocol: rest");
	}
	if ((ep->protocol == POL_PROTO_JSON_RPC || ep->protocol == POL_PROTO_MCP) && has_access)
		ep_diag(c, DIAG_ERROR, EF_ACCESS, "access presets do not apply to protocol %s; "
						  "hint: write explicit rules",
			ld_protocol_names[ep->protocol]);
	/* an unknown access value or a deny_rules problem was already reported */
	if (l7 && ep->nrules == 0 && !has_access && !mcp_all && !EP_HAS(c, EF_RULES) &&
	    !EP_HAS(c, EF_ACCESS) && !ep->ndeny_rules) {
		if (ep->protocol == POL_PROTO_MCP)
			ld_err(c->l, c->node, "protocol mcp needs rules; hint: add rules, or "
					      "mcp: {allow_all_known_mcp_methods: true}");
		else if (ep->protocol == POL_PROTO_JSON_RPC)
			ld_err(c->l, c->node, "protocol json-rpc needs explicit rules; hint: add "
					      "rules: [{allow: {method: ...}}]");
		else
			ld_err(c->l, c->node, "protocol %s needs rules or access; hint: add "
					      "access: read-only (or full), or allow rules",
			       ld_protocol_names[ep->protocol]);
	}
	for (size_t i = 0; i < ep->nrules; i++) {
		any_nonempty |= !ld_rule_empty(&ep->rules[i]);
		all_have_allow &= c->e->rmeta[i].has_allow;
	}
	if (ep->nrules && !any_nonempty && all_have_allow && !mcp_all)
		ep_diag(c, DIAG_ERROR, EF_RULES, "every allow rule is empty, so the rules would "
						 "deny all; hint: give each allow a method and "
						 "path (or remove rules)");
	if (ep->ndeny_rules && ep->protocol != POL_PROTO_L4 && ep->nrules == 0 && !has_access &&
	    !mcp_all)
		ep_diag(c, DIAG_ERROR, EF_DENY_RULES,
			"deny_rules need a base allow set (rules or access) to subtract from");
	if (ep->protocol == POL_PROTO_SQL && ep->enforcement == POL_ENF_ENFORCE)
		ep_diag(c, DIAG_ERROR, EF_ENFORCEMENT,
			"protocol sql cannot be enforced (it is audit-only); hint: remove "
			"enforcement or set it to audit");
	if (ep->has_mcp && ep->protocol != POL_PROTO_MCP)
		ep_diag(c, DIAG_ERROR, EF_MCP, "mcp options apply only to protocol mcp");
	if (ep->protocol == POL_PROTO_MCP && (ep->host[0] == '\0' || ep->host_wildcard))
		ep_diag(c, DIAG_ERROR, EF_HOST, "protocol mcp needs a concrete host (no wildcard, "
						"not hostless)");
	if (EP_HAS(c, EF_PATH) && ep->path && strcmp(ep->path, "**") && ep->path[0] != '/')
		ep_diag(c, DIAG_ERROR, EF_PATH, "path `%s` must start with `/` or be `**`",
			ep->path);
	for (size_t i = 0; i < ep->nrules; i++)
		ep_check_rule(c, false, i);
	for (size_t i = 0; i < ep->ndeny_rules; i++)
		ep_check_rule(c, true, i);
	if (ep->protocol == POL_PROTO_MCP)
		ep_check_mcp_broad(c);
	if ((ep->has_json_rpc && ep->protocol != POL_PROTO_JSON_RPC))
		ep_diag(c, DIAG_WARNING, EF_JSON_RPC, "json_rpc options apply only to protocol "
						      "json-rpc and are ignored here");
	if ((EP_HAS(c, EF_GQL_PERSISTED) || EP_HAS(c, EF_GQL_MAX) || EP_HAS(c, EF_PERSISTED)) &&
	    ep->protocol != POL_PROTO_GRAPHQL && ep->protocol != POL_PROTO_WEBSOCKET)
		ep_diag(c, DIAG_WARNING,
			EP_HAS(c, EF_PERSISTED)	  ? EF_PERSISTED
			: EP_HAS(c, EF_GQL_MAX)	  ? EF_GQL_MAX
						  : EF_GQL_PERSISTED,
			"GraphQL options apply only to protocol graphql (or websocket) and are "
			"ignored here");
}

static void
ep_check_credentials(struct ld_epc *c)
{
	struct pol_endpoint *ep = &c->e->ep;

	if (ep->credential_signing && (!ep->signing_service || !ep->signing_service[0]))
		ep_diag(c, DIAG_ERROR, EF_SIGNING, "credential_signing %s needs signing_service "
						   "(the AWS service name, e.g. s3)",
			ep->credential_signing);
	if (ep->credential_signing && ep->request_body_credential_rewrite)
		ep_diag(c, DIAG_ERROR, EF_BODY_REWRITE,
			"request_body_credential_rewrite cannot be combined with "
			"credential_signing (the signature covers the body); hint: keep one");
	if (ep->websocket_credential_rewrite && ep->protocol != POL_PROTO_REST &&
	    ep->protocol != POL_PROTO_WEBSOCKET)
		ep_diag(c, DIAG_WARNING, EF_WS_REWRITE,
			"websocket_credential_rewrite applies only to protocol rest or websocket "
			"and is ignored here");
	if (ep->request_body_credential_rewrite && ep->protocol != POL_PROTO_REST)
		ep_diag(c, DIAG_WARNING, EF_BODY_REWRITE,
			"request_body_credential_rewrite applies only to protocol rest and is "
			"ignored here");
}

static void
ep_check_ips(struct ld_epc *c)
{
	struct pol_endpoint *ep = &c->e->ep;
	yaml_node_t *list = c->seen->val[EF_ALLOWED_IPS];

	for (size_t i = 0; i < ep->nallowed_ips; i++) {
		yaml_node_t *item = yaml_document_get_node(c->l->doc,
							   list->data.sequence.items.start[i]);
		size_t old = ld_push_key(c->l, "allowed_ips");
		int prefix;
		bool v6;

		ld_push_idx(c->l, i);
		if (!vd_ip_or_cidr(ep->allowed_ips[i], &prefix, &v6))
			ld_err(c->l, item, "`%s` is not an IP address or CIDR; accepted: e.g. "
					   "10.0.5.0/24, 192.168.1.10, fd00::/8",
			       ep->allowed_ips[i]);
		else if (prefix < 16)
			ld_warn(c->l, item, "`%s` is broader than /16 and admits many internal "
					    "addresses; hint: narrow it to the hosts you need",
				ep->allowed_ips[i]);
		ld_pop(c->l, old);
	}
}

static void
ep_check_warnings(struct ld_epc *c)
{
	struct pol_endpoint *ep = &c->e->ep;
	bool l7 = ep->protocol != POL_PROTO_L4 && ep->protocol != POL_PROTO_TCP;

	if (ep->tls == POL_TLS_TERMINATE || ep->tls == POL_TLS_PASSTHROUGH)
		ep_diag(c, DIAG_WARNING, EF_TLS, "tls: %s is deprecated and behaves as the default "
						 "(TLS is detected and terminated when needed); "
						 "hint: remove the line",
			ld_tls_names[ep->tls]);
	if (l7 && ep->protocol != POL_PROTO_SQL && ep->enforcement != POL_ENF_ENFORCE)
		ep_diag(c, DIAG_WARNING, EP_HAS(c, EF_ENFORCEMENT) ? EF_ENFORCEMENT : EF_PROTOCOL,
			"L7 rules on this endpoint are only audited, never blocked; hint: add "
			"enforcement: enforce");
	if (l7 && ep->tls == POL_TLS_SKIP) {
		for (size_t i = 0; i < ep->nports; i++) {
			if (ep->ports[i] == 443) {
				ep_diag(c, DIAG_WARNING, EF_TLS,
					"tls: skip on port 443 leaves the HTTPS traffic encrypted, "
					"so the %s rules cannot be checked; hint: remove tls: skip",
					ld_protocol_names[ep->protocol]);
				break;
			}
		}
	}
	if (ep->protocol == POL_PROTO_REST) {
		for (size_t i = 0; i < ep->nrules; i++) {
			if (!ep->rules[i].command)
				continue;
			size_t old = ld_push_key(c->l, "rules");
			ld_push_idx(c->l, i);
			ld_push_key(c->l, "allow");
			ld_diag_field(c->l, DIAG_WARNING, &c->e->rmeta[i].seen, ld_rule_fields,
				      RF_COMMAND, c->e->rmeta[i].node,
				      "command applies only to protocol sql and is ignored here");
			ld_pop(c->l, old);
		}
	}
}

void
vd_endpoint(struct ld *l, struct ld_ep *e, yaml_node_t *node, struct ld_seen *seen)
{
	struct ld_epc c = { l, e, node, seen };

	ep_check_host(&c);
	ep_check_ports(&c);
	if (e->ep.protocol == POL_PROTO_TCP)
		ep_check_tcp(&c);
	else
		ep_check_l7(&c);
	ep_check_credentials(&c);
	ep_check_ips(&c);
	ep_check_warnings(&c);
}
