/*
 * test_ctl: the control plane a user relies on (ctl/proto.h, server.h, client.h, state.h; docs/control.md): a real server on
 * a temporary run directory with fake handlers, driven by the real client over the socket.
 * Round trips of every request; fds passed with EXEC arrive and work; a non-root peer is
 * refused; a live name cannot be claimed twice and a dead holder's files are cleaned; bad
 * messages cost their connection only; a policy-sized (1 MiB) payload goes through; the
 * socket hangs up and the files go when the server ends.
 */
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "ctl/client.h"
#include "ctl/server.h"
#include "ctl/state.h"
#include "util/evloop.h"
#include "util/util.h"

#include "t.h"

#include "test_ctl_fake.h"

#define NOBODY 65534

/* --- helpers ---------------------------------------------------------------------- */

static int
conn(const char *name)
{
	struct sbuf err = {0};
	int fd = ctl_connect(run_dir, name, &err);

	if (fd == -1)
		printf("# connect: %s\n", sbuf_str(&err));
	sbuf_free(&err);
	return fd;
}

/* One request on a new connection; returns the reply (OK) or "ERR:" + text; caller frees. */
static char *
call(const char *name, uint32_t type, const void *payload, size_t len)
{
	struct sbuf err = {0};
	char *reply = NULL;
	int fd = conn(name);

	if (fd == -1)
		return ut_xstrdup("ERR:connect");
	if (ctl_call(fd, type, payload, len, &reply, &err) == -1) {
		sbuf_printf(&err, "%s", "");
		reply = ut_xmalloc(err.len + 5);
		ut_snprintf(reply, err.len + 5, "ERR:%s", sbuf_str(&err));
	}
	sbuf_free(&err);
	ut_close(&fd);
	return reply;
}

/* Sends raw bytes as one datagram and reports whether the server then closed the
 * connection without answering. */
static bool
raw_closes(const char *name, const void *buf, size_t len, const int *fds, size_t nfds)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct ctl_msg m = {0};
	int fd = conn(name), r;

	if (fd == -1)
		return false;
	if (ctl_send_iov(fd, &iov, 1, fds, nfds) == -1) {
		printf("# sendmsg: %s\n", strerror(errno));
		ut_close(&fd);
		return false;
	}
	r = ctl_wait_msg(fd, &m, 5000);
	ctl_msg_free(&m);
	ut_close(&fd);
	return r == 0;
}

static bool
file_exists(const char *name, const char *suffix)
{
	char p[256];
	struct stat st;

	return ctl_path(p, sizeof(p), run_dir, name, suffix) == 0 && lstat(p, &st) == 0;
}

/* --- tests ------------------------------------------------------------------------ */

/* A holder that died (its process exited holding the claim) leaves files that the next
 * look-up removes; the name can then be claimed again. */
static void
test_stale_cleaned(void)
{
	pid_t pid;
	int st;

	pid = fork();
	if (pid == 0) {
		struct ctl_info info = info_for("ghost", 0);
		struct ctl_claim *c;
		pid_t holder;
		int fd = -1;
		char p[256];
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		if (ctl_claim(run_dir, &info, &c, &holder) == -1)
			_exit(1);
		/* a socket file as a crashed supervisor leaves it */
		ctl_path(p, sizeof(p), run_dir, "ghost", ".sock");
		ut_strlcpy(sa.sun_path, p, sizeof(sa.sun_path));
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
			_exit(1);
		_exit(0); /* dies holding the claim: the kernel drops the flock */
	}
	T_OK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	     "a child claims 'ghost' and dies without releasing it");
	T_OK(file_exists("ghost", ".json") && file_exists("ghost", ".sock"),
	     "the dead holder left its state file and socket behind");

	struct ctl_entry *e = NULL;
	size_t n = 99;
	T_OK(ctl_list(run_dir, &e, &n) == 0 && n == 0, "ctl_list does not list the dead sandbox");
	ctl_list_free(e, n);
	T_OK(!file_exists("ghost", ".json") && !file_exists("ghost", ".sock"),
	     "listing removed the dead sandbox's state file and socket");

	struct sbuf err = {0};
	int fd = ctl_connect(run_dir, "ghost", &err);
	T_OK(fd == -1 && errno == ENOENT, "connecting to a dead sandbox fails with ENOENT");
	T_CONTAINS(sbuf_str(&err), "no running sandbox named ghost; hint: agentcage ps",
	           "the error names the sandbox and hints at ps");
	sbuf_free(&err);
}

