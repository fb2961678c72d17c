/* policy/suggest: the smallest additions that allow what learn mode observed (contract
 * in suggest.h). Three passes: classify each observation against the base engine,
 * group what must be added into units (host, port, kind) and blocks (host, binary set),
 * write the YAML; then check the result with a fresh engine. */
#include "policy/suggest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/canon.h"
#include "policy/emit.h"
#include "policy/engine.h"
#include "policy/glob.h"
#include "policy/load.h"
#include "policy/suggest_int.h"
#include "util/sbuf.h"
#include "util/util.h"

#define SUG_CANON_LEN (CANON_OUT_MAX + ENGINE_MAX_QUERY + 2) /* engine.h */

static int
sug_strcmp0(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

/* --- classification --- */

/* Lower-cases <in> into <out>, strips IPv6 brackets and one trailing dot; NULL when
 * usable, else why not. */
static const char *
sug_host(const char *in, char *out)
{
	size_t n = in ? strlen(in) : 0;
	unsigned char v6[16];

	if (n && in[0] == '[' && in[n - 1] == ']') {
		in++;
		n -= 2;
	}
	if (n && in[n - 1] == '.')
		n--;
	if (n == 0 || n > ENGINE_MAX_HOST)
		return "no usable host";
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] - 'A' + 'a' : in[i]);
	out[n] = '\0';
	if (strchr(out, ':'))
		return inet_pton(AF_INET6, out, v6) == 1 ? NULL : "host is not a name or address";
	if (out[0] == '.' || strstr(out, ".."))
		return "host has an empty label";
	if (strspn(out, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != n)
		return "host holds characters a policy host cannot";
	return NULL;
}

