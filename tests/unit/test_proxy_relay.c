/* One direction of the proxy's relay (proxy/relay.h) over socketpairs: prefix first,
 * back-pressure, half-close, limits; in both the splice and the copy mode. */
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>

#include "proxy/h1msg.h"
#include "proxy/relay.h"
#include "t.h"
#include "util/util.h"

static const char *const mode_name[] = { "copy", "splice" };

/* src[0] writes into the relay's <from> = src[1]; the relay writes <to> = dst[0];
 * the test reads dst[1]. */
static void
pairs(int src[2], int dst[2])
{
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, src);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, dst);
}

static size_t
drain(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap && (n = read(fd, buf + got, cap - got)) > 0)
		got += (size_t)n;
	return got;
}

/* A byte pattern with no short period, so a lost or repeated block shows. */
static void
fill_pattern(char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (char)(i * 7 + i / 4096);
}

/*
 * Writes <blob>[<sent>..<len>) into <in> (then its EOF), pumping <r> and draining <out_fd>
 * into <out> until <len> bytes arrived or the relay fails. Returns the bytes received,
 * <got> (already received) included.
 */
static size_t
relay_through(struct relay *r, int in, const char *blob, size_t len, size_t sent, int out_fd,
	      char *out, size_t got)
{
	while (got < len) {
		ssize_t n;

		if (sent < len && (n = write(in, blob + sent, len - sent)) > 0)
			sent += (size_t)n;
		if (sent == len)
			shutdown(in, SHUT_WR);
		if (relay_pump(r) == -1)
			break;
		got += drain(out_fd, out + got, len - got);
	}
	return got;
}

static void
test_basic(enum relay_mode mode)
{
	int src[2], dst[2];
	struct relay r;
	char buf[256];
	size_t n;

	pairs(src, dst);
	T_OK(relay_init(&r, src[1], dst[0], mode, "PREFIX:", 7) == 0, "%s: init", mode_name[mode]);
	(void)!write(src[0], "hello", 5);
	T_OK(relay_pump(&r) == 0, "%s: pump", mode_name[mode]);
	n = drain(dst[1], buf, sizeof(buf) - 1);
	buf[n] = '\0';
	T_STREQ(buf, "PREFIX:hello", "%s: the prefix goes first, then the data", mode_name[mode]);
	T_OK(r.bytes == 12 && !r.eof, "%s: bytes counted", mode_name[mode]);
	shutdown(src[0], SHUT_WR);
	T_OK(relay_pump(&r) == 0 && r.eof && r.shut && relay_done(&r),
	     "%s: EOF from the source shuts the destination's write side", mode_name[mode]);
	T_OK(read(dst[1], buf, 1) == 0, "%s: the reader sees EOF", mode_name[mode]);
	/* the other direction still works: half-close, not close */
	T_OK(write(dst[1], "back", 4) == 4 && read(dst[0], buf, 4) == 4,
	     "%s: the reverse direction stays open", mode_name[mode]);
	relay_free(&r);
	close(src[0]); close(src[1]); close(dst[0]); close(dst[1]);
}

