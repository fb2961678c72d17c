/*
 * test_ctl_cmds: the commands a user types against a running sandbox (ps, stop, exec,
 * policy get, policy set; docs/control.md), run in-process against a real control server
 * with fake handlers (test_ctl_fake.h). Output is captured from fds 1 and 2; exit statuses
 * are the commands' return values.
 */
#include <poll.h>
#include <sys/mman.h>
#include <termios.h>

#include "cli/cli.h"
#include "ctl/client.h"
#include "policy/load.h"

#include "t.h"
#include "test_ctl_fake.h"

#define CAPTURE_MAX 65536

struct captured {
	int rc;
	char out[CAPTURE_MAX];
	char err[CAPTURE_MAX];
};

static void
read_back(int fd, char *buf)
{
	ssize_t n = pread(fd, buf, CAPTURE_MAX - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
}

/* Runs <fn>(argv) with stdout and stderr going to memory files, and stdin from /dev/null
 * (so exec never sees a terminal). */
static void
run(int (*fn)(int, char **), char **argv, struct captured *c)
{
	int argc = 0, save[3], mem[2];
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

	while (argv[argc] != NULL)
		argc++;
	fflush(stdout);
	fflush(stderr);
	mem[0] = memfd_create("out", MFD_CLOEXEC);
	mem[1] = memfd_create("err", MFD_CLOEXEC);
	for (int i = 0; i < 3; i++)
		save[i] = fcntl(i, F_DUPFD_CLOEXEC, 10);
	dup2(devnull, 0);
	dup2(mem[0], 1);
	dup2(mem[1], 2);
	c->rc = fn(argc, argv);
	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < 3; i++) {
		dup2(save[i], i);
		ut_close(&save[i]);
	}
	read_back(mem[0], c->out);
	read_back(mem[1], c->err);
	ut_close(&mem[0]);
	ut_close(&mem[1]);
	ut_close(&devnull);
}

static char policy_ok[64], policy_bad[64];

static int
write_temp(char *path, size_t size, const char *text, size_t len)
{
	int fd;

	ut_strlcpy(path, "/tmp/agentcage-ctl-policy-XXXXXX", size);
	fd = mkstemp(path);
	if (fd == -1)
		return -1;
	int rc = ut_write_all(fd, text, len);
	ut_close(&fd);
	return rc;
}

static void
test_ps_empty(void)
{
	struct captured c;
	char *argv[] = {"ps", "--run-dir", run_dir, NULL};
	char *json[] = {"ps", "--json", "--run-dir", run_dir, NULL};

	run(cmd_ps, argv, &c);
	T_OK(c.rc == 0 && strncmp(c.out, "NAME ", 5) == 0 && strchr(c.out, '\n') ==
	             c.out + strlen(c.out) - 1,
	     "ps with nothing running prints the header only");
	run(cmd_ps, json, &c);
	T_STREQ(c.out, "[]\n", "ps --json with nothing running prints an empty array");
}

static void
test_ps(void)
{
	struct captured c;
	char *argv[] = {"ps", "--run-dir", run_dir, NULL};
	char *json[] = {"ps", "--json", "--run-dir", run_dir, NULL};
	char *bad[] = {"ps", "--bogus", NULL};

	run(cmd_ps, argv, &c);
	T_CONTAINS(c.out, "\nt1 ", "ps lists the running sandbox by name");
	run(cmd_ps, json, &c);
	T_OK(c.rc == 0 && strncmp(c.out, "[{\"name\":\"t1\",\"generation\":1,\"uptime_s\":", 40) == 0,
	     "ps --json prints the status objects with uptime_s added");
	run(cmd_ps, bad, &c);
	T_OK(c.rc == 2 && strstr(c.err, "hint: agentcage help ps") != NULL,
	     "ps with an unknown option exits 2 with a hint");
}

static void
test_policy(void)
{
	struct captured c;
	char *get[] = {"get", "--run-dir", run_dir, "t1", NULL};
	char *set[] = {"set", "--run-dir", run_dir, "t1", policy_ok, NULL};
	char *set_bad[] = {"set", "--run-dir", run_dir, "t1", policy_bad, NULL};
	char *get_none[] = {"get", "--run-dir", run_dir, "nope", NULL};

	run(cmd_policy_get, get, &c);
	T_OK(c.rc == 0, "policy get exits 0");
	T_STREQ(c.out, "version: 1\n", "policy get prints the sandbox's YAML");
	run(cmd_policy_set, set, &c);
	T_OK(c.rc == 0, "policy set of a valid file exits 0 (%s)", c.err);
	T_STREQ(c.out, "agentcage: t1: policy generation 2 loaded\n",
	        "policy set reports the generation loaded");
	T_OK(fk.set_len == policy_default_yaml_len, "the whole file was sent");
	fk.set_len = 0;
	run(cmd_policy_set, set_bad, &c);
	T_OK(c.rc == 1 && fk.set_len == 0, "a file with errors is refused before sending (exit 1)");
	T_CONTAINS(c.err, "nothing was sent, the running policy is unchanged",
	           "and says the running policy is unchanged");
	run(cmd_policy_get, get_none, &c);
	T_OK(c.rc == 1, "policy get of an unknown sandbox exits 1");
	T_CONTAINS(c.err, "no running sandbox named nope; hint: agentcage ps lists them",
	           "and says so with a hint");
}

