#!/bin/bash
# proxy_lab: the proxy tests' own fixtures, checked from the host without agentcage, so a
# failure in proxy_clients/proxy_bulk points at the proxy and not at the lab: the lab's
# namespace and veth (tests/netlab.sh), netsrv's modes, the git smart-HTTP server and the
# pip index, and that netlab_down leaves nothing behind.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../netlab.sh"

if [ "$(id -u)" != 0 ]; then skip "needs root (ip netns, veth)"; done_testing; exit; fi
NETSRV=${AGENTCAGE_BUILD:-$(dirname "$AGENTCAGE")}/tests/helpers/netsrv
if [ ! -x "$NETSRV" ]; then skip "netsrv not built ($NETSRV)"; done_testing; exit; fi
TMP=$(mktemp -d /tmp/agentcage-proxylab.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
PY=/usr/bin/python3

netlab_up || { echo "Bail out! netlab_up failed"; exit 1; }
check "lab namespace exists" ip netns pids "$NETLAB_NS"
check "netsrv http (A:80, B:80) and halfclose (A:81) are ready" netlab_serve_files "$NETSRV"

cr() { curl -sS --noproxy '*' --max-time 20 "$@" 2>&1; }
expect_eq "GET /hello from the host reaches the lab (answer names the address)" \
	"$(cr "http://$NETLAB_IP_A/hello")" "hello from $NETLAB_IP_A"
expect_eq "the second lab address is served too" \
	"$(cr "http://$NETLAB_IP_B/hello")" "hello from $NETLAB_IP_B"
expect_eq "GET /bytes/N equals netsrv gen N (sha256)" \
	"$(cr "http://$NETLAB_IP_A/bytes/1000003" | sha256sum)" "$("$NETSRV" gen 1000003 | sha256sum)"
expect_eq "gen is a stream: gen 16 is the first 16 bytes of gen 20" \
	"$("$NETSRV" gen 16 | od -An -tx1)" "$("$NETSRV" gen 20 | head -c 16 | od -An -tx1)"
expect_eq "keep-alive: two requests, one connection (num_connects 1 then 0)" \
	"$(cr -w ' %{num_connects}\n' "http://$NETLAB_IP_A/hello" "http://$NETLAB_IP_A/hello")" \
	"hello from $NETLAB_IP_A
 1
hello from $NETLAB_IP_A
 0"
expect_eq "unknown path is 404" "$(cr -o /dev/null -w '%{http_code}' "http://$NETLAB_IP_A/x")" "404"
out=$($PY - "$NETLAB_IP_A" <<'PYEOF'
import socket, sys
s = socket.create_connection((sys.argv[1], 81), timeout=20)
s.sendall(b"h" * 70001)
s.shutdown(socket.SHUT_WR)
buf = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    buf += d
print(buf.decode().strip())
PYEOF
)
expect_eq "halfclose answers after the client's EOF" "$out" "got 70001 bytes"

check "git smart-HTTP server is ready" netlab_serve_git
out=$(git clone -q "http://$NETLAB_IP_C/repo.git" "$TMP/clone" 2>&1 && cat "$TMP/clone/README")
expect_eq "git clone over smart HTTP from the host works" "$out" "lab readme"

# pip: the simple index with its hand-built wheel.
check "static index server is ready" netlab_serve_pypi
$PY -m pip install -q --no-cache-dir --disable-pip-version-check --root-user-action=ignore \
	--trusted-host "$NETLAB_IP_D" --index-url "http://$NETLAB_IP_D/simple/" \
	--target "$TMP/t" agentcage-probe >"$TMP/pip.out" 2>&1
expect_eq "pip installs the wheel from the index" \
	"$(PYTHONPATH=$TMP/t $PY -c 'import agentcage_probe; print(agentcage_probe.VALUE)' 2>&1)" "probe-ok"
[ -s "$TMP/pip.out" ] && sed 's/^/# pip: /' "$TMP/pip.out"

hosts=$TMP/hosts
netlab_hosts "$hosts"
check "hosts file maps files.test to the lab" grep -Eq "^$NETLAB_IP_A .*files\.test" "$hosts"

ns=$NETLAB_NS veth=$NETLAB_VETH pids=("${NETLAB_PIDS[@]}")
check "netlab_down reports a clean teardown" netlab_down
check_fails "namespace is gone" test -e "/run/netns/$ns"
check_fails "host veth is gone" test -e "/sys/class/net/$veth"
alive=0
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
expect_eq "every lab server is gone" "$alive" "0"
done_testing
