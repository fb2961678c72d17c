/* test_pdiff: the static-section check of `policy set` (policy_static_diff) and the
 * deep model comparison (policy_deep_equal), policy/pdiff.h. */
#include <errno.h>
#include <string.h>

#include "policy/emit.h"
#include "policy/load.h"
#include "policy/pdiff.h"
#include "t.h"
#include "util/sbuf.h"
#include "util/util.h"

static const char running_yaml[] = "version: 1\n"
                                   "filesystem_policy:\n"
                                   "  include_workdir: true\n"
                                   "  read_only: [/usr, /etc, /lib]\n"
                                   "  read_write: [/tmp]\n"
                                   "landlock:\n"
                                   "  compatibility: best_effort\n"
                                   "process:\n"
                                   "  run_as_user: sandbox\n"
                                   "  run_as_group: sandbox\n"
                                   "network_policies:\n"
                                   "  a:\n"
                                   "    endpoints: [{host: example.com, port: 443}]\n"
                                   "    binaries: [{path: /usr/bin/curl}]\n";

static struct policy *
load(const char *name, const char *yaml)
{
	struct diag d = {0};
	struct policy *p = NULL;

	if (policy_load_buffer(name, yaml, strlen(yaml), &d, &p) == -1)
		diag_print(&d, stdout);
	diag_free(&d);
	return p;
}

/* Runs the static check of <next_yaml> against the running policy. */
static int
static_diff(const char *next_yaml, struct sbuf *msg)
{
	struct policy *r = load("running", running_yaml), *n = load("next", next_yaml);
	int rc = r && n ? policy_static_diff(r, n, msg) : -2;

	policy_free(r);
	policy_free(n);
	return rc;
}

static void
test_unchanged(void)
{
	struct sbuf msg = {0};
	/* same meaning: paths reordered and repeated, trailing slash, other network */
	static const char next[] = "version: 1\n"
	                           "filesystem_policy:\n"
	                           "  include_workdir: true\n"
	                           "  read_only: [/lib, /usr/, /etc, /usr]\n"
	                           "  read_write: [/tmp]\n"
	                           "landlock: {compatibility: best_effort}\n"
	                           "process: {run_as_user: sandbox, run_as_group: sandbox}\n"
	                           "network_policies: {}\n";

	T_OK(static_diff(next, &msg) == 0, "reordered or repeated paths and a new network "
	                                   "section are no static change");
	T_STREQ(sbuf_str(&msg), "", "nothing is reported");
	sbuf_free(&msg);
}

static void
test_changed(void)
{
	struct sbuf msg = {0};
	static const char next[] = "version: 1\n"
	                           "filesystem_policy:\n"
	                           "  include_workdir: false\n"
	                           "  read_only: [/usr, /etc, /lib]\n"
	                           "  read_write: [/tmp, /home]\n"
	                           "landlock:\n"
	                           "  compatibility: hard_requirement\n"
	                           "process:\n"
	                           "  run_as_group: sandbox\n";
	const char *m;

	T_OK(static_diff(next, &msg) == 4, "four static fields differ");
	m = sbuf_str(&msg);
	T_CONTAINS(m, "filesystem_policy.include_workdir: running true, new false\n",
	           "include_workdir named with both values");
	T_CONTAINS(m, "filesystem_policy.read_write: running [/tmp], new [/tmp, /home]\n",
	           "read_write named with both lists");
	T_CONTAINS(m, "landlock.compatibility: running best_effort, new hard_requirement\n",
	           "compatibility named with both values");
	T_CONTAINS(m, "process.run_as_user: running sandbox, new (not set)\n",
	           "an identity that went away is named");
	T_OK(strstr(m, "read_only") == NULL && strstr(m, "run_as_group") == NULL,
	     "unchanged fields are not named");
	T_CONTAINS(m, PDIFF_STATIC_HINT "\n", "the hint ends the message");
	sbuf_free(&msg);
}

static void
test_absent_sections(void)
{
	struct policy *a = load("a", "version: 1\n");
	struct policy *b = load("b", "version: 1\nfilesystem_policy: {include_workdir: false}\n"
	                             "landlock: {compatibility: best_effort}\nprocess: {}\n");
	struct policy *c = load("c", "version: 1\nfilesystem_policy: {read_only: [/usr]}\n");
	struct sbuf msg = {0};

	if (!T_OK(a && b && c, "the three policies load"))
		goto out;
	T_OK(policy_static_diff(a, b, &msg) == 0,
	     "absent sections mean the same as their defaults written out");
	T_OK(policy_static_diff(a, c, &msg) == 1, "an absent section differs from one that "
	                                          "lists a path");
	T_CONTAINS(sbuf_str(&msg), "filesystem_policy.read_only: running [], new [/usr]",
	           "the empty side is shown as []");
	errno = 0;
	T_OK(policy_static_diff(NULL, a, &msg) == -1 && errno == EINVAL, "NULL: EINVAL");
out:
	policy_free(a);
	policy_free(b);
	policy_free(c);
	sbuf_free(&msg);
}

static void
test_deep_equal(void)
{
	struct policy *a = load("a", running_yaml), *b = load("b", running_yaml);
	struct policy *c = load("c", "version: 1\nnetwork_policies:\n  a:\n    endpoints: "
	                             "[{host: example.com, ports: [443, 80]}]\n");
	struct policy *d = load("d", "version: 1\nnetwork_policies:\n  a:\n    endpoints: "
	                             "[{host: example.com, ports: [443, 81]}]\n");
	struct sbuf why = {0};

	if (!T_OK(a && b && c && d, "the policies load"))
		goto out;
	T_OK(policy_deep_equal(a, b, &why), "a policy equals itself loaded twice");
	T_OK(!policy_deep_equal(a, c, &why), "different policies are not equal");
	sbuf_reset(&why);
	T_OK(!policy_deep_equal(c, d, &why), "one port apart is not equal");
	T_CONTAINS(sbuf_str(&why), "network_policies.a.endpoints[0].ports[]: 80 vs 81",
	           "the difference is located");
	T_OK(!policy_deep_equal(NULL, a, NULL), "NULL is never equal");
out:
	policy_free(a);
	policy_free(b);
	policy_free(c);
	policy_free(d);
	sbuf_free(&why);
}

/* What `policy get` prints, `policy set` takes back as no static change. */
static void
test_get_then_set(void)
{
	struct diag d = {0};
	struct policy *running = NULL, *next = NULL;
	struct sbuf text = {0}, msg = {0};

	if (!T_OK(policy_load_default(&d, &running) == 0, "the default policy loads"))
		goto out;
	policy_emit(running, NULL, &text);
	next = load("<printed>", sbuf_str(&text));
	T_OK(next && policy_static_diff(running, next, &msg) == 0,
	     "the printed default policy changes no static field");
	T_OK(next && policy_deep_equal(running, next, NULL), "and is the same policy");
out:
	policy_free(running);
	policy_free(next);
	diag_free(&d);
	sbuf_free(&text);
	sbuf_free(&msg);
}

int
main(void)
{
	test_get_then_set();
	test_unchanged();
	test_changed();
	test_absent_sections();
	test_deep_equal();
	return t_done();
}
