/*
 * policy/model: the typed form of an OpenShell sandbox policy (spec/policy.md §1).
 * Types only; policy/load fills it, policy/engine compiles it, the sandbox reads the
 * static sections.
 *
 * Ownership: every pointer in a struct policy points into policy->arena; policy_free()
 * (policy/load.h) releases all of it. Arrays are (pointer, count) pairs; an absent list
 * and an empty list both have count 0, the *_set flags tell them apart where the
 * schema cares. Strings are NUL-terminated, already validated by the loader, and host
 * names are normalised (lower-case, trailing dot removed).
 */
#ifndef AGENTCAGE_POLICY_MODEL_H
#define AGENTCAGE_POLICY_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"

/* Named limits (house rule 7). Going over one is a located load error. */
#define POLICY_MAX_BYTES    (1024 * 1024) /* a policy file */
#define POLICY_MAX_DEPTH    32            /* YAML nesting */
#define POLICY_MAX_NODES    200000        /* YAML nodes after alias expansion */
#define POLICY_MAX_FS_PATHS 256           /* read_only + read_write */
#define POLICY_MAX_PATH_LEN 4096          /* one filesystem path */
#define POLICY_MAX_MIDDLEWARES 10
#define POLICY_MAX_SELECTOR_PATTERNS 32   /* include + exclude of one middleware */

/* Where a value was written: 1-based line and column of its YAML node. */
struct pol_mark {
	uint32_t line, col;
};

enum pol_protocol {
	POL_PROTO_L4 = 0, /* "" or absent: plain CONNECT, bytes passed through */
	POL_PROTO_TCP,
	POL_PROTO_REST,
	POL_PROTO_WEBSOCKET,
	POL_PROTO_GRAPHQL,
	POL_PROTO_SQL,
	POL_PROTO_JSON_RPC,
	POL_PROTO_MCP,
};

enum pol_tls {
	POL_TLS_AUTO = 0,      /* "" or absent */
	POL_TLS_SKIP,          /* never terminate */
	POL_TLS_TERMINATE,     /* deprecated: warns, behaves as auto */
	POL_TLS_PASSTHROUGH,   /* deprecated: warns, behaves as auto */
};

enum pol_enforcement {
	POL_ENF_AUDIT = 0, /* default, as the reference: violations logged, not blocked */
	POL_ENF_ENFORCE,
};

enum pol_access {
	POL_ACCESS_NONE = 0,
	POL_ACCESS_READ_ONLY,
	POL_ACCESS_READ_WRITE,
	POL_ACCESS_FULL,
};

enum pol_compat {
	POL_COMPAT_BEST_EFFORT = 0,
	POL_COMPAT_HARD_REQUIREMENT,
};

enum pol_on_error {
	POL_ON_ERROR_FAIL_CLOSED = 0,
	POL_ON_ERROR_FAIL_OPEN,
};

/* A query value matcher: `key: "glob"` (one glob, any=false) or `key: {any: [g...]}`. */
struct pol_matcher {
	char **globs;
	size_t nglobs;
	bool any;
	struct pol_mark mark;
};

struct pol_query {
	char *key; /* decoded parameter name */
	struct pol_matcher m;
};

/* MCP `tool` / `params.name` matcher: a glob or {any: [...]}. */

/*
 * One allow (rules[].allow) or deny (deny_rules[]) rule. Which fields are meaningful
 * depends on the endpoint's protocol (validated by the loader).
 */
struct pol_rule {
	char *method;    /* NULL when absent; as written (compare case-insensitively) */
	char *path;      /* NULL when absent */
	char *command;   /* sql */
	struct pol_query *query;
	size_t nquery;
	char *operation_type; /* graphql */
	char *operation_name;
	char **fields;
	size_t nfields;
	bool fields_set;
	struct pol_matcher tool; /* mcp: `tool` or `params.name`; nglobs 0 when absent */
	bool has_tool;
	struct pol_mark mark;
};

