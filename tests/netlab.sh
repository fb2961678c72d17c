# netlab.sh: the network lab of the proxy tests (sourced by tests/integration/proxy_*.sh,
# after lib.sh). Needs root and iproute2.
#
# One network namespace and one veth pair per run, inside 10.213.0.0/24 and nowhere else:
# the /24 is cut into 16 slots of /28 and a run takes the first free slot (a flock held
# until the script exits), so parallel runs never collide on names or addresses. Slot S
# uses 10.213.0.(16S)/28: the host side of the veth is .16S+1 (in the HOST namespace, so
# the proxy's upstream connections, which leave from there, reach the servers), the lab
# namespace holds .16S+2 ... .16S+5 and lo. Slot 0 is 10.213.0.1 / .2 .3 .4 .5.
#
#   netlab_up                 create it all; sets NETLAB_NS, NETLAB_DIR (scratch dir),
#                             NETLAB_HOST_IP and NETLAB_IP_A/B/C/D (the four lab addresses)
#   netlab_serve NAME CMD...  start a server in the lab namespace and wait (read -t on a
#                             fifo, never sleep) until it prints its "ready" line
#   netlab_spawn NAME WORD CMD...
#                             start a server that has no "ready" line of its own (nginx):
#                             wait (read -t on a fifo of its stdout+stderr, never sleep)
#                             until it prints a line containing WORD; fails at once if it
#                             exits first
#   netlab_hosts FILE         write a hosts(5) file naming the lab's servers
#   netlab_exec CMD...        run a command inside the lab namespace
#   netlab_serve_files NETSRV netsrv http on A:80 and B:80, netsrv halfclose on A:81
#   netlab_serve_git          a bare repo.git (one commit, README "lab readme") served
#                             over smart HTTP on C:80 (tests/servers/git_http.py)
#   netlab_serve_pypi         a simple index with agentcage-probe 1.0 on D:80
#   netlab_down               stop the servers (by pid, reaped), delete the namespace and
#                             the veth, then verify none of them is left; 0 when clean
#
# netlab_up chains netlab_down in front of the EXIT trap already set (e.g. sandbox_lib.sh's
# sb_cleanup; a trap command containing a single quote cannot be chained) and turns INT,
# TERM and HUP into an exit, so everything is removed even when a test fails or is killed.
# Functions print "# netlab: ..." diagnostics (TAP comments) and return non-zero on error.

NETLAB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NETLAB_NET=10.213.0         # the only addresses this file ever touches: 10.213.0.0/24
NETLAB_SLOTS=16
NETLAB_READY_TIMEOUT=${NETLAB_READY_TIMEOUT:-20} # seconds a server gets to print "ready"
NETLAB_LOCK_DIR=/run/lock
NETLAB_NS=
NETLAB_DIR=
NETLAB_VETH=
NETLAB_SLOT=
NETLAB_LOCK_FD=
NETLAB_PIDS=()
NETLAB_NAMES=()
NETLAB_FDS=()

# Takes the first free slot; sets NETLAB_SLOT and keeps its lock fd open.
netlab__take_slot() {
	local s fd
	mkdir -p "$NETLAB_LOCK_DIR"
	for ((s = 0; s < NETLAB_SLOTS; s++)); do
		exec {fd}>"$NETLAB_LOCK_DIR/agentcage-netlab.$s"
		if flock -n "$fd"; then
			NETLAB_SLOT=$s NETLAB_LOCK_FD=$fd
			return 0
		fi
		exec {fd}>&-
	done
	echo "# netlab: all $NETLAB_SLOTS slots of $NETLAB_NET.0/24 are taken by other runs"
	return 1
}

