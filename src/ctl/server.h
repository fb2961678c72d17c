/*
 * ctl/server: the supervisor's end of a sandbox's control socket (protocol: proto.h;
 * names and state files: state.h; docs/control.md).
 *
 * Life: ctl_server_new() claims the name BEFORE the sandbox is cloned, so a duplicate fails
 * before anything starts; ctl_server_start() binds NAME.sock (0600), records init_pid in the
 * state file and serves on the supervisor's event loop; ctl_server_free() closes every
 * connection and removes the socket and the state file.
 *
 * Serving never blocks: sockets are non-blocking, at most CTL_MAX_CONNS connections are
 * open (more are accepted and closed at once), a connection has CTL_REQUEST_TIMEOUT_MS to
 * send its request, and at most CTL_OUT_QUEUE replies wait to be written. Peers are checked
 * with SO_PEERCRED: uid 0 or the supervisor's own euid is served; anyone else gets an ERROR
 * ("permission denied ... hint: run as root") and is closed. A malformed message (proto.h)
 * closes its connection only.
 *
 * A request is dispatched to the coordinator's struct ctl_ops; each connection carries one
 * request, except that an EXEC connection stays open for SIGNAL requests until
 * ctl_conn_exec_exit(), and a STOP connection stays open (idle) so the client sees the
 * socket hang up when the supervisor is gone.
 *
 * Context: supervisor, on its util/evloop. Errors: 0 / -1 with errno. Ownership: the server
 * owns its connections; a struct ctl_conn passed to exec/signal stays valid until
 * conn_closed is called for it.
 */
#ifndef AGENTCAGE_CTL_SERVER_H
#define AGENTCAGE_CTL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ctl/state.h"
#include "util/evloop.h"
#include "util/sbuf.h"

#define CTL_MAX_CONNS          32    /* open control connections */
#define CTL_REQUEST_TIMEOUT_MS 10000 /* from accept to a complete request */
#define CTL_OUT_QUEUE          4     /* replies queued on one connection */

struct ctl_server;
struct ctl_conn;

/*
 * The coordinator's handlers; <arg> is ctl_server_start()'s. Each runs on the loop and
 * must not block. Any may be NULL: the request then gets ERROR "not supported".
 */
struct ctl_ops {
	/* Appends the STATUS JSON object (docs/control.md) to <json>. 0, or -1 with a message
	 * in <json> (then sent as ERROR). */
	int (*status)(void *arg, struct sbuf *json);
	/* Appends the effective policy as YAML to <yaml>; -1 with what/hint in <err>. */
	int (*policy_get)(void *arg, struct sbuf *yaml, struct sbuf *err);
	/* Loads <yaml>[0..<len>) (NUL-terminated at len) as the next generation: 0 with
	 * "generation N" in <msg>, or -1 with the error in <msg> (the policy is unchanged). */
	int (*policy_set)(void *arg, const char *yaml, size_t len, struct sbuf *msg);
	/* Starts stopping the sandbox: SIGTERM now, SIGKILL after <grace_s>. 0, or -1 + <err>. */
	int (*stop)(void *arg, unsigned grace_s, struct sbuf *err);
	/*
	 * Starts argv[0..] (NULL-terminated, valid during the call) in the sandbox with
	 * <fds> as stdin, stdout, stderr (<tty>: all three are a PTY slave). On 0 the handler
	 * owns the fds (sets them to -1 or closes them itself) and later calls
	 * ctl_conn_exec_started() and ctl_conn_exec_exit() on <c> (from inside this call or
	 * later); on -1 (message in <err>) the server closes the fds and replies ERROR.
	 */
	int (*exec)(void *arg, struct ctl_conn *c, char *const argv[], int fds[3], bool tty,
		    struct sbuf *err);
	/* Forwards signal <sig> (1..CTL_SIG_MAX) to the process started on <c>. */
	void (*signal)(void *arg, struct ctl_conn *c, int sig);
	/* <c>, on which exec returned 0, is closing (exit reported, client gone, or the
	 * server freed). Called once; <c> is invalid afterwards. */
	void (*conn_closed)(void *arg, struct ctl_conn *c);
};

/*
 * Claims <info>->name in <run_dir> (NULL: CTL_RUN_DIR) for this process. Fails with EEXIST
 * and *<holder> = the live supervisor's pid when the name is taken; see ctl_claim() for the
 * rest. Returns the server (not yet serving) or NULL with errno.
 */
struct ctl_server *ctl_server_new(const char *run_dir, const struct ctl_info *info,
				  pid_t *holder);

/*
 * Binds and listens on NAME.sock (mode 0600; a leftover socket file is replaced: the claim
 * proves nobody else serves it), rewrites the state file from <info> (init_pid known now)
 * and registers the listener on <loop>. <ops> is copied. -1 and errno; the server can
 * still be freed.
 */
int ctl_server_start(struct ctl_server *s, struct evloop *loop, const struct ctl_info *info,
		     const struct ctl_ops *ops, void *arg);

/* Connections currently open (for tests and status). */
size_t ctl_server_nconns(const struct ctl_server *s);

/* Closes every connection (conn_closed for exec ones), the listener, removes the socket and
 * the state file, frees <s>. NULL is accepted. Not from inside one of <s>'s callbacks. */
void ctl_server_free(struct ctl_server *s);

/* Sends EXEC_STARTED <pid> on <c>; SIGNAL requests are accepted from now on. */
void ctl_conn_exec_started(struct ctl_conn *c, pid_t pid);

/* Sends EXEC_EXIT <wait_status> on <c>; the server closes <c> once it is written, without
 * calling conn_closed. The caller must not use <c> after this call, nor call it after
 * conn_closed was called for <c>. */
void ctl_conn_exec_exit(struct ctl_conn *c, int wait_status);

#endif
