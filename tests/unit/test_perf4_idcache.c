/*
 * test_perf4_idcache: the identity cache never serves a stale answer. A cached process is
 * served (exe, ancestors); after it execs another binary it is not; after it exits and
 * another process gets the same pid (clone3 set_tid, same binary, same exe, a later clock
 * tick: idcache.h states the same-tick limit) it is not;
 * after an ancestor execs another binary the caller is not; a binary TOFU refuses is
 * never cached. This test process plays the sandbox root.
 */
#include "proxy/idcache.h"
#include "proxy/tofu.h"
#include "util/util.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/wait.h>

#include "proc_fixture.h"
#include "t.h"

static char self_exe[PATH_MAX];

/* A forked copy of this test blocked on a pipe; writing a byte makes it exec sleep. */
struct kid {
	pid_t pid;
	int go;     /* write end: one byte = exec /bin/sleep */
	int execd;  /* read end, CLOEXEC in the kid: EOF once it exec'd */
};

static void
kid_body(int go, int execd)
{
	char c;

	if (read(go, &c, 1) == 1)
		execl("/bin/sleep", "sleep", "1000", (char *)NULL);
	(void)execd;
	_exit(0);
}

static int
kid_start(struct kid *k)
{
	int go[2], ex[2];

	if (pipe2(go, O_CLOEXEC) == -1 || pipe2(ex, O_CLOEXEC) == -1)
		return -1;
	k->pid = fork();
	if (k->pid == 0) {
		close(go[1]);
		close(ex[0]);
		kid_body(go[0], ex[1]);
	}
	close(go[0]);
	close(ex[1]);
	k->go = go[1];
	k->execd = ex[0];
	return k->pid > 0 ? 0 : -1;
}

/* Makes the kid exec /bin/sleep and waits until it has (its CLOEXEC pipe end closed). */
static int
kid_exec(struct kid *k)
{
	char c;

	if (write(k->go, "x", 1) != 1)
		return -1;
	return read(k->execd, &c, 1) == 0 ? 0 : -1;
}

static void
kid_stop(struct kid *k)
{
	if (k->pid > 0) {
		kill(k->pid, SIGKILL);
		waitpid(k->pid, NULL, 0);
	}
	k->pid = 0;
	ut_close(&k->go);
	ut_close(&k->execd);
}

static void
test_hit_then_exec(struct tofu *t, struct peer_ident *pi)
{
	struct idcache *ic = idcache_new(getpid());
	struct idcache_who w;
	struct kid k = { 0, -1, -1 };
	pid_t me = getpid();
	unsigned long hits, dropped;

	T_OK(ic != NULL && kid_start(&k) == 0, "cache and child");
	ident_for(pi, k.pid, &me, 1);
	T_OK(idcache_fill(ic, t, k.pid, pi) == 0, "a live child is cached");
	T_OK(idcache_get(ic, k.pid, &w) == 0 && w.pid == k.pid, "it is served");
	T_STREQ(w.exe, self_exe, "with its exe");
	T_OK(w.nancestors == 1 && strcmp(w.ancestors[0], self_exe) == 0,
	     "and the root as its one ancestor");
	T_OK(kid_exec(&k) == 0, "the child execs /bin/sleep in the same pid");
	errno = 0;
	T_OK(idcache_get(ic, k.pid, &w) == -1 && errno == ENOENT,
	     "after the exec the old identity is not served");
	idcache_counts(ic, &hits, &dropped);
	T_OK(hits == 1 && dropped == 1, "one hit, one entry dropped (%lu, %lu)", hits, dropped);
	ident_for(pi, k.pid, &me, 1);
	T_OK(idcache_fill(ic, t, k.pid, pi) == 0 && idcache_get(ic, k.pid, &w) == 0,
	     "filled again it is served");
	T_CONTAINS(w.exe, "sleep", "as the new binary");
	kid_stop(&k);
	T_OK(idcache_get(ic, pi->pid, &w) == -1, "an exited process is not served");
	idcache_free(ic);
}

/* CLOCK_BOOTTIME in clock ticks: the unit of a process's start time (proc(5) field 22). */
static long long
boot_ticks(void)
{
	struct timespec ts;
	long long hz = sysconf(_SC_CLK_TCK);

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * hz + ts.tv_nsec / (1000000000LL / hz);
}

/* Waits (on the clock, ~2 ticks) until a process started now has another start time
 * than one started before the call: the cache tells processes apart by it. */
static void
wait_two_ticks(void)
{
	long long t0 = boot_ticks();

	while (boot_ticks() < t0 + 2)
		;
}

static pid_t
clone_with_pid(pid_t want, const int hold[2])
{
	struct clone_args ca;
	pid_t tid = want;
	long r;
	char c;

	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	ca.set_tid = (uint64_t)(uintptr_t)&tid;
	ca.set_tid_size = 1;
	r = syscall(SYS_clone3, &ca, sizeof(ca));
	if (r == 0) {
		close(hold[1]);	/* EOF on hold[0] once the parent closes its end */
		(void)!read(hold[0], &c, 1);
		_exit(0);
	}
	return (pid_t)r;
}

