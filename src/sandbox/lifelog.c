/* sandbox/lifelog: JSON lifecycle lines (contract in lifelog.h). */
#include "sandbox/lifelog.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "util/sbuf.h"
#include "util/sha256.h"
#include "util/util.h"

int
lifelog_open(struct lifelog *l, const char *path, bool mkdir_parent)
{
	l->fd = -1;
	l->before_write = NULL;
	l->before_arg = NULL;
	if (mkdir_parent) {
		char dir[PATH_MAX];

		if (ut_snprintf(dir, sizeof(dir), "%s", path) == -1)
			return -1;
		if (mkdir(dirname(dir), 0700) == -1 && errno != EEXIST)
			return -1;
	}
	l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	return l->fd == -1 ? -1 : 0;
}

/* "time": RFC 3339 UTC with milliseconds, the first member of every line. */
static void
lifelog_begin(struct json_obj *o, struct sbuf *b, const char *event)
{
	struct timespec ts;
	struct tm tm;
	char when[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	json_begin(o, b);
	json_kv_str(o, "time", when);
	json_kv_str(o, "event", event);
}

/* The members every line of a running sandbox starts with. */
static void
lifelog_head(struct json_obj *o, struct sbuf *b, const char *event, const char *name, pid_t pid)
{
	lifelog_begin(o, b, event);
	json_kv_str(o, "name", name);
	json_kv_int(o, "pid", pid);
}

static int
lifelog_emit(struct lifelog *l, struct sbuf *b)
{
	int rc;

	sbuf_putc(b, '\n');
	if (l->before_write != NULL)
		l->before_write(l->before_arg);
	/* One write(): with O_APPEND the line lands whole. */
	rc = ut_write_all(l->fd, b->s, b->len);
	sbuf_free(b);
	return rc;
}

static void
lifelog_confinement(struct sbuf *b, const struct lifelog_start *s)
{
	struct json_obj o;
	struct sbuf groups = { 0 };

	sbuf_putc(&groups, '[');
	for (size_t i = 0; i < s->ngroups; i++)
		sbuf_printf(&groups, "%s%u", i ? "," : "", (unsigned)s->groups[i]);
	sbuf_putc(&groups, ']');

	json_begin(&o, b);
	json_kv_raw(&o, "namespaces", "[\"mnt\",\"pid\",\"net\",\"ipc\",\"uts\",\"cgroup\"]");
	json_kv_raw(&o, "landlock", s->landlock_json ? s->landlock_json : "null");
	json_kv_bool(&o, "seccomp", s->seccomp);
	json_kv_int(&o, "uid", s->uid);
	json_kv_int(&o, "gid", s->gid);
	json_kv_raw(&o, "groups", sbuf_str(&groups));
	json_kv_bool(&o, "no_new_privs", true);
	json_end(&o);
	sbuf_free(&groups);
}

int
lifelog_write_start(struct lifelog *l, const struct lifelog_start *s)
{
	struct sbuf b = { 0 }, conf = { 0 };
	struct json_obj o;
	char hex[SHA256_HEX_LEN];

	sha256_hex(s->policy_sha256, hex);
	lifelog_confinement(&conf, s);

	lifelog_begin(&o, &b, "start");
	json_kv_str(&o, "name", s->name);
	json_kv_int(&o, "pid", s->pid);
	json_kv_int(&o, "init_pid", s->init_pid);
	json_kv_str(&o, "policy_source", s->policy_source);
	json_kv_str(&o, "policy_sha256", hex);
	json_kv_str(&o, "workdir", s->workdir);
	json_kv_str(&o, "home", s->home);
	json_kv_strv(&o, "command", s->argv);
	json_kv_bool(&o, "tty", s->tty);
	json_kv_raw(&o, "confinement", sbuf_str(&conf));
	json_end(&o);
	sbuf_free(&conf);
	return lifelog_emit(l, &b);
}

/* "exit_code" and "signal" (+ "signal_name"): the one that applies, the other null. */
static void
lifelog_code_signal(struct json_obj *o, int exit_code, int sig)
{
	if (exit_code >= 0)
		json_kv_int(o, "exit_code", exit_code);
	else
		json_kv_raw(o, "exit_code", "null");
	if (sig > 0) {
		json_kv_int(o, "signal", sig);
		json_kv_str(o, "signal_name", sigabbrev_np(sig));
	} else {
		json_kv_raw(o, "signal", "null");
	}
}

int
lifelog_write_exit(struct lifelog *l, const struct lifelog_exit *x)
{
	struct sbuf b = { 0 };
	struct json_obj o;

	lifelog_begin(&o, &b, "exit");
	json_kv_str(&o, "name", x->name);
	json_kv_int(&o, "pid", x->pid);
	json_kv_bool(&o, "started", x->started);
	json_kv_int(&o, "status", x->status);
	lifelog_code_signal(&o, x->exit_code, x->signal);
	json_kv_int(&o, "duration_ms", x->duration_ms);
	json_kv_bool(&o, "timed_out", x->timed_out);
	json_end(&o);
	return lifelog_emit(l, &b);
}

int
lifelog_write_exec(struct lifelog *l, const struct lifelog_exec *e)
{
	struct sbuf b = { 0 };
	struct json_obj o;

	lifelog_head(&o, &b, "exec", e->name, e->pid);
	json_kv_int(&o, "exec_id", e->id);
	json_kv_int(&o, "sandbox_pid", e->sandbox_pid);
	json_kv_strv(&o, "command", e->argv);
	json_kv_bool(&o, "tty", e->tty);
	json_end(&o);
	return lifelog_emit(l, &b);
}

int
lifelog_write_exec_exit(struct lifelog *l, const struct lifelog_exec_exit *x)
{
	struct sbuf b = { 0 };
	struct json_obj o;
	const int st = x->wait_status;
	const int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	const int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;

	lifelog_head(&o, &b, "exec_exit", x->name, x->pid);
	json_kv_int(&o, "exec_id", x->id);
	json_kv_int(&o, "sandbox_pid", x->sandbox_pid);
	json_kv_int(&o, "status", sig ? 128 + sig : code);
	lifelog_code_signal(&o, code, sig);
	json_kv_int(&o, "duration_ms", x->duration_ms);
	json_end(&o);
	return lifelog_emit(l, &b);
}

int
lifelog_write_policy(struct lifelog *l, const struct lifelog_policy *p)
{
	struct sbuf b = { 0 };
	struct json_obj o;
	char hex[SHA256_HEX_LEN];

	lifelog_head(&o, &b, "policy", p->name, p->pid);
	json_kv_int(&o, "generation", (long long)p->generation);
	json_kv_str(&o, "source", p->source);
	if (p->policy_sha256 != NULL) {
		sha256_hex(p->policy_sha256, hex);
		json_kv_str(&o, "policy_sha256", hex);
	} else {
		json_kv_raw(&o, "policy_sha256", "null");
	}
	json_kv_str(&o, "result", p->loaded ? "loaded" : "refused");
	json_kv_str(&o, "reason", p->reason);
	json_end(&o);
	return lifelog_emit(l, &b);
}

void
lifelog_close(struct lifelog *l)
{
	ut_close(&l->fd);
}
