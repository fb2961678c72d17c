/* ctl/proto: framing of control messages over AF_UNIX SOCK_SEQPACKET (proto.h). */
#include "ctl/proto.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include "util/util.h"

const char *
ctl_type_str(uint32_t t)
{
	static const char *const names[] = {
	        [CTL_STATUS] = "STATUS",       [CTL_POLICY_GET] = "POLICY_GET",
	        [CTL_POLICY_SET] = "POLICY_SET", [CTL_STOP] = "STOP",
	        [CTL_EXEC] = "EXEC",           [CTL_SIGNAL] = "SIGNAL",
	        [CTL_OK] = "OK",               [CTL_ERROR] = "ERROR",
	        [CTL_EXEC_STARTED] = "EXEC_STARTED", [CTL_EXEC_EXIT] = "EXEC_EXIT",
	};

	if (t < NELEM(names) && names[t] != NULL)
		return names[t];
	return "?";
}

int
ctl_name_check(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > CTL_NAME_MAX || name[0] == '.' || name[0] == '-' || name[0] == '_')
		goto invalid;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		if (!ok)
			goto invalid;
	}
	return 0;
invalid:
	errno = EINVAL;
	return -1;
}

int
ctl_sock_bufs(int fd)
{
	int size = CTL_SOCK_BUF;

	/* FORCE needs CAP_NET_ADMIN; without it the plain option is capped at wmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) == 0)
		return 0;
	return setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

int
ctl_send_iov(int fd, struct iovec *iov, size_t niov, const int *fds, size_t nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * CTL_EXEC_NFDS)];
		struct cmsghdr align;
	} cm;
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = niov};

	if (nfds > CTL_EXEC_NFDS) {
		errno = EINVAL;
		return -1;
	}
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	/* MSG_NOSIGNAL: a vanished peer is EPIPE here, not a SIGPIPE to the supervisor. */
	if (TEMP_FAILURE_RETRY_INT(sendmsg(fd, &mh, MSG_NOSIGNAL)) == -1)
		return -1;
	return 0;
}

int
ctl_send(int fd, uint32_t type, const void *payload, size_t len, const int *fds, size_t nfds)
{
	struct ctl_hdr h = {.type = type, .len = (uint32_t)len};
	struct iovec iov[2] = {
	        {.iov_base = &h, .iov_len = sizeof(h)},
	        {.iov_base = (void *)payload, .iov_len = len},
	};

	if (len > CTL_PAYLOAD_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	return ctl_send_iov(fd, iov, len > 0 ? 2 : 1, fds, nfds);
}

/* Takes the fds out of <mh>'s control data into <m>. -1 (EPROTO) for anything that is not
 * one SCM_RIGHTS of at most CTL_EXEC_NFDS fds; every fd received is then closed. */
static int
take_fds(struct msghdr *mh, struct ctl_msg *m)
{
	int bad = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0)) {
			bad = 1;
			continue;
		}
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (m->nfds < CTL_EXEC_NFDS)
				m->fds[m->nfds++] = f;
			else {
				close(f);
				bad = 1;
			}
		}
	}
	if (bad) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* Peeks at the next datagram's full length (MSG_TRUNC reports it). 0 at end of stream. */
static ssize_t
peek_len(int fd)
{
	struct ctl_hdr h;

	return TEMP_FAILURE_RETRY_INT(recv(fd, &h, sizeof(h), MSG_PEEK | MSG_TRUNC));
}

int
ctl_recv(int fd, struct ctl_msg *m)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * (CTL_EXEC_NFDS + 1))];
		struct cmsghdr align;
	} cm;
	struct ctl_hdr h;
	ssize_t want, got;
	int err = EPROTO;

	for (size_t i = 0; i < CTL_EXEC_NFDS; i++)
		m->fds[i] = -1;
	m->nfds = 0;
	m->data = NULL;
	want = peek_len(fd);
	if (want <= 0)
		return (int)want;
	/* Too long: still receive it (into a header-sized buffer) so its fds are closed. */
	size_t cap = (size_t)want <= sizeof(h) + CTL_PAYLOAD_MAX ? (size_t)want : sizeof(h);
	char *buf = ut_xmalloc(cap + 1);
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
	                    .msg_controllen = sizeof(cm.buf)};
	got = TEMP_FAILURE_RETRY_INT(recvmsg(fd, &mh, MSG_CMSG_CLOEXEC));
	if (got == -1) {
		err = errno;
		goto fail;
	}
	if (take_fds(&mh, m) == -1 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    (size_t)got < sizeof(h))
		goto fail;
	memcpy(&h, buf, sizeof(h));
	if (h.len > CTL_PAYLOAD_MAX || (size_t)got != sizeof(h) + h.len)
		goto fail;
	m->type = h.type;
	m->len = h.len;
	memmove(buf, buf + sizeof(h), h.len);
	buf[h.len] = '\0'; /* the receiver terminates */
	m->data = buf;
	return 1;
fail:
	free(buf);
	buf = NULL;
	ctl_msg_free(m);
	errno = err;
	return -1;
}

void
ctl_msg_free(struct ctl_msg *m)
{
	free(m->data);
	m->data = NULL;
	for (size_t i = 0; i < CTL_EXEC_NFDS; i++)
		if (i < m->nfds)
			ut_close(&m->fds[i]);
		else
			m->fds[i] = -1;
	m->nfds = 0;
	m->len = 0;
}
