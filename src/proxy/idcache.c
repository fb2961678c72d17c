/*
 * proxy/idcache.c: see idcache.h. A small table searched linearly (IDCACHE_MAX entries:
 * a few hundred integer compares, nothing next to one syscall), least recently used
 * evicted. Each entry checks itself against the live process on every use.
 */
#include "proxy/idcache.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy/tofu.h"
#include "util/util.h"

/* One /proc/PID/stat line: comm is at most 64 bytes, the ~50 numbers fit easily. */
#define IDC_STAT_BUF 1024
/* /proc/PID/stat: the parent is field 4, the start time field 22 (proc(5)); counted
 * from field 3, the first after the closing parenthesis of comm. */
#define IDC_FIELD_PPID 4
#define IDC_FIELD_START 22

struct idc_entry {
	pid_t tid;              /* the /proc number it was opened on; 0: free slot */
	int statfd;             /* /proc/TID/stat of that very process, or -1 */
	pid_t pid;              /* its thread group */
	unsigned long long start;
	char *exe;
	size_t exe_len;
	struct tofu_fp fp;       /* the image TOFU checked */
	unsigned long long used; /* LRU tick */
};

struct idcache {
	pid_t root;
	unsigned long long tick;
	unsigned long hits, dropped;
	struct idc_entry e[IDCACHE_MAX];
};

struct idcache *
idcache_new(pid_t root)
{
	struct idcache *ic = calloc(1, sizeof(*ic));

	if (ic == NULL)
		return NULL;
	ic->root = root;
	for (size_t i = 0; i < IDCACHE_MAX; i++)
		ic->e[i].statfd = -1;
	return ic;
}

static void
idc_clear(struct idc_entry *e)
{
	free(e->exe);
	e->exe = NULL;
	e->tid = 0;
	ut_close(&e->statfd);
}

void
idcache_free(struct idcache *ic)
{
	if (ic == NULL)
		return;
	for (size_t i = 0; i < IDCACHE_MAX; i++)
		idc_clear(&ic->e[i]);
	free(ic);
}

void
idcache_counts(const struct idcache *ic, unsigned long *hits, unsigned long *dropped)
{
	*hits = ic->hits;
	*dropped = ic->dropped;
}

/*
 * Reads the parent and start time from <fd>, an open /proc/TID/stat (pread at 0: the
 * file is generated anew on each read). comm may hold spaces and ')', so fields are
 * counted from the last ')'. -1 when the process is gone (ESRCH: the fd answers for the
 * process it was opened on, never for a later one with the same pid) or the line is
 * malformed (EPROTO).
 */
static int
idc_read_stat(int fd, pid_t *ppid, unsigned long long *start)
{
	char buf[IDC_STAT_BUF], *p, *end;
	ssize_t n;
	int field = 3;

	n = TEMP_FAILURE_RETRY_INT(pread(fd, buf, sizeof(buf) - 1, 0));
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL)
		goto malformed;
	for (p++; field < IDC_FIELD_START; field++) {
		p = strchr(p + 1, ' ');
		if (p == NULL)
			goto malformed;
		if (field + 1 == IDC_FIELD_PPID)
			*ppid = (pid_t)strtol(p + 1, &end, 10);
	}
	*start = strtoull(p + 1, &end, 10);
	if (end == p + 1)
		goto malformed;
	return 0;
malformed:
	errno = EPROTO;
	return -1;
}

/* Opens /proc/TID/stat (the descriptor an entry holds), or -1 with errno. */
static int
idc_open_stat(pid_t tid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	return open(path, O_RDONLY | O_CLOEXEC);
}

void
idcache_release_fds(struct idcache *ic)
{
	if (ic == NULL)
		return;
	for (size_t i = 0; i < IDCACHE_MAX; i++)
		ut_close(&ic->e[i].statfd);
}

/* /proc/TID/exe reads <exe>[0..<len>) (a " (deleted)" suffix does not match). */
static bool
idc_same_link(pid_t tid, const char *exe, size_t len)
{
	char path[32], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)tid);
	n = readlink(path, link, sizeof(link));

	return n >= 0 && (size_t)n == len && memcmp(link, exe, len) == 0;
}

/*
 * The header's checks for one entry: alive with the same start time, same exe path,
 * same image. 0 with the current parent in *<ppid>; -1 when anything differs. Opens
 * the entry's stat descriptor again when idcache_release_fds() closed it.
 */
static int
idc_check(struct idc_entry *e, pid_t *ppid)
{
	unsigned long long start;
	struct stat st;
	struct tofu_fp fp;

	char path[32];

	if (e->statfd < 0 && (e->statfd = idc_open_stat(e->tid)) == -1)
		return -1;
	if (idc_read_stat(e->statfd, ppid, &start) == -1 || start != e->start)
		return -1;
	if (!idc_same_link(e->tid, e->exe, e->exe_len))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)e->tid);
	if (stat(path, &st) == -1)
		return -1;
	tofu_fp_from_stat(&fp, &st);
	return tofu_fp_equal(&fp, &e->fp) ? 0 : -1;
}

