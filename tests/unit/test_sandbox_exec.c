/*
 * test_sandbox_exec: `agentcage exec` and `agentcage stop` on the sandbox side. Builds a
 * real sandbox as cmd_run.c does (default policy, the `sandbox` user, environment,
 * seccomp filter, no TLS CA) whose command waits on a pipe, then starts processes in it
 * through supervise_exec() and checks they carry the command's confinement; then stops
 * the sandbox (SIGTERM honoured; SIGTERM ignored -> SIGKILL after the grace, with a
 * running exec given the SIGTERM too). Also: the exec channel's message checks and the
 * lifelog lines. Needs root (namespaces); the skip says why otherwise.
 */
#include <fcntl.h>
#include <jansson.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "policy/load.h"
#include "proxy/connwatch.h"
#include "sandbox/env.h"
#include "sandbox/execmsg.h"
#include "sandbox/identity.h"
#include "sandbox/lifelog.h"
#include "sandbox/seccomp.h"
#include "sandbox/spawn.h"
#include "sandbox/supervise.h"
#include "sandbox/tlstrust.h"
#include "util/evloop.h"
#include "util/sbuf.h"
#include "util/util.h"
#include "t.h"

#define OUT_MAX 65536

/* --- the channel's checks, no sandbox needed --- */

static void
test_execmsg_checks(void)
{
	struct execmsg m = { .type = EXECMSG_START, .id = 1, .argc = 2 };
	const char two[] = "ls\0-l"; /* 6 bytes: two strings */
	char *big[EXECMSG_ARGC_MAX + 2];
	struct sbuf b = { 0 };
	uint32_t argc;

	T_OK(execmsg_check(&m, two, sizeof(two), 3, true) == 0, "START with 2 strings, 3 fds: accepted by init");
	T_OK(execmsg_check(&m, two, sizeof(two), 3, false) == -1 && errno == EPROTO,
	     "START sent to the supervisor: refused");
	T_OK(execmsg_check(&m, two, sizeof(two), 2, true) == -1, "START with 2 fds: refused");
	T_OK(execmsg_check(&m, two, sizeof(two) - 1, 3, true) == -1, "START not NUL-terminated: refused");
	m.argc = 3;
	T_OK(execmsg_check(&m, two, sizeof(two), 3, true) == -1, "START argc above the strings: refused");
	m = (struct execmsg){ .type = EXECMSG_SIGNAL, .id = 1, .value = SIGTERM };
	T_OK(execmsg_check(&m, NULL, 0, 0, true) == 0, "SIGNAL 15: accepted by init");
	m.value = NSIG;
	T_OK(execmsg_check(&m, NULL, 0, 0, true) == -1, "SIGNAL out of range: refused");
	m = (struct execmsg){ .type = EXECMSG_EXIT, .id = 0 };
	T_OK(execmsg_check(&m, NULL, 0, 0, false) == -1, "EXIT with id 0: refused");
	m = (struct execmsg){ .type = 99, .id = 1 };
	T_OK(execmsg_check(&m, NULL, 0, 0, false) == -1, "unknown type: refused");

	for (size_t i = 0; i <= EXECMSG_ARGC_MAX; i++)
		big[i] = "x";
	big[EXECMSG_ARGC_MAX + 1] = NULL;
	T_OK(execmsg_argv_pack(big, &b, &argc) == -1 && errno == E2BIG, "argv over EXECMSG_ARGC_MAX: E2BIG");
	sbuf_free(&b);
	big[0] = NULL;
	T_OK(execmsg_argv_pack(big, &b, &argc) == -1 && errno == EINVAL, "empty argv: EINVAL");
	sbuf_free(&b);
}

