/*
 * run_ctl: the control socket of a running sandbox (ctl/server.h, docs/control.md) wired
 * to what `agentcage run` holds: status for `ps`, `exec` through init (supervise_exec),
 * `stop`, and live policy generations for `policy get`/`policy set` and SIGHUP.
 *
 * Everything here runs on the supervisor's loop (ctl callbacks, supervise callbacks), so
 * the run context needs no lock. A policy change is all or nothing: the new policy is
 * loaded, its static sections compared with the running ones (they cannot change: the
 * mounts, Landlock and identity are built), compiled, and only then handed to the proxy,
 * which refuses it in turn when it needs what the sandbox was not started with.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "cli/run_int.h"
#include "ctl/server.h"
#include "policy/diag.h"
#include "policy/emit.h"
#include "policy/pdiff.h"
#include "util/sbuf.h"
#include "util/sha256.h"
#include "util/util.h"

static struct ctl_info
run_ctl_info(const struct run_ctx *r)
{
	struct ctl_info info = {
		.name = r->name, .init_pid = r->init_pid, .started = r->started,
		.argv = r->o.argv, .workdir = r->workdir, .policy_source = r->pol->source,
		.log_path = r->log_path, .learn = r->o.learn,
	};

	return info;
}

int
run_ctl_claim(struct run_ctx *r)
{
	struct ctl_info info;
	pid_t holder = 0;

	r->started = (long long)time(NULL);
	info = run_ctl_info(r);
	if ((r->ctl = ctl_server_new(NULL, &info, &holder)) != NULL)
		return 0;
	if (errno == EEXIST)
		fprintf(stderr, "agentcage: run: a sandbox named %s is already running (pid %d)\n"
				"hint: agentcage stop %s, or choose another --name\n",
			r->name, (int)holder, r->name);
	else
		fprintf(stderr, "agentcage: run: claiming the name %s under /run/agentcage: %s\n"
				"hint: agentcage run needs root\n", r->name, strerror(errno));
	return -1;
}

/* --- status -------------------------------------------------------------------------- */

static int
run_ctl_status(void *arg, struct sbuf *json)
{
	struct run_ctx *r = arg;
	struct proxy_stats st = { 0 };
	struct json_obj o;
	char hex[SHA256_HEX_LEN];

	if (r->px != NULL)
		proxy_stats(r->px, &st);
	sha256_hex(r->cur_pol->sha256, hex);
	json_begin(&o, json);
	json_kv_str(&o, "name", r->name);
	json_kv_int(&o, "pid", (long long)getpid());
	json_kv_int(&o, "init_pid", (long long)r->init_pid);
	json_kv_int(&o, "started", r->started);
	json_kv_strv(&o, "argv", r->o.argv);
	json_kv_str(&o, "policy_source", r->cur_pol->source);
	json_kv_str(&o, "policy_sha256", hex);
	json_kv_int(&o, "generation", (long long)(st.generation ? st.generation : 1));
	json_kv_int(&o, "connections_open", (long long)st.open);
	json_kv_int(&o, "allowed", (long long)st.allowed);
	json_kv_int(&o, "denied", (long long)st.denied);
	json_kv_int(&o, "learned", (long long)st.learned);
	json_kv_bool(&o, "learn", r->o.learn);
	json_end(&o);
	return 0;
}

/* --- stop ---------------------------------------------------------------------------- */

static int
run_ctl_stop(void *arg, unsigned grace_s, struct sbuf *err)
{
	struct run_ctx *r = arg;

	if (r->sup == NULL || supervise_stop(r->sup, grace_s) == -1) {
		sbuf_printf(err, "the sandbox is not running yet or is already ending: %s",
			    strerror(r->sup == NULL ? ENOTCONN : errno));
		return -1;
	}
	return 0;
}

/* --- exec ---------------------------------------------------------------------------- */

static struct run_exec *
run_exec_by_conn(struct run_ctx *r, const struct ctl_conn *c)
{
	for (size_t i = 0; i < NELEM(r->execs); i++)
		if (r->execs[i].conn == c)
			return &r->execs[i];
	return NULL;
}

static long long
run_exec_ms(const struct run_exec *x)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - x->t0.tv_sec) * 1000LL + (t1.tv_nsec - x->t0.tv_nsec) / 1000000;
}

/* supervise_exec()'s <started>: <arg> is the exec's slot. */
static void
run_exec_started(void *arg, long id, pid_t pid)
{
	struct run_exec *x = arg;

	(void)id;
	x->sandbox_pid = pid;
	ctl_conn_exec_started(x->conn, pid);
}

static void run_exec_done(void *arg, long id, int wait_status);

