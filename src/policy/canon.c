/* policy/canon: request-target canonicalisation and query parsing; see canon.h. */
#include "policy/canon.h"

#include <errno.h>
#include <string.h>

#include "util/util.h"

/* RFC 3986 pchar minus pct-encoded: unreserved, sub-delims, ':' and '@'. */
static bool
canon_is_literal(unsigned char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("-._~!$&'()*+,;=:@", c) != NULL;
}

static int
canon_fail(struct canon_result *res, enum canon_err err, size_t off)
{
	res->err = err;
	res->err_off = off;
	errno = err == CANON_ERR_NOSPACE ? ENOSPC : EINVAL;
	return -1;
}

/* One decoded byte of a path: <c>, and whether it was an encoded slash. */
struct canon_tok {
	unsigned char c;
	bool es;
	size_t raw_len; /* 1, or 3 for %XX */
};

/* Decodes the token at <p>; the pre-pass has already validated every escape. */
static struct canon_tok
canon_tok_at(const char *p)
{
	struct canon_tok t = {(unsigned char)p[0], false, 1};

	if (p[0] == '%') {
		t.c = (unsigned char)(ut_hexval(p[1]) << 4 | ut_hexval(p[2]));
		t.es = t.c == '/';
		t.raw_len = 3;
	}
	return t;
}

/* Pre-pass over the raw path: escapes well-formed, no decoded control byte, and no
 * encoded slash unless allowed. The reference decodes the whole path before splitting
 * it, so these errors win over traversal errors. */
static int
canon_check_escapes(const char *t, size_t ps, size_t pe, unsigned flags, struct canon_result *res)
{
	for (size_t i = ps; i < pe; i++) {
		if (t[i] != '%')
			continue;
		if (i + 2 >= pe || ut_hexval(t[i + 1]) == -1 || ut_hexval(t[i + 2]) == -1)
			return canon_fail(res, CANON_ERR_PERCENT, i);
		unsigned c = (unsigned)(ut_hexval(t[i + 1]) << 4 | ut_hexval(t[i + 2]));
		if (c < 0x20 || c == 0x7f)
			return canon_fail(res, CANON_ERR_CONTROL, i);
		if (c == '/' && !(flags & CANON_ALLOW_ENCODED_SLASH))
			return canon_fail(res, CANON_ERR_ENCODED_SLASH, i);
		i += 2;
	}
	return 0;
}

/* Where the path starts: origin-form "/...", absolute-form "scheme://authority/...",
 * or empty. Returns the offset, or SIZE_MAX when the target has neither form. */
