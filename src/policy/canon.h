/*
 * policy/canon: the request-target canonicaliser and query parser (network.md §5.5, §9.8,
 * §9.9). The canonical path is what policy matches and what upstream receives, so a
 * server can never dispatch on a path the policy did not see.
 *
 * Parser contract (style.md §6): no I/O, no allocation; output goes to caller buffers
 * with their capacity; the first error's kind and byte offset (into the raw target) are
 * recorded. Context: proxy loop (per request) and policy explain.
 *
 * Canonical form: percent-decoded, `;params` stripped from every segment, `.`/`..`
 * resolved, empty segments dropped (a trailing `/` kept), then re-encoded: the
 * unreserved and sub-delim characters and `:` `@` literal, everything else `%XX` in
 * upper case. The query is not canonicalised; it is returned verbatim.
 */
#ifndef AGENTCAGE_POLICY_CANON_H
#define AGENTCAGE_POLICY_CANON_H

#include <stdbool.h>
#include <stddef.h>

#define CANON_MAX_PATH   4096                     /* raw path bytes (before `?`) */
#define CANON_OUT_MAX    (3 * CANON_MAX_PATH + 1) /* room for any canonical path + NUL */
#define CANON_MAX_PARAMS 256                      /* query parameters of one request */

enum canon_err {
	CANON_OK = 0,
	CANON_ERR_CONTROL,       /* raw or decoded byte 0x00-0x1f or 0x7f */
	CANON_ERR_NON_ASCII,     /* raw byte >= 0x80 (send it percent-encoded) */
	CANON_ERR_FRAGMENT,      /* `#` in a request-target */
	CANON_ERR_MALFORMED,     /* not origin-form or absolute-form (e.g. `*`, `a/b`) */
	CANON_ERR_TOO_LONG,      /* path longer than CANON_MAX_PATH */
	CANON_ERR_PERCENT,       /* `%` not followed by two hex digits */
	CANON_ERR_ENCODED_SLASH, /* `%2F` without allow_encoded_slash */
	CANON_ERR_TRAVERSAL,     /* `..` above the root */
	CANON_ERR_RESIDUAL_DOT,  /* `.`/`..` hidden next to an encoded slash */
	CANON_ERR_NOSPACE,       /* caller's buffer too small (see CANON_OUT_MAX) */
	CANON_ERR_UTF8,          /* decoded query text is not UTF-8 */
	CANON_ERR_TOO_MANY,      /* more than the caller's parameter capacity */
};

/* Options of canon_target(). */
enum {
	CANON_ALLOW_ENCODED_SLASH = 1 << 0, /* keep %2F as an opaque in-segment byte */
};

struct canon_result {
	size_t path_len;   /* bytes written to the output (NUL not counted) */
	const char *query; /* into the raw target, after `?`; NULL when there is no `?` */
	size_t query_len;
	enum canon_err err; /* CANON_OK, or the first error */
	size_t err_off;     /* offset in the raw target of the first error */
};

/*
 * Canonicalises the path of request-target <t>[0..<len>) (origin-form `/p?q`, or
 * absolute-form `scheme://authority/p?q`) into <out> (capacity <cap>, NUL-terminated).
 * Refuses control and non-ASCII bytes anywhere, `#`, bad percent escapes, encoded
 * slashes (unless CANON_ALLOW_ENCODED_SLASH), traversal above the root. Returns 0, or -1
 * with errno EINVAL (ENOSPC for CANON_ERR_NOSPACE) and <res>->err/err_off set.
 */
int canon_target(const char *t, size_t len, unsigned flags, char *out, size_t cap,
                 struct canon_result *res);

/* Words for <err>, e.g. "encoded '/' (%2F) in the path". */
const char *canon_strerror(enum canon_err err);

/* One decoded query parameter: slices into the caller's decode buffer. */
struct canon_param {
	const char *key;
	size_t key_len;
	const char *val;
	size_t val_len;
};

/*
 * Parses query <q>[0..<qlen>) (after the `?`): pairs split at `&`, empty pairs skipped,
 * key and value split at the first `=` (none: value ""), `+` is a space, `%XX` decoded.
 * Decoded text goes to <buf> (capacity <cap>; <qlen> always suffices); *<nparams> holds
 * the capacity of <params> on entry and the count on return. Returns 0, or -1 with errno
 * EINVAL (bad escape, not UTF-8), ENOSPC or E2BIG, and *<err> and *<err_off> set.
 */
int canon_query_parse(const char *q, size_t qlen, char *buf, size_t cap, struct canon_param *params,
                      size_t *nparams, enum canon_err *err, size_t *err_off);

#endif
