/* fuzz_h1msg: libFuzzer target for HTTP/1.1 message framing on an opened stream
 * (proxy/h1msg.h). The input (after two control bytes) is played as a request stream and
 * as a response stream, once whole and once cut into pieces whose size comes from the
 * first control byte: body counts must never exceed the bytes offered, heads must lie
 * within the buffer, bad results must carry a reason and status, and both feedings must
 * give the same sequence of events (framing must not depend on how TCP cut the bytes). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/h1msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EV_MAX 64	/* events compared per stream */

struct drv {
	enum h1msg_kind kind;
	unsigned flags;		/* response: bit i%8 = message i answers HEAD; bit 7 CONNECT */
	struct h1msg m;
	char *buf;
	size_t have, seen, nmsg;
	bool in_body, failed;
	uint64_t body_bytes;
	uint64_t ev[EV_MAX];	/* per message: head length, body kind, body bytes, ... */
	size_t nev;
};

static void
ev(struct drv *d, uint64_t v)
{
	if (d->nev < EV_MAX)
		d->ev[d->nev++] = v;
}

static void
next(struct drv *d)
{
	h1msg_init(&d->m, d->kind, (d->flags >> (d->nmsg % 7)) & 1u, (d->flags & 0x80u) != 0);
}

static void
consume(struct drv *d, size_t n)
{
	if (n > d->have)
		__builtin_trap();
	memmove(d->buf, d->buf + n, d->have - n);
	d->have -= n;
}

static void
on_head(struct drv *d, int r)
{
	struct h1msg *m = &d->m;

	if ((size_t)r > d->have || r > HTTP1_MAX_HEAD || m->nhdrs > HTTP1_MAX_HEADERS)
		__builtin_trap();
	for (size_t i = 0; i < m->nhdrs; i++)
		if (m->hdrs[i].name.p < d->buf || m->hdrs[i].value.p + m->hdrs[i].value.len >
							  d->buf + r)
			__builtin_trap();
	if (m->body == H1MSG_BODY_LENGTH && m->length == 0)
		__builtin_trap();
	if ((m->body == H1MSG_BODY_UNTIL_CLOSE || m->body == H1MSG_BODY_TUNNEL) &&
	    m->keep_alive)
		__builtin_trap();
	ev(d, (uint64_t)r);
	ev(d, (uint64_t)m->body << 8 | (uint64_t)m->keep_alive << 1 | m->interim);
}

static void
feed(struct drv *d, const char *p, size_t n)
{
	struct h1msg *m = &d->m;

	if (d->failed)
		return;
	memcpy(d->buf + d->have, p, n);
	d->have += n;
	for (;;) {
		bool done = false;
		ssize_t c;

		if (!d->in_body) {
			int r = h1msg_head(m, d->buf, d->have, d->seen);

			if (r == HTTP1_PARTIAL) {
				d->seen = d->have;
				return;
			}
			if (r == HTTP1_BAD) {
				if (m->err == NULL || (m->err_status != 400 && m->err_status != 431 &&
						       m->err_status != 502))
					__builtin_trap();
				ev(d, 1000u + (unsigned)m->err_status);
				d->failed = true;
				return;
			}
			if (r < 0)
				__builtin_trap();
			on_head(d, r);
			consume(d, (size_t)r);
			d->seen = 0;
			d->in_body = true;
			d->body_bytes = 0;
		}
		c = h1msg_body(m, d->buf, d->have, &done);
		if (c < 0) {
			if (c != -1 || m->err == NULL)
				__builtin_trap();
			ev(d, 2000);
			d->failed = true;
			return;
		}
		consume(d, (size_t)c);
		d->body_bytes += (uint64_t)c;
		if (!done) {
			if (d->have != 0)	/* not done means every offered byte was taken */
				__builtin_trap();
			return;
		}
		ev(d, d->body_bytes);
		d->in_body = false;
		d->nmsg++;
		next(d);
	}
}

static void
play(struct drv *d, enum h1msg_kind kind, unsigned flags, const char *s, size_t len,
     size_t piece)
{
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->flags = flags;
	d->buf = malloc(len + 1);
	if (d->buf == NULL)
		abort();
	next(d);
	for (size_t off = 0; off < len; off += piece)
		feed(d, s + off, len - off < piece ? len - off : piece);
	if (!d->failed && d->in_body)
		ev(d, 3000 + d->body_bytes);
	free(d->buf);
	d->buf = NULL;
}

static void
both_ways(enum h1msg_kind kind, unsigned flags, const char *s, size_t len, size_t piece)
{
	static struct drv whole, cut;

	play(&whole, kind, flags, s, len, len > 0 ? len : 1);
	play(&cut, kind, flags, s, len, piece);
	if (whole.nev != cut.nev || memcmp(whole.ev, cut.ev, whole.nev * sizeof(uint64_t)) != 0)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t piece;
	unsigned flags;

	if (size < 2)
		return 0;
	piece = (size_t)(data[0] % 64) + 1;
	flags = data[1];
	both_ways(H1MSG_REQUEST, 0, (const char *)data + 2, size - 2, piece);
	both_ways(H1MSG_RESPONSE, flags, (const char *)data + 2, size - 2, piece);
	return 0;
}
