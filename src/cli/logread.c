/* cli/logread: reading a sandbox log back (contract in logread.h). */
#include "cli/logread.h"

#include <fcntl.h>
#include <jansson.h>
#include <time.h>

#include "ctl/proto.h"
#include "ctl/state.h"
#include "sandbox/lifelog.h"
#include "util/util.h"

#define SINCE_MAX_COUNT 1000000000LL /* --since 1000000000s is already before 1970 */

/* --- names and files ---------------------------------------------------------------- */

/* A running sandbox started with --log FILE logs there: its state file says so. 0 and
 * <out> filled, or -1 (not running, or no log_path recorded). */
static int
logread_live_path(const char *name, char *out, size_t size)
{
	struct ctl_entry *e = NULL;
	size_t n = 0;
	int rc = -1;

	if (ctl_list(CTL_RUN_DIR, &e, &n) == -1)
		return -1;
	for (size_t i = 0; i < n && rc == -1; i++) {
		json_t *root, *v;

		if (strcmp(e[i].name, name) != 0 ||
		    (root = json_loads(e[i].state_json, 0, NULL)) == NULL)
			continue;
		v = json_object_get(root, "log_path");
		if (json_is_string(v) && ut_snprintf(out, size, "%s", json_string_value(v)) != -1)
			rc = 0;
		json_decref(root);
	}
	ctl_list_free(e, n);
	return rc;
}

int
logread_resolve(const char *arg, char *out, size_t size)
{
	int n;

	if (strchr(arg, '/') != NULL) {
		n = ut_snprintf(out, size, "%s", arg);
	} else if (ctl_name_check(arg) == 0) {
		if (logread_live_path(arg, out, size) == 0)
			return 0;
		n = ut_snprintf(out, size, "%s/%s.jsonl", LIFELOG_DIR, arg);
	} else {
		return -1; /* EINVAL from ctl_name_check() */
	}
	return n == -1 ? -1 : 0;
}

int
logread_open(struct logread *r, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->path = path;
	r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	return r->fd == -1 ? -1 : 0;
}

static void
logread_drop_json(struct logread *r)
{
	if (r->_json != NULL)
		json_decref(r->_json);
	r->_json = NULL;
}

void
logread_close(struct logread *r)
{
	logread_drop_json(r);
	ut_close(&r->fd);
	sbuf_free(&r->_buf);
	sbuf_free(&r->_line);
	sbuf_free(&r->_command);
	r->_pos = 0;
}

/* --- times ---------------------------------------------------------------------------- */

/* Reads exactly <n> digits at *<p> into *<v> and advances; false when they are not there. */
static bool
digits(const char **p, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		x = x * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*v = x;
	return true;
}

/* "Z", "+HH:MM" or "-HH:MM" (or nothing: UTC) into seconds east of UTC. */
static bool
parse_zone(const char **p, long *off_s)
{
	int hh, mm, sign;

	*off_s = 0;
	if (**p == '\0')
		return true;
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		return true;
	}
	if (**p != '+' && **p != '-')
		return false;
	sign = **p == '-' ? -1 : 1;
	(*p)++;
	if (!digits(p, 2, &hh) || *(*p)++ != ':' || !digits(p, 2, &mm) || hh > 23 || mm > 59)
		return false;
	*off_s = sign * (hh * 3600L + mm * 60L);
	return true;
}

int
logread_parse_time(const char *s, long long *out_ms)
{
	const char *p = s;
	struct tm tm = {0};
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
	long off_s = 0;
	time_t t;

	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		goto invalid;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
		    !digits(&p, 2, &sec))
			goto invalid;
		if (*p == '.') {
			int scale = 100, dgt;

			p++;
			if (*p < '0' || *p > '9')
				goto invalid;
			while (digits(&p, 1, &dgt)) { /* keep milliseconds, read past the rest */
				ms += dgt * scale;
				scale /= 10;
			}
		}
		if (!parse_zone(&p, &off_s))
			goto invalid;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		goto invalid;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		goto invalid;
	*out_ms = ((long long)t - off_s) * 1000 + ms;
	return 0;
invalid:
	errno = EINVAL;
	return -1;
}

int
logread_parse_since(const char *s, long long now_ms, long long *out_ms)
{
	static const struct {
		char unit;
		long long ms;
	} units[] = {{'s', 1000LL}, {'m', 60000LL}, {'h', 3600000LL}, {'d', 86400000LL}};
	size_t len = strlen(s);
	char num[24];
	const char *errstr;
	long long n;

	if (len >= 2 && len < sizeof(num) && strchr(s, '-') == NULL) {
		for (size_t i = 0; i < NELEM(units); i++) {
			if (s[len - 1] != units[i].unit)
				continue;
			memcpy(num, s, len - 1);
			num[len - 1] = '\0';
			n = ut_strtonum(num, 1, SINCE_MAX_COUNT, &errstr);
			if (errstr != NULL || n > now_ms / units[i].ms)
				goto invalid;
			*out_ms = now_ms - n * units[i].ms;
			return 0;
		}
	}
	return logread_parse_time(s, out_ms);
invalid:
	errno = EINVAL;
	return -1;
}

