#!/bin/sh
# test_xl_lifecycle.sh — what happens when a guest shuts down, under each
# on_poweroff/on_reboot/on_crash/on_watchdog action (xl.cfg.5 "Event
# Actions": destroy, preserve, restart, rename-restart), applied by the
# monitor `xl create` leaves behind; and xl shutdown/reboot with -w and -F.
# The guests shut down by themselves (tests/guest/shutdown_*), or wait for
# console input (tests/dom0/console role=main).
. "$(dirname "$0")/lib.sh"

G=$XEN_ROOT/tests/guest
LONG=$XEN_ROOT/tests/dom0/console/guest.elf
host_check
for f in "$G/shutdown_crash/shutdown_crash.elf" \
         "$G/shutdown_reboot/shutdown_reboot.elf" \
         "$G/shutdown_watchdog/shutdown_watchdog.elf" "$LONG"; do
    [ -f "$f" ] || skip_all "$f not built"
done
host_start
tap_plan 26

# up NAME KERNEL LINES...: create a guest NAME (exit status in RC)
up() {
    n=$1
    k=$2
    shift 2
    cfg "$T/$n.cfg" "$n" "$k" "$@"
    xl create -q "$T/$n.cfg"
}

# st_is NAME STATE: within 10 s, xl list shows NAME in STATE
st_is() {
    wait_for 10 sh -c "[ \"\$($XL list | awk '\$1==\"$1\"{print \$5}')\" = '$2' ]"
}

# ---- poweroff ----
up p1 "$HELLO" 'on_poweroff = "destroy"'
ok "$(wait_for 10 gone p1; echo $?)" "on_poweroff=destroy: the guest is gone"
like "$(cat "$XENHV_LOGDIR/xl-p1.log")" "shut down: poweroff; action destroy" \
    "the monitor logged the reason and the action"
up p2 "$HELLO" 'on_poweroff = "preserve"'
ok "$(st_is p2 ---s--; echo $?)" "on_poweroff=preserve: kept, state s"
xl destroy p2
up p3 "$HELLO" 'on_poweroff = "rename-restart"'
ok "$(wait_for 10 sh -c "$XL list | grep -Eq '^p3-[0-9]+ .*---s--'"; echo $?)" \
    "on_poweroff=rename-restart: the old domain is kept renamed p3-ID"
ok "$(wait_for 20 sh -c "grep -qs 'restarts too fast' $XENHV_LOGDIR/xl-p3.log"; echo $?)" \
    "a guest that powers off at once stops being restarted (too fast)" ||
    { "$XL" list -v; cat "$XENHV_LOGDIR"/xl-p3*.log; } 2>&1 | sed 's/^/# /'
like "$(cat "$XENHV_LOGDIR/xl-p3.log")" "restarted as domain [0-9]+" \
    "it was restarted as a new domain first"
# The monitor has finished once it logged "done".
wait_for 10 grep -qs "xl-monitor: done" "$XENHV_LOGDIR/xl-p3.log"
for d in $("$XL" list | awk '$1 ~ /^p3/ { print $1 }'); do "$XL" destroy "$d"; done
ok "$(nothing_left; echo $?)" "all p3 domains destroyed"

# ---- reboot ----
up r1 "$G/shutdown_reboot/shutdown_reboot.elf" 'on_reboot = "destroy"'
ok "$(wait_for 10 gone r1; echo $?)" "on_reboot=destroy: gone"
up r2 "$G/shutdown_reboot/shutdown_reboot.elf" 'on_reboot = "preserve"'
ok "$(st_is r2 ---s--; echo $?)" "on_reboot=preserve: kept, state s"
xl list -v r2
like "$OUT" "r2 .* 1$" "xl list -v shows reason code 1 (reboot)"
xl destroy r2
up r3 "$G/shutdown_reboot/shutdown_reboot.elf" 'on_reboot = "restart"'
ok "$(wait_for 20 sh -c "grep -qs 'restarts too fast' $XENHV_LOGDIR/xl-r3.log"; echo $?)" \
    "on_reboot=restart: restarted until it restarts too fast"
is "$(grep -c 'restarted as domain' "$XENHV_LOGDIR/xl-r3.log")" 4 \
    "restarted 4 times (the 5th fast one is destroyed)"
ok "$(wait_for 5 gone r3; echo $?)" "and then it is gone"
wait_for 10 grep -qs "xl-monitor: done" "$XENHV_LOGDIR/xl-r3.log"

# ---- crash and watchdog ----
up c1 "$G/shutdown_crash/shutdown_crash.elf" 'on_crash = "preserve"'
ok "$(st_is c1 ----c-; echo $?)" "on_crash=preserve: kept, state c"
xl destroy c1
up c2 "$G/shutdown_crash/shutdown_crash.elf" 'on_crash = "destroy"'
ok "$(wait_for 10 gone c2; echo $?)" "on_crash=destroy: gone"
up w1 "$G/shutdown_watchdog/shutdown_watchdog.elf" 'on_watchdog = "preserve"'
ok "$(st_is w1 ---s--; echo $?)" "on_watchdog=preserve: kept"
xl destroy w1
ok "$(nothing_left; echo $?)" "nothing left"

# ---- xl shutdown / reboot ----
up l1 "$LONG" 'cmdline = "role=main"' 'on_poweroff = "destroy"'
xl shutdown l1
like "$RC:$ERR" "^1:.*PV control interface not available.*-F" \
    "shutdown of a guest without PV control: refused, -F suggested"
xl reboot l1
like "$RC:$ERR" "^1:.*feature-reboot" "reboot likewise"
like "$(state_of l1)" "^[r-][b-]----$" "the guest still runs (not shut down)"
D=$("$XL" domid l1)
# The guest says it understands (as a PV kernel writes feature-poweroff).
"$XEN_ROOT/xenstore/tools/xenstore-write" /local/domain/$D/control/feature-poweroff 1
"$XL" shutdown -w l1 >"$T/sd.out" 2>&1 &
SD=$!
wait_for 5 sh -c "[ \"\$($XSREAD /local/domain/$D/control/shutdown)\" = poweroff ]"
is "$("$XSREAD" /local/domain/$D/control/shutdown)" poweroff \
    "xl shutdown writes control/shutdown = poweroff"
# The guest powers off when told "quit" on its console.
printf 'quit\n' | "$XL" console -t pv l1 >/dev/null 2>&1
wait "$SD"
is "$?" 0 "shutdown -w returns once the guest is down"
like "$(cat "$T/sd.out")" "Domain $D has been shut down" "and says so"
ok "$(gone l1; echo $?)" "on_poweroff=destroy applied"

up l2 "$LONG" 'cmdline = "role=main"'
XL_SHUTDOWN_TIMEOUT=1 xl shutdown -F -w l2
like "$RC:$ERR" "^0:.*did not poweroff within 1 s: destroying it" \
    "shutdown -F: a guest that ignores it is destroyed after the timeout"
ok "$(nothing_left; echo $?)" "nothing left"
tap_end