/* A message with more fds than EXECMSG_NFDS: refused, and none of them leaks. */
static void
test_execmsg_excess_fds(void)
{
	int ch[2], fds[4], got[EXECMSG_NFDS];
	struct execmsg m = { .type = EXECMSG_EXIT, .id = 1 };
	char buf[8];
	size_t len, n;
	struct stat st;
	int rc;

	T_OK(execmsg_channel(ch) == 0, "channel made");
	for (int i = 0; i < 4; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/* execmsg_send refuses more than 3 itself; send the excess by hand */
	{
		union {
			char b[CMSG_SPACE(sizeof(int) * 4)];
			struct cmsghdr a;
		} u = { 0 };
		struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
				     .msg_controllen = sizeof(u.b) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * 4);
		memcpy(CMSG_DATA(c), fds, sizeof(fds));
		T_OK(sendmsg(ch[1], &mh, 0) == (ssize_t)sizeof(m), "4 fds sent");
	}
	rc = execmsg_recv(ch[0], &m, buf, sizeof(buf), &len, got, &n);
	T_OK(rc == -1 && errno == EPROTO && n == 0, "4 fds: EPROTO, none kept");
	/* the received copies got the lowest free numbers: they must be closed again */
	T_OK(fstat(fds[3] + 1, &st) == -1 && errno == EBADF, "received copies were closed");
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	close(ch[0]);
	close(ch[1]);
}

/* --- lifelog lines --- */

static json_t *
read_json_line(FILE *f)
{
	char line[4096];

	if (fgets(line, sizeof(line), f) == NULL)
		return NULL;
	return json_loads(line, 0, NULL);
}

/* A writer of the same file that holds lines back (the proxy's batched decision lines). */
struct held_lines {
	int fd;
	const char *held;
	int calls;
};

static void
write_held(void *arg)
{
	struct held_lines *h = arg;

	h->calls++;
	if (h->held != NULL)
		(void)!write(h->fd, h->held, strlen(h->held));
	h->held = NULL;
}

/* Lines held back by another writer go out before each lifecycle line: the file keeps
 * the order in which things happened. */
static void
test_lifelog_in_order(void)
{
	char path[] = "/tmp/agentcage-orderlog.XXXXXX";
	int tfd = mkstemp(path);
	struct lifelog l;
	struct held_lines h = { .held = "{\"event\":\"net\"}\n" };
	const uint8_t sha[32] = { 0 };
	FILE *f;
	json_t *j;

	close(tfd);
	T_OK(lifelog_open(&l, path, false) == 0 && l.before_write == NULL,
	     "log opened, with no hook until one is set");
	h.fd = l.fd;
	l.before_write = write_held;
	l.before_arg = &h;
	lifelog_write_policy(&l, &(struct lifelog_policy){
		.name = "t", .pid = 10, .generation = 2, .source = "/p.yaml", .policy_sha256 = sha,
		.loaded = true });
	lifelog_close(&l);
	f = fopen(path, "re");
	j = f ? read_json_line(f) : NULL;
	T_STREQ(json_string_value(json_object_get(j, "event")), "net",
		"the held-back line comes first");
	json_decref(j);
	j = f ? read_json_line(f) : NULL;
	T_STREQ(json_string_value(json_object_get(j, "event")), "policy", "then the policy line");
	json_decref(j);
	T_OK(h.calls == 1, "the hook ran once, before the line");
	if (f)
		fclose(f);
	unlink(path);
}

