/*
 * sandbox/identity: resolution of run_as_user/run_as_group (names, numbers, root refused,
 * supplementary groups computed, never inherited) and the drop in a forked child, checked
 * from inside the child (getres[ug]id, getgroups, CapBnd, setuid(0)) and reported over a
 * pipe. A throw-away user and group are created with useradd and removed at exit.
 */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "sandbox/identity.h"
#include "t.h"
#include "util/util.h"

static char tuser[32], tgroup[32];
static bool created_user, created_group;

static int
run_cmd(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == -1)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
remove_test_accounts(void)
{
	if (created_user) {
		char *del[] = { "/usr/sbin/userdel", tuser, NULL };
		run_cmd(del);
		created_user = false;
	}
	if (created_group) {
		char *del[] = { "/usr/sbin/groupdel", tgroup, NULL };
		run_cmd(del);
		created_group = false;
	}
}

/* User ac-tPID: primary group nogroup, supplementary ac-gPID and root (gid 0). */
static bool
create_test_accounts(void)
{
	char groups[64];

	ut_snprintf(tuser, sizeof(tuser), "ac-t%d", (int)getpid());
	ut_snprintf(tgroup, sizeof(tgroup), "ac-g%d", (int)getpid());
	ut_snprintf(groups, sizeof(groups), "%s,root", tgroup);
	char *ga[] = { "/usr/sbin/groupadd", tgroup, NULL };
	char *ua[] = { "/usr/sbin/useradd", "-M", "-N", "-g", "nogroup", "-G", groups,
		       "-d", "/nonexistent", "-s", "/usr/sbin/nologin", tuser, NULL };
	if (access(ga[0], X_OK) != 0 || access(ua[0], X_OK) != 0)
		return false;
	atexit(remove_test_accounts);
	created_group = run_cmd(ga) == 0;
	created_user = created_group && run_cmd(ua) == 0;
	return created_user;
}

static void
test_resolve(void)
{
	struct identity id;
	char err[512];
	struct group *g;

	T_OK(identity_resolve("nobody", NULL, &id, err, sizeof(err)) == 0, "nobody resolves: %s", err);
	T_OK(id.uid == 65534 && id.gid == 65534, "nobody -> uid 65534, primary gid 65534");
	T_STREQ(id.name, "nobody", "name kept");
	T_OK(id.ngroups >= 1 && id.groups[0] == 65534, "groups start with the primary gid");

	T_OK(identity_resolve("nobody", "12345", &id, err, sizeof(err)) == 0 && id.gid == 12345 &&
		     id.groups[0] == 12345,
	     "numeric run_as_group overrides the primary group");
	T_OK(identity_resolve("23456", "23457", &id, err, sizeof(err)) == 0 && id.uid == 23456 &&
		     id.gid == 23457 && id.ngroups == 1,
	     "numeric user without passwd entry: only the target gid, no supplementary groups");
	T_STREQ(id.name, "23456", "numeric user's name is the number");
	T_OK(identity_resolve("23456", NULL, &id, err, sizeof(err)) == -1 && errno == ENOENT,
	     "numeric user without entry and no group: refused");
	T_CONTAINS(err, "run_as_group", "... with a hint to set run_as_group");

	T_OK(identity_resolve("0", "100", &id, err, sizeof(err)) == -1 && errno == EPERM,
	     "uid 0 refused (EPERM)");
	T_CONTAINS(err, "uid 0", "error says uid 0");
	T_OK(identity_resolve("root", "100", &id, err, sizeof(err)) == -1 && errno == EPERM,
	     "user 'root' refused (maps to uid 0)");
	T_OK(identity_resolve("nobody", "0", &id, err, sizeof(err)) == -1 && errno == EPERM,
	     "gid 0 refused");
	T_CONTAINS(err, "gid 0", "error says gid 0");
	T_OK(identity_resolve("nobody", "root", &id, err, sizeof(err)) == -1 && errno == EPERM,
	     "group 'root' refused (maps to gid 0)");
	T_OK(identity_resolve("4294967295", "100", &id, err, sizeof(err)) == -1,
	     "uid 4294967295 (-1, 'unchanged') refused");
	T_OK(identity_resolve("no-such-user-agentcage", "100", &id, err, sizeof(err)) == -1 &&
		     errno == ENOENT,
	     "unknown user -> ENOENT");
	T_CONTAINS(err, "no such user", "error says no such user");
	T_OK(identity_resolve("nobody", "no-such-group-agentcage", &id, err, sizeof(err)) == -1 &&
		     errno == ENOENT,
	     "unknown group -> ENOENT");

	if (getpwnam("sandbox") == NULL) {
		T_OK(identity_resolve(NULL, NULL, &id, err, sizeof(err)) == -1, "missing sandbox user");
		T_CONTAINS(err, "agentcage setup", "missing sandbox user hints at `agentcage setup`");
	} else {
		T_OK(identity_resolve(NULL, NULL, &id, err, sizeof(err)) == 0 && id.uid != 0 &&
			     (g = getgrnam("sandbox")) != NULL && id.gid == g->gr_gid,
		     "NULL user/group -> sandbox:sandbox");
		T_STREQ(id.name, "sandbox", "default identity is named sandbox");
	}
}

