/*
 * cli/logread: reads a sandbox log back (the JSON lines of sandbox/lifelog.h and
 * proxy/declog.h) for `agentcage logs` and `agentcage policy suggest`.
 *
 * A log is a sequence of lines, one JSON object each. The reader hands out one event per
 * well-formed line, in file order, with the fields the commands need; unknown fields are
 * ignored and an unknown "event" comes out as LOGREAD_OTHER (a newer agentcage may add
 * events). A line that is not a JSON object, has no string "event", or is longer than
 * LOGREAD_LINE_MAX is skipped and counted in nmalformed; it is never fatal, so one torn
 * or hand-edited line does not hide the rest of the log. This module is the only user of
 * jansson; its types do not leak out of it.
 *
 * Context: CLI. Errors: 0 / -1 with errno unless stated otherwise.
 * Ownership: a struct logread owns its fd, its buffers and the current line's parse; the
 * strings of a struct logread_event are borrowed from the reader and stay valid until the
 * next logread_next() or logread_close().
 */
#ifndef AGENTCAGE_CLI_LOGREAD_H
#define AGENTCAGE_CLI_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/sbuf.h"

/* Longest line accepted. A start line with a long Landlock rule list is ~2 KiB and an
 * http line is bounded by the proxy's head limit; 64 KiB leaves room without letting a
 * runaway line grow the reader's buffer without bound. */
#define LOGREAD_LINE_MAX (64 * 1024)

/* Bytes read from the file per read(2). */
#define LOGREAD_CHUNK (16 * 1024)

/* What a line is, from its "event" member. */
enum logread_kind {
	LOGREAD_OTHER = 0, /* an event this version does not know */
	LOGREAD_START,     /* the sandbox started (lifelog) */
	LOGREAD_EXIT,      /* the sandbox ended */
	LOGREAD_EXEC,      /* `agentcage exec` started a process inside it */
	LOGREAD_EXEC_EXIT, /* that process ended */
	LOGREAD_POLICY,    /* a live policy change: loaded or refused */
	LOGREAD_NET,       /* a proxied connection (declog) */
	LOGREAD_HTTP,      /* one HTTP request inside an inspected tunnel */
};

/* The "decision" of a net or http line. */
enum logread_decision {
	LOGREAD_DEC_NONE = 0, /* no decision member (lifecycle lines) */
	LOGREAD_DEC_ALLOW,
	LOGREAD_DEC_DENY,
	LOGREAD_DEC_AUDIT,   /* denied by rules in audit mode, forwarded */
	LOGREAD_DEC_LEARN,   /* learn mode: let through, the policy would have denied it */
	LOGREAD_DEC_UNKNOWN, /* a decision word this version does not know */
};

/*
 * One line. Strings are NULL when the member is missing or null; numbers are -1 then.
 * Which members a kind fills is in its comment; the rest stay NULL / -1.
 */
struct logread_event {
	enum logread_kind kind;
	const char *event; /* the "event" word as written */
	const char *time;  /* "time" as written, or NULL */
	long long time_ms; /* "time" as Unix milliseconds, -1 when missing or unreadable */
	const char *line;  /* the raw line, without its newline, NUL-terminated */
	size_t line_len;
	off_t offset; /* where the line starts in the file */

	const char *name; /* start/exit/exec/exec_exit/policy "name"; net/http "sandbox" */
	long long pid;    /* every kind: "pid" */
	/* net, http */
	const char *binary, *host, *method, *path, *error, *block, *reason, *note;
	const char *address; /* net: the dialled address, or NULL */
	const char *end;     /* net: how the connection ended ("finished", ...), or NULL */
	long long port, status, bytes_up, bytes_down, generation;
	enum logread_decision decision;
	const char *decision_word;
	/* start: policy_source, policy_sha256, command (argv joined by spaces);
	 * exec: command; policy: policy_source, policy_sha256, result, reason, generation */
	const char *policy_source, *policy_sha256, *command, *result;
	/* exec, exec_exit: exec_id (agentcage exec's number), sandbox_pid (its pid inside) */
	long long exec_id, sandbox_pid;
	/* exit, exec_exit: status (agentcage's or the process's), exit_code, signal_name,
	 * duration_ms */
	long long exit_code, duration_ms;
	const char *signal_name;
};

