/* proxy/declog: decision lines (contract in declog.h). */
#include "proxy/declog.h"

#include <time.h>

#include "proxy/respond.h"
#include "util/evloop.h"
#include "util/sbuf.h"
#include "util/util.h"

static void
declog_time(char *when, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(when, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/* The members every line starts with: time, event, sandbox, pid (null when unknown),
 * binary. */
static void
declog_head(struct json_obj *o, struct sbuf *b, const struct declog *l, const char *when,
	    const char *event, pid_t pid, const char *binary)
{
	json_begin(o, b);
	json_kv_str(o, "time", when);
	json_kv_str(o, "event", event);
	json_kv_str(o, "sandbox", l->sandbox);
	if (pid > 0)
		json_kv_int(o, "pid", pid);
	else
		json_kv_raw(o, "pid", "null");
	json_kv_str(o, "binary", binary);
}

void
declog_format(const struct declog *l, const struct declog_event *ev, struct sbuf *b)
{
	struct json_obj o;
	struct sbuf anc = { 0 };
	char when[64];

	declog_time(when, sizeof(when));
	sbuf_putc(&anc, '[');
	for (size_t i = 0; i < ev->nancestors; i++) {
		if (i)
			sbuf_putc(&anc, ',');
		json_str(&anc, ev->ancestors[i], strlen(ev->ancestors[i]));
	}
	sbuf_putc(&anc, ']');
	declog_head(&o, b, l, when, "net", ev->pid, ev->binary);
	json_kv_raw(&o, "ancestors", sbuf_str(&anc));
	json_kv_str(&o, "host", ev->host);
	json_kv_int(&o, "port", ev->port);
	json_kv_str(&o, "address", ev->address);
	json_kv_str(&o, "decision", !ev->allow ? "deny" : ev->learn ? "learn" : "allow");
	json_kv_str(&o, "error", ev->error);
	json_kv_str(&o, "block", ev->block);
	json_kv_str(&o, "reason", ev->reason ? ev->reason : "");
	json_kv_int(&o, "generation", (long long)(ev->generation ? ev->generation : 1));
	json_kv_str(&o, "end", ev->end);
	json_kv_int(&o, "bytes_up", (long long)ev->bytes_up);
	json_kv_int(&o, "bytes_down", (long long)ev->bytes_down);
	json_kv_int(&o, "duration_ms", ev->duration_ms);
	json_end(&o);
	sbuf_free(&anc);
}

static bool
declog_is_decision(const struct declog_event *ev)
{
	return !ev->allow && ev->error != NULL &&
	       (strcmp(ev->error, RESPOND_POLICY_DENIED) == 0 ||
		strcmp(ev->error, RESPOND_DESTINATION_DENIED) == 0 ||
		strcmp(ev->error, RESPOND_SNI_MISMATCH) == 0);
}

/* The human line; the terminal may be in raw mode (no newline translation). */
static void
declog_denied_line(const struct declog *l, const struct declog_event *ev)
{
	struct sbuf b = { 0 };
	char pid[32] = "pid ?";

	if (ev->pid > 0)
		snprintf(pid, sizeof(pid), "pid %d", (int)ev->pid);
	sbuf_printf(&b, "agentcage: DENIED %s (%s) -> %s:%u \xe2\x80\x94 %s%s",
		    ev->binary ? ev->binary : "(unknown binary)", pid, ev->host ? ev->host : "?",
		    ev->port, ev->reason ? ev->reason : "",
		    l->raw_tty != NULL && *l->raw_tty ? "\r\n" : "\n");
	(void)ut_write_all(l->err_fd, b.s, b.len); /* stderr gone: nothing better to do */
	sbuf_free(&b);
}

/* One write() of whole lines: O_APPEND keeps them whole. */
static int
declog_put(struct declog *l, const char *s, size_t len)
{
	int rc = ut_write_all(l->fd, s, len);

	if (rc == -1 && !l->warned) {
		const int e = errno;

		l->warned = true;
		log_warn("proxy: writing the decision log");
		errno = e;
	}
	return rc;
}

int
declog_flush(struct declog *l)
{
	int rc = 0;

	if (l->flush_timer > 0 && l->loop != NULL)
		evloop_timer_del(l->loop, l->flush_timer);
	l->flush_timer = 0;
	if (l->pending.len > 0)
		rc = declog_put(l, l->pending.s, l->pending.len);
	sbuf_free(&l->pending);
	return rc;
}

static long
declog_flush_cb(struct evloop *loop, long long id, void *data)
{
	struct declog *l = data;

	(void)loop;
	(void)id;
	l->flush_timer = 0; /* this timer stops itself: declog_flush must not delete it */
	(void)declog_flush(l);
	return EV_TIMER_STOP;
}

/* Writes the line in <b> (newline added), at once or batched (declog.h). Consumes <b>. */
static int
declog_emit(struct declog *l, struct sbuf *b)
{
	int rc = 0;

	sbuf_putc(b, '\n');
	if (l->loop == NULL) {
		rc = declog_put(l, b->s, b->len);
		sbuf_free(b);
		return rc;
	}
	sbuf_add(&l->pending, b->s, b->len);
	sbuf_free(b);
	if (l->pending.len >= DECLOG_BATCH_MAX)
		return declog_flush(l);
	if (l->flush_timer == 0 &&
	    (l->flush_timer = evloop_timer_add(l->loop, 0, declog_flush_cb, l)) == -1) {
		l->flush_timer = 0;
		return declog_flush(l); /* no timer: never hold a line without one */
	}
	return rc;
}

int
declog_write(struct declog *l, const struct declog_event *ev)
{
	struct sbuf b = { 0 };

	if (l->err_fd >= 0 && declog_is_decision(ev))
		declog_denied_line(l, ev);
	if (l->fd < 0)
		return 0;
	declog_format(l, ev, &b);
	return declog_emit(l, &b);
}

void
declog_redact_target(struct sbuf *b, const char *target, size_t len)
{
	const char *q = memchr(target, '?', len), *end = target + len;

	if (q == NULL) {
		sbuf_add(b, target, len);
		return;
	}
	sbuf_add(b, target, (size_t)(q + 1 - target));
	for (const char *p = q + 1; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pe - p));

		if (eq != NULL && eq + 1 < pe) {
			sbuf_add(b, p, (size_t)(eq + 1 - p));
			sbuf_puts(b, "[redacted]");
		} else {
			sbuf_add(b, p, (size_t)(pe - p));
		}
		if (amp)
			sbuf_putc(b, '&');
		p = amp ? amp + 1 : end;
	}
}

