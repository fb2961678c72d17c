/*
 * policy/pdiff: comparisons of two loaded policies: the static-section check of
 * `agentcage policy set` (what a running sandbox cannot change) and a deep equality of
 * the whole model (the emitter's round-trip tests, and "is this a change at all").
 *
 * Meanings, not text: an absent filesystem_policy means include_workdir false and no
 * paths (the sandbox applies neither Landlock nor the listed-only view then, exactly
 * as for an empty section); an absent landlock section is best_effort; an absent or
 * empty run_as_user/run_as_group is "not set". read_only and read_write are compared
 * as SETS of (already normalised) paths: Landlock grants the union of its rules and
 * the mount plan sorts paths, so order and repeats mean nothing. User and group are
 * compared as written: `1000` and the name of uid 1000 count as different, because a
 * name is resolved only when a sandbox starts.
 *
 * Context: supervisor and CLI; pure (no I/O, no allocation beyond <msg>). Errors:
 * -1 with errno EINVAL on NULL arguments. Ownership: the caller owns <msg>.
 */
#ifndef AGENTCAGE_POLICY_PDIFF_H
#define AGENTCAGE_POLICY_PDIFF_H

#include <stdbool.h>

#include "policy/model.h"

struct sbuf;

/* The hint that ends a refused `policy set`. */
#define PDIFF_STATIC_HINT                                                                          \
	"hint: these sections cannot change in a running sandbox; keep them as they are "          \
	"(agentcage policy get NAME prints them) or restart the sandbox"

/*
 * Compares the static sections of <running> and <next>: filesystem_policy
 * (include_workdir, read_only, read_write), landlock (compatibility) and process
 * (run_as_user, run_as_group). For each differing field appends one line to <msg>
 * ("filesystem_policy.read_only: running [/usr, /etc], new [/usr]"), and when any
 * differs, a last line with PDIFF_STATIC_HINT. Returns the number of differing fields
 * (0: <next> may replace <running>), or -1 with errno EINVAL on a NULL argument.
 * Cost: O(n*m) in the path counts (at most POLICY_MAX_FS_PATHS each).
 */
int policy_static_diff(const struct policy *running, const struct policy *next, struct sbuf *msg);

/*
 * True when <a> and <b> hold the same model: every field the loader keeps, lists in
 * order, strings byte for byte; source, text, hash and marks (line:col) are not
 * compared. On false, and when <why> is not NULL, appends the first difference
 * ("network_policies.github.endpoints[0].ports[1]: 443 vs 80"). NULL arguments: false.
 */
bool policy_deep_equal(const struct policy *a, const struct policy *b, struct sbuf *why);

#endif
