/*
 * Live policy generations and learn mode in the egress proxy (issue 6; proxy/conn.h
 * conn_set_policy(), proxy/gen.h, docs/proxy.md). In-process, loopback only: clients are
 * socketpairs handed to conn_start(), origins one loopback TCP server in the same loop
 * (echo for tunnels, keep-alive HTTP for inspected streams), policies real engines.
 * Identity is stubbed (no sandbox process behind a socketpair) and so are the address
 * rules (they refuse loopback), except where a test checks those rules themselves.
 * Every wait is on an event: the loop runs until a condition over what the sockets
 * delivered holds, with a watchdog that fails the test instead of hanging.
 */
#include <signal.h>
#include <sys/socket.h>

#include "proxy/gen.h"
#include "proxy_fixture.h"
#include "tls/ca.h"

#define WATCHDOG_MS     10000
#define MAX_UP          32 /* origin connections over the whole run */
#define POLICY_TEXT_MAX 4096

/* --- the loopback origin: echo, or a 200 "ok" per request head on a kept connection --- */

struct up_conn {
	int fd;
	char got[8192];
	size_t len, answered; /* bytes of got[] whose requests were answered */
};

struct upstream {
	int lfd;
	bool http;
	struct up_conn c[MAX_UP];
	size_t n;
};

static void
up_io_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct up_conn *u = data;
	const size_t before = u->len;
	const int r = pxfx_read_more(fd, u->got, sizeof(u->got), &u->len);
	char *end;

	(void)events;
	if (r == 0)
		return;
	if (r == -1) {
		evloop_del(loop, fd);
		ut_close(&u->fd);
		return;
	}
	if (u->answered == SIZE_MAX) { /* echo */
		(void)!write(fd, u->got + before, u->len - before);
		return;
	}
	while ((end = strstr(u->got + u->answered, "\r\n\r\n")) != NULL) {
		if (strstr(u->got + u->answered, "Upgrade: websocket\r\n") != NULL) {
			static const char up101[] =
			        "HTTP/1.1 101 Switching Protocols\r\n"
			        "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
			(void)!write(fd, up101, sizeof(up101) - 1);
			u->answered = SIZE_MAX; /* raw bytes from here: echo */
			return;
		}
		static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
		(void)!write(fd, resp, sizeof(resp) - 1);
		u->answered = (size_t)(end + 4 - u->got);
		if (strstr(u->got, "Connection: close\r\n") != NULL) { /* a forward request */
			evloop_del(loop, fd);
			ut_close(&u->fd);
			return;
		}
	}
}

static void
up_accept_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct upstream *up = data;
	int cfd;

	(void)events;
	while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct up_conn *u;

		if (up->n == MAX_UP) {
			close(cfd);
			continue;
		}
		u = &up->c[up->n++];
		u->fd = cfd;
		u->answered = up->http ? 0 : SIZE_MAX;
		evloop_add(loop, cfd, EV_READ, up_io_cb, u);
	}
}

/* --- clients, and running the loop until something happened --- */

struct world {
	struct pxfx_proxy p; /* its policy is generation 1: borrowed by the proxy */
	struct tls_ca *ca;
	struct upstream up;
	uint16_t port;
	char log[65536]; /* every decision line so far */
	size_t loglen;
};

/* Opens a client, sends <req>, runs until <text> arrives after what it had. */
static bool
cli_open(struct world *w, struct pxfx_client *c, const char *req, const char *text)
{
	memset(c, 0, sizeof(*c));
	if (pxfx_client_start(&w->p, c, req, strlen(req)) == -1)
		return false;
	return pxfx_run_until(w->p.loop, pxfx_client_has, &(struct pxfx_want){c, text, 0},
	                      WATCHDOG_MS);
}

/* Sends <msg> on an open client and runs until <text> arrives in what follows. */
static bool
cli_say(struct world *w, struct pxfx_client *c, const char *msg, const char *text)
{
	const size_t from = c->len;

	(void)!write(c->fd, msg, strlen(msg));
	return pxfx_run_until(w->p.loop, pxfx_client_has, &(struct pxfx_want){c, text, from},
	                      WATCHDOG_MS);
}

/* Closes the client and lets the proxy finish its connection (decision line) until
 * <left> connections remain open. */
