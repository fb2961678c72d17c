/* test_emit: policy_emit (policy/emit.h) round trips: every corpus policy, the default
 * policy and the test policies load -> emit -> load -> emit to identical text and an
 * equal model; hand-made values that need quoting; extra blocks. Run from the
 * repository root (AGENTCAGE_SHARED names the shared directory, default ../shared). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/emit.h"
#include "policy/load.h"
#include "policy/pdiff.h"
#include "t.h"
#include "util/sbuf.h"
#include "util/util.h"

#define EMIT_TEST_DIRS_MAX 8

/* load -> emit -> load -> emit; checks identical text and deep equality. Returns the
 * first emitted text (caller frees) or NULL when <buf> does not load. */
static char *
roundtrip(const char *name, const char *buf, size_t len)
{
	struct diag d = {0};
	struct policy *p1 = NULL, *p2 = NULL;
	struct sbuf e1 = {0}, e2 = {0}, why = {0};

	if (policy_load_buffer(name, buf, len, &d, &p1) == -1) {
		diag_free(&d);
		return NULL;
	}
	T_OK(policy_emit(p1, NULL, &e1) == 0, "%s: emits", name);
	diag_free(&d);
	if (!T_OK(policy_load_buffer("<emitted>", sbuf_str(&e1), e1.len, &d, &p2) == 0,
	          "%s: its emitted form loads", name)) {
		diag_print(&d, stdout);
		printf("%s", sbuf_str(&e1));
	} else {
		T_OK(policy_emit(p2, NULL, &e2) == 0, "%s: emits again", name);
		T_STREQ(sbuf_str(&e2), sbuf_str(&e1), "%s: second emission is identical", name);
		T_OK(policy_deep_equal(p1, p2, &why), "%s: same model after the round trip%s%s",
		     name, why.len ? ": " : "", sbuf_str(&why));
	}
	diag_free(&d);
	policy_free(p1);
	policy_free(p2);
	sbuf_free(&e2);
	sbuf_free(&why);
	return e1.s ? e1.s : ut_xstrdup("");
}

static void
roundtrip_file(const char *path)
{
	char *buf = NULL, *out;
	size_t len = 0;

	if (ut_read_file(path, POLICY_MAX_BYTES, &buf, &len) == -1) {
		T_OK(0, "%s: readable (%s)", path, strerror(errno));
		return;
	}
	out = roundtrip(path, buf, len);
	if (out == NULL)
		t_skip("%s does not load, so it has no emitted form", path);
	free(out);
	free(buf);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Round-trips every *.yaml of <dir> in name order; returns how many there were. */
static size_t
roundtrip_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	char **v = NULL, path[2048];
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((ent = readdir(d)) != NULL) {
		size_t len = strlen(ent->d_name);

		if (len < 6 || strcmp(ent->d_name + len - 5, ".yaml"))
			continue;
		v = realloc(v, (n + 1) * sizeof(*v));
		v[n++] = ut_xstrdup(ent->d_name);
	}
	closedir(d);
	qsort(v, n, sizeof(*v), name_cmp);
	for (size_t i = 0; i < n; i++) {
		if (ut_snprintf(path, sizeof(path), "%s/%s", dir, v[i]) != -1)
			roundtrip_file(path);
		free(v[i]);
	}
	free(v);
	return n;
}

static void
test_corpus(void)
{
	const char *env = getenv("AGENTCAGE_SHARED");
	char dir[1024];
	static const char *const local[EMIT_TEST_DIRS_MAX] = {
	        "tests/policies/proxy",
	        "tests/policies/sandbox_mounts",
	        "tests/policies/sandbox_tls",
	        "tests/policies/tls",
	};
	size_t n;

	if (ut_snprintf(dir, sizeof(dir), "%s/corpus/openshell-policies",
	                env && *env ? env : "../shared") == -1)
		return;
	n = roundtrip_dir(dir);
	if (n == 0)
		t_skip("no corpus at %s (set AGENTCAGE_SHARED)", dir);
	for (size_t i = 0; i < NELEM(local) && local[i]; i++)
		roundtrip_dir(local[i]);
}

static void
test_default(void)
{
	char *out = roundtrip("<default>", policy_default_yaml, policy_default_yaml_len);

	T_OK(out != NULL, "the default policy round-trips");
	free(out);
}

