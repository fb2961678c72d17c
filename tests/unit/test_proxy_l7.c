/*
 * The HTTP session inside inspected CONNECT tunnels (proxy/l7.h), in-process: the proxy
 * (conn.c + l7.c) runs in this thread's event loop with a real engine and a real
 * per-sandbox CA (tls/ca.h); a client thread speaks through one end of a socketpair
 * handed to conn_start(), with blocking OpenSSL trusting that CA; an origin thread
 * serves a loopback TCP port, with TLS from a second CA ("the origin's CA") that the
 * proxy's upstream context (tls/upstream.h) is given as its extra CA file. Identity and
 * the address rules are stubbed (no sandbox process; loopback is refused by the real
 * rules).
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/ssl.h>

#include "proxy_fixture.h"
#include "tls/ca.h"
#include "tls/upstream.h"

#define IO_TIMEOUT_S 10
#define SCENARIO_WATCHDOG_MS 30000

/* --- blocking I/O over a socket, TLS or not (client and origin threads) --- */

struct io {
	int fd;
	SSL *ssl;
	char got[256 * 1024];
	size_t len;
	bool eof;
};

static void
io_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void
io_send(struct io *io, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = io->ssl ? SSL_write(io->ssl, p, (int)n) : send(io->fd, p, n, MSG_NOSIGNAL);
		if (k <= 0)
			return;
		p += k;
		n -= (size_t)k;
	}
}

static void
io_sends(struct io *io, const char *s)
{
	io_send(io, s, strlen(s));
}

/* One read into io->got; false at EOF or error. */
static bool
io_read1(struct io *io)
{
	ssize_t k;

	if (io->eof || io->len + 1 >= sizeof(io->got))
		return false;
	k = io->ssl ? SSL_read(io->ssl, io->got + io->len, (int)(sizeof(io->got) - io->len - 1))
		    : read(io->fd, io->got + io->len, sizeof(io->got) - io->len - 1);
	if (k <= 0) {
		io->eof = true;
		return false;
	}
	io->len += (size_t)k;
	io->got[io->len] = '\0';
	return true;
}

/* Reads until io->got holds <n> occurrences of <needle> after <from>, or EOF. */
static bool
io_until(struct io *io, size_t from, const char *needle, int n)
{
	for (;;) {
		const char *p = io->got + from;
		int seen = 0;

		while ((p = strstr(p, needle)) != NULL) {
			seen++;
			p += strlen(needle);
		}
		if (seen >= n)
			return true;
		if (!io_read1(io))
			return false;
	}
}

static void
io_read_all(struct io *io)
{
	while (io_read1(io))
		;
}

/* close_notify (TLS) and FIN: "no more requests", reading goes on. */
static void
io_shut(struct io *io)
{
	if (io->ssl)
		SSL_shutdown(io->ssl);
	shutdown(io->fd, SHUT_WR);
}

/* --- the origin: one connection per test, requests answered from a script --- */

struct origin {
	int lfd;
	uint16_t port;
	bool tls;
	const char *leaf;        /* name on the origin's certificate */
	const char *resp[4];     /* answer to the i-th request; NULL: stop */
	bool continue_first;     /* send "100 Continue" before reading a body */
	bool close_after;        /* close after the last scripted answer */
	bool read_one;           /* no script: close after the first bytes arrived */
	struct tls_ca *ca;
	struct io io;
	int nreq;
	bool accepted;
	pthread_t th;
};

/* Content-Length of the head ending at <end> in <got> (0 without one). */
static size_t
head_length(const char *head)
{
	const char *cl = strcasestr(head, "\r\ncontent-length:");

	return cl ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
}

