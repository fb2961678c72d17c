/*
 * proxy/declog: one JSON line per proxied connection in the sandbox's log (the --log file
 * of sandbox/lifelog.h, shared: same fd, O_APPEND, one write per line), and for a denial
 * one human line on stderr:
 *
 *   agentcage: DENIED /usr/bin/python3 (pid 42) -> pypi.org:443 — <reason>
 *
 * Line fields: time, event "net", sandbox, pid, binary, ancestors, host, port, address
 * (dialled, or null), decision ("allow" / "deny" / "learn": denied by the policy and
 * let through in learn mode, the reason saying why it would have been denied), error (the
 * response's "error" kind for a refusal, null otherwise), block, reason, generation (the
 * policy generation that decided, proxy/gen.h), end (how the connection ended: "finished",
 * or what cut it, e.g. "upstream reset the connection", "TLS handshake with the client
 * failed: ...", "idle timeout"; each failure is named once, on this line), bytes_up
 * (client -> upstream), bytes_down, duration_ms.
 *
 * Inside an inspected tunnel (proxy/l7.h) each HTTP request gets its own line, event
 * "http": time, sandbox, pid, binary, host, port, method, path (canonical, query values
 * redacted), status (the upstream's, or the proxy's own answer), decision ("allow",
 * "deny", "audit": denied by rules in audit mode and forwarded, or "learn": denied and
 * forwarded in learn mode), block, reason, generation, note
 * (e.g. "frames after the upgrade are not inspected", or null), bytes_up, bytes_down,
 * duration_ms, tls. A denial also prints
 *
 *   agentcage: DENIED /usr/bin/git (pid 42) -> POST github.com/o/r.git/git-receive-pack — <reason>
 *
 * Batching (the rule): with <loop> set, JSON lines are not written one by one but
 * appended to <pending>, and every line of one event-loop iteration goes out in one
 * write(): the first line arms a 0 ms timer, which the loop runs after that iteration's
 * fd callbacks. Nothing is held longer: the buffer is also written at once when it
 * passes DECLOG_BATCH_MAX bytes, and declog_flush() writes it on demand; its owner must
 * call declog_flush() before it stops the loop or frees the log (proxy_free() does, so
 * a sandbox's lines precede its "exit" line). Each write() holds whole lines on an
 * O_APPEND fd, so no line is split or lost, and other writers of the file (the
 * supervisor's lifecycle lines) never land inside one. Without <loop> (tests), each
 * line is written at once as before. Human DENIED lines on <err_fd> are never batched.
 *
 * Context: proxy loop. Errors: declog_write() returns 0 / -1 with errno (with batching
 * an error surfaces at the flush: warned once, the batch is dropped, the connection
 * never fails).
 * Ownership: the log borrows its fd; the caller closes it. <pending> is the log's own:
 * declog_flush() releases it.
 */
#ifndef AGENTCAGE_PROXY_DECLOG_H
#define AGENTCAGE_PROXY_DECLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/sbuf.h"

/* Batched bytes that make declog write at once instead of at the end of the iteration. */
#define DECLOG_BATCH_MAX (64 * 1024)

struct evloop;

struct declog {
	int fd;               /* the sandbox log, or -1: no JSON lines */
	int err_fd;           /* where the human DENIED line goes (stderr), or -1 */
	const char *sandbox;  /* sandbox name, or NULL */
	const bool *raw_tty;  /* points at "the terminal is in raw mode" (use "\r\n"), or NULL */
	bool warned;          /* a failed write was reported once already */
	struct evloop *loop;  /* set: lines are batched per loop iteration (see above) */
	long long flush_timer; /* the armed 0 ms flush timer, or 0 */
	struct sbuf pending;  /* whole lines not written yet */
};

struct declog_event {
	pid_t pid;                     /* 0: unknown */
	const char *binary;            /* NULL: unknown */
	const char *const *ancestors;
	size_t nancestors;
	const char *host;              /* NULL: the request never named one */
	uint16_t port;
	const char *address;           /* dialled address, NULL when none */
	bool allow;
	const char *error;             /* response error kind for a refusal, or NULL */
	const char *block;             /* deciding policy block, or NULL */
	const char *reason;
	bool learn;                    /* allowed only by learn mode: decision "learn" */
	unsigned long long generation; /* policy generation (>= 1) */
	const char *end;               /* how the connection ended, or NULL */
	uint64_t bytes_up, bytes_down;
	long long duration_ms;
};

/* One HTTP request inside an inspected tunnel. */
struct declog_http {
	pid_t pid;
	const char *binary;
	const char *host;
	uint16_t port;
	const char *method;
	const char *path;              /* already redacted (declog_redact_target) */
	int status;                    /* 0: none (the connection ended first) */
	const char *decision;          /* "allow", "deny", "audit", "learn" */
	unsigned long long generation; /* policy generation (>= 1) */
	const char *error;             /* the "error" of the proxy's own answer (respond.h):
	                                * "policy_denied" for a denial, or why the request
	                                * failed; NULL when the origin answered */
	const char *block;
	const char *reason;
	const char *note;              /* or NULL */
	uint64_t bytes_up, bytes_down;
	long long duration_ms;
	bool tls;
};

/* Writes the "http" line for <ev>, and the DENIED line when ev->decision is "deny" and
 * ev->error is NULL or "policy_denied" (a malformed request is not a policy decision). */
int declog_write_http(struct declog *l, const struct declog_http *ev);

/*
 * Appends <target>[0..<len>) to <b> with every non-empty query value replaced by
 * "[redacted]" (keys kept: "/s?q=[redacted]&page=[redacted]"): values carry tokens and
 * search terms, the keys say enough to read the log.
 */
struct sbuf;
void declog_redact_target(struct sbuf *b, const char *target, size_t len);

/* Writes the JSON line for <ev>, and the DENIED line when !ev->allow and ev->error is
 * "policy_denied", "destination_denied" or "sni_mismatch" (other failures are not
 * decisions). */
int declog_write(struct declog *l, const struct declog_event *ev);

/*
 * Writes the lines batched so far (one write) and disarms the flush timer. 0, or -1 with
 * errno from the write (warned once; the batch is dropped either way, never retried
 * into a half-written file). Safe to call with nothing pending, and from any callback.
 */
int declog_flush(struct declog *l);

/* The JSON line for <ev> (without the newline) into <b> (util/sbuf.h); for tests. */
void declog_format(const struct declog *l, const struct declog_event *ev, struct sbuf *b);

#endif
