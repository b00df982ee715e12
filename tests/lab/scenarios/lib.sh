#!/bin/sh
# Shared by the lab scenarios (sourced): TAP for one test program run
# inside the lab.

# lab_run_one N NAME CMD...: run CMD, print 'ok N - NAME (secs)' when it
# exits 0, 'ok N - NAME # SKIP reason' on 77 (its '1..0 # SKIP' line), else
# 'not ok N' followed by its output but the 'ok' lines (the last 60 lines
# of that) as TAP comments.
lab_run_one() {
    n=$1
    name=$2
    shift 2
    out=/tmp/lab-run-one.out
    read -r t0 _ </proc/uptime
    "$@" >"$out" 2>&1
    status=$?
    read -r t1 _ </proc/uptime
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    case $status in
    0) echo "ok $n - $name ($secs s)" ;;
    77)
        echo "ok $n - $name # SKIP $(sed -n 's/^1\.\.0 *# *[Ss][Kk][Ii][Pp] *//p' "$out" | head -n 1)"
        ;;
    *)
        echo "not ok $n - $name (status $status, $secs s)"
        # Every failed check first (a long test's may be far from its
        # end), then the end of what it printed.
        grep '^not ok ' "$out" | sed 's/^/#   failed: /'
        grep -v '^ok ' "$out" | tail -n 60 | sed 's/^/#   /'
        ;;
    esac
}

# lab_run_all REASON ITEM...: plan one result per ITEM and run each with
# the scenario's own 'lab_item N ITEM'; no ITEM: '1..0 # SKIP REASON'.
lab_run_all() {
    reason=$1
    shift
    if [ $# -eq 0 ]; then
        echo "1..0 # SKIP $reason"
        return 0
    fi
    echo "1..$#"
    i=0
    for item in "$@"; do
        i=$((i + 1))
        lab_item $i "$item"
    done
}
