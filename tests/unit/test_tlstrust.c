/*
 * sandbox/tlstrust and the CA variables of sandbox/env: which policies terminate TLS,
 * the supervisor -> init CA message (every malformed shape refused), the installation in
 * a private mount namespace (files, modes, read-only bind; the host's bundle untouched),
 * and env_build()'s CA variables.
 */
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include "policy/load.h"
#include "sandbox/env.h"
#include "sandbox/tlstrust.h"
#include "t.h"
#include "util/sha256.h"
#include "util/util.h"

static const char pem_a[] = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n";

/* --- which policies terminate --- */

static struct policy *
load(const char *yaml)
{
	struct diag d = { 0 };
	struct policy *p = NULL;

	if (policy_load_buffer("t.yaml", yaml, strlen(yaml), &d, &p) == -1)
		p = NULL;
	diag_free(&d);
	return p;
}

#define POL_HEAD                                                                           \
	"version: 1\nnetwork_policies:\n  b:\n    binaries: [{ path: /usr/bin/curl }]\n"       \
	"    endpoints:\n"

static void
test_policy_terminates(void)
{
	static const struct {
		const char *endpoints;
		bool want;
		const char *what;
	} cases[] = {
		{ "      - { host: a.test, port: 443 }\n", false, "L4 only: no termination" },
		{ "      - { host: a.test, port: 443, protocol: rest, access: read-only }\n", true,
		  "rest + access: terminated" },
		{ "      - { host: a.test, port: 443, protocol: rest, access: read-only, tls: skip }\n",
		  false, "rest + tls: skip: not terminated" },
		{ "      - { host: a.test, port: 443, tls: terminate }\n", false,
		  "L4 + deprecated tls: terminate: not terminated (as the engine: auto)" },
		{ "      - { host: a.test, port: 443, protocol: rest, access: full, tls: terminate }\n",
		  true, "rest + tls: terminate: terminated" },
		{ "      - { host: a.test, port: 22 }\n"
		  "      - { host: b.test, port: 443, protocol: rest, access: full }\n",
		  true, "one L7 endpoint among L4 ones is enough" },
	};
	struct diag d = { 0 };
	struct policy *p = NULL;

	T_OK(!tlstrust_policy_terminates(NULL), "NULL policy: false");
	for (size_t i = 0; i < NELEM(cases); i++) {
		char yaml[1024];
		ut_snprintf(yaml, sizeof(yaml), POL_HEAD "%s", cases[i].endpoints);
		p = load(yaml);
		if (!T_OK(p != NULL, "%s: loads", cases[i].what))
			continue;
		T_OK(tlstrust_policy_terminates(p) == cases[i].want, "%s", cases[i].what);
		policy_free(p);
	}
	p = NULL;
	if (T_OK(policy_load_default(&d, &p) == 0, "default policy loads"))
		T_OK(tlstrust_policy_terminates(p), "the default policy terminates TLS");
	policy_free(p);
	diag_free(&d);
}

static void
test_pem_plausible(void)
{
	static const char nul_inside[] = "-----BEGIN CERTIFICATE-----\n\0\n-----END CERTIFICATE-----\n";
	static const char lead_ws[] = "\n  -----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----";

	T_OK(tlstrust_pem_plausible(pem_a, strlen(pem_a)), "a PEM certificate");
	T_OK(tlstrust_pem_plausible(lead_ws, strlen(lead_ws)), "leading whitespace ok");
	T_OK(!tlstrust_pem_plausible("", 0), "empty refused");
	T_OK(!tlstrust_pem_plausible("hello", 5), "text refused");
	T_OK(!tlstrust_pem_plausible(pem_a, strlen(pem_a) - 27), "no END line refused");
	T_OK(!tlstrust_pem_plausible(nul_inside, sizeof(nul_inside) - 1), "NUL inside refused");
	T_OK(!tlstrust_pem_plausible("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n", 54),
	     "a private key refused");
}

/* --- the wire message --- */

/* Writes <buf> to a fresh pipe, closes the write end, and runs tlstrust_recv on it. */
static int
recv_from(const void *buf, size_t len, bool expect, char **pem)
{
	int fds[2], rc, e;

	if (pipe2(fds, O_CLOEXEC) == -1)
		return -2;
	if (len > 0 && ut_write_all(fds[1], buf, len) == -1)
		return -2;
	close(fds[1]);
	rc = tlstrust_recv(fds[0], expect, pem);
	e = errno;
	close(fds[0]);
	errno = e;
	return rc;
}

