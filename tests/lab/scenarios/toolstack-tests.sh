#!/bin/sh
# Lab scenario toolstack-tests: the toolstack tests (tests/toolstack/
# test_*.sh: xencommons, xl create/destroy/devices/balloon/lifecycle on
# private daemons) on the lab's real SVM KVM, each judged by
# tests/tap-run.sh as make check does on the host; one TAP line per test.
# The lab has everything they need, so a test that skips itself here
# (1..0 # SKIP) is 'not ok'; a check a test skips inside (vcpu-pin to CPU
# 1 with the lab's one CPU) is shown as a comment.
# Runs in XEN_ROOT, as root.
. tests/lab/scenarios/lib.sh
# Seconds one test may take (each takes 2-20 s here): a test that hangs
# (an xl console or a wait that never ends) is killed and 'not ok' at
# once, not at the VM's timeout.
LIMIT=${TOOLSTACK_TEST_LIMIT:-180}
# run_judged TEST: tap-run.sh TEST in a process group of its own (setsid),
# all of it (xl, the test's daemons) killed after LIMIT s; a test that
# skips itself fails.
run_judged() {
    setsid sh tests/tap-run.sh "$1" &
    pid=$!
    (
        n=$((LIMIT * 5))
        while [ $n -gt 0 ] && kill -0 "$pid" 2>/dev/null; do
            sleep 0.2
            n=$((n - 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "toolstack-tests: $1 still running after $LIMIT s: killed"
            # What it was waiting for: its processes.
            ps -o pid,pgid,args 2>/dev/null | awk -v g="$pid" '$2 == g'
            kill -TERM -"$pid" 2>/dev/null
            sleep 2
            kill -KILL -"$pid" 2>/dev/null
        fi
    ) &
    wd=$!
    wait "$pid"
    st=$?
    wait "$wd"
    if [ "$st" = 77 ]; then
        echo "toolstack-tests: $1 skipped itself in the lab, where it must run"
        return 1
    fi
    return "$st"
}
lab_item() {
    name=toolstack.$(basename "$2" .sh)
    lab_run_one "$1" "$name" run_judged "$2"
    grep '^ok .*# *SKIP' /tmp/lab-run-one.out | sed "s/^/# $name: /"
}
echo "# lab CPUs online: $(cat /sys/devices/system/cpu/online)"
set --
for t in tests/toolstack/test_*.sh; do
    [ -f "$t" ] && set -- "$@" "$t"
done
lab_run_all "no toolstack tests" "$@"
