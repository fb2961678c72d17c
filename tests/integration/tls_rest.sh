#!/bin/bash
# tls_rest: HTTP rules on terminated HTTPS (issue 5) with real clients (curl, python3
# urllib and ssl, pip) in sandboxes on tests/policies/tls/rest.yaml, against the lab's
# nginx (tests/tls_lab.sh; test CA given with --upstream-ca). Read-only presets, explicit
# rules, query matchers and deny rules decide per request as network.md §9.4 and §9.6 say,
# and a changed rule changes the outcome; audit forwards; smuggling shapes get 400; an L4
# endpoint is passed through but a ClientHello naming another host is cut. Root only.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/sandbox_lib.sh"
. "$(dirname "$0")/../tls_lab.sh"

if [ "$(id -u)" != 0 ]; then skip "needs root (namespaces, veth)"; done_testing; exit; fi
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
	skip "nginx is not installed (scripts/install-deps)"; done_testing; exit
fi
POL=$TOP/tests/policies/tls/rest.yaml
SB_EXTRA_CLEAN+=("$SB_WORK.err" "$SB_WORK.variant.yaml")
tls_lab_up || { echo "Bail out! tls_lab_up failed"; exit 1; }
cp "$TLS_CA" "$SB_WORK/labca.pem" && chmod 0644 "$SB_WORK/labca.pem"

# Body, then a last line with the status code.
CURL='curl -sS --max-time 30 -w "\n%{http_code}"'
rsh() { tlxsh "$POL" "$1"; }
# status POLICY ARGS...: only the status of one curl request in a sandbox on POLICY.
status() {
	local pol=$1
	shift
	tlxsh "$pol" "curl -sS --max-time 30 -o /dev/null -w '%{http_code}' $*"
}
# variant SED: rest.yaml with one edit, as $SB_WORK.variant.yaml; fails when the edit
# changed nothing (the marked line moved) or the result does not load.
variant() {
	sed "$1" "$POL" >"$SB_WORK.variant.yaml" &&
		! cmp -s "$POL" "$SB_WORK.variant.yaml" &&
		"$AGENTCAGE" policy check "$SB_WORK.variant.yaml" >/dev/null 2>&1
}
# reached URI: did any request for URI (exact, query included) reach nginx?
reached() { grep -q " $1 [0-9]*\$" "$TLS_ACCESS_LOG"; }
denied_json() { printf '{"error":"policy_denied","detail":"%s' "$1"; }

# --- read-only preset (api.test) ----------------------------------------------------------------
expect_eq "curl GET https://api.test/ro/get: 200 from the lab, through termination" \
	"$(rsh "$CURL https://api.test/ro/get")" \
	'{"method":"GET","uri":"/ro/get","host":"api.test","length":""}
200'
out=$(rsh "curl -sS --max-time 30 -o /dev/null -w '%{certs}' https://api.test/ro/cert")
expect_contains "the certificate curl saw is minted by the sandbox's CA, not the lab's" \
	"$(grep -i '^issuer:' <<<"$out" | head -n 1)" "agentcage"
expect_eq "HEAD and OPTIONS: 200 (read-only = GET HEAD OPTIONS)" \
	"$(status "$POL" -I https://api.test/ro/head) $(status "$POL" -X OPTIONS https://api.test/ro/options)" \
	"200 200"
for m in POST PUT DELETE; do
	out=$(rsh "$CURL -X $m -d body=1 https://api.test/ro/$m")
	expect_eq "curl -X $m https://api.test/ro/$m: 403" "$(tail -n 1 <<<"$out")" "403"
	expect_contains "$m denial: policy_denied JSON naming the request and the block" "$out" \
		"$(denied_json "$m /ro/$m not permitted by policy readonly_api")"
	check_fails "$m denial: the request never reached the server" reached "/ro/$m"
done
out=$(rsh "curl -sS --max-time 30 -D - -o /dev/null -X POST -d x https://api.test/ro/ctype")
check "denial: Content-Type application/json" grep -qi '^content-type: application/json' <<<"$out"
expect_eq "Host header naming another server than the CONNECT target: 403" \
	"$(status "$POL" -H "'Host: full.test'" https://api.test/ro/hostswap)" "403"
