/*
 * bench/faults_origin: the origin of bench/faults and tests/integration/proxy_faults.sh.
 * One single-threaded epoll loop on ADDR, four listeners, each a fault or a plain server:
 *   PORT+0 echo       every byte read is written back (the held tunnels prove they work)
 *   PORT+1 http       reads a request head, answers "200 OK" with "ok\n" and
 *                     "Connection: close", then closes first (so TIME_WAIT stays here,
 *                     not on the host's ephemeral ports, at thousands of connections/s)
 *   PORT+2 reset      reads a request head, answers "200 OK", Content-Length
 *                     FAULTS_RESET_LEN and only the first half of the body; once the
 *                     kernel says every byte was acknowledged (SIOCOUTQ 0) it closes with
 *                     SO_LINGER 0: a RST in the middle of the body
 *   PORT+3 blackhole  accepts and never writes; closes when the peer closes (so a leaked
 *                     upstream connection of the proxy stays visible in `ss`)
 * Usage: faults_origin ADDR PORT. Raises its open-file limit to the hard limit. Prints
 * "ready" once every listener accepts (scripts wait on that line, never sleep). Runs until
 * SIGTERM/SIGINT. Bench-only: set-up failures exit 1; a failure on one connection closes it.
 */
#include "util/util.h"

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>

#define FAULTS_RESET_LEN  65536 /* announced body; half of it is sent before the RST */
#define FAULTS_MAX_EVENTS 256
#define FAULTS_POLL_MS    5     /* how often a reset connection checks its send queue */
#define FAULTS_MAX_FD     (1 << 17)

enum kind { K_ECHO = 0, K_HTTP, K_RESET, K_HOLE, K_NKINDS };

struct fconn {
	enum kind kind;
	char tail[4];  /* the last bytes seen, to find the end of a request head */
	bool answered; /* reset: the half body is queued; waiting for the ACKs */
};

static struct fconn *conns[FAULTS_MAX_FD];
static int listeners[K_NKINDS];
static char half_body[FAULTS_RESET_LEN / 2];
static volatile sig_atomic_t stop;
static size_t nresetting;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
fc_close(int ep, int fd, bool rst)
{
	if (rst) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	if (conns[fd] && conns[fd]->answered)
		nresetting--;
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	free(conns[fd]);
	conns[fd] = NULL;
}

/* Sends all of p (small answers: the socket buffer is empty); 0 or -1. */
static int
send_small(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Feeds bytes to the head detector; true once "\r\n\r\n" was seen. */
static bool
head_done(struct fconn *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memmove(c->tail, c->tail + 1, 3);
		c->tail[3] = p[i];
		if (memcmp(c->tail, "\r\n\r\n", 4) == 0)
			return true;
	}
	return false;
}

static int
answer(int fd, struct fconn *c)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n"
	                         "\r\nok\n";
	char head[128];
	int n;

	if (c->kind == K_HTTP) {
		send_small(fd, ok, sizeof(ok) - 1);
		return -1; /* close first */
	}
	n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
	             FAULTS_RESET_LEN);
	if (send_small(fd, head, (size_t)n) == -1 ||
	    send_small(fd, half_body, sizeof(half_body)) == -1)
		return -1;
	c->answered = true;
	nresetting++;
	return 0;
}

/* One readable event; 0 to keep the connection, -1 to close it. */
static int
on_readable(int fd, struct fconn *c)
{
	char buf[16384];
	ssize_t r = recv(fd, buf, sizeof(buf), 0);

	if (r == 0 || (r == -1 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (r <= 0)
		return 0;
	switch (c->kind) {
	case K_ECHO:
		return send_small(fd, buf, (size_t)r);
	case K_HTTP:
	case K_RESET:
		if (!c->answered && head_done(c, buf, (size_t)r))
			return answer(fd, c);
		return 0;
	default: /* blackhole: read and forget */
		return 0;
	}
}

static void
accept_all(int ep, enum kind k)
{
	for (;;) {
		int fd = accept4(listeners[k], NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), one = 1;
		struct epoll_event ev = {.events = EPOLLIN};

		if (fd == -1)
			return;
		if (fd >= FAULTS_MAX_FD || !(conns[fd] = calloc(1, sizeof(struct fconn)))) {
			close(fd);
			continue;
		}
		conns[fd]->kind = k;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ev.data.u64 = (uint64_t)fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
			fc_close(ep, fd, false);
	}
}

/* Resets every reset connection whose half body has been acknowledged. */
static void
reset_acked(int ep)
{
	for (int fd = 0; fd < FAULTS_MAX_FD && nresetting > 0; fd++) {
		int outq = 0;

		if (conns[fd] && conns[fd]->answered && ioctl(fd, SIOCOUTQ, &outq) == 0 &&
		    outq == 0)
			fc_close(ep, fd, true);
	}
}

static int
listen_on(const char *addr, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, fd;

	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1 || listen(fd, 4096) == -1) {
		fprintf(stderr, "faults_origin: bind %s:%d: %s\n", addr, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[FAULTS_MAX_EVENTS];
	struct sigaction sa = {.sa_handler = on_signal};
	struct rlimit rl;
	const char *errstr = NULL;
	long long port;
	int ep;

	if (argc != 3) {
		fprintf(stderr, "usage: faults_origin ADDR PORT\n");
		return 2;
	}
	port = ut_strtonum(argv[2], 1, 65535 - K_NKINDS, &errstr);
	if (errstr) {
		fprintf(stderr, "faults_origin: port %s: %s\n", argv[2], errstr);
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	memset(half_body, 'r', sizeof(half_body));
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return 1;
	for (int k = 0; k < K_NKINDS; k++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (1ULL << 32) | (uint64_t)k};

		if ((listeners[k] = listen_on(argv[1], (int)port + k)) == -1 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, listeners[k], &ev) == -1)
			return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		int n = epoll_wait(ep, evs, FAULTS_MAX_EVENTS, nresetting ? FAULTS_POLL_MS : -1);

		for (int i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;
			int fd = (int)(d & 0xffffffffu);

			if (d >> 32)
				accept_all(ep, (enum kind)fd);
			else if (conns[fd] && on_readable(fd, conns[fd]) == -1)
				fc_close(ep, fd, false);
		}
		if (nresetting)
			reset_acked(ep);
	}
	return 0;
}
