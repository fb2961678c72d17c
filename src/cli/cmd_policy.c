/* cmd_policy: placeholder until the policy CLI lands. */
#include <stdio.h>

#include "cli/cli.h"

int
cmd_policy(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "agentcage: policy: not built yet\n");
	return 2;
}
