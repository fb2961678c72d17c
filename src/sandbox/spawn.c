/* sandbox/spawn: clone into namespaces; the command's ordered pre-exec sequence (spawn.h). */
#include "sandbox/spawn.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "sandbox/identity.h"
#include "sandbox/init.h"
#include "sandbox/landlock.h"
#include "sandbox/seccomp.h"
#include "util/util.h"

/* No CLONE_NEWNET: the supervisor made the network namespace itself and clones from
 * inside it (proxy/topology.h), so the proxy's listeners exist before init does. */
#define SPAWN_NS_FLAGS                                                                     \
	(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)

static const int spawn_forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2 };

void
spawn_signal_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < NELEM(spawn_forwarded); i++)
		sigaddset(set, spawn_forwarded[i]);
	sigaddset(set, SIGCHLD);
}

pid_t
spawn_sandbox(const struct spawn_plan *plan, char *err, size_t errlen)
{
	/* Raw clone(2) with no new stack behaves as fork() into new namespaces; the supervisor
	 * is single-threaded here, so the child may use malloc and stdio. */
	pid_t pid = (pid_t)syscall(SYS_clone, SPAWN_NS_FLAGS | SIGCHLD, NULL, NULL, NULL, NULL);

	if (pid == -1) {
		const int e = errno;
		snprintf(err, errlen, "clone into new mount/pid/ipc/uts/cgroup namespaces: %s%s",
			 strerror(e),
			 e == EPERM ? "\nhint: agentcage run must run as root (sudo agentcage run ...)"
				    : e == ENOSPC ? "\nhint: a namespace limit in /proc/sys/user/ was reached"
						  : "");
		errno = e;
		return -1;
	}
	if (pid == 0)
		init_main(plan);
	return pid;
}

/* --- the command child --- */

_Noreturn static void
spawn_die(const char *step, const char *detail, int code)
{
	dprintf(STDERR_FILENO, "agentcage: %s: %s\n", step, detail);
	_exit(code);
}

_Noreturn static void
spawn_die_errno(const char *step, const char *what, const char *hint)
{
	const int e = errno;

	dprintf(STDERR_FILENO, "agentcage: %s: %s: %s%s%s\n", step, what, strerror(e),
		hint ? "\nhint: " : "", hint ? hint : "");
	_exit(SPAWN_EXIT_SETUP);
}

/* Own session with the PTY as controlling terminal (job control), or own process group so
 * a forwarded signal reaches the command and everything it started. <tty> is the slave
 * or -1. */
static void
spawn_set_session(int tty)
{
	if (tty < 0) {
		if (setpgid(0, 0) == -1)
			spawn_die_errno("session", "setpgid", NULL);
		return;
	}
	if (setsid() == -1)
		spawn_die_errno("session", "setsid", NULL);
	if (ioctl(tty, TIOCSCTTY, 0) == -1)
		spawn_die_errno("session", "TIOCSCTTY on the terminal", NULL);
}

/* Installs <fds>[0..2] on 0, 1, 2. Each is >= 3 (init guarantees it), so no dup2()
 * overwrites a source still to be installed. */
static void
spawn_install_stdio(const int fds[3])
{
	for (int fd = 0; fd <= 2; fd++)
		if (dup2(fds[fd], fd) == -1)
			spawn_die_errno("session", "dup2 of a standard stream", NULL);
}

/* The session step for the command (pty_slave) or an exec'd process (stdio, tty). */
static void
spawn_session(const struct spawn_plan *plan)
{
	if (plan->stdio != NULL) {
		spawn_set_session(plan->tty ? plan->stdio[0] : -1);
		spawn_install_stdio(plan->stdio);
		return;
	}
	spawn_set_session(plan->pty_slave);
	if (plan->pty_slave >= 0) {
		const int slave[3] = { plan->pty_slave, plan->pty_slave, plan->pty_slave };
		spawn_install_stdio(slave);
	}
}

/* Signal mask and ignored dispositions survive execve(2): give the command defaults. */
static void
spawn_reset_signals(void)
{
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL); /* EINVAL for the reserved real-time signals: fine */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Closes every fd above stderr: the command starts with 0, 1, 2 only. */
static void
spawn_close_fds(void)
{
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == -1)
		spawn_die_errno("fds", "close_range", NULL);
}

