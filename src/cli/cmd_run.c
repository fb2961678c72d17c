/* cmd_run: placeholder until the sandbox lands. */
#include <stdio.h>

#include "cli/cli.h"

int
cmd_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "agentcage: run: not built yet\n");
	return 2;
}
