/* cmd_logs.c: stub until its helper fills it in. */
#include <stdio.h>

#include "cli/cli.h"

int
cmd_logs(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "agentcage: %s: not built yet\n", argv[0]);
	return 1;
}
