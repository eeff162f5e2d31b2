#!/usr/bin/env bash
# `make demo`: the main job on its embedded default. Until the hypervisor
# core (hv/) exists, that is the bundled test images booted on hvsim on each
# vendor's CPU model, with their serial output and a short summary.
set -u
hvsim=${1:-build/default/sim/hvsim}
images=$(dirname "$hvsim")/../conformance/images
[ -x "$hvsim" ] || { echo "demo: $hvsim not built (run make build)" >&2; exit 1; }

echo "== hvsim run $images/boot.elf (serial output follows)"
"$hvsim" run --mem 64M "$images/boot.elf"
echo "   exit status $? (isa-debug-exit value 0 -> status 1, as QEMU)"
echo
printf '%-12s %-10s %-8s %s\n' IMAGE CPU VERDICT "SUMMARY (stderr of hvsim run)"
for cpu in $("$hvsim" cpus | awk '{print $1}'); do
  for img in boot paging exceptions insns doublefault triplefault; do
    [ -f "$images/$img.elf" ] || continue
    out=$("$hvsim" run --mem 64M --cpu "$cpu" "$images/$img.elf" 2>/tmp/hvsim-demo.$$)
    verdict=$(printf '%s\n' "$out" | grep -E '^(PASS|FAIL)$' | tail -1)
    [ -n "$verdict" ] || verdict=$(grep -o '^hvsim: [a-z]*' /tmp/hvsim-demo.$$ | cut -d' ' -f2)
    printf '%-12s %-10s %-8s %s\n' "$img" "$cpu" "$verdict" "$(sed 's/^hvsim: //' /tmp/hvsim-demo.$$ | cut -c1-110)"
  done
done
rm -f /tmp/hvsim-demo.$$
