/*
 * sandbox/landlock: rulesets are prepared here (as root), each check forks a child that
 * enforces the ruleset and tries one thing; the parent asserts the exact errno and checks
 * that it is itself still free. Covers spec/process.md §8.1 and the ABI >= 3/5/6 rights.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>

#include "sandbox/identity.h"
#include "sandbox/landlock.h"
#include "sandbox/landlock_abi.h"
#include "sandbox/seccomp.h"
#include "t.h"
#include "util/sbuf.h"
#include "util/util.h"

#define CHILD_CRASHED 255

static char top[64];      /* mkdtemp root: ro/, rw/, out/ */
static char p_ro[128], p_rw[128], p_out[128], p_rofile[160], p_outfile[160], p_link[160];
static int abi;

/* --- fixtures --- */

static int
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	int rc = ut_write_all(fd, text, strlen(text));
	close(fd);
	return rc;
}

static int
setup_tree(void)
{
	ut_strlcpy(top, "/tmp/agentcage-ll-XXXXXX", sizeof(top));
	if (mkdtemp(top) == NULL)
		return -1;
	ut_snprintf(p_ro, sizeof(p_ro), "%s/ro", top);
	ut_snprintf(p_rw, sizeof(p_rw), "%s/rw", top);
	ut_snprintf(p_out, sizeof(p_out), "%s/out", top);
	ut_snprintf(p_rofile, sizeof(p_rofile), "%s/ro/file", top);
	ut_snprintf(p_outfile, sizeof(p_outfile), "%s/out/secret", top);
	ut_snprintf(p_link, sizeof(p_link), "%s/link-to-file", top);
	if (mkdir(p_ro, 0755) == -1 || mkdir(p_rw, 0755) == -1 || mkdir(p_out, 0755) == -1)
		return -1;
	if (write_file(p_rofile, "read-only content\n") == -1 ||
	    write_file(p_outfile, "outside\n") == -1)
		return -1;
	return symlink(p_rofile, p_link);
}

/* rm -r of the fixture (depth 2, names known). */
static void
cleanup_tree(void)
{
	char p[256];
	const char *files[] = { "ro/file", "rw/new", "rw/trunc", "rw/stack", "out/secret", "link-to-file",
				"ro/new" };
	const char *dirs[] = { "ro", "rw", "out" };

	for (size_t i = 0; i < NELEM(files); i++)
		if (ut_snprintf(p, sizeof(p), "%s/%s", top, files[i]) != -1)
			unlink(p);
	for (size_t i = 0; i < NELEM(dirs); i++)
		if (ut_snprintf(p, sizeof(p), "%s/%s", top, dirs[i]) != -1)
			rmdir(p);
	rmdir(top);
}

static void
make_policy(struct policy *p, char **ro, size_t nro, char **rw, size_t nrw, bool hard)
{
	memset(p, 0, sizeof(*p));
	p->has_filesystem = true;
	p->read_only = ro;
	p->nread_only = nro;
	p->read_write = rw;
	p->nread_write = nrw;
	p->has_landlock = true;
	p->compat = hard ? POL_COMPAT_HARD_REQUIREMENT : POL_COMPAT_BEST_EFFORT;
}

/* Forks, enforces <rs> in the child, runs <attempt>; returns 0, the errno, or 255. */
static int
confined_errno(struct ll_ruleset *rs, long (*attempt)(void))
{
	char err[256];
	int status;
	pid_t pid = fork();

	if (pid == -1)
		return CHILD_CRASHED;
	if (pid == 0) {
		if (landlock_enforce(rs, err, sizeof(err)) == -1)
			_exit(CHILD_CRASHED);
		errno = 0;
		long r = attempt();
		_exit(r == -1 ? (errno & 0xff) : 0);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status))
		return CHILD_CRASHED;
	return WEXITSTATUS(status);
}

