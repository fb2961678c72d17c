/*
 * policy/engine: compiles a loaded policy into matchers and answers the two questions
 * the proxy asks: may this binary reach host:port (L4), and may it send this HTTP
 * request (L7); plus the destination-address rules for each resolved address.
 * Semantics: spec/policy.md §1.10-1.11, spec/network.md §4.2-4.7, §5.2-5.5, with the
 * deliberate differences of design.md and glob.h.
 *
 * Context: engine_new()/engine_free() in the supervisor (allocates); the decide and check
 * functions run in the proxy loop: no allocation, no I/O, no locks; an engine is
 * read-only after engine_new(), so any number of threads may share one.
 * Errors: engine_new() returns NULL with errno; decide functions return 0 with a decision
 * (a denial is a result, not an error) or -1/EINVAL for unusable arguments.
 * Ownership: the policy must outlive the engine; decisions point into both.
 *
 * Decisions in short:
 *  - L4: a block matches when one of its endpoints matches host (exact, DNS-label glob,
 *    or hostless) and port, AND one of its binaries matches the exe or an ancestor's exe
 *    (exact, or path glob: `*` one segment, `**` any depth). Allowed iff some block
 *    matches; the deciding block is the matching one with the smallest key.
 *  - L7: the request target is canonicalised (canon.h); among the L7 endpoints of the
 *    matching blocks for host:port whose `path` selector selects the path, the most
 *    specific ones decide: allowed iff one of their allow rules (presets expanded)
 *    matches and no deny rule of any selected endpoint matches. A denial on an endpoint
 *    in audit mode (the default) is allowed with audit=true. Requests that cannot be
 *    canonicalised, or that no endpoint selects, are denied in every mode.
 *  - Choices beyond the reference (documented in docs/policy.md): a deny rule without
 *    `method` or `path` matches any (the reference silently never fires); query-value
 *    globs have no delimiter; when endpoints of different specificity select a path,
 *    only the most specific ones' allow rules count (deny rules of all still apply);
 *    one trailing dot of a requested host is ignored; hosts written as odd IPv4
 *    spellings (`127.1`, `0x7f.0.0.1`) are refused.
 */
#ifndef AGENTCAGE_POLICY_ENGINE_H
#define AGENTCAGE_POLICY_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "policy/model.h"

#define ENGINE_REASON_MAX 1024  /* bytes of a decision's reason, NUL included */
#define ENGINE_MAX_HOST   253   /* longest DNS name (RFC 1035) */
#define ENGINE_MAX_QUERY  16384 /* raw query bytes of one request (the head limit) */

struct engine;
struct eng_endpoint;

/* Who is asking: the kernel-resolved exe path of the socket's owner and its ancestors'
 * exes (parent first). Strings are NUL-terminated; <exe> may be NULL (unknown). */
struct ident {
	const char *exe;
	const char *const *ancestors;
	size_t nancestors;
};

struct decision {
	bool allow; /* final verdict */
	bool audit; /* allowed only because the deciding L7 endpoint is in audit mode */
	const struct pol_block *block;       /* block that decided (allow) or best explanation */
	const struct pol_endpoint *endpoint; /* first matching endpoint carrying TLS/L7/allowed_ips
	                                      * meaning (network.md §4.6), or NULL */
	bool inspect;    /* terminate TLS and inspect HTTP: L7 endpoint with tls != skip */
	bool l7;         /* the endpoint has HTTP rules: plain forward requests are decided
			  * request by request whatever its `tls` (skip only stops TLS
			  * termination of CONNECT tunnels) */
	bool exact_host; /* some matching block declares this exact host and port */
	bool malformed;  /* denied because the request itself is unusable (host bytes, a
			  * target or query that cannot be canonicalised): no mode lifts it */
	bool learn;      /* set by the proxy, not the engine: a policy denial let through
			  * in learn mode; engine_check_address() then admits public
			  * addresses only (see there) */
	const struct eng_endpoint *_ep; /* engine-private: compiled form of <endpoint> */
	char reason[ENGINE_REASON_MAX]; /* words a user can act on; set for allow and deny */
};

