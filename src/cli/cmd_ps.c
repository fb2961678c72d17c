/*
 * cmd_ps: `agentcage ps [--json] [--run-dir DIR]` — the running sandboxes (docs/control.md).
 *
 * Lists the live state files (ctl/state.h: stale ones are removed on the way), asks each
 * sandbox for its STATUS and prints a table, or with --json an array of the status objects,
 * each with "uptime_s" added. A sandbox that does not answer (still starting, or busy) is
 * shown from its state file with "-" in the columns only it knows.
 *
 * Context: CLI; returns the exit status (0, 1 failure, 2 usage).
 */
#include <getopt.h>
#include <jansson.h>
#include <time.h>

#include "cli/cli.h"
#include "ctl/client.h"
#include "ctl/state.h"
#include "util/sbuf.h"
#include "util/util.h"

#define PS_HASH_SHORT 12 /* hex digits of the policy hash shown in the table */

/* Formats <secs> as the largest two units: "3d04h", "2h05m", "5m12s", "42s". */
static void
fmt_uptime(char *buf, size_t size, long long secs)
{
	if (secs < 0)
		secs = 0;
	if (secs >= 86400)
		ut_snprintf(buf, size, "%lldd%02lldh", secs / 86400, secs % 86400 / 3600);
	else if (secs >= 3600)
		ut_snprintf(buf, size, "%lldh%02lldm", secs / 3600, secs % 3600 / 60);
	else if (secs >= 60)
		ut_snprintf(buf, size, "%lldm%02llds", secs / 60, secs % 60);
	else
		ut_snprintf(buf, size, "%llds", secs);
}

/* STATUS of <name> as text, or NULL when it does not answer (the reason goes to debug). */
static char *
ask_status(const char *run_dir, const char *name)
{
	struct sbuf err = {0};
	char *reply = NULL;
	int fd = ctl_connect(run_dir, name, &err);

	if (fd != -1 && ctl_call(fd, CTL_STATUS, NULL, 0, &reply, &err) == -1)
		reply = NULL;
	if (reply == NULL)
		log_debug("%s: %s: %s", __func__, name, sbuf_str(&err));
	ut_close(&fd);
	sbuf_free(&err);
	return reply;
}

/* The status object of entry <e>: the sandbox's answer, else its state file; NULL if
 * neither parses as a JSON object. Its text goes to *<text> (caller frees). */
static json_t *
status_of(const char *run_dir, const struct ctl_entry *e, char **text)
{
	json_t *o;

	*text = ask_status(run_dir, e->name);
	if (*text == NULL)
		*text = ut_xstrdup(e->state_json);
	o = json_loads(*text, 0, NULL);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* Prints status object <text> with "uptime_s" added before its closing brace. */
static void
print_json(const char *text, long long uptime, bool first)
{
	size_t len = strlen(text);

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	len--; /* the '}': json_loads() accepted the text as one object */
	printf("%s%.*s%s\"uptime_s\":%lld}", first ? "" : ",", (int)len, text, len > 1 ? "," : "",
	       uptime);
}

/* A number member as text, "-" when absent. */
static const char *
num_col(const json_t *o, const char *key, char *buf, size_t size)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return "-";
	ut_snprintf(buf, size, "%lld", (long long)json_integer_value(v));
	return buf;
}

static void
print_row(const json_t *o, long long uptime)
{
	char pid[24], gen[24], conns[24], allowed[24], denied[24], up[32], hash[PS_HASH_SHORT + 1];
	const char *h = json_string_value(json_object_get(o, "policy_sha256"));
	const json_t *argv = json_object_get(o, "argv");
	struct sbuf cmd = {0};
	size_t i;
	json_t *a;

	fmt_uptime(up, sizeof(up), uptime);
	ut_strlcpy(hash, h != NULL ? h : "-", sizeof(hash));
	json_array_foreach(argv, i, a)
	{
		if (i > 0)
			sbuf_putc(&cmd, ' ');
		sbuf_puts(&cmd, json_string_value(a) != NULL ? json_string_value(a) : "?");
	}
	printf("%-16s %7s %7s %4s %6s %8s %7s %-12s %s\n",
	       json_string_value(json_object_get(o, "name")) ?: "?",
	       num_col(o, "pid", pid, sizeof(pid)), up, num_col(o, "generation", gen, sizeof(gen)),
	       num_col(o, "connections_open", conns, sizeof(conns)),
	       num_col(o, "allowed", allowed, sizeof(allowed)),
	       num_col(o, "denied", denied, sizeof(denied)), hash, sbuf_str(&cmd));
	sbuf_free(&cmd);
}

static int
ps_usage(const char *what)
{
	fprintf(stderr, "agentcage: ps: %s\nhint: agentcage help ps\n", what);
	return 2;
}

int
cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"json", no_argument, NULL, 'j'},
	        {"run-dir", required_argument, NULL, 'r'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *run_dir = CTL_RUN_DIR;
	struct ctl_entry *e = NULL;
	bool json = false;
	size_t n = 0;
	int c;

	optind = 0; /* 0: glibc re-initialises getopt fully (tests run several commands) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:jh", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'r')
			run_dir = optarg;
		else if (c == 'h')
			return cli_help("ps");
		else
			return ps_usage("unknown option or missing value");
	}
	if (optind < argc)
		return ps_usage("unexpected argument");
	if (ctl_list(run_dir, &e, &n) == -1) {
		fprintf(stderr, "agentcage: ps: %s: %s%s\n", run_dir, strerror(errno),
		        errno == EACCES || errno == EPERM ? "; hint: run as root" : "");
		return 1;
	}
	if (json)
		putchar('[');
	else
		printf("%-16s %7s %7s %4s %6s %8s %7s %-12s %s\n", "NAME", "PID", "UPTIME", "GEN",
		       "CONNS", "ALLOWED", "DENIED", "POLICY", "COMMAND");
	for (size_t i = 0, shown = 0; i < n; i++) {
		char *text = NULL;
		json_t *o = status_of(run_dir, &e[i], &text);
		long long up = time(NULL) - json_integer_value(json_object_get(o, "started"));
		if (o != NULL && json)
			print_json(text, up, shown++ == 0);
		else if (o != NULL)
			print_row(o, up);
		json_decref(o);
		free(text);
		text = NULL;
	}
	if (json)
		puts("]");
	ctl_list_free(e, n);
	return fflush(stdout) == 0 ? 0 : 1;
}