/* --- attempts --- */
static long
open_close(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	close(fd);
	return 0;
}
static long a_create_in_ro(void) { char p[200]; ut_snprintf(p, sizeof(p), "%s/new", p_ro); return open_close(p, O_WRONLY | O_CREAT); }
static long a_write_ro_file(void) { return open_close(p_rofile, O_WRONLY); }
static long a_read_ro_file(void) { return open_close(p_rofile, O_RDONLY); }
static long a_list_ro(void) { return open_close(p_ro, O_RDONLY | O_DIRECTORY); }
static long a_create_in_rw(void)
{
	char p[200];
	ut_snprintf(p, sizeof(p), "%s/new", p_rw);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	long r = write(fd, "x", 1) == 1 ? 0 : -1;
	close(fd);
	return r;
}
static long a_truncate_ro(void) { return truncate(p_rofile, 0); }
static long a_otrunc_ro(void) { return open_close(p_rofile, O_RDONLY | O_TRUNC); }
static long a_truncate_rw(void)
{
	char p[200];
	ut_snprintf(p, sizeof(p), "%s/trunc", p_rw);
	if (write_file(p, "abc") == -1)
		return -1;
	return truncate(p, 1);
}
static long a_read_outside(void) { return open_close(p_outfile, O_RDONLY); }
static long a_read_etc(void) { return open_close("/etc/hostname", O_RDONLY); }
static long a_mkdir_ro(void) { char p[200]; ut_snprintf(p, sizeof(p), "%s/d", p_ro); return mkdir(p, 0755); }
static long a_read_symlinked(void) { return open_close(p_link, O_RDONLY); }

/* ioctl(TCGETS) on a char device: ENOTTY when allowed, EACCES when IOCTL_DEV is denied. */
static long
ioctl_on(const char *dev)
{
	struct termios t;
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	long r = ioctl(fd, TCGETS, &t);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}
static long a_ioctl_zero(void) { return ioctl_on("/dev/zero"); }
static long a_ioctl_null(void) { return ioctl_on("/dev/null"); }
static long a_write_null(void) { return open_close("/dev/null", O_WRONLY); }
static long a_read_urandom(void)
{
	char b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	long r = read(fd, b, sizeof(b)) == (ssize_t)sizeof(b) ? 0 : -1;
	close(fd);
	return r;
}
static long a_write_urandom(void) { return open_close("/dev/urandom", O_WRONLY); }

static struct sockaddr_un abs_addr;
static socklen_t abs_len;
static long
a_connect_abstract(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	long r = connect(fd, (struct sockaddr *)&abs_addr, abs_len);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}
static long a_kill_parent(void) { return kill(getppid(), 0); }

struct lcase {
	long (*fn)(void);
	int want;
	int min_abi;
	const char *what;
};

static void
run_cases(struct ll_ruleset *rs, const struct lcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (abi < c[i].min_abi) {
			t_skip("%s: needs Landlock ABI %d, kernel has %d", c[i].what, c[i].min_abi, abi);
			continue;
		}
		int got = confined_errno(rs, c[i].fn);
		if (!T_OK(got == c[i].want, "%s", c[i].what))
			printf("#   got %d (%s), want %d\n", got, strerrorname_np(got), c[i].want);
	}
}

