#!/bin/bash
# sandbox_log: `agentcage setup` is idempotent; the lifecycle log has a start and an exit
# line that parse as JSON with the expected fields; run refuses bad names and policies.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/sandbox_lib.sh"

if [ "$(id -u)" != 0 ]; then skip "needs root (namespaces, mounts)"; done_testing; exit; fi

out=$("$AGENTCAGE" setup 2>&1); rc=$?
expect_eq "setup again succeeds (idempotent)" "$rc" 0
expect_contains "setup reports the existing user" "$out" "user sandbox exists"
check "sandbox user exists" getent passwd sandbox >/dev/null
expect_eq "sandbox user's home is /sandbox" "$(getent passwd sandbox | cut -d: -f6)" "/sandbox"
expect_eq "log directory is 0700" "$(stat -c %a /var/log/agentcage)" "700"

sb_run -- sh -c 'exit 5'
out=$(/usr/bin/python3 - "$SB_LOG" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
s, x = lines[0], lines[-1]
print(s["event"], x["event"], len(lines))
print(s["name"] == x["name"], len(s["policy_sha256"]) == 64, s["command"] == ["sh", "-c", "exit 5"])
c = s["confinement"]
print(sorted(c["namespaces"]), c["seccomp"], "landlock" in c, c["uid"] > 0, c["gid"] > 0)
print(x["status"], x["exit_code"], x["signal"], x["timed_out"], x["duration_ms"] >= 0)
PY
)
expect_eq "log: start and exit lines parse as JSON" "$(sed -n 1p <<< "$out")" "start exit 2"
expect_eq "log: name, policy hash, command" "$(sed -n 2p <<< "$out")" "True True True"
expect_eq "log: confinement summary" "$(sed -n 3p <<< "$out")" "['cgroup', 'ipc', 'mnt', 'net', 'pid', 'uts'] True True True True"
expect_eq "log: exit status fields" "$(sed -n 4p <<< "$out")" "5 5 None False True"
home=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["home"])' "$SB_LOG")
expect_eq "default home is /var/lib/agentcage/NAME/home" "$home" "/var/lib/agentcage/$SB_NAME/home"
expect_eq "home is owned by the sandbox user" "$(stat -c %U "$home")" "sandbox"
expect_eq "home is 0700" "$(stat -c %a "$home")" "700"

: > "$SB_LOG"
sb_run -- sh -c 'kill -KILL $$'
out=$(/usr/bin/python3 -c 'import json,sys; x=[json.loads(l) for l in open(sys.argv[1])][-1]; print(x["status"], x["exit_code"], x["signal"], x["signal_name"])' "$SB_LOG")
expect_eq "log: a killed command records the signal" "$out" "137 None 9 KILL"

for bad in .hidden -x _x 'a/b' "$(printf 'x%.0s' {1..33})" ''; do
	out=$("$AGENTCAGE" run --name "$bad" --log "$SB_LOG" -- true 2>&1); rc=$?
	expect_eq "--name '$bad' refused" "$rc" 1
done
expect_contains "--name error gives the rule" "$out" "hint:"
# A derived name follows the same rule (the control socket is named after it): a workdir
# "_lead.dir" gives "lead.dir", which starts and is logged under that name.
lead=$SB_WORK/_lead.dir
mkdir -m 0777 "$lead" && : > "$SB_LOG"
"$AGENTCAGE" run --workdir "$lead" --log "$SB_LOG" "${SB_ENV[@]}" -- true 2>/dev/null; rc=$?
SB_EXTRA_CLEAN+=(/var/lib/agentcage/lead.dir)
expect_eq "a workdir whose name starts with '_' still runs" "$rc" 0
expect_contains "under a name that starts with its first letter" "$(head -1 "$SB_LOG")" '"name":"lead.dir"'

out=$("$AGENTCAGE" run --workdir /nonexistent-agentcage --log "$SB_LOG" -- true 2>&1); rc=$?
check "a missing workdir is refused" test "$rc" -ne 0
expect_contains "missing workdir is named" "$out" "/nonexistent-agentcage"

pol=$SB_WORK.bad.yaml; SB_EXTRA_CLEAN+=("$pol")
printf 'version: 1\nfilesystem_policy:\n  read_write: [relative/path]\n' > "$pol"
out=$(sb_run --policy "$pol" -- true 2>&1); rc=$?
check "an invalid policy refuses to start" test "$rc" -ne 0
expect_contains "policy error is located (file:line)" "$out" "$pol:3"

pol2=$SB_WORK.nouser.yaml; SB_EXTRA_CLEAN+=("$pol2")
printf 'version: 1\nprocess:\n  run_as_user: agentcage-no-such-user\n  run_as_group: sandbox\n' > "$pol2"
out=$(sb_run --policy "$pol2" -- true 2>&1); rc=$?
check "an unknown run_as_user refuses to start" test "$rc" -ne 0
expect_contains "unknown user is named" "$out" "agentcage-no-such-user"

done_testing
