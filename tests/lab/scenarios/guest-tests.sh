#!/bin/sh
# Lab scenario guest-tests: xen-hv's guest ABI tests (tests/guest/*/NAME.elf)
# on the lab's real SVM KVM, each judged by tests/guest/run-guest.sh as
# make check does on the host; one TAP line per test, its output as TAP
# comments when it fails.  Runs in XEN_ROOT.
. tests/lab/scenarios/lib.sh
n=0
dirs=
for elf in tests/guest/*/*.elf; do
    [ -f "$elf" ] || continue
    dirs="$dirs ${elf%/*}"
    n=$((n + 1))
done
if [ "$n" -eq 0 ]; then
    echo "1..0 # SKIP no guest test images (make -C tests/guest)"
    exit 0
fi
echo "1..$n"
i=0
for dir in $dirs; do
    i=$((i + 1))
    lab_run_one $i "guest.${dir##*/}" sh tests/guest/run-guest.sh "$dir"
done
