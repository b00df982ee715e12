#!/bin/sh
# Lab scenario blkfront-bench (make bench, not a CTest test): the guest
# kernel's blkfront workload (tests/dom0/blkfront: pattern I/O, then 1 MiB
# sequential and 4 KiB random at QD1/QD32 through blkback) on the lab's
# real SVM KVM.  One TAP line for the test; its '# bench:' lines are
# printed as 'bench blk_guest:' lines.  Runs in XEN_ROOT, as root.
XENHV=$XEN_ROOT/xen-hv/xen-hv
export XENHV
prog=tests/dom0/blkfront/test_blkfront
if [ ! -x "$prog" ]; then
    echo "1..0 # SKIP $prog is not built (make)"
    exit 0
fi
echo "1..1"
out=/tmp/blkfront-bench.out
sh tests/tap-run.sh "$prog" tests/dom0/blkfront >"$out" 2>&1
status=$?
sed -n 's/^# guest: # bench: */bench blk_guest: /p' "$out"
if [ $status -eq 0 ]; then
    echo "ok 1 - dom0.blkfront ran the workload"
else
    echo "not ok 1 - dom0.blkfront (status $status)"
    grep -v '^ok ' "$out" | tail -n 40 | sed 's/^/#   /'
fi
