/* test_policy_load: the policy loader (policy/load.h) against the OpenShell corpus, the
 * negative corpus in tests/policies/invalid, the embedded default policy and targeted
 * cases for normalisation, warnings and diagnostics. Run from the repository root. */
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "policy/load.h"
#include "t.h"
#include "util/sbuf.h"
#include "util/util.h"

#define NEG_DIR "tests/policies/invalid"
#define NEG_MIN 40 /* the issue asks for at least this many negative cases */

static char shared_dir[1024];

static int
find_shared(void)
{
	const char *env = getenv("AGENTCAGE_SHARED");

	ut_strlcpy(shared_dir, env && *env ? env : "../shared", sizeof(shared_dir));
	return access(shared_dir, R_OK) == 0 ? 0 : -1;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted *.yaml names of <dir>; caller frees each and the array. -1 if unreadable. */
static int
list_yaml(const char *dir, char ***out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;

	*n = 0;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml"))
			continue;
		v = realloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = ut_xstrdup(e->d_name);
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), name_cmp);
	*out = v;
	return 0;
}

static void
free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
show_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		printf("#   %s:%u:%u %s: %s\n", d->items[i].sev == DIAG_ERROR ? "E" : "W",
		       d->items[i].line, d->items[i].col,
		       d->items[i].field ? d->items[i].field : "-", d->items[i].msg);
}

static void
test_valid_corpus(void)
{
	char dir[1200], path[1500];
	char **names;
	size_t n;

	snprintf(dir, sizeof(dir), "%s/corpus/openshell-policies", shared_dir);
	if (list_yaml(dir, &names, &n) == -1) {
		t_skip("no OpenShell corpus at %s (set AGENTCAGE_SHARED)", dir);
		return;
	}
	T_OK(n > 0, "the OpenShell corpus has files (%zu)", n);
	for (size_t i = 0; i < n; i++) {
		struct diag d = { 0 };
		struct policy *p = NULL;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (!T_OK(policy_load_file(path, &d, &p) == 0 && p && d.nerrors == 0,
			  "corpus policy loads: %s", names[i]))
			show_diag(&d);
		policy_free(p);
		diag_free(&d);
	}
	free_list(names, n);
}

static void
test_invalid_corpus(void)
{
	char dir[1200], path[1500];
	char **names;
	size_t n;

	snprintf(dir, sizeof(dir), "%s/corpus/invalid-policies", shared_dir);
	if (list_yaml(dir, &names, &n) == -1) {
		t_skip("no invalid corpus at %s (set AGENTCAGE_SHARED)", dir);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct diag d = { 0 };
		struct policy *p = NULL;
		int rc;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		rc = policy_load_file(path, &d, &p);
		T_OK(rc == -1 && p == NULL && d.nerrors > 0 && d.items[0].line > 0,
		     "invalid corpus policy refused with a located error: %s", names[i]);
		policy_free(p);
		diag_free(&d);
	}
	free_list(names, n);
}

/* "# expect: LINE:COL FIELD: SUBSTRING" (FIELD `-` = none, `*` = any). */
struct expect {
	unsigned line, col;
	char field[512];
	char msg[512];
};

static int
parse_expect(const char *path, struct expect *e)
{
	char buf[1200], *sp, *colon;
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	if (strncmp(buf, "# expect: ", 10) || sscanf(buf + 10, "%u:%u", &e->line, &e->col) != 2)
		return -1;
	sp = strchr(buf + 10, ' ');
	if (sp == NULL || (colon = strstr(sp + 1, ": ")) == NULL)
		return -1;
	*colon = '\0';
	ut_strlcpy(e->field, sp + 1, sizeof(e->field));
	ut_strlcpy(e->msg, colon + 2, sizeof(e->msg));
	return 0;
}

static bool
diag_has(const struct diag *d, const struct expect *e)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag_item *it = &d->items[i];
		bool field_ok = !strcmp(e->field, "*") ||
				(!strcmp(e->field, "-") ? it->field == NULL
							: it->field && !strcmp(it->field, e->field));

		if (it->sev == DIAG_ERROR && it->line == e->line && it->col == e->col && field_ok &&
		    strstr(it->msg, e->msg))
			return true;
	}
	return false;
}