static void
test_claims(void)
{
	struct ctl_info info = info_for("t1", 0);
	struct ctl_claim *c = NULL;
	pid_t holder = 0;
	struct ctl_entry *e = NULL;
	size_t n = 0;

	errno = 0;
	T_OK(ctl_claim(run_dir, &info, &c, &holder) == -1 && errno == EEXIST &&
	             holder == getpid(),
	     "claiming a live name fails with EEXIST and the holder's pid");
	ctl_claim_release(c);
	info.name = "../evil";
	T_OK(ctl_claim(run_dir, &info, &c, &holder) == -1 && errno == EINVAL,
	     "a name with a slash is refused (EINVAL)");
	T_OK(ctl_list(run_dir, &e, &n) == 0 && n == 1 && strcmp(e[0].name, "t1") == 0 &&
	             e[0].pid == getpid(),
	     "ctl_list lists the live sandbox with its supervisor's pid");
	T_CONTAINS(n == 1 ? e[0].state_json : NULL, "\"init_pid\":4242",
	           "the state file records init_pid once serving started");
	T_CONTAINS(n == 1 ? e[0].state_json : NULL, "\"argv\":[\"claude\",\"--help\"]",
	           "the state file records the command");
	ctl_list_free(e, n);

	char p[256];
	struct stat st;
	ctl_path(p, sizeof(p), run_dir, "t1", ".sock");
	T_OK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600, "the socket is mode 0600");
}

static void
test_round_trips(void)
{
	char *r;

	r = call("t1", CTL_STATUS, NULL, 0);
	T_STREQ(r, "{\"name\":\"t1\",\"generation\":1}", "STATUS returns the handler's JSON");
	free(r);
	r = call("t1", CTL_POLICY_GET, NULL, 0);
	T_STREQ(r, "version: 1\n", "POLICY_GET returns the YAML");
	free(r);
	r = call("t1", CTL_POLICY_SET, "version: 1\n", 11);
	T_STREQ(r, "generation 2", "POLICY_SET returns the new generation");
	free(r);
	T_OK(fk.set_len == 11, "the handler got the YAML's exact length");
	r = call("t1", CTL_POLICY_SET, "bad: 1\n", 7);
	T_STREQ(r, "ERR:policy:1:1: bad field; hint: remove it",
	        "a refused POLICY_SET returns the handler's error");
	free(r);

	size_t big = POLICY_MAX_BYTES;
	char *yaml = ut_xmalloc(big);
	memset(yaml, 'a', big);
	r = call("t1", CTL_POLICY_SET, yaml, big);
	T_STREQ(r, "generation 2", "a 1 MiB POLICY_SET goes through");
	T_OK(fk.set_len == big, "the handler got all 1 MiB");
	free(r);
	free(yaml);
}