static void
test_lifelog_lines(void)
{
	char path[] = "/tmp/agentcage-execlog.XXXXXX";
	int tfd = mkstemp(path);
	struct lifelog l;
	char *argv[] = { "id", "-u", NULL };
	const uint8_t sha[32] = { 0xab };
	FILE *f;
	json_t *j;

	close(tfd);
	T_OK(lifelog_open(&l, path, false) == 0, "log opened");
	lifelog_write_exec(&l, &(struct lifelog_exec){ .name = "t", .pid = 10, .id = 3,
						      .sandbox_pid = 42, .argv = argv, .tty = true });
	lifelog_write_exec_exit(&l, &(struct lifelog_exec_exit){
		.name = "t", .pid = 10, .id = 3, .sandbox_pid = 42, .wait_status = SIGTERM,
		.duration_ms = 5 });
	lifelog_write_exec_exit(&l, &(struct lifelog_exec_exit){
		.name = "t", .pid = 10, .id = 4, .sandbox_pid = 43, .wait_status = W_EXITCODE(7, 0) });
	lifelog_write_policy(&l, &(struct lifelog_policy){
		.name = "t", .pid = 10, .generation = 2, .source = "/p.yaml", .policy_sha256 = sha,
		.loaded = false, .reason = "filesystem_policy differs" });
	lifelog_close(&l);
	f = fopen(path, "re");
	j = read_json_line(f);
	T_STREQ(json_string_value(json_object_get(j, "event")), "exec", "exec line");
	T_OK(json_integer_value(json_object_get(j, "sandbox_pid")) == 42 &&
	     json_is_true(json_object_get(j, "tty")) &&
	     json_array_size(json_object_get(j, "command")) == 2, "exec line: sandbox_pid, tty, argv");
	json_decref(j);
	j = read_json_line(f);
	T_OK(json_integer_value(json_object_get(j, "status")) == 128 + SIGTERM &&
	     json_integer_value(json_object_get(j, "signal")) == SIGTERM &&
	     json_is_null(json_object_get(j, "exit_code")) &&
	     json_integer_value(json_object_get(j, "duration_ms")) == 5,
	     "exec_exit line for a signal: status 143, signal 15, exit_code null");
	json_decref(j);
	j = read_json_line(f);
	T_OK(json_integer_value(json_object_get(j, "exit_code")) == 7 &&
	     json_is_null(json_object_get(j, "signal")), "exec_exit line for exit 7");
	json_decref(j);
	j = read_json_line(f);
	T_STREQ(json_string_value(json_object_get(j, "result")), "refused", "policy line: refused");
	T_OK(json_integer_value(json_object_get(j, "generation")) == 2 &&
	     strncmp(json_string_value(json_object_get(j, "policy_sha256")), "ab00", 4) == 0 &&
	     json_string_value(json_object_get(j, "reason")) != NULL,
	     "policy line: generation, sha256, reason");
	json_decref(j);
	fclose(f);
	unlink(path);
}

/* --- a real sandbox --- */

struct sb {
	struct policy *pol;
	struct identity id;
	struct env env;
	struct sc_filter filter;
	char workdir[64];
	char home[64];
	int listen_fd;              /* 127.0.0.1:port in our network namespace */
	int port;
	struct connwatch *watch;
	struct evloop *loop;
};

/* One exec'd process whose output the test reads. */
struct job {
	const char *what;
	long id;
	pid_t pid;
	int out_r, err_r;   /* read ends; -1 when not captured */
	int in_w;           /* write end kept open (a process that waits on stdin), or -1 */
	int status;
	int ndone, nstarted;
};

struct run {
	struct sb *sb;
	struct supervise *s;
	struct supervise_result res;
	int step;
	bool ignore_term;   /* run 2: the command ignores SIGTERM */
	int nsighup;
	struct job job;
	struct timespec stop_t0;
	long long stop_ms;  /* how long from supervise_stop() to init's end */
	int forget_pipe;    /* stdout of the forgotten process */
};

static void run_next(struct run *r);

static void
watch_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct sb *sb = data;

	if (events & EV_ERROR) { /* no task left under the filter */
		evloop_del(loop, fd);
		return;
	}
	connwatch_handle(sb->watch);
}

static void
on_watch(void *arg, int notify_fd)
{
	struct run *r = arg;
	struct sockaddr_storage t = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&t;

	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)r->sb->port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	connwatch_free(r->sb->watch);
	r->sb->watch = NULL;
	if (connwatch_new(&r->sb->watch, notify_fd, &t, 1) == 0)
		evloop_add(r->sb->loop, connwatch_fd(r->sb->watch), EV_READ, watch_cb, r->sb);
}

static char *
slurp(int fd)
{
	struct sbuf b = { 0 };
	char buf[4096];
	ssize_t n;

	if (fd < 0)
		return strdup("");
	while ((n = read(fd, buf, sizeof(buf))) > 0 && b.len < OUT_MAX)
		sbuf_add(&b, buf, (size_t)n);
	if (b.s == NULL)
		return strdup("");
	return b.s; /* the caller frees it */
}

static void
job_started(void *arg, long id, pid_t pid)
{
	struct run *r = arg;

	(void)id;
	r->job.pid = pid;
	r->job.nstarted++;
	run_next(r); /* steps that act on a started process go on from here */
}

static void job_check(struct run *r, const char *out, const char *err);

