#!/bin/bash
# make bench: run each benchmark and print figure, reference and ratio.
# hypercall: null hypercall (xen_version) round trip through the hypercall
# page, against a raw user-space port-I/O exit of the same shape measured
# by the same guest image in the same run; plus exits per hypercall from
# xen-hv's own counters.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
XENHV=${XENHV:-$ROOT/xen-hv/xen-hv}
img=$ROOT/tests/bench/hypercall/hypercall.elf
if ! [ -c /dev/kvm ] || ! [ -r /dev/kvm ]; then
    echo "bench: /dev/kvm not usable, nothing measured"
    exit 0
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$XENHV" run "$img" --memory 32 --stats >"$out" 2>&1
status=$?
cat "$out"
if [ $status -ne 0 ]; then
    echo "bench: hypercall benchmark failed (status $status)"
    exit 1
fi
line=$(grep -m1 '^hypercall_ns_per_op=' "$out")
exits=$(sed -n 's/.*exits=\([0-9]*\) hypercalls=\([0-9]*\).*/\1 \2/p' "$out")
echo "bench hypercall: ${line}"
if [ -n "$exits" ]; then
    set -- $exits
    # Every hypercall and every port write is one exit: exits should be
    # hypercalls + the two port-I/O loops + a few boot-time exits.
    echo "bench hypercall: total_exits=$1 total_hypercalls=$2"
fi
ratio=$(echo "$line" | sed -n 's/.*ratio=\([0-9.]*\).*/\1/p')
echo "bench hypercall: ratio=${ratio} (target <= 1.15)"
