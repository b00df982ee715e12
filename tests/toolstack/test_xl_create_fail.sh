#!/bin/sh
# test_xl_create_fail.sh — `xl create` fails cleanly at every step: each
# failure exits 1 with a reason naming the domain on stderr, and leaves
# nothing behind (no domain in xl list or xen-hv, nothing under
# /local/domain, /vm or /libxl in xenstore, no saved config).  Steps after
# the domain exists are made to fail with $XLDOM_FAIL_STEP.
. "$(dirname "$0")/lib.sh"

export XENCOMMONS_BLKBACK=no # "no backend" must stay true
host_start
tap_plan 33

# left_over: what nothing_left found, as TAP comments.
left_over() {
    {
        "$XL" list
        for p in /local/domain /vm /libxl; do
            for c in $(xs_children $p); do
                [ "$p/$c" = /local/domain/0 ] && continue
                echo "$p/$c:"
                "$XSLS" -p "$p/$c" 2>&1
            done
        done
        echo "saved configs: $(ls "$XENHV_LIBDIR" 2>/dev/null)"
    } | sed 's/^/# left: /'
}

# fail DESC PATTERN XL-ARGS...: create fails with ERR matching PATTERN and
# leaves nothing behind (two test points).
fail() {
    desc=$1
    pat=$2
    shift 2
    xl create -q "$@"
    like "$RC:$ERR" "^1:.*$pat" "$desc: exit 1, says why"
    ok "$(nothing_left; echo $?)" "$desc: nothing left behind" || left_over
}

cfg "$T/ok.cfg" good "$HELLO" 'on_poweroff = "preserve"'
printf 'name = "bad"\nmemory = 32\nkernel = "%s"\nvcpus = [\n' "$HELLO" >"$T/syntax.cfg"
fail "syntax error" "syntax.cfg:[0-9]+:[0-9]+: error" "$T/syntax.cfg"
fail "missing config file" "failed to parse config file" "$T/nope.cfg"
fail "bad kernel path" "good: kernel /nonexistent/k.elf: No such file" \
    "$T/ok.cfg" 'kernel="/nonexistent/k.elf"'
fail "missing ramdisk" "good: ramdisk /nonexistent/rd: No such file" \
    "$T/ok.cfg" 'ramdisk="/nonexistent/rd"'
fail "type pv" "pv.*(not|PVH)" "$T/ok.cfg" 'type="pv"'
XL_DEVICE_TIMEOUT=1 fail "a disk and no block backend" "disk xvda: .*did not reach state 2" \
    "$T/ok.cfg" 'disk=["/tmp/x.img,raw,xvda,rw"]'
echo "not an ELF" >"$T/text.elf"
fail "kernel not an ELF (fails after the domain exists)" "good: kernel .*text.elf" \
    "$T/ok.cfg" "kernel=\"$T/text.elf\""
head -c $((40 << 20)) /dev/zero >"$T/big.rd"
fail "ramdisk larger than RAM" "ramdisk .* does not fit" \
    "$T/ok.cfg" "ramdisk=\"$T/big.rd\""
avail=$(awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo)
if [ "$avail" -lt 65000 ]; then
    fail "memory above what the host has" "good: not enough memory" \
        "$T/ok.cfg" memory=65536
else
    ok 0 "# SKIP host has $avail MiB: cannot ask for too much"
    ok 0 "# SKIP host has $avail MiB"
fi
for step in memory image rings xenstore save introduce; do
    XLDOM_FAIL_STEP=$step
    export XLDOM_FAIL_STEP
    fail "failure after step '$step'" "good: step '$step' failed" "$T/ok.cfg"
done
unset XLDOM_FAIL_STEP

# The same config still works: the failures left no trace behind.
xl create -q "$T/ok.cfg"
is "$RC" 0 "after all that, the config creates a domain"
xl destroy good

# xenstored down: refused before anything is made.
kill "$(cat "$T/xsrun/xenstored.pid")"
wait_for 5 sh -c "! kill -0 $(cat "$T/xsrun/xenstored.pid") 2>/dev/null"
xl create -q "$T/ok.cfg"
like "$RC:$ERR" "^1:.*xenstored is not running" "xenstored down: exit 1, says so"
ok "$([ -z "$(ls "$XENHV_LIBDIR")" ]; echo $?)" \
    "xenstored down: no saved config was written"
tap_end