static size_t
canon_path_start(const char *t, size_t len)
{
	size_t i = 0;

	if (len == 0 || t[0] == '/')
		return 0;
	if (!((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')))
		return SIZE_MAX;
	while (i < len &&
	       (((t[i] | 0x20) >= 'a' && (t[i] | 0x20) <= 'z') || (t[i] >= '0' && t[i] <= '9') ||
	        t[i] == '+' || t[i] == '-' || t[i] == '.'))
		i++;
	if (len - i < 3 || memcmp(t + i, "://", 3) != 0)
		return SIZE_MAX;
	for (i += 3; i < len && t[i] != '/' && t[i] != '?'; i++)
		;
	return i;
}

/* Output cursor: the canonical path built segment by segment. */
struct canon_out {
	char *buf;
	size_t cap, len;
};

static bool
canon_put(struct canon_out *o, const char *s, size_t n)
{
	if (o->cap - o->len <= n) /* keep one byte for the NUL */
		return false;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	return true;
}

/*
 * Examines the raw segment <t>[a..b): sets *<end> to where `;params` begin (decoded ';'),
 * and returns 1 for ".", 2 for "..", 0 for a normal segment, -1 for a dot segment hidden
 * between encoded slashes.
 */
static int
canon_segment_kind(const char *t, size_t a, size_t b, size_t *end)
{
	size_t sub_len = 0, sub_dots = 0, i = a;
	bool has_es = false, residual = false;
	size_t whole_len = 0, whole_dots = 0;

	while (i < b) {
		struct canon_tok k = canon_tok_at(t + i);
		if (k.c == ';' && !k.es)
			break;
		i += k.raw_len;
		if (k.es) {
			has_es = true;
			residual |= sub_len > 0 && sub_len == sub_dots && sub_len <= 2;
			sub_len = sub_dots = 0;
			whole_len++;
			continue;
		}
		sub_len++;
		whole_len++;
		sub_dots += k.c == '.';
		whole_dots += k.c == '.';
	}
	*end = i;
	residual |= has_es && sub_len > 0 && sub_len == sub_dots && sub_len <= 2;
	if (residual)
		return -1;
	if (!has_es && whole_len > 0 && whole_len == whole_dots && whole_len <= 2)
		return (int)whole_len;
	return 0;
}

/* Appends "/" and the re-encoded segment <t>[a..end). */
static bool
canon_emit_segment(struct canon_out *o, const char *t, size_t a, size_t end)
{
	static const char hex[] = "0123456789ABCDEF";

	if (!canon_put(o, "/", 1))
		return false;
	for (size_t i = a; i < end;) {
		struct canon_tok k = canon_tok_at(t + i);
		char enc[3] = {'%', hex[k.c >> 4], hex[k.c & 15]};
		i += k.raw_len;
		if (!k.es && canon_is_literal(k.c) ? !canon_put(o, (const char *)&k.c, 1)
		                                   : !canon_put(o, enc, 3))
			return false;
	}
	return true;
}

/* Drops the last segment of <o>; false when there is none (above the root). */
static bool
canon_pop(struct canon_out *o)
{
	if (o->len == 0)
		return false;
	const char *s = memrchr(o->buf, '/', o->len);
	o->len = (size_t)(s - o->buf);
	return true;
}

/* Resolves the segments of the validated raw path <t>[ps..pe) into <o>. */
static int
canon_resolve(const char *t, size_t ps, size_t pe, struct canon_out *o, struct canon_result *res)
{
	bool trailing = false;
	size_t a = ps + 1; /* the path starts with '/' */

	while (a <= pe) {
		const char *slash = memchr(t + a, '/', pe - a);
		size_t b = slash ? (size_t)(slash - t) : pe, end;
		bool last = slash == NULL;
		int kind = canon_segment_kind(t, a, b, &end);

		trailing = false;
		if (kind == -1)
			return canon_fail(res, CANON_ERR_RESIDUAL_DOT, a);
		if (kind == 2 && !canon_pop(o))
			return canon_fail(res, CANON_ERR_TRAVERSAL, a);
		if (kind == 0 && end > a && !canon_emit_segment(o, t, a, end))
			return canon_fail(res, CANON_ERR_NOSPACE, a);
		/* ".", ".." and an empty last segment leave a trailing slash. */
		if (last && (kind != 0 || end == a))
			trailing = true;
		a = b + 1;
	}
	if ((o->len == 0 || trailing) && !canon_put(o, "/", 1))
		return canon_fail(res, CANON_ERR_NOSPACE, pe);
	return 0;
}

int
canon_target(const char *t, size_t len, unsigned flags, char *out, size_t cap,
             struct canon_result *res)
{
	struct canon_out o = {out, cap, 0};
	size_t ps, pe;

	memset(res, 0, sizeof(*res));
	if (cap > 0)
		out[0] = '\0';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c < 0x20 || c == 0x7f)
			return canon_fail(res, CANON_ERR_CONTROL, i);
		if (c >= 0x80)
			return canon_fail(res, CANON_ERR_NON_ASCII, i);
		if (c == '#')
			return canon_fail(res, CANON_ERR_FRAGMENT, i);
	}
	ps = canon_path_start(t, len);
	if (ps == SIZE_MAX)
		return canon_fail(res, CANON_ERR_MALFORMED, 0);
	const char *q = memchr(t + ps, '?', len - ps);
	pe = q ? (size_t)(q - t) : len;
	if (q) {
		res->query = q + 1;
		res->query_len = len - pe - 1;
	}
	if (pe - ps > CANON_MAX_PATH)
		return canon_fail(res, CANON_ERR_TOO_LONG, ps + CANON_MAX_PATH);
	if (cap == 0)
		return canon_fail(res, CANON_ERR_NOSPACE, 0);
	if (canon_check_escapes(t, ps, pe, flags, res) == -1)
		return -1;
	if (pe > ps && canon_resolve(t, ps, pe, &o, res) == -1) {
		out[0] = '\0';
		return -1;
	}
	if (pe == ps && !canon_put(&o, "/", 1))
		return canon_fail(res, CANON_ERR_NOSPACE, ps);
	out[o.len] = '\0';
	res->path_len = o.len;
	return 0;
}

const char *
canon_strerror(enum canon_err err)
{
	switch (err) {
	case CANON_OK:
		return "no error";
	case CANON_ERR_CONTROL:
		return "control byte (raw or percent-encoded) in the request target";
	case CANON_ERR_NON_ASCII:
		return "raw non-ASCII byte in the request target (send it percent-encoded)";
	case CANON_ERR_FRAGMENT:
		return "'#' fragment in the request target";
	case CANON_ERR_MALFORMED:
		return "request target is neither origin-form (/path) nor absolute-form "
		       "(http://host/path)";
	case CANON_ERR_TOO_LONG:
		return "request path longer than 4096 bytes";
	case CANON_ERR_PERCENT:
		return "'%' not followed by two hex digits";
	case CANON_ERR_ENCODED_SLASH:
		return "encoded '/' (%2F) in the path; hint: set allow_encoded_slash: true on the "
		       "endpoint if the API needs it";
	case CANON_ERR_TRAVERSAL:
		return "'..' climbs above the root of the path";
	case CANON_ERR_RESIDUAL_DOT:
		return "'.' or '..' hidden next to an encoded '/'";
	case CANON_ERR_NOSPACE:
		return "canonical path does not fit the buffer";
	case CANON_ERR_UTF8:
		return "decoded query text is not valid UTF-8";
	case CANON_ERR_TOO_MANY:
		return "too many query parameters";
	}
	return "unknown error";
}

/* Length of the valid UTF-8 sequence at <s>[0..<n>), or 0 when it is invalid
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static size_t
canon_utf8_len(const unsigned char *s, size_t n)
{
	unsigned cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static bool
canon_utf8_valid(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t l = canon_utf8_len((const unsigned char *)s + i, n - i);
		if (l == 0)
			return false;
		i += l;
	}
	return true;
}

/* Decodes the form-encoded <q>[a..b) into <buf> at *<used>; on a bad escape sets
 * *<bad> to its offset and returns false. */
static bool
canon_form_decode(const char *q, size_t a, size_t b, char *buf, size_t *used, size_t *bad)
{
	for (size_t i = a; i < b; i++) {
		char c = q[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= b || ut_hexval(q[i + 1]) == -1 || ut_hexval(q[i + 2]) == -1) {
				*bad = i;
				return false;
			}
			c = (char)(ut_hexval(q[i + 1]) << 4 | ut_hexval(q[i + 2]));
			i += 2;
		}
		buf[(*used)++] = c;
	}
	return true;
}