/* --- one line into an event ------------------------------------------------------------- */

static const char *
get_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key)); /* NULL when missing or not a string */
}

static long long
get_int(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static enum logread_kind
kind_of(const char *event)
{
	static const struct {
		const char *word;
		enum logread_kind kind;
	} kinds[] = {
	        {"start", LOGREAD_START},   {"exit", LOGREAD_EXIT},
	        {"exec", LOGREAD_EXEC},     {"exec_exit", LOGREAD_EXEC_EXIT},
	        {"policy", LOGREAD_POLICY}, {"net", LOGREAD_NET},
	        {"http", LOGREAD_HTTP},
	};

	for (size_t i = 0; i < NELEM(kinds); i++)
		if (strcmp(event, kinds[i].word) == 0)
			return kinds[i].kind;
	return LOGREAD_OTHER;
}

static enum logread_decision
decision_of(const char *word)
{
	static const struct {
		const char *word;
		enum logread_decision dec;
	} decs[] = {
	        {"allow", LOGREAD_DEC_ALLOW},
	        {"deny", LOGREAD_DEC_DENY},
	        {"audit", LOGREAD_DEC_AUDIT},
	        {"learn", LOGREAD_DEC_LEARN},
	};

	if (word == NULL)
		return LOGREAD_DEC_NONE;
	for (size_t i = 0; i < NELEM(decs); i++)
		if (strcmp(word, decs[i].word) == 0)
			return decs[i].dec;
	return LOGREAD_DEC_UNKNOWN;
}

/* The "command" array (start, exec) joined by spaces into <r>->_command. */
static const char *
join_argv(struct logread *r, json_t *arr)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr))
		return NULL;
	sbuf_reset(&r->_command);
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);

		if (i)
			sbuf_putc(&r->_command, ' ');
		sbuf_puts(&r->_command, s ? s : "?");
	}
	return sbuf_str(&r->_command);
}

static void
fill_event(struct logread *r, json_t *o, struct logread_event *ev)
{
	ev->kind = kind_of(ev->event);
	ev->time = get_str(o, "time");
	if (ev->time == NULL || logread_parse_time(ev->time, &ev->time_ms) == -1)
		ev->time_ms = -1;
	ev->name = get_str(o, ev->kind == LOGREAD_NET || ev->kind == LOGREAD_HTTP ? "sandbox"
	                                                                          : "name");
	ev->pid = get_int(o, "pid");
	ev->binary = get_str(o, "binary");
	ev->host = get_str(o, "host");
	ev->address = get_str(o, "address");
	ev->method = get_str(o, "method");
	ev->path = get_str(o, "path");
	ev->error = get_str(o, "error");
	ev->block = get_str(o, "block");
	ev->reason = get_str(o, "reason");
	ev->note = get_str(o, "note");
	ev->end = get_str(o, "end");
	ev->port = get_int(o, "port");
	ev->status = get_int(o, "status");
	ev->bytes_up = get_int(o, "bytes_up");
	ev->bytes_down = get_int(o, "bytes_down");
	ev->generation = get_int(o, "generation");
	ev->decision_word = get_str(o, "decision");
	ev->decision = decision_of(ev->decision_word);
	ev->policy_source = get_str(o, "policy_source");
	if (ev->policy_source == NULL)
		ev->policy_source = get_str(o, "source");
	ev->policy_sha256 = get_str(o, "policy_sha256");
	ev->result = get_str(o, "result");
	ev->command = join_argv(r, json_object_get(o, "command"));
	ev->exec_id = get_int(o, "exec_id");
	ev->sandbox_pid = get_int(o, "sandbox_pid");
	ev->exit_code = get_int(o, "exit_code");
	ev->duration_ms = get_int(o, "duration_ms");
	ev->signal_name = get_str(o, "signal_name");
}

/* Parses the NUL-terminated line in <r>->_line; false (counted) when it is malformed. */
static bool
parse_line(struct logread *r, off_t offset, struct logread_event *ev)
{
	json_error_t jerr;
	json_t *o;
	const char *event;

	logread_drop_json(r);
	o = json_loadb(r->_line.s, r->_line.len, 0, &jerr);
	if (o == NULL || !json_is_object(o) || (event = get_str(o, "event")) == NULL) {
		if (o != NULL)
			json_decref(o);
		r->nmalformed++;
		return false;
	}
	r->_json = o;
	memset(ev, 0, sizeof(*ev));
	ev->event = event;
	ev->line = r->_line.s;
	ev->line_len = r->_line.len;
	ev->offset = offset;
	fill_event(r, o, ev);
	return true;
}

