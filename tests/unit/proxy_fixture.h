/*
 * proxy_fixture.h: what the in-process proxy tests share (test_proxy_conn.c,
 * test_proxy_l7.c, test_proxy_live.c): a proxy context on its own event loop with a real
 * policy engine, stubbed identity and address rules, a loopback listener, an event-driven
 * client on one end of a socketpair, "run the loop until" with a watchdog, and the
 * decision-log pipe read back.
 *
 * Context: one test program, the loop run from its main thread. Header-only: each test
 * source under tests/unit is its own program, so every helper is static (T_UNUSED: not
 * every test uses every one).
 * Errors: set-up helpers return 0 / -1 with errno (a policy error is printed as TAP
 * comments); wait helpers return false when the watchdog fired; nothing asserts here, the
 * tests do, so each keeps its own counts.
 * Ownership: struct pxfx_proxy owns its loop, policy, engine, hosts, pipes and resolver;
 * pxfx_proxy_free() releases them, also after a failed or partial pxfx_proxy_init().
 */
#ifndef AGENTCAGE_TEST_PROXY_FIXTURE_H
#define AGENTCAGE_TEST_PROXY_FIXTURE_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "policy/diag.h"
#include "policy/engine.h"
#include "policy/load.h"
#include "proxy/conn.h"
#include "proxy/hostsfile.h"
#include "proxy/resolve.h"
#include "t.h"
#include "util/evloop.h"
#include "util/util.h"

#define CLIENT_EXE          "/usr/bin/test-client"
#define PXFX_REFUSED_HOST   "refused.test" /* the address stub's "internal address" */
#define PXFX_CLIENT_BUF     16384
#define PXFX_LISTEN_BACKLOG 16
#define PXFX_HOSTS_LINE_MAX 256

/* --- identity and address rules: a socketpair has no sandbox process behind it, and the
 * real address rules refuse loopback --- */

/* What the identity stub answers: the binary (NULL: "no process found") and one ancestor
 * (NULL: none). A test changes them between exchanges. */
static const char *pxfx_exe = CLIENT_EXE;
static const char *pxfx_ancestor;

T_UNUSED static int
pxfx_identify(void *arg, const struct sockaddr_storage *peer, const struct sockaddr_storage *local,
              struct conn_who *who, char *reason, size_t reason_len)
{
	(void)arg;
	(void)peer;
	(void)local;
	if (pxfx_exe == NULL) {
		snprintf(reason, reason_len, "no process found owning the socket");
		return -1;
	}
	who->pid = getpid();
	who->exe = ut_xstrdup(pxfx_exe);
	if (pxfx_ancestor != NULL) {
		who->ancestors = ut_xcalloc(1, sizeof(char *));
		who->ancestors[0] = ut_xstrdup(pxfx_ancestor);
		who->nancestors = 1;
	}
	return 0;
}

/* Allows every address except PXFX_REFUSED_HOST's, refused as the real rules refuse an
 * internal address (EACCES and a reason). */
T_UNUSED static int
pxfx_check_address(const struct engine *e, const struct decision *d, const char *host,
                   const struct sockaddr *sa, uint16_t port, char *reason, size_t len)
{
	(void)e;
	(void)d;
	(void)sa;
	(void)port;
	if (strcmp(host, PXFX_REFUSED_HOST) == 0) {
		snprintf(reason, len, PXFX_REFUSED_HOST " resolves to internal address 127.0.0.1");
		errno = EACCES;
		return -1;
	}
	return 0;
}

/* --- set-up --- */

/*
 * A loopback TCP listener on a kernel-chosen port, stored in *port. <flags>: 0 or
 * SOCK_NONBLOCK (for an accept callback on the loop). The fd, or -1 with errno.
 */
T_UNUSED static int
pxfx_listen(uint16_t *port, int flags)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(in);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);

	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&in, sizeof(in)) == -1 ||
	    listen(fd, PXFX_LISTEN_BACKLOG) == -1 ||
	    getsockname(fd, (struct sockaddr *)&in, &len) == -1) {
		const int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	*port = ntohs(in.sin_port);
	return fd;
}

/*
 * Loads policy <text> into *pol and compiles *eng from it. 0, or -1 with the located
 * errors printed on stdout (TAP comments) and nothing left allocated.
 */
T_UNUSED static int
pxfx_load(const char *text, struct policy **pol, struct engine **eng)
{
	struct diag d = {0};

	if (policy_load_buffer("t", text, strlen(text), &d, pol) == -1) {
		diag_print(&d, stdout);
		diag_free(&d);
		return -1;
	}
	diag_free(&d);
	if ((*eng = engine_new(*pol)) == NULL) {
		policy_free(*pol);
		*pol = NULL;
		return -1;
	}
	return 0;
}

