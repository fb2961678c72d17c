/*
 * cli/run_int: what `agentcage run` keeps for one sandbox (cmd_run.c builds it; run_ctl.c
 * serves the control socket from it while the sandbox runs). Private to src/cli/.
 */
#ifndef AGENTCAGE_CLI_RUN_INT_H
#define AGENTCAGE_CLI_RUN_INT_H

#include <limits.h>
#include <stdbool.h>
#include <time.h>

#include "policy/engine.h"
#include "policy/load.h"
#include "proxy/hostsfile.h"
#include "proxy/proxy.h"
#include "sandbox/env.h"
#include "sandbox/execmsg.h"
#include "sandbox/identity.h"
#include "sandbox/lifelog.h"
#include "sandbox/pty.h"
#include "sandbox/seccomp.h"
#include "sandbox/supervise.h"

struct ctl_server;
struct ctl_conn;

#define RUN_NAME_MAX    32
#define RUN_STATE_DIR   "/var/lib/agentcage"
#define RUN_MAX_ENV_ARG 256 /* --env options */
#define RUN_TIMEOUT_MAX (100LL * 365 * 24 * 3600)
#define RUN_ERR_LEN     2048


struct run_opts {
	const char *policy_path;
	const char *name;
	const char *workdir;
	const char *home;
	const char *env[RUN_MAX_ENV_ARG + 1];
	size_t nenv;
	long timeout_s;
	const char *log_path;
	const char *hosts_path;
	const char *upstream_ca; /* --upstream-ca FILE */
	bool learn;              /* --learn: policy denials let through, logged "learn" */
	char **argv;
};

/* Everything prepared for one run; run_release() frees it all. */
struct run_ctx {
	struct run_opts o;
	struct policy *pol;
	char workdir[PATH_MAX];
	char name[RUN_NAME_MAX + 1];
	char home[PATH_MAX];
	char log_path[PATH_MAX];
	struct identity id;
	bool have_id;
	struct sc_filter filter;
	bool have_filter;
	struct env env;
	char *shell_argv[3];
	char shell[PATH_MAX];
	char user[64];
	struct lifelog log;
	struct pty pty;
	bool tty;
	pid_t init_pid;
	struct timespec t0;
	/* the egress proxy */
	struct hosts hosts;
	struct engine *eng;
	struct proxy *px;  /* while the supervisor runs, for run_on_watch() */
	bool raw_tty;              /* the terminal is in raw mode: DENIED lines end "\r\n" */
	bool proxy_failed;
	char proxy_why[256];
	/* TLS termination (issue 5) */
	bool tls;                      /* the policy terminates TLS somewhere */
	struct tls_ca *ca;             /* made after the clone: the key never reaches init */
	struct tls_upstream *upstream; /* made before the clone when --upstream-ca is given */
	/* the control socket (issue 6, run_ctl.c) */
	struct ctl_server *ctl;
	struct supervise *sup;         /* while supervise_run() runs */
	long long started;             /* unix seconds, for `ps` */
	const struct policy *cur_pol;  /* the generation in force (r->pol, or one the proxy owns) */
	struct run_exec {              /* exec'd processes and the connections waiting on them */
		struct run_ctx *run;       /* the context this slot is in */
		struct ctl_conn *conn;     /* NULL: free slot */
		long id;
		pid_t sandbox_pid;
		struct timespec t0;
	} execs[EXEC_PROCS_MAX];
};


/* The control socket (run_ctl.c). */

/* Claims r->name before the clone: 0, or -1 after saying who holds it (or why not). */
int run_ctl_claim(struct run_ctx *r);
/* Serves the control socket on <loop> once the sandbox and its proxy run. 0, or -1 after
 * a warning: the sandbox runs on, without `ps`, `exec`, `stop` or `policy set`. */
int run_ctl_start(struct run_ctx *r, struct evloop *loop);
/* supervise_config.on_started and on_sighup. */
void run_ctl_on_started(void *arg, struct supervise *s);
void run_ctl_on_sighup(void *arg);
/* Closes the control socket and forgets the sandbox's name; NULL-safe on r->ctl. */
void run_ctl_release(struct run_ctx *r);

#endif
