/*
 * test_evloop: the event loop's dispatch rules callers rely on (evloop.h): readiness on
 * pipes, HUP reported as read+write+error, deletion of the fd itself or of another fd
 * from a callback, stale events after fd reuse, timers re-arming, stopping and deleting
 * themselves or each other from inside callbacks.
 */
#include "util/evloop.h"
#include "util/util.h"

#include <fcntl.h>

#include <sys/socket.h>

#include "loop_fixture.h"
#include "t.h"

struct rec {
	int calls;
	uint32_t events;
	int other_fd;	/* fd to delete from the callback, -1 for none */
	int stop_after;
};

static void
on_fd_record(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct rec *r = data;
	char buf[64];

	r->calls++;
	r->events |= events;
	if (events & EV_READ)
		(void)!read(fd, buf, sizeof(buf));
	if (r->stop_after && r->calls >= r->stop_after)
		evloop_stop(loop);
}

static void
on_fd_delete_self(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct rec *r = data;

	(void)events;
	r->calls++;
	T_OK(evloop_del(loop, fd) == 0, "callback deletes its own fd");
	evloop_stop(loop);
}

/* Deletes the other fd's registration; whichever of the pair fires first wins. */
static void
on_fd_delete_other(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct rec *r = data;

	(void)fd;
	(void)events;
	r->calls++;
	if (r->other_fd >= 0)
		evloop_del(loop, r->other_fd);
	evloop_stop(loop);
}

static void
test_pipe_read_write(void)
{
	struct evloop *loop = evloop_new();
	int p[2];
	struct rec rr = { .stop_after = 1 }, rw = { .stop_after = 1 };

	T_OK(loop != NULL, "evloop_new");
	T_OK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
	T_OK(evloop_add(loop, p[0], EV_READ, on_fd_record, &rr) == 0, "add read end");
	T_OK(evloop_add(loop, p[0], EV_READ, on_fd_record, &rr) == -1 && errno == EEXIST,
	     "second add of the same fd is EEXIST");
	T_OK(evloop_mod(loop, p[1], EV_WRITE) == -1 && errno == ENOENT,
	     "mod of an unregistered fd is ENOENT");
	T_OK(evloop_add(loop, p[1], EV_WRITE, on_fd_record, &rw) == 0, "add write end");
	T_OK(evloop_run(loop) == 0, "run returns 0 after stop");
	T_OK(rw.calls == 1 && rw.events == EV_WRITE, "empty pipe: write end writable only");
	T_OK(rr.calls == 0, "empty pipe: read end not readable");
	T_OK(evloop_mod(loop, p[1], 0) == 0, "mod write end to idle");
	T_OK(write(p[1], "x", 1) == 1, "write a byte");
	T_OK(evloop_run(loop) == 0 && rr.calls == 1 && rr.events == EV_READ,
	     "read end reported readable with EV_READ");
	T_OK(rw.calls == 1, "idle write end not dispatched");
	evloop_del(loop, p[1]);
	ut_close(&p[1]);
	rr.calls = 0;
	rr.events = 0;
	T_OK(evloop_run(loop) == 0 && (rr.events & (EV_READ | EV_ERROR)) == (EV_READ | EV_ERROR),
	     "writer closed: HUP reported as EV_READ|EV_ERROR to the reader");
	T_OK(!(rr.events & EV_WRITE), "error events masked to what the fd registered for");
	T_OK(evloop_del(loop, p[0]) == 0, "del read end");
	T_OK(evloop_del(loop, p[0]) == -1 && errno == ENOENT, "second del is ENOENT");
	ut_close(&p[0]);
	evloop_free(loop);
}