static void
test_negative_corpus(void)
{
	char path[1024];
	char **names;
	size_t n;

	if (!T_OK(list_yaml(NEG_DIR, &names, &n) == 0, "negative corpus %s is readable", NEG_DIR))
		return;
	T_OK(n >= NEG_MIN, "negative corpus holds at least %d policies (%zu)", NEG_MIN, n);
	for (size_t i = 0; i < n; i++) {
		struct diag d = { 0 };
		struct policy *p = NULL;
		struct expect e;
		int rc;

		snprintf(path, sizeof(path), "%s/%s", NEG_DIR, names[i]);
		if (!T_OK(parse_expect(path, &e) == 0, "%s has a `# expect:` first line", names[i]))
			continue;
		rc = policy_load_file(path, &d, &p);
		if (!T_OK(rc == -1 && p == NULL && diag_has(&d, &e),
			  "%s refused at %u:%u %s: ...%s...", names[i], e.line, e.col, e.field,
			  e.msg))
			show_diag(&d);
		policy_free(p);
		diag_free(&d);
	}
	free_list(names, n);
}

static int
load_str(const char *yaml, struct diag *d, struct policy **p)
{
	return policy_load_buffer("t.yaml", yaml, strlen(yaml), d, p);
}

static size_t
count_warnings_with(const struct diag *d, const char *needle)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += d->items[i].sev == DIAG_WARNING && strstr(d->items[i].msg, needle) != NULL;
	return n;
}

static const struct pol_block *
find_block(const struct policy *p, const char *key)
{
	for (size_t i = 0; i < p->nblocks; i++)
		if (!strcmp(p->blocks[i].key, key))
			return &p->blocks[i];
	return NULL;
}

static void
test_default_policy(void)
{
	struct diag d = { 0 };
	struct policy *p = NULL;
	const struct pol_block *b;
	const struct pol_endpoint *ep;

	if (!T_OK(policy_load_default(&d, &p) == 0 && p, "the embedded default policy loads")) {
		show_diag(&d);
		diag_free(&d);
		return;
	}
	T_OK(d.nerrors == 0 && d.nwarnings == 3 && count_warnings_with(&d, "tls: terminate is "
									  "deprecated") == 3,
	     "default policy: exactly the 3 deprecated `tls: terminate` warnings (%zu)",
	     d.nwarnings);
	T_OK(d.n == 3 && d.items[0].line == 41 && d.items[1].line == 56 && d.items[2].line == 91,
	     "default policy warnings sit on lines 41, 56, 91");
	T_STREQ(p->source, "<default>", "default policy source name");
	T_OK(p->version == 1, "version 1");
	T_OK(p->has_filesystem && p->include_workdir && p->nread_only == 7 && p->nread_write == 3,
	     "filesystem: include_workdir, 7 read_only, 3 read_write");
	T_STREQ(p->read_only[3], "/dev/urandom", "read_only[3]");
	T_STREQ(p->read_write[0], "/sandbox", "read_write[0]");
	T_OK(p->has_landlock && p->compat == POL_COMPAT_BEST_EFFORT, "landlock best_effort");
	T_STREQ(p->run_as_user, "sandbox", "run_as_user");
	T_STREQ(p->run_as_group, "sandbox", "run_as_group");
	T_OK(p->nblocks == 8 && p->network_policies_set, "8 network policy blocks (%zu)",
	     p->nblocks);
	T_STREQ(p->blocks[0].key, "claude_code", "blocks keep file order");
	T_STREQ(p->blocks[0].name, "claude-code", "block name");
	b = find_block(p, "claude_code");
	T_OK(b && b->nendpoints == 5 && b->nbinaries == 2, "claude_code: 5 endpoints, 2 binaries");
	ep = b ? &b->endpoints[0] : NULL;
	T_OK(ep && !strcmp(ep->host, "api.anthropic.com") && ep->nports == 1 &&
		     ep->ports[0] == 443 && ep->protocol == POL_PROTO_REST &&
		     ep->enforcement == POL_ENF_ENFORCE && ep->access == POL_ACCESS_FULL &&
		     ep->tls == POL_TLS_TERMINATE,
	     "claude_code endpoint 0: api.anthropic.com:443 rest enforce full tls terminate");
	T_OK(b && b->endpoints[1].protocol == POL_PROTO_L4 &&
		     b->endpoints[1].enforcement == POL_ENF_AUDIT && !b->endpoints[1].enforcement_set,
	     "L4 endpoint: no protocol, enforcement defaults to audit");
	T_STREQ(b ? b->binaries[0].path : NULL, "/usr/local/bin/claude", "claude binary");
	b = find_block(p, "github_ssh_over_https");
	T_OK(b && b->nendpoints == 1 && b->endpoints[0].nrules == 2 && b->endpoints[0].rules_set,
	     "github_ssh_over_https: two allow rules");
	T_STREQ(b ? b->endpoints[0].rules[0].method : NULL, "GET", "rule 0 method");
	T_STREQ(b ? b->endpoints[0].rules[0].path : NULL, "/**/info/refs*", "rule 0 path");
	T_STREQ(b ? b->endpoints[0].rules[1].path : NULL, "/**/git-upload-pack", "rule 1 path");
	b = find_block(p, "github_rest_api");
	T_OK(b && b->endpoints[0].access == POL_ACCESS_READ_ONLY, "github_rest_api read-only");
	b = find_block(p, "pypi");
	T_OK(b && b->nendpoints == 6 && b->nbinaries == 8, "pypi: 6 endpoints, 8 binaries");
	T_STREQ(b ? b->binaries[7].path : NULL, "/sandbox/.uv/python/**", "pypi glob binary");
	b = find_block(p, "opencode");
	T_OK(b && b->nendpoints == 3 && b->nbinaries == 3, "opencode: 3 endpoints, 3 binaries");
	T_OK(p->nmiddlewares == 0, "no middlewares");
	policy_free(p);
	diag_free(&d);
}

