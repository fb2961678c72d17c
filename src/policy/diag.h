/*
 * policy/diag: located diagnostics (errors and warnings) collected while loading a
 * policy, printed for humans ("FILE:LINE:COL: error: FIELD: MESSAGE") or as JSON.
 *
 * Context: supervisor and CLI. Errors: none; allocation failure aborts (messages are
 * small and bounded by the policy size). Ownership: a struct diag owns every string
 * of its items; diag_free() releases them. A zero-filled struct diag is empty.
 */
#ifndef AGENTCAGE_POLICY_DIAG_H
#define AGENTCAGE_POLICY_DIAG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy/model.h"
#include "util/sbuf.h"

enum diag_sev {
	DIAG_ERROR = 0,
	DIAG_WARNING,
};

struct diag_item {
	enum diag_sev sev;
	char *file;
	uint32_t line, col; /* 1-based; line 0 = the whole file */
	char *field;        /* field path, e.g. network_policies.x.endpoints[0].port; may be NULL */
	char *msg;          /* what is wrong, what is accepted, and a hint */
};

struct diag {
	struct diag_item *items;
	size_t n, cap;
	size_t nerrors, nwarnings;
}; /* zero-init = empty */

/*
 * Appends one item. <file> and <field> may be NULL; <m> line 0 means the whole file.
 * The message is formatted from <fmt>; every string is copied.
 */
void diag_add(struct diag *d, enum diag_sev sev, const char *file, struct pol_mark m,
	      const char *field, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Prints one line per item: "FILE:LINE:COL: error: FIELD: MESSAGE" ("warning" for
 * warnings; ":LINE:COL" left out for line 0, "FIELD: " left out when NULL). */
void diag_print(const struct diag *d, FILE *f);

/* Appends a JSON array of {"severity","file","line","col","field","message"} to <b>. */
void diag_json(const struct diag *d, struct sbuf *b);
/* The same, only the items of severity <sev> (an enum diag_sev; -1 = all). */
void diag_json_sev(const struct diag *d, int sev, struct sbuf *b);

/* Frees every item; <d> is empty again afterwards. */
void diag_free(struct diag *d);

#endif
