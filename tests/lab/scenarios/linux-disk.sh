#!/bin/sh
# Lab scenario linux-disk (issue 7, acceptance 3): a raw ext4 image made
# here with mkfs.ext4 (holding /host.txt with a fresh token) is the
# guest's xvda through disk = [ 'format=raw, vdev=xvda, access=rw,
# target=...' ] and our blkback (started by xencommons).  The guest
# (l2.mode=disk in tests/lab/l2-init) loads xen-blkfront, reports
# /sys/block/xvda/size, mounts the ext4, prints /host.txt, writes
# /guest.txt with its own token and 1 MiB of random bytes to /big.bin
# with O_DIRECT (so blkfront sends indirect requests; it reads them back),
# syncs, unmounts and powers off; here
# debugfs reads /guest.txt back without mounting and e2fsck checks the
# file system.
. tests/lab/scenarios/l2lib.sh
echo "1..16"
img=/tmp/xvda.img
src=/tmp/xvda-src
out=/tmp/linux-disk.out
htok=$(l2_token)
gtok=$(l2_token)
# 64 MiB: /sys/block/xvda/size counts 512-byte sectors.
IMG_MIB=64
SECTORS=$((IMG_MIB * 2048))

rm -rf "$src" "$img"
mkdir -p "$src"
echo "written by the host $htok" >"$src/host.txt"
mkfs.ext4 -q -F -d "$src" "$img" ${IMG_MIB}M >/tmp/mkfs.out 2>&1
mst=$?
sed 's/^/# mkfs.ext4: /' /tmp/mkfs.out
back=$(debugfs -R 'cat /host.txt' "$img" 2>/dev/null)
ok_if '[ $mst -eq 0 ] && [ "$(stat -c %s "$img")" -eq $((IMG_MIB << 20)) ] && [ "$back" = "written by the host $htok" ]' \
    "mkfs.ext4 -d makes a ${IMG_MIB} MiB image with /host.txt (debugfs reads it back)"

l2_daemons_start
ok_if '[ $st -eq 0 ]' "xencommons start (status $st)"
ok_if '[ -n "$(cat /run/xen-hv/blkback.pid 2>/dev/null)" ] && kill -0 "$(cat /run/xen-hv/blkback.pid)"' \
    "xencommons started blkback"

l2_cfg /tmp/linux-disk.cfg 512 1 "l2.mode=disk l2.token=$gtok" \
    "disk = [ 'format=raw, vdev=xvda, access=rw, target=$img' ]"
$XL create -c /tmp/linux-disk.cfg >"$out" 2>&1 &
xpid=$!
l2_wait "$out" "l2: init reached" 150 &&
    $XL block-list linux 2>&1 | sed 's/^/# xl block-list: /'
# A guest that does not finish: the vbd's xenstore nodes (states).
vbd_nodes() {
    xenstore/tools/xenstore ls /local/domain/0/backend/vbd 2>&1 |
        head -n 40 | sed 's/^/# backend vbd: /'
    d=$($XL domid linux 2>/dev/null)
    xenstore/tools/xenstore ls "/local/domain/$d/device/vbd" 2>&1 |
        head -n 20 | sed 's/^/# frontend vbd: /'
    tail -n 10 /var/log/xen-hv/blkback.log 2>/dev/null | sed 's/^/# blkback.log: /'
}
l2_finish "$out" $xpid "l2: done" vbd_nodes
l2_check '[ $l2_reached = 1 ]' "the busybox /init runs"
l2_check 'grep -q "^l2: insmod xen-blkfront ok" "$out.txt"' \
    "insmod xen-blkfront"
l2_check 'grep -q "^l2: xvda size: $SECTORS sectors" "$out.txt"' \
    "xvda appears with $SECTORS sectors (/sys/block/xvda/size)"
l2_check 'grep -q "^l2: disk mounted" "$out.txt"' "the guest mounts xvda's ext4"
l2_check 'grep -q "^l2: disk read: written by the host $htok$" "$out.txt"' \
    "the guest reads the file the host wrote"
l2_check 'grep -q "^l2: disk written and unmounted" "$out.txt"' \
    "the guest writes /guest.txt, syncs and unmounts"
gsum=$(sed -n 's/^l2: direct 1 MiB read back: \([0-9a-f]\{32\}\)$/\1/p' "$out.txt")
l2_check '[ -n "$gsum" ]' \
    "the guest writes and reads back 1 MiB with O_DIRECT (indirect requests)"
l2_check 'grep -q "^l2: dmesg check: clean$" "$out.txt"' \
    "dmesg: no WARNING:, BUG:, Oops or xen fail/error line"
l2_check '[ $gone -eq 0 ] && [ $xst -eq 0 ]' \
    "the guest powers off and is destroyed (xl create -c status $xst)"
got=$(debugfs -R 'cat /guest.txt' "$img" 2>/dev/null)
echo "# debugfs cat /guest.txt: $got"
l2_check '[ "$got" = "written by the guest $gtok" ]' \
    "the host reads the guest's /guest.txt after shutdown"
hsum=$(debugfs -R 'cat /big.bin' "$img" 2>/dev/null | md5sum | cut -c1-32)
echo "# /big.bin md5: guest $gsum, host $hsum"
l2_check '[ -n "$gsum" ] && [ "$gsum" = "$hsum" ]' \
    "the host reads the same 1 MiB from /big.bin"
e2fsck -fn "$img" >/tmp/e2fsck.out 2>&1
fst=$?
sed 's/^/# e2fsck: /' /tmp/e2fsck.out
l2_check '[ $fst -eq 0 ] && [ -n "$got" ]' \
    "e2fsck -fn: the file system is clean after the guest's writes (status $fst)"
l2_daemons_stop
ok_if '[ $st -eq 0 ]' "xencommons stop (status $st)"
