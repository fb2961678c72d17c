/*
 * ident.c: see ident.h. Three steps, each its own function: tuple -> inode (sock_diag or
 * procfs), inode -> owner pids (walk of the sandbox tree), pid -> identity (exe and
 * ancestors). Reasons name what was looked for and the likely cause.
 */
#include "proxy/ident.h"
#include "proxy/connwatch.h"

#include "util/util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/stat.h>

#define DELETED_SUFFIX " (deleted)"
/* Bytes read from a /proc/<pid>/status or task children file. */
#define PROC_SMALL_FILE (64 * 1024)
/* Receive buffer for one sock_diag answer (an inet_diag_msg and no attributes). */
#define DIAG_RECV_BUF 8192

struct ident_ctx {
	int diag_fd;	/* NETLINK_SOCK_DIAG in the sandbox netns, or -1 */
	pid_t root_pid;
	uint32_t seq;
	struct connwatch *watch;	/* connect-time records (ident_ctx_set_watch), or NULL */
	unsigned long fast, scans;
};

/* One end of the connection, IPv4-mapped addresses folded to IPv4. */
struct tuple_addr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* 4 bytes used for AF_INET */
	uint16_t port;		/* host order */
};

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static int
tuple_from_sockaddr(const struct sockaddr_storage *ss, struct tuple_addr *t)
{
	memset(t, 0, sizeof(*t));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		t->family = AF_INET;
		memcpy(t->addr, &sin->sin_addr, 4);
		t->port = ntohs(sin->sin_port);
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		t->port = ntohs(sin6->sin6_port);
		if (memcmp(sin6->sin6_addr.s6_addr, v4mapped_prefix, 12) == 0) {
			t->family = AF_INET;
			memcpy(t->addr, sin6->sin6_addr.s6_addr + 12, 4);
		} else {
			t->family = AF_INET6;
			memcpy(t->addr, sin6->sin6_addr.s6_addr, 16);
		}
		return 0;
	}
	errno = EAFNOSUPPORT;
	return -1;
}

/* <t> as it appears in an AF_INET6 socket: IPv4 becomes ::ffff:a.b.c.d. */
static void
tuple_as_v6(const struct tuple_addr *t, uint8_t out[16])
{
	if (t->family == AF_INET6) {
		memcpy(out, t->addr, 16);
	} else {
		memcpy(out, v4mapped_prefix, 12);
		memcpy(out + 12, t->addr, 4);
	}
}

static void
tuple_str(const struct tuple_addr *t, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(t->family, t->addr, a, sizeof(a));
	snprintf(buf, len, t->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, t->port);
}

int
ident_ctx_open(struct ident_ctx **out, int netns_fd, pid_t root_pid, char *err, size_t errlen)
{
	struct ident_ctx *c;
	int orig = -1, saved;

	*out = NULL;
	if (root_pid <= 0) {
		snprintf(err, errlen, "ident: invalid sandbox root pid %d", (int)root_pid);
		errno = EINVAL;
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "ident: out of memory");
		return -1;
	}
	c->diag_fd = -1;
	c->root_pid = root_pid;
	if (netns_fd >= 0) {
		/* Only this thread moves; the netlink socket keeps the namespace it was made in. */
		orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (orig == -1 || setns(netns_fd, CLONE_NEWNET) == -1) {
			saved = errno;
			snprintf(err, errlen,
				 "ident: cannot enter the sandbox network namespace: %s; hint: the "
				 "proxy needs CAP_SYS_ADMIN (run agentcage as root)",
				 strerror(saved));
			goto err_close_orig;
		}
	}
	c->diag_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	saved = errno;
	if (c->diag_fd == -1)
		log_debug("%s: no sock_diag (%s); using /proc/%d/net/tcp", __func__,
			  strerror(saved), (int)root_pid);
	if (orig != -1 && setns(orig, CLONE_NEWNET) == -1) {
		saved = errno;
		snprintf(err, errlen,
			 "ident: cannot return to the proxy's network namespace: %s; hint: this "
			 "thread is now in the sandbox namespace, stop the proxy",
			 strerror(saved));
		goto err_close_orig;
	}
	ut_close(&orig);
	*out = c;
	return 0;

