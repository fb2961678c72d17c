#!/bin/bash
# sandbox_live: living with a running sandbox (issue 6; docs/control.md) against the proxy
# lab (tests/netlab.sh): ps, exec (identified and confined like the command), logs,
# policy get/set (a denied host allowed without restart, a tunnel the new generation
# denies closed, a static-section change refused with the field named), stop; and learn
# mode: a scripted "agent" run once with --learn, `policy suggest`, and the same script
# under the suggestion with zero denials while another host stays denied.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../proxy_lib.sh"

netlab_serve_files "$NETSRV" && netlab_serve_git ||
	{ echo "Bail out! lab servers did not start"; exit 1; }
PD=$TOP/tests/policies/live
CURL="/usr/bin/curl -sS --max-time 20"
PY=/usr/bin/python3.11
HOLD=$SB_WORK/hold UP=$SB_WORK/up
mkfifo "$HOLD" "$UP" && chmod 0666 "$HOLD" "$UP"
exec {upfd}<>"$UP"

# The sandbox under test: its command says "up" on one fifo, then waits on another until
# the test lets it go (or stop ends it).
cp "$PD/base.yaml" "$SB_WORK/policy.yaml"
px --policy "$SB_WORK/policy.yaml" -- /bin/sh -c "echo up > $UP; read x < $HOLD" &
RUN_PID=$!
# On failure: stop whatever is still running (by name, through its control socket: px's
# $! is a subshell, not agentcage), then reap.
live_cleanup() {
	"$AGENTCAGE" stop "$SB_NAME" --grace 1 >/dev/null 2>&1
	"$AGENTCAGE" stop "$SB_NAME-x" --grace 1 >/dev/null 2>&1
	wait "$RUN_PID" 2>/dev/null # only ours: the lab's servers are netlab_down's
}
trap 'live_cleanup; netlab_down >/dev/null 2>&1; sb_cleanup' EXIT
read -r -t 30 word <&"$upfd"
expect_eq "the sandbox is up" "$word" "up"
AC() { "$AGENTCAGE" "$@"; }

