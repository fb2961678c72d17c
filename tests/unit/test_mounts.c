/*
 * sandbox/mounts: the pure helpers of the listed_only view (path areas, ordering, the
 * root-owned-symlinks-only resolver), then, as root, the view itself: a forked child
 * unshares mount and pid namespaces, its child (pid 1 there, like init) runs
 * mounts_build() with listed_only and a small policy and tries each thing; the parent
 * asserts the exact result and removes whatever it created, also on failure.
 * TEST_MOUNTS_ITER=N (default 20) times mounts_build() whole-host vs listed_only.
 */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "sandbox/mounts.h"
#include "t.h"
#include "util/util.h"

#define RESULT_LEN 256 /* one child result: "ok", an errno name or a message */

/* --- pure helpers --- */

static void
test_depth(void)
{
	T_OK(mounts_path_depth("/") == 0, "depth of / is 0");
	T_OK(mounts_path_depth("/usr") == 1, "depth of /usr is 1");
	T_OK(mounts_path_depth("/usr/lib/") == 2, "depth of /usr/lib/ is 2");
	T_OK(mounts_path_depth("//a//b") == 2, "depth of //a//b is 2");
}

static void
test_area(void)
{
	static const struct {
		const char *path;
		enum mounts_area want;
	} cases[] = {
		{ "/usr", MOUNTS_AREA_HOST },	      { "/proc", MOUNTS_AREA_OWN },
		{ "/proc/sys", MOUNTS_AREA_OWN },     { "/tmp", MOUNTS_AREA_OWN },
		{ "/tmpx", MOUNTS_AREA_HOST },	      { "/run/user", MOUNTS_AREA_OWN },
		{ "/sandbox", MOUNTS_AREA_OWN },      { "/sandbox/.cache", MOUNTS_AREA_OWN },
		{ "/dev", MOUNTS_AREA_OWN },	      { "/dev/", MOUNTS_AREA_OWN },
		{ "/dev/pts", MOUNTS_AREA_OWN },      { "/dev/pts/0", MOUNTS_AREA_OWN },
		{ "/dev/shm", MOUNTS_AREA_OWN },      { "/dev/ptmx", MOUNTS_AREA_OWN },
		{ "/dev/fd", MOUNTS_AREA_OWN },	      { "/dev/stdin", MOUNTS_AREA_OWN },
		{ "/dev/null", MOUNTS_AREA_DEV_NODE }, { "/dev/urandom", MOUNTS_AREA_DEV_NODE },
		{ "/dev/tty", MOUNTS_AREA_DEV_NODE },  { "/dev/tty0", MOUNTS_AREA_DEV_HOST },
		{ "/dev/nullx", MOUNTS_AREA_DEV_HOST }, { "/dev/kvm", MOUNTS_AREA_DEV_HOST },
		{ "/devices", MOUNTS_AREA_HOST },     { "/sys", MOUNTS_AREA_HOST },
		{ "/var/run", MOUNTS_AREA_HOST },
	};

	for (size_t i = 0; i < NELEM(cases); i++)
		T_OK(mounts_area_of(cases[i].path) == cases[i].want, "area of %s is %d",
		     cases[i].path, (int)cases[i].want);
}

static void
test_order(void)
{
	struct mounts_entry e[] = {
		{ ut_xstrdup("/usr/lib"), false, false }, { ut_xstrdup("/etc"), false, false },
		{ ut_xstrdup("/usr"), false, false },     { ut_xstrdup("/usr/lib"), true, false },
		{ ut_xstrdup("/dev/null"), true, true },  { ut_xstrdup("/a/b/c"), false, false },
	};
	size_t n = mounts_entries_order(e, NELEM(e));

	T_OK(n == 5, "a duplicate path is merged (5 left, got %zu)", n);
	T_STREQ(e[0].path, "/etc", "depth 1 first, by name: /etc");
	T_STREQ(e[1].path, "/usr", "then /usr");
	T_STREQ(e[2].path, "/dev/null", "depth 2 next: /dev/null");
	T_STREQ(e[3].path, "/usr/lib", "then /usr/lib");
	T_OK(e[3].rw, "read_only + read_write of one path is read-write (Landlock's union)");
	T_STREQ(e[4].path, "/a/b/c", "deepest last");
	for (size_t i = 0; i < n; i++)
		free(e[i].path);
	T_OK(mounts_entries_order(NULL, 0) == 0, "an empty list stays empty");
}

