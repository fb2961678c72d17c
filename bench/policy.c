/*
 * bench/policy: cost of engine decisions on the embedded default policy. Prints, per
 * decision kind, the median and 99th percentile in nanoseconds over batches of calls;
 * the budget is an L4 median under 1 µs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/canon.h"
#include "policy/engine.h"
#include "policy/load.h"
#include "util/util.h"

#define BENCH_ROUNDS 2001 /* timed samples per decision kind */
#define BENCH_BATCH  64   /* calls per sample: clock_gettime itself costs ~20 ns */

struct bench {
	const char *what;
	const char *exe;
	const char *anc;
	const char *host;
	uint16_t port;
	const char *method; /* NULL: L4 */
	const char *target;
	bool want_allow;
};

static const struct bench benches[] = {
        {"L4 allow  claude -> api.anthropic.com:443", "/usr/local/bin/claude", NULL,
         "api.anthropic.com", 443, NULL, NULL, true},
        {"L4 allow  uv python -> pypi.org:443 (glob)",
         "/sandbox/.uv/python/cpython-3.12/bin/python3", NULL, "pypi.org", 443, NULL, NULL, true},
        {"L4 allow  node (parent claude) -> api.github.com", "/usr/bin/node",
         "/usr/local/bin/claude", "api.github.com", 443, NULL, NULL, true},
        {"L4 deny   curl -> api.anthropic.com:443", "/usr/bin/curl", NULL, "api.anthropic.com", 443,
         NULL, NULL, false},
        {"L4 deny   curl -> evil.com:443", "/usr/bin/curl", NULL, "evil.com", 443, NULL, NULL,
         false},
        {"L7 allow  git GET info/refs?service=...", "/usr/bin/git", NULL, "github.com", 443, "GET",
         "/org/repo.git/info/refs?service=git-upload-pack", true},
        {"L7 allow  gh GET /user", "/usr/bin/gh", NULL, "api.github.com", 443, "GET", "/user",
         true},
        {"L7 deny   git POST git-receive-pack", "/usr/bin/git", NULL, "github.com", 443, "POST",
         "/org/repo.git/git-receive-pack", false},
        {"L7 deny   gh POST /user/repos", "/usr/bin/gh", NULL, "api.github.com", 443, "POST",
         "/user/repos", false},
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
run(const struct engine *e, const struct bench *b, uint64_t *samples)
{
	static char canon[CANON_OUT_MAX + ENGINE_MAX_QUERY + 2];
	const char *anc[1] = {b->anc};
	struct ident id = {b->exe, anc, b->anc ? 1 : 0};
	size_t tlen = b->target ? strlen(b->target) : 0;
	struct decision d;

	for (int r = 0; r < BENCH_ROUNDS; r++) {
		uint64_t t0 = now_ns();
		for (int k = 0; k < BENCH_BATCH; k++) {
			if (b->method)
				engine_decide_request(e, &id, b->host, b->port, b->method,
				                      b->target, tlen, &d, canon, sizeof(canon));
			else
				engine_decide_connect(e, &id, b->host, b->port, &d);
		}
		samples[r] = (now_ns() - t0) / BENCH_BATCH;
	}
	if (d.allow != b->want_allow) {
		fprintf(stderr, "bench/policy: %s: unexpected %s: %s\n", b->what,
		        d.allow ? "allow" : "deny", d.reason);
		return -1;
	}
	qsort(samples, BENCH_ROUNDS, sizeof(*samples), cmp_u64);
	return 0;
}

int
main(void)
{
	static uint64_t samples[BENCH_ROUNDS];
	struct policy *p = NULL;
	struct diag d = {0};
	struct engine *e;
	int rc = 0;

	if (policy_load_default(&d, &p) == -1) {
		diag_print(&d, stderr);
		diag_free(&d);
		return 1;
	}
	diag_free(&d);
	e = engine_new(p);
	printf("%-52s %10s %10s\n", "decision (default policy)", "median ns", "p99 ns");
	for (size_t i = 0; i < NELEM(benches); i++) {
		if (run(e, &benches[i], samples) == -1) {
			rc = 1;
			continue;
		}
		printf("%-52s %10llu %10llu\n", benches[i].what,
		       (unsigned long long)samples[BENCH_ROUNDS / 2],
		       (unsigned long long)samples[BENCH_ROUNDS * 99 / 100]);
	}
	engine_free(e);
	policy_free(p);
	return rc;
}
