/* sandbox/lifelog: JSON lifecycle lines (contract in lifelog.h). */
#include "sandbox/lifelog.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>

#include "util/sbuf.h"
#include "util/sha256.h"
#include "util/util.h"

int
lifelog_open(struct lifelog *l, const char *path, bool mkdir_parent)
{
	l->fd = -1;
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

static int
lifelog_emit(struct lifelog *l, struct sbuf *b)
{
	int rc;

	sbuf_putc(b, '\n');
	/* One write(): with O_APPEND the line lands whole. */
	rc = ut_write_all(l->fd, b->s, b->len);
	sbuf_free(b);
	return rc;
}

static void
lifelog_argv(struct sbuf *b, char *const *argv)
{
	sbuf_putc(b, '[');
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++) {
		if (i)
			sbuf_putc(b, ',');
		json_str(b, argv[i], strlen(argv[i]));
	}
	sbuf_putc(b, ']');
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
	struct sbuf b = { 0 }, argv = { 0 }, conf = { 0 };
	struct json_obj o;
	char hex[SHA256_HEX_LEN];

	sha256_hex(s->policy_sha256, hex);
	lifelog_argv(&argv, s->argv);
	lifelog_confinement(&conf, s);

	lifelog_begin(&o, &b, "start");
	json_kv_str(&o, "name", s->name);
	json_kv_int(&o, "pid", s->pid);
	json_kv_int(&o, "init_pid", s->init_pid);
	json_kv_str(&o, "policy_source", s->policy_source);
	json_kv_str(&o, "policy_sha256", hex);
	json_kv_str(&o, "workdir", s->workdir);
	json_kv_str(&o, "home", s->home);
	json_kv_raw(&o, "command", sbuf_str(&argv));
	json_kv_bool(&o, "tty", s->tty);
	json_kv_raw(&o, "confinement", sbuf_str(&conf));
	json_end(&o);
	sbuf_free(&argv);
	sbuf_free(&conf);
	return lifelog_emit(l, &b);
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
	if (x->exit_code >= 0)
		json_kv_int(&o, "exit_code", x->exit_code);
	else
		json_kv_raw(&o, "exit_code", "null");
	if (x->signal > 0) {
		json_kv_int(&o, "signal", x->signal);
		json_kv_str(&o, "signal_name", sigabbrev_np(x->signal));
	} else {
		json_kv_raw(&o, "signal", "null");
	}
	json_kv_int(&o, "duration_ms", x->duration_ms);
	json_kv_bool(&o, "timed_out", x->timed_out);
	json_end(&o);
	return lifelog_emit(l, &b);
}

void
lifelog_close(struct lifelog *l)
{
	ut_close(&l->fd);
}
