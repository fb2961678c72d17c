/*
 * cmd_exec: `agentcage exec [--run-dir DIR] NAME [--] CMD ARGS...` — a new process in a
 * running sandbox, confined like its first one (docs/control.md).
 *
 * With a terminal on stdin and stdout, a PTY is opened here (sandbox/pty.h), its slave is
 * passed as the process's stdin, stdout and stderr, the user's terminal goes raw and bytes
 * are relayed terminal <-> master; keys like Ctrl-C reach the process through the PTY and
 * window size changes follow SIGWINCH. Without a terminal, fds 0, 1, 2 are passed as they
 * are, and SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to this command are forwarded to the
 * process (SIGNAL requests). Signals arrive through a signalfd, so one poll() loop waits on
 * everything.
 *
 * Exit status: the process's (its code, or 128+N when signal N killed it); 1 when it could
 * not be started or the sandbox went away; 2 usage.
 *
 * Context: CLI.
 */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "cli/cli.h"
#include "ctl/client.h"
#include "sandbox/pty.h"
#include "util/sbuf.h"
#include "util/util.h"

#define EXEC_RELAY_BUF  16384 /* bytes moved per read between terminal and PTY */
#define EXEC_DRAIN_MS   200   /* after the exit: wait this long for the last PTY output */
#define EXEC_STATUS_ERR 1

struct exec_session {
	int sock;       /* control connection */
	int sigfd;      /* signalfd of the forwarded signals and SIGWINCH */
	struct pty pty; /* {-1, -1} without a terminal */
	bool tty;
	bool started;    /* EXEC_STARTED seen */
	bool stdin_open; /* still relaying the terminal to the master */
	int pending_sig; /* a signal that came before EXEC_STARTED */
	int status;      /* exit status to return; -1 while running */
};

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

/* Writes all of <buf> to non-blocking <fd>, waiting for room with poll(). */
static int
write_all_nb(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w == -1 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			if (poll(&p, 1, -1) == -1 && errno != EINTR)
				return -1;
			continue;
		}
		if (w == -1)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Moves one read's worth from <from> to <to>. 0 moved, 1 end (EOF or EIO: the slave side
 * is gone), -1 error. */
static int
relay_once(int from, int to, bool to_nonblocking)
{
	char buf[EXEC_RELAY_BUF];
	ssize_t r = read(from, buf, sizeof(buf));

	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r == 0 || (r == -1 && errno == EIO))
		return 1;
	if (r == -1)
		return -1;
	if (to_nonblocking)
		return write_all_nb(to, buf, (size_t)r);
	return ut_write_all(to, buf, (size_t)r);
}

static int
status_code(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return EXEC_STATUS_ERR;
}

static void
send_signal(struct exec_session *s, int sig)
{
	int32_t v = sig;

	if (!s->started) {
		s->pending_sig = sig;
		return;
	}
	if (ctl_send(s->sock, CTL_SIGNAL, &v, sizeof(v), NULL, 0) == -1)
		log_debug("%s: %s", __func__, strerror(errno));
}

