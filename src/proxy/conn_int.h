/*
 * proxy/conn_int: the connection's own fields (types only, style.md §5), kept apart from
 * the logic; only conn.c and its parts (conn_decide.c, conn_tunnel.c, conn_gen.c)
 * include it. Fields start at -1 (fds) or zero.
 */
#ifndef AGENTCAGE_PROXY_CONN_INT_H
#define AGENTCAGE_PROXY_CONN_INT_H

#include "policy/addr.h"
#include "policy/engine.h"
#include "proxy/conn.h"
#include "proxy/forward.h"
#include "proxy/http1.h"
#include "proxy/l7.h"
#include "proxy/resolve.h"
#include "proxy/respond.h"
#include "util/sbuf.h"

struct conn {
	struct proxy_ctx *px;
	struct conn *prev, *next; /* px->live, or px->reap once closed */
	enum conn_state state;
	int cfd, ufd;             /* client, upstream; -1 when closed */
	uint32_t cmask, umask;    /* events registered for each */
	bool u_registered;
	long long timer;
	long long t0_ms, last_io_ms;
	struct sockaddr_storage peer, local;
	/* the request head */
	char head[HTTP1_MAX_HEAD + 1];
	size_t hlen, hseen;
	size_t head_end;          /* length of the parsed head */
	bool is_connect;
	char host[HTTP1_MAX_HOST + 1];
	uint16_t port;
	/* decision */
	struct conn_who who;
	struct decision dec;
	struct proxy_gen *gen;    /* the generation <dec> points into (one reference), or NULL */
	bool allowed;             /* policy and address rules passed (or learned) */
	bool learned;             /* relayed only because of learn mode */
	char method[32];          /* forward: kept for a re-decision under a new generation */
	size_t target_off, target_len; /* forward: the request-target in head[] */
	/* resolve and dial */
	long long rq;
	struct resolve_answer ans;
	size_t next_addr;
	char address[ADDR_STRLEN];
	char dial_err[256];
	bool dial_timed_out;
	/* what goes upstream first (CONNECT: bytes after the head; forward: rewritten head +
	 * the body bytes already read) */
	struct sbuf pre;
	struct forward_body body; /* forward: the request body still to read */
	/* relay */
	struct relay up, down;
	bool relaying;
	bool sniffing;            /* passthrough: c->up waits for the ClientHello check */
	bool sniff_eof;           /* the client ended before the check could finish */
	bool c_pending;           /* the client was readable while resolving or dialling
	                           * (its socket was parked then) */
	bool c_dry;               /* sniffing: the last read of the client came back short
	                           * or EAGAIN; no read until its next readiness event */
	/* inspected tunnel */
	struct l7 *l7;
	long long l7_armed;       /* deadline the timer is armed for */
	uint64_t l7_up, l7_down;  /* its byte counts, kept for the "net" line */
	/* our own response */
	char reply[RESPOND_MAX];
	size_t rlen, roff;
	/* decision log */
	const char *error;        /* response kind for a refusal, or NULL */
	char reason[ENGINE_REASON_MAX];
	bool logged;
};

/* conn.c, for conn_tunnel.c: the state setter, the watch, the one teardown */
void conn_set_state(struct conn *c, enum conn_state s);
int conn_watch(struct conn *c, uint32_t cmask, uint32_t umask);
void conn_close(struct conn *c, const char *why);
/* Re-arms the connection's timer to fire in <ms>. 0, or -1 (no memory). */
int conn_rearm(struct conn *c, long ms);

/* conn.c, for conn_gen.c */
/* True when <d> (allowed CONNECT) restricts HTTP requests under enforcement. */
bool conn_tunnel_needs_l7(const struct decision *d);
/* Learn mode: turns policy denial <d> into a relayed "learn" decision (reason kept after
 * "learn mode: would be denied: "); <l4_denied>: host:port itself was denied, so only
 * public addresses may be dialled. Malformed requests stay denied. true when learned. */
bool conn_learn(const struct proxy_ctx *px, struct decision *d, bool l4_denied);
/* The engine of the connection's generation (else the context's fixed one). */
const struct engine *conn_engine(const struct conn *c);

/* conn.c, for conn_decide.c */
/* Answers the client with <status> and a JSON body of <kind> and the formatted reason
 * (kept in c->reason for the log), drops any upstream, then drains and closes. */
void conn_reply(struct conn *c, int status, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Looks c->host up (at once when it is a literal or in --hosts, else on the resolver
 * thread) and goes on to dial; a failure answers 502. */
void conn_resolve(struct conn *c);

/* conn_decide.c */
/* CS_HEAD: reads what the client sent; on a complete head, identity, decision, lookup.
 * A malformed or oversized head is answered (400/431); EOF or a read error closes. */
void conn_read_head(struct conn *c);
/* A new generation came while resolving or dialling: decides again under it; <dialled>:
 * the address already dialled is checked again too. 0: carry on; -1: refused (403) or
 * closed. */
int conn_follow_generation(struct conn *c, bool dialled);

/* conn_tunnel.c */
/* Passthrough, c->sniffing: reads the client's first bytes into c->pre until the SNI
 * check can decide; then starts c->up, or closes the tunnel (sni_mismatch). */
void conn_sni_check(struct conn *c);
/* CS_SNIFF: writes the 200 held in c->reply, reads the first bytes, starts the session. */
void conn_sniff(struct conn *c);
/* CS_L7: runs the session, registers its events, re-arms its deadline. */
void conn_l7_run(struct conn *c);

#endif
