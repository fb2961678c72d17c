/* proxy/proxy: listeners, accept hardening, identity, life cycle (contract in proxy.h). */
#include "proxy/proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "policy/engine.h"
#include "proxy/conn.h"
#include "proxy/connwatch.h"
#include "proxy/gen.h"
#include "proxy/idcache.h"
#include "proxy/ident.h"
#include "proxy/resolve.h"
#include "proxy/tofu.h"
#include "util/evloop.h"
#include "util/util.h"

struct proxy {
	struct proxy_ctx ctx;            /* first: what connections see */
	struct proxy_listeners l;
	/* each listener's bound address when it is one address (not a wildcard): the local
	 * end of every connection it accepts (proxy_listener_addrs) */
	struct sockaddr_storage l_addr[PROXY_MAX_LISTENERS];
	bool l_addr_known[PROXY_MAX_LISTENERS];
	bool listening;                  /* registered on the loop (not paused) */
	long long pause_timer;
	long long idle_timer;            /* lets the identity cache's fds go (proxy_idle) */
	bool freeing;                    /* proxy_free() runs: arm no timer that would outlive p */
	int reserve_fd;                  /* /dev/null, given up to accept under EMFILE */
	struct ident_ctx *ident;
	struct tofu *tofu;
	struct idcache *ids;             /* identities between connections (idcache.h) */
	struct peer_ident *scratch;      /* ~260 KiB, reused: the loop is single-threaded */
	proxy_fatal_cb on_fatal;
	void *fatal_arg;
	bool failed;
	bool pressured;                  /* warned about this EMFILE/ENOBUFS episode */
	struct connwatch *watch;         /* proxy_watch(), or NULL: identity by scanning */
};

/* --- listeners --- */

static int
proxy_listen_one(int family, uint16_t port, int *out, char *err, size_t errlen)
{
	static const int one = 1;
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd;

	*out = -1;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = in6addr_loopback;
		len = sizeof(*in6);
	}
	if ((fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(fd, (struct sockaddr *)&ss, len) == -1 || listen(fd, PROXY_BACKLOG) == -1)
		goto fail;
	*out = fd;
	return 0;
fail: {
	const int e = errno;
	if (fd >= 0)
		close(fd);
	snprintf(err, errlen, "proxy listener on %s:%u in the sandbox's network namespace: %s",
		 family == AF_INET ? "127.0.0.1" : "[::1]", port, strerror(e));
	errno = e;
	return -1;
}
}

int
proxy_listen(struct proxy_listeners *l, uint16_t port, char *err, size_t errlen)
{
	int fd;

	l->fd[0] = l->fd[1] = -1;
	l->n = 0;
	if (proxy_listen_one(AF_INET, port, &fd, err, errlen) == -1)
		return -1;
	l->fd[l->n++] = fd;
	if (proxy_listen_one(AF_INET6, port, &fd, err, errlen) == -1) {
		if (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)
			return 0; /* no IPv6 in this kernel: 127.0.0.1 is enough */
		proxy_listeners_close(l);
		return -1;
	}
	l->fd[l->n++] = fd;
	return 0;
}

void
proxy_listeners_close(struct proxy_listeners *l)
{
	for (size_t i = 0; i < PROXY_MAX_LISTENERS; i++)
		ut_close(&l->fd[i]);
	l->n = 0;
}

/* --- identity: the calling binary, pinned --- */

/* Copies what the caller is into <who> (the connection owns and frees the copies). */
static int
proxy_who_set(struct conn_who *who, pid_t pid, const char *exe, const char *const *ancestors,
	      size_t n, char *reason, size_t reason_len)
{
	who->pid = pid;
	if ((who->exe = strdup(exe)) == NULL)
		goto nomem;
	if (n > 0 && (who->ancestors = calloc(n, sizeof(*who->ancestors))) == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		if ((who->ancestors[i] = strdup(ancestors[i])) == NULL)
			goto nomem;
		who->nancestors++;
	}
	return 0;
nomem:
	snprintf(reason, reason_len, "out of memory");
	return -1;
}

