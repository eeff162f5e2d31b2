#!/bin/sh
# Compares two serial outputs of the same test image line by line.
#
#   compare.sh A.txt B.txt DECLARED
#
# DECLARED lists the lines allowed to differ: one extended regular
# expression per line, each preceded by one or more comment lines ("# ...")
# saying why it may differ (which machine departs from which manual rule).
# Lines matching a declared pattern are removed from both outputs; what is
# left must be identical. Prints the verdict and, on a mismatch, a unified
# diff. Exit status: 0 same, 1 different, 2 bad usage or input.
set -u
[ $# -eq 3 ] || { echo "usage: $0 A.txt B.txt DECLARED" >&2; exit 2; }
a=$1 b=$2 declared=$3
for f in "$a" "$b" "$declared"; do
    [ -f "$f" ] || { echo "compare: missing file $f" >&2; exit 2; }
done
[ -s "$a" ] || { echo "compare: $a is empty (the run printed nothing)" >&2; exit 2; }
[ -s "$b" ] || { echo "compare: $b is empty (the run printed nothing)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/hvsim-compare.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT INT TERM

# Every pattern must carry its reason.
awk -v file="$declared" '
    /^[[:space:]]*$/ { why = 0; next }
    /^#/ { why = 1; next }
    !why { printf "compare: %s:%d: pattern without a comment saying why: %s\n", file, NR, $0 > "/dev/stderr"; bad = 1; next }
    { print }
    END { exit bad }' "$declared" >"$work/patterns" || exit 2

filter() {
    tr -d '\r' <"$1" | if [ -s "$work/patterns" ]; then grep -v -E -f "$work/patterns"; else cat; fi
}
filter "$a" >"$work/a"
filter "$b" >"$work/b"
ignored_a=$(( $(tr -d '\r' <"$a" | wc -l) - $(wc -l <"$work/a") ))
ignored_b=$(( $(tr -d '\r' <"$b" | wc -l) - $(wc -l <"$work/b") ))

if diff -u --label "$a" --label "$b" "$work/a" "$work/b" >"$work/diff"; then
    echo "same: $(wc -l <"$work/a") lines agree ($ignored_a / $ignored_b declared lines ignored)"
    exit 0
fi
echo "DIFFERENT: $a and $b disagree outside the declared lines ($declared):"
cat "$work/diff"
exit 1
