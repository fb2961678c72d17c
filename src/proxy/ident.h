/*
 * ident: which sandboxed binary made this connection to the proxy (network.md §3,
 * design.md "Caller identity"). socket 4-tuple -> the client end's socket inode -> the
 * sandbox process(es) holding it -> /proc/PID/exe -> the ancestor chain.
 *
 * Socket -> inode: an exact NETLINK_SOCK_DIAG SOCK_DIAG_BY_FAMILY request (the 4-tuple
 * in inet_diag_req_v2.id, no NLM_F_DUMP; ~4 µs here) on a netlink socket created inside
 * the sandbox's network namespace at ident_ctx_open(); the fallback parses
 * /proc/<root>/net/tcp{,6} (ESTABLISHED rows; ~4.6 ms a read on this kernel's default
 * 262k-bucket table, peers.md §4.3), used only when the netlink query itself fails.
 *
 * Inode -> pids: only the sandbox's processes are scanned: the descendants of the root
 * pid, found through /proc/<pid>/task/<tid>/children. Chosen over "every pid in the
 * sandbox's pid namespace" because it needs no /proc-wide walk (~2 ms on a 70-process
 * host) and because the sandbox root is pid 1 of its pid namespace, so orphans re-parent
 * to it and stay descendants. A process that escaped the tree cannot exist without
 * leaving the pid namespace, which the sandbox forbids.
 *
 * Context: proxy (supervisor, host side). Synchronous: sock_diag ~4 µs, the whole lookup
 * ~40 µs for a one-process sandbox (bench/ident); cost grows with processes x fds. Each
 * lookup allocates a pid list (IDENT_MAX_PIDS) and, with several owners, one peer_ident.
 * Errors: 0, or -1 with a reason a user can act on in the caller's <reason> buffer, and
 * errno (ENOENT not found, EBUSY ambiguous, or the failing call's errno).
 * Ownership: the ctx owns its netlink fd; ident_ctx_close() frees it.
 */
#ifndef AGENTCAGE_IDENT_H
#define AGENTCAGE_IDENT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Ancestors recorded per caller (nearest parent first), as the reference. */
#define IDENT_MAX_ANCESTORS 64
/* Processes that may hold one socket before the lookup gives up. */
#define IDENT_MAX_OWNERS 16
/* Sandbox processes walked per lookup; beyond it the lookup fails (never guesses). */
#define IDENT_MAX_PIDS 8192

struct peer_ident {
	pid_t pid;			/* lowest owner pid */
	char exe[PATH_MAX];		/* readlink(/proc/pid/exe), " (deleted)" stripped */
	bool exe_deleted;
	char ancestors[IDENT_MAX_ANCESTORS][PATH_MAX];	/* parent first, root last */
	pid_t ancestor_pids[IDENT_MAX_ANCESTORS];
	size_t nancestors;
	ino_t inode;			/* the client end's socket inode */
};

/* How ident_socket_inode() finds the inode. */
enum ident_via {
	IDENT_VIA_AUTO = 0,	/* sock_diag, then /proc/<root>/net/tcp{,6} if it errors */
	IDENT_VIA_DIAG,		/* sock_diag only */
	IDENT_VIA_PROCFS,	/* /proc/<root>/net/tcp{,6} only */
};

struct ident_ctx;

/*
 * Opens a lookup context for the sandbox whose processes descend from <root_pid> (also
 * the ancestor walk's stop pid: its exe is the last ancestor) and whose network namespace
 * is <netns_fd> (an fd on /proc/PID/ns/net; -1 means the caller's current namespace).
 * The netlink socket is created inside that namespace (setns there and back, on the
 * calling thread only); if sock_diag is unavailable the ctx still opens and lookups use
 * /proc/<root_pid>/net. Refuses root_pid <= 0 (EINVAL). -1 with <err> when setns fails
 * (EPERM: needs CAP_SYS_ADMIN) or cannot return to the original namespace.
 */
int ident_ctx_open(struct ident_ctx **out, int netns_fd, pid_t root_pid, char *err,
		   size_t errlen);

/* Frees <c> and closes its netlink socket. NULL is accepted. */
void ident_ctx_close(struct ident_ctx *c);

/* true when the ctx has a sock_diag socket (else every lookup reads /proc/.../net/tcp). */
bool ident_ctx_has_diag(const struct ident_ctx *c);

/*
 * Finds the inode of the CLIENT end of the connection the proxy accepted: <peer> is the
 * accepted socket's getpeername() (the client), <local> its getsockname() (the proxy),
 * both AF_INET or AF_INET6 (v4-mapped v6 addresses are tried as IPv4 first, then as
 * mapped IPv6). Only ESTABLISHED sockets match. 0 and *<ino>, or -1 with <reason>
 * (errno ENOENT when no such connection exists: the client closed it).
 */
int ident_socket_inode(struct ident_ctx *c, const struct sockaddr_storage *peer,
		       const struct sockaddr_storage *local, enum ident_via via, ino_t *ino,
		       char *reason, size_t reason_len);

struct connwatch;

/*
 * Lets lookups use connect-time records (proxy/connwatch.h; <w> borrowed, NULL: off).
 * With a record whose process (thread group) still holds the socket, the identity is
 * that process as it runs now and no other process is scanned: the caller is the process
 * that called connect(), whoever it shares the socket with afterwards (it could relay
 * for them anyway: docs/proxy.md "Caller identity"). When the connector let go of the
 * socket, every holder is scanned and must agree, as without a record.
 */
void ident_ctx_set_watch(struct ident_ctx *c, struct connwatch *w);

/*
 * The connect-time record of socket <ino> (it is consumed): 0 with the thread that called
 * connect() in *<tid> when its process still holds the socket (at the recorded fd or,
 * after a dup2, another); -1 (ENOENT) without a usable record: use ident_scan().
 */
int ident_connector(struct ident_ctx *c, ino_t ino, pid_t *tid);

/*
 * The identity of the process of thread <tid> (ident_connector's answer) as it runs now:
 * exe and ancestors up to the sandbox root. 0, or -1 with <reason> (the process exited,
 * its exe cannot be read).
 */
int ident_of_thread(struct ident_ctx *c, pid_t tid, ino_t ino, struct peer_ident *out,
		    char *reason, size_t reason_len);

/*
 * Without a record: every sandbox process holding socket <ino>, which must agree
 * (ident_lookup's rules). 0, or -1 with <reason> and errno (ENOENT, EBUSY, E2BIG).
 */
int ident_scan(struct ident_ctx *c, ino_t ino, struct peer_ident *out, char *reason,
	       size_t reason_len);

/* Lookups answered from a connect-time record, and by scanning; for tests and benches. */
void ident_ctx_counts(const struct ident_ctx *c, unsigned long *fast, unsigned long *scans);

/*
 * The full lookup: socket inode, then the connect-time record (ident_ctx_set_watch) or,
 * without one, the owners among the sandbox's processes, exe and ancestors.
 * Scanned owners must share one identity (exe, deleted flag, ancestor exes), else -1 with
 * EBUSY and "ambiguous shared socket ownership: inode N is held by PIDs [a, b] with
 * different binaries". <out> is large (~260 KiB): allocate it, don't put it on a small
 * stack.
 */
int ident_lookup(struct ident_ctx *c, const struct sockaddr_storage *peer,
		 const struct sockaddr_storage *local, struct peer_ident *out, char *reason,
		 size_t reason_len);

#endif
