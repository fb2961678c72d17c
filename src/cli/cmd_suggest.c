/*
 * cmd_suggest: `agentcage policy suggest NAME|LOGFILE [--base FILE]` — a complete policy
 * that allows what the last run of a sandbox was denied (or would have been, in learn
 * mode).
 *
 * The observations come from the log's last run (cli/logobs.h). The base is --base FILE,
 * else the policy the run started with (the start line's policy_source; "<default>" is
 * the embedded default), with a warning when that file's SHA-256 is no longer the one the
 * run logged. The additions come from policy/suggest.h, the YAML from policy/emit.h. What
 * is printed is loaded again before it is printed: a suggestion that does not load is a
 * bug of agentcage, reported as such (exit 1), never printed. Observations no addition
 * can allow (the base denies them outright) are listed on stderr.
 *
 * Context: CLI; returns the exit status: 0 (printed), 1 (no log, no base, or a bug),
 * 2 (usage).
 */
#include <getopt.h>
#include <limits.h>

#include "cli/cli.h"
#include "cli/logcli.h"
#include "cli/logobs.h"
#include "cli/logread.h"
#include "policy/emit.h"
#include "policy/load.h"
#include "policy/suggest.h"
#include "util/sbuf.h"
#include "util/sha256.h"
#include "util/util.h"

/* The name the output is loaded under when checking it (shows in a bug report). */
#define SUGGEST_CHECK_NAME "<suggested policy>"

struct suggest_opts {
	const char *target;
	const char *base; /* --base FILE, or NULL */
};

/* 0, -1 after --help, or LOGCLI_EXIT_USAGE. */
static int
suggest_parse_args(int argc, char **argv, struct suggest_opts *o)
{
	static const struct option longopts[] = {
	        {"base", required_argument, NULL, 'b'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->base = optarg;
			break;
		case 'h':
			return cli_help("policy") == 0 ? -1 : LOGCLI_EXIT_USAGE;
		default:
			return logcli_bad_option("policy suggest", "policy", c, argc, argv);
		}
	}
	return logcli_one_target("policy suggest", "policy", argc, argv, &o->target);
}

/* Reads the last run of the log named by <target> into <s>. 0, or 1 or 2 after a
 * message. */
static int
suggest_read_log(const char *target, char *path, size_t size, struct logobs_set *s)
{
	struct logread r = {.fd = -1};
	long long pid;
	int rc = 1;

	if (logcli_resolve("policy suggest", target, path, size) != 0)
		return LOGCLI_EXIT_USAGE;
	if (logread_open(&r, path) == -1 || logread_seek_last_run(&r, &pid) == -1 ||
	    logobs_collect(&r, s) == -1) {
		if (errno != E2BIG)
			logcli_open_error("policy suggest", path, target);
		else
			fprintf(stderr,
			        "agentcage: policy suggest: %s: more distinct denials than a "
			        "reviewable policy holds\nhint: at most %d; narrow the run, or "
			        "write "
			        "the policy by hand from `agentcage logs --denied`\n",
			        path, LOGOBS_MAX);
		goto close;
	}
	if (r.nmalformed > 0)
		fprintf(stderr, "agentcage: policy suggest: %s: skipped %zu malformed line%s\n",
		        path, r.nmalformed, r.nmalformed == 1 ? "" : "s");
	rc = 0;
close:
	logread_close(&r);
	return rc;
}

/* Warns when the start policy's bytes changed since the run logged their SHA-256. */
static void
suggest_check_hash(struct policy *base, const struct logobs_set *s)
{
	char hex[SHA256_HEX_LEN];

	if (s->policy_sha256 == NULL || policy_hash(base) == -1)
		return;
	sha256_hex(base->sha256, hex);
	if (strcmp(hex, s->policy_sha256) != 0)
		fprintf(stderr,
		        "agentcage: policy suggest: warning: %s changed since the run started "
		        "(sha256 %.12s… in the log, %.12s… now); the suggestion adds to it as it "
		        "is now\nhint: --base FILE names the policy to add to\n",
		        strcmp(base->source, "<default>") == 0
		                ? "the embedded default policy (agentcage was updated?)"
		                : base->source,
		        s->policy_sha256, hex);
}

/* Loads the base policy; NULL after a message. */
static struct policy *
suggest_load_base(const struct suggest_opts *o, const char *log, const struct logobs_set *s)
{
	struct diag d = {0};
	struct policy *p = NULL;
	const char *src = o->base ? o->base : s->policy_source;
	int rc;

	if (src == NULL) {
		fprintf(stderr,
		        "agentcage: policy suggest: %s has no start line, so no policy "
		        "to add to\nhint: --base FILE\n",
		        log);
		return NULL;
	}
	rc = strcmp(src, "<default>") == 0 && o->base == NULL ? policy_load_default(&d, &p)
	                                                      : policy_load_file(src, &d, &p);
	if (rc == -1) {
		diag_print(&d, stderr);
		fprintf(stderr,
		        "agentcage: policy suggest: the base policy %s does not load\n"
		        "hint: --base FILE names another\n",
		        src);
	} else if (o->base == NULL) {
		suggest_check_hash(p, s);
	}
	diag_free(&d);
	return p;
}