/* --- reading lines ---------------------------------------------------------------------- */

/* Drops what was handed out from the front of the buffer (keeps it from growing). */
static void
compact(struct logread *r)
{
	size_t left = r->_buf.len - r->_pos;

	if (r->_pos == 0)
		return;
	memmove(r->_buf.s, r->_buf.s + r->_pos, left);
	r->_buf.len = left;
	r->_buf_off += (off_t)r->_pos;
	r->_pos = 0;
}

/* Appends up to LOGREAD_CHUNK bytes; returns the count, 0 at end of file, -1 on error. */
static ssize_t
fill(struct logread *r)
{
	char chunk[LOGREAD_CHUNK];
	ssize_t n = TEMP_FAILURE_RETRY_INT(read(r->fd, chunk, sizeof(chunk)));

	if (n > 0)
		sbuf_add(&r->_buf, chunk, (size_t)n);
	r->eof = n == 0;
	return n;
}

/*
 * Takes the next complete line out of the buffer into _line. Returns 1 with a line, 0
 * when no complete line is buffered. Over-long lines are counted and skipped here.
 */
static int
take_line(struct logread *r, bool at_end, off_t *offset)
{
	for (;;) {
		const char *start = r->_buf.s + r->_pos;
		size_t avail = r->_buf.len - r->_pos;
		const char *nl = avail ? memchr(start, '\n', avail) : NULL;
		size_t len = nl ? (size_t)(nl - start) : avail;

		if (r->_skipping) { /* the tail of an over-long line, up to its newline */
			r->_pos += nl ? len + 1 : len;
			if (nl == NULL)
				return 0;
			r->_skipping = false;
			continue;
		}
		if (len > LOGREAD_LINE_MAX) {
			r->nlines++;
			r->nmalformed++;
			r->_pos += nl ? len + 1 : len;
			r->_skipping = nl == NULL;
			continue;
		}
		if (nl == NULL && (!at_end || avail == 0))
			return 0;
		*offset = r->_buf_off + (off_t)r->_pos;
		sbuf_reset(&r->_line);
		sbuf_add(&r->_line, start, len);
		sbuf_putc(&r->_line, '\0');
		r->_line.len = len; /* the NUL stays, out of the length */
		r->_pos += nl ? len + 1 : len;
		r->nlines++;
		return 1;
	}
}

int
logread_next(struct logread *r, struct logread_event *ev, bool follow)
{
	off_t offset;

	for (;;) {
		ssize_t n;

		while (take_line(r, r->eof && !follow, &offset) == 1) {
			if (r->_line.len == 0) { /* a blank line is no event and no error */
				r->nlines--;
				continue;
			}
			if (parse_line(r, offset, ev))
				return 1;
		}
		compact(r);
		if (r->eof && !follow) {
			r->eof = false; /* the next call reads again: the file may have grown */
			return 0;
		}
		n = fill(r);
		if (n == -1)
			return -1;
		if (n == 0 && follow)
			return 0;
	}
}

int
logread_seek_last_run(struct logread *r, long long *start_pid)
{
	struct logread_event ev;
	off_t last = 0;
	int rc;

	*start_pid = -1;
	while ((rc = logread_next(r, &ev, false)) == 1) {
		if (ev.kind == LOGREAD_START) {
			last = ev.offset;
			*start_pid = ev.pid;
		}
	}
	if (rc == -1)
		return -1;
	if (lseek(r->fd, last, SEEK_SET) == (off_t)-1)
		return -1;
	logread_drop_json(r);
	sbuf_reset(&r->_buf);
	r->_pos = 0;
	r->_buf_off = last;
	r->_skipping = false;
	r->eof = false;
	r->nmalformed = 0;
	r->nlines = 0;
	return 0;
}

/* --- selection ---------------------------------------------------------------------------- */

bool
logread_is_denial(const struct logread_event *ev)
{
	return (ev->kind == LOGREAD_NET || ev->kind == LOGREAD_HTTP) &&
	       (ev->decision == LOGREAD_DEC_DENY || ev->decision == LOGREAD_DEC_LEARN);
}

bool
logread_match(const struct logread_filter *f, const struct logread_event *ev)
{
	if (f->denied_only && !logread_is_denial(ev))
		return false;
	if (f->since_ms > 0 && ev->time_ms >= 0 && ev->time_ms < f->since_ms)
		return false;
	return true;
}
