/*
 * bench/tls_load: the HTTPS load client of bench/tls. Speaks HTTP/1.1 over TLS to an
 * origin, either straight (--connect ADDR:PORT) or through an HTTP proxy's CONNECT tunnel
 * (-x HOST:PORT), and verifies the server certificate against the name it asked for
 * (SNI + SSL_set1_host), with --cafile or, without it, OpenSSL's default store (which
 * honours SSL_CERT_FILE: inside `agentcage run` that is the sandbox's bundle).
 *
 *   -k          keep-alive: -c connections, each opened once, then GET --path in a loop
 *               for -d seconds; requests/s and per-request latency p50/p99
 *   --new-conn  -c workers, each looping connect -> [CONNECT] -> TLS handshake (full, no
 *               session resumption) -> GET --path with "Connection: close" -> wait for
 *               the peer's close -> close, for -d seconds; connections/s and latency
 *   --hold N    prints "idle", waits for a line on stdin, opens N keep-alive connections
 *               (each proven with one GET), prints "ready conns=K", waits for a line or
 *               EOF on stdin (at most -d seconds), closes them: lets bench/tls read a
 *               proxy's RSS before and with K terminated connections open
 *
 * Names: --host NAME is the server name of every connection (SNI, certificate check,
 * Host header, CONNECT target); --host-pattern PAT with --names M instead gives the k-th
 * connection the name PAT with "%d" replaced by k mod M (a leaf cache of a MITM proxy
 * then sees a new host per connection while k < M).
 *
 * Output: one "result mode=... key=value ..." line on stdout (--hold: the two lines
 * above). Any failure (connect, CONNECT refused, handshake, certificate, a status other
 * than 200, a malformed or chunked response, a close mid-response) stops the run: the
 * first failure is printed to stderr as "tls_load: FAIL: ..." and the exit code is 1.
 * Exit 2 on bad usage. Sockets time out after LOAD_IO_TIMEOUT_S so a stuck proxy cannot
 * hang the bench. --cpu N pins the process first (works inside a sandbox too).
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
#include <stdarg.h>
#include <stdatomic.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define LOAD_IO_TIMEOUT_S   10
#define LOAD_EOF_WAIT_S     2       /* new-conn: how long the peer may take to close */
#define LOAD_MAX_CONNS      1024    /* -c */
#define LOAD_MAX_HOLD       20000   /* --hold */
#define LOAD_MAX_NAMES      1000000 /* --names */
#define LOAD_MAX_SAMPLES    (8 * 1024 * 1024)
#define LOAD_HEAD_MAX       8192
#define LOAD_BODY_MAX       (64 * 1024 * 1024) /* Content-Length accepted */
#define LOAD_DRAIN_BUF      16384
#define LOAD_HOST_MAX       253
#define LOAD_ERR_MAX        1024

struct opts {
	enum { MODE_NONE, MODE_KEEPALIVE, MODE_NEWCONN, MODE_HOLD } mode;
	struct sockaddr_in hop; /* the proxy, or the origin with --connect */
	bool via_proxy;
	const char *host;         /* --host */
	const char *pattern;      /* --host-pattern, "%d" inside */
	long names;               /* --names */
	int port;                 /* origin port: CONNECT target and Host header */
	const char *path;         /* --path */
	const char *cafile;       /* --cafile; NULL: default store (SSL_CERT_FILE) */
	int conns, secs, hold, cpu;
};

/* One connection: TCP fd + its TLS session + the name it was opened for. */
struct tconn {
	int fd;
	SSL *ssl;
	char host[LOAD_HOST_MAX + 1];
};

struct worker {
	pthread_t tid;
	const struct opts *o;
	SSL_CTX *ctx;
	double deadline;
	double *lat; /* microseconds */
	size_t n, cap;
	unsigned long eof_timeouts;
};

static atomic_bool g_failed;
static atomic_ulong g_name_seq;
static pthread_mutex_t g_err_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_err[LOAD_ERR_MAX];

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

/* Records the run's first failure (later ones only stop their worker) and stops all. */
static void __attribute__((format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&g_err_lock);
	if (!atomic_load(&g_failed)) {
		va_start(ap, fmt);
		vsnprintf(g_err, sizeof(g_err), fmt, ap);
		va_end(ap);
		atomic_store(&g_failed, true);
	}
	pthread_mutex_unlock(&g_err_lock);
}

