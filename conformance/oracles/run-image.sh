#!/bin/sh
# Runs one test image on one machine and prints a normalized verdict.
#
#   run-image.sh ENGINE IMAGE_BASENAME OUT_DIR
#
# ENGINE          qemu | bochs-intel | bochs-amd | hvsim
# IMAGE_BASENAME  the image's path without extension: the runner uses
#                 BASENAME.mb32.elf (qemu), BASENAME.flp (bochs), BASENAME.elf (hvsim)
# OUT_DIR         receives serial.txt (the guest's serial output, CR removed),
#                 engine.log (the machine's own messages) and verdict.txt
#
# Environment: HVSIM (path of the hvsim binary, for ENGINE=hvsim),
# HVSIM_ARGS (extra `hvsim run` options, default "--mem 64M"),
# HVSIM_QEMU_CPU (QEMU's -cpu, default max; SVM images use EPYC,+svm,+npt),
# HVSIM_ORACLE_TIMEOUT (seconds, default 60).
#
# An image passes when its last line is PASS and the machine's exit agrees
# (QEMU and hvsim: isa-debug-exit status (0 << 1) | 1 = 1; Bochs: iodebug
# exit then `quit`, status 0). An image that prints "# expect: shutdown"
# passes when the machine shuts down on a triple fault instead (QEMU
# -no-reboot: status 0 without debug-exit; Bochs: its "3rd exception with no
# resolution" panic; hvsim: a shutdown report naming the triple fault).
# "# TODO known departure: ID" lines are accepted only from the machine that
# ID names (qemu-... or bochs-...), never from hvsim.
# Exit status: 0 when the image reached its expected outcome, 1 otherwise,
# 2 on bad usage or a missing file.
set -u

usage() { echo "usage: $0 qemu|bochs-intel|bochs-amd|hvsim IMAGE_BASENAME OUT_DIR" >&2; exit 2; }
[ $# -eq 3 ] || usage
engine=$1 base=$2 out=$3
timeout_s=${HVSIM_ORACLE_TIMEOUT:-60}
name=$(basename "$base")
mkdir -p "$out" || exit 2
serial=$out/serial.txt log=$out/engine.log
rm -f "$serial" "$log" "$out/verdict.txt"

need_file() { [ -s "$1" ] || { echo "$engine $name: FAIL (missing image file $1)" | tee "$out/verdict.txt"; exit 2; }; }

work=$(mktemp -d "${TMPDIR:-/tmp}/hvsim-oracle.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT INT TERM

case $engine in
qemu)
    need_file "$base.mb32.elf"
    timeout -k 5 "$timeout_s" qemu-system-x86_64 -accel tcg -cpu "${HVSIM_QEMU_CPU:-max}" -m 64 \
        -kernel "$base.mb32.elf" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -serial "file:$work/serial.txt" -display none -monitor none -no-reboot \
        </dev/null >"$log" 2>&1
    rc=$?
    ;;
bochs-intel|bochs-amd)
    need_file "$base.flp"
    "$(dirname "$0")/run-bochs.sh" "$engine" "$base.flp" "$work" "$timeout_s"
    rc=$?
    cp "$work/bochs.log" "$log" 2>/dev/null || : >"$log"
    ;;
hvsim)
    need_file "$base.elf"
    [ -n "${HVSIM:-}" ] && [ -x "$HVSIM" ] || { echo "$engine $name: FAIL (set HVSIM to the hvsim binary)" | tee "$out/verdict.txt"; exit 2; }
    # shellcheck disable=SC2086 # HVSIM_ARGS is a list of options
    timeout -k 5 "$timeout_s" "$HVSIM" run ${HVSIM_ARGS:---mem 64M} "$base.elf" \
        </dev/null >"$work/serial.txt" 2>"$log"
    rc=$?
    ;;
*)
    usage
    ;;
esac

tr -d '\r' <"$work/serial.txt" >"$serial" 2>/dev/null || : >"$serial"

verdict() {
    echo "$engine $name: $1" | tee "$out/verdict.txt"
    case $1 in PASS*|SHUTDOWN*) exit 0 ;; *) exit 1 ;; esac
}

[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && verdict "FAIL (timeout after ${timeout_s}s)"

last=$(grep -v '^[[:space:]]*$' "$serial" | tail -n 1)
family=${engine%%-*}
bad_todo=$(grep '# TODO known departure: ' "$serial" | grep -v "# TODO known departure: $family-")
if [ -n "$bad_todo" ]; then
    verdict "FAIL (departure not declared for $family: $(echo "$bad_todo" | head -n 1))"
fi

if grep -qx '# expect: shutdown' "$serial"; then
    case $last in PASS|FAIL) verdict "FAIL (expected a triple-fault shutdown, got $last)" ;; esac
    case $engine in
    qemu) [ "$rc" -eq 0 ] && verdict "SHUTDOWN (triple fault, as expected)" ;;
    bochs-*) grep -q '3rd (.*) exception with no resolution' "$log" &&
                 verdict "SHUTDOWN (triple fault, as expected)" ;;
    hvsim) [ "$rc" -lt 128 ] && grep -qi 'triple fault' "$log" &&
               verdict "SHUTDOWN (triple fault, as expected)" ;;
    esac
    verdict "FAIL (no triple-fault shutdown; exit status $rc; see $log)"
fi

case $engine in
qemu|hvsim) pass_rc=1 ;;
bochs-*) pass_rc=0 ;;
esac
case $last in
PASS) [ "$rc" -eq "$pass_rc" ] && verdict PASS
      verdict "FAIL (printed PASS but exit status $rc, expected $pass_rc)" ;;
FAIL) verdict "FAIL (the image reported failures; exit status $rc)" ;;
*)    verdict "FAIL (no PASS/FAIL line; exit status $rc; last line: ${last:-<none>})" ;;
esac