static struct idc_entry *
idc_find(struct idcache *ic, pid_t tid)
{
	for (size_t i = 0; i < IDCACHE_MAX; i++)
		if (ic->e[i].tid == tid)
			return &ic->e[i];
	return NULL;
}

/* <tid>'s entry when it passes idc_check() (*<ppid> set); a failing one is dropped. */
static struct idc_entry *
idc_valid(struct idcache *ic, pid_t tid, pid_t *ppid)
{
	struct idc_entry *e = idc_find(ic, tid);

	if (e == NULL)
		return NULL;
	if (tid == ic->root) {
		/* The sandbox's init (header): checked when filled, trusted from then on. */
		*ppid = 0;
		e->used = ++ic->tick;
		return e;
	}
	if (idc_check(e, ppid) == -1) {
		idc_clear(e);
		ic->dropped++;
		return NULL;
	}
	e->used = ++ic->tick;
	return e;
}

int
idcache_get(struct idcache *ic, pid_t tid, struct idcache_who *out)
{
	const struct idc_entry *e, *a;
	pid_t cur, ppid, pp;

	if (tid <= 0 || (e = idc_valid(ic, tid, &ppid)) == NULL)
		goto miss;
	out->pid = e->pid;
	out->exe = e->exe;
	out->nancestors = 0;
	/* The walk of ident.c's identity_of(), from the parents read just now. */
	for (cur = e->pid; cur != ic->root && out->nancestors < IDENT_MAX_ANCESTORS;
	     cur = ppid, ppid = pp) {
		if (ppid == 0 || ppid == cur)
			break;
		if ((a = idc_valid(ic, ppid, &pp)) == NULL)
			goto miss;
		out->ancestors[out->nancestors++] = a->exe;
		if (ppid == ic->root || ppid == 1)
			break;
	}
	ic->hits++;
	return 0;
miss:
	errno = ENOENT;
	return -1;
}

static struct idc_entry *
idc_slot(struct idcache *ic)
{
	struct idc_entry *lru = &ic->e[0];

	for (size_t i = 0; i < IDCACHE_MAX; i++) {
		if (ic->e[i].tid == 0)
			return &ic->e[i];
		if (ic->e[i].used < lru->used)
			lru = &ic->e[i];
	}
	idc_clear(lru);
	return lru;
}

/*
 * Reads <tid> (thread group <pid>) and checks it runs <exe> and that TOFU accepts that
 * image, read through the fd opened here; the start time is read before and after, so
 * the image belongs to the process whose start time is kept. 0 with <e> filled; -1
 * (ESTALE on a mismatch) with <e> left free.
 */
static int
idc_open(struct idc_entry *e, struct tofu *t, pid_t tid, pid_t pid, const char *exe)
{
	char path[32], hex[TOFU_HEX_LEN], why[256];
	cleanup_fd int exefd = -1;
	unsigned long long again;
	struct stat st;
	pid_t ppid;

	if ((e->statfd = idc_open_stat(tid)) == -1 ||
	    idc_read_stat(e->statfd, &ppid, &e->start) == -1)
		goto err;
	e->exe_len = strlen(exe);
	if (!idc_same_link(tid, exe, e->exe_len))
		goto stale;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)tid);
	exefd = open(path, O_RDONLY | O_CLOEXEC);
	if (exefd == -1 || fstat(exefd, &st) == -1)
		goto err;
	if (tofu_check_fd(t, exefd, exe, hex, why, sizeof(why)) == -1)
		goto stale;
	if (idc_read_stat(e->statfd, &ppid, &again) == -1 || again != e->start)
		goto stale;
	tofu_fp_from_stat(&e->fp, &st);
	if ((e->exe = strdup(exe)) == NULL)
		goto err;
	e->tid = tid;
	e->pid = pid;
	return 0;
stale:
	errno = ESTALE;
err:
	idc_clear(e);
	return -1;
}

/* Caches one level unless a valid entry is already there. */
static int
idc_fill_one(struct idcache *ic, struct tofu *t, pid_t tid, pid_t pid, const char *exe)
{
	struct idc_entry *e;
	pid_t ppid;

	if ((e = idc_valid(ic, tid, &ppid)) != NULL && strcmp(e->exe, exe) == 0)
		return 0;
	if (e != NULL) {
		idc_clear(e);
		ic->dropped++;
	}
	e = idc_slot(ic);
	if (idc_open(e, t, tid, pid, exe) == -1)
		return -1;
	if (tid == ic->root)
		ut_close(&e->statfd); /* never read again: no descriptor held for it */
	e->used = ++ic->tick;
	return 0;
}

int
idcache_fill(struct idcache *ic, struct tofu *t, pid_t tid, const struct peer_ident *pi)
{
	if (pi->exe_deleted) {
		errno = ESTALE;
		return -1;
	}
	if (idc_fill_one(ic, t, tid, pi->pid, pi->exe) == -1)
		return -1;
	for (size_t i = 0; i < pi->nancestors; i++)
		if (idc_fill_one(ic, t, pi->ancestor_pids[i], pi->ancestor_pids[i],
				 pi->ancestors[i]) == -1)
			return -1;
	return 0;
}
