/* load_yaml: typed access to a libyaml document along the policy schema (load_int.h). */
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/load_int.h"
#include "util/arena.h"
#include "util/util.h"

/* Maps with more keys than this are checked for duplicates by sorting, not pairwise. */
#define LD_DUP_PAIRWISE_MAX 16

struct pol_mark
ld_mark(const yaml_node_t *n)
{
	return (struct pol_mark){ (uint32_t)n->start_mark.line + 1,
				  (uint32_t)n->start_mark.column + 1 };
}

static size_t
ld_push(struct ld *l, const char *sep, const char *seg)
{
	size_t old = l->plen;
	size_t room = sizeof(l->path) - l->plen;
	int n = snprintf(l->path + l->plen, room, "%s%s", sep, seg);

	if (n < 0 || (size_t)n >= room) {
		/* keep what fits and say it was cut */
		memcpy(l->path + sizeof(l->path) - 4, "...", 4);
		l->plen = sizeof(l->path) - 1;
	} else {
		l->plen += (size_t)n;
	}
	return old;
}

size_t
ld_push_key(struct ld *l, const char *key)
{
	return ld_push(l, l->plen ? "." : "", key);
}

size_t
ld_push_idx(struct ld *l, size_t i)
{
	char b[32];

	snprintf(b, sizeof(b), "[%zu]", i);
	return ld_push(l, "", b);
}

void
ld_pop(struct ld *l, size_t old)
{
	l->plen = old;
	l->path[old] = '\0';
}

static void
ld_vdiag(struct ld *l, enum diag_sev sev, struct pol_mark m, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	diag_add(l->d, sev, l->file, m, l->plen ? l->path : NULL, "%s", msg);
}

void
ld_diag_at(struct ld *l, enum diag_sev sev, struct pol_mark m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ld_vdiag(l, sev, m, fmt, ap);
	va_end(ap);
}

void
ld_err(struct ld *l, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ld_vdiag(l, DIAG_ERROR, ld_mark(n), fmt, ap);
	va_end(ap);
}

void
ld_warn(struct ld *l, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ld_vdiag(l, DIAG_WARNING, ld_mark(n), fmt, ap);
	va_end(ap);
}

int
ld_visit(struct ld *l, const yaml_node_t *n)
{
	if (l->over_budget)
		return -1;
	if (++l->nodes > POLICY_MAX_NODES) {
		l->over_budget = true;
		ld_err(l, n,
		       "the policy expands to more than %d YAML nodes (aliases counted each time "
		       "they are used); hint: remove the alias chains, a policy never needs that many",
		       POLICY_MAX_NODES);
		return -1;
	}
	return 0;
}

static const char *
ld_scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A YAML 1.2 core-schema null: `~`, `null` (any case form), or nothing, unquoted. */
static bool
ld_is_null(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = ld_scalar(n);
	return !strcmp(s, "") || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

bool
ld_is_empty_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       n->data.scalar.length == 0;
}

const char *
ld_kind_str(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a map";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_SCALAR_NODE:
		if (ld_is_null(n))
			return "null";
		if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			return "a quoted string";
		return "a scalar";
	case YAML_NO_NODE:
		break;
	}
	return "nothing";
}

/* Only the default tags are understood; `!!int "5"` and custom tags are refused so a
 * value always means what it looks like. */
static int
ld_check_tag(struct ld *l, const yaml_node_t *n)
{
	const char *tag = (const char *)n->tag;
	const char *def = n->type == YAML_SCALAR_NODE	  ? YAML_DEFAULT_SCALAR_TAG
			  : n->type == YAML_SEQUENCE_NODE ? YAML_DEFAULT_SEQUENCE_TAG
							  : YAML_DEFAULT_MAPPING_TAG;

	if (tag == NULL || !strcmp(tag, def))
		return 0;
	ld_err(l, n, "explicit YAML tag `%s` is not supported; hint: remove the tag", tag);
	return -1;
}

