/*
 * The proxy's connection state machine (proxy/conn.h), in-process: the client is one end
 * of a socketpair handed to conn_start(), the upstream a loopback TCP server in the same
 * event loop, the policy a real engine. Identity and the address rules are stubbed (a
 * socketpair has no sandbox process behind it, and the real rules refuse loopback).
 */
#include <signal.h>
#include <sys/socket.h>

#include "proxy/http1.h"
#include "proxy_fixture.h"

#define WATCHDOG_MS 20000

/* --- a loopback upstream: echo, or one HTTP response --- */

struct upstream {
	int lfd, fd;
	bool http;
	const char *respond_after; /* http: answer once this arrived (NULL: the head's end) */
	bool read_to_eof;          /* http: after answering, half-close and read on to EOF */
	bool responded;
	char got[8192];
	size_t len;
	bool eof;
};

static void
up_io_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct upstream *u = data;
	const size_t before = u->len;
	const int r = pxfx_read_more(fd, u->got, sizeof(u->got), &u->len);

	(void)events;
	if (r == 0)
		return;
	if (r == -1) {
		u->eof = true;
		shutdown(fd, SHUT_WR); /* echo: our half-close follows the client's */
		evloop_del(loop, fd);
		if (u->http)
			ut_close(&u->fd);
		return;
	}
	if (!u->http) {
		(void)!write(fd, u->got + before, u->len - before);
		return;
	}
	if (!u->responded && strstr(u->got, u->respond_after ? u->respond_after : "\r\n\r\n")) {
		static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi";
		(void)!write(fd, resp, sizeof(resp) - 1);
		u->responded = true;
		if (u->read_to_eof) {
			shutdown(fd, SHUT_WR);
			return;
		}
		evloop_del(loop, fd);
		ut_close(&u->fd);
	}
}

static void
up_accept_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct upstream *u = data;

	(void)events;
	u->fd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	u->responded = false;
	if (u->fd >= 0)
		evloop_add(loop, u->fd, EV_READ, up_io_cb, u);
}

struct world {
	struct pxfx_proxy p;
	struct upstream up;
	uint16_t port, dead_port;
};

/* Sends <req> from a fresh client and runs the loop until the client sees EOF. */
static void
roundtrip(struct world *w, const char *req, size_t reqlen, struct pxfx_client *c)
{
	(void)pxfx_client_start(&w->p, c, req, reqlen);
	T_OK(pxfx_run_until(w->p.loop, pxfx_client_eof, c, WATCHDOG_MS),
	     "the exchange ended on its own (no watchdog)");
	ut_close(&c->fd);
	/* The proxy side finishes (drain, decision line) once it sees the close. */
	(void)pxfx_settle(&w->p, 0, WATCHDOG_MS);
}

/* The last decision line written to the log pipe. */
static const char *
last_log(struct world *w, char *buf, size_t len)
{
	size_t n = 0;

	pxfx_drain(w->p.logfd[0], buf, len, &n);
	return pxfx_last_line(buf);
}

static void
test_connect(struct world *w)
{
	struct pxfx_client c = { .after_200 = "more" };
	char req[256], log[4096];

	snprintf(req, sizeof(req), "CONNECT upstream.test:%u HTTP/1.1\r\nHost: upstream.test\r\n\r\nEARLY",
		 w->port);
	w->up.http = false;
	w->up.len = 0;
	roundtrip(w, req, strlen(req), &c);
	T_STREQ(c.got, "HTTP/1.1 200 Connection established\r\n\r\nEARLYmore",
		"CONNECT: 200, then the tunnel; bytes sent after the head are forwarded, not dropped");
	T_OK(c.eof, "half-close: the client's FIN reaches the upstream, whose FIN comes back");
	T_OK(w->up.eof, "the upstream saw the client's EOF");
	const char *line = last_log(w, log, sizeof(log));
	T_CONTAINS(line, "\"event\":\"net\"", "a decision line is logged");
	T_CONTAINS(line, "\"decision\":\"allow\"", "allow");
	T_CONTAINS(line, "\"binary\":\"" CLIENT_EXE "\"", "names the binary");
	T_CONTAINS(line, "\"ancestors\":[\"/usr/bin/bash\"]", "and its ancestors");
	T_CONTAINS(line, "\"address\":\"127.0.0.1\"", "and the address dialled");
	T_CONTAINS(line, "\"block\":\"lab\"", "and the block");
	T_CONTAINS(line, "\"bytes_up\":9,", "bytes up: EARLY + more");
	T_CONTAINS(line, "\"bytes_down\":9,", "bytes down: the upstream's only");
}

