/*
 * proxy/l7_int: the HTTP session's fields (types only), shared by l7.c (I/O and the
 * state machine) and l7_req.c (what happens to one request: authority, decision,
 * rewrite, the proxy's own answers, the log line). Only those two include it.
 */
#ifndef AGENTCAGE_PROXY_L7_INT_H
#define AGENTCAGE_PROXY_L7_INT_H

#include "policy/canon.h"
#include "proxy/h1msg.h"
#include "proxy/l7.h"
#include "tls/stream.h"
#include "util/sbuf.h"

/* The engine's canonical target: path, '?', raw query. */
#define L7_CANON_LEN (CANON_OUT_MAX + ENGINE_MAX_QUERY + 2)

/* Client -> upstream direction. */
enum l7_up {
	UP_HEAD = 0, /* reading the next request head */
	UP_BODY,     /* relaying an allowed request's body */
	UP_SKIP,     /* discarding a denied request's body */
	UP_WAIT,     /* request over; the next one waits for the response to end */
	UP_TUNNEL,   /* after 101: raw bytes */
};

/* Upstream -> client direction. */
enum l7_dn {
	DN_IDLE = 0, /* no request outstanding */
	DN_HEAD,     /* reading the response head (1xx heads relayed on the way) */
	DN_BODY,     /* relaying the response body */
	DN_LOCAL,    /* writing the proxy's own response (403, 400...) */
	DN_TUNNEL,   /* after 101: raw bytes */
};

/* bytes read from a side: p[off..len) not yet handled or written */
struct l7_buf {
	char *p;
	size_t off, len;
};

struct l7_side {
	struct tstream ts;
	bool tls, hs_done;
	unsigned rwant, wwant;  /* TS_WANT_* of the last read / write that would block */
	bool ready;             /* an event came for its fd since the last read blocked */
	bool eof;               /* nothing more will be read */
	bool shut;              /* our write side towards it is finished */
	struct l7_buf in;
	size_t pass;            /* in.p[in.off .. in.off+pass): framed, ready for the other side */
	struct sbuf out;        /* bytes of ours to write to this side first (head, answer) */
	size_t out_off;
	uint64_t written;       /* bytes written to this side */
};

/* The request being handled, for its log line. */
struct l7_rq {
	bool active, logged;
	char method[32];
	struct sbuf path;       /* redacted canonical target */
	int status;
	const char *decision;   /* "allow", "deny", "audit" */
	const char *note;
	const char *error;      /* the proxy's own answer kind (respond.h), or NULL */
	char reason[ENGINE_REASON_MAX];
	const char *block;
	uint64_t up0, down0;    /* byte counters when it started */
	long long t0;
};

struct l7 {
	struct l7_conf conf;
	struct l7_side c, u;    /* client, upstream */
	enum l7_up up;
	enum l7_dn dn;
	struct h1msg req, resp;
	size_t req_seen, resp_seen;
	bool req_done, resp_done;
	bool req_keep;          /* the request allows another one after it */
	bool close_after;       /* end the session once the client got what is queued */
	bool finishing;         /* close_after reached: client flushed, shut, draining */
	char fin_why[128];      /* why close_after was set */
	bool again;             /* l7_run() stopped at its pass limit with work left */
	uint64_t skipped;       /* UP_SKIP: body bytes discarded */
	bool ended;
	long long t0;           /* session start */
	long long t_head;       /* first byte of the current request head, or 0 */
	long long t_last;       /* last byte moved */
	long long t_fin;        /* finishing started */
	char upstream_err[512]; /* upstream handshake failure, answered once the client's is done */
	bool upstream_failed;
	struct decision dec;
	char *canon;            /* L7_CANON_LEN bytes */
	struct l7_rq rq;
	char why[ENGINE_REASON_MAX];
};

/* l7_req.c */
/* A complete request head is at s->c.in (length <hlen>): decide and queue. */
void l7_on_request(struct l7 *s, size_t hlen);
/* h1msg_head() refused the head at s->c.in: 400/431 and close. */
void l7_on_bad_request(struct l7 *s);
/* Starts the log record of a request with method <m>[0..<mlen>). */
void l7_rq_start(struct l7 *s, const char *m, size_t mlen);
/* The session ends once what is queued for the client is written (first reason kept). */
void l7_close_after(struct l7 *s, const char *why);
/* Queues the proxy's own answer to the client (DN_LOCAL); <close> ends the session
 * after it. <text>: text/plain (git). Logs the request as <decision> when one is active. */
void l7_answer(struct l7 *s, int status, const char *kind, const char *detail, bool close,
	       bool text);
/* Writes the active request's log line once. */
void l7_log_request(struct l7 *s);
/* Ends the session with <why> (first reason kept). */
void l7_end(struct l7 *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