static void
cli_close(struct world *w, struct pxfx_client *c, size_t left)
{
	T_OK(pxfx_client_close(&w->p, c, left, WATCHDOG_MS), "the proxy closed the connection");
}

/* Appends the decision lines written since the last call to w->log; returns them. */
static const char *
log_new(struct world *w)
{
	return pxfx_drain(w->p.logfd[0], w->log, sizeof(w->log), &w->loglen);
}

/* <yaml> with each "%u" (up to 4) replaced by the origin's port. */
static void
policy_text(const struct world *w, const char *yaml, char *text, size_t len)
{
	snprintf(text, len, yaml, w->port, w->port, w->port, w->port);
}

/* Loads <yaml> (policy_text()) as a policy+engine. */
static int
load(struct world *w, const char *yaml, struct policy **pol, struct engine **eng)
{
	char text[POLICY_TEXT_MAX];

	policy_text(w, yaml, text, sizeof(text));
	return pxfx_load(text, pol, eng);
}

/* Makes <yaml> the next generation; returns its number, 0 when refused (err printed). */
static unsigned long long
swap(struct world *w, const char *yaml)
{
	struct policy *pol;
	struct engine *eng;
	unsigned long long n = 0;
	char err[1024];

	if (load(w, yaml, &pol, &eng) == -1)
		return 0;
	if (conn_set_policy(&w->p.px, pol, eng, &n, err, sizeof(err)) == -1) {
		printf("# refused: %s\n", err);
		return 0;
	}
	return n;
}

#define BIN "    binaries: [ { path: " CLIENT_EXE " } ]\n"

/* Generation 1: a.test and c.test (L4), rest.test inspected: GET /a only. */
static const char POL_1[] =
        "version: 1\nnetwork_policies:\n"
        "  lab:\n    endpoints: [ { host: a.test, port: %u }, { host: c.test, port: %u },\n"
        "      { host: rest.test, port: %u, protocol: rest, enforcement: enforce,\n"
        "        rules: [ { allow: { method: GET, path: /a } } ] } ]\n" BIN;

/* Generation 2: a.test gone, b.test new, rest.test: GET /b only. */
static const char POL_2[] =
        "version: 1\nnetwork_policies:\n"
        "  lab:\n    endpoints: [ { host: b.test, port: %u }, { host: c.test, port: %u },\n"
        "      { host: rest.test, port: %u, protocol: rest, enforcement: enforce,\n"
        "        rules: [ { allow: { method: GET, path: /b } } ] } ]\n" BIN;

/* Generation 3: rest.test as a plain L4 endpoint (no longer inspected). */
static const char POL_3[] = "version: 1\nnetwork_policies:\n"
                            "  lab:\n    endpoints: [ { host: b.test, port: %u }, { host: "
                            "rest.test, port: %u } ]\n" BIN;

static void
connect_req(char *buf, size_t len, const char *host, uint16_t port)
{
	snprintf(buf, len, "CONNECT %s:%u HTTP/1.1\r\nHost: %s\r\n\r\n", host, port, host);
}

static void
get_req(char *buf, size_t len, const char *path)
{
	snprintf(buf, len, "GET %s HTTP/1.1\r\nHost: rest.test\r\n\r\n", path);
}

/* cli_open() with a CONNECT to <host> at the origin's port. */
static bool
cli_connect(struct world *w, struct pxfx_client *c, const char *host, const char *text)
{
	char req[256];

	connect_req(req, sizeof(req), host, w->port);
	return cli_open(w, c, req, text);
}

/*
 * One scenario across three generations: tunnels kept and closed at a swap, a host
 * allowed by the new generation, a kept-alive inspected stream following each one, and
 * generations freed while a stream still used them (ASan: no leak, no use after free).
 */
