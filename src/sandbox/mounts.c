/* sandbox/mounts: tmpfs root + host binds + pivot_root (contract in mounts.h). */
#include "sandbox/mounts.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "util/util.h"

/* Host top-level entries the sandbox gets its own instance of instead. */
/* /run holds the host's service sockets (D-Bus, resolved, docker...): Landlock does not
 * govern connect(2) on a pathname socket, so the sandbox gets an empty /run instead. */
static const char *const mounts_not_from_host[] = { "proc", "tmp", "sandbox", "run" };

/* Fills <err> with "<what> <path>: <errno text>[\nhint: ...]"; keeps errno; returns -1. */
static int
mounts_fail(char *err, size_t errlen, const char *what, const char *path)
{
	const int e = errno;
	const char *hint = "";

	if (e == ENOSPC)
		hint = "\nhint: ENOSPC from mount(2) means the mount table limit "
		       "(/proc/sys/fs/mount-max), not a full disk";
	else if (e == EPERM)
		hint = "\nhint: agentcage run needs root (CAP_SYS_ADMIN) on the host";
	snprintf(err, errlen, "sandbox mounts: %s %s: %s%s", what, path, strerror(e), hint);
	errno = e;
	return -1;
}

static int
mounts_setattr(const char *path, unsigned int flags, uint64_t set)
{
	struct mount_attr attr = { .attr_set = set };

	return (int)syscall(SYS_mount_setattr, AT_FDCWD, path, flags, &attr, sizeof(attr));
}

/* Step 1-2: private propagation, then a tmpfs root to pivot into. */
static int
mounts_enter_tmpfs_root(char *err, size_t errlen)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return mounts_fail(err, errlen, "make rprivate", "/");
	/* /tmp is replaced in the sandbox anyway; mounting here hides nothing it needs. */
	if (mount("agentcage-root", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == -1)
		return mounts_fail(err, errlen, "mount tmpfs root on", "/tmp");
	if (mkdir("/tmp" MOUNTS_OLDROOT, 0700) == -1)
		return mounts_fail(err, errlen, "mkdir", "/tmp" MOUNTS_OLDROOT);
	if (syscall(SYS_pivot_root, "/tmp", "/tmp" MOUNTS_OLDROOT) == -1)
		return mounts_fail(err, errlen, "pivot_root to", "/tmp");
	if (chdir("/") == -1)
		return mounts_fail(err, errlen, "chdir", "/");
	return 0;
}

static bool
mounts_skip_host_entry(const char *name)
{
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return true;
	for (size_t i = 0; i < NELEM(mounts_not_from_host); i++)
		if (strcmp(name, mounts_not_from_host[i]) == 0)
			return true;
	return false;
}

/* Recreates host entry <name> (in <olddir>) at /<name>. */
static int
mounts_copy_entry(int olddir, const char *name, char *err, size_t errlen)
{
	char src[PATH_MAX], dst[PATH_MAX], target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	if (ut_snprintf(src, sizeof(src), MOUNTS_OLDROOT "/%s", name) == -1 ||
	    ut_snprintf(dst, sizeof(dst), "/%s", name) == -1)
		return mounts_fail(err, errlen, "path of", name);
	if (fstatat(olddir, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return mounts_fail(err, errlen, "stat", src);
	if (S_ISLNK(st.st_mode)) { /* /bin -> usr/bin on merged-/usr systems */
		if ((n = readlinkat(olddir, name, target, sizeof(target) - 1)) == -1)
			return mounts_fail(err, errlen, "readlink", src);
		target[n] = '\0';
		return symlink(target, dst) == -1 ? mounts_fail(err, errlen, "symlink", dst) : 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if (mkdir(dst, 0755) == -1)
			return mounts_fail(err, errlen, "mkdir", dst);
	} else if (S_ISREG(st.st_mode)) {
		if ((fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) == -1)
			return mounts_fail(err, errlen, "create", dst);
		close(fd);
	} else {
		return 0; /* a socket or device at the top level: nothing a sandbox needs */
	}
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) == -1)
		return mounts_fail(err, errlen, "bind-mount", src);
	return 0;
}

