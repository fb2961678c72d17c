/*
 * fuzz_glob: differential libFuzzer target for policy/glob. Each input is split into a
 * pattern and a subject (at the first NUL, else in the middle) and matched in every
 * dialect — host, path, value and the endpoint selector — by glob.c and by the slow
 * reference below. Any disagreement prints both sides and aborts.
 *
 * The reference is written from glob.h's contract alone, as plainly as possible:
 *  - split pattern and subject into segment arrays first ('.' for hosts, '/' for paths;
 *    "" is one empty segment), then recurse over segments: a `**` segment tries every
 *    number of subject segments it may span (paths: zero or more, hosts: one or more, and
 *    a final `**` one or more in both);
 *  - inside one segment, recurse byte by byte: `*` takes zero bytes or one more, `?` one
 *    byte, `[...]` is parsed into a 256-entry byte set (leading `!`/`^` negates, a `]`
 *    right after the opening or negation is a member, `x-y` is a range unless y is `]`,
 *    a reversed range is empty) and an unclosed `[` is the literal byte '[';
 *  - hosts compare ASCII case-insensitively: the reference lower-cases pattern and
 *    subject first and then matches exactly (so a class range is folded at both ends).
 * The recursions are memoised per pair of positions, which changes their cost, not their
 * answers (glob.c itself is O(plen * slen); libFuzzer's timeout catches it being slow).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/glob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REF_MAX_LEN  128 /* pattern and subject bytes compared (keeps execs fast) */
#define REF_MAX_SEGS (REF_MAX_LEN + 1)

/*
 * Memo of a recursion: the answer for a pair of positions, valid while its stamp equals
 * the table's generation (bumped per top-level call instead of clearing the table).
 * Memoising keeps the plain recursion polynomial without changing what it computes.
 */
struct ref_memo {
	uint32_t gen;
	uint32_t stamp[REF_MAX_SEGS][REF_MAX_SEGS];
	bool val[REF_MAX_SEGS][REF_MAX_SEGS];
};

static struct ref_memo bytes_memo, segs_memo;
static const unsigned char *bytes_pbase, *bytes_sbase;

static bool
memo_get(const struct ref_memo *m, size_t i, size_t j, bool *val)
{
	if (m->stamp[i][j] != m->gen)
		return false;
	*val = m->val[i][j];
	return true;
}

static bool
memo_put(struct ref_memo *m, size_t i, size_t j, bool val)
{
	m->stamp[i][j] = m->gen;
	m->val[i][j] = val;
	return val;
}

struct ref_seg {
	const unsigned char *p;
	size_t len;
};

/*
 * Parses the class at <p>[0] == '[' within <p>[0..<len>) into <set>. Returns the class's
 * length in bytes, or 0 when no `]` closes it (then the `[` is a literal).
 */
static size_t
ref_class(const unsigned char *p, size_t len, bool set[256])
{
	size_t i = 1;
	bool neg = false;

	memset(set, 0, 256 * sizeof(set[0]));
	if (i < len && (p[i] == '!' || p[i] == '^')) {
		neg = true;
		i++;
	}
	for (size_t first = i; i < len; i++) {
		if (p[i] == ']' && i != first)
			break;
		unsigned lo = p[i], hi = p[i];
		if (i + 2 < len && p[i + 1] == '-' && p[i + 2] != ']') {
			hi = p[i + 2];
			i += 2;
		}
		for (unsigned c = lo; c <= hi; c++)
			set[c] = true;
	}
	if (i >= len)
		return 0;
	if (neg)
		for (unsigned c = 0; c < 256; c++)
			set[c] = !set[c];
	return i + 1;
}

static bool ref_bytes_at(const unsigned char *p, size_t pl, const unsigned char *s, size_t sl);

/* One segment, no delimiter: the plain recursion over the first pattern byte. */
static bool
ref_bytes_step(const unsigned char *p, size_t pl, const unsigned char *s, size_t sl)
{
	bool set[256];
	size_t used;

	if (pl == 0)
		return sl == 0;
	if (p[0] == '*')
		return ref_bytes_at(p + 1, pl - 1, s, sl) ||
		       (sl > 0 && ref_bytes_at(p, pl, s + 1, sl - 1));
	if (sl == 0)
		return false;
	if (p[0] == '?')
		return ref_bytes_at(p + 1, pl - 1, s + 1, sl - 1);
	if (p[0] == '[' && (used = ref_class(p, pl, set)) != 0)
		return set[s[0]] && ref_bytes_at(p + used, pl - used, s + 1, sl - 1);
	return p[0] == s[0] && ref_bytes_at(p + 1, pl - 1, s + 1, sl - 1);
}

static bool
ref_bytes_at(const unsigned char *p, size_t pl, const unsigned char *s, size_t sl)
{
	size_t i = (size_t)(p - bytes_pbase), j = (size_t)(s - bytes_sbase);
	bool v;

	if (memo_get(&bytes_memo, i, j, &v))
		return v;
	return memo_put(&bytes_memo, i, j, ref_bytes_step(p, pl, s, sl));
}

/* <p>[0..<pl>) against <s>[0..<sl>) with no delimiter. */
static bool
ref_bytes(const unsigned char *p, size_t pl, const unsigned char *s, size_t sl)
{
	bytes_pbase = p;
	bytes_sbase = s;
	bytes_memo.gen++;
	return ref_bytes_at(p, pl, s, sl);
}

/* Splits <s>[0..<len>) at <sep> into <out>; returns the count (at least 1). */
static size_t
ref_split(const unsigned char *s, size_t len, unsigned char sep, struct ref_seg *out)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == sep) {
			out[n].p = s + start;
			out[n].len = i - start;
			n++;
			start = i + 1;
		}
	}
	return n;
}