/* ro = {ro/, /usr, /lib*, /bin, /dev/zero, /dev/urandom}, rw = {rw/, /dev/null}. */
static void
test_filesystem(void)
{
	char *ro[] = { p_ro, "/usr", "/dev/zero", "/dev/urandom", p_link };
	char *rw[] = { p_rw, "/dev/null" };
	struct policy p;
	struct ll_ruleset rs;
	char err[512];
	static const struct lcase cases[] = {
		{ a_read_ro_file, 0, 1, "read a file under a read_only dir" },
		{ a_list_ro, 0, 1, "list a read_only dir" },
		{ a_create_in_ro, EACCES, 1, "create under a read_only dir -> EACCES" },
		{ a_write_ro_file, EACCES, 1, "open a read_only file for writing -> EACCES" },
		{ a_mkdir_ro, EACCES, 1, "mkdir under a read_only dir -> EACCES" },
		{ a_create_in_rw, 0, 1, "create and write under a read_write dir" },
		{ a_truncate_ro, EACCES, 3, "truncate(2) of a read_only file -> EACCES" },
		{ a_otrunc_ro, EACCES, 3, "open(O_TRUNC) of a read_only file -> EACCES" },
		{ a_truncate_rw, 0, 1, "truncate(2) under a read_write dir works" },
		{ a_read_outside, EACCES, 1, "read a file outside every rule -> EACCES" },
		{ a_read_etc, EACCES, 1, "read /etc/hostname (not in the policy) -> EACCES" },
		{ a_read_symlinked, 0, 1, "a symlink to a file grants that file" },
		{ a_ioctl_zero, EACCES, 5, "ioctl on a read_only device (/dev/zero) -> EACCES" },
		{ a_ioctl_null, ENOTTY, 5, "ioctl on a read_write device reaches the driver (ENOTTY)" },
		{ a_write_null, 0, 1, "write /dev/null (read_write file rule)" },
		{ a_read_urandom, 0, 1, "read /dev/urandom (read_only file rule)" },
		{ a_write_urandom, EACCES, 1, "write /dev/urandom (read_only) -> EACCES" },
	};

	make_policy(&p, ro, NELEM(ro), rw, NELEM(rw), true);
	if (!T_OK(landlock_prepare(&p, NULL, &rs, err, sizeof(err)) == 0,
		  "hard_requirement: dirs, devices and a symlink prepare: %s", err))
		return;
	T_OK(rs.fd >= 0 && rs.abi == abi && rs.nrules == NELEM(ro) + NELEM(rw) && rs.nskipped == 0,
	     "ruleset open with %zu rules at ABI %d", rs.nrules, rs.abi);
	run_cases(&rs, cases, NELEM(cases));
	/* The parent never enforced: it still reads outside and writes the read_only file. */
	T_OK(a_read_outside() == 0 && a_write_ro_file() == 0, "parent is still unconfined");
	landlock_release(&rs);
	T_OK(rs.fd == -1 && rs.rules == NULL, "release closes and frees");
}

/* §8.1.2-5: rights per inode type. */
static void
test_rights_masking(void)
{
	char *ro[] = { "/dev/urandom", p_link };
	char *rw[] = { p_rw, "/dev/null" };
	struct policy p;
	struct ll_ruleset rs;
	char err[512];
	uint64_t file_rw, dir_rw;

	char *ro_811[] = { "/tmp", "/dev/urandom" };
	char *rw_811[] = { "/dev/null" };

	/* spec/process.md §8.1.1: a directory and devices mixed, hard_requirement. */
	make_policy(&p, ro_811, NELEM(ro_811), rw_811, NELEM(rw_811), true);
	T_OK(landlock_prepare(&p, NULL, &rs, err, sizeof(err)) == 0 && rs.nrules == 3,
	     "hard_requirement ro=[/tmp,/dev/urandom] rw=[/dev/null] prepares: %s", err);
	landlock_release(&rs);

	make_policy(&p, ro, NELEM(ro), rw, NELEM(rw), true);
	if (!T_OK(landlock_prepare(&p, NULL, &rs, err, sizeof(err)) == 0, "masking: prepare %s", err))
		return;
	dir_rw = rs.handled_fs;
	file_rw = rs.handled_fs & LL_FS_FILE_RIGHTS;
	T_OK(rs.rules[0].access == (LL_FS_EXECUTE | LL_FS_READ_FILE) && !rs.rules[0].dir,
	     "/dev/urandom read_only -> execute|read_file (%#llx)",
	     (unsigned long long)rs.rules[0].access);
	T_OK(rs.rules[1].access == (LL_FS_EXECUTE | LL_FS_READ_FILE) && !rs.rules[1].dir,
	     "symlink to a regular file classified as a file");
	T_OK(rs.rules[2].access == dir_rw && rs.rules[2].dir,
	     "read_write directory gets every handled right (%#llx)", (unsigned long long)dir_rw);
	T_OK(rs.rules[3].access == file_rw && !(rs.rules[3].access & LL_FS_READ_DIR),
	     "/dev/null read_write -> file rights only (%#llx)", (unsigned long long)file_rw);
	if (abi >= 5)
		T_OK((file_rw & (LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)) == (LL_FS_TRUNCATE | LL_FS_IOCTL_DEV),
		     "file read_write includes truncate and ioctl_dev on ABI >= 5");
	else
		t_skip("ABI %d < 5", abi);
	landlock_release(&rs);
}

static int listener = -1;

