#!/bin/bash
# proxy_clients: real clients (curl, wget, git, python3 urllib, pip, bash /dev/tcp) inside
# real sandboxes go out through agentcage's egress proxy to the lab's servers
# (tests/netlab.sh), on tests/policies/proxy/lab.yaml; names resolve through --hosts.
# Issue 4 "Tests": who may go where, identity by real binary path, ancestors, TOFU pins,
# no way around the proxy, destination rules, DNS failure, the decision log. Root only.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../proxy_lib.sh"
netlab_serve_files "$NETSRV" && netlab_serve_git && netlab_serve_pypi ||
	{ echo "Bail out! lab servers did not start"; exit 1; }
# Fetch with curl, body then a last line with the status code.
CURLARGS='-sS --max-time 30 -w "\n%{http_code}"'
CURL="curl $CURLARGS"
# flip.py FILE: inverts the last byte of FILE in place (same inode, same size).
cat >"$SB_WORK/flip.py" <<'PYEOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
end = os.lseek(fd, -1, os.SEEK_END)
os.pwrite(fd, bytes([os.pread(fd, 1, end)[0] ^ 1]), end)
os.close(fd)
PYEOF

# --- allowed binary, allowed host ---------------------------------------------------------
expect_eq "curl GET http://files.test/hello through the proxy: 200 from the lab" \
	"$(pxsh "$CURL http://files.test/hello")" "hello from $NETLAB_IP_A

200"
expect_eq "wget -qO- http://files.test/hello: the same body" \
	"$(pxsh 'wget -qO- http://files.test/hello; echo rc=$?')" "hello from $NETLAB_IP_A
rc=0"
expect_eq "git clone http://git.test/repo.git (smart HTTP via git-remote-http): README checked out" \
	"$(pxsh 'git clone -q http://git.test/repo.git /tmp/c && cat /tmp/c/README')" "lab readme"
