/* The proxy's resolver (proxy/resolve.h): literals, --hosts, .invalid, the thread. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>

#include "proxy/hostsfile.h"
#include "proxy/resolve.h"
#include "t.h"
#include "util/evloop.h"
#include "util/util.h"

static const char *
ip_of(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf, (socklen_t)len);
	return buf;
}

static uint16_t
port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
					      : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void
test_quick(struct resolver *r)
{
	struct resolve_answer a;
	char ip[64];
	struct timespec t0, t1;

	T_OK(resolve_quick(r, "192.0.2.7", 443, &a) && a.source == RESOLVE_LITERAL && a.naddrs == 1,
	     "an IPv4 literal needs no lookup");
	T_STREQ(ip_of(&a.addrs[0], ip, sizeof(ip)), "192.0.2.7", "and is itself");
	T_OK(port_of(&a.addrs[0]) == 443, "with the asked port");
	T_OK(resolve_quick(r, "2001:db8::5", 80, &a) && a.naddrs == 1 &&
		     a.addrs[0].ss_family == AF_INET6,
	     "an IPv6 literal needs no lookup");
	T_OK(resolve_quick(r, "[2001:db8::5]", 80, &a) && a.naddrs == 1, "brackets are accepted");
	T_OK(resolve_quick(r, "upstream.test", 8080, &a) && a.source == RESOLVE_HOSTS &&
		     a.naddrs == 2,
	     "a --hosts name is answered from the file");
	T_STREQ(ip_of(&a.addrs[0], ip, sizeof(ip)), "10.213.0.2", "first address first");
	T_OK(port_of(&a.addrs[1]) == 8080, "ports are set on every address");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	T_OK(resolve_quick(r, "evil.invalid", 443, &a) && a.source == RESOLVE_INVALID &&
		     a.naddrs == 0,
	     ".invalid fails at once without a query");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	T_CONTAINS(a.why, "RFC 6761", "and says why");
	T_OK(resolve_quick(r, "INVALID.", 443, &a) && a.naddrs == 0, "the TLD itself, any case");
	T_OK(!resolve_quick(r, "notinvalid", 443, &a), "'notinvalid' is an ordinary name");
	T_OK(!resolve_quick(r, "example.invalidx", 443, &a), "so is 'example.invalidx'");
	T_OK(!resolve_quick(r, "other.test", 443, &a), "a name not in --hosts needs a query");
	T_OK(!resolve_quick(r, "127.1", 443, &a), "an odd IPv4 spelling is not a literal here");
}

struct got {
	int n;
	struct resolve_answer a;
	struct evloop *loop;
};

static void
on_answer(void *data, const struct resolve_answer *a)
{
	struct got *g = data;

	g->n++;
	g->a = *a;
	evloop_stop(g->loop);
}

static void
never_called(void *data, const struct resolve_answer *a)
{
	(void)a;
	(*(int *)data)++;
}

static void
test_thread(struct resolver *r)
{
	struct evloop *loop = evloop_new();
	struct got g = { .loop = loop };
	int cancelled_calls = 0;
	long long id, id2;
	char ip[64];

	T_OK(resolver_submit(r, "localhost", 1, on_answer, &g) == -1 && errno == ENOTCONN,
	     "submit before start: ENOTCONN");
	T_OK(resolver_start(r, loop) == 0, "the resolver thread starts");
	T_OK(resolver_start(r, loop) == -1 && errno == EALREADY, "a second start: EALREADY");
	T_OK(resolver_submit(r, "", 1, on_answer, &g) == -1 && errno == EINVAL, "empty host: EINVAL");
	/* "localhost" comes from the host's /etc/hosts through getaddrinfo: no network. */
	id2 = resolver_submit(r, "localhost", 9, never_called, &cancelled_calls);
	resolver_cancel(r, id2);
	id = resolver_submit(r, "localhost", 8080, on_answer, &g);
	T_OK(id > 0 && id2 > 0 && id != id2, "submit returns distinct ids");
	T_OK(g.n == 0, "the callback never runs inside submit");
	evloop_run(loop);
	T_OK(g.n == 1 && g.a.source == RESOLVE_DNS, "the answer comes back through the loop");
	T_OK(g.a.naddrs >= 1, "localhost resolves (%zu addresses)", g.a.naddrs);
	if (g.a.naddrs >= 1) {
		ip_of(&g.a.addrs[0], ip, sizeof(ip));
		T_OK(strcmp(ip, "127.0.0.1") == 0 || strcmp(ip, "::1") == 0, "to loopback (%s)", ip);
		T_OK(port_of(&g.a.addrs[0]) == 8080, "with the asked port");
	}
	/* No failing getaddrinfo() here: a name missing from /etc/hosts may go to the host's
	 * DNS server, and unit tests contact nothing but loopback. */
	T_OK(cancelled_calls == 0, "a cancelled lookup never calls back");
	resolver_free(r);
	evloop_free(loop);
}

int
main(void)
{
	static const char hosts_text[] = "10.213.0.2 upstream.test\nfd00::2 upstream.test\n";
	struct hosts h = { 0 };
	struct resolver *r = NULL;
	char err[256];

	if (hosts_parse(&h, "t", hosts_text, strlen(hosts_text), err, sizeof(err)) == -1 ||
	    resolver_new(&r, &h) == -1) {
		T_OK(0, "set-up: %s", err);
		return t_done();
	}
	test_quick(r);
	test_thread(r);
	hosts_free(&h);
	return t_done();
}