err_close_orig:
	ut_close(&orig);
	ut_close(&c->diag_fd);
	free(c);
	c = NULL;
	errno = saved;
	return -1;
}

void
ident_ctx_close(struct ident_ctx *c)
{
	if (c == NULL)
		return;
	ut_close(&c->diag_fd);
	free(c);
}

bool
ident_ctx_has_diag(const struct ident_ctx *c)
{
	return c->diag_fd >= 0;
}

/*
 * One exact SOCK_DIAG_BY_FAMILY query for the socket whose local end is <cl> and remote
 * end <px>, as <family>. The kernel looks it up like an incoming packet would
 * (inet_diag_find_one_icsk), so it costs a hash lookup, not a table walk. 0 with *<ino>,
 * -1 with ENOENT when there is no such ESTABLISHED socket, other errno on failure.
 */
static int
diag_query(struct ident_ctx *c, int family, const struct tuple_addr *cl,
	   const struct tuple_addr *px, ino_t *ino)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	long buf[DIAG_RECV_BUF / sizeof(long)];	/* nlmsghdr alignment */
	ssize_t n;

	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;	/* no NLM_F_DUMP: exact lookup */
	req.nlh.nlmsg_seq = ++c->seq;
	req.r.sdiag_family = (uint8_t)family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = 1u << TCP_ESTABLISHED;
	req.r.id.idiag_sport = htons(cl->port);
	req.r.id.idiag_dport = htons(px->port);
	req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (family == AF_INET) {
		memcpy(req.r.id.idiag_src, cl->addr, 4);
		memcpy(req.r.id.idiag_dst, px->addr, 4);
	} else {
		tuple_as_v6(cl, (uint8_t *)req.r.id.idiag_src);
		tuple_as_v6(px, (uint8_t *)req.r.id.idiag_dst);
	}
	if (TEMP_FAILURE_RETRY_INT(sendto(c->diag_fd, &req, sizeof(req), 0,
					  (struct sockaddr *)&nl, sizeof(nl))) == -1)
		return -1;
	for (;;) {
		/* The answer is queued during sendto(); never wait for it on the loop. */
		n = TEMP_FAILURE_RETRY_INT(recv(c->diag_fd, buf, sizeof(buf), MSG_DONTWAIT));
		if (n == -1)
			return -1;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			const struct inet_diag_msg *m;

			if (h->nlmsg_seq != req.nlh.nlmsg_seq)
				continue;	/* a late answer to an earlier query */
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
					errno = EPROTO;
					return -1;
				}
				errno = e->error < 0 ? -e->error : EPROTO;
				return -1;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m))) {
				errno = EPROTO;
				return -1;
			}
			m = NLMSG_DATA(h);
			/* The exact lookup ignores idiag_states: TIME_WAIT has inode 0. */
			if (m->idiag_state != TCP_ESTABLISHED || m->idiag_inode == 0) {
				errno = ENOENT;
				return -1;
			}
			*ino = m->idiag_inode;
			return 0;
		}
	}
}

/* IPv4 tuples may belong to an AF_INET socket or a dual-stack AF_INET6 one. */
static int
inode_via_diag(struct ident_ctx *c, const struct tuple_addr *cl, const struct tuple_addr *px,
	       ino_t *ino)
{
	if (cl->family == AF_INET && px->family == AF_INET) {
		if (diag_query(c, AF_INET, cl, px, ino) == 0)
			return 0;
		if (errno != ENOENT)
			return -1;
	}
	return diag_query(c, AF_INET6, cl, px, ino);
}