static void *
origin_main(void *arg)
{
	struct origin *o = arg;
	struct pollfd p = { .fd = o->lfd, .events = POLLIN };
	size_t pos = 0;
	char err[256];

	if (poll(&p, 1, IO_TIMEOUT_S * 1000) != 1)
		return NULL;
	o->io.fd = accept4(o->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (o->io.fd == -1)
		return NULL;
	o->accepted = true;
	io_timeouts(o->io.fd);
	if (o->tls) {
		o->io.ssl = tls_ca_server_ssl(o->ca, o->leaf, o->io.fd, err, sizeof(err));
		if (o->io.ssl == NULL || SSL_accept(o->io.ssl) != 1)
			goto out;
	}
	for (int i = 0; i < (int)NELEM(o->resp) && o->resp[i] != NULL; i++) {
		char *end;
		size_t body;

		if (!io_until(&o->io, pos, "\r\n\r\n", 1))
			break;
		end = strstr(o->io.got + pos, "\r\n\r\n") + 4;
		body = head_length(o->io.got + pos);
		if (o->continue_first && body > 0)
			io_sends(&o->io, "HTTP/1.1 100 Continue\r\n\r\n");
		while ((size_t)(o->io.got + o->io.len - end) < body && io_read1(&o->io))
			;
		pos = (size_t)(end - o->io.got) + body;
		o->nreq++;
		io_sends(&o->io, o->resp[i]);
	}
	if (o->read_one)
		(void)io_read1(&o->io);
	else if (!o->close_after)
		io_read_all(&o->io); /* until the proxy closes */
out:
	if (o->io.ssl) {
		SSL_shutdown(o->io.ssl);
		SSL_free(o->io.ssl);
		o->io.ssl = NULL;
	}
	ut_close(&o->io.fd);
	return NULL;
}

/* --- the world: loop, proxy context, engine, CAs --- */

struct world {
	struct pxfx_proxy p;
	struct tls_ca *sandbox_ca, *origin_ca;
	struct tls_upstream *proxy_up, *client_up;
	struct origin o;
	char log[65536], err[8192];
};

struct client {
	struct world *w;
	const char *host;
	bool tls;
	void (*talk)(struct client *c);
	struct io io;
	bool opened;           /* 200 seen (and TLS up) */
	int done[2];
	const char *arg;
};

static void
client_open(struct client *c)
{
	char req[256], err[256];

	snprintf(req, sizeof(req), "CONNECT %s:%u HTTP/1.1\r\nHost: %s:%u\r\n\r\n", c->host,
		 c->w->o.port, c->host, c->w->o.port);
	io_sends(&c->io, req);
	/* byte by byte: what follows the 200 is the tunnel's */
	while (!strstr(c->io.got, "\r\n\r\n")) {
		ssize_t k = read(c->io.fd, c->io.got + c->io.len, 1);
		if (k <= 0)
			return;
		c->io.got[++c->io.len] = '\0';
	}
	if (!strstr(c->io.got, " 200 "))
		return;
	c->io.len = 0;
	c->io.got[0] = '\0';
	if (c->tls) {
		c->io.ssl = tls_upstream_ssl(c->w->client_up, c->host, c->io.fd, err, sizeof(err));
		if (c->io.ssl == NULL || SSL_connect(c->io.ssl) != 1)
			return;
	}
	c->opened = true;
}

static void *
client_main(void *arg)
{
	struct client *c = arg;

	client_open(c);
	if (c->opened)
		c->talk(c);
	(void)!write(c->done[1], "x", 1);
	return NULL;
}

/* The client thread is done: sets the bool at <data>. */
static void
done_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	(void)events;
	*(bool *)data = true;
	evloop_del(loop, fd);
}

/*
 * One scenario: the origin answers <o> (tls, leaf, answers set by the caller), the
 * client CONNECTs to <host> and runs <talk>. Runs the loop until the client is done and
 * every proxied connection has closed; the log and stderr lines land in w->log, w->err.
 */