static void
on_signal(struct exec_session *s)
{
	struct signalfd_siginfo si;

	if (read(s->sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return;
	if ((int)si.ssi_signo == SIGWINCH) {
		if (s->tty)
			pty_copy_winsize(&s->pty, STDIN_FILENO);
		return;
	}
	send_signal(s, (int)si.ssi_signo);
}

/* Handles one message from the sandbox; sets s->status when the session is over. */
static void
on_message(struct exec_session *s)
{
	struct ctl_msg m = {0};
	int32_t v = 0;
	int r = ctl_recv(s->sock, &m);

	if (r == -1 && errno == EAGAIN)
		return;
	if (r <= 0) {
		fprintf(stderr,
		        "agentcage: exec: the sandbox closed the connection before the "
		        "command's exit was known\nhint: agentcage ps shows whether it runs\n");
		s->status = EXEC_STATUS_ERR;
		goto free_msg;
	}
	if ((m.type == CTL_EXEC_STARTED || m.type == CTL_EXEC_EXIT) && m.len == sizeof(v))
		memcpy(&v, m.data, sizeof(v));
	if (m.type == CTL_EXEC_STARTED && m.len == sizeof(v) && !s->started) {
		s->started = true;
		if (s->pending_sig != 0)
			send_signal(s, s->pending_sig);
	} else if (m.type == CTL_EXEC_EXIT && m.len == sizeof(v)) {
		s->status = status_code(v);
	} else if (m.type == CTL_ERROR) {
		fprintf(stderr, "agentcage: exec: %.*s\n", (int)m.len, m.data);
		s->status = EXEC_STATUS_ERR;
	} else {
		fprintf(stderr, "agentcage: exec: unexpected %s message from the sandbox\n",
		        ctl_type_str(m.type));
		s->status = EXEC_STATUS_ERR;
	}
free_msg:
	ctl_msg_free(&m);
}

/* The poll() loop: runs until the process's exit (or an error) sets s->status. */
static void
session_loop(struct exec_session *s)
{
	while (s->status == -1) {
		struct pollfd p[4] = {
		        {.fd = s->sock, .events = POLLIN},
		        {.fd = s->sigfd, .events = POLLIN},
		        {.fd = s->stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
		        {.fd = s->pty.master, .events = POLLIN},
		};
		if (poll(p, NELEM(p), -1) == -1) {
			if (errno == EINTR)
				continue;
			s->status = EXEC_STATUS_ERR;
			return;
		}
		if (p[1].revents)
			on_signal(s);
		if (p[2].revents && relay_once(STDIN_FILENO, s->pty.master, true) != 0)
			s->stdin_open = false;
		if (p[3].revents && relay_once(s->pty.master, STDOUT_FILENO, false) != 0)
			pty_close(&s->pty); /* the process and all its children closed the slave */
		if (p[0].revents)
			on_message(s);
	}
}

/* After the exit: the last output may still sit in the master; copy it until the slave is
 * closed everywhere (EIO) or EXEC_DRAIN_MS passes without any. */
static void
drain_master(struct exec_session *s)
{
	struct pollfd p = {.fd = s->pty.master, .events = POLLIN};

	while (s->pty.master != -1 && poll(&p, 1, EXEC_DRAIN_MS) > 0)
		if (relay_once(s->pty.master, STDOUT_FILENO, false) != 0)
			break;
}

/* Opens the PTY (with a terminal), sends EXEC with the three fds. 0, or -1 after saying why. */
static int
session_start(struct exec_session *s, char *const cmd[])
{
	struct sbuf pl = {0};
	int fds[3] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
	int rc = -1;

	if (s->tty) {
		if (pty_open(&s->pty, STDIN_FILENO) == -1) {
			fprintf(stderr,
			        "agentcage: exec: opening a pseudo-terminal: %s\n"
			        "hint: redirect stdin to run without a terminal\n",
			        strerror(errno));
			goto free_payload;
		}
		fds[0] = fds[1] = fds[2] = s->pty.slave;
	}
	if (ctl_exec_payload(&pl, s->tty ? CTL_EXEC_TTY : 0, cmd) == -1) {
		fprintf(stderr,
		        "agentcage: exec: the command line is too long (at most %d "
		        "arguments, %d bytes)\n",
		        CTL_ARGV_MAX, CTL_PAYLOAD_MAX);
		goto free_payload;
	}
	if (ctl_send(s->sock, CTL_EXEC, pl.s, pl.len, fds, 3) == -1) {
		fprintf(stderr, "agentcage: exec: sending the request: %s\n", strerror(errno));
		goto free_payload;
	}
	ut_close(&s->pty.slave); /* the sandbox has its own copy now */
	if (s->tty && pty_raw_enter(STDIN_FILENO) == -1)
		log_warn("exec: raw mode on the terminal");
	rc = 0;
free_payload:
	sbuf_free(&pl);
	return rc;
}

static int
signals_to_fd(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < NELEM(forwarded); i++)
		sigaddset(&set, forwarded[i]);
	sigaddset(&set, SIGWINCH);
	if (sigprocmask(SIG_BLOCK, &set, old) == -1)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int
exec_usage(const char *what)
{
	fprintf(stderr, "agentcage: exec: %s\nhint: agentcage exec NAME [--] CMD ARGS...\n", what);
	return 2;
}

int
cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"run-dir", required_argument, NULL, 'r'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct exec_session s = {.sock = -1, .sigfd = -1, .pty = {-1, -1}, .status = -1};
	const char *run_dir = CTL_RUN_DIR;
	sigset_t old;
	int c, first;

	optind = 0; /* 0: glibc re-initialises getopt fully (tests run several commands) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (c == 'r')
			run_dir = optarg;
		else if (c == 'h')
			return cli_help("exec");
		else
			return exec_usage("unknown option or missing value");
	}
	if (optind >= argc)
		return exec_usage("which sandbox? (agentcage ps lists them)");
	first = optind + 1;
	if (first < argc && strcmp(argv[first], "--") == 0)
		first++;
	if (first >= argc)
		return exec_usage("which command?");
	s.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	s.stdin_open = s.tty;
	s.sock = ctl_open(run_dir, argv[optind], "exec");
	if (s.sock == -1)
		return EXEC_STATUS_ERR;
	sigprocmask(SIG_SETMASK, NULL, &old); /* restored at the end whatever happens */
	s.sigfd = signals_to_fd(&old);
	if (s.sigfd == -1) {
		fprintf(stderr, "agentcage: exec: signalfd: %s\n", strerror(errno));
		s.status = EXEC_STATUS_ERR;
	} else if (session_start(&s, argv + first) == -1) {
		s.status = EXEC_STATUS_ERR;
	}
	session_loop(&s);
	drain_master(&s);
	pty_raw_restore();
	pty_close(&s.pty);
	ut_close(&s.sigfd);
	ut_close(&s.sock);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return s.status;
}
