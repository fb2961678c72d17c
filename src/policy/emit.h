/*
 * policy/emit: a loaded policy written back as YAML that policy_load accepts and that
 * means exactly the same (`agentcage policy get`, `policy set`, `policy suggest`).
 *
 * Round trip: load(emit(p)) is deeply equal to p (pdiff.h: policy_deep_equal) for every
 * field the loader keeps, and emit(load(emit(p))) is byte-identical to emit(p). What
 * the model does not keep is not written: comments, key order inside an object (the
 * emitter uses the schema's order), `port: N` versus `ports: [N]` (one port is written
 * `port:`), defaults the loader fills in (a block's name equal to its key, an endpoint
 * without `enforcement`), and the file's own quoting of strings.
 *
 * Quoting: a string is written plain only when YAML reads it back as the same string
 * in every YAML version a user's tools may use: empty strings, YAML 1.1/1.2 special
 * words (yes/no/on/off/y/n/true/false/null/~ in any case), anything that starts like a
 * number, an indicator (`- ? : , [ ] { } # & * ! | > ' " % @` and backquote), or holds
 * `: `, ` #`, a trailing `:`, leading or trailing blanks, control characters or the
 * Unicode line breaks NEL/LS/PS are double-quoted with escapes. Middleware `config`
 * scalars keep their plain/quoted style (a plugin may read plain 5 as a number),
 * except the few plain ones that only flow context allows (a lone `-`, `?` or `:`,
 * as in `[-]`) or that held a folded line break: the block style used here cannot
 * write them plain, so they become double-quoted.
 *
 * Context: supervisor and CLI; pure (no I/O). Errors: 0, or -1 with errno EINVAL on
 * NULL arguments. Ownership: the caller owns <out> and frees it with sbuf_free().
 */
#ifndef AGENTCAGE_POLICY_EMIT_H
#define AGENTCAGE_POLICY_EMIT_H

#include "policy/model.h"

struct sbuf;

/*
 * Appends the YAML form of <p> to <out>. <extra_blocks>, when not NULL, is YAML text of
 * further network_policies entries (each line already indented two spaces, as entries of
 * that mapping, comments allowed) written after <p>'s own blocks; the caller makes sure
 * its keys differ from <p>'s. Returns 0, or -1 with errno EINVAL when <p> or <out> is NULL.
 */
int policy_emit(const struct policy *p, const char *extra_blocks, struct sbuf *out);

/*
 * Appends <s> to <out> as one YAML scalar on one line: plain when that reads back as
 * the same string, else double-quoted with escapes (rules above). Used by the emitter
 * and by policy/suggest for the blocks it writes. <s> must not be NULL.
 */
void policy_emit_scalar(struct sbuf *out, const char *s);

#endif