/* OpenSSL's reason for the last failure on <ssl>: verify result first, then the queue. */
static void
ssl_reason(SSL *ssl, char *buf, size_t cap)
{
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	unsigned long e = ERR_get_error();

	if (vr != X509_V_OK)
		snprintf(buf, cap, "certificate verify failed: %s",
		         X509_verify_cert_error_string(vr));
	else if (e)
		ERR_error_string_n(e, buf, cap);
	else
		snprintf(buf, cap, "%s", errno ? strerror(errno) : "connection closed");
	ERR_clear_error();
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

/* The name of the next connection: --host, or --host-pattern with the next number. */
static int
next_name(const struct opts *o, char *out, size_t cap)
{
	const char *pct;
	unsigned long k;
	int n;

	if (!o->pattern)
		return ut_strlcpy(out, o->host, cap) >= cap ? -1 : 0;
	pct = strstr(o->pattern, "%d");
	k = atomic_fetch_add(&g_name_seq, 1) % (unsigned long)o->names;
	n = snprintf(out, cap, "%.*s%lu%s", (int)(pct - o->pattern), o->pattern, k, pct + 2);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
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

/* The proxy's answer to CONNECT: 0 on a 2xx, else -1 with the status line in why. */
static int
connect_tunnel(const struct opts *o, int fd, const char *host, char *why, size_t cap)
{
	char req[600], head[LOAD_HEAD_MAX];
	size_t len = 0;
	int n = snprintf(req, sizeof(req), "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n",
	                 host, o->port, host, o->port);

	if (n < 0 || (size_t)n >= sizeof(req) || send_all(fd, req, (size_t)n) == -1)
		goto io_error;
	/* Byte by byte: nothing may be consumed past the head (TLS starts right after). */
	while (len < 4 || memcmp(head + len - 4, "\r\n\r\n", 4) != 0) {
		ssize_t r;

		if (len + 1 >= sizeof(head)) {
			snprintf(why, cap, "CONNECT %s: response head over %zu bytes", host,
			         sizeof(head));
			return -1;
		}
		r = recv(fd, head + len, 1, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0)
			errno = ECONNRESET;
		if (r <= 0)
			goto io_error;
		len++;
	}
	head[len] = '\0';
	if (len < 12 || strncmp(head, "HTTP/1.", 7) != 0 || head[9] != '2') {
		snprintf(why, cap, "CONNECT %s:%d refused: %.*s", host, o->port,
		         (int)strcspn(head, "\r\n"), head);
		return -1;
	}
	return 0;
io_error:
	snprintf(why, cap, "CONNECT %s: %s", host, strerror(errno));
	return -1;
}

static void
tconn_close(struct tconn *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->fd != -1)
		close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
}

/* TCP connect to the first hop, CONNECT through a proxy, TLS handshake with the peer
 * verified against the connection's name. 0, or -1 with why. */
static int
tconn_open(const struct opts *o, SSL_CTX *ctx, struct tconn *c, char *why, size_t cap)
{
	struct timeval tv = {.tv_sec = LOAD_IO_TIMEOUT_S};
	char reason[256];
	int one = 1;

	c->ssl = NULL;
	c->fd = -1;
	if (next_name(o, c->host, sizeof(c->host)) == -1) {
		snprintf(why, cap, "host name too long");
		return -1;
	}
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		goto sys_error;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (const struct sockaddr *)&o->hop, sizeof(o->hop)) == -1)
		goto sys_error;
	if (o->via_proxy && connect_tunnel(o, c->fd, c->host, why, cap) == -1)
		goto fail;
	c->ssl = SSL_new(ctx);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd) || !SSL_set_tlsext_host_name(c->ssl, c->host) ||
	    !SSL_set1_host(c->ssl, c->host)) {
		ssl_reason(NULL, reason, sizeof(reason));
		snprintf(why, cap, "TLS set-up for %s: %s", c->host, reason);
		goto fail;
	}
	ERR_clear_error();
	errno = 0;
	if (SSL_connect(c->ssl) != 1) {
		ssl_reason(c->ssl, reason, sizeof(reason));
		snprintf(why, cap, "TLS handshake with %s: %s", c->host, reason);
		goto fail;
	}
	return 0;
sys_error:
	snprintf(why, cap, "connect: %s", strerror(errno));
fail:
	tconn_close(c);
	return -1;
}

/* Reads and discards exactly n body bytes (n may be 0); 0 or -1 with why. */
static int
tls_drain(struct tconn *c, size_t n, char *why, size_t cap)
{
	char buf[LOAD_DRAIN_BUF], reason[256];

	while (n > 0) {
		int r;

		ERR_clear_error();
		errno = 0;
		r = SSL_read(c->ssl, buf, n < sizeof(buf) ? (int)n : (int)sizeof(buf));
		if (r <= 0) {
			ssl_reason(c->ssl, reason, sizeof(reason));
			snprintf(why, cap, "%s: response cut short: %s", c->host, reason);
			return -1;
		}
		n -= (size_t)r;
	}
	return 0;
}