static void
declog_http_denied_line(const struct declog *l, const struct declog_http *ev)
{
	struct sbuf b = { 0 };
	char pid[32] = "pid ?", port[16] = "";

	if (ev->pid > 0)
		snprintf(pid, sizeof(pid), "pid %d", (int)ev->pid);
	if (ev->port != 443 && ev->port != 80)
		snprintf(port, sizeof(port), ":%u", ev->port);
	sbuf_printf(&b, "agentcage: DENIED %s (%s) -> %s %s%s%s \xe2\x80\x94 %s%s",
		    ev->binary ? ev->binary : "(unknown binary)", pid, ev->method ? ev->method : "?",
		    ev->host ? ev->host : "?", port, ev->path ? ev->path : "",
		    ev->reason ? ev->reason : "",
		    l->raw_tty != NULL && *l->raw_tty ? "\r\n" : "\n");
	(void)ut_write_all(l->err_fd, b.s, b.len);
	sbuf_free(&b);
}

int
declog_write_http(struct declog *l, const struct declog_http *ev)
{
	struct sbuf b = { 0 };
	struct json_obj o;
	char when[64];

	if (l->err_fd >= 0 && ev->decision != NULL && strcmp(ev->decision, "deny") == 0 &&
	    (ev->error == NULL || strcmp(ev->error, RESPOND_POLICY_DENIED) == 0))
		declog_http_denied_line(l, ev);
	if (l->fd < 0)
		return 0;
	declog_time(when, sizeof(when));
	declog_head(&o, &b, l, when, "http", ev->pid, ev->binary);
	json_kv_str(&o, "host", ev->host);
	json_kv_int(&o, "port", ev->port);
	json_kv_str(&o, "method", ev->method);
	json_kv_str(&o, "path", ev->path);
	if (ev->status > 0)
		json_kv_int(&o, "status", ev->status);
	else
		json_kv_raw(&o, "status", "null");
	json_kv_str(&o, "decision", ev->decision);
	json_kv_str(&o, "error", ev->error);
	json_kv_str(&o, "block", ev->block);
	json_kv_str(&o, "reason", ev->reason ? ev->reason : "");
	json_kv_int(&o, "generation", (long long)(ev->generation ? ev->generation : 1));
	json_kv_str(&o, "note", ev->note);
	json_kv_int(&o, "bytes_up", (long long)ev->bytes_up);
	json_kv_int(&o, "bytes_down", (long long)ev->bytes_down);
	json_kv_int(&o, "duration_ms", ev->duration_ms);
	json_kv_raw(&o, "tls", ev->tls ? "true" : "false");
	json_end(&o);
	return declog_emit(l, &b);
}