struct logread {
	int fd;            /* -1 when closed */
	const char *path;  /* borrowed from the caller, for messages */
	bool eof;          /* the last read(2) returned 0 */
	size_t nmalformed; /* lines skipped as malformed or over-long */
	size_t nlines;     /* lines seen, malformed included */
	/* private */
	struct sbuf _buf; /* bytes read, not handed out yet, from _pos */
	size_t _pos;
	off_t _buf_off;       /* file offset of _buf.s[0] */
	bool _skipping;       /* dropping the rest of an over-long line */
	void *_json;          /* the current line's parse (json_t *) */
	struct sbuf _line;    /* the current line, NUL-terminated */
	struct sbuf _command; /* the current line's argv, joined */
};

/*
 * Maps what the user typed to a log file: an <arg> containing '/' is a file path, taken
 * as it is; anything else is a sandbox name, whose log is LIFELOG_DIR/<arg>.jsonl.
 * A name must be a sandbox name (ctl_name_check() of ctl/proto.h; EINVAL otherwise:
 * '..' or 'a/b' would name another directory). The result goes to <out> of
 * <size> bytes (ENAMETOOLONG when it does not fit). The one place that knows where logs
 * live: a later version asks a running sandbox's state file for a --log path here.
 */
int logread_resolve(const char *arg, char *out, size_t size);

/* Opens <path> for reading (O_RDONLY | O_CLOEXEC) into a zero-filled <r>; <path> must
 * outlive <r>. -1 and errno on error (<r>->fd stays -1). */
int logread_open(struct logread *r, const char *path);

/* Closes the file and frees every buffer; <r> may be reused with logread_open(). */
void logread_close(struct logread *r);

/*
 * Reads the next well-formed line into <ev>. Returns 1 with an event, 0 at the end of
 * what the file holds now, -1 with errno on a read error. A partial last line (no
 * newline yet) is held back while <follow> (the writer may still be writing it; a later
 * call after more data arrived returns it whole) and handed out as a line otherwise.
 * Call again after 0 to pick up data appended since.
 */
int logread_next(struct logread *r, struct logread_event *ev, bool follow);

/*
 * Reads the whole file and positions <r> on the last run: the last "start" line, or the
 * beginning when there is none. *<start_pid> gets that line's pid (-1 when none). The
 * counters start again from there, so a malformed line before the run is not reported.
 * Cost: one pass over the file (a 2 MiB log is parsed in a few ms). -1 and errno on error.
 */
int logread_seek_last_run(struct logread *r, long long *start_pid);

/* Which events a listing shows. A zero-filled filter (since_ms 0) selects everything. */
struct logread_filter {
	long long since_ms; /* only events at or after this Unix time in ms; 0 = any */
	bool denied_only;   /* only denials and would-be denials (learn) */
};

/* True when <ev> passes <f>. An event without a readable time passes a since filter:
 * hiding it would hide the very line that is broken. */
bool logread_match(const struct logread_filter *f, const struct logread_event *ev);

/* True for a denial ("deny") or a would-be denial ("learn") on a net or http line. */
bool logread_is_denial(const struct logread_event *ev);

/*
 * Parses a --since value relative to <now_ms> into Unix milliseconds: a duration
 * "<N>s|m|h|d" (N in 1..10^9 and the result not before 1970) means that long ago; an
 * ISO-8601 UTC time "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)" or "YYYY-MM-DD"
 * (midnight UTC) is taken as it is; a time without a zone is UTC. -1 with EINVAL for
 * anything else.
 */
int logread_parse_since(const char *s, long long now_ms, long long *out_ms);

/* Parses the log's "time" format (RFC 3339, as logread_parse_since takes it) into Unix
 * ms. -1 with EINVAL when it is not one. */
int logread_parse_time(const char *s, long long *out_ms);

#endif
