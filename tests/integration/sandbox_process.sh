#!/bin/bash
# sandbox_process: exit status, signals, --timeout, the PTY, the environment and the
# Landlock compatibility modes of `agentcage run` (issue 3; spec/process.md §6, §8.8).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/sandbox_lib.sh"

if [ "$(id -u)" != 0 ]; then skip "needs root (namespaces, mounts)"; done_testing; exit; fi

# --- exit status ---
sb_run -- true; expect_eq "exit 0" "$?" 0
sb_run -- sh -c 'exit 3'; expect_eq "exit 3" "$?" 3
sb_run -- sh -c 'kill -INT $$'; expect_eq "killed by SIGINT -> 130" "$?" 130
sb_run -- sh -c 'kill -KILL $$'; expect_eq "killed by SIGKILL -> 137" "$?" 137
out=$(sb_run --timeout 1 -- sleep 30 2>&1); rc=$?
expect_eq "--timeout 1 -> 124" "$rc" 124
expect_contains "--timeout says so" "$out" "timed out after 1 s"
out=$(sb_run --timeout 1 -- sh -c 'trap "" TERM; sleep 30' 2>&1); rc=$?
expect_eq "--timeout kills a command ignoring SIGTERM -> 124" "$rc" 124
out=$(sb_run -- no-such-command-xyz 2>&1); rc=$?
expect_eq "unknown command -> 127" "$rc" 127
expect_contains "unknown command is named" "$out" "no-such-command-xyz: command not found"

# --- pid 1's command line is readable by all: it does not show the host's ---
out=$(sb_run --env SB_SECRET=s3cr3t-value -- sh -c 'echo "$SB_SECRET $0 $1"; tr "\0" " " </proc/1/cmdline' a0 a1 2>/dev/null)
expect_eq "the command gets its argv and --env (copied before init blanks its own)" \
	"$(head -n 1 <<<"$out")" "s3cr3t-value a0 a1"
expect_eq "/proc/1/cmdline reads agentcage-init, not agentcage's arguments" \
	"$(tail -n 1 <<<"$out" | tr -s ' ' | sed 's/ $//')" "agentcage-init"

# --- a signal sent to agentcage reaches the command (event driven: a FIFO, no sleep) ---
# (SIGHUP is not forwarded: it reloads the policy, tests/integration/sandbox_live.sh)
for sig in TERM INT QUIT; do
	rm -f "$SB_WORK/fifo" "$SB_WORK/got"
	mkfifo -m 0666 "$SB_WORK/fifo"
	sb_bg -- sh -c "trap 'echo $sig > got; exit 9' $sig; echo ready > fifo; while :; do sleep 1; done"
	pid=$!
	read -r _ < "$SB_WORK/fifo"
	kill -s "$sig" "$pid"
	wait "$pid"; rc=$?
	expect_eq "SIG$sig to agentcage reaches the command (its exit status)" "$rc" 9
	expect_eq "SIG$sig trap ran in the command" "$(cat "$SB_WORK/got" 2>&1)" "$sig"
done
rm -f "$SB_WORK/fifo"; mkfifo -m 0666 "$SB_WORK/fifo"
sb_bg -- sh -c 'echo ready > fifo; exec sleep 30'
pid=$!; read -r _ < "$SB_WORK/fifo"; kill -TERM "$pid"; wait "$pid"; rc=$?
expect_eq "SIGTERM to agentcage, default action -> 143" "$rc" 143

# --- orphans are reaped; the run ends with the command even if children linger ---
out=$(sb_sh '(sleep 30 &) ; echo started; exit 4'); rc=$?
expect_eq "run ends when the command exits, despite a background orphan" "$rc" 4

# --- environment ---
export AGENTCAGE_SECRET=leak LD_PRELOAD=/nonexistent.so SSH_AUTH_SOCK=/tmp/agent.sock
out=$(sb_run --env FOO=bar --env PATH=/usr/bin:/bin -- /usr/bin/env 2>&1)
unset AGENTCAGE_SECRET LD_PRELOAD SSH_AUTH_SOCK
expect_contains "HOME=/sandbox" "$out" $'\nHOME=/sandbox'
expect_contains "USER=sandbox" "$out" $'\nUSER=sandbox'
expect_contains "LOGNAME=sandbox" "$out" $'\nLOGNAME=sandbox'
expect_contains "--env FOO=bar added" "$out" $'\nFOO=bar'
expect_contains "--env overrides PATH" "$out" $'\nPATH=/usr/bin:/bin'
check_fails "AGENTCAGE_* variables of the caller are dropped" grep -q '^AGENTCAGE_SECRET=' <<< "$out"
check_fails "LD_PRELOAD of the caller is dropped" grep -q '^LD_PRELOAD=' <<< "$out"
check_fails "the caller's ssh-agent socket is not handed in" grep -q '^SSH_AUTH_SOCK=' <<< "$out"
expect_contains "AGENTCAGE_SANDBOX names the sandbox" "$out" "AGENTCAGE_SANDBOX=$SB_NAME"
out=$(sb_run -- /usr/bin/env 2>&1)
expect_contains "default PATH" "$out" $'\nPATH=/usr/local/bin:/usr/bin:/bin'
out=$(sb_run --env 1BAD=x -- true 2>&1); rc=$?
check "--env with an invalid key is refused" test "$rc" -ne 0
expect_contains "--env error names the entry" "$out" "1BAD=x"
out=$(sb_run -- pwd 2>/dev/null)
expect_eq "cwd is the workdir" "$out" "$SB_WORK"