/* --- resolver, against a scratch tree as its root --- */

static char scratch[64];

static int
scratch_setup(void)
{
	char p[128];
	int fd;

	ut_strlcpy(scratch, "/tmp/agentcage-tm-res.XXXXXX", sizeof(scratch));
	if (mkdtemp(scratch) == NULL)
		return -1;
	ut_snprintf(p, sizeof(p), "%s/a", scratch);
	if (mkdir(p, 0755) == -1)
		return -1;
	ut_snprintf(p, sizeof(p), "%s/a/b", scratch);
	if (mkdir(p, 0755) == -1)
		return -1;
	ut_snprintf(p, sizeof(p), "%s/a/f", scratch);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1)
		return -1;
	close(fd);
	static const char *const links[][2] = {
		{ "rel", "a/b" }, { "abs", "/a" }, { "a/up", "../a/b" }, { "loop", "loop" },
		{ "untrusted", "a" }, { "dotdot", "../../../a" },
	};
	for (size_t i = 0; i < NELEM(links); i++) {
		ut_snprintf(p, sizeof(p), "%s/%s", scratch, links[i][0]);
		if (symlink(links[i][1], p) == -1)
			return -1;
	}
	ut_snprintf(p, sizeof(p), "%s/untrusted", scratch);
	return lchown(p, 65534, 65534);
}

static void
scratch_cleanup(void)
{
	char cmd[128];

	if (scratch[0] == '\0')
		return;
	ut_snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	if (system(cmd) != 0)
		fprintf(stderr, "# cleanup of %s failed\n", scratch);
}

static void
check_resolve(int root, const char *path, const char *want, int want_errno)
{
	char out[PATH_MAX];
	int rc = mounts_resolve_trusted(root, path, out, sizeof(out));

	if (want != NULL) {
		if (T_OK(rc == 0, "resolve %s succeeds (%s)", path, rc == 0 ? "" : strerror(errno)))
			T_STREQ(out, want, "resolve %s", path);
	} else {
		T_OK(rc == -1 && errno == want_errno, "resolve %s fails with %s (got %s)", path,
		     strerrorname_np(want_errno), rc == 0 ? out : strerrorname_np(errno));
	}
}

