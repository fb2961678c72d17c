/*
 * test_ident: caller identity as the proxy will use it. A network namespace of the test's
 * own holds the "proxy" listeners (127.0.0.1 and ::1); a sandbox "init" process (this
 * binary, forked, moved into that namespace) starts python3, which connects. The lookup
 * must name python3's pid, real exe path and the init as its ancestor, by sock_diag and
 * by the /proc/net fallback alike; a socket shared by python3 and sleep is ambiguous; a
 * client that exited, and a socket held outside the sandbox tree, give clear reasons.
 * Needs root (unshare, setns); skips with the reason otherwise.
 */
#include "proxy/ident.h"
#include "sandbox/netns.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#include "t.h"

#define PYTHON "/usr/bin/python3"

static const char py_client[] =
	"import os, socket, subprocess, sys\n"
	"h, p, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]\n"
	"s = socket.create_connection((h, p))\n"
	"other = 0\n"
	"if mode == 'share':\n"
	"    os.set_inheritable(s.fileno(), True)\n"
	"    c = subprocess.Popen(['/bin/sleep', '1000'], pass_fds=[s.fileno()])\n"
	"    other = c.pid\n"
	"print(os.getpid(), other, flush=True)\n"
	"if mode != 'exit':\n"
	"    sys.stdin.read()\n"
	"if other:\n"
	"    c.kill(); c.wait()\n";

static int sbx_ns = -1, orig_ns = -1, lis4 = -1, lis6 = -1;
static uint16_t port4, port6;

struct client {
	pid_t init, py, other;
	int in_fd, out_fd;
};

