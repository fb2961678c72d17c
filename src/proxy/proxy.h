/*
 * proxy/proxy: the sandbox's egress proxy (issue 4; docs/proxy.md). It listens INSIDE the
 * sandbox's network namespace on 127.0.0.1:3128 and [::1]:3128 (the only address the
 * sandbox can reach), and dials upstream from the supervisor's (host) namespace. It runs
 * in the supervisor's event loop: accept, identify the calling binary (proxy/ident.h,
 * proxy/tofu.h), decide (policy/engine.h), resolve (proxy/resolve.h), connect, relay
 * (proxy/conn.h).
 *
 * Life cycle, in the supervisor:
 *   1. proxy_listen()     while the thread is in the sandbox's new network namespace,
 *                         before the sandbox is cloned (no race with the command);
 *   2. proxy_new()        takes the listeners, opens the identity context in that
 *                         namespace, after the clone (it needs the sandbox's root pid);
 *   3. proxy_start()      registers on the loop and starts the resolver thread: from
 *                         here on the supervisor is multi-threaded;
 *   4. proxy_free()       closes every connection (each logs its line) and the listeners.
 *
 * Accept hardening (style.md §3): accept4 until EAGAIN; one reserve fd; on EMFILE/ENFILE
 * the reserve is closed to accept and drop the pending client, the listeners pause and a
 * 1 s timer re-arms them (never a busy loop). A listener error that cannot be transient
 * (EBADF, EINVAL, ENOTSOCK) is fatal: the proxy calls on_fatal and the supervisor ends
 * the sandbox (fail closed).
 *
 * Context: supervisor. Errors: 0 / -1 with errno and a message (+ hint) in <err>.
 * Ownership: the proxy owns the listeners from proxy_new() on; the first engine (policy
 * generation 1), hosts table and log fd are borrowed and must outlive it; the policies and
 * engines of later generations (proxy_set_policy()) are the proxy's.
 *
 * Live policy and learn mode: docs/proxy.md "Live policy generations" and "Learn mode".
 */
#ifndef AGENTCAGE_PROXY_PROXY_H
#define AGENTCAGE_PROXY_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROXY_PORT            3128
#define PROXY_URL             "http://127.0.0.1:3128"
#define PROXY_MAX_LISTENERS   2
#define PROXY_BACKLOG         4096
#define PROXY_MAX_CONNS       16384 /* open client connections; beyond, new ones are dropped */
#define PROXY_ACCEPT_PAUSE_MS 1000  /* listeners rest this long after EMFILE/ENFILE */
#define PROXY_IDLE_RELEASE_MS 1000  /* idle this long: the identity cache's fds are closed */

struct evloop;
struct engine;
struct policy;
struct hosts;
struct proxy;
struct tls_ca;
struct tls_upstream;

struct proxy_listeners {
	int fd[PROXY_MAX_LISTENERS]; /* -1 when unused */
	size_t n;
};

struct proxy_config {
	const struct engine *engine;
	const struct hosts *hosts;   /* --hosts FILE, or NULL */
	int log_fd;                  /* the sandbox log (sandbox/lifelog.h), or -1 */
	int err_fd;                  /* where DENIED lines go (stderr), or -1 */
	const char *sandbox;         /* sandbox name for the log */
	const bool *raw_tty;         /* true while the terminal is raw ("\r\n"), or NULL */
	int netns_fd;                /* the sandbox's network namespace */
	pid_t root_pid;              /* the sandbox's init (host pid) */
	struct tls_ca *ca;           /* per-sandbox CA minting leaves for terminated
	                              * endpoints (tls/ca.h), or NULL: none terminated */
	struct tls_upstream *upstream; /* TLS client side towards origins (tls/upstream.h),
	                                * or NULL; both borrowed, must outlive the proxy */
	bool learn;                  /* learn mode: what the policy denies is relayed and
	                              * logged "learn"; identity failures, destination-address
	                              * rules and malformed requests are still refused */
};

/* What `agentcage ps` shows of a proxy. */
struct proxy_stats {
	size_t open;                    /* client connections open now */
	unsigned long long allowed;     /* connections relayed as the policy allowed them */
	unsigned long long denied;      /* connections and inspected requests refused */
	unsigned long long learned;     /* connections and inspected requests relayed only
	                                 * because of learn mode */
	unsigned long long generation;  /* current policy generation (1: the start policy) */
};

/* Called once when the proxy cannot go on; the supervisor must end the sandbox. */
typedef void (*proxy_fatal_cb)(void *arg, const char *why);

/*
 * Creates non-blocking, close-on-exec listeners on 127.0.0.1:<port> and [::1]:<port>
 * (IPV6_V6ONLY) in the CALLING thread's current network namespace; lo must be up. IPv6
 * is skipped when the kernel has none (EAFNOSUPPORT, EADDRNOTAVAIL). <l> is filled; on
 * error nothing is left open.
 */
int proxy_listen(struct proxy_listeners *l, uint16_t port, char *err, size_t errlen);

/* Closes the listeners in <l> (when proxy_new() was never reached). */
void proxy_listeners_close(struct proxy_listeners *l);

/*
 * A proxy on <l> (taken over: the fds are the proxy's even when this fails) for <c>.
 * Opens the identity context in c->netns_fd (setns there and back: the calling thread
 * must be the only one) and the TOFU cache; no thread yet.
 */
int proxy_new(struct proxy **out, const struct proxy_config *c, struct proxy_listeners *l,
	      char *err, size_t errlen);

/*
 * Raises RLIMIT_NOFILE's soft limit (to the hard limit, at most EVLOOP_MAX_FD), opens the
 * reserve fd, registers the listeners on <loop> and starts the resolver thread.
 */
int proxy_start(struct proxy *p, struct evloop *loop, proxy_fatal_cb on_fatal, void *arg,
		char *err, size_t errlen);

/*
 * Serves the sandbox's connect-notify listener <notify_fd> (taken over, closed on
 * failure too) on the proxy's loop: callers are then identified from connect-time
 * records (proxy/connwatch.h) instead of a scan. After proxy_start(). -1 with errno
 * (EBUSY: already watching; connwatch_new's or evloop_add's errno).
 */
int proxy_watch(struct proxy *p, int notify_fd);

/*
 * Makes <pol> and <eng> (compiled from <pol>; both taken over, freed when refused too)
 * the proxy's new policy generation; call it from a callback of the proxy's loop (a
 * control-socket request, SIGHUP through a signalfd): the swap is atomic for every
 * connection. Rules and refusals: conn_set_policy() in proxy/conn.h; in short, new
 * connections and each new inspected request use it, an open passthrough tunnel it
 * denies is closed and logged, and a policy that terminates TLS in a sandbox started
 * without a CA is refused (EPERM, "restart the sandbox ..."): the old generation stays.
 * *<generation> gets the new number. 0, or -1 with errno and <err> (+ hint).
 */
int proxy_set_policy(struct proxy *p, struct policy *pol, struct engine *eng,
		     unsigned long long *generation, char *err, size_t errlen);

/* Fills <st> with the proxy's counts now (O(1)). */
void proxy_stats(const struct proxy *p, struct proxy_stats *st);

/* Writes the decision lines the proxy holds back (proxy/declog.h) now: before another
 * line goes to the same log, so the file stays in order. NULL is accepted. */
void proxy_flush_log(struct proxy *p);

/* Closes every connection and listener, stops the resolver thread, frees <p>. Must not
 * be called from inside one of the proxy's own callbacks. NULL is accepted. */
void proxy_free(struct proxy *p);

#endif