static int
run_ctl_exec(void *arg, struct ctl_conn *c, char *const argv[], int fds[3], bool tty,
	     struct sbuf *err)
{
	struct run_ctx *r = arg;
	struct run_exec *x = run_exec_by_conn(r, NULL);
	struct lifelog_exec le = { .name = r->name, .pid = getpid(), .argv = argv, .tty = tty };

	if (x == NULL) {
		sbuf_printf(err, "%d processes are already running through exec; hint: wait for "
				 "one to end", (int)NELEM(r->execs));
		return -1;
	}
	if (r->sup == NULL) {
		sbuf_printf(err, "the sandbox is not ready yet; hint: try again in a moment");
		return -1;
	}
	x->conn = c;
	clock_gettime(CLOCK_MONOTONIC, &x->t0);
	x->sandbox_pid = 0;
	x->id = supervise_exec(r->sup, argv, fds, tty, run_exec_started, run_exec_done, x);
	if (x->id == -1) {
		x->conn = NULL;
		sbuf_printf(err, "%s", errno == ENOTCONN ?
			    "the sandbox is ending; hint: agentcage ps lists the running ones" :
			    strerror(errno));
		return -1;
	}
	/* supervise_exec() sent them to init and closed ours; the server must not close
	 * them again (another thread may already have the numbers). */
	fds[0] = fds[1] = fds[2] = -1;
	le.id = x->id;
	le.sandbox_pid = x->sandbox_pid;
	if (lifelog_write_exec(&r->log, &le) == -1)
		log_warn("writing an exec line to %s", r->log_path);
	return 0;
}

/* Finishes the slot: the exit line, and the slot is free again. */
static void
run_exec_finish(struct run_ctx *r, struct run_exec *x, int wait_status)
{
	struct lifelog_exec_exit le = {
		.name = r->name, .pid = getpid(), .id = x->id, .sandbox_pid = x->sandbox_pid,
		.wait_status = wait_status, .duration_ms = run_exec_ms(x),
	};

	if (lifelog_write_exec_exit(&r->log, &le) == -1)
		log_warn("writing an exec_exit line to %s", r->log_path);
	x->conn = NULL;
	x->id = 0;
}

static void
run_exec_done(void *arg, long id, int wait_status)
{
	struct run_exec *x = arg;
	struct run_ctx *r = x->run;
	struct ctl_conn *c = x->conn;

	(void)id;
	run_exec_finish(r, x, wait_status);
	ctl_conn_exec_exit(c, wait_status);
}

static void
run_ctl_signal(void *arg, struct ctl_conn *c, int sig)
{
	struct run_ctx *r = arg;
	struct run_exec *x = run_exec_by_conn(r, c);

	if (x != NULL && r->sup != NULL && supervise_exec_signal(r->sup, x->id, sig) == -1 &&
	    errno != ESRCH)
		log_warn("forwarding signal %d to an exec'd process", sig);
}

/* The client went away before its process ended: the process gets SIGHUP, as a shell's
 * children do when their terminal goes. */
static void
run_ctl_conn_closed(void *arg, struct ctl_conn *c)
{
	struct run_ctx *r = arg;
	struct run_exec *x = run_exec_by_conn(r, c);

	if (x == NULL)
		return;
	if (r->sup != NULL)
		supervise_exec_forget(r->sup, x->id);
	run_exec_finish(r, x, W_EXITCODE(0, SIGHUP));
}

/* --- policy generations ---------------------------------------------------------------- */

