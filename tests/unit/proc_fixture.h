/*
 * proc_fixture.h: small process-level helpers the identity and connect-notify tests share
 * (test_connwatch.c, test_perf4_idcache.c, test_perf5_proxy.c): passing a descriptor over
 * a unix socket, and the struct peer_ident that proxy/ident.h would give for a child.
 *
 * Context: header-only, every helper static (T_UNUSED: not every test uses each one).
 * Errors: recv_fd() returns -1 when no descriptor came; nothing asserts here.
 */
#ifndef AGENTCAGE_TEST_PROC_FIXTURE_H
#define AGENTCAGE_TEST_PROC_FIXTURE_H

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "proxy/ident.h"
#include "t.h"

/* Sends <fd> over the unix socket <sock> (one byte of payload). */
T_UNUSED static void
send_fd(int sock, int fd)
{
	char c = 'L', cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	(void)!sendmsg(sock, &m, 0);
}

/* The descriptor send_fd() sent on <sock> (close-on-exec), or -1. */
T_UNUSED static int
recv_fd(int sock)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd = -1;

	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != 1 || (cm = CMSG_FIRSTHDR(&m)) == NULL ||
	    cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* What ident would say for <pid> whose parent chain is <anc>[0..n) up to this process. */
T_UNUSED static void
ident_for(struct peer_ident *pi, pid_t pid, const pid_t *anc, size_t n)
{
	char path[64];
	ssize_t len;

	memset(pi, 0, sizeof(*pi));
	pi->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	len = readlink(path, pi->exe, sizeof(pi->exe) - 1);
	pi->exe[len > 0 ? len : 0] = '\0';
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)anc[i]);
		len = readlink(path, pi->ancestors[i], PATH_MAX - 1);
		pi->ancestors[i][len > 0 ? len : 0] = '\0';
		pi->ancestor_pids[i] = anc[i];
	}
	pi->nancestors = n;
}

#endif
