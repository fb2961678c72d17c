/* test_suggest: suggest_blocks (policy/suggest.h): the additions, emitted with the base
 * and loaded, allow every observation that can be allowed and nothing next to them;
 * grouping, generalisation, comments, key collisions, refusals and determinism. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/canon.h"
#include "policy/emit.h"
#include "policy/engine.h"
#include "policy/load.h"
#include "policy/suggest.h"
#include "t.h"
#include "util/sbuf.h"
#include "util/util.h"

static const char base_yaml[] = "version: 1\n"
                                "network_policies:\n"
                                "  github:\n"
                                "    endpoints:\n"
                                "      - host: api.github.com\n"
                                "        port: 443\n"
                                "        protocol: rest\n"
                                "        enforcement: enforce\n"
                                "        rules:\n"
                                "          - allow: {method: GET, path: /user}\n"
                                "        deny_rules:\n"
                                "          - {method: DELETE, path: \"/repos/**\"}\n"
                                "      - host: uploads.github.com\n"
                                "        port: 443\n"
                                "        path: \"/v1/**\"\n"
                                "        protocol: rest\n"
                                "        enforcement: enforce\n"
                                "        access: read-only\n"
                                "      - host: uploads.github.com\n"
                                "        port: 443\n"
                                "        protocol: rest\n"
                                "        enforcement: enforce\n"
                                "        access: full\n"
                                "    binaries:\n"
                                "      - path: /usr/bin/gh\n"
                                "  pypi:\n"
                                "    endpoints:\n"
                                "      - host: pypi.org\n"
                                "        port: 443\n"
                                "    binaries:\n"
                                "      - path: /usr/bin/pip\n"
                                "  learn_example_com:\n"
                                "    endpoints:\n"
                                "      - host: other.example\n"
                                "        port: 22\n"
                                "    binaries:\n"
                                "      - path: /usr/bin/ssh\n";

#define GH   "/usr/bin/gh"
#define CURL "/usr/bin/curl"

static const struct sug_obs observed[] = {
        {GH, "api.github.com", 443, "GET", "/repos/a/b/issues", "GET not permitted", 3, NULL},
        {GH, "api.github.com", 443, "GET", "/repos/a/b/pulls", "GET not permitted", 1, NULL},
        {GH, "api.github.com", 443, "POST", "/repos/a/b/issues", "POST not permitted", 1, NULL},
        {GH, "API.github.com.", 443, "get", "/repos/a/c/x*y", NULL, 1, NULL},
        {GH, "api.github.com", 443, "GET", "/user", NULL, 2, NULL},
        {GH, "api.github.com", 443, "DELETE", "/repos/a/b", "deny rule", 1, NULL},
        {GH, "uploads.github.com", 443, "POST", "/v1/files", "POST not permitted", 1, NULL},
        {CURL, "example.com", 443, NULL, NULL, "no policy allows /usr/bin/curl", 2, NULL},
        {"/usr/bin/git", "example.com", 443, NULL, NULL, "no policy", 1, NULL},
        {CURL, "example.com", 80, NULL, NULL, "no policy", 1, NULL},
        {"/usr/bin/pip", "pypi.org", 443, NULL, NULL, NULL, 4, NULL},
        {CURL, "files.pythonhosted.org", 443, "GET", "/packages/x.whl", NULL, 1, NULL},
        {CURL, NULL, 443, NULL, NULL, NULL, 1, NULL},
};

static struct policy *
load(const char *name, const char *text)
{
	struct diag d = {0};
	struct policy *p = NULL;

	if (policy_load_buffer(name, text, strlen(text), &d, &p) == -1) {
		diag_print(&d, stdout);
		printf("%s\n", text);
	}
	diag_free(&d);
	return p;
}

/* Does <e> allow <exe> to <host>:<port> (and the request, when <method> is set)? */
static bool
allows(const struct engine *e, const char *exe, const char *host, uint16_t port, const char *method,
       const char *path)
{
	static char canon[CANON_OUT_MAX + ENGINE_MAX_QUERY + 2];
	const struct ident id = {exe, NULL, 0};
	struct decision d;

	if (engine_decide_connect(e, &id, host, port, &d) == -1 || !d.allow)
		return false;
	if (method == NULL || !d.l7)
		return true;
	if (engine_decide_request(e, &id, host, port, method, path, strlen(path), &d, canon,
	                          sizeof(canon)) == -1)
		return false;
	return d.allow && !d.audit;
}

