#!/bin/bash
# proxy_smoke: the egress proxy is wired into `agentcage run` (docs/proxy.md): the proxy
# variables are set, a refused CONNECT gets the 403 JSON with the engine's reason, the
# decision is logged (JSON line + DENIED line on stderr), a direct connection without the
# proxy fails with "Network is unreachable", and a bad --hosts file stops the start.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/sandbox_lib.sh"

if [ "$(id -u)" != 0 ]; then skip "needs root (namespaces, mounts)"; done_testing; exit; fi
if [ ! -x /usr/bin/curl ]; then skip "curl is not installed"; done_testing; exit; fi

env_out=$(sb_sh 'env | grep -i -e proxy -e NODE_USE | sort | tr "\n" " "')
for v in HTTP_PROXY HTTPS_PROXY ALL_PROXY grpc_proxy http_proxy https_proxy all_proxy; do
	expect_contains "$v points at the proxy" "$env_out" "$v=http://127.0.0.1:3128 "
done
expect_contains "NO_PROXY is loopback" "$env_out" "NO_PROXY=127.0.0.1,localhost,::1 "
expect_contains "no_proxy is loopback" "$env_out" "no_proxy=127.0.0.1,localhost,::1 "
expect_contains "NODE_USE_ENV_PROXY=1" "$env_out" "NODE_USE_ENV_PROXY=1 "

: > "$SB_LOG"
# curl prints the CONNECT response code with %{http_connect}.
SB_EXTRA_CLEAN+=("$SB_WORK.err")
# curl's stderr goes to stdout inside the sandbox, so agentcage's own DENIED line (same
# terminal) cannot interleave with it.
body=$(sb_run -- /bin/sh -c "/usr/bin/curl -sS -o - -w '\n%{http_connect}' \
	-x http://127.0.0.1:3128 https://evil.invalid/ 2>&1" 2>"$SB_WORK.err")
err=$(cat "$SB_WORK.err")
expect_contains "curl through the proxy is refused with 403" "$body" "403"
expect_contains "curl reports the refused tunnel" "$body" "CONNECT tunnel failed, response 403"
expect_contains "stderr carries the DENIED line" "$err" "agentcage: DENIED /usr/bin/curl (pid "
expect_contains "DENIED line names the destination" "$err" "-> evil.invalid:443 — "
# The JSON body itself, read with a plain HTTP client of the proxy (curl hides a CONNECT
# response body): python3 is in the default policy's read-only paths.
resp=$(sb_run -- /usr/bin/python3 -c '
import socket
s = socket.create_connection(("127.0.0.1", 3128))
s.sendall(b"CONNECT evil.invalid:443 HTTP/1.1\r\nHost: evil.invalid:443\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b: break
    data += b
print(data.decode())' 2>/dev/null)
expect_contains "403 status line" "$resp" "HTTP/1.1 403 Forbidden"
expect_contains "JSON content type" "$resp" "Content-Type: application/json"
expect_contains "Connection: close" "$resp" "Connection: close"
expect_contains "error is policy_denied" "$resp" '{"error":"policy_denied","detail":"'
expect_contains "detail is the engine's reason" "$resp" "evil.invalid:443 is not allowed by any policy block"

log=$(/usr/bin/python3 - "$SB_LOG" <<'PY'
import json, sys
net = [json.loads(l) for l in open(sys.argv[1]) if '"event":"net"' in l]
d = net[0] if net else {}
print(len(net) >= 2, d.get("decision"), d.get("error"), d.get("binary"), d.get("host"), d.get("port"),
      isinstance(d.get("pid"), int), "duration_ms" in d, "bytes_up" in d, "ancestors" in d)
PY
)
expect_eq "decision lines in the log" "$log" "True deny policy_denied /usr/bin/curl evil.invalid 443 True True True True"

direct=$(sb_sh '/usr/bin/python3 -c "
import socket
try:
    socket.create_connection((\"192.0.2.1\", 443), timeout=5)
    print(\"connected\")
except OSError as e:
    print(e.strerror)"')
expect_eq "a direct connection without the proxy is unreachable" "$direct" "Network is unreachable"
direct=$(sb_sh '/usr/bin/curl -sS --noproxy "*" http://192.0.2.1/ 2>&1; true')
expect_contains "curl without the proxy fails at once" "$direct" "Failed to connect"

printf '10.0.0.1 ok.test\nnot-an-ip bad.test\n' > "$SB_WORK/hosts"
out=$(sb_run --hosts "$SB_WORK/hosts" -- true 2>&1); rc=$?
expect_eq "a bad --hosts file stops the start" "$rc" 1
expect_contains "and says file:line" "$out" "$SB_WORK/hosts:2: not an IP address: 'not-an-ip'"
done_testing
