#!/bin/sh
# run-guest.sh DIR — run the guest test image DIR/NAME.elf under xen-hv and
# judge its TAP output and exit status.
#
# DIR/test.conf (shell, optional) sets VCPUS (1), MEMORY (MiB, 32),
# EXPECT_EXIT (0), CMDLINE ('') and EXPECT_LOG (a fixed string that must
# appear in the output, e.g. xen-hv's own log line); @HOSTTIME@ in CMDLINE
# becomes `date +%s`.  xen-hv's exit status: 0 poweroff, 64 + SHUTDOWN_* reason
# otherwise (crash 67), 1 launcher error.
# Exit 0 when the plan 1..N is present, N results were printed, none is
# `not ok`, no `Bail out!` appeared and the status is EXPECT_EXIT;
# 77 (skip) without a usable /dev/kvm; 1 otherwise.
set -u
dir=${1:?usage: run-guest.sh DIR}
dir=${dir%/}
name=$(basename "$dir")
here=$(cd "$(dirname "$0")" && pwd)
XENHV=${XENHV:-$here/../../xen-hv/xen-hv}

VCPUS=1
MEMORY=32
EXPECT_EXIT=0
CMDLINE=''
EXPECT_LOG=''
if [ -f "$dir/test.conf" ]; then
    . "$dir/test.conf"
fi
CMDLINE=$(printf '%s' "$CMDLINE" | sed "s/@HOSTTIME@/$(date +%s)/g")

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    echo "1..0 # SKIP /dev/kvm not available (lab.guest-tests runs this on the lab VM's KVM)"
    exit 77
fi
if [ ! -x "$XENHV" ]; then
    echo "run-guest: $XENHV not built" >&2
    exit 1
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout 120 "$XENHV" run "$dir/$name.elf" --vcpus "$VCPUS" \
    --memory "$MEMORY" --cmdline "$CMDLINE" >"$out" 2>&1
status=$?
cat "$out"

fail=0
if grep -q '^1\.\.0 *# *[Ss][Kk][Ii][Pp]' "$out" && [ "$status" -eq 0 ]; then
    exit 77
fi
plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$out" | head -n 1)
oks=$(grep -c '^ok' "$out")
notoks=$(grep -c '^not ok' "$out")
if [ -z "$plan" ]; then
    echo "run-guest: $name: no TAP plan" >&2
    fail=1
elif [ $((oks + notoks)) -ne "$plan" ]; then
    echo "run-guest: $name: planned $plan, ran $((oks + notoks))" >&2
    fail=1
fi
if [ "$notoks" -ne 0 ]; then
    echo "run-guest: $name: $notoks failed" >&2
    fail=1
fi
if grep -q 'Bail out!' "$out"; then
    echo "run-guest: $name: bailed out" >&2
    fail=1
fi
if [ -n "$EXPECT_LOG" ] && ! grep -qF -- "$EXPECT_LOG" "$out"; then
    echo "run-guest: $name: output lacks \"$EXPECT_LOG\"" >&2
    fail=1
fi
if [ "$status" -ne "$EXPECT_EXIT" ]; then
    echo "run-guest: $name: exit status $status, expected $EXPECT_EXIT" >&2
    fail=1
fi
exit $fail
