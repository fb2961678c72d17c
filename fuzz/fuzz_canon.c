/*
 * fuzz_canon: libFuzzer target for policy/canon and the path glob.
 *
 * Input: first byte = options (bit 0 allow_encoded_slash), then a request target. Checks:
 *  - canon_target never over-reads (the input is a heap copy of exact size) and its
 *    output is a fixed point: canonicalising the canonical path gives it back unchanged
 *    (or, when re-encoding made it longer than CANON_MAX_PATH, refuses it as too long);
 *  - the canonical path holds no `//`, no `.`/`..` segment, only allowed bytes;
 *  - noise does not change the canonical path: the canonical path rewritten with extra
 *    `.`, `x/..` and empty segments, `;params`, bytes percent-encoded (either hex case)
 *    and an absolute-form prefix canonicalises back to itself (choices seeded by the input);
 *  - canon_query_parse on the query never writes past its buffer;
 *  - glob_path_match agrees with a slow recursive reference matcher, using the bytes
 *    after a NUL in the input (or a fixed set of patterns) as the pattern.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/canon.h"
#include "policy/glob.h"

/* Slow reference: one segment with `*`, `?` (no classes: the fuzzer avoids `[`). */
static int
ref_seg(const char *p, size_t pl, const char *s, size_t sl)
{
	if (pl == 0)
		return sl == 0;
	if (p[0] == '*') {
		while (pl > 1 && p[1] == '*') /* a run of stars is one star */
			p++, pl--;
		return ref_seg(p + 1, pl - 1, s, sl) || (sl > 0 && ref_seg(p, pl, s + 1, sl - 1));
	}
	if (sl == 0)
		return 0;
	return (p[0] == '?' || p[0] == s[0]) && ref_seg(p + 1, pl - 1, s + 1, sl - 1);
}

static size_t
seg_end(const char *s, size_t l)
{
	const char *e = memchr(s, '/', l);
	return e ? (size_t)(e - s) : l;
}

/* Reference path glob on segment lists; <s_done> says the subject has no segment left. */
static int
ref_path(const char *p, size_t pl, const char *s, size_t sl, int s_done)
{
	size_t pe = seg_end(p, pl);
	int p_last = pe == pl;

	if (pe == 2 && p[0] == '*' && p[1] == '*') {
		if (p_last) /* final globstar: one or more remaining segments */
			return !s_done;
		/* zero segments */
		if (ref_path(p + 3, pl - 3, s, sl, s_done))
			return 1;
		if (s_done)
			return 0;
		size_t se = seg_end(s, sl);
		if (se == sl)
			return ref_path(p, pl, s + sl, 0, 1);
		return ref_path(p, pl, s + se + 1, sl - se - 1, 0);
	}
	if (s_done)
		return 0;
	size_t se = seg_end(s, sl);
	if (!ref_seg(p, pe, s, se))
		return 0;
	int s_last = se == sl;
	if (p_last)
		return s_last;
	if (s_last)
		return ref_path(p + pe + 1, pl - pe - 1, s + sl, 0, 1);
	return ref_path(p + pe + 1, pl - pe - 1, s + se + 1, sl - se - 1, 0);
}

static void
check_canonical(const char *out, size_t len)
{
	if (len == 0 || out[0] != '/')
		abort();
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c < 0x21 || c >= 0x7f || c == '?' || c == '#')
			abort();
		if (c == '/' && i + 1 < len && out[i + 1] == '/')
			abort();
	}
	/* no "." or ".." segment */
	for (size_t i = 0; i < len; i++) {
		if (out[i] != '/')
			continue;
		size_t e = i + 1;
		while (e < len && out[e] != '/')
			e++;
		size_t n = e - i - 1;
		if ((n == 1 && out[i + 1] == '.') ||
		    (n == 2 && out[i + 1] == '.' && out[i + 2] == '.'))
			abort();
	}
}

/* Deterministic choices for the noise check: xorshift seeded by an FNV-1a hash of the input. */
static uint64_t
noise_seed(const uint8_t *data, size_t size)
{
	uint64_t h = 14695981039346656037u;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211u;
	return h | 1;
}

static unsigned
noise_pick(uint64_t *st, unsigned n)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return (unsigned)(*st % n);
}

/* Appends <s>[0..<n>) to <b> at *<len>; false when it would not fit. */
static bool
noise_put(char *b, size_t cap, size_t *len, const char *s, size_t n)
{
	if (cap - *len < n)
		return false;
	memcpy(b + *len, s, n);
	*len += n;
	return true;
}

/*
 * Writes into <b> a noisy spelling of canonical path <out>[0..<len>): before each segment
 * maybe "/.", "/x/.." or "/" (an empty segment), each literal byte maybe as %XX, each
 * %XX maybe in lower case, each non-empty segment maybe followed by ";p=1", and maybe an
 * absolute-form prefix. Returns its length, or 0 when it would not fit <cap>.
 */
