#!/bin/bash
# xen-hv's command line and loader errors, seen from outside: bad input
# gives a clear message and exit status 1 or 2, never a crash (a signal).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
XENHV=${XENHV:-$ROOT/xen-hv/xen-hv}
KERNEL=$ROOT/frontends/kernel/hello.elf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
check() { # check NAME EXPECTED_STATUS PATTERN -- CMD...
    local name=$1 want=$2 pat=$3
    shift 4
    "$@" >"$tmp/out" 2>&1
    local got=$?
    n=$((n + 1))
    if [ "$got" -eq "$want" ] && grep -qE -- "$pat" "$tmp/out"; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name # status $got (want $want), output: $(head -c 300 "$tmp/out" | tr '\n' ' ')"
        fails=$((fails + 1))
    fi
}
echo "1..14"
check "no arguments is a usage error" 2 "usage: xen-hv run" -- "$XENHV"
check "help prints usage" 0 "usage: xen-hv run" -- "$XENHV" --help
check "run without kernel" 2 "usage" -- "$XENHV" run
check "missing kernel file" 1 "nope.elf: No such file" -- "$XENHV" run "$tmp/nope.elf"
check "memory out of range" 2 "--memory must be" -- "$XENHV" run "$KERNEL" --memory 1
check "memory not a number" 2 "--memory must be" -- "$XENHV" run "$KERNEL" --memory 12x
check "vcpus out of range" 2 "--vcpus must be" -- "$XENHV" run "$KERNEL" --vcpus 33
check "vcpus zero" 2 "--vcpus must be" -- "$XENHV" run "$KERNEL" --vcpus 0
printf 'not an elf at all' >"$tmp/garbage"
if [ -c /dev/kvm ] && [ -r /dev/kvm ]; then
    check "garbage kernel rejected" 1 "garbage: " -- "$XENHV" run "$tmp/garbage"
    if [ -f "$KERNEL" ]; then
        head -c 100 "$KERNEL" >"$tmp/trunc.elf"
        check "truncated ELF rejected" 1 "trunc.elf: " -- "$XENHV" run "$tmp/trunc.elf"
        # An ELF whose note is gone: overwrite the note type with junk.
        python3 - "$KERNEL" "$tmp/nonote.elf" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.find(b'Xen\x00')
while i >= 0:
    # note header is namesz, descsz, type just before the name
    if int.from_bytes(d[i-4:i], 'little') == 18:
        d[i-4:i] = (0x7777).to_bytes(4, 'little')
    i = d.find(b'Xen\x00', i + 1)
open(sys.argv[2], 'wb').write(d)
PY
        check "ELF without PHYS32_ENTRY rejected" 1 "PHYS32_ENTRY" -- "$XENHV" run "$tmp/nonote.elf"
        truncate -s 8M "$tmp/big.img"
        check "initrd larger than RAM rejected" 1 "does not fit in RAM" -- "$XENHV" run "$KERNEL" --memory 4 --initrd "$tmp/big.img"
    else
        for i in 1 2 3; do n=$((n + 1)); echo "ok $n # SKIP $KERNEL not built"; done
    fi
    # SIGTERM destroys the domain: status 3, control socket removed.
    waiter=$ROOT/tests/dom0/evtchn_pingpong/guest.elf
    if [ -f "$waiter" ]; then
        "$XENHV" run "$waiter" --control "$tmp/ctl.sock" >"$tmp/sig.out" 2>&1 &
        pid=$!
        for i in $(seq 50); do [ -S "$tmp/ctl.sock" ] && break; sleep 0.1; done
        sleep 0.3
        kill -TERM $pid
        wait $pid
        st=$?
        n=$((n + 1))
        if [ $st -eq 3 ] && grep -q "destroyed by SIGTERM" "$tmp/sig.out"; then
            echo "ok $n - SIGTERM destroys the domain (status 3, reason logged)"
        else
            echo "not ok $n - SIGTERM: status $st, $(tail -c 200 "$tmp/sig.out" | tr '\n' ' ')"
            fails=$((fails + 1))
        fi
        n=$((n + 1))
        if [ ! -e "$tmp/ctl.sock" ]; then
            echo "ok $n - the control socket is removed"
        else
            echo "not ok $n - the control socket is left behind"
            fails=$((fails + 1))
        fi
    else
        for i in 1 2; do n=$((n + 1)); echo "ok $n # SKIP $waiter not built"; done
    fi
else
    for i in 1 2 3 4 5 6; do n=$((n + 1)); echo "ok $n # SKIP /dev/kvm not usable"; done
fi
[ "$fails" -eq 0 ]