/* Step 3. Cost: one mount(2) per top-level directory, each copying its submounts. */
static int
mounts_copy_host_root(char *err, size_t errlen)
{
	DIR *d = opendir(MOUNTS_OLDROOT);
	const struct dirent *de;
	int rc = 0;

	if (d == NULL)
		return mounts_fail(err, errlen, "open", MOUNTS_OLDROOT);
	errno = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!mounts_skip_host_entry(de->d_name))
			rc = mounts_copy_entry(dirfd(d), de->d_name, err, errlen);
		errno = 0;
	}
	if (rc == 0 && errno != 0)
		rc = mounts_fail(err, errlen, "read", MOUNTS_OLDROOT);
	closedir(d);
	return rc;
}

/* mkdir -p <path> inside the sandbox view (mode 0755, root-owned). */
static int
mounts_mkdir_p(const char *path, char *err, size_t errlen)
{
	char buf[PATH_MAX];

	if (ut_snprintf(buf, sizeof(buf), "%s", path) == -1)
		return mounts_fail(err, errlen, "path too long:", path);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return mounts_fail(err, errlen, "mkdir", buf);
		if (c == '\0')
			return 0;
		*p = c;
	}
}

/* Binds host <path> (seen under /.oldroot) at <dst>. */
static int
mounts_bind_host(const char *path, const char *dst, char *err, size_t errlen)
{
	char src[PATH_MAX];

	if (ut_snprintf(src, sizeof(src), MOUNTS_OLDROOT "%s", path) == -1)
		return mounts_fail(err, errlen, "path too long:", path);
	if (mounts_mkdir_p(dst, err, errlen) == -1)
		return -1;
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) == -1)
		return mounts_fail(err, errlen, "bind-mount", path);
	return 0;
}

static bool
mounts_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* The sandbox's own /proc (this pid namespace's), private /tmp and empty /run, in the
 * new root; both views start with them. */
static int
mounts_add_proc_tmp_run(char *err, size_t errlen)
{
	if (mkdir("/proc", 0555) == -1)
		return mounts_fail(err, errlen, "mkdir", "/proc");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == -1)
		return mounts_fail(err, errlen, "mount proc on", "/proc");
	if (mkdir("/tmp", 01777) == -1)
		return mounts_fail(err, errlen, "mkdir", "/tmp");
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") == -1)
		return mounts_fail(err, errlen, "mount tmpfs on", "/tmp");
	if (mkdir("/run", 0755) == -1)
		return mounts_fail(err, errlen, "mkdir", "/run");
	if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") == -1)
		return mounts_fail(err, errlen, "mount tmpfs on", "/run");
	return 0;
}

/* Step 4. */
static int
mounts_add_own(const struct mounts_config *c, char *err, size_t errlen)
{
	if (mounts_add_proc_tmp_run(err, errlen) == -1)
		return -1;
	if (mounts_bind_host(c->home, MOUNTS_HOME, err, errlen) == -1)
		return -1;
	/* A workdir under the host's /tmp would be hidden by the private /tmp. The private
	 * /tmp itself as workdir stays private: the host's /tmp is never shown whole. */
	if (mounts_under(c->workdir, "/tmp") && strcmp(c->workdir, "/tmp") != 0 &&
	    mounts_bind_host(c->workdir, c->workdir, err, errlen) == -1)
		return -1;
	return 0;
}

/* Step 5. */
static int
mounts_seal(char *err, size_t errlen)
{
	if (umount2(MOUNTS_OLDROOT, MNT_DETACH) == -1)
		return mounts_fail(err, errlen, "detach", MOUNTS_OLDROOT);
	if (rmdir(MOUNTS_OLDROOT) == -1)
		return mounts_fail(err, errlen, "rmdir", MOUNTS_OLDROOT);
	if (mounts_setattr("/", AT_RECURSIVE, MOUNT_ATTR_NOSUID) == -1)
		return mounts_fail(err, errlen, "set nosuid on", "/");
	if (mounts_setattr("/", 0, MOUNT_ATTR_RDONLY) == -1)
		return mounts_fail(err, errlen, "make read-only", "/");
	return 0;
}

/* --- listed_only view (mounts.h, steps 3'-4'') --- */

