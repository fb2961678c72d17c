/*
 * cmd_policy: `agentcage policy default | check | explain` — the offline policy tools.
 *
 *  - default: writes the embedded default policy, byte for byte.
 *  - check FILE...: loads each file strictly (policy/load.h); diagnostics go to stderr,
 *    one summary line per file to stdout; with --json, stdout is one JSON array holding
 *    one object per file, in argument order. Exit 0 when every file is valid, else 1.
 *  - explain: asks the decision engine (policy/engine.h) what it would decide for one
 *    binary and host:port (L4) or one HTTP request (L7) and prints why.
 *    Exit 0 allow (audit included), 1 deny, 2 bad arguments or a policy that does not load.
 *
 * Context: CLI only; returns the process exit status, never exits itself.
 */
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>

#include "cli/cli.h"
#include "policy/canon.h"
#include "policy/engine.h"
#include "policy/load.h"
#include "util/sbuf.h"
#include "util/util.h"

#define EXPLAIN_MAX_ANCESTORS 64 /* --ancestor options; deeper trees are not realistic */
#define EXPLAIN_MAX_METHOD    32 /* bytes of an HTTP method token */
#define EXPLAIN_CANON_LEN     (CANON_OUT_MAX + ENGINE_MAX_QUERY + 2)

#define EXIT_ALLOW 0
#define EXIT_DENY  1
#define EXIT_USAGE 2

/* --- policy default --------------------------------------------------------------- */

static int
policy_default(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr,
		        "agentcage: policy default: unexpected argument '%s'\n"
		        "hint: agentcage policy default > my-policy.yaml\n",
		        argv[1]);
		return EXIT_USAGE;
	}
	if (ut_write_all(STDOUT_FILENO, policy_default_yaml, policy_default_yaml_len) == -1) {
		fprintf(stderr, "agentcage: policy default: writing to stdout: %s\n",
		        strerror(errno));
		return 1;
	}
	return 0;
}

/* getopt_long() with opterr off ends in '?' or ':'; says which option and how to get help. */
static int
bad_option(const char *cmd, int argc, char **argv, int c)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";

	if (c == ':')
		fprintf(stderr, "agentcage: policy %s: option '%s' needs a value\n", cmd, arg);
	else
		fprintf(stderr, "agentcage: policy %s: unknown option '%s'\n", cmd, arg);
	fprintf(stderr, "hint: agentcage help policy\n");
	return EXIT_USAGE;
}

/* --- policy check ----------------------------------------------------------------- */

/* Appends the items of <d> with severity <sev> as a JSON array to <b>. */
static void
check_json_file(const char *path, const struct diag *d, bool valid, struct sbuf *b)
{
	struct json_obj o;
	struct sbuf items = {0};

	json_begin(&o, b);
	json_kv_str(&o, "file", path);
	json_kv_bool(&o, "valid", valid);
	diag_json_sev(d, (int)DIAG_ERROR, &items);
	json_kv_raw(&o, "errors", sbuf_str(&items));
	sbuf_reset(&items);
	diag_json_sev(d, (int)DIAG_WARNING, &items);
	json_kv_raw(&o, "warnings", sbuf_str(&items));
	json_end(&o);
	sbuf_free(&items);
}

static void
check_summary(const char *path, const struct diag *d, bool valid)
{
	if (valid)
		printf("%s: ok (%zu warning%s)\n", path, d->nwarnings,
		       d->nwarnings == 1 ? "" : "s");
	else
		printf("%s: %zu error%s, %zu warning%s\n", path, d->nerrors,
		       d->nerrors == 1 ? "" : "s", d->nwarnings, d->nwarnings == 1 ? "" : "s");
}

/* Loads <path>; reports it to stderr/stdout, or to <json> when not NULL. true if valid. */
static bool
check_one(const char *path, struct sbuf *json)
{
	struct diag d = {0};
	struct policy *p = NULL;
	bool valid = policy_load_file(path, &d, &p) == 0;

	/* A failed load always says why; make sure of it even if the loader did not. */
	if (!valid && d.nerrors == 0)
		diag_add(&d, DIAG_ERROR, path, (struct pol_mark){0, 0}, NULL,
		         "the policy could not be loaded");
	if (json != NULL) {
		check_json_file(path, &d, valid, json);
	} else {
		fflush(stdout); /* keep each file's diagnostics next to its summary line */
		diag_print(&d, stderr);
		check_summary(path, &d, valid);
		fflush(stdout);
	}
	policy_free(p);
	p = NULL;
	diag_free(&d);
	return valid;
}

