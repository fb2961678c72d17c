/*
 * sandbox/landlock: the filesystem (and, on ABI >= 6, IPC scope) confinement of the
 * sandboxed command, built from the policy's filesystem_policy and landlock sections
 * (spec/process.md §2, docs/landlock.md).
 *
 * Context: two phases. landlock_prepare() runs as root in the supervisor side (the
 * sandbox's init, after the mounts) and may allocate: it probes the ABI once, opens each
 * path O_PATH|O_CLOEXEC (as root, so root-only directories can be granted), masks the
 * rights to the inode type and adds the rules. landlock_enforce() runs in the pre-exec
 * child, after the privilege drop; it is async-signal-safe and never allocates.
 *
 * Rights: read_only = execute + read-file + read-dir; read_write = every filesystem right
 * the kernel knows (incl. refer, truncate, device ioctl). Directory-only rights are masked
 * off for non-directories (the kernel refuses them with EINVAL). On ABI >= 6 the domain
 * also scopes abstract unix sockets and signals: the command can neither connect to an
 * abstract socket nor signal a process outside its own domain.
 *
 * Degrading (landlock.compatibility): best_effort skips what cannot be applied and logs a
 * warning naming it (log_warnx); hard_requirement refuses (-1, <err> names the path and
 * the reason and contains "hard_requirement").
 *
 * Errors: 0 / -1 with errno; messages go to the caller's <err> buffer.
 * Ownership: a struct ll_ruleset is owned by its caller; landlock_release() closes the fd
 * and frees the lists. Zero-filling it and setting fd = -1 gives an empty ruleset.
 */
#ifndef AGENTCAGE_SANDBOX_LANDLOCK_H
#define AGENTCAGE_SANDBOX_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/model.h"
#include "util/sbuf.h"

/* One path of the policy: applied (access = rights granted) or skipped (reason set). */
struct ll_path {
	char *path;         /* malloc'd, as written in the policy (or the workdir) */
	uint64_t access;    /* rights granted (applied rules only) */
	bool dir;           /* the opened inode is a directory */
	bool read_write;    /* from read_write (or the workdir), else read_only */
	bool implicit;      /* added by agentcage (landlock_prepare_implicit), not the policy */
	const char *reason; /* skipped only: static text, e.g. "path does not exist" */
};

struct ll_ruleset {
	int fd;            /* ruleset fd (O_CLOEXEC), -1 when Landlock is not applied */
	int abi;           /* kernel ABI, 0 when the kernel has no Landlock */
	size_t nrules;     /* entries in rules[] */
	size_t nskipped;   /* entries in skipped[] */
	struct ll_path *rules;
	struct ll_path *skipped;
	uint64_t handled_fs;   /* filesystem rights the ruleset handles */
	uint64_t scoped;       /* LANDLOCK_SCOPE_* bits (ABI >= 6) */
	bool hard;             /* compatibility was hard_requirement */
	const char *why_off;   /* when fd == -1: why (static text), NULL if applied */
};

/*
 * Builds the ruleset for policy <p> and working directory <workdir> (NULL = none) into
 * *<rs> (any prior content is overwritten, not freed). read_only paths get RO rights,
 * read_write paths and, when p->include_workdir, <workdir> get RW rights; a path in both
 * lists gets both (the union). Paths are opened as the caller (root).
 * No filesystem section, or both lists empty and no workdir: Landlock is not applied
 * (rs->fd = -1, why_off = "policy has no filesystem paths"), 0 returned: an absent policy
 * section means "no filesystem confinement asked for", as in the reference.
 * best_effort: a path that cannot be opened is skipped with a warning; no Landlock in the
 * kernel, or zero usable paths -> rs->fd = -1, a loud warning, 0 returned.
 * hard_requirement: any of those -> -1 with <err> naming the path and the reason.
 * Returns 0, or -1 with errno (ENOENT, EACCES, EOPNOTSUPP, ENOSYS...) and <err> set.
 */
int landlock_prepare(const struct policy *p, const char *workdir, struct ll_ruleset *rs,
		     char *err, size_t errlen);

/* Implicit read-only paths beyond the policy's lists. */
#define LL_MAX_IMPLICIT 4

/*
 * landlock_prepare() plus <implicit> (NULL-terminated, at most LL_MAX_IMPLICIT entries,
 * or NULL): paths agentcage itself provides to every sandbox (the CA files under
 * /run/agentcage), granted read-only whatever the policy's read_only list says. They are
 * added only when Landlock is applied, are listed among the rules with "implicit": true,
 * and do not count as the policy's usable paths (a policy whose own paths are all
 * skipped still gets no ruleset). More than LL_MAX_IMPLICIT: -1 with E2BIG.
 */
int landlock_prepare_implicit(const struct policy *p, const char *workdir,
			      const char *const *implicit, struct ll_ruleset *rs, char *err,
			      size_t errlen);

/* Appends {"abi":N,"applied":bool,"rules":[{"path":..,"access":"ro"|"rw","type":..
 * [,"implicit":true]}],
 * "skipped":[{"path":..,"reason":..}],"scoped":[...]} (plus "why_off" when not applied). */
void landlock_summary_json(const struct ll_ruleset *rs, struct sbuf *b);

/*
 * Pre-exec child: sets no_new_privs, restricts the calling thread to <rs> and closes
 * rs->fd (set to -1). rs->fd == -1 (nothing to apply) -> 0. A restrict_self failure is an
 * error in hard_requirement mode; in best_effort it writes a warning to stderr and
 * returns 0. Async-signal-safe; no allocation. Returns 0, or -1 with errno and <err>.
 */
int landlock_enforce(struct ll_ruleset *rs, char *err, size_t errlen);

/* Supervisor: closes the fd (if open) and frees the lists; *<rs> is then empty (fd -1). */
void landlock_release(struct ll_ruleset *rs);

/* Probes the kernel: returns the Landlock ABI (>= 1), or -1 with errno (ENOSYS: not
 * built in, EOPNOTSUPP: disabled at boot) and <why> (static text) set. */
int landlock_abi(const char **why);

#endif