static void
test_exec(void)
{
	struct captured c;
	char *argv[] = {"exec", "--run-dir", run_dir, "t1", "--", "sh", "-c", "exit 3", NULL};
	char *none[] = {"exec", "--run-dir", run_dir, "t1", NULL};

	fk.exit_now = 3 << 8; /* exited with code 3 */
	run(cmd_exec, argv, &c);
	T_OK(c.rc == 3, "exec exits with the process's exit code (got %d)", c.rc);
	T_STREQ(c.out, "hello from the sandbox\n", "the process wrote to exec's own stdout");
	T_OK(strcmp(fk.argv0, "sh") == 0 && fk.argc == 3 && !fk.tty,
	     "the sandbox got the command after '--', without a tty");

	fk.exit_now = -1;
	fk.kill_main = true;
	fk.main_thread = pthread_self();
	run(cmd_exec, argv, &c);
	fk.kill_main = false;
	T_OK(fk.last_sig == SIGTERM, "a SIGTERM to exec is forwarded to the process");
	T_OK(c.rc == 128 + SIGTERM, "exec exits 128+N when signal N ended the process (got %d)",
	     c.rc);

	run(cmd_exec, none, &c);
	T_OK(c.rc == 2 && strstr(c.err, "which command?") != NULL, "exec without CMD exits 2");
}

/* exec on a terminal: a PTY of exec's own is passed, output is relayed to the user's
 * terminal, and the terminal's settings are restored afterwards. The "user's terminal" is
 * the slave of a PTY this test opens. */
static void
test_exec_tty(void)
{
	char *argv[] = {"exec", "--run-dir", run_dir, "t1", "sh", NULL};
	struct termios before, after;
	char buf[256] = {0};
	int save[2], rc, m, sl;
	size_t got = 0;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m == -1 || grantpt(m) == -1 || unlockpt(m) == -1) {
		t_skip("no pseudo-terminal: %s", strerror(errno));
		return;
	}
	sl = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (sl == -1 || tcgetattr(sl, &before) == -1)
		abort();
	fk.exit_now = 0;
	fflush(stdout);
	save[0] = fcntl(0, F_DUPFD_CLOEXEC, 10);
	save[1] = fcntl(1, F_DUPFD_CLOEXEC, 10);
	dup2(sl, 0);
	dup2(sl, 1);
	rc = cmd_exec(5, argv);
	dup2(save[0], 0);
	dup2(save[1], 1);
	ut_close(&save[0]);
	ut_close(&save[1]);
	T_OK(rc == 0 && fk.tty, "exec on a terminal passes a PTY (tty flag) and exits 0");
	while (got < sizeof(buf) - 1 && strstr(buf, "sandbox") == NULL) {
		struct pollfd p = {.fd = m, .events = POLLIN};
		ssize_t r;
		if (poll(&p, 1, 5000) != 1)
			break;
		r = read(m, buf + got, sizeof(buf) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	T_CONTAINS(buf, "hello from the sandbox", "the process's output reached the terminal");
	T_OK(tcgetattr(sl, &after) == 0 && after.c_lflag == before.c_lflag &&
	             after.c_oflag == before.c_oflag,
	     "the terminal's settings are restored after raw mode");
	ut_close(&sl);
	ut_close(&m);
}

static void
test_stop(void)
{
	struct captured c;
	char *argv[] = {"stop", "--run-dir", run_dir, "t1", "--grace", "3", NULL};

	fk.stop_ends = true;
	run(cmd_stop, argv, &c);
	T_OK(c.rc == 0, "stop exits 0 once the sandbox is gone (%s)", c.err);
	T_STREQ(c.out, "agentcage: stopped t1\n", "stop says so");
	T_OK(fk.grace == 3, "the grace period reached the sandbox");
	run(cmd_stop, argv, &c);
	T_OK(c.rc == 1 && strstr(c.err, "no running sandbox named t1") != NULL,
	     "stopping it again: no running sandbox (exit 1)");
}

int
main(void)
{
	struct srv v = {0};
	static const char bad_yaml[] = "version: 1\nno_such_field: true\n";

	if (fake_init() == -1 ||
	    write_temp(policy_ok, sizeof(policy_ok), policy_default_yaml,
	               policy_default_yaml_len) == -1 ||
	    write_temp(policy_bad, sizeof(policy_bad), bad_yaml, sizeof(bad_yaml) - 1) == -1)
		return 1;
	test_ps_empty();
	if (srv_start(&v, "t1") == -1) {
		T_OK(0, "server starts: %s", strerror(errno));
		return t_done();
	}
	test_ps();
	test_policy();
	test_exec();
	test_exec_tty();
	test_stop();
	srv_stop(&v);
	unlink(policy_ok);
	unlink(policy_bad);
	rmdir(run_dir);
	return t_done();
}
