#!/bin/bash
# sandbox_confine: what the sandboxed command may and may not do on the default policy
# (issue 3 tests, spec/process.md §8.1 e2e cases). Runs as root against the real kernel.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/sandbox_lib.sh"

if [ "$(id -u)" != 0 ]; then skip "needs root (namespaces, mounts)"; done_testing; exit; fi

uid=$(id -u sandbox) gid=$(id -g sandbox)
expect_eq "id -u is the sandbox user" "$(sb_run -- id -u)" "$uid"
expect_eq "id -g is the sandbox group" "$(sb_run -- id -g)" "$gid"
expect_eq "no supplementary group besides its own" "$(sb_run -- id -G)" "$gid"
expect_eq "real and effective ids equal" "$(sb_run -- ./probe ids)" "$uid $uid $gid $gid"

out=$(sb_sh 'echo x > /usr/agentcage-t; echo x > /etc/agentcage-t; echo x > /agentcage-t')
# read_only paths are read-only mounts (EROFS) with Landlock behind them.
expect_contains "write to /usr refused" "$out" "/usr/agentcage-t: Read-only file system"
expect_contains "write to /etc refused" "$out" "/etc/agentcage-t: Read-only file system"
check "write to / refused (read-only root)" grep -Eq "/agentcage-t: (Read-only file system|Permission denied)" <<< "$out"
check_fails "nothing was created on the host" test -e /usr/agentcage-t -o -e /etc/agentcage-t

expect_eq "write to the workdir works" "$(sb_sh 'echo w > wfile && cat wfile')" "w"
expect_eq "workdir file is on the host" "$(cat "$SB_WORK/wfile" 2>&1)" "w"
expect_eq "write to /tmp works" "$(sb_sh 'echo t > /tmp/t && cat /tmp/t')" "t"
expect_eq "write to /sandbox works" "$(sb_sh 'echo s > /sandbox/s && cat /sandbox/s')" "s"
expect_eq "HOME is /sandbox and persists" "$(sb_sh 'cat $HOME/s')" "s"

out=$(sb_sh 'truncate -s 0 /etc/hostname; echo rc=$?')
expect_contains "truncating a read-only file fails" "$out" "rc=1"
out=$(sb_sh 'ls /root; echo rc=$?')
expect_contains "reading /root fails: not listed, so not in the view" "$out" "No such file or directory"

expect_eq "mount fails with EPERM" "$(sb_run -- ./probe mount)" "EPERM"
expect_eq "unshare(CLONE_NEWUSER) fails with EPERM" "$(sb_run -- ./probe unshare-user)" "EPERM"
expect_eq "clone(CLONE_NEWUSER) fails with EPERM" "$(sb_run -- ./probe clone-user)" "EPERM"
out=$(sb_sh 'unshare -U true; echo rc=$?')
expect_contains "unshare -U fails" "$out" "rc=1"
expect_eq "ptrace attach fails with EPERM" "$(sb_run -- ./probe ptrace-child)" "EPERM"
expect_eq "AF_PACKET socket fails with EPERM" "$(sb_run -- ./probe socket 17 3 0)" "EPERM"
expect_eq "netlink audit socket fails with EPERM" "$(sb_run -- ./probe socket 16 3 9)" "EPERM"
expect_eq "AF_VSOCK socket fails with EPERM" "$(sb_run -- ./probe socket 40 1 0)" "EPERM"
expect_eq "NETLINK_ROUTE stays allowed (getifaddrs)" "$(sb_run -- ./probe socket 16 3 0)" "ok"
expect_eq "init (pid 1) cannot be signalled" "$(sb_run -- ./probe kill 1 15)" "EPERM"

cp "$SB_WORK/probe" "$SB_WORK/suid" && chown root:root "$SB_WORK/suid" && chmod 4755 "$SB_WORK/suid"
expect_eq "setuid-root binary gains nothing" "$(sb_run -- ./suid ids)" "$uid $uid $gid $gid"

expect_eq "connect to 1.1.1.1:80 is unreachable" "$(sb_run -- ./probe connect 1.1.1.1 80)" "ENETUNREACH"
expect_eq "connect to [2606::1]:80 is unreachable" "$(sb_run -- ./probe connect 2606::1 80)" "ENETUNREACH"
out=$(sb_run -- /usr/bin/python3 -c '
import socket
for a in (("1.1.1.1", 80), ("2606::1", 80)):
    s = socket.socket(socket.AF_INET6 if ":" in a[0] else socket.AF_INET)
    try: s.connect(a)
    except OSError as e: print(e.strerror)' 2>/dev/null)
expect_eq "python3 connect fails with Network is unreachable" "$out" "Network is unreachable
Network is unreachable"
expect_eq "only lo in the network namespace" "$(sb_sh 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "')" "lo"

expect_eq "hostname is the sandbox name" "$(sb_run -- hostname)" "$SB_NAME"
out=$(sb_sh 'for p in /proc/[0-9]*; do echo ${p#/proc/}; done | sort -n | head -1')
expect_eq "/proc is the sandbox's own (pid 1 is init)" "$out" "1"
out=$(sb_sh 'ls -d /proc/[0-9]* | wc -l')
check "/proc shows only sandbox pids (few)" test "$out" -lt 10
marker=agentcage-private-$$
sb_sh "echo x > /tmp/$marker" >/dev/null
check_fails "/tmp is private (file not on the host)" test -e "/tmp/$marker"
check_fails "/sandbox was not created on the host" test -e /sandbox

# Host service sockets live in /run; Landlock does not govern connect(2) on them, so the
# sandbox must not see the host's /run at all.
sock=/run/agentcage-t$$.sock
coproc LISTENER { exec python3 -c 'import socket,os,sys
s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777); s.listen(1)
print("ready", flush=True); s.settimeout(20)
try: s.accept()
except OSError: pass' "$sock"; }
lpid=$LISTENER_PID
read -r -t 10 _ <&"${LISTENER[0]}"
out=$(sb_run -- python3 -c 'import socket,sys
try:
    socket.socket(socket.AF_UNIX).connect(sys.argv[1]); print("connected")
except OSError as e: print(e.strerror)' "$sock")
kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null; rm -f "$sock"
expect_eq "a host service socket in /run is not reachable" "$out" "No such file or directory"

# include_workdir must not turn a system directory (or /) into a writable one.
for wd in / /dev /var/lib/agentcage; do
	out=$("$AGENTCAGE" run --name "$SB_NAME" --workdir "$wd" --log "$SB_LOG" -- true 2>&1); rc=$?
	expect_contains "workdir $wd is refused (rc=$rc)" "$rc $out" "1 agentcage: run: workdir $wd: the policy's include_workdir would make"
done

done_testing