static int
policy_check(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct sbuf out = {0};
	bool json = false, all_valid = true;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			return cli_help("policy");
		default:
			return bad_option("check", argc, argv, c);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "agentcage: policy check: no policy file given\n"
		                "hint: agentcage policy check [--json] FILE...\n");
		return EXIT_USAGE;
	}
	if (json)
		sbuf_putc(&out, '[');
	for (int i = optind; i < argc; i++) {
		if (json && i > optind)
			sbuf_putc(&out, ',');
		if (!check_one(argv[i], json ? &out : NULL))
			all_valid = false;
	}
	if (json) {
		sbuf_puts(&out, "]\n");
		fputs(sbuf_str(&out), stdout);
	}
	sbuf_free(&out);
	return all_valid ? 0 : 1;
}

/* --- policy explain --------------------------------------------------------------- */

struct explain_opts {
	const char *policy_path; /* NULL: the embedded default */
	const char *binary;
	const char *ancestors[EXPLAIN_MAX_ANCESTORS];
	size_t nancestors;
	const char *host;
	uint16_t port;
	bool have_port;
	const char *method;
	const char *path;
	bool json;
};

static int
explain_bad(const char *what, const char *hint)
{
	fprintf(stderr, "agentcage: policy explain: %s\nhint: %s\n", what, hint);
	return EXIT_USAGE;
}

/* An HTTP method is a token (RFC 9110 §5.6.2); we accept the letters, digits and
 * punctuation real methods use, so a typo such as "GET /x" is caught here. */
static bool
explain_method_ok(const char *m)
{
	size_t n = strlen(m);

	if (n == 0 || n > EXPLAIN_MAX_METHOD)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((m[i] >= 'A' && m[i] <= 'Z') || (m[i] >= 'a' && m[i] <= 'z') ||
		      (m[i] >= '0' && m[i] <= '9') || m[i] == '-' || m[i] == '_' || m[i] == '.'))
			return false;
	return true;
}

static int
explain_set_port(struct explain_opts *o, const char *arg)
{
	const char *errstr;
	long long v = ut_strtonum(arg, 1, 65535, &errstr);
	char msg[256];

	if (errstr != NULL) {
		ut_snprintf(msg, sizeof(msg), "--port '%s': %s", arg, errstr);
		return explain_bad(msg, "a TCP port is a number from 1 to 65535, e.g. --port 443");
	}
	o->port = (uint16_t)v;
	o->have_port = true;
	return 0;
}

/* Checks the combination of options once all are parsed; 0 or EXIT_USAGE. */
static int
explain_validate(const struct explain_opts *o)
{
	char msg[PATH_MAX + 64];

	if (o->binary == NULL)
		return explain_bad("--binary is required", "--binary PATH names the program that "
		                                           "connects, e.g. --binary /usr/bin/curl");
	if (o->binary[0] != '/') {
		ut_snprintf(msg, sizeof(msg), "--binary '%s': not an absolute path", o->binary);
		return explain_bad(msg, "policies match the absolute path the kernel reports "
		                        "(/proc/PID/exe), e.g. --binary /usr/bin/git");
	}
	for (size_t i = 0; i < o->nancestors; i++)
		if (o->ancestors[i][0] != '/') {
			ut_snprintf(msg, sizeof(msg), "--ancestor '%s': not an absolute path",
			            o->ancestors[i]);
			return explain_bad(msg,
			                   "give each ancestor's executable path, parent first, "
			                   "e.g. --ancestor /usr/local/bin/claude");
		}
	if (o->host == NULL || o->host[0] == '\0')
		return explain_bad(
		        "--host is required",
		        "--host NAME is the destination as requested, e.g. --host api.github.com");
	if (strlen(o->host) > ENGINE_MAX_HOST + 2) /* + 2: IPv6 brackets */
		return explain_bad("--host: longer than a DNS name can be (253 bytes)",
		                   "pass the host name only, without scheme, port or path");
	if (strchr(o->host, '/') != NULL || strstr(o->host, "://") != NULL)
		return explain_bad("--host: looks like a URL, not a host name",
		                   "--host api.github.com --port 443 --method GET --path /user");
	if (!o->have_port)
		return explain_bad(
		        "--port is required",
		        "--port PORT is the destination port, e.g. --port 443 for HTTPS");
	if (o->method != NULL && o->path == NULL)
		return explain_bad(
		        "--method needs --path",
		        "an HTTP request is a method and a path: --method GET --path /user");
	if (o->path != NULL && o->method == NULL)
		return explain_bad(
		        "--path needs --method",
		        "an HTTP request is a method and a path: --method GET --path /user");
	if (o->method != NULL && !explain_method_ok(o->method)) {
		ut_snprintf(msg, sizeof(msg), "--method '%.64s': not an HTTP method", o->method);
		return explain_bad(msg, "e.g. --method GET, --method POST");
	}
	if (o->path != NULL && o->path[0] == '\0')
		return explain_bad("--path is empty",
		                   "give the request target, e.g. --path /user?x=1");
	return 0;
}

