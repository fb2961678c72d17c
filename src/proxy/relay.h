/*
 * proxy/relay: moves the bytes of one direction of a proxied connection (client ->
 * upstream or upstream -> client) with back-pressure and half-close. A connection holds
 * two of them (conn.h).
 *
 * Modes: RELAY_SPLICE moves data socket -> pipe -> socket with splice(2), so bulk
 * transfers never cross user space; its first RELAY_COPY_FIRST bytes are copied through
 * a small buffer instead (freed whenever it drains), and the pipe is made only past
 * them, so a short exchange (most tunnels: a request, a small response) never pays for
 * pipe2 and four closes. A splice that fills the pipe (its bytes, or its slots with
 * RELAY_COPY_FIRST bytes waiting) marks a bulk transfer: the pipe then grows once to
 * RELAY_PIPE_BULK (fewer, larger splices: ~20 % more throughput on one tunnel here), as
 * long as fewer than RELAY_BULK_PIPES_MAX are grown at once. RELAY_COPY uses read/write through a RELAY_BUF_SIZE buffer (the
 * fallback when no pipe can be had, e.g. near the fd limit). Either way a direction holds
 * at most RELAY_BUF_SIZE bytes (the pipe's default 64 KiB or the buffer), RELAY_PIPE_BULK
 * once grown: when they are not yet written, the direction stops reading its source, so
 * a slow receiver slows the sender instead of growing memory.
 *
 * A prefix (the proxy's "200 Connection established", the rewritten head of a forward
 * request, bytes a client sent right after its CONNECT head) is written before anything
 * read from the source.
 *
 * Framing (relay_frame): a direction can carry exactly one HTTP message body whose end
 * is found in its bytes (a chunked request body on the forward path): every read goes
 * through the message's decoder (proxy/h1msg.h), the bytes after its end are dropped, and
 * that end is the direction's EOF. Such a direction copies (the decoder must see each
 * byte); malformed chunking fails the pump with EPROTO.
 *
 * Half-close: when the source reaches EOF and everything is written, the destination
 * gets shutdown(SHUT_WR); the other direction carries on until its own EOF (RFC 9293
 * §3.6: a FIN closes one direction only).
 *
 * Context: proxy loop (one thread: the count of grown pipes is process-wide); non-blocking
 * fds; no callbacks: the connection calls
 * relay_pump() on readiness and asks relay_want_*() which events to wait for.
 * Errors: relay_pump() returns 0, or -1 with errno from the failing read/write/splice
 * (ECONNRESET, EPIPE...). Ownership: fds are borrowed; the pipe and buffers are the
 * relay's own, released by relay_free().
 */
#ifndef AGENTCAGE_PROXY_RELAY_H
#define AGENTCAGE_PROXY_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RELAY_BUF_SIZE (64 * 1024)  /* copy-mode buffer per direction */
#define RELAY_COPY_FIRST (16 * 1024) /* RELAY_SPLICE: bytes copied before the pipe is made */
#define RELAY_PIPE_BULK (256 * 1024) /* RELAY_SPLICE: the pipe once a splice filled it */
#define RELAY_BULK_PIPES_MAX 64      /* grown pipes at once, process-wide: 16 MiB beyond
                                      * the default pipes (root has no pipe quota) */
#define RELAY_PUMP_MAX (256 * 1024) /* bytes moved per relay_pump() call: fairness */
#define RELAY_UNLIMITED UINT64_MAX

struct h1msg;

enum relay_mode {
	RELAY_COPY = 0, /* read/write through a buffer */
	RELAY_SPLICE,   /* splice through a pipe pair */
};

struct relay {
	int from, to;          /* borrowed, non-blocking */
	enum relay_mode mode;
	int pipe[2];           /* RELAY_SPLICE: read end, write end; -1 until RELAY_COPY_FIRST */
	size_t in_pipe;        /* bytes in the pipe */
	size_t pipe_cap;       /* bytes the pipe may hold: RELAY_BUF_SIZE, or RELAY_PIPE_BULK */
	bool pipe_grow_tried;  /* the one F_SETPIPE_SZ was made (or failed: stay small) */
	bool pipe_full;        /* splice-in got EAGAIN with bytes in the pipe */
	char *buf;             /* prefix, then (copy mode) data */
	size_t cap, off, len;  /* buf[off..len) is waiting to be written */
	uint64_t left;         /* bytes still to read from <from>; RELAY_UNLIMITED */
	bool shut_on_eof;      /* shutdown(to, SHUT_WR) at EOF (false: just stop) */
	bool close_follows;    /* the owner closes <to> as soon as this direction ends: its
	                        * close() sends the FIN, no shutdown() syscall first */
	bool eof;              /* nothing more will be read from <from> */
	bool evented;          /* the owner pumps on readiness events and clears <dry> on
	                        * each one of <from> (conn.c); false (relay_init): every
	                        * pump reads, <dry> is never set */
	bool dry;              /* evented: <from> answered EAGAIN, so no read until its
	                        * next readiness event (level-triggered epoll reports one
	                        * while bytes wait) */
	bool shut;             /* the destination's write side is finished */
	struct h1msg *framer;  /* relay_frame(): the body being relayed, borrowed; or NULL */
	uint64_t bytes;        /* bytes written to <to> */
};

/*
 * Prepares <r> to move <from> -> <to>. <mode> RELAY_SPLICE falls back to RELAY_COPY when
 * pipe2 fails, once it is tried (r->mode says which mode is in use). <prefix>[0..<plen>)
 * is copied and goes first (<plen> may be 0 or larger than RELAY_BUF_SIZE: it is kept
 * whole, and nothing is read until it is written). <r>->left starts RELAY_UNLIMITED and
 * <r>->shut_on_eof true; the caller may change both before the first pump. -1 and ENOMEM.
 */
int relay_init(struct relay *r, int from, int to, enum relay_mode mode, const void *prefix,
	       size_t plen);

/*
 * From now on, <r> moves only the body <m> frames (h1msg_body(); <m> is borrowed, past
 * the head already) and reaches EOF at its end. Bytes given as the prefix are not framed.
 * Call before the first pump, on a relay_init()ed with RELAY_COPY: 0, else -1 (EINVAL).
 */
int relay_frame(struct relay *r, struct h1msg *m);

/* Moves what can be moved now (at most RELAY_PUMP_MAX bytes). 0, or -1 with errno. */
int relay_pump(struct relay *r);

/* Should the connection wait for <from> to be readable / <to> to be writable? */
bool relay_want_read(const struct relay *r);
bool relay_want_write(const struct relay *r);

/* Bytes read but not yet written. */
size_t relay_pending(const struct relay *r);

/* EOF seen, everything written, destination shut (or told to stop). */
bool relay_done(const struct relay *r);

/* Closes the pipe and frees the buffer; the fds are the caller's. Idempotent. */
void relay_free(struct relay *r);

#endif
