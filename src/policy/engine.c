/* policy/engine: compile, L4 decisions and destination rules; see engine.h. */
#include "policy/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/addr.h"
#include "policy/engine_int.h"
#include "policy/glob.h"
#include "util/rootpath.h"
#include "util/util.h"

/* --- reasons --- */

void
eng_reason_init(struct eng_reason *r, char *buf, size_t cap)
{
	r->buf = buf;
	r->cap = cap;
	r->len = 0;
	if (cap > 0)
		buf[0] = '\0';
}

void
eng_reason_add(struct eng_reason *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->cap == 0 || r->len + 1 >= r->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->buf + r->len, r->cap - r->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= r->cap - r->len) {
		/* Truncated: say so rather than end mid-word without a mark. */
		r->len = r->cap - 1;
		if (r->cap > 4)
			memcpy(r->buf + r->cap - 4, "...", 4);
		return;
	}
	r->len += (size_t)n;
}

/* --- compile --- */

/* Preset expansion (spec/policy.md §1.10); path NULL is never used for presets: "**". */
#define ENG_RULE(m)                                                                                \
	{                                                                                          \
		m, "**", NULL, 0, -1                                                               \
	}
static const struct eng_rule eng_rest_read_only[] = {ENG_RULE("GET"), ENG_RULE("HEAD"),
                                                     ENG_RULE("OPTIONS")};
static const struct eng_rule eng_rest_read_write[] = {ENG_RULE("GET"),     ENG_RULE("HEAD"),
                                                      ENG_RULE("OPTIONS"), ENG_RULE("POST"),
                                                      ENG_RULE("PUT"),     ENG_RULE("PATCH")};
static const struct eng_rule eng_any[] = {ENG_RULE("*")};
static const struct eng_rule eng_ws_read_only[] = {ENG_RULE("GET")};
static const struct eng_rule eng_ws_read_write[] = {ENG_RULE("GET"), ENG_RULE("WEBSOCKET_TEXT")};

static void
eng_compile_presets(struct eng_endpoint *ee)
{
	bool ws = ee->ep->protocol == POL_PROTO_WEBSOCKET;

	switch (ee->ep->access) {
	case POL_ACCESS_READ_ONLY:
		ee->allow = ws ? eng_ws_read_only : eng_rest_read_only;
		ee->nallow = ws ? NELEM(eng_ws_read_only) : NELEM(eng_rest_read_only);
		break;
	case POL_ACCESS_READ_WRITE:
		ee->allow = ws ? eng_ws_read_write : eng_rest_read_write;
		ee->nallow = ws ? NELEM(eng_ws_read_write) : NELEM(eng_rest_read_write);
		break;
	case POL_ACCESS_FULL:
		ee->allow = eng_any;
		ee->nallow = NELEM(eng_any);
		break;
	case POL_ACCESS_NONE:
		break;
	}
}

static void
eng_compile_rules(struct engine *e, struct eng_endpoint *ee)
{
	const struct pol_endpoint *ep = ee->ep;

	if (ep->access != POL_ACCESS_NONE) {
		eng_compile_presets(ee);
	} else if (ep->nrules > 0) {
		struct eng_rule *r = arena_alloc(&e->arena, ep->nrules * sizeof(*r));
		for (size_t i = 0; i < ep->nrules; i++)
			r[i] = (struct eng_rule){ep->rules[i].method, ep->rules[i].path,
			                         ep->rules[i].query, ep->rules[i].nquery, (int)i};
		ee->allow = r;
		ee->nallow = ep->nrules;
	} else if (ep->protocol == POL_PROTO_MCP && ep->mcp_allow_all_known_mcp_methods) {
		ee->allow = eng_any;
		ee->nallow = NELEM(eng_any);
	}
	if (ep->ndeny_rules > 0) {
		ee->deny = arena_alloc(&e->arena, ep->ndeny_rules * sizeof(*ee->deny));
		for (size_t i = 0; i < ep->ndeny_rules; i++)
			ee->deny[i] = (struct eng_rule){
			        ep->deny_rules[i].method, ep->deny_rules[i].path,
			        ep->deny_rules[i].query, ep->deny_rules[i].nquery, (int)i};
		ee->ndeny = ep->ndeny_rules;
	}
}

/* Parses allowed_ips once; the first unusable entry is kept to refuse every address of
 * the endpoint at connection time, as the reference does ("invalid allowed_ips"). */
