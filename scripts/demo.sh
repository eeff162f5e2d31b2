#!/usr/bin/env bash
# `make demo`: the main job on its embedded default. The hypervisor core
# hv.elf boots on hvsim and runs its test guest, on each vendor's CPU model
# (VMX on skylake-x, SVM on zen) and in both memory modes (SLAT, shadow
# paging). The first run's serial output is shown whole; then, per run, the
# guest's verdict, the VM exits by reason and the TLB figures.
set -u
hvsim=${1:-build/default/sim/hvsim}
hv=$(dirname "$hvsim")/../hv/hv.elf
[ -x "$hvsim" ] || { echo "demo: $hvsim not built (run make build)" >&2; exit 1; }
[ -f "$hv" ] || { echo "demo: $hv not built (run make build)" >&2; exit 1; }
log=$(mktemp); trap 'rm -f "$log"' EXIT

echo "== hvsim run --cpu skylake-x hv.elf -- slat (serial output follows)"
"$hvsim" run --mem 64M --cpu skylake-x "$hv" -- slat 2>"$log"
echo "== exit status $? (hv's verdict through isa-debug-exit: value 0 -> status 1)"
echo

failed=0
for cpu in skylake-x zen; do
  for mode in slat shadow; do
    out=$("$hvsim" run --mem 64M --cpu "$cpu" "$hv" -- "$mode" 2>"$log")
    status=$?
    verdict=$(printf '%s\n' "$out" | grep -E '^(PASS|FAIL)$' | tail -1)
    checks=$(printf '%s\n' "$out" | grep -c '^guest: ok')
    [ "$verdict" = PASS ] && [ "$status" -eq 1 ] || failed=1
    echo "== $cpu, $mode: ${verdict:-no verdict} ($checks guest checks passed, exit status $status)"
    # Exits by reason, largest first, from the extension's report.
    grep -E '^(vmx: exit|svm: #VMEXIT)' "$log" | sed -E 's/^(vmx: exit [0-9]+ |svm: #VMEXIT )//' |
      tr -d ':' | awk '{n = $NF; $NF = ""; printf "%s %s\n", n, $0}' | sort -rn |
      awk 'BEGIN{printf "   exits:"} {printf " %s %s", $2, $1} END{print ""}'
    grep -E '^mmu: [0-9]' "$log" | sed 's/^mmu: /   tlb:  /'
  done
done
exit $failed