static void
test_normalisation(void)
{
	struct diag d = { 0 };
	struct policy *p = NULL;
	const char *y = "version: 7\n"
			"filesystem_policy:\n  read_only: [//usr//lib/, /etc/]\n  read_write: [/]\n"
			"network_policies:\n"
			"  k:\n"
			"    endpoints:\n"
			"      - {host: API.Example.COM., ports: [443, 8443]}\n"
			"      - {host: \"*.S3.*.amazonaws.com\", port: 80}\n"
			"    binaries: [{path: /usr/bin/curl}]\n";

	/* read_write `/` is an error: check the rest on a fixed copy */
	T_OK(load_str(y, &d, &p) == -1 && d.nerrors == 1, "read_write / refused");
	diag_free(&d);
	{
		char fixed[1024];
		char *at;

		ut_strlcpy(fixed, y, sizeof(fixed));
		at = strstr(fixed, "[/]");
		memcpy(at, "[/tmp//]", 8);
		ut_strlcpy(at + 8, strstr(y, "\nnetwork_policies"), sizeof(fixed) - (size_t)(at + 8 - fixed));
		if (!T_OK(load_str(fixed, &d, &p) == 0, "normalisation policy loads"))
			show_diag(&d);
	}
	if (p) {
		T_STREQ(p->read_only[0], "/usr/lib", "`//usr//lib/` normalised");
		T_STREQ(p->read_only[1], "/etc", "trailing / stripped");
		T_STREQ(p->read_write[0], "/tmp", "`/tmp//` normalised");
		T_OK(p->version == 7, "version value kept (not checked, as the reference)");
		T_STREQ(p->blocks[0].name, "k", "name defaults to the key");
		T_STREQ(p->blocks[0].endpoints[0].host, "api.example.com",
			"host lower-cased, trailing dot removed");
		T_OK(p->blocks[0].endpoints[0].nports == 2 &&
			     p->blocks[0].endpoints[0].ports[1] == 8443,
		     "effective ports = ports");
		T_OK(p->blocks[0].endpoints[1].host_wildcard &&
			     !strcmp(p->blocks[0].endpoints[1].host, "*.s3.*.amazonaws.com"),
		     "whole middle-label wildcard accepted and lower-cased");
		T_OK(p->blocks[0].endpoints[1].nports == 1 && p->blocks[0].endpoints[1].ports[0] == 80,
		     "effective ports = [port]");
	}
	policy_free(p);
	diag_free(&d);
}

