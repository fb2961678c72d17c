/*
 * policy/load_int: internals shared by the loader's files (load.c, load_yaml.c,
 * load_endpoint.c, load_mw.c, validate.c). Not for use outside src/policy/load*.
 *
 * Context: supervisor and CLI. The loader walks a libyaml document tree along the
 * schema; `struct ld` carries the current field path ("network_policies.x.ports[1]"),
 * the diagnostics and the node budget. Errors: every ld_* parser reports its own
 * located error and returns -1; the caller carries on with the next field so that all
 * errors of a file are reported. Ownership: everything is allocated from the policy's
 * arena, freed by policy_free().
 */
#ifndef AGENTCAGE_POLICY_LOAD_INT_H
#define AGENTCAGE_POLICY_LOAD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "policy/diag.h"
#include "policy/model.h"

#define LD_PATH_MAX   512 /* field path kept for messages; longer ones end in "..." */
#define LD_MAX_FIELDS 32  /* fields of one schema object (the endpoint has 25) */

struct ld {
	struct policy *p;
	struct arena *a;
	struct diag *d;
	const char *file;
	yaml_document_t *doc;
	char path[LD_PATH_MAX];
	size_t plen;
	size_t nodes;       /* nodes visited, aliases counted each time (POLICY_MAX_NODES) */
	bool over_budget;   /* the node budget was hit: stop walking, error already given */
};

/* Where a node starts, 1-based. */
struct pol_mark ld_mark(const yaml_node_t *n);

/* Field path stack: push returns the old length to give back to ld_pop(). */
size_t ld_push_key(struct ld *l, const char *key);
size_t ld_push_idx(struct ld *l, size_t i);
void ld_pop(struct ld *l, size_t old);

/* Located diagnostics at <n> (or <m>) for the current field path. */
void ld_err(struct ld *l, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ld_warn(struct ld *l, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ld_diag_at(struct ld *l, enum diag_sev sev, struct pol_mark m, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Counts one visit of <n>; -1 (error reported once) when POLICY_MAX_NODES is passed. */
int ld_visit(struct ld *l, const yaml_node_t *n);

/* Describes a node's YAML type for messages: "a string", "a list", "null"... */
const char *ld_kind_str(const yaml_node_t *n);

/* True for a plain empty scalar (`key:` with nothing after it), which the reference
 * reads as an empty list or map. */
bool ld_is_empty_plain(const yaml_node_t *n);

/* --- typed scalars; each reports its own error and returns -1 --- */
int ld_str(struct ld *l, yaml_node_t *n, char **out);
int ld_bool(struct ld *l, yaml_node_t *n, bool *out);
int ld_int(struct ld *l, yaml_node_t *n, long long min, long long max, long long *out);
int ld_port(struct ld *l, yaml_node_t *n, uint16_t *out);
int ld_strlist(struct ld *l, yaml_node_t *n, char ***out, size_t *nout);

/* An enum: table of accepted spellings, NULL-terminated; values are the index. */
int ld_enum(struct ld *l, yaml_node_t *n, const char *const *names, bool icase, int *out);

/* Copies any YAML value (middleware config), bounded by POLICY_MAX_DEPTH. */
int ld_value(struct ld *l, yaml_node_t *n, unsigned depth, struct pol_value *out);

/* --- objects with a fixed set of fields --- */
enum ld_kind {
	LK_STR = 0, /* char * */
	LK_BOOL,    /* bool */
	LK_U32,     /* uint32_t */
	LK_I32,     /* int32_t */
	LK_STRLIST, /* char ** at off, size_t at off2 */
	LK_ENUM,    /* enum (int-sized) at off, spellings in names */
	LK_FN,      /* custom parser */
};

struct ld_field {
	const char *name;
	enum ld_kind kind;
	size_t off, off2;
	const char *const *names; /* LK_ENUM */
	bool icase;               /* LK_ENUM: case-insensitive */
	bool required;
	int (*fn)(struct ld *l, yaml_node_t *val, void *obj);
};

/* What an object held: which fields, and where (for later cross-field checks). */
struct ld_seen {
	uint64_t mask;
	yaml_node_t *val[LD_MAX_FIELDS];
};

/*
 * Parses mapping <n> described by <f>[0..<nf>) into <obj>: unknown fields (the error
 * names the accepted ones), duplicate keys (naming the first one's line), wrong types
 * and missing required fields are errors. <what> names the object in messages.
 * Returns 0, or -1 when anything was wrong (all of it reported).
 */
int ld_object(struct ld *l, yaml_node_t *n, const char *what, const struct ld_field *f,
	      size_t nf, void *obj, struct ld_seen *seen);

/* Index of field <name> in <f>, for ld_seen lookups; BUG_ON when absent. */
size_t ld_field_idx(const struct ld_field *f, size_t nf, const char *name);

/* Reports at the value of field <idx> (path extended by its name), or at <obj_node>
 * when the field is absent. */
void ld_diag_field(struct ld *l, enum diag_sev sev, const struct ld_seen *seen,
		   const struct ld_field *f, size_t idx, const yaml_node_t *obj_node,
		   const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/*
 * Calls <fn> for each pair of mapping <n> whose key is a string and not a duplicate
 * (duplicates and non-string keys are reported). The path is extended by the key
 * during the call. Returns -1 when <n> is not a map (reported), else 0.
 */
int ld_map_each(struct ld *l, yaml_node_t *n, const char *what,
		int (*fn)(struct ld *l, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg),
		void *arg);

/* Same for sequences: -1 when <n> is not a list; the path is extended by "[i]". */
int ld_seq_each(struct ld *l, yaml_node_t *n,
		int (*fn)(struct ld *l, size_t i, yaml_node_t *item, void *arg), void *arg);

/* --- sections (load_endpoint.c, load_mw.c) --- */
int ld_endpoints(struct ld *l, yaml_node_t *n, void *block);
int ld_middlewares(struct ld *l, yaml_node_t *n);

/* --- validate.c: shape checks shared by hosts and middleware selectors --- */

/* Checks a host pattern's wildcard shape (§1.11). NULL when fine, else why not. */
const char *vd_wildcard_shape(const char *host);
/* Glob match of a host pattern against a host name (`*` one label part, `**` first
 * label only, one or more labels). */
bool vd_host_match(const char *pattern, const char *host);
/* True when <s> parses as an IPv4/IPv6 address or CIDR; *<prefix> gets the prefix
 * length (32/128 for a bare address). */
bool vd_ip_or_cidr(const char *s, int *prefix, bool *v6);
/* True when <s> is an IP literal (v4 or v6, no prefix). */
bool vd_is_ip(const char *s);
/* Lexically normalises an absolute path in place: `//` collapsed, trailing `/` removed. */
void vd_normalize_path(char *s);
/* Final cross-section checks (middleware selectors over tls: skip endpoints). */
void vd_policy(struct ld *l);

#endif
