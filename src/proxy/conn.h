/*
 * proxy/conn: one client connection of the egress proxy, from the first byte of its
 * request head to the last byte relayed (docs/proxy.md, network.md §2):
 *
 *   CS_HEAD -> CS_DECIDE -> CS_RESOLVE -> CS_DIAL -> CS_RELAY
 *      \           \             \            \   \     \
 *       \           \             \            \   `-> CS_SNIFF -> CS_L7 -> closed
 *       `-----------`-------------`------------`---------`--> CS_REPLY -> CS_DRAIN -> closed
 *
 * CONNECT host:port gets "200 Connection established" and a raw tunnel; an absolute-form
 * request (GET http://host/path) is rewritten to origin form and sent upstream with
 * "Connection: close" (one request per client connection, as the reference). Every
 * refusal is a JSON response (proxy/respond.h) and one decision line (proxy/declog.h).
 *
 * A CONNECT to an endpoint with HTTP rules (decision.inspect) when the proxy has a CA is
 * opened instead (CS_SNIFF: the client's first bytes say TLS or plain HTTP; CS_L7: the
 * HTTP session of proxy/l7.h decides every request). Any other CONNECT is relayed raw,
 * but the client's first bytes are read before they go upstream: a TLS ClientHello whose
 * server name (SNI) is not the CONNECT host closes the tunnel (domain fronting; logged
 * with error "sni_mismatch"). The upstream's bytes flow at once, so protocols where the
 * server speaks first (SSH, SMTP) wait for nothing.
 *
 * Each state has a timeout (CONN_*_MS); conn_set_state() logs transitions at debug level
 * and re-arms the connection's one timer; conn_close() is the only teardown: it writes the
 * decision line once, unregisters and closes both sockets, cancels a pending lookup, and
 * queues the memory to be freed after the current loop dispatch (house rule 9).
 *
 * Context: proxy loop (single-threaded). Errors: conn_start() returns 0 / -1 with errno;
 * a failure after that costs this connection only, never the proxy.
 * Ownership: struct proxy_ctx is the proxy's (proxy.h); a connection owns its sockets,
 * buffers and identity strings.
 */
#ifndef AGENTCAGE_PROXY_CONN_H
#define AGENTCAGE_PROXY_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "proxy/declog.h"
#include "proxy/relay.h"

#define CONN_HEAD_MS    10000        /* whole request head (slowloris) -> 408 */
#define CONN_RESOLVE_MS 15000        /* a DNS answer -> 502 dns_failure */
#define CONN_DIAL_MS    10000        /* one upstream connect(); the last -> 504 */
#define CONN_IDLE_MS    (3600 * 1000) /* a relay with no byte either way -> closed */
#define CONN_REPLY_MS   5000         /* writing our own response, then draining */
#define CONN_TRIM_AFTER 1024         /* freed connections before malloc_trim() at idle */

enum conn_state {
	CS_HEAD = 0, /* reading the request head */
	CS_DECIDE,   /* [transient] identity, policy, address rules */
	CS_RESOLVE,  /* waiting for the resolver thread */
	CS_DIAL,     /* upstream connect() in progress */
	CS_RELAY,    /* bytes flow both ways */
	CS_SNIFF,    /* inspected CONNECT: 200 sent, reading the client's first bytes */
	CS_L7,       /* inspected CONNECT: the HTTP session (proxy/l7.h) */
	CS_REPLY,    /* writing the proxy's own (error) response */
	CS_DRAIN,    /* response sent, write side shut; reading until EOF so no RST eats it */
	CS_CLOSED,   /* [transient] torn down, memory freed after dispatch */
};

/* Who made the connection, as the log and the engine see it. */
struct conn_who {
	pid_t pid;
	char *exe;
	char **ancestors;
	size_t nancestors;
};

struct evloop;
struct engine;
struct policy;
struct proxy_gen;
struct decision;
struct ident_ctx;
struct tofu;
struct resolver;
struct conn;
struct tls_ca;
struct tls_upstream;

