/* sandbox/init: pid 1 of the sandbox (contract in init.h). */
#include "sandbox/init.h"

#include <poll.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "sandbox/init_int.h"
#include "sandbox/landlock.h"
#include "sandbox/mounts.h"
#include "sandbox/seccomp.h"
#include "sandbox/tlstrust.h"
#include "util/sbuf.h"
#include "proxy/connwatch.h"
#include "util/util.h"

#define INIT_ERR_LEN     1024
#define INIT_CHILD_STACK (64 * 1024) /* the command child's stack until its execve */
/* After a SIGTERM, how long the sandbox outlives its command for exec'd processes still
 * running: `stop` and --timeout SIGKILL init sooner (their grace); a SIGTERM sent to
 * `agentcage run` itself has no grace of its own, and a job ignoring it must not keep
 * the sandbox forever. */
#define INIT_STOP_WAIT_MS (10 * 1000)

int
init_msg_check(const struct init_msg_hdr *h)
{
	switch (h->type) {
	case INIT_MSG_READY:
		if (h->len <= INIT_MSG_MAX)
			return 0;
		break;
	case INIT_MSG_EXIT:
	case INIT_MSG_WATCH:
		if (h->len == sizeof(int32_t))
			return 0;
		break;
	default:
		break;
	}
	errno = EPROTO;
	return -1;
}

/* Sends one message; a supervisor that is gone (EPIPE) is not init's problem: PDEATHSIG
 * ends init right after. */
static void
init_send(int fd, enum init_msg_type type, const void *payload, uint32_t len)
{
	struct init_msg_hdr h = { .type = type, .len = len };

	if (ut_write_all(fd, &h, sizeof(h)) == 0)
		ut_write_all(fd, payload, len);
}

_Noreturn static void
init_die(const char *msg)
{
	dprintf(STDERR_FILENO, "agentcage: %s\n", msg);
	_exit(SPAWN_EXIT_SETUP);
}

/*
 * The connect-notify filter (proxy/connwatch.h), installed while init is still root so
 * the command and everything it starts inherit it; its listener goes to the supervisor,
 * whose proxy then identifies callers without scanning. Without it (a kernel refusing
 * user notification) the proxy still scans: a warning, not a failure.
 */
static void
init_watch_connects(const struct spawn_plan *plan)
{
	int32_t l = connwatch_install();

	if (l == -1) {
		dprintf(STDERR_FILENO, "agentcage: warning: connect notification unavailable (%s); "
			"the proxy identifies callers by scanning, slower with many processes\n",
			strerror(errno));
		return;
	}
	init_send(plan->report_fd, INIT_MSG_WATCH, &l, sizeof(l));
}

/* Read by every sandboxed tool whatever the policy's read_only list says. */
static const char *const init_implicit_ro[] = { TLSTRUST_DIR, NULL };

/*
 * The CA certificate the supervisor created after the clone, first on the filter pipe
 * (sent while init built the mounts), written into the sandbox's trust store. Nothing
 * comes and nothing is done when the policy terminates no TLS.
 */
static void
init_install_ca(const struct spawn_plan *plan, char *err, size_t errlen)
{
	char *pem = NULL;

	if (tlstrust_recv(plan->filter_rfd, plan->ca_expected, &pem) == -1) {
		if (errno == EPIPE) /* the supervisor failed and said why */
			_exit(SPAWN_EXIT_SETUP);
		snprintf(err, errlen, "init: receiving the sandbox CA certificate: %s",
			 strerror(errno));
		init_die(err);
	}
	if (pem != NULL && tlstrust_install(pem, err, errlen) == -1) {
		free(pem);
		init_die(err);
	}
	free(pem);
}