static void
test_generations(struct world *w)
{
	struct pxfx_client ta, tc, tb, s;
	char req[256];
	const char *lines;

	w->up.http = false;
	T_OK(cli_connect(w, &tb, "b.test", "403 Forbidden"), "gen 1: b.test is refused");
	cli_close(w, &tb, 0);
	T_OK(cli_connect(w, &ta, "a.test", "established\r\n\r\n"), "gen 1: tunnel to a.test");
	T_OK(cli_say(w, &ta, "ping-a", "ping-a"), "a.test tunnel echoes");
	T_OK(cli_connect(w, &tc, "c.test", "established\r\n\r\n"), "gen 1: tunnel to c.test");
	T_OK(cli_say(w, &tc, "ping-c", "ping-c"), "c.test tunnel echoes");

	/* the inspected stream: plain HTTP inside CONNECT, kept alive */
	w->up.http = true;
	T_OK(cli_connect(w, &s, "rest.test", "established\r\n\r\n"),
	     "gen 1: inspected tunnel to rest.test");
	get_req(req, sizeof(req), "/a");
	T_OK(cli_say(w, &s, req, "\r\n\r\nok"), "gen 1: GET /a allowed on the stream");
	log_new(w);

	T_OK(swap(w, POL_2) == 2, "generation 2 is loaded");
	T_OK(conn_generation(&w->p.px) == 2, "the proxy reports generation 2");
	T_OK(pxfx_run_until(w->p.loop, pxfx_client_eof, &ta, WATCHDOG_MS),
	     "the a.test tunnel is closed at the swap");
	T_OK(cli_say(w, &tc, "again-c", "again-c"), "the c.test tunnel, still allowed, is kept");
	lines = log_new(w);
	T_CONTAINS(lines, "policy generation 2 no longer allows a.test:",
	           "the close names the generation");
	T_CONTAINS(lines, "\"decision\":\"deny\"", "and is logged as a denial");
	T_CONTAINS(lines, "\"generation\":1", "decided by generation 1 before");
	cli_close(w, &ta, 2);

	/* a.test is over: a new connection to b.test is allowed now */
	w->up.http = false;
	T_OK(cli_connect(w, &tb, "b.test", "established\r\n\r\n"),
	     "gen 2: b.test, denied before, is allowed");
	T_OK(cli_say(w, &tb, "ping-b", "ping-b"), "gen 2: b.test tunnel echoes");
	cli_close(w, &tb, 2);
	T_CONTAINS(log_new(w), "\"generation\":2", "its line names generation 2");

	/* the stream still holds generation 1; a third one frees generation 2 at once */
	T_OK(swap(w, POL_2) == 3, "generation 3 (same rules) is loaded while the stream holds 1");
	get_req(req, sizeof(req), "/a");
	T_OK(cli_say(w, &s, req, "403 Forbidden"),
	     "next request on the kept stream: GET /a denied by the current generation");
	get_req(req, sizeof(req), "/b");
	T_OK(cli_say(w, &s, req, "\r\n\r\nok"), "and GET /b allowed by it, on the same stream");
	lines = log_new(w);
	T_CONTAINS(lines, "\"path\":\"/a\",\"status\":403,\"decision\":\"deny\"",
	           "GET /a logged denied");
	T_CONTAINS(lines, "\"generation\":3", "by generation 3");
	T_OK(w->p.px.gen != NULL && w->p.px.gen->refs == 2 + 1,
	     "generation 3 is held by the proxy, the c.test tunnel and the stream");

	/* generation 4 no longer inspects rest.test: the next request ends the stream */
	T_OK(swap(w, POL_3) == 4, "generation 4 (rest.test as L4) is loaded");
	T_OK(pxfx_run_until(w->p.loop, pxfx_client_eof, &tc, WATCHDOG_MS),
	     "the c.test tunnel it does not allow is closed");
	get_req(req, sizeof(req), "/anything");
	T_OK(cli_say(w, &s, req, "\r\n\r\nok"), "the request is forwarded (L4 allows the host)");
	T_OK(pxfx_run_until(w->p.loop, pxfx_client_eof, &s, WATCHDOG_MS),
	     "and the stream is closed after it");
	T_CONTAINS(log_new(w), "without inspecting its requests", "the close says why");
	cli_close(w, &s, 0);
	cli_close(w, &tc, 0);
	T_OK(w->p.px.gen->refs == 1, "only the proxy holds the current generation now");
}

/* A stream a 101 turned into a raw tunnel has no request boundary left: checked at the
 * swap, and closed when the new generation denies its host. */
