/*
 * test_rootpath: resolving a policy binary inside the sandbox's root. Built in a temp
 * tree shaped like a merged-/usr system with a venv: relative and absolute links, a
 * directory link (/bin -> usr/bin), "." and "..", a link that tries to climb out of the
 * root, a loop and a missing file.
 */
#include "util/rootpath.h"
#include "util/util.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "t.h"

static char root[] = "/tmp/agentcage-rootpath-XXXXXX";

static int
mk(const char *rel, const char *link_to)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (link_to != NULL)
		return symlink(link_to, p);
	if (rel[strlen(rel) - 1] == '/')
		return mkdir(p, 0755);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
	return fd == -1 ? -1 : close(fd);
}

/* Resolves <path>; "" when it fails (errno kept). */
static const char *
res(int rootfd, const char *path)
{
	static char out[PATH_MAX];

	return rootpath_resolve(rootfd, path, 0, out, sizeof(out)) == 0 ? out : "";
}

int
main(void)
{
	int rootfd, bad;
	char small[8];

	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	T_OK(mk("usr/", NULL) == 0 && mk("usr/bin/", NULL) == 0 &&
		     mk("usr/bin/python3.11", NULL) == 0 && mk("usr/bin/bash", NULL) == 0 &&
		     mk("usr/bin/python3", "python3.11") == 0 && mk("bin", "usr/bin") == 0 &&
		     mk("sandbox/", NULL) == 0 && mk("sandbox/.venv/", NULL) == 0 &&
		     mk("sandbox/.venv/bin/", NULL) == 0 &&
		     mk("sandbox/.venv/bin/python3", "/usr/bin/python3") == 0 &&
		     mk("sandbox/.venv/bin/python", "python3") == 0 &&
		     mk("sandbox/up", "../../../../../usr/bin/bash") == 0 &&
		     mk("sandbox/loop1", "loop2") == 0 && mk("sandbox/loop2", "loop1") == 0,
	     "tree with links in %s", root);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	T_OK(rootfd != -1, "open the root");

	T_STREQ(res(rootfd, "/usr/bin/python3.11"), "/usr/bin/python3.11", "a plain file is itself");
	T_STREQ(res(rootfd, "/usr/bin/python3"), "/usr/bin/python3.11", "relative link");
	T_STREQ(res(rootfd, "/bin/bash"), "/usr/bin/bash", "directory link (merged /usr)");
	T_STREQ(res(rootfd, "/sandbox/.venv/bin/python"), "/usr/bin/python3.11",
		"venv python: relative, then absolute, then relative link");
	T_STREQ(res(rootfd, "/sandbox/./.venv/../.venv/bin/python3"), "/usr/bin/python3.11",
		"'.' and '..' components");
	T_STREQ(res(rootfd, "/sandbox/up"), "/usr/bin/bash",
		"'..' past the top stays at the root (never the host's /)");
	T_STREQ(res(rootfd, "/"), "/", "the root itself");
	T_OK(*res(rootfd, "/sandbox/loop1") == '\0' && errno == ELOOP,
	     "a link loop is ELOOP");
	T_OK(*res(rootfd, "/usr/bin/nope") == '\0' && errno == ENOENT,
	     "a missing file is ENOENT");
	T_OK(rootpath_resolve(rootfd, "usr/bin/bash", 0, small, sizeof(small)) == -1 &&
		     errno == EINVAL,
	     "a relative path is EINVAL");
	T_OK(rootpath_resolve(rootfd, "/usr/bin/python3", 0, small, sizeof(small)) == -1 &&
		     errno == ENAMETOOLONG,
	     "a result longer than the buffer is ENAMETOOLONG");
	bad = open("/dev/null", O_RDONLY | O_CLOEXEC);
	T_OK(rootpath_resolve(bad, "/usr", 0, small, sizeof(small)) == -1 && errno == ENOTDIR,
	     "a root that is not a directory is refused (ENOTDIR)");
	close(bad);
	close(rootfd);
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		T_OK(system(cmd) == 0, "remove %s", root);
	}
	return t_done();
}
