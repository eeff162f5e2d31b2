#!/usr/bin/env bash
# `make bench` (hv part): exit round trips of hv.elf's guest on every engine in
# one run. The guest runs N CPUID exits, or N NOP hypercalls (VMCALL on VMX,
# VMMCALL on SVM), back to back (hv/guest/bench.c); each is timed against a
# run with N=0 so boot and set-up cancel out. Times are the CPU time (user +
# system) of the engine's processes, which other work on a shared machine
# disturbs far less than wall-clock time; every engine here computes on one
# thread. Prints round trips per second and the ratios. Times are printed,
# never asserted. HVSIM_BENCH_ROUNDS (default 5): timings per engine.
# Usage: run-bench.sh HV_BASENAME RUN_HV [N]
set -u
hv=$(realpath "$1.elf"); hv=${hv%.elf}
run_hv=$(realpath "$2")
n=${3:-300000}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export HVSIM_ORACLE_TIMEOUT=300

engines="qemu bochs-intel bochs-amd"
[ -n "${HVSIM:-}" ] && engines="hvsim-intel hvsim-amd $engines"

seconds() {   # seconds ENGINE KIND ITERATIONS -> CPU time of one run (SLAT mode)
  local out="$tmp/$1-$2-$3" TIMEFORMAT='%3U %3S'
  { time "$run_hv" "$1" "slat bench=$2:$3" "$hv" "$out" >/dev/null 2>&1; } 2> "$tmp/cpu" ||
    echo "bench: $1 $2 $3 failed (see $out)" >&2
  grep -q "# bench kind=$2 iterations=$3\$" "$out/serial.txt" 2>/dev/null ||
    echo "bench: $1 $2 $3: the guest did not report its loop" >&2
  awk '{printf "%.3f", $1 + $2}' "$tmp/cpu"
}

# The lowest of ROUNDS timings per engine, kind and N estimates the
# undisturbed cost: the first run of an engine also pays for cold caches
# and the kernel's zeroing of fresh memory, and other work on a shared host
# only ever adds time. Each round takes every engine in turn, so a slow
# spell of the host falls on all engines alike, not on whichever ran then.
rounds=${HVSIM_BENCH_ROUNDS:-5}
declare -A best
for ((round = 1; round <= rounds; round++)); do
  for engine in $engines; do
    for kind in cpuid hypercall; do
      for iters in 0 "$n"; do
        t=$(seconds "$engine" "$kind" "$iters")
        key=$engine,$kind,$iters
        best[$key]=$(awk -v a="${best[$key]:-}" -v b="$t" 'BEGIN{printf "%.3f", (a == "" || b < a) ? b : a}')
      done
    done
  done
done

printf '%-12s %-10s %10s %10s %14s\n' ENGINE EXIT BASE_CPU_S RUN_CPU_S ROUNDTRIPS/S
declare -A rate
for engine in $engines; do
  for kind in cpuid hypercall; do
    base=${best[$engine,$kind,0]}
    run=${best[$engine,$kind,$n]}
    r=$(awk -v n="$n" -v a="$base" -v b="$run" 'BEGIN{d = b - a; printf "%.0f", (d > 0 ? n / d : 0)}')
    rate[$engine,$kind]=$r
    printf '%-12s %-10s %10.2f %10.2f %14s\n' "$engine" "$kind" "$base" "$run" "$r"
  done
done
echo
# Every engine against Bochs (its Intel and its AMD model) and QEMU.
for kind in cpuid hypercall; do
  for engine in $engines; do
    awk -v k="$kind" -v e="$engine" -v r="${rate[$engine,$kind]}" -v b="${rate[bochs-intel,$kind]:-0}" \
        -v ba="${rate[bochs-amd,$kind]:-0}" -v q="${rate[qemu,$kind]:-0}" \
      'BEGIN{printf "%-10s %-12s /bochs-intel %6.2fx   /bochs-amd %6.2fx   /qemu %6.2fx\n", k, e,
             (b > 0 ? r / b : 0), (ba > 0 ? r / ba : 0), (q > 0 ? r / q : 0)}'
  done
done
