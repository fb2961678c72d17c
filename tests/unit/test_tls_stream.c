/*
 * tls/stream and tls/upstream: the proxy's two TLS roles talking to each other over a
 * non-blocking socketpair driven from one thread: upstream verification (extra CA file,
 * wrong name, unknown CA), prefix bytes, partial writes, EOF shapes, EPIPE without
 * SIGPIPE, and plain streams. SIGPIPE keeps its default action here on purpose: a write
 * that raised it would kill the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "t.h"
#include "tls/ca.h"
#include "tls/stream.h"
#include "tls/upstream.h"
#include "tls_fixture.h"
#include "util/util.h"

static struct tls_ca *ca;
static char ca_file[] = "/tmp/agentcage-test-ca-XXXXXX";

/* Waits for the event <s> wants (5 s cap: a stuck test is a bug, not a hang). */
static int
wait_want(const struct tstream *s)
{
	struct pollfd p = {s->fd, s->want == TS_WANT_WRITE ? POLLOUT : POLLIN, 0};

	return poll(&p, 1, 5000) == 1 ? 0 : -1;
}

/* Reads from <s> until <len> bytes or EOF/error; -1 on error, else bytes read. */
static ssize_t
read_n(struct tstream *s, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = tstream_read(s, buf + got, len - got);

		if (n == 0)
			break;
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (errno != EAGAIN || wait_want(s) == -1)
			return -1;
	}
	return (ssize_t)got;
}

/* Reads until EOF or error; returns what the last read returned (0 EOF, -1 error). */
static ssize_t
read_until_end(struct tstream *s)
{
	char buf[256];

	for (;;) {
		ssize_t n = tstream_read(s, buf, sizeof(buf));

		if (n > 0)
			continue;
		if (n == -1 && errno == EAGAIN && wait_want(s) == 0)
			continue;
		return n;
	}
}

/* Upstream client <u> for <want> against a server presenting a leaf for <leaf>. */
static int
pair_upstream(struct tlsfx_pair *c, struct tls_upstream *u, const char *leaf, const char *want)
{
	char err[256];
	SSL *s, *cl;

	tlsfx_pair_open(c);
	s = tls_ca_server_ssl(ca, leaf, c->sv[1], err, sizeof(err));
	cl = tls_upstream_ssl(u, want, c->sv[0], err, sizeof(err));
	if (!s || !cl)
		abort();
	if (tstream_init(&c->srv, c->sv[1], s, NULL, 0) == -1 ||
	    tstream_init(&c->cli, c->sv[0], cl, NULL, 0) == -1)
		abort();
	return tlsfx_pair_handshake(c);
}