/*
 * One GET of --path on <c>; a 200 with a Content-Length body is read completely.
 * 0, or -1 with why (status other than 200 with its status line, chunked, cut short).
 */
static int
tls_get(const struct opts *o, struct tconn *c, bool close_after, char *why, size_t cap)
{
	char req[800], head[LOAD_HEAD_MAX + 1], reason[256], *end = NULL, *cl;
	char portsfx[8] = "";
	size_t len = 0;
	long long clen;
	int n, w;

	if (o->port != 443)
		snprintf(portsfx, sizeof(portsfx), ":%d", o->port);
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s%s\r\n%s\r\n", o->path,
	             c->host, portsfx, close_after ? "Connection: close\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(req)) {
		snprintf(why, cap, "request too long");
		return -1;
	}
	ERR_clear_error();
	errno = 0;
	w = SSL_write(c->ssl, req, n);
	if (w != n) {
		ssl_reason(c->ssl, reason, sizeof(reason));
		snprintf(why, cap, "%s: sending the request: %s", c->host, reason);
		return -1;
	}
	while (!end) {
		int r;

		if (len >= LOAD_HEAD_MAX) {
			snprintf(why, cap, "%s: response head over %d bytes", c->host,
			         LOAD_HEAD_MAX);
			return -1;
		}
		ERR_clear_error();
		errno = 0;
		r = SSL_read(c->ssl, head + len, (int)(LOAD_HEAD_MAX - len));
		if (r <= 0) {
			ssl_reason(c->ssl, reason, sizeof(reason));
			snprintf(why, cap, "%s: no response head: %s", c->host, reason);
			return -1;
		}
		len += (size_t)r;
		head[len] = '\0';
		end = strstr(head, "\r\n\r\n");
	}
	if (len < 12 || strncmp(head, "HTTP/1.", 7) != 0 || strncmp(head + 8, " 200", 4) != 0) {
		snprintf(why, cap, "GET https://%s%s%s: %.*s", c->host, portsfx, o->path,
		         (int)strcspn(head, "\r\n"), head);
		return -1;
	}
	cl = strcasestr(head, "\r\ncontent-length:");
	if (!cl || cl > end) {
		snprintf(why, cap, "%s: response without Content-Length (chunked or "
		         "close-delimited bodies are not supported by tls_load)", c->host);
		return -1;
	}
	clen = strtoll(cl + 17, NULL, 10);
	len -= (size_t)(end + 4 - head);
	if (clen < 0 || clen > LOAD_BODY_MAX || (long long)len > clen) {
		snprintf(why, cap, "%s: Content-Length %lld with %zu body bytes already read",
		         c->host, clen, len);
		return -1;
	}
	return tls_drain(c, (size_t)clen - len, why, cap);
}

/* new-conn: the server closes after "Connection: close"; wait for that (bounded) so the
 * TIME_WAIT stays on the server side. Returns false when the peer did not close in time. */
static bool
wait_peer_close(struct tconn *c)
{
	struct timeval tv = {.tv_sec = LOAD_EOF_WAIT_S};
	char buf[512];

	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		int r = SSL_read(c->ssl, buf, sizeof(buf));

		if (r > 0)
			continue;
		if (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN)
			return true;
		ERR_clear_error();
		return errno != EAGAIN && errno != EWOULDBLOCK;
	}
}

static void
sample(struct worker *w, double us)
{
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
}

static void *
keepalive_worker(void *arg)
{
	struct worker *w = arg;
	struct tconn c;
	char why[LOAD_ERR_MAX];

	if (tconn_open(w->o, w->ctx, &c, why, sizeof(why)) == -1) {
		fail("%s", why);
		return NULL;
	}
	while (!atomic_load(&g_failed) && now_s() < w->deadline) {
		double t0 = now_s();

		if (tls_get(w->o, &c, false, why, sizeof(why)) == -1) {
			fail("%s", why);
			break;
		}
		sample(w, (now_s() - t0) * 1e6);
	}
	tconn_close(&c);
	return NULL;
}

static void *
newconn_worker(void *arg)
{
	struct worker *w = arg;
	struct tconn c;
	char why[LOAD_ERR_MAX];

	while (!atomic_load(&g_failed) && now_s() < w->deadline) {
		double t0 = now_s(), us;

		if (tconn_open(w->o, w->ctx, &c, why, sizeof(why)) == -1 ||
		    tls_get(w->o, &c, true, why, sizeof(why)) == -1) {
			fail("%s", why);
			tconn_close(&c);
			break;
		}
		us = (now_s() - t0) * 1e6;
		if (!wait_peer_close(&c))
			w->eof_timeouts++;
		tconn_close(&c);
		sample(w, us);
	}
	return NULL;
}