/* Runs suggest on <obs> and loads base + additions; NULL on failure. */
static struct policy *
suggest(const struct policy *base, const struct sug_obs *obs, size_t n, struct sbuf *extra,
        struct sbuf *summary)
{
	struct sbuf full = {0};
	struct policy *p = NULL;

	if (suggest_blocks(base, obs, n, extra, summary) == 0 &&
	    policy_emit(base, sbuf_str(extra), &full) == 0)
		p = load("<suggested>", sbuf_str(&full));
	sbuf_free(&full);
	return p;
}

static void
test_allows_exactly(const struct policy *base)
{
	struct sbuf extra = {0}, summary = {0};
	struct policy *p = suggest(base, observed, NELEM(observed), &extra, &summary);
	struct engine *e = p ? engine_new(p) : NULL;
	const char *x = sbuf_str(&extra), *sum = sbuf_str(&summary);

	if (!T_OK(e != NULL, "base + suggestion loads")) {
		printf("# %s\n# %s\n", x, sum);
		goto out;
	}
	for (size_t i = 0; i < NELEM(observed); i++) {
		const struct sug_obs *o = &observed[i];

		if (o->host == NULL || (o->method && !strcmp(o->method, "DELETE")))
			continue;
		T_OK(allows(e, o->binary, o->host, o->port, o->method, o->path),
		     "observation %zu (%s %s:%u %s %s) is allowed", i, o->binary, o->host, o->port,
		     o->method ? o->method : "", o->path ? o->path : "");
	}
	T_OK(allows(e, GH, "api.github.com", 443, "GET", "/repos/a/b/commits"),
	     "two siblings under /repos/a/b/ allow that parent's other children (documented)");
	T_OK(!allows(e, GH, "api.github.com", 443, "GET", "/repos/a/b/issues/1"),
	     "but not deeper paths");
	T_OK(!allows(e, GH, "api.github.com", 443, "GET", "/repos/a/x"),
	     "nor the grandparent's other children");
	T_OK(!allows(e, GH, "api.github.com", 443, "POST", "/repos/a/b/pulls"),
	     "one POST path is not generalised");
	T_OK(!allows(e, GH, "api.github.com", 443, "GET", "/repos/a/c/xzy"),
	     "a literal `*` in an observed path stays literal");
	T_OK(!allows(e, GH, "api.github.com", 443, "DELETE", "/repos/a/b"),
	     "a request a base deny rule blocks is still denied");
	T_OK(!allows(e, CURL, "evil.example", 443, NULL, NULL), "a different host is denied");
	T_OK(!allows(e, "/usr/bin/wget", "example.com", 443, NULL, NULL),
	     "a different binary is denied");
	T_OK(!allows(e, CURL, "example.com", 8443, NULL, NULL), "ports are exact");
	T_OK(!allows(e, "/usr/bin/git", "example.com", 80, NULL, NULL),
	     "git did not use port 80, so it is not allowed there");

	T_CONTAINS(x, "path: /repos/a/b/*\n", "GET siblings generalised to their parent");
	T_CONTAINS(x, "method: POST\n              path: /repos/a/b/issues\n",
	           "a single POST path is exact");
	T_CONTAINS(x, "path: /repos/a/c/x[*]y\n", "a literal `*` is written [*]");
	T_CONTAINS(x,
	           "# GET /repos/a/b/issues (3x), /repos/a/b/pulls (1x) by /usr/bin/gh; "
	           "denied: GET not permitted\n",
	           "a rule's comment names paths, counts, binaries and the reason");
	T_CONTAINS(x, "path: /v1/**\n", "the most specific base selector is copied");
	T_CONTAINS(x,
	           "# connections from /usr/bin/curl (2x), /usr/bin/git (1x); denied: no "
	           "policy allows /usr/bin/curl\n",
	           "a connection endpoint's comment names binaries and counts");
	T_OK(strstr(x, "/user") == NULL, "an allowed observation adds nothing");
	T_CONTAINS(x, "\n  learn_example_com_2:\n", "a key the base holds is not reused");
	T_CONTAINS(x, "\n  learn_example_com_3:\n", "nor one given earlier");
	T_CONTAINS(x, "  learn_files_pythonhosted_org:\n    endpoints:\n      # connections",
	           "a request with no inspected endpoint in the base is added as a connection");
	T_CONTAINS(sum,
	           "suggest: 13 observations: 2 already allowed, 9 allowed by 5 new "
	           "blocks, 2 cannot be allowed\n",
	           "the summary counts");
	T_CONTAINS(sum,
	           "cannot allow: /usr/bin/gh -> api.github.com:443 DELETE /repos/a/b: "
	           "DELETE /repos/a/b blocked by deny rule of policy github",
	           "a deny-rule match is reported, not dropped");
	T_CONTAINS(sum, "cannot allow: /usr/bin/curl -> (no host):443: no usable host",
	           "an incomplete observation is reported");
	T_OK(strstr(sum, "not allowed by the suggestion") == NULL,
	     "the self-check found nothing still denied");
out:
	engine_free(e);
	policy_free(p);
	sbuf_free(&extra);
	sbuf_free(&summary);
}

