/* Unit tests for policy/glob: host, path, value globs and endpoint path selectors. */
#include <stdbool.h>
#include <string.h>

#include "policy/glob.h"
#include "t.h"
#include "util/util.h"

struct gcase {
	const char *pat, *s;
	bool want;
};

/* Host patterns (network.md §9.3 parity table and rows 22-32). */
static const struct gcase host_cases[] = {
        {"*.example.com", "api.example.com", true},
        {"*.example.com", "deep.sub.example.com", false},
        {"*.example.com", "example.com", false},
        {"*.EXAMPLE.COM", "api.example.com", true},
        {"*.example.com", "API.Example.COM", true},
        {"*-aiplatform.googleapis.com", "us-central1-aiplatform.googleapis.com", true},
        {"*-aiplatform.googleapis.com", "us-central1.aiplatform.googleapis.com", false},
        {"*.s3.*.amazonaws.com", "my-bucket.s3.us-east-1.amazonaws.com", true},
        {"*.s3.*.amazonaws.com", "s3.us-east-1.amazonaws.com", false},
        {"*.s3.*.amazonaws.com", "my-bucket.s3.dualstack.us-east-1.amazonaws.com", false},
        {"*-api.example.com", "tenant-api.example.com", true},
        {"*-api.example.com", "api.example.com", false},
        {"**.example.com", "example.com", false},
        {"**.example.com", "api.example.com", true},
        {"**.example.com", "deep.api.example.com", true},
        {"api.**.com", "api.com", false},
        {"api.**.com", "api.x.y.com", true},
        {"api.**.com", "api.x.com", true},
        {"api.**", "api", false},
        {"api.**", "api.com", true},
        {"*", "example.com", false},
        {"*", "com", true},
        {"**", "com", true},
        {"**", "deep.api.example.com", true},
        {"*.a?i.example.com", "x.abi.example.com", true},
        {"*.a?i.example.com", "x.ai.example.com", false},
        {"*.[ab]pi.example.com", "x.bpi.example.com", true},
        {"*.[!ab]pi.example.com", "x.bpi.example.com", false},
        {"*.example.com", "evil%2eexample.com", false},
        {"*.example.com", ".example.com", true}, /* empty label: refused earlier by the engine */
        {"**.example.com", "a.b.c.d.e.f.example.org", false},
};

/* Path globs: `*` never crosses `/`, `**` does (network.md §5.4, design.md). */
static const struct gcase path_cases[] = {
        {"/repos/**", "/repos/myorg/foo", true},
        {"/repos/**", "/repos/", true},
        {"/repos/**", "/repos", false},
        {"/repos/**", "/repos/a/b/c", true},
        {"/repos/*/issues", "/repos/myorg/issues", true},
        {"/repos/*/issues", "/repos/a/b/issues", false},
        {"/v1/*", "/v1/admin/x", false}, /* the reference's #2586: stricter here */
        {"/v1/*", "/v1/admin", true},
        {"/v1/*", "/v1/", true},
        {"/**/git-upload-pack", "/git-upload-pack", true},
        {"/**/git-upload-pack", "/a/b/git-upload-pack", true},
        {"/**/git-upload-pack", "/a/b/git-receive-pack", false},
        {"/**/info/refs*", "/org/repo.git/info/refs", true},
        {"/**/info/refs*", "/org/repo.git/info/refsXYZ", true},
        {"/**/info/refs*", "/org/repo.git/info/refs/x", false},
        {"**", "", true},
        {"**", "/anything/at/all", true},
        {"**/x", "/a/x", true},
        {"**/x", "x", true},
        {"/a/**/b/**/c", "/a/b/c", true},
        {"/a/**/b/**/c", "/a/x/y/b/z/c", true},
        {"/a/**/b/**/c", "/a/x/y/z/c", false},
        {"/a**b", "/axxb", true}, /* `**` inside a segment is `*` */
        {"/a**b", "/ax/xb", false},
        {"/f?o", "/foo", true},
        {"/f?o", "/f/o", false},
        {"/file[0-9]", "/file7", true},
        {"/file[0-9]", "/filex", false},
        {"/file[!0-9]", "/filex", true},
        {"/file[^0-9]", "/file1", false},
        {"/a[", "/a[", true}, /* unclosed class: literal */
        {"/a[]]", "/a]", true},
        {"/Repos/**", "/repos/x", false}, /* case-sensitive */
        {"/usr/bin/*", "/usr/bin/node", true},
        {"/usr/bin/*", "/usr/bin/subdir/node", false},
        {"/sandbox/.uv/python/**", "/sandbox/.uv/python/cpython-3.12/bin/python3", true},
        {"/sandbox/.uv/python/**", "/sandbox/.uv/python", false},
        {"/usr/lib/node_modules/@github/copilot/node_modules/@github/**/copilot",
         "/usr/lib/node_modules/@github/copilot/node_modules/@github/copilot-linux-x64/copilot",
         true},
        {"/home/*/.local/bin/copilot", "/home/alice/.local/bin/copilot", true},
        {"/home/*/.local/bin/copilot", "/home/a/b/.local/bin/copilot", false},
        {"/*", "/", true},
        {"/", "/", true},
        {"/", "/x", false},
        {"", "", true},
        {"", "/", false},
};

