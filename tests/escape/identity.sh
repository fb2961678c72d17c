#!/bin/bash
# Escape suite, group "identity" (issue 7; list and reasons in tests/escape/README.md):
# can a binary the policy does not list borrow the network rights of one it does? The
# policy is the default policy's filesystem and process sections plus one block: curl,
# python3.11 and the (writable) /sandbox/bin/tool may reach the lab's files.test:80. The
# probe (tests/helpers/escape_probe.c) is the unlisted binary. All attempts run in ONE
# sandbox, so trust-on-first-use pins carry from one attempt to the next. Refusals must
# be logged: a net line "decision":"deny" naming the real binary, and a DENIED line.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/sandbox_lib.sh"
. "$(dirname "$0")/../netlab.sh"

if [ "$(id -u)" != 0 ]; then skip "needs root (namespaces, veth)"; done_testing; exit; fi
if [ ! -x /usr/bin/curl ] || [ ! -x /usr/bin/python3.11 ]; then
	skip "needs /usr/bin/curl and /usr/bin/python3.11 (the listed binaries)"; done_testing; exit
fi
. "$(dirname "$0")/attempts.bash"
NETSRV=${AGENTCAGE_BUILD:-$(dirname "$AGENTCAGE")}/tests/helpers/netsrv
POL=$SB_WORK.policy.yaml HOSTS=$SB_WORK.hosts
SB_EXTRA_CLEAN+=("$POL" "$HOSTS")

netlab_up || { echo "Bail out! netlab_up failed"; exit 1; }
netlab_serve_files "$NETSRV" || { echo "Bail out! lab servers did not start"; exit 1; }
A=$NETLAB_IP_A
printf '%s files.test other.test\n' "$A" >"$HOSTS"
cat >"$POL" <<PEOF
version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr, /lib, /proc, /dev/urandom, /app, /etc, /var/log]
  read_write: [/sandbox, /tmp, /dev/null]
landlock:
  compatibility: best_effort
process:
  run_as_user: sandbox
  run_as_group: sandbox
network_policies:
  lab:
    name: lab
    endpoints:
      - { host: files.test, port: 80, allowed_ips: [10.213.0.0/24] }
    binaries:
      - { path: /usr/bin/curl }
      - { path: /usr/bin/python3.11 }
      - { path: /sandbox/bin/tool }
PEOF

# The python side of the socket hand-overs (escape_probe fdpass), and of fork/exec after
# connect. fd 3 is the socketpair to the probe. Prints answers as the probe does.
cat >"$SB_WORK/hand.py" <<'PYEOF'
import os, socket, sys

def answer(s):
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    if not data:
        return "closed"
    head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
    status = head.split(" ")[1]
    if '"error":"' in body:
        return status + " " + body.split('"error":"')[1].split('"')[0]
    return status + " " + body.splitlines()[0] if body else status

def unescape(r):
    return r.replace("\\r", "\r").replace("\\n", "\n").encode()