# A push whose pack is larger than git's http.postBuffer goes up as one chunked POST: the
# forward path relays the body up to its last chunk (proxy/forward.h), byte-exact.
PUSH=$NETLAB_DIR/git/push.git
git init -q --bare -b main "$PUSH" && git -C "$PUSH" config http.receivepack true
out=$(pxsh 'cd /tmp && git init -q -b main p && cd p && head -c 300000 /dev/urandom >blob &&
	git add blob && git -c user.name=t -c user.email=t@t.test commit -qm big &&
	GIT_TRACE_CURL=/tmp/curl.trace git -c http.postBuffer=65536 push -q http://git.test/push.git main &&
	git rev-parse HEAD && grep -c "Transfer-Encoding: chunked" /tmp/curl.trace')
expect_eq "git push of a 300 KB pack over http (a chunked POST): the lab's repository has it" \
	"$(head -n 1 <<<"$out")" "$(git -C "$PUSH" rev-parse main 2>&1)"
check "and git sent the pack chunked ($(tail -n 1 <<<"$out") chunked requests)" \
	[ "$(tail -n 1 <<<"$out")" -ge 1 ]
out=$(pxsh '/usr/bin/python3 -c "import urllib.request as u; print(u.urlopen(\"http://files.test/hello\", timeout=30).read().decode(), end=\"\")"')
expect_eq "python3 urllib GET http://files.test/hello: 200 body" "$out" "hello from $NETLAB_IP_A"
out=$(pxsh '/usr/bin/python3 -m pip install --isolated -q --no-cache-dir --disable-pip-version-check \
	--trusted-host pypi.test --index-url http://pypi.test/simple/ --target /tmp/t agentcage-probe \
	&& PYTHONPATH=/tmp/t /usr/bin/python3 -c "import agentcage_probe as p; print(p.VALUE)"')
expect_eq "pip install agentcage-probe from http://pypi.test/simple/, then import it" \
	"$(tail -n 1 <<<"$out")" "probe-ok"

# --- the calling binary decides -----------------------------------------------------------
# bash speaks HTTP to the proxy itself: /usr/bin/bash is in no block for files.test. Only
# builtins touch the socket: a forked `cat` would share it and make the owner ambiguous.
out=$(px -- /bin/bash -c 'exec 3<>/dev/tcp/127.0.0.1/3128 &&
	printf "GET http://files.test/hello HTTP/1.1\r\nHost: files.test\r\nConnection: close\r\n\r\n" >&3 &&
	while IFS= read -r -u 3 l || [ -n "$l" ]; do printf "%s\n" "${l%$'"'"'\r'"'"'}"; done')
expect_eq "bash to files.test (binary in no block): status 403" "$(head -n 1 <<<"$out")" \
	"HTTP/1.1 403 Forbidden"
check "bash denial: Content-Type application/json" grep -qi '^content-type: application/json' <<<"$out"
expect_contains "bash denial: body is policy_denied" "$out" '{"error":"policy_denied","detail":"'
expect_contains "bash denial: the reason names the binary" "$out" \
	"/usr/bin/bash is not one of its binaries"
expect_contains "bash denial: DENIED line on agentcage's stderr" "$(cat "$SB_WORK.err")" \
	"agentcage: DENIED /usr/bin/bash (pid "
expect_contains "bash denial: DENIED line names the destination and reason" "$(cat "$SB_WORK.err")" \
	") -> files.test:80 — files.test:80 is allowed by block files, but /usr/bin/bash"

out=$(pxsh "$CURL http://other.test/hello")
expect_eq "curl to other.test (no block lists it): 403" "$(tail -n 1 <<<"$out")" "403"
expect_contains "other.test denial names the endpoint" "$out" \
	"endpoint other.test:80 is not allowed by any policy block"
check_fails "other.test denial: the lab server was never reached" grep -q "hello" <<<"$out"

out=$(pxsh "$CURL http://pypi.test/simple/")
expect_eq "curl alone to pypi.test (only python3's block): 403" "$(tail -n 1 <<<"$out")" "403"
out=$(pxsh "/usr/bin/python3 -c 'import subprocess; subprocess.run([\"curl\", \"-sS\", \"--max-time\", \"30\", \"http://pypi.test/simple/\"])'")
expect_contains "curl started by python3 to pypi.test: allowed through its ancestor" "$out" \
	'<a href="agentcage-probe/">'

out=$(pxsh "cp /usr/bin/curl /tmp/curl2 && /tmp/curl2 $CURLARGS http://files.test/hello")
expect_eq "a copy of curl at /tmp/curl2: 403" "$(tail -n 1 <<<"$out")" "403"
expect_contains "the copy's denial names /tmp/curl2" "$out" "/tmp/curl2 is not one of its binaries"

# A socket shared by two processes with different binaries: the caller is the process
# that called connect(2) (recorded at connect time, proxy/connwatch.h), here python3,
# although tail holds the socket too (docs/proxy.md "Caller identity"; the reference
# denies this as ambiguous, which the connecting process could defeat by relaying).
cat >"$SB_WORK/share.py" <<'PYEOF'
import os, socket, subprocess, sys, urllib.parse
proxy = urllib.parse.urlsplit(os.environ["HTTP_PROXY"])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(30)
child = None
if sys.argv[1] == "share":
    child = subprocess.Popen(["/usr/bin/tail", "-f", "/dev/null"], pass_fds=[s.fileno()])
s.connect((proxy.hostname, proxy.port))
s.sendall(b"GET http://files.test/hello HTTP/1.1\r\nHost: files.test\r\nConnection: close\r\n\r\n")
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
if child:
    child.kill()
    child.wait()
print(data.decode().replace("\r", ""))
PYEOF
out=$(pxsh '/usr/bin/python3 share.py alone')
expect_contains "python3 alone (raw socket) to files.test: 200" "$out" "hello from $NETLAB_IP_A"
out=$(pxsh '/usr/bin/python3 share.py share')
expect_eq "python3 connects a socket it shares with tail: python3 is the caller: 200" \
	"$(head -n 1 <<<"$out")" "HTTP/1.1 200 OK"
expect_contains "the log names python3 for the shared socket" \
	"$(grep '"event":"net"' "$SB_LOG" | tail -n 1)" '"binary":"/usr/bin/python3.11"'

# Two absolute-form requests on ONE client connection: the second host must never be
# served through the first one's upstream (netsrv would keep it alive). The proxy answers
# one request per connection (proxy/conn.h), so the second finds the connection closed;
# a proxy that kept it alive would have to decide other.test again and refuse it.
cat >"$SB_WORK/keepalive.py" <<'PYEOF'
import os, socket, sys, urllib.parse
proxy = urllib.parse.urlsplit(os.environ["HTTP_PROXY"])
s = socket.create_connection((proxy.hostname, proxy.port), timeout=30)
f = s.makefile("rb")
for host in sys.argv[1:]:
    s.sendall(b"GET http://%s/hello HTTP/1.1\r\nHost: %s\r\n\r\n" % (host.encode(), host.encode()))
    status = f.readline()
    if not status:
        print(host, "closed")
        break
    length = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    body = f.read(length).decode().strip()
    print(host, status.decode().split(" ")[1], body.split(",")[0])
PYEOF
out=$(pxsh '/usr/bin/python3 keepalive.py files.test other.test')
expect_eq "one connection: the first request (files.test) is answered 200" \
	"$(head -n 1 <<<"$out")" "files.test 200 hello from $NETLAB_IP_A"
check_fails "one connection: the second request (other.test) is never answered 200" \
	grep -q "^other.test 200" <<<"$out"
expect_contains "one connection: other.test is closed or refused, nothing else" \
	"$(tail -n 1 <<<"$out" | sed 's/^other.test 403 .*/refused/; s/^other.test closed$/refused/')" "refused"

# --- trust on first use: /sandbox/bin/mycurl is listed, its first image is pinned ---------
out=$(pxsh "mkdir -p /sandbox/bin && cp /usr/bin/curl /sandbox/bin/mycurl &&
	/sandbox/bin/mycurl $CURLARGS http://files.test/hello && echo &&
	cat /usr/bin/curl > /sandbox/bin/mycurl && printf X >> /sandbox/bin/mycurl &&
	/sandbox/bin/mycurl $CURLARGS http://files.test/hello")
expect_contains "pinned mycurl: first use allowed" "$out" "hello from $NETLAB_IP_A"
expect_eq "pinned mycurl rewritten (one byte longer): 403" "$(tail -n 1 <<<"$out")" "403"
expect_contains "rewritten mycurl: the reason says it changed" "$out" \
	"binary /sandbox/bin/mycurl changed since first use"
# Same size, same inode, mtime put back: only the content (and ctime) differ.
out=$(pxsh "cp /usr/bin/curl /sandbox/bin/mycurl && touch -r /usr/bin/curl /sandbox/bin/mycurl &&
	/sandbox/bin/mycurl $CURLARGS http://files.test/hello && echo &&
	/usr/bin/python3 flip.py /sandbox/bin/mycurl && touch -r /usr/bin/curl /sandbox/bin/mycurl &&
	{ cmp -s /usr/bin/curl /sandbox/bin/mycurl; echo cmp=\$?; } &&
	/sandbox/bin/mycurl $CURLARGS http://files.test/hello")
expect_contains "mycurl again in a new sandbox: first use allowed" "$out" "hello from $NETLAB_IP_A"
expect_contains "last byte flipped, size and mtime restored: content differs" "$out" "cmp=1"
expect_eq "same-size, same-mtime replacement: 403" "$(tail -n 1 <<<"$out")" "403"
expect_contains "same-size replacement: the reason says it changed" "$out" \
	"binary /sandbox/bin/mycurl changed since first use"

# --- no way around the proxy ---------------------------------------------------------------
out=$(pxsh "curl -sS --max-time 10 --noproxy '*' http://$NETLAB_IP_A/hello; echo rc=\$?")
expect_contains "curl --noproxy '*' straight to the lab: exit 7 (no route)" "$out" "rc=7"
expect_eq "a direct connect(2) to the lab: ENETUNREACH" \
	"$(px -- ./probe connect "$NETLAB_IP_A" 80)" "ENETUNREACH"
out=$(pxsh "curl -sS --max-time 10 --noproxy '*' http://files.test/hello; echo rc=\$?")
expect_contains "files.test without the proxy: the sandbox cannot resolve it (exit 6)" "$out" "rc=6"

# --- destinations ----------------------------------------------------------------------------
out=$(pxsh "$CURL http://priv.lab.test/hello")
expect_eq "wildcard *.lab.test without allowed_ips to a private address: 403" \
	"$(tail -n 1 <<<"$out")" "403"
expect_contains "private address refusal is destination_denied" "$out" \
	'"error":"destination_denied"'
expect_contains "private address refusal names the address" "$out" "$NETLAB_IP_B"
# Issue 4 departs from network.md §4.7 ExactDeclaredHost (docs/policy.md): a name is only
# as trustworthy as its resolver, so an exact name needs allowed_ips for a private address.
out=$(pxsh "$CURL http://private.test/hello")
expect_eq "exactly declared private.test without allowed_ips: 403 too" "$(tail -n 1 <<<"$out")" "403"
expect_contains "exact name to a private address: destination_denied, with the fix" "$out" \
	"resolves to internal address $NETLAB_IP_B (private), connection rejected; hint: list the address"
out=$(pxsh "$CURL http://gone.invalid/hello")
expect_eq "allowed name that does not resolve (gone.invalid): 502" "$(tail -n 1 <<<"$out")" "502"
check_fails "DNS failure is no DENIED line (not a decision)" grep -q DENIED "$SB_WORK.err"

# --- the decision log -------------------------------------------------------------------------
: >"$SB_LOG"
pxsh "$CURL http://files.test/hello; $CURL http://other.test/hello" >/dev/null
net=$(/usr/bin/python3 - "$SB_LOG" <<'PYEOF'
import json, sys
for line in open(sys.argv[1]):
    try:
        ev = json.loads(line)
    except ValueError:
        print("BAD-JSON " + line.strip())
        continue
    if ev.get("event") == "net":
        print(ev.get("decision"), ev.get("binary"), "%s:%s" % (ev.get("host"), ev.get("port")),
              ev.get("error"), ev.get("block"), "down>0" if (ev.get("bytes_down") or 0) > 0 else "down=0",
              "pid" if isinstance(ev.get("pid"), int) and ev["pid"] > 0 else "nopid")
PYEOF
)
check_fails "every log line is JSON" grep -q '^BAD-JSON' <<<"$net"
expect_contains "log: allow line for curl -> files.test:80 (block files, bytes down, pid)" "$net" \
	"allow /usr/bin/curl files.test:80 None files down>0 pid"
expect_contains "log: deny line for curl -> other.test:80 (policy_denied)" "$net" \
	"deny /usr/bin/curl other.test:80 policy_denied"
expect_eq "log: exactly two net lines for two connections" "$(grep -c . <<<"$net")" "2"

check "netlab_down: servers stopped, namespace and veth gone" netlab_down
done_testing
