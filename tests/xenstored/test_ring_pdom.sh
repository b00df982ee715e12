#!/bin/bash
# test_ring_pdom.sh — xenstored serving a real domain ring: a process
# domain (uid 65534 under `xen-hv daemon`) speaks the ring protocol of
# <xen/io/xs_wire.h> from user space after INTRODUCE.  Checks that every
# READ is answered, that 20 requests written at once (more than the
# per-iteration budget) all come back in order, and that the guest gets
# at most one notification per round trip.  Skips without root (a
# process domain needs no /dev/kvm).  The program is tests/bench/xenstore/bench_xs_ring.c in --tap
# mode.  TAP.
dir=$(cd "$(dirname "$0")" && pwd)
root=${XEN_ROOT:-$dir/../..}
prog=$dir/test_ring_pdom_prog
if ! [ -x "$prog" ]; then
    echo "1..1"
    echo "not ok 1 - test_ring_pdom_prog built (make -C tests/xenstored)"
    exit 1
fi
exec "$prog" --tap "${XENHV:-$root/xen-hv/xen-hv}" \
    "${XENSTORED:-$root/xenstore/xenstored/xenstored}" 300
