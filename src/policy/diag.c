/* diag: located policy diagnostics (see diag.h). */
#include "policy/diag.h"

#include <stdarg.h>
#include <string.h>

#include "util/util.h"

/* One message is at most this long; longer ones end in "..." (a field path or a user
 * value quoted inside a message can be long, the hint is never that long). */
#define DIAG_MSG_MAX 1024

static char *
diag_strdup_or_null(const char *s)
{
	return s ? ut_xstrdup(s) : NULL;
}

void
diag_add(struct diag *d, enum diag_sev sev, const char *file, struct pol_mark m,
	 const char *field, const char *fmt, ...)
{
	char msg[DIAG_MSG_MAX];
	struct diag_item *it;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		ut_strlcpy(msg, "(unformattable message)", sizeof(msg));
	else if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4); /* never silently cut */
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct diag_item *ni = realloc(d->items, cap * sizeof(*ni));
		if (ni == NULL)
			fatal("diag: out of memory");
		d->items = ni;
		d->cap = cap;
	}
	it = &d->items[d->n++];
	it->sev = sev;
	it->file = diag_strdup_or_null(file);
	it->line = m.line;
	it->col = m.col;
	it->field = diag_strdup_or_null(field);
	it->msg = ut_xstrdup(msg);
	if (sev == DIAG_ERROR)
		d->nerrors++;
	else
		d->nwarnings++;
}

static const char *
diag_sev_str(enum diag_sev sev)
{
	return sev == DIAG_ERROR ? "error" : "warning";
}

void
diag_print(const struct diag *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag_item *it = &d->items[i];

		fputs(it->file ? it->file : "<policy>", f);
		if (it->line)
			fprintf(f, ":%u:%u", it->line, it->col);
		fprintf(f, ": %s: ", diag_sev_str(it->sev));
		if (it->field)
			fprintf(f, "%s: ", it->field);
		fprintf(f, "%s\n", it->msg);
	}
}

void
diag_json_sev(const struct diag *d, int sev, struct sbuf *b)
{
	bool first = true;

	sbuf_putc(b, '[');
	for (size_t i = 0; i < d->n; i++) {
		const struct diag_item *it = &d->items[i];
		struct json_obj o;

		if (sev >= 0 && it->sev != (enum diag_sev)sev)
			continue;
		if (!first)
			sbuf_putc(b, ',');
		first = false;
		json_begin(&o, b);
		json_kv_str(&o, "severity", diag_sev_str(it->sev));
		json_kv_str(&o, "file", it->file);
		json_kv_int(&o, "line", it->line);
		json_kv_int(&o, "col", it->col);
		json_kv_str(&o, "field", it->field);
		json_kv_str(&o, "message", it->msg);
		json_end(&o);
	}
	sbuf_putc(b, ']');
}

void
diag_json(const struct diag *d, struct sbuf *b)
{
	diag_json_sev(d, -1, b);
}

void
diag_free(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].file);
		free(d->items[i].field);
		free(d->items[i].msg);
	}
	free(d->items);
	memset(d, 0, sizeof(*d));
}
