/*
 * bench/faults_client: the client of bench/faults and tests/integration/proxy_faults.sh.
 * Runs inside `agentcage run` and talks to the proxy (--proxy, default 127.0.0.1:3128);
 * TARGET is HOST:PORT of bench/faults_origin (or a TLS server for tlsvanish).
 *
 *   hold N TARGET        opens N tunnels to the echo port, prints "ready tunnels=K", waits
 *                        for a line on stdin, sends one byte on each and reads it back,
 *                        prints "echoed ok=K", waits for a line, closes them all, prints
 *                        "closed"
 *   short COUNT CONC TARGET
 *                        COUNT times (CONC threads): connect, CONNECT, GET / with
 *                        "Connection: close", the whole answer, the origin's close, close;
 *                        prints "result n=.. errors=.. secs=.. per_s=.." (+ the last error)
 *   req TARGET [get|forward] [TIMEOUT_MS]
 *                        one CONNECT (and a GET / on the tunnel), or one absolute-form GET
 *                        (forward); reads until EOF, reset or TIMEOUT_MS (then gives up and
 *                        closes); prints "connect=S status=S bytes=N end=eof|reset|timeout"
 *   slowloris N TARGET   N clients send a partial CONNECT head and stall; meanwhile one
 *                        normal client does a CONNECT + GET every FAULTS_NORMAL_EVERY_MS;
 *                        ends when every stalled client was answered and closed (or after
 *                        FAULTS_SLOW_MAX_MS); prints "result slow=N cut=K s408=K
 *                        cut_ms_min=.. cut_ms_max=.. normal_n=.. normal_errors=..
 *                        normal_p50_us=.. normal_max_us=.."
 *   emfile MAX EXTRA TARGET
 *                        opens echo tunnels until one fails (at most MAX), then EXTRA more
 *                        bare connections; prints "saturated tunnels=K first_fail=..", waits
 *                        for a line; one more CONNECT (prints "during=..."); closes all,
 *                        prints "released"; then retries a tunnel + echo every
 *                        FAULTS_RETRY_MS until it works: "recovered ms=.. echo=ok"
 *   tlsvanish N TARGET half|full
 *                        N times: CONNECT, then a real TLS ClientHello (SNI = TARGET's
 *                        host): half of it, or all of it and the server's first bytes;
 *                        then vanishes (SO_LINGER 0: a RST); prints "result n=.. got=.."
 *
 * Every socket times out after FAULTS_IO_TIMEOUT_S, so a stuck proxy cannot hang a run.
 * Exit: 0 when the mode's expectation held, 1 otherwise, 2 on bad usage.
 */
#include "util/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <time.h>

#define FAULTS_IO_TIMEOUT_S   15
#define FAULTS_HEAD_MAX       8192
#define FAULTS_MAX_CONC       256
#define FAULTS_MAX_HOLD       60000
#define FAULTS_NORMAL_EVERY_MS 10
#define FAULTS_SLOW_MAX_MS    30000
#define FAULTS_RETRY_MS       50
#define FAULTS_RECOVER_MAX_MS 10000