/* ABI >= 6: abstract sockets and signals outside the domain. */
static void
test_scopes(void)
{
	char *rw[] = { p_rw };
	struct policy p;
	struct ll_ruleset rs;
	char err[512];
	static const struct lcase cases[] = {
		{ a_connect_abstract, EPERM, 6, "connect to an abstract socket outside the domain -> EPERM" },
		{ a_kill_parent, EPERM, 6, "kill() of a process outside the domain -> EPERM" },
	};

	memset(&abs_addr, 0, sizeof(abs_addr));
	abs_addr.sun_family = AF_UNIX;
	ut_snprintf(abs_addr.sun_path + 1, sizeof(abs_addr.sun_path) - 1, "agentcage-ll-%d",
		    (int)getpid());
	abs_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			      strlen(abs_addr.sun_path + 1));
	listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!T_OK(listener >= 0 && bind(listener, (struct sockaddr *)&abs_addr, abs_len) == 0 &&
		      listen(listener, 4) == 0,
		  "parent listens on an abstract socket"))
		return;
	make_policy(&p, NULL, 0, rw, NELEM(rw), false);
	if (!T_OK(landlock_prepare(&p, NULL, &rs, err, sizeof(err)) == 0, "scopes: prepare %s", err))
		goto out;
	T_OK(abi < 6 || rs.scoped == (LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL),
	     "ABI >= 6 scopes abstract sockets and signals");
	run_cases(&rs, cases, NELEM(cases));
	T_OK(a_connect_abstract() == 0, "parent can still connect to the abstract socket");
	landlock_release(&rs);
out:
	ut_close(&listener);
}

/* §2.4 / §8.1.6-7, 10: missing and unopenable paths. */
static void
test_best_effort_and_hard(void)
{
	char longp[5000];
	char *missing_ro[] = { "/nonexistent/agentcage/missing", p_ro };
	char *only_missing[] = { "/nonexistent/agentcage/missing" };
	char *notdir[] = { "/etc/hostname/x" };
	char *toolong[] = { longp };
	struct policy p;
	struct ll_ruleset rs;
	struct sbuf js = { 0 };
	char err[512];
	static const struct lcase cases[] = {
		{ a_read_ro_file, 0, 1, "best_effort: the rest of the ruleset applies (read ro/)" },
		{ a_read_outside, EACCES, 1, "best_effort: outside still denied -> EACCES" },
	};

	make_policy(&p, missing_ro, NELEM(missing_ro), NULL, 0, false);
	err[0] = 'x';
	T_OK(landlock_prepare(&p, NULL, &rs, err, sizeof(err)) == 0 && rs.fd >= 0,
	     "best_effort: a missing path does not stop the ruleset");
	T_OK(rs.nrules == 1 && rs.nskipped == 1, "best_effort: 1 rule, 1 skipped");
	T_STREQ(rs.nskipped ? rs.skipped[0].reason : NULL, "path does not exist",
		"skipped path carries its reason");
	landlock_summary_json(&rs, &js);
	T_CONTAINS(sbuf_str(&js), "\"skipped\":[{\"path\":\"/nonexistent/agentcage/missing\"",
		   "summary JSON names the skipped path");
	T_CONTAINS(sbuf_str(&js), "\"reason\":\"path does not exist\"", "summary JSON gives the reason");
	T_CONTAINS(sbuf_str(&js), abi == 7 ? "\"abi\":7" : "\"abi\":", "summary JSON has the ABI");
	sbuf_free(&js);
	run_cases(&rs, cases, NELEM(cases));
	landlock_release(&rs);

	make_policy(&p, missing_ro, NELEM(missing_ro), NULL, 0, true);
	T_OK(landlock_prepare(&p, NULL, &rs, err, sizeof(err)) == -1 && errno == ENOENT,
	     "hard_requirement: a missing path fails (ENOENT)");
	T_CONTAINS(err, "hard_requirement", "error says hard_requirement");
	T_CONTAINS(err, "/nonexistent/agentcage/missing (path does not exist)",
		   "error names the path and the reason");
	T_OK(rs.fd == -1 && rs.rules == NULL, "hard_requirement failure leaves nothing open");

	make_policy(&p, notdir, NELEM(notdir), NULL, 0, true);
	T_OK(landlock_prepare(&p, NULL, &rs, err, sizeof(err)) == -1, "ENOTDIR path fails hard");
	T_CONTAINS(err, "path component is not a directory", "ENOTDIR reason text");
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	make_policy(&p, toolong, NELEM(toolong), NULL, 0, true);
	T_OK(landlock_prepare(&p, NULL, &rs, err, sizeof(err)) == -1, "over-long path fails hard");
	T_CONTAINS(err, "path name too long", "ENAMETOOLONG reason text");

	/* Every path skipped: no ruleset (best_effort warns), error (hard). */
	make_policy(&p, only_missing, 1, NULL, 0, false);
	T_OK(landlock_prepare(&p, NULL, &rs, err, sizeof(err)) == 0 && rs.fd == -1 && rs.why_off,
	     "best_effort, zero usable paths: no ruleset, reason recorded");
	landlock_summary_json(&rs, &js);
	T_CONTAINS(sbuf_str(&js), "\"applied\":false", "summary says not applied");
	sbuf_free(&js);
	landlock_release(&rs);
	make_policy(&p, only_missing, 1, NULL, 0, true);
	T_OK(landlock_prepare(&p, NULL, &rs, err, sizeof(err)) == -1, "hard, zero usable paths: error");
}

