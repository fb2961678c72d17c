/*
 * policy/suggest: the core of `agentcage policy suggest` (learn mode): from the denials
 * a run produced (or would have produced), the smallest network_policies additions
 * that make a base policy allow all of them. The caller reads the decision log,
 * aggregates identical observations into counts, and prints
 * policy_emit(base, extra_yaml) followed by the summary on stderr.
 *
 * What is added (docs/policy.md "Suggested policies"):
 *  - Observations the base already allows (engine.h says allow, not merely audit)
 *    add nothing. An L7 observation on a connection the base passes through
 *    uninspected counts as allowed.
 *  - Blocks are grouped per host and binary set: observations are first grouped per
 *    host, port and kind (connection, or requests on an inspected endpoint); each group
 *    has the set of binaries seen in it; groups of one host with the same binary set
 *    share a block. Ports are exact; no host is widened into a wildcard.
 *  - A connection (L4) observation gets `host` + `port`, passed through.
 *  - A request (method + path) to a host:port where the base has a rest or websocket
 *    endpoint gets an endpoint with that endpoint's protocol, tls, enforcement and
 *    allow_encoded_slash, and the `path` selector of the most specific base endpoint
 *    that selects the path for this binary (so the new allow rules are counted: the
 *    engine only counts the most specific endpoints' rules), with allow rules
 *    `method` + `path`. Paths are generalised in exactly one case: two or more
 *    distinct paths with the same method whose only difference is the LAST segment
 *    (non-empty) under a parent other than `/` become the parent (up to its last
 *    `/`) followed by `*`, which never crosses `/`: /repos/a/b/issues and
 *    /repos/a/b/pulls give "/repos/a/b/" "*" (one rule). Nothing
 *    else is merged; a literal `*` in an observed path is written `[*]`. A request
 *    where the base has no inspected endpoint is added as a connection.
 *  - Observations a base deny rule blocks cannot be allowed by an addition; they go
 *    to <summary> with the rule, as do observations with an unusable host, binary or
 *    port. Nothing is dropped silently.
 *  - Comments above each block, endpoint and rule name the observations that produced
 *    it: binaries, counts, and the policy's reason for the denial.
 *  - Keys are `learn_<host>` (non-alphanumerics as `_`), with `_2`, `_3`... when the
 *    key is taken by the base or an earlier addition.
 *  - Output order is deterministic: blocks by host then binary set, endpoints by port,
 *    rules by method then path, whatever the order of <obs>.
 *  - The result is checked before returning: base + additions are emitted, loaded and
 *    every added observation decided again; any that is still denied is reported.
 *
 * Context: CLI; pure (no I/O). Errors: -1 with errno EINVAL on bad arguments, EPROTO
 * when base + additions do not load (a bug; the loader's messages are in <summary>).
 * Ownership: the caller owns <obs> and both buffers.
 */
#ifndef AGENTCAGE_POLICY_SUGGEST_H
#define AGENTCAGE_POLICY_SUGGEST_H

#include <stddef.h>
#include <stdint.h>

#include "policy/model.h"

struct sbuf;

#define SUGGEST_REASON_SHOWN 160 /* bytes of a denial reason quoted in a comment */

/* One would-be or actual denial from the decision log. */
struct sug_obs {
	const char *binary; /* exe path */
	const char *host;
	uint16_t port;
	const char *method; /* NULL: an L4 (connection) observation */
	const char *path;   /* canonical request path, query removed; NULL for L4 */
	const char *reason; /* the policy's reason, for the comment; may be NULL */
	unsigned count;     /* how many times it was seen (0 is read as 1) */
	const char *address; /* L4: the address dialled (learn mode reaches private ones),
	                      * or NULL; a private one goes into the endpoint's allowed_ips */
};

/*
 * Appends to <extra_yaml> the network_policies entries (indented two spaces, for
 * policy_emit's <extra_blocks>) that make <base> allow every observation of
 * <obs>[0..<n>) that an addition can allow, and to <summary> one line of counts
 * ("suggest: 7 observations: 2 already allowed, 4 allowed by 2 new blocks, 1 cannot
 * be allowed") plus one line per observation that cannot be allowed, with why and a
 * hint. Accepts n == 0 (nothing added). Refuses NULL <base>, buffers, or <obs> with
 * n > 0 (EINVAL). Returns 0, or -1 with errno (EINVAL, EPROTO as above).
 */
int suggest_blocks(const struct policy *base, const struct sug_obs *obs, size_t n,
                   struct sbuf *extra_yaml, struct sbuf *summary);

#endif
