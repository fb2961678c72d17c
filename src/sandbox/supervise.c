/* sandbox/supervise: the supervisor's event loop for one sandbox (contract in supervise.h). */
#include "sandbox/supervise.h"

#include <signal.h>
#include <time.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "sandbox/init.h"
#include "sandbox/supervise_int.h"
#include "sandbox/spawn.h"
#include "util/evloop.h"
#include "util/util.h"

#define SUPERVISE_IO_CHUNK 16384 /* bytes moved per PTY read */

static void sv_master_cb(struct evloop *loop, int fd, uint32_t events, void *data);
static void sv_stdin_cb(struct evloop *loop, int fd, uint32_t events, void *data);

/* Any protocol breach or loop failure: the sandbox cannot be trusted to go on. */
void
sv_abort(struct supervise *sv, const char *why)
{
	log_warnx("%s; stopping the sandbox", why);
	sv->failed = true;
	kill(sv->cfg->init_pid, SIGKILL);
}

/* --- init's reports --- */

/*
 * INIT_MSG_WATCH: takes init's connect-notify listener. Every connect() in the sandbox
 * waits for an answer on it, so a listener nobody serves would hang the sandbox's
 * network: if it cannot be taken, the sandbox is stopped (fail closed, loudly).
 */
static void
sv_take_watch(struct supervise *sv)
{
	int32_t num;
	int pidfd, fd;

	memcpy(&num, sv->payload, sizeof(num));
	pidfd = (int)syscall(SYS_pidfd_open, sv->cfg->init_pid, 0);
	fd = pidfd == -1 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, num, 0);
	if (pidfd != -1)
		close(pidfd);
	if (fd == -1 && errno == ESRCH)
		return; /* init is gone, so is every process of its pid namespace: none to serve */
	if (fd == -1) {
		log_warn("taking the sandbox's connect-notify listener (fd %d of init)", (int)num);
		sv_abort(sv, "the proxy could not watch the sandbox's connections");
		return;
	}
	if (sv->cfg->on_watch == NULL) {
		close(fd);
		sv_abort(sv, "nothing serves the sandbox's connect notifications");
		return;
	}
	sv->cfg->on_watch(sv->cfg->arg, fd);
}

static void
sv_handle_msg(struct supervise *sv)
{
	struct supervise_result *r = sv->res;

	switch (sv->hdr.type) {
	case INIT_MSG_READY:
		if (r->ready) {
			sv_abort(sv, "init reported READY twice");
			return;
		}
		r->ready = true;
		sv->payload[sv->hdr.len] = '\0'; /* the receiver terminates */
		r->landlock_json = steal_ptr(&sv->payload);
		if (sv->cfg->on_ready != NULL)
			sv->cfg->on_ready(sv->cfg->arg, r->landlock_json);
		/* Keys are read only now: on_ready enters raw mode with TCSAFLUSH, which drops
		 * what was queued, so a readiness seen before it could leave a blocking read of
		 * the terminal with nothing to return. */
		if (sv->cfg->pty != NULL &&
		    evloop_add(sv->loop, sv->cfg->tty_fd, EV_READ, sv_stdin_cb, sv) == -1)
			sv_abort(sv, "watching the terminal");
		break;
	case INIT_MSG_WATCH:
		sv_take_watch(sv);
		break;
	case INIT_MSG_EXIT: {
		int32_t st;
		memcpy(&st, sv->payload, sizeof(st));
		r->have_status = true;
		r->cmd_status = st;
		break;
	}
	default:
		sv_abort(sv, "unknown message from sandbox init");
		break;
	}
	free(sv->payload);
	sv->payload = NULL;
	sv->hdr_got = sv->payload_got = 0;
}

/* Reads what is there; returns false at EOF or error. */
static bool
sv_read_report(struct supervise *sv, int fd)
{
	for (;;) {
		ssize_t n;
		if (sv->hdr_got < sizeof(sv->hdr)) {
			n = read(fd, (char *)&sv->hdr + sv->hdr_got, sizeof(sv->hdr) - sv->hdr_got);
		} else {
			n = read(fd, sv->payload + sv->payload_got, sv->hdr.len - sv->payload_got);
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return errno == EAGAIN;
		if (n == 0) {
			if (sv->hdr_got != 0)
				sv_abort(sv, "truncated message from sandbox init");
			return false;
		}
		if (sv->hdr_got < sizeof(sv->hdr)) {
			sv->hdr_got += (size_t)n;
			if (sv->hdr_got < sizeof(sv->hdr))
				continue;
			if (init_msg_check(&sv->hdr) == -1) {
				sv_abort(sv, "malformed message from sandbox init");
				return false;
			}
			sv->payload = ut_xmalloc(sv->hdr.len + 1);
		} else {
			sv->payload_got += (size_t)n;
		}
		if (sv->payload_got == sv->hdr.len)
			sv_handle_msg(sv);
		if (sv->failed)
			return false;
	}
}

static void
sv_report_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct supervise *sv = data;

	(void)events;
	if (!sv_read_report(sv, fd))
		evloop_del(loop, fd);
}

