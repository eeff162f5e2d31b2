#!/usr/bin/env bash
# `make bench` (machine part): the same benchmark images on hvsim, QEMU TCG and
# Bochs in one run; guest instructions per second and the ratios. The time
# is the whole run, start-up included (Bochs's BIOS POST, QEMU's and hvsim's
# set-up), so short runs understate every engine alike. Times are printed,
# never asserted. Usage: run-bench.sh HVSIM IMAGE_DIR ORACLES_DIR
set -u
hvsim=$(realpath "$1") images=$(realpath "$2") oracles=$(realpath "$3")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export HVSIM="$hvsim" HVSIM_ORACLE_TIMEOUT=300

seconds() {   # seconds ENGINE IMAGE -> wall time of one run
  local t0 t1
  t0=$(date +%s.%N)
  "$oracles/run-image.sh" "$1" "$images/$2" "$tmp/$1-$2" >/dev/null 2>&1 || echo "bench: $2 failed on $1" >&2
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}'
}

guest_insns() {   # from the image's own "# bench ..." line
  local line
  line=$(grep '^# bench' "$tmp/$1-$2/serial.txt" | head -1)
  case "$2" in
    bench_compute) echo "$line" | awk '{for(i=1;i<=NF;i++){split($i,a,"="); v[a[1]]=a[2]} print v["iterations"]*v["insns_per_iteration"]}' ;;
    bench_memory) echo "$line" | awk '{for(i=1;i<=NF;i++){split($i,a,"="); v[a[1]]=a[2]} print v["passes"]*(v["pages"]*v["insns_per_page"]+v["insns_per_pass"])}' ;;
  esac
}

printf '%-14s %-12s %10s %14s\n' IMAGE ENGINE SECONDS GUEST_MIPS
declare -A mips
for engine in hvsim qemu bochs-intel; do
  for img in bench_compute bench_memory; do
    s=$(seconds "$engine" "$img")
    n=$(guest_insns "$engine" "$img")
    m=$(awk -v n="${n:-0}" -v t="$s" 'BEGIN{printf "%.1f", (t > 0 ? n / t / 1e6 : 0)}')
    mips[$engine,$img]=$m
    printf '%-14s %-12s %10.2f %14.1f\n' "$img" "$engine" "$s" "$m"
  done
done
echo
for img in bench_compute bench_memory; do
  awk -v img="$img" -v h="${mips[hvsim,$img]}" -v b="${mips[bochs-intel,$img]}" -v q="${mips[qemu,$img]}" \
    'BEGIN{printf "%-14s hvsim/bochs %.2fx   hvsim/qemu %.2fx\n", img, (b > 0 ? h / b : 0), (q > 0 ? h / q : 0)}'
done
