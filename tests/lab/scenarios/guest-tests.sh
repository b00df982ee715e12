#!/bin/sh
# Lab scenario guest-tests: xen-hv's guest ABI tests (tests/guest/*/NAME.elf)
# on the lab's real SVM KVM, each judged by tests/guest/run-guest.sh as
# make check does on the host; one TAP line per test, its output as TAP
# comments when it fails.  Runs in XEN_ROOT.
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
out=/tmp/guest-test.out
for dir in $dirs; do
    i=$((i + 1))
    name=${dir##*/}
    read -r t0 _ </proc/uptime
    sh tests/guest/run-guest.sh "$dir" >"$out" 2>&1
    status=$?
    read -r t1 _ </proc/uptime
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    case $status in
    0) echo "ok $i - guest.$name ($secs s)" ;;
    77) echo "ok $i - guest.$name # SKIP $(grep -m1 SKIP "$out")" ;;
    *)
        echo "not ok $i - guest.$name (status $status, $secs s)"
        sed 's/^/#   /' "$out" | tail -n 40
        ;;
    esac
done
