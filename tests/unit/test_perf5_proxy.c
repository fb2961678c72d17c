/*
 * test_perf5_proxy: what the proxy's per-connection syscall cuts (issue 4) must keep.
 *
 *   - a connect-notify listener whose filtered task has exited is dropped after one
 *     callback (proxy_watch_cb checks the hang-up before ENOENT; before, the loop spun);
 *   - connwatch records are found whatever the accept order, and a connector that let go
 *     of its socket does not pass the holding check;
 *   - the identity cache gives its descriptors back when asked (the proxy does at idle)
 *     and still serves its entries afterwards;
 *   - decision lines are batched per loop iteration, never held past it, and
 *     declog_flush() or DECLOG_BATCH_MAX write them at once;
 *   - an accepted socket inherits TCP_NODELAY from its listener (the kernel behaviour
 *     proxy.c relies on to skip one setsockopt per connection);
 *   - evloop_forget() + close() drops an fd with no event dispatched; evloop_del() of a
 *     parked fd succeeds;
 *   - a CONNECT tunnel to a server that speaks first (SSH, SMTP) still gets its banner:
 *     the upstream is not read right after the dial, its readiness event does it.
 */
#include "policy/engine.h"
#include "proxy/connwatch.h"
#include "proxy/declog.h"
#include "proxy/idcache.h"
#include "proxy/proxy.h"
#include "proxy/tofu.h"
#include "util/evloop.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "loop_fixture.h"
#include "proc_fixture.h"
#include "proxy_fixture.h"
#include "t.h"

#define WATCHDOG_MS 5000
#define BANNER      "220 banner.test ESMTP ready\r\n"

/* --- helpers --- */

/* Runs exactly one iteration of <loop>: fd callbacks, then the due timers (the stop
 * timer is added first so that timers armed later in the iteration run before it:
 * the loop runs its newest timers first). */
static void
run_one_iteration(struct evloop *loop)
{
	evloop_timer_add(loop, 0, loopfx_stop_cb, NULL);
	evloop_run(loop);
}

/* A child that installs the connect-notify filter and hands its listener over; the
 * parent gets the fd. <then> runs in the child afterwards (NULL: exit at once). */
struct watched_child {
	pid_t pid;
	int lfd;
};

static int
watched_child_start(struct watched_child *wc, void (*then)(void *), void *arg)
{
	int sp[2];

	wc->pid = -1;
	wc->lfd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		return -1;
	wc->pid = fork();
	if (wc->pid == 0) {
		int l = connwatch_install();

		close(sp[0]);
		if (l == -1)
			_exit(1);
		send_fd(sp[1], l);
		close(l);
		if (then != NULL)
			then(arg);
		_exit(0);
	}
	close(sp[1]);
	if (wc->pid > 0)
		wc->lfd = recv_fd(sp[0]);
	close(sp[0]);
	return wc->pid > 0 && wc->lfd >= 0 ? 0 : -1;
}

static int
reap(pid_t pid)
{
	int st = -1;

	if (pid > 0)
		waitpid(pid, &st, 0);
	return st;
}

/* --- the hang-up of a connect-notify listener --- */

static const char POL_ANY[] = "version: 1\nnetwork_policies:\n"
			      "  lab:\n    endpoints: [ { host: a.test, port: 1 } ]\n"
			      "    binaries: [ { path: " CLIENT_EXE " } ]\n";

