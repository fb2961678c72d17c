/*
 * test_perf4_relay: a splice-mode relay makes no pipe for a short exchange (its first
 * RELAY_COPY_FIRST bytes are copied), then makes one and moves a large stream byte-exact
 * through it, prefix first; a relay freed before that leaves no fd behind.
 */
#include "proxy/relay.h"
#include "util/util.h"

#include <fcntl.h>
#include <sys/socket.h>

#include "t.h"

#define BIG (1024 * 1024)

/* Moves <src> -> <dst> until <want> bytes arrived in <out>; the relay is pumped in between. */
static size_t
move(struct relay *r, int in, int out, const char *data, size_t len, char *got, size_t want)
{
	size_t sent = 0, have = 0;

	while (have < want) {
		ssize_t n = 0;

		if (sent < len && (n = send(in, data + sent, len - sent, MSG_DONTWAIT)) > 0)
			sent += (size_t)n;
		if (relay_pump(r) == -1)
			break;
		n = recv(out, got + have, want - have, MSG_DONTWAIT);
		if (n > 0)
			have += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && n == -1))
			break;
	}
	return have;
}

int
main(void)
{
	int a[2], b[2];
	struct relay r;
	char *data = malloc(BIG), *got = malloc(BIG + 8);

	T_OK(data && got && socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, a) == 0 &&
	     socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, b) == 0, "setup");
	for (size_t i = 0; i < BIG; i++)
		data[i] = (char)(i * 7 + i / 251);
	/* a[0] client writes, the relay reads a[1] and writes b[0], b[1] reads */
	T_OK(relay_init(&r, a[1], b[0], RELAY_SPLICE, "HI ", 3) == 0 && r.mode == RELAY_SPLICE,
	     "splice-mode relay");
	T_OK(r.pipe[0] == -1 && r.pipe[1] == -1, "no pipe made at init");
	T_OK(move(&r, a[0], b[1], data, 100, got, 103) == 103 && memcmp(got, "HI ", 3) == 0 &&
	     memcmp(got + 3, data, 100) == 0, "a short exchange arrives, prefix first");
	T_OK(r.pipe[0] == -1, "and made no pipe (%d)", r.pipe[0]);
	T_OK(move(&r, a[0], b[1], data + 100, BIG - 100, got, BIG - 100) == BIG - 100 &&
	     memcmp(got, data + 100, BIG - 100) == 0, "1 MiB more arrives byte-exact");
	T_OK(r.mode == RELAY_SPLICE && r.pipe[0] >= 0 && r.buf == NULL,
	     "through a pipe made past %d bytes, the copy buffer freed", RELAY_COPY_FIRST);
	T_OK(r.bytes == (uint64_t)BIG + 3, "every byte counted (%llu)", (unsigned long long)r.bytes);
	relay_free(&r);
	T_OK(r.pipe[0] == -1 && r.pipe[1] == -1, "freed: its pipe is closed");
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	free(data);
	free(got);
	return t_done();
}
