/* cli/logfmt: the human line of a log event (contract in logfmt.h). */
#include "cli/logfmt.h"

#include "util/util.h"

/* --- the human line --------------------------------------------------------------------- */

/* Appends <s> with control bytes as '?' (terminal safety); NULL as <dflt>. */
static void
put_safe(struct sbuf *b, const char *s, const char *dflt)
{
	if (s == NULL || *s == '\0')
		s = dflt;
	for (const char *p = s; *p != '\0'; p++)
		sbuf_putc(b, (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
}

/* "512 B", "3.1 KiB", "20 KiB", "1.5 MiB": one decimal below 10, none above. */
static void
put_size(struct sbuf *b, long long n)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	size_t u = 0;

	if (n < 1024) {
		sbuf_printf(b, "%lld B", n < 0 ? 0 : n);
		return;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < NELEM(units)) {
		v /= 1024;
		u++;
	}
	sbuf_printf(b, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static const char *
decision_label(const struct logread_event *ev)
{
	switch (ev->decision) {
	case LOGREAD_DEC_ALLOW:
		return "ALLOWED";
	case LOGREAD_DEC_DENY:
		return "DENIED";
	case LOGREAD_DEC_AUDIT:
		return "AUDIT";
	case LOGREAD_DEC_LEARN:
		return "LEARN";
	case LOGREAD_DEC_NONE:
	case LOGREAD_DEC_UNKNOWN:
		break;
	}
	return "?";
}

static void
put_who(struct sbuf *b, const struct logread_event *ev)
{
	put_safe(b, ev->binary, "?");
	if (ev->pid > 0)
		sbuf_printf(b, "(%lld) -> ", ev->pid);
	else
		sbuf_puts(b, "(?) -> ");
}

static void
put_block(struct sbuf *b, const struct logread_event *ev)
{
	sbuf_puts(b, " [policy:");
	put_safe(b, ev->block, "-");
	if (ev->generation >= 0)
		sbuf_printf(b, " gen:%lld", ev->generation);
	sbuf_puts(b, "] ");
}

/* The reason of a refusal, or the traffic of an allowed connection or request. */
static void
put_detail(struct sbuf *b, const struct logread_event *ev)
{
	if (ev->decision == LOGREAD_DEC_ALLOW) {
		if (ev->kind == LOGREAD_HTTP) {
			if (ev->status > 0)
				sbuf_printf(b, "%lld, ", ev->status);
			else
				sbuf_puts(b, "no response, ");
		}
		put_size(b, ev->bytes_up);
		sbuf_puts(b, " up, ");
		put_size(b, ev->bytes_down);
		sbuf_puts(b, " down");
		if (ev->end != NULL && strcmp(ev->end, "finished") != 0) {
			sbuf_puts(b, " (ended: ");
			put_safe(b, ev->end, "?");
			sbuf_putc(b, ')');
		}
		return;
	}
	put_safe(b, ev->reason, "?");
	if (ev->error != NULL && strcmp(ev->error, "policy_denied") != 0) {
		sbuf_puts(b, " (error: ");
		put_safe(b, ev->error, "?");
		sbuf_putc(b, ')');
	}
}

static void
format_decision(const struct logread_event *ev, struct sbuf *b)
{
	sbuf_puts(b, ev->kind == LOGREAD_NET ? "NET " : "HTTP ");
	sbuf_puts(b, decision_label(ev));
	sbuf_putc(b, ' ');
	put_who(b, ev);
	if (ev->kind == LOGREAD_HTTP) {
		put_safe(b, ev->method, "?");
		sbuf_putc(b, ' ');
		put_safe(b, ev->host, "?");
		if (ev->port != 443 && ev->port != 80 && ev->port >= 0)
			sbuf_printf(b, ":%lld", ev->port);
		put_safe(b, ev->path, "");
	} else {
		put_safe(b, ev->host, "?");
		sbuf_printf(b, ":%lld", ev->port);
	}
	put_block(b, ev);
	put_detail(b, ev);
}

/* status, signal and duration of an exit or exec_exit line. */
static void
put_ending(struct sbuf *b, const struct logread_event *ev)
{
	if (ev->status >= 0)
		sbuf_printf(b, " status:%lld", ev->status);
	else if (ev->exit_code >= 0)
		sbuf_printf(b, " status:%lld", ev->exit_code);
	if (ev->signal_name != NULL) {
		sbuf_puts(b, " signal:");
		put_safe(b, ev->signal_name, "?");
	}
	if (ev->duration_ms >= 0)
		sbuf_printf(b, " duration:%lld.%01llds", ev->duration_ms / 1000,
		            ev->duration_ms % 1000 / 100);
}

static void
format_lifecycle(const struct logread_event *ev, struct sbuf *b)
{
	static const char *const labels[] = {
	        [LOGREAD_START] = "START",   [LOGREAD_EXIT] = "EXIT",
	        [LOGREAD_EXEC] = "EXEC",     [LOGREAD_EXEC_EXIT] = "EXEC_EXIT",
	        [LOGREAD_POLICY] = "POLICY",
	};

	sbuf_puts(b, labels[ev->kind]);
	sbuf_putc(b, ' ');
	put_safe(b, ev->name, "?");
	if (ev->pid > 0)
		sbuf_printf(b, " pid:%lld", ev->pid);
	if (ev->exec_id >= 0)
		sbuf_printf(b, " exec:%lld", ev->exec_id);
	if (ev->sandbox_pid > 0)
		sbuf_printf(b, " sandbox_pid:%lld", ev->sandbox_pid);
	switch (ev->kind) {
	case LOGREAD_START:
	case LOGREAD_EXEC:
		if (ev->kind == LOGREAD_START) {
			sbuf_puts(b, " policy:");
			put_safe(b, ev->policy_source, "?");
		}
		sbuf_puts(b, " -- ");
		put_safe(b, ev->command, "?");
		break;
	case LOGREAD_EXIT:
	case LOGREAD_EXEC_EXIT:
		put_ending(b, ev);
		break;
	default: /* LOGREAD_POLICY */
		if (ev->generation >= 0)
			sbuf_printf(b, " generation:%lld", ev->generation);
		sbuf_putc(b, ' ');
		put_safe(b, ev->result, "?");
		sbuf_puts(b, " policy:");
		put_safe(b, ev->policy_source, "?");
		if (ev->reason != NULL && *ev->reason != '\0') {
			sbuf_putc(b, ' ');
			put_safe(b, ev->reason, "");
		}
		break;
	}
}

void
logread_format(const struct logread_event *ev, struct sbuf *b)
{
	put_safe(b, ev->time, "-");
	sbuf_putc(b, ' ');
	switch (ev->kind) {
	case LOGREAD_NET:
	case LOGREAD_HTTP:
		format_decision(ev, b);
		break;
	case LOGREAD_START:
	case LOGREAD_EXIT:
	case LOGREAD_EXEC:
	case LOGREAD_EXEC_EXIT:
	case LOGREAD_POLICY:
		format_lifecycle(ev, b);
		break;
	case LOGREAD_OTHER:
		for (const char *p = ev->event; *p != '\0'; p++)
			sbuf_putc(b, (char)((*p >= 'a' && *p <= 'z')   ? *p - 'a' + 'A'
			                    : (unsigned char)*p < 0x20 ? '?'
			                                               : *p));
		put_safe(b, ev->name ? " " : "", "");
		put_safe(b, ev->name, "");
		break;
	}
	sbuf_putc(b, '\n');
}