static void
test_resolve(void)
{
	int root;

	if (geteuid() != 0) {
		t_skip("resolver tests need root (a symlink owned by another uid)");
		return;
	}
	if (scratch_setup() == -1 || (root = open(scratch, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		T_OK(0, "scratch tree: %s", strerror(errno));
		scratch_cleanup();
		return;
	}
	check_resolve(root, "/", "/", 0);
	check_resolve(root, "/a/b", "/a/b", 0);
	check_resolve(root, "/a/./b/", "/a/b", 0);
	check_resolve(root, "/rel", "/a/b", 0);
	check_resolve(root, "/abs/b", "/a/b", 0);
	check_resolve(root, "/a/up", "/a/b", 0);
	check_resolve(root, "/dotdot/b", "/a/b", 0); /* ".." never leaves the root */
	check_resolve(root, "/a/f", "/a/f", 0);
	check_resolve(root, "/untrusted/b", NULL, EXDEV);
	check_resolve(root, "/loop", NULL, ELOOP);
	check_resolve(root, "/missing", NULL, ENOENT);
	check_resolve(root, "/a/f/x", NULL, ENOTDIR);
	check_resolve(root, "a", NULL, EINVAL);
	close(root);
	scratch_cleanup();
}

/* --- the view, as root --- */

struct view_fixture {
	char work[64];   /* workdir, under the host's /tmp */
	char home[64];   /* the home */
	char sock[108];  /* a host listener in /var/tmp */
	char evil[108];  /* /var/tmp link -> /var owned by nobody, listed read_only */
	char marker[64]; /* a file in the host's /tmp */
	int lfd;
};

static void
view_cleanup(struct view_fixture *f)
{
	char cmd[256];

	if (f->lfd != -1)
		close(f->lfd);
	f->lfd = -1;
	if (f->sock[0] != '\0')
		unlink(f->sock);
	if (f->evil[0] != '\0')
		unlink(f->evil);
	if (f->marker[0] != '\0')
		unlink(f->marker);
	if (f->work[0] != '\0' || f->home[0] != '\0') {
		ut_snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", f->work, f->home);
		if (system(cmd) != 0)
			fprintf(stderr, "# cleanup failed: %s\n", cmd);
	}
}

static int
view_setup(struct view_fixture *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	memset(f, 0, sizeof(*f));
	f->lfd = -1;
	ut_strlcpy(f->work, "/tmp/agentcage-tm-work.XXXXXX", sizeof(f->work));
	ut_strlcpy(f->home, "/tmp/agentcage-tm-home.XXXXXX", sizeof(f->home));
	if (mkdtemp(f->work) == NULL || mkdtemp(f->home) == NULL)
		return -1;
	ut_snprintf(f->sock, sizeof(f->sock), "/var/tmp/agentcage-tm-%d.sock", (int)getpid());
	ut_snprintf(f->evil, sizeof(f->evil), "/var/tmp/agentcage-tm-%d.lnk", (int)getpid());
	ut_snprintf(f->marker, sizeof(f->marker), "/tmp/agentcage-tm-%d.marker", (int)getpid());
	if ((fd = open(f->marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1)
		return -1;
	close(fd);
	if (symlink("/var", f->evil) == -1 || lchown(f->evil, 65534, 65534) == -1)
		return -1;
	ut_strlcpy(sa.sun_path, f->sock, sizeof(sa.sun_path));
	if ((f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 || chmod(f->sock, 0777) == -1 ||
	    listen(f->lfd, 4) == -1)
		return -1;
	return 0;
}

/* Each check writes "ok", an errno name, or a word; RESULT_LEN bytes each. */
static const char *
errname(int e)
{
	const char *n = strerrorname_np(e);

	return n != NULL ? n : "E?";
}

static const char *
try_create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd == -1)
		return errname(errno);
	close(fd);
	return "ok";
}

static const char *
try_exist(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? "exists" : errname(errno);
}

static const char *
try_exec_true(void)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "/bin/true", (char *)NULL);
		_exit(127);
	}
	if (pid == -1 || waitpid(pid, &st, 0) == -1)
		return errname(errno);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" : "failed";
}

static const char *
try_write_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd == -1)
		return errname(errno);
	n = write(fd, "x", 1);
	close(fd);
	return n == 1 ? "ok" : errname(errno);
}

static const char *
try_urandom(void)
{
	char buf[16];
	struct statvfs sv;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd == -1)
		return errname(errno);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != (ssize_t)sizeof(buf))
		return "short read";
	if (statvfs("/dev/urandom", &sv) == -1)
		return errname(errno);
	return (sv.f_flag & ST_RDONLY) ? "ok ro" : "ok but writable mount";
}

static const char *
try_proc_self(void)
{
	static char buf[32];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);

	if (n == -1)
		return errname(errno);
	buf[n] = '\0';
	return buf;
}

static const char *
try_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	ut_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc == 0 ? "ok" : errname(errno);
}

static const char *
try_pty(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), s;
	const char *name;

	if (m == -1)
		return errname(errno);
	if (grantpt(m) == -1 || unlockpt(m) == -1 || (name = ptsname(m)) == NULL) {
		close(m);
		return errname(errno);
	}
	s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	close(m);
	if (s == -1)
		return errname(errno);
	close(s);
	return strncmp(name, "/dev/pts/", 9) == 0 ? "ok" : name;
}