static bool
ref_is_globstar(const struct ref_seg *g)
{
	return g->len == 2 && g->p[0] == '*' && g->p[1] == '*';
}

/* Pattern segments [i..np) against subject segments [j..ns). */
static bool
ref_segs(const struct ref_seg *pat, size_t i, size_t np, const struct ref_seg *sub, size_t j,
         size_t ns, size_t star_min)
{
	bool v;

	if (i == np)
		return j == ns;
	if (memo_get(&segs_memo, i, j, &v))
		return v;
	if (ref_is_globstar(&pat[i])) {
		if (i + 1 == np) /* final: one or more segments left */
			return memo_put(&segs_memo, i, j, ns - j >= 1);
		for (size_t k = star_min; j + k <= ns; k++)
			if (ref_segs(pat, i + 1, np, sub, j + k, ns, star_min))
				return memo_put(&segs_memo, i, j, true);
		return memo_put(&segs_memo, i, j, false);
	}
	v = j < ns && ref_bytes(pat[i].p, pat[i].len, sub[j].p, sub[j].len) &&
	    ref_segs(pat, i + 1, np, sub, j + 1, ns, star_min);
	return memo_put(&segs_memo, i, j, v);
}

static bool
ref_segmented(const unsigned char *p, size_t pl, const unsigned char *s, size_t sl,
              unsigned char sep, size_t star_min)
{
	static struct ref_seg pat[REF_MAX_SEGS], sub[REF_MAX_SEGS];
	size_t np = ref_split(p, pl, sep, pat), ns = ref_split(s, sl, sep, sub);

	segs_memo.gen++;
	return ref_segs(pat, 0, np, sub, 0, ns, star_min);
}

static bool
ref_path(const unsigned char *p, size_t pl, const unsigned char *s, size_t sl)
{
	return ref_segmented(p, pl, s, sl, '/', 0);
}

static bool
ref_host(const unsigned char *p, size_t pl, const unsigned char *s, size_t sl)
{
	static unsigned char lp[REF_MAX_LEN], ls[REF_MAX_LEN];

	for (size_t i = 0; i < pl; i++)
		lp[i] = p[i] >= 'A' && p[i] <= 'Z' ? (unsigned char)(p[i] - 'A' + 'a') : p[i];
	for (size_t i = 0; i < sl; i++)
		ls[i] = s[i] >= 'A' && s[i] <= 'Z' ? (unsigned char)(s[i] - 'A' + 'a') : s[i];
	return ref_segmented(lp, pl, ls, sl, '.', 1);
}

static bool
ref_value(const unsigned char *p, size_t pl, const unsigned char *s, size_t sl)
{
	return ref_bytes(p, pl, s, sl);
}

/* Selector (glob.h): empty, `**` and "/" "**" select all; "X/" "**" selects X and below. */
static bool
ref_selector(const unsigned char *sel, size_t n, const unsigned char *s, size_t sl)
{
	if (n == 0 || (n == 2 && memcmp(sel, "**", 2) == 0) ||
	    (n == 3 && memcmp(sel, "/**", 3) == 0))
		return true;
	if (n > 3 && memcmp(sel + n - 3, "/**", 3) == 0 && ref_path(sel, n - 3, s, sl))
		return true;
	return ref_path(sel, n, s, sl);
}

static void
report(const char *dialect, const unsigned char *p, size_t pl, const unsigned char *s, size_t sl,
       bool got, bool want)
{
	fprintf(stderr,
	        "fuzz_glob: %s glob disagrees: pattern \"%.*s\" subject \"%.*s\": "
	        "glob.c says %d, the reference %d\n",
	        dialect, (int)pl, (const char *)p, (int)sl, (const char *)s, got, want);
	abort();
}

static void
compare(const char *dialect, bool got, bool want, const unsigned char *p, size_t pl,
        const unsigned char *s, size_t sl)
{
	if (got != want)
		report(dialect, p, pl, s, sl, got, want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data, *s, *nul = memchr(data, '\0', size);
	size_t pl, sl;

	if (nul != NULL) {
		pl = (size_t)(nul - data);
		s = nul + 1;
		sl = size - pl - 1;
	} else {
		pl = size / 2;
		s = data + pl;
		sl = size - pl;
	}
	if (pl > REF_MAX_LEN || sl > REF_MAX_LEN)
		return 0;
	/* Exact-size heap copies, so any over-read of either side is caught by ASan. */
	char *hp = malloc(pl + 1), *hs = malloc(sl + 1);
	if (hp == NULL || hs == NULL)
		abort();
	memcpy(hp, p, pl);
	memcpy(hs, s, sl);
	hp[pl] = '\0';

	const unsigned char *up = (const unsigned char *)hp, *us = (const unsigned char *)hs;
	compare("host", glob_host_match(hp, pl, hs, sl), ref_host(up, pl, us, sl), up, pl, us, sl);
	compare("path", glob_path_match(hp, pl, hs, sl), ref_path(up, pl, us, sl), up, pl, us, sl);
	compare("value", glob_value_match(hp, pl, hs, sl), ref_value(up, pl, us, sl), up, pl, us,
	        sl);
	/* The selector is a C string: only when the pattern has no NUL of its own. */
	if (memchr(hp, '\0', pl) == NULL) {
		compare("selector", glob_selector_match(hp, hs, sl), ref_selector(up, pl, us, sl),
		        up, pl, us, sl);
		bool meta = memchr(hp, '*', pl) || memchr(hp, '?', pl) || memchr(hp, '[', pl);
		if (glob_has_meta(hp) != meta)
			report("has_meta", up, pl, us, sl, glob_has_meta(hp), meta);
	}
	free(hs);
	free(hp);
	return 0;
}