/* The exe and every ancestor of <pi> pass TOFU (an ancestor grants as much as the caller
 * itself, so it is pinned too). */
static int
proxy_pin(struct proxy *p, const struct peer_ident *pi, char *reason, size_t reason_len)
{
	char hex[TOFU_HEX_LEN];

	if (tofu_check_pid(p->tofu, pi->pid, pi->exe, pi->exe_deleted, hex, reason, reason_len) == -1)
		return -1;
	for (size_t i = 0; i < pi->nancestors; i++)
		if (tofu_check_pid(p->tofu, pi->ancestor_pids[i], pi->ancestors[i], false, hex,
				   reason, reason_len) == -1)
			return -1;
	return 0;
}

/*
 * The caller of a connection: the socket's inode, then the connector's identity from the
 * cache (proxy/idcache.h: every level checked against the live process on each use), or
 * read and pinned the full way and then cached for its next connection. Without a
 * connect record every holder is scanned (ident.h), and nothing is cached.
 */
static int
proxy_identify(void *arg, const struct sockaddr_storage *peer,
	       const struct sockaddr_storage *local, struct conn_who *who, char *reason,
	       size_t reason_len)
{
	struct proxy *p = arg;
	struct peer_ident *pi = p->scratch;
	const char *anc[IDENT_MAX_ANCESTORS];
	struct idcache_who cw;
	bool connector;
	pid_t tid = 0;
	ino_t ino;

	if (ident_socket_inode(p->ident, peer, local, IDENT_VIA_AUTO, &ino, reason,
			       reason_len) == -1)
		return -1;
	connector = ident_connector(p->ident, ino, &tid) == 0;
	if (connector && idcache_get(p->ids, tid, &cw) == 0)
		return proxy_who_set(who, cw.pid, cw.exe, cw.ancestors, cw.nancestors, reason,
				     reason_len);
	if ((!connector || ident_of_thread(p->ident, tid, ino, pi, reason, reason_len) == -1) &&
	    ident_scan(p->ident, ino, pi, reason, reason_len) == -1)
		return -1;
	for (size_t i = 0; i < pi->nancestors; i++)
		anc[i] = pi->ancestors[i];
	/* Known before the pin check, so a denial names the binary. */
	if (proxy_who_set(who, pi->pid, pi->exe, anc, pi->nancestors, reason, reason_len) == -1 ||
	    proxy_pin(p, pi, reason, reason_len) == -1)
		return -1;
	/* Not cached (deleted exe, a process gone meanwhile...): the next connection of
	 * this caller takes this path again, nothing worse. */
	if (connector)
		(void)idcache_fill(p->ids, p->tofu, tid, pi);
	return 0;
}

static long
proxy_idle_cb(struct evloop *loop, long long id, void *data)
{
	struct proxy *p = data;

	(void)loop;
	(void)id;
	p->idle_timer = 0;
	if (p->ctx.nlive == 0)
		idcache_release_fds(p->ids);
	return EV_TIMER_STOP;
}

/*
 * Nothing open. PROXY_IDLE_RELEASE_MS later, if still so, the identity cache lets go of
 * its descriptors (idcache.h), so the supervisor's fd count is back to what it was
 * before the load. Not at once: an agent opens one connection after another, and each
 * would reopen its callers' /proc files (four syscalls more per connection).
 */
static void
proxy_idle(void *arg)
{
	struct proxy *p = arg;

	if (p->ctx.loop == NULL || p->freeing) {
		idcache_release_fds(p->ids); /* no loop to wait on, or no later to wait for */
		return;
	}
	if (p->idle_timer == 0 &&
	    (p->idle_timer = evloop_timer_add(p->ctx.loop, PROXY_IDLE_RELEASE_MS, proxy_idle_cb,
					      p)) == -1) {
		p->idle_timer = 0;
		idcache_release_fds(p->ids); /* no timer: give them back now */
	}
}