static void
scenario(struct world *w, struct client *c)
{
	int sv[2];
	bool done = false;
	size_t len;

	c->w = w;
	w->o.io = (struct io){ .fd = -1 };
	w->o.nreq = 0;
	w->o.accepted = false;
	w->o.ca = w->origin_ca;
	pthread_create(&w->o.th, NULL, origin_main, &w->o);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	if (pipe2(c->done, O_CLOEXEC) == -1)
		return;
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	c->io.fd = sv[0];
	io_timeouts(sv[0]);
	conn_start(&w->p.px, sv[1]);
	evloop_add(w->p.loop, c->done[0], EV_READ, done_cb, &done);
	pthread_t th;
	pthread_create(&th, NULL, client_main, c);
	T_OK(pxfx_run_until(w->p.loop, pxfx_flag_set, &done, SCENARIO_WATCHDOG_MS),
	     "%s: the exchange ended on its own (no watchdog)", c->host);
	pthread_join(th, NULL);
	ut_close(&c->done[0]);
	ut_close(&c->done[1]);
	if (c->io.ssl) {
		SSL_free(c->io.ssl);
		c->io.ssl = NULL;
	}
	ut_close(&c->io.fd); /* the proxy finishes (drain, log lines) once it sees this */
	(void)pxfx_settle(&w->p, 0, SCENARIO_WATCHDOG_MS);
	pthread_join(w->o.th, NULL);
	len = 0;
	pxfx_drain(w->p.logfd[0], w->log, sizeof(w->log), &len);
	len = 0;
	pxfx_drain(w->p.errfd[0], w->err, sizeof(w->err), &len);
}

static void
origin_script(struct world *w, bool tls, const char *leaf, const char *r0, const char *r1,
	      const char *r2)
{
	w->o.tls = tls;
	w->o.leaf = leaf;
	w->o.resp[0] = r0;
	w->o.resp[1] = r1;
	w->o.resp[2] = r2;
	w->o.resp[3] = NULL;
	w->o.continue_first = false;
	w->o.close_after = false;
	w->o.read_one = false;
}

/* --- scenarios --- */

#define OK_CL "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

static void
talk_pipelined(struct client *c)
{
	/* allowed GET, denied POST with a small body (skipped), allowed GET: all at once */
	io_sends(&c->io,
		 "GET /a/../ok?q=secret&page=2 HTTP/1.1\r\nHost: rest.test\r\n"
		 "Proxy-Authorization: Basic eA==\r\nX-Keep: 1\r\n\r\n"
		 "POST /user/repos HTTP/1.1\r\nHost: rest.test\r\nContent-Length: 4\r\n\r\nbody"
		 "GET /two HTTP/1.1\r\nHost: REST.test.\r\n\r\n");
	io_shut(&c->io);
	io_read_all(&c->io);
}

static void
test_plain_pipelined(struct world *w)
{
	struct client c = { .host = "rest.test", .tls = false, .talk = talk_pipelined };

	origin_script(w, false, NULL, OK_CL, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo",
		      NULL);
	scenario(w, &c);
	T_OK(c.opened, "plain: the tunnel opened");
	T_CONTAINS(c.io.got, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		   "plain: the allowed GET's response is relayed");
	T_CONTAINS(c.io.got, "HTTP/1.1 403 Forbidden\r\n", "plain: the POST gets 403");
	T_CONTAINS(c.io.got, "\"error\":\"policy_denied\"", "plain: 403 is policy_denied JSON");
	T_CONTAINS(c.io.got, "POST /user/repos not permitted", "plain: with the engine's reason");
	T_OK(strstr(c.io.got, "Connection: close") == NULL,
	     "plain: a denial with a small body keeps the connection");
	T_OK(c.io.len > 3 && strcmp(c.io.got + c.io.len - 3, "two") == 0,
	     "plain: the GET pipelined behind the denied POST is still served, last");
	T_CONTAINS(w->o.io.got, "GET /ok?q=secret&page=2 HTTP/1.1\r\n",
		   "plain: the canonical path goes upstream, query verbatim");
	T_OK(strstr(w->o.io.got, "Proxy-Authorization") == NULL,
	     "plain: Proxy-Authorization is not sent upstream");
	T_CONTAINS(w->o.io.got, "X-Keep: 1\r\n", "plain: other headers are");
	T_OK(strstr(w->o.io.got, "/user/repos") == NULL && strstr(w->o.io.got, "body") == NULL,
	     "plain: the denied request and its body never reach the origin");
	T_CONTAINS(w->o.io.got, "GET /two HTTP/1.1\r\n", "plain: the third request reaches it");
	T_CONTAINS(w->log, "\"event\":\"http\"", "log: one line per request");
	T_CONTAINS(w->log, "\"path\":\"/ok?q=[redacted]&page=[redacted]\"",
		   "log: query values are redacted, keys kept");
	T_CONTAINS(w->log, "\"method\":\"POST\",\"path\":\"/user/repos\",\"status\":403,"
		   "\"decision\":\"deny\",\"error\":\"policy_denied\"",
		   "log: the denial with its status and error kind, as net lines");
	T_CONTAINS(w->log, "\"status\":200,\"decision\":\"allow\"", "log: the allowed GETs");
	T_CONTAINS(w->log, "\"tls\":false", "log: says the stream was not TLS");
	T_CONTAINS(w->log, "\"event\":\"net\"", "log: the connection's own line stays");
	T_CONTAINS(w->err, "agentcage: DENIED " CLIENT_EXE, "stderr: DENIED line");
	T_CONTAINS(w->err, "-> POST rest.test:", "stderr: names method and host");
	T_CONTAINS(w->err, "/user/repos \xe2\x80\x94 POST /user/repos not permitted",
		   "stderr: and the path and reason");
	T_OK(strstr(w->log, "secret") == NULL, "log: the query value never appears");
}

