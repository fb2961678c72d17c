#!/usr/bin/python3
# sandbox_pty.py AGENTCAGE NAME WORKDIR LOG: runs agentcage on a PTY, waits for the command's
# READY line, types Ctrl-C and prints "INTR-SEEN rc=N" when the command's SIGINT trap ran
# and agentcage exited with N. Event driven: reads until the expected output, no sleeps.
import os, sys

agentcage, name, workdir, log = sys.argv[1:5]
script = 'trap "echo INTR-TRAP; exit 7" INT; echo READY; while :; do sleep 1; done'
pid, fd = os.forkpty()
if pid == 0:
    os.execv(agentcage, [agentcage, "run", "--name", name, "--workdir", workdir, "--log", log,
                         "--env", "ASAN_OPTIONS=detect_leaks=0", "--", "/bin/sh", "-c", script])
buf = b""
sent = False
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    buf += data
    if not sent and b"READY" in buf:
        os.write(fd, b"\x03")
        sent = True
_, status = os.waitpid(pid, 0)
rc = os.waitstatus_to_exitcode(status)
print(("INTR-SEEN" if b"INTR-TRAP" in buf else "NO-TRAP") + " rc=%d" % rc)
print(buf.decode(errors="replace"), file=sys.stderr)