static size_t
noise_spell(const char *out, size_t len, uint64_t *st, char *b, size_t cap)
{
	static const char *const pre[] = {"", "", "/.", "/x/..", "/", "/%2e", "/x/%2E%2e"};
	static const char hex[2][17] = {"0123456789ABCDEF", "0123456789abcdef"};
	size_t n = 0;

	if (noise_pick(st, 4) == 0 && !noise_put(b, cap, &n, "http://h.test", 13))
		return 0;
	for (size_t i = 0; i < len;) { /* out[i] == '/' */
		size_t e = i + 1;
		while (e < len && out[e] != '/')
			e++;
		const char *p = pre[noise_pick(st, sizeof(pre) / sizeof(pre[0]))];
		if (!noise_put(b, cap, &n, p, strlen(p)) || !noise_put(b, cap, &n, "/", 1))
			return 0;
		for (size_t k = i + 1; k < e; k++) {
			const char *h = hex[noise_pick(st, 2)];
			char enc[3] = {'%', h[(unsigned char)out[k] >> 4], h[out[k] & 15]};
			bool ok;
			if (out[k] == '%') { /* an escape: keep it, maybe in the other hex case */
				enc[1] = (char)(noise_pick(st, 2) ? out[k + 1] | 0x20 : out[k + 1]);
				enc[2] = (char)(noise_pick(st, 2) ? out[k + 2] | 0x20 : out[k + 2]);
				k += 2;
				ok = noise_put(b, cap, &n, enc, 3);
			} else if (noise_pick(st, 3) == 0) {
				ok = noise_put(b, cap, &n, enc, 3);
			} else {
				ok = noise_put(b, cap, &n, out + k, 1);
			}
			if (!ok)
				return 0;
		}
		if (e > i + 1 && noise_pick(st, 4) == 0 && !noise_put(b, cap, &n, ";p=1", 4))
			return 0;
		i = e;
	}
	return n;
}

/* The noisy spelling of <out> must canonicalise back to <out>. */
static void
check_noise(const char *out, size_t len, unsigned flags, uint64_t seed)
{
	static char noisy[CANON_MAX_PATH], back[CANON_OUT_MAX];
	struct canon_result r;
	uint64_t st = seed;
	size_t n = noise_spell(out, len, &st, noisy, sizeof(noisy));

	if (n == 0)
		return;
	if (canon_target(noisy, n, flags, back, sizeof(back), &r) == -1 || r.path_len != len ||
	    memcmp(back, out, len) != 0) {
		fprintf(stderr,
		        "fuzz_canon: noisy \"%.*s\" canonicalises to \"%s\" (err %d), "
		        "not \"%.*s\"\n",
		        (int)n, noisy, back, (int)r.err, (int)len, out);
		abort();
	}
}

static const char *const patterns[] = {"/**", "/a/*", "/**/b", "/a/**/c",
                                       "**",  "/*/*", "/a?",   "/**/x*"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[CANON_OUT_MAX], again[CANON_OUT_MAX], qbuf[65536];
	static struct canon_param params[CANON_MAX_PARAMS];
	struct canon_result r, r2;

	if (size == 0 || size > 60000)
		return 0;
	unsigned flags = data[0] & 1 ? CANON_ALLOW_ENCODED_SLASH : 0;
	size_t tlen = size - 1;
	char *t = calloc(tlen ? tlen : 1, 1); /* exact size, so an over-read is caught */
	if (t == NULL)
		return 0;
	if (tlen)
		memcpy(t, data + 1, tlen);

	if (canon_target(t, tlen, flags, out, sizeof(out), &r) == 0) {
		check_canonical(out, r.path_len);
		check_noise(out, r.path_len, flags, noise_seed(data, size));
		/* Re-encoding may triple a byte (`|` -> %7C), so a canonical path can exceed
		 * the raw limit; then canonicalising it again is refused as too long. */
		if (canon_target(out, r.path_len, flags, again, sizeof(again), &r2) == -1
		            ? r.path_len <= CANON_MAX_PATH || r2.err != CANON_ERR_TOO_LONG
		            : strcmp(out, again) != 0)
			abort();
		if (r.query) {
			size_t n = CANON_MAX_PARAMS;
			enum canon_err err;
			size_t off;
			canon_query_parse(r.query, r.query_len, qbuf, sizeof(qbuf), params, &n,
			                  &err, &off);
		}
		/* Path glob vs the reference. */
		for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
			size_t pl = strlen(patterns[i]);
			if (glob_path_match(patterns[i], pl, out, r.path_len) !=
			    ref_path(patterns[i], pl, out, r.path_len, 0))
				abort();
		}
	}
	/* A NUL splits "pattern\0subject" for a direct glob comparison (no `[` classes). */
	const char *nul = memchr(t, '\0', tlen);
	if (nul && !memchr(t, '[', tlen)) {
		size_t pl = (size_t)(nul - t), sl = tlen - pl - 1;
		size_t stars = 0;
		for (size_t i = 0; i < pl; i++)
			stars += t[i] == '*';
		/* The reference is exponential in stars; keep it small. */
		if (pl < 64 && sl < 64 && stars <= 6 &&
		    glob_path_match(t, pl, nul + 1, sl) != ref_path(t, pl, nul + 1, sl, 0))
			abort();
	}
	free(t);
	return 0;
}