static int
run_ctl_policy_get(void *arg, struct sbuf *yaml, struct sbuf *err)
{
	struct run_ctx *r = arg;

	if (policy_emit(r->cur_pol, NULL, yaml) == -1) {
		sbuf_printf(err, "printing the policy: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Appends the loader's errors (file:line:col: ...) to <msg>, one per line. */
static void
run_diag_text(const struct diag *d, struct sbuf *msg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return;
	diag_print(d, f);
	fclose(f);
	sbuf_add(msg, buf, len);
	free(buf);
}

/*
 * Loads <text> as the next generation: parsed and validated, static sections unchanged,
 * compiled, handed to the proxy. 0 with "generation N" in <msg>, or -1 with the reason in
 * <msg> (nothing changed). <source> names where it came from in the log.
 */
static int
run_policy_apply(struct run_ctx *r, const char *source, const char *text, size_t len,
		 struct sbuf *msg)
{
	struct lifelog_policy lp = { .name = r->name, .pid = getpid(), .source = source };
	struct diag d = { 0 };
	struct policy *pol = NULL;
	struct engine *eng = NULL;
	struct proxy_stats st;
	char err[RUN_ERR_LEN];
	unsigned long long gen = 0;
	size_t mark = msg->len;

	if (r->px == NULL) {
		sbuf_printf(msg, "the sandbox's proxy is not running");
		goto refused;
	}
	if (policy_load_buffer(source, text, len, &d, &pol) == -1) {
		sbuf_printf(msg, "the new policy does not load:\n");
		run_diag_text(&d, msg);
		sbuf_printf(msg, "hint: agentcage policy check FILE shows the same errors");
		goto refused;
	}
	if (policy_hash(pol) == 0)
		lp.policy_sha256 = pol->sha256;
	if (policy_static_diff(r->pol, pol, msg) > 0) {
		/* pdiff's hint names the command generically: say it with this sandbox's name. */
		sbuf_printf(msg, "(agentcage policy get %s prints the running policy)", r->name);
		goto refused;
	}
	if ((eng = engine_new(pol)) == NULL) {
		sbuf_printf(msg, "compiling the new policy: %s", strerror(errno));
		goto refused;
	}
	/* The proxy gives the new engine the sandbox root of the one in force. */
	if (proxy_set_policy(r->px, pol, eng, &gen, err, sizeof(err)) == -1) {
		pol = NULL; /* the proxy took both, and freed them */
		eng = NULL;
		sbuf_printf(msg, "%s", err);
		goto refused;
	}
	r->cur_pol = pol;
	sbuf_printf(msg, "generation %llu", gen);
	lp.generation = gen;
	lp.loaded = true;
	if (lifelog_write_policy(&r->log, &lp) == -1)
		log_warn("writing a policy line to %s", r->log_path);
	diag_free(&d);
	return 0;
refused:
	st.generation = 1;
	if (r->px != NULL)
		proxy_stats(r->px, &st);
	lp.generation = st.generation;
	lp.reason = sbuf_str(msg) + mark;
	if (lifelog_write_policy(&r->log, &lp) == -1)
		log_warn("writing a policy line to %s", r->log_path);
	engine_free(eng);
	policy_free(pol);
	diag_free(&d);
	return -1;
}

static int
run_ctl_policy_set(void *arg, const char *yaml, size_t len, struct sbuf *msg)
{
	return run_policy_apply(arg, "control socket", yaml, len, msg);
}

/* SIGHUP: the policy file the sandbox started with, read again. */
void
run_ctl_on_sighup(void *arg)
{
	struct run_ctx *r = arg;
	struct sbuf msg = { 0 };
	char *text = NULL;
	size_t len = 0;

	if (r->o.policy_path == NULL) {
		fprintf(stderr, "agentcage: %s: SIGHUP: the sandbox runs the default policy, which "
				"has no file to reload\nhint: agentcage policy set %s FILE\n",
			r->name, r->name);
		return;
	}
	if (ut_read_file(r->o.policy_path, POLICY_MAX_BYTES, &text, &len) == -1) {
		fprintf(stderr, "agentcage: %s: SIGHUP: reading %s: %s; the running policy is "
				"unchanged\n", r->name, r->o.policy_path, strerror(errno));
		return;
	}
	if (run_policy_apply(r, r->o.policy_path, text, len, &msg) == 0)
		fprintf(stderr, "agentcage: %s: SIGHUP: %s loaded from %s\n", r->name,
			sbuf_str(&msg), r->o.policy_path);
	else
		fprintf(stderr, "agentcage: %s: SIGHUP: %s is refused; the running policy is "
				"unchanged:\n%s\n", r->name, r->o.policy_path, sbuf_str(&msg));
	free(text);
	sbuf_free(&msg);
}

/* --- life ---------------------------------------------------------------------------- */

void
run_ctl_on_started(void *arg, struct supervise *s)
{
	struct run_ctx *r = arg;

	r->sup = s;
}

int
run_ctl_start(struct run_ctx *r, struct evloop *loop)
{
	static const struct ctl_ops ops = {
		.status = run_ctl_status, .policy_get = run_ctl_policy_get,
		.policy_set = run_ctl_policy_set, .stop = run_ctl_stop, .exec = run_ctl_exec,
		.signal = run_ctl_signal, .conn_closed = run_ctl_conn_closed,
	};
	struct ctl_info info = run_ctl_info(r);

	for (size_t i = 0; i < NELEM(r->execs); i++)
		r->execs[i].run = r;
	r->cur_pol = r->pol;
	if (ctl_server_start(r->ctl, loop, &info, &ops, r) == -1) {
		log_warn("the control socket of sandbox %s (ps, exec, stop and policy set will "
			 "not reach it)", r->name);
		return -1;
	}
	return 0;
}

void
run_ctl_release(struct run_ctx *r)
{
	ctl_server_free(r->ctl);
	r->ctl = NULL;
	r->sup = NULL;
}
