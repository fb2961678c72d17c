/* policy/glob: host, path and value globs; see glob.h for the dialects. */
#include "policy/glob.h"

#include <string.h>

#include "util/util.h"

/* Matching options of one segment. */
enum {
	GM_FOLD = 1 << 0, /* ASCII case-insensitive (hosts) */
};

static unsigned char
gm_fold(unsigned char c, unsigned flags)
{
	if ((flags & GM_FOLD) && c >= 'A' && c <= 'Z')
		return (unsigned char)(c - 'A' + 'a');
	return c;
}

/*
 * Matches a `[...]` class starting at <p>[0] == '[' against <c>. Sets *<used> to the
 * class's length in bytes; returns -1 when the class is unclosed (then `[` is literal),
 * else 1 on match, 0 on mismatch.
 */
static int
gm_class(const char *p, size_t plen, unsigned char c, unsigned flags, size_t *used)
{
	size_t i = 1;
	bool neg = false, hit = false;

	if (i < plen && (p[i] == '!' || p[i] == '^')) {
		neg = true;
		i++;
	}
	size_t first = i;
	for (; i < plen; i++) {
		if (p[i] == ']' && i > first)
			break;
		unsigned char lo = gm_fold((unsigned char)p[i], flags), hi = lo;
		if (i + 2 < plen && p[i + 1] == '-' && p[i + 2] != ']') {
			hi = gm_fold((unsigned char)p[i + 2], flags);
			i += 2;
		}
		if (c >= lo && c <= hi)
			hit = true;
	}
	if (i >= plen)
		return -1;
	*used = i + 1;
	return hit != neg;
}

/*
 * One segment: <p>[0..<plen>) against <s>[0..<slen>) with `*`, `?` and classes. The
 * classic single-backtrack-point algorithm: a later `*` supersedes an earlier one, so the
 * cost is O(plen * slen).
 */
static bool
gm_segment(const char *p, size_t plen, const char *s, size_t slen, unsigned flags)
{
	size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;

	while (si < slen) {
		if (pi < plen && p[pi] == '*') {
			while (pi < plen && p[pi] == '*')
				pi++;
			star_p = pi;
			star_s = si;
			continue;
		}
		if (pi < plen) {
			unsigned char c = gm_fold((unsigned char)s[si], flags);
			size_t used = 1;
			int m;
			if (p[pi] == '?')
				m = 1;
			else if (p[pi] == '[' &&
			         (m = gm_class(p + pi, plen - pi, c, flags, &used)) != -1)
				;
			else
				m = gm_fold((unsigned char)p[pi], flags) == c;
			if (m) {
				pi += used;
				si++;
				continue;
			}
		}
		if (star_p == SIZE_MAX)
			return false;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < plen && p[pi] == '*')
		pi++;
	return pi == plen;
}

/*
 * Segment cursor over <base>[0..<len>) split at <sep>: a position is the start offset of
 * a segment, or SIZE_MAX past the last one. "" has one empty segment; "/a" has "" and "a".
 */
struct gm_text {
	const char *base;
	size_t len;
	char sep;
};

static size_t
gm_seg_end(const struct gm_text *t, size_t pos)
{
	const char *e = memchr(t->base + pos, t->sep, t->len - pos);
	return e ? (size_t)(e - t->base) : t->len;
}

static size_t
gm_next(const struct gm_text *t, size_t pos)
{
	size_t e = gm_seg_end(t, pos);
	return e == t->len ? SIZE_MAX : e + 1;
}

static bool
gm_is_globstar(const struct gm_text *t, size_t pos)
{
	return gm_seg_end(t, pos) - pos == 2 && t->base[pos] == '*' && t->base[pos + 1] == '*';
}

/*
 * Segment-level match with `**` segments (classic algorithm one level up: segment
 * matching is a yes/no per pair, so one backtrack point suffices). <star_min> is how many
 * segments a non-final `**` must take (0 for paths, 1 for hosts); a final `**` always
 * takes one or more.
 */
static bool
gm_segments(const struct gm_text *pt, const struct gm_text *st, size_t star_min, unsigned flags)
{
	size_t ps = 0, ss = 0, star_ps = SIZE_MAX, star_ss = SIZE_MAX;

	for (;;) {
		if (ps != SIZE_MAX && gm_is_globstar(pt, ps)) {
			if (gm_next(pt, ps) == SIZE_MAX)
				return ss != SIZE_MAX;
			star_ps = gm_next(pt, ps);
			star_ss = ss;
			for (size_t k = 0; k < star_min && star_ss != SIZE_MAX; k++)
				star_ss = gm_next(st, star_ss);
			if (star_ss == SIZE_MAX)
				return false;
			ps = star_ps;
			ss = star_ss;
			continue;
		}
		if (ps != SIZE_MAX && ss != SIZE_MAX) {
			size_t pe = gm_seg_end(pt, ps), se = gm_seg_end(st, ss);
			if (gm_segment(pt->base + ps, pe - ps, st->base + ss, se - ss, flags)) {
				ps = gm_next(pt, ps);
				ss = gm_next(st, ss);
				continue;
			}
		}
		if (ps == SIZE_MAX && ss == SIZE_MAX)
			return true;
		if (star_ps == SIZE_MAX || star_ss == SIZE_MAX)
			return false;
		star_ss = gm_next(st, star_ss);
		if (star_ss == SIZE_MAX)
			return false;
		ps = star_ps;
		ss = star_ss;
	}
}

bool
glob_has_meta(const char *pat)
{
	return strpbrk(pat, "*?[") != NULL;
}

bool
glob_host_match(const char *pat, size_t plen, const char *host, size_t hlen)
{
	const struct gm_text pt = {pat, plen, '.'}, st = {host, hlen, '.'};

	return gm_segments(&pt, &st, 1, GM_FOLD);
}

bool
glob_path_match(const char *pat, size_t plen, const char *path, size_t len)
{
	const struct gm_text pt = {pat, plen, '/'}, st = {path, len, '/'};

	return gm_segments(&pt, &st, 0, 0);
}

bool
glob_value_match(const char *pat, size_t plen, const char *s, size_t len)
{
	return gm_segment(pat, plen, s, len, 0);
}

bool
glob_selector_match(const char *sel, const char *path, size_t len)
{
	if (sel == NULL || sel[0] == '\0' || strcmp(sel, "**") == 0 || strcmp(sel, "/**") == 0)
		return true;
	size_t sl = strlen(sel);
	/* "X/" "**": X itself, or X/ and anything below (the reference's selector rule). */
	if (sl > 3 && strcmp(sel + sl - 3, "/**") == 0 && glob_path_match(sel, sl - 3, path, len))
		return true;
	return glob_path_match(sel, sl, path, len);
}

size_t
glob_selector_specificity(const char *sel)
{
	size_t n = 0;

	for (; sel && *sel; sel++)
		n += *sel != '*';
	return n;
}
