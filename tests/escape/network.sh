#!/bin/bash
# Escape suite, group "network" (issue 7; list and reasons in tests/escape/README.md).
# Every attempt runs inside ONE sandbox, made by the probe (tests/helpers/escape_probe.c)
# or a stock tool. The policy is the default policy's filesystem and process sections
# plus one block that lets the probe itself reach the lab's files.test:80, so that each
# proxy refusal below is about the destination and not about an unknown caller (the
# control attempt proves the probe is let through to an allowed destination).
# Targets: the lab (tests/netlab.sh), loopback, and addresses no packet can reach from
# the sandbox's namespace (it has no route). Proxy refusals must also be logged: a net
# line with "decision":"deny" in the --log file and a DENIED line on agentcage's stderr.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/sandbox_lib.sh"
. "$(dirname "$0")/../netlab.sh"

if [ "$(id -u)" != 0 ]; then skip "needs root (namespaces, veth)"; done_testing; exit; fi
. "$(dirname "$0")/attempts.bash"
NETSRV=${AGENTCAGE_BUILD:-$(dirname "$AGENTCAGE")}/tests/helpers/netsrv
POL=$SB_WORK.policy.yaml HOSTS=$SB_WORK.hosts
SB_EXTRA_CLEAN+=("$POL" "$HOSTS")

netlab_up || { echo "Bail out! netlab_up failed"; exit 1; }
netlab_serve_files "$NETSRV" || { echo "Bail out! lab servers did not start"; exit 1; }

# Host-side listeners the sandbox must not reach: a TCP canary on the host's loopback
# (where the proxy's own connections would land), a unix socket in the host's /tmp, one
# in the host's world-writable /var/tmp (0777, like a careless service), and an abstract
# one. It answers every connection with an HTTP 200 "canary" and counts them, per
# listener in that order ("hits TCP TMP VARTMP ABSTRACT" when told to stop).
ESC_HOST_SOCK=/tmp/agentcage-esc-$$.sock ESC_VARTMP_SOCK=/var/tmp/agentcage-esc-$$.sock
ESC_ABSTRACT=agentcage-esc-$$
SB_EXTRA_CLEAN+=("$ESC_HOST_SOCK" "$ESC_VARTMP_SOCK")
coproc CANARY { exec /usr/bin/python3 -c '
import os, selectors, socket, sys
sel = selectors.DefaultSelector()
tcp = socket.socket(); tcp.bind(("127.0.0.1", 0)); tcp.listen(64)
socks = [tcp]
for p in sys.argv[1:]:
    u = socket.socket(socket.AF_UNIX)
    u.bind(p.replace("@", "\0", 1))
    if not p.startswith("@"):
        os.chmod(p, 0o777)
    u.listen(64)
    socks.append(u)
for s in socks:
    sel.register(s, selectors.EVENT_READ)
sel.register(sys.stdin, selectors.EVENT_READ)
print("ready", tcp.getsockname()[1], flush=True)
hits = {s: 0 for s in socks}
while True:
    for key, _ in sel.select():
        if key.fileobj is sys.stdin:
            print("hits", *(hits[s] for s in socks), flush=True)
            sys.exit(0)
        c, _ = key.fileobj.accept()
        hits[key.fileobj] += 1
        try:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\ncanary\n")
        except OSError:
            pass
        c.close()
' "$ESC_HOST_SOCK" "$ESC_VARTMP_SOCK" "@$ESC_ABSTRACT"; }
canary_pid=$CANARY_PID
canary_in=${CANARY[1]} canary_out=${CANARY[0]}
stop_canary() { kill "$canary_pid" 2>/dev/null; wait "$canary_pid" 2>/dev/null; }
read -r -t 20 word CPORT <&"$canary_out"
[ "$word" = ready ] || { echo "Bail out! host canary did not start"; stop_canary; exit 1; }

A=$NETLAB_IP_A
cat >"$HOSTS" <<HEOF
$A files.test other.test
$NETLAB_IP_B priv.test
127.0.0.1 loop.test loopips.test
169.254.169.254 meta.test
HEOF
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
  escape_probe:
    name: escape-probe
    endpoints:
      - { host: files.test, port: 80, allowed_ips: [10.213.0.0/24] }
      - { host: loop.test, port: $CPORT }
      - { host: loopips.test, port: $CPORT, allowed_ips: [127.0.0.1/32] }
      - { host: meta.test, port: 80 }
      - { host: priv.test, port: 80 }
      - { host: 127.0.0.1, port: $CPORT }
      # hostless: ANY host on the canary's port, so that every spelling of 127.0.0.1
      # below passes the policy and meets the address rules
      - { port: $CPORT, allowed_ips: [10.213.0.0/24] }
    binaries:
      - { path: $ESC }
PEOF
host_global=$(ip -4 -o addr show scope global | awk '$4 !~ /^10\.213\./ { sub(/\/.*/, "", $4); print $4; exit }')
resolver=$(awk '$1 == "nameserver" && $2 ~ /^[0-9.]+$/ { print $2; exit }' /etc/resolv.conf)
case "$resolver" in 127.*) resolver_want=ECONNREFUSED;; *) resolver_want=ENETUNREACH;; esac