static const char *
sug_usable(const struct sug_obs *o)
{
	if (o->binary == NULL || o->binary[0] != '/')
		return "no absolute binary path";
	for (const unsigned char *c = (const unsigned char *)o->binary; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return "binary path holds control characters";
	if (o->port == 0)
		return "no port";
	if (o->method && (o->path == NULL || o->path[0] != '/'))
		return "a request without an absolute path";
	if (o->method &&
	    (o->method[0] == '\0' || strlen(o->method) >= SUG_METHOD_MAX ||
	     strspn(o->method, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-") !=
	             strlen(o->method)))
		return "a request with an unusable method";
	return NULL;
}

static bool
sug_binary_in(const struct pol_block *b, const char *exe)
{
	for (size_t i = 0; i < b->nbinaries; i++) {
		const char *p = b->binaries[i].path;

		if (glob_has_meta(p) ? glob_path_match(p, strlen(p), exe, strlen(exe))
		                     : !strcmp(p, exe))
			return true;
	}
	return false;
}

/* An endpoint with request rules (any L7 protocol) for <host>:<port>. */
static bool
sug_l7_endpoint(const struct pol_endpoint *ep, const char *host, uint16_t port)
{
	bool port_ok = false;

	if (ep->protocol == POL_PROTO_L4 || ep->protocol == POL_PROTO_TCP || ep->host[0] == '\0')
		return false;
	for (size_t i = 0; i < ep->nports; i++)
		port_ok |= ep->ports[i] == port;
	if (!port_ok)
		return false;
	return ep->host_wildcard ? glob_host_match(ep->host, strlen(ep->host), host, strlen(host))
	                         : !strcmp(ep->host, host);
}

/*
 * The base endpoint a request observation's new endpoint copies: the most specific one
 * selecting the path in a block of this binary (its selector is copied, so the new
 * rules compete at the same specificity); else the first for this binary, else any
 * (selector: every path). None: the request is added as a connection.
 */
static void
sug_template(const struct policy *base, struct sug_item *it)
{
	const struct pol_endpoint *best = NULL, *mine = NULL, *any = NULL;
	const char *best_key = NULL, *mine_key = NULL, *any_key = NULL;
	size_t best_idx = 0, mine_idx = 0, any_idx = 0, idx = 0, best_spec = 0;
	const char *path = it->o->path;

	for (size_t b = 0; b < base->nblocks; b++) {
		const struct pol_block *blk = &base->blocks[b];
		bool bin = sug_binary_in(blk, it->o->binary);

		for (size_t i = 0; i < blk->nendpoints; i++, idx++) {
			const struct pol_endpoint *ep = &blk->endpoints[i];
			size_t spec = glob_selector_specificity(ep->path);

			if (!sug_l7_endpoint(ep, it->host, it->o->port))
				continue;
			if (any == NULL)
				any = ep, any_idx = idx, any_key = blk->key;
			if (!bin)
				continue;
			if (mine == NULL)
				mine = ep, mine_idx = idx, mine_key = blk->key;
			if (glob_selector_match(ep->path, path, strlen(path)) &&
			    (best == NULL || spec > best_spec))
				best = ep, best_idx = idx, best_spec = spec, best_key = blk->key;
		}
	}
	it->l7 = true;
	if (best) {
		it->tmpl = best, it->tmpl_idx = best_idx, it->tmpl_block = best_key;
		it->selector = best->path;
	} else if (mine) {
		it->tmpl = mine, it->tmpl_idx = mine_idx, it->tmpl_block = mine_key;
	} else if (any) {
		it->tmpl = any, it->tmpl_idx = any_idx, it->tmpl_block = any_key;
	} else {
		it->l7 = false;
	}
}

/* 1 when <e> allows <it> outright (not merely in audit mode), 0 when not (<d> says
 * why), -1 on engine errors. */
static int
sug_allowed(const struct engine *e, const struct sug_item *it, struct decision *d)
{
	const struct ident id = {it->o->binary, NULL, 0};
	char *canon;
	int rc;

	if (engine_decide_connect(e, &id, it->host, it->o->port, d) == -1)
		return -1;
	if (!d->allow)
		return 0;
	if (it->o->method == NULL || !d->l7)
		return 1; /* a connection, or requests passed through uninspected */
	canon = ut_xmalloc(SUG_CANON_LEN);
	rc = engine_decide_request(e, &id, it->host, it->o->port, it->o->method, it->o->path,
	                           strlen(it->o->path), d, canon, SUG_CANON_LEN);
	free(canon);
	if (rc == -1)
		return -1;
	return d->allow && !d->audit;
}

static int
sug_classify(struct sug *s, const struct engine *e, struct sug_item *it)
{
	struct decision d;
	int rc;

	it->why = sug_usable(it->o);
	if (it->why == NULL)
		it->why = sug_host(it->o->host, it->host);
	if (it->why) {
		it->v = SUG_UNUSABLE;
		return 0;
	}
	if (it->o->method)
		for (size_t i = 0; it->o->method[i]; i++)
			it->method[i] = (char)(it->o->method[i] >= 'a' && it->o->method[i] <= 'z'
			                               ? it->o->method[i] - 'a' + 'A'
			                               : it->o->method[i]);
	rc = sug_allowed(e, it, &d);
	if (rc == -1)
		return -1;
	if (rc == 1) {
		it->v = SUG_ALLOWED;
		return 0;
	}
	if (it->o->method && strstr(d.reason, "blocked by deny rule")) {
		it->v = SUG_BLOCKED;
		ut_strlcpy(it->reason, d.reason, sizeof(it->reason));
		return 0;
	}
	it->v = SUG_ADD;
	if (it->o->method)
		sug_template(s->base, it);
	return 0;
}

/* --- grouping --- */

/* Order of added items: the unit (host, port, kind, template, selector), then
 * binary, method, path. */
static int
sug_item_cmp(const void *pa, const void *pb)
{
	const struct sug_item *a = *(struct sug_item *const *)pa,
	                      *b = *(struct sug_item *const *)pb;
	int c;

	if ((c = strcmp(a->host, b->host)))
		return c;
	if (a->o->port != b->o->port)
		return a->o->port < b->o->port ? -1 : 1;
	if (a->l7 != b->l7)
		return a->l7 ? 1 : -1;
	if (a->tmpl_idx != b->tmpl_idx)
		return a->tmpl_idx < b->tmpl_idx ? -1 : 1;
	if ((c = sug_strcmp0(a->selector, b->selector)))
		return c;
	if ((c = strcmp(a->o->binary, b->o->binary)))
		return c;
	if ((c = strcmp(a->method, b->method)))
		return c;
	return sug_strcmp0(a->o->path, b->o->path);
}

static bool
sug_same_unit(const struct sug_item *a, const struct sug_item *b)
{
	return !strcmp(a->host, b->host) && a->o->port == b->o->port && a->l7 == b->l7 &&
	       a->tmpl_idx == b->tmpl_idx && !sug_strcmp0(a->selector, b->selector);
}

/* Distinct binaries of <u> (its items are sorted by binary within the unit). */
static char *
sug_unit_bins(const struct sug_unit *u)
{
	struct sbuf b = {0};
	const char *last = NULL;

	for (size_t i = 0; i < u->nitems; i++) {
		const char *bin = u->items[i]->o->binary;

		if (last && !strcmp(last, bin))
			continue;
		if (last)
			sbuf_putc(&b, '\n');
		sbuf_puts(&b, bin);
		last = bin;
	}
	return b.s ? b.s : ut_xstrdup("");
}

/* Units ordered by block (host, binary set), then port and kind. */
static int
sug_unit_cmp(const void *pa, const void *pb)
{
	const struct sug_unit *a = pa, *b = pb;
	int c;

	if ((c = strcmp(a->items[0]->host, b->items[0]->host)))
		return c;
	if ((c = strcmp(a->bins, b->bins)))
		return c;
	return sug_item_cmp(&a->items[0], &b->items[0]);
}

static void
sug_group(struct sug *s)
{
	s->add = ut_xcalloc(s->nitems ? s->nitems : 1, sizeof(*s->add));
	for (size_t i = 0; i < s->nitems; i++)
		if (s->items[i].v == SUG_ADD)
			s->add[s->nadd++] = &s->items[i];
	qsort(s->add, s->nadd, sizeof(*s->add), sug_item_cmp);
	s->units = ut_xcalloc(s->nadd ? s->nadd : 1, sizeof(*s->units));
	for (size_t i = 0; i < s->nadd; i++) {
		struct sug_unit *u = &s->units[s->nunits];

		if (i && sug_same_unit(s->add[i - 1], s->add[i])) {
			s->units[s->nunits - 1].nitems++;
			continue;
		}
		u->items = &s->add[i];
		u->nitems = 1;
		s->nunits++;
	}
	for (size_t i = 0; i < s->nunits; i++)
		s->units[i].bins = sug_unit_bins(&s->units[i]);
	qsort(s->units, s->nunits, sizeof(*s->units), sug_unit_cmp);
}

/* --- checking the result, and the summary --- */

static void
sug_obs_words(struct sbuf *b, const struct sug_item *it)
{
	const struct sug_obs *o = it->o;

	sug_comment_text(b, o->binary ? o->binary : "(no binary)", SUGGEST_REASON_SHOWN);
	sbuf_puts(b, " -> ");
	sug_comment_text(b, o->host ? o->host : "(no host)", SUGGEST_REASON_SHOWN);
	sbuf_printf(b, ":%u", o->port);
	if (o->method) {
		sbuf_putc(b, ' ');
		sug_comment_text(b, o->method, SUGGEST_REASON_SHOWN);
		sbuf_putc(b, ' ');
		sug_comment_text(b, o->path ? o->path : "", SUGGEST_REASON_SHOWN);
	}
}

/* Loads base + <extra> and decides every added observation again. Returns the number
 * still denied (each reported in <summary>), or -1 (EPROTO: the result does not load). */
static int
sug_check(struct sug *s, const char *extra, struct sbuf *summary)
{
	struct sbuf text = {0};
	struct diag d = {0};
	struct policy *p = NULL;
	struct engine *e = NULL;
	int still = 0;

	policy_emit(s->base, extra, &text);
	if (policy_load_buffer("<suggested>", sbuf_str(&text), text.len, &d, &p) == -1) {
		sbuf_puts(summary,
		          "suggest: internal error: the suggested policy does not load:\n");
		for (size_t i = 0; i < d.n; i++)
			sbuf_printf(summary, "  line %u:%u: %s\n", d.items[i].line, d.items[i].col,
			            d.items[i].msg);
		still = -1;
		errno = EPROTO;
		goto out;
	}
	e = engine_new(p);
	for (size_t i = 0; e && i < s->nadd; i++) {
		struct decision dec;

		if (sug_allowed(e, s->add[i], &dec) == 1)
			continue;
		sbuf_puts(summary, "not allowed by the suggestion: ");
		sug_obs_words(summary, s->add[i]);
		sbuf_printf(summary, ": %s\n", dec.reason);
		still++;
	}
out:
	engine_free(e);
	policy_free(p);
	diag_free(&d);
	sbuf_free(&text);
	return still;
}

static void
sug_summary(const struct sug *s, struct sbuf *b, size_t n)
{
	size_t allowed = 0, refused = 0;

	for (size_t i = 0; i < s->nitems; i++) {
		allowed += s->items[i].v == SUG_ALLOWED;
		refused += s->items[i].v == SUG_BLOCKED || s->items[i].v == SUG_UNUSABLE;
	}
	sbuf_printf(b,
	            "suggest: %zu observation%s: %zu already allowed, %zu allowed by %zu new "
	            "block%s, %zu cannot be allowed\n",
	            n, n == 1 ? "" : "s", allowed, s->nadd, s->nblocks, s->nblocks == 1 ? "" : "s",
	            refused);
	for (size_t i = 0; i < s->nitems; i++) {
		const struct sug_item *it = &s->items[i];

		if (it->v != SUG_BLOCKED && it->v != SUG_UNUSABLE)
			continue;
		sbuf_puts(b, "cannot allow: ");
		sug_obs_words(b, it);
		if (it->v == SUG_BLOCKED)
			sbuf_printf(b,
			            ": %s; hint: a deny rule of the base policy matches, and an "
			            "addition cannot override it; narrow or remove that rule if "
			            "this request should pass\n",
			            it->reason);
		else
			sbuf_printf(b,
			            ": %s; hint: the log line is incomplete, so no rule can "
			            "name it\n",
			            it->why);
	}
}

static void
sug_free(struct sug *s)
{
	for (size_t i = 0; i < s->nunits; i++)
		free(s->units[i].bins);
	for (size_t i = 0; i < s->nkeys; i++)
		free(s->keys[i]);
	free(s->keys);
	free(s->units);
	free(s->add);
	free(s->items);
}

int
suggest_blocks(const struct policy *base, const struct sug_obs *obs, size_t n,
               struct sbuf *extra_yaml, struct sbuf *summary)
{
	struct sug s = {.base = base};
	struct sbuf extra = {0};
	struct engine *e;
	int rc = -1;

	if (base == NULL || extra_yaml == NULL || summary == NULL || (n && obs == NULL)) {
		errno = EINVAL;
		return -1;
	}
	e = engine_new(base);
	if (e == NULL)
		return -1;
	s.items = ut_xcalloc(n ? n : 1, sizeof(*s.items));
	s.nitems = n;
	for (size_t i = 0; i < n; i++) {
		s.items[i].o = &obs[i];
		if (sug_classify(&s, e, &s.items[i]) == -1)
			goto out;
	}
	sug_group(&s);
	sug_write(&s, &extra);
	sug_summary(&s, summary, n);
	if (s.nadd && sug_check(&s, sbuf_str(&extra), summary) == -1)
		goto out;
	sbuf_add(extra_yaml, sbuf_str(&extra), extra.len);
	rc = 0;
out:
	engine_free(e);
	sbuf_free(&extra);
	sug_free(&s);
	return rc;
}
