/*
 * sandbox/execmsg: the exec channel between the supervisor and the sandbox's init, which
 * starts more processes in the running sandbox (`agentcage exec`) with the command's
 * confinement and reports on them.
 *
 * Transport: an AF_UNIX SOCK_SEQPACKET socketpair made before the clone (close-on-exec
 * both ends; spawn_exec_command() closes every fd above stderr anyway, so no sandboxed
 * process ever holds it). One message = one datagram: a struct execmsg, then for
 * EXECMSG_START the argv strings, with the 3 stdio fds as SCM_RIGHTS. Datagram framing
 * means no partial reads on either side; the peer's death reads as end of file.
 *
 *   supervisor -> init   EXECMSG_START   id, flags, argc; argv bytes; 3 fds
 *                        EXECMSG_SIGNAL  id, value = signal number
 *   init -> supervisor   EXECMSG_STARTED id, value = pid in the sandbox (> 0), or -errno
 *                        EXECMSG_EXIT    id, value = wait status
 *
 * Trust (house rule 12): each side checks the type, the exact length, the fd count and
 * the argv framing of what it receives with execmsg_check(); anything else is a broken
 * peer (the supervisor then stops the sandbox, init drops the channel).
 *
 * Context: supervisor (non-blocking end) and init (blocking end, after poll). Errors:
 * 0 / -1 with errno. Ownership: fds received belong to the caller; execmsg_recv() closes
 * them itself when it rejects the message.
 */
#ifndef AGENTCAGE_SANDBOX_EXECMSG_H
#define AGENTCAGE_SANDBOX_EXECMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/sbuf.h"

#define EXECMSG_ARGV_MAX (64 * 1024) /* bytes of argv strings, NULs included */
#define EXECMSG_ARGC_MAX 4096        /* argv entries */
#define EXECMSG_NFDS     3           /* stdin, stdout, stderr of a START */
#define EXEC_PROCS_MAX   64          /* exec'd processes tracked at once per sandbox */

enum execmsg_type {
	EXECMSG_NONE = 0, /* never sent */
	EXECMSG_START,    /* supervisor -> init */
	EXECMSG_SIGNAL,   /* supervisor -> init */
	EXECMSG_STARTED,  /* init -> supervisor */
	EXECMSG_EXIT,     /* init -> supervisor */
};

#define EXECMSG_TTY 1u /* START: fd 0 is a terminal slave: own session, controlling tty */

struct execmsg {
	uint32_t type;
	uint32_t flags; /* START only: EXECMSG_TTY */
	int64_t id;     /* chosen by the supervisor, > 0 */
	int32_t value;  /* see above */
	uint32_t argc;  /* START only: strings that follow */
};

/* The channel: fds[0] the supervisor's end (non-blocking), fds[1] init's. Both
 * close-on-exec. 0, or -1 with errno. */
int execmsg_channel(int fds[2]);

/*
 * Sends <m> followed by <payload>[0..<len>) and, when <nfds> > 0, <fds> as SCM_RIGHTS
 * (copies: the caller still owns and closes its fds). Never raises SIGPIPE. 0, or -1 with
 * errno (EAGAIN: the non-blocking end is full; EPIPE: the peer is gone).
 */
int execmsg_send(int fd, const struct execmsg *m, const void *payload, size_t len,
		 const int *fds, size_t nfds);

/*
 * Receives one message into *<m>, its payload into <payload> (capacity <cap>; one byte
 * is kept for the NUL this function appends) and up to EXECMSG_NFDS fds into <fds>
 * (close-on-exec; *<nfds> is the count). Returns 1 for a message, 0 at end of file, -1
 * with errno: EAGAIN (nothing there), EPROTO (truncated, or more fds than expected: any
 * received fd is closed).
 * *<len> is the payload length.
 */
int execmsg_recv(int fd, struct execmsg *m, char *payload, size_t cap, size_t *len,
		 int fds[EXECMSG_NFDS], size_t *nfds);

/*
 * 0 when <m> with <len> payload bytes and <nfds> fds is a valid message for a receiver
 * that is init (<at_init>) or the supervisor; -1 with EPROTO otherwise. For START, the
 * payload must hold exactly m->argc NUL-terminated strings (1..EXECMSG_ARGC_MAX).
 */
int execmsg_check(const struct execmsg *m, const char *payload, size_t len, size_t nfds,
		  bool at_init);

/*
 * Packs <argv> (NULL-terminated, at least one entry) into <out> as NUL-terminated
 * strings; *<argc> gets the count. -1 with EINVAL (empty argv) or E2BIG (more than
 * EXECMSG_ARGC_MAX entries or EXECMSG_ARGV_MAX bytes).
 */
int execmsg_argv_pack(char *const argv[], struct sbuf *out, uint32_t *argc);

/* Points <argv>[0..argc) at the strings of a checked START payload and NULL-terminates
 * it; <argv> has room for argc + 1 pointers. */
void execmsg_argv_unpack(char *payload, uint32_t argc, char **argv);

#endif
