/* proxy/connwatch: connect(2) callers recorded at connect time (contract in connwatch.h). */
#include "proxy/connwatch.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

struct cw_rec {
	ino_t ino;		/* 0: free */
	pid_t pid;
	int fd;
	long long t_ms;
};

struct connwatch {
	int nfd;
	struct sockaddr_storage targets[CONNWATCH_MAX_TARGETS];
	size_t ntargets;
	struct cw_rec slot[CONNWATCH_SLOTS];
	unsigned long seen, recorded;
};

_Static_assert(CONNWATCH_ADDRLEN_MIN == sizeof(struct sockaddr_in) &&
		       CONNWATCH_ADDRLEN_MAX == sizeof(struct sockaddr_in6) &&
		       CONNWATCH_ADDRLEN_STORAGE == sizeof(struct sockaddr_storage),
	       "the notified address lengths are those of inet socket addresses");

int
connwatch_install(void)
{
	/* connect with an inet-sized address -> USER_NOTIF, everything else ALLOW (header).
	 * The kernel reads addrlen as an int: its low 32 bits (little-endian: the first
	 * word of args[2]). A foreign architecture is allowed here because the main filter
	 * (sandbox/seccomp.h) kills it. */
	struct sock_filter prog[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 7),
		/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_connect, 0, 5),
		/* 4 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, CONNWATCH_ADDRLEN_STORAGE, 2, 0),
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, CONNWATCH_ADDRLEN_MIN, 0, 2),
		/* 7 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, CONNWATCH_ADDRLEN_MAX, 1, 0),
		/* 8 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		/* 9 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog fp = { .len = (unsigned short)NELEM(prog), .filter = prog };

	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			    SECCOMP_FILTER_FLAG_NEW_LISTENER, &fp);
}

int
connwatch_new(struct connwatch **out, int notify_fd, const struct sockaddr_storage *targets,
	      size_t n)
{
	struct connwatch *w;

	*out = NULL;
	if (notify_fd < 0 || n == 0 || n > CONNWATCH_MAX_TARGETS) {
		if (notify_fd >= 0)
			close(notify_fd);
		errno = EINVAL;
		return -1;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		close(notify_fd);
		return -1;
	}
	w->nfd = notify_fd;
	memcpy(w->targets, targets, n * sizeof(*targets));
	w->ntargets = n;
	*out = w;
	return 0;
}

int
connwatch_fd(const struct connwatch *w)
{
	return w->nfd;
}

/* Is <sa> (<len> bytes read from the caller) one of the proxy's addresses? */
static bool
cw_is_target(const struct connwatch *w, const struct sockaddr_storage *sa, size_t len)
{
	for (size_t i = 0; i < w->ntargets; i++) {
		const struct sockaddr_storage *t = &w->targets[i];

		if (t->ss_family != sa->ss_family)
			continue;
		if (t->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
			const struct sockaddr_in *a = (const void *)sa, *b = (const void *)t;

			if (a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr)
				return true;
		} else if (t->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
			const struct sockaddr_in6 *a = (const void *)sa, *b = (const void *)t;

			if (a->sin6_port == b->sin6_port &&
			    memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0)
				return true;
		}
	}
	return false;
}

/* Inode of the socket at fd <fd> of <pid>, or 0. */
static ino_t
cw_socket_inode(pid_t pid, int fd)
{
	char path[64], link[64];
	unsigned long long ino;
	ssize_t n;
	int end = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	if (sscanf(link, "socket:[%llu]%n", &ino, &end) != 1 || end != n)
		return 0;
	return (ino_t)ino;
}

bool
connwatch_still_holds(pid_t pid, int fd, ino_t ino)
{
	return ino != 0 && cw_socket_inode(pid, fd) == ino;
}

static size_t
cw_hash(ino_t ino)
{
	return (size_t)((uint64_t)ino * 0x9E3779B97F4A7C15ull >> 52) % CONNWATCH_SLOTS;
}

/* Stores a record: the inode's home slot or the next free/expired one within a short
 * probe; when all are live the oldest of them is overwritten (bounded memory). */
static void
cw_record(struct connwatch *w, ino_t ino, pid_t pid, int fd)
{
	long long now = ut_now_ms();
	size_t h = cw_hash(ino), victim = h;

	for (size_t i = 0; i < 16; i++) {
		struct cw_rec *r = &w->slot[(h + i) % CONNWATCH_SLOTS];

		if (r->ino == 0 || r->ino == ino || now - r->t_ms > CONNWATCH_TTL_MS) {
			victim = (h + i) % CONNWATCH_SLOTS;
			break;
		}
		if (r->t_ms < w->slot[victim].t_ms)
			victim = (h + i) % CONNWATCH_SLOTS;
	}
	w->slot[victim] = (struct cw_rec){ ino, pid, fd, now };
	w->recorded++;
}

int
connwatch_take(struct connwatch *w, ino_t ino, pid_t *pid, int *fd)
{
	size_t h = cw_hash(ino);
	long long now = ut_now_ms();

	for (size_t i = 0; i < 16; i++) {
		struct cw_rec *r = &w->slot[(h + i) % CONNWATCH_SLOTS];

		if (r->ino != ino)
			continue;
		r->ino = 0;
		if (now - r->t_ms > CONNWATCH_TTL_MS)
			break;
		*pid = r->pid;
		*fd = r->fd;
		return 0;
	}
	errno = ENOENT;
	return -1;
}

/* Learns from one connect(2) notification <req> (never fails: a record is a hint). */
static void
cw_learn(struct connwatch *w, const struct seccomp_notif *req)
{
	struct sockaddr_storage sa;
	uint64_t len = req->data.args[2];
	struct iovec local = { &sa, len < sizeof(sa) ? (size_t)len : sizeof(sa) };
	struct iovec remote = { (void *)(uintptr_t)req->data.args[1], local.iov_len };
	ssize_t got;
	ino_t ino;
	int fd = (int)req->data.args[0];

	if (req->data.nr != __NR_connect || local.iov_len < sizeof(sa_family_t) ||
	    req->data.args[0] > INT32_MAX)
		return;
	memset(&sa, 0, sizeof(sa));
	got = process_vm_readv((pid_t)req->pid, &local, 1, &remote, 1, 0);
	if (got < (ssize_t)sizeof(sa_family_t) || !cw_is_target(w, &sa, (size_t)got))
		return;
	ino = cw_socket_inode((pid_t)req->pid, fd);
	/* The id must still be live: otherwise the pid may already be someone else's. */
	if (ino == 0 || ioctl(w->nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == -1)
		return;
	cw_record(w, ino, (pid_t)req->pid, fd);
}

int
connwatch_handle(struct connwatch *w)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;

	memset(&req, 0, sizeof(req));	/* the kernel refuses a dirty buffer */
	if (ioctl(w->nfd, SECCOMP_IOCTL_NOTIF_RECV, &req) == -1)
		return -1;
	w->seen++;
	cw_learn(w, &req);
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	if (ioctl(w->nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) == -1)
		return -1;	/* ENOENT: the caller was interrupted or died */
	return 0;
}

void
connwatch_counts(const struct connwatch *w, unsigned long *seen, unsigned long *recorded)
{
	*seen = w->seen;
	*recorded = w->recorded;
}

void
connwatch_free(struct connwatch *w)
{
	if (w == NULL)
		return;
	close(w->nfd);
	free(w);
}