static void
test_upstream(void)
{
	char err[512] = "";
	struct tls_upstream *u = NULL, *sys = NULL;
	const unsigned char *sel;
	unsigned sel_len = 0;
	struct tlsfx_pair c;

	T_OK(tls_upstream_new(&u, ca_file, err, sizeof(err)) == 0, "upstream with extra CA (%s)",
	     err);
	if (!u)
		return;
	T_OK(pair_upstream(&c, u, "registry.test", "registry.test") == 0,
	     "right name: handshake succeeds (%s)", c.cli.err);
	SSL_get0_alpn_selected(c.cli.ssl, &sel, &sel_len);
	T_OK(sel_len == 8 && memcmp(sel, "http/1.1", 8) == 0, "ALPN http/1.1 offered upstream");
	T_STREQ(SSL_get_servername(c.srv.ssl, TLSEXT_NAMETYPE_host_name), "registry.test",
	        "SNI sent");
	T_STREQ(tstream_version(&c.cli), "TLSv1.3", "version for logs");
	tlsfx_pair_close(&c);

	T_OK(pair_upstream(&c, u, "registry.test", "other.test") == -1 && c.ecli == EPROTO,
	     "wrong name: client fails with EPROTO");
	T_CONTAINS(c.cli.err, "certificate verify failed", "wrong name: reason says verify failed");
	T_CONTAINS(c.cli.err, "hostname mismatch", "wrong name: and why");
	T_OK(c.esrv != 0, "wrong name: the server side fails too (alert)");
	tlsfx_pair_close(&c);

	T_OK(pair_upstream(&c, u, "127.0.0.1", "127.0.0.1") == 0, "IP literal verifies (%s)",
	     c.cli.err);
	T_OK(SSL_get_servername(c.srv.ssl, TLSEXT_NAMETYPE_host_name) == NULL,
	     "no SNI for an IP literal");
	tlsfx_pair_close(&c);
	T_OK(pair_upstream(&c, u, "127.0.0.1", "127.0.0.2") == -1 && c.ecli == EPROTO,
	     "wrong IP refused");
	tlsfx_pair_close(&c);

	T_OK(tls_upstream_new(&sys, NULL, err, sizeof(err)) == 0, "upstream without extra CA");
	if (sys) {
		T_OK(pair_upstream(&c, sys, "registry.test", "registry.test") == -1 &&
		             c.ecli == EPROTO,
		     "CA not given: refused");
		T_CONTAINS(c.cli.err, "certificate verify failed: unable to get local issuer",
		           "CA not given: reason");
		tlsfx_pair_close(&c);
	}
	tls_upstream_free(sys);

	errno = 0;
	T_OK(!tls_upstream_ssl(u, "bad host", -1, err, sizeof(err)) && errno == EINVAL,
	     "bad upstream host refused");
	tls_upstream_free(u);
	u = NULL;

	errno = 0;
	T_OK(tls_upstream_new(&u, "/nonexistent/ca.pem", err, sizeof(err)) == -1 && !u &&
	             errno == ENOENT,
	     "missing CA file: -1 ENOENT");
	T_CONTAINS(err, "/nonexistent/ca.pem", "message names the file");
	T_CONTAINS(err, "hint: give a PEM file", "message has the hint");
	errno = 0;
	T_OK(tls_upstream_new(&u, "/etc/hostname", err, sizeof(err)) == -1 && !u && errno == EINVAL,
	     "a file without certificates: -1 EINVAL");
	T_CONTAINS(err, "/etc/hostname", "message names the file (%s)", err);
	T_CONTAINS(err, "hint:", "and hints");
}

/* A plain TLS connection (client = upstream role, server = CA leaf), the server given
 * the first <pre> bytes of the ClientHello as a prefix. */
static void
test_prefix(struct tls_upstream *u, size_t pre)
{
	char err[256], hello[4096], buf[16];
	struct tlsfx_pair c;
	ssize_t n;
	SSL *s, *cl;

	tlsfx_pair_open(&c);
	cl = tls_upstream_ssl(u, "pre.test", c.sv[0], err, sizeof(err));
	tstream_init(&c.cli, c.sv[0], cl, NULL, 0);
	T_OK(tstream_handshake(&c.cli) == -1 && errno == EAGAIN && c.cli.want == TS_WANT_READ,
	     "client sent its hello and waits to read");
	n = recv(c.sv[1], hello, pre ? pre : sizeof(hello), 0); /* 0: all of it */
	T_OK(n > 0 && (pre == 0 || (size_t)n == pre), "test read %zd hello bytes first", n);
	s = tls_ca_server_ssl(ca, "pre.test", c.sv[1], err, sizeof(err));
	T_OK(tstream_init(&c.srv, c.sv[1], s, hello, n > 0 ? (size_t)n : 0) == 0,
	     "init with prefix");
	T_OK(tstream_pending(&c.srv), "prefix counts as pending");
	T_OK(tlsfx_pair_handshake(&c) == 0, "handshake with a %zd-byte prefix (%s | %s)", n,
	     c.cli.err, c.srv.err);
	T_OK(tstream_write(&c.cli, "GET / HTTP/1.1\r\n", 16) == 16, "client writes");
	T_OK(read_n(&c.srv, buf, 16) == 16 && memcmp(buf, "GET / HTTP/1.1\r\n", 16) == 0,
	     "server reads it");
	tlsfx_pair_close(&c);
}

/* 1 MiB through a socketpair whose buffer is far smaller: writes are partial or EAGAIN
 * with want WRITE, and every byte arrives in order. */