/*
 * Compiles <p>: presets expanded, allowed_ips parsed, blocks ordered by key. Returns
 * the engine, or NULL with errno EINVAL when <p> is NULL. Free with engine_free().
 */
struct engine *engine_new(const struct policy *p);

/* Frees <e>; NULL is accepted. */
void engine_free(struct engine *e);

/* The policy <e> was compiled from. */
const struct policy *engine_policy(const struct engine *e);

/* The root given to engine_set_root(), or NULL; for a new generation of the same sandbox. */
const char *engine_root(const struct engine *e);

/*
 * Policy binaries that are symlinks (network.md §3.6): /proc/PID/exe always names the
 * real file, so a listed /sandbox/.venv/bin/python must also match the
 * /usr/bin/python3.11 it leads to, and /bin/bash the /usr/bin/bash of a merged-/usr
 * system. With a root set (the sandbox's, "/proc/PID/root"), a connection refused only
 * because its binary is not listed resolves the literal binaries of the blocks whose
 * endpoint matched inside that root (util/rootpath.h: never outside it) and decides
 * again, and what a link named before is resolved again before each decision it could
 * allow (a re-pointed link stops matching its old target at once). So a venv made after
 * the sandbox started works on its first connection. The listed path keeps matching
 * too. NULL turns it off (the default). 0, or -1 with ENOMEM.
 */
int engine_set_root(struct engine *e, const char *root_path);

/*
 * L4: may <id> reach <host>:<port>? <host> is the name or IP literal as requested
 * (case-insensitive; IPv6 with or without brackets). Fills <out>; returns 0, or -1 with
 * errno EINVAL when <e>, <id>, <host> or <out> is NULL.
 */
int engine_decide_connect(const struct engine *e, const struct ident *id, const char *host,
                          uint16_t port, struct decision *out);

/*
 * L7: one HTTP request on a connection to <host>:<port>. <method> is the request
 * method, <target>[0..<target_len>) the raw request-target (origin- or absolute-form).
 * The canonical path, followed by `?` and the raw query when there was one, is written
 * to <canon> (capacity <canon_len>; CANON_OUT_MAX + ENGINE_MAX_QUERY + 2 always
 * suffices; "" when the target is refused) for the proxy to forward. L4 is re-checked
 * first. Fills <out>; returns 0, or -1/EINVAL on NULL arguments or <canon_len> 0.
 */
int engine_decide_request(const struct engine *e, const struct ident *id, const char *host,
                          uint16_t port, const char *method, const char *target, size_t target_len,
                          struct decision *out, char *canon, size_t canon_len);

/*
 * Destination rules (network.md §4.7) for one resolved address <sa> of a connection
 * that <d> allowed to <host>:<port>, in order of precedence: allowed_ips of
 * d->endpoint; an IP-literal host is its own allowlist (private included); otherwise
 * public addresses only, for exact declared host names too (issue 4: private, loopback,
 * link-local and metadata addresses need allowed_ips). Loopback, link-local (cloud
 * metadata) and unspecified addresses are never reachable through allowed_ips or a
 * literal, and control-plane ports (addr.h) are refused through allowed_ips, a literal
 * or an exact declared host; only a wildcard host reaches them on a public address.
 * A decision with d->learn (a policy denial learn mode lets through) admits public and
 * private (10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10: what allowed_ips opens, so
 * a private registry can be learned) addresses on ordinary ports only: never loopback,
 * link-local, cloud metadata, the other special ranges or a control-plane port.
 * Returns 0 when the address may be dialled; -1 with errno EACCES and <reason> filled
 * when it is refused; -1 with EINVAL on bad arguments (NULL, a denied <d>, a family
 * other than AF_INET/AF_INET6).
 */
int engine_check_address(const struct engine *e, const struct decision *d, const char *host,
                         const struct sockaddr *sa, uint16_t port, char *reason, size_t reason_len);

#endif
