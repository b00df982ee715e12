#!/bin/bash
# build-lab.sh [OUTDIR] — build the lab VM: Debian's current kernel and an
# initramfs holding busybox, the KVM modules, xen-hv with its daemons and
# tests, and the L2 Linux guest (issue 7, "The lab VM").
#
# OUTDIR (default XEN_ROOT/build/lab) receives:
#   cache/KVER.deb, cache/KVER/   the kernel package and its unpacked tree
#   vmlinuz                       the lab (L1) kernel
#   lab.cpio.gz                   the lab initramfs (cpio newc, gzip)
#   l2/vmlinux                    the L2 kernel: ELF from vmlinuz's xz payload
#   l2/initrd.cpio.gz             the L2 busybox initramfs (xen-blkfront,
#                                 xen-netfront)
#   lab-l2.cpio                   lab.cpio.gz followed by an uncompressed
#                                 cpio with l2/ (the kernel unpacks both),
#                                 used by scenarios that boot Linux in L2
#   lab-bench.cpio                lab-l2.cpio plus QEMU (binary, shared
#                                 libraries, BIOS and option ROMs), only
#                                 with LAB_WITH_QEMU=1 (linux-bootbench)
#   kernel.version, inputs.stamp  what the cached files were built from
#
# The kernel is the package linux-image-amd64 depends on, resolved with
# apt-cache each run (never a fixed version), fetched with apt-get download
# and unpacked with dpkg-deb -x (never installed).  Kernel stages are
# redone only when that package changes; the initramfs when a project
# binary or a tests/lab file changes.
# Exit status: 0 built (or up to date), 1 failure (the last line of stderr
# says why).
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
XEN_ROOT=${XEN_ROOT:-$(cd "$LAB/../.." && pwd)}
OUT=${1:-$XEN_ROOT/build/lab}
mkdir -p "$OUT/cache" "$OUT/l2"
OUT=$(cd "$OUT" && pwd)

die() {
    echo "build-lab: $*" >&2
    exit 1
}

HOST_TOOLS="nohup flock"
# e2fsprogs for linux-disk: make and read the guest's ext4 image.
HOST_SBIN_TOOLS="mke2fs debugfs e2fsck"
for tool in apt-cache apt-get dpkg-deb modinfo cpio gzip xz readelf ldd od \
    $HOST_SBIN_TOOLS; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "$tool not found (make deps installs the lab packages)"
done
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || die "busybox not found (apt-get install busybox-static)"
# The initramfs has no C library for busybox: it must be the static one.
if ldd "$BUSYBOX" >/dev/null 2>&1; then
    die "$BUSYBOX is dynamically linked (apt-get install busybox-static)"
fi

for f in xen-hv/xen-hv toolstack/xl/xl toolstack/xencommons \
    xenstore/xenstored/xenstored; do
    [ -x "$XEN_ROOT/$f" ] || die "$XEN_ROOT/$f is not built (run make)"
done

