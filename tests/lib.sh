# lib.sh: TAP helpers for integration scripts (sourced). Each script prints TAP lines;
# tests/run counts them. $AGENTCAGE is the binary under test.
: "${AGENTCAGE:?AGENTCAGE must name the agentcage binary (tests/run sets it)}"
T_N=0
T_FAILED=0
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${AGENTCAGE_SHARED:-$TOP/../shared}

ok()     { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $*"; }
skip()   { T_N=$((T_N + 1)); echo "ok $T_N # skip $*"; }
# check DESC CMD...: passes when CMD exits 0.
check()  { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# check_fails DESC CMD...: passes when CMD exits non-zero.
check_fails() { local d=$1; shift; if "$@"; then not_ok "$d"; else ok "$d"; fi; }
# expect_eq DESC GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   got:  $2"; echo "#   want: $3"; fi
}
# expect_contains DESC HAYSTACK NEEDLE
expect_contains() {
	case "$2" in
	*"$3"*) ok "$1";;
	*) not_ok "$1"; echo "#   in:   $(printf '%s' "$2" | head -c 2000)"; echo "#   want: $3";;
	esac
}
done_testing() { echo "1..$T_N"; [ $T_FAILED -eq 0 ]; }
