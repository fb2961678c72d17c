/*
 * policy/emit: a loaded policy written back as YAML that policy_load accepts and that
 * means exactly the same (`agentcage policy get`, `policy suggest`). STUB: its helper
 * replaces this contract with the real one.
 */
#ifndef AGENTCAGE_POLICY_EMIT_H
#define AGENTCAGE_POLICY_EMIT_H

#include "policy/model.h"

struct sbuf;

/*
 * Appends the YAML form of <p> to <out>. <extra_blocks>, when not NULL, is YAML text of
 * further network_policies entries (each line already indented two spaces, as entries of
 * that mapping, comments allowed) written after <p>'s own blocks. 0, or -1 with errno.
 */
int policy_emit(const struct policy *p, const char *extra_blocks, struct sbuf *out);

#endif