/* Values that YAML would read as something else unless quoted. */
static const char tricky[] =
        "version: 1\n"
        "filesystem_policy:\n"
        "  include_workdir: false\n"
        "  read_only: [\"/srv/a: b\", \"/srv/#c\", \"/srv/x #y\", \"/srv/é ü\"]\n"
        "  read_write: []\n"
        "process:\n"
        "  run_as_user: \"1000\"\n"
        "  run_as_group: \"yes\"\n"
        "network_policies:\n"
        "  \"on\":\n"
        "    name: \"null\"\n"
        "    endpoints:\n"
        "      - host: \"yes\"\n"
        "        port: 443\n"
        "        protocol: rest\n"
        "        enforcement: enforce\n"
        "        rules:\n"
        "          - allow:\n"
        "              method: GET\n"
        "              path: \"/a #b\"\n"
        "              query:\n"
        "                \"#x\": \"#x\"\n"
        "                \"true\": {any: [\"*\", \"-1\", \"\", \"~\"]}\n"
        "          - allow: {}\n"
        "        deny_rules:\n"
        "          - {}\n"
        "      - host: \"*.example.com\"\n"
        "        ports: [80, 8080]\n"
        "      - port: 5432\n"
        "        allowed_ips: [\"10.0.0.0/24\"]\n"
        "    binaries:\n"
        "      - path: \"/usr/bin/*\"\n"
        "      - path: \"/opt/a: b/**\"\n"
        "      - path: \"/usr/bin/\\u0085nel\"\n"
        "  '123': {}\n"
        "network_middlewares:\n"
        "  \"no\":\n"
        "    middleware: x\n"
        "    order: -3\n"
        "    config:\n"
        "      plain_num: 5\n"
        "      quoted_num: \"5\"\n"
        "      empty:\n"
        "      quoted_empty: ''\n"
        "      yes: on\n"
        "      nested: [[a, b], [], {}, {k: v, \"k 2\": [1]}, \"tab\\there\"]\n"
        "      text: héllo wörld\n"
        "      dash: -x\n"
        "      colon: :y\n"
        "    endpoints:\n"
        "      include: [\"*.example.com\"]\n"
        "      exclude: [a.example.com]\n";

static void
test_tricky(void)
{
	char *out = roundtrip("tricky", tricky, sizeof(tricky) - 1);

	if (!T_OK(out != NULL, "hand-made tricky policy loads and round-trips"))
		return;
	T_CONTAINS(out, "host: \"yes\"", "a host `yes` is quoted");
	T_CONTAINS(out, "- \"/srv/a: b\"", "a path with `: ` is quoted");
	T_CONTAINS(out, "- \"/srv/x #y\"", "a path with ` #` is quoted");
	T_CONTAINS(out, "- /srv/#c", "a `#` not after a blank stays plain");
	T_CONTAINS(out, "- /srv/é ü", "unicode stays plain and unescaped");
	T_CONTAINS(out, "host: \"*.example.com\"", "a glob starting with `*` is quoted");
	T_CONTAINS(out, "\"#x\": \"#x\"", "query key and glob `#x` are quoted");
	T_CONTAINS(out, "run_as_user: \"1000\"", "a number that is a string is quoted");
	T_CONTAINS(out, "\n  \"on\":\n", "a block key `on` is quoted");
	T_CONTAINS(out, "\n  \"123\":\n    endpoints: []\n",
	           "a numeric block key is quoted; an empty block keeps its key");
	T_CONTAINS(out, "\\N", "NEL is escaped (libyaml breaks plain lines there)");
	T_CONTAINS(out, "plain_num: 5\n", "a plain config number stays plain");
	T_CONTAINS(out, "quoted_num: \"5\"\n", "a quoted config number stays quoted");
	T_CONTAINS(out, "empty:\n", "an empty plain config value stays empty");
	T_CONTAINS(out, "quoted_empty: \"\"\n", "an empty quoted config value stays quoted");
	T_CONTAINS(out, "- allow: {}\n", "an empty allow rule is written");
	T_CONTAINS(out, "dash: -x\n", "a plain config `-x` stays plain");
	T_CONTAINS(out, "colon: :y\n", "a plain config `:y` stays plain");
	T_CONTAINS(out, "ports: [80, 8080]\n", "several ports are a flow list");
	free(out);
}

static void
test_extra_and_args(void)
{
	static const char base[] = "version: 1\nnetwork_policies: {}\n";
	static const char extra[] = "  # learned\n"
	                            "  added:\n"
	                            "    endpoints:\n"
	                            "      - host: example.com\n"
	                            "        port: 443\n"
	                            "    binaries:\n"
	                            "      - path: /usr/bin/curl";
	struct diag d = {0};
	struct policy *p = NULL, *q = NULL;
	struct sbuf out = {0};

	if (!T_OK(policy_load_buffer("base", base, sizeof(base) - 1, &d, &p) == 0, "base loads"))
		return;
	T_OK(policy_emit(p, NULL, &out) == 0 && strstr(sbuf_str(&out), "network_policies: {}"),
	     "an empty network_policies stays present");
	sbuf_reset(&out);
	T_OK(policy_emit(p, extra, &out) == 0, "emits with extra blocks");
	T_OK(policy_load_buffer("with-extra", sbuf_str(&out), out.len, &d, &q) == 0 &&
	             q->nblocks == 1 && !strcmp(q->blocks[0].key, "added"),
	     "the extra block (no final newline) is loaded after the base's");
	errno = 0;
	T_OK(policy_emit(NULL, NULL, &out) == -1 && errno == EINVAL, "NULL policy: EINVAL");
	policy_free(p);
	policy_free(q);
	diag_free(&d);
	sbuf_free(&out);
}

int
main(void)
{
	test_corpus();
	test_default();
	test_tricky();
	test_extra_and_args();
	return t_done();
}
