#!/bin/bash
# policy_cli: `agentcage policy default|check|explain`, help and version, as a user runs
# them: exit statuses, the lines people grep for, and JSON that parses.
set -u
. "$(dirname "$0")/../lib.sh"

TMP=$(mktemp -d /tmp/agentcage-policy-cli.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# run CMD...: sets OUT, ERR and RC (never aborts the script).
run() {
	"$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}
json_ok() { python3 -c 'import json,sys; json.load(sys.stdin)' <<<"$1"; }
# json_get JSON EXPR: prints the Python expression EXPR over the parsed object `j`.
json_get() { python3 -c 'import json,sys; j=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2" <<<"$1"; }

# --- policy default ---
"$AGENTCAGE" policy default >"$TMP/default.yaml"
check "policy default exits 0" test $? -eq 0
check "policy default prints policies/default.yaml byte for byte" cmp -s "$TMP/default.yaml" "$TOP/policies/default.yaml"
run "$AGENTCAGE" policy default extra
expect_eq "policy default with an argument exits 2" "$RC" 2

# --- policy check: valid files ---
corpus=("$SHARED"/corpus/openshell-policies/*.yaml)
if [ -f "${corpus[0]}" ]; then
	for f in "${corpus[@]}"; do
		run "$AGENTCAGE" policy check "$f"
		expect_eq "check $(basename "$f") exits 0" "$RC" 0
	done
	run "$AGENTCAGE" policy check "${corpus[@]}"
	expect_eq "check on the whole corpus at once exits 0" "$RC" 0
	expect_eq "one summary line per corpus file" "$(grep -c ': ok (' <<<"$OUT")" "${#corpus[@]}"
else
	skip "no corpus at $SHARED/corpus/openshell-policies (set AGENTCAGE_SHARED)"
fi
for p in default opencode codex; do
	run "$AGENTCAGE" policy check "$TOP/policies/$p.yaml"
	expect_eq "policies/$p.yaml checks valid" "$RC" 0
done
for p in opencode codex; do
	run "$AGENTCAGE" policy check "$TOP/policies/$p.yaml"
	expect_contains "policies/$p.yaml has no warnings" "$OUT" "ok (0 warnings)"
done
run "$AGENTCAGE" policy check "$TOP/policies/default.yaml"
expect_contains "warnings are shown with file:line:col" "$ERR" "default.yaml:41:"
expect_contains "warnings name the field" "$ERR" "network_policies.claude_code.endpoints[0].tls"

# --- policy check: invalid files ---
cat >"$TMP/bad.yaml" <<'EOF'
version: 1
network_policies:
  api:
    endpoints:
      - host: api.example.com
        port: 70000
    binaries:
      - { path: /usr/bin/curl }
EOF
run "$AGENTCAGE" policy check "$TMP/bad.yaml"
expect_eq "an invalid policy exits 1" "$RC" 1
expect_contains "the error says file:line:col" "$ERR" "$TMP/bad.yaml:6:"
expect_contains "the error names the field" "$ERR" "network_policies.api.endpoints[0].port"
expect_contains "the summary counts the errors" "$OUT" "$TMP/bad.yaml: 1 error"
run "$AGENTCAGE" policy check "$TOP/policies/default.yaml" "$TMP/bad.yaml"
expect_eq "one invalid file among valid ones exits 1" "$RC" 1
expect_contains "the valid one is still reported ok" "$OUT" "default.yaml: ok"
run "$AGENTCAGE" policy check "$TMP/missing.yaml"
expect_eq "a missing file exits 1" "$RC" 1
expect_contains "a missing file is named" "$ERR" "missing.yaml"
invalid=("$SHARED"/corpus/invalid-policies/*.yaml)
if [ -f "${invalid[0]}" ]; then
	for f in "${invalid[@]}"; do
		run "$AGENTCAGE" policy check "$f"
		expect_eq "check refuses invalid $(basename "$f")" "$RC" 1
	done
else
	skip "no corpus at $SHARED/corpus/invalid-policies"
fi
run "$AGENTCAGE" policy check
expect_eq "check without a file exits 2" "$RC" 2
expect_contains "check without a file hints the usage" "$ERR" "hint:"

# --- policy check --json ---
run "$AGENTCAGE" policy check --json "$TOP/policies/default.yaml" "$TMP/bad.yaml"
expect_eq "check --json with an invalid file exits 1" "$RC" 1
check "check --json prints JSON that parses" json_ok "$OUT"
expect_eq "check --json: an array, one object per file" "$(json_get "$OUT" 'len(j)')" 2
expect_eq "check --json: valid file" "$(json_get "$OUT" 'j[0]["valid"]')" True
expect_eq "check --json: warnings listed" "$(json_get "$OUT" 'len(j[0]["warnings"])')" 3
expect_eq "check --json: invalid file" "$(json_get "$OUT" 'j[1]["valid"]')" False
expect_eq "check --json: error line" "$(json_get "$OUT" 'j[1]["errors"][0]["line"]')" 6
expect_eq "check --json: error field" "$(json_get "$OUT" 'j[1]["errors"][0]["field"]')" \
	"network_policies.api.endpoints[0].port"

# --- policy explain: default policy ---
# explain_is DESC WANT_RC ARGS...: runs explain with ARGS and checks its exit status.
explain_is() {
	local d=$1 want=$2; shift 2
	run "$AGENTCAGE" policy explain "$@"
	expect_eq "$d" "$RC" "$want"
}
explain_is "claude to api.anthropic.com:443 allowed" 0 \
	--binary /usr/local/bin/claude --host api.anthropic.com --port 443
expect_contains "the reason names the block" "$OUT" "claude_code"
explain_is "curl to api.anthropic.com:443 denied" 1 \
	--binary /usr/bin/curl --host api.anthropic.com --port 443
expect_contains "the denial says the binary is not listed" "$OUT" "/usr/bin/curl is not one of its binaries"
explain_is "a child of claude (python) allowed through its ancestor" 0 \
	--binary /usr/bin/python3.11 --ancestor /usr/local/bin/claude --host api.anthropic.com --port 443
explain_is "an unknown host denied" 1 --binary /usr/local/bin/claude --host example.com --port 443
explain_is "the right host on another port denied" 1 \
	--binary /usr/local/bin/claude --host api.anthropic.com --port 80
explain_is "git fetch discovery allowed" 0 --binary /usr/bin/git --host github.com --port 443 \
	--method GET --path '/org/repo.git/info/refs?service=git-upload-pack'
explain_is "git upload-pack allowed" 0 --binary /usr/bin/git --host github.com --port 443 \
	--method POST --path /org/repo.git/git-upload-pack
explain_is "git push (receive-pack) denied" 1 --binary /usr/bin/git --host github.com --port 443 \
	--method POST --path /org/repo.git/git-receive-pack
explain_is "dot segments do not sneak a push through" 1 --binary /usr/bin/git --host github.com \
	--port 443 --method POST --path /org/repo.git/git-upload-pack/../git-receive-pack
explain_is "gh GET /user allowed" 0 --binary /usr/bin/gh --host api.github.com --port 443 \
	--method GET --path /user
explain_is "gh POST /user/repos denied" 1 --binary /usr/bin/gh --host api.github.com --port 443 \
	--method POST --path /user/repos
expect_contains "the L7 denial names the preset" "$OUT" "read-only"
explain_is "uv-managed python to pypi allowed" 0 \
	--binary /sandbox/.uv/python/cpython-3.12/bin/python3.12 --host pypi.org --port 443

run "$AGENTCAGE" policy explain --json --binary /usr/bin/gh --host api.github.com --port 443 \
	--method POST --path /user/repos
check "explain --json prints JSON that parses" json_ok "$OUT"
expect_eq "explain --json: decision deny" "$(json_get "$OUT" 'j["decision"]')" deny
expect_eq "explain --json: audit false" "$(json_get "$OUT" 'j["audit"]')" False
expect_eq "explain --json: block" "$(json_get "$OUT" 'j["block"]')" github_rest_api
expect_eq "explain --json: method and path echoed" "$(json_get "$OUT" 'j["method"]+" "+j["path"]')" \
	"POST /user/repos"
expect_eq "explain --json: host and port echoed" "$(json_get "$OUT" 'j["host"]+":"+str(j["port"])')" \
	"api.github.com:443"
expect_contains "explain --json: reason present" "$(json_get "$OUT" 'j["reason"]')" "POST /user/repos"
run "$AGENTCAGE" policy explain --json --binary /usr/local/bin/claude --host api.anthropic.com --port 443
expect_eq "explain --json: decision allow" "$(json_get "$OUT" 'j["decision"]')" allow
expect_eq "explain --json: binary echoed" "$(json_get "$OUT" 'j["binary"]')" /usr/local/bin/claude

# --- policy explain: audit-only endpoint, and a binary behind a symlink ---
ln -s /bin/true "$TMP/tool"
cat >"$TMP/audit.yaml" <<EOF
version: 1
network_policies:
  api:
    endpoints:
      - host: api.example.com
        port: 443
        protocol: rest
        access: read-only
    binaries:
      - { path: $TMP/tool }
EOF
run "$AGENTCAGE" policy explain --policy "$TMP/audit.yaml" --json --binary "$TMP/tool" \
	--host api.example.com --port 443 --method POST --path /things
expect_eq "audit-only violation exits 0" "$RC" 0
expect_eq "audit-only violation: decision allow" "$(json_get "$OUT" 'j["decision"]')" allow
expect_eq "audit-only violation: audit true" "$(json_get "$OUT" 'j["audit"]')" True
expect_eq "a symlinked binary: the resolved path's verdict is reported" \
	"$(json_get "$OUT" 'j.get("resolved_decision")')" deny
run "$AGENTCAGE" policy explain --policy "$TMP/audit.yaml" --binary "$TMP/tool" \
	--host api.example.com --port 443 --method GET --path /things
expect_eq "audit endpoint, allowed method: exit 0" "$RC" 0
expect_contains "the symlink note names the real file" "$OUT" "resolves to"

# --- policy explain: bad arguments exit 2 with a message and a hint ---
bad() {
	local d=$1 want=$2; shift 2
	run "$AGENTCAGE" policy explain "$@"
	expect_eq "bad arguments: $d exits 2" "$RC" 2
	expect_contains "bad arguments: $d says what" "$ERR" "$want"
	expect_contains "bad arguments: $d gives a hint" "$ERR" "hint:"
}
bad "missing --host" "--host is required" --binary /usr/bin/git --port 443
bad "missing --port" "--port is required" --binary /usr/bin/git --host github.com
bad "missing --binary" "--binary is required" --host github.com --port 443
bad "port 0" "--port '0'" --binary /usr/bin/git --host github.com --port 0
bad "port 65536" "--port '65536'" --binary /usr/bin/git --host github.com --port 65536
bad "port not a number" "--port 'https'" --binary /usr/bin/git --host github.com --port https
bad "--method without --path" "--method needs --path" --binary /usr/bin/git --host github.com \
	--port 443 --method GET
bad "--path without --method" "--path needs --method" --binary /usr/bin/git --host github.com \
	--port 443 --path /x
bad "relative binary" "not an absolute path" --binary git --host github.com --port 443
bad "a URL as host" "looks like a URL" --binary /usr/bin/git --host https://github.com/x --port 443
bad "unknown option" "unknown option '--bogus'" --binary /usr/bin/git --host github.com \
	--port 443 --bogus
bad "option without value" "needs a value" --binary /usr/bin/git --host github.com --port
bad "a policy that does not load" "could not be loaded" --policy "$TMP/bad.yaml" \
	--binary /usr/bin/git --host github.com --port 443

# --- the agent policies allow their agents ---
oc=/usr/lib/node_modules/opencode-ai/node_modules/opencode-linux-x64/bin/opencode
for h in opencode.ai models.dev registry.npmjs.org api.anthropic.com api.openai.com; do
	explain_is "opencode.yaml: opencode to $h allowed" 0 --policy "$TOP/policies/opencode.yaml" \
		--binary "$oc" --host "$h" --port 443
done
explain_is "opencode.yaml: installer-script opencode allowed" 0 \
	--policy "$TOP/policies/opencode.yaml" --binary /sandbox/.opencode/bin/opencode \
	--host models.dev --port 443
explain_is "default policy: opencode to models.dev denied (why it is partial)" 1 \
	--binary "$oc" --host models.dev --port 443
cx=/usr/lib/node_modules/@openai/codex/vendor/x86_64-unknown-linux-musl/codex/codex
for h in api.openai.com auth.openai.com chatgpt.com; do
	explain_is "codex.yaml: codex to $h allowed" 0 --policy "$TOP/policies/codex.yaml" \
		--binary "$cx" --host "$h" --port 443
done
explain_is "codex.yaml: curl to chatgpt.com still denied" 1 --policy "$TOP/policies/codex.yaml" \
	--binary /usr/bin/curl --host chatgpt.com --port 443
explain_is "default policy: codex to api.openai.com denied (why it is none)" 1 \
	--binary "$cx" --host api.openai.com --port 443
explain_is "codex.yaml keeps the default's git rules" 1 --policy "$TOP/policies/codex.yaml" \
	--binary /usr/bin/git --host github.com --port 443 --method POST --path /o/r.git/git-receive-pack

# --- help and version ---
run "$AGENTCAGE" --help
expect_eq "--help exits 0" "$RC" 0
for c in run setup policy; do
	expect_contains "--help lists $c" "$OUT" "  $c"
done
run "$AGENTCAGE" --version
expect_eq "--version exits 0" "$RC" 0
check "--version prints agentcage X.Y.Z" grep -Eq '^agentcage [0-9]+\.[0-9]+\.[0-9]+$' <<<"$OUT"
run "$AGENTCAGE" help policy
expect_eq "help policy exits 0" "$RC" 0
for w in "policy check" "policy explain" "--ancestor" "--json" "exit 0 allow, 1 deny, 2"; do
	expect_contains "help policy mentions $w" "$OUT" "$w"
done
run "$AGENTCAGE" help run
for w in "--policy FILE" "--name NAME" "--workdir DIR" "--home DIR" "--env KEY=VALUE" \
	"--timeout SECS" "--log FILE" "-- CMD ARGS"; do
	expect_contains "help run mentions $w" "$OUT" "$w"
done
run "$AGENTCAGE" help setup
expect_contains "help setup says what it creates" "$OUT" "sandbox"
run "$AGENTCAGE" help frobnicate
expect_eq "help on an unknown command exits 2" "$RC" 2
run "$AGENTCAGE" policy --help
expect_eq "policy --help exits 0" "$RC" 0
run "$AGENTCAGE" policy
expect_eq "policy without a sub-command exits 2" "$RC" 2
run "$AGENTCAGE" policy frobnicate
expect_eq "policy with an unknown sub-command exits 2" "$RC" 2
expect_contains "an unknown sub-command gets a hint" "$ERR" "hint:"

# --- the man page renders and covers every command ---
man_src="$TOP/docs/agentcage.1"
if command -v groff >/dev/null; then
	run groff -man -Tutf8 -ww -z "$man_src"
	expect_eq "man page renders without groff warnings" "$ERR" ""
elif command -v nroff >/dev/null; then
	run nroff -man "$man_src"
	expect_eq "man page renders" "$RC" 0
else
	skip "neither groff nor nroff installed: man page rendering not checked"
fi
for w in "policy default" "policy check" "policy explain" "policy get" "policy set" "policy suggest" "agentcage ps" "agentcage exec" "agentcage stop" "agentcage logs" "\\-\\-learn" "\\-\\-ancestor" "setup" "EXIT STATUS" "FILES" "EXAMPLES"; do
	check "man page covers $w" grep -qF -- "$w" "$man_src"
done

done_testing
