/*
 * evloop.c: epoll loop with ae.c's rules (see evloop.h). Registrations live in an array
 * indexed by fd; each carries a generation number that is also stored in the epoll event,
 * so an event that was fetched before its fd was deleted (and maybe re-added) by an earlier
 * callback in the same batch is recognised as stale and dropped.
 *
 * Timers are an unsorted singly linked list: finding the nearest one and running the due
 * ones is O(n) per loop iteration. agentcage keeps a handful of timers (per-state
 * timeouts are per connection but few connections are live at once), so this is fine for
 * now; a heap would replace it if profiles ever show it.
 */
#include "util/evloop.h"

#include "util/util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define EV_ALL_FD_BITS (EV_READ | EV_WRITE)
#define EVLOOP_INIT_FDS 64

struct ev_reg {
	bool er_used;
	uint32_t er_mask;	/* EV_READ | EV_WRITE */
	uint32_t er_gen;	/* bumped on every add; stored in the epoll event */
	bool er_parked;		/* no interest: taken out of epoll (see evloop_mod) */
	ev_fd_cb er_cb;
	void *er_data;
};

struct ev_timer {
	long long et_id;
	long long et_when;	/* CLOCK_MONOTONIC ms */
	bool et_deleted;	/* freed by timers_reap() at a safe point */
	ev_timer_cb et_cb;
	void *et_data;
	struct ev_timer *et_next;
};

struct evloop {
	int el_epfd;
	struct ev_reg *el_regs;
	size_t el_nregs;
	struct ev_timer *el_timers;
	long long el_next_id;
	bool el_stop;
	bool el_running;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct evloop *
evloop_new(void)
{
	struct evloop *loop = calloc(1, sizeof(*loop));

	if (loop == NULL)
		return NULL;
	loop->el_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->el_epfd == -1)
		goto err_free_loop;
	loop->el_regs = calloc(EVLOOP_INIT_FDS, sizeof(*loop->el_regs));
	if (loop->el_regs == NULL)
		goto err_close_epoll;
	loop->el_nregs = EVLOOP_INIT_FDS;
	loop->el_next_id = 1;
	return loop;

err_close_epoll:
	ut_close(&loop->el_epfd);
err_free_loop:
	free(loop);
	loop = NULL;
	return NULL;
}

void
evloop_free(struct evloop *loop)
{
	if (loop == NULL)
		return;
	while (loop->el_timers != NULL) {
		struct ev_timer *t = loop->el_timers;

		loop->el_timers = t->et_next;
		free(t);
	}
	ut_close(&loop->el_epfd);
	free(loop->el_regs);
	loop->el_regs = NULL;
	free(loop);
}

/* Grows the registration array so that <fd> indexes it; -1 with ENOMEM. */
static int
regs_reserve(struct evloop *loop, int fd)
{
	size_t n = loop->el_nregs;
	struct ev_reg *regs;

	if ((size_t)fd < n)
		return 0;
	while (n <= (size_t)fd)
		n *= 2;
	if (n > EVLOOP_MAX_FD)
		n = EVLOOP_MAX_FD;
	regs = realloc(loop->el_regs, n * sizeof(*regs));
	if (regs == NULL)
		return -1;
	memset(regs + loop->el_nregs, 0, (n - loop->el_nregs) * sizeof(*regs));
	loop->el_regs = regs;
	loop->el_nregs = n;
	return 0;
}

static struct epoll_event
epoll_event_for(int fd, const struct ev_reg *r)
{
	struct epoll_event ev = { 0 };

	if (r->er_mask & EV_READ)
		ev.events |= EPOLLIN;
	if (r->er_mask & EV_WRITE)
		ev.events |= EPOLLOUT;
	/* fd in the low half, generation in the high half: see the file comment. */
	ev.data.u64 = (uint64_t)(uint32_t)fd | (uint64_t)r->er_gen << 32;
	return ev;
}

static struct ev_reg *
reg_lookup(struct evloop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->el_nregs || !loop->el_regs[fd].er_used)
		return NULL;
	return &loop->el_regs[fd];
}

