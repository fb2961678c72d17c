/*
 * proxy/connwatch: who called connect(2) towards the proxy, recorded when it happens, so
 * the proxy identifies a client without scanning every sandbox process's fd table (the
 * scan costs ~37 µs per process per connection: issue 4's p99 target cannot be met with
 * it).
 *
 * How: init, still root and before it starts the command, installs a one-rule seccomp
 * filter (connwatch_install) whose action for connect(2) is SECCOMP_RET_USER_NOTIF; every
 * process of the sandbox inherits it (and cannot remove it). Only a connect whose address
 * length is that of an IPv4 or IPv6 socket address (CONNWATCH_ADDRLEN_MIN..MAX, or a
 * whole sockaddr_storage) is notified: a unix-socket connect (glibc and most programs
 * pass the whole 110-byte struct) never waits for the supervisor. A proxy connect that slips past with an odd
 * length only goes without a record: the proxy then scans (below). The supervisor holds the
 * listener fd on its event loop. For each connect it reads the destination from the
 * caller's memory; when it is one of the proxy's addresses it records (socket inode ->
 * pid, fd number) from /proc/PID/fd/N, then lets the call proceed
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE): the kernel performs the connect itself, so nothing
 * the supervisor read can change what is connected. The TCP handshake only starts after
 * the answer, so the record exists before the proxy accepts.
 *
 * What a record is worth: the caller's memory and fd table may change after the
 * supervisor read them (another thread), so a record is a hint, never a proof: ident
 * uses it only when that pid still holds that inode at that fd number when the
 * connection is accepted, and otherwise falls back to scanning every holder (ident.h).
 * Identity is then "the process that connected", and the exe it runs at accept time.
 *
 * Context: connwatch_install() runs in init (async-signal-safe, no allocation); the rest
 * in the supervisor's loop. Errors: 0 / -1 with errno. A notification is always answered
 * (CONTINUE), even when reading the caller fails: connwatch never denies, it only learns.
 * Ownership: the watch owns the listener fd and its table.
 */
#ifndef AGENTCAGE_PROXY_CONNWATCH_H
#define AGENTCAGE_PROXY_CONNWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define CONNWATCH_MAX_TARGETS 4
/* addrlen of a notified connect: sizeof(struct sockaddr_in) .. sizeof(struct sockaddr_in6),
 * or sizeof(struct sockaddr_storage), which programs that handle both families pass */
#define CONNWATCH_ADDRLEN_MIN 16
#define CONNWATCH_ADDRLEN_MAX 28
#define CONNWATCH_ADDRLEN_STORAGE 128
/* Records kept (open addressing; the oldest is overwritten when full). A record is taken
 * by the proxy's accept; those of connects that never reach it age out. */
#define CONNWATCH_SLOTS 4096
#define CONNWATCH_TTL_MS 30000

struct connwatch;

/*
 * Installs the connect-notify filter on the calling thread (inherited by children) and
 * returns the listener fd (close-on-exec), or -1 with errno (EACCES: neither
 * no_new_privs nor CAP_SYS_ADMIN; EBUSY: the thread already has a listener).
 * Async-signal-safe.
 */
int connwatch_install(void);

/*
 * A watch on listener <notify_fd> (taken over, closed by connwatch_free even on failure)
 * recording connects to any of <targets>[0..<n>) (AF_INET / AF_INET6 address and port;
 * at most CONNWATCH_MAX_TARGETS). -1 with EINVAL or ENOMEM.
 */
int connwatch_new(struct connwatch **out, int notify_fd, const struct sockaddr_storage *targets,
		  size_t n);

/* The listener fd, to wait on for EV_READ. */
int connwatch_fd(const struct connwatch *w);

/*
 * Receives and answers one notification (call when connwatch_fd() is readable). 0, or -1
 * with errno: ENOENT (the caller died first: harmless), or the ioctl's errno. A listener
 * whose filter has no task left reports EV_ERROR/hang-up: the caller then stops watching.
 */
int connwatch_handle(struct connwatch *w);

/*
 * Takes the record of socket <ino> (it is removed): the pid (thread id) that connected it
 * and the fd number it used. 0, or -1 with ENOENT (none, or older than CONNWATCH_TTL_MS).
 */
int connwatch_take(struct connwatch *w, ino_t ino, pid_t *pid, int *fd);

/* true when fd <fd> of <pid> is socket <ino> right now. */
bool connwatch_still_holds(pid_t pid, int fd, ino_t ino);

/* Counters for tests and benches: notifications seen, records made. */
void connwatch_counts(const struct connwatch *w, unsigned long *seen, unsigned long *recorded);

/* Closes the listener (pending callers proceed: the filter then fails their connect with
 * ENOSYS, the sandbox is ending anyway) and frees <w>. NULL is accepted. */
void connwatch_free(struct connwatch *w);

#endif