/* --- accept --- */

static void proxy_accept_cb(struct evloop *loop, int fd, uint32_t events, void *data);

static void
proxy_fail(struct proxy *p, const char *why)
{
	if (p->failed)
		return;
	p->failed = true;
	log_warnx("proxy: %s", why);
	if (p->on_fatal)
		p->on_fatal(p->fatal_arg, why);
}

static int
proxy_resume(struct proxy *p)
{
	for (size_t i = 0; i < p->l.n; i++)
		if (evloop_add(p->ctx.loop, p->l.fd[i], EV_READ, proxy_accept_cb, p) == -1 &&
		    errno != EEXIST)
			return -1;
	p->listening = true;
	return 0;
}

static long
proxy_pause_cb(struct evloop *loop, long long id, void *data)
{
	struct proxy *p = data;

	(void)loop;
	(void)id;
	p->pause_timer = 0;
	if (p->reserve_fd < 0)
		p->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (proxy_resume(p) == -1)
		proxy_fail(p, "cannot re-arm the listeners after fd exhaustion");
	return EV_TIMER_STOP;
}

/* Out of fds: drop the pending client cleanly (it sees a close, not a hang) and rest. */
static void
proxy_pressure(struct proxy *p, int lfd, int err)
{
	int fd;

	if (!p->pressured) /* once per episode; it ends with the next accepted connection */
		log_warnx("proxy: accept: %s; pausing new connections for %d ms at a time "
			  "(%zu open)", strerror(err), PROXY_ACCEPT_PAUSE_MS, p->ctx.nlive);
	p->pressured = true;
	ut_close(&p->reserve_fd);
	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(fd);
	p->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (size_t i = 0; i < p->l.n; i++)
		evloop_del(p->ctx.loop, p->l.fd[i]);
	p->listening = false;
	if (p->pause_timer == 0 &&
	    (p->pause_timer = evloop_timer_add(p->ctx.loop, PROXY_ACCEPT_PAUSE_MS, proxy_pause_cb,
					       p)) == -1) {
		p->pause_timer = 0;
		proxy_fail(p, "cannot arm the accept pause timer");
	}
}

/* The bound address of listener <lfd> when known (see struct proxy), else NULL. */
static const struct sockaddr_storage *
proxy_listener_addr(const struct proxy *p, int lfd)
{
	for (size_t i = 0; i < p->l.n; i++)
		if (p->l.fd[i] == lfd)
			return p->l_addr_known[i] ? &p->l_addr[i] : NULL;
	return NULL;
}

static void
proxy_accept_cb(struct evloop *loop, int lfd, uint32_t events, void *data)
{
	struct proxy *p = data;
	const struct sockaddr_storage *local = proxy_listener_addr(p, lfd);

	(void)loop;
	(void)events;
	/* One connection per readiness report: the listener is level-triggered, so one still
	 * waiting is reported again by the next epoll_wait, which the loop makes anyway;
	 * draining to EAGAIN cost one more accept4 per connection. */
	while (p->listening) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1) {
			switch (errno) {
			case EAGAIN:
				return;
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
			case EPERM: /* a netfilter verdict in the namespace */
				continue;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				proxy_pressure(p, lfd, errno);
				return;
			default: {
				char why[128];
				snprintf(why, sizeof(why), "accept on the listener failed: %s",
					 strerror(errno));
				proxy_fail(p, why);
				return;
			}
			}
		}
		p->pressured = false;
		if (p->ctx.nlive >= PROXY_MAX_CONNS) {
			log_warnx("proxy: %d connections open; dropping a new one", PROXY_MAX_CONNS);
			close(fd);
			continue;
		}
		if (conn_start_addrs(&p->ctx, fd, &peer, local) == -1)
			log_warn("proxy: taking a new connection");
		return;
	}
}

/* --- life cycle --- */

