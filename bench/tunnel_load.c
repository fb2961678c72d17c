/*
 * bench/tunnel_load: the load client of bench/proxy. Talks HTTP/1.1 to bench/origin,
 * either through an HTTP proxy's CONNECT tunnel (--proxy HOST:PORT) or straight to the
 * origin (--direct, then --target must be an IPv4 address).
 *
 *   bulk  one tunnel; --reps GETs of /bytes/--bytes on it (keep-alive); MB/s each + median
 *   rate  --conc threads, each looping connect -> CONNECT -> GET / -> close for --secs;
 *         tunnels/s and latency p50/p99, measured from connect() to the first hop until
 *         the response body is complete (so it includes the proxy's accept, identity
 *         lookup, decision, upstream connect and both relays); then it waits for the
 *         origin's close to arrive before closing (see wait_eof())
 *   hold  prints "idle", waits for a line on stdin, opens --tunnels tunnels (each proven
 *         with one GET /), prints "ready tunnels=K", waits for a line or EOF on stdin
 *         (at most --secs), closes them: lets the script read the proxy's RSS idle and
 *         with K tunnels open
 *
 * Output: one "result mode=... key=value ..." line on stdout (hold: the two lines above).
 * --cpu N pins the process to CPU N first (sched_setaffinity), so the same pinning works
 * inside a sandbox where taskset(1) may be absent. Exit 0 on success, 1 when a run had
 * no successful request or setup failed, 2 on bad usage. Sockets time out after
 * LOAD_IO_TIMEOUT_S so a stuck proxy cannot hang the bench.
 */
#include "util/util.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>

#define LOAD_IO_TIMEOUT_S   10
#define LOAD_MAX_CONC       1024
#define LOAD_MAX_TUNNELS    10000
#define LOAD_MAX_SAMPLES    (8 * 1024 * 1024) /* latencies kept per thread */
#define LOAD_MAX_ERR_STREAK 1000              /* a worker gives up after this many in a row */
#define LOAD_HEAD_MAX       8192
#define LOAD_BULK_BUF       (256 * 1024)

struct opts {
	const char *mode;
	struct sockaddr_in hop; /* proxy, or the origin with --direct */
	char target[300];       /* HOST:PORT for CONNECT and Host: */
	bool direct;
	unsigned long long bytes;
	int reps, conc, secs, tunnels, cpu;
};

