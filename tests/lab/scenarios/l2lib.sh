#!/bin/sh
# Shared by the lab scenarios that run Debian's kernel as an xl domain
# (sourced, in XEN_ROOT): the guest's config, the daemons, console
# capture and TAP results that know whether the guest reached /init.
#
# The guest is /lab/l2/vmlinux with /lab/l2/initrd.cpio.gz, whose /init
# (tests/lab/l2-init) prints 'l2:' lines on hvc0 and acts on l2.mode=.
# Linux boots on xen-hv now: a guest that never reaches /init is a real
# failure of every check about it (there is no TODO any more).

L2=/lab/l2
XL=toolstack/xl/xl
PTYX=/lab/bin/ptyexpect
# The guest's last words when it cannot go on: stop waiting at once.
L2_PANIC_RE='Kernel panic - not syncing|PANIC: early exception'
n=0
l2_reached=0

if [ ! -f "$L2/vmlinux" ] || [ ! -x "$PTYX" ]; then
    echo "Bail out! $L2/vmlinux or $PTYX missing from the lab image"
    exit 1
fi

# ok_if COND DESC: a result that does not depend on Linux booting.
ok_if() {
    n=$((n + 1))
    if eval "$1"; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
    fi
}

# l2_check COND DESC: a result about the guest.
l2_check() {
    n=$((n + 1))
    if eval "$1"; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
    fi
}

# l2_token: a fresh random token ([0-9a-f]{12}) for the guest to echo.
l2_token() {
    head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# l2_cfg FILE MEMORY VCPUS CMDLINE-EXTRA [CFG-LINE...]: the guest's xl.cfg
# (name "linux", PVH, destroyed on poweroff, restarted on reboot).  The
# boot console (earlyprintk=xen: xen-hv's log, `xl dmesg`) stays on
# (keep_bootcon): it shows where a guest stopped even when hvc0 does not.
l2_cfg() {
    f=$1
    mem=$2
    vcpus=$3
    extra=$4
    shift 4
    {
        echo 'name = "linux"'
        echo 'type = "pvh"'
        echo "kernel = \"$L2/vmlinux\""
        echo "ramdisk = \"$L2/initrd.cpio.gz\""
        echo "cmdline = \"console=hvc0 earlyprintk=xen keep_bootcon loglevel=4 panic=-1 $extra\""
        echo "memory = $mem"
        echo "vcpus = $vcpus"
        echo 'on_poweroff = "destroy"'
        echo 'on_reboot = "restart"'
        echo 'on_crash = "preserve"'
        for line in "$@"; do
            echo "$line"
        done
    } >"$f"
}

# l2_daemons_start: toolstack/xencommons start; its output as comments,
# its status in $st.
l2_daemons_start() {
    toolstack/xencommons start >/tmp/xencommons.out 2>&1
    st=$?
    sed 's/^/# xencommons: /' /tmp/xencommons.out
}

# l2_daemons_stop: destroy what is left, xencommons stop; status in $st.
l2_daemons_stop() {
    $XL destroy linux >/dev/null 2>&1
    toolstack/xencommons stop >/tmp/xencommons.out 2>&1
    st=$?
    sed 's/^/# xencommons: /' /tmp/xencommons.out
}

# l2_wait FILE TEXT SECS: wait until FILE holds TEXT (fixed string); 0, or
# 1 after SECS seconds or as soon as the guest panicked.
l2_wait() {
    lim=$(($3 * 5))
    i=0
    while [ $i -lt $lim ]; do
        grep -qF "$2" "$1" 2>/dev/null && return 0
        grep -qE "$L2_PANIC_RE" "$1" 2>/dev/null && return 1
        sleep 0.2
        i=$((i + 1))
    done
    return 1
}

# l2_until_listed SECS yes|no: wait until domain "linux" is (yes) or is
# not (no) listed by `xl list`; 0, or 1 after SECS seconds.
l2_until_listed() {
    lim=$(($1 * 5))
    i=0
    while :; do
        now=no
        $XL list 2>/dev/null | grep -q '^linux ' && now=yes
        [ "$now" = "$2" ] && return 0
        i=$((i + 1))
        [ $i -gt $lim ] && return 1
        sleep 0.2
    done
}

# l2_listed SECS / l2_gone SECS: until domain "linux" is there / gone.
l2_listed() {
    l2_until_listed "$1" yes
}
l2_gone() {
    l2_until_listed "$1" no
}

# l2_clean FILE: FILE without carriage returns (hvc0 writes CR LF), into
# FILE.txt.
l2_clean() {
    tr -d '\r' <"$1" >"$1.txt"
}

# l2_show FILE WHAT: the 'l2:' lines of FILE, or its last 40 lines when
# the guest never reached /init, as TAP comments.
l2_show() {
    if grep -q '^l2: ' "$1"; then
        grep '^l2: ' "$1" | sed "s/^/# $2: /"
    else
        tail -n 40 "$1" | sed "s/^/# $2: /"
    fi
}

# l2_dmesg: the tail of `xl dmesg` (xen-hv's log with the guest's boot
# console, CONSOLEIO_write) while domain linux exists: where a guest that
# never reached /init stopped.
l2_dmesg() {
    $XL dmesg 2>&1 | tail -n 30 | sed 's/^/# xl dmesg: /'
}

# l2_xenhv_log: the tail of xen-hv's log (after a failure).
l2_xenhv_log() {
    tail -n 15 /var/log/xen-hv/xen-hv.log 2>/dev/null | sed 's/^/# xen-hv.log: /'
}

# l2_reap PID SECS: wait up to SECS for PID (a background job of ours) to
# exit, kill it after that; its status in $rst (143: it had to be killed).
l2_reap() {
    lim=$(($2 * 5))
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt $lim ]; do
        sleep 0.2
        i=$((i + 1))
    done
    kill "$1" 2>/dev/null
    wait "$1"
    rst=$?
}

# l2_finish OUT PID TEXT [CMD]: the end of a guest that powers itself off after
# printing TEXT: wait for TEXT (150 s), then for the domain to go
# (on_poweroff destroy, 30 s); destroy it otherwise (after showing `xl
# dmesg` and running CMD, e.g. more diagnostics).  Then reap PID (its `xl create -c`), clean OUT into OUT.txt
# and show its 'l2:' lines.  Sets gone (0: went by itself), xst (PID's
# status) and l2_reached.
l2_finish() {
    gone=1
    if l2_wait "$1" "$3" 150; then
        l2_gone 30
        gone=$?
    fi
    if [ $gone -ne 0 ]; then
        l2_dmesg
        [ -z "${4:-}" ] || eval "$4"
        $XL destroy linux >/dev/null 2>&1
    fi
    # xl create -c ends once the console closes with the domain.
    l2_reap "$2" 10
    xst=$rst
    l2_clean "$1"
    grep -q '^l2: init reached' "$1.txt" && l2_reached=1
    l2_show "$1.txt" console
}
