/* policy/suggest_yaml: writes the blocks policy/suggest decided on (contract in
 * suggest.h): keys, comments naming the observations, endpoints and allow rules with
 * the one path generalisation suggest.h documents. */
#include <stdlib.h>
#include <string.h>

#include "policy/addr.h"
#include "policy/emit.h"
#include "policy/suggest_int.h"
#include "util/sbuf.h"
#include "util/util.h"

#define SUG_KEY_MAX       (ENGINE_MAX_HOST + 32) /* learn_<host>_<n> */
#define SUG_COMMENT_PATHS 8                      /* observed paths listed above one rule */

/* <s> inside a comment: printable ASCII only (a NEL or LS would end a YAML comment
 * line), cut at <max> bytes. */
void
sug_comment_text(struct sbuf *b, const char *s, size_t max)
{
	size_t n = 0;

	for (const unsigned char *c = (const unsigned char *)s; *c; c++, n++) {
		if (n == max) {
			sbuf_puts(b, "...");
			return;
		}
		sbuf_putc(b, *c >= 0x20 && *c < 0x7f ? (char)*c : '?');
	}
}

/* <s>[0..<n>) as a glob matching exactly it: `*`, `?` and `[` become one-byte classes
 * (policy globs have no escape character). */
static void
sug_glob_literal(struct sbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '*' || s[i] == '?' || s[i] == '[') {
			sbuf_putc(b, '[');
			sbuf_putc(b, s[i]);
			sbuf_putc(b, ']');
		} else {
			sbuf_putc(b, s[i]);
		}
	}
}

static bool
sug_key_taken(const struct sug *s, const char *key)
{
	for (size_t i = 0; i < s->base->nblocks; i++)
		if (!strcmp(s->base->blocks[i].key, key))
			return true;
	for (size_t i = 0; i < s->nkeys; i++)
		if (!strcmp(s->keys[i], key))
			return true;
	return false;
}

/* learn_<host>, or learn_<host>_<n> when taken; remembered so later blocks differ. */
static const char *
sug_key(struct sug *s, const char *host)
{
	char stem[SUG_KEY_MAX], key[SUG_KEY_MAX];
	size_t off = strlen("learn_");

	memcpy(stem, "learn_", off);
	for (const char *c = host; *c && off < sizeof(stem) - 1; c++)
		stem[off++] = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ? *c : '_';
	stem[off] = '\0';
	ut_strlcpy(key, stem, sizeof(key));
	for (unsigned i = 2; sug_key_taken(s, key); i++)
		(void)ut_snprintf(key, sizeof(key), "%s_%u", stem, i);
	s->keys = realloc(s->keys, (s->nkeys + 1) * sizeof(*s->keys));
	if (s->keys == NULL)
		fatal("suggest: out of memory");
	s->keys[s->nkeys] = ut_xstrdup(key);
	return s->keys[s->nkeys++];
}

/* One observed request, for the rules of one endpoint. */
struct sug_req {
	const struct sug_item *it;
	size_t parent_len; /* bytes up to and including the last `/` */
};

static int
sug_req_cmp(const void *pa, const void *pb)
{
	const struct sug_req *a = pa, *b = pb;
	size_t m = a->parent_len < b->parent_len ? a->parent_len : b->parent_len;
	int c;

	if ((c = strcmp(a->it->method, b->it->method)))
		return c;
	if ((c = memcmp(a->it->o->path, b->it->o->path, m)))
		return c;
	if (a->parent_len != b->parent_len)
		return a->parent_len < b->parent_len ? -1 : 1;
	if ((c = strcmp(a->it->o->path, b->it->o->path)))
		return c;
	return strcmp(a->it->o->binary, b->it->o->binary);
}

static bool
sug_same_parent(const struct sug_req *a, const struct sug_req *b)
{
	return !strcmp(a->it->method, b->it->method) && a->parent_len == b->parent_len &&
	       !memcmp(a->it->o->path, b->it->o->path, a->parent_len);
}

/* The comment above a rule: the paths with counts, the binaries, one reason. */
static void
sug_rule_comment(struct sbuf *b, const struct sug_req *r, size_t n)
{
	const char *reason = NULL;
	size_t shown = 0;

	sbuf_printf(b, "          # %s", r[0].it->method);
	for (size_t i = 0; i < n; i++) {
		unsigned cnt = sug_count(r[i].it->o);

		while (i + 1 < n && !strcmp(r[i + 1].it->o->path, r[i].it->o->path))
			cnt += sug_count(r[++i].it->o); /* same path, other binaries */
		if (shown++ == SUG_COMMENT_PATHS) {
			sbuf_puts(b, " ...");
			break;
		}
		sbuf_puts(b, shown > 1 ? ", " : " ");
		sug_comment_text(b, r[i].it->o->path, SUGGEST_REASON_SHOWN);
		sbuf_printf(b, " (%ux)", cnt);
	}
	sbuf_puts(b, " by");
	for (size_t i = 0, nbins = 0; i < n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen |= !strcmp(r[j].it->o->binary, r[i].it->o->binary);
		if (!seen) {
			sbuf_puts(b, nbins++ ? ", " : " ");
			sug_comment_text(b, r[i].it->o->binary, SUGGEST_REASON_SHOWN);
		}
		if (reason == NULL)
			reason = r[i].it->o->reason;
	}
	if (reason) {
		sbuf_puts(b, "; denied: ");
		sug_comment_text(b, reason, SUGGEST_REASON_SHOWN);
	}
	sbuf_putc(b, '\n');
}

