/*
 * test_tofu: the SHA-256 pin a user relies on. A binary is hashed once and pinned; the
 * same unchanged binary is not hashed again; a binary replaced at the same path (cp over
 * a copy in a temp dir) is denied with both hashes; a deleted exe is denied; a gone
 * process gives a clear reason. The hash itself is checked against sha256sum's.
 */
#include "proxy/tofu.h"
#include "util/util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "t.h"

static char dir[] = "/tmp/agentcage-tofu-XXXXXX";
static char exe[128];

/* Copies <src> to <dst> (truncating it in place, like cp over an existing file). */
static int
copy_file(const char *src, const char *dst, const char *extra)
{
	char *data = NULL;
	size_t len = 0;
	int fd, rc;

	if (ut_read_file(src, 256 << 20, &data, &len) == -1)
		return -1;
	fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	rc = fd == -1 ? -1 : ut_write_all(fd, data, len);
	if (rc == 0 && extra != NULL)
		rc = ut_write_all(fd, extra, strlen(extra));
	if (fd != -1)
		close(fd);
	free(data);
	return rc;
}

/* Starts <path> as "sleep 1000" and waits until it has exec'd (pipe closed by CLOEXEC). */
static pid_t
spawn_sleeper(const char *path)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		execl(path, "sleep", "1000", (char *)NULL);
		(void)!write(p[1], "x", 1);
		_exit(127);
	}
	close(p[1]);
	if (pid > 0 && read(p[0], &c, 1) != 0) {	/* exec failed */
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(p[0]);
	return pid;
}

static void
reap(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

/* sha256sum's answer for <path>, for comparison. */
static int
sha256sum(const char *path, char out[TOFU_HEX_LEN])
{
	char cmd[256];
	FILE *f;
	int ok;

	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	f = popen(cmd, "re");
	if (f == NULL)
		return -1;
	ok = fscanf(f, "%64s", out) == 1;
	pclose(f);
	return ok ? 0 : -1;
}

int
main(void)
{
	struct tofu *t = tofu_new();
	char hex[TOFU_HEX_LEN], hex2[TOFU_HEX_LEN], want[TOFU_HEX_LEN], reason[512];
	pid_t pid = -1, pid2 = -1;
	unsigned long h;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(exe, sizeof(exe), "%s/sleep", dir);
	T_OK(copy_file("/bin/sleep", exe, NULL) == 0, "copy /bin/sleep to %s", exe);
	pid = spawn_sleeper(exe);
	T_OK(pid > 0, "copy is running");

	T_OK(tofu_check_pid(t, pid, exe, false, hex, reason, sizeof(reason)) == 0,
	     "first use pins");
	T_OK(tofu_hash_count(t) == 1, "first use hashed once");
	if (sha256sum(exe, want) == 0)
		T_STREQ(hex, want, "pinned hash equals sha256sum's");
	else
		t_skip("sha256sum not available");

	pid2 = spawn_sleeper(exe);
	T_OK(tofu_check_pid(t, pid2, exe, false, hex2, reason, sizeof(reason)) == 0 &&
		     strcmp(hex, hex2) == 0,
	     "second process of the same unchanged binary passes");
	T_OK(tofu_hash_count(t) == 1, "unchanged binary is not hashed again (%lu hashes)",
	     tofu_hash_count(t));
	reap(&pid2);

	/* Replace it: same path, different bytes (an ELF with a trailing byte still runs). */
	reap(&pid);
	T_OK(copy_file("/bin/sleep", exe, "x") == 0, "cp a modified binary over the copy");
	pid = spawn_sleeper(exe);
	T_OK(pid > 0, "modified copy is running");
	reason[0] = '\0';
	T_OK(tofu_check_pid(t, pid, exe, false, hex2, reason, sizeof(reason)) == -1 &&
		     errno == EPERM,
	     "changed binary denied with EPERM");
	T_CONTAINS(reason, "changed since first use", "reason says it changed");
	{
		char pinned[32];

		snprintf(pinned, sizeof(pinned), "pinned sha256 %.12s", hex);
		T_CONTAINS(reason, pinned, "reason shows the pinned hash");
		T_CONTAINS(reason, exe, "reason names the path");
	}
	h = tofu_hash_count(t);
	T_OK(tofu_check_pid(t, pid, exe, false, hex2, reason, sizeof(reason)) == -1 &&
		     tofu_hash_count(t) == h,
	     "still denied on the next use, without hashing again");

	/* Put the original bytes back: the pin matches again. */
	reap(&pid);
	T_OK(copy_file("/bin/sleep", exe, NULL) == 0, "restore the original bytes");
	pid = spawn_sleeper(exe);
	T_OK(tofu_check_pid(t, pid, exe, false, hex2, reason, sizeof(reason)) == 0,
	     "original bytes at the same path pass again");

	/* Deleted while running. */
	T_OK(unlink(exe) == 0, "unlink the running binary");
	T_OK(tofu_check_pid(t, pid, exe, true, hex2, reason, sizeof(reason)) == -1 &&
		     errno == EPERM,
	     "deleted exe denied");
	T_CONTAINS(reason, "deleted", "reason says deleted");

	/* Gone. */
	reap(&pid);
	T_OK(tofu_check_pid(t, pid == -1 ? 999999999 : pid, exe, false, hex2, reason,
			    sizeof(reason)) == -1,
	     "exited process refused");
	T_CONTAINS(reason, "process exited?", "reason says the process is gone");

	/* A sparse multi-GiB image planted to stall the proxy loop is refused unread. */
	{
		char big[160];
		int fd;

		snprintf(big, sizeof(big), "%s/huge", dir);
		fd = open(big, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
		T_OK(fd != -1 && ftruncate(fd, TOFU_MAX_IMAGE + 1) == 0, "sparse image of %lld bytes",
		     TOFU_MAX_IMAGE + 1);
		h = tofu_hash_count(t);
		T_OK(fd != -1 && tofu_check_fd(t, fd, big, hex2, reason, sizeof(reason)) == -1 &&
			     errno == EFBIG && tofu_hash_count(t) == h,
		     "image over TOFU_MAX_IMAGE refused with EFBIG, never hashed");
		T_CONTAINS(reason, "more than agentcage hashes", "reason says it is too large");
		if (fd != -1)
			close(fd);
		unlink(big);
	}

	tofu_free(t);
	unlink(exe);
	rmdir(dir);
	return t_done();
}
