#!/bin/bash
# logs_cli: `agentcage logs` and `agentcage policy suggest` on log files, as a user runs
# them: the human layout, --json, --denied, --since (on a log whose times are made
# relative to now), -f following a file another process appends to until its exit line,
# and a suggested policy that `policy check` accepts. No sandbox is started: the logs are
# fixtures (tests/data/logs/) or written here in the real lines' shape.
set -u
. "$(dirname "$0")/../lib.sh"

TMP=$(mktemp -d /tmp/agentcage-logs-cli.XXXXXX)
FOLLOW_PID=
cleanup() {
	[ -n "$FOLLOW_PID" ] && kill "$FOLLOW_PID" 2>/dev/null && wait "$FOLLOW_PID" 2>/dev/null
	exec 3<&- 4<&- 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
FIXTURE=$TOP/tests/data/logs/run.jsonl
WAIT_S=20 # upper bound on one awaited line; a hang fails the test instead of stalling it

run() {
	"$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000Z; }
start_line() { # NAME PID POLICY_SOURCE SHA256 TIME
	printf '{"time":"%s","event":"start","name":"%s","pid":%s,"init_pid":1,"policy_source":"%s","policy_sha256":"%s","workdir":"/w","home":"/h","command":["/bin/sh"],"tty":false,"confinement":null}\n' "$5" "$1" "$2" "$3" "$4"
}
net_line() { # TIME BINARY HOST PORT DECISION ERROR
	printf '{"time":"%s","event":"net","sandbox":"t","pid":42,"binary":"%s","ancestors":[],"host":"%s","port":%s,"address":null,"decision":"%s","error":%s,"block":null,"reason":"no policy block allows %s:%s","bytes_up":0,"bytes_down":0,"duration_ms":1,"generation":1}\n' "$1" "$2" "$3" "$4" "$5" "$6" "$3" "$4"
}
http_line() { # TIME BINARY HOST METHOD PATH DECISION
	printf '{"time":"%s","event":"http","sandbox":"t","pid":43,"binary":"%s","host":"%s","port":443,"method":"%s","path":"%s","status":403,"decision":"%s","error":"policy_denied","block":"b","reason":"no rule allows %s %s","note":null,"bytes_up":0,"bytes_down":0,"duration_ms":0,"tls":true,"generation":1}\n' "$1" "$2" "$3" "$4" "$5" "$6" "$4" "$5"
}
exit_line() { # NAME PID TIME
	printf '{"time":"%s","event":"exit","name":"%s","pid":%s,"started":true,"status":0,"exit_code":0,"signal":null,"duration_ms":5,"timed_out":false}\n' "$3" "$1" "$2"
}

# --- the human layout ---------------------------------------------------------------
run "$AGENTCAGE" logs "$FIXTURE"
expect_eq "logs FILE exits 0 with a malformed line in the file" "$RC" 0
expect_eq "logs shows the last run only: 12 events" "$(wc -l <<<"$OUT")" 12
expect_contains "a policy denial reads as NET DENIED BINARY(PID) -> HOST:PORT [policy:BLOCK] reason" "$OUT" \
	"2026-11-27T08:00:01.000Z NET DENIED /usr/bin/curl(64) -> httpbin.org:443 [policy:- gen:1] no policy block allows httpbin.org:443"
expect_contains "an L7 denial names method, host and path" "$OUT" \
	"HTTP DENIED /usr/bin/git(70) -> POST github.com/o/r.git/git-receive-pack [policy:github gen:1]"
expect_contains "an allowed connection shows its traffic" "$OUT" "3.1 KiB up, 20 KiB down"
expect_contains "a learn line says LEARN" "$OUT" "NET LEARN /usr/bin/python3(80) -> pypi.org:443"
expect_contains "the run's start" "$OUT" "START demo pid:200 policy:<default> -- /bin/bash -l"
expect_contains "the run's exit" "$OUT" "EXIT demo pid:200 status:130 signal:INT"
expect_contains "exec and policy lines" "$OUT" "POLICY demo pid:200 generation:2 loaded"
expect_contains "one warning for the malformed line" "$ERR" "skipped 1 malformed line"
run "$AGENTCAGE" logs --all "$FIXTURE"
expect_eq "--all: every event of the file" "$(wc -l <<<"$OUT")" 15

# --- --json -------------------------------------------------------------------------
run "$AGENTCAGE" logs --json "$FIXTURE"
expect_eq "--json prints the run's lines as they are" "$OUT" "$(tail -n +4 "$FIXTURE" | grep -v '^this line')"
check "--json output is JSON, one object a line" jq -e -s 'length == 12' "$TMP/out" >/dev/null

# --- --denied -----------------------------------------------------------------------
run "$AGENTCAGE" logs --denied "$FIXTURE"
expect_eq "--denied: denials and would-be denials only" "$(wc -l <<<"$OUT")" 5
expect_eq "--denied lines are all DENIED or LEARN" "$(grep -cv -e ' DENIED ' -e ' LEARN ' <<<"$OUT")" 0
run "$AGENTCAGE" logs --denied --json "$FIXTURE"
check "--denied --json: the decisions are deny or learn" jq -e -s 'all(.decision == "deny" or .decision == "learn")' "$TMP/out" >/dev/null

# --- --since ------------------------------------------------------------------------
now=$(date +%s)
{
	start_line t 7 "<default>" 00 "$(iso $((now - 7200)))"
	net_line "$(iso $((now - 7100)))" /usr/bin/curl two.hours.example 443 deny '"policy_denied"'
	net_line "$(iso $((now - 1800)))" /usr/bin/curl half.hour.example 443 deny '"policy_denied"'
	net_line "$(iso $((now - 120)))" /usr/bin/curl two.minutes.example 443 deny '"policy_denied"'
} >"$TMP/since.jsonl"
run "$AGENTCAGE" logs --since 10m "$TMP/since.jsonl"
expect_eq "--since 10m: only the last two minutes' event" "$OUT" "$(grep -o '[^ ]* NET .*two.minutes.example.*' <<<"$OUT")"
expect_contains "--since 10m keeps the recent event" "$OUT" two.minutes.example
run "$AGENTCAGE" logs --since 1h "$TMP/since.jsonl"
expect_eq "--since 1h: two events" "$(wc -l <<<"$OUT")" 2
run "$AGENTCAGE" logs --since "$(date -u -d "@$((now - 3600))" +%Y-%m-%dT%H:%M:%SZ)" "$TMP/since.jsonl"
expect_eq "--since ISO-TIME: the same two events" "$(wc -l <<<"$OUT")" 2
run "$AGENTCAGE" logs --since yesterday "$TMP/since.jsonl"
expect_eq "--since with a word is a usage error (2)" "$RC" 2
expect_contains "... that shows the accepted forms" "$ERR" "10m"

# --- a sandbox NAME is its log under /var/log/agentcage ----------------------------------
if [ "$(id -u)" -eq 0 ] && [ -d /var/log/agentcage ]; then
	NAMED=/var/log/agentcage/logs-cli-$$.jsonl
	trap 'rm -f "$NAMED"; cleanup' EXIT
	cp "$FIXTURE" "$NAMED"
	run "$AGENTCAGE" logs --denied "logs-cli-$$"
	expect_eq "logs NAME reads /var/log/agentcage/NAME.jsonl" "$RC:$(wc -l <<<"$OUT")" "0:5"
	rm -f "$NAMED"
else
	skip "logs NAME: needs root and /var/log/agentcage (run agentcage setup)"
fi

# --- errors -------------------------------------------------------------------------
run "$AGENTCAGE" logs "$TMP/none.jsonl"
expect_eq "a missing log file exits 1" "$RC" 1
expect_contains "... naming the file" "$ERR" "$TMP/none.jsonl: No such file or directory"
run "$AGENTCAGE" logs no-such-sandbox-$$
expect_contains "a missing sandbox log hints at names and paths" "$ERR" "hint: 'no-such-sandbox-$$' is taken as a sandbox name"
run "$AGENTCAGE" logs ..
expect_eq "a name that is no name ('..') is a usage error" "$RC" 2
run "$AGENTCAGE" logs --bogus "$FIXTURE"
expect_eq "an unknown option is a usage error" "$RC" 2
run "$AGENTCAGE" logs
expect_eq "no sandbox is a usage error" "$RC" 2

# --- -f: follow until the run's exit -------------------------------------------------
log=$TMP/follow.jsonl
start_line t 77 "<default>" 00 "$(iso "$now")" >"$log"
exit_line t 76 "$(iso "$now")" >>"$log" # another pid's exit: not the end of run 77
mkfifo "$TMP/fout"
"$AGENTCAGE" logs -f "$log" >"$TMP/fout" 2>"$TMP/ferr" &
FOLLOW_PID=$!
exec 3<"$TMP/fout"
l1= l2= l3= l4=
read -r -t $WAIT_S l1 <&3
read -r -t $WAIT_S l2 <&3
expect_contains "-f prints what is there first" "$l1" "START t pid:77"
net_line "$(iso "$now")" /usr/bin/curl appended.example 443 deny '"policy_denied"' >>"$log"
read -r -t $WAIT_S l3 <&3
expect_contains "-f prints a line appended by another process" "$l3" "NET DENIED /usr/bin/curl(42) -> appended.example:443"
exit_line t 77 "$(iso "$now")" >>"$log"
read -r -t $WAIT_S l4 <&3
expect_contains "-f prints the run's exit line" "$l4" "EXIT t pid:77"
wait "$FOLLOW_PID"
expect_eq "-f ends by itself at the exit line, status 0" "$?" 0
FOLLOW_PID=
exec 3<&-

run "$AGENTCAGE" logs -f "$log"
expect_eq "-f on a run that has ended prints it and returns 0" "$RC" 0
expect_contains "... saying there is nothing to follow" "$ERR" "nothing to follow"

# -f on a log that does not exist yet waits for it.
log=$TMP/later.jsonl
mkfifo "$TMP/ferr2"
"$AGENTCAGE" logs -f "$log" >"$TMP/fout2" 2>"$TMP/ferr2" &
FOLLOW_PID=$!
exec 4<"$TMP/ferr2"
e1=
read -r -t $WAIT_S e1 <&4
expect_contains "-f on a missing log says it waits for it" "$e1" "waiting for $log to appear"
{ start_line t 88 "<default>" 00 "$(iso "$now")"; exit_line t 88 "$(iso "$now")"; } >"$log"
wait "$FOLLOW_PID"
expect_eq "... then follows it to its exit line (status 0)" "$?" 0
FOLLOW_PID=
expect_eq "... having printed the run" "$(grep -c -e 'START t pid:88' -e 'EXIT t pid:88' "$TMP/fout2")" 2
exec 4<&-

# SIGTERM ends -f cleanly (SIGINT the same; a background job of a script ignores SIGINT).
log=$TMP/term.jsonl
start_line t 99 "<default>" 00 "$(iso "$now")" >"$log"
rm -f "$TMP/fout"
mkfifo "$TMP/fout"
"$AGENTCAGE" logs -f "$log" >"$TMP/fout" 2>/dev/null &
FOLLOW_PID=$!
exec 3<"$TMP/fout"
read -r -t $WAIT_S l1 <&3
kill -TERM "$FOLLOW_PID"
wait "$FOLLOW_PID"
expect_eq "SIGTERM stops -f with status 0" "$?" 0
FOLLOW_PID=
exec 3<&-

# --- policy suggest -------------------------------------------------------------------
run "$AGENTCAGE" policy suggest "$FIXTURE"
if grep -q 'not built yet\|Function not implemented' <<<"$ERR"; then
	skip "policy suggest: the suggest core (policy/suggest.h) is not in this build yet"
else
	cat >"$TMP/base.yaml" <<'EOF'
version: 1
filesystem_policy:
  read_only: [/usr]
network_policies:
  github:
    endpoints:
      - host: github.com
        port: 443
    binaries:
      - path: /usr/bin/git
EOF
	sha=$(sha256sum "$TMP/base.yaml" | cut -d' ' -f1)
	{
		start_line t 5 "$TMP/base.yaml" "$sha" "$(iso "$now")"
		net_line "$(iso "$now")" /usr/bin/curl httpbin.org 443 learn null
		net_line "$(iso "$now")" /usr/bin/curl httpbin.org 443 learn null
		net_line "$(iso "$now")" /usr/bin/python3 pypi.org 443 deny '"policy_denied"'
		net_line "$(iso "$now")" /usr/bin/curl down.example 443 deny '"upstream_unreachable"'
		exit_line t 5 "$(iso "$now")"
	} >"$TMP/learn.jsonl"
	run "$AGENTCAGE" policy suggest "$TMP/learn.jsonl"
	expect_eq "policy suggest exits 0" "$RC" 0
	expect_contains "the output starts with where it came from" "$OUT" "# Suggested by \`agentcage policy suggest\` from $TMP/learn.jsonl"
	expect_contains "... and the counts" "$OUT" "# observed: 1 denial, 2 would-be denials (learn); 2 distinct"
	printf '%s\n' "$OUT" >"$TMP/suggested.yaml"
	check "the suggested policy loads with policy check" "$AGENTCAGE" policy check "$TMP/suggested.yaml" >/dev/null
	expect_contains "it adds the learned host" "$OUT" "httpbin.org"
	expect_contains "it adds the denied host" "$OUT" "pypi.org"
	if grep -q 'down.example' <<<"$OUT"; then not_ok "an upstream failure is not an observation"; else ok "an upstream failure is not an observation"; fi
	expect_contains "it keeps the base's blocks" "$OUT" "github"
	run "$AGENTCAGE" policy explain --policy "$TMP/suggested.yaml" --binary /usr/bin/curl --host httpbin.org --port 443
	expect_eq "the suggestion allows what was learned (policy explain)" "$RC" 0
	run "$AGENTCAGE" policy explain --policy "$TMP/suggested.yaml" --binary /usr/bin/curl --host other.example --port 443
	expect_eq "... and still denies a host never seen" "$RC" 1
	run "$AGENTCAGE" policy explain --policy "$TMP/suggested.yaml" --binary /usr/bin/wget --host httpbin.org --port 443
	expect_eq "... and the learned host to another binary" "$RC" 1
	if grep -q 'changed since the run started' <<<"$ERR"; then not_ok "no hash warning when the base is unchanged"; else ok "no hash warning when the base is unchanged"; fi
	echo "# edited" >>"$TMP/base.yaml"
	run "$AGENTCAGE" policy suggest "$TMP/learn.jsonl"
	expect_contains "a base changed since the run is warned about" "$ERR" "changed since the run started"
	run "$AGENTCAGE" policy suggest --base "$TMP/base.yaml" "$TMP/learn.jsonl"
	expect_eq "--base FILE is taken without a hash check" "$RC:$(grep -c 'changed since' <<<"$ERR")" "0:0"
	run "$AGENTCAGE" policy suggest "$TMP/none.jsonl"
	expect_eq "suggest on a missing log exits 1" "$RC" 1
	printf '%s\n' "$(net_line "$(iso "$now")" /usr/bin/curl x.example 443 learn null)" >"$TMP/nostart.jsonl"
	run "$AGENTCAGE" policy suggest "$TMP/nostart.jsonl"
	expect_contains "a log without a start line needs --base" "$ERR" "hint: --base FILE"
fi

done_testing
