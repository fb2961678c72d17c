/*
 * proxy/resolve: host name -> addresses for the proxy, without blocking its loop.
 *
 * Order: an IP literal is its own answer; a name from `--hosts FILE` (hostsfile.h) is
 * answered from it; a name under ".invalid" (RFC 6761 §6.4: must never resolve) fails at
 * once with no query; anything else is a getaddrinfo() on ONE resolver thread fed by a
 * bounded queue, whose answers come back to the loop through an eventfd. A thread (and not
 * the loop) because getaddrinfo() is blocking and is the only resolver that honours the
 * host's nsswitch.conf; one thread because a sandbox makes few distinct lookups and a
 * queue keeps the cost bounded (a slow query delays the ones behind it: a known limit,
 * docs/proxy.md).
 *
 * Context: proxy loop. resolver_start() creates the thread: call it only AFTER the
 * sandbox has been cloned (a clone() of a multi-threaded process copies one thread and
 * whatever locks the others held); from then on the supervisor is multi-threaded and must
 * not fork without care.
 * Errors: 0 / -1 with errno. A failed lookup is not an error: the answer carries the
 * reason. Ownership: the resolver copies host names; answers are valid during the
 * callback only.
 */
#ifndef AGENTCAGE_PROXY_RESOLVE_H
#define AGENTCAGE_PROXY_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RESOLVE_MAX_ADDRS   16   /* addresses kept per answer, in resolver order */
#define RESOLVE_MAX_PENDING 1024 /* queued lookups; beyond it resolver_submit() fails */
#define RESOLVE_WHY_LEN     256

struct evloop;
struct hosts;
struct resolver;

enum resolve_source {
	RESOLVE_LITERAL = 0, /* the host was an IP literal */
	RESOLVE_HOSTS,       /* --hosts FILE */
	RESOLVE_INVALID,     /* RFC 6761 ".invalid": refused without a query */
	RESOLVE_DNS,         /* getaddrinfo() */
};

struct resolve_answer {
	enum resolve_source source;
	struct sockaddr_storage addrs[RESOLVE_MAX_ADDRS]; /* ports set to the asked port */
	size_t naddrs;                                    /* 0: failed, see why */
	char why[RESOLVE_WHY_LEN];                        /* set when naddrs == 0 */
};

/* Called from the loop with the answer; <data> as given to resolver_submit(). */
typedef void (*resolve_cb)(void *data, const struct resolve_answer *a);

/* A resolver using <hosts> (may be NULL; borrowed, must outlive it). No thread yet. */
int resolver_new(struct resolver **out, const struct hosts *hosts);

/* Creates the thread and registers the eventfd on <loop>. EALREADY if started. */
int resolver_start(struct resolver *r, struct evloop *loop);

/*
 * Answers <host> without a query when it can: an IP literal (brackets allowed), a hosts
 * entry, or a ".invalid" name (naddrs 0). Returns true with <a> filled, false when a DNS
 * query is needed.
 */
bool resolve_quick(const struct resolver *r, const char *host, uint16_t port,
		   struct resolve_answer *a);

/*
 * Queues a getaddrinfo() of <host>. <cb> runs later from the loop, never from inside this
 * call. Returns a request id (> 0), or -1: EAGAIN when RESOLVE_MAX_PENDING lookups are
 * queued, ENOTCONN before resolver_start(), EINVAL for a NULL/empty host or NULL cb.
 */
long long resolver_submit(struct resolver *r, const char *host, uint16_t port, resolve_cb cb,
			  void *data);

/* The client went away: <id>'s callback will not run. Unknown or finished ids are fine. */
void resolver_cancel(struct resolver *r, long long id);

/* Stops the thread (waits for a query in progress), unregisters the eventfd from the loop
 * given to resolver_start() and frees everything. NULL is accepted. */
void resolver_free(struct resolver *r);

#endif
