/* sandbox/init_exec: init's side of `agentcage exec` (contract in init_int.h). */
#include "sandbox/init_int.h"

#include <fcntl.h>
#include <signal.h>

#include "util/util.h"

void
init_exec_setup(struct init_exec *ie, const struct spawn_plan *plan,
		const struct ll_ruleset *rs, int chan)
{
	memset(ie, 0, sizeof(*ie));
	ie->plan = plan;
	ie->rs = rs;
	ie->chan = chan;
}

/* Replies to the supervisor. A supervisor that is gone (EPIPE) is not init's problem:
 * PDEATHSIG ends init right after. */
static void
init_exec_reply(struct init_exec *ie, enum execmsg_type type, int64_t id, int32_t value)
{
	const struct execmsg m = { .type = type, .id = id, .value = value };

	if (ie->chan >= 0)
		execmsg_send(ie->chan, &m, NULL, 0, NULL, 0);
}

/* The stdio fds at 3 or above, so spawn_exec_command() can dup2 them onto 0..2 in any
 * order (init's own 0..2 may be closed, and then a received fd takes their number). */
static int
init_exec_lift_fds(int fds[EXECMSG_NFDS])
{
	for (size_t i = 0; i < EXECMSG_NFDS; i++) {
		int nfd;

		if (fds[i] > 2)
			continue;
		if ((nfd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) == -1)
			return -1;
		close(fds[i]);
		fds[i] = nfd;
	}
	return 0;
}

/* EXECMSG_START: a process with the command's confinement and the client's stdio. */
static void
init_exec_start(struct init_exec *ie, const struct execmsg *m, char *payload, int fds[3])
{
	struct spawn_plan p = *ie->plan;
	char **argv = NULL;
	pid_t pid = -1;
	int err = EAGAIN;

	if (ie->nprocs == EXEC_PROCS_MAX)
		goto reply; /* the supervisor counts too; this is the second check */
	argv = ut_xcalloc((size_t)m->argc + 1, sizeof(*argv));
	execmsg_argv_unpack(payload, m->argc, argv);
	if (init_exec_lift_fds(fds) == -1) {
		err = errno;
		goto reply;
	}
	p.argv = argv;
	p.stdio = fds;
	p.tty = (m->flags & EXECMSG_TTY) != 0;
	p.pty_slave = -1;
	if ((pid = init_spawn(&p, ie->rs)) == -1) {
		err = errno;
		goto reply;
	}
	ie->procs[ie->nprocs].id = m->id;
	ie->procs[ie->nprocs].pid = pid;
	ie->nprocs++;
reply:
	for (size_t i = 0; i < EXECMSG_NFDS; i++)
		close(fds[i]); /* the process holds them; a terminal's last close is its hang-up */
	free(argv);
	argv = NULL;
	init_exec_reply(ie, EXECMSG_STARTED, m->id, pid > 0 ? pid : -err);
}

/* EXECMSG_SIGNAL: to the process's group (it leads one), else to the process. An id
 * that already exited is ignored: its EXIT is on its way. */
static void
init_exec_signal(const struct init_exec *ie, const struct execmsg *m)
{
	for (size_t i = 0; i < ie->nprocs; i++) {
		if (ie->procs[i].id != m->id)
			continue;
		init_signal_group(ie->procs[i].pid, m->value);
		return;
	}
}

void
init_exec_serve(struct init_exec *ie)
{
	struct execmsg m;
	char *payload = ut_xmalloc(EXECMSG_ARGV_MAX + 1);
	int fds[EXECMSG_NFDS];
	size_t len, nfds;
	int rc = execmsg_recv(ie->chan, &m, payload, EXECMSG_ARGV_MAX + 1, &len, fds, &nfds);

	if (rc == -1 && (errno == EAGAIN || errno == EINTR))
		goto free_payload;
	if (rc == 1 && execmsg_check(&m, payload, len, nfds, true) == 0) {
		if (m.type == EXECMSG_START)
			init_exec_start(ie, &m, payload, fds);
		else
			init_exec_signal(ie, &m);
		goto free_payload;
	}
	/* End of file, or a message the supervisor would never send: stop listening. */
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	if (rc != 0)
		dprintf(STDERR_FILENO, "agentcage: init: malformed exec request; exec disabled\n");
	ut_close(&ie->chan);
free_payload:
	free(payload);
	payload = NULL;
}

bool
init_exec_reaped(struct init_exec *ie, pid_t pid, int status)
{
	for (size_t i = 0; i < ie->nprocs; i++) {
		if (ie->procs[i].pid != pid)
			continue;
		init_exec_reply(ie, EXECMSG_EXIT, ie->procs[i].id, status);
		ie->procs[i] = ie->procs[--ie->nprocs];
		return true;
	}
	return false;
}

void
init_exec_signal_all(const struct init_exec *ie, int sig)
{
	for (size_t i = 0; i < ie->nprocs; i++)
		init_signal_group(ie->procs[i].pid, sig);
}
