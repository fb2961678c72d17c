/* ctl/state: claiming a sandbox name, the locked state file, stale cleanup (state.h). */
#include "ctl/state.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "util/sbuf.h"
#include "util/util.h"

#define STATE_MAX_BYTES (256 * 1024) /* a state file: argv is the only long part */
#define STATE_SUFFIX    ".json"
#define SOCK_SUFFIX     ".sock"

struct ctl_claim {
	int dirfd;   /* the run directory */
	int lockfd;  /* the state file, flock()ed LOCK_EX for the claim's life */
	char name[CTL_NAME_MAX + 1];
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

int
ctl_path(char *buf, size_t size, const char *run_dir, const char *name, const char *suffix)
{
	return ut_snprintf(buf, size, "%s/%s%s", run_dir, name, suffix) == -1 ? -1 : 0;
}

/* Opens <run_dir>, creating it 0700 when <create>. Refuses (EPERM) a directory that is not
 * the caller's or that others may write: a state file there could be forged. */
static int
open_run_dir(const char *run_dir, bool create)
{
	struct stat st;
	int fd;

	if (create && mkdir(run_dir, 0700) == -1 && errno != EEXIST)
		return -1;
	fd = open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		errno = EPERM;
		goto fail;
	}
	return fd;
fail:
	ut_close(&fd);
	return -1;
}

static int
dir_lock(int dirfd)
{
	return (int)TEMP_FAILURE_RETRY_INT(flock(dirfd, LOCK_EX));
}

static void
dir_unlock(int dirfd)
{
	int saved = errno;
	flock(dirfd, LOCK_UN);
	errno = saved;
}

static void
remove_files(int dirfd, const char *name)
{
	char p[CTL_NAME_MAX + 16];

	if (ut_snprintf(p, sizeof(p), "%s" STATE_SUFFIX, name) != -1)
		unlinkat(dirfd, p, 0);
	if (ut_snprintf(p, sizeof(p), "%s" SOCK_SUFFIX, name) != -1)
		unlinkat(dirfd, p, 0);
}

/* The "pid" member of state text <s>, or 0. */
static pid_t
state_pid(const char *s)
{
	json_t *root = json_loads(s, 0, NULL);
	json_int_t pid = json_integer_value(json_object_get(root, "pid"));

	json_decref(root);
	return pid > 0 && pid <= INT32_MAX ? (pid_t)pid : 0;
}

/* Reads the whole state file from <fd> (at most STATE_MAX_BYTES) into *<out>. */
static int
read_state(int fd, char **out)
{
	char *buf = ut_xmalloc(STATE_MAX_BYTES + 1);
	size_t len = 0;

	for (;;) {
		ssize_t r = TEMP_FAILURE_RETRY_INT(read(fd, buf + len, STATE_MAX_BYTES - len));
		if (r == -1) {
			int saved = errno;
			free(buf);
			buf = NULL;
			errno = saved;
			return -1;
		}
		if (r == 0 || len + (size_t)r == STATE_MAX_BYTES) {
			len += (size_t)r;
			break;
		}
		len += (size_t)r;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/*
 * With the directory locked: 1 when <name>'s state file is held (its text in *<text> when
 * <text> is not NULL, its pid in *<pid>), 0 when there is none or it was stale (then removed
 * with its socket), -1 with errno.
 */
static int
probe_locked(int dirfd, const char *name, pid_t *pid, char **text)
{
	char p[CTL_NAME_MAX + 16];
	cleanup_fd int fd = -1;
	char *s = NULL;

	if (ut_snprintf(p, sizeof(p), "%s" STATE_SUFFIX, name) == -1)
		return -1;
	fd = openat(dirfd, p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		if (errno != ENOENT)
			return -1;
		if (ut_snprintf(p, sizeof(p), "%s" SOCK_SUFFIX, name) != -1)
			unlinkat(dirfd, p, 0); /* a socket without a state file is debris */
		return 0;
	}
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		remove_files(dirfd, name); /* nobody holds it: its supervisor is gone */
		return 0;
	}
	if (errno != EWOULDBLOCK)
		return -1;
	if (read_state(fd, &s) == -1)
		return -1;
	*pid = state_pid(s);
	if (text != NULL)
		*text = s;
	else
		free(s);
	return 1;
}

/* Writes <info> as the state file's JSON into <b>. */
static void
state_json(const struct ctl_info *info, struct sbuf *b)
{
	struct json_obj o;

	json_begin(&o, b);
	json_kv_str(&o, "name", info->name);
	json_kv_int(&o, "pid", (long long)getpid());
	json_kv_int(&o, "init_pid", (long long)info->init_pid);
	json_kv_int(&o, "started", info->started);
	json_kv_strv(&o, "argv", info->argv);
	json_kv_str(&o, "workdir", info->workdir);
	json_kv_str(&o, "policy_source", info->policy_source);
	json_kv_str(&o, "log_path", info->log_path);
	json_kv_bool(&o, "learn", info->learn);
	json_end(&o);
	sbuf_putc(b, '\n');
}

/* Writes <info> to a new locked temporary file; returns its fd and its name in <tmp>. */
static int
write_locked_tmp(int dirfd, const struct ctl_info *info, char *tmp, size_t tmpsize)
{
	struct sbuf b = {0};
	int fd = -1;

	if (ut_snprintf(tmp, tmpsize, ".%s.%ld.tmp", info->name, (long)getpid()) == -1)
		return -1;
	unlinkat(dirfd, tmp, 0); /* debris of an earlier crash of a process with this pid */
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		return -1;
	state_json(info, &b);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1 || ut_write_all(fd, b.s, b.len) == -1) {
		int saved = errno;
		unlinkat(dirfd, tmp, 0);
		ut_close(&fd);
		errno = saved;
	}
	sbuf_free(&b);
	return fd;
}