/* --- PTY relay --- */

/* Copies what the command wrote to the user's stdout; false once the slave is closed. */
static bool
sv_drain_master(struct supervise *sv)
{
	char buf[SUPERVISE_IO_CHUNK];

	for (;;) {
		ssize_t n = read(sv->cfg->pty->master, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return true;
		if (n <= 0) /* EIO: every slave fd is closed */
			return false;
		if (ut_write_all(STDOUT_FILENO, buf, (size_t)n) == -1)
			return false; /* the user's terminal is gone; the command will get SIGHUP */
	}
}

static void
sv_flush_input(struct supervise *sv)
{
	int master = sv->cfg->pty->master;

	while (sv->in_off < sv->in_len) {
		ssize_t n = write(master, sv->in_buf + sv->in_off, sv->in_len - sv->in_off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			evloop_mod(sv->loop, master, EV_READ | EV_WRITE);
			return;
		}
		if (n == -1) {
			sv->in_off = sv->in_len; /* the command side is gone; drop the keys */
			break;
		}
		sv->in_off += (size_t)n;
	}
	sv->in_off = sv->in_len = 0;
	evloop_mod(sv->loop, master, EV_READ);
	if (sv->stdin_open) /* room again: read the next keys */
		evloop_add(sv->loop, sv->cfg->tty_fd, EV_READ, sv_stdin_cb, sv);
}

static void
sv_master_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct supervise *sv = data;

	if ((events & (EV_READ | EV_ERROR)) && !sv_drain_master(sv)) {
		evloop_del(loop, fd);
		return;
	}
	if ((events & EV_WRITE) && sv->in_len > 0)
		sv_flush_input(sv);
}

static void
sv_stdin_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct supervise *sv = data;
	ssize_t n;

	(void)events;
	n = read(fd, sv->in_buf, sizeof(sv->in_buf));
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		sv->stdin_open = false;
		evloop_del(loop, fd);
		return;
	}
	sv->in_len = (size_t)n;
	sv->in_off = 0;
	evloop_del(loop, fd); /* one chunk in flight: the master's backpressure reaches the user */
	sv_flush_input(sv);
}

/* --- signals, timeout, exit --- */

static void
sv_init_exited(struct supervise *sv, int status)
{
	sv->init_gone = true;
	sv->res->init_status = status;
	/* Every process of the sandbox is gone: the report pipe, the exec channel and the
	 * PTY hold only what they already buffered. */
	sv_read_report(sv, sv->cfg->report_fd);
	sv_exec_finish(sv);
	if (sv->cfg->pty != NULL)
		sv_drain_master(sv);
	evloop_stop(sv->loop);
}

static void
sv_signal_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct supervise *sv = data;
	struct signalfd_siginfo si;
	int status;

	(void)loop;
	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			if (!sv->init_gone && waitpid(sv->cfg->init_pid, &status, WNOHANG) ==
						      sv->cfg->init_pid)
				sv_init_exited(sv, status);
		} else if (si.ssi_signo == SIGHUP && sv->cfg->on_sighup != NULL) {
			sv->cfg->on_sighup(sv->cfg->arg); /* a reload request, not the command's */
		} else if (si.ssi_signo == SIGWINCH && sv->cfg->pty != NULL) {
			/* The kernel sends SIGWINCH to the command's foreground group itself. */
			pty_copy_winsize(sv->cfg->pty, sv->cfg->tty_fd);
		} else if (!sv->init_gone) {
			kill(sv->cfg->init_pid, (int)si.ssi_signo); /* init forwards to the group */
		}
	}
}

static long
sv_kill_cb(struct evloop *loop, long long id, void *data)
{
	struct supervise *sv = data;

	(void)loop;
	(void)id;
	sv->kill_timer = 0;
	if (!sv->init_gone)
		kill(sv->cfg->init_pid, SIGKILL); /* ends the whole pid namespace */
	return EV_TIMER_STOP;
}