static void
test_backpressure(enum relay_mode mode)
{
	int src[2], dst[2];
	struct relay r;
	static char blob[1 << 20], out[1 << 20];
	size_t sent = 0, got = 0;
	int sz = 4096;
	bool stalled = false;

	pairs(src, dst);
	/* small socket buffers so "the receiver is slow" happens quickly */
	setsockopt(dst[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(dst[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	fill_pattern(blob, sizeof(blob));
	relay_init(&r, src[1], dst[0], mode, NULL, 0);
	/* Writer fast, reader absent: the relay must stop reading, not grow. */
	for (int round = 0; round < 200 && !stalled; round++) {
		ssize_t n = write(src[0], blob + sent, sizeof(blob) - sent);
		if (n > 0)
			sent += (size_t)n;
		relay_pump(&r);
		stalled = !relay_want_read(&r) && relay_pending(&r) > 0;
	}
	T_OK(stalled, "%s: with the receiver full, the relay stops reading its source",
	     mode_name[mode]);
	/* splice: a source that filled the pipe grew it once, to RELAY_PIPE_BULK */
	T_OK(relay_pending(&r) <= (mode == RELAY_SPLICE ? RELAY_PIPE_BULK : RELAY_BUF_SIZE),
	     "%s: and holds at most %d bytes (%zu)", mode_name[mode],
	     mode == RELAY_SPLICE ? RELAY_PIPE_BULK : RELAY_BUF_SIZE, relay_pending(&r));
	/* Now the reader catches up; everything arrives, in order. */
	got = relay_through(&r, src[0], blob, sizeof(blob), sent, dst[1], out, got);
	T_OK(got == sizeof(out) && memcmp(blob, out, sizeof(out)) == 0,
	     "%s: 1 MiB arrives byte-exact after the stall", mode_name[mode]);
	relay_free(&r);
	close(src[0]); close(src[1]); close(dst[0]); close(dst[1]);
}

static void
test_limit(enum relay_mode mode)
{
	int src[2], dst[2];
	struct relay r;
	char buf[64];
	size_t n;

	pairs(src, dst);
	relay_init(&r, src[1], dst[0], mode, "HEAD ", 5);
	r.left = 4;
	r.shut_on_eof = false;
	(void)!write(src[0], "bodyNEXT REQUEST", 16);
	relay_pump(&r);
	n = drain(dst[1], buf, sizeof(buf) - 1);
	buf[n] = '\0';
	T_STREQ(buf, "HEAD body", "%s: only <left> bytes are moved (a pipelined request stays)",
		mode_name[mode]);
	T_OK(relay_done(&r) && !relay_want_read(&r), "%s: then the direction is done",
	     mode_name[mode]);
	T_OK(write(dst[0], "x", 1) == 1, "%s: without shutting the destination", mode_name[mode]);
	relay_free(&r);
	close(src[0]); close(src[1]); close(dst[0]); close(dst[1]);
}

static void
test_reset(enum relay_mode mode)
{
	int src[2], dst[2];
	struct relay r;

	pairs(src, dst);
	relay_init(&r, src[1], dst[0], mode, NULL, 0);
	close(dst[1]); /* the receiver is gone */
	(void)!write(src[0], "data", 4);
	T_OK(relay_pump(&r) == -1 && errno == EPIPE, "%s: a vanished receiver is an EPIPE error",
	     mode_name[mode]);
	relay_free(&r);
	close(src[0]); close(src[1]); close(dst[0]);
}

/* splice: a short exchange never makes a pipe; a source that fills the pipe grows it
 * once to RELAY_PIPE_BULK; the bytes arrive exact either way. */
static void
test_pipe_grow(void)
{
	int src[2], dst[2], sz = 1 << 20;
	struct relay r;
	static char blob[1 << 20], out[1 << 20];
	size_t got = 0;

	pairs(src, dst);
	setsockopt(src[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(dst[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	fill_pattern(blob, sizeof(blob));
	relay_init(&r, src[1], dst[0], RELAY_SPLICE, NULL, 0);
	(void)!write(src[0], blob, 100);
	relay_pump(&r);
	got = drain(dst[1], out, sizeof(out));
	T_OK(got == 100 && r.pipe[0] == -1 && r.pipe_cap == 0,
	     "splice: 100 bytes go through the small buffer, no pipe is made");
	got = relay_through(&r, src[0], blob, sizeof(blob), 100, dst[1], out, got);
	T_OK(r.pipe_cap == RELAY_PIPE_BULK, "splice: a bulk source grew the pipe to %d bytes (%zu)",
	     RELAY_PIPE_BULK, r.pipe_cap);
	T_OK(got == sizeof(out) && memcmp(blob, out, sizeof(out)) == 0,
	     "splice: 1 MiB arrives byte-exact through the grown pipe");
	relay_free(&r);
	close(src[0]); close(src[1]); close(dst[0]); close(dst[1]);
}

/* TCP with small segments (each write its own segment, TCP_NODELAY): the pipe runs out of
 * slots before bytes, and that too grows it once RELAY_COPY_FIRST bytes wait in it. */
static void
test_pipe_grow_small_segments(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), cfd, sfd = -1, dst[2], one = 1;
	int small = 4096;
	struct relay r;
	static char seg[1448], out[400 * sizeof(seg)];
	size_t got = 0;

	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	T_OK(lfd >= 0 && bind(lfd, (void *)&a, sizeof(a)) == 0 && listen(lfd, 1) == 0 &&
		     getsockname(lfd, (void *)&a, &al) == 0 && connect(cfd, (void *)&a, sizeof(a)) == 0 &&
		     (sfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0,
	     "small segments: a TCP pair on loopback");
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, dst);
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(dst[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)); /* a slow reader */
	relay_init(&r, sfd, dst[0], RELAY_SPLICE, NULL, 0);
	/* Past the copied first bytes, with a reader keeping up: the pipe is made. */
	for (size_t i = 0; i < 400 && r.pipe[0] == -1; i++) {
		memset(seg, 'a' + (int)(i % 26), sizeof(seg));
		(void)!write(cfd, seg, sizeof(seg));
		relay_pump(&r);
		got += drain(dst[1], out + got, sizeof(out) - got);
	}
	T_OK(r.pipe[0] != -1 && r.pipe_cap == 0, "small segments: a pipe of the default size");
	/* Then the reader stalls while 100 small segments queue up. */
	for (size_t i = 0; i < 100; i++) {
		memset(seg, 'a' + (int)((got / sizeof(seg) + i) % 26), sizeof(seg));
		(void)!write(cfd, seg, sizeof(seg));
	}
	for (int k = 0; k < 4; k++)
		relay_pump(&r);
	T_OK(r.pipe_cap == RELAY_PIPE_BULK,
	     "small segments: out of slots with a bulk's worth waiting, the pipe grew (%zu)",
	     r.pipe_cap);
	shutdown(cfd, SHUT_WR);
	for (int i = 0; i < 100000 && !relay_done(&r); i++) {
		if (relay_pump(&r) == -1)
			break;
		got += drain(dst[1], out + got, sizeof(out) - got);
	}
	got += drain(dst[1], out + got, sizeof(out) - got);
	{
		bool ordered = true;

		for (size_t i = 0; i < got; i++)
			ordered = ordered && out[i] == 'a' + (int)(i / sizeof(seg) % 26);
		T_OK(got > 100 * sizeof(seg) && got % sizeof(seg) == 0 && ordered,
		     "small segments: every byte arrives, in order (%zu)", got);
	}
	relay_free(&r);
	close(lfd); close(cfd); close(sfd); close(dst[0]); close(dst[1]);
}

/* At most RELAY_BULK_PIPES_MAX pipes are grown at once (the supervisor is root: no
 * kernel quota); a freed relay gives its share back. */
static void
test_pipe_grow_bound(void)
{
	enum { N = RELAY_BULK_PIPES_MAX + 1 };
	static struct relay r[N + 1];
	static int src[N + 1][2], dst[N + 1][2];
	static char blob[RELAY_COPY_FIRST + 2 * RELAY_BUF_SIZE];
	size_t grown = 0;

	memset(blob, 'x', sizeof(blob));
	for (int i = 0; i <= N; i++) {
		int big = 1 << 20;

		pairs(src[i], dst[i]);
		setsockopt(src[i][0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
		relay_init(&r[i], src[i][1], dst[i][0], RELAY_SPLICE, NULL, 0);
	}
	for (int i = 0; i < N; i++) {
		(void)!write(src[i][0], blob, sizeof(blob));
		for (int k = 0; k < 8; k++) {
			relay_pump(&r[i]);
			(void)drain(dst[i][1], blob, 0); /* nothing read: the pipe fills */
		}
		grown += r[i].pipe_cap == RELAY_PIPE_BULK;
	}
	T_OK(grown == RELAY_BULK_PIPES_MAX, "bound: %d of %d bulk relays grew their pipe (%zu)",
	     RELAY_BULK_PIPES_MAX, N, grown);
	relay_free(&r[0]);
	(void)!write(src[N][0], blob, sizeof(blob));
	for (int k = 0; k < 8; k++)
		relay_pump(&r[N]);
	T_OK(r[N].pipe_cap == RELAY_PIPE_BULK, "bound: a freed relay's share goes to the next");
	for (int i = 0; i <= N; i++) {
		relay_free(&r[i]);
		close(src[i][0]); close(src[i][1]); close(dst[i][0]); close(dst[i][1]);
	}
}

/* A chunked body (a forward POST): relayed as sent while it arrives in pieces, across
 * more than RELAY_BUF_SIZE, and nothing after its end. */
static void
test_framed(void)
{
	int src[2], dst[2];
	struct relay r;
	struct h1msg m;
	static char big[3 * RELAY_BUF_SIZE + 17], out[sizeof(big) + 256];
	static const char tail[] = "\r\n0\r\nX-T: 1\r\n\r\n", next[] = "GET /next HTTP/1.1\r\n\r\n";
	char line[32];
	size_t n, got = 0;
	bool pumped = true;

	pairs(src, dst);
	h1msg_init_chunked(&m, H1MSG_REQUEST);
	relay_init(&r, src[1], dst[0], RELAY_SPLICE, NULL, 0);
	T_OK(relay_frame(&r, &m) == -1 && errno == EINVAL,
	     "framed: a splicing relay is refused (the decoder must see each byte)");
	relay_free(&r);
	relay_init(&r, src[1], dst[0], RELAY_COPY, "HEAD\r\n\r\n", 8);
	r.shut_on_eof = false;
	T_OK(relay_frame(&r, &m) == 0, "framed: a copying relay takes the decoder");
	memset(big, 'b', sizeof(big));
	snprintf(line, sizeof(line), "%zx\r\n", sizeof(big));
	(void)!write(src[0], line, strlen(line));
	T_OK(relay_pump(&r) == 0 && !r.eof, "framed: a chunk-size line alone is not the end");
	for (size_t sent = 0; sent < sizeof(big) && pumped;) {
		ssize_t w = write(src[0], big + sent, sizeof(big) - sent);

		if (w > 0)
			sent += (size_t)w;
		pumped = relay_pump(&r) == 0;
		got += drain(dst[1], out + got, sizeof(out) - got);
	}
	T_OK(pumped, "framed: the chunk's data, %zu bytes in several reads, is relayed",
	     sizeof(big));
	(void)!write(src[0], tail, strlen(tail));
	(void)!write(src[0], next, strlen(next));
	T_OK(relay_pump(&r) == 0 && r.eof && relay_done(&r),
	     "framed: the last chunk and the trailers end the direction");
	got += drain(dst[1], out + got, sizeof(out) - got);
	n = 8 + strlen(line) + sizeof(big) + strlen(tail);
	T_OK(got == n, "framed: head, chunk and trailers relayed, %zu bytes (%zu)", n, got);
	T_OK(got >= strlen(tail) && memcmp(out + got - strlen(tail), tail, strlen(tail)) == 0 &&
		     memmem(out, got, "/next", 5) == NULL,
	     "framed: as sent, and the request pipelined after it is dropped");
	T_OK(!relay_want_read(&r), "framed: nothing more is read");
	relay_free(&r);
	close(src[0]); close(src[1]); close(dst[0]); close(dst[1]);

	pairs(src, dst);
	h1msg_init_chunked(&m, H1MSG_REQUEST);
	relay_init(&r, src[1], dst[0], RELAY_COPY, NULL, 0);
	relay_frame(&r, &m);
	(void)!write(src[0], "3\r\nabcX\r\n", 10);
	T_OK(relay_pump(&r) == -1 && errno == EPROTO,
	     "framed: data longer than its chunk size fails with EPROTO (the caller closes)");
	relay_free(&r);
	close(src[0]); close(src[1]); close(dst[0]); close(dst[1]);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	for (int m = RELAY_COPY; m <= RELAY_SPLICE; m++) {
		test_basic((enum relay_mode)m);
		test_backpressure((enum relay_mode)m);
		test_limit((enum relay_mode)m);
		test_reset((enum relay_mode)m);
	}
	test_framed();
	test_pipe_grow();
	test_pipe_grow_small_segments();
	test_pipe_grow_bound();
	return t_done();
}
