/*
 * evloop: a small epoll event loop in the style of Redis ae.c.
 *
 * Context: supervisor and proxy loop; single-threaded, one loop per thread.
 * File descriptors are registered with (events, callback, data); timers with (interval,
 * callback, data), and a timer callback returns its next interval in ms or EV_TIMER_STOP.
 *
 * Dispatch rules a callback may rely on:
 *   - EPOLLERR / EPOLLHUP are reported as EV_READ | EV_WRITE | EV_ERROR (masked by what the
 *     fd registered for, plus EV_ERROR), so a handler meets the error in its own read() or
 *     write(); there is no separate error path.
 *   - A callback may call evloop_del()/evloop_mod() on its own fd or any other fd, add or
 *     delete timers, close fds it deleted, and call evloop_stop(). After every callback the
 *     loop looks up the registration again, so an fd deleted by an earlier callback in the
 *     same batch is not dispatched (even if a new registration reused the number, the stale
 *     event is dropped).
 *   - Deleted timers are only marked; they are freed at a safe point after dispatch, so a
 *     timer may delete itself or another timer from inside any callback.
 *   - EINTR from epoll_wait is not an error.
 *
 * Errors: 0 / -1 with errno. Ownership: the loop owns its own memory only; fds and <data>
 * stay the caller's (evloop_free() closes nothing but the epoll fd).
 */
#ifndef AGENTCAGE_EVLOOP_H
#define AGENTCAGE_EVLOOP_H

#include <stdint.h>

#define EV_READ       1u
#define EV_WRITE      2u
#define EV_ERROR      4u	/* EPOLLERR or EPOLLHUP; delivered with READ|WRITE */
#define EV_TIMER_STOP (-1L)

/* Largest fd number the loop accepts (registrations live in an array indexed by fd). */
#define EVLOOP_MAX_FD 65536
/* Events fetched per epoll_wait call. */
#define EVLOOP_BATCH 64

struct evloop;

typedef void (*ev_fd_cb)(struct evloop *loop, int fd, uint32_t events, void *data);
/* Returns the next interval in ms (>= 0) or EV_TIMER_STOP to delete the timer. */
typedef long (*ev_timer_cb)(struct evloop *loop, long long id, void *data);

/* A new loop, or NULL with errno (ENOMEM, or epoll_create1's errno). Free with evloop_free(). */
struct evloop *evloop_new(void);

/* Frees <loop> and its timers; closes only the epoll fd. NULL is accepted. Must not be
 * called from inside a callback of the same loop. */
void evloop_free(struct evloop *loop);

/*
 * Registers <fd> for <events> (EV_READ and/or EV_WRITE; 0 is allowed: registered but
 * idle). Refuses: fd < 0 or >= EVLOOP_MAX_FD (EBADF), NULL <cb> or unknown bits (EINVAL),
 * an fd already registered (EEXIST), and whatever epoll_ctl refuses (e.g. EPERM for a
 * regular file). 0 or -1 with errno.
 */
int evloop_add(struct evloop *loop, int fd, uint32_t events, ev_fd_cb cb, void *data);

/* Changes the events of registered <fd>. ENOENT when not registered, EINVAL for unknown bits.
 * With <events> 0 the fd stays registered but is not watched at all, errors included
 * (epoll would report a hang-up over and over): its owner meets the error at its next
 * read() or write(). evloop_add() with 0 registers it the same way. */
int evloop_mod(struct evloop *loop, int fd, uint32_t events);

/*
 * Unregisters <fd>; the caller may close it afterwards (or before: a closed fd is removed
 * from epoll by the kernel, and the EBADF is ignored). ENOENT when not registered.
 */
int evloop_del(struct evloop *loop, int fd);

/*
 * Unregisters <fd> like evloop_del() but without the EPOLL_CTL_DEL syscall, for an owner
 * that close()s <fd> right after (before the next evloop_run() iteration): the kernel
 * drops an fd from the epoll set when its last reference closes. So only for an fd no
 * other process or dup() shares (a fork()ed child still holding it keeps it in the set
 * until it closes it; its events are then dropped as stale, never dispatched). ENOENT
 * when not registered.
 */
int evloop_forget(struct evloop *loop, int fd);

/*
 * Adds a timer firing after <ms> (>= 0) milliseconds on CLOCK_MONOTONIC; the callback's
 * return value re-arms it or stops it. Returns a positive id, or -1 with errno (EINVAL for
 * ms < 0 or NULL cb, ENOMEM). Ids are never reused within a loop.
 */
long long evloop_timer_add(struct evloop *loop, long ms, ev_timer_cb cb, void *data);

/* Marks timer <id> deleted (no-op for unknown or already deleted ids); it is freed later. */
void evloop_timer_del(struct evloop *loop, long long id);

/*
 * Dispatches events and timers until evloop_stop() is called. Returns 0 after a stop, -1
 * with errno if epoll_wait fails with anything other than EINTR. Not reentrant.
 */
int evloop_run(struct evloop *loop);

/* Makes evloop_run() return after the current callback batch. Safe from any callback. */
void evloop_stop(struct evloop *loop);

#endif
