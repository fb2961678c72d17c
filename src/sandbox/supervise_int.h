/*
 * sandbox/supervise_int: the supervisor's state for one sandbox, shared by supervise.c
 * (reports, PTY, signals, timers) and supervise_exec.c (the exec channel). Not for other
 * modules: they hold a struct supervise only through the supervise.h API.
 */
#ifndef AGENTCAGE_SANDBOX_SUPERVISE_INT_H
#define AGENTCAGE_SANDBOX_SUPERVISE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "sandbox/execmsg.h"
#include "sandbox/init.h"
#include "sandbox/supervise.h"

/* One exec'd process, from supervise_exec() to its <done>. */
struct sv_exec {
	long id;
	pid_t pid;         /* 0 until STARTED */
	bool forgotten;    /* the client is gone: no callback */
	supervise_exec_started_cb started;
	supervise_exec_done_cb done;
	void *arg;
};

struct supervise {
	const struct supervise_config *cfg;
	struct supervise_result *res;
	struct evloop *loop;
	int sigfd;
	bool init_gone;
	bool failed;
	bool stopping;     /* supervise_stop() or the timeout: no new exec */
	/* init's report pipe: one header + payload at a time */
	struct init_msg_hdr hdr;
	size_t hdr_got;
	char *payload;
	size_t payload_got;
	/* user keystrokes waiting for room in the PTY master */
	char in_buf[4096];
	size_t in_len, in_off;
	bool stdin_open;
	long long kill_timer;
	long long kill_at_ms; /* CLOCK_MONOTONIC deadline of kill_timer */
	long long timeout_timer;
	/* exec'd processes (supervise_exec.c) */
	struct sv_exec execs[EXEC_PROCS_MAX];
	size_t nexecs;
	long next_exec_id;
	bool chan_open;       /* the exec channel is registered on the loop */
};

/* Protocol breach or loop failure: log, mark failed, SIGKILL init (supervise.c). */
void sv_abort(struct supervise *sv, const char *why);

/* Registers the exec channel on the loop when the config has one. -1 with errno. */
int sv_exec_register(struct supervise *sv);

/* Unregisters it (shared loops are left as found). */
void sv_exec_unregister(struct supervise *sv);

/* init is gone: reads what it sent last, then completes every pending exec with
 * SUPERVISE_EXEC_KILLED. Idempotent. */
void sv_exec_finish(struct supervise *sv);

#endif
