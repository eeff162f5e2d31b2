#!/usr/bin/env bash
# The command line against bad input and its promises: one clear line on
# stderr and a status below 128 for every bad case, byte-identical traces,
# `hvsim cpus` in its documented form. Usage: cli_test.sh HVSIM BOOT_IMAGE
set -u
hvsim=$1 image=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0 passes=0

expect() {   # expect NAME STATUS REGEX -- ARGS...
  local name=$1 want=$2 re=$3; shift 4
  "$hvsim" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  local got=$?
  if [ "$got" -eq "$want" ] && grep -Eq "$re" "$tmp/err" "$tmp/out"; then
    passes=$((passes + 1)); echo "ok - $name"
  else
    fails=$((fails + 1)); echo "not ok - $name (status $got, want $want; stderr: $(head -c 300 "$tmp/err"))"
  fi
}

: >"$tmp/empty"
printf 'not an elf image at all' >"$tmp/text"
head -c 100 "$image" >"$tmp/truncated"

expect "missing image"          2 "cannot open image" -- run "$tmp/nonexistent.elf"
expect "empty image"            2 "image is empty" -- run "$tmp/empty"
expect "non-ELF image"          2 "no multiboot header" -- run "$tmp/text"
expect "truncated image"        2 "truncated|beyond the end|no multiboot header" -- run "$tmp/truncated"
expect "guest touches beyond RAM" 125 "outside RAM" -- run --mem 2M "$image"
expect "unknown option"         2 "unknown option" -- run --bogus "$image"
expect "bad --mem"              2 "bad --mem" -- run --mem lots "$image"
expect "unaligned --mem"        2 "bad --mem" -- run --mem 4097 "$image"
expect "bad --max-insns"        2 "bad --max-insns" -- run --max-insns -5 "$image"
expect "unknown CPU model"      2 "unknown CPU model" -- run --cpu pentium "$image"
expect "option without value"   2 "needs a value" -- run "$image" --cpu
expect "no image"               2 "no image given" -- run
expect "unknown command"        2 "unknown command" -- frobnicate
expect "max-insns stops guest"  124 "max-insns" -- run --max-insns 1000 "$image"
expect "version"                0 "^hvsim [0-9]" -- --version
expect "help"                   0 "usage: hvsim run" -- --help
src=$(cd "$(dirname "$0")/../.." && pwd)
expect "explain-vmcs names the failing check" 1 "FAIL VMX_ENTRY_CTLS_ENTRY_RESERVED" -- explain-vmcs "$src/conformance/vmx/dumps/skylake_bad_entry.txt"
expect "explain-vmcb names the failing check" 1 "FAIL SVM_VMRUN_" -- explain-vmcb "$src/conformance/svm/sample_vmcb.txt"
expect "explain-vmcs missing dump" 2 "cannot open dump" -- explain-vmcs "$tmp/none.txt"
expect "explain-vmcs malformed dump" 2 ":1:" -- explain-vmcs "$tmp/text"
expect "explain-vmcb unknown model" 2 "unknown CPU model" -- explain-vmcb --cpu zen80 "$tmp/text"
expect "cpus format"            0 "^[a-z0-9-]+ (intel|amd) .+" -- cpus

# Each vendor's default is listed first among its models.
if "$hvsim" cpus | awk '{print $2}' | grep -q intel && "$hvsim" cpus | awk '{print $2}' | grep -q amd; then
  passes=$((passes + 1)); echo "ok - cpus lists an intel and an amd model"
else fails=$((fails + 1)); echo "not ok - cpus lists an intel and an amd model"; fi

# Determinism: the same run twice gives byte-identical traces and digests.
"$hvsim" run --mem 64M --trace "$tmp/t1" "$image" >/dev/null 2>"$tmp/e1"
"$hvsim" run --mem 64M --trace "$tmp/t2" "$image" >/dev/null 2>"$tmp/e2"
if cmp -s "$tmp/t1" "$tmp/t2" && grep -q "digest sha256:" "$tmp/t1" && [ "$(grep -o 'sha256:[0-9a-f]*' "$tmp/e1")" = "$(grep -o 'sha256:[0-9a-f]*' "$tmp/e2")" ]; then
  passes=$((passes + 1)); echo "ok - same run, byte-identical trace and digest"
else fails=$((fails + 1)); echo "not ok - same run, byte-identical trace and digest"; fi

# The digest covers the run: another CPU model gives another digest.
"$hvsim" run --mem 64M --cpu zen --trace "$tmp/t3" "$image" >/dev/null 2>&1
if ! cmp -s "$tmp/t1" "$tmp/t3"; then passes=$((passes + 1)); echo "ok - a different run, a different trace"
else fails=$((fails + 1)); echo "not ok - a different run, a different trace"; fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
