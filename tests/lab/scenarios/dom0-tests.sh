#!/bin/sh
# Lab scenario dom0-tests: the control-domain tests
# (tests/dom0/NAME/test_NAME, a dom0 program driving NAME/guest.elf under
# xen-hv's control socket) on the lab's real SVM KVM, each judged by
# tests/tap-run.sh as make check does on the host; one TAP line per test.
# Runs in XEN_ROOT, as root.
. tests/lab/scenarios/lib.sh
XENHV=$XEN_ROOT/xen-hv/xen-hv
export XENHV
n=0
progs=
for prog in tests/dom0/*/test_*; do
    case $prog in *.c) continue ;; esac
    [ -x "$prog" ] || continue
    progs="$progs $prog"
    n=$((n + 1))
done
if [ "$n" -eq 0 ]; then
    echo "1..0 # SKIP no control-domain tests built (make -C tests/dom0)"
    exit 0
fi
echo "1..$n"
i=0
for prog in $progs; do
    i=$((i + 1))
    dir=${prog%/*}
    lab_run_one $i "dom0.${dir##*/}" sh tests/tap-run.sh "$prog" "$dir"
done
