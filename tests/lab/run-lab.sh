#!/bin/bash
# run-lab.sh SCENARIO [--shell] — boot the lab VM (a real SVM KVM with
# nested paging under QEMU TCG) and run SCENARIO
# (tests/lab/scenarios/SCENARIO.sh) inside it.
#
# The serial console is streamed as TAP comments ('# ...'); the
# scenario's own TAP lines (between the LAB-TAP-BEGIN and LAB-TAP-END
# markers printed by the lab's /init) are passed through as they are.
# Exit status: 0 the scenario passed (plan present, all results printed,
# none 'not ok' other than 'not ok ... # TODO', scenario exit 0); 1 it failed or the VM did not finish;
# 77 skipped ('1..0 # SKIP reason': QEMU missing, image not buildable, or
# the scenario skipped itself).
#
# --shell: an interactive busybox shell in the lab on this terminal
# (modules loaded, XEN_ROOT is the current directory); 'exit' powers the
# lab off, Ctrl-A X quits QEMU at once.
#
# Environment: LAB_OUT (build directory, default XEN_ROOT/build/lab),
# LAB_QEMU (the QEMU binary, default qemu-system-x86_64 on PATH),
# LAB_TIMEOUT (seconds for the whole VM run, default 900), LAB_MEMORY
# (MiB, 2048), LAB_CPUS (1: two TCG CPUs have unsynchronized TSCs),
# LAB_APPEND (extra kernel arguments).
set -u
LAB=$(cd "$(dirname "$0")" && pwd)
XEN_ROOT=$(cd "$LAB/../.." && pwd)
OUT=${LAB_OUT:-$XEN_ROOT/build/lab}
scenario=${1:-}
shell=
[ "${2:-}" = --shell ] && shell=1
[ "$scenario" = --shell ] && shell=1 && scenario=shell
if [ -z "$scenario" ]; then
    echo "usage: run-lab.sh SCENARIO [--shell]" >&2
    exit 2
fi

skip() {
    echo "1..0 # SKIP $*"
    exit 77
}

QEMU=${LAB_QEMU:-$(command -v qemu-system-x86_64 || true)}
[ -n "$QEMU" ] && [ -x "$QEMU" ] || skip "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
mkdir -p "$OUT" || skip "cannot create $OUT"

# One lab VM at a time on this machine (CTest may run tests in parallel):
# the lock also keeps two builds of the image apart.
exec 9>"$OUT/.lock"
flock 9

buildlog=$OUT/build.log
# The boot benchmark runs QEMU inside the lab: only its image holds it.
case $scenario in
linux-bootbench) export LAB_WITH_QEMU=1 ;;
esac
if ! "$LAB/build-lab.sh" "$OUT" >"$buildlog" 2>&1; then
    skip "lab image cannot be built: $(tail -n 1 "$buildlog")"
fi

# Scenarios that boot Linux in L2 need the image with the L2 files.
initrd=$OUT/lab.cpio.gz
case $scenario in
linux-bootbench) initrd=$OUT/lab-bench.cpio ;;
linux-*) initrd=$OUT/lab-l2.cpio ;;
esac
append="console=ttyS0 panic=-1 lab.scenario=$scenario ${LAB_APPEND:-}"
qemu_args=(-accel tcg -cpu EPYC-v3,+svm,+npt -m "${LAB_MEMORY:-2048}"
    -smp "${LAB_CPUS:-1}" -nographic -no-reboot -nodefaults -serial mon:stdio
    -kernel "$OUT/vmlinuz" -initrd "$initrd")

if [ -n "$shell" ]; then
    exec "$QEMU" "${qemu_args[@]}" -append "$append lab.shell=1 loglevel=4"
fi

log=$OUT/$scenario.log
start=$(date +%s.%N)
# 'quiet' keeps the kernel's messages off the serial line, so TAP stays
# readable; the scenario's own output is what matters.
timeout "${LAB_TIMEOUT:-900}" "$QEMU" "${qemu_args[@]}" \
    -append "$append quiet loglevel=3" </dev/null 2>&1 |
    tr -d '\r' | tee "$log" |
    awk '/^LAB-TAP-BEGIN/ { tap = 1; next }
         /^LAB-TAP-END/ { tap = 0; next }
         tap && /^(ok|not ok|1\.\.[0-9]|Bail out!)/ { print; fflush(); next }
         { print "# " $0; fflush() }'
qstatus=${PIPESTATUS[0]}
end=$(date +%s.%N)
echo "# lab: $scenario: $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s wall (qemu status $qstatus)"

tap=$(sed -n '/^LAB-TAP-BEGIN/,/^LAB-TAP-END/p' "$log")
if ! grep -q '^LAB-EXIT ' "$log"; then
    [ "$qstatus" -eq 124 ] && echo "# lab: timed out after ${LAB_TIMEOUT:-900} s"
    echo "Bail out! the lab VM did not finish scenario $scenario (see $log)"
    exit 1
fi
rc=$(sed -n 's/^LAB-EXIT \([0-9]*\).*/\1/p' "$log" | tail -n 1)
if printf '%s\n' "$tap" | grep -q '^1\.\.0 *# *[Ss][Kk][Ii][Pp]'; then
    exit 77
fi
plan=$(printf '%s\n' "$tap" | sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' | head -n 1)
oks=$(printf '%s\n' "$tap" | grep -c '^ok')
# 'not ok ... # TODO reason' is a known xen-hv bug (TAP: not a failure).
notoks=$(printf '%s\n' "$tap" | grep '^not ok' | grep -vc '# *TODO')
todos=$(printf '%s\n' "$tap" | grep '^not ok' | grep -c '# *TODO')
if [ -z "$plan" ] || [ $((oks + notoks + todos)) -ne "$plan" ] ||
    [ "$notoks" -ne 0 ] || [ "${rc:-1}" -ne 0 ]; then
    exit 1
fi
exit 0