/* The test user's groups: nogroup (primary), ac-gPID, and root (dropped). */
static void
test_supplementary(struct identity *id)
{
	char err[512];
	struct group *g = getgrnam(tgroup);
	bool has_g = false, has_zero = false;

	if (!T_OK(identity_resolve(tuser, NULL, id, err, sizeof(err)) == 0, "test user: %s", err))
		return;
	for (size_t i = 0; i < id->ngroups; i++) {
		has_g = has_g || (g && id->groups[i] == g->gr_gid);
		has_zero = has_zero || id->groups[i] == 0;
	}
	T_OK(id->groups[0] == 65534 && has_g && id->ngroups == 2,
	     "supplementary groups = primary + %s (%zu groups)", tgroup, id->ngroups);
	T_OK(!has_zero, "membership in gid 0 is not carried into the sandbox");
}

/* Child: drop, then report what the kernel says. */
static void
drop_and_report(const struct identity *id, int wfd)
{
	char err[512], line[256], out[2048];
	uid_t r, e, s;
	gid_t rg, eg, sg, gl[NGROUPS_BOUND];
	FILE *f;
	int n, off;

	if (identity_drop(id, err, sizeof(err)) == -1) {
		dprintf(wfd, "drop-failed %s", err);
		_exit(1);
	}
	getresuid(&r, &e, &s);
	getresgid(&rg, &eg, &sg);
	off = snprintf(out, sizeof(out), "uid=%u,%u,%u gid=%u,%u,%u groups=", r, e, s, rg, eg, sg);
	n = getgroups(NGROUPS_BOUND, gl);
	for (int i = 0; i < n; i++)
		off += snprintf(out + off, sizeof(out) - (size_t)off, "%s%u", i ? "," : "", gl[i]);
	f = fopen("/proc/self/status", "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "Cap", 3) == 0) /* CapInh, CapPrm, CapEff, CapBnd, CapAmb */
			off += snprintf(out + off, sizeof(out) - (size_t)off, " %.*s", (int)strcspn(line, "\n"), line);
	if (f)
		fclose(f);
	errno = 0;
	off += snprintf(out + off, sizeof(out) - (size_t)off, " setuid0=%s",
			setuid(0) == -1 ? strerrorname_np(errno) : "OK");
	snprintf(out + off, sizeof(out) - (size_t)off, " setgid0=%s",
		 setgid(0) == -1 ? strerrorname_np(errno) : "OK");
	dprintf(wfd, "%s", out);
	_exit(0);
}

static void
test_drop(const struct identity *id, const char *want_groups)
{
	char buf[2048], want[128];
	size_t len = 0;
	ssize_t n;
	int p[2], status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		drop_and_report(id, p[1]);
	}
	close(p[1]);
	while (len < sizeof(buf) - 1 && (n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	T_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "drop to %s succeeds", id->name);
	ut_snprintf(want, sizeof(want), "uid=%u,%u,%u gid=%u,%u,%u ", id->uid, id->uid, id->uid,
		    id->gid, id->gid, id->gid);
	T_CONTAINS(buf, want, "getresuid/getresgid exact after the drop");
	ut_snprintf(want, sizeof(want), "groups=%s ", want_groups);
	T_CONTAINS(buf, want, "getgroups exact after the drop");
	T_CONTAINS(buf, "CapBnd:\t0000000000000000", "bounding set empty (CapBnd 0)");
	T_CONTAINS(buf, "CapEff:\t0000000000000000", "no effective capabilities");
	T_CONTAINS(buf, "CapPrm:\t0000000000000000", "no permitted capabilities");
	T_CONTAINS(buf, "CapInh:\t0000000000000000", "no inheritable capabilities");
	T_CONTAINS(buf, "CapAmb:\t0000000000000000", "no ambient capabilities");
	T_CONTAINS(buf, "setuid0=EPERM", "setuid(0) fails with EPERM");
	T_CONTAINS(buf, "setgid0=EPERM", "setgid(0) fails with EPERM");
	T_OK(getuid() == 0, "parent is still root");
}

static void
test_drop_refuses_root(void)
{
	struct identity id = { .uid = 0, .gid = 0, .ngroups = 1 };
	char err[256];

	T_OK(identity_drop(&id, err, sizeof(err)) == -1 && errno == EINVAL,
	     "identity_drop refuses a root identity");
}

static void
test_harden(void)
{
	int status, p[2];
	char r[2] = { 0 };
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return;
	pid = fork();
	if (pid == 0) {
		struct rlimit rl;
		identity_harden();
		char res[2];
		res[0] = getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 && rl.rlim_max == 0 ? 'Y' : 'N';
		res[1] = prctl(PR_GET_DUMPABLE) == 0 ? 'Y' : 'N';
		(void)!write(p[1], res, 2); /* one write: the parent reads both bytes at once */
		_exit(0);
	}
	close(p[1]);
	(void)!read(p[0], r, 2);
	close(p[0]);
	waitpid(pid, &status, 0);
	T_OK(r[0] == 'Y', "harden: RLIMIT_CORE 0/0");
	T_OK(r[1] == 'Y', "harden: not dumpable");
}

int
main(void)
{
	struct identity id;
	char err[256], want[64];

	test_resolve();
	test_drop_refuses_root();
	test_harden();
	if (geteuid() != 0) {
		t_skip("the drop needs root");
		return t_done();
	}
	if (identity_resolve("23456", "23457", &id, err, sizeof(err)) == 0)
		test_drop(&id, "23457");
	if (create_test_accounts()) {
		test_supplementary(&id);
		struct group *g = getgrnam(tgroup);
		/* the kernel returns the list sorted */
		if (g) {
			ut_snprintf(want, sizeof(want), "%u,65534", (unsigned)g->gr_gid);
			test_drop(&id, want);
		}
	} else {
		t_skip("useradd/groupadd unavailable or failed; supplementary-group case not run");
	}
	remove_test_accounts();
	T_OK(getpwnam(tuser) == NULL, "test user removed");
	return t_done();
}