/* Decodes a /proc/net/tcp{,6} address: u32 words printed in host byte order. */
static int
proc_hex_addr(const char *hex, uint8_t *out, size_t nbytes)
{
	size_t len = strlen(hex);

	if (len != nbytes * 2)
		return -1;
	for (size_t w = 0; w < nbytes / 4; w++) {
		char word[9];
		uint32_t v;

		memcpy(word, hex + w * 8, 8);
		word[8] = '\0';
		v = (uint32_t)strtoul(word, NULL, 16);
		memcpy(out + w * 4, &v, 4);
	}
	return 0;
}

/* Searches one table (<file> is "tcp" or "tcp6"); 0 found, -1 ENOENT or read errno. */
static int
inode_in_proc_table(pid_t root, const char *file, int family, const struct tuple_addr *cl,
		    const struct tuple_addr *px, ino_t *ino)
{
	char path[64], *line = NULL;
	size_t cap = 0, nbytes = family == AF_INET ? 4 : 16;
	uint8_t want_l[16], want_r[16];
	FILE *f;
	int rc = -1;

	if (family == AF_INET) {
		memcpy(want_l, cl->addr, 4);
		memcpy(want_r, px->addr, 4);
	} else {
		tuple_as_v6(cl, want_l);
		tuple_as_v6(px, want_r);
	}
	snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)root, file);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	errno = ENOENT;
	while (getline(&line, &cap, f) != -1) {
		char lhex[33], rhex[33];
		unsigned lport, rport, state;
		unsigned long inode;
		uint8_t la[16], ra[16];

		if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %32[0-9A-Fa-f]:%x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
			   lhex, &lport, rhex, &rport, &state, &inode) != 6)
			continue;	/* the header line */
		if (state != TCP_ESTABLISHED || lport != cl->port || rport != px->port || inode == 0)
			continue;
		if (proc_hex_addr(lhex, la, nbytes) == -1 || proc_hex_addr(rhex, ra, nbytes) == -1)
			continue;
		if (memcmp(la, want_l, nbytes) == 0 && memcmp(ra, want_r, nbytes) == 0) {
			*ino = (ino_t)inode;
			rc = 0;
			break;
		}
	}
	if (rc == -1 && ferror(f))
		errno = EIO;
	else if (rc == -1)
		errno = ENOENT;
	free(line);
	fclose(f);
	return rc;
}

static int
inode_via_procfs(struct ident_ctx *c, const struct tuple_addr *cl, const struct tuple_addr *px,
		 ino_t *ino)
{
	if (cl->family == AF_INET && px->family == AF_INET) {
		if (inode_in_proc_table(c->root_pid, "tcp", AF_INET, cl, px, ino) == 0)
			return 0;
		if (errno != ENOENT)
			return -1;
	}
	return inode_in_proc_table(c->root_pid, "tcp6", AF_INET6, cl, px, ino);
}

int
ident_socket_inode(struct ident_ctx *c, const struct sockaddr_storage *peer,
		   const struct sockaddr_storage *local, enum ident_via via, ino_t *ino,
		   char *reason, size_t reason_len)
{
	struct tuple_addr cl, px;
	char a[80], b[80];
	int rc = -1, err;

	if (tuple_from_sockaddr(peer, &cl) == -1 || tuple_from_sockaddr(local, &px) == -1) {
		snprintf(reason, reason_len, "caller identity needs a TCP/IP connection");
		return -1;
	}
	if (via != IDENT_VIA_PROCFS && c->diag_fd >= 0) {
		rc = inode_via_diag(c, &cl, &px, ino);
		/* Not found is an answer; only a failing query falls back to the slow table. */
		if (rc == 0 || errno == ENOENT || via == IDENT_VIA_DIAG)
			goto done;
		log_debug("%s: sock_diag failed (%s); reading /proc/%d/net", __func__,
			  strerror(errno), (int)c->root_pid);
	} else if (via == IDENT_VIA_DIAG) {
		errno = EOPNOTSUPP;
		goto done;
	}
	rc = inode_via_procfs(c, &cl, &px, ino);
done:
	if (rc == 0)
		return 0;
	err = errno;
	tuple_str(&cl, a, sizeof(a));
	tuple_str(&px, b, sizeof(b));
	if (err == ENOENT)
		snprintf(reason, reason_len,
			 "no ESTABLISHED TCP connection from %s to %s in the sandbox (client exited?)",
			 a, b);
	else
		snprintf(reason, reason_len, "cannot look up the connection from %s to %s: %s", a,
			 b, strerror(err));
	errno = err;
	return -1;
}

