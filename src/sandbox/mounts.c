/* sandbox/mounts: tmpfs root + host binds + pivot_root (contract in mounts.h). */
#include "sandbox/mounts.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
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

/* Step 4. */
static int
mounts_add_own(const struct mounts_config *c, char *err, size_t errlen)
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

int
mounts_build(const struct mounts_config *c, char *err, size_t errlen)
{
	if (c->home[0] != '/' || c->workdir[0] != '/') {
		errno = EINVAL;
		return mounts_fail(err, errlen, "relative path", c->home[0] != '/' ? c->home : c->workdir);
	}
	if (mounts_enter_tmpfs_root(err, errlen) == -1 || mounts_copy_host_root(err, errlen) == -1 ||
	    mounts_add_own(c, err, errlen) == -1 || mounts_seal(err, errlen) == -1)
		return -1;
	return 0;
}