static void
talk_tls_framing(struct client *c)
{
	io_sends(&c->io, "GET /chunked HTTP/1.1\r\nHost: rest.test\r\n\r\n"
			 "GET /close HTTP/1.1\r\nHost: rest.test\r\n\r\n");
	io_read_all(&c->io);
}

static void
test_tls_framing(struct world *w)
{
	struct client c = { .host = "rest.test", .tls = true, .talk = talk_tls_framing };

	origin_script(w, true, "rest.test",
		      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
		      "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil-close body", NULL);
	w->o.close_after = true;
	scenario(w, &c);
	T_OK(c.opened, "tls: the client's handshake with the minted leaf succeeds");
	T_CONTAINS(c.io.got, "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
		   "tls: a chunked body with extensions and trailers is relayed verbatim");
	T_OK(c.io.len > 16 && strcmp(c.io.got + c.io.len - 16, "until-close body") == 0,
	     "tls: a close-delimited response follows, whole, then EOF");

	T_CONTAINS(w->o.io.got, "GET /close HTTP/1.1\r\n", "tls: both requests reached the origin");
	T_CONTAINS(w->log, "\"tls\":true", "log: tls true");
	T_OK(tls_ca_leaves_minted(w->sandbox_ca) >= 1, "a leaf was minted for the host");
}

static void
talk_big_denied(struct client *c)
{
	io_sends(&c->io, "PUT /big HTTP/1.1\r\nHost: rest.test\r\nContent-Length: 2097152\r\n\r\n");
	io_send(&c->io, "xxxxxxxxxxxxxxxx", 16);
	io_read_all(&c->io); /* the proxy closes */
}

static void
test_big_denied(struct world *w)
{
	struct client c = { .host = "rest.test", .tls = true, .talk = talk_big_denied };

	origin_script(w, true, "rest.test", NULL, NULL, NULL);
	scenario(w, &c);
	T_CONTAINS(c.io.got, "HTTP/1.1 403 Forbidden\r\n", "big body: 403");
	T_CONTAINS(c.io.got, "Connection: close\r\n", "big body: Connection: close");
	T_OK(c.io.eof, "big body: the connection is closed after the answer");
	T_OK(w->o.nreq == 0 && strstr(w->o.io.got, "PUT") == NULL,
	     "big body: nothing reached the origin");
}

static void
talk_host_mismatch(struct client *c)
{
	io_sends(&c->io, "GET /ok HTTP/1.1\r\nHost: evil.test\r\n\r\n"
			 "GET /ok HTTP/1.1\r\nHost: rest.test:1\r\n\r\n"
			 "GET http://evil.test/ok HTTP/1.1\r\nHost: rest.test\r\n\r\n");
	io_shut(&c->io);
	io_read_all(&c->io);
}