/* --- inode -> owner pids ----------------------------------------------------------- */

struct pid_set {
	pid_t *v;
	size_t n;
};

static bool
pid_set_has(const struct pid_set *s, pid_t p)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == p)
			return true;
	return false;
}

/* Appends the children of every thread of <pid> to <s>; a vanished pid adds nothing. */
static int
add_children(struct pid_set *s, pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	int rc = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (d == NULL)
		return 0;	/* exited meanwhile */
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char cpath[96], *data = NULL, *p, *end;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(cpath, sizeof(cpath), "/proc/%d/task/%.16s/children", (int)pid, de->d_name);
		if (ut_read_file(cpath, PROC_SMALL_FILE, &data, &len) == -1)
			continue;
		for (p = data; rc == 0; p = end) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			if (v <= 0 || pid_set_has(s, (pid_t)v))
				continue;
			if (s->n == IDENT_MAX_PIDS) {
				errno = E2BIG;
				rc = -1;
				break;
			}
			s->v[s->n++] = (pid_t)v;
		}
		free(data);
	}
	closedir(d);
	return rc;
}

/* true when a file descriptor of <pid> is the socket <target> ("socket:[N]"). */
static bool
pid_holds(pid_t pid, const char *target)
{
	char path[64], link[64];
	DIR *d;
	struct dirent *de;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (d == NULL)
		return false;
	while (!found && (de = readdir(d)) != NULL) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		found = strcmp(link, target) == 0;
	}
	closedir(d);
	return found;
}

/*
 * Owners of socket <ino> among <root> and its descendants (breadth first, each process
 * once; threads share the fd table so only the process is scanned). Cost: one opendir
 * per process and one readlink per fd. -1 with E2BIG past IDENT_MAX_PIDS.
 */
static int
find_owners(pid_t root, ino_t ino, pid_t owners[IDENT_MAX_OWNERS], size_t *nowners,
	    size_t *nscanned)
{
	struct pid_set s = { malloc(IDENT_MAX_PIDS * sizeof(pid_t)), 0 };
	char target[48];
	int rc = 0;

	*nowners = 0;
	if (s.v == NULL)
		return -1;
	snprintf(target, sizeof(target), "socket:[%lu]", (unsigned long)ino);
	s.v[s.n++] = root;
	for (size_t i = 0; i < s.n && rc == 0; i++) {
		if (pid_holds(s.v[i], target)) {
			if (*nowners == IDENT_MAX_OWNERS) {
				errno = E2BIG;
				rc = -1;
				break;
			}
			owners[(*nowners)++] = s.v[i];
		}
		rc = add_children(&s, s.v[i]);
	}
	*nscanned = s.n;
	free(s.v);
	s.v = NULL;
	return rc;
}

/* --- pid -> identity --------------------------------------------------------------- */

/*
 * readlink(/proc/<pid>/exe) into <buf>. The kernel appends " (deleted)" to an unlinked
 * exe; that suffix is stripped (and *<deleted> set) only when the literal name does not
 * exist inside the process's own root, so a file really named "x (deleted)" stays as is.
 */
static int
read_exe(pid_t pid, char *buf, size_t len, bool *deleted)
{
	char path[64], probe[PATH_MAX + 64];
	size_t slen = strlen(DELETED_SUFFIX);
	ssize_t n;
	struct stat st;

	*deleted = false;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, buf, len - 1);
	if (n == -1)
		return -1;
	if ((size_t)n == len - 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	buf[n] = '\0';
	if ((size_t)n > slen && strcmp(buf + n - slen, DELETED_SUFFIX) == 0) {
		snprintf(probe, sizeof(probe), "/proc/%d/root%s", (int)pid, buf);
		if (lstat(probe, &st) == -1 && errno == ENOENT) {
			buf[n - slen] = '\0';
			*deleted = true;
		}
	}
	return 0;
}

