/* arena: chunked bump allocator. */
#include "util/arena.h"

#include <stdint.h>
#include <string.h>

#include "util/util.h"

#define ARENA_CHUNK_BYTES 8192

struct arena_chunk {
	struct arena_chunk *next;
	size_t cap, off;
	max_align_t data[];
};

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t align = _Alignof(max_align_t);
	size_t need = (n + align - 1) & ~(align - 1);
	void *p;

	if (need < n)
		ut_bug(__FILE__, __LINE__, "arena size overflow");
	if (c == NULL || c->cap - c->off < need) {
		size_t cap = need > ARENA_CHUNK_BYTES ? need : ARENA_CHUNK_BYTES;
		c = ut_xmalloc(sizeof(*c) + cap);
		c->cap = cap;
		c->off = 0;
		c->next = a->head;
		a->head = c;
	}
	p = (char *)c->data + c->off;
	c->off += need;
	a->used += need;
	memset(p, 0, n);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

/* Doubling growth; the old block stays in the arena (freed with it). */
void *
arena_push(struct arena *a, void *arrayp, size_t *n, size_t elem)
{
	void **arr = arrayp;
	size_t cnt = *n;

	/* capacity is implicit: powers of two starting at 4 */
	if (cnt == 0 || (cnt >= 4 && (cnt & (cnt - 1)) == 0)) {
		size_t cap = cnt == 0 ? 4 : cnt * 2;
		void *nb = arena_alloc(a, cap * elem);
		if (cnt)
			memcpy(nb, *arr, cnt * elem);
		*arr = nb;
	}
	*n = cnt + 1;
	return (char *)*arr + cnt * elem;
}

void
arena_free(struct arena *a)
{
	struct arena_chunk *c = a->head;

	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->used = 0;
}
