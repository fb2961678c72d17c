/* sbuf: growable strings and a minimal JSON writer. */
#include "util/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/util.h"

static void
sbuf_reserve(struct sbuf *b, size_t more)
{
	size_t need = b->len + more + 1;

	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	char *n = realloc(b->s, cap);
	if (n == NULL)
		ut_bug(__FILE__, __LINE__, "out of memory");
	b->s = n;
	b->cap = cap;
}

void
sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	sbuf_reserve(b, n);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

void
sbuf_putc(struct sbuf *b, char c)
{
	sbuf_add(b, &c, 1);
}

void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sbuf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

void
sbuf_free(struct sbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

const char *
sbuf_str(const struct sbuf *b)
{
	return b->s ? b->s : "";
}

/* Length of the valid UTF-8 sequence at <p> (at most <n> bytes), or 0 if invalid. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	unsigned int cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xE0) == 0xC0) {
		len = 2;
		cp = p[0] & 0x1F;
	} else if ((p[0] & 0xF0) == 0xE0) {
		len = 3;
		cp = p[0] & 0x0F;
	} else if ((p[0] & 0xF8) == 0xF0) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	/* overlong forms, surrogates and out-of-range code points are invalid */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

void
json_str(struct sbuf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	sbuf_putc(b, '"');
	while (i < n) {
		unsigned char c = p[i];
		size_t l;
		switch (c) {
		case '"':
			sbuf_puts(b, "\\\"");
			i++;
			continue;
		case '\\':
			sbuf_puts(b, "\\\\");
			i++;
			continue;
		case '\n':
			sbuf_puts(b, "\\n");
			i++;
			continue;
		case '\r':
			sbuf_puts(b, "\\r");
			i++;
			continue;
		case '\t':
			sbuf_puts(b, "\\t");
			i++;
			continue;
		default:
			break;
		}
		if (c < 0x20 || c == 0x7F) {
			sbuf_printf(b, "\\u%04x", c);
			i++;
			continue;
		}
		l = utf8_len(p + i, n - i);
		if (l == 0) {
			sbuf_printf(b, "\\u%04x", c);
			i++;
			continue;
		}
		sbuf_add(b, s + i, l);
		i += l;
	}
	sbuf_putc(b, '"');
}

void
json_begin(struct json_obj *o, struct sbuf *b)
{
	o->b = b;
	o->first = true;
	sbuf_putc(b, '{');
}

static void
json_key(struct json_obj *o, const char *key)
{
	if (!o->first)
		sbuf_putc(o->b, ',');
	o->first = false;
	json_str(o->b, key, strlen(key));
	sbuf_putc(o->b, ':');
}

void
json_kv_str(struct json_obj *o, const char *key, const char *val)
{
	json_key(o, key);
	if (val)
		json_str(o->b, val, strlen(val));
	else
		sbuf_puts(o->b, "null");
}

void
json_kv_int(struct json_obj *o, const char *key, long long val)
{
	json_key(o, key);
	sbuf_printf(o->b, "%lld", val);
}

void
json_kv_bool(struct json_obj *o, const char *key, bool val)
{
	json_key(o, key);
	sbuf_puts(o->b, val ? "true" : "false");
}

void
json_kv_raw(struct json_obj *o, const char *key, const char *raw)
{
	json_key(o, key);
	sbuf_puts(o->b, raw);
}

void
json_kv_strv(struct json_obj *o, const char *key, char *const *v)
{
	json_key(o, key);
	sbuf_putc(o->b, '[');
	for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
		if (i > 0)
			sbuf_putc(o->b, ',');
		json_str(o->b, v[i], strlen(v[i]));
	}
	sbuf_putc(o->b, ']');
}

void
json_end(struct json_obj *o)
{
	sbuf_putc(o->b, '}');
}
