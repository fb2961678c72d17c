/* ctl/server: accepting, checking and dispatching control requests (server.h). */
#include "ctl/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "util/util.h"

#define CTL_BACKLOG          16
#define CTL_ACCEPT_RETRY_MS  1000 /* listener paused this long after EMFILE/ENFILE */

enum cc_state {
	CC_REQUEST = 0,   /* waiting for the request (timer running) */
	CC_EXEC_STARTING, /* exec handed to the coordinator; EXEC_STARTED not sent yet */
	CC_EXEC_RUNNING,  /* SIGNAL requests accepted */
	CC_STOPPING,      /* STOP answered; idle until the supervisor ends or the peer goes */
	CC_CLOSING,       /* [transient] last replies being written, then freed */
};

struct out_msg {
	uint32_t type;
	char *data;
	size_t len;
};

struct ctl_conn {
	struct ctl_server *srv;
	struct ctl_conn *next, *prev;
	int fd;
	enum cc_state state;
	long long timer;   /* request timeout; 0 when none */
	struct out_msg out[CTL_OUT_QUEUE];
	size_t nout;
	bool exec_owned;   /* exec returned 0: conn_closed is owed */
	bool busy;         /* inside on_conn(): freeing waits */
	bool dead;         /* closed while busy */
};

struct ctl_server {
	struct ctl_claim *claim;
	struct evloop *loop;
	struct ctl_ops ops;
	void *arg;
	int lfd;
	long long retry_timer;
	struct ctl_conn *conns;
	size_t nconns;
};

static const char *
cc_state_str(enum cc_state s)
{
	static const char *const names[] = {"request", "exec-starting", "exec-running",
	                                     "stopping", "closing"};
	return (size_t)s < NELEM(names) ? names[s] : "?";
}

static void
conn_set_state(struct ctl_conn *c, enum cc_state s)
{
	log_debug("%s: control connection %d: %s -> %s", __func__, c->fd,
	          cc_state_str(c->state), cc_state_str(s));
	c->state = s;
}

/* The one teardown: unregisters, closes, tells the coordinator about exec connections. */
static void
conn_close(struct ctl_conn *c, const char *reason)
{
	struct ctl_server *s = c->srv;

	if (c->fd == -1)
		return;
	log_debug("%s: control connection %d closed: %s", __func__, c->fd, reason);
	evloop_del(s->loop, c->fd);
	ut_close(&c->fd);
	if (c->timer != 0)
		evloop_timer_del(s->loop, c->timer);
	c->timer = 0;
	for (size_t i = 0; i < c->nout; i++) {
		free(c->out[i].data);
		c->out[i].data = NULL;
	}
	c->nout = 0;
	if (c->exec_owned && s->ops.conn_closed != NULL)
		s->ops.conn_closed(s->arg, c);
	c->exec_owned = false;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	s->nconns--;
	if (c->busy) {
		c->dead = true; /* on_conn() frees it after its dispatch */
		return;
	}
	free(c);
}

static void
conn_watch(struct ctl_conn *c)
{
	uint32_t ev = c->state == CC_CLOSING ? 0 : EV_READ;

	if (c->nout > 0)
		ev |= EV_WRITE;
	if (evloop_mod(c->srv->loop, c->fd, ev) == -1)
		conn_close(c, "evloop_mod failed");
}

/* Queues a reply; a full queue is a peer that does not read: it is dropped. */
static void
conn_queue(struct ctl_conn *c, uint32_t type, const void *data, size_t len)
{
	if (c->fd == -1)
		return;
	if (c->nout == CTL_OUT_QUEUE) {
		conn_close(c, "reply queue full");
		return;
	}
	c->out[c->nout].type = type;
	c->out[c->nout].data = ut_xmalloc(len + 1);
	memcpy(c->out[c->nout].data, data, len);
	c->out[c->nout].len = len;
	c->nout++;
	if (!c->busy)
		conn_watch(c);
}

static void
conn_fail(struct ctl_conn *c, const char *text)
{
	conn_set_state(c, CC_CLOSING); /* before queueing, which may free <c> */
	conn_queue(c, CTL_ERROR, text, strlen(text));
}

/* Writes queued replies until EAGAIN; closes when a CLOSING connection has written all. */
static void
conn_flush(struct ctl_conn *c)
{
	size_t done = 0;

	while (done < c->nout) {
		const struct out_msg *o = &c->out[done];
		if (ctl_send(c->fd, o->type, o->data, o->len, NULL, 0) == -1) {
			if (errno == EAGAIN)
				break;
			conn_close(c, "send failed");
			return;
		}
		free(c->out[done].data);
		c->out[done].data = NULL;
		done++;
	}
	memmove(c->out, c->out + done, (c->nout - done) * sizeof(c->out[0]));
	c->nout -= done;
	if (c->nout == 0 && c->state == CC_CLOSING)
		conn_close(c, "replied");
}