/* Seams for the parts that need a real sandbox (replaced in unit tests). */
struct conn_ops {
	/* Fills <who> (malloc'd strings) for the client at <peer> seen on <local>; 0, or -1
	 * with a reason the 403 will carry. */
	int (*identify)(void *arg, const struct sockaddr_storage *peer,
			const struct sockaddr_storage *local, struct conn_who *who, char *reason,
			size_t reason_len);
	/* engine_check_address()'s contract. */
	int (*check_address)(const struct engine *e, const struct decision *d, const char *host,
			     const struct sockaddr *sa, uint16_t port, char *reason,
			     size_t reason_len);
	/* Optional (NULL: none): the last open connection was just freed; the proxy gives
	 * back what it holds only under load (idcache.h's descriptors). */
	void (*idle)(void *arg);
	void *arg;
};

/* What every connection shares; embedded in struct proxy. */
struct proxy_ctx {
	struct evloop *loop;
	const struct engine *engine;   /* the current generation's engine */
	struct proxy_gen *gen;         /* the current generation (one reference; proxy/gen.h),
	                                * or NULL: <engine> is fixed (tests) until the first
	                                * conn_set_policy() wraps it as generation 1 */
	bool learn;                    /* learn mode: policy denials are relayed, "learn" */
	struct resolver *resolver;
	struct declog log;
	struct conn_ops ops;
	enum relay_mode relay_mode;
	bool client_nodelay;           /* accepted sockets inherit TCP_NODELAY from the
	                                * listener (set by proxy.c): no setsockopt each */
	struct tls_ca *ca;             /* NULL: CONNECT tunnels are never opened */
	struct tls_upstream *upstream; /* TLS client towards origins (with ca) */
	struct conn *live;      /* doubly linked list of open connections */
	size_t nlive;
	struct conn *reap;      /* closed, freed by the reap timer */
	long long reap_timer;
	size_t freed;           /* connections freed since memory was last given back */
	unsigned long long served, denied; /* relayed as allowed; refused (connections and
	                                    * inspected requests) */
	unsigned long long learned;        /* relayed only because of learn mode */
};

/* "head", "decide", ... for logs. */
const char *conn_state_str(enum conn_state s);

/*
 * Takes over accepted, non-blocking client socket <fd> and starts reading its head.
 * -1 with errno when it cannot (getpeername, ENOMEM, evloop_add): <fd> is closed then.
 */
int conn_start(struct proxy_ctx *px, int fd);

/*
 * conn_start() for a caller that already knows both ends of <fd>: <peer> from accept4()
 * and <local> the listener's own bound address (a listener bound to one address gives
 * its connections that local address), which saves getpeername() and getsockname() per
 * connection. Either may be NULL: that end is asked of the socket. Same errors and
 * ownership as conn_start().
 */
int conn_start_addrs(struct proxy_ctx *px, int fd, const struct sockaddr_storage *peer,
		     const struct sockaddr_storage *local);

/* Closes every connection (sandbox end); each still writes its decision line. */
void conn_close_all(struct proxy_ctx *px);

/*
 * Makes <pol> and <eng> (compiled from it; both taken over, freed on failure too) the
 * current policy generation of <px> (docs/proxy.md "Live policy generations"); called
 * from a loop callback, so the swap is atomic for every connection:
 *  - new connections, and connections still resolving or dialling (re-decided when that
 *    completes), use it;
 *  - every new request in an inspected stream (proxy/l7.h) follows it;
 *  - an established passthrough tunnel it denies is closed now and logged "deny" with a
 *    reason naming the generation; one it still allows is kept (and moved to it); one
 *    whose requests it now inspects under enforcement is closed so the client reconnects
 *    through inspection;
 *  - the old generation is freed when the last connection deciding with it ends.
 * The engine gets the root of the current one (engine_set_root). Refused, with the old
 * generation in force: a policy that terminates TLS when <px> has no CA (the sandbox's
 * trust store was built at start; EPERM), NULL arguments (EINVAL), ENOMEM. *<generation>
 * gets the new number. 0, or -1 with errno and <err> (+ hint).
 */
int conn_set_policy(struct proxy_ctx *px, struct policy *pol, struct engine *eng,
		    unsigned long long *generation, char *err, size_t errlen);

/* The current generation's number (1 before any conn_set_policy()). */
unsigned long long conn_generation(const struct proxy_ctx *px);

/* Drops <px>'s reference to its current generation; after conn_close_all() and
 * conn_reap(), at teardown. */
void conn_ctx_release(struct proxy_ctx *px);

/* Frees the connections closed so far (the reap timer does it in normal operation;
 * callers tearing the proxy down call it after conn_close_all()). */
void conn_reap(struct proxy_ctx *px);

#endif