#define MOUNTS_DEV_OPTS  "mode=0755,size=64k" /* device binds, links and two dirs */

/* Top-level trees the sandbox always has its own instance of. */
static const char *const mounts_own_top[] = { "/proc", "/tmp", "/run", MOUNTS_HOME };
/* The sandbox's own part of its /dev (mounts_add_dev). */
static const char *const mounts_dev_own[] = { "/dev/pts",   "/dev/shm",    "/dev/ptmx",  "/dev/fd",
					      "/dev/stdin", "/dev/stdout", "/dev/stderr" };
/* Host device nodes every sandbox gets (programs assume them). */
static const char *const mounts_dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
/* Links in the sandbox's /dev: name, target. */
static const char *const mounts_dev_links[][2] = {
	{ "ptmx", "pts/ptmx" },		{ "fd", "/proc/self/fd" },
	{ "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
	{ "stderr", "/proc/self/fd/2" },
};

static bool mounts_under(const char *path, const char *dir);

enum mounts_area
mounts_area_of(const char *path)
{
	for (size_t i = 0; i < NELEM(mounts_own_top); i++)
		if (mounts_under(path, mounts_own_top[i]))
			return MOUNTS_AREA_OWN;
	if (!mounts_under(path, "/dev"))
		return MOUNTS_AREA_HOST;
	if (path[strspn(path + 4, "/") + 4] == '\0') /* /dev itself */
		return MOUNTS_AREA_OWN;
	for (size_t i = 0; i < NELEM(mounts_dev_own); i++)
		if (mounts_under(path, mounts_dev_own[i]))
			return MOUNTS_AREA_OWN;
	for (size_t i = 0; i < NELEM(mounts_dev_nodes); i++) {
		size_t n = strlen(mounts_dev_nodes[i]);
		if (strncmp(path + 5, mounts_dev_nodes[i], n) == 0 &&
		    path[5 + n + strspn(path + 5 + n, "/")] == '\0')
			return MOUNTS_AREA_DEV_NODE;
	}
	return MOUNTS_AREA_DEV_HOST;
}

/*
 * True when an earlier entry of ordered <e> (the deepest that contains e[<i>]) already
 * shows e[<i>] with the same access: its recursive bind has it, a second bind would only
 * cost a mount. (/lib -> usr/lib under /usr, both read-only, is the default policy's.)
 */
static bool
mounts_entry_covered(const struct mounts_entry *e, size_t i)
{
	for (size_t j = i; j-- > 0;)
		if (mounts_under(e[i].path, e[j].path))
			return e[j].rw == e[i].rw && e[j].dev == e[i].dev;
	return false;
}

/* Opens <path> (absolute, inside <rootfd>) as O_PATH without following any symlink: what
 * mounts_resolve_trusted() checked is what gets bound, even if the host changes it. */
static int
mounts_open_exact(int rootfd, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* Creates mount point <dst> (a directory, or an empty file when <dir> is false) and its
 * missing parents in the view; an existing one is kept. */
static int
mounts_make_point(const char *dst, bool dir, char *err, size_t errlen)
{
	char parent[PATH_MAX];
	int fd;

	/* Create first, look later: one syscall when it exists or its parent does (every
	 * syscall counts under a virtualised kernel entry). */
	for (int tries = 0;; tries++) {
		if (dir)
			fd = mkdir(dst, 0755);
		else if ((fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444)) != -1)
			close(fd);
		if (fd != -1 || errno == EEXIST)
			return 0;
		if (errno != ENOENT || tries > 0)
			return mounts_fail(err, errlen, "create mount point", dst);
		if (ut_snprintf(parent, sizeof(parent), "%s", dst) == -1)
			return mounts_fail(err, errlen, "path too long:", dst);
		*strrchr(parent, '/') = '\0';
		if (parent[0] != '\0' && mounts_mkdir_p(parent, err, errlen) == -1)
			return -1;
	}
}

/*
 * Binds the tree at O_PATH <src> (its submounts too) at <dst> in the view, with mount
 * attributes <set> (MOUNT_ATTR_*) on every mount of the copy. The copy is detached
 * (open_tree) while its attributes are set, so a read-only tree is never writable in the
 * view, not even for a moment, and no remount has to guess the source's locked flags.
 */
static int
mounts_bind_fd(int src, const char *dst, uint64_t set, char *err, size_t errlen)
{
	struct mount_attr attr = { .attr_set = set };
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int tree = -1, dfd = -1, rc = -1;
	struct stat st;

	if (fstat(src, &st) == -1)
		return mounts_fail(err, errlen, "stat the source of", dst);
	if (mounts_make_point(dst, S_ISDIR(st.st_mode), err, errlen) == -1)
		return -1;
	tree = (int)syscall(SYS_open_tree, src, "",
			    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
	if (tree == -1) {
		mounts_fail(err, errlen, "copy the host's mount of", dst);
		goto out;
	}
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
		    sizeof(attr)) == -1) {
		mounts_fail(err, errlen, "set mount attributes on", dst);
		goto out;
	}
	if ((dfd = (int)syscall(SYS_openat2, AT_FDCWD, dst, &how, sizeof(how))) == -1) {
		mounts_fail(err, errlen, "open mount point", dst);
		goto out;
	}
	if (syscall(SYS_move_mount, tree, "", dfd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) == -1) {
		mounts_fail(err, errlen, "bind-mount", dst);
		goto out;
	}
	rc = 0;
out:
	if (dfd != -1) {
		const int e = errno;
		close(dfd);
		errno = e;
	}
	if (tree != -1) {
		const int e = errno;
		close(tree);
		errno = e;
	}
	return rc;
}

