/* cli/logcli: shared command-line pieces of the log commands (contract in logcli.h). */
#include "cli/logcli.h"

#include <getopt.h>

#include "cli/logread.h"
#include "ctl/proto.h"
#include "util/util.h"

int
logcli_bad_option(const char *cmd, const char *help_topic, int c, int argc, char **argv)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";

	if (c == ':')
		fprintf(stderr, "agentcage: %s: option '%s' needs a value\n", cmd, arg);
	else
		fprintf(stderr, "agentcage: %s: unknown option '%s'\n", cmd, arg);
	fprintf(stderr, "hint: agentcage help %s\n", help_topic);
	return LOGCLI_EXIT_USAGE;
}

int
logcli_one_target(const char *cmd, const char *help_topic, int argc, char **argv,
                  const char **target)
{
	if (optind == argc - 1) {
		*target = argv[optind];
		return 0;
	}
	fprintf(stderr, "agentcage: %s: %s\nhint: agentcage help %s\n", cmd,
	        optind >= argc ? "which sandbox? give NAME or a log FILE"
	                       : "one sandbox or log at a time",
	        help_topic);
	return LOGCLI_EXIT_USAGE;
}

int
logcli_resolve(const char *cmd, const char *target, char *path, size_t size)
{
	if (logread_resolve(target, path, size) == 0)
		return 0;
	if (errno == ENAMETOOLONG)
		fprintf(stderr, "agentcage: %s: '%.64s...': path too long\n", cmd, target);
	else
		fprintf(stderr,
		        "agentcage: %s: '%s': not a sandbox name\nhint: a name is 1..%d letters, "
		        "digits, '.', '_' or '-', starting with a letter or digit; give a log "
		        "file as a path with a '/' (./x.jsonl)\n",
		        cmd, target, CTL_NAME_MAX);
	return LOGCLI_EXIT_USAGE;
}

int
logcli_open_error(const char *cmd, const char *path, const char *target)
{
	const int err = errno;

	fprintf(stderr, "agentcage: %s: %s: %s\n", cmd, path, strerror(err));
	if (err == ENOENT && strchr(target, '/') == NULL)
		fprintf(stderr,
		        "hint: '%s' is taken as a sandbox name (agentcage run --name); give a path "
		        "with a '/' for any other log file\n",
		        target);
	else if (err == EACCES)
		fprintf(stderr, "hint: sandbox logs are readable by root only; run with sudo\n");
	return 1;
}
