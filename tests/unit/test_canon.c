/*
 * Unit tests for policy/canon: the request-target table of network.md §9.8, the query
 * table of §9.9, every input cut at every byte, each input flush against a PROT_NONE
 * guard page (a one-byte over-read crashes).
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "policy/canon.h"
#include "t.h"
#include "util/util.h"

struct ccase {
	const char *in;
	unsigned flags;
	const char *out; /* canonical path, or NULL on error */
	enum canon_err err;
	const char *query; /* expected query, NULL when none */
};

#define ES CANON_ALLOW_ENCODED_SLASH
static const struct ccase cases[] = {
        {"/a/./b", 0, "/a/b", 0, NULL},
        {"/a/b/.", 0, "/a/b/", 0, NULL},
        {"/a/../b", 0, "/b", 0, NULL},
        {"/a/b/..", 0, "/a/", 0, NULL},
        {"/public/%2e%2e/secret", 0, "/secret", 0, NULL},
        {"/public/%2E%2E/secret", 0, "/secret", 0, NULL},
        {"/public/%2e/secret", 0, "/public/secret", 0, NULL},
        {"/..", 0, NULL, CANON_ERR_TRAVERSAL, NULL},
        {"/a/../..", 0, NULL, CANON_ERR_TRAVERSAL, NULL},
        {"/a/%2e%2e/%2e%2e", 0, NULL, CANON_ERR_TRAVERSAL, NULL},
        {"//", 0, "/", 0, NULL},
        {"//public//../secret", 0, "/secret", 0, NULL},
        {"/public//secret", 0, "/public/secret", 0, NULL},
        {"/a/%2f/b", 0, NULL, CANON_ERR_ENCODED_SLASH, NULL},
        {"/public/..%2fsecret", 0, NULL, CANON_ERR_ENCODED_SLASH, NULL},
        {"/public/%2E%2E%2Fsecret", 0, NULL, CANON_ERR_ENCODED_SLASH, NULL},
        {"/a/%2f/b", ES, "/a/%2F/b", 0, NULL},
        {"/repos/group%2fproject/issues", ES, "/repos/group%2Fproject/issues", 0, NULL},
        {"/public/..%2fsecret", ES, NULL, CANON_ERR_RESIDUAL_DOT, NULL},
        {"/public/..%2f..%2fsecret", ES, NULL, CANON_ERR_RESIDUAL_DOT, NULL},
        {"/public/.%2fsecret", ES, NULL, CANON_ERR_RESIDUAL_DOT, NULL},
        {"/a%00b", 0, NULL, CANON_ERR_CONTROL, NULL},
        {"/a%0Ab", 0, NULL, CANON_ERR_CONTROL, NULL},
        {"/a%0Db", 0, NULL, CANON_ERR_CONTROL, NULL},
        {"/a%7Fb", 0, NULL, CANON_ERR_CONTROL, NULL},
        {"/a%09b", 0, NULL, CANON_ERR_CONTROL, NULL},
        {"/a\nb", 0, NULL, CANON_ERR_CONTROL, NULL},
        {"/a#b", 0, NULL, CANON_ERR_FRAGMENT, NULL},
        {"/a?q=#x", 0, NULL, CANON_ERR_FRAGMENT, NULL},
        {"http://host/a/../b", 0, "/b", 0, NULL},
        {"https://host", 0, "/", 0, NULL},
        {"http://host:443/foo", 0, "/foo", 0, NULL},
        {"http://host?x=1", 0, "/", 0, "x=1"},
        {"/fetch/http://example.test?next=http://other.test", 0, "/fetch/http:/example.test", 0,
         "next=http://other.test"},
        {"/files/hello%20world.txt", 0, "/files/hello%20world.txt", 0, NULL},
        {"/search/a%3Fb", 0, "/search/a%3Fb", 0, NULL},
        {"/users/%40alice", 0, "/users/@alice", 0, NULL},
        {"/a;jsessionid=xyz/b", 0, "/a/b", 0, NULL},
        {"/public;x=1/../secret", 0, "/secret", 0, NULL},
        {"/caf\xc3\xa9", 0, NULL, CANON_ERR_NON_ASCII, NULL},
        {"/users/caf%C3%A9", 0, "/users/caf%C3%A9", 0, NULL},
        {"/a/caf%c3%a9", 0, "/a/caf%C3%A9", 0, NULL},
        {"", 0, "/", 0, NULL},
        {"/a?q=1&r=2", 0, "/a", 0, "q=1&r=2"},
        {"/a?", 0, "/a", 0, ""},
        {"/public/..;/secret", 0, "/secret", 0, NULL},
        {"/public/..;x/secret", 0, "/secret", 0, NULL},
        {"/public/..;jsessionid=xyz/secret", 0, "/secret", 0, NULL},
        {"/public/%2e%2e;/secret", 0, "/secret", 0, NULL},
        {"/public/..%3B/secret", 0, "/secret", 0, NULL},
        {"/public/..%3b/secret", 0, "/secret", 0, NULL},
        {"/public/.;/secret", 0, "/public/secret", 0, NULL},
        {"/public/..;/..;/secret", 0, NULL, CANON_ERR_TRAVERSAL, NULL},
        {"/api/v1/..;/..;/..;/admin/keys", 0, NULL, CANON_ERR_TRAVERSAL, NULL},
        {"/..;", 0, NULL, CANON_ERR_TRAVERSAL, NULL},
        {"/a/%252F/b", 0, "/a/%252F/b", 0, NULL},
        {"/a/100%25/b", 0, "/a/100%25/b", 0, NULL},
        {"/a%2", 0, NULL, CANON_ERR_PERCENT, NULL},
        {"/a%zz", 0, NULL, CANON_ERR_PERCENT, NULL},
        {"/../%zz", 0, NULL, CANON_ERR_PERCENT, NULL}, /* decoding errors come first */
        {"*", 0, NULL, CANON_ERR_MALFORMED, NULL},
        {"a/b", 0, NULL, CANON_ERR_MALFORMED, NULL},
        {"1http://x/", 0, NULL, CANON_ERR_MALFORMED, NULL},
        {"/", 0, "/", 0, NULL},
        {"/a/", 0, "/a/", 0, NULL},
        {"/a//", 0, "/a/", 0, NULL},
        {"/a/./", 0, "/a/", 0, NULL},
        {"/a\"b<c>", 0, "/a%22b%3Cc%3E", 0, NULL},
        {"/%41%7e%2D", 0, "/A~-", 0, NULL},
        {"/org/repo.git/info/refs?service=git-upload-pack", 0, "/org/repo.git/info/refs", 0,
         "service=git-upload-pack"},
        {"/org/repo.git/../git-receive-pack", 0, "/org/git-receive-pack", 0, NULL},
        {"/.../x", 0, "/.../x", 0, NULL},
        {"/a/.b/..c", 0, "/a/.b/..c", 0, NULL},
};

