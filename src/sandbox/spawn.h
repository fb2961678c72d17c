/*
 * sandbox/spawn: clone() into the sandbox's namespaces, and the ordered pre-exec sequence
 * of the command (house rule 11: the privilege order lives in spawn_exec_command() only).
 *
 * Process layout:
 *   supervisor (root, host namespaces)
 *     └─ init: pid 1 of new mnt/pid/ipc/uts/cgroup namespaces, root (sandbox/init.h),
 *          in the network namespace the supervisor made and entered before the clone
 *          (proxy/topology.h: the proxy listens there before init exists)
 *          └─ command: confined by spawn_exec_command(), then execve()
 *
 * Context: spawn_sandbox() runs in the supervisor; spawn_exec_command() in the forked
 * command child, which never returns to the caller.
 * Errors: spawn_sandbox() returns -1 with errno and a message in err[]. The pre-exec
 * child prints "agentcage: <step>: <what>: <errno text>" (+ hint) to its stderr and exits
 * SPAWN_EXIT_SETUP (125), SPAWN_EXIT_NOEXEC (126) or SPAWN_EXIT_NOTFOUND (127), as env(1)
 * and container runtimes do.
 * Ownership: a struct spawn_plan borrows everything it points to; the supervisor keeps
 * it alive until the sandbox has exited (the children have copies after clone/fork).
 */
#ifndef AGENTCAGE_SANDBOX_SPAWN_H
#define AGENTCAGE_SANDBOX_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "policy/model.h"

#define SPAWN_EXIT_SETUP    125
#define SPAWN_EXIT_NOEXEC   126
#define SPAWN_EXIT_NOTFOUND 127

struct identity;
struct ll_ruleset;
struct sc_filter;

/* Everything init and the command child need, prepared by the supervisor before clone,
 * except what the supervisor makes while init builds the mounts and then sends over
 * filter_rfd/filter_wfd, in this order: the sandbox CA's certificate (tlstrust_send; the
 * CA is created after the clone so its key is never in init's memory), then the seccomp
 * filter (seccomp_filter_send). */
struct spawn_plan {
	const char *name;          /* hostname inside */
	const struct policy *policy;
	const char *workdir;       /* absolute; same path inside the sandbox */
	const char *home;          /* host path of the persistent home, mounted on /sandbox */
	char *const *argv;         /* the command, argv[0] a path or a name looked up in PATH */
	char *const *envp;         /* its whole environment (sandbox/env.h) */
	const struct identity *id; /* resolved before clone (identity_resolve) */
	const struct sc_filter *seccomp; /* set by init once it has received the filter */
	int filter_rfd;            /* init reads the CA certificate and the seccomp filter */
	int filter_wfd;            /* here, sent by the supervisor after clone; init closes
	                            * this end */
	bool ca_expected;          /* the policy terminates TLS (tlstrust_policy_terminates):
	                            * a CA certificate comes first on filter_rfd, and init
	                            * installs it (sandbox/tlstrust.h) */
	int pty_slave;             /* -1: no PTY, the command inherits stdin/stdout/stderr */
	int report_fd;             /* init -> supervisor messages (sandbox/init.h) */
	/* `agentcage exec` (sandbox/execmsg.h): when <exec_channel>, init serves exec
	 * requests on exec_fds[1] once the command runs, and closes exec_fds[0] (the
	 * supervisor's end) at once. A zero-filled plan has no channel. */
	bool exec_channel;
	int exec_fds[2];           /* execmsg_channel() pair */
	/* Set by init for an exec'd process (NULL for the command): 3 fds, each >= 3,
	 * installed on 0, 1, 2; with <tty>, stdio[0] is a terminal slave that becomes the
	 * controlling terminal of the process's own session (setsid + TIOCSCTTY). */
	const int *stdio;
	bool tty;
};

/*
 * Fills <set> with the signals agentcage forwards to the command (SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2) plus SIGCHLD. The supervisor blocks them before
 * spawn_sandbox() so init inherits them blocked and reads them from its own signalfd:
 * no signal is lost between clone() and init's set-up.
 */
void spawn_signal_set(sigset_t *set);

/*
 * Clones init into new mount, pid, IPC, UTS and cgroup namespaces (the network namespace
 * is the caller's current one: enter the sandbox's first, topo_enter()); init runs
 * init_main(<plan>) and never returns. Returns init's pid (in the supervisor's pid
 * namespace), or -1 with errno and a message in <err> (EPERM: not root).
 */
pid_t spawn_sandbox(const struct spawn_plan *plan, char *err, size_t errlen);

/*
 * The command child, forked by init after the mounts and Landlock preparation (and each
 * exec'd process, forked by init later with the same <plan> but its own argv and stdio):
 * applies every confinement step in order and execs plan->argv. Never returns.
 */
_Noreturn void spawn_exec_command(const struct spawn_plan *plan, struct ll_ruleset *rs);

#endif
