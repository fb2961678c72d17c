/*
 * tofu.c: see tofu.h. The cache is a flat array searched linearly by path: a sandbox
 * runs tens of distinct binaries, so O(n) strcmp per decision is cheaper than the stat
 * it sits next to; a hash table would replace it if n ever grows.
 */
#include "proxy/tofu.h"

#include "util/sha256.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

struct tofu_entry {
	char *path;
	char hex[TOFU_HEX_LEN];		/* the pin */
	struct tofu_fp fp;		/* fingerprint of the image that hashed to the pin */
	bool has_bad;
	struct tofu_fp bad_fp;		/* last image that did not match: denied without re-hashing */
	char bad_hex[TOFU_HEX_LEN];
};

struct tofu {
	struct tofu_entry *e;
	size_t n, cap;
	unsigned long hashes;
};

struct tofu *
tofu_new(void)
{
	return calloc(1, sizeof(struct tofu));
}

void
tofu_free(struct tofu *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->e[i].path);
		t->e[i].path = NULL;
	}
	free(t->e);
	t->e = NULL;
	free(t);
}

unsigned long
tofu_hash_count(const struct tofu *t)
{
	return t->hashes;
}

void
tofu_fp_from_stat(struct tofu_fp *fp, const struct stat *st)
{
	fp->dev = st->st_dev;
	fp->ino = st->st_ino;
	fp->size = st->st_size;
	fp->mtime = st->st_mtim;
	fp->ctime = st->st_ctim;
}

bool
tofu_fp_equal(const struct tofu_fp *a, const struct tofu_fp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* SHA-256 of <fd> from offset 0, as lower-case hex. -1 and errno. */
static int
hash_fd(int fd, char hex[TOFU_HEX_LEN])
{
	uint8_t md[SHA256_LEN];

	if (sha256_fd(fd, md) == -1)
		return -1;
	sha256_hex(md, hex);
	return 0;
}

static struct tofu_entry *
find_entry(struct tofu *t, const char *path)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->e[i].path, path) == 0)
			return &t->e[i];
	return NULL;
}

static struct tofu_entry *
add_entry(struct tofu *t, const char *path)
{
	struct tofu_entry *e;

	if (t->n == TOFU_MAX_ENTRIES) {
		errno = ENOSPC;
		return NULL;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct tofu_entry *ne = realloc(t->e, cap * sizeof(*ne));

		if (ne == NULL)
			return NULL;
		t->e = ne;
		t->cap = cap;
	}
	e = &t->e[t->n];
	memset(e, 0, sizeof(*e));
	e->path = strdup(path);
	if (e->path == NULL)
		return NULL;
	t->n++;
	return e;
}

static int
deny_changed(const struct tofu_entry *e, const char *now_hex, char *reason, size_t reason_len)
{
	snprintf(reason, reason_len,
		 "binary %s changed since first use (pinned sha256 %.12s…, now %.12s…); hint: "
		 "a binary replaced inside a running sandbox stays denied, restart the sandbox "
		 "to trust the new one",
		 e->path, e->hex, now_hex);
	errno = EPERM;
	return -1;
}

int
tofu_check_fd(struct tofu *t, int fd, const char *path, char hex[TOFU_HEX_LEN], char *reason,
	      size_t reason_len)
{
	struct tofu_entry *e = find_entry(t, path);
	struct stat st;
	struct tofu_fp fp;
	char now[TOFU_HEX_LEN];

	if (fstat(fd, &st) == -1) {
		snprintf(reason, reason_len, "cannot stat binary %s: %s", path, strerror(errno));
		return -1;
	}
	tofu_fp_from_stat(&fp, &st);
	if (e != NULL && tofu_fp_equal(&e->fp, &fp)) {
		memcpy(hex, e->hex, TOFU_HEX_LEN);
		return 0;
	}
	if (e != NULL && e->has_bad && tofu_fp_equal(&e->bad_fp, &fp))
		return deny_changed(e, e->bad_hex, reason, reason_len);
	if (st.st_size > TOFU_MAX_IMAGE) {
		snprintf(reason, reason_len,
			 "binary %s is %lld MiB, more than agentcage hashes to pin it (%lld MiB); "
			 "hint: network access needs a binary that can be pinned, run a smaller one",
			 path, (long long)(st.st_size >> 20), TOFU_MAX_IMAGE >> 20);
		errno = EFBIG;
		return -1;
	}
	t->hashes++;
	if (hash_fd(fd, now) == -1) {
		int err = errno;

		snprintf(reason, reason_len, "cannot read binary %s to hash it: %s", path,
			 strerror(err));
		errno = err;
		return -1;
	}
	if (e != NULL && strcmp(e->hex, now) != 0) {
		/* The pin is never replaced: that path stays denied (network.md §3.5). */
		e->has_bad = true;
		e->bad_fp = fp;
		memcpy(e->bad_hex, now, TOFU_HEX_LEN);
		return deny_changed(e, now, reason, reason_len);
	}
	if (e == NULL && (e = add_entry(t, path)) == NULL) {
		snprintf(reason, reason_len, "cannot pin binary %s: %s%s", path, strerror(errno),
			 errno == ENOSPC ? " (more than TOFU_MAX_ENTRIES binaries)" : "");
		return -1;
	}
	memcpy(e->hex, now, TOFU_HEX_LEN);	/* first use, or same bytes with a new stat */
	e->fp = fp;
	memcpy(hex, now, TOFU_HEX_LEN);
	return 0;
}

int
tofu_check_pid(struct tofu *t, pid_t pid, const char *path, bool deleted,
	       char hex[TOFU_HEX_LEN], char *reason, size_t reason_len)
{
	char proc[64];
	cleanup_fd int fd = -1;

	if (deleted) {
		snprintf(reason, reason_len,
			 "binary %s was deleted or replaced on disk while running (pid %d); hint: "
			 "restart the program so it runs the binary now on disk",
			 path, (int)pid);
		errno = EPERM;
		return -1;
	}
	snprintf(proc, sizeof(proc), "/proc/%d/exe", (int)pid);
	fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		int err = errno;

		snprintf(reason, reason_len, "cannot open the binary of pid %d (%s): %s%s", (int)pid,
			 path, strerror(err), err == ENOENT || err == ESRCH ? " (process exited?)" : "");
		errno = err;
		return -1;
	}
	return tofu_check_fd(t, fd, path, hex, reason, reason_len);
}