static void
test_wire(void)
{
	struct {
		struct tlstrust_wire_hdr h;
		char body[sizeof(pem_a)];
	} m;
	int fds[2];
	char *pem = NULL;
	char big[TLSTRUST_PEM_MAX + 64];

	if (!T_OK(pipe2(fds, O_CLOEXEC) == 0, "pipe"))
		return;
	T_OK(tlstrust_send(fds[1], pem_a) == 0 && tlstrust_send(fds[1], NULL) == 0, "send both");
	close(fds[1]);
	T_OK(tlstrust_recv(fds[0], true, &pem) == 0 && pem != NULL && strcmp(pem, pem_a) == 0,
	     "round trip: the PEM, NUL-terminated");
	free(pem);
	pem = (char *)1;
	T_OK(tlstrust_recv(fds[0], false, &pem) == 0 && pem == NULL, "\"no CA\" round trip");
	T_OK(tlstrust_recv(fds[0], false, &pem) == -1 && errno == EPIPE, "end of file: EPIPE");
	close(fds[0]);

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, pem_a, strlen(pem_a)); /* plausible start, too long */
	T_OK(tlstrust_send(STDOUT_FILENO, big) == -1 && errno == EINVAL, "send: over the bound");
	T_OK(tlstrust_send(STDOUT_FILENO, "not a cert") == -1 && errno == EINVAL,
	     "send: not a PEM certificate");

	m.h.magic = TLSTRUST_WIRE_MAGIC;
	m.h.len = (uint32_t)strlen(pem_a);
	memcpy(m.body, pem_a, strlen(pem_a));
	T_OK(recv_from(&m, sizeof(m.h) + strlen(pem_a), false, &pem) == -1 && errno == EPROTO,
	     "a CA that was not expected: EPROTO");
	m.h.len = 0;
	T_OK(recv_from(&m, sizeof(m.h), true, &pem) == -1 && errno == EPROTO,
	     "no CA when one was expected: EPROTO");
	m.h.magic = 0x12345678;
	m.h.len = (uint32_t)strlen(pem_a);
	T_OK(recv_from(&m, sizeof(m.h) + strlen(pem_a), true, &pem) == -1 && errno == EPROTO,
	     "bad magic: EPROTO");
	m.h.magic = TLSTRUST_WIRE_MAGIC;
	m.h.len = TLSTRUST_PEM_MAX + 1;
	T_OK(recv_from(&m, sizeof(m.h), true, &pem) == -1 && errno == EPROTO,
	     "length over TLSTRUST_PEM_MAX: EPROTO before reading it");
	m.h.len = (uint32_t)strlen(pem_a);
	T_OK(recv_from(&m, sizeof(m.h) + 10, true, &pem) == -1 && errno == EPIPE && pem == NULL,
	     "truncated payload: EPIPE");
	T_OK(recv_from(&m, 5, true, &pem) == -1 && errno == EPIPE, "truncated header: EPIPE");
	memcpy(m.body, "garbage garbage garbage", 23);
	T_OK(recv_from(&m, sizeof(m.h) + strlen(pem_a), true, &pem) == -1 && errno == EPROTO &&
		     pem == NULL,
	     "payload that is not a PEM certificate: EPROTO");
}

/* --- installation, in a child with its own mount namespace --- */

#define CHILD_BAD 100

/* Runs in the child: private mounts, a tmpfs /run, install, then checks. Exit 0 = all
 * checks passed, else the number of the failed check. */
static int
install_child(bool have_system)
{
	char err[1024], *bundle = NULL, *ca = NULL;
	size_t blen = 0, clen = 0, slen = 0;
	char *sys = NULL;
	struct stat st;
	struct statvfs sv;

	if (unshare(CLONE_NEWNS) == -1 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == -1)
		return CHILD_BAD;
	if (!have_system && mount("tmpfs", "/etc/ssl/certs", "tmpfs", 0, "mode=0755") == -1)
		return CHILD_BAD;
	if (have_system && ut_read_file(TLSTRUST_SYSTEM_BUNDLE, TLSTRUST_SYSTEM_MAX, &sys, &slen) == -1)
		return 1;
	if (tlstrust_install(pem_a, err, sizeof(err)) == -1) {
		dprintf(STDERR_FILENO, "# install: %s\n", err);
		return 2;
	}
	if (stat(TLSTRUST_DIR, &st) == -1 || (st.st_mode & 07777) != 0555 || st.st_uid != 0)
		return 3;
	if (stat(TLSTRUST_CA_FILE, &st) == -1 || (st.st_mode & 07777) != 0444 || st.st_uid != 0)
		return 4;
	if (stat(TLSTRUST_BUNDLE, &st) == -1 || (st.st_mode & 07777) != 0444 || st.st_uid != 0)
		return 5;
	if (ut_read_file(TLSTRUST_CA_FILE, 1 << 20, &ca, &clen) == -1 || clen != strlen(pem_a) ||
	    memcmp(ca, pem_a, clen) != 0)
		return 6;
	if (ut_read_file(TLSTRUST_BUNDLE, TLSTRUST_SYSTEM_MAX * 2, &bundle, &blen) == -1)
		return 7;
	if (have_system) {
		size_t nl = (slen > 0 && sys[slen - 1] != '\n') ? 1 : 0;
		if (blen != slen + nl + clen || memcmp(bundle, sys, slen) != 0 ||
		    memcmp(bundle + slen + nl, pem_a, clen) != 0)
			return 8;
		/* The system path now shows the bundle, read-only. */
		free(sys);
		sys = NULL;
		if (ut_read_file(TLSTRUST_SYSTEM_BUNDLE, TLSTRUST_SYSTEM_MAX * 2, &sys, &slen) == -1 ||
		    slen != blen || memcmp(sys, bundle, blen) != 0)
			return 9;
		if (statvfs(TLSTRUST_SYSTEM_BUNDLE, &sv) == -1 || !(sv.f_flag & ST_RDONLY))
			return 10;
		if (open(TLSTRUST_SYSTEM_BUNDLE, O_WRONLY | O_CLOEXEC) != -1 || errno != EROFS)
			return 11;
	} else if (blen != clen || memcmp(bundle, pem_a, clen) != 0) {
		return 12; /* no system bundle: the CA alone */
	} else if (access(TLSTRUST_SYSTEM_BUNDLE, F_OK) == 0) {
		return 13; /* and nothing bound */
	}
	/* A second install in the same /run refuses to overwrite (O_EXCL). */
	if (tlstrust_install(pem_a, err, sizeof(err)) != -1)
		return 14;
	free(sys);
	free(ca);
	free(bundle);
	return 0;
}

