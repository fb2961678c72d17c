/* policy/engine_l7: HTTP request decisions (network.md §5.2-5.5); see engine.h. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "policy/canon.h"
#include "policy/engine.h"
#include "policy/engine_int.h"
#include "policy/glob.h"
#include "util/util.h"

/* One request as the rules see it. */
struct eng_req {
	const char *method;
	const char *path; /* canonical, no query */
	size_t path_len;
	const struct canon_param *params;
	size_t nparams;
	bool encoded_slash; /* the path kept a %2F (needs allow_encoded_slash) */
};

/* Method rule: `*` any; case-insensitive; a GET rule also admits HEAD (both for allow
 * and deny rules, as the reference). */
static bool
eng_method_matches(const char *want, const char *got)
{
	if (strcmp(want, "*") == 0 || strcasecmp(want, got) == 0)
		return true;
	return strcasecmp(got, "HEAD") == 0 && strcasecmp(want, "GET") == 0;
}

static bool
eng_matcher_matches(const struct pol_matcher *m, const char *v, size_t vlen)
{
	for (size_t i = 0; i < m->nglobs; i++)
		if (glob_value_match(m->globs[i], strlen(m->globs[i]), v, vlen))
			return true;
	return false;
}

/*
 * Query matchers. Allow side: every configured key present, and every one of its values
 * matches. Deny side: every configured key present with at least one matching value.
 */
static bool
eng_query_matches(const struct eng_rule *rule, const struct eng_req *rq, bool deny_side)
{
	for (size_t k = 0; k < rule->nquery; k++) {
		const struct pol_query *q = &rule->query[k];
		size_t klen = strlen(q->key), seen = 0, hits = 0;
		for (size_t i = 0; i < rq->nparams; i++) {
			const struct canon_param *p = &rq->params[i];
			if (p->key_len != klen || memcmp(p->key, q->key, klen) != 0)
				continue;
			seen++;
			hits += eng_matcher_matches(&q->m, p->val, p->val_len);
		}
		if (seen == 0 || (deny_side ? hits == 0 : hits != seen))
			return false;
	}
	return true;
}

static bool
eng_allow_rule_matches(const struct eng_rule *r, const struct eng_req *rq)
{
	/* As the reference: an allow rule needs both a method and a path. */
	if (r->method == NULL || r->path == NULL)
		return false;
	return eng_method_matches(r->method, rq->method) &&
	       glob_path_match(r->path, strlen(r->path), rq->path, rq->path_len) &&
	       eng_query_matches(r, rq, false);
}

static bool
eng_deny_rule_matches(const struct eng_rule *r, const struct eng_req *rq)
{
	/* A missing method or path widens a deny rule (the reference never fires it). */
	return (r->method == NULL || eng_method_matches(r->method, rq->method)) &&
	       (r->path == NULL ||
	        glob_path_match(r->path, strlen(r->path), rq->path, rq->path_len)) &&
	       eng_query_matches(r, rq, true);
}

/* Candidate endpoints of a request, visited in block key order then file order. */
struct eng_cands {
	const struct engine *e;
	const struct ident *id;
	const char *host;
	size_t hlen;
	uint16_t port;
};

/* Calls <fn> on every L7 endpoint for host:port of every block matching the caller;
 * stops when it returns false. */
static void
eng_each_candidate(const struct eng_cands *c, bool (*fn)(const struct eng_endpoint *, void *),
                   void *arg)
{
	const char *via;

	for (size_t i = 0; i < c->e->nblocks; i++) {
		const struct eng_block *eb = &c->e->blocks[i];
		bool binary_checked = false;
		for (size_t j = 0; j < eb->neps; j++) {
			const struct eng_endpoint *ee = &eb->eps[j];
			if (!ee->l7 || !eng_endpoint_matches(ee, c->host, c->hlen, c->port))
				continue;
			if (!binary_checked) {
				if (!eng_binaries_match(eb, c->id, &via))
					break;
				binary_checked = true;
			}
			if (!fn(ee, arg))
				return;
		}
	}
}