static void
test_deterministic(const struct policy *base)
{
	struct sug_obs rev[NELEM(observed)];
	struct sbuf a = {0}, b = {0}, s = {0};

	for (size_t i = 0; i < NELEM(observed); i++)
		rev[i] = observed[NELEM(observed) - 1 - i];
	T_OK(suggest_blocks(base, observed, NELEM(observed), &a, &s) == 0 &&
	             suggest_blocks(base, rev, NELEM(rev), &b, &s) == 0,
	     "suggest runs on both orders");
	T_STREQ(sbuf_str(&b), sbuf_str(&a), "the observations' order does not change the output");
	sbuf_free(&a);
	sbuf_free(&b);
	sbuf_free(&s);
}

static void
test_nothing_to_add(const struct policy *base)
{
	static const struct sug_obs ok[] = {
	        {GH, "api.github.com", 443, "GET", "/user", NULL, 1, NULL},
	        {"/usr/bin/pip", "pypi.org", 443, "GET", "/simple/", NULL, 1, NULL},
	};
	struct sbuf extra = {0}, summary = {0};

	T_OK(suggest_blocks(base, ok, NELEM(ok), &extra, &summary) == 0 && extra.len == 0,
	     "observations the base allows (also uninspected requests) add nothing");
	T_CONTAINS(sbuf_str(&summary), "2 already allowed, 0 allowed by 0 new blocks",
	           "and are counted as allowed");
	sbuf_reset(&summary);
	T_OK(suggest_blocks(base, NULL, 0, &extra, &summary) == 0 && extra.len == 0,
	     "no observations: nothing added");
	errno = 0;
	T_OK(suggest_blocks(NULL, ok, 1, &extra, &summary) == -1 && errno == EINVAL,
	     "NULL base: EINVAL");
	sbuf_free(&extra);
	sbuf_free(&summary);
}