struct worker {
	pthread_t tid;
	const struct opts *o;
	double deadline;
	double *lat; /* microseconds */
	size_t n, cap;
	unsigned long errors;
	char last_err[512];
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
parse_hostport(const char *s, struct sockaddr_in *a)
{
	char host[256];
	const char *colon = strrchr(s, ':'), *errstr = NULL;
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
	long long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = ut_strtonum(colon + 1, 1, 65535, &errstr);
	if (errstr || getaddrinfo(host, NULL, &hints, &res) != 0)
		return -1;
	*a = *(struct sockaddr_in *)res->ai_addr;
	a->sin_port = htons((uint16_t)port);
	freeaddrinfo(res);
	return 0;
}

static int
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Reads one response head into buf (cap bytes); returns the status code and sets
 * *clen (-1 when absent) and *extra (body bytes read past the head), or -1.
 */
static int
read_head(int fd, char *buf, size_t cap, long long *clen, size_t *extra)
{
	size_t len = 0;
	char *end = NULL, *cl;

	buf[0] = '\0'; /* callers print it on failure */
	while (!end) {
		ssize_t r;

		if (len + 1 >= cap)
			return -1;
		r = recv(fd, buf + len, cap - 1 - len, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		len += (size_t)r;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	*extra = len - (size_t)(end + 4 - buf);
	*clen = -1;
	cl = strcasestr(buf, "\r\ncontent-length:");
	if (cl && cl < end)
		*clen = strtoll(cl + 17, NULL, 10);
	if (strncmp(buf, "HTTP/1.", 7) != 0 || len < 12)
		return -1;
	return (int)strtol(buf + 9, NULL, 10);
}

/* Reads and discards n body bytes; 0 or -1. */
static int
drain(int fd, unsigned long long n, char *buf, size_t cap)
{
	while (n > 0) {
		ssize_t r = recv(fd, buf, n < cap ? (size_t)n : cap, 0);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		n -= (unsigned long long)r;
	}
	return 0;
}

/* Connects to the first hop and, through a proxy, opens the tunnel; fd or -1 + why. */
static int
tunnel_open(const struct opts *o, char *why, size_t why_len)
{
	struct timeval tv = {.tv_sec = LOAD_IO_TIMEOUT_S};
	char req[400], head[LOAD_HEAD_MAX];
	long long clen;
	size_t extra;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, st, n;

	if (fd == -1)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&o->hop, sizeof(o->hop)) == -1)
		goto fail;
	if (o->direct)
		return fd;
	n = snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", o->target,
	             o->target);
	if (n < 0 || (size_t)n >= sizeof(req) || send_all(fd, req, (size_t)n) == -1)
		goto fail;
	st = read_head(fd, head, sizeof(head), &clen, &extra);
	if (st != 200) {
		size_t first = strcspn(head, "\r\n"); /* the status line only */

		snprintf(why, why_len, "CONNECT %s: status %d: %.*s", o->target, st,
		         (int)(first < 80 ? first : 80), head);
		close(fd);
		return -1;
	}
	return fd;
fail:
	snprintf(why, why_len, "%s", strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

/* One GET of <path> on fd; returns body bytes or -1 + why. */
static long long
http_get(const struct opts *o, int fd, const char *path, bool close_after, char *buf, size_t cap,
         char *why, size_t why_len)
{
	char req[400], head[LOAD_HEAD_MAX];
	long long clen;
	size_t extra;
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", path, o->target,
	                 close_after ? "Connection: close\r\n" : ""),
	    st;

	if (n < 0 || (size_t)n >= sizeof(req) || send_all(fd, req, (size_t)n) == -1)
		goto fail;
	st = read_head(fd, head, sizeof(head), &clen, &extra);
	if (st != 200 || clen < 0 || (long long)extra > clen) {
		snprintf(why, why_len, "GET %s: status %d", path, st);
		return -1;
	}
	if (drain(fd, (unsigned long long)clen - extra, buf, cap) == -1)
		goto fail;
	return clen;
fail:
	snprintf(why, why_len, "GET %s: %s", path, strerror(errno));
	return -1;
}

static int
run_bulk(const struct opts *o)
{
	char why[512], path[64], *buf = malloc(LOAD_BULK_BUF);
	double *mbs = calloc((size_t)o->reps, sizeof(double));
	int fd = buf && mbs ? tunnel_open(o, why, sizeof(why)) : -1;

	if (fd == -1) {
		fprintf(stderr, "tunnel_load: bulk: %s\n", buf && mbs ? why : "out of memory");
		return 1;
	}
	snprintf(path, sizeof(path), "/bytes/%llu", o->bytes);
	for (int i = 0; i < o->reps; i++) {
		double t0 = now_s();

		if (http_get(o, fd, path, false, buf, LOAD_BULK_BUF, why, sizeof(why)) == -1) {
			fprintf(stderr, "tunnel_load: bulk: %s\n", why);
			return 1;
		}
		mbs[i] = (double)o->bytes / (now_s() - t0) / 1e6;
	}
	close(fd);
	printf("result mode=bulk bytes=%llu reps=%d", o->bytes, o->reps);
	for (int i = 0; i < o->reps; i++)
		printf("%s%.0f", i ? "," : " each_mb_per_s=", mbs[i]);
	qsort(mbs, (size_t)o->reps, sizeof(double), cmp_double);
	printf(" mb_per_s=%.0f\n", mbs[o->reps / 2]);
	free(mbs);
	free(buf);
	return 0;
}

/*
 * Waits for the peer's FIN (the origin closes first after "Connection: close", and a
 * proxy passes that on), so this side does not hold TIME_WAIT: at thousands of
 * connections per second the host's ephemeral ports would run out within seconds.
 */
static void
wait_eof(int fd, char *buf, size_t cap)
{
	while (recv(fd, buf, cap, 0) > 0)
		;
}

static void *
rate_worker(void *arg)
{
	struct worker *w = arg;
	char buf[4096], why[512];
	int streak = 0;

	while (now_s() < w->deadline && streak < LOAD_MAX_ERR_STREAK) {
		double t0 = now_s();
		int fd = tunnel_open(w->o, why, sizeof(why));

		if (fd != -1 &&
		    http_get(w->o, fd, "/", true, buf, sizeof(buf), why, sizeof(why)) != -1) {
			double us = (now_s() - t0) * 1e6;

			wait_eof(fd, buf, sizeof(buf));
			close(fd);
			streak = 0;
			if (w->n == w->cap && w->cap < LOAD_MAX_SAMPLES) {
				size_t nc = w->cap ? w->cap * 2 : 4096;
				double *nl = realloc(w->lat, nc * sizeof(double));

				if (nl) {
					w->lat = nl;
					w->cap = nc;
				}
			}
			if (w->n < w->cap)
				w->lat[w->n++] = us;
			continue;
		}
		if (fd != -1)
			close(fd);
		w->errors++;
		streak++;
		ut_strlcpy(w->last_err, why, sizeof(w->last_err));
	}
	return NULL;
}

static int
run_rate(const struct opts *o)
{
	struct worker *w = calloc((size_t)o->conc, sizeof(*w));
	double t0 = now_s(), secs, *all;
	size_t total = 0, k = 0;
	unsigned long errors = 0;

	if (!w)
		return 1;
	for (int i = 0; i < o->conc; i++) {
		w[i].o = o;
		w[i].deadline = t0 + o->secs;
		if (pthread_create(&w[i].tid, NULL, rate_worker, &w[i]) != 0) {
			fprintf(stderr, "tunnel_load: pthread_create failed\n");
			return 1;
		}
	}
	for (int i = 0; i < o->conc; i++) {
		pthread_join(w[i].tid, NULL);
		total += w[i].n;
		errors += w[i].errors;
	}
	secs = now_s() - t0;
	all = malloc((total ? total : 1) * sizeof(double));
	for (int i = 0; i < o->conc; i++) {
		if (all && w[i].n)
			memcpy(all + k, w[i].lat, w[i].n * sizeof(double));
		k += w[i].n;
		if (w[i].errors)
			fprintf(stderr, "tunnel_load: rate: %lu errors, last: %s\n", w[i].errors,
			        w[i].last_err);
		free(w[i].lat);
	}
	free(w);
	if (!all || total == 0) {
		fprintf(stderr, "tunnel_load: rate: no successful request\n");
		free(all);
		return 1;
	}
	qsort(all, total, sizeof(double), cmp_double);
	printf("result mode=rate conc=%d secs=%.2f n=%zu errors=%lu tunnels_per_s=%.0f "
	       "p50_us=%.0f p99_us=%.0f\n",
	       o->conc, secs, total, errors, (double)total / secs, all[total / 2],
	       all[(size_t)((double)total * 0.99)]);
	free(all);
	return 0;
}

/* Waits for a line or EOF on stdin, at most secs; a missing stdin is an EOF. */
static void
wait_stdin(int secs)
{
	struct pollfd p = {.fd = 0, .events = POLLIN};
	char c;

	if (poll(&p, 1, secs * 1000) > 0)
		while (read(0, &c, 1) == 1 && c != '\n')
			;
}

static int
run_hold(const struct opts *o)
{
	int *fds = calloc((size_t)o->tunnels, sizeof(int)), rc = 0, n = 0;
	char buf[4096], why[512];

	if (!fds)
		return 1;
	printf("idle\n");
	fflush(stdout);
	wait_stdin(o->secs);
	for (; n < o->tunnels; n++) {
		fds[n] = tunnel_open(o, why, sizeof(why));
		if (fds[n] == -1 ||
		    http_get(o, fds[n], "/", false, buf, sizeof(buf), why, sizeof(why)) == -1) {
			fprintf(stderr, "tunnel_load: hold: tunnel %d: %s\n", n, why);
			if (fds[n] != -1)
				close(fds[n]);
			rc = 1;
			break;
		}
	}
	printf("ready tunnels=%d\n", n);
	fflush(stdout);
	wait_stdin(o->secs);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	return rc;
}

static void
usage(void)
{
	fprintf(stderr,
	        "usage: tunnel_load bulk|rate|hold (--proxy HOST:PORT | --direct) --target "
	        "HOST:PORT\n"
	        "       [--bytes N] [--reps R] [--conc C] [--secs T] [--tunnels K] [--cpu N]\n");
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	const char *proxy = NULL, *errstr = NULL;

	*o = (struct opts){
	        .bytes = 1ULL << 30, .reps = 3, .conc = 8, .secs = 5, .tunnels = 100, .cpu = -1};
	if (argc < 2)
		return -1;
	o->mode = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(k, "--direct") == 0) {
			o->direct = true;
			continue;
		}
		if (!v)
			return -1;
		i++;
		if (strcmp(k, "--proxy") == 0)
			proxy = v;
		else if (strcmp(k, "--target") == 0)
			ut_strlcpy(o->target, v, sizeof(o->target));
		else if (strcmp(k, "--bytes") == 0)
			o->bytes = (unsigned long long)ut_strtonum(v, 1, 1LL << 40, &errstr);
		else if (strcmp(k, "--reps") == 0)
			o->reps = (int)ut_strtonum(v, 1, 100, &errstr);
		else if (strcmp(k, "--conc") == 0)
			o->conc = (int)ut_strtonum(v, 1, LOAD_MAX_CONC, &errstr);
		else if (strcmp(k, "--secs") == 0)
			o->secs = (int)ut_strtonum(v, 1, 3600, &errstr);
		else if (strcmp(k, "--tunnels") == 0)
			o->tunnels = (int)ut_strtonum(v, 1, LOAD_MAX_TUNNELS, &errstr);
		else if (strcmp(k, "--cpu") == 0)
			o->cpu = (int)ut_strtonum(v, 0, CPU_SETSIZE - 1, &errstr);
		else
			return -1;
		if (errstr) {
			fprintf(stderr, "tunnel_load: %s %s: %s\n", k, v, errstr);
			return -1;
		}
	}
	if (!o->target[0] || o->direct == (proxy != NULL))
		return -1;
	if (parse_hostport(o->direct ? o->target : proxy, &o->hop) == -1) {
		fprintf(stderr, "tunnel_load: cannot resolve %s\n", o->direct ? o->target : proxy);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;

	if (parse_opts(argc, argv, &o) == -1) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) == -1)
			fprintf(stderr, "tunnel_load: warning: pinning to CPU %d: %s\n", o.cpu,
			        strerror(errno));
	}
	if (strcmp(o.mode, "bulk") == 0)
		return run_bulk(&o);
	if (strcmp(o.mode, "rate") == 0)
		return run_rate(&o);
	if (strcmp(o.mode, "hold") == 0)
		return run_hold(&o);
	usage();
	return 2;
}
