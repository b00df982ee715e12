#!/bin/sh
# Lab scenario kvm: the lab's KVM is a real SVM KVM with nested paging,
# not kvm_pvm, and it runs the guest ring-0 instructions that README.md's
# platform notes say fail on kvm_pvm (/lab/bin/kvm_probe, built from
# tests/lab/kvm_probe.c, checks them one VM each).
echo "1..10"
n=0
check() {
    n=$((n + 1))
    if eval "$1"; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
check '[ -c /dev/kvm ]' "/dev/kvm is a character device"
check '[ -d /sys/module/kvm_amd ]' "the vendor module is kvm_amd"
npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null)
check 'case $npt in 1|Y) true;; *) false;; esac' \
    "nested paging on (kvm_amd npt=$npt)"
check '[ ! -d /sys/module/kvm_pvm ]' "not kvm_pvm"
/lab/bin/kvm_probe --first 5
# Facts for whoever reads a pvclock or timer result from the lab.
cs=/sys/devices/system/clocksource/clocksource0
echo "# lab CPUs: $(cat /sys/devices/system/cpu/online)," \
    "clocksource: $(cat $cs/current_clocksource)" \
    "(available: $(cat $cs/available_clocksource))"
dmesg | grep -iE 'tsc|clocksource' | sed 's/^/# dmesg: /' | tail -n 12