/* The selection pass: which endpoints select the path, and how specific the best is. */
struct eng_select {
	const struct eng_req *rq;
	size_t ncand, nsel, best_spec;
	bool any_es;                      /* some candidate allows encoded slashes */
	const struct eng_endpoint *first; /* first candidate, for messages */
};

static bool
eng_selects(const struct eng_endpoint *ee, const struct eng_req *rq)
{
	if (rq->encoded_slash && !ee->ep->allow_encoded_slash)
		return false;
	return glob_selector_match(ee->ep->path, rq->path, rq->path_len);
}

static bool
eng_visit_select(const struct eng_endpoint *ee, void *arg)
{
	struct eng_select *s = arg;

	if (s->ncand++ == 0)
		s->first = ee;
	s->any_es |= ee->ep->allow_encoded_slash;
	if (s->rq && eng_selects(ee, s->rq)) {
		if (s->nsel == 0 || ee->specificity > s->best_spec)
			s->best_spec = ee->specificity;
		s->nsel++;
	}
	return true;
}

/* The verdict pass over the selected endpoints. */
struct eng_verdict {
	const struct eng_req *rq;
	size_t best_spec;
	const struct eng_endpoint *allowed_by; /* endpoint whose rule allowed */
	const struct eng_rule *allow_rule;
	const struct eng_endpoint *denied_by; /* endpoint whose deny rule matched */
	const struct eng_rule *deny_rule;
	const struct eng_endpoint *decider; /* most specific; enforcing ones first */
	bool unsupported;                   /* a best endpoint has a protocol we cannot inspect */
};

static bool
eng_visit_verdict(const struct eng_endpoint *ee, void *arg)
{
	struct eng_verdict *v = arg;

	if (!eng_selects(ee, v->rq))
		return true;
	for (size_t i = 0; i < ee->ndeny && !v->denied_by; i++)
		if (eng_deny_rule_matches(&ee->deny[i], v->rq)) {
			v->denied_by = ee;
			v->deny_rule = &ee->deny[i];
		}
	if (ee->specificity != v->best_spec)
		return true;
	if (!v->decider || (ee->ep->enforcement == POL_ENF_ENFORCE &&
	                    v->decider->ep->enforcement != POL_ENF_ENFORCE))
		v->decider = ee;
	if (!ee->http_rules) {
		v->unsupported = true;
		return true;
	}
	for (size_t i = 0; i < ee->nallow && !v->allowed_by; i++)
		if (eng_allow_rule_matches(&ee->allow[i], v->rq)) {
			v->allowed_by = ee;
			v->allow_rule = &ee->allow[i];
		}
	return true;
}

static const char *
eng_access_name(enum pol_access a)
{
	switch (a) {
	case POL_ACCESS_READ_ONLY:
		return "read-only";
	case POL_ACCESS_READ_WRITE:
		return "read-write";
	case POL_ACCESS_FULL:
		return "full";
	case POL_ACCESS_NONE:
		break;
	}
	return "none";
}

static const char *
eng_protocol_name(enum pol_protocol p)
{
	static const char *const names[] = {"",        "tcp", "rest",     "websocket",
	                                    "graphql", "sql", "json-rpc", "mcp"};

	return (size_t)p < NELEM(names) ? names[p] : "?";
}

/* "(access: read-only)" or "(rules: GET /a, POST /b)" of <ee>. */
static void
eng_explain_rules(const struct eng_endpoint *ee, struct eng_reason *r)
{
	if (ee->ep->access != POL_ACCESS_NONE) {
		eng_reason_add(r, " (access: %s)", eng_access_name(ee->ep->access));
		return;
	}
	if (ee->nallow == 0) {
		eng_reason_add(r, " (the endpoint has no allow rules)");
		return;
	}
	eng_reason_add(r, " (rules:");
	for (size_t i = 0; i < ee->nallow; i++)
		eng_reason_add(r, "%s %s %s", i ? "," : "",
		               ee->allow[i].method ? ee->allow[i].method : "(no method)",
		               ee->allow[i].path ? ee->allow[i].path : "(no path)");
	eng_reason_add(r, ")");
}

