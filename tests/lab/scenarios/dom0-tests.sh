#!/bin/sh
# Lab scenario dom0-tests: the control-domain tests
# (tests/dom0/NAME/test_NAME, a dom0 program driving NAME/guest.elf under
# xen-hv's control socket) on the lab's real SVM KVM, each judged by
# tests/tap-run.sh as make check does on the host; one TAP line per test.
# Runs in XEN_ROOT, as root.
. tests/lab/scenarios/lib.sh
XENHV=$XEN_ROOT/xen-hv/xen-hv
export XENHV
lab_item() {
    dir=${2%/*}
    lab_run_one "$1" "dom0.${dir##*/}" sh tests/tap-run.sh "$2" "$dir"
}
set --
for prog in tests/dom0/*/test_*; do
    case $prog in *.c) continue ;; esac
    [ -x "$prog" ] && set -- "$@" "$prog"
done
lab_run_all "no control-domain tests built (make -C tests/dom0)" "$@"
