# proxy_lib.sh: shared set-up of the real-client proxy tests (sourced after lib.sh): the
# sandbox helpers, the lab (tests/netlab.sh) with its hosts file, and px/pxsh to run a
# command in a sandbox on the lab policy. Root only: without root it skips and exits.
. "$(dirname "${BASH_SOURCE[0]}")/helpers/sandbox_lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/netlab.sh"

if [ "$(id -u)" != 0 ]; then skip "needs root (namespaces, veth)"; done_testing; exit; fi
NETSRV=${AGENTCAGE_BUILD:-$(dirname "$AGENTCAGE")}/tests/helpers/netsrv
POL=$TOP/tests/policies/proxy/lab.yaml
HOSTS=$SB_WORK.hosts
SB_EXTRA_CLEAN+=("$HOSTS" "$SB_WORK.err")

netlab_up || { echo "Bail out! netlab_up failed"; exit 1; }
netlab_hosts "$HOSTS"

# px ARGS... -- CMD...: agentcage run on the lab policy; agentcage's own stderr goes to
# $SB_WORK.err (the DENIED lines), the command's to wherever the caller sends it.
px() {
	"$AGENTCAGE" run --name "$SB_NAME" --workdir "$SB_WORK" --log "$SB_LOG" "${SB_ENV[@]}" \
		--policy "$POL" --hosts "$HOSTS" "$@" 2>"$SB_WORK.err"
}
# pxsh SCRIPT: SCRIPT under /bin/sh in the sandbox, its stdout and stderr together.
pxsh() { px -- /bin/sh -c "exec 2>&1; $1"; }