static int
run_workers(const struct opts *o, SSL_CTX *ctx)
{
	struct worker *w = calloc((size_t)o->conns, sizeof(*w));
	double t0 = now_s(), secs, *all = NULL;
	size_t total = 0, k = 0;
	unsigned long eof_timeouts = 0;
	int started = 0, rc = 1;
	bool ka = o->mode == MODE_KEEPALIVE;

	if (!w) {
		fprintf(stderr, "tls_load: FAIL: out of memory\n");
		return 1;
	}
	for (; started < o->conns; started++) {
		w[started].o = o;
		w[started].ctx = ctx;
		w[started].deadline = t0 + o->secs;
		if (pthread_create(&w[started].tid, NULL, ka ? keepalive_worker : newconn_worker,
		                   &w[started]) != 0) {
			fail("pthread_create failed");
			break;
		}
	}
	for (int i = 0; i < started; i++) {
		pthread_join(w[i].tid, NULL);
		total += w[i].n;
		eof_timeouts += w[i].eof_timeouts;
	}
	secs = now_s() - t0;
	if (atomic_load(&g_failed)) {
		fprintf(stderr, "tls_load: FAIL: %s (after %zu successful %s)\n", g_err, total,
		        ka ? "requests" : "connections");
		goto out;
	}
	all = malloc((total ? total : 1) * sizeof(double));
	if (!all || total == 0) {
		fprintf(stderr, "tls_load: FAIL: %s\n", all ? "no request completed" : "out of memory");
		goto out;
	}
	for (int i = 0; i < started; i++) {
		memcpy(all + k, w[i].lat, w[i].n * sizeof(double));
		k += w[i].n;
	}
	qsort(all, total, sizeof(double), cmp_double);
	if (ka)
		printf("result mode=keepalive conns=%d secs=%.2f n=%zu req_per_s=%.0f p50_us=%.0f "
		       "p99_us=%.0f\n",
		       o->conns, secs, total, (double)total / secs, all[total / 2],
		       all[(size_t)((double)total * 0.99)]);
	else
		printf("result mode=newconn conns=%d secs=%.2f n=%zu conn_per_s=%.0f p50_us=%.0f "
		       "p99_us=%.0f eof_timeouts=%lu\n",
		       o->conns, secs, total, (double)total / secs, all[total / 2],
		       all[(size_t)((double)total * 0.99)], eof_timeouts);
	rc = 0;
out:
	for (int i = 0; i < started; i++)
		free(w[i].lat);
	free(all);
	free(w);
	return rc;
}

/* Waits for a line or EOF on stdin, at most secs; a missing stdin is an EOF. */
static void
wait_stdin(int secs)
{
	struct pollfd p = {.fd = 0, .events = POLLIN};
	char ch;

	if (poll(&p, 1, secs * 1000) > 0)
		while (read(0, &ch, 1) == 1 && ch != '\n')
			;
}

static int
run_hold(const struct opts *o, SSL_CTX *ctx)
{
	struct tconn *c = calloc((size_t)o->hold, sizeof(*c));
	char why[LOAD_ERR_MAX];
	int n = 0, rc = 0;

	if (!c) {
		fprintf(stderr, "tls_load: FAIL: out of memory\n");
		return 1;
	}
	printf("idle\n");
	fflush(stdout);
	wait_stdin(o->secs);
	for (; n < o->hold; n++) {
		if (tconn_open(o, ctx, &c[n], why, sizeof(why)) == -1)
			goto failed;
		if (tls_get(o, &c[n], false, why, sizeof(why)) == -1) {
			tconn_close(&c[n]);
			goto failed;
		}
	}
	goto ready;
failed:
	fprintf(stderr, "tls_load: FAIL: hold: connection %d: %s\n", n, why);
	rc = 1;
ready:
	printf("ready conns=%d\n", n);
	fflush(stdout);
	wait_stdin(o->secs);
	for (int i = 0; i < n; i++)
		tconn_close(&c[i]);
	free(c);
	return rc;
}

