/*
 * policy/suggest_int: what suggest.c (classification, grouping, the check) and
 * suggest_yaml.c (writing the blocks) share. Internal to policy/suggest.
 *
 * Context: CLI; pure. Ownership: a struct sug owns its arrays (freed by suggest.c);
 * items point into the caller's observations and the base policy.
 */
#ifndef AGENTCAGE_POLICY_SUGGEST_INT_H
#define AGENTCAGE_POLICY_SUGGEST_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/engine.h"
#include "policy/suggest.h"

struct sbuf;

#define SUG_METHOD_MAX 16 /* bytes of an HTTP method, NUL included */

enum sug_verdict {
	SUG_ALLOWED = 0, /* the base allows it: nothing to add */
	SUG_ADD,         /* an addition allows it */
	SUG_BLOCKED,     /* a base deny rule matches: no addition can allow it */
	SUG_UNUSABLE,    /* no binary, host or port usable in a policy */
};

/* One observation as classified. */
struct sug_item {
	const struct sug_obs *o;
	char host[ENGINE_MAX_HOST + 3]; /* normalised: lower case, no trailing dot */
	enum sug_verdict v;
	bool l7;                         /* added as requests on an inspected endpoint */
	const struct pol_endpoint *tmpl; /* l7: base endpoint whose protocol/tls are copied */
	size_t tmpl_idx;                 /* its place in the base, for a stable order */
	const char *tmpl_block;          /* key of the block holding it */
	const char *selector;            /* l7: endpoint path selector; NULL = every path */
	const char *why;                 /* SUG_UNUSABLE: what is wrong */
	char method[SUG_METHOD_MAX];     /* l7: upper-cased */
	char reason[ENGINE_REASON_MAX];  /* SUG_BLOCKED: the engine's words */
};

/* Observations of one host, port and kind: one endpoint. */
struct sug_unit {
	struct sug_item **items; /* a run of the sorted item pointers */
	size_t nitems;
	char *bins; /* sorted distinct binaries, '\n'-joined */
};

struct sug {
	const struct policy *base;
	struct sug_item *items;
	size_t nitems;
	struct sug_item **add; /* the SUG_ADD items, sorted */
	size_t nadd;
	struct sug_unit *units;
	size_t nunits;
	char **keys; /* keys given to new blocks */
	size_t nkeys, nblocks;
};

/* How many times <o> was seen (a count of 0 is read as 1). */
static inline unsigned
sug_count(const struct sug_obs *o)
{
	return o->count ? o->count : 1;
}

/* Appends <s> for a comment or message: printable ASCII only (a NEL or LS would end a
 * YAML comment line), cut at <max> bytes with "...". */
void sug_comment_text(struct sbuf *b, const char *s, size_t max);

/* Writes the blocks of <s>'s units (sorted by block) to <b>; names each with a key the
 * base and earlier blocks do not hold, and counts them in s->nblocks. */
void sug_write(struct sug *s, struct sbuf *b);

#endif