int
canon_query_parse(const char *q, size_t qlen, char *buf, size_t cap, struct canon_param *params,
                  size_t *nparams, enum canon_err *err, size_t *err_off)
{
	size_t max = *nparams, n = 0, used = 0, a = 0;

	*nparams = 0;
	*err = CANON_OK;
	*err_off = 0;
	if (cap < qlen) {
		*err = CANON_ERR_NOSPACE;
		errno = ENOSPC;
		return -1;
	}
	while (a <= qlen) {
		const char *amp = memchr(q + a, '&', qlen - a);
		size_t b = amp ? (size_t)(amp - q) : qlen;
		if (b > a) {
			const char *eq = memchr(q + a, '=', b - a);
			size_t ke = eq ? (size_t)(eq - q) : b;
			if (n == max) {
				*err = CANON_ERR_TOO_MANY;
				*err_off = a;
				errno = E2BIG;
				return -1;
			}
			struct canon_param *p = &params[n];
			p->key = buf + used;
			if (!canon_form_decode(q, a, ke, buf, &used, err_off))
				goto bad_escape;
			p->key_len = (size_t)(buf + used - p->key);
			p->val = buf + used;
			if (eq && !canon_form_decode(q, ke + 1, b, buf, &used, err_off))
				goto bad_escape;
			p->val_len = (size_t)(buf + used - p->val);
			if (!canon_utf8_valid(p->key, p->key_len) ||
			    !canon_utf8_valid(p->val, p->val_len)) {
				*err = CANON_ERR_UTF8;
				*err_off = a;
				errno = EINVAL;
				return -1;
			}
			n++;
		}
		a = b + 1;
	}
	*nparams = n;
	return 0;
bad_escape:
	*err = CANON_ERR_PERCENT;
	errno = EINVAL;
	return -1;
}
