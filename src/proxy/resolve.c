/* proxy/resolve: literals, --hosts, .invalid, and one getaddrinfo thread (resolve.h). */
#include "proxy/resolve.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <strings.h>
#include <sys/eventfd.h>

#include "policy/addr.h"
#include "proxy/hostsfile.h"
#include "util/evloop.h"
#include "util/util.h"

struct rs_req {
	struct rs_req *next;
	long long id;
	char *host;
	uint16_t port;
	resolve_cb cb;
	void *data;
	bool cancelled;
	struct resolve_answer ans;
};

/* A singly linked FIFO. */
struct rs_list {
	struct rs_req *head, *tail;
	size_t n;
};

struct resolver {
	const struct hosts *hosts;
	struct evloop *loop;
	int efd;
	bool started;
	long long next_id;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;                /* under mu */
	struct rs_list queued;    /* under mu: waiting for the thread */
	struct rs_req *running;   /* under mu: the query in progress */
	struct rs_list done;      /* under mu: answered, waiting for the loop */
	struct rs_list dispatch;  /* loop only: answers being handed to callbacks */
};

static void
rs_push(struct rs_list *l, struct rs_req *q)
{
	q->next = NULL;
	if (l->tail)
		l->tail->next = q;
	else
		l->head = q;
	l->tail = q;
	l->n++;
}

static struct rs_req *
rs_pop(struct rs_list *l)
{
	struct rs_req *q = l->head;

	if (q == NULL)
		return NULL;
	l->head = q->next;
	if (l->head == NULL)
		l->tail = NULL;
	l->n--;
	q->next = NULL;
	return q;
}

static void
rs_req_free(struct rs_req *q)
{
	if (q == NULL)
		return;
	free(q->host);
	free(q);
}

static void
rs_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* <host> is, ignoring case and one trailing dot, "invalid" or a name under it. */
static bool
rs_is_invalid_tld(const char *host)
{
	size_t len = strlen(host);
	static const char tld[] = "invalid";
	const size_t tlen = sizeof(tld) - 1;

	if (len > 0 && host[len - 1] == '.')
		len--;
	if (len < tlen || strncasecmp(host + len - tlen, tld, tlen) != 0)
		return false;
	return len == tlen || host[len - tlen - 1] == '.';
}

bool
resolve_quick(const struct resolver *r, const char *host, uint16_t port,
	      struct resolve_answer *a)
{
	struct addr lit;

	memset(a, 0, sizeof(*a));
	if (addr_parse(host, strlen(host), &lit) == 0) {
		a->source = RESOLVE_LITERAL;
		addr_to_sockaddr(&lit, port, &a->addrs[0]);
		a->naddrs = 1;
		return true;
	}
	a->naddrs = hosts_lookup(r ? r->hosts : NULL, host, port, a->addrs, RESOLVE_MAX_ADDRS);
	if (a->naddrs > 0) {
		a->source = RESOLVE_HOSTS;
		return true;
	}
	if (rs_is_invalid_tld(host)) {
		a->source = RESOLVE_INVALID;
		snprintf(a->why, sizeof(a->why),
			 "%s is under .invalid, which never resolves (RFC 6761); no query was made",
			 host);
		return true;
	}
	return false;
}

/* The blocking part, on the resolver thread. */
static void
rs_getaddrinfo(struct rs_req *q)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	struct resolve_answer *a = &q->ans;
	int rc;

	a->source = RESOLVE_DNS;
	rc = getaddrinfo(q->host, NULL, &hints, &res);
	if (rc != 0) {
		snprintf(a->why, sizeof(a->why), "DNS lookup of %s failed: %s", q->host,
			 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return;
	}
	for (const struct addrinfo *ai = res; ai && a->naddrs < RESOLVE_MAX_ADDRS; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(a->addrs[0]))
			continue;
		memset(&a->addrs[a->naddrs], 0, sizeof(a->addrs[0]));
		memcpy(&a->addrs[a->naddrs], ai->ai_addr, ai->ai_addrlen);
		rs_set_port(&a->addrs[a->naddrs], q->port);
		a->naddrs++;
	}
	freeaddrinfo(res);
	if (a->naddrs == 0)
		snprintf(a->why, sizeof(a->why), "DNS lookup of %s returned no IPv4/IPv6 address",
			 q->host);
}

