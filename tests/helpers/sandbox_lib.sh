# sandbox_lib.sh: shared set-up for tests/integration/sandbox_*.sh (sourced after lib.sh).
# Creates a world-writable workdir on the host (the sandbox user must write there), a log
# file, and copies the probe helper into the workdir (the default policy grants /usr,
# /lib, /etc..., not the build tree). Everything is removed by the EXIT trap.
SB_PROBE_SRC=${AGENTCAGE_BUILD:-$(dirname "$AGENTCAGE")}/tests/helpers/sandbox_probe
SB_WORK=$(mktemp -d /tmp/agentcage-test.XXXXXX)
SB_NAME=t-$$-$RANDOM
SB_LOG=$SB_WORK.log
SB_EXTRA_CLEAN=()
chmod 0777 "$SB_WORK"
sb_cleanup() {
	rm -rf "$SB_WORK" "$SB_LOG" "/var/lib/agentcage/$SB_NAME" "${SB_EXTRA_CLEAN[@]}"
}
trap sb_cleanup EXIT
"$AGENTCAGE" setup >/dev/null || { echo "Bail out! agentcage setup failed"; exit 1; }
if [ -x "$SB_PROBE_SRC" ]; then
	cp "$SB_PROBE_SRC" "$SB_WORK/probe" && chmod 0755 "$SB_WORK/probe"
fi
# Sanitizer builds: LeakSanitizer needs ptrace, which the sandbox forbids.
SB_ENV=(--env ASAN_OPTIONS=detect_leaks=0)
# sb_run ARGS... -- CMD...: agentcage run with the test's name, workdir and log.
sb_run() {
	"$AGENTCAGE" run --name "$SB_NAME" --workdir "$SB_WORK" --log "$SB_LOG" "${SB_ENV[@]}" "$@"
}
# sb_bg ARGS... -- CMD...: like sb_run, in the background; $! is agentcage's own pid.
sb_bg() {
	"$AGENTCAGE" run --name "$SB_NAME" --workdir "$SB_WORK" --log "$SB_LOG" "${SB_ENV[@]}" "$@" &
}
# sb_sh SCRIPT: runs SCRIPT with /bin/sh in the sandbox; prints its stdout+stderr (not
# agentcage's own warnings, e.g. the default policy's missing /app).
sb_sh() {
	sb_run -- /bin/sh -c "exec 2>&1; $1" 2>/dev/null
}