struct pol_persisted_query {
	char *id;
	char *operation_type;
	char *operation_name;
	char **fields;
	size_t nfields;
};

struct pol_endpoint {
	char *host;      /* "" when hostless (allowed_ips only) */
	bool host_wildcard;
	uint16_t *ports; /* effective ports: `ports`, or [`port`] */
	size_t nports;
	char *path;      /* endpoint path selector; NULL when absent */
	enum pol_protocol protocol;
	enum pol_tls tls;
	enum pol_enforcement enforcement;
	bool enforcement_set;
	enum pol_access access;
	struct pol_rule *rules;      /* allow rules (rules[].allow) */
	size_t nrules;
	bool rules_set;
	struct pol_rule *deny_rules;
	size_t ndeny_rules;
	bool deny_rules_set;
	char **allowed_ips;          /* CIDR or bare IP, as written */
	size_t nallowed_ips;
	bool allow_encoded_slash;
	bool websocket_credential_rewrite;
	bool request_body_credential_rewrite;
	bool allow_uninspected_credentials;
	char *credential_signing;    /* sigv4, sigv4:body, sigv4:no_body */
	char *signing_service;
	char *signing_region;
	char *credential_binding_provider;
	char *persisted_queries;     /* deny | allow_registered */
	struct pol_persisted_query *graphql_persisted_queries;
	size_t ngraphql_persisted_queries;
	uint32_t graphql_max_body_bytes; /* 0 = default 65536 */
	bool has_json_rpc;
	uint32_t json_rpc_max_body_bytes;
	bool has_mcp;
	uint32_t mcp_max_body_bytes;
	bool mcp_strict_tool_names;           /* default true */
	bool mcp_allow_all_known_mcp_methods; /* default false */
	struct pol_mark mark;
};

struct pol_binary {
	char *path;   /* absolute path or glob (`*` one segment, `**` any depth) */
	bool harness; /* deprecated, ignored */
	struct pol_mark mark;
};

/* One network_policies entry ("block"). */
struct pol_block {
	char *key;  /* map key: what decisions and logs name first */
	char *name; /* display name; defaults to the key */
	struct pol_endpoint *endpoints;
	size_t nendpoints;
	struct pol_binary *binaries;
	size_t nbinaries;
	struct pol_mark mark;
};

/* A generic YAML value kept verbatim (middleware `config` is validated by its plugin). */
enum pol_value_kind {
	POL_VALUE_SCALAR = 0,
	POL_VALUE_SEQ,
	POL_VALUE_MAP,
};
struct pol_value {
	enum pol_value_kind kind;
	char *scalar;             /* SCALAR */
	bool quoted;              /* SCALAR written with quotes */
	struct pol_value *items;  /* SEQ items, or MAP values */
	char **keys;              /* MAP keys */
	size_t nitems;
};

struct pol_middleware {
	char *key;
	char *name;
	char *middleware; /* implementation id; `openshell/` prefix = built-in */
	int32_t order;
	struct pol_value config;
	bool has_config;
	enum pol_on_error on_error;
	char **include;
	size_t ninclude;
	char **exclude;
	size_t nexclude;
	struct pol_mark mark;
};

struct policy {
	struct arena arena;
	char *source;      /* file name as given, or "<default>" */
	char *text;        /* the file bytes as loaded (NUL-terminated copy) */
	size_t text_len;
	uint8_t sha256[32]; /* of the file bytes, once policy_hash() ran (logs, `ps`) */
	bool hashed;
	uint32_t version;

	bool has_filesystem; /* section present */
	bool include_workdir;
	char **read_only;
	size_t nread_only;
	char **read_write;
	size_t nread_write;

	bool has_landlock;
	enum pol_compat compat;

	bool has_process;
	char *run_as_user;  /* NULL when absent */
	char *run_as_group;

	struct pol_block *blocks; /* in file order */
	size_t nblocks;
	bool network_policies_set;

	struct pol_middleware *middlewares;
	size_t nmiddlewares;
};

#endif
