/*
 * t.h: the unit-test harness. Each test program prints TAP lines ("ok N - what",
 * "not ok N - what", "ok N # skip why") that tests/run counts; t_done() returns the
 * exit status. Header-only so a test is one file.
 */
#ifndef AGENTCAGE_T_H
#define AGENTCAGE_T_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int t_n, t_failed;

#define T_UNUSED __attribute__((unused))

T_UNUSED __attribute__((format(printf, 4, 5))) static int
t_check(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", ++t_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok) {
		printf(" (%s:%d)", file, line);
		t_failed++;
	}
	printf("\n");
	fflush(stdout);
	return ok;
}

#define T_OK(cond, ...) t_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* Compares two strings (NULL-safe) and shows both on failure. */
#define T_STREQ(got, want, ...)                                                            \
	do {                                                                               \
		const char *t_g_ = (got), *t_w_ = (want);                                  \
		int t_ok_ = (t_g_ && t_w_) ? strcmp(t_g_, t_w_) == 0 : t_g_ == t_w_;        \
		if (!T_OK(t_ok_, __VA_ARGS__))                                             \
			printf("#   got:  %s\n#   want: %s\n", t_g_ ? t_g_ : "(null)",     \
			       t_w_ ? t_w_ : "(null)");                                    \
	} while (0)

/* Checks that <hay> contains <needle>. */
#define T_CONTAINS(hay, needle, ...)                                                       \
	do {                                                                               \
		const char *t_h_ = (hay), *t_n_ = (needle);                                \
		if (!T_OK(t_h_ && strstr(t_h_, t_n_), __VA_ARGS__))                        \
			printf("#   in:   %s\n#   want: %s\n", t_h_ ? t_h_ : "(null)", t_n_); \
	} while (0)

T_UNUSED __attribute__((format(printf, 1, 2))) static void
t_skip(const char *fmt, ...)
{
	va_list ap;

	printf("ok %d # skip ", ++t_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

T_UNUSED static int
t_done(void)
{
	printf("1..%d\n", t_n);
	return t_failed ? 1 : 0;
}

#endif
