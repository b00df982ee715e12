#!/bin/sh
# test_xl_devices.sh — PV block devices through xl block-attach/-detach/
# -list and `disk` in a config: the frontend and backend directories of
# docs/misc/xenstore-paths with their permissions, and the XenbusState
# handshake (<xen/io/xenbus.h>) against a scripted backend that answers
# Initialising -> InitWait -> Connected and Closing -> Closed; timeouts
# when no backend answers leave nothing behind.
. "$(dirname "$0")/lib.sh"

LONG=$XEN_ROOT/tests/dom0/console/guest.elf
XSWRITE=$XEN_ROOT/xenstore/tools/xenstore-write
host_check
[ -f "$LONG" ] || skip_all "tests/dom0/console/guest.elf not built"
export XENCOMMONS_BLKBACK=no # a scripted backend plays blkback here
host_start
tap_plan 24
export XL_DEVICE_TIMEOUT=2

# fake_backend: play blkback for every vbd backend directory until
# $T/stop exists (state 1 -> 2 -> 4, 5 -> 6).
XSLIST=$XEN_ROOT/xenstore/tools/xenstore-list
fake_backend() {
    B=/local/domain/0/backend/vbd
    while [ ! -e "$T/stop" ]; do
        for d in $("$XSLIST" $B 2>/dev/null); do
            for i in $("$XSLIST" $B/$d 2>/dev/null); do
                case "$("$XSREAD" $B/$d/$i/state 2>/dev/null)" in
                1) "$XSWRITE" $B/$d/$i/state 2 && "$XSWRITE" $B/$d/$i/state 4 ;;
                5) "$XSWRITE" $B/$d/$i/state 6 ;;
                esac
            done
        done
        sleep 0.05
    done
}
start_backend() {
    rm -f "$T/stop"
    fake_backend &
    FB=$!
}
stop_backend() {
    touch "$T/stop"
    wait "$FB" 2>/dev/null
}

cfg "$T/long.cfg" long "$LONG" 'cmdline = "role=main"' 'on_poweroff = "preserve"'
xl create -q "$T/long.cfg"
D=$("$XL" domid long)
FE=/local/domain/$D/device/vbd/51728
BE=/local/domain/0/backend/vbd/$D/51728
touch "$T/disk.img"

start_backend
xl block-attach long "format=raw, vdev=xvdb, access=rw, target=$T/disk.img"
is "$RC" 0 "block-attach with a backend that connects"
is "$("$XSREAD" $FE/backend) $("$XSREAD" $FE/backend-id)" "$BE 0" \
    "frontend: backend and backend-id"
is "$("$XSREAD" $FE/virtual-device) $("$XSREAD" $FE/device-type) $("$XSREAD" $FE/state)" \
    "51728 disk 1" "frontend: virtual-device (xvdb), device-type, state"
is "$("$XSREAD" $BE/frontend) $("$XSREAD" $BE/frontend-id) $("$XSREAD" $BE/online)" \
    "$FE $D 1" "backend: frontend, frontend-id, online"
is "$("$XSREAD" $BE/params) $("$XSREAD" $BE/mode) $("$XSREAD" $BE/dev)" \
    "$T/disk.img w xvdb" "backend: params, mode, dev"
like "$("$XEN_ROOT/xenstore/tools/xenstore-ls" -p /local/domain/$D/device/vbd | head -1)" \
    "^51728 = .*\(n$D,r0\)" "frontend dir: owned by the guest, the backend reads"
like "$("$XEN_ROOT/xenstore/tools/xenstore-ls" -p /local/domain/0/backend/vbd/$D | head -1)" \
    "^51728 = .*\(n0,r$D\)" "backend dir: owned by domain 0, the guest reads"
xl block-list long
like "$OUT" "^Vdev +BE +handle +state +evt-ch +ring-ref +BE-path +51728 +0 +51728 +1 +-1 +-1 +$BE" \
    "block-list: Xen's columns and the device"
xl block-attach long "format=raw, vdev=xvdb, access=rw, target=$T/disk.img"
like "$RC:$ERR" "^1:.*already has vbd 51728" "attaching the same vdev again is refused"
xl block-detach long xvdb
is "$RC" 0 "block-detach: the backend closed"
ok "$( ! "$XSREAD" $FE/state >/dev/null 2>&1 && ! "$XSREAD" $BE/state >/dev/null 2>&1; echo $?)" \
    "both directories are gone"
xl block-detach long xvdb
like "$RC:$ERR" "^1:.*has no vbd 51728" "detaching it again: no such device"
stop_backend

# No backend: the attach times out and takes everything back.
xl block-attach long "vdev=xvdc, target=$T/disk.img"
like "$RC:$ERR" "^1:.*did not reach state 4 within 2000 ms" \
    "no backend: block-attach times out"
ok "$( ! "$XSREAD" /local/domain/$D/device/vbd/51744/state >/dev/null 2>&1 &&
    ! "$XSREAD" /local/domain/0/backend/vbd/$D/51744/state >/dev/null 2>&1; echo $?)" \
    "and leaves no directory behind"
start_backend
xl block-attach long "vdev=xvdb, target=$T/disk.img"
stop_backend
xl block-detach long xvdb
like "$RC:$ERR" "^1:.*did not close within 2000 ms.*-f" \
    "a backend that does not close: detach fails, says -f"
xl block-detach -f long xvdb
ok "$([ "$RC" = 0 ] && ! "$XSREAD" $BE/state >/dev/null 2>&1; echo $?)" \
    "block-detach -f removes it anyway"
xl block-attach long "vdev=xvdb, access=maybe, target=/x"
like "$RC:$ERR" "^1:.*invalid disk spec" "a bad disk spec is refused"
xl block-attach nosuch "vdev=xvdb, target=/x"
like "$RC:$ERR" "^1:.*nosuch" "an unknown domain is named"
xl destroy long

# disk = [...] in a config: attached while the guest is paused.
start_backend
cfg "$T/d.cfg" withdisk "$LONG" 'cmdline = "role=main"' \
    "disk = [ '$T/disk.img,raw,xvda,rw' ]"
xl create -q "$T/d.cfg"
D2=$("$XL" domid withdisk)
is "$RC:${D2:+yes}" "0:yes" "create with a disk and a backend"
is "$("$XSREAD" /local/domain/$D2/device/vbd/51712/backend)" \
    "/local/domain/0/backend/vbd/$D2/51712" "its vbd directories were written"
xl destroy withdisk
ok "$( ! "$XSREAD" /local/domain/0/backend/vbd/$D2/51712/state >/dev/null 2>&1; echo $?)" \
    "destroy removes the backend directory too"
stop_backend
xl create -q "$T/d.cfg"
like "$RC:$ERR" "^1:.*disk xvda: .*did not reach state 2" \
    "create with a disk and no backend fails at the handshake"
ok "$(nothing_left; echo $?)" "and leaves nothing behind"
ok "$( [ -z "$(xs_children /local/domain/0/backend/vbd)" ]; echo $?)" \
    "not even a backend directory"
tap_end