/* Binds view path <path> (no symlink on the way) onto itself, read-only and nosuid. */
static int
mounts_self_bind_ro(const char *path, char *err, size_t errlen)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int src = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how)), rc;

	if (src == -1)
		return mounts_fail(err, errlen, "open", path);
	rc = mounts_bind_fd(src, path, MOUNT_ATTR_NOSUID | MOUNT_ATTR_RDONLY, err, errlen);
	close(src);
	return rc;
}

/* What a listed path is bound with. */
static uint64_t
mounts_attrs(const struct mounts_entry *e)
{
	return MOUNT_ATTR_NOSUID | (e->dev ? 0 : MOUNT_ATTR_NODEV) | (e->rw ? 0 : MOUNT_ATTR_RDONLY);
}

/* The small /dev of step 4'. The tmpfs is made read-only by mounts_seal_listed(). */
static int
mounts_add_dev(int oldroot, char *err, size_t errlen)
{
	char path[32];
	int rc = 0;

	if (mkdir("/dev", 0755) == -1)
		return mounts_fail(err, errlen, "mkdir", "/dev");
	if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, MOUNTS_DEV_OPTS) == -1)
		return mounts_fail(err, errlen, "mount tmpfs on", "/dev");
	/* Nodes with the host's device numbers rather than binds of the host's: two syscalls
	 * each instead of ten, and the same device. umask 0: null, zero... are 0666. */
	umask(0);
	for (size_t i = 0; i < NELEM(mounts_dev_nodes); i++) {
		struct stat st;

		ut_snprintf(path, sizeof(path), "dev/%s", mounts_dev_nodes[i]);
		if (fstatat(oldroot, path, &st, 0) == -1) {
			if (errno == ENOENT)
				continue; /* a host without it: nothing to show */
			rc = mounts_fail(err, errlen, "stat the host's", path);
			break;
		}
		if (!S_ISCHR(st.st_mode))
			continue; /* not the device it should be: not copied */
		ut_snprintf(path, sizeof(path), "/dev/%s", mounts_dev_nodes[i]);
		if (mknod(path, S_IFCHR | (st.st_mode & 0777), st.st_rdev) == -1) {
			rc = mounts_fail(err, errlen, "mknod", path);
			break;
		}
	}
	umask(022);
	if (rc == -1)
		return -1;
	if (mkdir("/dev/pts", 0755) == -1)
		return mounts_fail(err, errlen, "mkdir", "/dev/pts");
	/* A new instance: the host's terminals are not in it, and ptmx is usable (0666). */
	if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") == -1)
		return mounts_fail(err, errlen, "mount devpts on", "/dev/pts");
	if (mkdir("/dev/shm", 01777) == -1)
		return mounts_fail(err, errlen, "mkdir", "/dev/shm");
	if (mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") == -1)
		return mounts_fail(err, errlen, "mount tmpfs on", "/dev/shm");
	for (size_t i = 0; i < NELEM(mounts_dev_links); i++) {
		ut_snprintf(path, sizeof(path), "/dev/%s", mounts_dev_links[i][0]);
		if (symlink(mounts_dev_links[i][1], path) == -1)
			return mounts_fail(err, errlen, "symlink", path);
	}
	return 0;
}

