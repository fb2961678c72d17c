/*
 * sandbox/lifelog: the sandbox's lifecycle log, one JSON object per line (start, exit).
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

/* Opens <path> for appending; when <mkdir_parent>, creates its directory 0700 first.
 * -1 and errno on error (<l>->fd stays -1). */
int lifelog_open(struct lifelog *l, const char *path, bool mkdir_parent);

/* Appends one "start" line. -1 and errno on error. */
int lifelog_write_start(struct lifelog *l, const struct lifelog_start *s);

/* Appends one "exit" line. -1 and errno on error. */
int lifelog_write_exit(struct lifelog *l, const struct lifelog_exit *x);

void lifelog_close(struct lifelog *l);

#endif