struct pxfx_proxy {
	struct evloop *loop;
	struct proxy_ctx px;
	struct hosts hosts;
	struct policy *pol; /* the start policy: borrowed by px, freed here */
	struct engine *eng;
	int logfd[2]; /* decision lines: px writes [1], the test reads [0] */
	int errfd[2]; /* DENIED lines, or -1 when not asked for */
};

/*
 * Sets up <p>: a loop, hosts naming 127.0.0.1 as each of <names> (space separated), the
 * log pipe (and the stderr pipe when <err_pipe>), a started resolver, and px wired to
 * them with the stubs above, splice relaying and no engine yet (pxfx_proxy_policy()).
 * 0, or -1 with errno; either way pxfx_proxy_free() releases what was made.
 */
T_UNUSED static int
pxfx_proxy_init(struct pxfx_proxy *p, const char *names, bool err_pipe)
{
	char hosts[PXFX_HOSTS_LINE_MAX], err[256];

	memset(p, 0, sizeof(*p));
	p->logfd[0] = p->logfd[1] = p->errfd[0] = p->errfd[1] = -1;
	if ((p->loop = evloop_new()) == NULL)
		return -1;
	snprintf(hosts, sizeof(hosts), "127.0.0.1 %s\n", names);
	if (hosts_parse(&p->hosts, "t", hosts, strlen(hosts), err, sizeof(err)) == -1 ||
	    pipe2(p->logfd, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    (err_pipe && pipe2(p->errfd, O_CLOEXEC | O_NONBLOCK) == -1))
		return -1;
	p->px.loop = p->loop;
	p->px.relay_mode = RELAY_SPLICE;
	p->px.log = (struct declog){.fd = p->logfd[1], .err_fd = p->errfd[1], .sandbox = "t"};
	p->px.ops =
	        (struct conn_ops){.identify = pxfx_identify, .check_address = pxfx_check_address};
	if (resolver_new(&p->px.resolver, &p->hosts) == -1 ||
	    resolver_start(p->px.resolver, p->loop) == -1)
		return -1;
	return 0;
}

/* Loads <text> (pxfx_load()) as the start policy of <p> and makes px use its engine. */
T_UNUSED static int
pxfx_proxy_policy(struct pxfx_proxy *p, const char *text)
{
	if (pxfx_load(text, &p->pol, &p->eng) == -1)
		return -1;
	p->px.engine = p->eng;
	return 0;
}

/* Closes every proxied connection (each still logs) and frees all <p> holds. */
T_UNUSED static void
pxfx_proxy_free(struct pxfx_proxy *p)
{
	conn_close_all(&p->px);
	conn_reap(&p->px);
	conn_ctx_release(&p->px);
	resolver_free(p->px.resolver);
	p->px.resolver = NULL;
	evloop_free(p->loop);
	p->loop = NULL;
	engine_free(p->eng);
	p->eng = NULL;
	policy_free(p->pol);
	p->pol = NULL;
	hosts_free(&p->hosts);
	ut_close(&p->logfd[0]);
	ut_close(&p->logfd[1]);
	ut_close(&p->errfd[0]);
	ut_close(&p->errfd[1]);
}

/* --- running the loop until something happened --- */

typedef bool (*pxfx_cond_fn)(const void *arg);

struct pxfx_waiter {
	pxfx_cond_fn cond;
	const void *arg;
	long long deadline;
	bool timed_out;
};

/* Checks the condition after each millisecond of loop time (a check, not a sleep: the
 * loop keeps serving every socket meanwhile). */
T_UNUSED static long
pxfx_waiter_cb(struct evloop *loop, long long id, void *data)
{
	struct pxfx_waiter *w = data;

	(void)id;
	if (!w->cond(w->arg) && ut_now_ms() < w->deadline)
		return 1;
	w->timed_out = !w->cond(w->arg);
	evloop_stop(loop);
	return EV_TIMER_STOP;
}

/* Runs <loop> until <cond>(<arg>) holds; false when <watchdog_ms> passed first. */
T_UNUSED static bool
pxfx_run_until(struct evloop *loop, pxfx_cond_fn cond, const void *arg, long watchdog_ms)
{
	struct pxfx_waiter w = {cond, arg, ut_now_ms() + watchdog_ms, false};
	long long id = evloop_timer_add(loop, 0, pxfx_waiter_cb, &w);

	evloop_run(loop);
	evloop_timer_del(loop, id);
	return !w.timed_out;
}

/* A condition: the bool at <arg> is set. */
T_UNUSED static bool
pxfx_flag_set(const void *arg)
{
	return *(const bool *)arg;
}

struct pxfx_idle {
	const struct proxy_ctx *px;
	size_t left;
};

T_UNUSED static bool
pxfx_is_idle(const void *arg)
{
	const struct pxfx_idle *i = arg;

	return i->px->nlive <= i->left;
}

/* Lets the proxy finish its connections (drain, decision lines) until at most <left>
 * remain open; false when <watchdog_ms> passed first. */
T_UNUSED static bool
pxfx_settle(struct pxfx_proxy *p, size_t left, long watchdog_ms)
{
	return pxfx_run_until(p->loop, pxfx_is_idle, &(struct pxfx_idle){&p->px, left},
	                      watchdog_ms);
}

/* --- reading in loop callbacks --- */

/*
 * Appends what non-blocking <fd> holds to <buf> at *len (capacity <cap>, one byte kept for
 * the NUL that follows the data). 1: *len grew; 0: nothing yet (EAGAIN); -1: EOF, an
 * error, or <buf> full (all three end the peer's stream for these tests).
 */
T_UNUSED static int
pxfx_read_more(int fd, char *buf, size_t cap, size_t *len)
{
	const ssize_t n = read(fd, buf + *len, cap - *len - 1);

	if (n == -1 && errno == EAGAIN)
		return 0;
	if (n <= 0)
		return -1;
	*len += (size_t)n;
	buf[*len] = '\0';
	return 1;
}

/* --- the client: one end of a socketpair, read from the loop --- */

struct pxfx_client {
	int fd;
	char got[PXFX_CLIENT_BUF]; /* everything received, NUL-terminated */
	size_t len;
	bool eof;
	const char *after_200; /* sent once the CONNECT 200 arrived, then SHUT_WR (or NULL) */
	bool sent_after;
};

T_UNUSED static void
pxfx_client_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct pxfx_client *c = data;
	const int r = pxfx_read_more(fd, c->got, sizeof(c->got), &c->len);

	(void)events;
	if (r == 0)
		return;
	if (r == -1) {
		c->eof = true;
		evloop_del(loop, fd);
		return;
	}
	if (c->after_200 && !c->sent_after && strstr(c->got, "established\r\n\r\n")) {
		c->sent_after = true;
		(void)!write(fd, c->after_200, strlen(c->after_200));
		shutdown(fd, SHUT_WR);
	}
}