#define MOUNTS_DENTS_BUF 1024 /* getdents64 buffer: a root directory's names, a few calls */

struct mounts_dirent64 { /* getdents64(2) record; glibc has no wrapper type */
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* Copies the host's top-level symlink <name> to /<name>, unless it names the sandbox's own. */
static int
mounts_copy_top_link(int oldroot, const char *name, char *err, size_t errlen)
{
	char dst[NAME_MAX + 2], target[PATH_MAX];
	ssize_t n;

	if (mounts_skip_host_entry(name) || strcmp(name, "dev") == 0)
		return 0;
	ut_snprintf(dst, sizeof(dst), "/%s", name);
	if ((n = readlinkat(oldroot, name, target, sizeof(target) - 1)) == -1)
		return mounts_fail(err, errlen, "readlink " MOUNTS_OLDROOT, dst);
	target[n] = '\0';
	if (symlink(target, dst) == -1)
		return mounts_fail(err, errlen, "symlink", dst);
	return 0;
}

/*
 * Step 3': the host root's top-level symlinks. getdents64 into a small stack buffer, not
 * readdir: opendir's 32 KiB buffer is pages init would have to fault in.
 */
static int
mounts_copy_top_links(int oldroot, char *err, size_t errlen)
{
	_Alignas(8) char buf[MOUNTS_DENTS_BUF];
	int fd = openat(oldroot, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
	long n;

	if (fd == -1)
		return mounts_fail(err, errlen, "open", MOUNTS_OLDROOT);
	while (rc == 0 && (n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; rc == 0 && off < n;) {
			const struct mounts_dirent64 *d = (const void *)(buf + off);
			if (d->type == DT_LNK)
				rc = mounts_copy_top_link(oldroot, d->name, err, errlen);
			off += d->reclen;
		}
	}
	if (rc == 0 && n == -1)
		rc = mounts_fail(err, errlen, "read", MOUNTS_OLDROOT);
	close(fd);
	return rc;
}

/* The paths to bind, in the making. */
struct mounts_plan {
	struct mounts_entry *e;
	size_t n, cap;
	int oldroot; /* O_PATH directory fd of the host's root */
};

static void
mounts_plan_free(struct mounts_plan *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		free(pl->e[i].path);
	free(pl->e);
	pl->e = NULL;
	pl->n = 0;
}

/* A resolution failure that means "not there for the sandbox": Landlock skips (or, under
 * hard_requirement, refuses) the same path with the same reason later. */
static bool
mounts_missing(int e)
{
	return e == ENOENT || e == ENOTDIR || e == EXDEV || e == ELOOP;
}

static int mounts_plan_add_top(struct mounts_plan *pl, bool rw, char *err, size_t errlen);

/*
 * Adds listed <path> (the workdir when <workdir>) to <pl> by its real host path. The
 * workdir under the host's /tmp is brought into the private /tmp; other paths in the
 * sandbox's own areas, and missing ones, are left out.
 */
static int
mounts_plan_add(struct mounts_plan *pl, const char *path, bool rw, bool workdir, char *err,
		size_t errlen)
{
	char real[PATH_MAX];
	enum mounts_area a;

	if (path[0] != '/') {
		errno = EINVAL;
		return mounts_fail(err, errlen, "relative path", path);
	}
	if (mounts_resolve_trusted(pl->oldroot, path, real, sizeof(real)) == -1) {
		if (!workdir && mounts_missing(errno))
			return 0;
		return mounts_fail(err, errlen, workdir ? "resolve the workdir" : "resolve", path);
	}
	a = mounts_area_of(real);
	if (a == MOUNTS_AREA_OWN &&
	    !(workdir && mounts_under(real, "/tmp") && strcmp(real, "/tmp") != 0))
		return 0;
	if (strcmp(real, "/") == 0)
		return mounts_plan_add_top(pl, rw, err, errlen);
	if (pl->n == pl->cap) {
		errno = E2BIG;
		return mounts_fail(err, errlen, "too many paths at", path);
	}
	pl->e[pl->n++] = (struct mounts_entry){
		.path = ut_xstrdup(real),
		.rw = rw,
		.dev = a == MOUNTS_AREA_DEV_NODE || a == MOUNTS_AREA_DEV_HOST,
	};
	return 0;
}

/* A listed "/": each top-level directory or file of the host but the sandbox's own. */
static int
mounts_plan_add_top(struct mounts_plan *pl, bool rw, char *err, size_t errlen)
{
	DIR *d = opendir(MOUNTS_OLDROOT);
	const struct dirent *de;
	char path[NAME_MAX + 2];
	int rc = 0;

	if (d == NULL)
		return mounts_fail(err, errlen, "open", MOUNTS_OLDROOT);
	if (pl->cap - pl->n < MOUNTS_MAX_TOP) {
		struct mounts_entry *e = ut_xcalloc(pl->n + MOUNTS_MAX_TOP, sizeof(*e));
		memcpy(e, pl->e, pl->n * sizeof(*e));
		free(pl->e);
		pl->e = e;
		pl->cap = pl->n + MOUNTS_MAX_TOP;
	}
	errno = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if ((de->d_type == DT_DIR || de->d_type == DT_REG) &&
		    !mounts_skip_host_entry(de->d_name)) {
			ut_snprintf(path, sizeof(path), "/%s", de->d_name);
			if (mounts_area_of(path) == MOUNTS_AREA_HOST)
				rc = mounts_plan_add(pl, path, rw, false, err, errlen);
		}
		errno = 0;
	}
	if (rc == 0 && errno != 0)
		rc = mounts_fail(err, errlen, "read", MOUNTS_OLDROOT);
	closedir(d);
	return rc;
}

/* Mounts entry <e> (ordered plan, parents first). */
static int
mounts_plan_mount(struct mounts_plan *pl, size_t i, char *err, size_t errlen)
{
	const struct mounts_entry *e = &pl->e[i];
	int src, rc;

	if (mounts_area_of(e->path) == MOUNTS_AREA_DEV_NODE) {
		/* Made by mounts_add_dev(); listed read-only only: on a read-only mount of its
		 * own (Landlock's rule is what refuses the writes: a read-only mount does not
		 * stop writes to a device). */
		return e->rw ? 0 : mounts_self_bind_ro(e->path, err, errlen);
	}
	if (mounts_entry_covered(pl->e, i))
		return 0;
	if ((src = mounts_open_exact(pl->oldroot, e->path)) == -1)
		return mounts_fail(err, errlen, "open the host's", e->path);
	rc = mounts_bind_fd(src, e->path, mounts_attrs(e), err, errlen);
	close(src);
	return rc;
}

/* Step 4' but /dev: /proc, /tmp, /run and the home. */
static int
mounts_add_own_listed(const struct mounts_config *c, int oldroot, char *err, size_t errlen)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
	int src, rc;

