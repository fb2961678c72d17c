/*
 * test_ctl_fake.h: the fake coordinator the control-plane tests share: handlers that record
 * what they got (struct fake), and a real ctl server on its own thread and event loop in a
 * temporary run directory. Included by test_ctl.c and test_ctl_cmds.c only.
 */
#ifndef AGENTCAGE_TEST_CTL_FAKE_H
#define AGENTCAGE_TEST_CTL_FAKE_H

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>

#include "ctl/server.h"
#include "util/evloop.h"
#include "util/util.h"

#include "loop_fixture.h"

/* What the fake handlers saw; written on the server thread, read by the test after a reply
 * on the socket (which orders the two). */
struct fake {
	size_t set_len;
	unsigned grace;
	int last_sig;
	char argv0[64];
	int argc;
	bool tty;
	struct ctl_conn *exec_conn;
	int closed_pipe[2]; /* conn_closed writes one byte here */
	int exit_now;       /* >= 0: exec reports this wait status at once */
	bool kill_main;     /* exec sends SIGTERM to main_thread (test_ctl_cmds) */
	pthread_t main_thread;
	bool stop_ends;     /* STOP makes the server thread end and free the server */
};

static struct fake fk;
static char run_dir[64];

static int
fake_status(void *arg, struct sbuf *json)
{
	(void)arg;
	sbuf_puts(json, "{\"name\":\"t1\",\"generation\":1}");
	return 0;
}

static int
fake_policy_get(void *arg, struct sbuf *yaml, struct sbuf *err)
{
	(void)arg;
	(void)err;
	sbuf_puts(yaml, "version: 1\n");
	return 0;
}

static int
fake_policy_set(void *arg, const char *yaml, size_t len, struct sbuf *msg)
{
	(void)arg;
	fk.set_len = len;
	if (yaml[len] != '\0' || strstr(yaml, "bad") != NULL) {
		sbuf_puts(msg, "policy:1:1: bad field; hint: remove it");
		return -1;
	}
	sbuf_puts(msg, "generation 2");
	return 0;
}

static struct evloop *fake_loop;

/* Records the grace period; with fk.stop_ends the "sandbox" then ends (after the reply is
 * out: the timer runs after this dispatch). */
static int
fake_stop(void *arg, unsigned grace_s, struct sbuf *err)
{
	(void)arg;
	(void)err;
	fk.grace = grace_s;
	if (fk.stop_ends && evloop_timer_add(fake_loop, 0, loopfx_stop_cb, NULL) == -1)
		return -1;
	return 0;
}

/* Writes a greeting to the passed stdout, and reports the process started as pid 42. */
static int
fake_exec(void *arg, struct ctl_conn *c, char *const argv[], int fds[3], bool tty,
	  struct sbuf *err)
{
	static const char hello[] = "hello from the sandbox\n";

	(void)arg;
	if (strcmp(argv[0], "fail") == 0) {
		sbuf_puts(err, "fail: not found; hint: check PATH");
		return -1;
	}
	ut_strlcpy(fk.argv0, argv[0], sizeof(fk.argv0));
	for (fk.argc = 0; argv[fk.argc] != NULL; fk.argc++)
		;
	fk.tty = tty;
	if (ut_write_all(fds[1], hello, sizeof(hello) - 1) == -1)
		return -1;
	for (int i = 0; i < 3; i++)
		ut_close(&fds[i]);
	fk.exec_conn = c;
	ctl_conn_exec_started(c, 42);
	if (fk.kill_main)
		pthread_kill(fk.main_thread, SIGTERM);
	if (fk.exit_now >= 0) {
		ctl_conn_exec_exit(c, fk.exit_now);
		fk.exec_conn = NULL;
	}
	return 0;
}

/* The "process" dies of the signal it is sent. */
static void
fake_signal(void *arg, struct ctl_conn *c, int sig)
{
	(void)arg;
	fk.last_sig = sig;
	ctl_conn_exec_exit(c, sig);
	fk.exec_conn = NULL;
}

static void
fake_conn_closed(void *arg, struct ctl_conn *c)
{
	(void)arg;
	(void)c;
	fk.exec_conn = NULL;
	if (write(fk.closed_pipe[1], "x", 1) != 1)
		abort();
}

static const struct ctl_ops fake_ops = {
        .status = fake_status,
        .policy_get = fake_policy_get,
        .policy_set = fake_policy_set,
        .stop = fake_stop,
        .exec = fake_exec,
        .signal = fake_signal,
        .conn_closed = fake_conn_closed,
};

/* The temporary run directory and the conn_closed pipe; SIGPIPE ignored. 0 or -1. */
static int
fake_init(void)
{
	signal(SIGPIPE, SIG_IGN);
	ut_strlcpy(run_dir, "/tmp/agentcage-ctl-XXXXXX", sizeof(run_dir));
	if (mkdtemp(run_dir) == NULL || pipe2(fk.closed_pipe, O_CLOEXEC) == -1)
		return -1;
	return 0;
}

/* --- the server thread ------------------------------------------------------------- */

struct srv {
	struct evloop *loop;
	struct ctl_server *s;
	int stop_pipe[2];
	pthread_t th;
};

static void
on_stop_pipe(struct evloop *loop, int fd, uint32_t events, void *data)
{
	(void)fd;
	(void)events;
	(void)data;
	evloop_stop(loop);
}

static void *
srv_main(void *arg)
{
	struct srv *v = arg;

	evloop_run(v->loop);
	if (fk.stop_ends) { /* as a supervisor does at its end */
		ctl_server_free(v->s);
		v->s = NULL;
	}
	return NULL;
}

static struct ctl_info
info_for(const char *name, pid_t init_pid)
{
	static char *argv[] = {"claude", "--help", NULL};
	return (struct ctl_info){.name = name, .init_pid = init_pid, .started = 1700000000,
	                         .argv = argv, .workdir = "/work", .policy_source = "p.yaml",
	                         .log_path = "/tmp/log", .learn = false};
}

static int
srv_start(struct srv *v, const char *name)
{
	struct ctl_info info = info_for(name, 0);
	pid_t holder;

	v->loop = evloop_new();
	fake_loop = v->loop;
	fk.exit_now = -1;
	if (v->loop == NULL || pipe2(v->stop_pipe, O_CLOEXEC) == -1)
		return -1;
	v->s = ctl_server_new(run_dir, &info, &holder);
	if (v->s == NULL)
		return -1;
	info.init_pid = 4242;
	if (ctl_server_start(v->s, v->loop, &info, &fake_ops, NULL) == -1 ||
	    evloop_add(v->loop, v->stop_pipe[0], EV_READ, on_stop_pipe, NULL) == -1)
		return -1;
	return pthread_create(&v->th, NULL, srv_main, v) == 0 ? 0 : -1;
}

static void
srv_stop(struct srv *v)
{
	/* The thread may have ended already (stop_ends): the byte then just stays unread. */
	if (write(v->stop_pipe[1], "x", 1) == 1)
		pthread_join(v->th, NULL);
	evloop_del(v->loop, v->stop_pipe[0]);
	ctl_server_free(v->s);
	v->s = NULL;
	ut_close(&v->stop_pipe[0]);
	ut_close(&v->stop_pipe[1]);
	evloop_free(v->loop);
	v->loop = NULL;
}

#endif