static SSL_CTX *
client_ctx(const struct opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	static const unsigned char alpn[] = "\x08http/1.1";
	char reason[256];

	if (!ctx)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* every new connection pays a full handshake: the proxy's leaf path is measured */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1) != 0)
		goto fail;
	if (o->cafile ? SSL_CTX_load_verify_locations(ctx, o->cafile, NULL) != 1
	              : SSL_CTX_set_default_verify_paths(ctx) != 1)
		goto fail;
	return ctx;
fail:
	ssl_reason(NULL, reason, sizeof(reason));
	fprintf(stderr, "tls_load: FAIL: client TLS context (CA file %s): %s\n",
	        o->cafile ? o->cafile : "default store / SSL_CERT_FILE", reason);
	SSL_CTX_free(ctx);
	return NULL;
}

static void
usage(void)
{
	fprintf(stderr,
	        "usage: tls_load (-k | --new-conn | --hold N) (-x PROXY:PORT | --connect ADDR:PORT)\n"
	        "       (--host NAME | --host-pattern 'c%%d.example.test' --names M)\n"
	        "       [--port ORIGIN_PORT (443)] [--path /1k] [-c CONNS (8)] [-d SECS (5)]\n"
	        "       [--cafile PEM] [--cpu N]\n");
}

static int
set_num(const char *k, const char *v, long long min, long long max, long long *out)
{
	const char *errstr = NULL;

	*out = ut_strtonum(v, min, max, &errstr);
	if (errstr)
		fprintf(stderr, "tls_load: %s %s: %s\n", k, v, errstr);
	return errstr ? -1 : 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	const char *proxy = NULL, *direct = NULL;
	long long v;

	*o = (struct opts){.port = 443, .path = "/1k", .conns = 8, .secs = 5, .cpu = -1,
	                   .names = 1};
	for (int i = 1; i < argc; i++) {
		const char *k = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(k, "-k") == 0) {
			o->mode = MODE_KEEPALIVE;
			continue;
		}
		if (strcmp(k, "--new-conn") == 0) {
			o->mode = MODE_NEWCONN;
			continue;
		}
		if (!a)
			return -1;
		i++;
		if (strcmp(k, "-x") == 0)
			proxy = a;
		else if (strcmp(k, "--connect") == 0)
			direct = a;
		else if (strcmp(k, "--host") == 0)
			o->host = a;
		else if (strcmp(k, "--host-pattern") == 0)
			o->pattern = a;
		else if (strcmp(k, "--path") == 0)
			o->path = a;
		else if (strcmp(k, "--cafile") == 0)
			o->cafile = a;
		else if (strcmp(k, "--hold") == 0) {
			if (set_num(k, a, 1, LOAD_MAX_HOLD, &v) == -1)
				return -1;
			o->mode = MODE_HOLD;
			o->hold = (int)v;
		} else if (strcmp(k, "--names") == 0) {
			if (set_num(k, a, 1, LOAD_MAX_NAMES, &v) == -1)
				return -1;
			o->names = (long)v;
		} else if (strcmp(k, "--port") == 0) {
			if (set_num(k, a, 1, 65535, &v) == -1)
				return -1;
			o->port = (int)v;
		} else if (strcmp(k, "-c") == 0) {
			if (set_num(k, a, 1, LOAD_MAX_CONNS, &v) == -1)
				return -1;
			o->conns = (int)v;
		} else if (strcmp(k, "-d") == 0) {
			if (set_num(k, a, 1, 3600, &v) == -1)
				return -1;
			o->secs = (int)v;
		} else if (strcmp(k, "--cpu") == 0) {
			if (set_num(k, a, 0, CPU_SETSIZE - 1, &v) == -1)
				return -1;
			o->cpu = (int)v;
		} else
			return -1;
	}
	if (o->mode == MODE_NONE || (proxy == NULL) == (direct == NULL) ||
	    (o->host == NULL) == (o->pattern == NULL) || o->path[0] != '/')
		return -1;
	if (o->pattern && (!strstr(o->pattern, "%d") || strchr(strstr(o->pattern, "%d") + 1, '%'))) {
		fprintf(stderr, "tls_load: --host-pattern needs exactly one %%d\n");
		return -1;
	}
	o->via_proxy = proxy != NULL;
	if (parse_hostport(proxy ? proxy : direct, &o->hop) == -1) {
		fprintf(stderr, "tls_load: cannot resolve %s (want IPv4-ADDR:PORT)\n",
		        proxy ? proxy : direct);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;
	SSL_CTX *ctx;
	int rc;

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
			fprintf(stderr, "tls_load: warning: pinning to CPU %d: %s\n", o.cpu,
			        strerror(errno));
	}
	ctx = client_ctx(&o);
	if (!ctx)
		return 1;
	rc = o.mode == MODE_HOLD ? run_hold(&o, ctx) : run_workers(&o, ctx);
	SSL_CTX_free(ctx);
	return rc;
}
