/*
 * ctl/state: who holds a sandbox name. The run directory (default CTL_RUN_DIR, mode 0700,
 * owned by the caller) holds, per running sandbox, NAME.json (the state file) and NAME.sock
 * (the control socket, server.h).
 *
 * The state file is written to a temporary name, flock()ed, then moved into place, so a
 * reader never sees half a file and the lock rides with the file: the supervisor keeps it
 * locked for its whole life. An unlocked state file therefore means its supervisor died
 * (the kernel drops a flock with the last fd, even on SIGKILL); whoever looks next (claim,
 * list, connect) removes it and its socket. Claims and removals hold an exclusive flock on
 * the directory itself, so two claimers cannot both win and a cleaner cannot remove a file
 * that a new holder just put in place.
 *
 * Context: supervisor (claim, update, release) and CLI (list, probe). Blocking file I/O on
 * a tmpfs, never on the proxy loop's hot path. Errors: 0 / -1 with errno.
 */
#ifndef AGENTCAGE_CTL_STATE_H
#define AGENTCAGE_CTL_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "ctl/proto.h"

/* What the state file records. Strings may be NULL (written as null). */
struct ctl_info {
	const char *name;          /* checked with ctl_name_check() */
	pid_t init_pid;            /* 0 until the sandbox is cloned */
	long long started;         /* unix seconds */
	char *const *argv;         /* NULL-terminated; may be NULL */
	const char *workdir;
	const char *policy_source; /* path, or "<default>" */
	const char *log_path;
	bool learn;
};

struct ctl_claim; /* opaque: the held name */

/* One live sandbox found by ctl_list(). */
struct ctl_entry {
	char name[CTL_NAME_MAX + 1];
	pid_t pid;        /* its supervisor */
	char *state_json; /* the state file's text, NUL-terminated, malloc'd */
};

/*
 * Claims <info>->name in <run_dir> (created 0700 if missing; refused with EPERM when it is
 * not a directory owned by the caller or is writable by others) and writes the state file
 * with this process as "pid". A stale holder is cleaned first. Fails with EEXIST and
 * *<holder> = the live supervisor's pid when a live sandbox holds the name; EINVAL for a bad
 * name; ENAMETOOLONG when the socket path would not fit sun_path. On success *<out> is the
 * claim; free it with ctl_claim_release().
 */
int ctl_claim(const char *run_dir, const struct ctl_info *info, struct ctl_claim **out,
	      pid_t *holder);

/* Rewrites the state file (atomically, still locked) from <info> (same name). -1 and errno. */
int ctl_claim_update(struct ctl_claim *c, const struct ctl_info *info);

/* The socket path of the claimed name, e.g. "/run/agentcage/NAME.sock". */
const char *ctl_claim_sock_path(const struct ctl_claim *c);

/* Removes the state file and socket (if they are still ours), drops the lock and frees <c>.
 * NULL is accepted. Keeps errno. */
void ctl_claim_release(struct ctl_claim *c);

/*
 * Whether a live sandbox holds <name> in <run_dir>: 1 live (*<pid> set), 0 none (a stale
 * state file and socket are removed on the way), -1 with errno (EACCES when the directory
 * cannot be read: not root).
 */
int ctl_probe(const char *run_dir, const char *name, pid_t *pid);

/*
 * Lists the live sandboxes of <run_dir>, sorted by name, removing stale ones. A missing
 * directory is an empty list. *<out> (NULL when empty) is freed with ctl_list_free().
 */
int ctl_list(const char *run_dir, struct ctl_entry **out, size_t *n);
void ctl_list_free(struct ctl_entry *e, size_t n);

/* Builds "<run_dir>/<name><suffix>" into <buf>; -1 with ENAMETOOLONG when it does not fit. */
int ctl_path(char *buf, size_t size, const char *run_dir, const char *name, const char *suffix);

#endif