static void
job_done(void *arg, long id, int status)
{
	struct run *r = arg;
	char *out, *err;

	(void)id;
	r->job.status = status;
	r->job.ndone++;
	out = slurp(r->job.out_r);
	err = slurp(r->job.err_r);
	ut_close(&r->job.out_r);
	ut_close(&r->job.err_r);
	ut_close(&r->job.in_w);
	job_check(r, out, err);
	free(out);
	free(err);
	run_next(r);
}

/* Starts argv with stdout and stderr captured; <in> fed on stdin (NULL: /dev/null; "" :
 * a pipe kept open, so the process waits). */
static void
job_start(struct run *r, const char *what, char *const argv[], const char *in)
{
	int o[2], e[2], i[2], fds[3];

	memset(&r->job, 0, sizeof(r->job));
	r->job.what = what;
	r->job.in_w = -1;
	if (pipe2(o, O_CLOEXEC) == -1 || pipe2(e, O_CLOEXEC) == -1 || pipe2(i, O_CLOEXEC) == -1)
		abort();
	if (in != NULL && *in != '\0')
		ut_write_all(i[1], in, strlen(in));
	if (in != NULL && *in == '\0')
		r->job.in_w = i[1];
	else
		close(i[1]);
	fds[0] = i[0];
	fds[1] = o[1];
	fds[2] = e[1];
	r->job.out_r = o[0];
	r->job.err_r = e[0];
	r->job.id = supervise_exec(r->s, argv, fds, false, job_started, job_done, r);
	if (!T_OK(r->job.id > 0, "%s: exec accepted", what)) {
		printf("#   errno %s\n", strerror(errno));
		for (int k = 0; k < 3; k++)
			close(fds[k]);
		evloop_stop(r->sb->loop);
	}
}

/* Starts argv on a new PTY's slave with tty set; the master is read as stdout. */
static void
job_start_tty(struct run *r, const char *what, char *const argv[])
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), sl = -1;
	int fds[3];

	memset(&r->job, 0, sizeof(r->job));
	r->job.what = what;
	r->job.in_w = r->job.err_r = -1;
	if (m == -1 || grantpt(m) == -1 || unlockpt(m) == -1 ||
	    (sl = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		abort();
	fds[0] = fds[1] = fds[2] = sl;
	r->job.out_r = m;
	/* the same fd three times, as a client may pass it: closed once on success. Read
	 * blocking: once every slave fd is closed the master returns what is buffered, then
	 * EIO. */
	r->job.id = supervise_exec(r->s, argv, fds, true, job_started, job_done, r);
	if (!T_OK(r->job.id > 0, "%s: exec accepted", what)) {
		close(sl);
		evloop_stop(r->sb->loop);
	}
}

static bool
exited_with(int st, int code)
{
	return WIFEXITED(st) && WEXITSTATUS(st) == code;
}

static void
job_check(struct run *r, const char *out, const char *err)
{
	const char *w = r->job.what;
	const int st = r->job.status;
	char want[128];

	if (strcmp(w, "id") == 0) {
		snprintf(want, sizeof(want), "%u %u\n", (unsigned)r->sb->id.uid, (unsigned)r->sb->id.gid);
		T_STREQ(out, want, "exec'd process runs as the sandbox user and group");
	} else if (strcmp(w, "pwd") == 0) {
		snprintf(want, sizeof(want), "%s\n", r->sb->workdir);
		T_STREQ(out, want, "its working directory is the workdir");
	} else if (strcmp(w, "env") == 0) {
		T_STREQ(out, "exec-env-42 /sandbox\n", "it has the command's environment");
	} else if (strcmp(w, "status") == 0) {
		T_CONTAINS(out, "NoNewPrivs:\t1", "no_new_privs set");
		T_CONTAINS(out, "CapBnd:\t0000000000000000", "bounding set empty");
		/* connect-notify (init's) + clone3 + main filter: the proxy sees its connects */
		T_CONTAINS(out, "Seccomp_filters:\t3", "the command's three seccomp filters");
	} else if (strcmp(w, "fs") == 0) {
		T_CONTAINS(err, "/usr/ac-exec-t: Read-only file system", "write to /usr refused");
		T_CONTAINS(out, "tmp-ok", "write to /tmp works");
		T_CONTAINS(err, "ls: cannot open directory '/dev': Permission denied",
			   "Landlock domain applies: listing /dev (unlisted) is denied");
	} else if (strcmp(w, "unshare") == 0) {
		T_OK(exited_with(st, 1), "unshare -U fails");
		T_CONTAINS(err, "Operation not permitted", "with EPERM (seccomp)");
	} else if (strcmp(w, "fds") == 0) {
		/* 3 is ls's own directory fd: neither the exec channel nor any fd of init */
		T_STREQ(out, "0 1 2 3 ", "it holds only its stdio (no channel fd leaked in)");
	} else if (strcmp(w, "exit7") == 0) {
		T_OK(exited_with(st, 7), "exit status 7 comes back");
	} else if (strcmp(w, "stdin") == 0) {
		T_STREQ(out, "hello exec\n", "the passed stdin and stdout are used");
	} else if (strcmp(w, "notfound") == 0) {
		T_OK(exited_with(st, SPAWN_EXIT_NOTFOUND), "unknown command: 127");
		T_CONTAINS(err, "command not found", "and says so on the passed stderr");
	} else if (strcmp(w, "connect") == 0) {
		unsigned long seen = 0, rec = 0;
		if (r->sb->watch != NULL)
			connwatch_counts(r->sb->watch, &seen, &rec);
		T_STREQ(out, "connected\n", "exec'd process connects to loopback");
		T_OK(rec >= 1, "its connect was recorded by the connect-notify watch (%lu)", rec);
	} else if (strcmp(w, "tty") == 0) {
		int pid = 0, sid = 0, tty_nr = 0;
		T_OK(sscanf(out, "%d (cat) %*c %*d %*d %d %d", &pid, &sid, &tty_nr) == 3 && pid == sid &&
		     tty_nr != 0, "with a tty: own session, the slave is its controlling terminal");
		T_OK(exited_with(st, 0), "tty process exit status 0");
	} else if (strcmp(w, "signal") == 0) {
		T_OK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "forwarded SIGTERM kills it (128+15)");
		T_OK(r->job.nstarted == 1 && r->job.pid > 1, "started callback gave its pid (%d)",
		     (int)r->job.pid);
	} else if (strcmp(w, "pending") == 0) {
		/* supervise_stop's SIGTERM reaches exec'd processes too (init), not only the
		 * command, which here ignores it and is killed when the grace ends */
		T_OK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
		     "a running exec gets the stop's SIGTERM too (128+15), within the grace");
	}
}