static void
eng_compile_ips(struct engine *e, struct eng_endpoint *ee)
{
	const struct pol_endpoint *ep = ee->ep;

	if (ep->nallowed_ips == 0)
		return;
	ee->ips = arena_alloc(&e->arena, ep->nallowed_ips * sizeof(*ee->ips));
	for (size_t i = 0; i < ep->nallowed_ips; i++) {
		struct cidr *c = &ee->ips[ee->nips];
		if (addr_cidr_parse(ep->allowed_ips[i], c) == -1) {
			if (!ee->bad_ip) {
				ee->bad_ip = ep->allowed_ips[i];
				ee->bad_ip_why =
				        "is not an IP address or CIDR range (e.g. 10.0.5.0/24)";
			}
			continue;
		}
		if (addr_cidr_hits_always_blocked(c)) {
			if (!ee->bad_ip) {
				ee->bad_ip = ep->allowed_ips[i];
				ee->bad_ip_why = "covers loopback, link-local or unspecified "
				                 "addresses, which are always blocked";
			}
			continue;
		}
		ee->nips++;
	}
}

static void
eng_compile_endpoint(struct engine *e, const struct pol_block *b, const struct pol_endpoint *ep,
                     struct eng_endpoint *ee)
{
	ee->ep = ep;
	ee->block = b;
	ee->host_len = strlen(ep->host);
	if (ee->host_len == 0)
		ee->host_kind = ENG_HOST_ANY;
	else if (strchr(ep->host, '*'))
		ee->host_kind = ENG_HOST_GLOB;
	else
		ee->host_kind = ENG_HOST_EXACT;
	ee->l7 = ep->protocol != POL_PROTO_L4 && ep->protocol != POL_PROTO_TCP;
	ee->http_rules = ep->protocol == POL_PROTO_REST || ep->protocol == POL_PROTO_WEBSOCKET;
	ee->extended = ee->l7 || ep->nallowed_ips > 0 || ep->tls != POL_TLS_AUTO;
	ee->specificity = glob_selector_specificity(ep->path);
	if (ee->l7)
		eng_compile_rules(e, ee);
	eng_compile_ips(e, ee);
}

static int
eng_block_cmp(const void *a, const void *b)
{
	return strcmp(((const struct eng_block *)a)->b->key, ((const struct eng_block *)b)->b->key);
}

struct engine *
engine_new(const struct policy *p)
{
	struct engine *e;

	if (p == NULL) {
		errno = EINVAL;
		return NULL;
	}
	e = ut_xcalloc(1, sizeof(*e));
	e->p = p;
	e->nblocks = p->nblocks;
	e->blocks = arena_alloc(&e->arena, (p->nblocks + 1) * sizeof(*e->blocks));
	for (size_t i = 0; i < p->nblocks; i++) {
		const struct pol_block *b = &p->blocks[i];
		struct eng_block *eb = &e->blocks[i];
		eb->b = b;
		eb->neps = b->nendpoints;
		eb->eps = arena_alloc(&e->arena, (b->nendpoints + 1) * sizeof(*eb->eps));
		for (size_t j = 0; j < b->nendpoints; j++)
			eng_compile_endpoint(e, b, &b->endpoints[j], &eb->eps[j]);
		eb->nbins = b->nbinaries;
		eb->bins = arena_alloc(&e->arena, (b->nbinaries + 1) * sizeof(*eb->bins));
		for (size_t j = 0; j < b->nbinaries; j++) {
			eb->bins[j].path = b->binaries[j].path;
			eb->bins[j].len = strlen(b->binaries[j].path);
			/* As the reference: only `*` makes a binary path a glob. */
			eb->bins[j].glob = strchr(b->binaries[j].path, '*') != NULL;
		}
	}
	qsort(e->blocks, e->nblocks, sizeof(*e->blocks), eng_block_cmp);
	return e;
}

void
engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->nblocks; i++)
		for (size_t j = 0; j < e->blocks[i].nbins; j++)
			free(e->blocks[i].bins[j].resolved);
	free(e->root);
	arena_free(&e->arena);
	free(e);
}

int
engine_set_root(struct engine *e, const char *root_path)
{
	char *r = NULL;

	if (root_path != NULL && (r = strdup(root_path)) == NULL)
		return -1;
	free(e->root);
	e->root = r;
	return 0;
}

const struct policy *
engine_policy(const struct engine *e)
{
	return e->p;
}

const char *
engine_root(const struct engine *e)
{
	return e->root;
}

/* --- L4 --- */

/* Bytes a requested host may hold: DNS names, IPv4, IPv6 with brackets. Anything else
 * (`*`, `%`, `/`, blanks) could only confuse matching, so it is refused up front. */
