/* sandbox/supervise: the supervisor's event loop for one sandbox (contract in supervise.h). */
#include "sandbox/supervise.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "sandbox/init.h"
#include "sandbox/spawn.h"
#include "util/evloop.h"
#include "util/util.h"

#define SUPERVISE_IO_CHUNK 16384 /* bytes moved per PTY read */

struct supervisor {
	const struct supervise_config *cfg;
	struct supervise_result *res;
	struct evloop *loop;
	int sigfd;
	bool init_gone;
	bool failed;
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
	long long timeout_timer;
};

static void sv_master_cb(struct evloop *loop, int fd, uint32_t events, void *data);
static void sv_stdin_cb(struct evloop *loop, int fd, uint32_t events, void *data);

/* Any protocol breach or loop failure: the sandbox cannot be trusted to go on. */
static void
sv_abort(struct supervisor *sv, const char *why)
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
sv_take_watch(struct supervisor *sv)
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
sv_handle_msg(struct supervisor *sv)
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
sv_read_report(struct supervisor *sv, int fd)
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
	struct supervisor *sv = data;

	(void)events;
	if (!sv_read_report(sv, fd))
		evloop_del(loop, fd);
}

/* --- PTY relay --- */

/* Copies what the command wrote to the user's stdout; false once the slave is closed. */
static bool
sv_drain_master(struct supervisor *sv)
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
sv_flush_input(struct supervisor *sv)
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
	struct supervisor *sv = data;

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
	struct supervisor *sv = data;
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
sv_init_exited(struct supervisor *sv, int status)
{
	sv->init_gone = true;
	sv->res->init_status = status;
	/* Every process of the sandbox is gone: the report pipe and the PTY hold only what
	 * they already buffered. */
	sv_read_report(sv, sv->cfg->report_fd);
	if (sv->cfg->pty != NULL)
		sv_drain_master(sv);
	evloop_stop(sv->loop);
}

static void
sv_signal_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct supervisor *sv = data;
	struct signalfd_siginfo si;
	int status;

	(void)loop;
	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			if (!sv->init_gone && waitpid(sv->cfg->init_pid, &status, WNOHANG) ==
						      sv->cfg->init_pid)
				sv_init_exited(sv, status);
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
	struct supervisor *sv = data;

	(void)loop;
	(void)id;
	sv->kill_timer = 0;
	if (!sv->init_gone)
		kill(sv->cfg->init_pid, SIGKILL); /* ends the whole pid namespace */
	return EV_TIMER_STOP;
}

static long
sv_timeout_cb(struct evloop *loop, long long id, void *data)
{
	struct supervisor *sv = data;

	(void)id;
	sv->timeout_timer = 0;
	if (sv->init_gone)
		return EV_TIMER_STOP;
	sv->res->timed_out = true;
	kill(sv->cfg->init_pid, SIGTERM);
	sv->kill_timer = evloop_timer_add(loop, SUPERVISE_KILL_GRACE_MS, sv_kill_cb, sv);
	return EV_TIMER_STOP;
}

static int
sv_register(struct supervisor *sv)
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
	if (c->timeout_s > 0 &&
	    (sv->timeout_timer = evloop_timer_add(sv->loop, c->timeout_s * 1000, sv_timeout_cb,
						  sv)) == -1)
		return -1;
	return 0;
}

/* Leaves a shared loop as it was before sv_register() (ENOENT for what was never
 * registered, or already removed, is fine). */
static void
sv_unregister(struct supervisor *sv)
{
	const int e = errno;

	if (sv->sigfd >= 0)
		evloop_del(sv->loop, sv->sigfd);
	evloop_del(sv->loop, sv->cfg->report_fd);
	if (sv->cfg->pty != NULL) {
		evloop_del(sv->loop, sv->cfg->pty->master);
		evloop_del(sv->loop, sv->cfg->tty_fd);
	}
	if (sv->kill_timer > 0)
		evloop_timer_del(sv->loop, sv->kill_timer);
	if (sv->timeout_timer > 0)
		evloop_timer_del(sv->loop, sv->timeout_timer);
	errno = e;
}

int
supervise_run(const struct supervise_config *c, struct supervise_result *r)
{
	struct supervisor sv = { .cfg = c, .res = r, .sigfd = -1 };
	int rc = -1, status;

	memset(r, 0, sizeof(*r));
	if ((sv.loop = c->loop != NULL ? c->loop : evloop_new()) == NULL)
		goto kill_init;
	if (sv_register(&sv) == -1)
		goto kill_init;
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
