/* sandbox/env: the command's environment (contract in env.h). */
#include "sandbox/env.h"

#include <errno.h>
#include <string.h>

#include "util/util.h"

/*
 * Variables glibc removes for AT_SECURE (setuid) programs (glibc elf/dl-support unsecvars
 * list, as documented in ld.so(8)): each one makes the loader or libc read code or data from
 * a caller-chosen place.
 */
static const char *const env_unsafe[] = {
	"GCONV_PATH",      "GETCONF_DIR", "HOSTALIASES",  "LD_AUDIT",     "LD_DEBUG",
	"LD_DEBUG_OUTPUT", "LD_DYNAMIC_WEAK", "LD_HWCAP_MASK", "LD_LIBRARY_PATH",
	"LD_ORIGIN_PATH",  "LD_PRELOAD",  "LD_PROFILE",   "LD_SHOW_AUXV", "LD_USE_LOAD_BIAS",
	"LOCALDOMAIN",     "LOCPATH",     "MALLOC_TRACE", "NIS_PATH",     "NLSPATH",
	"RESOLV_HOST_CONF", "RES_OPTIONS", "TMPDIR",      "TZDIR",
	/* Handles on the caller's own agents and sessions: the sandbox must not borrow the
	 * user's ssh-agent, keyring, bus or sudo context (pass one back with --env). */
	"SSH_AUTH_SOCK",   "SSH_AGENT_PID", "GPG_AGENT_INFO", "KRB5CCNAME", "DBUS_SESSION_BUS_ADDRESS",
	"DBUS_SYSTEM_BUS_ADDRESS", "XDG_RUNTIME_DIR", "SUDO_COMMAND", "SUDO_USER", "SUDO_UID",
	"SUDO_GID",        "SUDO_ASKPASS",
};

#define ENV_OWN_PREFIX "AGENTCAGE_"

