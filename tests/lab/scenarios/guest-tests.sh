#!/bin/sh
# Lab scenario guest-tests: xen-hv's guest ABI tests (tests/guest/*/NAME.elf)
# on the lab's real SVM KVM, each judged by tests/guest/run-guest.sh as
# make check does on the host; one TAP line per test, its output as TAP
# comments when it fails.  Runs in XEN_ROOT.
. tests/lab/scenarios/lib.sh
lab_item() {
    dir=${2%/*}
    lab_run_one "$1" "guest.${dir##*/}" sh tests/guest/run-guest.sh "$dir"
}
set --
for elf in tests/guest/*/*.elf; do
    [ -f "$elf" ] && set -- "$@" "$elf"
done
lab_run_all "no guest test images (make -C tests/guest)" "$@"
