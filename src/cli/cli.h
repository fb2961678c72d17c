/*
 * cli: the `agentcage` command line. main.c dispatches to one cmd_*() per sub-command;
 * each returns the process exit status (0 ok, 1 failure/deny, 2 bad arguments) and may
 * call fatal() — cli/ is the only part that exits.
 */
#ifndef AGENTCAGE_CLI_H
#define AGENTCAGE_CLI_H

/* `agentcage policy default|check|explain ...` (cmd_policy.c) */
int cmd_policy(int argc, char **argv);
/* `agentcage run ...` (cmd_run.c) */
int cmd_run(int argc, char **argv);
/* `agentcage setup` (cmd_setup.c) */
int cmd_setup(int argc, char **argv);

/* Prints the help text of <cmd> (NULL = overview) to stdout; 0, or 2 if unknown. */
int cli_help(const char *cmd);

#endif