/* A pid field ("\nPPid:", "\nTgid:") of /proc/<pid>/status; 0 when unknown. */
static pid_t
read_status_pid(pid_t pid, const char *field)
{
	char path[64], *data = NULL, *p;
	size_t len;
	long v = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (ut_read_file(path, PROC_SMALL_FILE, &data, &len) == -1)
		return 0;
	p = strstr(data, field);
	if (p != NULL)
		v = strtol(p + strlen(field), NULL, 10);
	free(data);
	return v > 0 ? (pid_t)v : 0;
}

static pid_t
read_ppid(pid_t pid)
{
	return read_status_pid(pid, "\nPPid:");
}

/*
 * Identity of <pid>: exe, then ancestors by PPid, nearest first, up to and including
 * <stop> (the sandbox root) or pid 1, at most IDENT_MAX_ANCESTORS. A parent whose exe
 * cannot be read (it exited) is skipped, as the reference does, and the walk goes on.
 */
static int
identity_of(pid_t pid, pid_t stop, struct peer_ident *id, char *reason, size_t reason_len)
{
	pid_t cur = pid;

	id->pid = pid;
	id->nancestors = 0;
	if (read_exe(pid, id->exe, sizeof(id->exe), &id->exe_deleted) == -1) {
		int err = errno;

		snprintf(reason, reason_len, "cannot read the binary of pid %d: %s%s", (int)pid,
			 strerror(err), err == ENOENT || err == ESRCH ? " (process exited?)" : "");
		errno = err;
		return -1;
	}
	while (cur != stop && id->nancestors < IDENT_MAX_ANCESTORS) {
		pid_t ppid = read_ppid(cur);
		bool del;

		if (ppid == 0 || ppid == cur)
			break;
		if (read_exe(ppid, id->ancestors[id->nancestors], PATH_MAX, &del) == 0)
			id->ancestor_pids[id->nancestors++] = ppid;
		if (ppid == stop || ppid == 1)
			break;
		cur = ppid;
	}
	return 0;
}

static bool
same_identity(const struct peer_ident *a, const struct peer_ident *b)
{
	if (strcmp(a->exe, b->exe) != 0 || a->exe_deleted != b->exe_deleted ||
	    a->nancestors != b->nancestors)
		return false;
	for (size_t i = 0; i < a->nancestors; i++)
		if (strcmp(a->ancestors[i], b->ancestors[i]) != 0)
			return false;
	return true;
}

static int
cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static void
ambiguous_reason(ino_t ino, const pid_t *owners, size_t n, char *reason, size_t reason_len)
{
	size_t off;

	off = (size_t)snprintf(reason, reason_len,
			       "ambiguous shared socket ownership: inode %lu is held by PIDs [",
			       (unsigned long)ino);
	for (size_t i = 0; i < n && off < reason_len; i++)
		off += (size_t)snprintf(reason + off, reason_len - off, "%s%d", i ? ", " : "",
					(int)owners[i]);
	if (off < reason_len)
		snprintf(reason + off, reason_len - off,
			 "] with different binaries or ancestors; hint: do not share one "
			 "connection between different programs");
}

int
ident_connector(struct ident_ctx *c, ino_t ino, pid_t *tid)
{
	char target[48];
	int fd;

	if (c->watch == NULL || connwatch_take(c->watch, ino, tid, &fd) == -1)
		return -1;
	/* Threads share the fd table, so /proc/TID/fd answers for the whole process. */
	snprintf(target, sizeof(target), "socket:[%lu]", (unsigned long)ino);
	if (!connwatch_still_holds(*tid, fd, ino) && !pid_holds(*tid, target)) {
		errno = ENOENT;
		return -1;	/* it let go of the socket: every holder is checked */
	}
	c->fast++;
	return 0;
}

