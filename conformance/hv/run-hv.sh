#!/bin/sh
# Runs hv.elf and its test guest on one machine in one memory mode and
# prints a normalized verdict (the pattern of conformance/oracles/run-image.sh).
#
#   run-hv.sh ENGINE MODE HV_BASENAME OUT_DIR
#
# ENGINE       qemu (SVM: -cpu EPYC,+svm,+npt) | bochs-intel (corei7_skylake_x,
#              VMX) | bochs-amd (ryzen, SVM) | hvsim-intel | hvsim-amd
# MODE         slat | shadow, or any other word (to test that hv rejects it)
# HV_BASENAME  hv's path without extension: BASENAME.mb32.elf (qemu),
#              BASENAME.flp (bochs), BASENAME.elf (hvsim)
# OUT_DIR      receives serial.txt, engine.log and verdict.txt
#
# How the mode reaches hv: QEMU `-append MODE` and hvsim `-- MODE` put it on
# the multiboot command line. The Bochs floppy boot sector passes no command
# line, so the Bochs debugger writes "HVCMDLN:MODE" to physical 0x9000
# (`setpmem`) before the machine starts; hv reads it there only when the
# multiboot information has no command line (docs/hv.md).
#
# Environment: HVSIM (the hvsim binary, for hvsim-*), HVSIM_ORACLE_TIMEOUT
# (seconds, default 60).
#
# hv passes when its last line is PASS and the machine's exit agrees (QEMU
# and hvsim: isa-debug-exit value 0, status 1; Bochs: iodebug exit then
# `quit`, status 0). EXPECT=FAIL inverts that for negative tests: the run
# passes when hv prints FAIL and the machine's exit status says failure.
# Exit status: 0 expected outcome, 1 otherwise, 2 bad usage or missing file.
set -u

usage() { echo "usage: $0 qemu|bochs-intel|bochs-amd|hvsim-intel|hvsim-amd MODE HV_BASENAME OUT_DIR" >&2; exit 2; }
[ $# -eq 4 ] || usage
engine=$1 mode=$2 base=$3 out=$4
timeout_s=${HVSIM_ORACLE_TIMEOUT:-60}
expect=${EXPECT:-PASS}
mkdir -p "$out" || exit 2
serial=$out/serial.txt log=$out/engine.log
rm -f "$serial" "$log" "$out/verdict.txt"

verdict() {
    echo "$engine $mode: $1" | tee "$out/verdict.txt"
    case $1 in PASS*) exit 0 ;; *) exit 1 ;; esac
}
need_file() { [ -s "$1" ] || { echo "$engine $mode: FAIL (missing file $1)" | tee "$out/verdict.txt"; exit 2; }; }

work=$(mktemp -d "${TMPDIR:-/tmp}/hvsim-hv.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT INT TERM

case $engine in
qemu)
    need_file "$base.mb32.elf"
    timeout -k 5 "$timeout_s" qemu-system-x86_64 -accel tcg -cpu EPYC,+svm,+npt -m 64 \
        -kernel "$base.mb32.elf" -append "$mode" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -serial "file:$work/serial.txt" -display none -monitor none -no-reboot \
        </dev/null >"$log" 2>&1
    rc=$?
    pass_rc=1
    ;;
bochs-intel|bochs-amd)
    need_file "$base.flp"
    # "HVCMDLN:" MODE NUL, as little-endian 32-bit words at 0x9000.
    printf 'HVCMDLN:%s' "$mode" | od -An -v -tx1 | tr -s ' \n' '  ' |
        awk -v base=$((0x9000)) '{
            n = NF; for (i = 1; i <= n; i++) b[i - 1] = $i
            b[n++] = "00"; while (n % 4) b[n++] = "00"
            for (i = 0; i < n; i += 4)
                printf "setpmem 0x%x 4 0x%s%s%s%s\n", base + i, b[i + 3], b[i + 2], b[i + 1], b[i]
        }' >"$work/setpmem"
    "$(dirname "$0")/../oracles/run-bochs.sh" "$engine" "$base.flp" "$work" "$timeout_s" "$work/setpmem"
    rc=$?
    cp "$work/bochs.log" "$log" 2>/dev/null || : >"$log"
    pass_rc=0
    ;;
hvsim-intel|hvsim-amd)
    need_file "$base.elf"
    [ -n "${HVSIM:-}" ] && [ -x "$HVSIM" ] || { echo "$engine $mode: FAIL (set HVSIM to the hvsim binary)" | tee "$out/verdict.txt"; exit 2; }
    if [ "$engine" = hvsim-intel ]; then cpu=skylake-x; else cpu=zen; fi
    timeout -k 5 "$timeout_s" "$HVSIM" run --mem 64M --cpu "$cpu" "$base.elf" -- "$mode" \
        </dev/null >"$work/serial.txt" 2>"$log"
    rc=$?
    pass_rc=1
    ;;
*)
    usage
    ;;
esac

tr -d '\r' <"$work/serial.txt" >"$serial" 2>/dev/null || : >"$serial"
[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && verdict "FAIL (timeout after ${timeout_s}s)"
last=$(grep -v '^[[:space:]]*$' "$serial" | tail -n 1)

if [ "$expect" = FAIL ]; then
    [ "$last" = FAIL ] && [ "$rc" -ne "$pass_rc" ] && verdict "PASS (hv failed as expected; exit status $rc)"
    verdict "FAIL (expected hv to fail; last line ${last:-<none>}, exit status $rc)"
fi
case $last in
PASS) [ "$rc" -eq "$pass_rc" ] && verdict PASS
      verdict "FAIL (printed PASS but exit status $rc, expected $pass_rc)" ;;
FAIL) verdict "FAIL (hv or its guest reported failure; exit status $rc; see $serial)" ;;
*)    verdict "FAIL (no PASS/FAIL line; exit status $rc; last line: ${last:-<none>})" ;;
esac