static void
test_watch_hangup(void)
{
	struct policy *pol = NULL;
	struct engine *eng = NULL;
	struct proxy *p = NULL;
	struct proxy_listeners l;
	struct evloop *loop = evloop_new();
	struct watched_child wc = { -1, -1 }, wc2 = { -1, -1 };
	char err[256] = "";
	struct proxy_config cfg = { .log_fd = -1, .err_fd = -1, .sandbox = "t",
				    .netns_fd = -1, .root_pid = getpid() };

	T_OK(loop != NULL && pxfx_load(POL_ANY, &pol, &eng) == 0, "loop and policy");
	if (loop == NULL || eng == NULL)
		goto out;
	cfg.engine = eng;
	T_OK(proxy_listen(&l, 0, err, sizeof(err)) == 0, "proxy listeners (%s)", err);
	T_OK(proxy_new(&p, &cfg, &l, err, sizeof(err)) == 0 &&
		     proxy_start(p, loop, NULL, NULL, err, sizeof(err)) == 0,
	     "a proxy on its loop (%s)", err);
	if (p == NULL)
		goto out;
	T_OK(watched_child_start(&wc, NULL, NULL) == 0, "a filtered child handed its listener");
	if (wc.lfd < 0)
		goto out;
	T_OK(WIFEXITED(reap(wc.pid)), "its only task exited (the listener now hangs up)");
	T_OK(proxy_watch(p, wc.lfd) == 0, "the proxy watches that listener");
	run_one_iteration(loop);
	errno = 0;
	T_OK(fcntl(wc.lfd, F_GETFD) == -1 && errno == EBADF,
	     "after one loop iteration the hung-up listener is closed (no spinning on ENOENT)");
	/* The watch slot is free again: a second sandbox listener is taken. */
	T_OK(watched_child_start(&wc2, NULL, NULL) == 0, "a second filtered child");
	T_OK(wc2.lfd >= 0 && proxy_watch(p, wc2.lfd) == 0,
	     "and the proxy watches it: the first watch was dropped, not kept (no EBUSY)");
	reap(wc2.pid);
	run_one_iteration(loop);
out:
	proxy_free(p);
	evloop_free(loop);
	engine_free(eng);
	policy_free(pol);
}

/* A proxy that cannot be made (here: no sandbox to identify callers in) says why and
 * frees what it had made; closing it must not arm the idle timer on a missing loop. */
static void
test_new_fails_cleanly(void)
{
	struct policy *pol = NULL;
	struct engine *eng = NULL;
	struct proxy *p = NULL;
	struct proxy_listeners l;
	char err[256] = "";
	struct proxy_config cfg = { .log_fd = -1, .err_fd = -1, .sandbox = "t",
				    .netns_fd = -1, .root_pid = 0 };

	T_OK(pxfx_load(POL_ANY, &pol, &eng) == 0, "a policy");
	cfg.engine = eng;
	T_OK(proxy_listen(&l, 0, err, sizeof(err)) == 0, "proxy listeners (%s)", err);
	T_OK(proxy_new(&p, &cfg, &l, err, sizeof(err)) == -1 && p == NULL,
	     "proxy_new refuses a sandbox root pid of 0, without crashing");
	T_CONTAINS(err, "invalid sandbox root pid", "and says why");
	engine_free(eng);
	policy_free(pol);
}

/* --- connwatch: records taken in any order, dead ones dropped --- */

struct two_connects {
	uint16_t port;
	int res;	/* child -> parent: "ino ino\n" */
	int go;		/* parent -> child: close the first socket (one byte), then exit */
};

