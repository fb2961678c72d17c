/* validate: host-pattern shapes and matching, IP/CIDR syntax, path normalisation and the
 * cross-section checks of the loader (load_int.h). */
#include <arpa/inet.h>
#include <string.h>

#include "policy/load_int.h"
#include "util/util.h"

#define VD_MAX_LABELS 128 /* a DNS name has at most 127 labels (253 bytes) */

struct vd_label {
	const char *s;
	size_t n;
};

/* Splits <h> at dots; -1 when there are more than VD_MAX_LABELS labels. */
static int
vd_labels(const char *h, struct vd_label *out, size_t *n)
{
	const char *p = h;

	*n = 0;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		if (*n == VD_MAX_LABELS)
			return -1;
		out[(*n)++] = (struct vd_label){ p, len };
		if (!dot)
			return 0;
		p = dot + 1;
	}
}

static bool
vd_label_has(const struct vd_label *lb, const char *what)
{
	size_t w = strlen(what);

	for (size_t i = 0; i + w <= lb->n; i++)
		if (!memcmp(lb->s + i, what, w))
			return true;
	return false;
}

static bool
vd_label_is(const struct vd_label *lb, const char *what)
{
	return lb->n == strlen(what) && !memcmp(lb->s, what, lb->n);
}

const char *
vd_wildcard_shape(const char *host)
{
	struct vd_label lb[VD_MAX_LABELS];
	size_t n;

	if (!strcmp(host, "*") || !strcmp(host, "**"))
		return "a bare wildcard matches every host; hint: name the domain, e.g. "
		       "*.example.com";
	if (vd_labels(host, lb, &n) == -1)
		return "too many labels";
	if (n <= 2)
		return "TLD wildcard: it matches a whole top-level domain; hint: include the "
		       "domain, e.g. *.example.com";
	if (vd_label_has(&lb[0], "**") && !vd_label_is(&lb[0], "**"))
		return "`**` is accepted only as the whole first label (**.example.com)";
	for (size_t i = 1; i < n; i++) {
		if (!vd_label_has(&lb[i], "*"))
			continue;
		if (i == n - 1)
			return "wildcard in the top-level label; hint: name the top-level domain";
		if (vd_label_has(&lb[i], "**"))
			return "`**` is accepted only as the whole first label (**.example.com)";
		if (!vd_label_is(&lb[i], "*"))
			return "partial wildcard in a middle label; accepted: `*` anywhere in the "
			       "first label, or a whole middle label (a.*.example.com)";
	}
	return NULL;
}

/* Glob of one label: `*` matches any run of characters within the label. */
static bool
vd_label_match(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pn && p[pi] == s[si]) {
			pi++;
			si++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

bool
vd_host_match(const char *pattern, const char *host)
{
	struct vd_label pl[VD_MAX_LABELS], hl[VD_MAX_LABELS];
	size_t pn, hn, skip;

	if (vd_labels(pattern, pl, &pn) == -1 || vd_labels(host, hl, &hn) == -1)
		return false;
	if (vd_label_is(&pl[0], "**")) {
		/* `**` spans one or more leading labels */
		if (hn < pn)
			return false;
		skip = hn - pn + 1;
		for (size_t i = 1; i < pn; i++)
			if (!vd_label_match(pl[i].s, pl[i].n, hl[i - 1 + skip].s, hl[i - 1 + skip].n))
				return false;
		return true;
	}
	if (hn != pn)
		return false;
	for (size_t i = 0; i < pn; i++)
		if (!vd_label_match(pl[i].s, pl[i].n, hl[i].s, hl[i].n))
			return false;
	return true;
}

bool
vd_ip_or_cidr(const char *s, int *prefix, bool *v6)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char buf[sizeof(struct in6_addr)];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	const char *errstr;
	int max;

	if (n == 0 || n >= sizeof(addr))
		return false;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, buf) == 1)
		*v6 = false;
	else if (inet_pton(AF_INET6, addr, buf) == 1)
		*v6 = true;
	else
		return false;
	max = *v6 ? 128 : 32;
	*prefix = max;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9')
			return false;
		*prefix = (int)ut_strtonum(slash + 1, 0, max, &errstr);
		if (errstr)
			return false;
	}
	return true;
}

bool
vd_is_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

void
vd_normalize_path(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		if (*r == '/' && w > s && w[-1] == '/')
			continue; /* collapse `//` */
		*w++ = *r;
	}
	if (w - s > 1 && w[-1] == '/')
		w--; /* strip the trailing `/`, but keep `/` itself */
	*w = '\0';
}

/* Can a selector of <mw> pick traffic for host <h>? Hostless endpoints take any host. */
static bool
vd_selects(const struct pol_middleware *mw, const char *h)
{
	bool inc = false;

	if (h[0] == '\0')
		return true;
	for (size_t i = 0; i < mw->ninclude && !inc; i++)
		inc = vd_host_match(mw->include[i], h) || vd_host_match(h, mw->include[i]);
	if (!inc)
		return false;
	for (size_t i = 0; i < mw->nexclude; i++)
		if (vd_host_match(mw->exclude[i], h))
			return false;
	return true;
}

/*
 * A fail-closed middleware over a `tls: skip` endpoint can never see that traffic's
 * requests, so it would fail every one of them (spec/policy.md §1.12).
 */
void
vd_policy(struct ld *l)
{
	const struct policy *p = l->p;

	for (size_t m = 0; m < p->nmiddlewares; m++) {
		const struct pol_middleware *mw = &p->middlewares[m];

		if (mw->on_error != POL_ON_ERROR_FAIL_CLOSED)
			continue;
		for (size_t b = 0; b < p->nblocks; b++) {
			for (size_t e = 0; e < p->blocks[b].nendpoints; e++) {
				const struct pol_endpoint *ep = &p->blocks[b].endpoints[e];
				size_t old;

				if (ep->tls != POL_TLS_SKIP || !ep->host || !vd_selects(mw, ep->host))
					continue;
				old = ld_push_key(l, "network_middlewares");
				ld_push_key(l, mw->key);
				ld_diag_at(l, DIAG_ERROR, mw->mark,
					   "fail_closed middleware selects %s, which "
					   "network_policies.%s.endpoints[%zu] (line %u) marks tls: "
					   "skip: the middleware cannot read that traffic and would "
					   "fail it all; hint: set on_error: fail_open, exclude the "
					   "host, or drop tls: skip",
					   ep->host[0] ? ep->host : "every host", p->blocks[b].key, e,
					   ep->mark.line);
				ld_pop(l, old);
			}
		}
	}
}