static int
explain_parse(int argc, char **argv, struct explain_opts *o)
{
	enum {
		OPT_POLICY = 256,
		OPT_BINARY,
		OPT_ANCESTOR,
		OPT_HOST,
		OPT_PORT,
		OPT_METHOD,
		OPT_PATH,
		OPT_JSON
	};
	static const struct option opts[] = {
	        {"policy", required_argument, NULL, OPT_POLICY},
	        {"binary", required_argument, NULL, OPT_BINARY},
	        {"ancestor", required_argument, NULL, OPT_ANCESTOR},
	        {"host", required_argument, NULL, OPT_HOST},
	        {"port", required_argument, NULL, OPT_PORT},
	        {"method", required_argument, NULL, OPT_METHOD},
	        {"path", required_argument, NULL, OPT_PATH},
	        {"json", no_argument, NULL, OPT_JSON},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_POLICY:
			o->policy_path = optarg;
			break;
		case OPT_BINARY:
			o->binary = optarg;
			break;
		case OPT_ANCESTOR:
			if (o->nancestors == EXPLAIN_MAX_ANCESTORS)
				return explain_bad("too many --ancestor options (at most 64)",
				                   "list the nearest ancestors, parent first");
			o->ancestors[o->nancestors++] = optarg;
			break;
		case OPT_HOST:
			o->host = optarg;
			break;
		case OPT_PORT:
			if (explain_set_port(o, optarg) != 0)
				return EXIT_USAGE;
			break;
		case OPT_METHOD:
			o->method = optarg;
			break;
		case OPT_PATH:
			o->path = optarg;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case 'h':
			return -1;
		default:
			return bad_option("explain", argc, argv, c);
		}
	}
	if (optind < argc) {
		char msg[PATH_MAX];

		ut_snprintf(msg, sizeof(msg), "unexpected argument '%.200s'", argv[optind]);
		return explain_bad(msg, "every value goes with its option, e.g. --host H --port P");
	}
	return explain_validate(o);
}

static int
explain_load(const char *path, struct policy **out)
{
	struct diag d = {0};
	int rc = path != NULL ? policy_load_file(path, &d, out) : policy_load_default(&d, out);

	if (rc == -1) {
		diag_print(&d, stderr);
		fprintf(stderr,
		        "agentcage: policy explain: %s could not be loaded (see above); nothing to "
		        "explain\n"
		        "hint: agentcage policy check %s\n",
		        path != NULL ? path : "the default policy", path != NULL ? path : "");
	}
	diag_free(&d);
	return rc;
}

/* One decision for the options in <o>, with the binary replaced by <exe>. */
static int
explain_decide(const struct engine *e, const struct explain_opts *o, const char *exe,
               struct decision *dec, char *canon)
{
	const struct ident id = {
	        .exe = exe, .ancestors = o->ancestors, .nancestors = o->nancestors};

	if (o->method == NULL)
		return engine_decide_connect(e, &id, o->host, o->port, dec);
	return engine_decide_request(e, &id, o->host, o->port, o->method, o->path, strlen(o->path),
	                             dec, canon, EXPLAIN_CANON_LEN);
}

static const char *
explain_verdict(const struct decision *d)
{
	return d->allow ? "allow" : "deny";
}

static void
explain_print_json(const struct explain_opts *o, const struct decision *d, const char *canon,
                   const char *resolved, const struct decision *rd)
{
	struct sbuf b = {0}, anc = {0};
	struct json_obj j;

	sbuf_putc(&anc, '[');
	for (size_t i = 0; i < o->nancestors; i++) {
		if (i > 0)
			sbuf_putc(&anc, ',');
		json_str(&anc, o->ancestors[i], strlen(o->ancestors[i]));
	}
	sbuf_putc(&anc, ']');
	json_begin(&j, &b);
	json_kv_str(&j, "decision", explain_verdict(d));
	json_kv_bool(&j, "audit", d->audit);
	json_kv_str(&j, "block", d->block != NULL ? d->block->key : NULL);
	json_kv_str(&j, "block_name", d->block != NULL ? d->block->name : NULL);
	json_kv_str(&j, "reason", d->reason);
	json_kv_str(&j, "layer", o->method != NULL ? "l7" : "l4");
	json_kv_bool(&j, "inspect", d->inspect);
	json_kv_str(&j, "policy", o->policy_path != NULL ? o->policy_path : "<default>");
	json_kv_str(&j, "binary", o->binary);
	json_kv_raw(&j, "ancestors", sbuf_str(&anc));
	json_kv_str(&j, "host", o->host);
	json_kv_int(&j, "port", o->port);
	if (o->method != NULL) {
		json_kv_str(&j, "method", o->method);
		json_kv_str(&j, "path", o->path);
		json_kv_str(&j, "canonical_path", canon);
	}
	if (resolved != NULL) {
		json_kv_str(&j, "resolved_binary", resolved);
		json_kv_str(&j, "resolved_decision", explain_verdict(rd));
	}
	json_end(&j);
	sbuf_putc(&b, '\n');
	fputs(sbuf_str(&b), stdout);
	sbuf_free(&anc);
	sbuf_free(&b);
}