static void
test_sha256(void)
{
	struct diag d = { 0 };
	struct policy *p = NULL;
	const char *y = "version: 1\n";
	uint8_t want[32];
	unsigned int n = 32;

	EVP_Digest(y, strlen(y), want, &n, EVP_sha256(), NULL);
	T_OK(load_str(y, &d, &p) == 0 && p && policy_hash(p) == 0 && p->hashed &&
	     !memcmp(p->sha256, want, 32),
	     "sha256 is of the file bytes");
	T_OK(p && p->text_len == strlen(y) && strcmp(p->text, y) == 0,
	     "the loaded policy keeps its file bytes");
	policy_free(p);
	diag_free(&d);
}

static void
test_all_errors_reported(void)
{
	struct diag d = { 0 };
	struct policy *p = NULL;
	const char *y = "version: 1\n"
			"landlock: {compatibility: strict}\n"
			"process: {run_as_user: root}\n"
			"network_policies:\n"
			"  b:\n"
			"    endpoints: [{host: a.example.com, port: 99999}]\n"
			"    binaries: [{path: /usr/bin/x}]\n";

	T_OK(load_str(y, &d, &p) == -1 && p == NULL, "three-error policy refused");
	T_OK(d.nerrors == 3, "all three errors reported, not only the first (%zu)", d.nerrors);
	T_OK(d.n >= 3 && d.items[0].line == 2 && d.items[1].line == 3 && d.items[2].line == 6,
	     "errors in file order on lines 2, 3, 6");
	if (d.n >= 3) {
		T_STREQ(d.items[2].field, "network_policies.b.endpoints[0].port", "field path of error 3");
	}
	policy_free(p);
	diag_free(&d);
}

struct warn_case {
	const char *what;
	const char *endpoint; /* one flow endpoint for block b */
	const char *needle;
};

static void
test_warnings(void)
{
	static const struct warn_case cases[] = {
		{ "L7 without enforce", "{host: a.example.com, port: 443, protocol: rest, access: full}",
		  "only audited, never blocked" },
		{ "broad allowed_ips", "{host: a.example.com, port: 443, allowed_ips: [10.0.0.0/8]}",
		  "broader than /16" },
		{ "unknown HTTP method",
		  "{host: a.example.com, port: 443, protocol: rest, enforcement: enforce, rules: "
		  "[{allow: {method: FETCH, path: /x}}]}",
		  "unknown HTTP method `FETCH`" },
		{ "tls skip with L7 on 443",
		  "{host: a.example.com, port: 443, protocol: rest, enforcement: enforce, access: "
		  "full, tls: skip}",
		  "tls: skip on port 443" },
		{ "rewrite flag on the wrong protocol",
		  "{host: a.example.com, port: 443, request_body_credential_rewrite: true}",
		  "applies only to protocol rest" },
		{ "deprecated tls passthrough", "{host: a.example.com, port: 443, tls: passthrough}",
		  "deprecated" },
	};
	char buf[1024];

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct diag d = { 0 };
		struct policy *p = NULL;

		snprintf(buf, sizeof(buf),
			 "version: 1\nnetwork_policies:\n  b:\n    endpoints: [%s]\n    binaries: "
			 "[{path: /usr/bin/x}]\n",
			 cases[i].endpoint);
		if (!T_OK(load_str(buf, &d, &p) == 0 && count_warnings_with(&d, cases[i].needle) == 1,
			  "warning, not error: %s", cases[i].what))
			show_diag(&d);
		policy_free(p);
		diag_free(&d);
	}
	{
		struct diag d = { 0 };
		struct policy *p = NULL;

		T_OK(load_str("version: 1\nnetwork_policies:\n  b:\n    endpoints: [{host: "
			      "a.example.com, port: 1}]\n    binaries: [{path: /x, harness: true}]\n"
			      "  c:\n    endpoints: [{host: a.example.com, port: 1}]\n",
			      &d, &p) == 0 &&
			     count_warnings_with(&d, "harness") == 1 &&
			     count_warnings_with(&d, "denies everything") == 1,
		     "warnings: deprecated harness; a block without binaries denies everything");
		policy_free(p);
		diag_free(&d);
	}
}

