/* help: `agentcage --help` and `agentcage help CMD`. (placeholder, cli helper owns) */
#include <stdio.h>

#include "cli/cli.h"

int
cli_help(const char *cmd)
{
	(void)cmd;
	printf("usage: agentcage <command> [args]\n");
	return 0;
}
