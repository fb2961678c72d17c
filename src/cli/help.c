/*
 * help: `agentcage --help` and `agentcage help CMD`. One text per command, kept short
 * enough for a terminal; docs/agentcage.1 has the long form and must agree with it.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/util.h"

static const char help_overview[] =
        "usage: agentcage <command> [options]\n"
        "\n"
        "Runs an AI coding agent (or any command) in a sandbox governed by one OpenShell-\n"
        "compatible YAML policy: filesystem (Landlock), process identity, seccomp, network.\n"
        "\n"
        "commands:\n"
        "  run [--policy FILE] [-- CMD ARGS...]   start a command (default: a login shell)\n"
        "                                          in a sandbox\n"
        "  setup                                  create the sandbox user and state dirs (once)\n"
        "  policy default                         print the embedded default policy\n"
        "  policy check [--json] FILE...          validate policy files\n"
        "  policy explain --binary PATH --host H --port P [--method M --path P]\n"
        "                                          show what a policy decides, and why\n"
        "  ps [--json]                            list the running sandboxes\n"
        "  exec NAME [--] CMD ARGS...             run CMD inside the running sandbox NAME\n"
        "  stop NAME [--grace SECS]               stop a running sandbox\n"
        "  logs NAME|FILE [-f] [--denied]         a sandbox's log, one line per event\n"
        "  policy get|set NAME [FILE]             print or replace a running sandbox's policy\n"
        "  policy suggest NAME|LOGFILE            a policy allowing what a run needed\n"
        "  help [COMMAND]                         help on one command (run, ps, exec, stop,\n"
        "                                         logs, policy, setup)\n"
        "\n"
        "options:\n"
        "  -h, --help      this text\n"
        "  -V, --version   print the version\n"
        "\n"
        "exit status: 0 ok, 1 failure (or a denial), 2 bad arguments; `run` exits with the\n"
        "command's status. See agentcage(1) and docs/ for more.\n";

static const char help_policy[] =
        "usage: agentcage policy default\n"
        "       agentcage policy check [--json] FILE...\n"
        "       agentcage policy explain [--policy FILE] --binary PATH [--ancestor PATH]...\n"
        "                                --host HOST --port PORT [--method METHOD --path PATH]\n"
        "                                [--json]\n"
        "       agentcage policy get NAME\n"
        "       agentcage policy set NAME FILE\n"
        "       agentcage policy suggest NAME|LOGFILE [--base FILE]\n"
        "\n"
        "default   print the policy `run` uses without --policy, byte for byte; a starting\n"
        "          point for your own: agentcage policy default > my.yaml\n"
        "\n"
        "check     load each FILE strictly, as `run` would. Errors and warnings go to stderr as\n"
        "          FILE:LINE:COL: error|warning: FIELD: MESSAGE; stdout gets one line per file,\n"
        "          \"FILE: ok (N warnings)\" or \"FILE: N errors, N warnings\".\n"
        "          --json: stdout is one JSON array with one object per FILE, in order:\n"
        "          {\"file\",\"valid\",\"errors\":[...],\"warnings\":[...]}, each item\n"
        "          {\"file\",\"line\",\"col\",\"field\",\"message\"}.\n"
        "          exit 0 when every FILE is valid, 1 otherwise, 2 on bad arguments.\n"
        "\n"
        "explain   what the policy (default: the embedded one) decides for BINARY connecting to\n"
        "          HOST:PORT, or, with --method and --path, for that HTTP request; and why.\n"
        "  --policy FILE     the policy to ask (default: the embedded default policy)\n"
        "  --binary PATH     the executable that connects, as /proc/PID/exe shows it\n"
        "                    (symlinks resolved: /usr/bin/python3 is /usr/bin/python3.11)\n"
        "  --ancestor PATH   an ancestor's executable, parent first; repeat for each level\n"
        "  --host HOST       destination host name or IP address\n"
        "  --port PORT       destination port, 1-65535\n"
        "  --method METHOD   HTTP method (needs --path)\n"
        "  --path PATH       HTTP request target, query included, e.g. /user/repos?x=1\n"
        "  --json            one JSON object: decision (allow|deny), audit, block, reason, ...\n"
        "          An audit-only violation is \"allow\" with audit true (enforcement: audit\n"
        "          logs but does not block).\n"
        "          exit 0 allow, 1 deny, 2 bad arguments or a policy that does not load.\n"
        "\n"
        "get       the running sandbox NAME's policy in force, as YAML that `policy set`\n"
        "          accepts unchanged (normalised: comments and key order are not kept)\n"
        "\n"
        "set       validate FILE (as `check`), then load it into the running sandbox NAME as\n"
        "          a new generation: new connections and every new request on kept-alive\n"
        "          inspected streams use it, open tunnels it denies are closed. Only\n"
        "          network_policies and middlewares may change: a different\n"
        "          filesystem_policy, landlock or process is refused, naming each field.\n"
        "          exit 0 loaded, 1 refused (the running policy is unchanged).\n"
        "          SIGHUP to `agentcage run` reloads its --policy FILE the same way.\n"
        "\n"
        "suggest   a complete policy allowing what the last run was denied, or would have\n"
        "          been with `run --learn`: the base (--base FILE, else the policy the run\n"
        "          started with) plus added blocks, each with comments naming the\n"
        "          observations behind it; loaded once more before printing.\n"
        "          e.g. agentcage policy suggest NAME > p.yaml\n"
        "\n"
        "examples:\n"
        "  agentcage policy check policies/*.yaml\n"
        "  agentcage policy explain --binary /usr/bin/gh --host api.github.com --port 443 \\\n"
        "      --method POST --path /user/repos\n";

static const char help_run[] =
        "usage: agentcage run [--policy FILE] [--name NAME] [--workdir DIR] [--home DIR]\n"
        "                     [--env KEY=VALUE]... [--timeout SECS] [--log FILE]\n"
        "                     [--hosts FILE] [--upstream-ca FILE] [--learn]\n"
        "                     [-- CMD ARGS...]\n"
        "\n"
        "Starts CMD (default: an interactive login shell, when stdin is a terminal) in a new\n"
        "sandbox: mount, pid, net, ipc, uts and cgroup namespaces; Landlock from the policy's\n"
        "filesystem_policy; the policy's run_as_user/run_as_group; a seccomp filter. The\n"
        "network namespace holds only lo; the one way out is agentcage's egress proxy at\n"
        "http://127.0.0.1:3128 (HTTP_PROXY etc. are set; no SOCKS), which lets a binary\n"
        "reach host:port only when one policy block lists both. Must run as root.\n"
        "\n"
        "  --policy FILE     policy to apply (default: the embedded default policy)\n"
        "  --name NAME       sandbox name: hostname, state and log names (default: derived\n"
        "                    from the working directory)\n"
        "  --workdir DIR     working directory, read-write when include_workdir is true\n"
        "                    (default: the current directory)\n"
        "  --home DIR        host directory mounted at /sandbox, the sandbox's HOME\n"
        "                    (default: /var/lib/agentcage/NAME/home)\n"
        "  --env KEY=VALUE   add a variable to the command's environment; repeatable\n"
        "  --timeout SECS    stop the command after SECS seconds (SIGTERM, then SIGKILL\n"
        "                    2 s later); exit status 124\n"
        "  --log FILE        lifecycle log, one JSON line per event and per proxied\n"
        "                    connection (default: /var/log/agentcage/NAME.jsonl)\n"
        "  --hosts FILE      names the proxy resolves from FILE (hosts(5) format) before\n"
        "                    asking DNS; errors are reported as FILE:LINE\n"
        "  --upstream-ca FILE  extra CA certificate(s), PEM, the proxy trusts besides the\n"
        "                    system store when it opens TLS to origins for endpoints it\n"
        "                    terminates (a private registry); checked at start (exit 2)\n"
        "  --learn           learn mode: what the policy denies is let through and logged\n"
        "                    as \"learn\"; `agentcage policy suggest NAME` then writes the\n"
        "                    policy that allows it. Loopback, link-local and metadata\n"
        "                    addresses, control-plane ports, unknown callers and changed\n"
        "                    binaries stay refused. Filesystem accesses are not learned.\n"
        "\n"
        "While it runs: `agentcage ps`, `exec NAME`, `stop NAME`, `logs NAME`, `policy get|set\n"
        "NAME` (control socket /run/agentcage/NAME.sock, root only); one sandbox per name.\n"
        "\n"
        "TLS: when the policy has endpoints the proxy terminates (protocol: rest, tls not\n"
        "skip; the default policy has), the sandbox gets a fresh CA of its own; inside,\n"
        "/run/agentcage/ca.crt is its certificate and /run/agentcage/ca-bundle.crt the\n"
        "system bundle plus it, mounted read-only over /etc/ssl/certs/ca-certificates.crt;\n"
        "SSL_CERT_FILE, CURL_CA_BUNDLE, REQUESTS_CA_BUNDLE, GIT_SSL_CAINFO and PIP_CERT\n"
        "name the bundle, NODE_EXTRA_CA_CERTS the CA (these override --env).\n"
        "\n"
        "exit status: the command's; 128+N if signal N killed it; 124 after --timeout;\n"
        "125 if the sandbox could not be built; 126 if CMD could not be executed, 127 if\n"
        "it was not found; 1 or 2 for errors before the sandbox was started.\n"
        "\n"
        "examples:\n"
        "  agentcage run                                   # a shell on the default policy\n"
        "  agentcage run --policy policies/codex.yaml -- codex\n";

static const char help_setup[] =
        "usage: agentcage setup\n"
        "\n"
        "Creates, once, what `agentcage run` needs on this host: the `sandbox` system group and\n"
        "user that the default policy runs as (home /sandbox, shell /bin/bash, no password),\n"
        "/var/lib/agentcage (per-sandbox homes) and /var/log/agentcage (lifecycle logs).\n"
        "Idempotent: what exists is kept. Must run as root. Exit 0, or 1 with what failed.\n";

static const char help_ps[] =
        "usage: agentcage ps [--json]\n"
        "\n"
        "Lists the running sandboxes: NAME PID UPTIME GEN CONNS ALLOWED DENIED POLICY COMMAND\n"
        "(PID: the supervisor, `agentcage run`; GEN: the policy generation; CONNS: proxied\n"
        "connections open now; POLICY: the start of the policy's SHA-256). State left by a\n"
        "sandbox that died is removed on the way. --json: an array of status objects (with\n"
        "uptime_s); [] when none run. Must run as root.\n";

static const char help_exec[] =
        "usage: agentcage exec NAME [--] CMD [ARGS...]\n"
        "\n"
        "Runs CMD inside the running sandbox NAME with exactly its command's confinement:\n"
        "namespaces, Landlock, user and groups, no_new_privs, seccomp, environment, working\n"
        "directory; the proxy identifies it like any other process of the sandbox. On a\n"
        "terminal it gets a PTY of its own (keys and window size pass through); otherwise\n"
        "stdin, stdout and stderr are passed as they are, and SIGINT, SIGTERM, SIGHUP and\n"
        "SIGQUIT are forwarded. Exit status: CMD's (128+N if signal N killed it, 137 when\n"
        "the sandbox ended first); 1 if it could not be started.\n";

static const char help_stop[] =
        "usage: agentcage stop NAME [--grace SECS]\n"
        "\n"
        "SIGTERM to the sandbox NAME's command and to every process started by exec,\n"
        "SIGKILL to the whole sandbox SECS later (default 10, at most 3600); returns when\n"
        "the sandbox is gone. Exit 0 stopped, 1 if there is no such sandbox or it could not\n"
        "be stopped.\n";

static const char help_logs[] =
        "usage: agentcage logs NAME|FILE [-f] [--all] [--denied] [--since WHEN] [--json]\n"
        "\n"
        "The sandbox's log (/var/log/agentcage/NAME.jsonl; an argument with a '/' is a\n"
        "file), the last run unless --all, one line per event:\n"
        "  TIME NET|HTTP ALLOWED|DENIED|LEARN|AUDIT BIN(PID) -> HOST:PORT|METHOD HOST/PATH\n"
        "       [policy:BLOCK gen:N] REASON|TRAFFIC\n"
        "  TIME START|EXIT|EXEC|EXEC_EXIT|POLICY NAME pid:PID key:value... [-- COMMAND]\n"
        "  -f            follow new lines until the run's exit line or Ctrl-C (waits for a\n"
        "                log that does not exist yet)\n"
        "  --denied      denials and would-be denials (learn) only\n"
        "  --since WHEN  30s, 10m, 2h, 1d, or an ISO-8601 time (UTC unless it has a zone)\n"
        "  --json        the selected lines exactly as written\n";

static const struct {
	const char *name;
	const char *text;
} help_texts[] = {
        {"exec", help_exec},
        {"logs", help_logs},
        {"ps", help_ps},
        {"stop", help_stop},
        {"policy", help_policy},
        {"run", help_run},
        {"setup", help_setup},
        {"help", help_overview},
};

int
cli_help(const char *cmd)
{
	if (cmd == NULL) {
		fputs(help_overview, stdout);
		return 0;
	}
	for (size_t i = 0; i < NELEM(help_texts); i++)
		if (strcmp(cmd, help_texts[i].name) == 0) {
			fputs(help_texts[i].text, stdout);
			return 0;
		}
	fprintf(stderr, "agentcage: help: no command '%s'\nhint: agentcage help policy|run|setup\n",
	        cmd);
	return 2;
}