/* Places the state file of <info> while the directory is locked: link() when claiming (fails
 * with EEXIST if a holder appeared), rename() when updating our own. */
static int
place_state(int dirfd, const struct ctl_info *info, bool claim)
{
	char tmp[CTL_NAME_MAX + 32], final[CTL_NAME_MAX + 16];
	int fd, rc;

	if (ut_snprintf(final, sizeof(final), "%s" STATE_SUFFIX, info->name) == -1)
		return -1;
	fd = write_locked_tmp(dirfd, info, tmp, sizeof(tmp));
	if (fd == -1)
		return -1;
	rc = claim ? linkat(dirfd, tmp, dirfd, final, 0) : renameat(dirfd, tmp, dirfd, final);
	if (rc == -1 || claim) {
		int saved = errno;
		unlinkat(dirfd, tmp, 0);
		errno = saved;
	}
	if (rc == -1)
		ut_close(&fd);
	return fd;
}

static int
claim_locked(struct ctl_claim *c, const struct ctl_info *info, pid_t *holder)
{
	int live = probe_locked(c->dirfd, info->name, holder, NULL);

	if (live == -1)
		return -1;
	if (live == 1) {
		errno = EEXIST;
		return -1;
	}
	c->lockfd = place_state(c->dirfd, info, true);
	return c->lockfd == -1 ? -1 : 0;
}

int
ctl_claim(const char *run_dir, const struct ctl_info *info, struct ctl_claim **out,
	  pid_t *holder)
{
	struct ctl_claim *c;
	int rc;

	*out = NULL;
	*holder = 0;
	if (ctl_name_check(info->name) == -1)
		return -1;
	c = ut_xcalloc(1, sizeof(*c));
	c->lockfd = -1;
	ut_strlcpy(c->name, info->name, sizeof(c->name));
	if (ctl_path(c->sock_path, sizeof(c->sock_path), run_dir, info->name, SOCK_SUFFIX) == -1)
		goto free_claim;
	c->dirfd = open_run_dir(run_dir, true);
	if (c->dirfd == -1)
		goto free_claim;
	if (dir_lock(c->dirfd) == -1)
		goto close_dir;
	rc = claim_locked(c, info, holder);
	dir_unlock(c->dirfd);
	if (rc == -1)
		goto close_dir;
	*out = c;
	return 0;
close_dir:
	ut_close(&c->dirfd);
free_claim: {
	int saved = errno;
	free(c);
	c = NULL;
	errno = saved;
}
	return -1;
}