static void
test_exec(void)
{
	struct sbuf pl = {0};
	struct ctl_msg m = {0};
	char *argv[] = {"sh", "-c", "echo hi", NULL};
	int out[2], fds[3];
	char buf[64] = {0};
	int fd = conn("t1");
	int32_t v;

	if (pipe2(out, O_CLOEXEC) == -1 || fd == -1)
		abort();
	fds[0] = out[0];
	fds[1] = out[1];
	fds[2] = out[1];
	ctl_exec_payload(&pl, 0, argv);
	T_OK(ctl_send(fd, CTL_EXEC, pl.s, pl.len, fds, 3) == 0, "EXEC with 3 fds is sent");
	ut_close(&out[1]);
	T_OK(ctl_wait_msg(fd, &m, 5000) == 1 && m.type == CTL_EXEC_STARTED && m.len == 4,
	     "EXEC_STARTED comes back");
	memcpy(&v, m.data ? m.data : "\0\0\0\0", 4);
	T_OK(v == 42, "with the pid the handler reported");
	ctl_msg_free(&m);
	T_OK(read(out[0], buf, sizeof(buf) - 1) > 0 &&
	             strcmp(buf, "hello from the sandbox\n") == 0,
	     "the passed stdout works: the handler's output arrives here");
	T_OK(strcmp(fk.argv0, "sh") == 0 && fk.argc == 3 && !fk.tty,
	     "the handler got argv (3 words) and no tty");
	v = SIGTERM;
	T_OK(ctl_send(fd, CTL_SIGNAL, &v, sizeof(v), NULL, 0) == 0, "SIGNAL is sent");
	T_OK(ctl_wait_msg(fd, &m, 5000) == 1 && m.type == CTL_EXEC_EXIT, "EXEC_EXIT comes back");
	memcpy(&v, m.data ? m.data : "\0\0\0\0", 4);
	T_OK(v == SIGTERM && fk.last_sig == SIGTERM, "the signal reached the handler; status");
	ctl_msg_free(&m);
	T_OK(ctl_wait_msg(fd, &m, 5000) == 0, "the server closes the connection after EXEC_EXIT");
	ut_close(&fd);
	ut_close(&out[0]);

	/* A client that vanishes while its process runs: the coordinator is told. */
	fd = conn("t1");
	if (pipe2(out, O_CLOEXEC) == -1 || fd == -1)
		abort();
	fds[0] = fds[1] = fds[2] = out[1];
	T_OK(ctl_send(fd, CTL_EXEC, pl.s, pl.len, fds, 3) == 0 && ctl_wait_msg(fd, &m, 5000) == 1,
	     "a second EXEC starts");
	ctl_msg_free(&m);
	ut_close(&fd);
	T_OK(read(fk.closed_pipe[0], buf, 1) == 1, "conn_closed is called when the client goes");
	ut_close(&out[0]);
	ut_close(&out[1]);

	/* A failing exec: ERROR with the handler's text, and the fds are not leaked. */
	char *bad[] = {"fail", NULL};
	sbuf_reset(&pl);
	ctl_exec_payload(&pl, 0, bad);
	fd = conn("t1");
	if (pipe2(out, O_CLOEXEC) == -1 || fd == -1)
		abort();
	fds[0] = fds[1] = fds[2] = out[1];
	ctl_send(fd, CTL_EXEC, pl.s, pl.len, fds, 3);
	ut_close(&out[1]);
	T_OK(ctl_wait_msg(fd, &m, 5000) == 1 && m.type == CTL_ERROR &&
	             strstr(m.data, "hint: check PATH") != NULL,
	     "a failed exec answers ERROR with the handler's text");
	ctl_msg_free(&m);
	T_OK(read(out[0], buf, 1) == 0, "the server closed the fds of the failed exec (EOF)");
	ut_close(&out[0]);
	ut_close(&fd);
	sbuf_free(&pl);
}

static void
test_bad_messages(void)
{
	struct ctl_hdr h = {.type = 99, .len = 0};
	char *r;
	int p[2];

	T_OK(raw_closes("t1", &h, sizeof(h), NULL, 0), "an unknown type closes the connection");
	T_OK(raw_closes("t1", &h, 3, NULL, 0), "a message shorter than the header closes it");
	h.type = CTL_POLICY_SET;
	h.len = 10;
	char cut[sizeof(h) + 4];
	memcpy(cut, &h, sizeof(h));
	memcpy(cut + sizeof(h), "abcd", 4);
	T_OK(raw_closes("t1", cut, sizeof(cut), NULL, 0),
	     "a payload shorter than its header says closes it");
	h.type = CTL_STATUS;
	h.len = 0;
	if (pipe2(p, O_CLOEXEC) == -1)
		abort();
	T_OK(raw_closes("t1", &h, sizeof(h), p, 1), "fds with a STATUS close it");
	ut_close(&p[0]);
	ut_close(&p[1]);
	uint32_t short_stop[3] = {CTL_STOP, 2, 0};
	T_OK(raw_closes("t1", short_stop, sizeof(h) + 2, NULL, 0),
	     "a STOP with a 2-byte payload (not 4) closes it");
	uint32_t stop[3] = {CTL_STOP, 4, CTL_GRACE_MAX + 1};
	T_OK(raw_closes("t1", stop, sizeof(stop), NULL, 0), "a STOP grace over the limit closes it");

	size_t big = sizeof(h) + CTL_PAYLOAD_MAX + 1;
	char *huge = ut_xcalloc(1, big);
	h.type = CTL_POLICY_SET;
	h.len = CTL_PAYLOAD_MAX + 1;
	memcpy(huge, &h, sizeof(h));
	T_OK(raw_closes("t1", huge, big, NULL, 0), "an oversized message closes it");
	free(huge);

	char execmsg[sizeof(h) + 8 + 3];
	uint32_t ef[2] = {0, 2}; /* says 2 words, carries 1 */
	h.type = CTL_EXEC;
	h.len = 8 + 3;
	memcpy(execmsg, &h, sizeof(h));
	memcpy(execmsg + sizeof(h), ef, 8);
	memcpy(execmsg + sizeof(h) + 8, "sh", 3);
	if (pipe2(p, O_CLOEXEC) == -1)
		abort();
	int three[3] = {p[0], p[1], p[1]};
	T_OK(raw_closes("t1", execmsg, sizeof(execmsg), three, 3),
	     "an EXEC whose argc does not match its strings closes it");
	ut_close(&p[0]);
	ut_close(&p[1]);

	r = call("t1", CTL_STATUS, NULL, 0);
	T_CONTAINS(r, "generation", "the server still answers after all of that");
	free(r);
}