static void
sug_rule(struct sbuf *b, const struct sug_req *r, size_t n, const char *pattern)
{
	sug_rule_comment(b, r, n);
	sbuf_printf(b, "          - allow:\n              method: %s\n              path: ",
	            r[0].it->method);
	policy_emit_scalar(b, pattern);
	sbuf_putc(b, '\n');
}

/*
 * The rules of one method and parent: <parent>* when two or more distinct non-empty
 * last segments were seen under a parent other than `/`, else one rule per path.
 * <r> is sorted by path, so paths with an empty last segment come first.
 */
static void
sug_rules_parent(struct sbuf *b, const struct sug_req *r, size_t n)
{
	struct sbuf pat = {0};
	size_t first = 0, distinct = 0;

	while (first < n && r[first].it->o->path[r[first].parent_len] == '\0')
		first++;
	for (size_t i = first; i < n; i++)
		distinct += i == first || strcmp(r[i].it->o->path, r[i - 1].it->o->path);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		if (i == first && distinct >= 2 && r[i].parent_len > 1) {
			sug_glob_literal(&pat, r[i].it->o->path, r[i].parent_len);
			sbuf_putc(&pat, '*');
			j = n;
		} else {
			while (j < n && !strcmp(r[j].it->o->path, r[i].it->o->path))
				j++;
			sug_glob_literal(&pat, r[i].it->o->path, strlen(r[i].it->o->path));
		}
		sug_rule(b, &r[i], j - i, sbuf_str(&pat));
		sbuf_reset(&pat);
		i = j;
	}
	sbuf_free(&pat);
}

static void
sug_rules(struct sbuf *b, const struct sug_unit *u)
{
	struct sug_req *r = ut_xcalloc(u->nitems, sizeof(*r));

	for (size_t i = 0; i < u->nitems; i++) {
		r[i].it = u->items[i];
		r[i].parent_len =
		        (size_t)(strrchr(u->items[i]->o->path, '/') - u->items[i]->o->path) + 1;
	}
	qsort(r, u->nitems, sizeof(*r), sug_req_cmp);
	sbuf_puts(b, "        rules:\n");
	for (size_t i = 0; i < u->nitems;) {
		size_t j = i + 1;

		while (j < u->nitems && sug_same_parent(&r[i], &r[j]))
			j++;
		sug_rules_parent(b, &r[i], j - i);
		i = j;
	}
	free(r);
}

/* The comment above a connection endpoint: binaries with counts, one reason. */
static void
sug_conn_comment(struct sbuf *b, const struct sug_unit *u)
{
	const char *reason = NULL;
	bool first = true;

	sbuf_puts(b, "      # connections from");
	for (size_t i = 0; i < u->nitems; i++) {
		unsigned cnt = sug_count(u->items[i]->o);

		if (reason == NULL)
			reason = u->items[i]->o->reason;
		while (i + 1 < u->nitems &&
		       !strcmp(u->items[i + 1]->o->binary, u->items[i]->o->binary))
			cnt += sug_count(u->items[++i]->o);
		sbuf_puts(b, first ? " " : ", ");
		first = false;
		sug_comment_text(b, u->items[i]->o->binary, SUGGEST_REASON_SHOWN);
		sbuf_printf(b, " (%ux)", cnt);
	}
	if (reason) {
		sbuf_puts(b, "; denied: ");
		sug_comment_text(b, reason, SUGGEST_REASON_SHOWN);
	}
	sbuf_putc(b, '\n');
}

/* True when <ip> is an address only allowed_ips opens (learn mode dials private ones). */
static bool
sug_needs_allowed_ip(const char *ip)
{
	struct addr a;

	return ip != NULL && addr_parse(ip, strlen(ip), &a) == 0 && addr_classify(&a) != ADDR_PUBLIC;
}

/* allowed_ips for an L4 unit: each distinct non-public address its connections dialled,
 * exactly (a /32 or /128: the smallest addition, a range is the author's call). */