static struct sockaddr_in proxy_addr;
static char target[300];

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
send_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A connected socket to the proxy with timeouts (timeout_ms 0: the default), or -1. */
static int
proxy_connect(int timeout_ms)
{
	struct timeval tv = {.tv_sec = FAULTS_IO_TIMEOUT_S};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd == -1)
		return -1;
	if (timeout_ms > 0)
		tv = (struct timeval){.tv_sec = timeout_ms / 1000,
		                      .tv_usec = (timeout_ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&proxy_addr, sizeof(proxy_addr)) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/*
 * Reads a response head into buf; returns its status, 0 on EOF before a head, -1 on an
 * error (errno: ECONNRESET, EAGAIN for a timeout). *extra = body bytes read past it.
 */
static int
read_head(int fd, char *buf, size_t cap, size_t *extra, long long *clen)
{
	size_t len = 0;
	char *end = NULL, *cl;

	buf[0] = '\0';
	while (!end) {
		ssize_t r;

		if (len + 1 >= cap) {
			errno = E2BIG;
			return -1;
		}
		r = recv(fd, buf + len, cap - 1 - len, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0)
			return 0;
		if (r < 0)
			return -1;
		len += (size_t)r;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	*extra = len - (size_t)(end + 4 - buf);
	*clen = -1;
	if ((cl = strcasestr(buf, "\r\ncontent-length:")) && cl < end)
		*clen = strtoll(cl + 17, NULL, 10);
	if (strncmp(buf, "HTTP/1.", 7) != 0 || len < 12) {
		errno = EPROTO;
		return -1;
	}
	return (int)strtol(buf + 9, NULL, 10);
}

/* Opens a tunnel to target; fd, or -1 with *status (0: no answer) and why. */
static int
tunnel_open(int timeout_ms, int *status, char *why, size_t why_len)
{
	char req[700], head[FAULTS_HEAD_MAX];
	size_t extra;
	long long clen;
	int fd = proxy_connect(timeout_ms), n, st;

	*status = 0;
	if (fd == -1) {
		snprintf(why, why_len, "connect: %s", strerror(errno));
		return -1;
	}
	n = snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target);
	if (send_all(fd, req, (size_t)n) == -1) {
		snprintf(why, why_len, "send CONNECT: %s", strerror(errno));
		goto fail;
	}
	st = read_head(fd, head, sizeof(head), &extra, &clen);
	*status = st > 0 ? st : 0;
	if (st == 200)
		return fd;
	if (st > 0)
		snprintf(why, why_len, "CONNECT: %.*s", (int)strcspn(head, "\r\n"), head);
	else
		snprintf(why, why_len, "CONNECT: %s", st == 0 ? "closed" : strerror(errno));
fail:
	close(fd);
	return -1;
}

/* Waits for a line (or EOF) on stdin. */
static void
wait_line(void)
{
	char c;

	while (read(0, &c, 1) == 1 && c != '\n')
		;
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* One byte there and back on a tunnel to the echo port; 0 or -1. */
static int
echo_byte(int fd)
{
	char c = 'e', r = 0;

	return send_all(fd, &c, 1) == 0 && recv(fd, &r, 1, 0) == 1 && r == c ? 0 : -1;
}

static int
run_hold(int n)
{
	int *fds = calloc((size_t)n, sizeof(int)), k = 0, ok = 0, st;
	char why[512];

	if (!fds)
		return 1;
	raise_nofile();
	for (; k < n; k++)
		if ((fds[k] = tunnel_open(0, &st, why, sizeof(why))) == -1) {
			fprintf(stderr, "faults_client: hold: tunnel %d: %s\n", k, why);
			break;
		}
	printf("ready tunnels=%d\n", k);
	fflush(stdout);
	wait_line();
	for (int i = 0; i < k; i++)
		ok += echo_byte(fds[i]) == 0;
	printf("echoed ok=%d\n", ok);
	fflush(stdout);
	wait_line();
	for (int i = 0; i < k; i++)
		close(fds[i]);
	free(fds);
	printf("closed\n");
	fflush(stdout);
	return k == n && ok == n ? 0 : 1;
}

/* One CONNECT + GET / + the origin's close; 0 or -1 with why. */
static int
short_one(char *why, size_t why_len)
{
	char head[FAULTS_HEAD_MAX], req[400], buf[4096];
	size_t extra;
	long long clen;
	int st, fd = tunnel_open(0, &st, why, why_len), n;

	if (fd == -1)
		return -1;
	n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
	             target);
	if (send_all(fd, req, (size_t)n) == -1 ||
	    (st = read_head(fd, head, sizeof(head), &extra, &clen)) != 200 || clen != 3) {
		snprintf(why, why_len, "GET: status %d", st);
		close(fd);
		return -1;
	}
	for (size_t got = extra; got < 3;) { /* the body, then the close */
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (r <= 0) {
			snprintf(why, why_len, "GET: short body");
			close(fd);
			return -1;
		}
		got += (size_t)r;
	}
	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
	close(fd);
	return 0;
}

struct short_state {
	atomic_long left, done, errors;
	pthread_mutex_t mu;
	char last_err[512];
	long total;
};

static void *
short_worker(void *arg)
{
	struct short_state *s = arg;
	char why[512];

	while (atomic_fetch_sub(&s->left, 1) > 0) {
		long d;

		if (short_one(why, sizeof(why)) == -1) {
			atomic_fetch_add(&s->errors, 1);
			pthread_mutex_lock(&s->mu);
			ut_strlcpy(s->last_err, why, sizeof(s->last_err));
			pthread_mutex_unlock(&s->mu);
		}
		d = atomic_fetch_add(&s->done, 1) + 1;
		if (s->total >= 100000 && d % (s->total / 10) == 0)
			fprintf(stderr, "faults_client: short: %ld of %ld\n", d, s->total);
	}
	return NULL;
}

static int
run_short(long count, int conc)
{
	static struct short_state s;
	pthread_t tid[FAULTS_MAX_CONC];
	double t0 = now_ms(), secs;

	atomic_init(&s.left, count);
	atomic_init(&s.done, 0);
	atomic_init(&s.errors, 0);
	pthread_mutex_init(&s.mu, NULL);
	s.total = count;
	for (int i = 0; i < conc; i++)
		if (pthread_create(&tid[i], NULL, short_worker, &s) != 0)
			return 1;
	for (int i = 0; i < conc; i++)
		pthread_join(tid[i], NULL);
	secs = (now_ms() - t0) / 1e3;
	printf("result n=%ld errors=%ld secs=%.1f per_s=%.0f%s%s\n", (long)atomic_load(&s.done),
	       (long)atomic_load(&s.errors), secs, (double)count / secs,
	       s.last_err[0] ? " last_error=" : "", s.last_err);
	return atomic_load(&s.errors) == 0 ? 0 : 1;
}

static int
run_req(const char *how, int timeout_ms)
{
	char head[FAULTS_HEAD_MAX], req[700], buf[16384], why[512];
	size_t extra = 0;
	long long clen, bytes;
	int cst = 0, st = 0, fd, n;
	const char *end = "eof";
	bool forward = strcmp(how, "forward") == 0;

	if (forward) {
		fd = proxy_connect(timeout_ms);
		n = snprintf(req, sizeof(req),
		             "GET http://%s/ HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
		             target, target);
		if (fd == -1 || send_all(fd, req, (size_t)n) == -1) {
			printf("connect=0 status=0 bytes=0 end=error\n");
			return 1;
		}
	} else {
		fd = tunnel_open(timeout_ms, &cst, why, sizeof(why));
		if (fd == -1) {
			printf("connect=%d status=0 bytes=0 end=refused why=%s\n", cst, why);
			return 0;
		}
		if (strcmp(how, "get") != 0) {
			close(fd);
			printf("connect=%d status=0 bytes=0 end=none\n", cst);
			return 0;
		}
		n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", target);
		send_all(fd, req, (size_t)n);
	}
	st = read_head(fd, head, sizeof(head), &extra, &clen);
	bytes = (long long)extra;
	if (st > 0)
		for (;;) {
			ssize_t r = recv(fd, buf, sizeof(buf), 0);

			if (r > 0) {
				bytes += r;
				continue;
			}
			if (r == 0)
				break;
			end = errno == EAGAIN ? "timeout" : errno == ECONNRESET ? "reset" : "error";
			break;
		}
	else if (st == -1)
		end = errno == EAGAIN ? "timeout" : errno == ECONNRESET ? "reset" : "error";
	close(fd);
	printf("connect=%d status=%d bytes=%lld end=%s\n", forward ? 0 : cst, st < 0 ? 0 : st,
	       bytes, end);
	return 0;
}

/* The normal client of slowloris: one tunnel + GET, its latency in *us; 0 or -1. */
static int
timed_short(double *us)
{
	char why[512];
	double t0 = now_ms();
	int rc = short_one(why, sizeof(why));

	*us = (now_ms() - t0) * 1e3;
	if (rc == -1)
		fprintf(stderr, "faults_client: slowloris: normal client: %s\n", why);
	return rc;
}

static int
run_slowloris(int n)
{
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	double *cut = calloc((size_t)n, sizeof(double)), t0, *lat, cmin = 1e18, cmax = 0;
	int left = n, s408 = 0, ncut = 0, nerr = 0;
	size_t nlat = 0, lcap = 4096;
	char part[400];
	int plen = snprintf(part, sizeof(part), "CONNECT %s HTTP/1.1\r\nHost: ", target);

	lat = malloc(lcap * sizeof(double));
	if (!p || !cut || !lat)
		return 1;
	raise_nofile();
	t0 = now_ms();
	for (int i = 0; i < n; i++) {
		p[i].fd = proxy_connect(0);
		p[i].events = POLLIN;
		if (p[i].fd == -1 || send_all(p[i].fd, part, (size_t)plen) == -1) {
			fprintf(stderr, "faults_client: slowloris: client %d: %s\n", i, strerror(errno));
			return 1;
		}
	}
	while (left > 0 && now_ms() - t0 < FAULTS_SLOW_MAX_MS) {
		double us;

		if (poll(p, (nfds_t)n, FAULTS_NORMAL_EVERY_MS) > 0)
			for (int i = 0; i < n; i++) {
				char buf[4096];
				ssize_t r;

				if (p[i].fd < 0 || !p[i].revents)
					continue;
				r = recv(p[i].fd, buf, sizeof(buf) - 1, 0);
				if (r > 0) {
					buf[r] = '\0';
					s408 += strncmp(buf, "HTTP/1.1 408 ", 13) == 0;
					continue;
				}
				cut[i] = now_ms() - t0; /* closed: EOF or reset */
				cmin = cut[i] < cmin ? cut[i] : cmin;
				cmax = cut[i] > cmax ? cut[i] : cmax;
				close(p[i].fd);
				p[i].fd = -1;
				ncut++;
				left--;
			}
		if (timed_short(&us) == -1)
			nerr++;
		if (nlat == lcap) {
			double *nl = realloc(lat, (lcap *= 2) * sizeof(double));

			if (!nl)
				return 1;
			lat = nl;
		}
		lat[nlat++] = us;
	}
	qsort(lat, nlat, sizeof(double), cmp_double);
	printf("result slow=%d cut=%d s408=%d cut_ms_min=%.0f cut_ms_max=%.0f normal_n=%zu "
	       "normal_errors=%d normal_p50_us=%.0f normal_max_us=%.0f\n",
	       n, ncut, s408, ncut ? cmin : 0, cmax, nlat, nerr, nlat ? lat[nlat / 2] : 0,
	       nlat ? lat[nlat - 1] : 0);
	for (int i = 0; i < n; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	free(p);
	free(cut);
	free(lat);
	return ncut == n && s408 == n && nerr == 0 ? 0 : 1;
}

static int
run_emfile(int max, int extra)
{
	int *fds = calloc((size_t)(max + extra), sizeof(int)), k = 0, x = 0, st = 0, fd;
	char why[512] = "none", first[512] = "none";
	double t0;

	if (!fds)
		return 1;
	raise_nofile();
	for (; k < max; k++)
		if ((fds[k] = tunnel_open(3000, &st, first, sizeof(first))) == -1)
			break;
	for (; x < extra; x++)
		if ((fds[k + x] = proxy_connect(3000)) == -1)
			break;
	printf("saturated tunnels=%d extra=%d first_fail=\"%s\"\n", k, x, first);
	fflush(stdout);
	wait_line();
	t0 = now_ms();
	fd = tunnel_open(3000, &st, why, sizeof(why));
	printf("during=\"%s\" ms=%.0f\n", fd == -1 ? why : "tunnel opened", now_ms() - t0);
	fflush(stdout);
	if (fd != -1)
		close(fd);
	for (int i = 0; i < k + x; i++)
		close(fds[i]);
	free(fds);
	printf("released\n");
	fflush(stdout);
	t0 = now_ms();
	while (now_ms() - t0 < FAULTS_RECOVER_MAX_MS) {
		if ((fd = tunnel_open(3000, &st, why, sizeof(why))) != -1) {
			int e = echo_byte(fd);

			close(fd);
			printf("recovered ms=%.0f echo=%s\n", now_ms() - t0, e == 0 ? "ok" : "failed");
			return e == 0 ? 0 : 1;
		}
		poll(NULL, 0, FAULTS_RETRY_MS);
	}
	printf("recovered ms=never last=\"%s\"\n", why);
	return 1;
}

/* A ClientHello for <sni> in *out (malloc'd), made by OpenSSL through memory BIOs. */
static int
client_hello(SSL_CTX *ctx, const char *sni, unsigned char **out, size_t *len, SSL **ssl_out)
{
	SSL *ssl = SSL_new(ctx);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	char *p;
	long n;

	if (!ssl || !rb || !wb)
		return -1;
	SSL_set_bio(ssl, rb, wb);
	SSL_set_tlsext_host_name(ssl, sni);
	SSL_set_connect_state(ssl);
	SSL_do_handshake(ssl); /* WANT_READ: the ClientHello is in wb */
	n = BIO_get_mem_data(wb, &p);
	if (n <= 0 || !(*out = malloc((size_t)n)))
		return -1;
	memcpy(*out, p, (size_t)n);
	*len = (size_t)n;
	*ssl_out = ssl;
	return 0;
}

static int
run_tlsvanish(int n, bool full)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char host[256], why[512];
	long got = 0;
	int ok = 0;

	ut_strlcpy(host, target, sizeof(host));
	if (strchr(host, ':'))
		*strchr(host, ':') = '\0';
	if (!ctx)
		return 1;
	for (int i = 0; i < n; i++) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		unsigned char *hello = NULL, buf[16384];
		size_t len = 0;
		SSL *ssl = NULL;
		int st, fd = tunnel_open(0, &st, why, sizeof(why));

		if (fd == -1 || client_hello(ctx, host, &hello, &len, &ssl) == -1) {
			fprintf(stderr, "faults_client: tlsvanish: %s\n", fd == -1 ? why : "hello");
			if (fd != -1)
				close(fd);
			continue;
		}
		if (send_all(fd, hello, full ? len : len / 2) == 0) {
			ok++;
			if (full) { /* the proxy's ServerHello: the handshake is under way */
				ssize_t r = recv(fd, buf, sizeof(buf), 0);

				got += r > 0 ? r : 0;
			}
		}
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		free(hello);
		SSL_free(ssl);
	}
	SSL_CTX_free(ctx);
	printf("result n=%d sent=%d got=%ld\n", n, ok, got);
	return ok == n && (!full || got > 0) ? 0 : 1;
}