static const char *
try_flags(const char *path, unsigned long want)
{
	struct statvfs sv;

	if (statvfs(path, &sv) == -1)
		return errname(errno);
	return (sv.f_flag & want) == want ? "ok" : "flags missing";
}

/* The view's checks: name, expected result. Run by view_child in the same order. */
static const char *const view_want[][2] = {
	{ "mounts_build", "ok" },
	{ "/var does not exist (not listed; the untrusted link to it is not followed)", "ENOENT" },
	{ "/sys does not exist (not listed)", "ENOENT" },
	{ "/bin/sh -c /bin/true runs (/bin -> usr/bin link copied)", "ok" },
	{ "creating a file under read-only /usr fails with EROFS", "EROFS" },
	{ "/usr is nosuid,nodev", "ok" },
	{ "/etc/hostname readable (read_only /etc)", "exists" },
	{ "/dev/null writable", "ok" },
	{ "/dev/urandom readable, on a read-only mount", "ok ro" },
	{ "/dev/zero and /dev/full are there", "exists" },
	{ "/proc is the new pid namespace's (self is 1)", "1" },
	{ "host listener in /var/tmp unreachable", "ENOENT" },
	{ "/dev/pts/ptmx: posix_openpt + open the slave", "ok" },
	{ "/dev/shm writable", "ok" },
	{ "the workdir writable", "ok" },
	{ "/sandbox (the home) writable", "ok" },
	{ "/tmp writable and private (host marker absent)", "ok ENOENT" },
	{ "the root is read-only (EROFS)", "EROFS" },
	{ "/run is there (empty tmpfs for tlstrust)", "exists" },
	{ "a listed path missing on the host is skipped", "ENOENT" },
};

static void
view_child(const struct view_fixture *f, int wfd)
{
	static char res[NELEM(view_want)][RESULT_LEN];
	const char *const ro[] = { "/usr", "/lib", "/etc", "/dev/urandom", "/proc", f->evil,
				   "/agentcage-tm-missing" };
	const char *const rw[] = { "/dev/null", "/tmp", "/sandbox" };
	const struct mounts_config c = {
		.home = f->home, .workdir = f->work, .listed_only = true, .ro = ro,
		.nro = NELEM(ro), .rw = rw, .nrw = NELEM(rw), .include_workdir = true,
	};
	char err[1024], path[128];
	size_t i = 0;

	if (mounts_build(&c, err, sizeof(err)) == -1) {
		ut_strlcpy(res[0], err, RESULT_LEN);
		goto out;
	}
	ut_strlcpy(res[i++], "ok", RESULT_LEN);
	ut_strlcpy(res[i++], try_exist("/var"), RESULT_LEN);
	ut_strlcpy(res[i++], try_exist("/sys"), RESULT_LEN);
	ut_strlcpy(res[i++], try_exec_true(), RESULT_LEN);
	ut_strlcpy(res[i++], try_create("/usr/agentcage-tm"), RESULT_LEN);
	ut_strlcpy(res[i++], try_flags("/usr", ST_NOSUID | ST_NODEV), RESULT_LEN);
	ut_strlcpy(res[i++], access("/etc/hostname", R_OK) == 0 ? "exists" : errname(errno),
		   RESULT_LEN);
	ut_strlcpy(res[i++], try_write_file("/dev/null"), RESULT_LEN);
	ut_strlcpy(res[i++], try_urandom(), RESULT_LEN);
	ut_strlcpy(res[i++],
		   strcmp(try_exist("/dev/zero"), "exists") == 0 ? try_exist("/dev/full") : "no zero",
		   RESULT_LEN);
	ut_strlcpy(res[i++], try_proc_self(), RESULT_LEN);
	ut_strlcpy(res[i++], try_connect(f->sock), RESULT_LEN);
	ut_strlcpy(res[i++], try_pty(), RESULT_LEN);
	ut_strlcpy(res[i++], try_create("/dev/shm/agentcage-tm"), RESULT_LEN);
	ut_snprintf(path, sizeof(path), "%s/from-sandbox", f->work);
	ut_strlcpy(res[i++], try_create(path), RESULT_LEN);
	ut_strlcpy(res[i++], try_create("/sandbox/from-sandbox"), RESULT_LEN);
	ut_snprintf(res[i++], RESULT_LEN, "%s %s", try_create("/tmp/agentcage-tm-private"),
		    try_exist(f->marker));
	ut_strlcpy(res[i], errname(mkdir("/agentcage-tm", 0755) == 0 ? 0 : errno), RESULT_LEN);
	i++;
	ut_strlcpy(res[i++], try_exist("/run"), RESULT_LEN);
	ut_strlcpy(res[i++], try_exist("/agentcage-tm-missing"), RESULT_LEN);
	BUG_ON(i != NELEM(view_want));
out:
	ut_write_all(wfd, res, sizeof(res));
}