static void *
rs_thread(void *arg)
{
	struct resolver *r = arg;
	const uint64_t one = 1;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct rs_req *q;

		while (!r->stop && r->queued.n == 0)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop)
			break;
		q = rs_pop(&r->queued);
		r->running = q;
		pthread_mutex_unlock(&r->mu);
		rs_getaddrinfo(q);
		pthread_mutex_lock(&r->mu);
		r->running = NULL;
		rs_push(&r->done, q);
		/* An eventfd write only fails when the counter would overflow: impossible here. */
		(void)!write(r->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* The loop side: hands finished answers to their callbacks. */
static void
rs_efd_cb(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct resolver *r = data;
	uint64_t cnt;
	struct rs_req *q;

	(void)loop;
	(void)events;
	(void)!read(fd, &cnt, sizeof(cnt)); /* EAGAIN: a previous call drained it already */
	pthread_mutex_lock(&r->mu);
	r->dispatch = r->done;
	r->done = (struct rs_list){ 0 };
	pthread_mutex_unlock(&r->mu);
	/* A callback may cancel another request still in <dispatch>: it only sets a flag. */
	while ((q = rs_pop(&r->dispatch)) != NULL) {
		if (!q->cancelled)
			q->cb(q->data, &q->ans);
		rs_req_free(q);
	}
}

int
resolver_new(struct resolver **out, const struct hosts *hosts)
{
	struct resolver *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -1;
	r->hosts = hosts;
	r->efd = -1;
	r->next_id = 1;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	*out = r;
	return 0;
}

int
resolver_start(struct resolver *r, struct evloop *loop)
{
	int e;

	if (r->started) {
		errno = EALREADY;
		return -1;
	}
	if ((r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		return -1;
	if (evloop_add(loop, r->efd, EV_READ, rs_efd_cb, r) == -1)
		goto close_efd;
	if ((e = pthread_create(&r->thread, NULL, rs_thread, r)) != 0) {
		evloop_del(loop, r->efd);
		errno = e;
		goto close_efd;
	}
	r->loop = loop;
	r->started = true;
	return 0;
close_efd:
	ut_close(&r->efd);
	return -1;
}

long long
resolver_submit(struct resolver *r, const char *host, uint16_t port, resolve_cb cb, void *data)
{
	struct rs_req *q;

	if (r == NULL || host == NULL || host[0] == '\0' || cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (!r->started) {
		errno = ENOTCONN;
		return -1;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL || (q->host = strdup(host)) == NULL) {
		free(q);
		errno = ENOMEM;
		return -1;
	}
	q->port = port;
	q->cb = cb;
	q->data = data;
	q->id = r->next_id++;
	pthread_mutex_lock(&r->mu);
	if (r->queued.n >= RESOLVE_MAX_PENDING) {
		pthread_mutex_unlock(&r->mu);
		rs_req_free(q);
		errno = EAGAIN;
		return -1;
	}
	rs_push(&r->queued, q);
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return q->id;
}

/* Unlinks and frees <id> from <l> if it is there; true when found. */
static bool
rs_drop(struct rs_list *l, long long id)
{
	struct rs_req *prev = NULL;

	for (struct rs_req *q = l->head; q != NULL; prev = q, q = q->next) {
		if (q->id != id)
			continue;
		if (prev)
			prev->next = q->next;
		else
			l->head = q->next;
		if (l->tail == q)
			l->tail = prev;
		l->n--;
		rs_req_free(q);
		return true;
	}
	return false;
}

/* O(queued): cancellations happen once per abandoned lookup, the queue is bounded. */
void
resolver_cancel(struct resolver *r, long long id)
{
	if (r == NULL || id <= 0)
		return;
	for (struct rs_req *q = r->dispatch.head; q != NULL; q = q->next)
		if (q->id == id)
			q->cancelled = true;
	pthread_mutex_lock(&r->mu);
	if (!rs_drop(&r->queued, id) && !rs_drop(&r->done, id) && r->running != NULL &&
	    r->running->id == id)
		r->running->cancelled = true; /* freed by the loop once answered */
	pthread_mutex_unlock(&r->mu);
}

static void
rs_free_list(struct rs_list *l)
{
	struct rs_req *q;

	while ((q = rs_pop(l)) != NULL)
		rs_req_free(q);
}

void
resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->mu);
		r->stop = true;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL);
		evloop_del(r->loop, r->efd);
	}
	rs_free_list(&r->queued);
	rs_free_list(&r->done);
	rs_free_list(&r->dispatch);
	ut_close(&r->efd);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}
