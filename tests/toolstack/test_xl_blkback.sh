#!/bin/sh
# test_xl_blkback.sh — xl with the real block backend (backends/blk's
# blkback, started by xencommons): `disk = [...]` and block-attach/-detach
# reach XenbusState InitWait with blkback's nodes, destroy releases the
# vbds, and the guest kernel's blkfront (tests/dom0/blkfront's guest)
# runs its I/O workload on a disk given in an xl.cfg.
. "$(dirname "$0")/lib.sh"

BF=$XEN_ROOT/tests/dom0/blkfront/guest.elf
LONG=$XEN_ROOT/tests/dom0/console/guest.elf
host_check
[ -x "$XEN_ROOT/backends/blk/blkback" ] || skip_all "blkback not built"
[ -f "$BF" ] && [ -f "$LONG" ] || skip_all "tests/dom0 guests not built"
host_start
tap_plan 12
B=/local/domain/0/backend/vbd

"$XENCOMMONS" status >"$T/st" 2>&1
like "$(cat "$T/st")" "blkback: running" "xencommons started blkback"

truncate -s 8M "$T/d.img"
truncate -s 4M "$T/e.img"
cfg "$T/p.cfg" p "$LONG" 'cmdline = "role=main"' \
    "disk = [ '$T/d.img,raw,xvda,rw' ]"
xl create -p -q "$T/p.cfg"
D=$("$XL" domid p)
is "$RC:$("$XSREAD" $B/$D/51712/state)" "0:2" \
    "create -p with a disk: blkback is in InitWait"
is "$("$XSREAD" $B/$D/51712/sectors)" 16384 "blkback published the size (sectors)"
xl block-attach p "vdev=xvdb, target=$T/e.img"
is "$RC:$("$XSREAD" $B/$D/51728/sectors)" "0:8192" "block-attach: a second vbd"
xl block-detach p xvdb
if ! ok "$([ "$RC" = 0 ] && ! "$XSREAD" $B/$D/51728/state >/dev/null 2>&1; echo $?)" \
    "block-detach: blkback closed it, directories gone"; then
    "$XSLS" $B/$D 2>&1 | sed 's/^/# backend: /'
    tail -n 12 "$T/log/blkback.log" 2>&1 | sed 's/^/# blkback.log: /'
fi
xl destroy p
ok "$( ! "$XSREAD" $B/$D/51712/state >/dev/null 2>&1; echo $?)" \
    "destroy removes the vbd"
ok "$(nothing_left; echo $?)" "nothing left"

# The guest's blkfront against blkback, the disk given by xl.cfg.
# The image the guest expects: pattern.h's BF_SECTORS sectors.
SECTORS=$(sed -n 's/^#define BF_SECTORS *\([0-9]*\).*/\1/p' \
    "$XEN_ROOT/tests/dom0/blkfront/pattern.h")
truncate -s $((SECTORS * 512)) "$T/bf.img"
cfg "$T/bf.cfg" bf "$BF" 'cmdline = "devid=51712 seed=7"' \
    "disk = [ '$T/bf.img,raw,xvda,rw' ]" 'on_poweroff = "preserve"'
xl create -q "$T/bf.cfg"
is "$RC" 0 "create bf (blkfront workload on xvda)"
ok "$(wait_for 50 sh -c "[ \"\$($XL list | awk '\$1==\"bf\"{print \$5}')\" = '---s--' ]"; echo $?)" \
    "the guest finished and powered off"
xl console -t serial bf
ok "$(printf '%s\n' "$OUT" | grep -q '^ok ' &&
    ! printf '%s\n' "$OUT" | grep -Eq '^not ok|Bail out'; echo $?)" \
    "its blkfront TAP passed (I/O through blkback)"
D=$("$XL" domid bf)
is "$("$XSREAD" $B/$D/51712/state)" 6 "the frontend closed: backend Closed"
xl destroy bf
ok "$(nothing_left; echo $?)" "nothing left"
tap_end
