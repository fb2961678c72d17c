/* rootpath: real paths inside another root (contract in rootpath.h). */
#include "util/rootpath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/util.h"

/*
 * The target of <path> (absolute, inside <rootfd>) when it is a symlink: its length, with
 * the target in <buf> (not NUL-terminated). -1 with EINVAL when it is not a symlink,
 * EXDEV for one <flags> refuses, or the lookup's errno.
 */
static ssize_t
link_target(int rootfd, const char *path, unsigned flags, char *buf, size_t cap)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	cleanup_fd int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	struct stat st;
	ssize_t n;

	if (fd == -1 || fstat(fd, &st) == -1)
		return -1;
	if (!S_ISLNK(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	if ((flags & ROOTPATH_ROOT_LINKS) && st.st_uid != 0) {
		errno = EXDEV;
		return -1;
	}
	n = readlinkat(fd, "", buf, cap);
	if (n >= 0 && (size_t)n == cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return n;
}

/* <out>[0..*<olen>) loses its last component ("/a/b" -> "/a", "/a" -> ""). */
static void
drop_last(char *out, size_t *olen)
{
	char *slash = memrchr(out, '/', *olen);

	*olen = slash != NULL ? (size_t)(slash - out) : 0;
	out[*olen] = '\0';
}

int
rootpath_resolve(int rootfd, const char *path, unsigned flags, char *out, size_t outlen)
{
	char rest[PATH_MAX], next[PATH_MAX], link[PATH_MAX];
	size_t olen = 0, restlen = strlen(path);
	const char *p = rest;
	int links = 0;

	if (path[0] != '/' || outlen < 2) {
		errno = EINVAL;
		return -1;
	}
	if (restlen >= sizeof(rest)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(rest, path, restlen + 1);
	out[0] = '\0';
	while (*p != '\0') {
		const char *end;
		size_t clen;
		ssize_t n;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		end = strchrnul(p, '/');
		clen = (size_t)(end - p);
		if (clen == 1 && p[0] == '.') {
			p = end;
			continue;
		}
		if (clen == 2 && p[0] == '.' && p[1] == '.') {
			drop_last(out, &olen);
			p = end;
			continue;
		}
		if (olen + 1 + clen + 1 > outlen) {
			errno = ENAMETOOLONG;
			return -1;
		}
		out[olen] = '/';
		memcpy(out + olen + 1, p, clen);
		out[olen + 1 + clen] = '\0';
		n = link_target(rootfd, out, flags, link, sizeof(link));
		if (n == -1 && errno != EINVAL)
			return -1;
		if (n == -1) {		/* a real directory or file: keep it */
			olen += 1 + clen;
			p = end;
			continue;
		}
		/* A link: its target replaces the component, the rest of the path follows. */
		if (++links > ROOTPATH_MAX_LINKS) {
			errno = ELOOP;
			return -1;
		}
		restlen = strlen(end);
		if ((size_t)n + restlen + 1 > sizeof(next)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(next, link, (size_t)n);
		memcpy(next + n, end, restlen + 1);
		memcpy(rest, next, (size_t)n + restlen + 1);
		p = rest;
		if (link[0] == '/')
			olen = 0;	/* absolute: from the root again */
		out[olen] = '\0';
	}
	if (olen == 0)
		memcpy(out, "/", 2);
	return 0;
}