static void
child_two_connects(void *arg)
{
	const struct two_connects *tc = arg;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(tc->port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s[2];
	struct stat st[2];
	char line[64], c;

	for (int i = 0; i < 2; i++) {
		s[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s[i] == -1 || connect(s[i], (struct sockaddr *)&a, sizeof(a)) == -1 ||
		    fstat(s[i], &st[i]) == -1)
			_exit(2);
	}
	snprintf(line, sizeof(line), "%lu %lu\n", (unsigned long)st[0].st_ino,
		 (unsigned long)st[1].st_ino);
	(void)!write(tc->res, line, strlen(line));
	(void)!read(tc->go, &c, 1);
	close(s[0]);
	(void)!write(tc->res, "c", 1);
	(void)!read(tc->go, &c, 1);
}

static void
test_connwatch_order(void)
{
	struct sockaddr_storage target;
	struct sockaddr_in *t4 = (struct sockaddr_in *)&target;
	struct connwatch *w = NULL;
	struct watched_child wc = { -1, -1 };
	struct two_connects tc = { 0, -1, -1 };
	int res[2] = { -1, -1 }, go[2] = { -1, -1 }, fd0 = -1, fd1 = -1;
	unsigned long ino[2] = { 0, 0 }, seen = 0, rec = 0;
	uint16_t port = 0;
	int lst = pxfx_listen(&port, 0);
	char buf[64] = "";
	size_t blen = 0;
	pid_t pid0 = 0, pid1 = 0;

	T_OK(lst >= 0 && pipe2(res, O_CLOEXEC) == 0 && pipe2(go, O_CLOEXEC) == 0,
	     "a loopback listener and the child's channels");
	tc = (struct two_connects){ port, res[1], go[0] };
	T_OK(watched_child_start(&wc, child_two_connects, &tc) == 0, "a filtered child");
	close(res[1]);
	close(go[0]);
	if (wc.lfd < 0)
		goto out;
	memset(&target, 0, sizeof(target));
	t4->sin_family = AF_INET;
	t4->sin_port = htons(port);
	t4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_OK(connwatch_new(&w, wc.lfd, &target, 1) == 0, "connwatch_new");
	/* Answer notifications until the child reports its two sockets. */
	while (w != NULL && strchr(buf, '\n') == NULL) {
		struct pollfd pf[2] = { { connwatch_fd(w), POLLIN, 0 }, { res[0], POLLIN, 0 } };
		ssize_t n;

		if (poll(pf, 2, WATCHDOG_MS) <= 0)
			break;
		if (pf[0].revents & POLLIN)
			connwatch_handle(w);
		if (pf[1].revents & (POLLIN | POLLHUP)) {
			if ((n = read(res[0], buf + blen, sizeof(buf) - 1 - blen)) <= 0)
				break;
			blen += (size_t)n;
			buf[blen] = '\0';
		}
	}
	T_OK(sscanf(buf, "%lu %lu", &ino[0], &ino[1]) == 2, "the child connected twice");
	if (w == NULL || ino[1] == 0)
		goto out;
	connwatch_counts(w, &seen, &rec);
	T_OK(seen == 2 && rec == 2, "two notifications, two records (%lu, %lu)", seen, rec);
	T_OK(connwatch_take(w, (ino_t)ino[1], &pid1, &fd1) == 0 && pid1 == wc.pid,
	     "the newer socket is found first (records are checked, not just the oldest)");
	T_OK(connwatch_still_holds(pid1, fd1, (ino_t)ino[1]), "at the fd that holds it");
	/* The child closes its first socket: its record can never match again. */
	(void)!write(go[1], "x", 1);
	T_OK(read(res[0], buf, 1) == 1, "the child closed its first socket");
	T_OK(connwatch_take(w, (ino_t)ino[0], &pid0, &fd0) == 0 && pid0 == wc.pid &&
		     !connwatch_still_holds(pid0, fd0, (ino_t)ino[0]),
	     "a socket its connector let go of fails the holding check (ident then scans)");
	T_OK(connwatch_take(w, (ino_t)ino[1], &pid1, &fd1) == -1 && errno == ENOENT,
	     "a record is taken once");
	(void)!write(go[1], "x", 1);
out:
	ut_close(&go[1]);
	ut_close(&res[0]);
	T_OK(wc.pid <= 0 || WIFEXITED(reap(wc.pid)), "child exited");
	connwatch_free(w);
	if (lst >= 0)
		close(lst);
}

/* --- the identity cache's descriptors --- */

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static void
test_idcache_fds(void)
{
	struct peer_ident *pi = calloc(1, sizeof(*pi));
	struct idcache *ic = idcache_new(getpid());
	struct tofu *t = tofu_new();
	struct idcache_who w;
	int go[2] = { -1, -1 }, base, held;
	pid_t kid = -1, me = getpid();

	T_OK(pi != NULL && ic != NULL && t != NULL && pipe2(go, O_CLOEXEC) == 0,
	     "a cache, TOFU and a pipe");
	if (pi == NULL || ic == NULL || t == NULL || go[0] < 0)
		goto out;
	kid = fork();
	if (kid == 0) {
		char c;

		close(go[1]);
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	close(go[0]);
	go[0] = -1;
	base = count_fds();
	ident_for(pi, kid, &me, 1);
	T_OK(kid > 0 && idcache_fill(ic, t, kid, pi) == 0 && idcache_get(ic, kid, &w) == 0,
	     "a child and its parent cached and served");
	held = count_fds();
	/* The parent is the cache's root (the sandbox's init in the proxy): trusted once
	 * filled, it holds no descriptor. */
	T_OK(held == base + 1, "one held descriptor per cached process but the root (%d -> %d)",
	     base, held);
	idcache_release_fds(ic);
	T_OK(count_fds() == base, "released: the descriptor count is back (%d)", count_fds());
	T_OK(idcache_get(ic, kid, &w) == 0 && w.pid == kid && w.nancestors == 1,
	     "the entries still serve, re-checked through /proc by path");
	T_OK(count_fds() == base + 1, "and hold their descriptors again (%d)", count_fds());
	ut_close(&go[1]);
	waitpid(kid, NULL, 0);
	kid = -1;
	errno = 0;
	T_OK(idcache_get(ic, pi->pid, &w) == -1 && errno == ENOENT,
	     "an exited child is not served (its held stat descriptor says ESRCH)");
	/* base + 1 held, minus the pipe end closed above, minus the child's entry */
	T_OK(count_fds() == base - 1, "and its descriptor is closed with the entry (%d)",
	     count_fds());
out:
	ut_close(&go[0]);
	ut_close(&go[1]);
	if (kid > 0)
		waitpid(kid, NULL, 0);
	idcache_free(ic);
	tofu_free(t);
	free(pi);
}

/* --- decision lines: one write per loop iteration --- */

static void
event_for(struct declog_event *ev, const char *host)
{
	*ev = (struct declog_event){ .pid = 42, .binary = CLIENT_EXE, .host = host,
				     .port = 443, .allow = true, .reason = "allowed",
				     .generation = 1, .end = "finished" };
}

static size_t
pipe_read_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < cap && (n = read(fd, buf + len, cap - len - 1)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return len;
}

static void
test_declog_batch(void)
{
	static char buf[256 * 1024];
	struct evloop *loop = evloop_new();
	struct declog l = { .fd = -1, .err_fd = -1, .sandbox = "t" };
	struct declog_event ev;
	int pfd[2] = { -1, -1 };
	size_t n, lines = 0;

	T_OK(loop != NULL && pipe2(pfd, O_CLOEXEC | O_NONBLOCK) == 0, "a loop and a log pipe");
	if (loop == NULL || pfd[0] < 0)
		goto out;
	fcntl(pfd[1], F_SETPIPE_SZ, 1024 * 1024);
	l.fd = pfd[1];
	l.loop = loop;
	evloop_timer_add(loop, 0, loopfx_stop_cb, NULL); /* first: runs after declog's timer */
	event_for(&ev, "one.test");
	T_OK(declog_write(&l, &ev) == 0, "first line accepted");
	event_for(&ev, "two.test");
	T_OK(declog_write(&l, &ev) == 0, "second line accepted");
	T_OK(pipe_read_all(pfd[0], buf, sizeof(buf)) == 0,
	     "inside the loop iteration nothing is written yet");
	evloop_run(loop);
	n = pipe_read_all(pfd[0], buf, sizeof(buf));
	T_OK(n > 0 && strstr(buf, "\"one.test\"") != NULL && strstr(buf, "\"two.test\"") != NULL &&
		     strstr(buf, "\"one.test\"") < strstr(buf, "\"two.test\"") && buf[n - 1] == '\n',
	     "at the end of the iteration both lines are out, whole and in order");
	T_OK(l.flush_timer == 0 && l.pending.len == 0, "and nothing is left pending");

	/* declog_flush(): at once, and the armed timer goes with it. */
	event_for(&ev, "three.test");
	declog_write(&l, &ev);
	T_OK(declog_flush(&l) == 0 && pipe_read_all(pfd[0], buf, sizeof(buf)) > 0 &&
		     strstr(buf, "\"three.test\"") != NULL,
	     "declog_flush() writes a pending line at once (the owner's exit path)");
	run_one_iteration(loop);
	T_OK(pipe_read_all(pfd[0], buf, sizeof(buf)) == 0, "and it is never written twice");

	/* Past DECLOG_BATCH_MAX the batch goes out without waiting for the loop. */
	for (size_t i = 0; i * 100 < DECLOG_BATCH_MAX * 2 && lines == 0; i++) {
		event_for(&ev, "bulk.test");
		declog_write(&l, &ev);
		n = pipe_read_all(pfd[0], buf, sizeof(buf));
		for (size_t j = 0; j < n; j++)
			lines += buf[j] == '\n';
	}
	T_OK(lines > 0 && n >= DECLOG_BATCH_MAX && buf[n - 1] == '\n',
	     "a batch past %d bytes is written at once, whole lines (%zu bytes)",
	     DECLOG_BATCH_MAX, n);
	T_OK(declog_flush(&l) == 0, "the rest flushed");
	pipe_read_all(pfd[0], buf, sizeof(buf));

	/* Without a loop (what tests and early callers use): written per line. */
	l.loop = NULL;
	event_for(&ev, "direct.test");
	declog_write(&l, &ev);
	T_OK(pipe_read_all(pfd[0], buf, sizeof(buf)) > 0 && strstr(buf, "direct.test") != NULL,
	     "without a loop each line is written at once");
out:
	declog_flush(&l);
	ut_close(&pfd[0]);
	ut_close(&pfd[1]);
	evloop_free(loop);
}

/* --- TCP_NODELAY is inherited from the listener --- */

static int
accepted_nodelay(bool on_listener)
{
	static const int one = 1;
	uint16_t port = 0;
	int l = pxfx_listen(&port, 0), c = -1, a = -1, v = -1;
	socklen_t vl = sizeof(v);
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	if (l == -1)
		return -1;
	if (on_listener)
		setsockopt(l, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c != -1 && connect(c, (struct sockaddr *)&in, sizeof(in)) == 0 &&
	    (a = accept4(l, NULL, NULL, SOCK_CLOEXEC)) != -1)
		getsockopt(a, IPPROTO_TCP, TCP_NODELAY, &v, &vl);
	if (a != -1)
		close(a);
	if (c != -1)
		close(c);
	close(l);
	return v;
}

static void
test_nodelay_inherited(void)
{
	int with = accepted_nodelay(true), without = accepted_nodelay(false);

	T_OK(with > 0, "a socket accepted from a TCP_NODELAY listener has TCP_NODELAY (%d)",
	     with);
	T_OK(without == 0, "and one from a plain listener has not (%d)", without);
}

/* --- evloop_forget() and evloop_del() of a parked fd --- */

static void
count_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	(void)loop;
	(void)fd;
	(void)events;
	(*(int *)data)++;
}

static void
test_evloop_forget(void)
{
	struct evloop *loop = evloop_new();
	int p[2] = { -1, -1 }, q[2] = { -1, -1 }, calls = 0;

	T_OK(loop != NULL && pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0 &&
		     pipe2(q, O_CLOEXEC | O_NONBLOCK) == 0,
	     "a loop and two pipes");
	if (loop == NULL || q[0] < 0)
		goto out;
	(void)!write(p[1], "x", 1);
	T_OK(evloop_add(loop, p[0], EV_READ, count_cb, &calls) == 0, "readable fd registered");
	T_OK(evloop_forget(loop, p[0]) == 0, "forgotten");
	ut_close(&p[0]);
	run_one_iteration(loop);
	T_OK(calls == 0, "forgotten and closed: its pending event is never dispatched");
	errno = 0;
	T_OK(evloop_forget(loop, q[0]) == -1 && errno == ENOENT, "forgetting an unknown fd: ENOENT");
	(void)!write(q[1], "x", 1);
	T_OK(evloop_add(loop, q[0], EV_READ, count_cb, &calls) == 0 &&
		     evloop_mod(loop, q[0], 0) == 0 && evloop_del(loop, q[0]) == 0,
	     "a parked fd (no interest) is deleted without an error");
	T_OK(evloop_add(loop, q[0], EV_READ, count_cb, &calls) == 0,
	     "and can be registered again");
	run_one_iteration(loop);
	T_OK(calls == 1, "which then fires (%d)", calls);
	evloop_del(loop, q[0]);
out:
	ut_close(&p[0]);
	ut_close(&p[1]);
	ut_close(&q[0]);
	ut_close(&q[1]);
	evloop_free(loop);
}

/* --- a server that speaks first, through a CONNECT tunnel --- */

struct banner_server {
	int lfd;
	int cfd; /* the accepted connection, kept open */
};

static void
banner_accept_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct banner_server *b = data;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	(void)loop;
	(void)events;
	if (c == -1)
		return;
	(void)!write(c, BANNER, strlen(BANNER));
	if (b->cfd >= 0)
		close(b->cfd);
	b->cfd = c;
}

