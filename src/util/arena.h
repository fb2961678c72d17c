/*
 * arena: bump allocator for data that lives and dies together (a loaded policy, a
 * compiled engine). Everything allocated from an arena is freed by arena_free().
 *
 * Context: any. Errors: allocation failure aborts with a message (policies are small
 * and bounded by POLICY_MAX_BYTES; running out of memory there is not recoverable).
 * A zero-filled struct arena is a valid empty arena.
 */
#ifndef AGENTCAGE_ARENA_H
#define AGENTCAGE_ARENA_H

#include <stddef.h>

struct arena_chunk;
struct arena {
	struct arena_chunk *head;
	size_t used; /* bytes handed out, for statistics */
};

/* Zero-filled, aligned for any type. */
void *arena_alloc(struct arena *a, size_t n);
/* Copy of <s>[0..<n>) with a NUL added. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* Grows an array of <elem>-sized items from <*n> to <*n>+1 and returns the new slot. */
void *arena_push(struct arena *a, void *arrayp, size_t *n, size_t elem);
void arena_free(struct arena *a);

#endif