check_fails "the mismatched Host request never reached the server" reached /ro/hostswap
# One curl, one connection when it stays usable: GET, denied POST, GET.
out=$(rsh "curl -sS --max-time 30 -o /dev/null -w '%{http_code} ' https://api.test/ro/ka1 \
	--next -X POST -d x -o /dev/null -w '%{http_code} ' https://api.test/ro/ka2 \
	--next -o /dev/null -w '%{http_code}' https://api.test/ro/ka3")
expect_eq "keep-alive: GET, denied POST, GET on one curl: 200 403 200" "$out" "200 403 200"

# --- python3 urllib ----------------------------------------------------------------------------------
out=$(rsh '/usr/bin/python3 -c "
import urllib.request as u, urllib.error as e
print(u.urlopen(\"https://api.test/ro/py\", timeout=30).read().decode())
try:
    u.urlopen(u.Request(\"https://api.test/ro/pypost\", data=b\"x=1\"), timeout=30)
except e.HTTPError as err:
    print(err.code, err.read().decode())
"')
expect_contains "python3 urllib GET https://api.test/ro/py: 200 JSON" "$out" \
	'{"method":"GET","uri":"/ro/py","host":"api.test","length":""}'
expect_contains "python3 urllib POST: HTTPError 403 with the policy_denied body" "$out" \
	"403 $(denied_json "POST /ro/pypost not permitted by policy readonly_api")"

# --- audit -----------------------------------------------------------------------------------------
: >"$SB_LOG"
expect_eq "audit.test (enforcement: audit): POST is forwarded, 200" \
	"$(status "$POL" -X POST -d x https://audit.test/au/post)" "200"
check "audit: the request reached the server" reached /au/post
check "audit: the log marks it (audit / would-deny)" \
	grep -Eq '"/au/post".*(audit|would)|(audit|would).*"/au/post"' "$SB_LOG"

# --- explicit rules: §9.4 policy A ---------------------------------------------------------------------
expect_eq "rules: GET /repos/myorg/foo, HEAD, POST /repos/myorg/issues: 200 200 200" \
	"$(status "$POL" https://rules.test/repos/myorg/foo) $(status "$POL" -I https://rules.test/repos/myorg/foo) $(status "$POL" -X POST -d x https://rules.test/repos/myorg/issues)" \
	"200 200 200"
expect_eq "rules: DELETE /repos/myorg/foo, GET /admin/settings, OPTIONS /repos/myorg/foo: 403 403 403" \
	"$(status "$POL" -X DELETE https://rules.test/repos/myorg/foo) $(status "$POL" https://rules.test/admin/settings) $(status "$POL" -X OPTIONS https://rules.test/repos/myorg/foo)" \
	"403 403 403"
expect_eq "rules: POST /repos/a/b/issues: 403 (* does not cross /)" \
	"$(status "$POL" -X POST -d x https://rules.test/repos/a/b/issues)" "403"
out=$(rsh "$CURL -X DELETE https://rules.test/repos/myorg/foo")
expect_contains "rules: the DELETE's reason" "$out" \
	"$(denied_json "DELETE /repos/myorg/foo not permitted by policy rules_api")"
# The canonical path is decided and is what goes upstream (network.md §5.5).
expect_eq "rules: /admin/../repos/org/x (curl --path-as-is): allowed, upstream sees /repos/org/x" \
	"$(rsh "$CURL --path-as-is https://rules.test/admin/../repos/org/x")" \
	'{"method":"GET","uri":"/repos/org/x","host":"rules.test","length":""}
200'
expect_eq "rules: /repos/../admin/x: decided on /admin/x, 403" \
	"$(status "$POL" --path-as-is https://rules.test/repos/../admin/x)" "403"
check_fails "rules: /admin/x never reached the server" reached /admin/x

# --- query matchers: §9.4 policy D -----------------------------------------------------------------------
q() { status "$POL" "'https://rules.test/$1'"; }
expect_eq "query: /download?tag=foo-a&tag=foo-b&extra=1: 200 (unconfigured keys ignored)" \
	"$(q 'download?tag=foo-a&tag=foo-b&extra=1')" "200"
expect_eq "query: ?tag=foo-a&tag=evil: 403 (every value must match)" "$(q 'download?tag=foo-a&tag=evil')" "403"
expect_eq "query: /download without tag: 403" "$(q download)" "403"
# agentcage departs from the reference here (docs/policy.md): value globs have no delimiter.
expect_eq "query: ?tag=foo-1.2: 200 (query-value globs have no delimiter)" "$(q 'download?tag=foo-1.2')" "200"
expect_eq "query: /search?tag=foo-a&tag=bar-b: 200 (any: [...])" "$(q 'search?tag=foo-a&tag=bar-b')" "200"

# --- a changed rule changes the outcome --------------------------------------------------------------------
if variant '/# edited/s|path: "/repos/\*\*"|path: "/admin/**"|'; then
	expect_eq "path glob /repos/** -> /admin/**: GET /repos/myorg/foo now 403, GET /admin/settings now 200" \
		"$(status "$SB_WORK.variant.yaml" https://rules.test/repos/myorg/foo) $(status "$SB_WORK.variant.yaml" https://rules.test/admin/settings)" \
		"403 200"
else
	not_ok "path glob variant: the marked rule line of rest.yaml was not found or does not load"
fi
if variant '/# edited/s|query: { tag: "foo-\*" }|query: { tag: { any: ["foo-*", "evil"] } }|'; then
	expect_eq "query matcher foo-* -> any: [foo-*, evil]: ?tag=foo-a&tag=evil now 200" \
		"$(status "$SB_WORK.variant.yaml" "'https://rules.test/download?tag=foo-a&tag=evil'")" "200"
else
	not_ok "query variant: the marked rule line of rest.yaml was not found or does not load"
fi

# --- deny rules: §9.6 policies E and F ------------------------------------------------------------------------
d() { status "$POL" "$@"; }
out=$(rsh "$CURL -X POST -d x https://deny.test/repos/myorg/pulls/123/reviews")
expect_eq "deny: POST /repos/myorg/pulls/123/reviews: 403" "$(tail -n 1 <<<"$out")" "403"
expect_contains "deny: the reason says a deny rule blocked it" "$out" \
	"$(denied_json "POST /repos/myorg/pulls/123/reviews blocked by deny rule")"
expect_eq "deny: GET and POST /repos/myorg/issues: 200 200 (read-write)" \
	"$(d https://deny.test/repos/myorg/issues) $(d -X POST -d x https://deny.test/repos/myorg/issues)" "200 200"
expect_eq "deny: GET /repos/myorg/rulesets, PUT .../branches/main/protection, DELETE /repos/myorg/issues: 403 403 403" \
	"$(d https://deny.test/repos/myorg/rulesets) $(d -X PUT -d x https://deny.test/repos/myorg/branches/main/protection) $(d -X DELETE https://deny.test/repos/myorg/issues)" \
	"403 403 403"
expect_eq "deny query: POST /admin/settings ?force=true, ?force=false, ?force=true&force=false, none: 403 200 403 200" \
	"$(d -X POST -d x "'https://deny.test/admin/settings?force=true'") $(d -X POST -d x "'https://deny.test/admin/settings?force=false'") $(d -X POST -d x "'https://deny.test/admin/settings?force=true&force=false'") $(d -X POST -d x https://deny.test/admin/settings)" \
	"403 200 403 200"
if variant '/reviews" }.*# edited/d'; then
	expect_eq "deny rule removed: POST /repos/myorg/pulls/123/reviews now 200" \
		"$(status "$SB_WORK.variant.yaml" -X POST -d x https://deny.test/repos/myorg/pulls/123/reviews)" "200"
else
	not_ok "deny variant: the marked deny rule of rest.yaml was not found or does not load"
fi

# --- pip through termination ------------------------------------------------------------------------------------
out=$(rsh '/usr/bin/python3 -m pip install --isolated -q --no-cache-dir --disable-pip-version-check \
	--index-url https://pypi.org/simple/ --target /tmp/t agentcage-probe \
	&& PYTHONPATH=/tmp/t /usr/bin/python3 -c "import agentcage_probe as p; print(p.VALUE)"')
expect_eq "pip install agentcage-probe from https://pypi.org/simple/ (wheel on files.pythonhosted.org)" \
	"$(tail -n 1 <<<"$out")" "probe-ok"
check "pip: the wheel came from files.pythonhosted.org through the proxy" \
	grep -q '^files.pythonhosted.org GET /packages/agentcage_probe-1.0-py3-none-any.whl 200$' "$TLS_ACCESS_LOG"

# --- raw TLS clients: smuggling, SNI ------------------------------------------------------------------------------
# tlsraw.py MODE ...: a CONNECT through the proxy, then TLS by hand.
#   send HOST REQ    TLS with the default trust store (the sandbox's bundle), sends REQ
#                    (\r\n escapes), prints the response's status line, or "closed"
#   sni HOST SNI CA  TLS with server_hostname SNI, trusting CA only; "handshake ok
#                    issuer=<CN>" and the status of GET /sni, or "cut: <why>"
cat >"$SB_WORK/tlsraw.py" <<'PYEOF'
import os, socket, ssl, sys, urllib.parse
def tunnel(host):
    p = urllib.parse.urlsplit(os.environ.get("HTTPS_PROXY") or os.environ["HTTP_PROXY"])
    s = socket.create_connection((p.hostname, p.port), timeout=30)
    s.sendall(b"CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n" % (host.encode(), host.encode()))
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        b = s.recv(1)  # byte by byte: nothing past the proxy's head
        if not b:
            sys.exit("proxy closed during CONNECT: %r" % head)
        head += b
    if head.split(b" ")[1] != b"200":
        sys.exit("CONNECT refused: " + head.decode(errors="replace"))
    return s
def status(t):
    data = b""
    try:
        while b"\r\n" not in data:
            b = t.recv(4096)
            if not b:
                break
            data += b
    except (ssl.SSLError, OSError) as e:
        return "closed (%s)" % e.__class__.__name__
    return data.split(b"\r\n")[0].decode(errors="replace") if data else "closed"
mode, host = sys.argv[1], sys.argv[2]
if mode == "send":
    t = ssl.create_default_context().wrap_socket(tunnel(host), server_hostname=host)
    t.sendall(sys.argv[3].encode().decode("unicode_escape").encode("latin-1"))
    print(status(t))
else:
    ctx = ssl.create_default_context(cafile=sys.argv[4])
    try:
        t = ctx.wrap_socket(tunnel(host), server_hostname=sys.argv[3])
    except (ssl.SSLError, OSError) as e:
        print("cut: %s" % e.__class__.__name__)
        sys.exit(0)
    issuer = dict(x[0] for x in t.getpeercert()["issuer"])
    print("handshake ok issuer=%s" % issuer.get("commonName"))
    t.sendall(b"GET /sni HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host.encode())
    print(status(t))
PYEOF
raw() { tlx --policy "$POL" -- /usr/bin/python3 tlsraw.py "$@" 2>&1; }
expect_eq "raw TLS request (control): 200" \
	"$(raw send full.test 'GET /raw/ok HTTP/1.1\r\nHost: full.test\r\nConnection: close\r\n\r\n')" "HTTP/1.1 200 OK"
expect_eq "smuggling: Content-Length and Transfer-Encoding together: 400" \
	"$(raw send full.test 'POST /raw/clte HTTP/1.1\r\nHost: full.test\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /raw/smuggled HTTP/1.1\r\nHost: full.test\r\n\r\n' | cut -d ' ' -f 1-2)" \
	"HTTP/1.1 400"
expect_eq "smuggling: two different Content-Length: 400" \
	"$(raw send full.test 'POST /raw/clcl HTTP/1.1\r\nHost: full.test\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello' | cut -d ' ' -f 1-2)" \
	"HTTP/1.1 400"
check_fails "smuggling: neither the outer nor the hidden request reached the server" \
	grep -Eq ' /raw/(clte|smuggled|clcl) ' "$TLS_ACCESS_LOG"

: >"$SB_LOG"
expect_eq "passthrough l4.test, SNI l4.test: the lab's own certificate, 200" \
	"$(raw sni l4.test l4.test labca.pem)" "handshake ok issuer=agentcage test lab CA
HTTP/1.1 200 OK"
expect_eq "passthrough l4.test with SNI github.com (domain fronting): cut" \
	"$(raw sni l4.test github.com labca.pem | cut -d : -f 1)" "cut"
expect_contains "log: sni_mismatch" "$(cat "$SB_LOG")" "sni_mismatch"
expect_contains "log: the mismatch names both hosts" \
	"$(grep sni_mismatch "$SB_LOG" | grep l4.test)" "github.com"

check "tls_lab_down: servers stopped, namespace and veth gone" tls_lab_down
done_testing