static void
suggest_header(struct sbuf *out, const char *log, const struct policy *base,
               const struct logobs_set *s)
{
	sbuf_printf(out, "# Suggested by `agentcage policy suggest` from %s\n", log);
	if (s->start_time != NULL)
		sbuf_printf(out, "# run: started %s (supervisor pid %lld)\n", s->start_time,
		            s->start_pid);
	sbuf_printf(out, "# base: %s\n", base->source);
	sbuf_printf(out, "# observed: %u denial%s, %u would-be denial%s (learn); %zu distinct\n",
	            s->ndeny, s->ndeny == 1 ? "" : "s", s->nlearn, s->nlearn == 1 ? "" : "s", s->n);
}

/* The observations as the suggest core takes them; borrowed from <s>. */
static struct sug_obs *
suggest_obs(const struct logobs_set *s)
{
	struct sug_obs *obs = ut_xcalloc(s->n ? s->n : 1, sizeof(*obs));

	for (size_t i = 0; i < s->n; i++)
		obs[i] = (struct sug_obs){
		        .binary = s->v[i].binary,
		        .host = s->v[i].host,
		        .port = s->v[i].port,
		        .method = s->v[i].method,
		        .path = s->v[i].path,
		        .reason = s->v[i].reason,
		        .address = s->v[i].address,
		        .count = s->v[i].count,
		};
	return obs;
}

/* Loads what is about to be printed; 0, or -1 after a bug report. */
static int
suggest_verify(const struct sbuf *out)
{
	struct diag d = {0};
	struct policy *p = NULL;
	int rc = policy_load_buffer(SUGGEST_CHECK_NAME, sbuf_str(out), out->len, &d, &p);

	if (rc == -1) {
		fprintf(stderr, "agentcage: policy suggest: BUG: the suggested policy does not "
		                "load; not printing it:\n");
		diag_print(&d, stderr);
		fprintf(stderr, "hint: please report this with the log; `agentcage logs --denied` "
		                "lists what the run needed\n");
	}
	policy_free(p);
	diag_free(&d);
	return rc;
}

/* Builds, checks and prints the suggestion. 0 or 1. */
static int
suggest_print(const char *log, const struct policy *base, const struct logobs_set *s)
{
	struct sbuf extra = {0}, summary = {0}, out = {0};
	cleanup_free struct sug_obs *obs = suggest_obs(s);
	int rc = 1;

	suggest_header(&out, log, base, s);
	if (suggest_blocks(base, obs, s->n, &extra, &summary) == -1 ||
	    policy_emit(base, extra.len ? sbuf_str(&extra) : NULL, &out) == -1) {
		fprintf(stderr, "agentcage: policy suggest: building the policy: %s\n",
		        strerror(errno));
		goto free_bufs;
	}
	if (suggest_verify(&out) == -1)
		goto free_bufs;
	if (ut_write_all(STDOUT_FILENO, out.s, out.len) == -1) {
		fprintf(stderr, "agentcage: policy suggest: writing to stdout: %s\n",
		        strerror(errno));
		goto free_bufs;
	}
	if (summary.len > 0)
		fprintf(stderr, "%s", sbuf_str(&summary));
	if (s->n == 0)
		fprintf(stderr, "agentcage: policy suggest: the run was denied nothing; the base "
		                "policy is printed unchanged\n");
	rc = 0;
free_bufs:
	sbuf_free(&extra);
	sbuf_free(&summary);
	sbuf_free(&out);
	return rc;
}

int
cmd_policy_suggest(int argc, char **argv)
{
	struct suggest_opts o;
	struct logobs_set s = {0};
	struct policy *base = NULL;
	char log[PATH_MAX];
	int rc = suggest_parse_args(argc, argv, &o);

	if (rc != 0)
		return rc == -1 ? 0 : rc;
	rc = suggest_read_log(o.target, log, sizeof(log), &s);
	if (rc != 0)
		goto free_obs;
	if (o.base == NULL && s.npolicy_changes > 0)
		fprintf(stderr,
		        "agentcage: policy suggest: warning: the run loaded %u live policy "
		        "change%s (last: %s); the suggestion adds to the policy it started "
		        "with\nhint: --base FILE adds to another\n",
		        s.npolicy_changes, s.npolicy_changes == 1 ? "" : "s",
		        s.last_policy_source ? s.last_policy_source : "?");
	base = suggest_load_base(&o, log, &s);
	rc = base == NULL ? 1 : suggest_print(log, base, &s);
	policy_free(base);
free_obs:
	logobs_free(&s);
	return rc;
}