/* Denial of a request in every enforcement mode (the reference closes the tunnel). */
static int
eng_hard_deny(struct decision *out, const struct eng_endpoint *ee)
{
	out->allow = false;
	out->audit = false;
	if (ee) {
		out->block = ee->block;
		out->endpoint = ee->ep;
	}
	return 0;
}

/* Canonicalises the target; on encoded slashes retries when some candidate allows them. */
static int
eng_canonicalise(const char *target, size_t tlen, bool any_es, char *canon, size_t canon_len,
                 struct canon_result *cr, bool *es)
{
	*es = false;
	if (canon_target(target, tlen, 0, canon, canon_len, cr) == 0)
		return 0;
	if (cr->err != CANON_ERR_ENCODED_SLASH || !any_es)
		return -1;
	if (canon_target(target, tlen, CANON_ALLOW_ENCODED_SLASH, canon, canon_len, cr) == -1)
		return -1;
	*es = strstr(canon, "%2F") != NULL;
	return 0;
}

/* Appends "?query" to the canonical path for forwarding; false when it does not fit. */
static bool
eng_append_query(char *canon, size_t canon_len, size_t path_len, const struct canon_result *cr)
{
	if (cr->query == NULL)
		return true;
	if (canon_len - path_len < cr->query_len + 2)
		return false;
	canon[path_len] = '?';
	memcpy(canon + path_len + 1, cr->query, cr->query_len);
	canon[path_len + 1 + cr->query_len] = '\0';
	return true;
}

static int
eng_decide_selected(struct eng_verdict *v, const struct eng_req *rq, struct decision *out,
                    struct eng_reason *r)
{
	const struct eng_endpoint *d = v->decider;
	bool enforce;

	if (v->denied_by) {
		d = v->denied_by;
		eng_reason_init(r, out->reason, sizeof(out->reason));
		eng_reason_add(
		        r, "%s %.*s blocked by deny rule of policy %s (deny_rules[%d]: %s %s)",
		        rq->method, (int)rq->path_len, rq->path, d->block->key, v->deny_rule->index,
		        v->deny_rule->method ? v->deny_rule->method : "*",
		        v->deny_rule->path ? v->deny_rule->path : "**");
	} else if (v->allowed_by) {
		out->allow = true;
		out->audit = false;
		out->block = v->allowed_by->block;
		out->endpoint = v->allowed_by->ep;
		out->_ep = v->allowed_by;
		eng_reason_init(r, out->reason, sizeof(out->reason));
		eng_reason_add(r, "%s %.*s allowed by policy %s", rq->method, (int)rq->path_len,
		               rq->path, v->allowed_by->block->key);
		if (v->allow_rule->index >= 0)
			eng_reason_add(r, " (rules[%d]: %s %s)", v->allow_rule->index,
			               v->allow_rule->method, v->allow_rule->path);
		else
			eng_reason_add(r, " (access: %s)",
			               eng_access_name(v->allowed_by->ep->access));
		return 0;
	} else {
		eng_reason_init(r, out->reason, sizeof(out->reason));
		eng_reason_add(r, "%s %.*s not permitted by policy %s", rq->method,
		               (int)rq->path_len, rq->path, d->block->key);
		if (v->unsupported && !d->http_rules)
			eng_reason_add(r,
			               " (protocol %s requests are not inspected by agentcage yet, "
			               "so none is allowed)",
			               eng_protocol_name(d->ep->protocol));
		else
			eng_explain_rules(d, r);
		if (d->http_rules && d->ep->access != POL_ACCESS_NONE)
			eng_reason_add(r, "; hint: a wider access preset (read-write adds POST PUT "
			                  "PATCH; full allows "
			                  "every method) or explicit rules would allow it");
		else if (d->http_rules)
			eng_reason_add(r,
			               "; hint: add {allow: {method: %s, path: \"%.*s\"}} to that "
			               "endpoint's rules",
			               rq->method, (int)rq->path_len, rq->path);
	}
	/* Denied. Deny rules count in the mode of the endpoint that carries them. */
	enforce = d->ep->enforcement == POL_ENF_ENFORCE ||
	          (v->decider && v->decider->ep->enforcement == POL_ENF_ENFORCE);
	out->block = d->block;
	out->endpoint = d->ep;
	out->_ep = d;
	out->allow = !enforce;
	out->audit = !enforce;
	if (!enforce)
		eng_reason_add(r, "; audit mode: forwarded anyway (hint: set enforcement: enforce "
		                  "on the endpoint to block it)");
	return 0;
}