static void
test_server_speaks_first(void)
{
	struct pxfx_proxy p;
	struct pxfx_client c = { .fd = -1 };
	struct banner_server b = { -1, -1 };
	uint16_t port = 0;
	char pol[512], req[128];
	bool ok;

	T_OK(pxfx_proxy_init(&p, "banner.test", false) == 0, "proxy fixture");
	b.lfd = pxfx_listen(&port, SOCK_NONBLOCK);
	snprintf(pol, sizeof(pol),
		 "version: 1\nnetwork_policies:\n  lab:\n    endpoints: [ { host: banner.test, "
		 "port: %u } ]\n    binaries: [ { path: " CLIENT_EXE " } ]\n",
		 port);
	T_OK(b.lfd >= 0 && pxfx_proxy_policy(&p, pol) == 0 &&
		     evloop_add(p.loop, b.lfd, EV_READ, banner_accept_cb, &b) == 0,
	     "a loopback server that greets first");
	if (b.lfd < 0 || p.eng == NULL)
		goto out;
	p.px.log.loop = p.loop; /* and the proxy's lines batched, as in agentcage run */
	snprintf(req, sizeof(req), "CONNECT banner.test:%u HTTP/1.1\r\nHost: banner.test\r\n\r\n",
		 port);
	T_OK(pxfx_client_start(&p, &c, req, strlen(req)) == 0, "client sends CONNECT only");
	ok = pxfx_run_until(p.loop, pxfx_client_has, &(struct pxfx_want){ &c, BANNER, 0 },
			    WATCHDOG_MS);
	T_OK(ok && strstr(c.got, " 200 ") != NULL,
	     "the client gets the 200 and then the server's banner without sending a byte");
	ut_close(&b.cfd); /* the server hangs up too: both directions end */
	T_OK(pxfx_client_close(&p, &c, 0, WATCHDOG_MS), "client closes, the tunnel ends");
	{
		char log[4096];
		size_t len = 0;

		run_one_iteration(p.loop); /* the iteration's lines go out at its end */
		pxfx_drain(p.logfd[0], log, sizeof(log), &len);
		T_CONTAINS(log, "\"host\":\"banner.test\"", "its decision line was written");
	}
out:
	declog_flush(&p.px.log);
	if (b.lfd >= 0)
		evloop_del(p.loop, b.lfd);
	ut_close(&b.lfd);
	ut_close(&b.cfd);
	pxfx_proxy_free(&p);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_declog_batch();
	test_nodelay_inherited();
	test_evloop_forget();
	test_server_speaks_first();
	test_idcache_fds();
	if (geteuid() != 0) {
		t_skip("needs root: a seccomp listener needs CAP_SYS_ADMIN or no_new_privs");
		return t_done();
	}
	test_watch_hangup();
	test_new_fails_cleanly();
	test_connwatch_order();
	return t_done();
}
