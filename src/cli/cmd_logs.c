/*
 * cmd_logs: `agentcage logs NAME|FILE [-f] [--all] [--denied] [--since WHEN] [--json]`,
 * the sandbox log read back (cli/logread.h), one line per event.
 *
 * Selection: the last run (from the last "start" line) unless --all; then --denied and
 * --since. Output: the human layout of logread_format() (cli/logfmt.h), or the selected lines as
 * they are (--json). Lines that do not parse are skipped and counted: one warning at the end.
 *
 * -f: prints what is there, then follows the file (inotify; no polling) until the run's
 * "exit" line (the exit of the pid of the last "start"), SIGINT or SIGTERM (exit 0), or
 * the file being removed or renamed. When the selected run has already ended there is
 * nothing to follow: it says so and returns. A log that does not exist yet is waited for
 * (its directory must exist): `agentcage logs -f NAME` may start before `agentcage run`.
 *
 * Context: CLI; returns the exit status: 0, 1 (the log cannot be read), 2 (usage).
 */
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/logcli.h"
#include "cli/logfmt.h"
#include "cli/logread.h"
#include "util/evloop.h"
#include "util/sbuf.h"
#include "util/util.h"

/* inotify events read at once: a few per append; the buffer takes many at their
 * largest (a directory event carries a name). */
#define LOGS_INOTIFY_BUF (16 * (sizeof(struct inotify_event) + NAME_MAX + 1))

struct logs_opts {
	const char *target;
	bool follow, all, json;
	struct logread_filter filter;
};

/* What following has seen so far. */
struct logs_run {
	long long pid; /* pid of the last "start" line, -1 before one */
	bool ended;    /* its "exit" line was read */
};

struct logs_follow {
	struct evloop *loop;
	struct logread r;
	const struct logs_opts *o;
	struct logs_run run;
	const char *path;
	char base[NAME_MAX + 1]; /* the log's file name, while waiting for it to appear */
	int ino_fd;              /* -1 when closed */
	int sig_fd;
	int wd; /* watch on the file, -1 before it exists */
	int rc;
};

static int
logs_parse_args(int argc, char **argv, struct logs_opts *o)
{
	static const struct option longopts[] = {
	        {"follow", no_argument, NULL, 'f'},
	        {"all", no_argument, NULL, 'a'},
	        {"denied", no_argument, NULL, 'd'},
	        {"since", required_argument, NULL, 's'},
	        {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":f", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->follow = true;
			break;
		case 'a':
			o->all = true;
			break;
		case 'd':
			o->filter.denied_only = true;
			break;
		case 's':
			if (logread_parse_since(optarg, (long long)time(NULL) * 1000,
			                        &o->filter.since_ms) == -1) {
				fprintf(stderr,
				        "agentcage: logs: --since '%s': not a duration or a time\n"
				        "hint: 30s, 10m, 2h, 1d, or 2026-11-27T08:00:00Z\n",
				        optarg);
				return LOGCLI_EXIT_USAGE;
			}
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			return cli_help("logs") == 0 ? -1 : LOGCLI_EXIT_USAGE;
		default:
			return logcli_bad_option("logs", "logs", c, argc, argv);
		}
	}
	return logcli_one_target("logs", "logs", argc, argv, &o->target);
}

/* Tracks the run (start, its exit) for -f; called for every event, selected or not. */
static void
logs_track(struct logs_run *run, const struct logread_event *ev)
{
	if (ev->kind == LOGREAD_START) {
		run->pid = ev->pid;
		run->ended = false;
	} else if (ev->kind == LOGREAD_EXIT && (run->pid == -1 || ev->pid == run->pid)) {
		run->ended = true;
	}
}

/*
 * Prints every event the file holds now that passes the filter, in one write. Returns
 * 0, or -1 with errno when the file cannot be read or stdout is gone.
 */