static void
reply_sbuf(struct ctl_conn *c, int rc, const struct sbuf *ok, const struct sbuf *err)
{
	if (rc == 0)
		conn_queue(c, CTL_OK, sbuf_str(ok), ok->len);
	else
		conn_fail(c, err->len > 0 ? sbuf_str(err)
		                          : "the request failed; hint: see the supervisor's log");
}

/* Reads the uint32 payload of a 4-byte message. */
static uint32_t
payload_u32(const struct ctl_msg *m)
{
	uint32_t v;

	memcpy(&v, m->data, sizeof(v));
	return v;
}

/*
 * Splits an EXEC payload into <argv> (pointers into m->data, which the receiver has
 * NUL-terminated one past len). -1 when flags, argc or the strings do not fill the payload
 * exactly.
 */
static int
parse_exec(const struct ctl_msg *m, uint32_t *flags, char **argv)
{
	uint32_t argc;
	size_t off = 2 * sizeof(uint32_t);

	if (m->len < off + 2 || m->nfds != CTL_EXEC_NFDS)
		return -1;
	memcpy(flags, m->data, sizeof(*flags));
	memcpy(&argc, m->data + sizeof(uint32_t), sizeof(argc));
	if ((*flags & ~CTL_EXEC_TTY) != 0 || argc == 0 || argc > CTL_ARGV_MAX)
		return -1;
	for (uint32_t i = 0; i < argc; i++) {
		const char *nul = off < m->len ? memchr(m->data + off, '\0', m->len - off) : NULL;
		if (nul == NULL)
			return -1;
		argv[i] = m->data + off;
		off = (size_t)(nul - m->data) + 1;
	}
	argv[argc] = NULL;
	return off == m->len ? 0 : -1;
}

static void
do_exec(struct ctl_conn *c, struct ctl_msg *m)
{
	struct ctl_server *s = c->srv;
	struct sbuf err = {0};
	char **argv = ut_xcalloc(CTL_ARGV_MAX + 1, sizeof(*argv));
	uint32_t flags;

	if (parse_exec(m, &flags, argv) == -1) {
		conn_close(c, "malformed EXEC");
		goto free_argv;
	}
	conn_set_state(c, CC_EXEC_STARTING);
	c->exec_owned = true;
	if (s->ops.exec(s->arg, c, argv, m->fds, (flags & CTL_EXEC_TTY) != 0, &err) == -1) {
		c->exec_owned = false;
		reply_sbuf(c, -1, NULL, &err); /* ctl_msg_free() closes the fds left */
	} else {
		m->nfds = 0; /* the handler owns them now */
	}
free_argv:
	free(argv);
	argv = NULL;
	sbuf_free(&err);
}

static void
do_simple(struct ctl_conn *c, const struct ctl_msg *m)
{
	struct ctl_server *s = c->srv;
	struct sbuf out = {0}, err = {0};
	int rc;

	switch (m->type) {
	case CTL_STATUS:
		rc = s->ops.status(s->arg, &out);
		reply_sbuf(c, rc, &out, &out);
		break;
	case CTL_POLICY_GET:
		rc = s->ops.policy_get(s->arg, &out, &err);
		reply_sbuf(c, rc, &out, &err);
		break;
	case CTL_POLICY_SET:
		rc = s->ops.policy_set(s->arg, m->data, m->len, &out);
		reply_sbuf(c, rc, &out, &out);
		break;
	default: /* CTL_STOP */
		rc = s->ops.stop(s->arg, payload_u32(m), &err);
		reply_sbuf(c, rc, &out, &err);
		break;
	}
	if (rc == 0)
		conn_set_state(c, m->type == CTL_STOP ? CC_STOPPING : CC_CLOSING);
	sbuf_free(&out);
	sbuf_free(&err);
}

/* Whether <m> has the exact length its type demands (EXEC is checked by parse_exec). */
static bool
request_well_formed(const struct ctl_msg *m)
{
	if (m->nfds > 0 && m->type != CTL_EXEC)
		return false;
	switch (m->type) {
	case CTL_STATUS:
	case CTL_POLICY_GET:
		return m->len == 0;
	case CTL_POLICY_SET:
		return m->len > 0 && m->len <= POLICY_MAX_BYTES && memchr(m->data, 0, m->len) == NULL;
	case CTL_STOP:
		return m->len == sizeof(uint32_t) && payload_u32(m) <= CTL_GRACE_MAX;
	case CTL_EXEC:
		return true;
	default:
		return false;
	}
}

