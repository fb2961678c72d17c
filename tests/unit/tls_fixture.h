/*
 * tls_fixture.h: what the TLS tests share (test_tls_ca.c, test_tls_stream.c): a
 * non-blocking socketpair carrying a client and a server tstream, and one loop that
 * drives both handshakes from a single thread.
 *
 * Context: one test program, one thread. Header-only: each test source under tests/unit
 * is its own program, so every helper is static (T_UNUSED: not every test uses every one).
 * Errors: tlsfx_handshake_both() returns 0 / -1 with each side's errno kept apart; a
 * socketpair the kernel refuses aborts the test (nothing else can run without one).
 * Ownership: struct tlsfx_pair owns both sockets and both tstreams (and so their SSLs);
 * tlsfx_pair_close() frees them.
 */
#ifndef AGENTCAGE_TEST_TLS_FIXTURE_H
#define AGENTCAGE_TEST_TLS_FIXTURE_H

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "t.h"
#include "tls/stream.h"
#include "util/util.h"

#define TLSFX_HANDSHAKE_ROUNDS 200  /* a handshake takes a few; more is a bug */
#define TLSFX_POLL_MS          5000 /* a stuck test is a bug, not a hang */

/*
 * Drives the handshakes of <a> and <b> until both finish or one fails; waits with poll,
 * never sleeps. 0 when both succeeded; -1 otherwise, with *ea / *eb the errno of each
 * side (0: that side finished; EAGAIN: it was still waiting).
 */
T_UNUSED static int
tlsfx_handshake_both(struct tstream *a, struct tstream *b, int *ea, int *eb)
{
	bool da = false, db = false;

	*ea = *eb = EAGAIN;
	for (int round = 0; round < TLSFX_HANDSHAKE_ROUNDS && !(da && db); round++) {
		struct pollfd p[2];
		nfds_t n = 0;

		if (!da && *ea == EAGAIN) {
			if (tstream_handshake(a) == 0)
				da = true, *ea = 0;
			else if (errno != EAGAIN)
				*ea = errno;
		}
		if (!db && *eb == EAGAIN) {
			if (tstream_handshake(b) == 0)
				db = true, *eb = 0;
			else if (errno != EAGAIN)
				*eb = errno;
		}
		if ((*ea != 0 && *ea != EAGAIN) || (*eb != 0 && *eb != EAGAIN)) {
			/* one side failed: let the other read the alert, once */
			if (*ea == EAGAIN && tstream_handshake(a) == -1 && errno != EAGAIN)
				*ea = errno;
			if (*eb == EAGAIN && tstream_handshake(b) == -1 && errno != EAGAIN)
				*eb = errno;
			return -1;
		}
		if (!da)
			p[n++] = (struct pollfd){a->fd, a->want == TS_WANT_WRITE ? POLLOUT : POLLIN,
			                         0};
		if (!db)
			p[n++] = (struct pollfd){b->fd, b->want == TS_WANT_WRITE ? POLLOUT : POLLIN,
			                         0};
		if (n > 0 && poll(p, n, TLSFX_POLL_MS) <= 0)
			return -1; /* stuck: a bug */
	}
	return da && db ? 0 : -1;
}

/* A client and a server over one socketpair, and how each handshake ended. */
struct tlsfx_pair {
	int sv[2]; /* [0] client side, [1] server side */
	struct tstream cli, srv;
	int ecli, esrv;
};

/* Zeroes <pr> and opens its non-blocking socketpair; the tstreams are the caller's to
 * tstream_init(). Aborts when the kernel refuses the socketpair. */
T_UNUSED static void
tlsfx_pair_open(struct tlsfx_pair *pr)
{
	memset(pr, 0, sizeof(*pr));
	pr->sv[0] = pr->sv[1] = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pr->sv) == -1)
		abort();
}

/* tlsfx_handshake_both() on the pair's two tstreams, the results kept in the pair. */
T_UNUSED static int
tlsfx_pair_handshake(struct tlsfx_pair *pr)
{
	return tlsfx_handshake_both(&pr->cli, &pr->srv, &pr->ecli, &pr->esrv);
}

/* Frees both tstreams and closes both sockets. */
T_UNUSED static void
tlsfx_pair_close(struct tlsfx_pair *pr)
{
	tstream_free(&pr->cli);
	tstream_free(&pr->srv);
	ut_close(&pr->sv[0]);
	ut_close(&pr->sv[1]);
}

#endif
