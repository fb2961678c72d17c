/* sandbox/supervise_exec: the supervisor's end of `agentcage exec` (contract in
 * supervise.h; state in supervise_int.h, protocol in execmsg.h). */
#include "sandbox/supervise_int.h"

#include <sys/wait.h>

#include "sandbox/spawn.h"
#include "util/evloop.h"
#include "util/util.h"

static struct sv_exec *
sv_exec_find(struct supervise *sv, long id)
{
	for (size_t i = 0; i < sv->nexecs; i++)
		if (sv->execs[i].id == id)
			return &sv->execs[i];
	return NULL;
}

/* Removes <e> and calls its <done> with <status> (unless forgotten). The entry is gone
 * before the callback runs, so the callback may call any supervise_exec* function. */
static void
sv_exec_complete(struct supervise *sv, struct sv_exec *e, int status)
{
	const struct sv_exec x = *e;

	*e = sv->execs[--sv->nexecs];
	if (!x.forgotten && x.done != NULL)
		x.done(x.arg, x.id, status);
}

/* One message from init, checked. */
static void
sv_exec_handle(struct supervise *sv, const struct execmsg *m)
{
	struct sv_exec *e = sv_exec_find(sv, (long)m->id);

	if (e == NULL) { /* every id init names is one we sent and still track */
		sv_abort(sv, "exec report from sandbox init names an unknown process");
		return;
	}
	if (m->type == EXECMSG_STARTED && m->value <= 0) {
		/* init could not even fork it (errno -value): a setup failure, as 125 says */
		sv_exec_complete(sv, e, W_EXITCODE(SPAWN_EXIT_SETUP, 0));
	} else if (m->type == EXECMSG_STARTED) {
		if (e->pid != 0) {
			sv_abort(sv, "sandbox init reported an exec'd process started twice");
			return;
		}
		e->pid = (pid_t)m->value;
		if (!e->forgotten && e->started != NULL)
			e->started(e->arg, e->id, e->pid);
	} else {
		sv_exec_complete(sv, e, m->value);
	}
}

/* Reads every message waiting; false at end of file or on a breach (the channel is then
 * unregistered by the caller). */
static bool
sv_exec_read(struct supervise *sv)
{
	while (!sv->failed) {
		struct execmsg m;
		char none[1];
		int fds[EXECMSG_NFDS];
		size_t len, nfds;
		int rc = execmsg_recv(sv->cfg->exec_fd, &m, none, sizeof(none), &len, fds, &nfds);

		if (rc == -1 && errno == EAGAIN)
			return true;
		if (rc == 0)
			return false;
		if (rc == -1 || execmsg_check(&m, none, len, nfds, false) == -1) {
			for (size_t i = 0; i < nfds; i++)
				close(fds[i]);
			sv_abort(sv, "malformed exec report from sandbox init");
			return false;
		}
		sv_exec_handle(sv, &m);
	}
	return false;
}

static void
sv_exec_chan_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct supervise *sv = data;

	(void)events;
	if (!sv_exec_read(sv) && sv->chan_open) {
		evloop_del(loop, fd);
		sv->chan_open = false;
	}
}

int
sv_exec_register(struct supervise *sv)
{
	if (!sv->cfg->exec_channel)
		return 0;
	if (evloop_add(sv->loop, sv->cfg->exec_fd, EV_READ, sv_exec_chan_cb, sv) == -1)
		return -1;
	sv->chan_open = true;
	return 0;
}

void
sv_exec_unregister(struct supervise *sv)
{
	if (sv->chan_open)
		evloop_del(sv->loop, sv->cfg->exec_fd);
	sv->chan_open = false;
}

void
sv_exec_finish(struct supervise *sv)
{
	if (sv->chan_open)
		sv_exec_read(sv); /* the exits init reported before it went */
	while (sv->nexecs > 0)
		sv_exec_complete(sv, &sv->execs[sv->nexecs - 1], SUPERVISE_EXEC_KILLED);
}

/* 0 when new execs are possible now; -1 with ENOTCONN otherwise. */
static int
sv_exec_accepting(const struct supervise *sv)
{
	if (!sv->cfg->exec_channel || !sv->chan_open || !sv->res->ready || sv->init_gone ||
	    sv->stopping || sv->failed) {
		errno = ENOTCONN;
		return -1;
	}
	return 0;
}

long
supervise_exec(struct supervise *s, char *const argv[], const int fds[3], bool tty,
	       supervise_exec_started_cb started, supervise_exec_done_cb done, void *arg)
{
	struct sbuf args = { 0 };
	struct execmsg m = { .type = EXECMSG_START, .flags = tty ? EXECMSG_TTY : 0 };
	long rc = -1;

	if (sv_exec_accepting(s) == -1)
		return -1;
	if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0) {
		errno = EINVAL;
		return -1;
	}
	if (s->nexecs == EXEC_PROCS_MAX) {
		errno = EAGAIN;
		return -1;
	}
	if (execmsg_argv_pack(argv, &args, &m.argc) == -1)
		goto free_args;
	m.id = s->next_exec_id + 1;
	if (execmsg_send(s->cfg->exec_fd, &m, args.s, args.len, fds, EXECMSG_NFDS) == -1)
		goto free_args;
	s->next_exec_id++;
	s->execs[s->nexecs++] = (struct sv_exec){
		.id = (long)m.id, .started = started, .done = done, .arg = arg,
	};
	for (int i = 0; i < 3; i++) /* init has its copies now; the same fd may come twice */
		if ((i < 1 || fds[i] != fds[0]) && (i < 2 || fds[i] != fds[1]))
			close(fds[i]);
	rc = (long)m.id;
free_args:
	sbuf_free(&args);
	return rc;
}

int
supervise_exec_signal(struct supervise *s, long id, int sig)
{
	const struct execmsg m = { .type = EXECMSG_SIGNAL, .id = id, .value = sig };

	if (sig <= 0 || sig >= NSIG) {
		errno = EINVAL;
		return -1;
	}
	if (sv_exec_find(s, id) == NULL) {
		errno = ESRCH;
		return -1;
	}
	if (s->init_gone || !s->chan_open) {
		errno = ENOTCONN;
		return -1;
	}
	return execmsg_send(s->cfg->exec_fd, &m, NULL, 0, NULL, 0);
}

void
supervise_exec_forget(struct supervise *s, long id)
{
	struct sv_exec *e = sv_exec_find(s, id);

	if (e == NULL)
		return;
	e->forgotten = true; /* kept until init reports its exit: the id stays known */
	if (supervise_exec_signal(s, id, SIGHUP) == -1 && errno != ENOTCONN)
		log_warn("sending SIGHUP to exec'd process %ld", id);
}