static int
ld_want_scalar(struct ld *l, yaml_node_t *n, const char *want)
{
	if (ld_visit(l, n) == -1 || ld_check_tag(l, n) == -1)
		return -1;
	if (n->type != YAML_SCALAR_NODE || ld_is_null(n)) {
		ld_err(l, n, "expected %s, found %s", want, ld_kind_str(n));
		return -1;
	}
	if (strlen(ld_scalar(n)) != n->data.scalar.length) {
		ld_err(l, n, "value contains a NUL byte; hint: remove it");
		return -1;
	}
	return 0;
}

int
ld_str(struct ld *l, yaml_node_t *n, char **out)
{
	if (ld_want_scalar(l, n, "a string") == -1)
		return -1;
	*out = arena_strndup(l->a, ld_scalar(n), n->data.scalar.length);
	return 0;
}

int
ld_bool(struct ld *l, yaml_node_t *n, bool *out)
{
	const char *s;

	if (ld_want_scalar(l, n, "true or false") == -1)
		return -1;
	s = ld_scalar(n);
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		/* YAML 1.2 core schema: yes/no/on/off are strings, not booleans */
		if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
			*out = true;
			return 0;
		}
		if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
			*out = false;
			return 0;
		}
	}
	ld_err(l, n, "expected true or false, found %s `%s`; hint: YAML 1.2 booleans are "
		     "unquoted true/false (yes/no/on/off are strings)",
	       ld_kind_str(n), s);
	return -1;
}

/* Reads the decimal integer of a scalar <n> already visited and type-checked. */
static int
ld_int_value(struct ld *l, yaml_node_t *n, long long min, long long max, long long *out)
{
	const char *s = ld_scalar(n), *errstr;
	long long v;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		ld_err(l, n, "expected an integer, found a quoted string \"%s\"; hint: remove the "
			     "quotes",
		       s);
		return -1;
	}
	v = ut_strtonum(s[0] == '+' ? s + 1 : s, min, max, &errstr);
	if (errstr) {
		if (!strcmp(errstr, "invalid"))
			ld_err(l, n, "expected a decimal integer in %lld..%lld, found `%s`", min,
			       max, s);
		else
			ld_err(l, n, "%s is outside %lld..%lld", s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int
ld_int(struct ld *l, yaml_node_t *n, long long min, long long max, long long *out)
{
	if (ld_want_scalar(l, n, "an integer") == -1)
		return -1;
	return ld_int_value(l, n, min, max, out);
}

int
ld_port(struct ld *l, yaml_node_t *n, uint16_t *out)
{
	long long v;

	if (ld_want_scalar(l, n, "a port number") == -1)
		return -1;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		ld_err(l, n, "expected a port number, found a quoted string \"%s\"; hint: write "
			     "the port without quotes",
		       ld_scalar(n));
		return -1;
	}
	if (ld_int_value(l, n, LLONG_MIN, LLONG_MAX, &v) == -1)
		return -1;
	if (v < 1 || v > 65535) {
		ld_err(l, n, "port %lld is outside 1..65535", v);
		return -1;
	}
	*out = (uint16_t)v;
	return 0;
}

static int
ld_want_seq(struct ld *l, yaml_node_t *n)
{
	if (ld_visit(l, n) == -1 || ld_check_tag(l, n) == -1)
		return -1;
	if (n->type != YAML_SEQUENCE_NODE && !ld_is_empty_plain(n)) {
		ld_err(l, n, "expected a list, found %s; hint: write [a, b] or one `- item` per line",
		       ld_kind_str(n));
		return -1;
	}
	return 0;
}

int
ld_seq_each(struct ld *l, yaml_node_t *n,
	    int (*fn)(struct ld *l, size_t i, yaml_node_t *item, void *arg), void *arg)
{
	int rc = 0;

	if (ld_want_seq(l, n) == -1)
		return -1;
	if (n->type != YAML_SEQUENCE_NODE)
		return 0; /* empty */
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top && !l->over_budget; it++) {
		size_t i = (size_t)(it - n->data.sequence.items.start);
		yaml_node_t *item = yaml_document_get_node(l->doc, *it);
		size_t old = ld_push_idx(l, i);

		if (fn(l, i, item, arg) == -1)
			rc = -1;
		ld_pop(l, old);
	}
	return rc;
}

