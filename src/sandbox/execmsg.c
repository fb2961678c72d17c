/* sandbox/execmsg: the supervisor <-> init exec channel (contract in execmsg.h). */
#include "sandbox/execmsg.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "util/util.h"

int
execmsg_channel(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == -1)
		return -1;
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1) {
		const int e = errno;
		close(fds[0]);
		close(fds[1]);
		fds[0] = fds[1] = -1;
		errno = e;
		return -1;
	}
	return 0;
}

int
execmsg_send(int fd, const struct execmsg *m, const void *payload, size_t len,
	     const int *fds, size_t nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * EXECMSG_NFDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov[2] = {
		{ .iov_base = (void *)m, .iov_len = sizeof(*m) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len > 0 ? 2 : 1 };

	if (nfds > EXECMSG_NFDS) {
		errno = EINVAL;
		return -1;
	}
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	for (;;) {
		ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		return 0; /* a datagram goes whole or not at all */
	}
}

/* Collects the SCM_RIGHTS fds of <mh>; false (every fd closed) when there are more than
 * EXECMSG_NFDS or any other control message. */
static bool
execmsg_take_fds(struct msghdr *mh, int fds[EXECMSG_NFDS], size_t *nfds)
{
	bool ok = (mh->msg_flags & MSG_CTRUNC) == 0;

	*nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		size_t n;
		int got[EXECMSG_NFDS * 2];

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			ok = false;
			continue;
		}
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (n > NELEM(got))
			n = NELEM(got); /* the buffer holds no more than that */
		memcpy(got, CMSG_DATA(c), n * sizeof(int));
		for (size_t i = 0; i < n; i++) {
			if (*nfds < EXECMSG_NFDS && ok)
				fds[(*nfds)++] = got[i];
			else {
				ok = false;
				close(got[i]);
			}
		}
	}
	if (!ok) {
		for (size_t i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
	}
	return ok;
}

int
execmsg_recv(int fd, struct execmsg *m, char *payload, size_t cap, size_t *len,
	     int fds[EXECMSG_NFDS], size_t *nfds)
{
	union {
		/* Room for more than we accept, so an excess is seen (and closed), not cut. */
		char buf[CMSG_SPACE(sizeof(int) * EXECMSG_NFDS * 2)];
		struct cmsghdr align;
	} u;
	struct iovec iov[2] = {
		{ .iov_base = m, .iov_len = sizeof(*m) },
		{ .iov_base = payload, .iov_len = cap > 0 ? cap - 1 : 0 },
	};
	struct msghdr mh = {
		.msg_iov = iov, .msg_iovlen = 2, .msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	ssize_t n;

	*len = *nfds = 0;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if (!execmsg_take_fds(&mh, fds, nfds) || (mh.msg_flags & MSG_TRUNC) ||
	    (n > 0 && (size_t)n < sizeof(*m))) {
		for (size_t i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		errno = EPROTO;
		return -1;
	}
	if (n == 0)
		return 0; /* end of file: SEQPACKET has no empty datagrams of ours */
	*len = (size_t)n - sizeof(*m);
	if (cap > 0)
		payload[*len] = '\0'; /* the receiver terminates */
	return 1;
}

/* A START payload: exactly <argc> NUL-terminated strings. */
static bool
execmsg_argv_framed(const char *p, size_t len, uint32_t argc)
{
	uint32_t nuls = 0;

	if (argc == 0 || argc > EXECMSG_ARGC_MAX || len == 0 || len > EXECMSG_ARGV_MAX ||
	    p[len - 1] != '\0')
		return false;
	for (size_t i = 0; i < len; i++)
		nuls += p[i] == '\0';
	return nuls == argc;
}

int
execmsg_check(const struct execmsg *m, const char *payload, size_t len, size_t nfds,
	      bool at_init)
{
	bool ok = m->id > 0;

	switch (m->type) {
	case EXECMSG_START:
		ok = ok && at_init && nfds == EXECMSG_NFDS && (m->flags & ~EXECMSG_TTY) == 0 &&
		     execmsg_argv_framed(payload, len, m->argc);
		break;
	case EXECMSG_SIGNAL:
		ok = ok && at_init && nfds == 0 && len == 0 && m->flags == 0 && m->argc == 0 &&
		     m->value > 0 && m->value < NSIG;
		break;
	case EXECMSG_STARTED:
	case EXECMSG_EXIT:
		ok = ok && !at_init && nfds == 0 && len == 0 && m->flags == 0 && m->argc == 0;
		break;
	default:
		ok = false;
		break;
	}
	if (!ok)
		errno = EPROTO;
	return ok ? 0 : -1;
}

int
execmsg_argv_pack(char *const argv[], struct sbuf *out, uint32_t *argc)
{
	size_t n = 0;

	if (argv == NULL || argv[0] == NULL) {
		errno = EINVAL;
		return -1;
	}
	for (; argv[n] != NULL; n++) {
		if (n == EXECMSG_ARGC_MAX) {
			errno = E2BIG;
			return -1;
		}
		sbuf_add(out, argv[n], strlen(argv[n]) + 1);
		if (out->len > EXECMSG_ARGV_MAX) {
			errno = E2BIG;
			return -1;
		}
	}
	*argc = (uint32_t)n;
	return 0;
}

void
execmsg_argv_unpack(char *payload, uint32_t argc, char **argv)
{
	char *p = payload;

	for (uint32_t i = 0; i < argc; i++) {
		argv[i] = p;
		p += strlen(p) + 1;
	}
	argv[argc] = NULL;
}
