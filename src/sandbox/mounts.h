/*
 * sandbox/mounts: the sandbox's filesystem view, built without touching the host.
 *
 * Context: sandbox init (pid 1), root, in its new mount and pid namespaces, before the
 * command is forked. Errors: 0 / -1 with errno, and a message in the caller's err[]
 * that names the step and the path.
 *
 * How (bubblewrap's approach, with the host's root as the source):
 *   1. make every mount recursively private, so nothing done here propagates to the host;
 *   2. mount a fresh tmpfs on /tmp (only in this namespace) and pivot_root into it, keeping
 *      the old root at /.oldroot;
 *   3. recreate each top-level entry of the host's root: directories are recursive bind
 *      mounts of the host's (so /usr, /etc, /dev... are the host's), symlinks are copied;
 *      /proc, /tmp and /sandbox are not taken from the host;
 *   4. a new procfs on /proc (this pid namespace's own), a private tmpfs on /tmp (1777,
 *      nosuid, nodev), the persistent home bind-mounted on /sandbox, and the working
 *      directory bind-mounted at its own path when it lies under the host's /tmp;
 *   5. detach /.oldroot, mark every mount nosuid (defence in depth under no_new_privs) and
 *      make the new root itself read-only, so creating files in / fails with EROFS.
 * The host never sees any of it: no directory is created outside tmpfs mounts that exist
 * only in the sandbox's namespace, and the namespace dies with its last process.
 *
 * listed_only (struct mounts_config): the view holds only what the policy lists, because
 * Landlock (ABI <= 7) does not govern connect(2) on a pathname unix socket: a host
 * service's socket anywhere the sandbox can see (/var/tmp, /var/lib/mysql) is reachable
 * whatever the ruleset says. Steps 3-4 become:
 *   3'. each top-level symlink of the host's root is copied (/bin, /lib, /lib64, /sbin on
 *       merged /usr); no top-level directory is taken;
 *   4'. the sandbox's own: a new procfs on /proc, private tmpfs on /tmp and /run (1777 and
 *       0755), the home on /sandbox, a small /dev (tmpfs, read-only at the end) with
 *       null, zero, full, random, urandom and tty made with the host's device numbers
 *       (mknod: the same devices as binds, at a fifth of the syscalls), a new devpts
 *       instance on /dev/pts (ptmx 0666) with /dev/ptmx -> pts/ptmx, a 1777 tmpfs on
 *       /dev/shm, and fd, stdin, stdout, stderr links into /proc/self/fd;
 *   4''. every listed path (read_only, read_write, and the workdir when include_workdir),
 *       resolved on the host following only root-owned symlinks (as Landlock opens its
 *       rules, landlock.c), is bound recursively at that real path, parents first:
 *       read_only trees read-only (every submount too), read_write ones writable; all
 *       nosuid, and nodev except device binds under /dev. Intermediate directories are
 *       created 0755 in the tmpfs, a file gets an empty file as its mount point.
 *       Skipped without a word (Landlock names them later, per best_effort or
 *       hard_requirement): a path missing on the host, one behind a symlink root does not
 *       own, and paths inside the sandbox's own /proc, /tmp, /run, /sandbox, /dev/pts,
 *       /dev/shm (those are never the host's). A listed /dev node is bound from the host
 *       with the listed access (a default one listed read_only only is bound onto itself
 *       read-only; Landlock's rule is what refuses writes to a device). A listed "/" stands for
 *       each top-level host directory but those. /sys only when listed.
 *       The workdir under the host's /tmp is bound into the private /tmp (as in step 4);
 *       when include_workdir is false it is an empty directory (unless a listed tree
 *       shows it) so the command can still chdir there.
 *   Any failure on a path that exists is an error naming it (fail closed).
 */
#ifndef AGENTCAGE_SANDBOX_MOUNTS_H
#define AGENTCAGE_SANDBOX_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#define MOUNTS_OLDROOT "/.oldroot"
#define MOUNTS_HOME    "/sandbox"

/* Top-level host directories a listed "/" expands to, at most. */
#define MOUNTS_MAX_TOP 256

struct mounts_config {
	const char *home;    /* host path of the persistent home, absolute */
	const char *workdir; /* host path of the working directory, absolute (a realpath) */
	/* false: the whole host root as in steps 3-4 (the fields below are ignored). */
	bool listed_only;
	const char *const *ro; /* the policy's read_only paths (absolute) */
	size_t nro;
	const char *const *rw; /* the policy's read_write paths (absolute) */
	size_t nrw;
	bool include_workdir;  /* the policy's: the workdir is bound read-write */
};

/*
 * Builds the view described above and leaves the cwd at "/". Refuses relative paths
 * (EINVAL). -1 and errno on error with "<step> <path>: <errno text>" in <err>.
 */
int mounts_build(const struct mounts_config *c, char *err, size_t errlen);

/* --- Pure helpers, exported for tests/unit/test_mounts.c --- */

/* Where a path (absolute, normalised) lives in the listed_only view. */
enum mounts_area {
	MOUNTS_AREA_HOST,     /* taken from the host when listed */
	MOUNTS_AREA_OWN,      /* the sandbox's own: /proc, /tmp, /run, /sandbox and below,
	                       * /dev itself, /dev/pts, /dev/shm, /dev/ptmx, /dev/fd,
	                       * /dev/std{in,out,err}: never the host's */
	MOUNTS_AREA_DEV_NODE, /* /dev/{null,zero,full,random,urandom,tty}: always bound */
	MOUNTS_AREA_DEV_HOST, /* any other /dev/...: the host's, bound when listed */
};

enum mounts_area mounts_area_of(const char *path);

/* Number of components of absolute <path> ("/" 0, "/usr" 1, "/usr/lib/" 2). */
size_t mounts_path_depth(const char *path);

/* One path to bind in the listed_only view. */
struct mounts_entry {
	char *path; /* the real path on the host (and in the view); owned by the entry */
	bool rw;    /* writable; else the whole tree read-only */
	bool dev;   /* under /dev: device nodes keep working (no nodev) */
};

/*
 * Sorts <e>[0..<n>) parents first (by depth, then by path) and merges entries with the
 * same path (writable if any of them is; the duplicate's path is freed). Returns the new
 * count. O(n log n); no allocation.
 */
size_t mounts_entries_order(struct mounts_entry *e, size_t n);

/*
 * Resolves absolute <path> inside directory <rootfd> into <out> (<outlen> bytes with the
 * NUL), "." and ".." applied, following a symbolic link only when root owns it (as
 * landlock.c opens its rules: a link the sandbox planted in its persistent home must not
 * move a bind onto the host's root). The result names no symlink. 0, or -1 with errno:
 * EXDEV a link root does not own, ELOOP more than 40 links, ENOENT/ENOTDIR missing,
 * ENAMETOOLONG, EINVAL <path> not absolute.
 */
int mounts_resolve_trusted(int rootfd, const char *path, char *out, size_t outlen);

#endif