/*
 * Starts client <c> (all but after_200 reset) on a fresh socketpair whose other end
 * conn_start() takes, and writes <req> (<len> bytes). 0, or -1 with errno.
 */
T_UNUSED static int
pxfx_client_start(struct pxfx_proxy *p, struct pxfx_client *c, const char *req, size_t len)
{
	int sv[2];

	c->fd = -1;
	c->len = 0;
	c->got[0] = '\0';
	c->eof = false;
	c->sent_after = false;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	c->fd = sv[0];
	if (evloop_add(p->loop, c->fd, EV_READ, pxfx_client_cb, c) == -1) {
		close(sv[1]);
		return -1;
	}
	if (conn_start(&p->px, sv[1]) == -1)
		return -1;
	(void)!write(c->fd, req, len);
	return 0;
}

/* A condition: the client saw EOF. */
T_UNUSED static bool
pxfx_client_eof(const void *arg)
{
	return ((const struct pxfx_client *)arg)->eof;
}

struct pxfx_want {
	const struct pxfx_client *c;
	const char *text;
	size_t from;
};

/* A condition: <text> arrived at or after offset <from>. */
T_UNUSED static bool
pxfx_client_has(const void *arg)
{
	const struct pxfx_want *w = arg;

	return w->c->len >= w->from && strstr(w->c->got + w->from, w->text) != NULL;
}

/* Closes the client, then waits (pxfx_settle()) until at most <left> proxied connections
 * remain; false when the watchdog fired first. */
T_UNUSED static bool
pxfx_client_close(struct pxfx_proxy *p, struct pxfx_client *c, size_t left, long watchdog_ms)
{
	if (c->fd >= 0 && !c->eof)
		evloop_del(p->loop, c->fd);
	ut_close(&c->fd);
	return pxfx_settle(p, left, watchdog_ms);
}

/* --- the decision log --- */

/*
 * Appends what non-blocking <fd> holds to <buf> from *len (capacity <cap>), until it is
 * empty or <buf> full; NUL-terminates and returns the new text (buf + the old *len).
 */
T_UNUSED static const char *
pxfx_drain(int fd, char *buf, size_t cap, size_t *len)
{
	const size_t from = *len;
	ssize_t n;

	while (*len + 1 < cap && (n = read(fd, buf + *len, cap - *len - 1)) > 0)
		*len += (size_t)n;
	buf[*len] = '\0';
	return buf + from;
}

/* The last line of <buf>, trailing newlines cut off in place. */
T_UNUSED static const char *
pxfx_last_line(char *buf)
{
	size_t n = strlen(buf);
	const char *last;

	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	last = strrchr(buf, '\n');
	return last ? last + 1 : buf;
}

#endif