/* Runs <fn> as pid 1 of new mount and pid namespaces; returns the grandchild's status. */
static int
in_new_ns(void (*fn)(const void *, int), const void *arg, int wfd)
{
	pid_t pid = fork(), gc;
	int st;

	if (pid == -1)
		return -1;
	if (pid == 0) {
		if (unshare(CLONE_NEWNS | CLONE_NEWPID) == -1)
			_exit(3);
		if ((gc = fork()) == -1)
			_exit(4);
		if (gc == 0) {
			fn(arg, wfd);
			_exit(0);
		}
		if (waitpid(gc, &st, 0) == -1)
			_exit(5);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 6);
	}
	if (waitpid(pid, &st, 0) == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 7;
}

static void
view_child_cb(const void *arg, int wfd)
{
	view_child(arg, wfd);
}

static void
test_view(void)
{
	static char res[NELEM(view_want)][RESULT_LEN];
	struct view_fixture f;
	char path[128];
	int p[2] = { -1, -1 }, st;
	struct stat sb;

	if (geteuid() != 0) {
		t_skip("the listed_only view needs root (mount and pid namespaces)");
		return;
	}
	if (view_setup(&f) == -1 || pipe2(p, O_CLOEXEC) == -1) {
		T_OK(0, "view fixture: %s", strerror(errno));
		goto out;
	}
	st = in_new_ns(view_child_cb, &f, p[1]);
	close(p[1]);
	p[1] = -1;
	memset(res, 0, sizeof(res));
	if (read(p[0], res, sizeof(res)) != (ssize_t)sizeof(res)) {
		T_OK(0, "the child reported its results (status %d)", st);
		goto out;
	}
	T_OK(st == 0, "the child exited 0 (%d)", st);
	for (size_t i = 0; i < NELEM(view_want); i++) {
		res[i][RESULT_LEN - 1] = '\0';
		T_STREQ(res[i], view_want[i][1], "%s", view_want[i][0]);
	}
	ut_snprintf(path, sizeof(path), "%s/from-sandbox", f.work);
	T_OK(stat(path, &sb) == 0, "the workdir file is on the host");
	T_OK(stat("/usr/agentcage-tm", &sb) == -1 && stat("/agentcage-tm", &sb) == -1 &&
		     stat("/tmp/agentcage-tm-private", &sb) == -1,
	     "nothing the child tried appeared on the host");
out:
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	view_cleanup(&f);
}

/* --- timing: whole host (today) vs listed_only, the default policy's lists --- */