static long long
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000LL + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void
forget_eof_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct run *r = data;
	char buf[64];

	(void)events;
	if (read(fd, buf, sizeof(buf)) > 0)
		return;
	evloop_del(loop, fd);
	ut_close(&r->forget_pipe);
	T_OK(r->job.ndone == 0, "a forgotten process got SIGHUP and ended without a callback");
	ut_close(&r->job.in_w);
	ut_close(&r->job.err_r);
	r->step++;
	/* SIGHUP to ourselves (blocked; the supervisor's signalfd reads it) */
	kill(getpid(), SIGHUP);
}

static void
on_sighup(void *arg)
{
	struct run *r = arg;
	char *argv[] = { "true", NULL };
	int fds[3] = { 0, 1, 2 };

	r->nsighup++;
	T_OK(!r->res.have_status, "SIGHUP went to on_sighup, not to the command (still running)");
	clock_gettime(CLOCK_MONOTONIC, &r->stop_t0);
	T_OK(supervise_stop(r->s, 30) == 0, "supervise_stop(30)");
	T_OK(supervise_exec(r->s, argv, fds, false, job_started, job_done, r) == -1 &&
	     errno == ENOTCONN, "exec while stopping: ENOTCONN");
}

/* Run 1's steps, one after the other from the callbacks. */
static void
run_next(struct run *r)
{
	char port[64];
	char *id[] = { "/bin/sh", "-c", "echo $(id -u) $(id -g)", NULL };
	char *pwd[] = { "/bin/sh", "-c", "pwd", NULL };
	char *env[] = { "/bin/sh", "-c", "echo $AC_EXEC_MARK $HOME", NULL };
	char *status[] = { "cat", "/proc/self/status", NULL };
	char *fs[] = { "/bin/sh", "-c",
		       "echo x > /usr/ac-exec-t; echo t > /tmp/t && echo tmp-ok; ls /dev", NULL };
	char *unsh[] = { "unshare", "-U", "true", NULL };
	char *exit7[] = { "/bin/sh", "-c", "exit 7", NULL };
	char *cat[] = { "cat", NULL };
	char *nf[] = { "no-such-command-agentcage", NULL };
	char *conn[] = { "/bin/bash", "-c", port, NULL };
	char *sleep[] = { "sleep", "1000", NULL };
	char *status_stat[] = { "cat", "/proc/self/stat", NULL };
	char *fds[] = { "/bin/sh", "-c", "exec ls /proc/self/fd | tr '\\n' ' '", NULL };

	snprintf(port, sizeof(port), "exec 3<>/dev/tcp/127.0.0.1/%d && echo connected", r->sb->port);
	if (r->job.what != NULL && r->job.ndone == 0 && r->job.nstarted == 1) {
		/* a started callback: act on the running process */
		if (strcmp(r->job.what, "signal") == 0)
			T_OK(supervise_exec_signal(r->s, r->job.id, SIGTERM) == 0, "signal forwarded");
		else if (strcmp(r->job.what, "forget") == 0)
			supervise_exec_forget(r->s, r->job.id);
		else if (strcmp(r->job.what, "pending") == 0) {
			clock_gettime(CLOCK_MONOTONIC, &r->stop_t0);
			T_OK(supervise_stop(r->s, 1) == 0, "supervise_stop(1) with a pending exec");
		}
		return;
	}
	if (r->job.what != NULL && r->job.ndone == 0)
		return;
	if (r->ignore_term) {
		if (r->step++ == 0)
			job_start(r, "pending", cat, "");
		return;
	}
	switch (r->step++) {
	case 0: job_start(r, "id", id, NULL); break;
	case 1: job_start(r, "pwd", pwd, NULL); break;
	case 2: job_start(r, "env", env, NULL); break;
	case 3: job_start(r, "status", status, NULL); break;
	case 4: job_start(r, "fs", fs, NULL); break;
	case 5: job_start(r, "unshare", unsh, NULL); break;
	case 6: job_start(r, "exit7", exit7, NULL); break;
	case 7: job_start(r, "stdin", cat, "hello exec\n"); break;
	case 8: job_start(r, "notfound", nf, NULL); break;
	case 9: job_start(r, "connect", conn, NULL); break;
	case 10: job_start(r, "signal", sleep, NULL); break;
	case 11: job_start_tty(r, "tty", status_stat); break;
	case 12: job_start(r, "fds", fds, NULL); break;
	case 13:
		/* its stdout tells when it is gone: no callback will */
		job_start(r, "forget", cat, "");
		r->forget_pipe = r->job.out_r;
		r->job.out_r = -1;
		evloop_add(r->sb->loop, r->forget_pipe, EV_READ, forget_eof_cb, r);
		break;
	default: break;
	}
}