static void
test_empty_and_workdir(void)
{
	char *ro[] = { p_ro };
	struct policy p;
	struct ll_ruleset rs;
	char err[512];
	static const struct lcase cases[] = {
		{ a_create_in_rw, 0, 1, "include_workdir: the workdir is read_write" },
		{ a_read_outside, EACCES, 1, "include_workdir: outside still denied" },
	};

	memset(&p, 0, sizeof(p));
	T_OK(landlock_prepare(&p, "/tmp", &rs, err, sizeof(err)) == 0 && rs.fd == -1,
	     "no filesystem section: Landlock not applied, no error");
	T_OK(landlock_enforce(&rs, err, sizeof(err)) == 0, "enforce of an empty ruleset is a no-op");
	make_policy(&p, NULL, 0, NULL, 0, true);
	T_OK(landlock_prepare(&p, NULL, &rs, err, sizeof(err)) == 0 && rs.fd == -1,
	     "both lists empty, no workdir: not applied (even hard_requirement)");

	make_policy(&p, ro, 1, NULL, 0, false);
	p.include_workdir = true;
	T_OK(landlock_prepare(&p, p_rw, &rs, err, sizeof(err)) == 0 && rs.nrules == 2 &&
		     rs.rules[1].read_write,
	     "include_workdir adds the workdir read_write");
	run_cases(&rs, cases, NELEM(cases));
	landlock_release(&rs);
}

/*
 * The whole pre-exec order as sandbox/spawn uses it: harden, drop to an unprivileged
 * uid, Landlock, seccomp, exec a shell that writes where it may and fails where it may not.
 */
static void
test_full_stack(void)
{
	char *ro[] = { "/usr", "/lib", "/lib64", "/bin", "/etc" };
	char *rw[] = { p_rw, "/dev/null" };
	char script[512], err[512];
	struct policy p;
	struct ll_ruleset rs;
	struct identity id;
	struct sc_filter f;
	int status;
	pid_t pid;

	make_policy(&p, ro, NELEM(ro), rw, NELEM(rw), false);
	/* DAC applies too: the dropped uid must traverse the fixture and write rw/. */
	chmod(top, 0711);
	chmod(p_rw, 0777);
	if (!T_OK(identity_resolve("23456", "23457", &id, err, sizeof(err)) == 0 &&
			  landlock_prepare(&p, NULL, &rs, err, sizeof(err)) == 0 &&
			  seccomp_prepare(&f, err, sizeof(err)) == 0,
		  "full stack: identity, Landlock and seccomp prepared: %s", err))
		return;
	ut_snprintf(script, sizeof(script),
		    "echo ok > %s/stack && test \"$(id -u)\" = 23456 && "
		    "! (echo x > /etc/agentcage-ll-test) 2>/dev/null && "
		    "! cat %s 2>/dev/null && ! unshare -U true 2>/dev/null",
		    p_rw, p_outfile);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { "/bin/sh", "-c", script, NULL };
		identity_harden();
		if (identity_drop(&id, err, sizeof(err)) == -1 ||
		    landlock_enforce(&rs, err, sizeof(err)) == -1 || seccomp_apply(&f) == -1) {
			dprintf(2, "# full stack: %s\n", err);
			_exit(CHILD_CRASHED);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	T_OK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		     WEXITSTATUS(status) == 0,
	     "full stack: sh as uid 23456 writes rw/, cannot write /etc, read outside, unshare -U");
	T_OK(access("/etc/agentcage-ll-test", F_OK) == -1, "nothing was written to /etc");
	landlock_release(&rs);
	seccomp_filter_release(&f);
}

