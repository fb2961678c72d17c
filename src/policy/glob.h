/*
 * policy/glob: the three glob dialects of a policy (spec/policy.md §1.11, network.md §4.3,
 * §4.4, §5.4), matched without allocation.
 *
 * Common atoms inside one segment: `*` any run of bytes, `?` one byte, `[abc]`, `[a-z]`,
 * `[!x]` / `[^x]` classes (an unclosed `[` is a literal). No escapes, no `{a,b}`
 * alternates (the loader warns about braces; they match literally here).
 *
 *  - host:  segments are DNS labels split at `.`, compared ASCII case-insensitively; a
 *           label that is exactly `**` spans one or more labels (`**.x.com` does not match
 *           `x.com`); `*`, `?` and classes stay inside one label.
 *  - path:  segments split at `/`, case-sensitive; `*` and `?` never cross `/` (stricter
 *           than the reference's endpoint selector, design.md); a segment that is exactly
 *           `**` spans zero or more segments (pattern `/` `**` `/x` matches `/x`), except at
 *           the end of the pattern, where it spans one or more (`/a/` `**` matches `/a/` and
 *           `/a/b/c`, not `/a`); the whole pattern `**` matches everything. Used for HTTP rule
 * paths and for binary paths alike.
 *  - value: no delimiter at all: `*` matches any bytes, including `.` and `/`. Used for
 *           query values. The reference accidentally uses `.` as a delimiter there
 *           (`foo-*` does not match `foo-1.2`, network.md §5.4); its documentation says
 *           "no delimiter", and that is what we implement (a deliberate difference).
 *
 * Context: any; pure functions. Inputs are (pointer, length) and need no NUL. Cost is
 * O(len(pattern) * len(subject)) at worst (no exponential backtracking).
 */
#ifndef AGENTCAGE_POLICY_GLOB_H
#define AGENTCAGE_POLICY_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* True when <pat> holds a glob metacharacter (`*`, `?` or `[`). */
bool glob_has_meta(const char *pat);

/* Host (DNS-label) glob of <pat>[0..<plen>) against <host>[0..<hlen>). */
bool glob_host_match(const char *pat, size_t plen, const char *host, size_t hlen);

/* Path glob (`/`-segments, `**` across segments) of <pat> against <path>. */
bool glob_path_match(const char *pat, size_t plen, const char *path, size_t len);

/* Delimiter-free glob of <pat> against <s> (query values). */
bool glob_value_match(const char *pat, size_t plen, const char *s, size_t len);

/*
 * Endpoint `path` selector (network.md §5.2, with `*` kept inside one segment):
 * NULL, "", "**" and "/" "**" select every path; "X/" "**" selects X itself and
 * everything below it; anything else is a path glob. Returns true when <sel> selects <path>.
 */
bool glob_selector_match(const char *sel, const char *path, size_t len);

/* Specificity of a selector: its number of bytes that are not `*` (NULL counts 0). */
size_t glob_selector_specificity(const char *sel);

#endif
