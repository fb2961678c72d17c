/*
 * proxy/declog: one JSON line per proxied connection in the sandbox's log (the --log file
 * of sandbox/lifelog.h, shared: same fd, O_APPEND, one write per line), and for a denial
 * one human line on stderr:
 *
 *   agentcage: DENIED /usr/bin/python3 (pid 42) -> pypi.org:443 — <reason>
 *
 * Line fields: time, event "net", sandbox, pid, binary, ancestors, host, port, address
 * (dialled, or null), decision ("allow" / "deny"), error (the response's "error" kind for
 * a refusal, null otherwise), block, reason, bytes_up (client -> upstream), bytes_down,
 * duration_ms.
 *
 * Context: proxy loop. Errors: declog_write() returns 0 / -1 with errno; a failed log
 * write never fails the connection (the caller warns once).
 * Ownership: the log borrows its fd; the caller closes it.
 */
#ifndef AGENTCAGE_PROXY_DECLOG_H
#define AGENTCAGE_PROXY_DECLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct declog {
	int fd;               /* the sandbox log, or -1: no JSON lines */
	int err_fd;           /* where the human DENIED line goes (stderr), or -1 */
	const char *sandbox;  /* sandbox name, or NULL */
	const bool *raw_tty;  /* points at "the terminal is in raw mode" (use "\r\n"), or NULL */
	bool warned;          /* a failed write was reported once already */
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
	uint64_t bytes_up, bytes_down;
	long long duration_ms;
};

/* Writes the JSON line for <ev>, and the DENIED line when !ev->allow and ev->error is
 * "policy_denied" or "destination_denied" (other failures are not decisions). */
int declog_write(struct declog *l, const struct declog_event *ev);

/* The JSON line for <ev> (without the newline) into <b> (util/sbuf.h); for tests. */
struct sbuf;
void declog_format(const struct declog *l, const struct declog_event *ev, struct sbuf *b);

#endif