/* The value of PATH in <envp>, or NULL. */
static const char *
spawn_path_of(char *const *envp)
{
	for (size_t i = 0; envp[i] != NULL; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0)
			return envp[i] + 5;
	return NULL;
}

/* execve(2) of argv[0], looked up in the command's own PATH when it has no '/' (as
 * execvpe(3), which would use agentcage's PATH instead). Returns only on failure. */
static void
spawn_execvpe(char *const *argv, char *const *envp)
{
	const char *path = spawn_path_of(envp);
	char cand[PATH_MAX];
	bool eacces = false;

	if (strchr(argv[0], '/') != NULL || path == NULL) {
		execve(argv[0], argv, envp);
		return;
	}
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		int n = (int)(end - p);

		if (ut_snprintf(cand, sizeof(cand), "%.*s%s%s", n, p, n ? "/" : "", argv[0]) != -1) {
			execve(cand, argv, envp);
			if (errno == EACCES)
				eacces = true; /* keep looking, as execvp(3) does */
			else if (errno != ENOENT && errno != ENOTDIR)
				return;
		}
		if (*end == '\0')
			break;
		p = end;
	}
	errno = eacces ? EACCES : ENOENT;
}

_Noreturn void
spawn_exec_command(const struct spawn_plan *plan, struct ll_ruleset *rs)
{
	char err[1024];

	/* 1. Session: own session + controlling PTY, or own process group (signals, job
	 *    control); an exec'd process's stdio installed on 0, 1, 2. */
	spawn_session(plan);
	/* 2. Defaults for every signal: the supervisor and init block or ignore some. */
	spawn_reset_signals();
	/* 3. No core dumps, not dumpable: before the uid change, so no window exposes memory. */
	identity_harden();
	/* 4. Bounding caps cleared (needs CAP_SETPCAP, so while root), setgroups, setresgid,
	 *    setresuid, each verified, and regaining root must fail. */
	if (identity_drop(plan->id, err, sizeof(err)) == -1)
		spawn_die("identity", err, SPAWN_EXIT_SETUP);
	/* 5. no_new_privs: no setuid bit or file capability can give anything back. Required
	 *    by Landlock and seccomp for an unprivileged task anyway. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		spawn_die_errno("no_new_privs", "prctl(PR_SET_NO_NEW_PRIVS)", NULL);
	/* 6. Landlock, after the mounts (a Landlocked task cannot mount) and after the drop. */
	if (landlock_enforce(rs, err, sizeof(err)) == -1)
		spawn_die("landlock", err, SPAWN_EXIT_SETUP);
	/* 7. Close every fd but stdio: the Landlock ruleset, the report pipe, anything leaked. */
	spawn_close_fds();
	/* 8. seccomp last: its filter need not allow any of the set-up syscalls above. */
	if (seccomp_apply(plan->seccomp) == -1)
		spawn_die_errno("seccomp", "installing the filter", NULL);
	/* 9. Working directory, entered as the sandbox user (DAC applies). */
	if (chdir(plan->workdir) == -1)
		spawn_die_errno("workdir", plan->workdir,
				"the sandbox user must be able to enter it (chmod o+x on its parents)");
	/* 10. The command. */
	spawn_execvpe(plan->argv, plan->envp);
	if (errno == ENOENT) {
		dprintf(STDERR_FILENO,
			"agentcage: exec %s: command not found\nhint: PATH in the sandbox is %s\n",
			plan->argv[0], spawn_path_of(plan->envp) ? spawn_path_of(plan->envp) : "(unset)");
		_exit(SPAWN_EXIT_NOTFOUND);
	}
	dprintf(STDERR_FILENO,
		"agentcage: exec %s: %s\nhint: the binary, its interpreter or a library it needs may "
		"be outside the policy's filesystem paths (filesystem_policy.read_only)\n",
		plan->argv[0], strerror(errno));
	_exit(SPAWN_EXIT_NOEXEC);
}
