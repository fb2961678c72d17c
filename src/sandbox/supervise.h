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
 * namespace.
 */
#ifndef AGENTCAGE_SANDBOX_SUPERVISE_H
#define AGENTCAGE_SANDBOX_SUPERVISE_H

#include <stdbool.h>
#include <sys/types.h>

#include "sandbox/pty.h"

struct evloop;

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
	void *arg;
};

struct supervise_result {
	bool ready;          /* init built the sandbox and launched the command */
	bool have_status;    /* init reported the command's wait status */
	int cmd_status;      /* that wait status */
	int init_status;     /* init's own wait status */
	bool timed_out;
	char *landlock_json; /* malloc'd, or NULL */
};

/* Runs until init has exited. -1 and errno on a loop failure (init is killed first). */
int supervise_run(const struct supervise_config *c, struct supervise_result *r);

/*
 * agentcage's exit status for <r>: 124 after a timeout, else the command's exit code, or
 * 128+N when signal N killed it, or init's own status when init died before reporting.
 * Fills *<code> (-1 when killed) and *<sig> (0 when none) for the log.
 */
int supervise_exit_status(const struct supervise_result *r, int *code, int *sig);

void supervise_result_free(struct supervise_result *r);

#endif
