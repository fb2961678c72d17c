/*
 * cmd_policy_live: `agentcage policy get NAME` and `agentcage policy set NAME FILE`, the
 * policy of a running sandbox (docs/control.md). Both take [--run-dir DIR].
 *
 *  - get: prints the effective policy as YAML that `policy set` accepts unchanged.
 *  - set: loads FILE here first (policy/load.h) and prints its diagnostics as `policy check`
 *    does; a file with errors is refused before anything is sent. The sandbox then checks
 *    it again (static fields unchanged) and loads it as a new generation: exit 0, or exit 1
 *    with the sandbox's reason (the running policy is unchanged).
 *
 * Context: CLI; returns the exit status (0, 1 failure, 2 usage).
 */
#include <getopt.h>

#include "cli/cli.h"
#include "ctl/client.h"
#include "policy/load.h"
#include "util/sbuf.h"
#include "util/util.h"

/* Parses [--run-dir DIR] [-h] and wants exactly <nargs> operands; 0, or an exit status
 * (stored in *<rc>) when the command should end now. */
static int
live_args(int argc, char **argv, int nargs, const char *usage, const char **run_dir, int *rc)
{
	static const struct option opts[] = {
	        {"run-dir", required_argument, NULL, 'r'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	*run_dir = CTL_RUN_DIR;
	optind = 0; /* 0: glibc re-initialises getopt fully (tests run several commands) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'r') {
			*run_dir = optarg;
		} else if (c == 'h') {
			*rc = cli_help("policy");
			return -1;
		} else {
			fprintf(stderr,
			        "agentcage: policy %s: unknown option or missing value\n"
			        "hint: agentcage policy %s\n",
			        argv[0], usage);
			*rc = 2;
			return -1;
		}
	}
	if (argc - optind != nargs) {
		fprintf(stderr,
		        "agentcage: policy %s: expected %d argument%s\nhint: agentcage policy %s\n",
		        argv[0], nargs, nargs == 1 ? "" : "s", usage);
		*rc = 2;
		return -1;
	}
	return 0;
}

/* One request to sandbox <name>; the OK payload in *<reply>. On failure prints what the
 * sandbox (or the socket) said, prefixed with <cmd> and <name>. */
static int
ask(const char *run_dir, const char *name, const char *cmd, uint32_t type, const char *payload,
    size_t len, char **reply)
{
	struct sbuf err = {0};
	char what[32];
	int fd, rc;

	ut_snprintf(what, sizeof(what), "policy %s", cmd);
	fd = ctl_open(run_dir, name, what);
	if (fd == -1)
		return -1;
	rc = ctl_call(fd, type, payload, len, reply, &err);
	if (rc == -1)
		fprintf(stderr, "agentcage: policy %s: %s: %s\n", cmd, name, sbuf_str(&err));
	sbuf_free(&err);
	ut_close(&fd);
	return rc;
}

int
cmd_policy_get(int argc, char **argv)
{
	const char *run_dir;
	char *yaml = NULL;
	int rc = 0;

	if (live_args(argc, argv, 1, "get NAME", &run_dir, &rc) == -1)
		return rc;
	if (ask(run_dir, argv[optind], "get", CTL_POLICY_GET, NULL, 0, &yaml) == -1)
		return 1;
	rc = ut_write_all(STDOUT_FILENO, yaml, strlen(yaml)) == -1 ? 1 : 0;
	if (rc != 0)
		fprintf(stderr, "agentcage: policy get: writing to stdout: %s\n", strerror(errno));
	free(yaml);
	yaml = NULL;
	return rc;
}

/* Loads <path> as `policy check` does and prints its diagnostics. true if it has no errors. */
static bool
check_locally(const char *path)
{
	struct diag d = {0};
	struct policy *p = NULL;
	bool valid = policy_load_file(path, &d, &p) == 0;

	diag_print(&d, stderr);
	if (!valid)
		fprintf(stderr,
		        "agentcage: policy set: %s: %zu error%s; nothing was sent, the running "
		        "policy is unchanged\nhint: agentcage policy check %s\n",
		        path, d.nerrors, d.nerrors == 1 ? "" : "s", path);
	policy_free(p);
	p = NULL;
	diag_free(&d);
	return valid;
}

int
cmd_policy_set(int argc, char **argv)
{
	const char *run_dir, *name, *path;
	char *buf = NULL, *reply = NULL;
	size_t len = 0;
	int rc = 0;

	if (live_args(argc, argv, 2, "set NAME FILE", &run_dir, &rc) == -1)
		return rc;
	name = argv[optind];
	path = argv[optind + 1];
	if (!check_locally(path))
		return 1;
	/* The bytes checked and the bytes sent are read separately; a file changed in between
	 * is still validated in full by the sandbox. */
	if (ut_read_file(path, POLICY_MAX_BYTES, &buf, &len) == -1) {
		fprintf(stderr, "agentcage: policy set: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (ask(run_dir, name, "set", CTL_POLICY_SET, buf, len, &reply) == -1) {
		fprintf(stderr, "agentcage: policy set: %s: the running policy is unchanged\n",
		        name);
		rc = 1;
	} else {
		printf("agentcage: %s: policy %s loaded\n", name, reply);
	}
	free(buf);
	buf = NULL;
	free(reply);
	reply = NULL;
	return rc;
}