static void
test_accepts(void)
{
	static const char *const ok[] = {
		"version: 1\nprocess: {run_as_user: nobody, run_as_group: \"1000\"}\n",
		"version: 1\nprocess: {run_as_user: 4294967294}\n",
		"version: 1\nnetwork_policies:\n",
		"version: 1\nfilesystem_policy: {include_workdir: True, read_only: }\n",
		"version: 1\nnetwork_policies:\n  b:\n    endpoints:\n      - {host: x.example.com, "
		"port: 443, protocol: MCP, enforcement: enforce, mcp: "
		"{allow_all_known_mcp_methods: true}}\n    binaries: [{path: /x}]\n",
		"version: 1\nnetwork_policies:\n  b:\n    endpoints:\n      - {port: 443, "
		"allowed_ips: [\"192.168.1.0/24\", \"fd00::1\"]}\n    binaries: [{path: /x}]\n",
	};

	for (size_t i = 0; i < NELEM(ok); i++) {
		struct diag d = { 0 };
		struct policy *p = NULL;

		if (!T_OK(load_str(ok[i], &d, &p) == 0 && p, "valid policy %zu loads", i))
			show_diag(&d);
		if (i == 4 && p)
			T_OK(p->blocks[0].endpoints[0].protocol == POL_PROTO_MCP &&
				     p->blocks[0].endpoints[0].mcp_strict_tool_names,
			     "protocol is case-insensitive; mcp strict_tool_names defaults to true");
		policy_free(p);
		diag_free(&d);
	}
}

static void
test_limits_and_io(void)
{
	struct diag d = { 0 };
	struct policy *p = NULL;
	size_t big = POLICY_MAX_BYTES + 1;
	char *buf = ut_xmalloc(big);

	memset(buf, '#', big);
	T_OK(policy_load_buffer("big.yaml", buf, big, &d, &p) == -1 && d.nerrors == 1 &&
		     strstr(d.items[0].msg, "limit"),
	     "a policy over 1 MiB is refused");
	free(buf);
	diag_free(&d);
	T_OK(policy_load_file("/nonexistent/policy.yaml", &d, &p) == -1 && d.nerrors == 1 &&
		     strstr(d.items[0].msg, strerror(ENOENT)) && strstr(d.items[0].msg, "hint:"),
	     "a missing file is an error naming the cause and a hint");
	diag_free(&d);
	T_OK(policy_load_buffer("nul.yaml", "version: 1\0", 11, &d, &p) == -1,
	     "a NUL byte is refused");
	diag_free(&d);
	T_OK(policy_load_buffer("e.yaml", "", 0, &d, &p) == -1 && strstr(d.items[0].msg, "empty"),
	     "an empty file is refused");
	diag_free(&d);
}

static void
test_diag_output(void)
{
	struct diag d = { 0 };
	struct sbuf b = { 0 };
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);

	diag_add(&d, DIAG_ERROR, "p.yaml", (struct pol_mark){ 7, 15 }, "a.b[0].port", "bad %d", 1);
	diag_add(&d, DIAG_WARNING, "p.yaml", (struct pol_mark){ 0, 0 }, NULL, "w \"q\"");
	diag_print(&d, f);
	fclose(f);
	T_STREQ(out, "p.yaml:7:15: error: a.b[0].port: bad 1\np.yaml: warning: w \"q\"\n",
		"diag_print format");
	diag_json(&d, &b);
	T_STREQ(sbuf_str(&b),
		"[{\"severity\":\"error\",\"file\":\"p.yaml\",\"line\":7,\"col\":15,\"field\":"
		"\"a.b[0].port\",\"message\":\"bad 1\"},{\"severity\":\"warning\",\"file\":"
		"\"p.yaml\",\"line\":0,\"col\":0,\"field\":null,\"message\":\"w \\\"q\\\"\"}]",
		"diag_json format");
	T_OK(d.nerrors == 1 && d.nwarnings == 1, "diag counts");
	free(out);
	sbuf_free(&b);
	diag_free(&d);
	T_OK(d.n == 0 && d.items == NULL, "diag_free empties");
}

int
main(void)
{
	if (find_shared() == 0) {
		test_valid_corpus();
		test_invalid_corpus();
	} else {
		t_skip("shared corpus not found at %s (set AGENTCAGE_SHARED)", shared_dir);
	}
	test_negative_corpus();
	test_default_policy();
	test_normalisation();
	test_sha256();
	test_all_errors_reported();
	test_warnings();
	test_accepts();
	test_limits_and_io();
	test_diag_output();
	return t_done();
}