static void
test_host_mismatch(struct world *w)
{
	struct client c = { .host = "rest.test", .tls = true, .talk = talk_host_mismatch };
	char want[128];

	origin_script(w, true, "rest.test", NULL, NULL, NULL);
	scenario(w, &c);
	snprintf(want, sizeof(want), "Host header names evil.test, the tunnel is to rest.test:%u",
		 w->o.port);
	T_CONTAINS(c.io.got, want, "Host naming another host: 403 saying both");
	T_CONTAINS(c.io.got, "Host header names rest.test:1", "Host with another port: 403");
	T_CONTAINS(c.io.got, "the request names evil.test", "absolute-form target elsewhere: 403");
	T_OK(w->o.nreq == 0 && w->o.io.len == 0, "Host mismatch: nothing reached the origin");
	T_CONTAINS(w->log, "Host header names evil.test", "Host mismatch: logged");
}

static void
talk_continue(struct client *c)
{
	io_sends(&c->io, "POST /ok HTTP/1.1\r\nHost: rest.test\r\nContent-Length: 3\r\n"
			 "Expect: 100-continue\r\n\r\n");
	if (io_until(&c->io, 0, "100 Continue\r\n\r\n", 1))
		io_sends(&c->io, "abc");
	io_until(&c->io, 0, "done", 1);
	io_shut(&c->io);
	io_read_all(&c->io);
}

static void
test_continue(struct world *w)
{
	struct client c = { .host = "rest.test", .tls = true, .talk = talk_continue };

	origin_script(w, true, "rest.test", "HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone",
		      NULL, NULL);
	w->o.continue_first = true;
	scenario(w, &c);
	T_CONTAINS(c.io.got, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n",
		   "100-continue: the interim answer reaches the client before the body is sent");
	T_CONTAINS(w->o.io.got, "\r\n\r\nabc", "100-continue: the body then reaches the origin");
	T_CONTAINS(w->log, "\"status\":201", "100-continue: logged with the final status");
}

static void
talk_smuggle(struct client *c)
{
	io_sends(&c->io, "POST /ok HTTP/1.1\r\nHost: rest.test\r\nContent-Length: 4\r\n"
			 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n"
			 "Host: rest.test\r\n\r\n");
	io_read_all(&c->io);
}

static void
test_smuggle(struct world *w)
{
	struct client c = { .host = "rest.test", .tls = true, .talk = talk_smuggle };

	origin_script(w, true, "rest.test", NULL, NULL, NULL);
	scenario(w, &c);
	T_CONTAINS(c.io.got, "HTTP/1.1 400 Bad Request\r\n", "CL+TE: 400");
	T_CONTAINS(c.io.got, "Connection: close\r\n", "CL+TE: and close");
	T_OK(c.io.eof, "CL+TE: the connection is closed");
	T_OK(w->o.io.len == 0, "CL+TE: nothing reached the origin");
	T_CONTAINS(w->log, "\"error\":\"bad_request\"", "CL+TE: logged as a bad request");
}

static void
talk_one_get(struct client *c)
{
	io_sends(&c->io, c->arg ? c->arg : "GET /ok HTTP/1.1\r\nHost: wrong.test\r\n\r\n");
	io_read_all(&c->io);
}

static void
test_upstream_bad_cert(struct world *w)
{
	struct client c = { .host = "wrong.test", .tls = true, .talk = talk_one_get };

	origin_script(w, true, "rest.test", NULL, NULL, NULL); /* a leaf for another name */
	scenario(w, &c);
	T_OK(c.opened, "bad upstream cert: the client's own handshake still succeeds");
	T_CONTAINS(c.io.got, "HTTP/1.1 502 Bad Gateway\r\n", "bad upstream cert: 502");
	T_CONTAINS(c.io.got, "\"error\":\"upstream_tls\"", "bad upstream cert: upstream_tls");
	T_CONTAINS(c.io.got, "wrong.test: ", "bad upstream cert: names the host");
	T_CONTAINS(c.io.got, "verify", "bad upstream cert: and the verification failure");
	T_OK(w->o.nreq == 0, "bad upstream cert: no request was sent to it");
}

static void
test_git_text(struct world *w)
{
	struct client c = { .host = "rest.test", .tls = true, .talk = talk_one_get,
			    .arg = "POST /org/repo.git/git-receive-pack HTTP/1.1\r\nHost: "
				   "rest.test\r\nUser-Agent: git/2.43.0\r\nContent-Length: 0\r\n"
				   "Connection: close\r\n\r\n" };

	origin_script(w, true, "rest.test", NULL, NULL, NULL);
	scenario(w, &c);
	T_CONTAINS(c.io.got, "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain",
		   "git: the 403 is text/plain (git shows it as remote: ...)");
	T_CONTAINS(c.io.got, "\r\n\r\nPOST /org/repo.git/git-receive-pack not permitted",
		   "git: the body is the reason");
	T_CONTAINS(w->err, "-> POST rest.test:", "git: DENIED line");
}

