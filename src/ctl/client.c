/* ctl/client: connecting to a sandbox and asking it things (client.h). */
#include "ctl/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ctl/state.h"
#include "util/util.h"

static void
no_such_sandbox(struct sbuf *err, const char *name)
{
	sbuf_printf(err, "no running sandbox named %s; hint: agentcage ps lists them", name);
	errno = ENOENT;
}

/* Explains a failed look-up or connect on <what>; EACCES and EPERM mean "not root". */
static void
connect_failed(struct sbuf *err, const char *what, const char *name)
{
	int e = errno;

	if (e == ENOENT || e == ECONNREFUSED) {
		no_such_sandbox(err, name);
		return;
	}
	if (e == EACCES || e == EPERM)
		sbuf_printf(err, "%s: permission denied; hint: run as root (sudo agentcage ...)",
		            what);
	else
		sbuf_printf(err, "%s: %s", what, strerror(e));
	errno = e;
}

int
ctl_connect(const char *run_dir, const char *name, struct sbuf *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	pid_t pid;
	int fd, live;

	if (run_dir == NULL)
		run_dir = CTL_RUN_DIR;
	if (ctl_name_check(name) == -1) {
		sbuf_printf(err, "'%s' is not a sandbox name (letters, digits, '.', '_', '-'); "
		                 "hint: agentcage ps lists them", name);
		return -1;
	}
	live = ctl_probe(run_dir, name, &pid);
	if (live != 1) {
		if (live == 0)
			errno = ENOENT;
		connect_failed(err, run_dir, name);
		return -1;
	}
	if (ctl_path(sa.sun_path, sizeof(sa.sun_path), run_dir, name, ".sock") == -1) {
		sbuf_printf(err, "%s/%s.sock: path too long", run_dir, name);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		sbuf_printf(err, "socket: %s", strerror(errno));
		return -1;
	}
	if (TEMP_FAILURE_RETRY_INT(connect(fd, (struct sockaddr *)&sa, sizeof(sa))) == -1) {
		connect_failed(err, sa.sun_path, name);
		ut_close(&fd);
		return -1;
	}
	if (ctl_sock_bufs(fd) == -1)
		log_debug("%s: raising the send buffer: %s", __func__, strerror(errno));
	return fd;
}

int
ctl_open(const char *run_dir, const char *name, const char *cmd)
{
	struct sbuf err = {0};
	int fd = ctl_connect(run_dir, name, &err);

	if (fd == -1) {
		int saved = errno;
		fprintf(stderr, "agentcage: %s: %s\n", cmd, sbuf_str(&err));
		errno = saved;
	}
	sbuf_free(&err);
	return fd;
}

int
ctl_wait_msg(int fd, struct ctl_msg *m, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	long long deadline = ut_now_ms() + timeout_ms;

	for (;;) {
		int left = timeout_ms < 0 ? -1 : (int)(deadline - ut_now_ms());
		if (timeout_ms >= 0 && left < 0)
			left = 0;
		int r = poll(&p, 1, left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = ctl_recv(fd, m);
		if (r == -1 && errno == ECONNRESET)
			return 0;
		return r;
	}
}

int
ctl_call(int fd, uint32_t type, const void *payload, size_t len, char **reply,
	 struct sbuf *err)
{
	struct ctl_msg m = {0};
	int r;

	*reply = NULL;
	if (ctl_send(fd, type, payload, len, NULL, 0) == -1) {
		sbuf_printf(err, "sending %s: %s%s", ctl_type_str(type), strerror(errno),
		            errno == EMSGSIZE ? "; hint: the request is too large" : "");
		return -1;
	}
	r = ctl_wait_msg(fd, &m, CTL_CALL_TIMEOUT_MS);
	if (r <= 0) {
		if (r == 0)
			sbuf_puts(err, "the sandbox closed the control connection without an answer");
		else
			sbuf_printf(err, "waiting for the answer to %s: %s", ctl_type_str(type),
			            strerror(errno));
		return -1;
	}
	if (m.type == CTL_OK) {
		*reply = steal_ptr(&m.data);
		ctl_msg_free(&m);
		return 0;
	}
	if (m.type == CTL_ERROR)
		sbuf_add(err, m.data, strnlen(m.data, m.len));
	else
		sbuf_printf(err, "unexpected answer %s to %s", ctl_type_str(m.type),
		            ctl_type_str(type));
	ctl_msg_free(&m);
	return -1;
}

int
ctl_wait_hangup(int fd, int timeout_ms)
{
	for (;;) {
		struct ctl_msg m = {0};
		int r = ctl_wait_msg(fd, &m, timeout_ms);

		ctl_msg_free(&m);
		if (r == 0)
			return 0;
		if (r == -1 && errno == ETIMEDOUT)
			return -1;
		if (r == -1 && errno != EPROTO)
			return 0; /* any other socket error: the peer is gone too */
	}
}

int
ctl_exec_payload(struct sbuf *b, uint32_t flags, char *const argv[])
{
	uint32_t argc = 0;

	while (argv[argc] != NULL)
		if (++argc > CTL_ARGV_MAX)
			break;
	if (argc == 0 || argc > CTL_ARGV_MAX) {
		errno = E2BIG;
		return -1;
	}
	sbuf_add(b, (const char *)&flags, sizeof(flags));
	sbuf_add(b, (const char *)&argc, sizeof(argc));
	for (uint32_t i = 0; i < argc; i++)
		sbuf_add(b, argv[i], strlen(argv[i]) + 1);
	if (b->len > CTL_PAYLOAD_MAX) {
		errno = E2BIG;
		return -1;
	}
	return 0;
}