static const struct gcase value_cases[] = {
        {"foo-*", "foo-a", true},
        {"foo-*", "foo-1.2", true}, /* no delimiter, unlike the reference's accident */
        {"foo-*", "foo-a/b", true},
        {"foo-*", "bar-a", false},
        {"true", "true", true},
        {"true", "TRUE", false},
        {"*", "", true},
        {"?", "", false},
        {"v[0-9]", "v7", true},
};

static const struct gcase selector_cases[] = {
        {NULL, "/x", true},
        {"", "/x", true},
        {"**", "/x/y", true},
        {"/**", "/x/y", true},
        {"/repos/**", "/repos", true}, /* X/<globstar> selects X itself too */
        {"/repos/**", "/repos/a/b", true},
        {"/repos/**", "/reposx", false},
        {"/graphql", "/graphql", true},
        {"/graphql", "/graphql/x", false},
        {"/v1/*", "/v1/a/b", false}, /* `*` stays in its segment here too */
};

static void
run(const char *what, const struct gcase *c, size_t n,
    bool (*fn)(const char *, size_t, const char *, size_t))
{
	for (size_t i = 0; i < n; i++)
		T_OK(fn(c[i].pat, strlen(c[i].pat), c[i].s, strlen(c[i].s)) == c[i].want,
		     "%s '%s' vs '%s' -> %s", what, c[i].pat, c[i].s,
		     c[i].want ? "match" : "no match");
}

int
main(void)
{
	run("host", host_cases, NELEM(host_cases), glob_host_match);
	run("path", path_cases, NELEM(path_cases), glob_path_match);
	run("value", value_cases, NELEM(value_cases), glob_value_match);
	for (size_t i = 0; i < NELEM(selector_cases); i++) {
		const struct gcase *c = &selector_cases[i];
		T_OK(glob_selector_match(c->pat, c->s, strlen(c->s)) == c->want,
		     "selector '%s' vs '%s' -> %s", c->pat ? c->pat : "(none)", c->s,
		     c->want ? "selects" : "does not select");
	}
	T_OK(glob_selector_specificity("/repos/**") == 7 && glob_selector_specificity(NULL) == 0,
	     "selector specificity counts non-'*' bytes");
	T_OK(glob_has_meta("/a/*") && glob_has_meta("a?") && !glob_has_meta("/usr/bin/node"),
	     "glob_has_meta finds *, ?, [");

	/* Cost stays polynomial: many stars against a long non-matching subject. */
	char pat[200], subj[4001];
	size_t k = 0;
	for (int i = 0; i < 49; i++) {
		pat[k++] = '*';
		pat[k++] = 'a';
	}
	pat[k++] = 'b';
	memset(subj, 'a', 4000);
	subj[4000] = '\0';
	T_OK(!glob_value_match(pat, k, subj, 4000),
	     "pathological value glob finishes and does not match");
	char ppat[400];
	k = 0;
	for (int i = 0; i < 60; i++) {
		memcpy(ppat + k, "/**", 3);
		k += 3;
	}
	memcpy(ppat + k, "/b", 2);
	k += 2;
	char psub[4001];
	for (int i = 0; i < 4000; i += 2) {
		psub[i] = '/';
		psub[i + 1] = 'a';
	}
	T_OK(!glob_path_match(ppat, k, psub, 4000),
	     "pathological path glob finishes and does not match");
	return t_done();
}