/* The new endpoint is inspected like the base's: protocol, tls and enforcement copied. */
static void
test_template_copied(void)
{
	static const char yaml[] = "version: 1\n"
	                           "network_policies:\n"
	                           "  ws:\n"
	                           "    endpoints:\n"
	                           "      - host: ws.example.com\n"
	                           "        port: 8080\n"
	                           "        protocol: websocket\n"
	                           "        tls: skip\n"
	                           "        enforcement: enforce\n"
	                           "        rules: [{allow: {method: GET, path: /ws}}]\n"
	                           "    binaries: [{path: /usr/bin/node}]\n";
	static const struct sug_obs o[] = {
	        {"/usr/bin/node", "ws.example.com", 8080, "GET", "/feed", NULL, 1, NULL},
	};
	struct policy *base = load("ws", yaml), *p = NULL;
	struct sbuf extra = {0}, summary = {0};
	struct engine *e = NULL;

	if (!T_OK(base != NULL, "the websocket base loads"))
		return;
	p = suggest(base, o, NELEM(o), &extra, &summary);
	e = p ? engine_new(p) : NULL;
	T_CONTAINS(sbuf_str(&extra),
	           "        protocol: websocket\n        tls: skip\n        enforcement: enforce\n",
	           "protocol, tls and enforcement are the base endpoint's");
	T_OK(e && allows(e, "/usr/bin/node", "ws.example.com", 8080, "GET", "/feed"),
	     "the observed request is allowed");
	T_OK(e && !allows(e, "/usr/bin/node", "ws.example.com", 8080, "GET", "/admin"),
	     "another path is not");
	engine_free(e);
	policy_free(p);
	policy_free(base);
	sbuf_free(&extra);
	sbuf_free(&summary);
}

/* Learn mode dials private addresses (a registry on the LAN): the suggestion must list
 * each one in allowed_ips, or the new block would still be refused at connect time. */
static void
test_private_addresses(void)
{
	static const char yaml[] = "version: 1\n"
	                           "network_policies:\n"
	                           "  api:\n"
	                           "    endpoints:\n"
	                           "      - host: git.lan\n"
	                           "        port: 80\n"
	                           "        protocol: rest\n"
	                           "        enforcement: enforce\n"
	                           "        allowed_ips: [10.9.0.0/16]\n"
	                           "        rules: [{allow: {method: GET, path: /a}}]\n"
	                           "    binaries: [{path: /usr/bin/git}]\n";
	static const struct sug_obs o[] = {
	        {CURL, "registry.lan", 443, NULL, NULL, NULL, 1, "10.1.2.3"},
	        {CURL, "registry.lan", 443, NULL, NULL, NULL, 1, "10.1.2.4"},
	        {"/usr/bin/wget", "registry.lan", 443, NULL, NULL, NULL, 1, "10.1.2.3"},
	        {CURL, "public.example", 443, NULL, NULL, NULL, 1, "93.184.216.34"},
	        {"/usr/bin/git", "git.lan", 80, "POST", "/b", NULL, 1, NULL},
	};
	struct policy *base = load("lan", yaml), *p = NULL;
	struct sbuf extra = {0}, summary = {0};
	const char *x;

	if (!T_OK(base != NULL, "the LAN base loads"))
		return;
	p = suggest(base, o, NELEM(o), &extra, &summary);
	x = sbuf_str(&extra);
	T_OK(p != NULL, "the suggestion with private addresses loads");
	T_CONTAINS(x, "port: 443\n        allowed_ips: [\"10.1.2.3\", \"10.1.2.4\"]\n",
	           "each private address dialled is listed once, exactly");
	T_OK(strstr(x, "93.184.216.34") == NULL, "a public address needs no allowed_ips");
	T_CONTAINS(x, "allowed_ips: [\"10.9.0.0/16\"]\n",
	           "an inspected endpoint made like the base's keeps its allowed_ips");
	policy_free(p);
	policy_free(base);
	sbuf_free(&extra);
	sbuf_free(&summary);
}

int
main(void)
{
	struct policy *base = load("base", base_yaml);

	if (!T_OK(base != NULL, "the base policy loads"))
		return t_done();
	test_allows_exactly(base);
	test_deterministic(base);
	test_nothing_to_add(base);
	test_template_copied();
	test_private_addresses();
	policy_free(base);
	return t_done();
}