static void
explain_print_text(const struct explain_opts *o, const struct decision *d, const char *canon,
                   const char *resolved, const struct decision *rd)
{
	const char *verdict = d->allow ? (d->audit ? "allow (audit: would be denied under "
	                                             "enforcement: enforce)"
	                                           : "allow")
	                               : "deny";

	if (o->method != NULL)
		printf("%s: %s %s on %s:%u by %s\n", verdict, o->method, o->path, o->host,
		       (unsigned)o->port, o->binary);
	else
		printf("%s: %s -> %s:%u\n", verdict, o->binary, o->host, (unsigned)o->port);
	if (d->block != NULL && strcmp(d->block->key, d->block->name) != 0)
		printf("block: %s (name: %s)\n", d->block->key, d->block->name);
	else if (d->block != NULL)
		printf("block: %s\n", d->block->key);
	printf("reason: %s\n", d->reason);
	if (o->method != NULL && canon[0] != '\0' && strcmp(canon, o->path) != 0)
		printf("canonical path: %s\n", canon);
	if (d->allow && o->method == NULL)
		printf("traffic: %s\n", d->inspect ? "TLS terminated, each HTTP request checked"
		                                   : "passed through, not decrypted (L4)");
	if (resolved != NULL)
		printf("note: on this host %s resolves to %s, the path the sandbox reports; "
		       "for it the decision is %s\n",
		       o->binary, resolved, explain_verdict(rd));
}

static int
explain_run(const struct explain_opts *o)
{
	struct policy *p = NULL;
	struct engine *e = NULL;
	struct decision dec, rdec;
	char *canon = NULL, *rcanon = NULL, resolved[PATH_MAX];
	const char *res = NULL;
	int status = EXIT_USAGE;

	if (explain_load(o->policy_path, &p) == -1)
		return EXIT_USAGE;
	if ((e = engine_new(p)) == NULL) {
		fprintf(stderr, "agentcage: policy explain: compiling the policy: %s\n",
		        strerror(errno));
		goto free_policy;
	}
	canon = ut_xcalloc(1, EXPLAIN_CANON_LEN);
	rcanon = ut_xcalloc(1, EXPLAIN_CANON_LEN);
	if (explain_decide(e, o, o->binary, &dec, canon) == -1) {
		fprintf(stderr, "agentcage: policy explain: %s\n", strerror(errno));
		goto free_engine;
	}
	/* The sandbox reports the exe the kernel resolved (symlinks followed): say so when
	 * that path gets another verdict, the most common surprise with binaries. */
	if (realpath(o->binary, resolved) != NULL && strcmp(resolved, o->binary) != 0 &&
	    explain_decide(e, o, resolved, &rdec, rcanon) == 0 && rdec.allow != dec.allow)
		res = resolved;
	if (o->json)
		explain_print_json(o, &dec, canon, res, &rdec);
	else
		explain_print_text(o, &dec, canon, res, &rdec);
	status = dec.allow ? EXIT_ALLOW : EXIT_DENY;
free_engine:
	free(rcanon);
	rcanon = NULL;
	free(canon);
	canon = NULL;
	engine_free(e);
	e = NULL;
free_policy:
	policy_free(p);
	p = NULL;
	return status;
}

static int
policy_explain(int argc, char **argv)
{
	struct explain_opts o = {0};
	int rc = explain_parse(argc, argv, &o);

	if (rc == -1)
		return cli_help("policy");
	if (rc != 0)
		return rc;
	return explain_run(&o);
}

/* --- dispatch --------------------------------------------------------------------- */

int
cmd_policy(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} subs[] = {
	        {"default", policy_default},
	        {"check", policy_check},
	        {"explain", policy_explain},
	        {"get", cmd_policy_get},
	        {"set", cmd_policy_set},
	        {"suggest", cmd_policy_suggest},
	};

	if (argc < 2) {
		fprintf(stderr, "agentcage: policy: which one: default, check, explain, get, set or suggest?\n"
		                "hint: agentcage help policy\n");
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return cli_help("policy");
	for (size_t i = 0; i < NELEM(subs); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(argc - 1, argv + 1);
	fprintf(stderr,
	        "agentcage: policy: unknown sub-command '%s'\n"
	        "hint: agentcage policy default|check|explain|get|set|suggest (agentcage help policy)\n",
	        argv[1]);
	return EXIT_USAGE;
}