static void
on_started(void *arg, struct supervise *s)
{
	struct run *r = arg;
	char *argv[] = { "true", NULL };
	int fds[3] = { 0, 1, 2 };

	r->s = s;
	T_OK(supervise_exec(s, argv, fds, false, job_started, job_done, r) == -1 &&
	     errno == ENOTCONN, "exec before the sandbox is ready: ENOTCONN");
}

/* The command says "armed" once its signal disposition is set: only then do the steps
 * start (a SIGTERM before `trap` runs would kill a command meant to ignore it). */
static void
armed_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	char buf[64];
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)events;
	evloop_del(loop, fd);
	T_OK(n == 6 && memcmp(buf, "armed\n", 6) == 0, "the command is running");
	run_next(data);
}

/* Brings lo up in our (new) network namespace. */
static int
lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;

	ut_strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	if (fd != -1 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	if (fd != -1)
		close(fd);
	return rc;
}

static int
sb_listen(struct sb *sb)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	sb->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sb->listen_fd == -1 || bind(sb->listen_fd, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    listen(sb->listen_fd, 8) == -1 ||
	    getsockname(sb->listen_fd, (struct sockaddr *)&a, &len) == -1)
		return -1;
	sb->port = ntohs(a.sin_port);
	return 0;
}

/* Everything cmd_run prepares before the clone. 0, or -1 after a skip/fail line. */
static int
sb_prepare(struct sb *sb)
{
	struct diag d = { 0 };
	char err[1024];
	extern char **environ;
	const char *extra[] = { "AC_EXEC_MARK=exec-env-42", NULL };
	const struct env_params ep = { .name = "exectest", .user = "sandbox", .shell = "/bin/sh",
				       .extra = extra };

	if (policy_load_default(&d, &sb->pol) == -1) {
		diag_free(&d);
		T_OK(0, "default policy loads");
		return -1;
	}
	diag_free(&d);
	if (identity_resolve("sandbox", "sandbox", &sb->id, err, sizeof(err)) == -1) {
		t_skip("no `sandbox` user (%s); run `agentcage setup`", err);
		return -1;
	}
	if (env_build(&sb->env, environ, &ep, err, sizeof(err)) == -1) {
		T_OK(0, "environment: %s", err);
		return -1;
	}
	ut_strlcpy(sb->workdir, "/tmp/agentcage-exec-wd.XXXXXX", sizeof(sb->workdir));
	ut_strlcpy(sb->home, "/tmp/agentcage-exec-home.XXXXXX", sizeof(sb->home));
	if (mkdtemp(sb->workdir) == NULL || chmod(sb->workdir, 0777) == -1 ||
	    mkdtemp(sb->home) == NULL || chown(sb->home, sb->id.uid, sb->id.gid) == -1) {
		T_OK(0, "temp dirs: %s", strerror(errno));
		return -1;
	}
	if (seccomp_prepare(&sb->filter, err, sizeof(err)) == -1) {
		T_OK(0, "seccomp filter: %s", err);
		return -1;
	}
	return 0;
}

