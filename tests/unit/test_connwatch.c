/*
 * test_connwatch: the proxy learns who connected to it at connect(2) time. A child
 * installs the connect-notify filter (as init does), hands the listener to the parent
 * (the supervisor's role), then connects: to the "proxy" address (recorded: its pid and
 * fd, and the inode the child itself sees), to another address (let through, not
 * recorded), to a closed port (the kernel's own ECONNREFUSED comes back: the
 * supervisor never performs or fakes the call), and to a unix socket (not even notified).
 */
#include "proxy/connwatch.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "proc_fixture.h"
#include "t.h"

/* The child's connects, in order: proxy, other, closed port (16-byte addresses), a unix
 * socket, the proxy with 128 bytes, other with 28 and with 29. */
#define NCONN 7

static int
listen_on(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd == -1 || bind(fd, (void *)&a, sizeof(a)) == -1 || listen(fd, 8) == -1 ||
	    getsockname(fd, (void *)&a, &al) == -1)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

/* One line per connect attempt: "<inode> <errno>". */
static void
child_connect(int out, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int err = connect(fd, (void *)&a, sizeof(a)) == 0 ? 0 : errno;
	struct stat st;
	char line[64];
	int n;

	fstat(fd, &st);
	n = snprintf(line, sizeof(line), "%lu %d\n", (unsigned long)st.st_ino, err);
	(void)!write(out, line, (size_t)n);
	/* keep the socket open: the parent checks that we still hold it */
}

/* A connect to 127.0.0.1:<port> given as <len> bytes of a sockaddr_storage (the kernel
 * takes any length from 16 for AF_INET): the filter decides by the length. */
static void
child_connect_len(int out, uint16_t port, socklen_t len)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int err;
	struct stat st;
	char line[64];
	int n;

	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	err = connect(fd, (void *)&ss, len) == 0 ? 0 : errno;
	fstat(fd, &st);
	n = snprintf(line, sizeof(line), "%lu %d\n", (unsigned long)st.st_ino, err);
	(void)!write(out, line, (size_t)n);
}

/* A connect with a unix address (as most programs pass it: the whole struct, 110 bytes):
 * the filter lets it through without a notification. Same line format. */
static void
child_connect_unix(int out, const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int err;
	char line[64];
	int n;

	ut_strlcpy(a.sun_path, path, sizeof(a.sun_path));
	err = connect(fd, (void *)&a, sizeof(a)) == 0 ? 0 : errno;
	n = snprintf(line, sizeof(line), "0 %d\n", err);
	(void)!write(out, line, (size_t)n);
}

