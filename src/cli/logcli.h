/*
 * cli/logcli: the command-line pieces `agentcage logs` and `agentcage policy suggest`
 * share: the end of their getopt_long() loop, their one NAME|FILE argument, and the
 * message when the log cannot be opened.
 *
 * Context: CLI; messages go to stderr, each with a hint. Errors: exit statuses (2 usage,
 * 1 failure) as the commands return them. Ownership: nothing is allocated.
 */
#ifndef AGENTCAGE_CLI_LOGCLI_H
#define AGENTCAGE_CLI_LOGCLI_H

#include <stddef.h>

#define LOGCLI_EXIT_USAGE 2

/*
 * For getopt_long()'s ':' (missing value) or '?' (unknown option) result <c>, with opterr
 * off: says which option of "agentcage <cmd>" was wrong and where help is (<help_topic>).
 * Returns LOGCLI_EXIT_USAGE.
 */
int logcli_bad_option(const char *cmd, const char *help_topic, int c, int argc, char **argv);

/*
 * After the options: exactly one NAME|FILE must remain; *<target> gets it. Returns 0, or
 * LOGCLI_EXIT_USAGE after a message when none or several remain.
 */
int logcli_one_target(const char *cmd, const char *help_topic, int argc, char **argv,
                      const char **target);

/*
 * logread_resolve() of <target> into <path> of <size> bytes; 0, or LOGCLI_EXIT_USAGE after
 * a message saying what a name may hold.
 */
int logcli_resolve(const char *cmd, const char *target, char *path, size_t size);

/*
 * Reports that the log <path> (from <target>, as typed) cannot be opened or read, from
 * errno: the error, and a hint for a name that has no log yet or for a non-root user.
 * Returns 1.
 */
int logcli_open_error(const char *cmd, const char *path, const char *target);

#endif
