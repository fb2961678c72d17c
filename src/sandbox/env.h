/*
 * sandbox/env: the environment of the sandboxed command (spec/process.md §4.5, done our way).
 *
 * Context: supervisor, before clone(); the pre-exec child only reads env_vector().
 * Errors: 0 / -1 with errno; env_build() also fills a caller's err[] with a message.
 * Ownership: a struct env owns its "KEY=VALUE" strings; env_free() releases them.
 *
 * Order (later steps override earlier ones, per key):
 *   1. the caller's environment, minus agentcage's own variables (AGENTCAGE_*) and minus the
 *      loader and libc variables glibc itself drops for setuid programs (LD_PRELOAD,
 *      LD_LIBRARY_PATH, LD_AUDIT, GCONV_PATH, ... see env.c): entering the sandbox is a
 *      privilege boundary, and a root shell's preload would inject code the policy never
 *      names. Pass one explicitly with --env to keep it;
 *   2. AGENTCAGE_SANDBOX=<name>, HOME=/sandbox, USER, LOGNAME, SHELL,
 *      PATH=/usr/local/bin:/usr/bin:/bin, TERM (kept; xterm-256color with a PTY when unset);
 *   3. the proxy variables (env_add_proxy());
 *   4. each --env KEY=VALUE, in order;
 *   5. when the sandbox terminates TLS (p->ca), the CA bundle variables (env_add_ca()),
 *      last: a sandboxed tool must trust exactly the sandbox's bundle, so neither the
 *      caller's environment nor --env can point them elsewhere.
 */
#ifndef AGENTCAGE_SANDBOX_ENV_H
#define AGENTCAGE_SANDBOX_ENV_H

#include <stdbool.h>
#include <stddef.h>

#define ENV_MAX_VARS     4096 /* entries in the command's environment */
#define ENV_MAX_KEY      255  /* bytes in a --env key */
#define ENV_MAX_ENTRY    (128 * 1024) /* bytes in one KEY=VALUE (Linux MAX_ARG_STRLEN) */
#define ENV_SANDBOX_HOME "/sandbox"
#define ENV_SANDBOX_PATH "/usr/local/bin:/usr/bin:/bin"
#define ENV_PROXY_URL    "http://127.0.0.1:3128" /* proxy/proxy.h PROXY_URL */

struct env {
	char **v; /* NULL-terminated once anything was added */
	size_t n, cap;
};

/* What step 2 needs. */
struct env_params {
	const char *name;  /* sandbox name */
	const char *user;  /* sandbox user name (or its uid as text) */
	const char *shell; /* login shell of the sandbox user */
	bool tty;          /* the command gets a PTY */
	const char *const *extra; /* --env KEY=VALUE entries, NULL-terminated; may be NULL */
	bool ca;           /* the proxy terminates TLS: set the CA variables (step 5) */
};

/*
 * Builds <e> from <inherited> (NULL-terminated, usually environ) and <p> in the order above.
 * Refuses an --env entry without '=' or with an invalid key (EINVAL), and more than
 * ENV_MAX_VARS entries (E2BIG), with a message in <err>. <e> must be zero-filled.
 */
int env_build(struct env *e, char *const *inherited, const struct env_params *p, char *err,
	      size_t errlen);

/* True when <key>[0..<len>) is a portable variable name: [A-Za-z_][A-Za-z0-9_]*, 1..ENV_MAX_KEY. */
bool env_key_valid(const char *key, size_t len);

/* Sets <key>=<val>, replacing an existing entry. -1 and E2BIG when full. O(n). */
int env_set(struct env *e, const char *key, const char *val);

/* Removes <key> if present. O(n). */
void env_unset(struct env *e, const char *key);

/* Value of <key>, or NULL. O(n). */
const char *env_get(const struct env *e, const char *key);

/*
 * The egress proxy's variables: HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, grpc_proxy and the
 * lower-case http_proxy, https_proxy, all_proxy = ENV_PROXY_URL; NO_PROXY and no_proxy =
 * 127.0.0.1,localhost,::1; NODE_USE_ENV_PROXY=1. -1 and E2BIG when full.
 */
int env_add_proxy(struct env *e);

/* The sandbox CA files (sandbox/tlstrust.h) as seen inside. */
#define ENV_CA_BUNDLE "/run/agentcage/ca-bundle.crt"
#define ENV_CA_CERT   "/run/agentcage/ca.crt"

/*
 * The CA variables: SSL_CERT_FILE (OpenSSL, Python ssl, Go), CURL_CA_BUNDLE,
 * REQUESTS_CA_BUNDLE, GIT_SSL_CAINFO, PIP_CERT = ENV_CA_BUNDLE (system bundle + the
 * sandbox CA); NODE_EXTRA_CA_CERTS = ENV_CA_CERT (Node adds it to its built-in store).
 * Existing values are replaced. -1 and E2BIG when full.
 */
int env_add_ca(struct env *e);

/* The NULL-terminated vector for execve(); valid until the next change or env_free(). */
char *const *env_vector(struct env *e);

void env_free(struct env *e);

#endif