static void expect_error(struct world *w, const char *what, const char *req, const char *status,
			 const char *kind, const char *detail);

/* A condition: the upstream received <text>. */
static bool
up_has(const void *arg)
{
	const struct pxfx_want *w = arg;
	const struct upstream *u = (const struct upstream *)w->c;

	return strstr(u->got, w->text) != NULL;
}

/*
 * A chunked forward body whose end comes in a later write than its head, <rest>
 * (which may carry a request pipelined after the body): sent once the upstream holds the
 * first chunk's start, so the relay's decoder (not the head's parse) sees the end. The
 * upstream answers at the last chunk and reads on to EOF, so anything forwarded after
 * it would show. Returns the decision line.
 */
static const char *
chunked_later(struct world *w, const char *rest, struct pxfx_client *c, char *log, size_t loglen)
{
	char req[256];

	snprintf(req, sizeof(req),
		 "POST http://upstream.test:%u/p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "5\r\nhel", w->port);
	w->up.len = 0;
	w->up.got[0] = '\0';
	w->up.respond_after = "0\r\n\r\n";
	w->up.read_to_eof = true;
	(void)pxfx_client_start(&w->p, c, req, strlen(req));
	T_OK(pxfx_run_until(w->p.loop, up_has,
			    &(struct pxfx_want){ (const void *)&w->up, "5\r\nhel", 0 }, WATCHDOG_MS),
	     "chunked, later: the head and the first bytes reach the upstream");
	(void)!write(c->fd, rest, strlen(rest));
	T_OK(pxfx_run_until(w->p.loop, pxfx_client_eof, c, WATCHDOG_MS),
	     "chunked, later: the exchange ended on its own");
	ut_close(&c->fd);
	(void)pxfx_settle(&w->p, 0, WATCHDOG_MS);
	w->up.respond_after = NULL;
	w->up.read_to_eof = false;
	return last_log(w, log, loglen);
}

/* <req>, a forward request with a body and a request "/next" pipelined behind it: the
 * upstream gets <sent> (up to the body's end) and never "/next". */
static void
expect_forwarded(struct world *w, const char *req, const char *sent, const char *what)
{
	struct pxfx_client c = { 0 };

	w->up.len = 0;
	roundtrip(w, req, strlen(req), &c);
	T_CONTAINS(c.got, "HTTP/1.1 200 OK\r\n", "%s: answered by the upstream", what);
	T_CONTAINS(w->up.got, sent, "%s: forwarded up to the end of its body", what);
	T_OK(strstr(w->up.got, "/next") == NULL, "%s: the request pipelined after it is dropped",
	     what);
}

static void
test_forward(struct world *w)
{
	struct pxfx_client c = { 0 };
	char req[512], log[4096];

	snprintf(req, sizeof(req),
		 "GET http://UPSTREAM.test:%u/path?q=1 HTTP/1.1\r\nHost: wrong\r\n"
		 "Proxy-Connection: keep-alive\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"
		 "Proxy-Authorization: Basic eA==\r\nUser-Agent: t\r\n\r\n",
		 w->port);
	w->up.http = true;
	w->up.len = 0;
	roundtrip(w, req, strlen(req), &c);
	T_CONTAINS(last_log(w, req, sizeof(req)), "\"decision\":\"allow\"", "forward: logged");
	T_CONTAINS(c.got, "HTTP/1.1 200 OK\r\n", "forward: the upstream's response is relayed");
	T_OK(c.len > 2 && strcmp(c.got + c.len - 2, "hi") == 0, "with its body, then EOF");
	snprintf(req, sizeof(req), "GET /path?q=1 HTTP/1.1\r\nHost: upstream.test:%u\r\n", w->port);
	T_OK(strncmp(w->up.got, req, strlen(req)) == 0, "origin form, Host from the URL");
	T_CONTAINS(w->up.got, "\r\nUser-Agent: t\r\n", "end-to-end headers are kept");
	T_OK(strstr(w->up.got, "Proxy-") == NULL, "Proxy-* headers are stripped");
	T_OK(strstr(w->up.got, "X-Hop") == NULL, "headers named in Connection are stripped");
	T_OK(strstr(w->up.got, "wrong") == NULL, "the client's Host is replaced");
	T_CONTAINS(w->up.got, "\r\nConnection: close\r\n\r\n", "Connection: close upstream");

	/* proxy-bugs.md #1: a request pipelined behind a forward request must not reach the
	 * upstream without its own decision. */
	snprintf(req, sizeof(req),
		 "GET http://upstream.test:%u/a HTTP/1.1\r\nHost: x\r\n\r\n"
		 "GET http://upstream.test:%u/b HTTP/1.1\r\nHost: x\r\n\r\n", w->port, w->port);
	w->up.len = 0;
	roundtrip(w, req, strlen(req), &c);
	T_CONTAINS(w->up.got, "GET /a HTTP/1.1\r\n", "pipelined: the first request goes upstream");
	T_OK(strstr(w->up.got, "/b") == NULL, "pipelined: the second one is dropped, not forwarded");
	snprintf(req, sizeof(req),
		 "POST http://upstream.test:%u/p HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody"
		 "GET http://upstream.test:%u/next HTTP/1.1\r\n\r\n", w->port, w->port);
	expect_forwarded(w, req, "Content-Length: 4\r\nConnection: close\r\n\r\nbody",
			 "a Content-Length body");

	/* An HTTP-inspected endpoint: the request is decided, and its body (chunked too)
	 * goes upstream up to its end, never a request pipelined behind it. */
	snprintf(req, sizeof(req),
		 "POST http://rest.test:%u/a/../ok HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", w->port);
	w->up.len = 0;
	roundtrip(w, req, strlen(req), &c);
	T_CONTAINS(w->up.got, "POST /ok HTTP/1.1\r\n", "inspected: the canonical path goes upstream");
	snprintf(req, sizeof(req),
		 "POST http://rest.test:%u/no HTTP/1.1\r\nContent-Length: 0\r\n\r\n", w->port);
	expect_error(w, "inspected POST to a path the rules do not allow", req, "403 Forbidden",
		     "policy_denied", "POST /no not permitted");
	snprintf(req, sizeof(req),
		 "POST http://rest.test:%u/ok HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "2\r\nhi\r\n0\r\n\r\nPOST http://rest.test:%u/next HTTP/1.1\r\n\r\n", w->port,
		 w->port);
	expect_forwarded(w, req, "\r\nTransfer-Encoding: chunked\r\n"
			 "Connection: close\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
			 "an inspected chunked POST, decided, framing as sent");
	T_CONTAINS(w->up.got, "POST /ok HTTP/1.1\r\n", "an inspected chunked POST: its canonical path");
	/* The same on an L4 endpoint: it was relayed until the client stopped. */
	snprintf(req, sizeof(req),
		 "POST http://upstream.test:%u/p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\nGET http://upstream.test:%u/next HTTP/1.1\r\n\r\n",
		 w->port, w->port);
	expect_forwarded(w, req, "\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
			 "an L4 chunked POST, with extensions and trailers");
	/* The body's end in a later read: found by the relay's decoder, the rest dropped. */
	chunked_later(w, "lo\r\n0\r\n\r\nGET http://upstream.test/next HTTP/1.1\r\n\r\n", &c, log,
		      sizeof(log));
	T_CONTAINS(c.got, "HTTP/1.1 200 OK\r\n", "chunked, later: answered by the upstream");
	T_OK(w->up.len > 20 && strcmp(w->up.got + w->up.len - 15, "5\r\nhello\r\n0\r\n\r\n") == 0,
	     "chunked, later: the upstream got the body up to its last chunk");
	T_OK(strstr(w->up.got, "/next") == NULL && w->up.eof,
	     "chunked, later: and nothing after it, up to the proxy's close");
	T_CONTAINS(chunked_later(w, "loX\r\n", &c, log, sizeof(log)),
		   "\"end\":\"malformed chunked request body\"",
		   "chunked, later: bad framing in a later read closes, and the log says why");
	T_OK(strstr(w->up.got, "loX") == NULL, "chunked, later: the bad bytes are not forwarded");
	snprintf(req, sizeof(req),
		 "POST http://upstream.test:%u/p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "zz\r\nabc\r\n", w->port);
	w->up.len = 0;
	roundtrip(w, req, strlen(req), &c);
	T_CONTAINS(c.got, "HTTP/1.1 400 Bad Request\r\n", "malformed chunked body: 400");
	T_CONTAINS(c.got, "request body: bad chunk size", "malformed chunked body: says why");
	T_OK(w->up.len == 0, "malformed chunked body: nothing reaches the upstream");
	T_CONTAINS(last_log(w, log, sizeof(log)), "\"decision\":\"allow\",\"error\":\"bad_request\"",
		   "malformed chunked body: logged as allowed by the policy, failed as a bad request");

	/* A CONNECT tunnel to an endpoint with restricting HTTP rules cannot be inspected
	 * yet (no TLS termination): refused, never passed through unchecked. */
	snprintf(req, sizeof(req), "CONNECT rest.test:%u HTTP/1.1\r\n\r\n", w->port);
	w->up.len = 0;
	expect_error(w, "CONNECT to an endpoint with HTTP rules", req, "403 Forbidden",
		     "policy_denied", "cannot inspect requests inside a CONNECT tunnel");
	T_OK(w->up.len == 0, "CONNECT with HTTP rules: nothing reaches the upstream");

	/* `tls: skip` only stops TLS termination: a plain forward request to such an
	 * endpoint is still decided by its rules. */
	snprintf(req, sizeof(req), "DELETE http://skip.test:%u/secret HTTP/1.1\r\n\r\n", w->port);
	w->up.len = 0;
	expect_error(w, "tls: skip endpoint, forward request outside its rules", req,
		     "403 Forbidden", "policy_denied", "DELETE /secret not permitted");
	T_OK(w->up.len == 0, "tls: skip: the denied request never reaches the upstream");
}

static void
expect_error(struct world *w, const char *what, const char *req, const char *status,
	     const char *kind, const char *detail)
{
	struct pxfx_client c = { 0 };
	char log[4096];

	roundtrip(w, req, strlen(req), &c);
	T_CONTAINS(c.got, status, "%s: status", what);
	T_CONTAINS(c.got, "Content-Type: application/json\r\n", "%s: JSON", what);
	T_CONTAINS(c.got, "Connection: close\r\n", "%s: Connection: close", what);
	T_CONTAINS(c.got, kind, "%s: error kind", what);
	T_CONTAINS(c.got, detail, "%s: detail", what);
	/* A policy or address refusal is a "deny"; a failure after an allow stays "allow"
	 * with its error kind. */
	T_CONTAINS(last_log(w, log, sizeof(log)), strstr(kind, "denied") || strstr(kind, "bad_request") ? "\"decision\":\"deny\"" : "\"decision\":\"allow\"", "%s: logged with its decision", what);
}

static void
test_errors(struct world *w)
{
	char req[256];
	static char big[HTTP1_MAX_HEAD + 64];

	pxfx_exe = "/usr/bin/other";
	expect_error(w, "binary not in the block", "CONNECT upstream.test:443 HTTP/1.1\r\n\r\n",
		     "HTTP/1.1 403 Forbidden", "\"error\":\"policy_denied\"", "/usr/bin/other");
	pxfx_exe = NULL;
	expect_error(w, "identity failure", "CONNECT upstream.test:443 HTTP/1.1\r\n\r\n",
		     "HTTP/1.1 403 Forbidden", "\"error\":\"policy_denied\"", "caller identity");
	pxfx_exe = CLIENT_EXE;
	expect_error(w, "host not in the policy", "CONNECT pypi.org:443 HTTP/1.1\r\n\r\n",
		     "HTTP/1.1 403", "policy_denied", "pypi.org");
	expect_error(w, ".invalid", "CONNECT evil.invalid:443 HTTP/1.1\r\n\r\n",
		     "HTTP/1.1 502 Bad Gateway", "\"error\":\"dns_failure\"", "RFC 6761");
	expect_error(w, "address refused", "CONNECT refused.test:443 HTTP/1.1\r\n\r\n",
		     "HTTP/1.1 403", "\"error\":\"destination_denied\"", "internal address");
	snprintf(req, sizeof(req), "CONNECT dead.test:%u HTTP/1.1\r\n\r\n", w->dead_port);
	expect_error(w, "connection refused", req, "HTTP/1.1 502",
		     "\"error\":\"upstream_unreachable\"", "Connection refused");
	expect_error(w, "origin form", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400",
		     "\"error\":\"bad_request\"", "hint:");
	expect_error(w, "bad CONNECT target", "CONNECT a_b:443 HTTP/1.1\r\n\r\n", "HTTP/1.1 400",
		     "bad_request", "CONNECT target");
	expect_error(w, "malformed head", "GET  http://x/ HTTP/1.1\r\n\r\n", "HTTP/1.1 400",
		     "bad_request", "byte ");
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET http://x/", 13);
	big[sizeof(big) - 1] = '\0';
	expect_error(w, "head over the limit", big, "HTTP/1.1 431", "bad_request", "byte");
}

static int
world_init(struct world *w)
{
	char pol[1024];
	int dead;

	memset(w, 0, sizeof(*w));
	w->up.fd = -1;
	if (pxfx_proxy_init(&w->p, "upstream.test refused.test dead.test rest.test skip.test",
			    false) == -1 ||
	    (w->up.lfd = pxfx_listen(&w->port, SOCK_NONBLOCK)) == -1 ||
	    (dead = pxfx_listen(&w->dead_port, SOCK_NONBLOCK)) == -1)
		return -1;
	close(dead); /* nothing listens there any more: connect gets ECONNREFUSED */
	snprintf(pol, sizeof(pol),
		 "version: 1\nnetwork_policies:\n"
		 "  lab:\n    endpoints: [ { host: upstream.test, port: %u }, { host: refused.test, port: 443 },\n"
		 "                 { host: upstream.test, port: 443 }, { host: dead.test, port: %u },\n"
		 "                 { host: evil.invalid, port: 443 },\n"
		 "                 { host: rest.test, port: %u, protocol: rest, enforcement: enforce,\n"
		 "                   rules: [ { allow: { method: POST, path: /ok } } ] },\n"
		 "                 { host: skip.test, port: %u, protocol: rest, enforcement: enforce,\n"
		 "                   tls: skip, rules: [ { allow: { method: GET, path: /ok } } ] } ]\n"
		 "    binaries: [ { path: " CLIENT_EXE " } ]\n"
		 "  bad_target:\n    endpoints: [ { host: x, port: 80 } ]\n"
		 "    binaries: [ { path: " CLIENT_EXE " } ]\n",
		 w->port, w->dead_port, w->port, w->port);
	if (pxfx_proxy_policy(&w->p, pol) == -1)
		return -1;
	return evloop_add(w->p.loop, w->up.lfd, EV_READ, up_accept_cb, &w->up);
}

static void
world_free(struct world *w)
{
	pxfx_proxy_free(&w->p);
	ut_close(&w->up.lfd);
	ut_close(&w->up.fd);
}

int
main(void)
{
	struct world w;

	signal(SIGPIPE, SIG_IGN);
	pxfx_ancestor = "/usr/bin/bash";
	if (world_init(&w) == -1) {
		T_OK(0, "set-up failed: %s", strerror(errno));
		return t_done();
	}
	test_connect(&w);
	w.p.px.relay_mode = RELAY_COPY;
	test_connect(&w); /* the same through the copy path */
	test_forward(&w);
	test_errors(&w);
	T_OK(w.p.px.nlive == 0, "no connection is left open");
	world_free(&w);
	return t_done();
}
