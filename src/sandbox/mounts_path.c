/* sandbox/mounts_path: path helpers of the listed_only view (contract in mounts.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/mounts.h"
#include "util/util.h"

#define MOUNTS_MAX_LINKS 40 /* symlinks followed per path, as the kernel's MAXSYMLINKS */

size_t
mounts_path_depth(const char *path)
{
	size_t depth = 0;

	for (const char *p = path; *p != '\0'; p++)
		if (*p != '/' && (p == path || p[-1] == '/'))
			depth++;
	return depth;
}

static int
mounts_entry_cmp(const void *a, const void *b)
{
	const struct mounts_entry *x = a, *y = b;
	const size_t dx = mounts_path_depth(x->path), dy = mounts_path_depth(y->path);

	if (dx != dy)
		return dx < dy ? -1 : 1;
	return strcmp(x->path, y->path);
}

size_t
mounts_entries_order(struct mounts_entry *e, size_t n)
{
	size_t out = 0;

	if (n == 0)
		return 0;
	qsort(e, n, sizeof(*e), mounts_entry_cmp);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(e[i].path, e[out].path) == 0) {
			e[out].rw = e[out].rw || e[i].rw; /* Landlock's union, too */
			e[out].dev = e[out].dev || e[i].dev;
			free(e[i].path);
			e[i].path = NULL;
			continue;
		}
		e[++out] = e[i];
	}
	return out + 1;
}

/* <out>[0..*<olen>) loses its last component ("/a/b" -> "/a", "/a" -> ""). */
static void
mounts_drop_last(char *out, size_t *olen)
{
	char *slash = memrchr(out, '/', *olen);

	*olen = slash != NULL ? (size_t)(slash - out) : 0;
	out[*olen] = '\0';
}

/* Replaces <rest> by <link>[0..<n>) followed by <tail> (which may point into <rest>). */
static int
mounts_splice_link(char *rest, size_t cap, const char *link, size_t n, const char *tail)
{
	const size_t tlen = strlen(tail);

	if (n + tlen + 1 > cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memmove(rest + n, tail, tlen + 1);
	memcpy(rest, link, n);
	return 0;
}

int
mounts_resolve_trusted(int rootfd, const char *path, char *out, size_t outlen)
{
	char rest[PATH_MAX], link[PATH_MAX];
	size_t olen = 0;
	const char *p = rest;
	int links = 0;

	if (path[0] != '/' || outlen < 2) {
		errno = EINVAL;
		return -1;
	}
	if (ut_strlcpy(rest, path, sizeof(rest)) >= sizeof(rest)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	out[0] = '\0';
	while (*p != '\0') {
		const char *end;
		size_t clen;
		struct stat st;
		ssize_t n;

		p += strspn(p, "/");
		if (*p == '\0')
			break;
		end = strchrnul(p, '/');
		clen = (size_t)(end - p);
		if (clen == 1 && p[0] == '.') {
			p = end;
			continue;
		}
		if (clen == 2 && p[0] == '.' && p[1] == '.') {
			mounts_drop_last(out, &olen);
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
		/* Relative to <rootfd>: every earlier component is a real directory. */
		if (fstatat(rootfd, out + 1, &st, AT_SYMLINK_NOFOLLOW) == -1)
			return -1;
		if (!S_ISLNK(st.st_mode)) {
			olen += 1 + clen;
			p = end;
			continue;
		}
		if (st.st_uid != 0) {
			errno = EXDEV;
			return -1;
		}
		if (++links > MOUNTS_MAX_LINKS) {
			errno = ELOOP;
			return -1;
		}
		n = readlinkat(rootfd, out + 1, link, sizeof(link));
		if (n == -1)
			return -1;
		if ((size_t)n == sizeof(link)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		out[olen] = '\0'; /* the link's target replaces it, from the root when absolute */
		if (n > 0 && link[0] == '/')
			olen = 0;
		out[olen] = '\0';
		if (mounts_splice_link(rest, sizeof(rest), link, (size_t)n, end) == -1)
			return -1;
		p = rest;
	}
	if (olen == 0) {
		out[0] = '/';
		out[1] = '\0';
	}
	return 0;
}