/* Everything init does as root before the command exists. */
static void
init_build(const struct spawn_plan *plan, struct ll_ruleset *rs, struct sc_filter *filter)
{
	const struct policy *pol = plan->policy;
	/* Only what the policy lists is in the view (a policy listing nothing asked for no
	 * filesystem confinement and keeps the host's view): Landlock does not govern
	 * connect() to a host service's unix socket, absence does. */
	const struct mounts_config mc = {
		.home = plan->home, .workdir = plan->workdir,
		.listed_only = pol->has_filesystem && pol->nread_only + pol->nread_write > 0,
		.ro = (const char *const *)pol->read_only, .nro = pol->nread_only,
		.rw = (const char *const *)pol->read_write, .nrw = pol->nread_write,
		.include_workdir = pol->include_workdir,
	};
	char err[INIT_ERR_LEN];
	struct sbuf summary = { 0 };

	close(plan->filter_wfd); /* the supervisor's end: EOF must reach us if it gives up */
	if (plan->exec_channel)
		close(plan->exec_fds[0]); /* the supervisor's end of the exec channel */
	/* The supervisor is gone -> the whole sandbox goes (init's death kills the pid ns). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		init_die("init: PR_SET_PDEATHSIG failed");
	/* Not dumpable: /proc/1/{mem,environ,fd} stay closed to everything but root. */
	prctl(PR_SET_DUMPABLE, 0);
	if (sethostname(plan->name, strlen(plan->name)) == -1) {
		snprintf(err, sizeof(err), "set hostname '%s': %s", plan->name, strerror(errno));
		init_die(err);
	}
	/* The network namespace is the supervisor's creation (proxy/topology.c): lo is up
	 * and the proxy listens on it before this process exists. */
	if (mounts_build(&mc, err, sizeof(err)) == -1)
		init_die(err);
	/* The trust store before Landlock, so a rule naming the distribution's bundle path
	 * is opened on the bind (the sandbox's bundle), not on the host file under it. */
	init_install_ca(plan, err, sizeof(err));
	/* Landlock paths are opened here, as root, against the sandbox's own mounts: the
	 * host has no /sandbox and its /tmp is another inode than the sandbox's. */
	if (landlock_prepare_implicit(plan->policy, plan->workdir,
				      plan->ca_expected ? init_implicit_ro : NULL, rs, err,
				      sizeof(err)) == -1)
		init_die(err);
	/* The filter the supervisor compiled meanwhile. At end of file it failed and said why. */
	if (seccomp_filter_recv(filter, plan->filter_rfd) == -1) {
		if (errno == EPIPE)
			_exit(SPAWN_EXIT_SETUP);
		snprintf(err, sizeof(err), "init: receiving the seccomp filter: %s", strerror(errno));
		init_die(err);
	}
	close(plan->filter_rfd);
	init_watch_connects(plan);
	landlock_summary_json(rs, &summary);
	init_send(plan->report_fd, INIT_MSG_READY, sbuf_str(&summary), (uint32_t)summary.len);
	sbuf_free(&summary);
}

void
init_signal_group(pid_t leader, int sig)
{
	if (kill(-leader, sig) == -1)
		kill(leader, sig);
}

/* Reaps every child that has exited, reporting exec'd ones; true once <cmd> is among
 * them (*<status> set). */
static bool
init_reap(pid_t cmd, struct init_exec *ie, int *status)
{
	bool done = false;
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == cmd) {
			*status = st;
			done = true;
		} else {
			init_exec_reaped(ie, pid, st); /* else an orphan the command left */
		}
	}
	return done;
}

/* What init_wait() follows: the command, and whether the sandbox is being stopped. */
struct init_waiting {
	pid_t cmd;
	int report_fd;  /* the supervisor hears the command's status as soon as it is known */
	bool cmd_done;  /* reaped: <status> holds its wait status */
	int status;
	bool stopping;  /* a SIGTERM came: `agentcage stop`, --timeout, or one sent to run */
};

/* Reaps what has exited; the first time the command is among it, tells the supervisor. */
static void
init_reap_all(struct init_waiting *w, struct init_exec *ie)
{
	if (init_reap(w->cmd_done ? 0 : w->cmd, ie, &w->status)) {
		w->cmd_done = true;
		init_send(w->report_fd, INIT_MSG_EXIT, &w->status, sizeof(w->status));
	}
}

/*
 * One signal from init's signalfd: reap on SIGCHLD, else forward to the command. A SIGTERM
 * also goes to the exec'd processes, and from then on the sandbox ends only once they too
 * have exited (init_wait): every process gets the grace period, not just the command,
 * before the supervisor's SIGKILL.
 */
static void
init_on_signal(int sfd, struct init_waiting *w, struct init_exec *ie)
{
	struct signalfd_siginfo si;
	ssize_t n = read(sfd, &si, sizeof(si));

	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n != (ssize_t)sizeof(si))
		init_die("init: reading signalfd failed");
	if (si.ssi_signo == SIGCHLD) {
		init_reap_all(w, ie);
		return;
	}
	if (!w->cmd_done) /* its pid may be another process's by now */
		init_signal_group(w->cmd, (int)si.ssi_signo);
	if (si.ssi_signo == SIGTERM) {
		w->stopping = true;
		init_exec_signal_all(ie, SIGTERM);
	}
}

/* Waits for <cmd>, and when stopping for the exec'd processes too; forwards signals and
 * serves exec requests meanwhile. Returns the command's wait status, which the
 * supervisor was sent when the command was reaped. */
