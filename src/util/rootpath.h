/*
 * rootpath: the real path of a file as seen from another root directory, e.g. the
 * sandbox's (/proc/PID/root), without entering its mount namespace. Used to match a
 * policy binary that is a symlink (/sandbox/.venv/bin/python -> /usr/bin/python3.11,
 * /bin/bash on a merged-/usr system) against /proc/PID/exe, which always names the real
 * file (network.md §3.6).
 *
 * Every lookup runs under openat2(RESOLVE_IN_ROOT) from <root>: an absolute symlink target
 * or ".." never leaves it, whatever the sandbox planted. Only link targets are read,
 * never file contents.
 *
 * Context: any (no global state). Errors: 0, or -1 with errno (ENOENT: a component is
 * missing; ELOOP: more than ROOTPATH_MAX_LINKS links; ENAMETOOLONG: the result does not
 * fit; EINVAL: <path> is not absolute; EXDEV: with ROOTPATH_ROOT_LINKS, a link not owned
 * by root). Ownership: the caller's buffers.
 */
#ifndef AGENTCAGE_ROOTPATH_H
#define AGENTCAGE_ROOTPATH_H

#include <stddef.h>

/* Links followed per resolution, as the kernel's own limit (MAXSYMLINKS). */
#define ROOTPATH_MAX_LINKS 40

/* Follow only symlinks owned by root (a link a sandbox planted in its home must not move
 * a bind or a rule onto the host's files): others fail with EXDEV. */
#define ROOTPATH_ROOT_LINKS 1u

/*
 * Resolves absolute <path> inside directory <rootfd> (every symlink of every component
 * followed, "." and ".." applied) into <out> (an absolute path relative to that root, at
 * most <outlen> bytes with the NUL). The last component must exist.
 */
int rootpath_resolve(int rootfd, const char *path, unsigned flags, char *out, size_t outlen);

#endif