/* Copies <s>[0..<n>) so that it ends exactly at a PROT_NONE page. */
static char *g_page;
static size_t g_psz;

static const char *
guard(const char *s, size_t n)
{
	char *end = g_page + g_psz;
	memcpy(end - n, s, n);
	return end - n;
}

static void
test_table(void)
{
	char out[CANON_OUT_MAX];
	struct canon_result r;

	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct ccase *c = &cases[i];
		size_t n = strlen(c->in);
		int rc = canon_target(guard(c->in, n), n, c->flags, out, sizeof(out), &r);
		if (c->out) {
			T_STREQ(rc == 0 ? out : canon_strerror(r.err), c->out, "canon '%s'%s",
			        c->in, c->flags ? " (allow_encoded_slash)" : "");
			if (c->query)
				T_OK(r.query && r.query_len == strlen(c->query) &&
				             memcmp(r.query, c->query, r.query_len) == 0,
				     "canon '%s' query is '%s'", c->in, c->query);
			else if (rc == 0)
				T_OK(r.query == NULL, "canon '%s' has no query", c->in);
		} else {
			T_OK(rc == -1 && r.err == c->err && errno == EINVAL,
			     "canon '%s' refused: %s (got %s)", c->in, canon_strerror(c->err),
			     rc == 0 ? out : canon_strerror(r.err));
		}
	}
}

static void
test_limits(void)
{
	static char big[CANON_MAX_PATH + 2], out[CANON_OUT_MAX];
	struct canon_result r;

	big[0] = '/';
	memset(big + 1, 'a', CANON_MAX_PATH);
	T_OK(canon_target(big, CANON_MAX_PATH + 1, 0, out, sizeof(out), &r) == -1 &&
	             r.err == CANON_ERR_TOO_LONG,
	     "path of 4097 bytes is refused as too long");
	T_OK(canon_target(big, CANON_MAX_PATH, 0, out, sizeof(out), &r) == 0 &&
	             r.path_len == CANON_MAX_PATH,
	     "path of 4096 bytes is accepted");
	/* Worst-case growth: every byte re-encoded to three. */
	memset(big + 1, '"', CANON_MAX_PATH - 1);
	T_OK(canon_target(big, CANON_MAX_PATH, 0, out, sizeof(out), &r) == 0 &&
	             r.path_len == 1 + 3 * (CANON_MAX_PATH - 1),
	     "CANON_OUT_MAX holds a fully re-encoded path");
	char small[4];
	T_OK(canon_target("/abcdef", 7, 0, small, sizeof(small), &r) == -1 &&
	             r.err == CANON_ERR_NOSPACE && errno == ENOSPC && small[0] == '\0',
	     "a too small buffer is refused with ENOSPC and left empty");
	T_OK(canon_target("/a#b", 4, 0, out, sizeof(out), &r) == -1 && r.err_off == 2,
	     "error offset points at '#'");
	T_OK(canon_target("/ok/%zz", 7, 0, out, sizeof(out), &r) == -1 && r.err_off == 4,
	     "error offset points at the bad '%%'");
}

