/*
 * sandbox/init: pid 1 of the sandbox. Builds the sandbox from the inside (hostname, lo,
 * mounts, Landlock preparation against the sandbox's own view of the paths), forks the
 * command, forwards signals to the command's process group, reaps every orphan, and
 * reports to the supervisor over a pipe; exits when the command has exited (the pid
 * namespace then ends every other process of the sandbox).
 *
 * Exec (plan->exec_channel, sandbox/execmsg.h): init keeps the prepared Landlock ruleset
 * and the seccomp filter after the command starts, and starts each requested process
 * the way it started the command (spawn_exec_command() with the same plan: identity,
 * no_new_privs, Landlock, seccomp, environment, workdir; init's own connect-notify filter
 * is inherited), tracks it, forwards signals to its process group, and reports its
 * start and exit on the channel (init_int.h, init_exec.c). Nothing of this runs before
 * the command has started.
 *
 * Privileges: init stays root in the sandbox's namespaces (it must kill and reap whatever
 * the command leaves behind) but is not dumpable. The command cannot reach it: it runs as
 * another uid with no capabilities (kill(2) and ptrace(2) need a matching uid or a
 * capability), seccomp refuses ptrace and process_vm_*, and /proc/1 is unreadable to it.
 *
 * Context: the cloned child of the supervisor. Errors: init prints what failed to stderr
 * and exits SPAWN_EXIT_SETUP; it never returns.
 *
 * Report protocol (child -> supervisor, house rule 12): messages are a struct init_msg_hdr
 * followed by exactly hdr.len payload bytes. The supervisor checks type and length exactly
 * and treats anything else as a broken sandbox (it kills init).
 */
#ifndef AGENTCAGE_SANDBOX_INIT_H
#define AGENTCAGE_SANDBOX_INIT_H

#include <stddef.h>
#include <stdint.h>

#include "sandbox/spawn.h"

#define INIT_MSG_MAX (256 * 1024) /* payload bytes of one message */

enum init_msg_type {
	INIT_MSG_NONE = 0,  /* never sent */
	INIT_MSG_READY,     /* the sandbox is built; payload: Landlock summary JSON */
	INIT_MSG_EXIT,      /* the command ended; payload: int32 wait status */
	INIT_MSG_WATCH,     /* before READY: init's fd number (int32) of the connect-notify
	                     * listener (proxy/connwatch.h), for the supervisor to take with
	                     * pidfd_getfd(); init keeps its copy (close-on-exec) */
};

struct init_msg_hdr {
	uint32_t type;
	uint32_t len;
};

/* Runs init (see above). <plan>->report_fd is the write end of the report pipe. */
_Noreturn void init_main(const struct spawn_plan *plan);

/*
 * Supervisor side: checks one message header. 0 when <h> has a known type and a length
 * valid for it, -1 with EPROTO otherwise.
 */
int init_msg_check(const struct init_msg_hdr *h);

#endif
