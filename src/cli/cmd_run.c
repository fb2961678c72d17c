/*
 * cmd_run: `agentcage run` — load the policy, prepare every confinement step that needs
 * the host's view or may allocate (identity, environment, home, log, PTY), clone the
 * sandbox (sandbox/spawn.h), create the sandbox's TLS CA (its key stays in this process)
 * and compile the seccomp filter while init builds the mounts and hand both over, and
 * supervise the sandbox until the command exits (sandbox/supervise.h).
 * Exit status: the command's; 128+N if signal N killed it; 124
 * after --timeout; 125 when the sandbox could not be built; 1/2 for errors found before.
 */
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "policy/engine.h"
#include "policy/load.h"
#include "proxy/hostsfile.h"
#include "proxy/proxy.h"
#include "proxy/topology.h"
#include "sandbox/env.h"
#include "sandbox/identity.h"
#include "sandbox/lifelog.h"
#include "sandbox/pty.h"
#include "sandbox/seccomp.h"
#include "sandbox/spawn.h"
#include "sandbox/supervise.h"
#include "sandbox/tlstrust.h"
#include "tls/ca.h"
#include "tls/upstream.h"
#include "util/evloop.h"
#include "util/util.h"

#include "cli/run_int.h"
#include "ctl/proto.h"

static void
run_usage(FILE *f)
{
	fprintf(f, "usage: agentcage run [--policy FILE] [--name NAME] [--workdir DIR] [--home DIR]\n"
		   "                     [--env KEY=VALUE]... [--timeout SECS] [--log FILE]\n"
		   "                     [--hosts FILE] [--upstream-ca FILE] [--learn]\n"
		   "                     [-- COMMAND [ARGS...]]\n");
}

/* 0, or 2 after printing why (bad usage). */
static int
run_parse(int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' }, { "name", required_argument, NULL, 'n' },
		{ "workdir", required_argument, NULL, 'w' }, { "home", required_argument, NULL, 'H' },
		{ "env", required_argument, NULL, 'e' },     { "timeout", required_argument, NULL, 't' },
		{ "log", required_argument, NULL, 'l' },     { "help", no_argument, NULL, 'h' },
		{ "hosts", required_argument, NULL, 'S' },
		{ "upstream-ca", required_argument, NULL, 'U' },
		{ "learn", no_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	const char *errstr;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:n:w:H:e:t:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': o->policy_path = optarg; break;
		case 'n': o->name = optarg; break;
		case 'w': o->workdir = optarg; break;
		case 'H': o->home = optarg; break;
		case 'l': o->log_path = optarg; break;
		case 'S': o->hosts_path = optarg; break;
		case 'U': o->upstream_ca = optarg; break;
		case 'L': o->learn = true; break;
		case 'e':
			if (o->nenv == RUN_MAX_ENV_ARG) {
				fprintf(stderr, "agentcage: run: more than %d --env options\n", RUN_MAX_ENV_ARG);
				return 2;
			}
			o->env[o->nenv++] = optarg;
			break;
		case 't':
			o->timeout_s = (long)ut_strtonum(optarg, 1, RUN_TIMEOUT_MAX, &errstr);
			if (errstr != NULL) {
				fprintf(stderr, "agentcage: run: --timeout %s: %s\nhint: whole seconds, at least 1\n",
					optarg, errstr);
				return 2;
			}
			break;
		case 'h': run_usage(stdout); exit(0);
		default: run_usage(stderr); return 2;
		}
	}
	o->argv = argv + optind;
	return 0;
}

/* The control plane's rule (ctl_name_check: it names files under /run/agentcage, and a
 * leading '-' would read as an option to `agentcage stop`), within RUN_NAME_MAX: the
 * name is also the hostname and a directory name. */
static bool
run_name_valid(const char *s)
{
	return strlen(s) <= RUN_NAME_MAX && ctl_name_check(s) == 0;
}

/* Default name: the workdir's last component, with other bytes turned into '-'. The
 * same project gets the same name, hence the same persistent home. */
