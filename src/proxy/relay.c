/* proxy/relay: one direction of a proxied connection (contract in relay.h). */
#include "proxy/relay.h"

#include <fcntl.h>
#include <sys/socket.h>

#include "proxy/h1msg.h"
#include "util/util.h"

int
relay_init(struct relay *r, int from, int to, enum relay_mode mode, const void *prefix,
	   size_t plen)
{
	memset(r, 0, sizeof(*r));
	r->from = from;
	r->to = to;
	r->pipe[0] = r->pipe[1] = -1;
	r->left = RELAY_UNLIMITED;
	r->shut_on_eof = true;
	r->mode = mode;
	/* RELAY_SPLICE makes its pipe only after RELAY_COPY_FIRST bytes (relay_splice_start) */
	r->cap = r->mode == RELAY_COPY ? RELAY_BUF_SIZE : 0;
	if (plen > r->cap)
		r->cap = plen;
	if (r->cap > 0 && (r->buf = malloc(r->cap)) == NULL) {
		relay_free(r);
		errno = ENOMEM;
		return -1;
	}
	if (plen > 0)
		memcpy(r->buf, prefix, plen);
	r->len = plen;
	return 0;
}

int
relay_frame(struct relay *r, struct h1msg *m)
{
	if (r->mode != RELAY_COPY) { /* a splice would move bytes the decoder never sees */
		errno = EINVAL;
		return -1;
	}
	r->framer = m;
	return 0;
}

size_t
relay_pending(const struct relay *r)
{
	return (r->len - r->off) + r->in_pipe;
}

/* What the pipe may hold (before it is made: its default). */
static size_t
relay_pipe_cap(const struct relay *r)
{
	return r->pipe_cap > 0 ? r->pipe_cap : RELAY_BUF_SIZE;
}

bool
relay_want_read(const struct relay *r)
{
	if (r->eof || r->left == 0)
		return false;
	if (r->mode == RELAY_SPLICE) /* the prefix goes first; the pipe holds <= BUF_SIZE */
		return r->off == r->len && !r->pipe_full && r->in_pipe < relay_pipe_cap(r);
	return r->len < r->cap;
}

bool
relay_want_write(const struct relay *r)
{
	return relay_pending(r) > 0;
}

bool
relay_done(const struct relay *r)
{
	return r->eof && relay_pending(r) == 0 && r->shut;
}

/* Writes buffered bytes; returns bytes written (0: would block), or -1. */
static ssize_t
relay_flush_buf(struct relay *r)
{
	ssize_t n;

	if (r->off == r->len)
		return 0;
	n = TEMP_FAILURE_RETRY_INT(send(r->to, r->buf + r->off, r->len - r->off, MSG_NOSIGNAL));
	if (n == -1)
		return errno == EAGAIN ? 0 : -1;
	r->off += (size_t)n;
	r->bytes += (uint64_t)n;
	if (r->off == r->len)
		r->off = r->len = 0;
	return n;
}

static ssize_t
relay_flush_pipe(struct relay *r)
{
	ssize_t n;

	if (r->in_pipe == 0 || r->off != r->len)
		return 0;
	n = TEMP_FAILURE_RETRY_INT(splice(r->pipe[0], NULL, r->to, NULL, r->in_pipe,
					  SPLICE_F_MOVE | SPLICE_F_NONBLOCK));
	if (n == -1)
		return errno == EAGAIN ? 0 : -1;
	r->in_pipe -= (size_t)n;
	r->bytes += (uint64_t)n;
	if (n > 0)
		r->pipe_full = false;
	return n;
}

/* Bytes a read may take now: room left, and what the source may still send. */
static size_t
relay_room(const struct relay *r, size_t room)
{
	return r->left < room ? (size_t)r->left : room;
}

static void
relay_got(struct relay *r, size_t n)
{
	if (r->left != RELAY_UNLIMITED)
		r->left -= n;
	if (r->left == 0)
		r->eof = true; /* the caller's limit: the rest of <from> is not ours to move */
}

/* Gives the (drained) buffer <cap> bytes. -1 and ENOMEM. */
static int
relay_buf_size(struct relay *r, size_t cap)
{
	char *nb;

	if (r->cap >= cap)
		return 0;
	if ((nb = malloc(cap)) == NULL)
		return -1;
	free(r->buf);
	r->buf = nb;
	r->cap = cap;
	r->off = r->len = 0;
	return 0;
}

/*
 * RELAY_SPLICE without its pipe yet (called with the buffer drained): below
 * RELAY_COPY_FIRST bytes moved, reads go through a small buffer; past it the pipe is
 * made and the buffer freed. No pipe to be had: copy mode from now on. -1 and ENOMEM.
 */