static void
test_pid_reuse(struct tofu *t, struct peer_ident *pi)
{
	struct idcache *ic = idcache_new(getpid());
	struct idcache_who w;
	struct kid k = { 0, -1, -1 };
	pid_t me = getpid(), old, again;
	int hold[2] = { -1, -1 };

	T_OK(ic != NULL && kid_start(&k) == 0 && pipe2(hold, O_CLOEXEC) == 0, "setup");
	ident_for(pi, k.pid, &me, 1);
	T_OK(idcache_fill(ic, t, k.pid, pi) == 0 && idcache_get(ic, k.pid, &w) == 0,
	     "the first process is cached and served");
	old = k.pid;
	kid_stop(&k);
	wait_two_ticks();
	again = clone_with_pid(old, hold);
	if (again != old) {
		for (int i = 0; i < 2; i++)
			t_skip("clone3 with set_tid refused (%s): cannot make a process with "
			       "pid %d again", strerror(errno), (int)old);
	} else {
		ident_for(pi, again, &me, 1);
		T_STREQ(pi->exe, self_exe, "the new process has the same pid and the same exe");
		errno = 0;
		T_OK(idcache_get(ic, again, &w) == -1 && errno == ENOENT,
		     "a reused pid is not served the old process's entry");
		close(hold[1]);
		hold[1] = -1;
		waitpid(again, NULL, 0);
	}
	ut_close(&hold[0]);
	ut_close(&hold[1]);
	idcache_free(ic);
}

/* A grandchild whose parent (the kid) execs: the grandchild is no longer served. */
static void
test_ancestor_exec(struct tofu *t, struct peer_ident *pi)
{
	struct idcache *ic = idcache_new(getpid());
	struct idcache_who w;
	struct kid k = { 0, -1, -1 };
	int p[2], gc_hold[2];
	pid_t me = getpid(), gc = -1, anc[2];

	T_OK(ic != NULL && pipe2(p, O_CLOEXEC) == 0 && pipe2(gc_hold, O_CLOEXEC) == 0, "setup");
	/* The kid forks the grandchild (blocked on gc_hold) and reports its pid on p. */
	k.pid = -1;
	{
		int go[2], ex[2];

		if (pipe2(go, O_CLOEXEC) == -1 || pipe2(ex, O_CLOEXEC) == -1)
			return;
		k.pid = fork();
		if (k.pid == 0) {
			pid_t g = fork();
			char c;

			if (g == 0) {
				/* only gc_hold[0] stays: every other end must close with its
				 * owner for the EOFs the parent waits on */
				close(gc_hold[1]);
				close(go[0]);
				close(go[1]);
				close(ex[0]);
				close(ex[1]);
				close(p[0]);
				close(p[1]);
				(void)!read(gc_hold[0], &c, 1);
				_exit(0);
			}
			(void)!write(p[1], &g, sizeof(g));
			close(gc_hold[0]);
			close(go[1]);
			close(ex[0]);
			kid_body(go[0], ex[1]);
		}
		close(go[0]);
		close(ex[1]);
		k.go = go[1];
		k.execd = ex[0];
	}
	close(gc_hold[0]);
	if (read(p[0], &gc, sizeof(gc)) != sizeof(gc))
		gc = -1;
	T_OK(gc > 0, "the child started a grandchild (%d)", (int)gc);
	anc[0] = k.pid;
	anc[1] = me;
	ident_for(pi, gc, anc, 2);
	T_OK(idcache_fill(ic, t, gc, pi) == 0 && idcache_get(ic, gc, &w) == 0 &&
	     w.nancestors == 2, "the grandchild and its two ancestors are served");
	T_OK(kid_exec(&k) == 0, "its parent execs /bin/sleep");
	errno = 0;
	T_OK(idcache_get(ic, gc, &w) == -1 && errno == ENOENT,
	     "after the parent's exec the grandchild's old chain is not served");
	close(gc_hold[1]);	/* the grandchild exits; the kid (sleep) is killed */
	kid_stop(&k);
	close(p[0]);
	close(p[1]);
	idcache_free(ic);
}

/* A binary whose path TOFU pinned with other bytes is refused, so never cached. */
static void
test_tofu_refusal(struct peer_ident *pi)
{
	struct tofu *t = tofu_new();
	struct idcache *ic = idcache_new(getpid());
	struct idcache_who w;
	struct kid k = { 0, -1, -1 };
	char hex[TOFU_HEX_LEN], why[512];
	pid_t me = getpid();
	int other = open("/bin/sh", O_RDONLY | O_CLOEXEC);

	T_OK(t != NULL && ic != NULL && other != -1 && kid_start(&k) == 0, "setup");
	/* Pin this test's path with /bin/sh's bytes: its real image now mismatches. */
	T_OK(tofu_check_fd(t, other, self_exe, hex, why, sizeof(why)) == 0, "pinned elsewhere");
	ident_for(pi, k.pid, &me, 1);
	T_OK(idcache_fill(ic, t, k.pid, pi) == -1 && idcache_get(ic, k.pid, &w) == -1,
	     "a binary TOFU refuses is not cached");
	kid_stop(&k);
	close(other);
	idcache_free(ic);
	tofu_free(t);
}

int
main(void)
{
	struct peer_ident *pi = malloc(sizeof(*pi));
	struct tofu *t = tofu_new();
	ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);

	signal(SIGPIPE, SIG_IGN);
	if (pi == NULL || t == NULL || n <= 0)
		return 1;
	self_exe[n] = '\0';
	test_hit_then_exec(t, pi);
	test_pid_reuse(t, pi);
	test_ancestor_exec(t, pi);
	test_tofu_refusal(pi);
	tofu_free(t);
	free(pi);
	return t_done();
}