/* Implicit read-only paths (the CA files under /run/agentcage): readable, not writable,
 * listed with "implicit": true, not counted as the policy's own usable paths. */
static long a_write_out_file(void) { return open_close(p_outfile, O_WRONLY); }

static void
test_implicit(void)
{
	char *ro[] = { p_ro };
	const char *implicit[] = { p_out, NULL };
	const char *too_many[LL_MAX_IMPLICIT + 2];
	const char *missing_only[] = { p_out, NULL };
	char *gone[] = { "/nonexistent-agentcage-ll" };
	struct ll_ruleset rs;
	struct sbuf b = { 0 };
	struct policy p;
	char err[512];

	make_policy(&p, ro, NELEM(ro), NULL, 0, false);
	if (!T_OK(landlock_prepare_implicit(&p, NULL, implicit, &rs, err, sizeof(err)) == 0,
		  "implicit: prepare %s", err))
		return;
	T_OK(rs.fd >= 0 && rs.nrules == 2 && rs.rules[1].implicit && !rs.rules[1].read_write &&
		     !rs.rules[0].implicit,
	     "implicit: the policy's rule, then the implicit read-only one");
	landlock_summary_json(&rs, &b);
	T_CONTAINS(sbuf_str(&b), "\"implicit\":true", "implicit: marked in the summary");
	T_OK(confined_errno(&rs, a_read_outside) == 0, "implicit: a file under it is readable");
	T_OK(confined_errno(&rs, a_write_out_file) == EACCES, "implicit: not writable (EACCES)");
	T_OK(confined_errno(&rs, a_write_ro_file) == EACCES, "implicit: policy rules still apply");
	sbuf_free(&b);
	landlock_release(&rs);

	for (size_t i = 0; i < NELEM(too_many) - 1; i++)
		too_many[i] = p_out;
	too_many[NELEM(too_many) - 1] = NULL;
	T_OK(landlock_prepare_implicit(&p, NULL, too_many, &rs, err, sizeof(err)) == -1 &&
		     errno == E2BIG,
	     "implicit: more than LL_MAX_IMPLICIT -> E2BIG");

	/* The policy's only path is missing: no ruleset, even with an implicit path. */
	make_policy(&p, gone, NELEM(gone), NULL, 0, false);
	T_OK(landlock_prepare_implicit(&p, NULL, missing_only, &rs, err, sizeof(err)) == 0 &&
		     rs.fd == -1,
	     "implicit: does not count as a usable policy path");
	landlock_release(&rs);

	/* No filesystem section: Landlock off, the implicit path adds nothing. */
	memset(&p, 0, sizeof(p));
	T_OK(landlock_prepare_implicit(&p, NULL, implicit, &rs, err, sizeof(err)) == 0 &&
		     rs.fd == -1 && rs.nrules == 0,
	     "implicit: nothing when the policy lists no paths");
	landlock_release(&rs);
}

int
main(void)
{
	const char *why;

	if (geteuid() != 0) {
		t_skip("needs root (paths are opened as root, as in the supervisor)");
		return t_done();
	}
	abi = landlock_abi(&why);
	if (abi == -1) {
		t_skip("no Landlock in this kernel: %s", why);
		return t_done();
	}
	T_OK(abi >= 1, "Landlock ABI %d", abi);
	if (!T_OK(setup_tree() == 0, "fixture under %s", top)) {
		cleanup_tree();
		return t_done();
	}
	test_filesystem();
	test_rights_masking();
	test_scopes();
	test_best_effort_and_hard();
	test_empty_and_workdir();
	test_full_stack();
	test_implicit();
	cleanup_tree();
	return t_done();
}
