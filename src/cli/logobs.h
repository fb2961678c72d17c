/*
 * cli/logobs: what `agentcage policy suggest` learns from a sandbox log — the selected
 * run's would-be denials (decision "learn") and actual policy denials (decision "deny"
 * with error "policy_denied") from net and http lines, aggregated per (binary, host,
 * port, method, path without its query), with a count and the first reason seen.
 *
 * Denials that are not policy decisions (an unreachable upstream, a private address,
 * a malformed request) are not observations: no policy addition would change them.
 *
 * Context: CLI. Errors: 0 / -1 with errno. Ownership: a struct logobs_set owns every
 * string in it; logobs_free() releases them. A zero-filled set is empty.
 */
#ifndef AGENTCAGE_CLI_LOGOBS_H
#define AGENTCAGE_CLI_LOGOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/logread.h"

/* Distinct observations kept; a run that produced more is refused (E2BIG) rather than
 * turned into a policy nobody can review. */
#define LOGOBS_MAX 4096

struct logobs {
	char *binary; /* NULL when the log did not know it */
	char *host;
	uint16_t port;
	char *method; /* NULL: an L4 (connection) observation */
	char *path;   /* query removed; NULL for L4 */
	char *address; /* L4: the dialled address (part of the key: each one a policy may
	                * have to list in allowed_ips), or NULL */
	char *reason; /* the first reason logged for it */
	unsigned count;
	bool learned; /* at least one came from learn mode (else all were denials) */
};

struct logobs_set {
	struct logobs *v; /* sorted by binary, host, port, method, path after collecting */
	size_t n, cap;
	unsigned nlearn, ndeny; /* lines counted, before aggregation */
	/* the run's "start" line, when the selection has one (else NULL / -1) */
	char *start_time, *policy_source, *policy_sha256;
	long long start_pid;
	unsigned npolicy_changes; /* "policy" lines with result "loaded" */
	char *last_policy_source; /* the source of the last of them */
};

/* True when <ev> is an observation (a net or http line, "learn" or a policy "deny"). */
bool logobs_is_observation(const struct logread_event *ev);

/*
 * Reads every remaining event of <r> (placed on the run, see logread_seek_last_run)
 * into <s>: observations aggregated and sorted, the start line's facts, the live
 * policy changes. -1 and errno on a read error, or E2BIG past LOGOBS_MAX distinct
 * observations (<s> keeps what it had; the caller still frees it).
 */
int logobs_collect(struct logread *r, struct logobs_set *s);

/* Frees everything <s> holds; it is empty again afterwards. */
void logobs_free(struct logobs_set *s);

#endif