static void
test_audit(struct world *w)
{
	struct client c = { .host = "audit.test", .tls = true, .talk = talk_one_get,
			    .arg = "DELETE /thing HTTP/1.1\r\nHost: audit.test\r\n"
				   "Connection: close\r\n\r\n" };

	origin_script(w, true, "audit.test", "HTTP/1.1 204 No Content\r\n\r\n", NULL, NULL);
	scenario(w, &c);
	T_CONTAINS(c.io.got, "HTTP/1.1 204 No Content", "audit: the request is forwarded");
	T_CONTAINS(w->o.io.got, "DELETE /thing HTTP/1.1", "audit: the origin got it");
	T_CONTAINS(w->log, "\"decision\":\"audit\"", "audit: logged as would-deny");
	T_OK(strstr(w->err, "DENIED") == NULL, "audit: no DENIED line");
}

/* A ClientHello naming <sni> (built by OpenSSL) sent into a passthrough tunnel. */
static void
talk_sni(struct client *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;

	if (ssl != NULL) {
		SSL_set_fd(ssl, c->io.fd);
		SSL_set_tlsext_host_name(ssl, c->arg);
		(void)SSL_connect(ssl); /* fails: the proxy closes the tunnel */
		SSL_free(ssl);
	}
	SSL_CTX_free(ctx);
	io_read_all(&c->io);
}

static void
test_sni(struct world *w)
{
	struct client c = { .host = "pass.test", .tls = false, .talk = talk_sni,
			    .arg = "evil.test" };

	origin_script(w, false, NULL, NULL, NULL, NULL);
	scenario(w, &c);
	T_OK(c.opened, "SNI: the passthrough tunnel opened");
	T_OK(w->o.io.len == 0, "SNI mismatch: not one byte of the hello reached the upstream");
	T_CONTAINS(w->log, "\"decision\":\"deny\",\"error\":\"sni_mismatch\"",
		   "SNI mismatch: logged as a denial");
	T_CONTAINS(w->log, "(SNI) evil.test is not the CONNECT target pass.test",
		   "SNI mismatch: the reason names both names");
	T_CONTAINS(w->err, "DENIED", "SNI mismatch: DENIED line");

	c = (struct client){ .host = "pass.test", .tls = false, .talk = talk_sni,
			     .arg = "PASS.test" };
	w->o.read_one = true; /* then it closes: the client's handshake fails at once */
	scenario(w, &c);
	T_OK(w->o.io.len > 0 && (unsigned char)w->o.io.got[0] == 0x16,
	     "SNI matching (any case): the hello is relayed");
	T_OK(strstr(w->log, "sni_mismatch") == NULL, "SNI matching: no denial");
}

/* An allowed upgrading GET, then raw bytes both ways after the 101. */
static void
talk_websocket(struct client *c)
{
	io_sends(&c->io, "GET /chat HTTP/1.1\r\nHost: rest.test\r\nUpgrade: websocket\r\n"
			 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			 "Sec-WebSocket-Version: 13\r\n\r\n");
	if (!io_until(&c->io, 0, "SERVERFRAME", 1))
		return;
	io_sends(&c->io, "\x81\x05" "CLIENTFRAME not HTTP at all\r\n\r\n");
	io_shut(&c->io);
	io_read_all(&c->io);
}

