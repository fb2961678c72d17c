#!/bin/bash
# build_hardening: the agentcage binary runs as root and holds the sandbox's CA key, so
# it carries the usual hardening, checked on what the build produced: position independent
# (ASLR for its own code), full RELRO (every symbol bound at load, the GOT read-only
# afterwards), a non-executable stack, and stack protectors compiled in.
set -u
. "$(dirname "$0")/../lib.sh"

if ! command -v readelf >/dev/null; then
	skip "readelf not installed (binutils)"
	done_testing
	exit
fi
DYN=$(readelf -dW "$AGENTCAGE")
PH=$(readelf -lW "$AGENTCAGE")
SYMS=$(readelf -sW --dyn-syms "$AGENTCAGE")

expect_contains "position independent executable (FLAGS_1 has PIE)" "$(grep FLAGS_1 <<<"$DYN")" "PIE"
expect_contains "symbols bound at load (BIND_NOW)" "$(grep -E '\(FLAGS\)|FLAGS_1' <<<"$DYN")" "NOW"
check "a GNU_RELRO segment write-protects the GOT after relocation" grep -q GNU_RELRO <<<"$PH"
check "the stack is not executable (GNU_STACK is RW)" grep -qE 'GNU_STACK.* RW +0x' <<<"$PH"
check "stack protectors are compiled in (__stack_chk_fail is imported)" grep -q __stack_chk_fail <<<"$SYMS"
done_testing