static long long
sv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* SIGTERM to init (it forwards it to the command's group), SIGKILL after <grace_ms>
 * unless a kill is already due sooner. */
static int
sv_terminate(struct supervise *sv, long grace_ms)
{
	const long long at = sv_now_ms() + grace_ms;
	long long t;

	sv->stopping = true;
	kill(sv->cfg->init_pid, SIGTERM);
	if (sv->kill_timer > 0 && sv->kill_at_ms <= at)
		return 0;
	if ((t = evloop_timer_add(sv->loop, grace_ms, sv_kill_cb, sv)) == -1)
		return -1;
	/* The exec channel stays read: exec'd processes get the SIGTERM too (init) and their
	 * exits, within the grace, are their clients' statuses. New ones are refused. */
	if (sv->kill_timer > 0)
		evloop_timer_del(sv->loop, sv->kill_timer);
	sv->kill_timer = t;
	sv->kill_at_ms = at;
	return 0;
}

static long
sv_timeout_cb(struct evloop *loop, long long id, void *data)
{
	struct supervise *sv = data;

	(void)loop;
	(void)id;
	sv->timeout_timer = 0;
	if (sv->init_gone)
		return EV_TIMER_STOP;
	sv->res->timed_out = true;
	if (sv_terminate(sv, SUPERVISE_KILL_GRACE_MS) == -1)
		sv_abort(sv, "arming the kill timer after the timeout");
	return EV_TIMER_STOP;
}

int
supervise_stop(struct supervise *s, unsigned grace_s)
{
	/* Bounded so the milliseconds fit a long everywhere: a day is plenty of grace. */
	const unsigned max_s = 24 * 3600;

	if (s->init_gone) {
		errno = ESRCH;
		return -1;
	}
	s->res->stopped = true;
	return sv_terminate(s, (long)(grace_s > max_s ? max_s : grace_s) * 1000);
}

static int
sv_register(struct supervise *sv)
{
	const struct supervise_config *c = sv->cfg;
	sigset_t set;

	spawn_signal_set(&set);
	if ((sv->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		return -1;
	if (evloop_add(sv->loop, sv->sigfd, EV_READ, sv_signal_cb, sv) == -1 ||
	    evloop_add(sv->loop, c->report_fd, EV_READ, sv_report_cb, sv) == -1)
		return -1;
	if (c->pty != NULL) {
		sv->stdin_open = true;
		if (evloop_add(sv->loop, c->pty->master, EV_READ, sv_master_cb, sv) == -1)
			return -1; /* the terminal is watched from READY on (sv_handle_msg) */
	}
	if (sv_exec_register(sv) == -1)
		return -1;
	if (c->timeout_s > 0 &&
	    (sv->timeout_timer = evloop_timer_add(sv->loop, c->timeout_s * 1000, sv_timeout_cb,
						  sv)) == -1)
		return -1;
	return 0;
}

/* Leaves a shared loop as it was before sv_register() (ENOENT for what was never
 * registered, or already removed, is fine). */
static void
sv_unregister(struct supervise *sv)
{
	const int e = errno;

	if (sv->sigfd >= 0)
		evloop_del(sv->loop, sv->sigfd);
	evloop_del(sv->loop, sv->cfg->report_fd);
	if (sv->cfg->pty != NULL) {
		evloop_del(sv->loop, sv->cfg->pty->master);
		evloop_del(sv->loop, sv->cfg->tty_fd);
	}
	sv_exec_unregister(sv);
	if (sv->kill_timer > 0)
		evloop_timer_del(sv->loop, sv->kill_timer);
	if (sv->timeout_timer > 0)
		evloop_timer_del(sv->loop, sv->timeout_timer);
	errno = e;
}

int
supervise_run(const struct supervise_config *c, struct supervise_result *r)
{
	struct supervise sv = { .cfg = c, .res = r, .sigfd = -1 };
	int rc = -1, status;

	memset(r, 0, sizeof(*r));
	if ((sv.loop = c->loop != NULL ? c->loop : evloop_new()) == NULL)
		goto kill_init;
	if (sv_register(&sv) == -1)
		goto kill_init;
	if (c->on_started != NULL)
		c->on_started(c->arg, &sv);
	/* SIGCHLD may have come before the signalfd existed: it is pending, but check anyway. */
	if (waitpid(c->init_pid, &status, WNOHANG) == c->init_pid)
		sv_init_exited(&sv, status);
	else if (evloop_run(sv.loop) == -1)
		goto kill_init;
	rc = 0;
kill_init:
	if (!sv.init_gone) {
		const int e = errno;
		kill(c->init_pid, SIGKILL);
		if (TEMP_FAILURE_RETRY_INT(waitpid(c->init_pid, &status, 0)) == c->init_pid)
			r->init_status = status;
		sv.init_gone = true;
		sv_exec_finish(&sv); /* no client is left waiting */
		errno = e;
	}
	free(sv.payload);
	sv.payload = NULL;
	if (sv.loop != NULL && c->loop == NULL)
		evloop_free(sv.loop);
	else if (sv.loop != NULL)
		sv_unregister(&sv); /* the proxy's registrations stay */
	ut_close(&sv.sigfd);
	return rc;
}

int
supervise_exit_status(const struct supervise_result *r, int *code, int *sig)
{
	int st = r->have_status ? r->cmd_status : r->init_status;

	*code = -1;
	*sig = 0;
	if (WIFSIGNALED(st))
		*sig = WTERMSIG(st);
	else
		*code = WEXITSTATUS(st);
	if (r->timed_out)
		return 124;
	return *sig ? 128 + *sig : *code;
}

void
supervise_result_free(struct supervise_result *r)
{
	free(r->landlock_json);
	r->landlock_json = NULL;
}
