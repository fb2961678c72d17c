/* cli/logobs: observations for `policy suggest` (contract in logobs.h). */
#include "cli/logobs.h"

#include "util/util.h"

bool
logobs_is_observation(const struct logread_event *ev)
{
	if (ev->kind != LOGREAD_NET && ev->kind != LOGREAD_HTTP)
		return false;
	if (ev->decision == LOGREAD_DEC_LEARN)
		return true;
	return ev->decision == LOGREAD_DEC_DENY && ev->error != NULL &&
	       strcmp(ev->error, "policy_denied") == 0;
}

/* strcmp with NULL first. */
static int
cmp_opt(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

/* The observation key of <ev>; <path> is its path without the query. */
static int
cmp_key(const struct logobs *o, const struct logread_event *ev, const char *path)
{
	int c;

	if ((c = cmp_opt(o->binary, ev->binary)) != 0 || (c = cmp_opt(o->host, ev->host)) != 0)
		return c;
	if (o->port != ev->port)
		return o->port < ev->port ? -1 : 1;
	if ((c = cmp_opt(o->method, ev->kind == LOGREAD_HTTP ? ev->method : NULL)) != 0)
		return c;
	if ((c = cmp_opt(o->address, ev->kind == LOGREAD_HTTP ? NULL : ev->address)) != 0)
		return c;
	return cmp_opt(o->path, path);
}

static char *
dup_opt(const char *s)
{
	return s != NULL ? ut_xstrdup(s) : NULL;
}

/* Binary search: the index of <ev>'s key, or where it goes (*<found> false). */
static size_t
find_slot(const struct logobs_set *s, const struct logread_event *ev, const char *path, bool *found)
{
	size_t lo = 0, hi = s->n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_key(&s->v[mid], ev, path);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
add_observation(struct logobs_set *s, const struct logread_event *ev)
{
	cleanup_free char *path = NULL;
	struct logobs *o;
	bool found;
	size_t at;

	if (ev->kind == LOGREAD_HTTP && ev->path != NULL)
		if ((path = strndup(ev->path, strcspn(ev->path, "?"))) == NULL)
			return -1;
	at = find_slot(s, ev, path, &found);
	if (!found) {
		if (s->n == LOGOBS_MAX) {
			errno = E2BIG;
			return -1;
		}
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 16;
			struct logobs *v = reallocarray(s->v, cap, sizeof(*v));

			if (v == NULL)
				return -1;
			s->v = v;
			s->cap = cap;
		}
		memmove(&s->v[at + 1], &s->v[at], (s->n - at) * sizeof(*s->v));
		s->n++;
		o = &s->v[at];
		*o = (struct logobs){
		        .binary = dup_opt(ev->binary),
		        .host = dup_opt(ev->host),
		        .port = (uint16_t)ev->port,
		        .method = ev->kind == LOGREAD_HTTP ? dup_opt(ev->method) : NULL,
		        .path = steal_ptr(&path),
		        .address = ev->kind == LOGREAD_HTTP ? NULL : dup_opt(ev->address),
		        .reason = dup_opt(ev->reason),
		};
	}
	o = &s->v[at];
	o->count++;
	if (ev->decision == LOGREAD_DEC_LEARN) {
		o->learned = true;
		s->nlearn++;
	} else {
		s->ndeny++;
	}
	return 0;
}

/* Replaces *<slot> with a copy of <val>. */
static void
set_str(char **slot, const char *val)
{
	free(*slot);
	*slot = dup_opt(val);
}

static void
note_lifecycle(struct logobs_set *s, const struct logread_event *ev)
{
	if (ev->kind == LOGREAD_START) {
		set_str(&s->start_time, ev->time);
		set_str(&s->policy_source, ev->policy_source);
		set_str(&s->policy_sha256, ev->policy_sha256);
		s->start_pid = ev->pid;
	} else if (ev->kind == LOGREAD_POLICY && ev->result != NULL &&
	           strcmp(ev->result, "loaded") == 0) {
		s->npolicy_changes++;
		set_str(&s->last_policy_source, ev->policy_source);
	}
}

int
logobs_collect(struct logread *r, struct logobs_set *s)
{
	struct logread_event ev;
	int rc;

	if (s->start_time == NULL)
		s->start_pid = -1;
	while ((rc = logread_next(r, &ev, false)) == 1) {
		note_lifecycle(s, &ev);
		/* a port out of range is a corrupt line, not an observation to allow */
		if (!logobs_is_observation(&ev) || ev.port < 1 || ev.port > UINT16_MAX ||
		    ev.host == NULL)
			continue;
		if (add_observation(s, &ev) == -1)
			return -1;
	}
	return rc;
}

void
logobs_free(struct logobs_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].binary);
		free(s->v[i].host);
		free(s->v[i].method);
		free(s->v[i].path);
		free(s->v[i].address);
		free(s->v[i].reason);
	}
	free(s->v);
	free(s->start_time);
	free(s->policy_source);
	free(s->policy_sha256);
	free(s->last_policy_source);
	memset(s, 0, sizeof(*s));
}