static int
run_install_child(bool have_system)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(install_child(have_system));
	if (pid == -1 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int
sha256_file(const char *path, uint8_t out[32])
{
	char *buf = NULL;
	size_t len = 0;

	if (ut_read_file(path, TLSTRUST_SYSTEM_MAX, &buf, &len) == -1)
		return -1;
	int rc = sha256_buf(buf, len, out);
	free(buf);
	return rc;
}

static void
test_install(void)
{
	uint8_t before[32], after[32];
	bool have_system = access(TLSTRUST_SYSTEM_BUNDLE, R_OK) == 0;
	int rc;
	char err[128];

	if (geteuid() != 0) {
		t_skip("install: needs root (mount namespace)");
		return;
	}
	T_OK(tlstrust_install("not a cert", err, sizeof(err)) == -1 && errno == EINVAL,
	     "install refuses a non-certificate before touching anything");
	if (have_system) {
		T_OK(sha256_file(TLSTRUST_SYSTEM_BUNDLE, before) == 0, "host bundle read");
		rc = run_install_child(true);
		T_OK(rc == 0, "install with the system bundle: files, modes, bind (check %d)", rc);
		T_OK(sha256_file(TLSTRUST_SYSTEM_BUNDLE, after) == 0 &&
			     memcmp(before, after, sizeof(before)) == 0,
		     "the host's bundle is byte-identical");
	} else {
		t_skip("install with the system bundle: the host has no %s", TLSTRUST_SYSTEM_BUNDLE);
	}
	rc = run_install_child(false);
	T_OK(rc == 0, "install without a system bundle: the CA alone, no bind (check %d)", rc);
	T_OK(access(TLSTRUST_CA_FILE, F_OK) == -1, "nothing appeared in the host's /run");
}

/* --- the CA variables --- */

static void
test_env(void)
{
	static const char *const keys[] = { "SSL_CERT_FILE", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE",
					    "GIT_SSL_CAINFO", "PIP_CERT" };
	char *inherited[] = { "SSL_CERT_FILE=/host/x.pem", "PIP_CERT=/host/p.pem", NULL };
	const char *extra[] = { "CURL_CA_BUNDLE=/mine.pem", "OTHER=1", NULL };
	struct env_params p = { .name = "t", .user = "u", .shell = "/bin/sh", .extra = extra };
	struct env e = { 0 };
	char err[256];

	T_OK(env_build(&e, inherited, &p, err, sizeof(err)) == 0, "env without CA builds");
	T_STREQ(env_get(&e, "SSL_CERT_FILE"), "/host/x.pem", "no CA: the caller's value passes");
	T_STREQ(env_get(&e, "CURL_CA_BUNDLE"), "/mine.pem", "no CA: --env passes");
	T_OK(env_get(&e, "NODE_EXTRA_CA_CERTS") == NULL && env_get(&e, "GIT_SSL_CAINFO") == NULL,
	     "no CA: nothing set");
	env_free(&e);

	p.ca = true;
	T_OK(env_build(&e, inherited, &p, err, sizeof(err)) == 0, "env with CA builds");
	for (size_t i = 0; i < NELEM(keys); i++)
		T_STREQ(env_get(&e, keys[i]), "/run/agentcage/ca-bundle.crt", "CA: %s", keys[i]);
	T_STREQ(env_get(&e, "NODE_EXTRA_CA_CERTS"), "/run/agentcage/ca.crt", "CA: NODE_EXTRA_CA_CERTS");
	T_STREQ(env_get(&e, "OTHER"), "1", "CA: other --env entries stay");
	T_STREQ(TLSTRUST_BUNDLE, ENV_CA_BUNDLE, "the variables name the installed bundle");
	env_free(&e);
}

int
main(void)
{
	test_policy_terminates();
	test_pem_plausible();
	test_wire();
	test_install();
	test_env();
	return t_done();
}