int
main(void)
{
	uint16_t p_proxy, p_other, p_closed;
	int l_proxy = listen_on(&p_proxy), l_other = listen_on(&p_other);
	int l_closed = listen_on(&p_closed);
	struct sockaddr_un ua = { .sun_family = AF_UNIX };
	int l_unix = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int sp[2], res[2], go[2], lfd;
	struct sockaddr_storage target;
	struct sockaddr_in *t4 = (void *)&target;
	struct connwatch *w = NULL;
	unsigned long ino[NCONN] = {0}, seen, rec;
	int err[NCONN] = {0}, nres = 0, fd = -1;
	char buf[256];
	size_t blen = 0;
	pid_t child, pid = 0;

	if (geteuid() != 0) {
		t_skip("needs root: a seccomp listener needs CAP_SYS_ADMIN or no_new_privs "
		       "(the test sets neither as a user)");
		return t_done();
	}
	close(l_closed);	/* a port nobody listens on */
	snprintf(ua.sun_path, sizeof(ua.sun_path), "/tmp/agentcage-cw-%d.sock", (int)getpid());
	unlink(ua.sun_path);
	T_OK(l_unix != -1 && bind(l_unix, (void *)&ua, sizeof(ua)) == 0 && listen(l_unix, 8) == 0,
	     "a unix listener at %s", ua.sun_path);
	T_OK(l_proxy != -1 && l_other != -1, "listeners on 127.0.0.1:%u and :%u", p_proxy,
	     p_other);
	T_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0 &&
		     pipe2(res, O_CLOEXEC) == 0 && pipe2(go, O_CLOEXEC) == 0,
	     "channels");
	child = fork();
	if (child == 0) {
		int l = connwatch_install();
		char c;

		if (l == -1)
			_exit(1);
		send_fd(sp[1], l);
		close(l);
		child_connect(res[1], p_proxy);
		child_connect(res[1], p_other);
		child_connect(res[1], p_closed);
		child_connect_unix(res[1], ua.sun_path);
		child_connect_len(res[1], p_proxy, sizeof(struct sockaddr_storage));
		child_connect_len(res[1], p_other, sizeof(struct sockaddr_in6));
		child_connect_len(res[1], p_other, sizeof(struct sockaddr_in6) + 1);
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	close(res[1]);
	close(go[0]);
	lfd = recv_fd(sp[0]);
	T_OK(lfd >= 0, "the child's listener reached the parent");
	memset(&target, 0, sizeof(target));
	t4->sin_family = AF_INET;
	t4->sin_port = htons(p_proxy);
	t4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_OK(connwatch_new(&w, lfd, &target, 1) == 0, "connwatch_new");

	/* The supervisor's loop: answer notifications until the child reported every result. */
	while (w != NULL && nres < NCONN) {
		struct pollfd pf[2] = { { connwatch_fd(w), POLLIN, 0 }, { res[0], POLLIN, 0 } };

		if (poll(pf, 2, 10000) <= 0)
			break;
		if (pf[0].revents & POLLIN)
			connwatch_handle(w);
		if (pf[1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(res[0], buf + blen, sizeof(buf) - 1 - blen);
			char *nl;

			if (n <= 0)
				break;
			blen += (size_t)n;
			buf[blen] = '\0';
			while ((nl = strchr(buf, '\n')) != NULL && nres < NCONN) {
				sscanf(buf, "%lu %d", &ino[nres], &err[nres]);
				nres++;
				blen -= (size_t)(nl + 1 - buf);
				memmove(buf, nl + 1, blen + 1);
			}
		}
	}
	T_OK(nres == NCONN, "the child made its %d connects (%d)", NCONN, nres);
	T_OK(err[3] == 0, "a unix-socket connect succeeds (%d)", err[3]);
	T_OK(err[4] == 0 && err[5] == 0 && err[6] == 0,
	     "inet connects with 128-, 28- and 29-byte addresses succeed (%d %d %d)", err[4],
	     err[5], err[6]);
	T_OK(err[0] == 0 && err[1] == 0, "connects to listening ports succeed through the filter");
	T_OK(err[2] == ECONNREFUSED, "a closed port gives the kernel's ECONNREFUSED (%d)", err[2]);
	if (w != NULL) {
		T_OK(connwatch_take(w, (ino_t)ino[0], &pid, &fd) == 0 && pid == child,
		     "the connect to the proxy address is recorded with the child's pid");
		T_OK(connwatch_still_holds(pid, fd, (ino_t)ino[0]),
		     "and the fd it used still is that socket");
		T_OK(!connwatch_still_holds(pid, fd, (ino_t)ino[1]),
		     "a different inode at that fd does not pass");
		T_OK(connwatch_take(w, (ino_t)ino[0], &pid, &fd) == -1 && errno == ENOENT,
		     "a record is taken once");
		T_OK(connwatch_take(w, (ino_t)ino[1], &pid, &fd) == -1 && errno == ENOENT,
		     "a connect elsewhere is not recorded");
		T_OK(connwatch_take(w, (ino_t)ino[4], &pid, &fd) == 0 && pid == child,
		     "a connect to the proxy with a whole sockaddr_storage is recorded too");
		connwatch_counts(w, &seen, &rec);
		T_OK(seen == 5 && rec == 2,
		     "5 notifications seen (none for the unix socket or the 29-byte address), "
		     "2 recorded (%lu, %lu)", seen, rec);
	}
	(void)!write(go[1], "x", 1);
	{
		int st = -1;

		waitpid(child, &st, 0);
		T_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child exited cleanly");
	}
	connwatch_free(w);
	close(l_proxy);
	close(l_other);
	close(l_unix);
	unlink(ua.sun_path);
	return t_done();
}
