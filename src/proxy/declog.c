/* proxy/declog: decision lines (contract in declog.h). */
#include "proxy/declog.h"

#include <time.h>

#include "proxy/respond.h"
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
	json_begin(&o, b);
	json_kv_str(&o, "time", when);
	json_kv_str(&o, "event", "net");
	json_kv_str(&o, "sandbox", l->sandbox);
	if (ev->pid > 0)
		json_kv_int(&o, "pid", ev->pid);
	else
		json_kv_raw(&o, "pid", "null");
	json_kv_str(&o, "binary", ev->binary);
	json_kv_raw(&o, "ancestors", sbuf_str(&anc));
	json_kv_str(&o, "host", ev->host);
	json_kv_int(&o, "port", ev->port);
	json_kv_str(&o, "address", ev->address);
	json_kv_str(&o, "decision", ev->allow ? "allow" : "deny");
	json_kv_str(&o, "error", ev->error);
	json_kv_str(&o, "block", ev->block);
	json_kv_str(&o, "reason", ev->reason ? ev->reason : "");
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
		strcmp(ev->error, RESPOND_DESTINATION_DENIED) == 0);
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

int
declog_write(struct declog *l, const struct declog_event *ev)
{
	struct sbuf b = { 0 };
	int rc = 0;

	if (l->err_fd >= 0 && declog_is_decision(ev))
		declog_denied_line(l, ev);
	if (l->fd < 0)
		return 0;
	declog_format(l, ev, &b);
	sbuf_putc(&b, '\n');
	rc = ut_write_all(l->fd, b.s, b.len); /* one write(): O_APPEND keeps the line whole */
	if (rc == -1 && !l->warned) {
		l->warned = true;
		log_warn("proxy: writing the decision log");
	}
	sbuf_free(&b);
	return rc;
}
