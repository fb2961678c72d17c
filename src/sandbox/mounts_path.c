/* sandbox/mounts_path: path helpers of the listed_only view (contract in mounts.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/mounts.h"
#include "util/rootpath.h"
#include "util/util.h"


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

int
mounts_resolve_trusted(int rootfd, const char *path, char *out, size_t outlen)
{
	return rootpath_resolve(rootfd, path, ROOTPATH_ROOT_LINKS, out, outlen);
}
