#!/bin/bash
# tls_git: git over HTTPS inside a sandbox on the default policy, through TLS termination
# (issue 5): the proxy opens github.com's TLS with the sandbox's CA, checks each smart-HTTP
# request against github_ssh_over_https's rules and re-encrypts to the lab's nginx (test
# CA, --upstream-ca). Clone and fetch work; push fails, git shows why, the server never
# sees it. Root only.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/sandbox_lib.sh"
. "$(dirname "$0")/../tls_lab.sh"

if [ "$(id -u)" != 0 ]; then skip "needs root (namespaces, veth)"; done_testing; exit; fi
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
	skip "nginx is not installed (scripts/install-deps)"; done_testing; exit
fi
SB_EXTRA_CLEAN+=("$SB_WORK.err")
tls_lab_up || { echo "Bail out! tls_lab_up failed"; exit 1; }
POL=$TLS_DEFAULT_POL
G="git -c user.name=agent -c user.email=agent@sandbox.test"

# --- the policy under test is the default one ---------------------------------------------------
expect_eq "the lab's policy is the embedded default plus allowed_ips, nothing else" \
	"$(sed -e '/^ *allowed_ips: /d' -e 's/, allowed_ips: \[[^]]*\]//' "$POL" | diff - <("$AGENTCAGE" policy default) && echo same)" "same"
out=$(tlx -- /bin/sh -c 'exec 2>&1; git clone -q https://github.com/org/repo.git /tmp/c; echo rc=$?')
expect_contains "the embedded default itself (no --policy) refuses the lab's private address" \
	"$out$(cat "$SB_WORK.err")" "resolves to internal address $TLS_IP (private)"

# --- clone, fetch, push in one sandbox ----------------------------------------------------------
# A new commit on branch "side", made on the server before the run: fetch must bring it.
git -C "$TLS_REPO" branch -q side main
side_tip=$(git -C "$TLS_DIR/git-src" -c user.name=lab -c user.email=lab@lab.test \
	commit-tree -p main -m "side work" "$(git -C "$TLS_REPO" rev-parse 'main^{tree}')" 2>/dev/null)
git -C "$TLS_DIR/git-src" push -q "$TLS_REPO" "$side_tip:refs/heads/side"
main_before=$(git -C "$TLS_REPO" rev-parse main)
: >"$SB_LOG"
out=$(tlxsh "$POL" "
	git clone -q https://github.com/org/repo.git /tmp/c && echo clone=ok && cat /tmp/c/README
	cd /tmp/c && echo commits=\$(git rev-list --count HEAD)
	git fetch -q origin side && echo fetch=\$(git rev-parse FETCH_HEAD)
	echo mine >MINE && git add MINE && $G commit -qm mine
	git push origin main; echo push=\$?")
expect_contains "git clone https://github.com/org/repo.git: works through termination" "$out" \
	"clone=ok
lab readme"
expect_contains "the clone has the repository's three commits" "$out" "commits=3"
expect_contains "git fetch origin side: brings the server's new commit" "$out" "fetch=$side_tip"
check_fails "git push: fails" grep -qx 'push=0' <<<"$out"
expect_contains "git push: git shows the proxy's refusal to the user (remote: ...)" "$out" "remote: "
expect_contains "git push: the message names the policy block that refused it" \
	"$(grep '^remote: ' <<<"$out")" "github_ssh_over_https"
expect_contains "git push: agentcage's DENIED line (its stderr, the user's terminal) gives the reason" \
	"$(grep DENIED "$SB_WORK.err")" "POST /org/repo.git/git-receive-pack not permitted by policy github_ssh_over_https"
expect_eq "git push: the server's main is unchanged" "$(git -C "$TLS_REPO" rev-parse main)" "$main_before"
check_fails "git push: no POST .../git-receive-pack ever reached the server" \
	grep -q 'POST /org/repo.git/git-receive-pack' "$TLS_ACCESS_LOG"
check "clone and fetch did reach the server (upload-pack)" \
	grep -q '^github.com POST /org/repo.git/git-upload-pack 200$' "$TLS_ACCESS_LOG"

# --- the log -------------------------------------------------------------------------------------
# One JSON line per HTTP request: print "method host path status decision block" of each.
reqs=$(/usr/bin/python3 - "$SB_LOG" <<'PYEOF'
import json, sys
for line in open(sys.argv[1]):
    try:
        ev = json.loads(line)
    except ValueError:
        print("BAD-JSON " + line.strip())
        continue
    if "method" in ev:
        print(ev.get("method"), ev.get("host"), ev.get("path"), ev.get("status"),
              ev.get("decision"), ev.get("block"))
PYEOF
)
check_fails "every log line is JSON" grep -q '^BAD-JSON' <<<"$reqs"
expect_contains "log: the clone's upload-pack POST, allowed by github_ssh_over_https" "$reqs" \
	"POST github.com /org/repo.git/git-upload-pack 200 allow github_ssh_over_https"
check "log: a deny line for the push (receive-pack) on github.com" \
	grep -Eq '^(GET|POST) github.com /org/repo.git/(info/refs|git-receive-pack)[^ ]* 403 deny github_ssh_over_https$' \
	<<<"$reqs"
if [ -n "${TLS_DEBUG:-}" ]; then echo "# log:"; sed 's/^/#   /' "$SB_LOG"; fi

check "tls_lab_down: servers stopped, namespace and veth gone" tls_lab_down
done_testing