static void
test_upgraded(struct world *w)
{
	static const char pol_ws[] =
	        "version: 1\nnetwork_policies:\n"
	        "  lab:\n    endpoints: [ { host: b.test, port: %u },\n"
	        "      { host: rest.test, port: %u, protocol: rest, enforcement: enforce,\n"
	        "        rules: [ { allow: { method: GET, path: /ws } } ] } ]\n" BIN;
	static const char pol_b[] = "version: 1\nnetwork_policies:\n"
	                            "  lab:\n    endpoints: [ { host: b.test, port: %u } ]\n" BIN;
	struct pxfx_client s;
	unsigned long long n;

	T_OK((n = swap(w, pol_ws)) > 0, "upgrade: a generation allowing GET /ws");
	w->up.http = true;
	T_OK(cli_connect(w, &s, "rest.test", "established\r\n\r\n"), "upgrade: inspected tunnel");
	T_OK(cli_say(w, &s,
	             "GET /ws HTTP/1.1\r\nHost: rest.test\r\nConnection: Upgrade\r\n"
	             "Upgrade: websocket\r\n\r\n",
	             "101 Switching Protocols"),
	     "upgrade: 101 relayed");
	T_OK(cli_say(w, &s, "frame-1", "frame-1"), "upgrade: raw bytes flow");
	T_OK(swap(w, pol_ws) == n + 1, "upgrade: a generation that still allows it");
	T_OK(cli_say(w, &s, "frame-2", "frame-2"), "upgrade: the raw tunnel is kept");
	T_OK(swap(w, pol_b) == n + 2, "upgrade: a generation without rest.test");
	T_OK(pxfx_run_until(w->p.loop, pxfx_client_eof, &s, WATCHDOG_MS),
	     "upgrade: the raw tunnel is closed at the swap");
	cli_close(w, &s, 0);
	T_CONTAINS(log_new(w), "no longer allows rest.test:", "upgrade: the close is logged");
}

/* A generation that terminates TLS cannot be served by a sandbox started without a CA. */
static void
test_refused_without_ca(struct world *w)
{
	static const char pol_l4[] = "version: 1\nnetwork_policies:\n"
	                             "  lab:\n    endpoints: [ { host: b.test, port: %u } ]\n" BIN;
	struct policy *pol;
	struct engine *eng;
	struct pxfx_client c;
	unsigned long long n = 0, before;
	char err[1024];

	w->p.px.ca = NULL;
	T_OK(swap(w, pol_l4) > 0, "an L4-only generation is accepted without a CA");
	before = conn_generation(&w->p.px);
	T_OK(load(w, POL_1, &pol, &eng) == 0, "a policy with an inspected endpoint loads");
	errno = 0;
	T_OK(conn_set_policy(&w->p.px, pol, eng, &n, err, sizeof(err)) == -1 && errno == EPERM,
	     "it is refused without a CA (EPERM)");
	T_CONTAINS(err, "restart the sandbox to add TLS-terminated endpoints",
	           "the error says what to do");
	T_OK(conn_generation(&w->p.px) == before, "the old generation stays in force");
	w->up.http = false;
	T_OK(cli_connect(w, &c, "b.test", "established\r\n\r\n"),
	     "and still allows what it allowed");
	cli_close(w, &c, 0);
	T_OK(cli_connect(w, &c, "a.test", "403 Forbidden"), "and still denies what it denied");
	cli_close(w, &c, 0);
	w->p.px.ca = w->ca;
	log_new(w);
}

