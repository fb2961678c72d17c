/*
 * policy/engine_int: the compiled form shared by engine.c (compile, L4, addresses) and
 * engine_l7.c (HTTP requests). Not for other modules. Everything lives in the engine's
 * arena and points into the policy.
 */
#ifndef AGENTCAGE_POLICY_ENGINE_INT_H
#define AGENTCAGE_POLICY_ENGINE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/addr.h"
#include "policy/engine.h"
#include "policy/model.h"
#include "util/arena.h"

enum eng_host_kind {
	ENG_HOST_EXACT = 0, /* lower-case equality */
	ENG_HOST_GLOB,      /* DNS-label glob (the host holds `*`) */
	ENG_HOST_ANY,       /* hostless endpoint: any host, allowed_ips decide later */
};

/* One allow or deny rule; presets are expanded into these. */
struct eng_rule {
	const char *method; /* "*" any; NULL: absent */
	const char *path;   /* NULL: absent */
	const struct pol_query *query;
	size_t nquery;
	int index; /* rules[index] / deny_rules[index]; -1 for a preset */
};

struct eng_endpoint {
	const struct pol_endpoint *ep;
	const struct pol_block *block;
	enum eng_host_kind host_kind;
	size_t host_len;
	bool extended;   /* L7 protocol, allowed_ips or a tls value (network.md §4.6) */
	bool l7;         /* protocol with request rules */
	bool http_rules; /* rest or websocket: rules this engine evaluates */
	const struct eng_rule *allow;
	size_t nallow;
	struct eng_rule *deny;
	size_t ndeny;
	struct cidr *ips;
	size_t nips;
	const char *bad_ip; /* first unusable allowed_ips entry, or NULL */
	const char *bad_ip_why;
	size_t specificity; /* of the endpoint `path` selector */
};

struct eng_binary {
	const char *path;
	size_t len;
	bool glob;
	char *resolved; /* literal path that is a symlink in the sandbox: the file it names
	                 * there (engine_set_root), malloc'd; NULL when none */
};

struct eng_block {
	const struct pol_block *b;
	struct eng_endpoint *eps;
	size_t neps;
	struct eng_binary *bins;
	size_t nbins;
};

struct engine {
	const struct policy *p;
	struct arena arena;
	struct eng_block *blocks; /* sorted by key */
	size_t nblocks;
	char *root; /* engine_set_root(): where policy binary symlinks are resolved, or NULL */
};

/* Reason builder over a caller buffer; appends are truncation-safe ("..." at the end). */
struct eng_reason {
	char *buf;
	size_t cap, len;
};
void eng_reason_init(struct eng_reason *r, char *buf, size_t cap);
void eng_reason_add(struct eng_reason *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Lower-cases and checks <host> into <buf> (ENGINE_MAX_HOST + 3 bytes); strips one
 * trailing dot. Returns the length, or -1 with a reason in <r>. */
int eng_host_normalise(const char *host, char *buf, struct eng_reason *r);

bool eng_endpoint_matches(const struct eng_endpoint *ee, const char *host, size_t hlen,
                          uint16_t port);
bool eng_binaries_match(const struct eng_block *eb, const struct ident *id, const char **via);

#endif
