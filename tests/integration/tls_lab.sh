#!/bin/bash
# tls_lab: the TLS tests' lab itself (tests/tls_lab.sh), with no agentcage in the way: from
# the host side of the lab's veth, real curl, git and pip talk HTTPS to the lab's nginx
# (test CA) as they will through the proxy. If this fails, tls_git/tls_rest failures say
# nothing about the proxy. Root only.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../tls_lab.sh"

if [ "$(id -u)" != 0 ]; then skip "needs root (network namespace, veth, mount namespace)"; done_testing; exit; fi
for t in nginx fcgiwrap openssl; do
	if ! command -v "$t" >/dev/null && [ ! -x "/usr/sbin/$t" ]; then
		skip "$t is not installed (scripts/install-deps)"; done_testing; exit
	fi
done
tls_lab_up || { echo "Bail out! tls_lab_up failed"; exit 1; }
# The caller's environment may name proxies and CA bundles: the host side runs without it.
export HOME=$TLS_DIR/home GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
mkdir -p "$HOME"
hcurl() { env -i PATH=/usr/bin:/bin curl -sS --max-time 30 "$@"; }
hgit() { env -i PATH=/usr/bin:/bin HOME="$HOME" GIT_CONFIG_NOSYSTEM=1 git "$@"; }
# curl --resolve NAME (to the lab address), verified against the test CA only.
lcurl() {
	local name=$1
	shift
	hcurl --cacert "$TLS_CA" --resolve "$name:443:$TLS_IP" --resolve "$name:80:$TLS_IP" \
		-w '\n%{http_code}' "$@"
}

# --- the certificate -----------------------------------------------------------------------
text=$(openssl x509 -in "$TLS_DIR/pki/server.crt" -noout -text)
expect_contains "server key is ECDSA P-256" "$text" "NIST CURVE: P-256"
expect_contains "server certificate names github.com, pypi.org, api.test and the lab IP" \
	"$(grep -A1 'Subject Alternative Name' <<<"$text")" "DNS:github.com, DNS:api.github.com"
expect_eq "server certificate verifies against the test CA" \
	"$(openssl verify -CAfile "$TLS_CA" "$TLS_DIR/pki/server.crt" 2>&1)" "$TLS_DIR/pki/server.crt: OK"
out=$(hcurl --cacert "$TLS_CA" -w '\n%{http_code}' "https://$TLS_IP/ip")
expect_eq "https://<lab IP>/ip: verified by IP SAN, answered by the stub" "$(tail -n 1 <<<"$out")" "200"
out=$(hcurl --resolve "api.test:443:$TLS_IP" "https://api.test/x" 2>&1)
expect_contains "without the test CA, curl refuses the lab's certificate" "$out" \
	"SSL certificate problem"

# --- the JSON stub -------------------------------------------------------------------------
expect_eq "GET https://api.test/repos/o/r?q=1: 200 JSON echo" "$(lcurl api.test 'https://api.test/repos/o/r?q=1')" \
	'{"method":"GET","uri":"/repos/o/r?q=1","host":"api.test","length":""}
200'
head -c 100000 /dev/zero | tr '\0' x >"$TLS_DIR/body"
expect_eq "POST with a 100 kB body: 200, length echoed" \
	"$(lcurl api.github.com -X POST --data-binary @"$TLS_DIR/body" https://api.github.com/user/repos)" \
	'{"method":"POST","uri":"/user/repos","host":"api.github.com","length":"100000"}
200'
expect_eq "chunked POST: 200" \
	"$(lcurl api.test -H 'Transfer-Encoding: chunked' --data-binary @"$TLS_DIR/body" https://api.test/c | tail -n 1)" "200"
expect_eq "PUT and DELETE: 200 each" \
	"$(lcurl api.test -X PUT -d x https://api.test/p | tail -n 1) $(lcurl api.test -X DELETE https://api.test/d | tail -n 1)" "200 200"
expect_eq "plain http://api.test/ on :80 answers too" "$(lcurl api.test http://api.test/plain | tail -n 1)" "200"
check "access log: one line per request (host method uri status)" \
	grep -qx 'api.github.com POST /user/repos 200' "$TLS_ACCESS_LOG"

# --- git smart HTTP --------------------------------------------------------------------------
out=$(lcurl github.com -D - -o /dev/null 'https://github.com/org/repo.git/info/refs?service=git-upload-pack')
expect_contains "info/refs?service=git-upload-pack: the upload-pack advertisement" "$out" \
	"Content-Type: application/x-git-upload-pack-advertisement"
out=$(tls_direct git -c http.sslCAInfo="$TLS_CA" clone -q https://github.com/org/repo.git \
	"$TLS_DIR/clone" 2>&1 && cat "$TLS_DIR/clone/README")
expect_eq "git clone https://github.com/org/repo.git (hosts file, test CA): README" "$out" "lab readme"
expect_eq "the clone has the three commits" "$(hgit -C "$TLS_DIR/clone" rev-list --count HEAD 2>&1)" "3"
git -C "$TLS_REPO" update-ref refs/heads/side "$(git -C "$TLS_REPO" rev-parse main)"
check "git fetch: new ref arrives" tls_direct git -C "$TLS_DIR/clone" -c http.sslCAInfo="$TLS_CA" \
	fetch -q origin side
echo push >"$TLS_DIR/clone/PUSHED"
hgit -C "$TLS_DIR/clone" add PUSHED
hgit -C "$TLS_DIR/clone" -c user.name=t -c user.email=t@t.test commit -qm pushed
check "git push straight to the lab succeeds (receive-pack is on: only a proxy can stop it)" \
	tls_direct git -C "$TLS_DIR/clone" -c http.sslCAInfo="$TLS_CA" push -q origin main
expect_eq "the pushed commit is on the server" "$(git -C "$TLS_REPO" rev-parse main)" \
	"$(hgit -C "$TLS_DIR/clone" rev-parse HEAD)"
check "access log: the POST .../git-receive-pack was served 200" \
	grep -qx 'github.com POST /org/repo.git/git-receive-pack 200' "$TLS_ACCESS_LOG"

# --- the pip index ----------------------------------------------------------------------------
out=$(lcurl pypi.org https://pypi.org/simple/agentcage-probe/)
expect_contains "pypi.org/simple/agentcage-probe/ links to files.pythonhosted.org" "$out" \
	'<a href="https://files.pythonhosted.org/packages/agentcage_probe-1.0-py3-none-any.whl#sha256='
out=$(tls_direct /usr/bin/python3 -m pip download --isolated -q --no-cache-dir --no-deps \
	--disable-pip-version-check --cert "$TLS_CA" --index-url https://pypi.org/simple/ \
	-d "$TLS_DIR/dl" agentcage-probe 2>&1; ls "$TLS_DIR/dl")
expect_eq "pip download agentcage-probe from https://pypi.org/simple/: the wheel" "$out" \
	"agentcage_probe-1.0-py3-none-any.whl"

# --- clean-up ----------------------------------------------------------------------------------
pid=${NETLAB_PIDS[-1]}
check "tls_lab_down: servers stopped, namespace and veth gone" tls_lab_down
check_fails "nginx (pid $pid) is gone" kill -0 "$pid" 2>/dev/null
done_testing
