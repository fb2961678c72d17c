/*
 * ctl/client: the CLI's end of a sandbox's control socket (proto.h, docs/control.md).
 *
 * Context: CLI only; calls block, bounded by the timeouts given. Errors: -1 with errno and,
 * where an <err> buffer is taken, a user-facing line in it (what failed, on what, and a
 * "hint: ..."), ready to print after "agentcage: ".
 */
#ifndef AGENTCAGE_CTL_CLIENT_H
#define AGENTCAGE_CTL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "ctl/proto.h"
#include "util/sbuf.h"

#define CTL_CALL_TIMEOUT_MS 30000 /* a request's answer (policy set compiles a policy) */

/*
 * Connects to the sandbox <name> in <run_dir> (NULL: CTL_RUN_DIR), removing a stale state
 * file on the way. Returns a blocking, close-on-exec fd with its send buffer raised for
 * policy-sized messages, or -1 with errno and <err>: ENOENT "no running sandbox named X;
 * hint: agentcage ps lists them", EACCES/EPERM "... hint: run as root", EINVAL a bad name.
 */
int ctl_connect(const char *run_dir, const char *name, struct sbuf *err);

/* ctl_connect() for a command: on failure prints "agentcage: <cmd>: <error>" to stderr. */
int ctl_open(const char *run_dir, const char *name, const char *cmd);

/*
 * Waits up to <timeout_ms> (-1: no bound) for one message on <fd> into <m> (zeroed; free
 * with ctl_msg_free()). 1 with a message, 0 when the supervisor hung up, -1 with errno
 * (ETIMEDOUT, EPROTO for a malformed message).
 */
int ctl_wait_msg(int fd, struct ctl_msg *m, int timeout_ms);

/*
 * Sends request <type> with <payload>[0..<len>) and waits for the reply (CTL_CALL_TIMEOUT_MS).
 * Returns 0 when the reply is OK, its payload in *<reply> (NUL-terminated, malloc'd, caller
 * frees); -1 otherwise with <err> set: the server's ERROR text, or what went wrong.
 */
int ctl_call(int fd, uint32_t type, const void *payload, size_t len, char **reply,
	     struct sbuf *err);

/* Waits until the peer hangs up (the supervisor is gone): 0, or -1 with ETIMEDOUT after
 * <timeout_ms>. Any message received meanwhile is discarded. */
int ctl_wait_hangup(int fd, int timeout_ms);

/* Builds an EXEC payload (flags, argc, argv strings) into <b>. -1 with E2BIG when argc is
 * 0 or above CTL_ARGV_MAX, or the payload would exceed CTL_PAYLOAD_MAX. */
int ctl_exec_payload(struct sbuf *b, uint32_t flags, char *const argv[]);

#endif