static int
init_wait(pid_t cmd, int report_fd, struct init_exec *ie)
{
	struct init_waiting w = { .cmd = cmd, .report_fd = report_fd };
	sigset_t set;
	struct pollfd pfd[2];
	int sfd;

	spawn_signal_set(&set); /* blocked since before clone(): nothing was lost */
	if ((sfd = signalfd(-1, &set, SFD_CLOEXEC)) == -1)
		init_die("init: signalfd failed");
	init_reap_all(&w, ie); /* it may be gone already */
	if (w.cmd_done)
		return w.status;
	pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	for (;;) {
		int n;

		pfd[1] = (struct pollfd){ .fd = ie->chan, .events = POLLIN }; /* -1: ignored */
		n = poll(pfd, NELEM(pfd), w.cmd_done ? INIT_STOP_WAIT_MS : -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			init_die("init: poll failed");
		}
		if (n == 0) /* the exec'd processes had their time: the namespace ends them */
			return w.status;
		/* Requests first: a START queued before the command's exit is still answered. */
		if (pfd[1].revents != 0)
			init_exec_serve(ie);
		if (pfd[0].revents != 0)
			init_on_signal(sfd, &w, ie);
		if (w.cmd_done && (!w.stopping || ie->nprocs == 0))
			return w.status;
	}
}

/* What the command child gets: its own copy of the ruleset, since it closes the fd in
 * memory it shares with init. */
struct init_child_arg {
	const struct spawn_plan *plan;
	struct ll_ruleset rs;
};

static int
init_child_main(void *p)
{
	struct init_child_arg *a = p;

	spawn_exec_command(a->plan, &a->rs);
}

/*
 * Starts the command child (or an exec'd process) the way posix_spawn(3) does: clone(CLONE_VM | CLONE_VFORK) on
 * a separate stack, so init's address space is not copied (a fork would copy its page
 * tables and then take a copy-on-write fault for each page either side writes) and init
 * sleeps until the child's execve (or exit). The child runs spawn_exec_command() only:
 * no allocation, no stdio buffers, nothing init relies on is written. Returns its pid
 * or -1 with errno.
 */
pid_t
init_spawn(const struct spawn_plan *plan, const struct ll_ruleset *rs)
{
	struct init_child_arg a = { .plan = plan, .rs = *rs };
	/* On init's own stack, as vfork(2) would: init is asleep until the execve, and a
	 * stack inside the thread's known bounds keeps the sanitizers' stack checks valid. */
	_Alignas(16) char stack[INIT_CHILD_STACK];

	pid_t pid = clone(init_child_main, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &a);

#ifdef __SANITIZE_ADDRESS__
	/* The child's frames poisoned their redzones in this buffer's shadow and, having
	 * exec'd instead of returning, never cleared them: init's later, deeper frames
	 * (serving exec requests) would be reported as overflows. */
	ASAN_UNPOISON_MEMORY_REGION(stack, sizeof(stack));
#endif
	return pid;
}

/* A copy of <argv> in init's own memory (never freed: init keeps it until it exits). */
static char **
init_copy_argv(char *const *argv)
{
	size_t n = 0;
	char **copy;

	while (argv[n] != NULL)
		n++;
	copy = ut_xcalloc(n + 1, sizeof(*copy));
	for (size_t i = 0; i < n; i++)
		copy[i] = ut_xstrdup(argv[i]);
	return copy;
}

_Noreturn void
init_main(const struct spawn_plan *plan)
{
	struct spawn_plan p = *plan;
	struct sc_filter filter;
	struct ll_ruleset rs;
	struct init_exec ie;
	int32_t status;
	pid_t cmd;

	memset(&rs, 0, sizeof(rs));
	rs.fd = -1;
	init_build(plan, &rs, &filter);
	p.seccomp = &filter;
	/* /proc/1/cmdline is readable by every sandbox process: it must not show the host's
	 * command line (paths, --env values). The command's argv points into those strings. */
	p.argv = init_copy_argv(plan->argv);
	ut_proc_title("agentcage-init");
	if ((cmd = init_spawn(&p, &rs)) == -1)
		init_die("init: starting the command failed");
	/* With an exec channel the ruleset and the filter stay: every exec'd process gets
	 * exactly the command's confinement from them. */
	if (!plan->exec_channel) {
		landlock_release(&rs);
		seccomp_filter_release(&filter);
	}
	if (plan->pty_slave >= 0)
		close(plan->pty_slave); /* the command holds it; its last close gives the master EIO */
	init_exec_setup(&ie, &p, &rs, plan->exec_channel ? plan->exec_fds[1] : -1);
	status = init_wait(cmd, plan->report_fd, &ie);
	/* Our own status tells the same story for a supervisor that missed the message. The
	 * exec'd processes still running die with this pid namespace; the supervisor
	 * completes them. */
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	_exit(128 + WTERMSIG(status));
}