static bool
eng_host_byte_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
	       c == '_' || c == ':' || c == '[' || c == ']';
}

int
eng_host_normalise(const char *host, char *buf, struct eng_reason *r)
{
	size_t n = 0;

	for (; host[n]; n++) {
		unsigned char c = (unsigned char)host[n];
		if (n >= ENGINE_MAX_HOST + 2) {
			eng_reason_add(r, "host name longer than %d bytes", ENGINE_MAX_HOST);
			return -1;
		}
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (!eng_host_byte_ok(c)) {
			eng_reason_add(
			        r,
			        "invalid host name '%.64s': byte %zu is not allowed in a host name",
			        host, n);
			return -1;
		}
		buf[n] = (char)c;
	}
	if (n > 1 && buf[n - 1] == '.' && buf[n - 2] != '.')
		n--;
	/* "[::1]" names the same endpoint as "::1" (policies write IPv6 hosts bare). */
	if (n > 2 && buf[0] == '[' && buf[n - 1] == ']') {
		memmove(buf, buf + 1, n - 2);
		n -= 2;
	}
	buf[n] = '\0';
	if (n == 0 || n > ENGINE_MAX_HOST + 2) {
		eng_reason_add(r, "invalid host name '%.64s'", host);
		return -1;
	}
	if (addr_is_odd_ipv4(buf, n)) {
		eng_reason_add(r,
		               "host '%s' is an unusual spelling of an IPv4 address; hint: write "
		               "it as a dotted quad such as 10.0.0.1",
		               buf);
		return -1;
	}
	return (int)n;
}

bool
eng_endpoint_matches(const struct eng_endpoint *ee, const char *host, size_t hlen, uint16_t port)
{
	bool port_ok = false;

	for (size_t i = 0; i < ee->ep->nports && !port_ok; i++)
		port_ok = ee->ep->ports[i] == port;
	if (!port_ok)
		return false;
	switch (ee->host_kind) {
	case ENG_HOST_EXACT:
		return ee->host_len == hlen && memcmp(ee->ep->host, host, hlen) == 0;
	case ENG_HOST_GLOB:
		return glob_host_match(ee->ep->host, ee->host_len, host, hlen);
	case ENG_HOST_ANY:
		return true;
	}
	return false;
}

static bool
eng_binary_matches(const struct eng_binary *b, const char *path)
{
	if (path == NULL)
		return false;
	if (b->glob)
		return glob_path_match(b->path, b->len, path, strlen(path));
	return strcmp(b->path, path) == 0 || (b->resolved && strcmp(b->resolved, path) == 0);
}

/*
 * Re-resolves the literal binaries of every block with an endpoint matching
 * <host>:<port> inside e->root (engine_set_root); with <aliased_only>, only those that
 * named something last time. Logically the engine stays const: this refreshes a cache of
 * what the sandbox's symlinks name. True when a result changed.
 */
