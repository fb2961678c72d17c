#!/bin/bash
# proxy_reload: policy generations swapped while the proxy is busy (issues 6 and 7):
# python3 in the sandbox runs a fixed number of requests on 4 threads while the test
# loads 30 generations alternating between one that allows them and one that does not.
# Every request must end as an answer (200 or 403) or a closed connection, never a hang;
# the supervisor must survive, count every generation, and hold no more descriptors
# afterwards than before (the ASan tree's run also checks for leaks and use-after-free).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../proxy_lib.sh"

netlab_serve_files "$NETSRV" || { echo "Bail out! lab servers did not start"; exit 1; }
PD=$TOP/tests/policies/live
HOLD=$SB_WORK/hold UP=$SB_WORK/up
mkfifo "$HOLD" "$UP" && chmod 0666 "$HOLD" "$UP"
exec {upfd}<>"$UP"
px --policy "$PD/base.yaml" -- /bin/sh -c "echo up > $UP; read x < $HOLD" &
RUN_PID=$!
reload_cleanup() {
	"$AGENTCAGE" stop "$SB_NAME" --grace 1 >/dev/null 2>&1
	wait "$RUN_PID" 2>/dev/null
}
trap 'reload_cleanup; netlab_down >/dev/null 2>&1; sb_cleanup' EXIT
read -r -t 30 word <&"$upfd"
expect_eq "the sandbox is up" "$word" "up"
status() {
	"$AGENTCAGE" ps --json | /usr/bin/python3 -c '
import json, sys
s = [s for s in json.load(sys.stdin) if s["name"] == sys.argv[1]][0]
print(s["pid"], s["generation"], s["connections_open"])' "$SB_NAME"
}
read -r SUP gen0 _ <<<"$(status)"
fds0=$(ls /proc/"$SUP"/fd | wc -l)

# The load: 4 threads x 150 requests, each on a new connection through the proxy.
LOADOUT=$SB_WORK/load.out
mkfifo "$SB_WORK/started" && chmod 0666 "$SB_WORK/started"
exec {stfd}<>"$SB_WORK/started"
"$AGENTCAGE" exec "$SB_NAME" -- /usr/bin/python3.11 -c '
import collections, sys, threading, urllib.request, urllib.error
counts = collections.Counter()
lock = threading.Lock()
def worker():
    for _ in range(150):
        try:
            with urllib.request.urlopen("http://files.test/hello", timeout=30) as r:
                k = str(r.status)
        except urllib.error.HTTPError as e:
            k = str(e.code)
        except Exception as e:
            k = "closed:" + type(e).__name__
        with lock:
            counts[k] += 1
open(sys.argv[1], "w").write("go\n")
ts = [threading.Thread(target=worker) for _ in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print(" ".join("%s=%d" % kv for kv in sorted(counts.items())))' "$SB_WORK/started" > "$LOADOUT" 2>&1 &
LOAD_PID=$!
read -r -t 30 word <&"$stfd"
expect_eq "the load started" "$word" "go"
ok_sets=0
for i in $(seq 1 30); do
	if [ $((i % 2)) = 1 ]; then f=$PD/narrower.yaml; else f=$PD/base.yaml; fi
	"$AGENTCAGE" policy set "$SB_NAME" "$f" >/dev/null 2>&1 && ok_sets=$((ok_sets + 1))
done
expect_eq "30 generations loaded under load" "$ok_sets" 30
wait "$LOAD_PID"; rc=$?
expect_eq "the load finished (no request hung)" "$rc" 0
out=$(cat "$LOADOUT")
total=$(tr ' ' '\n' <<<"$out" | awk -F= '{n += $2} END {print n + 0}')
expect_eq "every one of the 600 requests ended ($out)" "$total" 600
check "some were answered 200" grep -q "200=" "$LOADOUT"
read -r sup gen conns <<<"$(status)"
expect_eq "the same supervisor is serving" "$sup" "$SUP"
expect_eq "and counts every generation" "$gen" $((gen0 + 30))
expect_eq "no proxied connection is left open" "$conns" 0
fds1=$(ls /proc/"$SUP"/fd | wc -l)
# At most four more: the identity cache's /proc/TID/stat of each of the load's threads,
# held until the proxy has been idle for a second (proxy.h PROXY_IDLE_RELEASE_MS); nothing
# per connection or per generation.
check "the supervisor holds as many descriptors as before the load, +4 at most ($fds0 -> $fds1)" \
	[ "$fds1" -le $((fds0 + 4)) ]
[ "$fds1" -le $((fds0 + 4)) ] || ls -l /proc/"$SUP"/fd | sed 's/^/# /' # what is left, for the log
out=$(grep -c '"event":"policy".*"result":"loaded"' "$SB_LOG")
expect_eq "each generation is a policy line in the log" "$out" 30
done_testing
