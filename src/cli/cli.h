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

/* Living with running sandboxes (issue 6; docs/control.md). Each gets argv[0] = its own
 * word ("ps", "stop", "exec", "logs", or "get"/"set"/"suggest" under `policy`). */
int cmd_ps(int argc, char **argv);             /* cmd_ps.c */
int cmd_stop(int argc, char **argv);           /* cmd_stop.c */
int cmd_exec(int argc, char **argv);           /* cmd_exec.c */
int cmd_logs(int argc, char **argv);           /* cmd_logs.c */
int cmd_policy_get(int argc, char **argv);     /* cmd_policy_live.c */
int cmd_policy_set(int argc, char **argv);     /* cmd_policy_live.c */
int cmd_policy_suggest(int argc, char **argv); /* cmd_suggest.c */

/* Prints the help text of <cmd> (NULL = overview) to stdout; 0, or 2 if unknown. */
int cli_help(const char *cmd);

#endif