# --- ps -----------------------------------------------------------------------------
out=$(AC ps)
expect_contains "ps lists the sandbox by name" "$out" "$SB_NAME"
js=$(AC ps --json | /usr/bin/python3 -c '
import json, sys, os
a = [s for s in json.load(sys.stdin) if s["name"] == sys.argv[1]]
s = a[0] if a else {}
exe = os.readlink("/proc/%d/exe" % s["pid"]) if s.get("pid") else ""
print(len(a), exe == os.path.realpath(sys.argv[2]), s.get("generation"), s.get("policy_source", "").endswith("policy.yaml"),
      isinstance(s.get("connections_open"), int), s.get("learn"))' "$SB_NAME" "$AGENTCAGE")
expect_eq "ps --json: one entry, the supervisor's pid, generation 1, policy, counts" "$js" "1 True 1 True True False"

# --- exec: same identity, confinement and proxy identification ----------------------
uid=$(id -u sandbox)
expect_eq "exec runs as the sandbox user" "$(AC exec "$SB_NAME" -- id -u 2>&1)" "$uid"
AC exec "$SB_NAME" -- /bin/sh -c 'exit 7'; rc=$?
expect_eq "exec passes the exit status through" "$rc" 7
out=$(AC exec "$SB_NAME" -- /bin/sh -c 'echo x > /usr/x' 2>&1)
expect_contains "exec'd process cannot write /usr" "$out" "cannot create /usr/x"
# /proc is read_only in the policy: only Landlock stops a process renaming itself.
out=$(AC exec "$SB_NAME" -- /bin/sh -c 'echo x > /proc/self/comm' 2>&1)
expect_contains "exec'd process is under Landlock (/proc/self/comm read-only)" "$out" "Permission denied"
out=$(AC exec "$SB_NAME" -- /bin/sh -c 'echo ok > /tmp/x && cat /tmp/x' 2>&1)
expect_eq "exec'd process shares the sandbox's /tmp" "$out" "ok"
out=$(AC exec "$SB_NAME" -- unshare -U true 2>&1; echo "rc=$?")
expect_contains "exec'd process is under seccomp (unshare -U refused)" "$out" "Operation not permitted"
expect_eq "exec'd process sees the sandbox hostname" "$(AC exec "$SB_NAME" -- hostname)" "$SB_NAME"
out=$(AC exec "$SB_NAME" -- $CURL -o /dev/null -w '%{http_code}' http://files.test/hello 2>&1)
expect_contains "exec'd curl is identified and denied (generation 1)" "$out" "403"
out=$(AC exec "$SB_NAME" -- $PY -c 'import urllib.request as u; print(u.urlopen("http://files.test/hello", timeout=20).read().decode(), end="")' 2>&1)
expect_eq "exec'd python3 is identified and allowed" "$out" "hello from $NETLAB_IP_A"
out=$(AC exec nosuch-$$ -- true 2>&1); rc=$?
expect_eq "exec on an unknown sandbox fails" "$rc" 1
expect_contains "and says which and how to list them" "$out" "agentcage ps"

# --- logs -----------------------------------------------------------------------------
out=$(AC logs "$SB_NAME" --denied 2>&1)
expect_contains "logs --denied shows the curl denial" "$out" "NET DENIED /usr/bin/curl("
expect_contains "and names the host" "$out" "files.test:80"

# --- policy get / set -----------------------------------------------------------------
AC policy get "$SB_NAME" > "$SB_WORK/got.yaml"; rc=$?
expect_eq "policy get succeeds" "$rc" 0
check "policy get output loads with policy check" "$AGENTCAGE" policy check "$SB_WORK/got.yaml"
out=$(AC policy set "$SB_NAME" "$SB_WORK/got.yaml" 2>&1); rc=$?
expect_eq "policy get's output is accepted unchanged by policy set" "$rc" 0
out=$(AC policy set "$SB_NAME" "$PD/static.yaml" 2>&1); rc=$?
expect_eq "a static-section change is refused" "$rc" 1
expect_contains "naming filesystem_policy.read_write" "$out" "filesystem_policy.read_write"
expect_contains "naming process.run_as_group" "$out" "process.run_as_group"
expect_contains "and suggesting to keep it" "$out" "keep"
out=$(AC exec "$SB_NAME" -- $CURL -o /dev/null -w '%{http_code}' http://files.test/hello 2>&1)
expect_contains "after the refused set, curl is still denied" "$out" "403"
out=$(AC policy set "$SB_NAME" "$PD/wider.yaml" 2>&1); rc=$?
expect_eq "a network change is loaded" "$rc" 0
expect_contains "and says its generation" "$out" "generation"
out=$(AC exec "$SB_NAME" -- $CURL http://files.test/hello 2>&1)
expect_eq "the host denied before is allowed without restart" "$out" "hello from $NETLAB_IP_A"

# A tunnel the next generation denies is closed: python3 holds one open, policy set
# narrows python3 to pypi.test only.
TUN=$SB_WORK/tunnel
mkfifo "$TUN" && chmod 0666 "$TUN"
exec {tunfd}<>"$TUN"
AC exec "$SB_NAME" -- $PY -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", 3128))
s.sendall(b"CONNECT files.test:80 HTTP/1.1\r\nHost: files.test:80\r\n\r\n")
head = s.recv(4096)
out = open(sys.argv[1], "w")
print(head.split(b"\r\n")[0].decode(), file=out, flush=True)
s.settimeout(60)
try:
    print("closed" if s.recv(1) == b"" else "data", file=out, flush=True)
except OSError as e:
    print("error", e, file=out, flush=True)' "$TUN" &
EXEC_PID=$!
read -r -t 30 line <&"$tunfd"
expect_contains "python3 opened a tunnel" "$line" "200"
out=$(AC policy set "$SB_NAME" "$PD/narrower.yaml" 2>&1); rc=$?
expect_eq "the narrower generation is loaded" "$rc" 0
read -r -t 30 line <&"$tunfd"
expect_eq "the tunnel it no longer allows is closed" "$line" "closed"
wait "$EXEC_PID"
out=$(/usr/bin/python3 - "$SB_LOG" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("event") == "net" and d.get("decision") == "deny" and "generation" in (d.get("reason") or ""):
        print(d["binary"], d["host"], d["port"]); break
PY
)
expect_eq "the closed tunnel is logged with the generation" "$out" "/usr/bin/python3.11 files.test 80"

# --- SIGHUP: the --policy file read again ------------------------------------------------
SUP=$(AC ps --json | /usr/bin/python3 -c '
import json, sys
print([s["pid"] for s in json.load(sys.stdin) if s["name"] == sys.argv[1]][0])' "$SB_NAME")
gen() {
	AC ps --json | /usr/bin/python3 -c '
import json, sys
print([s["generation"] for s in json.load(sys.stdin) if s["name"] == sys.argv[1]][0])' "$SB_NAME"
}
# The signal is pending before ps connects, and the supervisor's loop handles it first.
g1=$(($(gen) + 1))
cp "$PD/wider.yaml" "$SB_WORK/policy.yaml"
kill -HUP "$SUP"
expect_eq "SIGHUP loads the edited --policy file as the next generation" "$(gen)" "$g1"
expect_contains "and says so on stderr" "$(cat "$SB_WORK.err")" "SIGHUP: generation $g1 loaded from $SB_WORK/policy.yaml"
out=$(AC exec "$SB_NAME" -- $CURL http://files.test/hello 2>&1)
expect_eq "curl is allowed again by the reloaded file" "$out" "hello from $NETLAB_IP_A"
cp "$PD/static.yaml" "$SB_WORK/policy.yaml"
kill -HUP "$SUP"
expect_eq "a reload changing static sections is refused (generation $g1 stays)" "$(gen)" "$g1"
expect_contains "naming the field on stderr" "$(cat "$SB_WORK.err")" "filesystem_policy.read_write"
expect_contains "and the policy line in the log says refused" \
	"$(grep '"event":"policy"' "$SB_LOG" | tail -1)" '"result":"refused"'

# --- stop ------------------------------------------------------------------------------
# An exec'd job gets the SIGTERM too (the grace period is for every process): it says "up",
# and its trap writes a mark in the workdir.
TERMMARK=$SB_WORK/exec-term
: >"$TERMMARK" && chmod 0666 "$TERMMARK"
AC exec "$SB_NAME" -- /bin/sh -c "trap 'echo term > $TERMMARK; exit 0' TERM; echo up > $UP; sleep 60 & wait" &
EXEC_PID=$!
read -r -t 30 word <&"$upfd"
expect_eq "an exec'd job is up" "$word" "up"
# And one that ignores SIGTERM (its sleep inherits the ignored signal): the grace ends it.
AC exec "$SB_NAME" -- /bin/sh -c "trap '' TERM; echo up > $UP; sleep 60" &
DEAF_PID=$!
read -r -t 30 word <&"$upfd"
expect_eq "an exec'd job that ignores SIGTERM is up" "$word" "up"
AC stop "$SB_NAME" --grace 2; rc=$?
expect_eq "stop succeeds" "$rc" 0
wait "$RUN_PID"; rc=$?
expect_eq "the run ended with its command's status: SIGTERM (128+15)" "$rc" 143
wait "$EXEC_PID"; rc=$?
expect_eq "the exec'd job got SIGTERM too and ran its trap" "$(cat "$TERMMARK")" "term"
expect_eq "and its exec returned the job's status (0), not the sandbox's SIGKILL" "$rc" 0
wait "$DEAF_PID"; rc=$?
expect_eq "the job ignoring SIGTERM was killed when the grace ended: exec returns 137" "$rc" 137
expect_eq "ps no longer lists it" "$(AC ps | grep -c -- "$SB_NAME")" 0
check "no control socket is left" test ! -e "/run/agentcage/$SB_NAME.sock"

# --- a supervisor killed outright leaves nothing behind -----------------------------------
CRASH=$SB_NAME-x
SB_EXTRA_CLEAN+=("/var/lib/agentcage/$CRASH") # its home, made by run
"$AGENTCAGE" run --name "$CRASH" --workdir "$SB_WORK" --log "$SB_LOG" "${SB_ENV[@]}" \
	--policy "$PD/base.yaml" -- /bin/sh -c "echo up > $UP; read x < $HOLD" 2>/dev/null &
CRASH_PID=$!
read -r -t 30 word <&"$upfd"
expect_eq "a second sandbox is up" "$word" "up"
out=$("$AGENTCAGE" run --name "$CRASH" --workdir "$SB_WORK" --log "$SB_LOG" -- true 2>&1); rc=$?
expect_eq "the same name cannot run twice" "$rc" 1
expect_contains "and the error names the holder and the fix" "$out" "already running (pid $CRASH_PID)"
kill -KILL "$CRASH_PID"
{ wait "$CRASH_PID"; } 2>/dev/null
check "its state file is still there after SIGKILL" test -e "/run/agentcage/$CRASH.json"
expect_eq "ps does not list a dead sandbox" "$(AC ps | grep -c -- "$CRASH")" 0
check "and removed its state file and socket" \
	test ! -e "/run/agentcage/$CRASH.json" -a ! -e "/run/agentcage/$CRASH.sock"

# --- learn mode and policy suggest ------------------------------------------------------
AGENT='set -e
/usr/bin/curl -sS --max-time 20 -o /dev/null http://files.test/hello
/usr/bin/curl -sS --max-time 20 -o /dev/null http://other.test/hello
git clone -q http://git.test/repo.git /tmp/c
/usr/bin/curl -sS --max-time 20 -o /dev/null -X POST -d x=1 http://files.test/form
echo agent-done'
: > "$SB_LOG"
out=$(px --learn --policy "$PD/learn-base.yaml" -- /bin/sh -c "$AGENT" 2>&1)
expect_contains "the agent completes in learn mode" "$out" "agent-done"
n=$(grep -c '"decision":"learn"' "$SB_LOG")
check "learn lines were logged ($n)" test "$n" -ge 3
AC policy suggest "$SB_LOG" > "$SB_WORK/suggested.yaml"; rc=$?
expect_eq "policy suggest succeeds" "$rc" 0
check "the suggestion loads with policy check" "$AGENTCAGE" policy check "$SB_WORK/suggested.yaml"
: > "$SB_LOG"
out=$(px --policy "$SB_WORK/suggested.yaml" -- /bin/sh -c "$AGENT" 2>&1)
expect_contains "the same agent runs under the suggestion" "$out" "agent-done"
expect_eq "with zero denials" "$(grep -c '"decision":"deny"' "$SB_LOG")" 0
out=$(px --policy "$SB_WORK/suggested.yaml" -- $CURL -o /dev/null -w '%{http_code}' http://pypi.test/ 2>&1)
expect_contains "a host the agent never used is still denied" "$out" "403"
done_testing
