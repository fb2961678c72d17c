/*
 * cmd_setup: `agentcage setup` — creates what `agentcage run` needs on the host, once:
 * the `sandbox` system group and user (home /sandbox, shell /bin/bash, no password, no
 * home directory created on the host: /sandbox exists only inside sandboxes), the state
 * directory /var/lib/agentcage (0755) and the log directory /var/log/agentcage (0700).
 * Idempotent: what exists is kept and reported. Exit 0, or 1 with what failed.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cli/cli.h"
#include "sandbox/lifelog.h"
#include "util/util.h"

#define SETUP_USER      "sandbox"
#define SETUP_HOME      "/sandbox"
#define SETUP_SHELL     "/bin/bash"
#define SETUP_STATE_DIR "/var/lib/agentcage"

extern char **environ;

/* Runs the first of <paths> that exists with <argv>; 0 when it exits 0. */
static int
setup_exec(const char *const *paths, size_t npaths, char *const *argv)
{
	for (size_t i = 0; i < npaths; i++) {
		pid_t pid;
		int st;

		if (access(paths[i], X_OK) == -1)
			continue;
		/* Fixed absolute path, as the reference does for its helpers: no PATH lookup. */
		if ((errno = posix_spawn(&pid, paths[i], NULL, NULL, argv, environ)) != 0)
			return -1;
		if (TEMP_FAILURE_RETRY_INT(waitpid(pid, &st, 0)) == -1)
			return -1;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			return 0;
		errno = ECHILD;
		fprintf(stderr, "agentcage: setup: %s exited with status %d\n", paths[i],
			WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		return -1;
	}
	errno = ENOENT;
	return -1;
}

static int
setup_group(void)
{
	static const char *const paths[] = { "/usr/sbin/groupadd", "/sbin/groupadd" };
	char *const argv[] = { "groupadd", "--system", SETUP_USER, NULL };
	const struct group *gr = getgrnam(SETUP_USER);

	if (gr != NULL) {
		printf("group %s exists (gid %u)\n", SETUP_USER, (unsigned)gr->gr_gid);
		return 0;
	}
	if (setup_exec(paths, NELEM(paths), argv) == -1 || (gr = getgrnam(SETUP_USER)) == NULL) {
		fprintf(stderr, "agentcage: setup: creating group %s: %s\nhint: install the passwd "
				"package (groupadd), or create a system group named %s yourself\n",
			SETUP_USER, strerror(errno), SETUP_USER);
		return -1;
	}
	printf("created group %s (gid %u)\n", SETUP_USER, (unsigned)gr->gr_gid);
	return 0;
}

static int
setup_user(void)
{
	static const char *const paths[] = { "/usr/sbin/useradd", "/sbin/useradd" };
	/* --system: a uid below UID_MIN; -M: /sandbox exists only inside sandboxes; the
	 * password stays locked ("!"), so nobody logs in as sandbox on the host. */
	char *const argv[] = { "useradd", "--system", "-g", SETUP_USER, "-d", SETUP_HOME, "-M",
			       "-s", SETUP_SHELL, "-c", "agentcage sandbox user", SETUP_USER, NULL };
	const struct passwd *pw = getpwnam(SETUP_USER);

	if (pw != NULL) {
		printf("user %s exists (uid %u)\n", SETUP_USER, (unsigned)pw->pw_uid);
		return 0;
	}
	if (setup_exec(paths, NELEM(paths), argv) == -1 || (pw = getpwnam(SETUP_USER)) == NULL) {
		fprintf(stderr, "agentcage: setup: creating user %s: %s\nhint: install the passwd "
				"package (useradd), or create a system user named %s yourself\n",
			SETUP_USER, strerror(errno), SETUP_USER);
		return -1;
	}
	printf("created user %s (uid %u, home %s, shell %s)\n", SETUP_USER, (unsigned)pw->pw_uid,
	       SETUP_HOME, SETUP_SHELL);
	return 0;
}

static int
setup_dir(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) == 0) {
		printf("created %s (mode %04o)\n", path, (unsigned)mode);
		return 0;
	}
	if (errno == EEXIST && lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		printf("%s exists\n", path);
		return 0;
	}
	if (errno == EEXIST)
		errno = ENOTDIR;
	fprintf(stderr, "agentcage: setup: creating %s: %s\n", path, strerror(errno));
	return -1;
}

int
cmd_setup(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "agentcage: setup: unexpected argument '%s'\nusage: agentcage setup\n",
			argv[1]);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "agentcage: setup: must run as root\nhint: sudo agentcage setup\n");
		return 1;
	}
	if (setup_group() == -1 || setup_user() == -1 || setup_dir(SETUP_STATE_DIR, 0755) == -1 ||
	    setup_dir(LIFELOG_DIR, 0700) == -1)
		return 1;
	fflush(stdout);
	return 0;
}