int
engine_decide_request(const struct engine *e, const struct ident *id, const char *host,
                      uint16_t port, const char *method, const char *target, size_t target_len,
                      struct decision *out, char *canon, size_t canon_len)
{
	char h[ENGINE_MAX_HOST + 3], qbuf[ENGINE_MAX_QUERY];
	struct canon_param params[CANON_MAX_PARAMS];
	struct canon_result cr;
	struct eng_reason r;
	struct eng_req rq = {0};
	bool es;

	if (e == NULL || id == NULL || host == NULL || method == NULL || target == NULL ||
	    out == NULL || canon == NULL || canon_len == 0) {
		errno = EINVAL;
		return -1;
	}
	canon[0] = '\0';
	if (engine_decide_connect(e, id, host, port, out) == -1 || !out->allow)
		return 0;
	eng_reason_init(&r, out->reason, sizeof(out->reason));
	int hlen = eng_host_normalise(host, h, &r);
	if (hlen == -1) {
		out->malformed = true;
		return eng_hard_deny(out, NULL);
	}
	const struct eng_cands c = {e, id, h, (size_t)hlen, port};

	struct eng_select sel = {0};
	eng_each_candidate(&c, eng_visit_select, &sel);
	if (sel.ncand == 0) {
		eng_reason_add(&r,
		               "%s %.*s to %s:%u: no block allowing this program declares %s:%u "
		               "with an L7 protocol, "
		               "so its HTTP requests cannot be checked; hint: add protocol: rest "
		               "and rules (or access) to the endpoint",
		               method, (int)(target_len > 256 ? 256 : target_len), target, h, port,
		               h, port);
		return eng_hard_deny(out, NULL);
	}
	if (eng_canonicalise(target, target_len, sel.any_es, canon, canon_len, &cr, &es) == -1) {
		eng_reason_add(&r, "%s request target refused at byte %zu: %s", method, cr.err_off,
		               canon_strerror(cr.err));
		canon[0] = '\0';
		out->malformed = true;
		return eng_hard_deny(out, sel.first);
	}
	rq.method = method;
	rq.path = canon;
	rq.path_len = cr.path_len;
	rq.encoded_slash = es;
	rq.params = params;
	if (cr.query) {
		enum canon_err qerr;
		size_t qoff;
		rq.nparams = NELEM(params);
		if (cr.query_len > sizeof(qbuf) ||
		    canon_query_parse(cr.query, cr.query_len, qbuf, sizeof(qbuf), params,
		                      &rq.nparams, &qerr, &qoff) == -1) {
			eng_reason_add(&r, "%s %.*s: query refused: %s", method, (int)cr.path_len,
			               canon,
			               cr.query_len > sizeof(qbuf) ? "longer than 16384 bytes"
			                                           : canon_strerror(qerr));
			canon[0] = '\0';
			out->malformed = true;
			return eng_hard_deny(out, sel.first);
		}
	}
	if (!eng_append_query(canon, canon_len, cr.path_len, &cr)) {
		eng_reason_add(&r, "%s request target too long to forward", method);
		canon[0] = '\0';
		out->malformed = true;
		return eng_hard_deny(out, sel.first);
	}

	sel = (struct eng_select){.rq = &rq};
	eng_each_candidate(&c, eng_visit_select, &sel);
	if (sel.nsel == 0) {
		eng_reason_add(&r,
		               "%s %.*s: no L7 endpoint path of %s:%u selects this path (block %s, "
		               "path %s)",
		               method, (int)rq.path_len, rq.path, h, port, sel.first->block->key,
		               sel.first->ep->path ? sel.first->ep->path : "**");
		return eng_hard_deny(out, sel.first);
	}
	struct eng_verdict v = {.rq = &rq, .best_spec = sel.best_spec};
	eng_each_candidate(&c, eng_visit_verdict, &v);
	return eng_decide_selected(&v, &rq, out, &r);
}
