/*
 * cmd_stop: `agentcage stop NAME [--grace SECS] [--run-dir DIR]` (docs/control.md).
 *
 * Sends STOP (the supervisor sends SIGTERM to the sandbox and SIGKILL after the grace
 * period), then waits for the control socket to hang up — the supervisor is gone — bounded
 * by the grace period plus STOP_MARGIN_S. No polling: the hang-up is the event.
 *
 * Context: CLI; returns the exit status (0 stopped, 1 failure, 2 usage).
 */
#include <getopt.h>

#include "cli/cli.h"
#include "ctl/client.h"
#include "util/sbuf.h"
#include "util/util.h"

#define STOP_DEFAULT_GRACE_S 10
#define STOP_MARGIN_S        5 /* after SIGKILL: the supervisor reaps and cleans up */

static int
stop_usage(const char *what)
{
	fprintf(stderr, "agentcage: stop: %s\nhint: agentcage stop NAME [--grace SECS]\n", what);
	return 2;
}

int
cmd_stop(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"grace", required_argument, NULL, 'g'},
	        {"run-dir", required_argument, NULL, 'r'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *run_dir = CTL_RUN_DIR, *errstr, *name;
	uint32_t grace = STOP_DEFAULT_GRACE_S;
	struct sbuf err = {0};
	char *reply = NULL;
	int c, fd, rc = 1;

	optind = 0; /* 0: glibc re-initialises getopt fully (tests run several commands) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":g:h", opts, NULL)) != -1) {
		if (c == 'g') {
			grace = (uint32_t)ut_strtonum(optarg, 0, CTL_GRACE_MAX, &errstr);
			if (errstr != NULL)
				return stop_usage("--grace takes whole seconds, 0 to 3600");
		} else if (c == 'r') {
			run_dir = optarg;
		} else if (c == 'h') {
			return cli_help("stop");
		} else {
			return stop_usage("unknown option or missing value");
		}
	}
	if (argc - optind != 1)
		return stop_usage(optind >= argc ? "which sandbox? (agentcage ps lists them)"
		                                 : "one sandbox name only");
	name = argv[optind];
	fd = ctl_open(run_dir, name, "stop");
	if (fd == -1)
		return 1;
	if (ctl_call(fd, CTL_STOP, &grace, sizeof(grace), &reply, &err) == -1) {
		fprintf(stderr, "agentcage: stop: %s: %s\n", name, sbuf_str(&err));
		goto close_fd;
	}
	if (ctl_wait_hangup(fd, (int)(grace + STOP_MARGIN_S) * 1000) == -1) {
		fprintf(stderr,
		        "agentcage: stop: %s is still running %u s after SIGKILL was due\n"
		        "hint: its supervisor may be stuck; find it with agentcage ps and kill "
		        "it\n",
		        name, (unsigned)STOP_MARGIN_S);
		goto close_fd;
	}
	printf("agentcage: stopped %s\n", name);
	rc = 0;
close_fd:
	free(reply);
	reply = NULL;
	sbuf_free(&err);
	ut_close(&fd);
	return rc;
}