# proxy REQUEST-LINE [HOST-HEADER]: the probe's request to the proxy on 127.0.0.1:3128.
P() { "$ESC" proxy 127.0.0.1 3128 "$1\\r\\nHost: ${2:-x}\\r\\n\\r\\n"; }
esc_define P
declare -A LOGGED=() # attempt id -> "host port" of the deny line it must leave

# --- direct connections: no route out of the sandbox's namespace ---
attempt n.tcp4_lab ENETUNREACH "TCP to the lab server $A:80: ENETUNREACH" -- "$ESC" connect "$A" 80
attempt n.tcp4_host_veth ENETUNREACH "TCP to the host's lab-side address $NETLAB_HOST_IP:22: ENETUNREACH" -- "$ESC" connect "$NETLAB_HOST_IP" 22
if [ -n "$host_global" ]; then
	attempt n.tcp4_host_global ENETUNREACH "TCP to the host's own address $host_global:22: ENETUNREACH" -- "$ESC" connect "$host_global" 22
else
	skip "n.tcp4_host_global: the host has no global IPv4 address"
fi
attempt n.tcp4_loop_canary ECONNREFUSED "TCP to 127.0.0.1:$CPORT (the host's canary port): ECONNREFUSED, the sandbox's lo is its own" -- "$ESC" connect 127.0.0.1 "$CPORT"
attempt n.tcp6_loop_canary ECONNREFUSED "TCP to [::1]:$CPORT: ECONNREFUSED" -- "$ESC" connect ::1 "$CPORT"
attempt n.tcp6_global ENETUNREACH "TCP to [2001:db8::1]:80: ENETUNREACH" -- "$ESC" connect 2001:db8::1 80
attempt n.tcp6_mapped ENETUNREACH "TCP to [::ffff:$A]:80 (IPv4-mapped): ENETUNREACH" -- "$ESC" connect "::ffff:$A" 80
attempt n.dns_lab ENETUNREACH "DNS query over UDP to $A:53: ENETUNREACH" -- "$ESC" dns "$A"
attempt n.dns_ipv6 ENETUNREACH "DNS query over UDP to [2001:db8::53]:53: ENETUNREACH" -- "$ESC" dns 2001:db8::53
attempt n.dns_stub ECONNREFUSED "DNS query to 127.0.0.53 (a host stub resolver's address): ECONNREFUSED" -- "$ESC" dns 127.0.0.53
if [ -n "$resolver" ]; then
	attempt n.dns_resolver "$resolver_want" "DNS query to the host's resolver $resolver: $resolver_want" -- "$ESC" dns "$resolver"
else
	skip "n.dns_resolver: no IPv4 nameserver in /etc/resolv.conf"