bool
env_key_valid(const char *key, size_t len)
{
	if (len == 0 || len > ENV_MAX_KEY)
		return false;
	if (!(key[0] == '_' || (key[0] >= 'A' && key[0] <= 'Z') || (key[0] >= 'a' && key[0] <= 'z')))
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = key[i];
		if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

/* Index of the entry whose key is <key>[0..<klen>), or -1. */
static long
env_find(const struct env *e, const char *key, size_t klen)
{
	for (size_t i = 0; i < e->n; i++)
		if (strncmp(e->v[i], key, klen) == 0 && e->v[i][klen] == '=')
			return (long)i;
	return -1;
}

/* Takes ownership of <entry> ("KEY=VALUE", key length <klen>). */
static int
env_put(struct env *e, char *entry, size_t klen)
{
	long i = env_find(e, entry, klen);

	if (i >= 0) {
		free(e->v[i]);
		e->v[i] = entry;
		return 0;
	}
	if (e->n >= ENV_MAX_VARS) {
		free(entry);
		errno = E2BIG;
		return -1;
	}
	if (e->n + 2 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		char **v = realloc(e->v, cap * sizeof(*v));
		if (v == NULL) {
			free(entry);
			return -1;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = entry;
	e->v[e->n] = NULL;
	return 0;
}

int
env_set(struct env *e, const char *key, const char *val)
{
	size_t klen = strlen(key), vlen = strlen(val);
	char *entry = malloc(klen + vlen + 2);

	if (entry == NULL)
		return -1;
	memcpy(entry, key, klen);
	entry[klen] = '=';
	memcpy(entry + klen + 1, val, vlen + 1);
	return env_put(e, entry, klen);
}

void
env_unset(struct env *e, const char *key)
{
	long i = env_find(e, key, strlen(key));

	if (i < 0)
		return;
	free(e->v[i]);
	memmove(&e->v[i], &e->v[i + 1], (e->n - (size_t)i) * sizeof(*e->v)); /* moves the NULL too */
	e->n--;
}

const char *
env_get(const struct env *e, const char *key)
{
	size_t klen = strlen(key);
	long i = env_find(e, key, klen);

	return i < 0 ? NULL : e->v[i] + klen + 1;
}

/* True for variables that never pass from the caller into the sandbox (step 1). */
static bool
env_is_dropped(const char *entry, size_t klen)
{
	if (klen >= strlen(ENV_OWN_PREFIX) && strncmp(entry, ENV_OWN_PREFIX, strlen(ENV_OWN_PREFIX)) == 0)
		return true;
	for (size_t i = 0; i < NELEM(env_unsafe); i++)
		if (strlen(env_unsafe[i]) == klen && strncmp(entry, env_unsafe[i], klen) == 0)
			return true;
	return false;
}

static int
env_inherit(struct env *e, char *const *inherited)
{
	for (size_t i = 0; inherited != NULL && inherited[i] != NULL; i++) {
		const char *eq = strchr(inherited[i], '=');
		char *copy;

		if (eq == NULL || eq == inherited[i]) /* not KEY=VALUE: nothing can look it up */
			continue;
		if (env_is_dropped(inherited[i], (size_t)(eq - inherited[i])))
			continue;
		if ((copy = strdup(inherited[i])) == NULL ||
		    env_put(e, copy, (size_t)(eq - inherited[i])) == -1)
			return -1;
	}
	return 0;
}

static int
env_add_fixed(struct env *e, const struct env_params *p)
{
	if (env_set(e, "AGENTCAGE_SANDBOX", p->name) == -1 ||
	    env_set(e, "HOME", ENV_SANDBOX_HOME) == -1 || env_set(e, "USER", p->user) == -1 ||
	    env_set(e, "LOGNAME", p->user) == -1 || env_set(e, "SHELL", p->shell) == -1 ||
	    env_set(e, "PATH", ENV_SANDBOX_PATH) == -1)
		return -1;
	/* Programs pick their escape sequences from TERM; a PTY without one gets a common one. */
	if (p->tty && env_get(e, "TERM") == NULL && env_set(e, "TERM", "xterm-256color") == -1)
		return -1;
	return 0;
}

/* Step 3: the egress proxy (docs/proxy.md, spec/network.md §1.3). Both spellings,
 * because clients disagree on which they read (curl: lower-case http_proxy only). No
 * SOCKS: ALL_PROXY is the HTTP proxy too. */
int
env_add_proxy(struct env *e)
{
	static const char *const proxy_keys[] = {
		"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "grpc_proxy",
		"http_proxy", "https_proxy", "all_proxy",
	};
	static const char no_proxy[] = "127.0.0.1,localhost,::1";

	for (size_t i = 0; i < NELEM(proxy_keys); i++)
		if (env_set(e, proxy_keys[i], ENV_PROXY_URL) == -1)
			return -1;
	if (env_set(e, "NO_PROXY", no_proxy) == -1 || env_set(e, "no_proxy", no_proxy) == -1 ||
	    env_set(e, "NODE_USE_ENV_PROXY", "1") == -1) /* Node.js 24+ reads them only then */
		return -1;
	return 0;
}

/* Step 5: the sandbox CA (sandbox/tlstrust.h). Each tool family reads its own variable;
 * Node's replaces nothing, it adds one file to the built-in roots, hence the CA alone. */
int
env_add_ca(struct env *e)
{
	static const char *const bundle_keys[] = {
		"SSL_CERT_FILE", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "GIT_SSL_CAINFO", "PIP_CERT",
	};

	for (size_t i = 0; i < NELEM(bundle_keys); i++)
		if (env_set(e, bundle_keys[i], ENV_CA_BUNDLE) == -1)
			return -1;
	return env_set(e, "NODE_EXTRA_CA_CERTS", ENV_CA_CERT);
}

/* Step 4: one --env KEY=VALUE. */
static int
env_add_extra(struct env *e, const char *kv, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	char *copy;

	if (eq == NULL || !env_key_valid(kv, (size_t)(eq - kv))) {
		snprintf(err, errlen,
			 "--env '%.64s': not KEY=VALUE with a valid key\nhint: keys are letters, digits "
			 "and '_', not starting with a digit, e.g. --env DEBUG=1",
			 kv);
		errno = EINVAL;
		return -1;
	}
	if (strlen(kv) >= ENV_MAX_ENTRY) {
		snprintf(err, errlen, "--env %.*s=...: value longer than %d bytes", (int)(eq - kv), kv,
			 ENV_MAX_ENTRY);
		errno = E2BIG;
		return -1;
	}
	if ((copy = strdup(kv)) == NULL || env_put(e, copy, (size_t)(eq - kv)) == -1) {
		snprintf(err, errlen, "--env %.*s: %s", (int)(eq - kv), kv, strerror(errno));
		return -1;
	}
	return 0;
}

int
env_build(struct env *e, char *const *inherited, const struct env_params *p, char *err,
	  size_t errlen)
{
	if (env_inherit(e, inherited) == -1 || env_add_fixed(e, p) == -1 || env_add_proxy(e) == -1) {
		snprintf(err, errlen, "building the command's environment: %s%s", strerror(errno),
			 errno == E2BIG ? "\nhint: the caller's environment has too many variables" : "");
		return -1;
	}
	for (size_t i = 0; p->extra != NULL && p->extra[i] != NULL; i++)
		if (env_add_extra(e, p->extra[i], err, errlen) == -1)
			return -1;
	if (p->ca && env_add_ca(e) == -1) {
		snprintf(err, errlen, "building the command's environment: %s", strerror(errno));
		return -1;
	}
	return 0;
}

char *const *
env_vector(struct env *e)
{
	static char *const empty[] = { NULL };

	return e->n ? e->v : empty;
}

void
env_free(struct env *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
	e->v = NULL;
	e->n = e->cap = 0;
}
