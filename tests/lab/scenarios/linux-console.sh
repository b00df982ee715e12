#!/bin/sh
# Lab scenario linux-console (issue 7, acceptance 2): `xl console` shows
# the guest's hvc0 output and a command typed there runs in the guest.
# xl console is a terminal client, so it runs on a pseudo-terminal driven
# by /lab/bin/ptyexpect (tests/lab/ptyexpect.c), as a person would use it.
# First the same driver against our own test kernel (the console test's
# echo guest, tests/dom0/console/guest.elf role=main), which shows the
# path works whatever Linux does; then Debian's kernel with l2.mode=shell
# (tests/lab/l2-init runs a shell on hvc0).
. tests/lab/scenarios/l2lib.sh
echo "1..10"

l2_daemons_start
ok_if '[ $st -eq 0 ]' "xencommons start (status $st)"

# --- our echo guest: input and output through xl console on a pty -------
cat >/tmp/echo.cfg <<CFG
name = "echo"
type = "pvh"
kernel = "$XEN_ROOT/tests/dom0/console/guest.elf"
cmdline = "role=main"
memory = 32
vcpus = 1
on_poweroff = "destroy"
CFG
$XL create /tmp/echo.cfg >/tmp/echo-create.out 2>&1
est=$?
sed 's/^/# xl create echo: /' /tmp/echo-create.out
$PTYX -t 30 -e MAIN-READY -s 'typed on a pty\n' -e 'echo: typed on a pty' \
    -s 'quit\n' -w -- $XL console echo >/tmp/echo-console.out 2>/tmp/echo-console.px
pst=$?
tr -d '\r' </tmp/echo-console.out | sed 's/^/# echo console: /'
sed 's/^/# ptyexpect: /' /tmp/echo-console.px
ok_if '[ $est -eq 0 ] && [ $pst -eq 0 ] && grep -q "command exited with status 0" /tmp/echo-console.px' \
    "xl console on a pty: our echo guest answers a typed line, 'quit' ends it"
$XL destroy echo >/dev/null 2>&1

# --- Debian's kernel with a shell on hvc0 -------------------------------
tok=$(l2_token)
l2_cfg /tmp/linux-console.cfg 512 1 "l2.mode=shell l2.token=$tok"
$XL create /tmp/linux-console.cfg >/tmp/linux-create.out 2>&1
cst=$?
sed 's/^/# xl create: /' /tmp/linux-create.out
ok_if '[ $cst -eq 0 ]' "xl create of the Linux guest (status $cst)"

out=/tmp/linux-console.out
# Every step on one terminal, as typed: the shell echoes the command line
# itself, so each expected text exists only in what the command printed
# (42 is computed, the token comes from the guest's /proc/cmdline).
# /sbin/poweroff by its path: busybox's shell would run its own poweroff
# applet for a bare 'poweroff' (a signal to init, which l2-init ignores).
$PTYX -f 'Kernel panic - not syncing' -f 'PANIC: early exception' \
    -t 150 -e 'l2: init reached' \
    -t 60 -e 'l2: shell on the console' -p 2 \
    -s 'echo typed-$((6*7))\r' -e 'typed-42' \
    -s "grep -o 'l2.token=[0-9a-f]*' /proc/cmdline\r" -e "l2.token=$tok" \
    -s '/sbin/poweroff\r' -e 'l2: poweroff requested' \
    -w -- $XL console linux >"$out" 2>"$out.px"
l2_clean "$out"
grep -q '^l2: init reached' "$out.txt" && l2_reached=1
tail -n 40 "$out.txt" | sed 's/^/# console: /'
sed 's/^/# ptyexpect: /' "$out.px"
# matched TEXT: ptyexpect saw TEXT in its turn.
matched() {
    grep -qF "ptyexpect: matched '$1'" "$out.px"
}
l2_check 'matched "l2: init reached"' \
    "xl console shows hvc0 output: l2: init reached"
l2_check 'matched "l2: shell on the console"' \
    "xl console shows hvc0 output: l2: shell on the console"
l2_check 'matched typed-42' \
    "a typed command runs in the guest: echo typed-\$((6*7)) prints typed-42"
l2_check 'matched "l2.token=$tok"' \
    "a typed command reads the guest's /proc/cmdline (l2.token=$tok)"
l2_check 'matched "l2: poweroff requested" && grep -q "command exited with status 0" "$out.px"' \
    "typed poweroff: the guest goes down, xl console exits 0"
gone=1
[ "$l2_reached" = 1 ] && l2_gone 30 && gone=0
l2_check '[ $gone -eq 0 ]' "the domain is destroyed after its poweroff"
l2_daemons_stop
ok_if '[ $st -eq 0 ]' "xencommons stop (status $st)"