int
proxy_new(struct proxy **out, const struct proxy_config *c, struct proxy_listeners *l,
	  char *err, size_t errlen)
{
	struct proxy *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (p == NULL) {
		proxy_listeners_close(l);
		snprintf(err, errlen, "proxy: out of memory");
		errno = ENOMEM;
		return -1;
	}
	p->l = *l;
	l->n = 0;
	l->fd[0] = l->fd[1] = -1;
	p->reserve_fd = -1;
	p->ctx.engine = c->engine;
	p->ctx.learn = c->learn;
	p->ctx.relay_mode = RELAY_SPLICE;
	p->ctx.ca = c->ca;
	p->ctx.upstream = c->upstream;
	p->ctx.log = (struct declog){ .fd = c->log_fd, .err_fd = c->err_fd,
				      .sandbox = c->sandbox, .raw_tty = c->raw_tty };
	p->ctx.ops = (struct conn_ops){ .identify = proxy_identify,
					.check_address = engine_check_address,
					.idle = proxy_idle, .arg = p };
	if ((p->ctx.gen = gen_new(1, c->engine, NULL, NULL)) == NULL ||
	    (p->scratch = malloc(sizeof(*p->scratch))) == NULL || (p->tofu = tofu_new()) == NULL ||
	    resolver_new(&p->ctx.resolver, c->hosts) == -1) {
		snprintf(err, errlen, "proxy: out of memory");
		goto fail;
	}
	if (ident_ctx_open(&p->ident, c->netns_fd, c->root_pid, err, errlen) == -1)
		goto fail;
	if ((p->ids = idcache_new(c->root_pid)) == NULL) {
		snprintf(err, errlen, "proxy: out of memory");
		goto fail;
	}
	*out = p;
	return 0;
fail: {
	const int e = errno;
	proxy_free(p);
	errno = e;
	return -1;
}
}

/* The proxy holds two sockets and up to four pipe fds per connection. */
static void
proxy_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (rl.rlim_cur > EVLOOP_MAX_FD) /* the loop indexes registrations by fd */
		rl.rlim_cur = EVLOOP_MAX_FD;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("proxy: raising the open-file limit");
}

/* True for 0.0.0.0 and [::]: a listener bound there accepts on many local addresses. */
static bool
proxy_addr_is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return true;
}

/*
 * Per-connection syscalls saved once per listener: its bound address (the local end of
 * what it accepts, so no getsockname() per connection), and TCP_NODELAY, which Linux
 * copies to every socket the listener accepts (the child is cloned from it), so no
 * setsockopt() per connection either (a listener that refuses it: set per connection).
 */