fi
attempt n.getent rc=2 "getent hosts files.test (name only the proxy knows): not found" -- sh -c 'getent hosts files.test; echo rc=$?'
# --- raw, ICMP, packet and netlink sockets ---
attempt n.icmp_raw EPERM "raw ICMP socket: EPERM (no CAP_NET_RAW)" -- "$ESC" socket 2 3 1
attempt n.icmp6_raw EPERM "raw ICMPv6 socket: EPERM" -- "$ESC" socket 10 3 58
attempt n.raw_tcp EPERM "raw IPPROTO_TCP socket (forged packets): EPERM" -- "$ESC" socket 2 3 6
attempt n.ping_dgram EACCES "unprivileged ICMP echo to $A: EACCES (ping_group_range)" -- "$ESC" ping "$A"
attempt n.packet_raw EPERM "AF_PACKET SOCK_RAW: EPERM (seccomp)" -- "$ESC" socket 17 3 0
attempt n.packet_dgram EPERM "AF_PACKET SOCK_DGRAM: EPERM" -- "$ESC" socket 17 2 0
attempt n.netlink_diag EPERM "NETLINK_SOCK_DIAG (other processes' sockets): EPERM" -- "$ESC" socket 16 3 4
attempt n.netlink_netfilter EPERM "NETLINK_NETFILTER: EPERM" -- "$ESC" socket 16 3 12
attempt n.netlink_uevent EPERM "NETLINK_KOBJECT_UEVENT: EPERM" -- "$ESC" socket 16 3 15
attempt n.netlink_generic EPERM "NETLINK_GENERIC (wireguard, nl80211...): EPERM" -- "$ESC" socket 16 3 16
attempt n.route_addr "RTNETLINK answers: Operation not permitted" "NETLINK_ROUTE: add an address to lo: refused" -- ip addr add 10.99.0.1/32 dev lo
attempt n.route_link "RTNETLINK answers: Operation not permitted" "NETLINK_ROUTE: create a dummy link: refused" -- ip link add escdummy0 type dummy
# --- the host's unix sockets ---
attempt n.unix_abstract ECONNREFUSED "host listener on abstract @$ESC_ABSTRACT: ECONNREFUSED (own netns, Landlock scope)" -- "$ESC" unix "@$ESC_ABSTRACT"
attempt n.unix_host_tmp ENOENT "host listener $ESC_HOST_SOCK (0777): ENOENT, /tmp is private" -- "$ESC" unix "$ESC_HOST_SOCK"
attempt n.unix_host_var_tmp ENOENT "host listener $ESC_VARTMP_SOCK (0777, host's /var/tmp): ENOENT (unlisted directories are not in the view; Landlock does not govern connect)" -- "$ESC" unix "$ESC_VARTMP_SOCK"
attempt n.unix_dev_log ENOENT "the host's journal via /dev/log (a link into /run): ENOENT" -- "$ESC" unix /dev/log