mode, req = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
esc = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "esc")
if mode in ("to-denied", "tunnel-handoff"):
    s = socket.create_connection(("127.0.0.1", 3128))
    if mode == "tunnel-handoff":
        s.sendall(b"CONNECT files.test:80 HTTP/1.1\r\nHost: files.test:80\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(1)
        if b" 200 " not in head.split(b"\r\n")[0]:
            print("tunnel refused:", head.split(b"\r\n")[0].decode())
            sys.exit(1)
    socket.send_fds(socket.socket(fileno=3), [b"F"], [s.fileno()])
elif mode in ("from-kept", "from-closed"):
    _, fds, _, _ = socket.recv_fds(socket.socket(fileno=3), 1, 1)
    s = socket.socket(fileno=fds[0])
    s.sendall(unescape(req))
    print(answer(s))
elif mode == "fork-two":
    # python3 connects, hands the socket to two children (tail, which only holds it, and
    # the probe, which sends the request) and lets go of it before the request is sent:
    # the connector is out, the holders disagree.
    s = socket.create_connection(("127.0.0.1", 3128))
    os.dup2(s.fileno(), 9)
    s.close()
    holder = os.fork()
    if holder == 0:
        os.execv("/usr/bin/tail", ["tail", "-f", "/dev/null"])
    while not os.readlink(f"/proc/{holder}/exe").endswith("/tail"):
        os.sched_yield()  # until tail has exec'd (an event the kernel shows in /proc)
    r, w = os.pipe()
    sender = os.fork()
    if sender == 0:
        os.close(w)
        os.read(r, 1)  # the parent has let go of the socket
        os.execv(esc, [esc, "sendreq", "9", req])
    os.close(r)
    os.close(9)
    os.write(w, b"x")
    os.waitpid(sender, 0)
    os.kill(holder, 9)
    os.waitpid(holder, 0)
elif mode in ("exec-after-connect", "fork-kept", "fork-closed"):
    s = socket.create_connection(("127.0.0.1", 3128))
    os.dup2(s.fileno(), 9)  # inheritable, unlike s itself
    s.close()
    if mode == "exec-after-connect":
        os.execv(esc, [esc, "sendreq", "9", req])
    pid = os.fork()
    if pid == 0:
        os.execv(esc, [esc, "sendreq", "9", req])
    if mode == "fork-closed":
        os.close(9)
    os.waitpid(pid, 0)
elif mode == "get":
    s = socket.create_connection(("127.0.0.1", 3128))
    s.sendall(unescape(req))
    print(answer(s))
PYEOF
printf '#!/usr/bin/python3\nimport sys, runpy\nsys.argv = ["hand.py", "get", sys.argv[1]]\nrunpy.run_path("%s/hand.py", run_name="__main__")\n' \
	"$SB_WORK" >"$SB_WORK/shebang.py"
chmod 0755 "$SB_WORK/shebang.py"

GET='GET http://files.test/hello HTTP/1.1\r\nHost: files.test\r\n\r\n'
GET_OTHER='GET http://other.test/hello HTTP/1.1\r\nHost: other.test\r\n\r\n'
TUN_GET='GET /hello HTTP/1.1\r\nHost: files.test\r\nConnection: close\r\n\r\n'
PY=/usr/bin/python3.11
code() { printf '%s' "/usr/bin/curl -sS -o /dev/null -w %{http_code} -x http://127.0.0.1:3128 http://files.test/hello"; }
declare -A LOGBIN=() # attempt id -> the binary its deny line must name

attempt i.control_curl "hello from $A" "control: curl (listed) GET http://files.test/hello: allowed" -- curl -sS http://files.test/hello
attempt i.control_probe "403 policy_denied" "control: the probe (unlisted) GET http://files.test/hello: 403" -- "$ESC" proxy 127.0.0.1 3128 "$GET"
LOGBIN[i.control_probe]=$ESC
attempt i.copy_tmp 403 "copy of curl at /tmp/curl2: 403 (identity is the file the kernel runs)" -- sh -c "cp /usr/bin/curl /tmp/curl2 && $(code | sed 's|^/usr/bin/curl|/tmp/curl2|')"
LOGBIN[i.copy_tmp]=/tmp/curl2
attempt i.copy_home 403 "copy of curl in the home, /sandbox/curl: 403" -- sh -c "cp /usr/bin/curl /sandbox/curl && $(code | sed 's|^/usr/bin/curl|/sandbox/curl|')"
LOGBIN[i.copy_home]=/sandbox/curl
attempt i.hardlink_tmp EXDEV "hard link of /usr/bin/curl into /tmp: EXDEV (read-only bind, other mount)" -- "$ESC" link /usr/bin/curl /tmp/curl-hl
attempt i.hardlink_workdir EXDEV "hard link of /usr/bin/curl into the workdir: EXDEV" -- "$ESC" link /usr/bin/curl "$SB_WORK/curl-hl"
attempt i.argv0 "403 policy_denied" "the probe exec'd with argv[0] /usr/bin/curl: 403 (cmdline never grants)" -- bash -c 'exec -a /usr/bin/curl "$0" proxy 127.0.0.1 3128 "$1"' "$ESC" "$GET"
attempt i.symlink_listed_path "200 hello from $A" "documented: the listed /sandbox/bin/tool (a path the sandbox can write) made a symlink to the probe: a listed symlink matches what it names, as a copy there would: 200 (docs/policy.md)" -- sh -c 'mkdir -p /sandbox/bin && ln -sf "$0" /sandbox/bin/tool && /sandbox/bin/tool proxy 127.0.0.1 3128 "$1"; rm -f /sandbox/bin/tool' "$ESC" "$GET"
attempt i.rename_over "first=200 second=403" "listed /sandbox/bin/tool pinned (curl), then another file renamed over it: 403 (TOFU)" -- sh -c "mkdir -p /sandbox/bin && cp /usr/bin/curl /sandbox/bin/tool && a=\$($(code | sed 's|^/usr/bin/curl|/sandbox/bin/tool|')); { cat /usr/bin/curl; echo x; } >/sandbox/bin/tool.new && chmod 755 /sandbox/bin/tool.new && mv /sandbox/bin/tool.new /sandbox/bin/tool && b=\$($(code | sed 's|^/usr/bin/curl|/sandbox/bin/tool|')); echo first=\$a second=\$b"
LOGBIN[i.rename_over]=/sandbox/bin/tool
attempt i.proc_self_fd_deleted 403 "exec /proc/self/fd/N of a deleted copy of curl: 403 (exe is the copy, \"(deleted)\")" -- bash -c "cp /usr/bin/curl /tmp/curl3 && exec 3</tmp/curl3 && rm /tmp/curl3 && $(code | sed 's|^/usr/bin/curl|/proc/self/fd/3|')"
LOGBIN[i.proc_self_fd_deleted]=/tmp/curl3
attempt i.fexecve EPERM "execveat(fd, \"\", AT_EMPTY_PATH) (fexecve of an open file): EPERM" -- "$ESC" sys execveat-empty
attempt i.memfd EPERM "memfd_create (fileless exec): EPERM" -- "$ESC" sys memfd_create
attempt i.shebang_other_host "403 policy_denied" "script with #!/usr/bin/python3 (listed interpreter) to other.test: 403" -- "$SB_WORK/shebang.py" "$GET_OTHER"
LOGBIN[i.shebang_other_host]=/usr/bin/python3.11
attempt i.shebang_allowed "200 hello from $A" "documented: the same script to files.test runs AS python3.11 and gets its rights: 200" -- "$SB_WORK/shebang.py" "$GET"
attempt i.exec_after_connect "403 policy_denied" "python3 connects, then execs the probe, which sends the request: 403 (identity at the request)" -- "$PY" "$SB_WORK/hand.py" exec-after-connect "$GET"
LOGBIN[i.exec_after_connect]=$ESC
attempt i.fork_kept "200 hello from $A" "documented: python3 connects and forks, its child execs the probe and sends; python3 still holds the socket, so it (the connector) is the caller: 200" -- "$PY" "$SB_WORK/hand.py" fork-kept "$GET"
attempt i.fork_two "403 policy_denied" "python3 connects, hands the socket to the probe and to tail, and lets go of it: the holders disagree: 403 (ambiguous)" -- "$PY" "$SB_WORK/hand.py" fork-two "$GET"
attempt i.fork_closed "200 hello from $A" "documented: as above but python3 closes its copy: 200 (the probe's ancestor python3 is listed)" -- "$PY" "$SB_WORK/hand.py" fork-closed "$GET"
attempt i.scm_to_denied "403 policy_denied" "python3 connects and passes the socket (SCM_RIGHTS) to the probe, then exits: 403" -- "$ESC" fdpass to-denied "$PY" "$SB_WORK/hand.py" "$GET"
LOGBIN[i.scm_to_denied]=$ESC
attempt i.scm_from_denied_kept "403 policy_denied" "the probe connects, passes the socket to python3 and keeps a copy: 403 (ambiguous)" -- "$ESC" fdpass from-kept "$PY" "$SB_WORK/hand.py" "$GET"
attempt i.scm_from_denied_closed "200 hello from $A" "documented: the probe passes its socket to python3 and closes it: 200 (python3 alone holds it)" -- "$ESC" fdpass from-closed "$PY" "$SB_WORK/hand.py" "$GET"
attempt i.scm_tunnel_handoff "200 hello from $A" "documented: python3 opens an allowed CONNECT tunnel and passes it to the probe, which uses it: the tunnel is python3's (what python3 may reach, it could relay anyway): 200" -- "$ESC" fdpass tunnel-handoff "$PY" "$SB_WORK/hand.py" "$TUN_GET"

: >"$SB_LOG"
esc_run "$AGENTCAGE" run --name "$SB_NAME" --workdir "$SB_WORK" --log "$SB_LOG" "${SB_ENV[@]}" \
	--policy "$POL" --hosts "$HOSTS"
esc_check

net=$(/usr/bin/python3 - "$SB_LOG" <<'PYEOF'
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("event") == "net":
        print(d.get("decision"), d.get("binary"), d.get("host"), d.get("port"))
PYEOF
)
for id in $(printf '%s\n' "${!LOGBIN[@]}" | sort); do
	expect_contains "$id is logged: net deny line naming ${LOGBIN[$id]}" "$net" "deny ${LOGBIN[$id]} "
	check "$id is logged: DENIED line naming ${LOGBIN[$id]}" grep -qF "DENIED ${LOGBIN[$id]} (pid " "$ESC_ERR"
done
check "ambiguous owners are logged with the reason" grep -q "ambiguous shared socket ownership" "$ESC_ERR"
check "the replaced /sandbox/bin/tool is logged as changed" grep -Eq "DENIED /sandbox/bin/tool .*(changed|integrity)" "$ESC_ERR"
check "netlab_down: servers stopped, namespace and veth gone" netlab_down
done_testing