static bool
op_present(const struct ctl_ops *ops, uint32_t type)
{
	switch (type) {
	case CTL_STATUS:
		return ops->status != NULL;
	case CTL_POLICY_GET:
		return ops->policy_get != NULL;
	case CTL_POLICY_SET:
		return ops->policy_set != NULL;
	case CTL_STOP:
		return ops->stop != NULL;
	default:
		return ops->exec != NULL && ops->signal != NULL;
	}
}

static void
on_request(struct ctl_conn *c, struct ctl_msg *m)
{
	if (!request_well_formed(m)) {
		log_warnx("control socket: dropped a malformed %s request (%u bytes)",
		          ctl_type_str(m->type), m->len);
		conn_close(c, "malformed request");
		return;
	}
	evloop_timer_del(c->srv->loop, c->timer);
	c->timer = 0;
	if (!op_present(&c->srv->ops, m->type))
		conn_fail(c, "this sandbox does not support that request; hint: agentcage --version "
		             "on both sides should match");
	else if (m->type == CTL_EXEC)
		do_exec(c, m);
	else
		do_simple(c, m);
}

static void
on_signal_request(struct ctl_conn *c, const struct ctl_msg *m)
{
	int32_t sig;

	if (m->type != CTL_SIGNAL || m->len != sizeof(sig) || m->nfds != 0 ||
	    c->state != CC_EXEC_RUNNING) {
		conn_close(c, "unexpected message on an exec connection");
		return;
	}
	memcpy(&sig, m->data, sizeof(sig));
	if (sig < 1 || sig > CTL_SIG_MAX) {
		conn_close(c, "bad signal number");
		return;
	}
	c->srv->ops.signal(c->srv->arg, c, sig);
}

static void
conn_read(struct ctl_conn *c)
{
	struct ctl_msg m = {0};
	int r = ctl_recv(c->fd, &m);

	if (r == -1 && errno == EAGAIN)
		return;
	if (r <= 0) {
		conn_close(c, r == 0 ? "peer closed" : "malformed message");
		return;
	}
	if (c->state == CC_REQUEST)
		on_request(c, &m);
	else if (c->state == CC_EXEC_STARTING || c->state == CC_EXEC_RUNNING)
		on_signal_request(c, &m);
	else
		conn_close(c, "message after the reply");
	ctl_msg_free(&m);
}

static void
on_conn(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct ctl_conn *c = data;

	(void)loop;
	(void)fd;
	c->busy = true;
	if ((events & EV_WRITE) && c->fd != -1)
		conn_flush(c);
	if ((events & EV_READ) && c->fd != -1 && c->state != CC_CLOSING)
		conn_read(c);
	if (c->fd != -1 && c->nout > 0 && (events & EV_WRITE) == 0)
		conn_flush(c); /* answer at once; EV_WRITE takes over on EAGAIN */
	c->busy = false;
	if (c->dead) {
		free(c);
		c = NULL;
		return;
	}
	conn_watch(c);
}

static long
on_request_timeout(struct evloop *loop, long long id, void *data)
{
	struct ctl_conn *c = data;

	(void)loop;
	(void)id;
	c->timer = 0;
	conn_close(c, "no request in time");
	return EV_TIMER_STOP;
}

/* Refuses a peer that is neither root nor us, with a reason it can print. */
static bool
peer_allowed(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1)
		return false;
	return cr.uid == 0 || cr.uid == geteuid();
}

static void
refuse(int fd, const char *text)
{
	if (ctl_send(fd, CTL_ERROR, text, strlen(text), NULL, 0) == -1)
		log_debug("%s: %s", __func__, strerror(errno));
}

static long
on_accept_retry(struct evloop *loop, long long id, void *data)
{
	struct ctl_server *s = data;

	(void)id;
	s->retry_timer = 0;
	if (evloop_mod(loop, s->lfd, EV_READ) == -1)
		log_warn("control socket: resuming accept");
	return EV_TIMER_STOP;
}

static void
accept_failed(struct ctl_server *s)
{
	if (errno != EMFILE && errno != ENFILE) {
		if (errno != EAGAIN && errno != ECONNABORTED)
			log_warn("control socket: accept");
		return;
	}
	log_warn("control socket: accept paused for %d ms", CTL_ACCEPT_RETRY_MS);
	if (evloop_mod(s->loop, s->lfd, 0) == 0)
		s->retry_timer = evloop_timer_add(s->loop, CTL_ACCEPT_RETRY_MS, on_accept_retry, s);
}

