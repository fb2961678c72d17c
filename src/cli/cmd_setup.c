/* cmd_setup: placeholder until the sandbox lands. */
#include <stdio.h>

#include "cli/cli.h"

int
cmd_setup(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "agentcage: setup: not built yet\n");
	return 2;
}