int
ctl_claim_update(struct ctl_claim *c, const struct ctl_info *info)
{
	struct ctl_info copy = *info;
	int fd;

	copy.name = c->name;
	if (dir_lock(c->dirfd) == -1)
		return -1;
	fd = place_state(c->dirfd, &copy, false);
	dir_unlock(c->dirfd);
	if (fd == -1)
		return -1;
	ut_close(&c->lockfd); /* the new file is locked already: no unlocked moment */
	c->lockfd = fd;
	return 0;
}

const char *
ctl_claim_sock_path(const struct ctl_claim *c)
{
	return c->sock_path;
}

void
ctl_claim_release(struct ctl_claim *c)
{
	int saved = errno;

	if (c == NULL)
		return;
	if (dir_lock(c->dirfd) == 0) {
		remove_files(c->dirfd, c->name); /* ours: nobody else can hold the name now */
		dir_unlock(c->dirfd);
	}
	ut_close(&c->lockfd);
	ut_close(&c->dirfd);
	free(c);
	c = NULL;
	errno = saved;
}

int
ctl_probe(const char *run_dir, const char *name, pid_t *pid)
{
	cleanup_fd int dirfd = -1;
	int rc;

	*pid = 0;
	if (ctl_name_check(name) == -1)
		return -1;
	dirfd = open_run_dir(run_dir, false);
	if (dirfd == -1)
		return errno == ENOENT ? 0 : -1;
	if (dir_lock(dirfd) == -1)
		return -1;
	rc = probe_locked(dirfd, name, pid, NULL);
	dir_unlock(dirfd);
	return rc;
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ctl_entry *)a)->name, ((const struct ctl_entry *)b)->name);
}

/* Adds <name> to the list when its state file is live. Cost: one open + flock per file. */
static int
list_one(int dirfd, const char *fname, struct ctl_entry **v, size_t *n, size_t *cap)
{
	size_t len = strlen(fname), sl = strlen(STATE_SUFFIX);
	char name[CTL_NAME_MAX + 1];
	char *text = NULL;
	pid_t pid = 0;
	int live;

	if (len <= sl || len - sl > CTL_NAME_MAX || strcmp(fname + len - sl, STATE_SUFFIX) != 0)
		return 0;
	memcpy(name, fname, len - sl);
	name[len - sl] = '\0';
	if (ctl_name_check(name) == -1)
		return 0; /* temporaries start with '.' */
	live = probe_locked(dirfd, name, &pid, &text);
	if (live <= 0)
		return live;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*v = realloc(*v, *cap * sizeof(**v));
		if (*v == NULL)
			fatalx("out of memory");
	}
	ut_strlcpy((*v)[*n].name, name, sizeof((*v)[*n].name));
	(*v)[*n].pid = pid;
	(*v)[*n].state_json = text;
	(*n)++;
	return 0;
}

int
ctl_list(const char *run_dir, struct ctl_entry **out, size_t *n)
{
	cleanup_fd int dirfd = -1;
	struct ctl_entry *v = NULL;
	size_t cap = 0;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	*out = NULL;
	*n = 0;
	dirfd = open_run_dir(run_dir, false);
	if (dirfd == -1)
		return errno == ENOENT ? 0 : -1;
	d = fdopendir(fcntl(dirfd, F_DUPFD_CLOEXEC, 0)); /* closedir() closes its own fd */
	if (d == NULL)
		return -1;
	if (dir_lock(dirfd) == -1) {
		rc = -1;
		goto close_dir;
	}
	while ((de = readdir(d)) != NULL)
		if (list_one(dirfd, de->d_name, &v, n, &cap) == -1)
			log_warn("%s/%s: reading the state file", run_dir, de->d_name);
	dir_unlock(dirfd);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), entry_cmp);
	*out = v;
close_dir:
	closedir(d);
	d = NULL;
	return rc;
}

void
ctl_list_free(struct ctl_entry *e, size_t n)
{
	for (size_t i = 0; e != NULL && i < n; i++) {
		free(e[i].state_json);
		e[i].state_json = NULL;
	}
	free(e);
	e = NULL;
}
