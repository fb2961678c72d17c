#!/bin/bash
# sandbox_tls: the sandbox's side of TLS termination (issue 5, "CA and trust"): the
# per-sandbox CA certificate and bundle inside the sandbox, the read-only bind over the
# distribution's bundle (the host's file untouched), the CA variables, --upstream-ca
# checks, and nothing of it for a policy that terminates no TLS.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/sandbox_lib.sh"

if [ "$(id -u)" != 0 ]; then skip "needs root (namespaces, mounts)"; done_testing; exit; fi
if ! command -v openssl >/dev/null; then skip "needs the openssl command"; done_testing; exit; fi

top=$(cd "$(dirname "$0")/../.." && pwd)
sys=/etc/ssl/certs/ca-certificates.crt
host_sum_before=$( [ -f $sys ] && sha256sum < $sys)

# --- default policy: one run collects everything the sandbox user sees ---
out=$(sb_sh 'cd /run/agentcage || exit 1
	stat -c "%n %U %a" /run/agentcage ca.crt ca-bundle.crt
	echo "---subject"; openssl x509 -in ca.crt -noout -subject
	echo "---bc"; openssl x509 -in ca.crt -noout -ext basicConstraints
	echo "---dates"; openssl x509 -in ca.crt -noout -startdate -enddate
	echo "---env"; env | grep -E "^(SSL_CERT_FILE|CURL_CA_BUNDLE|REQUESTS_CA_BUNDLE|GIT_SSL_CAINFO|PIP_CERT|NODE_EXTRA_CA_CERTS)=" | sort
	echo "---writes"
	echo x >> ca.crt || echo "ca.crt: append refused"
	echo x >> ca-bundle.crt || echo "ca-bundle.crt: append refused"
	echo x >> /etc/ssl/certs/ca-certificates.crt || echo "system bundle: append refused"
	rm -f ca.crt || echo "ca.crt: unlink refused"
	touch /run/agentcage/new || echo "dir: create refused"
	mount -o remount,bind,rw /etc/ssl/certs/ca-certificates.crt || echo "remount refused"
	umount /etc/ssl/certs/ca-certificates.crt || echo "umount refused"
	echo "---key"; grep -rl "PRIVATE KEY" /run/agentcage; echo "grep rc=$?"
	echo "---mount"; grep " /etc/ssl/certs/ca-certificates.crt " /proc/self/mountinfo
	echo "---"')
# The CA and the system-path bundle as one sandbox saw them (each run has its own CA),
# copied out through the read-write workdir.
sb_sh 'cp /run/agentcage/ca.crt ./ca.pem; cp /etc/ssl/certs/ca-certificates.crt ./bundle.pem 2>/dev/null' >/dev/null
ca_in=$(cat "$SB_WORK/ca.pem" 2>/dev/null)

expect_contains "dir is root-owned 0555" "$out" "/run/agentcage root 555"
expect_contains "ca.crt is root-owned 0444" "$out" "ca.crt root 444"
expect_contains "ca-bundle.crt is root-owned 0444" "$out" "ca-bundle.crt root 444"
subject=$(sed -n '/^---subject/{n;p}' <<< "$out")
expect_contains "CA subject names agentcage" "$subject" "agentcage"
expect_contains "CA subject names the sandbox" "$subject" "$SB_NAME"
expect_contains "CA is a CA (basicConstraints CA:TRUE)" "$out" "CA:TRUE"
start=$(sed -n 's/^notBefore=//p' <<< "$out") end=$(sed -n 's/^notAfter=//p' <<< "$out")
if [ -n "$start" ] && [ -n "$end" ]; then
	days=$(( ($(date -d "$end" +%s) - $(date -d "$start" +%s)) / 86400 ))
	check "CA validity is short ($days days, at most 31)" test "$days" -le 31
	check "CA is valid now" bash -c 'openssl x509 -noout -checkend 0 <<< "$1" >/dev/null' _ "$ca_in"
else
	not_ok "CA dates readable: $out"
fi
for v in SSL_CERT_FILE CURL_CA_BUNDLE REQUESTS_CA_BUNDLE GIT_SSL_CAINFO PIP_CERT; do
	expect_contains "$v names the bundle" "$out" "$v=/run/agentcage/ca-bundle.crt"
done
expect_contains "NODE_EXTRA_CA_CERTS names the CA" "$out" "NODE_EXTRA_CA_CERTS=/run/agentcage/ca.crt"
expect_contains "ca.crt cannot be written" "$out" "ca.crt: append refused"
expect_contains "ca-bundle.crt cannot be written" "$out" "ca-bundle.crt: append refused"
expect_contains "the bundle over the system path cannot be written" "$out" "system bundle: append refused"
expect_contains "ca.crt cannot be removed" "$out" "ca.crt: unlink refused"
expect_contains "nothing can be created in /run/agentcage" "$out" "dir: create refused"
expect_contains "the bind cannot be remounted read-write" "$out" "remount refused"
expect_contains "the bind cannot be unmounted" "$out" "umount refused"
expect_contains "no private key under /run/agentcage" "$out" "grep rc=1"
if [ -f $sys ]; then
	mnt=$(sed -n '/^---mount/{n;p}' <<< "$out")
	check "the system bundle path is a read-only bind ($mnt)" grep -Eq ' (ro|ro,[^ ]*) ' <<< "$mnt"
fi

# The python3 view: the bind is MS_RDONLY, remount is EPERM for the sandbox user.
out=$(sb_run -- /usr/bin/python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
st = os.statvfs("/etc/ssl/certs/ca-certificates.crt")
print("rdonly", bool(st.f_flag & os.ST_RDONLY))
MS_REMOUNT, MS_BIND = 32, 4096
r = libc.mount(None, b"/etc/ssl/certs/ca-certificates.crt", None, MS_REMOUNT | MS_BIND, None)
print("remount", r, os.strerror(ctypes.get_errno()) if r else "")
' 2>&1)
if [ -f $sys ]; then
	expect_contains "statvfs says read-only" "$out" "rdonly True"
fi
expect_contains "remount(2) is refused (EPERM)" "$out" "remount -1 Operation not permitted"

# The sandbox's bundle = the host's bundle + the CA, seen at the system path too.
if [ -f $sys ]; then
	SB_EXTRA_CLEAN+=("$SB_WORK.expect")
	{ cat $sys; [ -z "$(tail -c1 $sys)" ] || echo; cat "$SB_WORK/ca.pem"; } > "$SB_WORK.expect"
	check "system path inside = host bundle + the CA" cmp -s "$SB_WORK/bundle.pem" "$SB_WORK.expect"
	check "the CA verifies against the bundle inside" \
		bash -c 'openssl verify -CAfile "$1/bundle.pem" "$1/ca.pem" >/dev/null' _ "$SB_WORK"
	expect_eq "the host's bundle is byte-identical after the runs" "$(sha256sum < $sys)" "$host_sum_before"
	check "the host's bundle has no agentcage CA" bash -c "! grep -q 'agentcage' $sys"
else
	skip "host has no $sys: bundle comparison"
fi

ca2=$(sb_run -- /bin/cat /run/agentcage/ca.crt 2>/dev/null)
check "two runs get two different CAs" test -n "$ca2" -a "$ca2" != "$ca_in"
expect_eq "the lifecycle log lists /run/agentcage as an implicit read-only rule" \
	"$(grep -c '"path":"/run/agentcage","access":"ro","type":"dir","implicit":true' "$SB_LOG")" \
	"$(grep -c '"event":"start"' "$SB_LOG")"

# A caller's values are replaced, --env included.
out=$(SSL_CERT_FILE=/nope/caller.pem sb_run --env CURL_CA_BUNDLE=/nope/env.pem -- /usr/bin/env 2>/dev/null)
expect_contains "caller's SSL_CERT_FILE replaced" "$out" "SSL_CERT_FILE=/run/agentcage/ca-bundle.crt"
expect_contains "--env CURL_CA_BUNDLE replaced" "$out" "CURL_CA_BUNDLE=/run/agentcage/ca-bundle.crt"

# --- a policy without TLS termination: nothing of the above ---
l4=$top/tests/policies/sandbox_tls/l4only.yaml
out=$(env -u CURL_CA_BUNDLE -u REQUESTS_CA_BUNDLE -u GIT_SSL_CAINFO -u PIP_CERT \
	-u NODE_EXTRA_CA_CERTS SSL_CERT_FILE=/caller/kept.pem \
	"$AGENTCAGE" run --name "$SB_NAME" --workdir "$SB_WORK" --log "$SB_LOG" "${SB_ENV[@]}" --policy "$l4" -- /bin/sh -c \
	'ls -A /run; test -e /run/agentcage && echo HAVE-DIR; env | grep -E "^(SSL_CERT_FILE|CURL_CA_BUNDLE|REQUESTS_CA_BUNDLE|GIT_SSL_CAINFO|PIP_CERT|NODE_EXTRA_CA_CERTS)="; grep -c " /etc/ssl/certs/ca-certificates.crt " /proc/self/mountinfo' 2>/dev/null)
check "L4-only policy: no /run/agentcage" bash -c "! grep -q HAVE-DIR <<< \"\$1\"" _ "$out"
check "L4-only policy: no CA variables set" bash -c "! grep -Eq '^(CURL_CA_BUNDLE|REQUESTS_CA_BUNDLE|GIT_SSL_CAINFO|PIP_CERT|NODE_EXTRA_CA_CERTS)=' <<< \"\$1\"" _ "$out"
expect_contains "L4-only policy: the caller's SSL_CERT_FILE passes" "$out" "SSL_CERT_FILE=/caller/kept.pem"
expect_contains "L4-only policy: no bind over the system bundle" "$out" $'\n0'

# --- --upstream-ca ---
out=$(sb_run --upstream-ca /nonexistent/ca.pem -- /bin/true 2>&1); rc=$?
expect_eq "--upstream-ca missing file: exit 2" "$rc" 2
expect_contains "--upstream-ca missing file: named" "$out" "/nonexistent/ca.pem"
expect_contains "--upstream-ca missing file: hint" "$out" "hint:"
printf 'just some text\n' > "$SB_WORK.nocert"
SB_EXTRA_CLEAN+=("$SB_WORK.nocert" "$SB_WORK.good")
out=$(sb_run --upstream-ca "$SB_WORK.nocert" -- /bin/true 2>&1); rc=$?
expect_eq "--upstream-ca without a certificate: exit 2" "$rc" 2
expect_contains "--upstream-ca without a certificate: named" "$out" "$SB_WORK.nocert"
printf '%s\n' "$ca_in" > "$SB_WORK.good"
out=$(sb_run --upstream-ca "$SB_WORK.good" -- /bin/echo started 2>/dev/null); rc=$?
expect_eq "--upstream-ca with a PEM certificate: the sandbox runs" "$rc:$out" "0:started"

done_testing
