/*
 * util: small helpers every part of agentcage uses. Knows nothing of any part.
 *
 * Context: any (supervisor, proxy loop, pre-exec child).
 * Errors: functions return 0 / -1 with errno set unless stated otherwise; none exits,
 * except fatal()/fatalx(), which only cli/ and the pre-exec child may call.
 * Logging keeps errno intact.
 */
#ifndef AGENTCAGE_UTIL_H
#define AGENTCAGE_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define AGENTCAGE_VERSION "0.1.0"

/* Bounded string functions only (house rule 6). string.h and stdio.h come first so their
 * fortified inline definitions are not poisoned. */
#pragma GCC poison strcpy strcat sprintf vsprintf strtok atoi gets

/* Invariant check for debug and test builds; bad input is an error path, never a BUG_ON. */
#ifdef AGENTCAGE_DEBUG
#define BUG_ON(cond)                                                                       \
	do {                                                                               \
		if (cond)                                                                  \
			ut_bug(__FILE__, __LINE__, #cond);                                 \
	} while (0)
#else
#define BUG_ON(cond) ((void)sizeof(cond))
#endif
_Noreturn void ut_bug(const char *file, int line, const char *what);

/* --- scope cleanup (bubblewrap style); ownership leaves through steal_ptr() --- */
static inline void
ut_cleanup_free(void *p)
{
	free(*(void **)p);
}
static inline void
ut_cleanup_fd(const int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
#define cleanup_free __attribute__((cleanup(ut_cleanup_free)))
#define cleanup_fd   __attribute__((cleanup(ut_cleanup_fd)))

static inline void *
ut_steal_ptr(void *pp)
{
	void **p = pp;
	void *r = *p;
	*p = NULL;
	return r;
}
#define steal_ptr(pp) ut_steal_ptr(pp)

static inline int
ut_steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

/* Closes *<fd> if open and sets it to -1; keeps errno. */
void ut_close(int *fd);

/* --- logging (relayd's verbs) --- */
enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};
/* Messages at or below this level reach stderr; default LOG_LVL_WARN. */
extern enum log_level ut_log_level;

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* + strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* no errno */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- numbers and strings --- */

/*
 * Parses a decimal integer in [<min>, <max>] from the whole of <s>. On error returns 0,
 * sets *<errstr> to "invalid", "too small" or "too large" and errno to EINVAL/ERANGE;
 * on success *<errstr> is NULL.
 */
long long ut_strtonum(const char *s, long long min, long long max, const char **errstr);

/* snprintf that reports truncation: -1 with errno ENAMETOOLONG when <buf> is too small. */
int ut_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* strlcpy semantics: returns strlen(<src>); truncated when the result is >= <size>. */
size_t ut_strlcpy(char *dst, const char *src, size_t size);

/* Allocation that cannot fail quietly: aborts with a message on ENOMEM (tiny sizes only). */
void *ut_xmalloc(size_t n);
void *ut_xcalloc(size_t n, size_t m);
char *ut_xstrdup(const char *s);

/* --- I/O --- */

/* Retries <expr> while it fails with EINTR. */
#define TEMP_FAILURE_RETRY_INT(expr)                                                       \
	({                                                                                 \
		long _r;                                                                   \
		do                                                                         \
			_r = (long)(expr);                                                 \
		while (_r == -1 && errno == EINTR);                                        \
		_r;                                                                        \
	})

/* Writes all of <buf>; -1 and errno on error. */
int ut_write_all(int fd, const void *buf, size_t len);

/* Reads exactly <len> bytes into <buf> (EINTR retried); -1 and errno on error, EPIPE
 * when the stream ends first (the writer gave up). */
int ut_read_full(int fd, void *buf, size_t len);

/*
 * Reads a whole file of at most <max> bytes into a NUL-terminated malloc'd buffer.
 * -1 and errno on error (EFBIG when larger than <max>). Caller frees *<out>.
 */
int ut_read_file(const char *path, size_t max, char **out, size_t *len);

/* CLOCK_MONOTONIC_COARSE in milliseconds (timeouts, durations in logs). */
long long ut_now_ms(void);

/* The value of hex digit <c> (0-9, a-f, A-F), or -1. */
int ut_hexval(int c);

/*
 * The process's own command line, as /proc/PID/cmdline shows it to everyone: main()
 * hands over its argv with ut_proc_args() before anything reorders it; ut_proc_title()
 * then overwrites those strings in place with <title> (truncated to fit, the rest zeroed),
 * so a process forked from this one (the sandbox's init) does not show the host's
 * command line (paths, --env values) to the sandbox. No-op before ut_proc_args().
 */
void ut_proc_args(int argc, char **argv);
void ut_proc_title(const char *title);

#endif
