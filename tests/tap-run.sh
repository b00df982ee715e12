#!/bin/sh
# tap-run.sh PROGRAM [ARGS...] — run a TAP-printing test program for CTest.
# Passes when the program exits 0, prints a plan 1..N, and prints N results
# of which none is `not ok`.  A plan `1..0 # SKIP reason` exits 77 (skip).
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" >"$out" 2>&1
status=$?
cat "$out"
if grep -q '^1\.\.0 *# *[Ss][Kk][Ii][Pp]' "$out"; then
    exit 77
fi
plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$out" | head -n 1)
oks=$(grep -c '^ok' "$out")
notoks=$(grep -c '^not ok' "$out")
if [ -z "$plan" ]; then
    echo "tap-run: no TAP plan" >&2
    exit 1
fi
if [ "$notoks" -ne 0 ]; then
    echo "tap-run: $notoks failed" >&2
    exit 1
fi
if [ $((oks + notoks)) -ne "$plan" ]; then
    echo "tap-run: planned $plan, ran $((oks + notoks))" >&2
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "tap-run: exit status $status" >&2
    exit 1
fi
exit 0