int
ident_of_thread(struct ident_ctx *c, pid_t tid, ino_t ino, struct peer_ident *out, char *reason,
		size_t reason_len)
{
	pid_t pid = read_status_pid(tid, "\nTgid:");

	if (pid == 0) {
		snprintf(reason, reason_len, "the process that connected (thread %d) exited",
			 (int)tid);
		errno = ESRCH;
		return -1;
	}
	if (identity_of(pid, c->root_pid, out, reason, reason_len) == -1)
		return -1;
	out->inode = ino;
	return 0;
}

/*
 * The fast path (proxy/connwatch.h): the process recorded calling connect() for <ino>
 * (its thread group), as long as it still holds that socket, is the caller, whatever it
 * runs now (an exec after connect changes the answer) and whoever else holds the socket.
 * -1 when there is no usable record or the connector let go of the socket (the caller
 * then scans every holder, which must agree).
 */
static int
lookup_connector(struct ident_ctx *c, ino_t ino, struct peer_ident *out, char *reason,
		 size_t reason_len)
{
	pid_t tid;

	if (ident_connector(c, ino, &tid) == -1)
		return -1;
	return ident_of_thread(c, tid, ino, out, reason, reason_len);
}

void
ident_ctx_set_watch(struct ident_ctx *c, struct connwatch *w)
{
	c->watch = w;
}

void
ident_ctx_counts(const struct ident_ctx *c, unsigned long *fast, unsigned long *scans)
{
	*fast = c->fast;
	*scans = c->scans;
}

int
ident_lookup(struct ident_ctx *c, const struct sockaddr_storage *peer,
	     const struct sockaddr_storage *local, struct peer_ident *out, char *reason,
	     size_t reason_len)
{
	ino_t ino;

	if (ident_socket_inode(c, peer, local, IDENT_VIA_AUTO, &ino, reason, reason_len) == -1)
		return -1;
	if (lookup_connector(c, ino, out, reason, reason_len) == 0)
		return 0;
	return ident_scan(c, ino, out, reason, reason_len);
}

int
ident_scan(struct ident_ctx *c, ino_t ino, struct peer_ident *out, char *reason,
	   size_t reason_len)
{
	pid_t owners[IDENT_MAX_OWNERS];
	size_t nowners = 0, nscanned = 0;
	struct peer_ident *other = NULL;
	int rc = -1, err = 0;

	c->scans++;
	if (find_owners(c->root_pid, ino, owners, &nowners, &nscanned) == -1) {
		err = errno;
		snprintf(reason, reason_len,
			 "cannot find the owner of socket inode %lu: %s (more than %d processes "
			 "or %d owners)",
			 (unsigned long)ino, strerror(err), IDENT_MAX_PIDS, IDENT_MAX_OWNERS);
		goto out;
	}
	if (nowners == 0) {
		err = ENOENT;
		snprintf(reason, reason_len,
			 "no process in the sandbox holds the socket (inode %lu, %zu processes "
			 "under pid %d scanned; client exited?)",
			 (unsigned long)ino, nscanned, (int)c->root_pid);
		goto out;
	}
	qsort(owners, nowners, sizeof(owners[0]), cmp_pid);
	if (identity_of(owners[0], c->root_pid, out, reason, reason_len) == -1) {
		err = errno;
		goto out;
	}
	out->inode = ino;
	if (nowners > 1 && (other = malloc(sizeof(*other))) == NULL) {
		err = errno;
		snprintf(reason, reason_len, "out of memory comparing socket owners");
		goto out;
	}
	for (size_t i = 1; i < nowners; i++) {
		/* An owner that exited meanwhile no longer holds the socket: ignore it. */
		if (identity_of(owners[i], c->root_pid, other, reason, reason_len) == -1)
			continue;
		if (!same_identity(out, other)) {
			err = EBUSY;
			ambiguous_reason(ino, owners, nowners, reason, reason_len);
			goto out;
		}
	}
	rc = 0;
out:
	free(other);
	other = NULL;
	if (rc == -1)
		errno = err;
	return rc;
}