struct bench_arg {
	const struct view_fixture *f;
	bool listed_only;
};

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* CPU time of this thread, user and kernel: what a loaded machine's waiting leaves out. */
static long long
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
bench_child(const void *arg, int wfd)
{
	const struct bench_arg *a = arg;
	const char *const ro[] = { "/usr", "/lib", "/proc", "/dev/urandom", "/app", "/etc",
				   "/var/log" };
	const char *const rw[] = { "/sandbox", "/tmp", "/dev/null" };
	const struct mounts_config c = {
		.home = a->f->home, .workdir = a->f->work, .listed_only = a->listed_only, .ro = ro,
		.nro = NELEM(ro), .rw = rw, .nrw = NELEM(rw), .include_workdir = true,
	};
	char err[1024];
	long long t0 = now_ns(), c0 = cpu_ns(), dt[2] = { -1, -1 };

#ifdef MOUNTS_PROFILE
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
#endif
	if (mounts_build(&c, err, sizeof(err)) == 0) {
		dt[0] = now_ns() - t0;
		dt[1] = cpu_ns() - c0;
	}
#ifdef MOUNTS_PROFILE
	getrusage(RUSAGE_SELF, &r1);
	dprintf(2, "F %d %ld\n", a->listed_only, r1.ru_minflt - r0.ru_minflt);
#endif
	ut_write_all(wfd, dt, sizeof(dt));
}

static int
cmp_ll(const void *a, const void *b)
{
	const long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* One run: <t>[0] mounts_build wall clock, [1] its CPU time (user + kernel), [2] the
 * whole cycle (fork, unshare, build, exit: the teardown of the namespace's mounts is in
 * it), in ns. */
static int
bench_run(const struct bench_arg *a, long long t[3])
{
	int p[2];
	long long t0 = now_ns(), dt[2] = { -1, -1 };
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	in_new_ns(bench_child, a, p[1]);
	t[2] = now_ns() - t0;
	close(p[1]);
	n = read(p[0], dt, sizeof(dt));
	close(p[0]);
	if (n != (ssize_t)sizeof(dt) || dt[0] < 0)
		return -1;
	t[0] = dt[0];
	t[1] = dt[1];
	return 0;
}

/* Medians in microseconds over <n> runs of each mode, interleaved (a loaded machine
 * slows both alike): <us>[mode][0..2] as bench_run()'s. */
static int
bench_both(const struct view_fixture *f, int n, double us[2][3])
{
	long long *s[2][3], t[3];
	int rc = -1;

	for (size_t m = 0; m < 2; m++)
		for (size_t k = 0; k < 3; k++)
			s[m][k] = ut_xcalloc((size_t)n, sizeof(long long));
	for (int i = 0; i < n; i++) {
		for (size_t m = 0; m < 2; m++) {
			const struct bench_arg a = { .f = f, .listed_only = m == 1 };
			if (bench_run(&a, t) == -1)
				goto out;
			for (size_t k = 0; k < 3; k++)
				s[m][k][i] = t[k];
		}
	}
	for (size_t m = 0; m < 2; m++)
		for (size_t k = 0; k < 3; k++) {
			qsort(s[m][k], (size_t)n, sizeof(long long), cmp_ll);
			us[m][k] = (double)s[m][k][n / 2] / 1e3;
		}
	rc = 0;
out:
	for (size_t m = 0; m < 2; m++)
		for (size_t k = 0; k < 3; k++)
			free(s[m][k]);
	return rc;
}

static void
test_bench(void)
{
	const char *env = getenv("TEST_MOUNTS_ITER");
	const char *errstr = NULL;
	int n = env != NULL ? (int)ut_strtonum(env, 1, 100000, &errstr) : 20;
	struct view_fixture f;
	double us[2][3] = { { 0 } };

	if (geteuid() != 0) {
		t_skip("timing needs root");
		return;
	}
	if (errstr != NULL)
		n = 20;
	if (view_setup(&f) == -1) {
		T_OK(0, "bench fixture: %s", strerror(errno));
		view_cleanup(&f);
		return;
	}
	T_OK(bench_both(&f, n, us) == 0, "mounts_build whole-host and listed_only, %d runs each", n);
	printf("# mounts_build, median of %d, default policy lists (us): whole host %.0f wall, "
	       "%.0f cpu, cycle %.0f; listed_only %.0f wall, %.0f cpu, cycle %.0f\n",
	       n, us[0][0], us[0][1], us[0][2], us[1][0], us[1][1], us[1][2]);
	view_cleanup(&f);
}

int
main(void)
{
	test_depth();
	test_area();
	test_order();
	test_resolve();
	test_view();
	test_bench();
	return t_done();
}