# --- PTY (script(1) gives agentcage a terminal) ---
if command -v script >/dev/null; then
	out=$(script -qec "$AGENTCAGE run --name $SB_NAME --workdir $SB_WORK --log $SB_LOG ${SB_ENV[*]} -- sh -c 'test -t 0 && test -t 1 && echo TTY-OK; echo TERM=\$TERM'" /dev/null 2>&1)
	expect_contains "interactive run gets a PTY" "$out" "TTY-OK"
	out=$(/usr/bin/python3 "$(dirname "$0")/../helpers/sandbox_pty.py" "$AGENTCAGE" "$SB_NAME" "$SB_WORK" "$SB_LOG" 2>&1)
	expect_contains "Ctrl-C reaches the command's foreground job, not agentcage" "$out" "INTR-SEEN rc=7"
else
	skip "script(1) not installed: PTY cases not run"
	skip "script(1) not installed: PTY cases not run"
fi
out=$(sb_run < /dev/null 2>&1); rc=$?
check "no command and no terminal is refused" test "$rc" -ne 0
expect_contains "no command: says how" "$out" "agentcage run -- COMMAND"

# --- Landlock compatibility modes (policy file with a missing path) ---
pol=$SB_WORK.policy.yaml; SB_EXTRA_CLEAN+=("$pol")
mkpol() { # mkpol COMPAT
	cat > "$pol" <<YAML
version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr, /lib, /lib64, /etc, /proc, /dev/urandom, /nonexistent-agentcage-path]
  read_write: [/sandbox, /tmp, /dev/null]
landlock:
  compatibility: $1
process:
  run_as_user: sandbox
  run_as_group: sandbox
YAML
}
mkpol hard_requirement
out=$(sb_run --policy "$pol" -- sh -c 'echo STARTED' 2>&1); rc=$?
check "hard_requirement + missing path refuses to start" test "$rc" -ne 0
check_fails "hard_requirement: the command never ran" grep -q STARTED <<< "$out"
expect_contains "hard_requirement: message names the path" "$out" "/nonexistent-agentcage-path"
mkpol best_effort
out=$(sb_run --policy "$pol" -- sh -c 'echo STARTED' 2>&1); rc=$?
expect_eq "best_effort + missing path starts" "$rc" 0
expect_contains "best_effort: the command ran" "$out" "STARTED"
expect_contains "best_effort: warning names the path" "$out" "/nonexistent-agentcage-path"

# A symlink the sandbox plants in its persistent home must not move a rule of the next
# run onto the host (rules are opened as root): only root-owned links are followed.
cat > "$pol" <<YAML
version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr, /lib, /lib64, /etc, /proc, /dev/urandom]
  read_write: [/sandbox, /tmp, /dev/null, /sandbox/.agentcage-link]
landlock:
  compatibility: best_effort
process:
  run_as_user: sandbox
  run_as_group: sandbox
YAML
sb_run --policy "$pol" -- sh -c 'rm -rf /sandbox/.agentcage-link; ln -s /var /sandbox/.agentcage-link' >/dev/null 2>&1
out=$(sb_run --policy "$pol" -- sh -c 'echo x > /var/tmp/agentcage-escape-$$ && echo WROTE' 2>&1)
check_fails "a sandbox-planted symlink does not extend a rule to the host" grep -q WROTE <<< "$out"
check_fails "nothing was written through it" sh -c 'ls /var/tmp/agentcage-escape-* >/dev/null 2>&1'
expect_contains "the planted link is skipped with its reason" "$out" "not owned by root"
rm -f /var/tmp/agentcage-escape-*
sb_run -- rm -f /sandbox/.agentcage-link >/dev/null 2>&1

done_testing
