/*
 * proxy/l7: the HTTP/1.1 session inside a CONNECT tunnel whose endpoint has HTTP rules
 * (issue 5; docs/proxy.md "TLS termination and HTTP rules"). The connection (conn.c) has
 * dialled the upstream and written "200 Connection established"; from the client's first
 * bytes it knows whether the stream is TLS (terminated here: a leaf for the CONNECT host
 * from tls/ca.h, a verified TLS client towards the origin from tls/upstream.h) or plain
 * HTTP. Then, per request:
 *
 *   head (h1msg) -> Host must name the tunnel's host -> engine_decide_request()
 *     allowed/audit: head rewritten (canonical target, Proxy-* dropped) and sent, body
 *                    relayed verbatim; the response (1xx relayed, 101 = raw tunnel,
 *                    Content-Length / chunked / until-close) streamed back
 *     denied:        403 (JSON; text/plain for git) and the body skipped when it is
 *                    small enough to keep the connection, else "Connection: close"
 *
 * One request at a time: a pipelined request stays buffered until the response before it
 * has ended. Each direction buffers at most L7_BUF_SIZE bytes: a side whose destination
 * cannot take more is not read (back-pressure). Upstream EOF or reset in the middle of a
 * response closes the client: the proxy never completes a response itself.
 *
 * The session is sans-callback: the connection calls l7_run() when either socket is ready
 * (and l7_expire() at l7_deadline()), then registers l7_events(). One "http" line per
 * request goes to the sandbox log (proxy/declog.h).
 *
 * Context: proxy loop. Errors: l7_new() returns NULL with errno and a message; after that
 * a failure ends the session (L7_END with l7_why()), never the proxy.
 * Ownership: the fds, the engine, the log, the CA and the upstream context are borrowed;
 * the session owns its TLS state and buffers (l7_free()).
 */
#ifndef AGENTCAGE_PROXY_L7_H
#define AGENTCAGE_PROXY_L7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/engine.h"

#define L7_BUF_SIZE  (64 * 1024)   /* bytes read from one side and not yet written */
#define L7_SKIP_MAX  (1024 * 1024) /* body of a denied request discarded to keep the
				    * connection; a bigger one closes it */

struct declog;
struct proxy_gen;
struct tls_ca;
struct tls_upstream;
struct l7;

/* What the session needs from its connection; everything borrowed, outliving it. */
struct l7_conf {
	const struct engine *engine;
	struct ident id;                 /* the caller as the engine sees it */
	pid_t pid;                       /* for the log; 0 unknown */
	const char *host;                /* CONNECT host: lower case, IPv6 without brackets */
	uint16_t port;
	struct declog *log;
	struct tls_ca *ca;               /* TLS: mints the client-facing leaf */
	struct tls_upstream *upstream;   /* TLS: verifies the origin; NULL -> 502 */
	unsigned long long *denied;      /* incremented per denied request, or NULL */
	/* Live policy (proxy/gen.h): the generation <engine> belongs to (the session holds
	 * a reference of its own), and where the proxy keeps the current one. Each request
	 * follows the current generation: its host:port and binary are re-checked (L4)
	 * first; a stream the new generation no longer allows is answered 403 and closed,
	 * one it no longer terminates gets this request forwarded unchecked (L4 allows it)
	 * and is closed after it. Both NULL: <engine> is fixed (tests, tools). */
	struct proxy_gen *gen;
	struct proxy_gen *const *current;
	bool learn;                      /* learn mode: policy denials are forwarded, "learn" */
	unsigned long long *learned;     /* incremented per learned request, or NULL */
};

enum l7_status {
	L7_GO = 0,  /* carry on: register l7_events() */
	L7_END,     /* finished or failed: close the connection (l7_why()) */
};

/*
 * A session on client <cfd> and upstream <ufd> (connected, non-blocking). <tls>: the
 * client's first bytes are a TLS handshake: terminate it (conf->ca required), and speak
 * TLS to the origin, verified against conf->host. <first>[0..<flen>) are bytes already
 * read from <cfd> (copied). NULL with errno (ENOMEM, EINVAL, EPROTO) and <err> filled.
 */
struct l7 *l7_new(const struct l7_conf *conf, int cfd, int ufd, bool tls, const void *first,
		  size_t flen, char *err, size_t errlen);

/* An event came for the client's (<client>) or the upstream's fd: a read that blocked
 * is tried again on the next l7_run(). */
void l7_ready(struct l7 *s, bool client);

/* Moves everything that can move now. L7_GO or L7_END. */
enum l7_status l7_run(struct l7 *s);

/* The events (EV_READ / EV_WRITE of util/evloop.h) to wait for on each socket. */
void l7_events(const struct l7 *s, uint32_t *cmask, uint32_t *umask);

/* When the current step times out (CLOCK_MONOTONIC_COARSE ms): the head of a started
 * request (CONN_HEAD_MS), a handshake, an idle connection (CONN_IDLE_MS), the final
 * flush (CONN_REPLY_MS). */
long long l7_deadline(const struct l7 *s);

/* Called at or after l7_deadline(): answers 408 for a slow head, else ends. */
enum l7_status l7_expire(struct l7 *s, long long now_ms);

/* Why the session ended, for the connection's log line ("finished", "upstream
 * certificate verify failed: ..."). */
const char *l7_why(const struct l7 *s);

/* True once a 101 turned the session into a raw tunnel: no request boundary will come
 * again, so a new policy generation checks it at the swap (conn_set_policy()). */
bool l7_upgraded(const struct l7 *s);

/* Bytes written to the upstream and to the client so far (TLS: plaintext bytes). */
void l7_bytes(const struct l7 *s, uint64_t *up, uint64_t *down);

/* Frees the session (TLS state, buffers); logs a request still in flight. NULL ok. */
void l7_free(struct l7 *s);

#endif