/* Every prefix of every input: no crash or over-read, and the result is either an error
 * or a canonical path that canonicalises to itself. */
static void
test_every_cut(void)
{
	char out[CANON_OUT_MAX], again[CANON_OUT_MAX];
	struct canon_result r, r2;
	size_t bad = 0, total = 0;

	for (size_t i = 0; i < NELEM(cases); i++) {
		size_t n = strlen(cases[i].in);
		for (size_t cut = 0; cut <= n; cut++) {
			total++;
			if (canon_target(guard(cases[i].in, cut), cut, cases[i].flags, out,
			                 sizeof(out), &r) == -1)
				continue;
			/* Idempotence: the canonical form is a fixed point. */
			if (canon_target(out, r.path_len, cases[i].flags, again, sizeof(again),
			                 &r2) == -1 ||
			    strcmp(out, again) != 0)
				bad++;
		}
	}
	T_OK(bad == 0,
	     "%zu prefixes canonicalise without over-read, canonical form is a fixed point", total);
}

static void
test_query(void)
{
	static const struct {
		const char *q;
		int rc;
		const char *want; /* "k=v|k=v" */
	} qs[] = {
	        {"tag=a&tag=b", 0, "tag=a|tag=b"},
	        {"slug=my%2Fskill&name=Foo+Bar", 0, "slug=my/skill|name=Foo Bar"},
	        {"q=a%2Bb", 0, "q=a+b"},
	        {"tag=", 0, "tag="},
	        {"verbose", 0, "verbose="},
	        {"q=caf%C3%A9", 0, "q=caf\xc3\xa9"},
	        {"", 0, ""},
	        {"&&a=1&&", 0, "a=1"},
	        {"a=b=c", 0, "a=b=c"},
	        {"slug=bad%2", -1, NULL},
	        {"q=%ff", -1, NULL},
	        {"q=%C0%80", -1, NULL},    /* overlong NUL */
	        {"q=%ED%A0%80", -1, NULL}, /* surrogate */
	};
	struct canon_param p[8];
	char buf[64], got[128];
	enum canon_err err;
	size_t off;

	for (size_t i = 0; i < NELEM(qs); i++) {
		size_t n = NELEM(p), len = strlen(qs[i].q);
		int rc = canon_query_parse(guard(qs[i].q, len), len, buf, sizeof(buf), p, &n, &err,
		                           &off);
		if (qs[i].rc == -1) {
			T_OK(rc == -1 && errno == EINVAL && err != CANON_OK,
			     "query '%s' refused (%s)", qs[i].q, canon_strerror(err));
			continue;
		}
		got[0] = '\0';
		size_t gl = 0;
		for (size_t k = 0; rc == 0 && k < n; k++)
			gl += (size_t)snprintf(got + gl, sizeof(got) - gl, "%s%.*s=%.*s",
			                       k ? "|" : "", (int)p[k].key_len, p[k].key,
			                       (int)p[k].val_len, p[k].val);
		T_STREQ(rc == 0 ? got : "(refused)", qs[i].want, "query '%s'", qs[i].q);
	}
	size_t n = 2;
	T_OK(canon_query_parse("a&b&c", 5, buf, sizeof(buf), p, &n, &err, &off) == -1 &&
	             errno == E2BIG && err == CANON_ERR_TOO_MANY,
	     "more parameters than capacity is E2BIG");
	n = NELEM(p);
	T_OK(canon_query_parse("abcdef", 6, buf, 3, p, &n, &err, &off) == -1 && errno == ENOSPC,
	     "decode buffer smaller than the query is ENOSPC");
}

int
main(void)
{
	g_psz = (size_t)sysconf(_SC_PAGESIZE);
	g_page = mmap(NULL, 2 * g_psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g_page == MAP_FAILED || mprotect(g_page + g_psz, g_psz, PROT_NONE) == -1) {
		t_skip("cannot map a guard page: %s", strerror(errno));
		return t_done();
	}
	test_table();
	test_limits();
	test_every_cut();
	test_query();
	munmap(g_page, 2 * g_psz);
	return t_done();
}