static void
test_websocket(struct world *w)
{
	struct client c = { .host = "rest.test", .tls = true, .talk = talk_websocket };

	origin_script(w, true, "rest.test",
		      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		      "Connection: Upgrade\r\n\r\n\x81\x0bSERVERFRAME",
		      NULL, NULL);
	scenario(w, &c);
	T_CONTAINS(c.io.got, "HTTP/1.1 101 Switching Protocols\r\n",
		   "websocket: the allowed upgrading GET gets the origin's 101");
	T_CONTAINS(c.io.got, "SERVERFRAME", "websocket: the origin's frame reaches the client");
	T_CONTAINS(w->o.io.got, "Upgrade: websocket\r\n",
		   "websocket: the Upgrade header goes upstream");
	T_CONTAINS(w->o.io.got, "CLIENTFRAME not HTTP at all",
		   "websocket: after the 101 the client's bytes are relayed raw, not parsed");
	T_CONTAINS(w->log, "\"status\":101", "websocket: logged with status 101");
	T_CONTAINS(w->log, "not inspected", "websocket: the log says frames are not inspected");
}

static int
world_init(struct world *w)
{
	char pol[2048], err[512], path[] = "/tmp/agentcage-l7-XXXXXX";
	const char *pem;
	int fd;

	memset(w, 0, sizeof(*w));
	if (pxfx_proxy_init(&w->p, "rest.test wrong.test audit.test pass.test", true) == -1 ||
	    (w->o.lfd = pxfx_listen(&w->o.port, 0)) == -1)
		return -1;
	snprintf(pol, sizeof(pol),
		 "version: 1\nnetwork_policies:\n"
		 "  lab:\n    endpoints:\n"
		 "      - { host: rest.test, port: %u, protocol: rest, enforcement: enforce,\n"
		 "          rules: [ { allow: { method: GET, path: \"/**\" } },\n"
		 "                   { allow: { method: POST, path: /ok } } ] }\n"
		 "      - { host: wrong.test, port: %u, protocol: rest, enforcement: enforce,\n"
		 "          access: read-only }\n"
		 "      - { host: audit.test, port: %u, protocol: rest, access: read-only }\n"
		 "      - { host: pass.test, port: %u }\n"
		 "    binaries: [ { path: " CLIENT_EXE " } ]\n",
		 w->o.port, w->o.port, w->o.port, w->o.port);
	if (pxfx_proxy_policy(&w->p, pol) == -1)
		return -1;
	if (tls_ca_new(&w->sandbox_ca, "t", err, sizeof(err)) == -1 ||
	    tls_ca_new(&w->origin_ca, "origin", err, sizeof(err)) == -1) {
		printf("# %s\n", err);
		return -1;
	}
	/* the proxy trusts the origin's CA; the client trusts the sandbox's */
	if ((fd = mkstemp(path)) == -1)
		return -1;
	pem = tls_ca_cert_pem(w->origin_ca);
	(void)!write(fd, pem, strlen(pem));
	close(fd);
	if (tls_upstream_new(&w->proxy_up, path, err, sizeof(err)) == -1) {
		printf("# %s\n", err);
		unlink(path);
		return -1;
	}
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	pem = tls_ca_cert_pem(w->sandbox_ca);
	(void)!write(fd, pem, strlen(pem));
	close(fd);
	if (tls_upstream_new(&w->client_up, path, err, sizeof(err)) == -1) {
		printf("# %s\n", err);
		unlink(path);
		return -1;
	}
	unlink(path);
	w->p.px.ca = w->sandbox_ca;
	w->p.px.upstream = w->proxy_up;
	return 0;
}

static void
world_free(struct world *w)
{
	pxfx_proxy_free(&w->p);
	tls_upstream_free(w->proxy_up);
	tls_upstream_free(w->client_up);
	tls_ca_free(w->sandbox_ca);
	tls_ca_free(w->origin_ca);
	ut_close(&w->o.lfd);
}

int
main(void)
{
	static struct world w;

	signal(SIGPIPE, SIG_IGN);
	if (world_init(&w) == -1) {
		T_OK(0, "set-up failed: %s", strerror(errno));
		return t_done();
	}
	test_plain_pipelined(&w);
	test_tls_framing(&w);
	test_big_denied(&w);
	test_host_mismatch(&w);
	test_continue(&w);
	test_smuggle(&w);
	test_upstream_bad_cert(&w);
	test_git_text(&w);
	test_audit(&w);
	test_websocket(&w);
	test_sni(&w);
	T_OK(w.p.px.nlive == 0, "no connection is left open");
	world_free(&w);
	return t_done();
}