static long long
num(const char *s, long long lo, long long hi)
{
	const char *errstr = NULL;
	long long v = ut_strtonum(s, lo, hi, &errstr);

	if (errstr) {
		fprintf(stderr, "faults_client: %s: %s\n", s, errstr);
		exit(2);
	}
	return v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: faults_client [--proxy ADDR:PORT] hold N TARGET | short COUNT "
	                "CONC TARGET | req TARGET [get|forward] [TIMEOUT_MS] | slowloris N TARGET "
	                "| emfile MAX EXTRA TARGET | tlsvanish N TARGET half|full\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *proxy = "127.0.0.1:3128", *colon;
	char addr[64];

	if (argc > 2 && strcmp(argv[1], "--proxy") == 0) {
		proxy = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc < 3 || !(colon = strrchr(proxy, ':')) || (size_t)(colon - proxy) >= sizeof(addr))
		usage();
	memcpy(addr, proxy, (size_t)(colon - proxy));
	addr[colon - proxy] = '\0';
	proxy_addr.sin_family = AF_INET;
	proxy_addr.sin_port = htons((uint16_t)num(colon + 1, 1, 65535));
	if (inet_pton(AF_INET, addr, &proxy_addr.sin_addr) != 1)
		usage();
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "hold") == 0 && argc == 4) {
		ut_strlcpy(target, argv[3], sizeof(target));
		return run_hold((int)num(argv[2], 1, FAULTS_MAX_HOLD));
	}
	if (strcmp(argv[1], "short") == 0 && argc == 5) {
		ut_strlcpy(target, argv[4], sizeof(target));
		return run_short((long)num(argv[2], 1, 100000000),
		                 (int)num(argv[3], 1, FAULTS_MAX_CONC));
	}
	if (strcmp(argv[1], "req") == 0 && argc >= 3 && argc <= 5) {
		ut_strlcpy(target, argv[2], sizeof(target));
		return run_req(argc > 3 ? argv[3] : "connect",
		               argc > 4 ? (int)num(argv[4], 1, 600000) : 0);
	}
	if (strcmp(argv[1], "slowloris") == 0 && argc == 4) {
		ut_strlcpy(target, argv[3], sizeof(target));
		return run_slowloris((int)num(argv[2], 1, 10000));
	}
	if (strcmp(argv[1], "emfile") == 0 && argc == 5) {
		ut_strlcpy(target, argv[4], sizeof(target));
		return run_emfile((int)num(argv[2], 1, FAULTS_MAX_HOLD),
		                  (int)num(argv[3], 0, 10000));
	}
	if (strcmp(argv[1], "tlsvanish") == 0 && argc == 5) {
		ut_strlcpy(target, argv[3], sizeof(target));
		return run_tlsvanish((int)num(argv[2], 1, 100000), strcmp(argv[4], "full") == 0);
	}
	usage();
}