netlab__chain_trap() {
	local prev
	prev=$(trap -p EXIT)
	prev=${prev#trap -- \'}
	prev=${prev%\' EXIT}
	case "$prev" in *"'"*) echo "# netlab: cannot chain EXIT trap: $prev"; prev=;; esac
	# shellcheck disable=SC2064 # expand $prev now, on purpose
	trap "netlab_down >/dev/null 2>&1; $prev" EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

netlab_up() {
	local base a tag=acl$$
	[ "$(id -u)" = 0 ] || { echo "# netlab: needs root (ip netns, veth)"; return 1; }
	command -v ip >/dev/null || { echo "# netlab: needs iproute2 (ip)"; return 1; }
	netlab__chain_trap
	netlab__take_slot || return 1
	base=$((NETLAB_SLOT * 16))
	NETLAB_HOST_IP=$NETLAB_NET.$((base + 1))
	NETLAB_IP_A=$NETLAB_NET.$((base + 2))
	NETLAB_IP_B=$NETLAB_NET.$((base + 3))
	NETLAB_IP_C=$NETLAB_NET.$((base + 4))
	NETLAB_IP_D=$NETLAB_NET.$((base + 5))
	NETLAB_NS=$tag
	NETLAB_VETH=${tag}h
	NETLAB_DIR=$(mktemp -d /tmp/agentcage-netlab.XXXXXX) || return 1
	ip netns add "$NETLAB_NS" || { NETLAB_NS=; return 1; }
	ip link add "$NETLAB_VETH" type veth peer name "${tag}n" netns "$NETLAB_NS" || return 1
	ip addr add "$NETLAB_HOST_IP/28" dev "$NETLAB_VETH" || return 1
	ip link set "$NETLAB_VETH" up || return 1
	ip -n "$NETLAB_NS" link set lo up || return 1
	for a in "$NETLAB_IP_A" "$NETLAB_IP_B" "$NETLAB_IP_C" "$NETLAB_IP_D"; do
		ip -n "$NETLAB_NS" addr add "$a/28" dev "${tag}n" || return 1
	done
	ip -n "$NETLAB_NS" link set "${tag}n" up || return 1
	# Servers answer the host side only once the link is up: IPv6 DAD does not matter
	# (IPv4 only), and a TCP SYN sent before carrier just retransmits.
}

netlab_exec() {
	ip netns exec "$NETLAB_NS" "$@"
}

netlab_serve() {
	local name=$1 fifo fd line pid
	shift
	fifo=$NETLAB_DIR/$name.ready
	mkfifo "$fifo" || return 1
	# ip netns exec switches namespace and execs (no fork), so $! is the server itself.
	ip netns exec "$NETLAB_NS" "$@" >"$fifo" 2>"$NETLAB_DIR/$name.err" &
	pid=$!
	NETLAB_PIDS+=("$pid")
	NETLAB_NAMES+=("$name")
	# Read-write open: does not block waiting for the writer. The fd stays open until
	# netlab_down, so a server that writes more to stdout never gets SIGPIPE.
	exec {fd}<>"$fifo"
	NETLAB_FDS+=("$fd")
	if ! read -r -t "$NETLAB_READY_TIMEOUT" -u "$fd" line || [ "$line" != ready ]; then
		echo "# netlab: server $name ($*) not ready after ${NETLAB_READY_TIMEOUT}s: got '$line'"
		sed 's/^/# netlab:   /' "$NETLAB_DIR/$name.err" | head -20
		return 1
	fi
}

# The fifo is first opened read-only, so a server that dies before WORD gives EOF (fail
# fast, with its output); once WORD is seen a read-write fd takes over, as in netlab_serve,
# so later output never meets a closed pipe. Nothing drains it afterwards: a server must
# not write more than a pipe holds (64 KiB) after start-up (nginx: error_log at notice).
netlab_spawn() {
	local name=$1 want=$2 fifo fd keep line pid end
	shift 2
	fifo=$NETLAB_DIR/$name.out
	mkfifo "$fifo" || return 1
	ip netns exec "$NETLAB_NS" "$@" >"$fifo" 2>&1 &
	pid=$!
	NETLAB_PIDS+=("$pid")
	NETLAB_NAMES+=("$name")
	exec {fd}<"$fifo"
	end=$((SECONDS + NETLAB_READY_TIMEOUT))
	while [ $SECONDS -lt $end ] && read -r -t $((end - SECONDS)) -u "$fd" line; do
		printf '%s\n' "$line" >>"$NETLAB_DIR/$name.log"
		case "$line" in
		*"$want"*)
			exec {keep}<>"$fifo"
			NETLAB_FDS+=("$keep")
			exec {fd}<&-
			return 0;;
		esac
	done
	exec {fd}<&-
	echo "# netlab: server $name ($*) exited or did not print '$want' within ${NETLAB_READY_TIMEOUT}s"
	sed 's/^/# netlab:   /' "$NETLAB_DIR/$name.log" 2>/dev/null | head -20
	return 1
}

netlab_serve_files() {
	netlab_serve files "$1" http "$NETLAB_IP_A:80" "$NETLAB_IP_B:80" &&
		netlab_serve half "$1" halfclose "$NETLAB_IP_A:81"
}

netlab_serve_git() {
	local src=$NETLAB_DIR/git-src repo=$NETLAB_DIR/git/repo.git
	if ! { git init -q --bare -b main "$repo" &&
		git init -q -b main "$src" && echo "lab readme" >"$src/README" &&
		git -C "$src" add README &&
		git -C "$src" -c user.name=lab -c user.email=lab@lab.test commit -qm init &&
		git -C "$src" push -q "$repo" main; }; then
		echo "# netlab: cannot build the git repository in $NETLAB_DIR"
		return 1
	fi
	netlab_serve git /usr/bin/python3 "$NETLAB_TOP/tests/servers/git_http.py" \
		"$NETLAB_DIR/git" "$NETLAB_IP_C" 80
}

netlab_serve_pypi() {
	/usr/bin/python3 "$NETLAB_TOP/tests/servers/make_index.py" "$NETLAB_DIR/pypi" || return 1
	netlab_serve pypi /usr/bin/python3 "$NETLAB_TOP/tests/servers/static_http.py" \
		"$NETLAB_DIR/pypi" "$NETLAB_IP_D" 80
}

netlab_hosts() {
	cat >"$1" <<-EOF
	# agentcage proxy test lab (slot $NETLAB_SLOT)
	$NETLAB_IP_A files.test other.test
	$NETLAB_IP_B private.test priv.lab.test
	$NETLAB_IP_C git.test
	$NETLAB_IP_D pypi.test
	EOF
}

netlab_down() {
	local i rc=0
	[ -n "$NETLAB_DIR" ] || return 0
	for i in "${!NETLAB_PIDS[@]}"; do
		kill -TERM "${NETLAB_PIDS[$i]}" 2>/dev/null
		wait "${NETLAB_PIDS[$i]}" 2>/dev/null
	done
	for i in "${!NETLAB_PIDS[@]}"; do
		if kill -0 "${NETLAB_PIDS[$i]}" 2>/dev/null; then
			echo "# netlab: server ${NETLAB_NAMES[$i]} (pid ${NETLAB_PIDS[$i]}) still runs"
			rc=1
		fi
	done
	for i in "${NETLAB_FDS[@]}"; do exec {i}<&-; done
	NETLAB_PIDS=() NETLAB_NAMES=() NETLAB_FDS=()
	if [ -n "$NETLAB_NS" ]; then
		ip netns del "$NETLAB_NS" 2>/dev/null
		ip link del "$NETLAB_VETH" 2>/dev/null # normally gone with its peer's namespace
		if ip netns list | grep -qw "$NETLAB_NS"; then
			echo "# netlab: namespace $NETLAB_NS is still there"
			rc=1
		fi
		if ip link show dev "$NETLAB_VETH" >/dev/null 2>&1; then
			echo "# netlab: interface $NETLAB_VETH is still there"
			rc=1
		fi
		if ip -4 addr show | grep -q "inet $NETLAB_HOST_IP/"; then
			echo "# netlab: address $NETLAB_HOST_IP is still on the host"
			rc=1
		fi
	fi
	rm -rf "$NETLAB_DIR"
	NETLAB_DIR='' NETLAB_NS=''
	if [ -n "$NETLAB_LOCK_FD" ]; then exec {NETLAB_LOCK_FD}>&-; NETLAB_LOCK_FD=; fi
	return $rc
}
