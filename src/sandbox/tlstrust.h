/*
 * sandbox/tlstrust: the sandbox's side of TLS termination (issue 5, "CA and trust"):
 * whether a policy makes the proxy terminate TLS at all, the hand-over of the per-sandbox
 * CA certificate from the supervisor to init, and its installation in the sandbox's own
 * trust store.
 *
 * Files (inside the sandbox only; the host is never modified):
 *   /run/agentcage/            root, 0555, on the sandbox's private /run tmpfs
 *   /run/agentcage/ca.crt      root, 0444: the CA certificate (PEM), nothing else
 *   /run/agentcage/ca-bundle.crt  root, 0444: the host's system bundle + the CA
 * and ca-bundle.crt bind-mounted read-only (nosuid, nodev, noexec) over
 * /etc/ssl/certs/ca-certificates.crt when that path exists in the sandbox's view. The CA's
 * private key never reaches init or the command: the supervisor creates the CA after the
 * clone (tls/ca.h) and sends only the certificate.
 *
 * Wire format (supervisor -> init, on the pipe that then carries the seccomp filter,
 * house rule 12): a struct tlstrust_wire_hdr, then exactly hdr.len bytes of PEM. Always
 * sent, first; len 0 means "no CA" (the policy terminates nothing). The receiver checks
 * the magic, the bound, that it expected a CA exactly when one comes, and the PEM's
 * shape, and NUL-terminates the text itself.
 *
 * Context: tlstrust_policy_terminates() anywhere (pure); tlstrust_send() in the
 * supervisor; tlstrust_recv() and tlstrust_install() in init (root, after mounts_build(),
 * before landlock_prepare()). Errors: 0 / -1 with errno; install also fills <err>.
 * Ownership: tlstrust_recv()'s PEM is malloc'd, the caller frees it.
 */
#ifndef AGENTCAGE_SANDBOX_TLSTRUST_H
#define AGENTCAGE_SANDBOX_TLSTRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/model.h"
#include "sandbox/env.h"

/* The paths the CA variables name (env.h) are these files. */
#define TLSTRUST_DIR        "/run/agentcage"
#define TLSTRUST_CA_FILE    ENV_CA_CERT
#define TLSTRUST_BUNDLE     ENV_CA_BUNDLE
/* The Debian/Ubuntu (and Alpine, Arch) default store OpenSSL, GnuTLS and curl read. */
#define TLSTRUST_SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
/* One CA certificate: an ECDSA P-256 one is ~750 bytes of PEM; this leaves room for an
 * RSA-4096 CA should tls/ca ever change, and refuses anything absurd. */
#define TLSTRUST_PEM_MAX    (16 * 1024)
/* The host's system bundle copied into the sandbox's; Debian's is ~220 KiB. */
#define TLSTRUST_SYSTEM_MAX (16 * 1024 * 1024)
#define TLSTRUST_WIRE_MAGIC 0x41434341u /* "ACCA" */

struct tlstrust_wire_hdr {
	uint32_t magic;
	uint32_t len; /* PEM bytes that follow, no NUL; 0 = no CA */
};

/*
 * True when the proxy terminates TLS for at least one endpoint of <p>: an endpoint with
 * L7 meaning (protocol other than L4/tcp) whose tls is not skip. This is exactly the
 * engine's `decision.inspect` (policy/engine.c) taken over every endpoint; the default
 * policy has such endpoints. NULL -> false.
 */
bool tlstrust_policy_terminates(const struct policy *p);

/*
 * True when <pem>[0..<len>) looks like one or more PEM certificates: it starts (after
 * optional whitespace) with "-----BEGIN CERTIFICATE-----", holds an END line, and has no
 * NUL byte. A shape check only (init has no business parsing X.509): what goes in the
 * trust store is what the supervisor's CA module produced.
 */
bool tlstrust_pem_plausible(const char *pem, size_t len);

/* Supervisor: sends <pem> (NUL-terminated, or NULL for "no CA") to init on <fd>
 * (blocking). -1 with errno: EINVAL for a PEM over TLSTRUST_PEM_MAX or failing
 * tlstrust_pem_plausible(), EPIPE when init is gone. */
int tlstrust_send(int fd, const char *pem);

/*
 * Init: reads one message from <fd>. <expect> says whether a CA must come (the plan's
 * ca_expected). 0 with *<pem> = malloc'd NUL-terminated text, or NULL when none was
 * expected and none came. -1 with errno: EPIPE at end of file (the supervisor failed and
 * said why), EPROTO for a bad magic, a length over TLSTRUST_PEM_MAX, a CA that was not
 * expected or missing, or text that is not a PEM certificate.
 */
int tlstrust_recv(int fd, bool expect, char **pem);

/*
 * Init, root, in the sandbox's mount namespace after mounts_build(): creates the files
 * described above and the read-only bind over TLSTRUST_SYSTEM_BUNDLE (when it exists),
 * and checks that the bind is read-only. A missing system bundle is not an error: the
 * bundle is then the CA alone and a warning is logged. -1 with errno and <err>
 * ("<step> <path>: <errno text>" + hint).
 */
int tlstrust_install(const char *pem, char *err, size_t errlen);

#endif
