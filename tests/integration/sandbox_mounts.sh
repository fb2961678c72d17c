#!/bin/bash
# sandbox_mounts: the listed_only filesystem view through `agentcage run` on the default
# policy (src/sandbox/mounts.h): only what the policy lists is there, each listed path with
# its access; the sandbox's own /proc, /tmp, /run, /sandbox and a small /dev. Includes the
# escape it closes: a host service socket in an unlisted directory (/var/tmp) is not
# reachable (tests/escape/README.md, finding 1). Runs as root against the real kernel.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/sandbox_lib.sh"

if [ "$(id -u)" != 0 ]; then skip "needs root (namespaces, mounts)"; done_testing; exit; fi


expect_eq "unlisted /var/lib is absent" "$(sb_sh 'test -e /var/lib; echo $?')" "1"
expect_eq "unlisted /home is absent" "$(sb_sh 'test -e /home; echo $?')" "1"
expect_eq "unlisted /sys is absent" "$(sb_sh 'test -e /sys; echo $?')" "1"
expect_eq "listed /var/log is there" "$(sb_sh 'test -d /var/log; echo $?')" "0"
expect_eq "/bin/sh runs through the /bin -> usr/bin link" "$(sb_run -- /bin/sh -c 'echo sh-ok')" "sh-ok"
out=$(sb_sh 'echo x > /usr/agentcage-t; echo x > /agentcage-t')
expect_contains "write to read-only /usr: EROFS" "$out" "/usr/agentcage-t: Read-only file system"
expect_contains "write to /: EROFS" "$out" "/agentcage-t: Read-only file system"
check_fails "nothing was created on the host" test -e /usr/agentcage-t -o -e /agentcage-t
expect_eq "/usr is nosuid,nodev,ro" \
	"$(sb_run -- python3 -c 'import os; f=os.statvfs("/usr").f_flag; print(bool(f & os.ST_RDONLY), bool(f & os.ST_NOSUID), bool(f & os.ST_NODEV))')" \
	"True True True"
expect_eq "/dev/null writable" "$(sb_sh 'echo x > /dev/null && echo ok')" "ok"
expect_eq "/dev/urandom readable, on a read-only mount" \
	"$(sb_run -- python3 -c 'import os; print(len(open("/dev/urandom","rb").read(8)), bool(os.statvfs("/dev/urandom").f_flag & os.ST_RDONLY))')" \
	"8 True"
# /dev itself is not in the default policy: Landlock hides it; this policy lists it.
DEVPOL=$TOP/tests/policies/sandbox_mounts/dev.yaml
expect_eq "/dev holds only the sandbox's nodes" \
	"$(sb_run --policy "$DEVPOL" -- /bin/sh -c 'ls /dev | tr "\n" " "' 2>/dev/null)" "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero "
expect_eq "/proc is the sandbox's (pid 1 is init)" "$(sb_sh 'cat /proc/1/comm')" "agentcage"
expect_eq "a PTY can be opened (/dev/pts new instance)" \
	"$(sb_run --policy "$DEVPOL" -- python3 -c 'import os, pty; m, s = pty.openpty(); print(os.ttyname(s).startswith("/dev/pts/"))' 2>/dev/null)" "True"
expect_eq "/dev/shm writable" \
	"$(sb_run --policy "$DEVPOL" -- /bin/sh -c 'echo s > /dev/shm/t && cat /dev/shm/t' 2>&1)" "s"
expect_contains "without /dev listed, Landlock still hides the rest of it" \
	"$(sb_sh 'ls /dev')" "Permission denied"
expect_eq "workdir writable" "$(sb_sh 'echo w > wfile && cat wfile')" "w"
expect_eq "/tmp writable" "$(sb_sh 'echo t > /tmp/t && cat /tmp/t')" "t"
expect_eq "/sandbox writable" "$(sb_sh 'echo s > /sandbox/s && cat /sandbox/s')" "s"

# The escape: a host service listening in a directory the policy does not list.
sock=/var/tmp/agentcage-mounts-t$$.sock
SB_EXTRA_CLEAN+=("$sock")
coproc LISTENER { exec python3 -c 'import socket,os,sys
s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777); s.listen(1)
print("ready", flush=True); s.settimeout(20)
try: s.accept(); print("accepted", flush=True)
except OSError: pass' "$sock"; }
lpid=$LISTENER_PID
read -r -t 10 _ <&"${LISTENER[0]}"
out=$(sb_run -- python3 -c 'import socket,sys
try:
    socket.socket(socket.AF_UNIX).connect(sys.argv[1]); print("connected")
except OSError as e: print(e.strerror)' "$sock" 2>/dev/null)
kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null; rm -f "$sock"
expect_eq "a host service socket in /var/tmp is not reachable" "$out" "No such file or directory"

done_testing