static void
conn_add(struct ctl_server *s, int fd)
{
	struct ctl_conn *c = ut_xcalloc(1, sizeof(*c));

	c->srv = s;
	c->fd = fd;
	c->state = CC_REQUEST;
	if (evloop_add(s->loop, fd, EV_READ, on_conn, c) == -1) {
		log_warn("control socket: registering a connection");
		ut_close(&c->fd);
		free(c);
		c = NULL;
		return;
	}
	c->timer = evloop_timer_add(s->loop, CTL_REQUEST_TIMEOUT_MS, on_request_timeout, c);
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
}

static void
on_listen(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct ctl_server *s = data;
	int cfd;

	(void)loop;
	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd == -1) {
		accept_failed(s);
		return;
	}
	if (!peer_allowed(cfd)) {
		refuse(cfd, "permission denied: the control socket serves root only; "
		            "hint: run as root (sudo agentcage ...)");
		ut_close(&cfd);
		return;
	}
	if (s->nconns >= CTL_MAX_CONNS) {
		refuse(cfd, "too many control connections; hint: try again in a moment");
		ut_close(&cfd);
		return;
	}
	if (ctl_sock_bufs(cfd) == -1)
		log_warn("control socket: SO_SNDBUF"); /* large replies may fail; small ones work */
	conn_add(s, cfd);
}

struct ctl_server *
ctl_server_new(const char *run_dir, const struct ctl_info *info, pid_t *holder)
{
	struct ctl_server *s = ut_xcalloc(1, sizeof(*s));

	s->lfd = -1;
	if (ctl_claim(run_dir != NULL ? run_dir : CTL_RUN_DIR, info, &s->claim, holder) == -1) {
		int saved = errno;
		free(s);
		s = NULL;
		errno = saved;
	}
	return s;
}

static int
listen_on(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	ut_strlcpy(sa.sun_path, path, sizeof(sa.sun_path)); /* length checked by ctl_claim() */
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	unlink(path); /* debris: the claim proves nobody serves this name */
	/* The run directory is 0700, so the moment before chmod() exposes nothing. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 || chmod(path, 0600) == -1 ||
	    listen(fd, CTL_BACKLOG) == -1) {
		ut_close(&fd);
		return -1;
	}
	return fd;
}

int
ctl_server_start(struct ctl_server *s, struct evloop *loop, const struct ctl_info *info,
		 const struct ctl_ops *ops, void *arg)
{
	s->loop = loop;
	s->ops = *ops;
	s->arg = arg;
	s->lfd = listen_on(ctl_claim_sock_path(s->claim));
	if (s->lfd == -1)
		return -1;
	if (ctl_claim_update(s->claim, info) == -1 ||
	    evloop_add(loop, s->lfd, EV_READ, on_listen, s) == -1) {
		ut_close(&s->lfd);
		return -1;
	}
	return 0;
}

size_t
ctl_server_nconns(const struct ctl_server *s)
{
	return s->nconns;
}

void
ctl_server_free(struct ctl_server *s)
{
	if (s == NULL)
		return;
	/* The name is freed first: a client that sees its connection hang up (stop) must find
	 * the sandbox gone, not a listener that no longer answers. */
	if (s->lfd != -1) {
		evloop_del(s->loop, s->lfd);
		ut_close(&s->lfd);
	}
	if (s->retry_timer != 0)
		evloop_timer_del(s->loop, s->retry_timer);
	ctl_claim_release(s->claim);
	s->claim = NULL;
	/* Replies already queued go out first, as far as each socket takes them without
	 * waiting: an exec whose process the sandbox's end completed gets its status (137),
	 * not a hang-up. */
	for (struct ctl_conn *c = s->conns, *next; c != NULL; c = next) {
		next = c->next;
		conn_flush(c); /* may close and free <c> */
	}
	while (s->conns != NULL)
		conn_close(s->conns, "server closing");
	free(s);
	s = NULL;
}

void
ctl_conn_exec_started(struct ctl_conn *c, pid_t pid)
{
	int32_t v = (int32_t)pid;

	if (c->state != CC_EXEC_STARTING)
		return;
	conn_set_state(c, CC_EXEC_RUNNING);
	conn_queue(c, CTL_EXEC_STARTED, &v, sizeof(v));
}

void
ctl_conn_exec_exit(struct ctl_conn *c, int wait_status)
{
	int32_t v = wait_status;

	c->exec_owned = false; /* the coordinator is done with <c>: no conn_closed */
	conn_set_state(c, CC_CLOSING); /* before queueing, which may free <c> */
	conn_queue(c, CTL_EXEC_EXIT, &v, sizeof(v));
}
