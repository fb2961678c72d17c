/*
 * sandbox/supervise: the supervisor's side of a running sandbox, on the shared event loop
 * (util/evloop.h, so the proxy can later run in the same loop): reads init's reports,
 * relays the PTY, forwards signals sent to agentcage, enforces --timeout, and reaps init.
 *
 * Context: supervisor, after spawn_sandbox(). The caller has blocked spawn_signal_set()
 * before the clone; supervise_run() reads those signals from a signalfd.
 * Errors: 0 / -1 with errno (event loop or signalfd failure; init is then killed).
 * Ownership: the result's landlock_json is malloc'd; supervise_result_free() frees it.
 *
 * Timeout: SIGTERM to init, which forwards it to the command's process group; 2 s later
 * (a loop timer, nothing sleeps) SIGKILL to init, which ends every process of the pid
 * namespace. supervise_stop() does the same with the caller's grace period.
 *
 * Exec (`agentcage exec`): with an exec channel (sandbox/execmsg.h), supervise_exec()
 * asks init for one more process confined exactly as the command (namespaces, identity,
 * no_new_privs, Landlock, seccomp including the connect-notify filter, environment,
 * working directory). Its <started> and <done> callbacks run from the loop; <done> runs
 * exactly once for every id supervise_exec() returned, unless supervise_exec_forget()
 * was called: with the exit's wait status, or with SIGKILL's (the status of a process
 * killed by signal 9) when the sandbox ended first, the pid namespace having killed it.
 *
 * SIGHUP: with on_sighup set, SIGHUP to the supervisor calls it (a policy reload) and
 * is not forwarded to the command.
 */
#ifndef AGENTCAGE_SANDBOX_SUPERVISE_H
#define AGENTCAGE_SANDBOX_SUPERVISE_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "sandbox/pty.h"

struct evloop;
struct supervise;

#define SUPERVISE_KILL_GRACE_MS 2000 /* SIGTERM -> SIGKILL after --timeout */

struct supervise_config {
	pid_t init_pid;
	int report_fd;        /* read end of init's report pipe; non-blocking */
	struct pty *pty;      /* NULL: no PTY */
	int tty_fd;           /* the user's terminal when pty != NULL */
	long timeout_s;       /* 0: none */
	/* The loop to run on, shared with the egress proxy (proxy/proxy.h), which registered
	 * its listeners on it first; NULL: supervise_run() makes and frees its own. A shared
	 * loop is left registered with nothing of the supervisor's on return. */
	struct evloop *loop;
	/* Called once when init reports READY, with the Landlock summary (JSON text). */
	void (*on_ready)(void *arg, const char *landlock_json);
	/* Called with the connect-notify listener taken from init (INIT_MSG_WATCH; the
	 * callee owns the fd and must answer every notification: each connect() in the
	 * sandbox waits for it). NULL: the supervisor stops the sandbox on WATCH, since
	 * nothing would answer. */
	void (*on_watch)(void *arg, int notify_fd);
	/* Called once before the loop runs with the handle for supervise_exec(),
	 * supervise_stop() and friends, valid until supervise_run() returns. */
	void (*on_started)(void *arg, struct supervise *s);
	/* SIGHUP to the supervisor: called instead of forwarding it (NULL: forwarded). */
	void (*on_sighup)(void *arg);
	/* The supervisor's end of the exec channel, execmsg_channel()'s fds[0], when
	 * <exec_channel> (a zero-filled config has none: supervise_exec() -> ENOTCONN).
	 * Borrowed: the caller closes it after supervise_run(). */
	bool exec_channel;
	int exec_fd;
	void *arg;
};

struct supervise_result {
	bool ready;          /* init built the sandbox and launched the command */
	bool have_status;    /* init reported the command's wait status */
	int cmd_status;      /* that wait status */
	int init_status;     /* init's own wait status */
	bool timed_out;
	bool stopped;        /* supervise_stop() was called */
	char *landlock_json; /* malloc'd, or NULL */
};

#define SUPERVISE_EXEC_KILLED SIGKILL /* <done>'s status when the sandbox ended first */

/* <started>: init started process <id> as <pid> (pid in the sandbox's namespace).
 * <done>: it ended with wait status <wait_status>. */
typedef void (*supervise_exec_started_cb)(void *arg, long id, pid_t pid);
typedef void (*supervise_exec_done_cb)(void *arg, long id, int wait_status);

/* Runs until init has exited. -1 and errno on a loop failure (init is killed first). */
int supervise_run(const struct supervise_config *c, struct supervise_result *r);

/*
 * agentcage's exit status for <r>: 124 after a timeout, else the command's exit code, or
 * 128+N when signal N killed it, or init's own status when init died before reporting.
 * Fills *<code> (-1 when killed) and *<sig> (0 when none) for the log.
 */
int supervise_exit_status(const struct supervise_result *r, int *code, int *sig);

void supervise_result_free(struct supervise_result *r);

/*
 * Starts <argv> (NULL-terminated, argv[0] a path or a name looked up in the sandbox's
 * PATH) in the sandbox with <fds> as its stdin, stdout, stderr; with <tty>, fds[0] is a
 * terminal slave that becomes its controlling terminal (own session), else it gets its
 * own process group. Returns the process's id (> 0) and takes over <fds> (closed here);
 * or -1 with errno, <fds> still the caller's: ENOTCONN (no exec channel, init not ready,
 * the sandbox ending or stopping), EINVAL (empty argv, an fd < 0), E2BIG (argv over
 * EXECMSG_ARGC_MAX entries or EXECMSG_ARGV_MAX bytes), EAGAIN (EXEC_PROCS_MAX running,
 * or the channel is full). Setup failures inside the sandbox (command not found, a
 * confinement step) arrive as <done> with exit status 125, 126 or 127.
 */
long supervise_exec(struct supervise *s, char *const argv[], const int fds[3], bool tty,
		    supervise_exec_started_cb started, supervise_exec_done_cb done, void *arg);

/* Sends <sig> (1..NSIG-1) to exec'd process <id>'s process group. 0, or -1 with errno:
 * ESRCH (unknown or finished id), EINVAL (bad signal), ENOTCONN, EAGAIN (channel full). */
int supervise_exec_signal(struct supervise *s, long id, int sig);

/* The client of <id> is gone: SIGHUP to its process group, and none of its callbacks
 * will run again. Unknown ids are ignored. */
void supervise_exec_forget(struct supervise *s, long id);

/*
 * Stops the sandbox: SIGTERM to the command's process group now (through init), SIGKILL
 * to init after <grace_s> seconds (0: now) on a loop timer, which ends every process of
 * the sandbox. A second call can only shorten the grace. New execs are refused from now
 * on. 0, or -1 with errno: ESRCH (the sandbox has ended already), or the timer's errno.
 */
int supervise_stop(struct supervise *s, unsigned grace_s);

#endif
