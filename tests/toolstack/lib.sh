# lib.sh — sourced by tests/toolstack/test_*.sh: TAP helpers and a
# private xen-hv host (xen-hv daemon, xenstored, xenconsoled started by
# toolstack/xencommons with every path in a fresh directory), so that the
# tests run in parallel and never touch /run, /var/log or /var/lib.
#
#   XEN_ROOT        the tree (default: two levels up from this file)
#   host_start      start the daemons (TAP skip when the host cannot)
#   xl ARGS...      run xl; OUT, ERR and RC hold what it did
#   ok COND DESC    one TAP line ("ok N - DESC" / "not ok N - DESC")
#   nothing_left    1 when no guest, no xenstore node and no saved config

: "${XEN_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
XL=$XEN_ROOT/toolstack/xl/xl
XENCOMMONS=$XEN_ROOT/toolstack/xencommons
XSLS=$XEN_ROOT/xenstore/tools/xenstore-ls
XSREAD=$XEN_ROOT/xenstore/tools/xenstore-read
HELLO=$XEN_ROOT/frontends/kernel/hello.elf
TAP_N=0
TAP_FAILED=0

tap_plan() { echo "1..$1"; }

skip_all() {
    echo "1..0 # SKIP $1"
    exit 0
}

# ok STATUS DESC: STATUS 0 passes (a shell test's exit status).
ok() {
    _st=$1
    TAP_N=$((TAP_N + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $TAP_N - $2"
    else
        echo "not ok $TAP_N - $2"
        TAP_FAILED=$((TAP_FAILED + 1))
        [ -n "$OUT$ERR" ] && printf '%s\n%s\n' "$OUT" "$ERR" | sed 's/^/# /'
    fi
    return "$_st"
}

# is GOT WANT DESC
is() {
    if [ "$1" = "$2" ]; then
        ok 0 "$3"
    else
        ok 1 "$3"
        echo "# got:  '$1'"
        echo "# want: '$2'"
    fi
}

# like TEXT PATTERN DESC: TEXT matches the grep -E PATTERN
like() {
    if printf '%s' "$1" | tr '\n' ' ' | grep -Eq -- "$2"; then
        ok 0 "$3"
    else
        ok 1 "$3"
        echo "# '$1'" | head -20
        echo "# does not match: $2"
    fi
}

# xl ARGS...: run xl, its stdout in OUT, stderr in ERR, status in RC.
xl() {
    "$XL" "$@" >"$T/out" 2>"$T/err"
    RC=$?
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
}

# The private host: every path below $T.
host_env() {
    T=$(mktemp -d /tmp/xl-test.XXXXXX)
    export XENHV_RUNDIR=$T/run XENHV_LOGDIR=$T/log XENHV_LIBDIR=$T/lib
    export XENSTORED_RUNDIR=$T/xsrun XENSTORED_LIBDIR=$T/xslib
    export XENSTORED_PATH=$T/xsrun/socket XENHV_PRIVCMD=$T/run/privcmd
}

host_cleanup() {
    "$XENCOMMONS" stop >/dev/null 2>&1
    # The monitors end when the daemons go; give them a moment.
    sleep 0.3
    rm -rf "$T"
}

# host_check: what a test that creates guest domains needs;
# host_check_daemons: the daemons only (xen-hv serves domain 0 without
# /dev/kvm).  Without /dev/kvm here, lab.toolstack-tests runs these tests
# on the lab VM's KVM.
host_check() {
    [ -w /dev/kvm ] ||
        skip_all "/dev/kvm not usable (lab.toolstack-tests runs this on the lab VM's KVM)"
    host_check_daemons
}

host_check_daemons() {
    [ "$(id -u)" = 0 ] || skip_all "needs root (xl is a control-domain tool)"
    [ -x "$XL" ] && [ -x "$XENCOMMONS" ] ||
        skip_all "toolstack not built (make -C toolstack)"
    [ -x "$XEN_ROOT/xen-hv/xen-hv" ] || skip_all "xen-hv not built"
    [ -x "$XEN_ROOT/xenstore/xenstored/xenstored" ] ||
        skip_all "xenstored not built"
    [ -f "$HELLO" ] || skip_all "frontends/kernel/hello.elf not built"
}

# host_start: the daemons, or skip when they cannot start here.
host_start() {
    host_check
    host_env
    trap host_cleanup EXIT
    if ! "$XENCOMMONS" start >"$T/start.log" 2>&1; then
        cat "$T/start.log" | sed 's/^/# /'
        skip_all "xencommons could not start the daemons here"
    fi
}

# cfg FILE NAME KERNEL [LINES...]: write a guest config.
cfg() {
    f=$1
    {
        echo "name = \"$2\""
        echo "kernel = \"$3\""
        echo "memory = 32"
        shift 3
        for l in "$@"; do echo "$l"; done
    } >"$f"
}

# wait_for SECONDS CMD...: retry CMD every 0.1 s; status of the last try.
wait_for() {
    n=$(($1 * 10))
    shift
    while [ $n -gt 0 ]; do
        "$@" && return 0
        n=$((n - 1))
        sleep 0.1
    done
    "$@"
}

# gone NAME: xl list does not show NAME
gone() { ! "$XL" list 2>/dev/null | grep -q "^$1 "; }

# state_of NAME: its State column in xl list
state_of() { "$XL" list 2>/dev/null | awk -v n="$1" '$1 == n { print $5 }'; }

# xs_children PATH: the children of a xenstore node, one a line
xs_children() { "$XSLS" "$1" 2>/dev/null | grep -v '^ ' | cut -d' ' -f1; }

# nothing_left: no guest in xl list, nothing under /local/domain (but
# domain 0's own directory), /vm, /libxl, and no saved config: status 0.
nothing_left() {
    [ "$("$XL" list 2>/dev/null | wc -l)" = 2 ] &&
        [ -z "$(xs_children /local/domain | grep -vx 0)" ] &&
        [ -z "$(xs_children /vm)" ] &&
        [ -z "$(xs_children /libxl)" ] &&
        [ -z "$(ls "$XENHV_LIBDIR" 2>/dev/null)" ]
}

tap_end() {
    [ "$TAP_FAILED" -eq 0 ]
    exit $?
}
