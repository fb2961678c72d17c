/*
 * ctl/proto: the wire protocol of a running sandbox's control socket (docs/control.md).
 *
 * Transport: one AF_UNIX SOCK_SEQPACKET socket per sandbox. SEQPACKET keeps message
 * boundaries, so a message is one recvmsg() and the file descriptors of an EXEC request
 * (SCM_RIGHTS) arrive with exactly the message they belong to; a stream would need a
 * reassembly state machine on the non-blocking server and fds that ride on "some byte".
 * The cost: a message must fit the sender's socket buffer (the kernel refuses larger ones
 * with EMSGSIZE), so both ends force their send buffer to CTL_SOCK_BUF (SO_SNDBUFFORCE as
 * root, else SO_SNDBUF up to net.core.wmem_max) before sending a policy-sized message.
 *
 * Every message is a struct ctl_hdr followed by exactly hdr.len payload bytes: the
 * datagram's length must equal sizeof(hdr) + hdr.len. Per type (all integers in host
 * byte order, the socket never leaves the machine):
 *   requests (client -> supervisor)
 *     CTL_STATUS      empty
 *     CTL_POLICY_GET  empty
 *     CTL_POLICY_SET  1..POLICY_MAX_BYTES bytes of YAML (no NUL byte)
 *     CTL_STOP        uint32 grace seconds (0..CTL_GRACE_MAX)
 *     CTL_EXEC        uint32 flags (CTL_EXEC_TTY), uint32 argc (1..CTL_ARGV_MAX), then argc
 *                     NUL-terminated strings filling the rest exactly; 3 fds (stdin,
 *                     stdout, stderr) in one SCM_RIGHTS message
 *     CTL_SIGNAL      int32 signal number (1..CTL_SIG_MAX), only on an EXEC connection
 *   replies (supervisor -> client)
 *     CTL_OK          text (JSON for STATUS, YAML for POLICY_GET, a note otherwise)
 *     CTL_ERROR       text: what failed and a hint
 *     CTL_EXEC_STARTED int32 pid of the process (as the sandbox's pid namespace sees it)
 *     CTL_EXEC_EXIT    int32 wait status of the process
 * Fds travel only with CTL_EXEC. Anything else (unknown type, wrong length, fds where none
 * belong, a truncated message or control data) closes the connection: house rule 12.
 *
 * Context: supervisor (server.h) and CLI (client.h). Errors: 0 / -1 with errno.
 */
#ifndef AGENTCAGE_CTL_PROTO_H
#define AGENTCAGE_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "policy/model.h"

#define CTL_RUN_DIR      "/run/agentcage" /* default directory of sockets and state files */
#define CTL_NAME_MAX     64               /* bytes of a sandbox name, NUL excluded */
#define CTL_PAYLOAD_MAX  (POLICY_MAX_BYTES + 64 * 1024) /* a policy plus slack */
#define CTL_SOCK_BUF     (2 * CTL_PAYLOAD_MAX + 64 * 1024) /* send buffer forced per socket */
#define CTL_ARGV_MAX     1024             /* arguments of an EXEC request */
#define CTL_GRACE_MAX    3600u            /* seconds a STOP may grant */
#define CTL_SIG_MAX      64               /* highest signal number (SIGRTMAX on Linux) */
#define CTL_EXEC_NFDS    3                /* stdin, stdout, stderr */
#define CTL_EXEC_TTY     1u               /* EXEC flag: the fds are a PTY slave */

enum ctl_type {
	CTL_STATUS = 1,
	CTL_POLICY_GET,
	CTL_POLICY_SET,
	CTL_STOP,
	CTL_EXEC,
	CTL_SIGNAL,
	CTL_OK = 64,
	CTL_ERROR,
	CTL_EXEC_STARTED,
	CTL_EXEC_EXIT,
};

struct ctl_hdr {
	uint32_t type; /* enum ctl_type */
	uint32_t len;  /* payload bytes that follow */
};

/* One received message; <data> is malloc'd and NUL-terminated one byte past <len> (the
 * receiver terminates, never the sender). fds[0..nfds) are owned by the holder. */
struct ctl_msg {
	uint32_t type;
	uint32_t len;
	char *data;
	int fds[CTL_EXEC_NFDS];
	size_t nfds;
};

/* The name of <t> for logs ("STATUS", ...), "?" if unknown. */
const char *ctl_type_str(uint32_t t);

/*
 * Checks <name> as a sandbox name: 1..CTL_NAME_MAX bytes of [A-Za-z0-9._-], starting with a
 * letter or digit (it becomes a file name). 0, or -1 with errno EINVAL.
 */
int ctl_name_check(const char *name);

/* Forces the send buffer of <fd> to CTL_SOCK_BUF (SO_SNDBUFFORCE, falling back to SO_SNDBUF,
 * which the kernel caps at wmem_max). -1 and errno only when both fail. */
int ctl_sock_bufs(int fd);

/*
 * Sends one message: header + <payload>[0..<len>) and, when <nfds> > 0, <fds> as
 * SCM_RIGHTS. Refuses len > CTL_PAYLOAD_MAX or nfds > CTL_EXEC_NFDS (EMSGSIZE/EINVAL).
 * On a non-blocking socket EAGAIN means nothing was sent. 0 or -1 with errno.
 */
int ctl_send(int fd, uint32_t type, const void *payload, size_t len, const int *fds,
	     size_t nfds);

/*
 * Sends <iov>[0..<niov>) as one datagram, with <fds> as SCM_RIGHTS when <nfds> > 0; no
 * framing is added or checked (ctl_send() builds on it; tests send malformed messages with
 * it). Refuses nfds > CTL_EXEC_NFDS (EINVAL). 0 or -1 with errno.
 */
int ctl_send_iov(int fd, struct iovec *iov, size_t niov, const int *fds, size_t nfds);

/*
 * Receives one message into <m> (zero it first; release with ctl_msg_free()). Checks the
 * framing only: a datagram shorter than the header, longer than the header plus
 * CTL_PAYLOAD_MAX or unequal to it, cut short (MSG_TRUNC/MSG_CTRUNC), or carrying control
 * data other than up to CTL_EXEC_NFDS fds is refused with EPROTO, any fds received closed.
 * Returns 1 with a message, 0 at end of stream, -1 with errno (EAGAIN when non-blocking and
 * nothing is queued).
 */
int ctl_recv(int fd, struct ctl_msg *m);

/* Frees <m>'s data and closes its fds; leaves it zeroed with fds at -1. */
void ctl_msg_free(struct ctl_msg *m);

#endif
