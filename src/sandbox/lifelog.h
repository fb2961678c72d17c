/*
 * sandbox/lifelog: the sandbox's lifecycle log, one JSON object per line (start, exit,
 * and while it runs: exec, exec_exit, policy).
 * Default file /var/log/agentcage/NAME.jsonl; the directory is created 0700 (the log names
 * commands and paths of the user), the file 0600, opened O_APPEND so concurrent sandboxes
 * sharing a file never interleave inside a line.
 *
 * Context: supervisor. Errors: 0 / -1 with errno; the caller words the message.
 * Ownership: a struct lifelog owns its fd; lifelog_close() releases it. Event structs are
 * borrowed for the call only.
 */
#ifndef AGENTCAGE_SANDBOX_LIFELOG_H
#define AGENTCAGE_SANDBOX_LIFELOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LIFELOG_DIR "/var/log/agentcage"

struct lifelog {
	int fd; /* -1 when closed */
	/* Called before each line is written, when set: another writer of the same file
	 * that holds lines back (the proxy batches its decision lines per loop turn) writes
	 * them first, so the file keeps the order in which things happened. */
	void (*before_write)(void *arg);
	void *before_arg;
};

struct lifelog_start {
	const char *name;
	pid_t pid;            /* supervisor pid */
	pid_t init_pid;       /* sandbox init, host pid */
	const char *policy_source;
	const uint8_t *policy_sha256; /* 32 bytes */
	const char *workdir;
	const char *home;
	char *const *argv;    /* the command, NULL-terminated */
	bool tty;
	const char *landlock_json; /* landlock_summary_json() output, already JSON; NULL = null */
	bool seccomp;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t ngroups;
};

struct lifelog_exit {
	const char *name;
	pid_t pid;
	bool started;    /* the command was confined and launched */
	int status;      /* agentcage's exit status */
	int exit_code;   /* the command's exit code, -1 when killed by a signal or never ran */
	int signal;      /* the signal that killed it, 0 when none */
	long long duration_ms;
	bool timed_out;
};

/* A process started in the running sandbox (`agentcage exec`). */
struct lifelog_exec {
	const char *name;
	pid_t pid;           /* supervisor pid */
	long id;             /* supervise_exec()'s id */
	pid_t sandbox_pid;   /* its pid inside the sandbox */
	char *const *argv;   /* NULL-terminated */
	bool tty;
};

struct lifelog_exec_exit {
	const char *name;
	pid_t pid;
	long id;
	pid_t sandbox_pid;   /* 0 when it never started */
	int wait_status;     /* as supervise_exec()'s <done> got it */
	long long duration_ms;
};

/* A policy change request (`policy set`, SIGHUP). */
struct lifelog_policy {
	const char *name;
	pid_t pid;
	unsigned long long generation; /* the new one when loaded, the current one when refused */
	const char *source;            /* file path, "control socket", ... */
	const uint8_t *policy_sha256;  /* 32 bytes of the proposed policy, or NULL */
	bool loaded;                   /* result: "loaded" or "refused" */
	const char *reason;            /* why refused (or NULL) */
};

/* Opens <path> for appending; when <mkdir_parent>, creates its directory 0700 first.
 * -1 and errno on error (<l>->fd stays -1). */
int lifelog_open(struct lifelog *l, const char *path, bool mkdir_parent);

/* Appends one "start" line. -1 and errno on error. */
int lifelog_write_start(struct lifelog *l, const struct lifelog_start *s);

/* Appends one "exit" line. -1 and errno on error. */
int lifelog_write_exit(struct lifelog *l, const struct lifelog_exit *x);

/* Appends one "exec" line: argv, sandbox pid, tty. -1 and errno on error. */
int lifelog_write_exec(struct lifelog *l, const struct lifelog_exec *e);

/* Appends one "exec_exit" line: status (128+N for signal N, as a shell shows it),
 * exit_code or signal (the other null), duration_ms. -1 and errno on error. */
int lifelog_write_exec_exit(struct lifelog *l, const struct lifelog_exec_exit *x);

/* Appends one "policy" line: generation, source, policy_sha256, result, reason.
 * -1 and errno on error. */
int lifelog_write_policy(struct lifelog *l, const struct lifelog_policy *p);

void lifelog_close(struct lifelog *l);

#endif