struct ld_strlist_acc {
	char ***v;
	size_t *n;
};

static int
ld_strlist_item(struct ld *l, size_t i, yaml_node_t *item, void *arg)
{
	struct ld_strlist_acc *acc = arg;
	char *s;

	(void)i;
	if (ld_str(l, item, &s) == -1)
		return -1;
	*(char **)arena_push(l->a, acc->v, acc->n, sizeof(char *)) = s;
	return 0;
}

int
ld_strlist(struct ld *l, yaml_node_t *n, char ***out, size_t *nout)
{
	struct ld_strlist_acc acc = { out, nout };

	*out = NULL;
	*nout = 0;
	return ld_seq_each(l, n, ld_strlist_item, &acc);
}

static void
ld_accepted(const char *const *names, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; names[i] && off < size; i++) {
		int n = snprintf(buf + off, size - off, "%s%s", i ? ", " : "",
				 names[i][0] ? names[i] : "\"\"");
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

int
ld_enum(struct ld *l, yaml_node_t *n, const char *const *names, bool icase, int *out)
{
	char acc[512];
	const char *s;

	if (ld_want_scalar(l, n, "a string") == -1)
		return -1;
	s = ld_scalar(n);
	for (int i = 0; names[i]; i++) {
		if (icase ? !strcasecmp(s, names[i]) : !strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	}
	ld_accepted(names, acc, sizeof(acc));
	ld_err(l, n, "unknown value `%s`; accepted: %s", s, acc);
	return -1;
}

int
ld_value(struct ld *l, yaml_node_t *n, unsigned depth, struct pol_value *out)
{
	if (ld_visit(l, n) == -1)
		return -1;
	if (depth > POLICY_MAX_DEPTH) {
		ld_err(l, n, "nested deeper than %d levels; hint: flatten the value",
		       POLICY_MAX_DEPTH);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	switch (n->type) {
	case YAML_SCALAR_NODE:
		out->kind = POL_VALUE_SCALAR;
		out->scalar = arena_strndup(l->a, ld_scalar(n), n->data.scalar.length);
		out->quoted = n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		return 0;
	case YAML_SEQUENCE_NODE: {
		size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);

		out->kind = POL_VALUE_SEQ;
		out->items = arena_alloc(l->a, (cnt ? cnt : 1) * sizeof(*out->items));
		for (size_t i = 0; i < cnt; i++) {
			yaml_node_t *c = yaml_document_get_node(l->doc,
								n->data.sequence.items.start[i]);
			size_t old = ld_push_idx(l, i);
			int rc = ld_value(l, c, depth + 1, &out->items[i]);

			ld_pop(l, old);
			if (rc == -1)
				return -1;
			out->nitems++;
		}
		return 0;
	}
	case YAML_MAPPING_NODE: {
		size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);

		out->kind = POL_VALUE_MAP;
		out->items = arena_alloc(l->a, (cnt ? cnt : 1) * sizeof(*out->items));
		out->keys = arena_alloc(l->a, (cnt ? cnt : 1) * sizeof(*out->keys));
		for (size_t i = 0; i < cnt; i++) {
			yaml_node_pair_t *pr = &n->data.mapping.pairs.start[i];
			yaml_node_t *k = yaml_document_get_node(l->doc, pr->key);
			yaml_node_t *v = yaml_document_get_node(l->doc, pr->value);
			size_t old;
			int rc;

			if (k->type != YAML_SCALAR_NODE) {
				ld_err(l, k, "map keys must be strings, found %s", ld_kind_str(k));
				return -1;
			}
			out->keys[i] = arena_strndup(l->a, ld_scalar(k), k->data.scalar.length);
			old = ld_push_key(l, out->keys[i]);
			rc = ld_value(l, v, depth + 1, &out->items[i]);
			ld_pop(l, old);
			if (rc == -1)
				return -1;
			out->nitems++;
		}
		return 0;
	}
	case YAML_NO_NODE:
		break;
	}
	ld_err(l, n, "empty YAML node");
	return -1;
}

/* --- maps --- */

struct ld_keyref {
	const char *s;
	size_t len, idx;
};

static int
ld_keyref_cmp(const void *a, const void *b)
{
	const struct ld_keyref *x = a, *y = b;
	size_t m = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, m);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Finds the pairs of map <n> to skip: non-scalar keys and repeats of an earlier key
 * (each reported, naming the first one's line). Returns a calloc'd array of <cnt>
 * flags. Sorting keeps this O(n log n) for maps with many keys.
 */
static bool *
ld_skip_pairs(struct ld *l, yaml_node_t *n, size_t cnt)
{
	bool *skip = ut_xcalloc(cnt ? cnt : 1, sizeof(bool));
	struct ld_keyref *refs = ut_xcalloc(cnt ? cnt : 1, sizeof(*refs));
	size_t nrefs = 0;

	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *k = yaml_document_get_node(l->doc, n->data.mapping.pairs.start[i].key);

		if (k->type != YAML_SCALAR_NODE || ld_is_null(k) ||
		    strlen(ld_scalar(k)) != k->data.scalar.length) {
			ld_err(l, k, "map keys must be non-empty strings, found %s",
			       ld_kind_str(k));
			skip[i] = true;
			continue;
		}
		refs[nrefs++] = (struct ld_keyref){ ld_scalar(k), k->data.scalar.length, i };
	}
	qsort(refs, nrefs, sizeof(*refs), ld_keyref_cmp);
	for (size_t i = 1; i < nrefs; i++) {
		size_t first = i - 1;

		if (refs[i].len != refs[first].len || memcmp(refs[i].s, refs[first].s, refs[i].len))
			continue;
		while (first > 0 && skip[refs[first].idx])
			first--; /* the first occurrence is the earliest of the run */
		skip[refs[i].idx] = true;
		{
			yaml_node_t *k = yaml_document_get_node(
				l->doc, n->data.mapping.pairs.start[refs[i].idx].key);
			yaml_node_t *k0 = yaml_document_get_node(
				l->doc, n->data.mapping.pairs.start[refs[first].idx].key);
			size_t old = ld_push_key(l, refs[i].s);

			ld_err(l, k, "duplicate key `%s` (first at line %u); hint: keep one of them",
			       refs[i].s, ld_mark(k0).line);
			ld_pop(l, old);
		}
	}
	free(refs);
	return skip;
}

static int
ld_want_map(struct ld *l, yaml_node_t *n, const char *what)
{
	if (ld_visit(l, n) == -1 || ld_check_tag(l, n) == -1)
		return -1;
	if (n->type != YAML_MAPPING_NODE && !ld_is_empty_plain(n)) {
		ld_err(l, n, "expected %s (a map of `key: value`), found %s", what, ld_kind_str(n));
		return -1;
	}
	return 0;
}

int
ld_map_each(struct ld *l, yaml_node_t *n, const char *what,
	    int (*fn)(struct ld *l, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg),
	    void *arg)
{
	size_t cnt;
	bool *skip;
	int rc = 0;

	if (ld_want_map(l, n, what) == -1)
		return -1;
	if (n->type != YAML_MAPPING_NODE)
		return 0;
	cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	skip = ld_skip_pairs(l, n, cnt);
	for (size_t i = 0; i < cnt && !l->over_budget; i++) {
		yaml_node_pair_t *pr = &n->data.mapping.pairs.start[i];
		yaml_node_t *k = yaml_document_get_node(l->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(l->doc, pr->value);
		size_t old;

		if (skip[i]) {
			rc = -1;
			continue;
		}
		old = ld_push_key(l, ld_scalar(k));
		if (fn(l, ld_scalar(k), k, v, arg) == -1)
			rc = -1;
		ld_pop(l, old);
	}
	free(skip);
	return rc;
}

size_t
ld_field_idx(const struct ld_field *f, size_t nf, const char *name)
{
	for (size_t i = 0; i < nf; i++)
		if (!strcmp(f[i].name, name))
			return i;
	ut_bug(__FILE__, __LINE__, name);
}

struct ld_obj_ctx {
	const struct ld_field *f;
	size_t nf;
	void *obj;
	struct ld_seen *seen;
	const char *what;
};

static int
ld_field_value(struct ld *l, const struct ld_field *f, yaml_node_t *v, void *obj)
{
	void *dst = (char *)obj + f->off;
	long long x;
	int e;

	switch (f->kind) {
	case LK_STR:
		return ld_str(l, v, dst);
	case LK_BOOL:
		return ld_bool(l, v, dst);
	case LK_U32:
		if (ld_int(l, v, 0, UINT32_MAX, &x) == -1)
			return -1;
		*(uint32_t *)dst = (uint32_t)x;
		return 0;
	case LK_I32:
		if (ld_int(l, v, INT32_MIN, INT32_MAX, &x) == -1)
			return -1;
		*(int32_t *)dst = (int32_t)x;
		return 0;
	case LK_STRLIST:
		return ld_strlist(l, v, dst, (size_t *)((char *)obj + f->off2));
	case LK_ENUM:
		if (ld_enum(l, v, f->names, f->icase, &e) == -1)
			return -1;
		memcpy(dst, &e, sizeof(e)); /* every model enum is int-sized */
		return 0;
	case LK_FN:
		return f->fn(l, v, obj);
	}
	return -1;
}

static int
ld_object_pair(struct ld *l, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
	struct ld_obj_ctx *c = arg;
	char acc[512];
	size_t off = 0;

	for (size_t i = 0; i < c->nf; i++) {
		if (strcmp(c->f[i].name, key))
			continue;
		c->seen->mask |= 1ULL << i;
		c->seen->val[i] = v;
		return ld_field_value(l, &c->f[i], v, c->obj);
	}
	acc[0] = '\0';
	for (size_t i = 0; i < c->nf && off < sizeof(acc); i++) {
		int n = snprintf(acc + off, sizeof(acc) - off, "%s%s", i ? ", " : "", c->f[i].name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	ld_err(l, k, "unknown field `%s` in %s; accepted: %s", key, c->what, acc);
	return -1;
}

int
ld_object(struct ld *l, yaml_node_t *n, const char *what, const struct ld_field *f,
	  size_t nf, void *obj, struct ld_seen *seen)
{
	struct ld_obj_ctx c = { f, nf, obj, seen, what };
	int rc;

	BUG_ON(nf > LD_MAX_FIELDS);
	memset(seen, 0, sizeof(*seen));
	rc = ld_map_each(l, n, what, ld_object_pair, &c);
	if (rc == -1 && (n->type != YAML_MAPPING_NODE && !ld_is_empty_plain(n)))
		return -1; /* not a map: nothing is missing, the type is wrong */
	for (size_t i = 0; i < nf && !l->over_budget; i++) {
		if (f[i].required && !(seen->mask & (1ULL << i))) {
			ld_err(l, n, "missing required field `%s` in %s", f[i].name, what);
			rc = -1;
		}
	}
	return rc;
}

void
ld_diag_field(struct ld *l, enum diag_sev sev, const struct ld_seen *seen,
	      const struct ld_field *f, size_t idx, const yaml_node_t *obj_node, const char *fmt,
	      ...)
{
	va_list ap;
	size_t old = l->plen;
	const yaml_node_t *at = obj_node;

	if (seen->mask & (1ULL << idx)) {
		old = ld_push_key(l, f[idx].name);
		at = seen->val[idx];
	}
	va_start(ap, fmt);
	ld_vdiag(l, sev, ld_mark(at), fmt, ap);
	va_end(ap);
	ld_pop(l, old);
}