	if (mounts_add_proc_tmp_run(err, errlen) == -1)
		return -1;
	/* The home is the caller's choice (root's): its links are followed, inside the host's root. */
	if ((src = (int)syscall(SYS_openat2, oldroot, c->home, &how, sizeof(how))) == -1)
		return mounts_fail(err, errlen, "open the home", c->home);
	rc = mounts_bind_fd(src, MOUNTS_HOME, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, err, errlen);
	close(src);
	return rc;
}

/* Fills <pl> from <c>: ordered, merged. */
static int
mounts_plan_fill(const struct mounts_config *c, struct mounts_plan *pl, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->nro; i++)
		if (mounts_plan_add(pl, c->ro[i], false, false, err, errlen) == -1)
			return -1;
	for (size_t i = 0; i < c->nrw; i++)
		if (mounts_plan_add(pl, c->rw[i], true, false, err, errlen) == -1)
			return -1;
	if (c->include_workdir && mounts_plan_add(pl, c->workdir, true, true, err, errlen) == -1)
		return -1;
	pl->n = mounts_entries_order(pl->e, pl->n);
	return 0;
}

/* Without include_workdir nothing shows the workdir unless a listed tree does; an empty
 * directory in its place lets the command start there. */
static int
mounts_workdir_placeholder(const struct mounts_config *c, char *err, size_t errlen)
{
	struct stat st;

	if (c->include_workdir || stat(c->workdir, &st) == 0)
		return 0;
	return mounts_mkdir_p(c->workdir, err, errlen);
}

