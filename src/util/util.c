/* util: logging, numbers, bounded strings, whole-file I/O. */
#include "util/util.h"

#include <time.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

enum log_level ut_log_level = LOG_LVL_WARN;

void
ut_bug(const char *file, int line, const char *what)
{
	fprintf(stderr, "agentcage: BUG at %s:%d: %s\n", file, line, what);
	abort();
}

void
ut_close(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		*fd = -1;
		errno = saved;
	}
}

static void
vlog(enum log_level lvl, int err, const char *fmt, va_list ap)
{
	char msg[1024];

	if (lvl > ut_log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err)
		fprintf(stderr, "agentcage: %s: %s\n", msg, strerror(err));
	else
		fprintf(stderr, "agentcage: %s\n", msg);
}

#define LOG_BODY(lvl, err)                                                                 \
	do {                                                                               \
		int saved = errno;                                                         \
		va_list ap;                                                                \
		va_start(ap, fmt);                                                         \
		vlog(lvl, err, fmt, ap);                                                   \
		va_end(ap);                                                                \
		errno = saved;                                                             \
	} while (0)

void
log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_WARN, saved);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_WARN, 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_INFO, 0);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_DEBUG, 0);
}

void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERROR, saved);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERROR, 0);
	exit(1);
}

long long
ut_strtonum(const char *s, long long min, long long max, const char **errstr)
{
	char *end;
	long long v;

	*errstr = NULL;
	if (s == NULL || *s == '\0' || min > max)
		goto invalid;
	/* strtoll accepts leading blanks and '+'; a strict parser does not. */
	if (!(*s == '-' || (*s >= '0' && *s <= '9')))
		goto invalid;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || end == s)
		goto invalid;
	if ((errno == ERANGE && v == LLONG_MIN) || v < min) {
		*errstr = "too small";
		errno = ERANGE;
		return 0;
	}
	if ((errno == ERANGE && v == LLONG_MAX) || v > max) {
		*errstr = "too large";
		errno = ERANGE;
		return 0;
	}
	return v;
invalid:
	*errstr = "invalid";
	errno = EINVAL;
	return 0;
}

int
ut_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return n;
}

size_t
ut_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size > 0) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

static void *
oom(size_t n)
{
	fprintf(stderr, "agentcage: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
ut_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	return p ? p : oom(n);
}

void *
ut_xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	return p ? p : oom(n * m);
}

char *
ut_xstrdup(const char *s)
{
	char *p = strdup(s);
	return p ? p : oom(strlen(s) + 1);
}

int
ut_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
ut_read_file(const char *path, size_t max, char **out, size_t *len)
{
	cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	struct stat st;
	size_t cap, n = 0;

	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		return -1;
	}
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > max) {
		errno = EFBIG;
		return -1;
	}
	/* procfs and sysfs files report size 0: start with a page, not one byte (growing
	 * from 1 cost ~11 reads per /proc/PID/status, on the proxy's hot path). */
	cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	buf = malloc(cap);
	if (buf == NULL)
		return -1;
	for (;;) {
		ssize_t r;
		if (n + 1 >= cap) {
			char *nb;
			if (cap > max + 1) {
				errno = EFBIG;
				return -1;
			}
			nb = realloc(buf, cap * 2);
			if (nb == NULL)
				return -1;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			errno = EFBIG;
			return -1;
		}
	}
	buf[n] = '\0';
	*out = steal_ptr(&buf);
	if (len)
		*len = n;
	return 0;
}

int
ut_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *ut_args_start;
static size_t ut_args_len;

void
ut_proc_args(int argc, char **argv)
{
	size_t len = 0;

	if (argc < 1 || argv[0] == NULL)
		return;
	/* The kernel lays the strings out one after another; stop where that stops. */
	for (int i = 0; i < argc && argv[i] == argv[0] + len; i++)
		len += strlen(argv[i]) + 1;
	ut_args_start = argv[0];
	ut_args_len = len;
}

void
ut_proc_title(const char *title)
{
	if (ut_args_len == 0)
		return;
	memset(ut_args_start, 0, ut_args_len);
	ut_strlcpy(ut_args_start, title, ut_args_len);
}

long long
ut_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int
ut_read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}
