/*
 * sbuf: growable NUL-terminated string buffer, and a JSON writer on top of it for the
 * one-object-per-line decision log and `--json` outputs.
 *
 * Context: any. A zero-filled struct sbuf is a valid empty buffer. Allocation failure
 * aborts (messages are small). sbuf_free() releases the storage.
 */
#ifndef AGENTCAGE_SBUF_H
#define AGENTCAGE_SBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf {
	char *s;
	size_t len, cap;
};

void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_putc(struct sbuf *b, char c);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_reset(struct sbuf *b);
void sbuf_free(struct sbuf *b);
/* Returns b->s, or "" when nothing was added yet. */
const char *sbuf_str(const struct sbuf *b);

/* Appends <s>[0..<n>) as a JSON string literal with quotes; bytes < 0x20, '"', '\\' and
 * invalid UTF-8 are escaped (invalid bytes become \u00XX so the line stays valid JSON). */
void json_str(struct sbuf *b, const char *s, size_t n);

/* JSON object writer: json_begin() writes '{'; each json_kv_* adds one member with the
 * right comma; json_end() writes '}'. Keys are trusted literals. */
struct json_obj {
	struct sbuf *b;
	bool first;
};
void json_begin(struct json_obj *o, struct sbuf *b);
void json_kv_str(struct json_obj *o, const char *key, const char *val);  /* NULL -> null */
void json_kv_int(struct json_obj *o, const char *key, long long val);
void json_kv_bool(struct json_obj *o, const char *key, bool val);
void json_kv_raw(struct json_obj *o, const char *key, const char *raw); /* already JSON */
/* <key>: an array of the strings of the NULL-terminated <v> (NULL -> []): an argv. */
void json_kv_strv(struct json_obj *o, const char *key, char *const *v);
void json_end(struct json_obj *o);

#endif