static void
test_delete_self_and_other(void)
{
	struct evloop *loop = evloop_new();
	int a[2], b[2];
	struct rec ra = { 0 }, rb = { 0 };

	T_OK(pipe2(a, O_CLOEXEC) == 0 && pipe2(b, O_CLOEXEC) == 0, "two pipes");
	/* Both readable before run: both events arrive in the same epoll_wait batch. */
	T_OK(write(a[1], "x", 1) == 1 && write(b[1], "x", 1) == 1, "both readable");
	ra.other_fd = b[0];
	rb.other_fd = a[0];
	evloop_add(loop, a[0], EV_READ, on_fd_delete_other, &ra);
	evloop_add(loop, b[0], EV_READ, on_fd_delete_other, &rb);
	T_OK(evloop_run(loop) == 0, "run");
	T_OK(ra.calls + rb.calls == 1,
	     "fd deleted by an earlier callback in the batch is not dispatched (%d+%d)", ra.calls,
	     rb.calls);
	/* The surviving registration: delete it inside its own callback, then close. */
	ra.calls = rb.calls = 0;
	evloop_del(loop, a[0]);	/* whichever survived; ENOENT for the other is fine */
	evloop_del(loop, b[0]);
	T_OK(evloop_add(loop, a[0], EV_READ, on_fd_delete_self, &ra) == 0,
	     "re-add after delete");
	T_OK(evloop_run(loop) == 0 && ra.calls == 1, "self-deleting callback ran once");
	T_OK(evloop_mod(loop, a[0], EV_READ) == -1 && errno == ENOENT,
	     "fd deleted in its own callback is gone");
	ut_close(&a[0]);
	ut_close(&a[1]);
	ut_close(&b[0]);
	ut_close(&b[1]);
	evloop_free(loop);
}

struct reuse {
	int victim;	/* fd to delete, close and reuse */
	int newfds[2];
	struct rec *newrec;
	int calls;
};

/* Deletes and closes the victim, then puts a fresh, empty pipe under the same number. */
static void
on_fd_reuse(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct reuse *u = data;
	char c;

	(void)events;
	(void)!read(fd, &c, 1);
	u->calls++;
	evloop_del(loop, u->victim);
	T_OK(pipe2(u->newfds, O_CLOEXEC) == 0, "new pipe");
	T_OK(dup3(u->newfds[0], u->victim, O_CLOEXEC) == u->victim,
	     "new pipe's read end takes the victim's number");
	ut_close(&u->newfds[0]);
	evloop_add(loop, u->victim, EV_READ, on_fd_record, u->newrec);
	evloop_stop(loop);
}

static void
test_stale_event_after_reuse(void)
{
	struct evloop *loop = evloop_new();
	int a[2], b[2];
	struct rec rb = { 0 }, rnew = { 0 };
	struct reuse u = { .newrec = &rnew, .newfds = { -1, -1 } };

	T_OK(pipe2(a, O_CLOEXEC) == 0 && pipe2(b, O_CLOEXEC) == 0, "pipes");
	u.victim = b[0];
	evloop_add(loop, a[0], EV_READ, on_fd_reuse, &u);
	evloop_add(loop, b[0], EV_READ, on_fd_record, &rb);
	/* epoll's ready list is FIFO: a becomes ready first, so its callback runs first. */
	T_OK(write(a[1], "x", 1) == 1 && write(b[1], "x", 1) == 1, "both readable");
	T_OK(evloop_run(loop) == 0, "run");
	if (rb.calls != 0) {
		t_skip("b's event was dispatched before a's; staleness not exercised");
	} else {
		T_OK(u.calls == 1, "reusing callback ran");
		T_OK(rnew.calls == 0,
		     "event fetched for the old fd is not sent to the new owner of the number");
	}
	evloop_del(loop, a[0]);
	evloop_del(loop, b[0]);
	ut_close(&a[0]);
	ut_close(&a[1]);
	ut_close(&b[0]);
	ut_close(&b[1]);
	ut_close(&u.newfds[1]);
	evloop_free(loop);
}

struct tstate {
	int calls;
	int limit;
	long long other;	/* timer to delete, 0 for none */
	int *shared;
};

static long
on_timer_count(struct evloop *loop, long long id, void *data)
{
	struct tstate *s = data;

	(void)id;
	if (++s->calls >= s->limit) {
		evloop_stop(loop);
		return EV_TIMER_STOP;
	}
	return 0;
}

static long
on_timer_delete_self(struct evloop *loop, long long id, void *data)
{
	struct tstate *s = data;

	s->calls++;
	evloop_timer_del(loop, id);
	return 0;	/* ignored: the timer deleted itself */
}

static long
on_timer_delete_other(struct evloop *loop, long long id, void *data)
{
	struct tstate *s = data;

	(void)id;
	s->calls++;
	(*s->shared)++;
	evloop_timer_del(loop, s->other);
	return EV_TIMER_STOP;
}