static void
sug_allowed_ips(struct sbuf *b, const struct sug_unit *u)
{
	bool any = false;

	for (size_t i = 0; i < u->nitems; i++) {
		const char *ip = u->items[i]->o->address;
		bool seen = false;

		if (!sug_needs_allowed_ip(ip))
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = u->items[j]->o->address != NULL && !strcmp(u->items[j]->o->address, ip);
		if (seen)
			continue;
		sbuf_puts(b, any ? ", " : "        allowed_ips: [");
		policy_emit_scalar(b, ip);
		any = true;
	}
	if (any)
		sbuf_puts(b, "]\n");
}

/* The base endpoint's allowed_ips, copied to an L7 endpoint made in its likeness: without
 * them the new endpoint would refuse the private address the base one admits. */
static void
sug_copy_allowed_ips(struct sbuf *b, const struct pol_endpoint *t)
{
	for (size_t i = 0; i < t->nallowed_ips; i++) {
		sbuf_puts(b, i ? ", " : "        allowed_ips: [");
		policy_emit_scalar(b, t->allowed_ips[i]);
	}
	if (t->nallowed_ips > 0)
		sbuf_puts(b, "]\n");
}

static void
sug_endpoint(struct sbuf *b, const struct sug_unit *u)
{
	const struct sug_item *it = u->items[0];
	const struct pol_endpoint *t = it->tmpl;

	if (!it->l7) {
		sug_conn_comment(b, u);
		sbuf_puts(b, "      - host: ");
		policy_emit_scalar(b, it->host);
		sbuf_printf(b, "\n        port: %u\n", it->o->port);
		sug_allowed_ips(b, u);
		return;
	}
	sbuf_puts(b, "      # requests, inspected like the base's endpoint in block ");
	sug_comment_text(b, it->tmpl_block, SUGGEST_REASON_SHOWN);
	sbuf_putc(b, '\n');
	sbuf_puts(b, "      - host: ");
	policy_emit_scalar(b, it->host);
	sbuf_printf(b, "\n        port: %u\n", it->o->port);
	if (it->selector) {
		sbuf_puts(b, "        path: ");
		policy_emit_scalar(b, it->selector);
		sbuf_putc(b, '\n');
	}
	/* other L7 protocols' rules are not method + path: such requests become rest */
	sbuf_printf(b, "        protocol: %s\n",
	            t->protocol == POL_PROTO_WEBSOCKET ? "websocket" : "rest");
	if (t->tls == POL_TLS_SKIP)
		sbuf_puts(b, "        tls: skip\n");
	if (t->enforcement_set || t->enforcement == POL_ENF_ENFORCE)
		sbuf_printf(b, "        enforcement: %s\n",
		            t->enforcement == POL_ENF_ENFORCE ? "enforce" : "audit");
	if (t->allow_encoded_slash)
		sbuf_puts(b, "        allow_encoded_slash: true\n");
	sug_copy_allowed_ips(b, t);
	sug_rules(b, u);
}

/* One block: units[from..to) share the host and binary set. */
static void
sug_block(struct sug *s, struct sbuf *b, size_t from, size_t to)
{
	const struct sug_unit *u0 = &s->units[from];
	unsigned events = 0;
	size_t nobs = 0;

	for (size_t i = from; i < to; i++) {
		nobs += s->units[i].nitems;
		for (size_t j = 0; j < s->units[i].nitems; j++)
			events += sug_count(s->units[i].items[j]->o);
	}
	sbuf_printf(b, "  # learned from %zu observation%s (%u event%s) of %s by ", nobs,
	            nobs == 1 ? "" : "s", events, events == 1 ? "" : "s", u0->items[0]->host);
	for (const char *c = u0->bins; *c; c++) {
		if (*c == '\n')
			sbuf_puts(b, ", ");
		else
			sbuf_putc(b, *c >= 0x20 && *c < 0x7f ? *c : '?'); /* as sug_comment_text */
	}
	sbuf_puts(b, "\n  ");
	policy_emit_scalar(b, sug_key(s, u0->items[0]->host));
	sbuf_puts(b, ":\n    endpoints:\n");
	for (size_t i = from; i < to; i++)
		sug_endpoint(b, &s->units[i]);
	sbuf_puts(b, "    binaries:\n");
	for (const char *c = u0->bins; *c;) {
		const char *end = strchr(c, '\n');
		size_t n = end ? (size_t)(end - c) : strlen(c);
		struct sbuf lit = {0};

		sug_glob_literal(&lit, c, n);
		sbuf_puts(b, "      - path: ");
		policy_emit_scalar(b, sbuf_str(&lit));
		sbuf_putc(b, '\n');
		sbuf_free(&lit);
		c += n + (end != NULL);
	}
	s->nblocks++;
}

void
sug_write(struct sug *s, struct sbuf *b)
{
	for (size_t i = 0; i < s->nunits;) {
		size_t j = i + 1;

		while (j < s->nunits &&
		       !strcmp(s->units[j].items[0]->host, s->units[i].items[0]->host) &&
		       !strcmp(s->units[j].bins, s->units[i].bins))
			j++;
		sug_block(s, b, i, j);
		i = j;
	}
}