int
evloop_add(struct evloop *loop, int fd, uint32_t events, ev_fd_cb cb, void *data)
{
	struct ev_reg *r;
	struct epoll_event ev;

	if (fd < 0 || fd >= EVLOOP_MAX_FD) {
		errno = EBADF;
		return -1;
	}
	if (cb == NULL || (events & ~EV_ALL_FD_BITS) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (reg_lookup(loop, fd) != NULL) {
		errno = EEXIST;
		return -1;
	}
	if (regs_reserve(loop, fd) == -1)
		return -1;
	r = &loop->el_regs[fd];
	r->er_gen++;
	r->er_mask = events;
	r->er_parked = events == 0;
	ev = epoll_event_for(fd, r);
	if (!r->er_parked && epoll_ctl(loop->el_epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		return -1;	/* r->er_used stays false; the bumped generation is harmless */
	r->er_used = true;
	r->er_cb = cb;
	r->er_data = data;
	return 0;
}

int
evloop_mod(struct evloop *loop, int fd, uint32_t events)
{
	struct ev_reg *r = reg_lookup(loop, fd);
	struct epoll_event ev;
	uint32_t old;

	if (r == NULL) {
		errno = ENOENT;
		return -1;
	}
	if ((events & ~EV_ALL_FD_BITS) != 0) {
		errno = EINVAL;
		return -1;
	}
	old = r->er_mask;
	r->er_mask = events;
	ev = epoll_event_for(fd, r);
	/* epoll reports EPOLLERR/EPOLLHUP even for an empty mask, so a peer that hung up
	 * would wake the loop forever while its owner has nothing to do with it: an fd
	 * with no interest leaves epoll, and meets its error at the next read or write. */
	if (events == 0) {
		if (!r->er_parked &&
		    epoll_ctl(loop->el_epfd, EPOLL_CTL_DEL, fd, &ev) == -1 && errno != ENOENT)
			goto err_restore;
		r->er_parked = true;
		return 0;
	}
	if (epoll_ctl(loop->el_epfd, r->er_parked ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) == -1)
		goto err_restore;
	r->er_parked = false;
	return 0;

err_restore:
	r->er_mask = old;
	return -1;
}

/* Marks <r> unused (its generation stays, so stale events for it are dropped). */
static void
reg_clear(struct ev_reg *r)
{
	r->er_used = false;
	r->er_mask = 0;
	r->er_parked = false;
	r->er_cb = NULL;
	r->er_data = NULL;
}

int
evloop_del(struct evloop *loop, int fd)
{
	struct ev_reg *r = reg_lookup(loop, fd);
	struct epoll_event ev = { 0 };	/* kernels before 2.6.9 wanted non-NULL */
	bool parked;

	if (r == NULL) {
		errno = ENOENT;
		return -1;
	}
	parked = r->er_parked;
	reg_clear(r);
	/* A parked fd is not in the epoll set: nothing to tell the kernel. EBADF: the caller
	 * closed the fd first, and the kernel already dropped it. */
	if (!parked && epoll_ctl(loop->el_epfd, EPOLL_CTL_DEL, fd, &ev) == -1 && errno != EBADF &&
	    errno != ENOENT)
		return -1;
	return 0;
}

int
evloop_forget(struct evloop *loop, int fd)
{
	struct ev_reg *r = reg_lookup(loop, fd);

	if (r == NULL) {
		errno = ENOENT;
		return -1;
	}
	/* No EPOLL_CTL_DEL: the caller's close() removes the fd from the set (see the
	 * header). An event already fetched for it is dropped by dispatch_one(). */
	reg_clear(r);
	return 0;
}

long long
evloop_timer_add(struct evloop *loop, long ms, ev_timer_cb cb, void *data)
{
	struct ev_timer *t;

	if (ms < 0 || cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -1;
	t->et_id = loop->el_next_id++;
	t->et_when = now_ms() + ms;
	t->et_cb = cb;
	t->et_data = data;
	t->et_next = loop->el_timers;
	loop->el_timers = t;
	return t->et_id;
}

void
evloop_timer_del(struct evloop *loop, long long id)
{
	for (struct ev_timer *t = loop->el_timers; t != NULL; t = t->et_next)
		if (t->et_id == id) {
			t->et_deleted = true;	/* freed by timers_reap(): a caller may hold it */
			return;
		}
}

void
evloop_stop(struct evloop *loop)
{
	loop->el_stop = true;
}

/* Frees timers marked deleted. Only called between dispatch phases, never from a callback. */
static void
timers_reap(struct evloop *loop)
{
	struct ev_timer **pp = &loop->el_timers;

	while (*pp != NULL) {
		struct ev_timer *t = *pp;

		if (t->et_deleted) {
			*pp = t->et_next;
			free(t);
		} else {
			pp = &t->et_next;
		}
	}
}

/* epoll_wait timeout: ms until the nearest live timer, or -1 (block) when there is none. */
static int
wait_timeout(const struct evloop *loop)
{
	long long nearest = -1, now, d;

	for (const struct ev_timer *t = loop->el_timers; t != NULL; t = t->et_next)
		if (!t->et_deleted && (nearest == -1 || t->et_when < nearest))
			nearest = t->et_when;
	if (nearest == -1)
		return -1;
	now = now_ms();
	d = nearest - now;
	if (d < 0)
		return 0;
	return d > 1000 * 1000 ? 1000 * 1000 : (int)d;
}

/*
 * Runs every due timer once. Timers added by a callback during this pass have an id above
 * <max_id> and wait for the next pass, so a timer re-adding itself with 0 ms can't starve
 * the fds. The list is only prepended to and nothing is freed here, so walking it while
 * callbacks add or delete timers is safe.
 */
static void
timers_run(struct evloop *loop)
{
	long long max_id = loop->el_next_id - 1;

	for (struct ev_timer *t = loop->el_timers; t != NULL && !loop->el_stop; t = t->et_next) {
		long next;

		if (t->et_deleted || t->et_id > max_id || t->et_when > now_ms())
			continue;
		next = t->et_cb(loop, t->et_id, t->et_data);
		if (t->et_deleted)
			continue;	/* deleted itself inside the callback */
		if (next < 0)
			t->et_deleted = true;
		else
			t->et_when = now_ms() + next;
	}
}

static uint32_t
fired_bits(uint32_t epoll_events)
{
	uint32_t fired = 0;

	if (epoll_events & EPOLLIN)
		fired |= EV_READ;
	if (epoll_events & EPOLLOUT)
		fired |= EV_WRITE;
	/* One error path per fd: the handler meets the error in its own read() or write(). */
	if (epoll_events & (EPOLLERR | EPOLLHUP))
		fired |= EV_READ | EV_WRITE | EV_ERROR;
	return fired;
}

/* Dispatches one fetched event, looking the registration up again (house rule 9). */
static void
dispatch_one(struct evloop *loop, const struct epoll_event *ev)
{
	int fd = (int)(uint32_t)ev->data.u64;
	uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
	struct ev_reg *r = reg_lookup(loop, fd);
	uint32_t fired;

	if (r == NULL || r->er_gen != gen)
		return;	/* deleted (maybe re-added) by an earlier callback in this batch */
	fired = fired_bits(ev->events) & (r->er_mask | EV_ERROR);
	if (fired != 0)
		r->er_cb(loop, fd, fired, r->er_data);
}

int
evloop_run(struct evloop *loop)
{
	struct epoll_event evs[EVLOOP_BATCH];

	if (loop->el_running) {
		errno = EBUSY;
		return -1;
	}
	loop->el_running = true;
	loop->el_stop = false;
	while (!loop->el_stop) {
		int n;

		timers_reap(loop);
		n = epoll_wait(loop->el_epfd, evs, EVLOOP_BATCH, wait_timeout(loop));
		if (n == -1 && errno != EINTR) {
			loop->el_running = false;
			return -1;
		}
		for (int i = 0; i < n && !loop->el_stop; i++)
			dispatch_one(loop, &evs[i]);
		if (!loop->el_stop)
			timers_run(loop);
	}
	timers_reap(loop);
	loop->el_running = false;
	return 0;
}