static int
listen_on(int family, const char *addr, uint16_t *port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr);
	else
		inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr);
	if (fd == -1 || bind(fd, (struct sockaddr *)&ss, sl) == -1 || listen(fd, 16) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return -1;
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/* Makes the test namespace with its two listeners; the test itself stays outside. */
static int
setup_netns(char *why, size_t len)
{
	orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (unshare(CLONE_NEWNET) == -1) {
		snprintf(why, len, "unshare(CLONE_NEWNET): %s (needs root)", strerror(errno));
		return -1;
	}
	if (netns_lo_up() == -1 || (lis4 = listen_on(AF_INET, "127.0.0.1", &port4)) == -1 ||
	    (lis6 = listen_on(AF_INET6, "::1", &port6)) == -1) {
		snprintf(why, len, "loopback in the test namespace: %s", strerror(errno));
		setns(orig_ns, CLONE_NEWNET);
		return -1;
	}
	sbx_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (setns(orig_ns, CLONE_NEWNET) == -1) {
		perror("setns back");
		abort();
	}
	return 0;
}

/* Forks the sandbox init (in the test namespace), which runs the python client. */
static int
start_client(struct client *cl, const char *host, uint16_t port, const char *mode)
{
	int in[2], out[2];
	char portstr[8], line[64];
	ssize_t n;

	memset(cl, 0, sizeof(*cl));
	cl->in_fd = cl->out_fd = -1;
	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1)
		return -1;
	snprintf(portstr, sizeof(portstr), "%u", port);
	cl->init = fork();
	if (cl->init == 0) {
		pid_t py;

		if (setns(sbx_ns, CLONE_NEWNET) == -1)
			_exit(126);
		py = fork();
		if (py == 0) {
			dup2(in[0], 0);
			dup2(out[1], 1);
			execl(PYTHON, "python3", "-c", py_client, host, portstr, mode, (char *)NULL);
			_exit(127);
		}
		waitpid(py, NULL, 0);
		_exit(0);
	}
	close(in[0]);
	close(out[1]);
	cl->in_fd = in[1];
	cl->out_fd = out[0];
	/* python prints "pid other" once connected: a pipe event, no sleeping. */
	for (size_t got = 0;;) {	/* python may write the line in pieces */
		n = read(cl->out_fd, line + got, sizeof(line) - 1 - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
		line[got] = '\0';
		if (strchr(line, '\n') != NULL || got == sizeof(line) - 1)
			break;
	}
	if (sscanf(line, "%d %d", &cl->py, &cl->other) != 2)
		return -1;
	return 0;
}

static void
stop_client(struct client *cl)
{
	if (cl->other > 0)
		kill(cl->other, SIGKILL);
	if (cl->py > 0)
		kill(cl->py, SIGKILL);
	ut_close(&cl->in_fd);
	ut_close(&cl->out_fd);
	if (cl->init > 0)
		waitpid(cl->init, NULL, 0);
	cl->init = cl->py = cl->other = 0;
}

static int
accept_one(int lis, struct sockaddr_storage *peer, struct sockaddr_storage *local)
{
	socklen_t pl = sizeof(*peer), ll = sizeof(*local);
	int fd = accept4(lis, (struct sockaddr *)peer, &pl, SOCK_CLOEXEC);

	if (fd != -1 && getsockname(fd, (struct sockaddr *)local, &ll) == -1)
		ut_close(&fd);
	return fd;
}

static void
test_lookup(int lis, const char *host, uint16_t port, struct peer_ident *id)
{
	struct client cl;
	struct sockaddr_storage peer, local;
	struct ident_ctx *c = NULL;
	char reason[512] = "", err[256] = "", self[PATH_MAX], py_real[PATH_MAX];
	ino_t ino_diag = 0, ino_proc = 0;
	int fd = -1;
	ssize_t n;

	if (start_client(&cl, host, port, "stay") == -1) {
		T_OK(0, "python3 client connects to %s", host);
		goto out;
	}
	fd = accept_one(lis, &peer, &local);
	T_OK(fd != -1, "[%s] proxy accepted python3's connection", host);
	T_OK(ident_ctx_open(&c, sbx_ns, cl.init, err, sizeof(err)) == 0, "ctx opens in the netns");
	if (c == NULL)
		goto out;
	T_OK(ident_ctx_has_diag(c), "sock_diag socket available");
	T_OK(ident_lookup(c, &peer, &local, id, reason, sizeof(reason)) == 0, "[%s] lookup works",
	     host);
	if (reason[0])
		printf("#   reason: %s\n", reason);
	T_OK(id->pid == cl.py, "[%s] names python3's pid %d (got %d)", host, cl.py, id->pid);
	T_STREQ(id->exe, realpath(PYTHON, py_real), "[%s] exe is python3's real path", host);
	T_OK(!id->exe_deleted, "exe not deleted");
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	T_OK(id->nancestors == 1 && id->ancestor_pids[0] == cl.init,
	     "ancestor walk stops at the sandbox root (%zu ancestors)", id->nancestors);
	T_STREQ(id->nancestors ? id->ancestors[0] : NULL, self, "ancestor is the init's exe");
	T_OK(ident_socket_inode(c, &peer, &local, IDENT_VIA_DIAG, &ino_diag, reason,
				sizeof(reason)) == 0 &&
		     ident_socket_inode(c, &peer, &local, IDENT_VIA_PROCFS, &ino_proc, reason,
					sizeof(reason)) == 0,
	     "[%s] both inode lookups succeed", host);
	T_OK(ino_diag == ino_proc && ino_diag == id->inode && ino_diag != 0,
	     "[%s] sock_diag and /proc/net agree on inode %lu", host, (unsigned long)ino_diag);
out:
	ident_ctx_close(c);
	ut_close(&fd);
	stop_client(&cl);
}

static void
test_ambiguous(struct peer_ident *id)
{
	struct client cl;
	struct sockaddr_storage peer, local;
	struct ident_ctx *c = NULL;
	char reason[512] = "", err[256], pids[64];
	int fd = -1;

	if (start_client(&cl, "127.0.0.1", port4, "share") == -1) {
		T_OK(0, "python3 client shares its socket with sleep");
		goto out;
	}
	fd = accept_one(lis4, &peer, &local);
	if (ident_ctx_open(&c, sbx_ns, cl.init, err, sizeof(err)) == -1)
		goto out;
	T_OK(ident_lookup(c, &peer, &local, id, reason, sizeof(reason)) == -1 && errno == EBUSY,
	     "socket held by python3 and sleep is refused as ambiguous");
	T_CONTAINS(reason, "ambiguous shared socket ownership", "reason says ambiguous");
	snprintf(pids, sizeof(pids), "[%d, %d]", cl.py < cl.other ? cl.py : cl.other,
		 cl.py < cl.other ? cl.other : cl.py);
	T_CONTAINS(reason, pids, "reason lists both pids, sorted");
out:
	ident_ctx_close(c);
	ut_close(&fd);
	stop_client(&cl);
}

static void
test_client_gone(struct peer_ident *id)
{
	struct client cl;
	struct sockaddr_storage peer, local;
	struct ident_ctx *c = NULL;
	char reason[512] = "", err[256];
	int fd = -1;

	if (start_client(&cl, "127.0.0.1", port4, "exit") == -1) {
		T_OK(0, "python3 client connects and exits");
		goto out;
	}
	fd = accept_one(lis4, &peer, &local);
	if (ident_ctx_open(&c, sbx_ns, getpid(), err, sizeof(err)) == -1)
		goto out;
	waitpid(cl.init, NULL, 0);	/* init exits after python3 did */
	cl.init = 0;
	cl.py = 0;
	T_OK(ident_lookup(c, &peer, &local, id, reason, sizeof(reason)) == -1 && errno == ENOENT,
	     "client that exited: lookup refused with ENOENT");
	T_CONTAINS(reason, "client exited?", "reason says the client exited");
	T_OK(ident_socket_inode(c, &peer, &local, IDENT_VIA_PROCFS, &id->inode, reason,
				sizeof(reason)) == -1,
	     "fallback agrees: no ESTABLISHED row");
out:
	ident_ctx_close(c);
	ut_close(&fd);
	stop_client(&cl);
}

static void
test_outside_tree(struct peer_ident *id)
{
	struct client cl;
	struct sockaddr_storage peer, local, to = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&to;
	struct ident_ctx *c = NULL;
	char reason[512] = "", err[256];
	int fd = -1, s = -1;

	/* A sandbox with a live root, and a connection made by the test itself. */
	if (start_client(&cl, "127.0.0.1", port4, "stay") == -1)
		goto out;
	ut_close(&fd);
	fd = accept_one(lis4, &peer, &local);
	ut_close(&fd);
	if (setns(sbx_ns, CLONE_NEWNET) == -1)
		goto out;
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (setns(orig_ns, CLONE_NEWNET) == -1)
		abort();
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port4);
	inet_pton(AF_INET, "127.0.0.1", &sin->sin_addr);
	T_OK(connect(s, (struct sockaddr *)&to, sizeof(*sin)) == 0, "test connects from outside");
	fd = accept_one(lis4, &peer, &local);
	if (ident_ctx_open(&c, sbx_ns, cl.init, err, sizeof(err)) == -1)
		goto out;
	T_OK(ident_lookup(c, &peer, &local, id, reason, sizeof(reason)) == -1 && errno == ENOENT,
	     "socket held outside the sandbox tree is not attributed to the sandbox");
	T_CONTAINS(reason, "no process in the sandbox holds the socket", "reason says so");
out:
	ident_ctx_close(c);
	ut_close(&s);
	ut_close(&fd);
	stop_client(&cl);
}

static void
test_bad_args(void)
{
	struct ident_ctx *c = NULL;
	char err[256] = "";

	T_OK(ident_ctx_open(&c, -1, 0, err, sizeof(err)) == -1 && errno == EINVAL && c == NULL,
	     "root pid 0 refused");
}

int
main(void)
{
	struct peer_ident *id = calloc(1, sizeof(*id));
	char why[256];

	test_bad_args();
	if (geteuid() != 0) {
		t_skip("caller identity tests need root (unshare, setns)");
		goto done;
	}
	if (access(PYTHON, X_OK) == -1) {
		t_skip("%s not installed", PYTHON);
		goto done;
	}
	if (setup_netns(why, sizeof(why)) == -1) {
		t_skip("%s", why);
		goto done;
	}
	test_lookup(lis4, "127.0.0.1", port4, id);
	test_lookup(lis6, "::1", port6, id);
	test_ambiguous(id);
	test_client_gone(id);
	test_outside_tree(id);
done:
	ut_close(&lis4);
	ut_close(&lis6);
	ut_close(&sbx_ns);
	ut_close(&orig_ns);
	free(id);
	return t_done();
}