static int
logs_drain(struct logread *r, const struct logs_opts *o, struct logs_run *run)
{
	struct logread_event ev;
	struct sbuf out = {0};
	int rc;

	while ((rc = logread_next(r, &ev, o->follow)) == 1) {
		logs_track(run, &ev);
		if (!logread_match(&o->filter, &ev))
			continue;
		if (o->json) {
			sbuf_add(&out, ev.line, ev.line_len);
			sbuf_putc(&out, '\n');
		} else {
			logread_format(&ev, &out);
		}
	}
	if (rc != -1 && out.len > 0 && ut_write_all(STDOUT_FILENO, out.s, out.len) == -1)
		rc = -1;
	sbuf_free(&out);
	return rc == -1 ? -1 : 0;
}

static void
logs_warn_malformed(const struct logread *r)
{
	if (r->nmalformed > 0)
		fprintf(stderr,
		        "agentcage: logs: %s: skipped %zu malformed line%s (not one JSON object "
		        "with an \"event\", or longer than %d bytes)\n",
		        r->path, r->nmalformed, r->nmalformed == 1 ? "" : "s", LOGREAD_LINE_MAX);
}

/* Opens the log and places it on the selected run. */
static int
logs_open_selected(struct logread *r, const char *path, const struct logs_opts *o)
{
	long long pid;

	if (logread_open(r, path) == -1)
		return -1;
	if (!o->all && logread_seek_last_run(r, &pid) == -1) {
		logread_close(r);
		return -1;
	}
	return 0;
}

/* --- -f ------------------------------------------------------------------------------ */

static void
logs_follow_stop(struct logs_follow *f, int rc)
{
	f->rc = rc;
	evloop_stop(f->loop);
}

/* Reads what was appended; stops at the run's exit. */
static void
logs_follow_read(struct logs_follow *f)
{
	if (logs_drain(&f->r, f->o, &f->run) == -1) {
		fprintf(stderr, "agentcage: logs: %s: %s\n", f->path, strerror(errno));
		logs_follow_stop(f, 1);
	} else if (f->run.ended) {
		logs_follow_stop(f, 0);
	}
}

/* The log appeared: open it (from the start: a new file holds one new run) and watch it. */
static int
logs_follow_attach(struct logs_follow *f)
{
	f->wd = inotify_add_watch(f->ino_fd, f->path, IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF);
	if (f->wd == -1)
		return -1;
	/* The watch is in place before the first read, so nothing appended in between is
	 * missed: an append after it wakes the loop, one before it is read now. */
	if (logs_open_selected(&f->r, f->path, f->o) == -1)
		return -1;
	logs_follow_read(f);
	return 0;
}

static void
logs_on_inotify(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct logs_follow *f = data;
	char buf[LOGS_INOTIFY_BUF] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = TEMP_FAILURE_RETRY_INT(read(fd, buf, sizeof(buf)));
	bool modified = false, gone = false, created = false;

	(void)loop;
	(void)events;
	if (n <= 0) {
		if (n == -1 && errno == EAGAIN)
			return;
		fprintf(stderr, "agentcage: logs: reading inotify events: %s\n",
		        n == 0 ? "end of stream" : strerror(errno));
		logs_follow_stop(f, 1);
		return;
	}
	for (char *p = buf; p < buf + n;) {
		const struct inotify_event *ie = (const struct inotify_event *)p;

		if (ie->wd == f->wd && f->wd != -1) {
			modified |= (ie->mask & IN_MODIFY) != 0;
			gone |= (ie->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) != 0;
		} else if (f->wd == -1 && ie->len > 0 && strcmp(ie->name, f->base) == 0) {
			created = true;
		}
		p += sizeof(*ie) + ie->len;
	}
	if (created && logs_follow_attach(f) == -1 && errno != ENOENT) {
		fprintf(stderr, "agentcage: logs: %s: %s\n", f->path, strerror(errno));
		logs_follow_stop(f, 1);
		return;
	}
	if (modified || gone)
		logs_follow_read(f); /* a removed file may still have had a last append */
	if (gone && !f->run.ended) {
		fprintf(stderr, "agentcage: logs: %s was removed or renamed; stopped following\n",
		        f->path);
		logs_follow_stop(f, 0);
	}
}

