#!/bin/sh
# test_xencommons.sh — toolstack/xencommons start|status|stop in a private
# directory, and what xl says when a daemon is not running.
. "$(dirname "$0")/lib.sh"

host_check_daemons
host_env
trap host_cleanup EXIT
tap_plan 17

"$XENCOMMONS" status >"$T/st" 2>&1
is "$?" 3 "status before start: exit 3 (not running)"
xl list
is "$RC" 1 "xl list with nothing running fails"
is "$ERR" "xl: error: xen-hv is not running (no control socket at $T/run/privcmd)" \
    "xl names the missing xen-hv and its control socket"

"$XENCOMMONS" start >"$T/start" 2>&1
is "$?" 0 "xencommons start"
like "$(cat "$T/start")" "xen-hv: started .*xenstored: started" \
    "it started xen-hv, then xenstored"
ok "$([ -S "$T/run/privcmd" ] && [ -S "$T/xsrun/socket" ]; echo $?)" \
    "control socket and xenstored socket are in the private directory"
ok "$([ -s "$T/log/xen-hv.log" ] || [ -f "$T/log/xen-hv.log" ]; echo $?)" \
    "xen-hv logs into the private log directory"
"$XENCOMMONS" status >"$T/st" 2>&1
is "$?" 0 "status: exit 0 when all run"
like "$(cat "$T/st")" "xen-hv: running \(pid [0-9]+\)" "status names each daemon's pid"
"$XENCOMMONS" start >"$T/again" 2>&1
like "$?:$(cat "$T/again")" "^0:xen-hv: already running" \
    "a second start leaves the running daemons alone"
xl list
is "$RC" 0 "xl list works against the private host"
# Without /dev/kvm xen-hv still serves domain 0, and xl create says why
# it cannot make a guest; with it, xen-hv does not claim otherwise.
if [ -w /dev/kvm ]; then
    ok "$(! grep -q 'no guest domains' "$T/log/xen-hv.log"; echo $?)" \
        "xen-hv opened /dev/kvm (its log has no 'no guest domains')"
else
    cfg "$T/h.cfg" nokvm "$HELLO"
    xl create -q "$T/h.cfg"
    like "$RC:$ERR" "^1:.*creating the domain: No such device \(xen-hv has no usable /dev/kvm" \
        "no /dev/kvm: xl create fails with ENODEV and names the cause"
fi

# xenstored gone, xen-hv still there.
kill "$(cat "$T/xsrun/xenstored.pid")"
wait_for 5 sh -c "! kill -0 $(cat "$T/xsrun/xenstored.pid") 2>/dev/null"
xl list
is "$ERR" "xl: error: xenstored is not running (no socket at $T/xsrun/socket)" \
    "xl names the missing xenstored and its socket"
"$XENCOMMONS" status >/dev/null 2>&1
is "$?" 3 "status: exit 3 when one daemon is down"

"$XENCOMMONS" stop >"$T/stop" 2>&1
is "$?" 0 "xencommons stop"
ok "$([ ! -e "$T/run/privcmd" ] && ! [ -e "$T/run/xen-hv.pid" ]; echo $?)" \
    "stop removes the control socket and pid files"
"$XENCOMMONS" bogus >/dev/null 2>&1
is "$?" 2 "an unknown action is a usage error (exit 2)"
tap_end
