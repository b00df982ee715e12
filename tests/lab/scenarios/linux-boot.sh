#!/bin/sh
# Lab scenario linux-boot (issue 7, the developers' probe): Debian's own kernel
# (vmlinux from the lab kernel's bzImage, booted through its
# XEN_ELFNOTE_PHYS32_ENTRY) under `xen-hv run` with the L2 busybox
# initramfs, 1 vCPU, 512 MiB, then through xencommons + `xl create -c`
# with 2 vCPUs.  The guest's own /init (tests/lab/l2-init) prints 'l2:'
# lines; everything is printed (the boot console through `xl dmesg`,
# xen-hv's per-vCPU exit counts with XENHV_VCPU_STATS=1), so that a
# developer sees where a guest stops and what it costs.
L2=/lab/l2
out=/tmp/linux-boot.out
echo "1..8"
n=0
# check COND DESC: one step of the boot.
check() {
    n=$((n + 1))
    if eval "$1"; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
    fi
}
if [ ! -f "$L2/vmlinux" ]; then
    echo "Bail out! $L2/vmlinux missing from the lab image"
    exit 1
fi
# watch OUT CMD...: run CMD with its output in OUT; a guest that panics
# early halts for ever, so stop CMD once the output says so (or after
# L2_TIMEOUT seconds) instead of waiting.  Sets st (CMD's status) and
# secs (how long it ran).
watch() {
    wout=$1
    shift
    read -r t0 _ </proc/uptime
    "$@" >"$wout" 2>&1 &
    pid=$!
    limit=$((${L2_TIMEOUT:-120} * 2))
    i=0
    while kill -0 $pid 2>/dev/null; do
        if grep -qE 'PANIC: early exception|Kernel panic - not syncing' \
            "$wout"; then
            sleep 2
            echo "# the guest panicked: stopping $1"
            kill $pid
            break
        fi
        i=$((i + 1))
        if [ $i -gt $limit ]; then
            echo "# no poweroff after ${L2_TIMEOUT:-120} s: stopping $1"
            kill $pid
            break
        fi
        sleep 0.5
    done
    wait $pid
    st=$?
    read -r t1 _ </proc/uptime
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
}
CMDLINE="console=hvc0 earlyprintk=xen keep_bootcon loglevel=7 panic=-1"
L2_TIMEOUT=${L2_TIMEOUT:-40} watch "$out" xen-hv/xen-hv run "$L2/vmlinux" --initrd "$L2/initrd.cpio.gz" \
    --memory 512 --vcpus 1 --stats --cmdline "$CMDLINE"
echo "# xen-hv run: status $st after $secs s; last 60 lines:"
tail -n 60 "$out" | sed 's/^/#   /'
# Name the first Xen-ABI gap when it is the known one: Debian's kernel
# makes hypercalls with vmmcall (xen_hypercall_amd; no hypercall page),
# and Debian's KVM (no CONFIG_KVM_XEN) answers them itself with
# -KVM_ENOSYS (rax 0xfffffffffffffc18) unless xen-hv patches them.
if grep -q 'hypercalls=0 ' "$out" && grep -q 'RAX: fffffffffffffc18' "$out"; then
    echo "# first gap: the guest's hypercalls (vmmcall) never reach xen-hv" \
        "(hypercalls=0); KVM answered -KVM_ENOSYS at" \
        "$(grep -m1 -o 'RIP: [^ ]*' "$out")"
fi
check '[ $st -ne 1 ] && [ $st -ne 2 ]' "xen-hv loads the ELF and runs it (status $st)"
check 'grep -q "Linux version" "$out"' "the kernel prints its banner on the Xen console"
check 'grep -Eq "Booting (paravirtualized )?kernel on Xen PVH" "$out"' \
    "boot console: Booting kernel on Xen PVH"
# Under `xen-hv run` there is no xenconsoled (so no hvc0 for /init's
# output) and no ACPI (so no ACPI poweroff): the boot console (keep_bootcon)
# shows how far the kernel gets; the guest is stopped after L2_TIMEOUT.
check 'grep -q "Run /init as init process" "$out"' \
    "boot console: the kernel starts /init"

# The same guest through the toolstack, as issue 7's scenarios run it.
cat >/tmp/linux.cfg <<CFG
name = "linux"
type = "pvh"
kernel = "$L2/vmlinux"
ramdisk = "$L2/initrd.cpio.gz"
cmdline = "$CMDLINE"
memory = 512
vcpus = 2
on_poweroff = "destroy"
on_crash = "preserve"
CFG
xout=/tmp/linux-xl.out
XENHV_VCPU_STATS=1 toolstack/xencommons start >/tmp/xencommons.out 2>&1
cst=$?
sed 's/^/# xencommons: /' /tmp/xencommons.out
# How long the toolstack takes to build the domain (created paused).
read -r b0 _ </proc/uptime
toolstack/xl/xl create -p /tmp/linux.cfg >/tmp/xl-p.out 2>&1
read -r b1 _ </proc/uptime
echo "# xl create -p (build only): $(awk -v a="$b0" -v b="$b1" 'BEGIN { printf "%.2f", b - a }') s"
toolstack/xl/xl destroy linux >/dev/null 2>&1
watch "$xout" toolstack/xl/xl create /tmp/linux.cfg -c
echo "# xl create -c: status $st after $secs s; the whole console:"
sed 's/^/#   /' "$xout"
check '[ $cst -eq 0 ] && grep -q "Started domain linux" "$xout"' \
    "xencommons start; xl create starts the domain"
check 'grep -q "Linux version" "$xout"' "xl console: the kernel's banner"
check 'grep -q "^l2: init reached" "$xout"' "xl console: the L2 /init runs"
check 'grep -q "^l2: done" "$xout" && [ $st -eq 0 ]' \
    "the guest powers off through ACPI S5, xl create -c exits 0 (status $st)"
toolstack/xl/xl list 2>&1 | sed 's/^/# xl list: /'
toolstack/xl/xl destroy linux >/dev/null 2>&1
# The guest's boot console (CONSOLEIO_write, kept by keep_bootcon) is in
# xen-hv's log: unbuffered, so it shows where a hung guest stopped; then
# xen-hv's per-vCPU counts at destroy (XENHV_VCPU_STATS).
toolstack/xl/xl dmesg 2>&1 | tail -n 40 | sed 's/^/# xl dmesg: /'
toolstack/xencommons stop >/dev/null 2>&1
