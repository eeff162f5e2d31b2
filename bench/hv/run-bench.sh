#!/usr/bin/env bash
# `make bench` (hv part): exit round trips of hv.elf's guest on every engine in
# one run. The guest runs N CPUID exits, or N NOP hypercalls (VMCALL on VMX,
# VMMCALL on SVM), back to back (hv/guest/bench.c); each is timed against a
# run with N=0 so boot and set-up cancel out. Prints round trips per second
# and the ratios. Times are printed, never asserted.
# Usage: run-bench.sh HV_BASENAME RUN_HV [N]
set -u
hv=$(realpath "$1.elf"); hv=${hv%.elf}
run_hv=$(realpath "$2")
n=${3:-100000}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export HVSIM_ORACLE_TIMEOUT=300

engines="qemu bochs-intel bochs-amd"
# When hvsim runs hv.elf (set HVSIM to its binary), this one line adds it:
# engines="hvsim-intel hvsim-amd $engines"

seconds() {   # seconds ENGINE KIND ITERATIONS -> wall time of one run (SLAT mode)
  local t0 t1
  t0=$(date +%s.%N)
  "$run_hv" "$1" "slat bench=$2:$3" "$hv" "$tmp/$1-$2-$3" >/dev/null 2>&1 ||
    echo "bench: $1 $2 $3 failed (see $tmp/$1-$2-$3)" >&2
  grep -q "# bench kind=$2 iterations=$3\$" "$tmp/$1-$2-$3/serial.txt" 2>/dev/null ||
    echo "bench: $1 $2 $3: the guest did not report its loop" >&2
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}'
}

printf '%-12s %-10s %10s %10s %14s\n' ENGINE EXIT BASE_S RUN_S ROUNDTRIPS/S
declare -A rate
for engine in $engines; do
  for kind in cpuid hypercall; do
    base=$(seconds "$engine" "$kind" 0)
    run=$(seconds "$engine" "$kind" "$n")
    r=$(awk -v n="$n" -v a="$base" -v b="$run" 'BEGIN{d = b - a; printf "%.0f", (d > 0 ? n / d : 0)}')
    rate[$engine,$kind]=$r
    printf '%-12s %-10s %10.2f %10.2f %14s\n' "$engine" "$kind" "$base" "$run" "$r"
  done
done
echo
for kind in cpuid hypercall; do
  awk -v k="$kind" -v q="${rate[qemu,$kind]}" -v bi="${rate[bochs-intel,$kind]}" -v ba="${rate[bochs-amd,$kind]}" \
    'BEGIN{printf "%-10s bochs-intel/qemu %.2fx   bochs-amd/qemu %.2fx   bochs-intel/bochs-amd %.2fx\n",
           k, (q > 0 ? bi / q : 0), (q > 0 ? ba / q : 0), (ba > 0 ? bi / ba : 0)}'
done
