/* TEMPORARY timing probes (perf helper); removed before hand-off. */
#ifndef TT_TMP_H
#define TT_TMP_H
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static inline void
tt(const char *l)
{
	struct timespec t;

	if (getenv("AC_TT") == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	dprintf(2, "TT %.3f %d %s\n", (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6, (int)getpid(), l);
}
#endif