static bool
eng_refresh_links(const struct engine *e, const char *host, size_t hlen, uint16_t port,
                  bool aliased_only)
{
	cleanup_fd int rootfd = -1; /* opened on the first path to resolve: most decisions
	                             * have none (no listed binary was a symlink) */
	char real[PATH_MAX];
	bool changed = false;

	for (size_t i = 0; i < e->nblocks; i++) {
		struct eng_block *eb = &e->blocks[i];
		bool hit = false;

		for (size_t j = 0; j < eb->neps && !hit; j++)
			hit = eng_endpoint_matches(&eb->eps[j], host, hlen, port);
		for (size_t j = 0; hit && j < eb->nbins; j++) {
			struct eng_binary *b = &eb->bins[j];
			bool link;

			if (aliased_only && b->resolved == NULL)
				continue;
			if (rootfd == -1 &&
			    (rootfd = open(e->root, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
				return changed;
			link = !b->glob &&
			            rootpath_resolve(rootfd, b->path, 0, real, sizeof(real)) == 0 &&
			            strcmp(real, b->path) != 0;

			if (link && b->resolved && strcmp(real, b->resolved) == 0)
				continue;
			if (!link && b->resolved == NULL)
				continue;
			free(b->resolved);
			b->resolved = link ? strdup(real) : NULL;
			changed = true;
		}
	}
	return changed;
}

/* True when a binary of <eb> matches the exe or an ancestor; *<via> is the path that
 * matched. */
bool
eng_binaries_match(const struct eng_block *eb, const struct ident *id, const char **via)
{
	for (size_t i = 0; i < eb->nbins; i++) {
		if (eng_binary_matches(&eb->bins[i], id->exe)) {
			*via = id->exe;
			return true;
		}
		for (size_t j = 0; j < id->nancestors; j++)
			if (eng_binary_matches(&eb->bins[i], id->ancestors[j])) {
				*via = id->ancestors[j];
				return true;
			}
	}
	return false;
}

/* What the block scan found. */
struct eng_scan {
	const struct eng_block *first;  /* smallest-key matching block */
	const char *via;                /* exe or ancestor that matched there */
	const struct eng_endpoint *ext; /* first extended endpoint of the matching blocks */
	bool exact_host;
	const struct eng_block *ep_only;   /* smallest-key block whose endpoint matched */
	size_t nep_only;                   /* blocks whose endpoint matched, binary not */
	const struct eng_block *host_only; /* a block that has the host on another port */
};

static bool
eng_host_matches_any_port(const struct eng_endpoint *ee, const char *host, size_t hlen)
{
	if (ee->host_kind == ENG_HOST_EXACT)
		return ee->host_len == hlen && memcmp(ee->ep->host, host, hlen) == 0;
	return ee->host_kind == ENG_HOST_GLOB &&
	       glob_host_match(ee->ep->host, ee->host_len, host, hlen);
}

static void
eng_scan_block(const struct eng_block *eb, const struct ident *id, const char *host, size_t hlen,
               uint16_t port, struct eng_scan *s)
{
	const struct eng_endpoint *hit = NULL, *ext = NULL;
	bool exact = false;
	const char *via = NULL;

	for (size_t j = 0; j < eb->neps; j++) {
		const struct eng_endpoint *ee = &eb->eps[j];
		if (!eng_endpoint_matches(ee, host, hlen, port)) {
			if (!s->host_only && eng_host_matches_any_port(ee, host, hlen))
				s->host_only = eb;
			continue;
		}
		if (!hit)
			hit = ee;
		if (!ext && ee->extended)
			ext = ee;
		exact |= ee->host_kind == ENG_HOST_EXACT;
	}
	if (!hit)
		return;
	if (!eng_binaries_match(eb, id, &via)) {
		if (!s->ep_only)
			s->ep_only = eb;
		s->nep_only++;
		return;
	}
	if (!s->first) {
		s->first = eb;
		s->via = via;
	}
	if (!s->ext)
		s->ext = ext;
	s->exact_host |= exact;
}

static void
eng_explain_binaries(const struct engine *e, const struct ident *id, const char *host, size_t hlen,
                     uint16_t port, struct eng_reason *r)
{
	const char *exe = id->exe ? id->exe : "(unknown binary)";
	const char *sep = "";
	const char *via;

	for (size_t i = 0; i < e->nblocks; i++) {
		const struct eng_block *eb = &e->blocks[i];
		bool hit = false;
		for (size_t j = 0; j < eb->neps && !hit; j++)
			hit = eng_endpoint_matches(&eb->eps[j], host, hlen, port);
		if (!hit || eng_binaries_match(eb, id, &via))
			continue;
		if (eb->nbins == 0) {
			eng_reason_add(r,
			               "%s%s:%u is allowed by block %s, but that block lists no "
			               "binaries, so it allows no program",
			               sep, host, port, eb->b->key);
		} else {
			eng_reason_add(r,
			               "%s%s:%u is allowed by block %s, but %s is not one of its "
			               "binaries (",
			               sep, host, port, eb->b->key, exe);
			for (size_t j = 0; j < eb->nbins; j++)
				eng_reason_add(r, "%s%s%s%s", j ? ", " : "", eb->bins[j].path,
				               eb->bins[j].resolved ? " -> " : "",
				               eb->bins[j].resolved ? eb->bins[j].resolved : "");
			eng_reason_add(r, ")");
		}
		sep = "; ";
	}
	if (id->nancestors > 0) {
		eng_reason_add(r, "; nor are its ancestors (");
		for (size_t j = 0; j < id->nancestors; j++)
			eng_reason_add(r, "%s%s", j ? " -> " : "", id->ancestors[j]);
		eng_reason_add(r, ")");
	}
	eng_reason_add(r,
	               "; hint: binaries are matched against the real file a process runs "
	               "(/proc/PID/exe); a listed symlink matches the file it names in the "
	               "sandbox: add %s to the binaries of that block, or a symlink to it",
	               exe);
}

static void
eng_explain_endpoint(const struct eng_scan *s, const char *host, uint16_t port,
                     struct eng_reason *r)
{
	eng_reason_add(r, "endpoint %s:%u is not allowed by any policy block", host, port);
	if (s->host_only) {
		const struct eng_block *eb = s->host_only;
		eng_reason_add(r, " (block %s allows %s only on port", eb->b->key, host);
		const char *sep = " ";
		for (size_t j = 0; j < eb->neps; j++) {
			const struct pol_endpoint *ep = eb->eps[j].ep;
			if (!eng_host_matches_any_port(&eb->eps[j], host, strlen(host)))
				continue;
			for (size_t k = 0; k < ep->nports; k++) {
				eng_reason_add(r, "%s%u", sep, ep->ports[k]);
				sep = ", ";
			}
		}
		eng_reason_add(r, ")");
	}
	eng_reason_add(r,
	               "; hint: add {host: %s, port: %u} to the endpoints of a block whose "
	               "binaries include this program",
	               host, port);
}

int
engine_decide_connect(const struct engine *e, const struct ident *id, const char *host,
                      uint16_t port, struct decision *out)
{
	char h[ENGINE_MAX_HOST + 3];
	struct eng_reason r;
	struct eng_scan s = {0};
	int hlen;

	if (e == NULL || id == NULL || host == NULL || out == NULL) {
		errno = EINVAL;
		return -1;
	}
	out->allow = out->audit = out->inspect = out->l7 = out->exact_host = false;
	out->malformed = out->learn = false;
	out->block = NULL;
	out->endpoint = NULL;
	out->_ep = NULL;
	eng_reason_init(&r, out->reason, sizeof(out->reason));
	hlen = eng_host_normalise(host, h, &r);
	if (hlen == -1) {
		out->malformed = true;
		return 0;
	}
	if (e->nblocks == 0) {
		eng_reason_add(
		        &r,
		        "network connections not allowed by policy (it has no network_policies); "
		        "hint: add a block under network_policies listing this endpoint and "
		        "binary");
		return 0;
	}
	/* What a listed symlink named last time is checked again before it can allow: the
	 * sandbox may have re-pointed it since. */
	if (e->root)
		eng_refresh_links(e, h, (size_t)hlen, port, true);
	for (size_t i = 0; i < e->nblocks; i++)
		eng_scan_block(&e->blocks[i], id, h, (size_t)hlen, port, &s);
	if (s.first == NULL && s.ep_only && e->root &&
	    eng_refresh_links(e, h, (size_t)hlen, port, false)) {
		s = (struct eng_scan){0};
		for (size_t i = 0; i < e->nblocks; i++)
			eng_scan_block(&e->blocks[i], id, h, (size_t)hlen, port, &s);
	}
	if (s.first == NULL) {
		out->block = s.ep_only ? s.ep_only->b : NULL;
		if (s.ep_only)
			eng_explain_binaries(e, id, h, (size_t)hlen, port, &r);
		else
			eng_explain_endpoint(&s, h, port, &r);
		return 0;
	}
	out->allow = true;
	out->block = s.first->b;
	out->exact_host = s.exact_host;
	if (s.ext) {
		out->_ep = s.ext;
		out->endpoint = s.ext->ep;
		out->l7 = s.ext->l7;
		out->inspect = s.ext->l7 && s.ext->ep->tls != POL_TLS_SKIP;
	}
	eng_reason_add(&r, "%s:%u allowed by block %s for %s", h, port, s.first->b->key, s.via);
	if (id->exe && s.via != id->exe)
		eng_reason_add(&r, " (an ancestor of %s)", id->exe);
	return 0;
}

/* --- destination addresses --- */

static int eng_refuse(char *reason, size_t len, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int
eng_refuse(char *reason, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (len > 0) {
		va_start(ap, fmt);
		if (vsnprintf(reason, len, fmt, ap) < 0)
			reason[0] = '\0';
		va_end(ap);
	}
	errno = EACCES;
	return -1;
}

/* The checks shared by allowed_ips, IP literals and declared hosts. */
static int
eng_check_special(const char *host, const struct addr *a, const char *ip, uint16_t port,
                  char *reason, size_t len)
{
	unsigned cls = addr_classify(a);

	if (addr_port_is_control_plane(port))
		return eng_refuse(reason, len,
		                  "port %u is a blocked control-plane port, connection rejected "
		                  "(%s resolves to %s); "
		                  "hint: ports 2379, 2380, 6443, 10250 and 10255 are only "
		                  "reachable on public addresses",
		                  port, host, ip);
	if (cls & ADDR_ALWAYS_BLOCKED_MASK)
		return eng_refuse(
		        reason, len,
		        "%s resolves to always-blocked address %s (%s), connection rejected; "
		        "hint: loopback, link-local and cloud-metadata addresses cannot be opened "
		        "by any policy",
		        host, ip, addr_class_name(cls));
	return 0;
}

/*
 * A connection the policy denied and learn mode lets through: public addresses, and the
 * private ranges a policy opens with allowed_ips (10/8, 172.16/12, 192.168/16, fc00::/7,
 * 100.64/10: a private registry is what learning must be able to find; `policy suggest`
 * writes the allowed_ips), on ordinary ports. Never loopback, link-local, cloud metadata
 * or the other special ranges, nor a control-plane port, whatever the host.
 */
static int
eng_check_learned(const char *host, const struct addr *a, const char *ip, uint16_t port,
                  char *reason, size_t len)
{
	unsigned cls = addr_classify(a);

	if (addr_port_is_control_plane(port) || (cls & ADDR_ALWAYS_BLOCKED_MASK) ||
	    (cls & ADDR_INTERNAL_MASK & ~(unsigned)(ADDR_PRIVATE | ADDR_CGNAT)))
		return eng_refuse(reason, len,
		                  "%s:%u (address %s%s%s) is refused in learn mode too: learn mode "
		                  "lifts policy rules and the private-address default, never "
		                  "loopback, link-local, metadata or control-plane destinations",
		                  host, port, ip, cls ? ", " : "", cls ? addr_class_name(cls) : "");
	return 0;
}

int
engine_check_address(const struct engine *e, const struct decision *d, const char *host,
                     const struct sockaddr *sa, uint16_t port, char *reason, size_t reason_len)
{
	const struct eng_endpoint *ee;
	char ip[ADDR_STRLEN];
	struct addr a, lit;

	if (e == NULL || d == NULL || host == NULL || sa == NULL || !d->allow) {
		errno = EINVAL;
		return -1;
	}
	if (addr_from_sockaddr(sa, &a) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (reason_len > 0)
		reason[0] = '\0';
	addr_format(&a, ip, sizeof(ip));
	if (d->learn)
		return eng_check_learned(host, &a, ip, port, reason, reason_len);
	ee = d->_ep;
	if (ee && (ee->nips > 0 || ee->bad_ip)) {
		if (ee->bad_ip)
			return eng_refuse(
			        reason, reason_len,
			        "invalid allowed_ips in policy: block %s, endpoint %s: '%s' %s",
			        ee->block->key, ee->ep->host[0] ? ee->ep->host : "(hostless)",
			        ee->bad_ip, ee->bad_ip_why);
		if (eng_check_special(host, &a, ip, port, reason, reason_len) == -1)
			return -1;
		for (size_t i = 0; i < ee->nips; i++)
			if (addr_cidr_contains(&ee->ips[i], &a))
				return 0;
		return eng_refuse(reason, reason_len,
		                  "%s resolves to %s which is not in allowed_ips of block %s, "
		                  "connection rejected; "
		                  "hint: add %s (or its range) to allowed_ips",
		                  host, ip, ee->block->key, ip);
	}
	if (addr_parse(host, strlen(host), &lit) == 0 &&
	    !(addr_classify(&lit) & ADDR_ALWAYS_BLOCKED_MASK)) {
		/* An IP-literal host is its own allowlist (reference PR #570). */
		if (eng_check_special(host, &a, ip, port, reason, reason_len) == -1)
			return -1;
		if (!addr_equal(&a, &lit))
			return eng_refuse(reason, reason_len,
			                  "%s resolves to %s, not to itself, connection rejected",
			                  host, ip);
		return 0;
	}
	/* An exact declared host no longer opens private addresses by itself (issue 4): a
	 * name is only as trustworthy as the resolver that answers it, and a hostile or
	 * rebinding DNS answer must not turn "api.example.org" into the LAN. It keeps the
	 * stricter port rule it always had. */
	if (d->exact_host && addr_port_is_control_plane(port))
		return eng_check_special(host, &a, ip, port, reason, reason_len);
	unsigned cls = addr_classify(&a);
	if (cls & ADDR_INTERNAL_MASK)
		return eng_refuse(reason, reason_len,
		                  "%s resolves to internal address %s (%s), connection rejected; "
		                  "hint: list the address (or its range) in the endpoint's "
		                  "allowed_ips",
		                  host, ip, addr_class_name(cls));
	return 0;
}