/* Step 5 for the listed view: also /dev's tmpfs read-only. */
static int
mounts_seal_listed(char *err, size_t errlen)
{
	if (umount2(MOUNTS_OLDROOT, MNT_DETACH) == -1)
		return mounts_fail(err, errlen, "detach", MOUNTS_OLDROOT);
	if (rmdir(MOUNTS_OLDROOT) == -1)
		return mounts_fail(err, errlen, "rmdir", MOUNTS_OLDROOT);
	if (mounts_setattr("/", AT_RECURSIVE, MOUNT_ATTR_NOSUID) == -1)
		return mounts_fail(err, errlen, "set nosuid on", "/");
	if (mounts_setattr("/dev", 0, MOUNT_ATTR_RDONLY) == -1)
		return mounts_fail(err, errlen, "make read-only", "/dev");
	if (mounts_setattr("/", 0, MOUNT_ATTR_RDONLY) == -1)
		return mounts_fail(err, errlen, "make read-only", "/");
	return 0;
}

/* Steps 1-2, 3', 4', 4'', 5. Cost: one cheap bind per listed path, no host-wide copy. */
static int
mounts_build_listed(const struct mounts_config *c, char *err, size_t errlen)
{
	struct mounts_plan pl = { .oldroot = -1 };
	/* Directories made here must be 0755 whatever umask the caller had. */
	const mode_t mask = umask(022);
	int rc = -1;

	if (mounts_enter_tmpfs_root(err, errlen) == -1)
		goto out;
	pl.oldroot = open(MOUNTS_OLDROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pl.oldroot == -1) {
		mounts_fail(err, errlen, "open", MOUNTS_OLDROOT);
		goto out;
	}
	/* Exact size: every page init writes is a copy-on-write fault (costly under a
	 * virtualised MMU); a listed "/" grows it (mounts_plan_add_top). */
	pl.cap = c->nro + c->nrw + 1;
	pl.e = ut_xcalloc(pl.cap, sizeof(*pl.e));
	if (mounts_copy_top_links(pl.oldroot, err, errlen) == -1 ||
	    mounts_add_own_listed(c, pl.oldroot, err, errlen) == -1 ||
	    mounts_add_dev(pl.oldroot, err, errlen) == -1 ||
	    mounts_plan_fill(c, &pl, err, errlen) == -1)
		goto out;
	for (size_t i = 0; i < pl.n; i++)
		if (mounts_plan_mount(&pl, i, err, errlen) == -1)
			goto out;
	if (mounts_workdir_placeholder(c, err, errlen) == -1)
		goto out;
	close(pl.oldroot); /* before the detach: it pins the old root */
	pl.oldroot = -1;
	rc = mounts_seal_listed(err, errlen);
out:
	{
		const int e = errno;
		if (pl.oldroot != -1)
			close(pl.oldroot);
		mounts_plan_free(&pl);
		umask(mask);
		errno = e;
	}
	return rc;
}

int
mounts_build(const struct mounts_config *c, char *err, size_t errlen)
{
	if (c->home[0] != '/' || c->workdir[0] != '/') {
		errno = EINVAL;
		return mounts_fail(err, errlen, "relative path", c->home[0] != '/' ? c->home : c->workdir);
	}
	if (c->listed_only)
		return mounts_build_listed(c, err, errlen);
	if (mounts_enter_tmpfs_root(err, errlen) == -1 || mounts_copy_host_root(err, errlen) == -1 ||
	    mounts_add_own(c, err, errlen) == -1 || mounts_seal(err, errlen) == -1)
		return -1;
	return 0;
}
