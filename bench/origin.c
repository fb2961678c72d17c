/*
 * bench/origin: the origin server of bench/proxy. HTTP/1.1 with keep-alive, one
 * single-threaded epoll loop (pin it with taskset):
 *   GET /bytes/N  -> 200, Content-Length N, N bytes of a fixed pattern (N <= ORIGIN_MAX_BODY)
 *   GET /         -> 200, "ok\n"
 *   anything else -> 404; a request head over ORIGIN_MAX_HEAD bytes closes the connection.
 * A request with "Connection: close" is answered, then the origin closes first.
 * Usage: origin ADDR PORT. Prints "origin: listening ADDR:PORT" on stdout once accepting,
 * so the script can wait on that line instead of sleeping. Runs until SIGTERM/SIGINT.
 * Bench-only: a failure to set up exits 1; a failure on one connection closes that one.
 */
#include "util/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>

#define ORIGIN_MAX_HEAD   8192                         /* request head bytes */
#define ORIGIN_MAX_BODY   (64ULL * 1024 * 1024 * 1024) /* bytes one /bytes/N may ask */
#define ORIGIN_CHUNK      (256 * 1024)                 /* bytes per write() of a body */
#define ORIGIN_MAX_EVENTS 256

struct conn {
	int fd;
	char in[ORIGIN_MAX_HEAD];
	size_t in_len;
	char head[256]; /* response head still to send */
	size_t head_off, head_len;
	unsigned long long body_left; /* body bytes still to send */
	const char *body_src;         /* NULL: the pattern buffer */
	bool close_after;             /* the request said "Connection: close" */
};

static char pattern[ORIGIN_CHUNK];
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* Sets up the response for the request head in c->in[0..end); 0, or -1 to close. */
static int
conn_answer(struct conn *c, size_t end)
{
	unsigned long long n = 0;
	const char *status = "200 OK";
	int len;

	if (end >= 14 && memcmp(c->in, "GET /bytes/", 11) == 0) {
		const char *p = c->in + 11;

		while (*p >= '0' && *p <= '9' && n <= ORIGIN_MAX_BODY)
			n = n * 10 + (unsigned long long)(*p++ - '0');
		if (*p != ' ' || n > ORIGIN_MAX_BODY)
			return -1;
		c->body_src = NULL;
	} else if (end >= 6 && memcmp(c->in, "GET / ", 6) == 0) {
		n = 3;
		c->body_src = "ok\n";
	} else {
		status = "404 Not Found";
		c->body_src = "";
	}
	len = snprintf(c->head, sizeof(c->head),
	               "HTTP/1.1 %s\r\nContent-Length: %llu\r\nContent-Type: "
	               "application/octet-stream\r\n\r\n",
	               status, n);
	if (len < 0 || (size_t)len >= sizeof(c->head))
		return -1;
	c->head_off = 0;
	c->head_len = (size_t)len;
	c->close_after = memmem(c->in, end, "\r\nConnection: close\r\n", 21) != NULL;
	c->body_left = n;
	memmove(c->in, c->in + end, c->in_len - end);
	c->in_len -= end;
	return 0;
}

/* Writes what is pending; 1 when all was sent, 0 when the socket is full, -1 on error. */
static int
conn_flush(struct conn *c)
{
	while (c->head_off < c->head_len) {
		ssize_t w =
		        send(c->fd, c->head + c->head_off, c->head_len - c->head_off, MSG_NOSIGNAL);

		if (w == -1)
			return errno == EAGAIN ? 0 : -1;
		c->head_off += (size_t)w;
	}
	while (c->body_left > 0) {
		size_t want = c->body_left < ORIGIN_CHUNK ? (size_t)c->body_left : ORIGIN_CHUNK;
		ssize_t w = send(c->fd, c->body_src ? c->body_src : pattern, want, MSG_NOSIGNAL);

		if (w == -1)
			return errno == EAGAIN ? 0 : -1;
		c->body_left -= (unsigned long long)w;
		if (c->body_src)
			c->body_src += w;
	}
	return 1;
}

/* Reads and answers requests until the socket would block; -1 to close. */
static int
conn_step(int ep, struct conn *c)
{
	for (;;) {
		char *end;
		int f = conn_flush(c);
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
		ssize_t r;

		if (f == -1)
			return -1;
		if (f == 0) /* wait for room; EPOLLOUT is edge-triggered */
			return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		/* Closing first puts TIME_WAIT here, in the origin's namespace, instead of
		 * exhausting the host's ephemeral ports at thousands of tunnels/s. */
		if (c->close_after)
			return -1;
		end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
		if (end) {
			if (conn_answer(c, (size_t)(end - c->in) + 4) == -1)
				return -1;
			continue;
		}
		if (c->in_len == sizeof(c->in))
			return -1;
		r = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
		if (r == 0)
			return -1;
		if (r == -1)
			return errno == EAGAIN ? 0 : -1;
		c->in_len += (size_t)r;
	}
}

static int
listen_on(const char *addr, const char *port_s)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	const char *errstr = NULL;
	int one = 1, fd;

	a.sin_port = htons((uint16_t)ut_strtonum(port_s, 1, 65535, &errstr));
	if (errstr || inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "origin: bad address %s:%s\n", addr, port_s);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1 || listen(fd, 4096) == -1) {
		fprintf(stderr, "origin: bind %s:%s: %s\n", addr, port_s, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
accept_all(int ep, int lis)
{
	for (;;) {
		int fd = accept4(lis, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), one = 1;
		struct conn *c;
		struct epoll_event ev = {.events = EPOLLIN | EPOLLET};

		if (fd == -1)
			return;
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd = fd;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1 || conn_step(ep, c) == -1)
			conn_close(ep, c);
	}
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[ORIGIN_MAX_EVENTS], lev = {.events = EPOLLIN};
	struct sigaction sa = {.sa_handler = on_signal};
	int lis, ep;

	if (argc != 3) {
		fprintf(stderr, "usage: origin ADDR PORT\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (char)('a' + i % 26);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lis = listen_on(argv[1], argv[2]);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (lis == -1 || ep == -1)
		return 1;
	lev.data.ptr = NULL; /* NULL marks the listener */
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lis, &lev) == -1)
		return 1;
	printf("origin: listening %s:%s\n", argv[1], argv[2]);
	fflush(stdout);
	while (!stop) {
		int n = epoll_wait(ep, evs, ORIGIN_MAX_EVENTS, -1);

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (!c)
				accept_all(ep, lis);
			else if (conn_step(ep, c) == -1)
				conn_close(ep, c);
		}
	}
	close(ep);
	close(lis);
	return 0;
}