# --- through the proxy ---
attempt n.proxy_control "200 hello from $A" "control: the probe's own GET http://files.test/hello is allowed (200)" -- P "GET http://files.test/hello HTTP/1.1" files.test
attempt n.connect_denied "403 policy_denied" "forged CONNECT other.test:80 (no block): 403" -- P "CONNECT other.test:80 HTTP/1.1" other.test:80
LOGGED[n.connect_denied]="other.test 80"
attempt n.connect_denied_v6 "403 policy_denied" "CONNECT other.test:80 on the proxy's [::1]:3128: 403" -- "$ESC" proxy ::1 3128 'CONNECT other.test:80 HTTP/1.1\r\nHost: other.test\r\n\r\n'
attempt n.abs_host_mismatch "403 policy_denied" "GET http://other.test/ with Host: files.test: 403, the URL decides" -- P "GET http://other.test/hello HTTP/1.1" files.test
LOGGED[n.abs_host_mismatch]="other.test 80"
attempt n.abs_host_rewritten "200 hello from $A" "GET http://files.test/ with Host: other.test: goes to files.test only, Host rewritten from the URL" -- P "GET http://files.test/hello HTTP/1.1" other.test
attempt n.abs_userinfo "400 bad_request" "GET http://files.test@other.test/ (userinfo): 400" -- P "GET http://files.test@other.test/hello HTTP/1.1" other.test
attempt n.origin_form "400 bad_request" "origin-form GET /hello with Host: files.test: 400" -- P "GET /hello HTTP/1.1" files.test
attempt n.https_url "400 bad_request" "GET https://files.test/ (no TLS origination): 400" -- P "GET https://files.test/hello HTTP/1.1" files.test
attempt n.port0 "400 bad_request" "CONNECT files.test:0: 400" -- P "CONNECT files.test:0 HTTP/1.1"
attempt n.port_65536 "400 bad_request" "CONNECT files.test:65536: 400" -- P "CONNECT files.test:65536 HTTP/1.1"
attempt n.port_81 "403 policy_denied" "CONNECT files.test:81 (port not listed): 403" -- P "CONNECT files.test:81 HTTP/1.1"
LOGGED[n.port_81]="files.test 81"
attempt n.port_22 "403 policy_denied" "CONNECT files.test:22: 403" -- P "CONNECT files.test:22 HTTP/1.1"
LOGGED[n.port_22]="files.test 22"
attempt n.abs_port_8080 "403 policy_denied" "GET http://files.test:8080/: 403" -- P "GET http://files.test:8080/hello HTTP/1.1" files.test
LOGGED[n.abs_port_8080]="files.test 8080"
attempt n.lab_host_ip "403 policy_denied" "CONNECT $NETLAB_HOST_IP:22 (the host's address): 403" -- P "CONNECT $NETLAB_HOST_IP:22 HTTP/1.1"
LOGGED[n.lab_host_ip]="$NETLAB_HOST_IP 22"
attempt n.dns_tcp "403 policy_denied" "CONNECT $A:53 (DNS over TCP): 403" -- P "CONNECT $A:53 HTTP/1.1"
LOGGED[n.dns_tcp]="$A 53"
attempt n.proxy_loop "403 policy_denied" "CONNECT 127.0.0.1:3128 (the proxy to itself): 403" -- P "CONNECT 127.0.0.1:3128 HTTP/1.1"
LOGGED[n.proxy_loop]="127.0.0.1 3128"
attempt n.name_loopback "403 destination_denied" "CONNECT loop.test:$CPORT (listed; resolves to 127.0.0.1): 403" -- P "CONNECT loop.test:$CPORT HTTP/1.1"
LOGGED[n.name_loopback]="loop.test $CPORT"
attempt_re n.name_loopback_ips "403 destination_denied|502 upstream_unreachable" "CONNECT loopips.test:$CPORT (allowed_ips 127.0.0.1/32): refused, loopback is never reachable" -- P "CONNECT loopips.test:$CPORT HTTP/1.1"
attempt n.name_metadata "403 destination_denied" "CONNECT meta.test:80 (listed; resolves to 169.254.169.254): 403" -- P "CONNECT meta.test:80 HTTP/1.1"
LOGGED[n.name_metadata]="meta.test 80"
attempt n.name_private "403 destination_denied" "CONNECT priv.test:80 (listed, no allowed_ips; resolves to the lab's private $NETLAB_IP_B): 403" -- P "CONNECT priv.test:80 HTTP/1.1"
LOGGED[n.name_private]="priv.test 80"
attempt n.abs_name_private "403 destination_denied" "GET http://priv.test/hello (same, absolute-form): 403" -- P "GET http://priv.test/hello HTTP/1.1" priv.test
attempt n.literal_loopback "403 destination_denied" "CONNECT 127.0.0.1:$CPORT (IP literal listed in the policy): 403" -- P "CONNECT 127.0.0.1:$CPORT HTTP/1.1"
LOGGED[n.literal_loopback]="127.0.0.1 $CPORT"
# (Not tried: "127.0.0.1." with a trailing dot. It is taken as a name and would go to
# the host's resolver, an address this suite must not contact; see README.md.)
for sp in 2130706433 0x7f.1 0177.0.0.1 127.1 0x7f000001 017700000001; do
	attempt "n.spelled_$sp" "403 policy_denied" "CONNECT $sp:$CPORT (127.0.0.1 spelled for inet_aton; a hostless endpoint takes any host): 403 before any resolver sees it" -- P "CONNECT $sp:$CPORT HTTP/1.1"
