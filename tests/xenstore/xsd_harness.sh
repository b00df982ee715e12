# xsd_harness.sh — sourced by the tests/xenstore shell tests: TAP helpers
# and our xenstored in a private mktemp directory (xsd_start/xsd_stop),
# with XENSTORED_PATH exported so every client (ours or Debian's) uses it.

XEN_ROOT=${XEN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
XSD_BIN=$XEN_ROOT/xenstore/xenstored/xenstored
OUR_TOOLS=$XEN_ROOT/xenstore/tools
TAP_N=0
TAP_FAIL=0
XSD_PID=
XSD_DIR=

tap_ok() { # tap_ok STATUS DESCRIPTION
    TAP_N=$((TAP_N + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $TAP_N - $2"
    else
        echo "not ok $TAP_N - $2"
        TAP_FAIL=$((TAP_FAIL + 1))
    fi
}

tap_is() { # tap_is GOT EXPECTED DESCRIPTION
    if [ "$1" = "$2" ]; then
        tap_ok 0 "$3"
    else
        tap_ok 1 "$3"
        printf '%s\n' "  got:" "$1" "  expected:" "$2" | sed 's/^/# /'
    fi
}

tap_finish() {
    echo "1..$TAP_N"
    [ "$TAP_FAIL" -eq 0 ]
}

xsd_stop() {
    if [ -n "$XSD_PID" ]; then
        kill "$XSD_PID" 2>/dev/null
        wait "$XSD_PID" 2>/dev/null
        XSD_PID=
    fi
    [ -n "$XSD_DIR" ] && rm -rf "$XSD_DIR"
    XSD_DIR=
}

# Start a fresh daemon (skips the test when it is not built); waits for
# READY for up to 10 s.  Returns non-zero when it never gets ready.
xsd_start() {
    if [ ! -x "$XSD_BIN" ]; then
        echo "1..0 # SKIP xenstored is not built ($XSD_BIN)"
        exit 77
    fi
    XSD_DIR=$(mktemp -d /tmp/xs-test.XXXXXX)
    mkfifo "$XSD_DIR/out"
    "$XSD_BIN" --no-fork --socket "$XSD_DIR/socket" \
        --state "$XSD_DIR/state" >"$XSD_DIR/out" &
    XSD_PID=$!
    exec 9<"$XSD_DIR/out"
    if ! timeout 10 sh -c 'while read -r l; do
            case "$l" in *READY*) exit 0;; esac; done; exit 1' <&9; then
        exec 9<&-
        xsd_stop
        return 1
    fi
    # fd 9 stays open: the daemon's stdout never sees EPIPE.
    export XENSTORED_PATH=$XSD_DIR/socket
}

trap 'xsd_stop' EXIT
