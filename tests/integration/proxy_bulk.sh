#!/bin/bash
# proxy_bulk: CONNECT tunnels through agentcage's egress proxy carry data exactly: 1 GiB
# downloaded through `curl --proxytunnel` is byte-exact (sha256 against `netsrv gen`), and
# a client's half-close crosses the tunnel while the answer still comes back. Issue 4
# "Tests" (big transfers, half-close). Root only; servers in tests/netlab.sh's lab.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../proxy_lib.sh"
BIG=1073741824 # 1 GiB
SB_EXTRA_CLEAN+=("$SB_WORK.sum")
netlab_serve_files "$NETSRV" || { echo "Bail out! lab servers did not start"; exit 1; }

# The expected digest is computed on the host while the tunnel test runs.
"$NETSRV" gen $BIG | sha256sum >"$SB_WORK.sum" &
sum_pid=$!

expect_eq "curl -p (CONNECT tunnel) GET http://files.test/hello" \
	"$(pxsh 'curl -sS -p --max-time 30 http://files.test/hello')" "hello from $NETLAB_IP_A"

: >"$SB_LOG"
got=$(pxsh "curl -sS -p --max-time 300 http://files.test/bytes/$BIG | sha256sum")
wait "$sum_pid"
want=$(cat "$SB_WORK.sum")
check "netsrv gen produced the expected digest" test -n "$want"
expect_eq "1 GiB through a CONNECT tunnel is byte-exact (sha256)" "$got" "$want"
down=$(/usr/bin/python3 -c '
import json, sys
print(max([json.loads(l).get("bytes_down", 0) for l in open(sys.argv[1])
           if "\"net\"" in l] or [0]))' "$SB_LOG")
check "log: the tunnel's bytes_down counts the whole GiB ($down)" test "$down" -ge $BIG

# halfclose.py HOST PORT N: CONNECT through $HTTPS_PROXY, print the status line, send N
# bytes, shut down the write side, print what comes back until EOF.
cat >"$SB_WORK/halfclose.py" <<'PYEOF'
import os, socket, sys, urllib.parse
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
proxy = urllib.parse.urlsplit(os.environ["HTTPS_PROXY"])
s = socket.create_connection((proxy.hostname, proxy.port), timeout=60)
s.sendall(b"CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host.encode(), port, host.encode(), port))
head = b""
while not head.endswith(b"\r\n\r\n"):
    d = s.recv(1)  # one byte at a time: nothing after the head is consumed here
    if not d:
        break
    head += d
print(head.split(b"\r\n")[0].decode())
s.sendall(b"q" * n)
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
print(out.decode().strip())
PYEOF
: >"$SB_LOG"
out=$(pxsh '/usr/bin/python3 halfclose.py files.test 81 5000000')
expect_eq "half-close: CONNECT files.test:81 is established" "$(head -n 1 <<<"$out")" \
	"HTTP/1.1 200 Connection established"
expect_eq "half-close: the server saw all 5000000 bytes and EOF, its answer came back" \
	"$(tail -n 1 <<<"$out")" "got 5000000 bytes"
up=$(/usr/bin/python3 -c '
import json, sys
print(max([json.loads(l).get("bytes_up", 0) for l in open(sys.argv[1])
           if "\"net\"" in l] or [0]))' "$SB_LOG")
check "log: the tunnel's bytes_up counts the 5000000 bytes ($up)" test "$up" -ge 5000000
out=$(pxsh '/usr/bin/python3 halfclose.py files.test 81 0')
expect_eq "half-close with nothing sent: the answer still comes back" \
	"$(tail -n 1 <<<"$out")" "got 0 bytes"

check "netlab_down: servers stopped, namespace and veth gone" netlab_down
done_testing
