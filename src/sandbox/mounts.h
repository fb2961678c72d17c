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
 */
#ifndef AGENTCAGE_SANDBOX_MOUNTS_H
#define AGENTCAGE_SANDBOX_MOUNTS_H

#include <stddef.h>

#define MOUNTS_OLDROOT "/.oldroot"
#define MOUNTS_HOME    "/sandbox"

struct mounts_config {
	const char *home;    /* host path of the persistent home, absolute */
	const char *workdir; /* host path of the working directory, absolute */
};

/*
 * Builds the view described above and leaves the cwd at "/". Refuses relative paths
 * (EINVAL). -1 and errno on error with "<step> <path>: <errno text>" in <err>.
 */
int mounts_build(const struct mounts_config *c, char *err, size_t errlen);

#endif
