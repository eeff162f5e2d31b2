#!/usr/bin/env bash
# External interrupts are deterministic: the interrupts image run twice gives
# byte-identical traces (same irq lines at the same virtual times, same
# digest), the trace shows IRQ0 delivered at vector 0x20 and HLT waking in
# virtual time, and --max-insns still bounds a guest that sleeps.
# Usage: irq_test.sh HVSIM INTERRUPTS_IMAGE
set -u
hvsim=$1 image=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0 passes=0
check() { if eval "$2"; then passes=$((passes + 1)); echo "ok - $1"; else fails=$((fails + 1)); echo "not ok - $1"; fi; }

"$hvsim" run --mem 64M --trace "$tmp/t1" "$image" >"$tmp/o1" 2>/dev/null; s1=$?
"$hvsim" run --mem 64M --trace "$tmp/t2" "$image" >/dev/null 2>/dev/null
check "the image passes (isa-debug-exit status 1)" '[ "$s1" -eq 1 ] && tail -n 1 "$tmp/o1" | grep -qx PASS'
check "same run, byte-identical trace" 'cmp -s "$tmp/t1" "$tmp/t2"'
check "IRQ0 delivered at vector 0x20" 'grep -q " irq vector=0x20 " "$tmp/t1"'
check "a halted vCPU wakes at the next PIT edge" 'grep -q " wake at=" "$tmp/t1"'
"$hvsim" run --mem 64M --max-insns 1000000 "$image" >/dev/null 2>"$tmp/e3"; s3=$?
check "--max-insns stops a guest waiting in HLT (status 124)" '[ "$s3" -eq 124 ] && grep -q "max-insns" "$tmp/e3"'
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
