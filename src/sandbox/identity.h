/*
 * sandbox/identity: who the sandboxed command runs as (policy process.run_as_user /
 * run_as_group, spec/process.md §4), and the privilege drop that makes it so.
 *
 * Context: identity_resolve() runs in the supervisor (NSS lookups, may allocate);
 * identity_drop() and identity_harden() run in the pre-exec child as root: they use only
 * the resolved numbers and are async-signal-safe (no allocation, no NSS).
 *
 * Never root: uid 0 and gid 0 are refused, whether written as numbers or as names that
 * map to them, and gid 0 never appears among the supplementary groups.
 *
 * Errors: 0 / -1 with errno; a message in the caller's <err>. No allocation is kept.
 */
#ifndef AGENTCAGE_SANDBOX_IDENTITY_H
#define AGENTCAGE_SANDBOX_IDENTITY_H

#include <stddef.h>
#include <sys/types.h>

#define NGROUPS_BOUND     64 /* supplementary groups we carry; more is an error */
#define IDENTITY_DEFAULT  "sandbox"

struct identity {
	uid_t uid;
	gid_t gid;
	gid_t groups[NGROUPS_BOUND]; /* exactly the supplementary groups set (primary first) */
	size_t ngroups;
	char name[64];    /* user name, or the decimal uid for a numeric user without entry */
	char home[256];   /* passwd home, "" when unknown */
	char shell[256];  /* passwd shell, "" when unknown */
};

/*
 * Resolves <user> and <group> (each a name or a decimal id in [1, 4294967294]; NULL means
 * "sandbox") into *<id>. The group defaults to the user's primary group when <group> is
 * NULL and the user has a passwd entry, else to a group named "sandbox".
 * Supplementary groups: getgrouplist() of a named user (gid 0 removed) with the target gid;
 * a numeric user gets none beyond the target gid.
 * Refuses: uid or gid 0 (EPERM), an unknown name (ENOENT; for "sandbox" the message hints
 * at `agentcage setup`), malformed numbers (EINVAL), more than NGROUPS_BOUND groups (E2BIG).
 */
int identity_resolve(const char *user, const char *group, struct identity *id, char *err,
		     size_t errlen);

/*
 * Pre-exec child, as root: clears the capability bounding set (and verifies it is empty),
 * clears the ambient set, setgroups(<id>->groups) exactly, setresgid then verify,
 * setresuid then verify, then checks that setuid(0) and setgid(0) fail. Returns 0, or -1
 * with errno and <err> naming the failed step. Async-signal-safe.
 */
int identity_drop(const struct identity *id, char *err, size_t errlen);

/* RLIMIT_CORE 0/0 and PR_SET_DUMPABLE 0. The kernel makes a process dumpable again on
 * execve of a readable binary, so only the rlimit survives exec (docs/landlock.md). */
void identity_harden(void);

#endif