static void
test_timers(void)
{
	struct evloop *loop = evloop_new();
	struct tstate rep = { .limit = 3 }, self = { 0 }, x = { 0 }, y = { 0 };
	int shared = 0;
	long long idx, idy;

	T_OK(evloop_timer_add(loop, -1, on_timer_count, &rep) == -1 && errno == EINVAL,
	     "negative interval refused");
	T_OK(evloop_timer_add(loop, 0, on_timer_count, &rep) > 0, "repeating timer added");
	T_OK(evloop_run(loop) == 0, "run until the repeating timer stops the loop");
	T_OK(rep.calls == 3,
	     "timer returning 0 re-arms until EV_TIMER_STOP (%d calls)", rep.calls);

	T_OK(evloop_timer_add(loop, 0, on_timer_delete_self, &self) > 0, "self-deleting timer");
	idx = evloop_timer_add(loop, 0, on_timer_delete_other, &x);
	idy = evloop_timer_add(loop, 0, on_timer_delete_other, &y);
	x.other = idy;
	y.other = idx;
	x.shared = y.shared = &shared;
	/* Fires after the 0 ms ones have had two passes. */
	evloop_timer_add(loop, 30, loopfx_stop_cb, NULL);
	T_OK(evloop_run(loop) == 0, "run until the stop timer");
	T_OK(self.calls == 1, "timer deleted inside its own callback does not fire again (%d)",
	     self.calls);
	T_OK(shared == 1, "of two due timers deleting each other exactly one ran (%d)", shared);
	evloop_timer_del(loop, 424242);	/* unknown id: no-op */
	evloop_free(loop);
}

static void
on_fd_never(struct evloop *loop, int fd, uint32_t events, void *data)
{
	(void)loop;
	(void)fd;
	(void)events;
	*(int *)data += 1;
}

static void
test_bad_args(void)
{
	struct evloop *loop = evloop_new();
	int calls = 0;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	T_OK(evloop_add(loop, -1, EV_READ, on_fd_never, &calls) == -1 && errno == EBADF,
	     "negative fd refused with EBADF");
	T_OK(evloop_add(loop, 0, 8, on_fd_never, &calls) == -1 && errno == EINVAL,
	     "unknown event bits refused with EINVAL");
	T_OK(evloop_add(loop, 0, EV_READ, NULL, NULL) == -1 && errno == EINVAL,
	     "NULL callback refused");
	T_OK(evloop_add(loop, fd, EV_READ, on_fd_never, &calls) == -1 && errno == EPERM,
	     "regular file refused with epoll's EPERM");
	T_OK(evloop_mod(loop, fd, EV_READ) == -1 && errno == ENOENT,
	     "failed add leaves nothing registered");
	close(fd);
	evloop_free(loop);
	evloop_free(NULL);
}

static int g_hup_calls;

static void
hup_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	(void)loop;
	(void)fd;
	(void)events;
	(void)data;
	g_hup_calls++;
}

/* A socket whose peer is gone, registered with no interest, must not wake the loop
 * (epoll would report EPOLLHUP on every wait: a busy loop in the proxy). */
static void
test_parked_fd_after_hangup(void)
{
	struct evloop *loop = evloop_new();
	int sv[2];

	if (loop == NULL || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		T_OK(0, "parked: set-up");
		return;
	}
	close(sv[1]);
	g_hup_calls = 0;
	T_OK(evloop_add(loop, sv[0], EV_READ, hup_cb, NULL) == 0 &&
	     evloop_mod(loop, sv[0], 0) == 0, "parked: fd registered, then no interest");
	evloop_timer_add(loop, 20, loopfx_stop_cb, NULL);
	evloop_run(loop);
	T_OK(g_hup_calls == 0, "parked: a hung-up fd with no interest gets no callback (%d)",
	     g_hup_calls);
	T_OK(evloop_mod(loop, sv[0], EV_READ) == 0, "parked: interest restored");
	evloop_timer_add(loop, 20, loopfx_stop_cb, NULL);
	evloop_run(loop);
	T_OK(g_hup_calls > 0, "parked: with interest again, the hang-up is reported");
	T_OK(evloop_del(loop, sv[0]) == 0, "parked: deleted");
	close(sv[0]);
	evloop_free(loop);
}

int
main(void)
{
	test_parked_fd_after_hangup();
	test_pipe_read_write();
	test_delete_self_and_other();
	test_stale_event_after_reuse();
	test_timers();
	test_bad_args();
	return t_done();
}