static void
sb_release(struct sb *sb)
{
	connwatch_free(sb->watch);
	sb->watch = NULL;
	seccomp_filter_release(&sb->filter);
	env_free(&sb->env);
	policy_free(sb->pol);
	sb->pol = NULL;
	ut_close(&sb->listen_fd);
	rmdir(sb->workdir);
	rmdir(sb->home);
}

/* One sandbox whose command is `sh -c 'read x'` on a pipe we hold; supervised with <r>. */
static int
sandbox_run(struct sb *sb, struct run *r)
{
	char *cmd_plain[] = { "/bin/sh", "-c", "echo armed; read x", NULL };
	char *cmd_ignore[] = { "/bin/sh", "-c", "trap '' TERM; echo armed; read x", NULL };
	struct spawn_plan plan = {
		.name = "exectest", .policy = sb->pol, .workdir = sb->workdir, .home = sb->home,
		.argv = r->ignore_term ? cmd_ignore : cmd_plain, .envp = env_vector(&sb->env),
		.id = &sb->id, .pty_slave = -1, .exec_channel = true,
	};
	struct supervise_config sc = {
		.on_watch = on_watch, .on_started = on_started,
		.on_sighup = on_sighup, .exec_channel = true, .arg = r,
	};
	int report[2], filter[2], hold[2], armed[2], saved_in, saved_out;
	char err[1024];
	pid_t init;

	if (pipe2(report, O_CLOEXEC) == -1 || fcntl(report[0], F_SETFL, O_NONBLOCK) == -1 ||
	    pipe2(filter, O_CLOEXEC) == -1 || pipe2(hold, O_CLOEXEC) == -1 ||
	    pipe2(armed, O_CLOEXEC) == -1 ||
	    execmsg_channel(plan.exec_fds) == -1)
		return -1;
	plan.report_fd = report[1];
	plan.filter_rfd = filter[0];
	plan.filter_wfd = filter[1];
	/* The command's stdin: a pipe nobody writes; its stdout: the "armed" pipe (init
	 * inherits both as fds 0 and 1). */
	fflush(stdout);
	saved_in = dup(STDIN_FILENO);
	saved_out = dup(STDOUT_FILENO);
	dup2(hold[0], STDIN_FILENO);
	dup2(armed[1], STDOUT_FILENO);
	init = spawn_sandbox(&plan, err, sizeof(err));
	dup2(saved_in, STDIN_FILENO);
	dup2(saved_out, STDOUT_FILENO);
	close(saved_in);
	close(saved_out);
	close(hold[0]);
	close(armed[1]);
	evloop_add(sb->loop, armed[0], EV_READ, armed_cb, r);
	close(report[1]);
	close(filter[0]);
	close(plan.exec_fds[1]);
	if (init == -1) {
		T_OK(0, "spawn_sandbox: %s", err);
		close(report[0]);
		close(filter[1]);
		close(hold[1]);
		evloop_del(sb->loop, armed[0]);
		close(armed[0]);
		close(plan.exec_fds[0]);
		return -1;
	}
	tlstrust_send(filter[1], NULL);
	seccomp_filter_send(&sb->filter, filter[1]);
	close(filter[1]);
	sc.init_pid = init;
	sc.report_fd = report[0];
	sc.exec_fd = plan.exec_fds[0];
	sc.loop = sb->loop;
	T_OK(supervise_run(&sc, &r->res) == 0, "supervise_run returns 0");
	r->stop_ms = ms_since(&r->stop_t0);
	close(report[0]);
	close(hold[1]);
	evloop_del(sb->loop, armed[0]); /* ENOENT when it was read */
	close(armed[0]);
	close(plan.exec_fds[0]);
	return 0;
}