static void
run_derive_name(const char *workdir, char *name, size_t size)
{
	const char *base = strrchr(workdir, '/');
	size_t j = 0;

	base = base && base[1] ? base + 1 : "root";
	for (; *base && j + 1 < size; base++) {
		char c = *base;
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (j == 0 && !alnum)
			continue; /* a name starts with a letter or digit (run_name_valid) */
		name[j++] = alnum || c == '_' || c == '.' || c == '-' ? c : '-';
	}
	name[j] = '\0';
	if (j == 0)
		ut_strlcpy(name, "agentcage", size);
}

static int
run_load_policy(struct run_ctx *r)
{
	struct diag d = { 0 };
	int rc = r->o.policy_path ? policy_load_file(r->o.policy_path, &d, &r->pol)
				  : policy_load_default(&d, &r->pol);

	/* The embedded default's own deprecation warnings are not the user's to fix: only
	 * a --policy file gets its warnings shown (errors are always shown). */
	if (d.nerrors > 0 || (r->o.policy_path != NULL && d.n > 0))
		diag_print(&d, stderr);
	diag_free(&d);
	if (rc == -1)
		fprintf(stderr, "agentcage: run: the policy has errors; nothing was started\n"
				"hint: agentcage policy check %s\n",
			r->o.policy_path ? r->o.policy_path : "");
	return rc;
}

/*
 * A working directory that is, or lies under, one of these would give the sandbox that
 * tree read-write through include_workdir (the loader refuses `read_write: /` for the
 * same reason): the host's root, kernel interfaces, agentcage's own state.
 */
static const char *const run_workdir_forbidden[] = {
	"/proc", "/sys", "/dev", "/run", "/var/lib/agentcage", "/var/log/agentcage", "/boot",
};

static bool
run_path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* 0 when <wd> (a realpath) may be the sandbox's working directory; else says why. */
static int
run_workdir_allowed(const struct run_ctx *r, const char *wd)
{
	const char *bad = NULL;

	if (!r->pol->include_workdir)
		return 0; /* not granted anything: only the cwd */
	if (strcmp(wd, "/") == 0)
		bad = "/";
	for (size_t i = 0; bad == NULL && i < NELEM(run_workdir_forbidden); i++)
		if (run_path_under(wd, run_workdir_forbidden[i]))
			bad = run_workdir_forbidden[i];
	if (bad == NULL)
		return 0;
	fprintf(stderr,
		"agentcage: run: workdir %s: the policy's include_workdir would make %s%s "
		"writable in the sandbox; refused\nhint: run from a project directory, or pass "
		"--workdir DIR\n",
		wd, strcmp(bad, "/") == 0 ? "the whole host filesystem" : bad,
		strcmp(bad, "/") == 0 ? "" : " (or part of it)");
	return -1;
}

static int
run_resolve_paths(struct run_ctx *r)
{
	const char *wd = r->o.workdir ? r->o.workdir : ".";
	struct stat st;

	if (realpath(wd, r->workdir) == NULL || stat(r->workdir, &st) == -1) {
		fprintf(stderr, "agentcage: run: workdir %s: %s\n", wd, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "agentcage: run: workdir %s: not a directory\n", r->workdir);
		return -1;
	}
	if (run_workdir_allowed(r, r->workdir) == -1)
		return -1;
	if (r->o.name != NULL) {
		if (!run_name_valid(r->o.name)) {
			fprintf(stderr, "agentcage: run: --name '%s': invalid\nhint: 1-%d of "
					"[a-zA-Z0-9_.-], starting with a letter or digit\n",
				r->o.name, RUN_NAME_MAX);
			return -1;
		}
		ut_strlcpy(r->name, r->o.name, sizeof(r->name));
	} else {
		run_derive_name(r->workdir, r->name, sizeof(r->name));
	}
	if (ut_snprintf(r->log_path, sizeof(r->log_path), "%s",
			r->o.log_path ? r->o.log_path : LIFELOG_DIR "/") == -1 ||
	    (r->o.log_path == NULL &&
	     ut_snprintf(r->log_path, sizeof(r->log_path), LIFELOG_DIR "/%s.jsonl", r->name) == -1)) {
		fprintf(stderr, "agentcage: run: --log: path too long\n");
		return -1;
	}
	return 0;
}