done
attempt n.abs_decimal "403 policy_denied" "GET http://2130706433:$CPORT/ (decimal 127.0.0.1): 403" -- P "GET http://2130706433:$CPORT/ HTTP/1.1" 2130706433
attempt n.abs_octal "403 policy_denied" "GET http://0177.0.0.1:$CPORT/ (octal): 403" -- P "GET http://0177.0.0.1:$CPORT/ HTTP/1.1" 0177.0.0.1
attempt n.v6_loopback "403 destination_denied" "CONNECT [::1]:$CPORT (hostless endpoint): 403, loopback is never reachable" -- P "CONNECT [::1]:$CPORT HTTP/1.1"
attempt n.v6_mapped "403 destination_denied" "CONNECT [::ffff:127.0.0.1]:$CPORT (IPv4-mapped loopback): 403" -- P "CONNECT [::ffff:127.0.0.1]:$CPORT HTTP/1.1"
attempt n.v6_mapped_meta "403 destination_denied" "CONNECT [::ffff:169.254.169.254]:$CPORT (IPv4-mapped metadata address): 403" -- P "CONNECT [::ffff:169.254.169.254]:$CPORT HTTP/1.1"
attempt n.v6_nat64_loop "403 destination_denied" "CONNECT [64:ff9b::7f00:1]:$CPORT (NAT64 form of 127.0.0.1): 403" -- P "CONNECT [64:ff9b::7f00:1]:$CPORT HTTP/1.1"
attempt n.literal_zero "403 destination_denied" "CONNECT 0.0.0.0:$CPORT (reaches the host's listeners on Linux): 403" -- P "CONNECT 0.0.0.0:$CPORT HTTP/1.1"
attempt n.hostless_control "502 upstream_unreachable" "control: the hostless endpoint admits $A:$CPORT (allowed_ips), where nothing listens: 502" -- P "CONNECT $A:$CPORT HTTP/1.1"
LOGGED[n.spelled_2130706433]="2130706433 $CPORT"


: >"$SB_LOG"
esc_run "$AGENTCAGE" run --name "$SB_NAME" --workdir "$SB_WORK" --log "$SB_LOG" "${SB_ENV[@]}" \
	--policy "$POL" --hosts "$HOSTS"
esc_check

# Logged: each refusal the policy decided left a deny line naming the destination.
net=$(/usr/bin/python3 - "$SB_LOG" <<'PYEOF'
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("event") == "net":
        print(d.get("host"), d.get("port"), d.get("decision"), d.get("binary"))
PYEOF
)
for id in $(printf '%s\n' "${!LOGGED[@]}" | sort); do
	set -- ${LOGGED[$id]}
	expect_contains "$id is logged: net line $1:$2 deny by the probe" "$net" "$1 $2 deny $ESC"
	expect_contains "$id is logged: DENIED line for $1:$2" "$(cat "$ESC_ERR")" "DENIED $ESC (pid "
	check "$id: DENIED line names $1:$2" grep -qF -- "-> $1:$2 " "$ESC_ERR"
done
expect_contains "the control request is logged as allow" "$net" "files.test 80 allow $ESC"

echo >&"$canary_in"
read -r -t 20 word h_tcp h_tmp h_vartmp h_abs <&"$canary_out"
stop_canary
expect_eq "the host's canary on 127.0.0.1:$CPORT was never reached (proxy or direct)" "$word $h_tcp" "hits 0"
expect_eq "the host's unix listener in /tmp was never reached" "$h_tmp" 0
expect_eq "the host's abstract unix listener was never reached" "$h_abs" 0
expect_eq "the host's unix listener in /var/tmp was never reached" "$h_vartmp" 0
check "netlab_down: servers stopped, namespace and veth gone" netlab_down
done_testing