/* A peer that is neither root nor the server's euid gets "permission denied". The run
 * directory and socket are opened up for the test so that SO_PEERCRED is what refuses. */
static void
test_non_root_refused(void)
{
	char p[256];
	pid_t pid;
	int st;

	if (geteuid() != 0) {
		t_skip("needs root to switch to uid %d", NOBODY);
		return;
	}
	ctl_path(p, sizeof(p), run_dir, "t1", ".sock");
	if (chmod(run_dir, 0711) == -1 || chmod(p, 0666) == -1)
		abort();
	pid = fork();
	if (pid == 0) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		struct ctl_msg m = {0};
		int fd;

		if (setgroups(0, NULL) == -1 || setgid(NOBODY) == -1 || setuid(NOBODY) == -1)
			_exit(3);
		ut_strlcpy(sa.sun_path, p, sizeof(sa.sun_path));
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (fd == -1 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
			_exit(4);
		if (ctl_recv(fd, &m) != 1 || m.type != CTL_ERROR ||
		    strstr(m.data, "permission denied") == NULL || strstr(m.data, "hint: run as root") == NULL)
			_exit(5);
		if (ctl_recv(fd, &m) != 0)
			_exit(6);
		_exit(0);
	}
	T_OK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	     "uid %d is refused: ERROR 'permission denied ... hint: run as root', then closed "
	     "(child status %d)", NOBODY, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	chmod(run_dir, 0700);
	chmod(p, 0600);
}

static void
test_unknown_name(void)
{
	struct sbuf err = {0};

	T_OK(ctl_connect(run_dir, "nope", &err) == -1 && errno == ENOENT,
	     "connecting to an unknown name fails with ENOENT");
	T_STREQ(sbuf_str(&err), "no running sandbox named nope; hint: agentcage ps lists them",
	        "and says so with a hint");
	sbuf_free(&err);
}

int
main(void)
{
	struct srv v = {0};
	char *r = NULL;
	struct sbuf err = {0};
	int stop_fd;
	uint32_t grace = 7;

	if (fake_init() == -1)
		return 1;
	test_stale_cleaned(); /* forks: before the server thread exists */
	if (srv_start(&v, "t1") == -1) {
		T_OK(0, "server starts: %s", strerror(errno));
		return t_done();
	}
	test_claims();
	test_round_trips();
	test_exec();
	test_bad_messages();
	test_non_root_refused();
	test_unknown_name();

	stop_fd = conn("t1");
	T_OK(stop_fd != -1 && ctl_call(stop_fd, CTL_STOP, &grace, sizeof(grace), &r, &err) == 0,
	     "STOP is answered OK");
	T_OK(fk.grace == 7, "with the grace period the client asked for");
	free(r);
	sbuf_free(&err);
	srv_stop(&v);
	T_OK(ctl_wait_hangup(stop_fd, 5000) == 0, "the STOP connection hangs up when the server ends");
	ut_close(&stop_fd);
	T_OK(!file_exists("t1", ".json") && !file_exists("t1", ".sock"),
	     "freeing the server removed its state file and socket");
	rmdir(run_dir);
	return t_done();
}
