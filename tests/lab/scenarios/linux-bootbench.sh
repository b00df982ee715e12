#!/bin/sh
# Lab scenario linux-bootbench (issue 7, benchmark): boot to /init of
# Debian's kernel with the L2 initramfs (l2.mode=bench: its /init prints
# 'l2: init reached at UPTIME s' and powers off) under xen-hv (`xl create
# -c`, daemons already running) against `qemu-system-x86_64 -enable-kvm
# -kernel vmlinux` (QEMU's PVH boot through XEN_ELFNOTE_PHYS32_ENTRY) in
# the same lab run: 512 MiB, 1 vCPU, quiet, RUNS alternating boots each.
# The time is from starting the command to the /init line on its console
# (/lab/bin/ptyexpect timestamps it); lines 'bench linux_boot: ...' carry
# the figures (tests/bench/run.sh picks them up) and the ratio
# xen-hv / QEMU (target <= 1.0).
. tests/lab/scenarios/l2lib.sh
RUNS=3
echo "1..5"

QEMU=$(command -v qemu-system-x86_64)
# boot_time FILE: the seconds to /init in ptyexpect's messages, or nothing.
boot_time() {
    sed -n "s/^ptyexpect: matched 'l2: init reached' at \([0-9.]*\) s$/\1/p" "$1"
}
# guest_uptime FILE: the guest's own uptime at /init, or nothing.
guest_uptime() {
    tr -d '\r' <"$1" | sed -n 's/^l2: init reached at \([0-9.]*\) s.*/\1/p' |
        head -n 1
}
# median of the numbers on stdin (one a line).
median() {
    sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

l2_daemons_start
ok_if '[ $st -eq 0 ]' "xencommons start (status $st)"
l2_cfg /tmp/linux-bench.cfg 512 1 "quiet l2.mode=bench"
# The same command line but the console, in place of l2_cfg's.
sed -i 's/^cmdline = .*/cmdline = "console=hvc0 quiet l2.mode=bench"/' \
    /tmp/linux-bench.cfg

: >/tmp/bench-qemu.times
: >/tmp/bench-xenhv.times
: >/tmp/bench-qemu.uptimes
: >/tmp/bench-xenhv.uptimes
# boot KIND CMD...: one boot of CMD on a pty, timed to the /init line;
# the time and the guest's uptime appended to /tmp/bench-KIND.*; sets t
# (nothing when /init was not reached; the console's tail then shown).
boot() {
    kind=$1
    shift
    out=/tmp/bench-$kind-$r.out
    $PTYX -f 'Kernel panic - not syncing' -f 'PANIC: early exception' \
        -t 120 -e 'l2: init reached' -t 20 -w -- "$@" >"$out" 2>"$out.px"
    t=$(boot_time "$out.px")
    if [ -n "$t" ]; then
        echo "$t" >>/tmp/bench-$kind.times
        guest_uptime "$out" >>/tmp/bench-$kind.uptimes
    else
        tr -d '\r' <"$out" | tail -n 20 | sed "s/^/# $kind: /"
    fi
    sed "s/^/# $kind: /" "$out.px"
    tr -d '\r' <"$out" | grep '^l2: dmesg' | sed "s/^/# $kind: /"
    echo "# run $r $kind: ${t:-no /init} s to /init"
}
qok=0 xok=0
r=0
while [ $r -lt $RUNS ]; do
    r=$((r + 1))
    boot qemu "$QEMU" -enable-kvm -machine pc -cpu host -m 512 -smp 1 \
        -nodefaults -display none -no-reboot -serial stdio \
        -kernel "$L2/vmlinux" -initrd "$L2/initrd.cpio.gz" \
        -append "console=ttyS0 quiet l2.mode=bench"
    [ -n "$t" ] && qok=$((qok + 1))
    boot xenhv $XL create -c /tmp/linux-bench.cfg
    [ -n "$t" ] && xok=$((xok + 1))
    $XL destroy linux >/dev/null 2>&1
    l2_gone 10
    # Without a boot under xen-hv there is nothing to compare: one try.
    [ $xok -eq 0 ] && [ $qok -gt 0 ] && break
done
[ $xok -gt 0 ] && l2_reached=1

qmed=$(median </tmp/bench-qemu.times)
xmed=$(median </tmp/bench-xenhv.times)
qup=$(median </tmp/bench-qemu.uptimes)
xup=$(median </tmp/bench-xenhv.uptimes)
echo "bench linux_boot: qemu_kvm_init_s=${qmed:-?} (median of $qok; guest uptime at /init ${qup:-?} s)"
echo "bench linux_boot: xenhv_xl_init_s=${xmed:-?} (median of $xok; guest uptime at /init ${xup:-?} s)"
ratio=?
if [ -n "$qmed" ] && [ -n "$xmed" ]; then
    ratio=$(awk -v x="$xmed" -v q="$qmed" 'BEGIN { printf "%.3f", x / q }')
fi
echo "bench linux_boot: ratio=$ratio xen-hv/qemu (target <= 1.0; 512 MiB, 1 vCPU, lab: nested SVM under TCG)"
ok_if '[ $qok -eq $RUNS ]' \
    "qemu -enable-kvm -kernel vmlinux (PVH) reaches /init ($qok of $RUNS boots, median ${qmed:-?} s)"
l2_check '[ $xok -eq $RUNS ]' \
    "xl create -c reaches /init under xen-hv ($xok of $RUNS boots, median ${xmed:-?} s)"
l2_check '[ "$ratio" != "?" ]' "the ratio xen-hv/qemu is measured ($ratio)"
l2_daemons_stop
ok_if '[ $st -eq 0 ]' "xencommons stop (status $st)"