# --- 1. Debian's current kernel package ---------------------------------
# linux-image-amd64 is a metapackage; its Depends names the real image.
KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
[ -n "$KPKG" ] || die "apt-cache cannot resolve linux-image-amd64 (apt-get update?)"
KVER=${KPKG#linux-image-}
KTREE=$OUT/cache/$KVER
if [ ! -f "$KTREE/.unpacked" ]; then
    echo "build-lab: fetching $KPKG" >&2
    rm -rf "$KTREE"
    (cd "$OUT/cache" && apt-get download "$KPKG" >&2) ||
        die "apt-get download $KPKG failed"
    deb=$(ls -t "$OUT/cache/${KPKG}_"*.deb 2>/dev/null | head -n 1)
    [ -n "$deb" ] || die "no .deb for $KPKG after download"
    mkdir -p "$KTREE"
    dpkg-deb -x "$deb" "$KTREE" || die "dpkg-deb -x $deb failed"
    touch "$KTREE/.unpacked"
fi
VMLINUZ=$KTREE/boot/vmlinuz-$KVER
MODDIR=$KTREE/lib/modules/$KVER
[ -f "$VMLINUZ" ] || die "$VMLINUZ missing from $KPKG"
cp -u "$VMLINUZ" "$OUT/vmlinuz"

# --- 2. vmlinux for L2: the xz payload of the bzImage ---------------------
# Linux's Documentation/arch/x86/boot.rst: setup_sects at 0x1f1 (the
# protected-mode code starts at (setup_sects + 1) * 512), payload_offset
# (u32 at 0x248) locates the compressed kernel within it.
extract_vmlinux() {
    local img=$1 dst=$2 sects poff start
    sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$img" | tr -d ' ')
    read -r poff _ < <(od -An -tu4 -j $((0x248)) -N8 "$img")
    [ "${sects:-0}" -ne 0 ] || sects=4
    start=$(((sects + 1) * 512 + poff))
    # The payload must be an xz stream (magic FD '7zXZ' 00).
    [ "$(od -An -tx1 -j "$start" -N6 "$img" | tr -d ' ')" = fd377a585a00 ] ||
        die "$img: payload is not xz (compressed otherwise?)"
    # The payload ends with the decompressed size, which is not xz data:
    # --single-stream stops at the end of the stream (and leaves tail
    # unread, hence no pipe).
    xz -dc --single-stream <(tail -c +$((start + 1)) "$img") >"$dst.tmp" ||
        die "xz payload of $img"
    # Xen's public/elfnote.h: XEN_ELFNOTE_PHYS32_ENTRY is note type 18
    # (0x12) with owner "Xen"; PVH (and xen-hv) boots through it.
    readelf -n "$dst.tmp" | grep -Eq 'Xen +0x[0-9a-f]+[[:space:]]+.*\(0x00000012\)' ||
        die "$dst: no XEN_ELFNOTE_PHYS32_ENTRY note"
    mv "$dst.tmp" "$dst"
}
if [ ! -f "$OUT/l2/vmlinux" ] || [ "$(cat "$OUT/kernel.version" 2>/dev/null)" != "$KVER" ]; then
    echo "build-lab: extracting vmlinux from $VMLINUZ" >&2
    extract_vmlinux "$VMLINUZ" "$OUT/l2/vmlinux"
fi

# --- module lookup ---------------------------------------------------------
# Module names in 'depends' use '_' or '-' freely: compare with '_'.
find "$MODDIR" -name '*.ko' -o -name '*.ko.xz' >"$OUT/cache/modules.list"
mod_path() {
    local want=${1//-/_} f b
    while read -r f; do
        b=${f##*/}
        b=${b%.xz}
        b=${b%.ko}
        if [ "${b//-/_}" = "$want" ]; then
            echo "$f"
            return 0
        fi
    done <"$OUT/cache/modules.list"
    return 1
}
# mod_order NAME...: NAME and its dependencies (modinfo -F depends on the
# unpacked file), dependencies first, each once.
declare -A MOD_SEEN
MOD_ORDER=()
mod_order() {
    local m f dep
    for m in "$@"; do
        m=${m//-/_}
        [ -z "${MOD_SEEN[$m]:-}" ] || continue
        MOD_SEEN[$m]=1
        f=$(mod_path "$m") || die "module $m not in $KPKG"
        for dep in $(modinfo -F depends "$f" | tr , ' '); do
            mod_order "$dep"
        done
        MOD_ORDER+=("$f")
    done
}
# mod_install DIR FILE...: put each module into DIR as NAME.ko
# (decompressed: busybox insmod takes plain ELF) and list the names in
# load order in DIR/order.
mod_install() {
    local dir=$1 f b
    shift
    mkdir -p "$dir"
    : >"$dir/order"
    for f in "$@"; do
        b=${f##*/}
        b=${b%.xz}
        case $f in
        *.xz) xz -dc "$f" >"$dir/$b" ;;
        *) cp "$f" "$dir/$b" ;;
        esac
        echo "${b%.ko}" >>"$dir/order"
    done
}

# --- 3. the L2 initramfs ---------------------------------------------------
L2STAGE=$OUT/cache/l2-stage
if [ ! -f "$OUT/l2/initrd.cpio.gz" ] || [ "$LAB/l2-init" -nt "$OUT/l2/initrd.cpio.gz" ] ||
    [ "$LAB/build-lab.sh" -nt "$OUT/l2/initrd.cpio.gz" ] ||
    [ "$(cat "$OUT/kernel.version" 2>/dev/null)" != "$KVER" ]; then
    echo "build-lab: L2 initramfs" >&2
    rm -rf "$L2STAGE"
    mkdir -p "$L2STAGE"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,mnt}
    cp "$BUSYBOX" "$L2STAGE/bin/busybox"
    ln -s busybox "$L2STAGE/bin/sh"
    MOD_SEEN=()
    MOD_ORDER=()
    # ext4 (a module in Debian's kernel) with crc32c, its soft
    # dependency, for linux-disk's xvda.
    mod_order xen-blkfront xen-netfront crc32c_generic ext4
    mod_install "$L2STAGE/lib/modules" "${MOD_ORDER[@]}"
    cp "$LAB/l2-init" "$L2STAGE/init"
    chmod 755 "$L2STAGE/init"
    (cd "$L2STAGE" && find . | LC_ALL=C sort |
        cpio -o -H newc -R 0:0 --quiet | gzip -9) >"$OUT/l2/initrd.cpio.gz.tmp"
    mv "$OUT/l2/initrd.cpio.gz.tmp" "$OUT/l2/initrd.cpio.gz"
fi
echo "$KVER" >"$OUT/kernel.version"

# --- 4. the lab initramfs --------------------------------------------------
# Project files, at the same absolute path as on the host: xencommons has
# XEN_ROOT built in, examples/hello.cfg names its kernel relative to it.
project_files() {
    local f
    (
        cd "$XEN_ROOT"
        for f in xen-hv/xen-hv xenstore/xenstored/xenstored \
            backends/console/xenconsoled backends/console/xenconsole \
            toolstack/xl/xl toolstack/xencommons toolstack/xlcfg-check \
            backends/blk/blkback \
            tests/guest/run-guest.sh tests/tap-run.sh \
            tests/dom0/blkfront/pattern.h; do
            [ -f "$f" ] && echo "$f"
        done
        # xenstore's command-line clients: the xenstore binary and its
        # xenstore-read ... symlinks (copied as files: it looks at argv[0]).
        find xenstore -maxdepth 2 \( -type f -o -type l \) -perm -u+x \
            ! -name '*.sh' ! -name '*.[ch]' 2>/dev/null
        find examples -type f 2>/dev/null
        find frontends -name '*.elf' 2>/dev/null
        find tests/guest -name '*.elf' -o -name test.conf 2>/dev/null
        find tests/dom0 \( -name '*.elf' -o -name 'test_*' \) -type f \
            -perm -u+x ! -name '*.c' 2>/dev/null
        find tests/lab -type f 2>/dev/null
        # The toolstack tests (lab.toolstack-tests); their guests are the
        # .elf files above, pattern.h gives test_xl_blkback its disk size.
        find tests/toolstack -name '*.sh' -type f 2>/dev/null
    ) | LC_ALL=C sort -u
}

# build_bench: with LAB_WITH_QEMU=1, lab-bench.cpio: lab-l2.cpio followed
# by an uncompressed cpio with QEMU at its host paths (the binary finds its
# firmware in ../share beside it): its shared libraries, SeaBIOS and the
# option ROMs a PVH -kernel boot loads (pvh.bin; kvmvapic.bin for the
# in-kernel LAPIC).  Only linux-bootbench needs it (50+ MB more).
build_bench() {
    local qemu stage f lib
    [ "${LAB_WITH_QEMU:-0}" = 1 ] || return 0
    qemu=$(command -v qemu-system-x86_64) ||
        die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
    if [ -f "$OUT/lab-bench.cpio" ] && [ "$OUT/lab-bench.cpio" -nt "$OUT/lab-l2.cpio" ] &&
        [ "$OUT/lab-bench.cpio" -nt "$qemu" ]; then
        return 0
    fi
    echo "build-lab: lab-bench.cpio (QEMU for linux-bootbench)" >&2
    stage=$OUT/cache/qemu-stage
    rm -rf "$stage"
    mkdir -p "$stage/usr/bin" "$stage/usr/share/qemu" "$stage/usr/share/seabios"
    cp -L "$qemu" "$stage/usr/bin/qemu-system-x86_64"
    for f in pvh.bin kvmvapic.bin linuxboot_dma.bin; do
        cp -L "/usr/share/qemu/$f" "$stage/usr/share/qemu/$f" ||
            die "/usr/share/qemu/$f missing (qemu-system-data)"
    done
    cp -L /usr/share/seabios/bios-256k.bin "$stage/usr/share/seabios/" ||
        die "/usr/share/seabios/bios-256k.bin missing (seabios)"
    ldd "$qemu" | grep -o '/[^ ]*' | LC_ALL=C sort -u | while read -r lib; do
        mkdir -p "$stage$(dirname "$lib")"
        cp -L "$lib" "$stage$lib"
    done
    {
        cat "$OUT/lab-l2.cpio"
        (cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet)
    } >"$OUT/lab-bench.cpio.tmp"
    mv "$OUT/lab-bench.cpio.tmp" "$OUT/lab-bench.cpio"
}

STAMP=$OUT/inputs.stamp
{
    echo "kernel $KVER"
    echo "busybox $(stat -c %s "$BUSYBOX") tools $HOST_TOOLS $HOST_SBIN_TOOLS"
    project_files | while read -r f; do
        stat -c "%n %s %Y" "$XEN_ROOT/$f"
    done
} >"$STAMP.new"
if [ -f "$OUT/lab.cpio.gz" ] && [ -f "$OUT/lab-l2.cpio" ] &&
    cmp -s "$STAMP.new" "$STAMP"; then
    rm -f "$STAMP.new"
    build_bench
    echo "build-lab: $OUT is up to date (kernel $KVER)" >&2
    exit 0
fi

echo "build-lab: lab initramfs (kernel $KVER)" >&2
STAGE=$OUT/cache/lab-stage
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,var/log,var/lib,root,etc,lab}
chmod 1777 "$STAGE/tmp"
mkdir -m 1777 "$STAGE/var/tmp"
cp "$BUSYBOX" "$STAGE/bin/busybox"
ln -s busybox "$STAGE/bin/sh"
# The kernel opens /dev/console for init before devtmpfs is mounted.
mknod -m 600 "$STAGE/dev/console" c 5 1 2>/dev/null || true

MOD_SEEN=()
MOD_ORDER=()
mod_order kvm kvm-amd
mod_install "$STAGE/lab/modules" "${MOD_ORDER[@]}"

project_files | while read -r f; do
    mkdir -p "$STAGE$XEN_ROOT/$(dirname "$f")"
    cp -p "$XEN_ROOT/$f" "$STAGE$XEN_ROOT/$f"
done
# The ring-0 instruction probe of scenario kvm, built with the host's
# compiler (its C library is copied like the others').
mkdir -p "$OUT/bin" "$STAGE/lab/bin"
if [ ! -x "$OUT/bin/kvm_probe" ] || [ "$LAB/kvm_probe.c" -nt "$OUT/bin/kvm_probe" ]; then
    ${CC:-cc} -O2 -Wall -Wextra -o "$OUT/bin/kvm_probe" "$LAB/kvm_probe.c" ||
        die "cannot build $LAB/kvm_probe.c"
fi
cp "$OUT/bin/kvm_probe" "$STAGE/lab/bin/kvm_probe"
# The pty driver of the console scenarios and the boot benchmark.
if [ ! -x "$OUT/bin/ptyexpect" ] || [ "$LAB/ptyexpect.c" -nt "$OUT/bin/ptyexpect" ]; then
    ${CC:-cc} -O2 -Wall -Wextra -o "$OUT/bin/ptyexpect" "$LAB/ptyexpect.c" ||
        die "cannot build $LAB/ptyexpect.c"
fi
cp "$OUT/bin/ptyexpect" "$STAGE/lab/bin/ptyexpect"
# Host tools the project's scripts use that busybox lacks (xencommons
# starts the daemons under nohup).
for tool in $HOST_TOOLS; do
    p=$(command -v "$tool") || die "$tool not found on the host"
    cp -L "$p" "$STAGE/usr/bin/$tool"
done
for tool in $HOST_SBIN_TOOLS; do
    p=$(command -v "$tool") || die "$tool not found on the host"
    cp -L "$p" "$STAGE/usr/sbin/$tool"
done
ln -s mke2fs "$STAGE/usr/sbin/mkfs.ext4"
[ -f /etc/mke2fs.conf ] && cp /etc/mke2fs.conf "$STAGE/etc/mke2fs.conf"
# Shared libraries of every dynamic ELF executable, at their host paths.
find "$STAGE$XEN_ROOT" "$STAGE/usr/bin" "$STAGE/usr/sbin" "$STAGE/lab/bin" \
    -type f -perm -u+x | while read -r f; do
    [ "$(head -c 4 "$f" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || continue
    ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true
done | LC_ALL=C sort -u | while read -r lib; do
    [ -e "$lib" ] || continue
    mkdir -p "$STAGE$(dirname "$lib")"
    cp -L "$lib" "$STAGE$lib"
done
cp "$LAB/lab-init" "$STAGE/init"
chmod 755 "$STAGE/init"
echo "$XEN_ROOT" >"$STAGE/lab/xen_root"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$STAGE/etc/passwd"
printf 'root:x:0:\n' >"$STAGE/etc/group"

(cd "$STAGE" && find . | LC_ALL=C sort |
    cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$OUT/lab.cpio.gz.tmp"
mv "$OUT/lab.cpio.gz.tmp" "$OUT/lab.cpio.gz"

# The L2 files go uncompressed: the lab kernel copies them instead of
# inflating 60+ MiB under TCG.
L2CPIO=$OUT/cache/l2-files
rm -rf "$L2CPIO"
mkdir -p "$L2CPIO/lab/l2"
ln "$OUT/l2/vmlinux" "$L2CPIO/lab/l2/vmlinux" 2>/dev/null ||
    cp "$OUT/l2/vmlinux" "$L2CPIO/lab/l2/vmlinux"
cp "$OUT/l2/initrd.cpio.gz" "$L2CPIO/lab/l2/initrd.cpio.gz"
# The kernel looks for the next archive at a multiple of 4 bytes after
# the gzip member ends; zero padding to 512 bytes is skipped.
size=$(stat -c %s "$OUT/lab.cpio.gz")
{
    cat "$OUT/lab.cpio.gz"
    head -c $(((512 - size % 512) % 512)) /dev/zero
    (cd "$L2CPIO" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet)
} >"$OUT/lab-l2.cpio.tmp"
mv "$OUT/lab-l2.cpio.tmp" "$OUT/lab-l2.cpio"
mv "$STAMP.new" "$STAMP"
build_bench
echo "build-lab: built $OUT (kernel $KVER)" >&2