/* Learn mode: policy denials relayed and logged "learn"; address rules still hold. */
static void
test_learn(struct world *w)
{
	struct pxfx_client c;
	char req[256];
	const char *lines;
	unsigned long long learned = w->p.px.learned, denied = w->p.px.denied;

	T_OK(swap(w, POL_1) > 0, "learn: generation with rest.test GET /a");
	w->p.px.learn = true;
	w->up.http = false;
	T_OK(cli_connect(w, &c, "unlisted.test", "established\r\n\r\n"),
	     "learn: a host the policy denies is relayed");
	T_OK(cli_say(w, &c, "learned", "learned"), "learn: bytes flow both ways");
	cli_close(w, &c, 0);
	lines = log_new(w);
	T_CONTAINS(lines, "\"decision\":\"learn\"", "learn: logged as learn");
	T_CONTAINS(lines,
	           "learn mode: would be denied: ", "learn: with the reason it would be denied");
	T_CONTAINS(lines, "unlisted.test", "learn: naming the host");

	w->up.http = true;
	snprintf(req, sizeof(req), "GET http://unlisted.test:%u/fwd HTTP/1.1\r\n\r\n", w->port);
	T_OK(cli_open(w, &c, req, "\r\n\r\nok"), "learn: a denied forward request is relayed");
	cli_close(w, &c, 0);
	T_CONTAINS(log_new(w), "\"decision\":\"learn\"", "learn: and logged as learn");
	T_OK(cli_connect(w, &c, "rest.test", "established\r\n\r\n"), "learn: inspected tunnel");
	snprintf(req, sizeof(req),
	         "POST /new HTTP/1.1\r\nHost: rest.test\r\nContent-Length: 0\r\n\r\n");
	T_OK(cli_say(w, &c, req, "\r\n\r\nok"), "learn: an L7-denied request is forwarded");
	cli_close(w, &c, 0);
	lines = log_new(w);
	T_CONTAINS(lines,
	           "\"method\":\"POST\",\"path\":\"/new\",\"status\":200,\"decision\":\"learn\"",
	           "learn: the request is logged learn");
	T_CONTAINS(lines, "would be denied: POST /new not permitted",
	           "learn: with the rule's reason");
	T_OK(w->p.px.learned == learned + 3, "learn: each counted as learned");

	/* the real address rules: learning never opens metadata or loopback addresses
	 * (private ones it does open: tests/integration/sandbox_live.sh, in its own lab) */
	w->p.px.ops.check_address = engine_check_address;
	connect_req(req, sizeof(req), "169.254.169.254", 80);
	T_OK(cli_open(w, &c, req, "403 Forbidden"), "learn: the metadata address is still refused");
	T_CONTAINS(c.got, "destination_denied", "learn: as a destination denial");
	T_CONTAINS(c.got, "refused in learn mode too", "learn: saying learn mode does not lift it");
	cli_close(w, &c, 0);
	T_OK(cli_connect(w, &c, "a.test", "403 Forbidden"),
	     "learn: an allowed host resolving to loopback is still refused");
	cli_close(w, &c, 0);
	w->p.px.ops.check_address = pxfx_check_address;
	T_OK(w->p.px.denied == denied + 2, "learn: those count as denied");
	connect_req(req, sizeof(req), "bad_host!", 443);
	T_OK(cli_open(w, &c, req, "400 Bad Request"),
	     "learn: a malformed request is still refused");
	cli_close(w, &c, 0);
	w->p.px.learn = false;
	log_new(w);
}

static int
world_init(struct world *w)
{
	char text[POLICY_TEXT_MAX], err[256];

	memset(w, 0, sizeof(*w));
	w->up.lfd = -1;
	if (pxfx_proxy_init(&w->p, "a.test b.test c.test rest.test unlisted.test", false) == -1 ||
	    (w->up.lfd = pxfx_listen(&w->port, SOCK_NONBLOCK)) == -1 ||
	    tls_ca_new(&w->ca, "t", err, sizeof(err)) == -1)
		return -1;
	policy_text(w, POL_1, text, sizeof(text));
	if (pxfx_proxy_policy(&w->p, text) == -1)
		return -1;
	w->p.px.ca = w->ca;
	/* as proxy_new(): the start policy is generation 1, borrowed */
	if ((w->p.px.gen = gen_new(1, w->p.eng, NULL, NULL)) == NULL)
		return -1;
	return evloop_add(w->p.loop, w->up.lfd, EV_READ, up_accept_cb, &w->up);
}

static void
world_free(struct world *w)
{
	for (size_t i = 0; i < w->up.n; i++)
		ut_close(&w->up.c[i].fd);
	pxfx_proxy_free(&w->p);
	tls_ca_free(w->ca);
	ut_close(&w->up.lfd);
}

int
main(void)
{
	struct world w;
	unsigned long long served;

	signal(SIGPIPE, SIG_IGN);
	if (world_init(&w) == -1) {
		T_OK(0, "set-up failed: %s", strerror(errno));
		world_free(&w);
		return t_done();
	}
	test_generations(&w);
	test_upgraded(&w);
	served = w.p.px.served;
	test_refused_without_ca(&w);
	T_OK(w.p.px.served == served + 1, "stats: one more connection allowed");
	test_learn(&w);
	T_OK(w.p.px.nlive == 0, "no connection is left open");
	world_free(&w);
	return t_done();
}