static int
run_resolve_identity(struct run_ctx *r)
{
	const char *user = r->pol->run_as_user ? r->pol->run_as_user : "sandbox";
	const char *group = r->pol->run_as_group ? r->pol->run_as_group : "sandbox";
	char err[RUN_ERR_LEN];

	if (identity_resolve(user, group, &r->id, err, sizeof(err)) == -1) {
		fprintf(stderr, "agentcage: run: %s\n", err);
		if (strstr(err, "agentcage setup") == NULL &&
		    (strcmp(user, "sandbox") == 0 || strcmp(group, "sandbox") == 0))
			fprintf(stderr, "hint: run `agentcage setup` to create the sandbox user and group\n");
		return -1;
	}
	r->have_id = true;
	ut_strlcpy(r->shell, r->id.shell[0] == '/' ? r->id.shell : "/bin/bash", sizeof(r->shell));
	ut_strlcpy(r->user, r->id.name, sizeof(r->user));
	return 0;
}

/* mkdir <path> <mode> unless it exists; refuses a symlink or non-directory. *<made> tells. */
static int
run_mkdir(const char *path, mode_t mode, bool *made)
{
	struct stat st;

	*made = false;
	if (mkdir(path, mode) == 0) {
		*made = true;
		return 0;
	}
	if (errno != EEXIST)
		return -1;
	if (lstat(path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* The persistent home: default /var/lib/agentcage/NAME/home, 0700, owned by the sandbox
 * user (a directory we create only; an existing --home keeps its owner). */
static int
run_prepare_home(struct run_ctx *r)
{
	char dir[PATH_MAX];
	bool made;

	if (r->o.home != NULL) {
		if (r->o.home[0] != '/') {
			fprintf(stderr, "agentcage: run: --home %s: not an absolute path\n", r->o.home);
			return -1;
		}
		ut_strlcpy(r->home, r->o.home, sizeof(r->home));
	} else {
		if (ut_snprintf(dir, sizeof(dir), RUN_STATE_DIR "/%s", r->name) == -1 ||
		    ut_snprintf(r->home, sizeof(r->home), "%s/home", dir) == -1)
			return -1;
		if (run_mkdir(RUN_STATE_DIR, 0755, &made) == -1 || run_mkdir(dir, 0700, &made) == -1) {
			fprintf(stderr, "agentcage: run: creating %s: %s\nhint: run `agentcage setup` as root\n",
				dir, strerror(errno));
			return -1;
		}
	}
	if (run_mkdir(r->home, 0700, &made) == -1) {
		fprintf(stderr, "agentcage: run: home %s: %s\n", r->home, strerror(errno));
		return -1;
	}
	if (made && chown(r->home, r->id.uid, r->id.gid) == -1) {
		fprintf(stderr, "agentcage: run: chown %s: %s\n", r->home, strerror(errno));
		return -1;
	}
	return 0;
}

static int
run_prepare_exec(struct run_ctx *r)
{
	char err[RUN_ERR_LEN];
	extern char **environ;
	struct env_params ep = {
		.name = r->name, .user = r->user, .shell = r->shell, .tty = r->tty, .extra = r->o.env,
		.ca = r->tls,
	};

	if (r->o.argv[0] == NULL) {
		if (!r->tty) {
			fprintf(stderr, "agentcage: run: no command given and stdin is not a terminal\n"
					"hint: agentcage run -- COMMAND [ARGS...]\n");
			return -1;
		}
		r->shell_argv[0] = r->shell; /* an interactive login shell */
		r->shell_argv[1] = "-l";
		r->o.argv = r->shell_argv;
	}
	if (env_build(&r->env, environ, &ep, err, sizeof(err)) == -1) {
		fprintf(stderr, "agentcage: run: %s\n", err);
		return -1;
	}
	return 0;
}

/* Before a lifecycle line: the proxy's held-back decision lines, which happened first. */
static void
run_log_in_order(void *arg)
{
	struct run_ctx *r = arg;

	proxy_flush_log(r->px);
}

static int
run_open_log(struct run_ctx *r)
{
	if (lifelog_open(&r->log, r->log_path, r->o.log_path == NULL) == -1) {
		fprintf(stderr, "agentcage: run: log %s: %s\nhint: --log FILE picks another file\n",
			r->log_path, strerror(errno));
		return -1;
	}
	r->log.before_write = run_log_in_order;
	r->log.before_arg = r;
	return 0;
}

static void
run_on_ready(void *arg, const char *landlock_json)
{
	struct run_ctx *r = arg;
	gid_t groups[NGROUPS_BOUND];
	size_t ng = 0;
	struct lifelog_start s = {
		.name = r->name, .pid = getpid(), .init_pid = r->init_pid,
		.policy_source = r->pol->source, .policy_sha256 = r->pol->sha256,
		.workdir = r->workdir, .home = r->home, .argv = r->o.argv, .tty = r->tty,
		.landlock_json = landlock_json, .seccomp = true,
		.uid = r->id.uid, .gid = r->id.gid, .groups = groups,
	};

	for (size_t i = 0; i < r->id.ngroups && ng < NELEM(groups); i++)
		groups[ng++] = r->id.groups[i];
	s.ngroups = ng;
	if (lifelog_write_start(&r->log, &s) == -1)
		log_warn("writing the start line to %s", r->log_path);
	/* Raw mode only now: init's set-up warnings (written before READY) still get the
	 * terminal's newline translation. */
	if (r->tty && pty_raw_enter(STDIN_FILENO) == -1)
		log_warn("raw mode on the terminal");
	else if (r->tty)
		r->raw_tty = true;
}

/* The proxy's pieces that can fail on the user's input: --hosts, the compiled policy. */
static int
run_prepare_proxy(struct run_ctx *r)
{
	char err[RUN_ERR_LEN];

	if (r->o.hosts_path != NULL && hosts_load(&r->hosts, r->o.hosts_path, err, sizeof(err)) == -1) {
		fprintf(stderr, "agentcage: run: --hosts %s\n", err);
		return -1;
	}
	if ((r->eng = engine_new(r->pol)) == NULL) {
		fprintf(stderr, "agentcage: run: compiling the policy: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * --upstream-ca FILE, checked before anything is started: the extra CA(s) the proxy
 * trusts towards origins. Returns 0, or 2 (a usage error) after saying what is wrong with
 * the file. The context holds no secret, so it is made before the clone; without the
 * option it is made after it (run_prepare_tls), in parallel with init's mounts.
 */
static int
run_check_upstream_ca(struct run_ctx *r)
{
	char err[RUN_ERR_LEN];

	if (r->o.upstream_ca == NULL)
		return 0;
	if (tls_upstream_new(&r->upstream, r->o.upstream_ca, err, sizeof(err)) == -1) {
		fprintf(stderr, "agentcage: run: --upstream-ca %s: %s\n", r->o.upstream_ca, err);
		if (strstr(err, "hint:") == NULL)
			fprintf(stderr, "hint: --upstream-ca takes a readable PEM file with one or more "
					"CERTIFICATE blocks (the CA of a private registry)\n");
		return 2;
	}
	return 0;
}

/*
 * After the clone, before the proxy: the sandbox's CA (its private key only ever in this
 * process), its certificate sent to init, which installs it once its mounts are built;
 * then the TLS client context the proxy dials origins with. A policy that terminates
 * nothing gets neither (init is told "no CA"). 0, or -1 after printing why (the caller
 * stops the sandbox: fail closed).
 */
static int
run_prepare_tls(struct run_ctx *r, int fd)
{
	char err[RUN_ERR_LEN];

	if (!r->tls) {
		if (tlstrust_send(fd, NULL) == -1 && errno != EPIPE)
			goto err_send;
		return 0;
	}
	if (tls_ca_new(&r->ca, r->name, err, sizeof(err)) == -1) {
		fprintf(stderr, "agentcage: run: creating the sandbox's TLS CA: %s\nhint: the "
				"policy has endpoints whose TLS the proxy terminates (protocol: rest); "
				"the sandbox was not started\n", err);
		return -1;
	}
	if (tlstrust_send(fd, tls_ca_cert_pem(r->ca)) == -1) {
		if (errno == EPIPE)
			return -1; /* init died first and said why */
		goto err_send;
	}
	if (r->upstream == NULL && tls_upstream_new(&r->upstream, NULL, err, sizeof(err)) == -1) {
		fprintf(stderr, "agentcage: run: the proxy's TLS client: %s\nhint: the sandbox was "
				"not started\n", err);
		return -1;
	}
	return 0;
err_send:
	fprintf(stderr, "agentcage: run: sending the CA certificate to the sandbox: %s\n",
		strerror(errno));
	return -1;
}

/* init's connect-notify listener: the proxy answers it. A proxy that cannot take it
 * would leave every connect() of the sandbox waiting: stop the sandbox instead. */
static void
run_on_watch(void *arg, int notify_fd)
{
	struct run_ctx *r = arg;

	if (r->px == NULL || proxy_watch(r->px, notify_fd) == -1) {
		if (r->px == NULL)
			close(notify_fd);
		log_warn("the proxy cannot serve the sandbox's connect notifications");
		kill(r->init_pid, SIGKILL);
	}
}

/* The proxy cannot go on: fail closed, the sandbox must not outlive it. */
static void
run_proxy_fatal(void *arg, const char *why)
{
	struct run_ctx *r = arg;

	r->proxy_failed = true;
	ut_strlcpy(r->proxy_why, why, sizeof(r->proxy_why));
	kill(r->init_pid, SIGKILL); /* the supervisor's loop ends when init is reaped */
}

/* After the clone: back to the host namespace, then the proxy on <loop>. 0, or -1 after
 * printing why (the caller kills init). */
static int
run_start_proxy(struct run_ctx *r, struct topo *t, struct evloop *loop, struct proxy **px)
{
	char err[RUN_ERR_LEN], root[64];
	struct proxy_config pc = {
		.engine = r->eng, .hosts = &r->hosts, .log_fd = r->log.fd, .err_fd = STDERR_FILENO,
		.sandbox = r->name, .raw_tty = &r->raw_tty, .netns_fd = t->sandbox_ns,
		.root_pid = r->init_pid, .ca = r->ca, .upstream = r->upstream, .learn = r->o.learn,
	};

	/* Policy binaries that are symlinks match what they name in the sandbox's root. */
	snprintf(root, sizeof(root), "/proc/%d/root", (int)r->init_pid);
	if (engine_set_root(r->eng, root) == -1)
		log_warn("policy binaries that are symlinks will only match as written");
	if (proxy_new(px, &pc, &t->l, err, sizeof(err)) == -1 ||
	    proxy_start(*px, loop, run_proxy_fatal, r, err, sizeof(err)) == -1) {
		fprintf(stderr, "agentcage: run: %s\nhint: the sandbox was not started: its only "
				"way out, the egress proxy, could not run\n", err);
		return -1;
	}
	return 0;
}

static long long
run_elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000LL + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Compiles the seccomp filter and sends it to init. On failure init reads end of file
 * and exits without starting the command; only a compile error is ours to report (EPIPE
 * means init already died and said why). */
static void
run_send_filter(struct run_ctx *r, int fd)
{
	char err[RUN_ERR_LEN];

	if (seccomp_prepare(&r->filter, err, sizeof(err)) == -1) {
		fprintf(stderr, "agentcage: run: %s\n", err);
		return;
	}
	r->have_filter = true;
	if (seccomp_filter_send(&r->filter, fd) == -1 && errno != EPIPE)
		fprintf(stderr, "agentcage: run: sending the seccomp filter to the sandbox: %s\n",
			strerror(errno));
}

/* Clones the sandbox and supervises it; returns agentcage's exit status. */
static int
run_sandbox(struct run_ctx *r)
{
	struct spawn_plan plan = {
		.name = r->name, .policy = r->pol, .workdir = r->workdir, .home = r->home,
		.argv = r->o.argv, .envp = env_vector(&r->env), .id = &r->id,
		.pty_slave = r->tty ? r->pty.slave : -1, .ca_expected = r->tls,
	};
	struct supervise_config sc = {
		.pty = r->tty ? &r->pty : NULL, .tty_fd = STDIN_FILENO,
		.timeout_s = r->o.timeout_s, .on_ready = run_on_ready,
		.on_watch = run_on_watch, .on_started = run_ctl_on_started,
		.on_sighup = run_ctl_on_sighup, .exec_channel = true, .arg = r,
	};
	struct supervise_result res;
	struct lifelog_exit x = { .name = r->name, .pid = getpid() };
	char err[RUN_ERR_LEN];
	int pipefd[2], filterfd[2], execfd[2], status, code, sig;
	sigset_t set;
	struct topo topo;
	struct evloop *loop = NULL;
	struct proxy *px = NULL;
	bool proxy_ok = false;

	if (pipe2(pipefd, O_CLOEXEC) == -1 || fcntl(pipefd[0], F_SETFL, O_NONBLOCK) == -1) {
		fprintf(stderr, "agentcage: run: report pipe: %s\n", strerror(errno));
		return SPAWN_EXIT_SETUP;
	}
	if (pipe2(filterfd, O_CLOEXEC) == -1) {
		fprintf(stderr, "agentcage: run: filter pipe: %s\n", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return SPAWN_EXIT_SETUP;
	}
	/* init's end of the exec channel stays in init; the command never holds it. */
	if (execmsg_channel(execfd) == -1) {
		fprintf(stderr, "agentcage: run: exec channel: %s\n", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		close(filterfd[0]);
		close(filterfd[1]);
		return SPAWN_EXIT_SETUP;
	}
	plan.exec_channel = true;
	plan.exec_fds[0] = execfd[0];
	plan.exec_fds[1] = execfd[1];
	sc.exec_fd = execfd[0];
	plan.report_fd = pipefd[1];
	plan.filter_rfd = filterfd[0];
	plan.filter_wfd = filterfd[1];
	sc.report_fd = pipefd[0];
	spawn_signal_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed stdout is an EPIPE for the relay, not our death */
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	/* The network namespace first, with the proxy's listeners in it, so they exist
	 * before the command does; init is cloned from inside it and inherits it. */
	if (topo_enter(&topo, err, sizeof(err)) == -1) {
		fprintf(stderr, "agentcage: run: %s\n", err);
		close(pipefd[0]);
		close(pipefd[1]);
		close(filterfd[0]);
		close(filterfd[1]);
		return SPAWN_EXIT_SETUP;
	}
	r->init_pid = spawn_sandbox(&plan, err, sizeof(err));
	close(pipefd[1]);
	close(filterfd[0]);
	close(execfd[1]);
	if (topo_return(&topo, err, sizeof(err)) == -1) {
		/* Upstream connections would leave from inside the sandbox: never go on. */
		fprintf(stderr, "agentcage: run: %s\n", err);
		if (r->init_pid > 0)
			kill(r->init_pid, SIGKILL);
		fflush(NULL);
		_exit(SPAWN_EXIT_SETUP);
	}
	if (r->init_pid == -1) {
		fprintf(stderr, "agentcage: run: %s\n", err);
		close(pipefd[0]);
		close(filterfd[1]);
		close(execfd[0]);
		topo_close(&topo);
		return SPAWN_EXIT_SETUP;
	}
	/* Still single-threaded: proxy_new() enters the sandbox's namespace for its identity
	 * socket; proxy_start() then creates the resolver thread. The CA comes first: init
	 * waits for it once its mounts are built, the filter only after Landlock. */
	if (run_prepare_tls(r, filterfd[1]) == 0) { /* else it said why: proxy_ok stays false */
		if ((loop = evloop_new()) == NULL)
			fprintf(stderr, "agentcage: run: event loop: %s\n", strerror(errno));
		else
			proxy_ok = run_start_proxy(r, &topo, loop, &px) == 0;
		r->px = px;
		if (proxy_ok)
			run_ctl_start(r, loop); /* a failure is a warning: the sandbox still runs */
	}
	topo_close(&topo);
	if (!proxy_ok)
		kill(r->init_pid, SIGKILL); /* init exits; the filter pipe's EOF stops it early */
	/* Compiled while init builds the mounts; init waits for it before the command. */
	run_send_filter(r, filterfd[1]);
	/* While init builds the mounts: the start line needs the policy's digest. */
	if (policy_hash(r->pol) == -1)
		log_warn("computing the policy's SHA-256 (the log will show zeros)");
	close(filterfd[1]);
	sc.init_pid = r->init_pid;
	sc.loop = loop;
	if (r->tty)
		ut_close(&r->pty.slave);
	if (supervise_run(&sc, &res) == -1)
		log_warn("supervising sandbox %s", r->name);
	r->sup = NULL;
	run_ctl_release(r); /* `stop` returns once the name is free */
	close(execfd[0]);
	pty_raw_restore();
	r->raw_tty = false;
	r->px = NULL;
	proxy_free(px); /* open connections write their decision lines */
	px = NULL;
	tls_ca_free(r->ca); /* the proxy, its only user, is gone */
	r->ca = NULL;
	evloop_free(loop);
	loop = NULL;
	close(pipefd[0]);
	status = supervise_exit_status(&res, &code, &sig);
	if (!res.ready && status == 0)
		status = SPAWN_EXIT_SETUP; /* init died before building the sandbox */
	if (!proxy_ok) {
		status = SPAWN_EXIT_SETUP;
	} else if (r->proxy_failed) {
		fprintf(stderr, "agentcage: %s: the egress proxy failed (%s); the sandbox was stopped\n",
			r->name, r->proxy_why);
		status = SPAWN_EXIT_SETUP;
	}
	if (res.timed_out)
		fprintf(stderr, "agentcage: %s: timed out after %ld s; the command was stopped\n",
			r->name, r->o.timeout_s);
	x.started = res.ready;
	x.status = status;
	x.exit_code = code;
	x.signal = sig;
	x.duration_ms = run_elapsed_ms(&r->t0);
	x.timed_out = res.timed_out;
	if (lifelog_write_exit(&r->log, &x) == -1)
		log_warn("writing the exit line to %s", r->log_path);
	supervise_result_free(&res);
	return status;
}

static void
run_release(struct run_ctx *r)
{
	if (r->have_filter)
		seccomp_filter_release(&r->filter);
	env_free(&r->env);
	lifelog_close(&r->log);
	pty_close(&r->pty);
	engine_free(r->eng);
	r->eng = NULL;
	tls_ca_free(r->ca);
	r->ca = NULL;
	tls_upstream_free(r->upstream);
	r->upstream = NULL;
	hosts_free(&r->hosts);
	run_ctl_release(r);
	policy_free(r->pol);
	r->pol = NULL;
}

int
cmd_run(int argc, char **argv)
{
	struct run_ctx *r = ut_xcalloc(1, sizeof(*r));
	int status = 1;

	r->log.fd = r->pty.master = r->pty.slave = -1;
	if (run_parse(argc, argv, &r->o) != 0) {
		free(r);
		return 2;
	}
	r->o.env[r->o.nenv] = NULL;
	r->tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if (run_load_policy(r) == -1)
		goto release;
	r->tls = tlstrust_policy_terminates(r->pol);
	if ((status = run_check_upstream_ca(r)) != 0)
		goto release;
	status = 1;
	if (run_resolve_paths(r) == -1 ||
	    run_resolve_identity(r) == -1 || run_prepare_home(r) == -1 ||
	    run_prepare_exec(r) == -1 || run_prepare_proxy(r) == -1 || run_open_log(r) == -1 ||
	    run_ctl_claim(r) == -1)
		goto release;
	if (r->tty && pty_open(&r->pty, STDIN_FILENO) == -1) {
		fprintf(stderr, "agentcage: run: allocating a PTY: %s\n", strerror(errno));
		goto release;
	}
	status = run_sandbox(r);
release:
	run_release(r);
	free(r);
#ifndef __SANITIZE_ADDRESS__
	/* Everything is written and released: skip the exit handlers (libcrypto tearing down
	 * its algorithm tables, ld.so finalisers), which cost about a millisecond here. The
	 * sanitizer build keeps them: its leak check runs from one. */
	fflush(NULL);
	_exit(status);
#endif
	return status;
}