static void
logs_on_signal(struct evloop *loop, int fd, uint32_t events, void *data)
{
	struct signalfd_siginfo si;

	(void)loop;
	(void)events;
	(void)ut_read_full(fd, &si, sizeof(si));
	logs_follow_stop(data, 0); /* asked to stop: what was printed is the result */
}

/* Makes the signalfd for SIGINT and SIGTERM (blocked, so they arrive only there). */
static int
logs_signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Watches the directory for the log to appear. */
static int
logs_follow_wait(struct logs_follow *f)
{
	char dir[PATH_MAX], name[PATH_MAX];

	if (ut_snprintf(dir, sizeof(dir), "%s", f->path) == -1 ||
	    ut_snprintf(name, sizeof(name), "%s", f->path) == -1 ||
	    ut_snprintf(f->base, sizeof(f->base), "%s", basename(name)) == -1)
		return -1;
	if (inotify_add_watch(f->ino_fd, dirname(dir), IN_CREATE | IN_MOVED_TO) == -1)
		return -1;
	fprintf(stderr, "agentcage: logs: waiting for %s to appear\n", f->path);
	/* It may have appeared between the caller's open and the watch. */
	if (logs_follow_attach(f) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

static int
logs_follow_setup(struct logs_follow *f)
{
	f->ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (f->ino_fd == -1)
		return -1;
	f->sig_fd = logs_signal_fd();
	if (f->sig_fd == -1)
		return -1;
	f->loop = evloop_new();
	if (f->loop == NULL || evloop_add(f->loop, f->ino_fd, EV_READ, logs_on_inotify, f) == -1 ||
	    evloop_add(f->loop, f->sig_fd, EV_READ, logs_on_signal, f) == -1)
		return -1;
	if (access(f->path, F_OK) == -1 && errno == ENOENT)
		return logs_follow_wait(f);
	return logs_follow_attach(f);
}

static int
logs_follow(const char *path, const struct logs_opts *o)
{
	struct logs_follow f = {.o = o,
	                        .path = path,
	                        .ino_fd = -1,
	                        .sig_fd = -1,
	                        .wd = -1,
	                        .run = {.pid = -1},
	                        .r = {.fd = -1}};

	if (logs_follow_setup(&f) == -1) {
		f.rc = logcli_open_error("logs", path, o->target);
		goto cleanup;
	}
	if (f.run.ended) {
		fprintf(stderr,
		        "agentcage: logs: %s: the run has ended (its exit line is above); "
		        "nothing to follow\n",
		        path);
		goto cleanup;
	}
	if (f.rc == 0 && evloop_run(f.loop) == -1) {
		fprintf(stderr, "agentcage: logs: waiting for events: %s\n", strerror(errno));
		f.rc = 1;
	}
cleanup:
	logs_warn_malformed(&f.r);
	logread_close(&f.r);
	evloop_free(f.loop);
	ut_close(&f.ino_fd);
	ut_close(&f.sig_fd);
	return f.rc;
}

int
cmd_logs(int argc, char **argv)
{
	struct logs_opts o;
	struct logread r = {.fd = -1};
	struct logs_run run = {.pid = -1};
	char path[PATH_MAX];
	int rc = logs_parse_args(argc, argv, &o);

	if (rc != 0)
		return rc == -1 ? 0 : rc;
	if (logcli_resolve("logs", o.target, path, sizeof(path)) != 0)
		return LOGCLI_EXIT_USAGE;
	if (o.follow)
		return logs_follow(path, &o);
	if (logs_open_selected(&r, path, &o) == -1)
		return logcli_open_error("logs", path, o.target);
	rc = 0;
	if (logs_drain(&r, &o, &run) == -1) {
		fprintf(stderr, "agentcage: logs: %s: %s\n", path, strerror(errno));
		rc = 1;
	}
	logs_warn_malformed(&r);
	logread_close(&r);
	return rc;
}