static int
relay_splice_start(struct relay *r)
{
	if (r->bytes < RELAY_COPY_FIRST)
		return relay_buf_size(r, RELAY_COPY_FIRST);
	if (pipe2(r->pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		r->pipe[0] = r->pipe[1] = -1;
		r->mode = RELAY_COPY; /* near the fd limit: keep the connection, lose zero-copy */
		return relay_buf_size(r, RELAY_BUF_SIZE);
	}
	free(r->buf);
	r->buf = NULL;
	r->cap = r->off = r->len = 0;
	return 0;
}

/* Pipes grown to RELAY_PIPE_BULK by every relay of the process (all on the proxy's loop):
 * root is exempt from the kernel's per-user pipe quota, so this bound is the only one. */
static size_t relay_bulk_pipes;

/* The source filled the pipe: a bulk transfer. One try at RELAY_PIPE_BULK, within
 * RELAY_BULK_PIPES_MAX; a refusal (fs.pipe-max-size) keeps the default. True if grown. */
static bool
relay_pipe_grow(struct relay *r)
{
	r->pipe_grow_tried = true;
	if (relay_bulk_pipes >= RELAY_BULK_PIPES_MAX ||
	    fcntl(r->pipe[1], F_SETPIPE_SZ, RELAY_PIPE_BULK) < RELAY_PIPE_BULK)
		return false;
	r->pipe_cap = RELAY_PIPE_BULK;
	relay_bulk_pipes++;
	return true;
}

/* Of <n> bytes just read into the buffer, those of the framed body; its end is EOF. */
static ssize_t
relay_framed(struct relay *r, size_t n)
{
	bool done = false;
	ssize_t k = h1msg_body(r->framer, r->buf + r->len, n, &done);

	if (k < 0) {
		errno = EPROTO;
		return -1;
	}
	if (done) {
		r->eof = true; /* what follows is not this message's: dropped */
		r->framer = NULL;
	}
	return k;
}

/* Reads into the buffer or the pipe; returns bytes read (0: would block or EOF), or -1. */
static ssize_t
relay_fill(struct relay *r)
{
	ssize_t n;

	if (!relay_want_read(r) || r->dry)
		return 0;
	if (r->mode == RELAY_SPLICE && r->pipe[0] == -1 && relay_splice_start(r) == -1)
		return -1;
	if (r->mode == RELAY_COPY || r->pipe[0] == -1) {
		n = TEMP_FAILURE_RETRY_INT(read(r->from, r->buf + r->len,
						relay_room(r, r->cap - r->len)));
	} else {
		const size_t room = relay_room(r, relay_pipe_cap(r) - r->in_pipe);

		n = TEMP_FAILURE_RETRY_INT(splice(r->from, NULL, r->pipe[1], NULL, room,
						  SPLICE_F_MOVE | SPLICE_F_NONBLOCK));
		if (n > 0 && (size_t)n == room && !r->pipe_grow_tried)
			relay_pipe_grow(r);
		/* EAGAIN with bytes in the pipe may mean the pipe is full (its slots, not its
		 * bytes, ran out: a small segment takes a whole slot): grow it when a bulk's
		 * worth waits, else wait for a flush rather than spin on a readable socket. */
		if (n == -1 && errno == EAGAIN && r->in_pipe > 0 &&
		    (r->pipe_grow_tried || r->in_pipe < RELAY_COPY_FIRST || !relay_pipe_grow(r)))
			r->pipe_full = true;
	}
	/* EAGAIN from the socket (not a full pipe: splice says EAGAIN for both, and the
	 * pipe empties in this same pump): a second read before the next event would find
	 * nothing too. */
	if (n == -1 && errno == EAGAIN && !r->pipe_full && r->evented)
		r->dry = true;
	if (n == -1)
		return errno == EAGAIN ? 0 : -1;
	if (n > 0 && r->framer != NULL && (n = relay_framed(r, (size_t)n)) == -1)
		return -1;
	if (n == 0) {
		r->eof = true;
		return 0;
	}
	if (r->mode == RELAY_COPY || r->pipe[0] == -1)
		r->len += (size_t)n;
	else
		r->in_pipe += (size_t)n;
	relay_got(r, (size_t)n);
	return n;
}

int
relay_pump(struct relay *r)
{
	size_t moved = 0;

	for (;;) {
		ssize_t w, rd;

		if ((w = relay_flush_buf(r)) == -1 || (w == 0 && (w = relay_flush_pipe(r)) == -1))
			return -1;
		if ((rd = relay_fill(r)) == -1)
			return -1;
		moved += (size_t)w + (size_t)rd;
		if ((w == 0 && rd == 0) || moved >= RELAY_PUMP_MAX)
			break;
	}
	/* Write out what the last read brought, so one readiness event is enough. */
	if (relay_flush_buf(r) == -1 || relay_flush_pipe(r) == -1)
		return -1;
	/* Copy phase of RELAY_SPLICE, drained: an idle tunnel keeps no buffer (RSS per open
	 * tunnel); the next read allocates it again. */
	if (r->mode == RELAY_SPLICE && r->pipe[0] == -1 && r->off == r->len && r->buf != NULL) {
		free(r->buf);
		r->buf = NULL;
		r->cap = r->off = r->len = 0;
	}
	if (r->eof && relay_pending(r) == 0 && !r->shut) {
		/* Without close_follows the FIN must go now (half-close: the other direction
		 * may go on for long). With it, close() sends the same FIN after the same
		 * queued bytes: <from> was read to its EOF, so nothing is left unread that
		 * would turn the close into a reset. */
		if (r->shut_on_eof && !r->close_follows && shutdown(r->to, SHUT_WR) == -1 &&
		    errno != ENOTCONN)
			return -1;
		r->shut = true;
	}
	return 0;
}

void
relay_free(struct relay *r)
{
	if (r->pipe_cap == RELAY_PIPE_BULK)
		relay_bulk_pipes--;
	r->pipe_cap = 0;
	ut_close(&r->pipe[0]);
	ut_close(&r->pipe[1]);
	free(r->buf);
	r->buf = NULL;
	r->cap = r->off = r->len = 0;
}