static void
test_partial_writes(struct tls_upstream *u)
{
	enum { TOTAL = 1 << 20 };
	char *out = malloc(TOTAL), *in = malloc(TOTAL);
	size_t woff = 0, roff = 0;
	bool saw_short = false, saw_want_write = false, broken = false;
	struct tlsfx_pair c;
	int sz = 16 * 1024;

	tlsfx_pair_open(&c);
	setsockopt(c.sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	for (size_t i = 0; i < TOTAL; i++)
		out[i] = (char)(i * 7 + (i >> 11));
	{
		char err[256];
		SSL *s = tls_ca_server_ssl(ca, "bulk.test", c.sv[1], err, sizeof(err));
		SSL *cl = tls_upstream_ssl(u, "bulk.test", c.sv[0], err, sizeof(err));

		tstream_init(&c.srv, c.sv[1], s, NULL, 0);
		tstream_init(&c.cli, c.sv[0], cl, NULL, 0);
	}
	if (tlsfx_pair_handshake(&c) == -1)
		broken = true;
	while (!broken && roff < TOTAL) {
		struct pollfd p[2];
		ssize_t n;

		if (woff < TOTAL) {
			n = tstream_write(&c.cli, out + woff, TOTAL - woff);
			if (n > 0) {
				if ((size_t)n < TOTAL - woff)
					saw_short = true;
				woff += (size_t)n;
			} else if (errno == EAGAIN) {
				saw_want_write |= c.cli.want == TS_WANT_WRITE;
			} else {
				broken = true;
			}
		}
		n = tstream_read(&c.srv, in + roff, TOTAL - roff);
		if (n > 0)
			roff += (size_t)n;
		else if (n == 0 || errno != EAGAIN)
			broken = true;
		if (broken || roff == TOTAL || tstream_pending(&c.srv))
			continue;
		p[0] = (struct pollfd){c.sv[1], POLLIN, 0};
		p[1] = (struct pollfd){c.sv[0], POLLOUT, 0};
		if (poll(p, woff < TOTAL ? 2 : 1, 5000) <= 0)
			broken = true;
	}
	T_OK(!broken && roff == TOTAL && memcmp(in, out, TOTAL) == 0,
	     "1 MiB arrives intact through partial writes");
	T_OK(saw_short || saw_want_write, "writes were partial or waited for POLLOUT");
	tlsfx_pair_close(&c);
	free(out);
	free(in);
}

/* EOF shapes: close_notify + FIN (tstream_shutdown), bare FIN, FIN during the
 * handshake; EPIPE when the peer is gone. */
static void
test_eof(struct tls_upstream *u)
{
	struct tlsfx_pair c;
	char b;

	T_OK(pair_upstream(&c, u, "eof.test", "eof.test") == 0, "eof: connected");
	T_OK(tstream_shutdown(&c.cli) == 0, "client shutdown (close_notify + FIN)");
	T_OK(read_until_end(&c.srv) == 0, "server reads EOF after close_notify");
	T_OK(tstream_write(&c.srv, "x", 1) == 1, "server may still write after the client's EOF");
	T_OK(read_n(&c.cli, &b, 1) == 1 && b == 'x', "half-close: client still reads");
	tlsfx_pair_close(&c);

	T_OK(pair_upstream(&c, u, "eof.test", "eof.test") == 0, "fin: connected");
	shutdown(c.sv[0], SHUT_WR); /* a FIN without close_notify */
	T_OK(read_until_end(&c.srv) == 0, "bare FIN is EOF too");
	tlsfx_pair_close(&c);

	tlsfx_pair_open(&c);
	{
		char err[256];
		SSL *s = tls_ca_server_ssl(ca, "eof.test", c.sv[1], err, sizeof(err));

		tstream_init(&c.srv, c.sv[1], s, NULL, 0);
	}
	T_OK(tstream_handshake(&c.srv) == -1 && errno == EAGAIN && c.srv.want == TS_WANT_READ,
	     "server waits for a hello");
	shutdown(c.sv[0], SHUT_WR);
	T_OK(tstream_handshake(&c.srv) == -1 && errno == ECONNRESET,
	     "FIN during the handshake is ECONNRESET");
	T_CONTAINS(c.srv.err, "peer closed", "and says so");
	tlsfx_pair_close(&c);

	T_OK(pair_upstream(&c, u, "eof.test", "eof.test") == 0, "epipe: connected");
	tstream_free(&c.cli);
	ut_close(&c.sv[0]);
	{
		ssize_t n = tstream_write(&c.srv, "data", 4);

		T_OK(n == -1 && errno == EPIPE, "write to a closed peer: EPIPE, no SIGPIPE");
	}
	tlsfx_pair_close(&c);
}

/* A stale error left in the queue by someone else must not turn EAGAIN into EPROTO. */
static void
test_stale_errors(struct tls_upstream *u)
{
	struct tlsfx_pair c;
	char b;

	T_OK(pair_upstream(&c, u, "stale.test", "stale.test") == 0, "stale: connected");
	ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
	T_OK(tstream_read(&c.srv, &b, 1) == -1 && errno == EAGAIN, "stale queued error ignored");
	tlsfx_pair_close(&c);
}

static void
test_plain(void)
{
	struct tstream s;
	char buf[16];
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	T_OK(tstream_init(&s, sv[0], NULL, "pre", 3) == 0, "plain init with prefix");
	T_OK(tstream_handshake(&s) == 0, "plain handshake is immediate");
	T_STREQ(tstream_version(&s), "plain", "plain version");
	T_OK(tstream_pending(&s), "prefix pending");
	T_OK(write(sv[1], "wire", 4) == 4, "peer writes");
	T_OK(tstream_read(&s, buf, 2) == 2 && memcmp(buf, "pr", 2) == 0, "prefix first, in pieces");
	T_OK(tstream_read(&s, buf, sizeof(buf)) == 1 && buf[0] == 'e',
	     "prefix rest, never mixed with socket bytes");
	T_OK(!tstream_pending(&s), "prefix consumed");
	T_OK(tstream_read(&s, buf, sizeof(buf)) == 4 && memcmp(buf, "wire", 4) == 0,
	     "then the socket");
	T_OK(tstream_read(&s, buf, sizeof(buf)) == -1 && errno == EAGAIN && s.want == TS_WANT_READ,
	     "nothing more: EAGAIN, want read");
	T_OK(tstream_write(&s, "out", 3) == 3 && read(sv[1], buf, sizeof(buf)) == 3, "plain write");
	T_OK(tstream_shutdown(&s) == 0 && read(sv[1], buf, sizeof(buf)) == 0,
	     "plain shutdown sends FIN");
	shutdown(sv[1], SHUT_WR);
	T_OK(tstream_read(&s, buf, sizeof(buf)) == 0, "plain EOF");
	close(sv[1]);
	T_OK(tstream_write(&s, "x", 1) == -1 && errno == EPIPE,
	     "plain write to a gone peer: EPIPE");
	tstream_free(&s);
	tstream_free(&s);
	close(sv[0]);
}

int
main(void)
{
	char err[256];
	struct tls_upstream *u = NULL;
	int fd;

	if (tls_ca_new(&ca, "stream", err, sizeof(err)) == -1) {
		T_OK(0, "test CA (%s)", err);
		return t_done();
	}
	fd = mkstemp(ca_file);
	if (fd == -1 || ut_write_all(fd, tls_ca_cert_pem(ca), strlen(tls_ca_cert_pem(ca))) == -1)
		abort();
	close(fd);
	test_upstream();
	if (tls_upstream_new(&u, ca_file, err, sizeof(err)) == 0) {
		test_prefix(u, 5); /* just the record header */
		test_prefix(u, 1);
		test_prefix(u, 0); /* the whole hello */
		test_partial_writes(u);
		test_eof(u);
		test_stale_errors(u);
	}
	tls_upstream_free(u);
	test_plain();
	unlink(ca_file);
	tls_ca_free(ca);
	return t_done();
}
