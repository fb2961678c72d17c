/*
 * sandbox/init_int: init's internals shared by init.c and init_exec.c (not for other
 * modules). init_exec serves the exec channel (sandbox/execmsg.h): it starts each
 * requested process exactly as the command was started (init_spawn(), hence
 * spawn_exec_command() with the plan, Landlock ruleset and seccomp filter init kept),
 * tracks it, forwards signals to it and reports its exit.
 *
 * Context: init (pid 1 of the sandbox), single-threaded. Errors: see each function.
 */
#ifndef AGENTCAGE_SANDBOX_INIT_INT_H
#define AGENTCAGE_SANDBOX_INIT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/execmsg.h"
#include "sandbox/landlock.h"
#include "sandbox/spawn.h"

struct init_exec {
	const struct spawn_plan *plan; /* init's plan, seccomp filter set */
	const struct ll_ruleset *rs;   /* the prepared ruleset, kept open */
	int chan;                      /* init's end of the channel, -1 when dropped */
	struct {
		int64_t id;
		pid_t pid;
	} procs[EXEC_PROCS_MAX];
	size_t nprocs;
};

/* Starts a child confined by spawn_exec_command(<plan>, copy of <rs>) (init.c). Returns
 * its pid in the sandbox, or -1 with errno. */
pid_t init_spawn(const struct spawn_plan *plan, const struct ll_ruleset *rs);

/* Sets <ie> up on channel fd <chan> (-1: exec disabled). */
void init_exec_setup(struct init_exec *ie, const struct spawn_plan *plan,
		     const struct ll_ruleset *rs, int chan);

/* Serves one message from the channel (call when it is readable). At end of file or on a
 * malformed message the channel is closed and ie->chan set to -1. */
void init_exec_serve(struct init_exec *ie);

/* A child init reaped: when it is an exec'd process, its exit is reported and true
 * returned. */
bool init_exec_reaped(struct init_exec *ie, pid_t pid, int status);

/* <sig> to the process group <leader> leads; to <leader> alone when it left its group
 * (the command, or an exec'd process: each leads its own, spawn.c). */
void init_signal_group(pid_t leader, int sig);

/* Sends <sig> to every running exec'd process's group. */
void init_exec_signal_all(const struct init_exec *ie, int sig);

#endif