static void
proxy_listener_setup(struct proxy *p)
{
	static const int one = 1;
	bool nodelay = p->l.n > 0;

	for (size_t i = 0; i < p->l.n; i++) {
		socklen_t len = sizeof(p->l_addr[i]);

		p->l_addr_known[i] =
			getsockname(p->l.fd[i], (struct sockaddr *)&p->l_addr[i], &len) == 0 &&
			!proxy_addr_is_wildcard(&p->l_addr[i]);
		if (setsockopt(p->l.fd[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
			nodelay = false;
	}
	p->ctx.client_nodelay = nodelay;
}

int
proxy_start(struct proxy *p, struct evloop *loop, proxy_fatal_cb on_fatal, void *arg,
	    char *err, size_t errlen)
{
	p->ctx.loop = loop;
	p->on_fatal = on_fatal;
	p->fatal_arg = arg;
	proxy_raise_nofile();
	proxy_listener_setup(p);
	p->ctx.log.loop = loop; /* decision lines batched per loop iteration (declog.h) */
	if ((p->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    proxy_resume(p) == -1) {
		snprintf(err, errlen, "proxy: registering the listeners: %s", strerror(errno));
		return -1;
	}
	if (resolver_start(p->ctx.resolver, loop) == -1) {
		snprintf(err, errlen, "proxy: starting the resolver thread: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
proxy_set_policy(struct proxy *p, struct policy *pol, struct engine *eng,
		 unsigned long long *generation, char *err, size_t errlen)
{
	return conn_set_policy(&p->ctx, pol, eng, generation, err, errlen);
}

void
proxy_stats(const struct proxy *p, struct proxy_stats *st)
{
	*st = (struct proxy_stats){
		.open = p->ctx.nlive,
		.allowed = p->ctx.served,
		.denied = p->ctx.denied,
		.learned = p->ctx.learned,
		.generation = conn_generation(&p->ctx),
	};
}

/* The connect-notify listener is readable: answer one caller (each waits for it). A
 * listener that fails for good is dropped, the scan identifies callers from then on. */
static void
proxy_watch_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct proxy *p = data;

	if (connwatch_handle(p->watch) == 0)
		return;
	/* A hang-up first: once no task of the sandbox is left, every receive fails with
	 * ENOENT and the listener stays readable, which would spin the loop. */
	if (events & EV_ERROR) {
		evloop_del(loop, fd);
		ident_ctx_set_watch(p->ident, NULL);
		connwatch_free(p->watch);
		p->watch = NULL;
	}
	/* else ENOENT (the caller was interrupted or died) or EINTR: the next one comes */
}

int
proxy_watch(struct proxy *p, int notify_fd)
{
	struct sockaddr_storage t[PROXY_MAX_LISTENERS];
	size_t n = 0;

	for (size_t i = 0; i < p->l.n; i++) {
		socklen_t len = sizeof(t[n]);

		if (getsockname(p->l.fd[i], (struct sockaddr *)&t[n], &len) == 0)
			n++;
	}
	if (p->watch != NULL || p->ctx.loop == NULL) {
		close(notify_fd);
		errno = EBUSY;
		return -1;
	}
	if (connwatch_new(&p->watch, notify_fd, t, n) == -1)
		return -1;
	if (evloop_add(p->ctx.loop, notify_fd, EV_READ, proxy_watch_cb, p) == -1) {
		connwatch_free(p->watch);
		p->watch = NULL;
		return -1;
	}
	ident_ctx_set_watch(p->ident, p->watch);
	return 0;
}

void
proxy_flush_log(struct proxy *p)
{
	if (p != NULL)
		(void)declog_flush(&p->ctx.log); /* a failed write is counted and warned there */
}

void
proxy_free(struct proxy *p)
{
	if (p == NULL)
		return;
	p->freeing = true; /* the connections closed below make the proxy idle */
	if (p->watch != NULL && p->ctx.loop != NULL)
		evloop_del(p->ctx.loop, connwatch_fd(p->watch));
	connwatch_free(p->watch);
	p->watch = NULL;
	if (p->ctx.loop != NULL) {
		conn_close_all(&p->ctx);
		if (p->ctx.reap_timer > 0)
			evloop_timer_del(p->ctx.loop, p->ctx.reap_timer);
		if (p->pause_timer > 0)
			evloop_timer_del(p->ctx.loop, p->pause_timer);
		if (p->idle_timer > 0)
			evloop_timer_del(p->ctx.loop, p->idle_timer);
		for (size_t i = 0; i < p->l.n && p->listening; i++)
			evloop_del(p->ctx.loop, p->l.fd[i]);
	}
	conn_reap(&p->ctx);
	(void)declog_flush(&p->ctx.log); /* every line, before the owner logs "exit" */
	conn_ctx_release(&p->ctx); /* the last generation, once no connection holds one */
	resolver_free(p->ctx.resolver);
	p->ctx.resolver = NULL;
	proxy_listeners_close(&p->l);
	ut_close(&p->reserve_fd);
	ident_ctx_close(p->ident);
	tofu_free(p->tofu);
	idcache_free(p->ids);
	p->ids = NULL;
	free(p->scratch);
	p->scratch = NULL;
	free(p);
}
