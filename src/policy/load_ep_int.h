/*
 * policy/load_ep_int: the endpoint parser's working state, shared by load_endpoint.c
 * (parsing) and validate_endpoint.c (the per-endpoint checks of spec/policy.md §1.8,
 * §1.9, §1.14). Internal to the loader.
 */
#ifndef AGENTCAGE_POLICY_LOAD_EP_INT_H
#define AGENTCAGE_POLICY_LOAD_EP_INT_H

#include "policy/load_int.h"

/* Per-rule bookkeeping kept beside the model while the endpoint is checked. */
struct ld_rule_meta {
	yaml_node_t *node;
	struct ld_seen seen; /* of the allow object (rules) or of the deny rule */
	bool has_allow;      /* rules: `allow` was there (else already an error) */
};

/* An endpoint while it is being parsed: the model plus what the model does not keep. */
struct ld_ep {
	struct pol_endpoint ep;
	uint16_t port;
	uint16_t *ports;
	size_t nports;
	struct ld_rule_meta *rmeta, *dmeta;
	size_t nrmeta, ndmeta;
};

enum {
	EF_HOST = 0,
	EF_PORT,
	EF_PORTS,
	EF_PATH,
	EF_PROTOCOL,
	EF_TLS,
	EF_ENFORCEMENT,
	EF_ACCESS,
	EF_RULES,
	EF_DENY_RULES,
	EF_ALLOWED_IPS,
	EF_ALLOW_ENCODED_SLASH,
	EF_WS_REWRITE,
	EF_BODY_REWRITE,
	EF_UNINSPECTED,
	EF_SIGNING,
	EF_SIGNING_SERVICE,
	EF_SIGNING_REGION,
	EF_BINDING,
	EF_PERSISTED,
	EF_GQL_PERSISTED,
	EF_GQL_MAX,
	EF_JSON_RPC,
	EF_MCP,
	EF_COUNT
};

enum {
	RF_METHOD = 0,
	RF_PATH,
	RF_COMMAND,
	RF_QUERY,
	RF_OPTYPE,
	RF_OPNAME,
	RF_FIELDS,
	RF_TOOL,
	RF_PARAMS,
	RF_COUNT
};

extern const struct ld_field ld_ep_fields[EF_COUNT];
extern const struct ld_field ld_rule_fields[RF_COUNT];
extern const char *const ld_protocol_names[];
extern const char *const ld_tls_names[];

/* True for query, mutation or subscription. */
bool ld_is_optype(const char *s);

/* Runs every check of one parsed endpoint <e> (YAML node <node>, fields <seen>);
 * errors and warnings go to l->d. Also sets the effective ports and normalises the host. */
void vd_endpoint(struct ld *l, struct ld_ep *e, yaml_node_t *node, struct ld_seen *seen);

#endif
