/* load_mw: network_middlewares.<id> (spec/policy.md §1.12): fields, selectors, limits. */
#include <string.h>

#include "policy/load_int.h"
#include "util/arena.h"
#include "util/util.h"

static const char *const on_error_names[] = { "fail_closed", "fail_open", NULL };

static int
ld_mw_config(struct ld *l, yaml_node_t *v, void *obj)
{
	struct pol_middleware *mw = obj;

	mw->has_config = true;
	return ld_value(l, v, 0, &mw->config);
}

/* One selector pattern: a host glob with the endpoint host grammar, no braces. */
static int
ld_mw_pattern(struct ld *l, yaml_node_t *item, char *s)
{
	const char *why;

	for (char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (s[0] == '\0') {
		ld_err(l, item, "empty selector pattern; accepted: a host or host glob such as "
				"*.example.com");
		return -1;
	}
	if (strpbrk(s, " \t\r\n{}")) {
		ld_err(l, item, "selector pattern `%s` contains %s; accepted: a host or host glob "
				"such as *.example.com (no braces: list each host)",
		       s, strpbrk(s, "{}") ? "a brace" : "whitespace");
		return -1;
	}
	if (s[0] == '.' || s[strlen(s) - 1] == '.' || strstr(s, "..")) {
		ld_err(l, item, "selector pattern `%s` has an empty label", s);
		return -1;
	}
	if (strchr(s, '*') && (why = vd_wildcard_shape(s)) != NULL) {
		ld_err(l, item, "selector pattern `%s`: %s", s, why);
		return -1;
	}
	return 0;
}

static int
ld_mw_patterns(struct ld *l, yaml_node_t *v, char ***out, size_t *n)
{
	int rc;

	rc = ld_strlist(l, v, out, n);
	if (rc == -1)
		return -1;
	for (size_t i = 0; i < *n; i++) {
		yaml_node_t *item = yaml_document_get_node(l->doc, v->data.sequence.items.start[i]);
		size_t old = ld_push_idx(l, i);

		if (ld_mw_pattern(l, item, (*out)[i]) == -1)
			rc = -1;
		ld_pop(l, old);
	}
	return rc;
}

static int
ld_mw_include(struct ld *l, yaml_node_t *v, void *obj)
{
	struct pol_middleware *mw = obj;

	if (ld_mw_patterns(l, v, &mw->include, &mw->ninclude) == -1)
		return -1;
	if (mw->ninclude == 0) {
		ld_err(l, v, "include is empty, so the middleware would run nowhere; hint: list "
			     "the hosts it applies to");
		return -1;
	}
	return 0;
}

static int
ld_mw_exclude(struct ld *l, yaml_node_t *v, void *obj)
{
	struct pol_middleware *mw = obj;

	return ld_mw_patterns(l, v, &mw->exclude, &mw->nexclude);
}

static const struct ld_field selector_fields[] = {
	{ .name = "include", .kind = LK_FN, .fn = ld_mw_include, .required = true },
	{ .name = "exclude", .kind = LK_FN, .fn = ld_mw_exclude },
};

static int
ld_mw_endpoints(struct ld *l, yaml_node_t *v, void *obj)
{
	struct pol_middleware *mw = obj;
	struct ld_seen seen;
	int rc;

	rc = ld_object(l, v, "a middleware selector", selector_fields, NELEM(selector_fields),
		       mw, &seen);
	if (mw->ninclude + mw->nexclude > POLICY_MAX_SELECTOR_PATTERNS) {
		ld_err(l, v, "%zu include/exclude patterns, more than %d; hint: use a wildcard "
			     "such as *.example.com",
		       mw->ninclude + mw->nexclude, POLICY_MAX_SELECTOR_PATTERNS);
		rc = -1;
	}
	return rc;
}

enum { MF_NAME = 0, MF_MIDDLEWARE, MF_ORDER, MF_CONFIG, MF_ON_ERROR, MF_ENDPOINTS, MF_COUNT };

static const struct ld_field mw_fields[MF_COUNT] = {
	[MF_NAME] = { .name = "name", .kind = LK_STR, .off = offsetof(struct pol_middleware, name) },
	[MF_MIDDLEWARE] = { .name = "middleware", .kind = LK_STR,
			    .off = offsetof(struct pol_middleware, middleware), .required = true },
	[MF_ORDER] = { .name = "order", .kind = LK_I32, .off = offsetof(struct pol_middleware, order) },
	[MF_CONFIG] = { .name = "config", .kind = LK_FN, .fn = ld_mw_config },
	[MF_ON_ERROR] = { .name = "on_error", .kind = LK_ENUM,
			  .off = offsetof(struct pol_middleware, on_error), .names = on_error_names },
	[MF_ENDPOINTS] = { .name = "endpoints", .kind = LK_FN, .fn = ld_mw_endpoints,
			   .required = true },
};

static int
ld_mw(struct ld *l, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
	struct pol_middleware mw = { 0 };
	struct ld_seen seen;
	int rc;

	(void)arg;
	if (l->p->nmiddlewares == POLICY_MAX_MIDDLEWARES) {
		ld_err(l, k, "more than %d middlewares; hint: combine them",
		       POLICY_MAX_MIDDLEWARES);
		return -1;
	}
	mw.key = arena_strdup(l->a, key);
	mw.mark = ld_mark(k);
	rc = ld_object(l, v, "a middleware", mw_fields, MF_COUNT, &mw, &seen);
	if (rc == -1 && v->type != YAML_MAPPING_NODE)
		return -1;
	if (mw.name && mw.name[0] == '\0') {
		ld_diag_field(l, DIAG_ERROR, &seen, mw_fields, MF_NAME, v,
			      "empty name; hint: remove it (the key is the default) or name it");
		rc = -1;
	}
	if (mw.name == NULL)
		mw.name = mw.key;
	if (mw.middleware && mw.middleware[0] == '\0') {
		ld_diag_field(l, DIAG_ERROR, &seen, mw_fields, MF_MIDDLEWARE, v,
			      "empty middleware implementation; hint: name one, e.g. openshell/regex");
		rc = -1;
	}
	for (size_t i = 0; i < l->p->nmiddlewares; i++) {
		const struct pol_middleware *o = &l->p->middlewares[i];

		if (o->order != mw.order)
			continue;
		ld_diag_field(l, DIAG_ERROR, &seen, mw_fields, MF_ORDER, v,
			      "order %d is already used by middleware `%s` (line %u); accepted: a "
			      "distinct order per middleware",
			      (int)mw.order, o->key, o->mark.line);
		rc = -1;
		break;
	}
	*(struct pol_middleware *)arena_push(l->a, &l->p->middlewares, &l->p->nmiddlewares,
					     sizeof(mw)) = mw;
	return rc;
}

int
ld_middlewares(struct ld *l, yaml_node_t *n)
{
	return ld_map_each(l, n, "network_middlewares", ld_mw, NULL);
}