static int
count_fds(void)
{
	int n = 0;
	char path[64];

	for (int fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

static void
test_sandbox(void)
{
	struct sb sb = { .listen_fd = -1 };
	struct run r1 = { .sb = &sb, .forget_pipe = -1 }, r2 = { .sb = &sb, .ignore_term = true };
	sigset_t set;
	int st;

	if (unshare(CLONE_NEWNET) == -1 || lo_up() == -1 || sb_listen(&sb) == -1) {
		t_skip("cannot make a network namespace with lo up (%s)", strerror(errno));
		return;
	}
	if (sb_prepare(&sb) == -1) {
		sb_release(&sb);
		return;
	}
	spawn_signal_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sb.loop = evloop_new();

	r1.job.in_w = r1.job.out_r = r1.job.err_r = -1;
	if (sandbox_run(&sb, &r1) == 0) {
		T_OK(r1.res.ready, "run 1: the sandbox became ready");
		T_OK(r1.step >= 14 && r1.nsighup == 1, "run 1: every step ran (step %d)", r1.step);
		T_OK(r1.res.stopped && r1.res.have_status && WIFSIGNALED(r1.res.cmd_status) &&
		     WTERMSIG(r1.res.cmd_status) == SIGTERM,
		     "supervise_stop: the command got SIGTERM and the sandbox ended");
		T_OK(r1.stop_ms < 30000, "well before the grace (%lld ms)", r1.stop_ms);
	}
	supervise_result_free(&r1.res);

	r2.job.in_w = r2.job.out_r = r2.job.err_r = -1;
	if (sandbox_run(&sb, &r2) == 0) {
		T_OK(r2.job.ndone == 1, "run 2: the pending exec completed once");
		T_OK(r2.res.stopped && !r2.res.have_status && WIFSIGNALED(r2.res.init_status) &&
		     WTERMSIG(r2.res.init_status) == SIGKILL,
		     "a command ignoring SIGTERM: init is SIGKILLed after the grace");
		T_OK(r2.stop_ms >= 1000 && r2.stop_ms < 10000, "after the 1 s grace (%lld ms)",
		     r2.stop_ms);
	}
	supervise_result_free(&r2.res);
	ut_close(&r2.job.in_w);
	ut_close(&r2.job.out_r);
	ut_close(&r2.job.err_r);
	evloop_free(sb.loop);
	sb.loop = NULL;
	T_OK(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD, "every process reaped");
	sb_release(&sb);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int
main(void)
{
	int before = count_fds();

	test_execmsg_checks();
	test_execmsg_excess_fds();
	test_lifelog_lines();
	test_lifelog_in_order();
	if (geteuid() != 0)
		t_skip("needs root: namespaces, mounts and the sandbox user");
	else
		test_sandbox();
	T_OK(count_fds() == before, "no fd leaked (%d before, %d after)", before, count_fds());
	return t_done();
}
