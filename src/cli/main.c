/* agentcage: entry point; dispatches sub-commands (cli.h). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/util.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{ "exec", cmd_exec },
	{ "logs", cmd_logs },
	{ "policy", cmd_policy },
	{ "ps", cmd_ps },
	{ "run", cmd_run },
	{ "setup", cmd_setup },
	{ "stop", cmd_stop },
};

int
main(int argc, char **argv)
{
	ut_proc_args(argc, argv); /* before getopt reorders argv: init blanks these strings */
	if (argc < 2) {
		cli_help(NULL);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cli_help(NULL);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("agentcage %s\n", AGENTCAGE_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0)
		return cli_help(argc > 2 ? argv[2] : NULL);
	for (size_t i = 0; i < NELEM(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "agentcage: unknown command '%s'\nhint: agentcage --help lists the commands\n",
		argv[1]);
	return 2;
}
