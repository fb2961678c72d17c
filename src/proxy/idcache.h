/*
 * proxy/idcache: the identity of sandbox processes (exe, ancestors, TOFU verdict) kept
 * between connections: a client that opens many connections is identified with three
 * syscalls per process level (a pread of its held /proc/PID/stat; readlink and stat of
 * the exe) instead of seven plus the kernel formatting /proc/PID/status (issue 4:
 * connection rate and p99 latency).
 *
 * Never stale. Every use checks each level against the live process, in this order:
 * /proc/TID/stat, read through the fd the entry opened, answers for that very process
 * (a /proc fd is bound to the process, not the number: once it has exited the read
 * fails with ESRCH even if the pid was reused) and gives the same start time (field 22,
 * in clock ticks since boot, a second guard) and the current parent; the exe link reads the same path (a rename shows there); the image it points
 * to has the same fingerprint (st_dev, st_ino, size, mtime, ctime) as the one TOFU
 * checked when the entry was made. An exec of another binary changes the image; an exec
 * of the same file is the same identity. Ancestors are entries too, each checked the same
 * way on every use, and the chain is rebuilt from the parents read now, so a re-parented
 * or exec'ing ancestor is seen at once. Limit, stated: the exe link and image are read
 * by path right after the stat read, so a process that exits and whose pid is reused
 * by one running the same binary with the same parents between those two syscalls
 * would pass; that needs the host's pid space to wrap in microseconds, or CAP_SYS_ADMIN
 * over the pid namespace (set_tid, ns_last_pid), which nothing in the sandbox has.
 * One exception to "every use": the root (the sandbox's init, where every walk ends) is
 * checked when it is filled and trusted from then on, without a held descriptor. It is
 * agentcage's own process: it never execs, and its pid cannot be reused while anything
 * in the sandbox runs (its death kills the pid namespace, and the supervisor stops the
 * proxy when it reaps it). Three syscalls less per connection.
 * Descriptors: one per entry but the root's (at most IDCACHE_MAX, O_CLOEXEC) while the
 * proxy is busy; idcache_release_fds() (the proxy calls it once it has been idle for
 * PROXY_IDLE_RELEASE_MS) closes them all, so the supervisor's fd count is back to its
 * base at idle. An entry
 * without its fd opens /proc/TID/stat by path at its next use, where the start time
 * alone tells a reused pid apart (the 10 ms limit above applies to that one read), and
 * keeps the fd from there on. An entry whose open fails (EMFILE) is dropped.
 *
 * Not cached (the caller takes the full path, proxy.c): a process whose exe is deleted
 * or unreadable, a chain with a skipped ancestor, a binary TOFU refused.
 *
 * Context: proxy loop (single-threaded). Errors: see each function. Ownership: the cache
 * owns its strings (at most IDCACHE_MAX entries, least recently used evicted);
 * idcache_free() releases them.
 */
#ifndef AGENTCAGE_PROXY_IDCACHE_H
#define AGENTCAGE_PROXY_IDCACHE_H

#include <stddef.h>
#include <sys/types.h>

#include "proxy/ident.h"

/* Processes remembered. Clients and their ancestors of a busy sandbox fit;
 * an evicted one is re-read on its next connection. */
#define IDCACHE_MAX 128

struct idcache;
struct tofu;

/* The identity idcache_get() serves; strings are the cache's, valid until its next call. */
struct idcache_who {
	pid_t pid;                                 /* the process (thread group) */
	const char *exe;
	const char *ancestors[IDENT_MAX_ANCESTORS]; /* parent first */
	size_t nancestors;
};

/* An empty cache for the sandbox whose walk stops at <root> (its init), or NULL, ENOMEM. */
struct idcache *idcache_new(pid_t root);

/* Closes every held fd and frees <ic>. NULL is accepted. */
void idcache_free(struct idcache *ic);

/*
 * The identity of thread <tid> (the one that called connect; any thread of a process
 * gives the process's identity), its ancestors walked by parent up to the root or pid
 * 1 as ident.h does, every level checked as the header says. 0 with <out>; -1 with
 * ENOENT when a level is not cached or no longer valid (dropped): identify the full way,
 * then idcache_fill().
 */
int idcache_get(struct idcache *ic, pid_t tid, struct idcache_who *out);

/*
 * Caches <pi>, the identity ident found for thread <tid> (pi->pid is its process) and
 * that passed TOFU. Each level is read again and must match <pi> (same exe path); its
 * image is opened and checked with tofu_check_fd() on that fd, between two reads of the
 * start time, so the fingerprint kept is the one TOFU vouched for. 0 when every level is
 * cached; -1 (ESTALE: something changed meanwhile, or the failing call's errno) when
 * not: harmless, the next get misses.
 */
int idcache_fill(struct idcache *ic, struct tofu *t, pid_t tid, const struct peer_ident *pi);

/* Closes every entry's held descriptor; the entries stay (see above). NULL is accepted. */
void idcache_release_fds(struct idcache *ic);

/* Gets served, and levels dropped because their process changed; for tests and benches. */
void idcache_counts(const struct idcache *ic, unsigned long *hits, unsigned long *dropped);

#endif
