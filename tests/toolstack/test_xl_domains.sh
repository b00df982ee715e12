#!/bin/sh
# test_xl_domains.sh — xl create/list/destroy of the hello demo and of a
# guest test image, list -l JSON, dry run, name clash, the xenstore layout
# of a created domain, and the domain commands (pause, unpause, rename,
# domid, domname, uptime, mem-set, mem-max, vcpu-list, vcpu-pin,
# sched-credit, console, info, dmesg, help, prefixes).
. "$(dirname "$0")/lib.sh"

LONG=$XEN_ROOT/tests/dom0/console/guest.elf  # role=main waits for input
GTEST=$XEN_ROOT/tests/guest/xen_version/xen_version.elf
host_check
[ -f "$LONG" ] || skip_all "tests/dom0/console/guest.elf not built"
[ -f "$GTEST" ] || skip_all "tests/guest/xen_version not built"
host_start
tap_plan 64

# skip_check DESC REASON: a TAP skip of one check this host cannot make.
skip_check() {
    TAP_N=$((TAP_N + 1))
    echo "ok $TAP_N - $1 # SKIP $2"
}

# ---- hello: create, console output, on_poweroff=destroy ----
cfg "$T/hello.cfg" hello "$HELLO" 'on_poweroff = "preserve"'
xl create -q "$T/hello.cfg" -c
is "$RC" 0 "create -c hello"
like "$OUT" "Hello from xenkern .*Xen 4\.17" "create -c shows hello's console"
wait_for 5 sh -c "[ \"\$($XL list | awk '\$1==\"hello\"{print \$5}')\" = '---s--' ]"
is "$(state_of hello)" "---s--" "preserved after poweroff: state s"
xl list hello
like "$OUT" "^Name +ID +Mem VCPUs.State.Time\(s\) hello +1 +32 " \
    "xl list DOMAIN: Xen's columns, name, id, 32 MiB"
xl list -v
like "$OUT" "hello +1 +32 .* [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12} +0" \
    "xl list -v adds the UUID and the reason code (poweroff 0)"
xl console -t serial hello
like "$RC:$OUT" "^0:Hello from xenkern" "console -t serial of a stopped guest prints its log"
xl destroy hello
is "$RC" 0 "destroy hello"
ok "$(nothing_left; echo $?)" "nothing left after destroy (xl list, xenstore, saved config)"

# ---- a guest test image ----
cfg "$T/g.cfg" gtest "$GTEST" 'on_poweroff = "preserve"' 'vcpus = 1'
xl create "$T/g.cfg"
like "$RC:$ERR" "^0:Parsing config from .*Started domain gtest \(id=2\)" \
    "create gtest: xl's messages"
wait_for 10 sh -c "[ \"\$($XL list | awk '\$1==\"gtest\"{print \$5}')\" = '---s--' ]"
xl console -t serial gtest
like "$OUT" "ok [0-9]+ " "the test image ran under xl"
ok "$(printf '%s' "$OUT" | grep -Eq '^not ok|Bail out'; [ $? = 1 ]; echo $?)" \
    "and its own TAP passed"
xl destroy gtest
ok "$(nothing_left; echo $?)" "nothing left after destroying gtest"

# ---- a guest that stays up: layout, list -l, commands ----
# One vCPU: xen-hv crashes destroying a domain with a second vCPU
# (vcpu_kick on an exited vCPU), see the toolstack README.
cfg "$T/long.cfg" long "$LONG" 'cmdline = "role=main"' 'vcpus = 1' \
    'maxmem = 48' 'on_poweroff = "preserve"'
xl create -q "$T/long.cfg"
is "$RC" 0 "create long (maxmem 48)"
D=$("$XL" domid long)
is "$D" 3 "xl domid long (ids 1 and 2 were hello's and gtest's: a freed id is not reused at once, as on Xen)"
xl domname "$D"
is "$OUT" long "xl domname $D"
is "$("$XSREAD" /local/domain/$D/name)" long "xenstore: name"
is "$("$XSREAD" /local/domain/$D/domid)" "$D" "xenstore: domid"
is "$("$XSREAD" /local/domain/$D/memory/target)" 32768 "xenstore: memory/target (KiB)"
is "$("$XSREAD" /local/domain/$D/memory/static-max)" 49152 "xenstore: memory/static-max"
is "$("$XSREAD" /local/domain/$D/cpu/0/availability)" online "xenstore: cpu/0/availability"
VM=$("$XSREAD" /local/domain/$D/vm)
is "$("$XSREAD" "$VM/name")" long "xenstore: /vm/UUID/name"
is "$("$XSREAD" /local/domain/$D/console/type)" xenconsoled "xenstore: console/type"
like "$("$XSREAD" /local/domain/$D/console/ring-ref) $("$XSREAD" /local/domain/$D/console/port)" \
    "^1044464 [0-9]+$" "xenstore: console ring-ref (special page 0) and port"
like "$("$XEN_ROOT/xenstore/tools/xenstore-ls" -p /local/domain/$D | grep -E '^ +shutdown|^name')" \
    "name = .*\(n0,r$D\).*shutdown = .*\(n$D\)" \
    "perms: the domain reads its home and owns control/shutdown"
xl list -l
printf '%s' "$OUT" >"$T/list.json"
# json_flat: parse JSON (RFC 8259) on stdin with awk, which the host and
# the lab both have (the lab has no python3): one line per scalar or empty
# container, 'PATH<TAB>VALUE' (PATH as [0].config.c_info.name, strings
# keep their quotes); exit 1 on anything that is not one JSON value.
json_flat() {
    awk '
    function fail(m) { printf "json_flat: %s at byte %d\n", m, pos >"/dev/stderr"; exit 1 }
    function ws() { while (pos <= n && index(" \t\r\n", substr(s, pos, 1))) pos++ }
    function str(   start, c) {
        start = pos++
        while (pos <= n) {
            c = substr(s, pos, 1)
            if (c == "\"") { pos++; return substr(s, start, pos - start) }
            if (c == "\\") {
                c = substr(s, pos + 1, 1)
                if (c == "u") {
                    if (substr(s, pos + 2, 4) !~ /^[0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f]$/)
                        fail("bad \\u escape")
                    pos += 6
                } else if (index("\"\\/bfnrt", c)) pos += 2
                else fail("bad escape")
                continue
            }
            if (c == "\n" || c == "\t" || c == "\r") fail("control character in a string")
            pos++
        }
        fail("unterminated string")
    }
    function value(path,   c, k, i) {
        ws()
        c = substr(s, pos, 1)
        if (c == "{") {
            pos++; ws()
            if (substr(s, pos, 1) == "}") { pos++; print path "\t{}"; return }
            for (;;) {
                ws()
                if (substr(s, pos, 1) != "\"") fail("object key expected")
                k = str(); ws()
                if (substr(s, pos, 1) != ":") fail("colon expected")
                pos++
                value(path "." substr(k, 2, length(k) - 2))
                ws(); c = substr(s, pos++, 1)
                if (c == "}") return
                if (c != ",") fail("comma or } expected")
            }
        }
        if (c == "[") {
            pos++; ws()
            if (substr(s, pos, 1) == "]") { pos++; print path "\t[]"; return }
            for (i = 0; ; i++) {
                value(path "[" i "]")
                ws(); c = substr(s, pos++, 1)
                if (c == "]") return
                if (c != ",") fail("comma or ] expected")
            }
        }
        if (c == "\"") { print path "\t" str(); return }
        if (match(substr(s, pos), /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/)) {
            print path "\t" substr(s, pos, RLENGTH); pos += RLENGTH; return
        }
        if (substr(s, pos, 4) == "true" || substr(s, pos, 4) == "null") {
            print path "\t" substr(s, pos, 4); pos += 4; return
        }
        if (substr(s, pos, 5) == "false") { print path "\tfalse"; pos += 5; return }
        fail("value expected")
    }
    { s = s $0 "\n" }
    END {
        n = length(s); pos = 1
        value("")
        ws()
        if (pos <= n) fail("text after the value")
    }'
}
# The entry whose domid is $D, and its config's name, vcpus and maxmem.
list_l_ok() {
    json_flat <"$T/list.json" >"$T/list.flat" || return 1
    e=$(awk -F '\t' -v d="$D" '$1 ~ /^\[[0-9]+\]\.domid$/ && $2 == d {
        sub(/\.domid$/, "", $1); print $1 }' "$T/list.flat")
    [ -n "$e" ] && [ "$(printf '%s\n' "$e" | wc -l)" -eq 1 ] || return 1
    tab=$(printf '\t')
    for want in "c_info.name$tab\"long\"" "b_info.max_vcpus${tab}1" \
        "b_info.max_memkb${tab}49152"; do
        grep -Fqx "$e.config.$want" "$T/list.flat" || return 1
    done
}
ok "$(list_l_ok; echo $?)" "xl list -l: JSON with domid and the config (name, vcpus, maxmem)"

xl pause long
is "$RC" 0 "pause"
like "$(state_of long)" "^..p...$" "paused: state p"
xl unpause long
like "$RC:$(state_of long)" "^0:..-...$" "unpause"
xl rename long long2
is "$RC" 0 "rename long long2"
ok "$([ "$("$XL" domid long2)" = "$D" ] && [ "$("$XSREAD" "$VM/name")" = long2 ]; echo $?)" \
    "renamed in /local/domain/N/name and /vm/UUID/name"
xl rename long2 long
xl mem-set long 16m
is "$RC:$("$XSREAD" /local/domain/$D/memory/target)" "0:16384" "mem-set 16m writes memory/target"
xl mem-set long 64m
like "$RC:$ERR" "^1:.*above maxmem" "mem-set above maxmem is refused"
xl mem-max long 40m
is "$RC:$("$XSREAD" /local/domain/$D/memory/static-max)" "0:40960" "mem-max 40m"
xl mem-set long 12x
like "$RC:$ERR" "^1:.*invalid memory size" "mem-set with a bad size"
# xen-hv's thread for vCPU 0 of the domain is named d<domid>v0.
vcpu_cpus() {
    for t in /proc/$(cat "$XENHV_RUNDIR/xen-hv.pid")/task/*; do
        [ "$(cat "$t/comm" 2>/dev/null)" = "d${D}v0" ] &&
            sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$t/status"
    done
}
# in_cpu_list N: CPU N is in the list (as 0-3,5) on stdin.
in_cpu_list() {
    tr ',' '\n' | awk -F- -v c="$1" '{ hi = NF > 1 ? $2 : $1 }
        $1 != "" && $1 <= c && c <= hi { f = 1 } END { exit !f }'
}
# Pinning to CPU 1 needs it online and allowed to xen-hv (the lab VM has
# one CPU unless LAB_CPUS=2, as lab.toolstack-tests sets).
if in_cpu_list 1 </sys/devices/system/cpu/online &&
    sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' \
        /proc/$(cat "$XENHV_RUNDIR/xen-hv.pid")/status | in_cpu_list 1; then
    xl vcpu-pin long 0 1
    is "$RC" 0 "vcpu-pin long 0 1"
    xl vcpu-list long
    like "$OUT" "long +$D +0 .* 1 / all" "vcpu-list shows the pinning"
    is "$(vcpu_cpus)" "1" "vcpu-pin pinned xen-hv's vCPU thread to CPU 1"
else
    why="host CPU 1 is not online for xen-hv (CPUs $(cat /sys/devices/system/cpu/online))"
    skip_check "vcpu-pin long 0 1" "$why"
    skip_check "vcpu-list shows the pinning" "$why"
    skip_check "vcpu-pin pinned xen-hv's vCPU thread to CPU 1" "$why"
fi
xl vcpu-pin long 0 all
is "$RC:$(vcpu_cpus)" "0:$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' \
    /proc/$(cat "$XENHV_RUNDIR/xen-hv.pid")/status)" \
    "vcpu-pin long 0 all: the thread may run anywhere again"
xl vcpu-pin long 0 1000
like "$RC:$ERR" "^1:.*no online host CPU" "vcpu-pin to a CPU the host lacks is refused"
xl vcpu-pin long 0 1
xl vcpu-pin long 7 0
like "$RC:$ERR" "^1:.*no vCPU '7'" "vcpu-pin of a missing vCPU fails"
xl sched-credit -d long -w 512 -c 50
is "$RC" 0 "sched-credit -d long -w 512 -c 50"
xl sched-credit -d long
like "$OUT" "long +$D +512 +50" "sched-credit -d shows the stored weight and cap"
xl sched-credit -d long -w 0
like "$RC:$ERR" "^1:.*weight '0'" "a weight of 0 is refused"
xl uptime long
like "$OUT" "long +$D +0:00:[0-9][0-9]" "uptime"
xl create -q "$T/long.cfg"
like "$RC:$ERR" "^1:.*domain with name 'long' already exists" "a name clash is refused"
is "$("$XL" list | grep -c '^long ')" 1 "and no second domain was made"
# Ctrl-] on a terminal detaches; the guest keeps running.  The terminal
# is python3's pty module, or where python3 is missing (the lab VM)
# tests/lab/ptyexpect.c: the lab's /lab/bin/ptyexpect, or the host's
# build/lab/bin/ptyexpect once tests/lab/build-lab.sh has built it.
PTYX=
for p in /lab/bin/ptyexpect "$XEN_ROOT/build/lab/bin/ptyexpect"; do
    [ -x "$p" ] && PTYX=$p && break
done
if command -v python3 >/dev/null 2>&1; then
python3 - "$XL" <<'PY' >"$T/pty" 2>&1
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "console", "-t", "pv", "long"])
buf, end = b"", time.time() + 10
os.write(fd, b"ping\n")
while b"echo: ping" not in buf and time.time() < end:
    if select.select([fd], [], [], 0.5)[0]:
        buf += os.read(fd, 1024)
os.write(fd, b"\x1d")
for _ in range(50):
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    time.sleep(0.1)
else:
    os.kill(pid, 9)
    status = -1
print("echoed" if b"echo: ping" in buf else "no echo", status)
PY
elif [ -n "$PTYX" ]; then
    # The same steps: type "ping", wait up to 10 s for its echo, type
    # Ctrl-], wait up to 5 s for xl to exit; "echoed|no echo STATUS".
    "$PTYX" -q -t 10 -s 'ping\n' -e 'echo: ping' -s '\x1d' -t 5 -w -- \
        "$XL" console -t pv long >"$T/ptyx" 2>&1
    st=$(sed -n 's/^ptyexpect: command exited with status \([0-9]*\)$/\1/p' "$T/ptyx")
    if grep -q "^ptyexpect: matched 'echo: ping'" "$T/ptyx"; then
        echo "echoed ${st:--1}"
    else
        echo "no echo ${st:--1}"
    fi >"$T/pty"
else
    echo "skip" >"$T/pty"
fi
if [ "$(cat "$T/pty")" = skip ]; then
    skip_check "console on a terminal: input echoed, Ctrl-] detaches (exit 0)" \
        "no pseudo-terminal driver: neither python3 nor ptyexpect (tests/lab/build-lab.sh builds it)"
else
    is "$(cat "$T/pty")" "echoed 0" "console on a terminal: input echoed, Ctrl-] detaches (exit 0)" ||
        sed 's/^/# /' "$T/ptyx" 2>/dev/null
fi
like "$(state_of long)" "^[r-][b-]----$" "the guest runs on after the detach"
printf 'hi there\nquit\n' >"$T/in"
"$XL" console -t pv long <"$T/in" >"$T/con" 2>&1
cst=$?
like "$(cat "$T/con")" "echo: hi there" "console -t pv: input reaches the guest, its echo comes back"
if ! grep -q "echo: hi there" "$T/con"; then
    echo "# xl console exit status $cst"
    tail -n 8 "$XENHV_LOGDIR/xenconsoled.log" 2>&1 | sed 's/^/# xenconsoled.log: /'
    "$XL" list 2>&1 | sed 's/^/# xl list: /'
    grep "(d$D)" "$XENHV_LOGDIR/xen-hv.log" 2>/dev/null | tail -n 8 | sed 's/^/# xen-hv.log: /'
fi
wait_for 5 sh -c "[ \"\$($XL list | awk '\$1==\"long\"{print \$5}')\" = '---s--' ]"
is "$(state_of long)" "---s--" "after quit the guest powered off and is preserved"
xl destroy long
is "$RC" 0 "destroy long"
ok "$(nothing_left; echo $?)" "nothing left"

# ---- dry run ----
xl create -n "$T/long.cfg" memory=40
like "$RC:$OUT" "^0:\{.*\"max_memkb\": 49152, +\"target_memkb\": 40960" \
    "create -n prints the JSON with the key=value override applied"
ok "$(nothing_left; echo $?)" "and creates nothing"

# ---- other commands ----
xl info
like "$OUT" "xen_major +: 4 .*xen_version +: 4\.17" "info"
xl dmesg
is "$RC" 0 "dmesg prints xen-hv's log"
xl li
like "$RC:$OUT" "^0:Name" "a unique prefix (li) runs list"
xl d
like "$RC:$ERR" "^1:.*ambiguous" "an ambiguous prefix (d) is refused"
xl frobnicate
like "$RC:$ERR" "^1:.*not an xl command" "an unknown command is refused"
xl help create
like "$RC:$OUT" "^0:Usage: xl create" "help create"
xl network-list 1
like "$RC:$ERR" "^1:.*not yet supported" "network-list: not yet supported, exit 1"

# ---- every command's failure on an unknown domain ----
fails=""
for c in "destroy nosuch" "shutdown nosuch" "reboot nosuch" "pause nosuch" \
         "unpause nosuch" "rename nosuch x" "console nosuch" "domid nosuch" \
         "mem-set nosuch 1m" "mem-max nosuch 1m" "vcpu-list nosuch" \
         "vcpu-pin nosuch 0 0" "sched-credit -d nosuch" "list nosuch" \
         "uptime nosuch"; do
    # shellcheck disable=SC2086
    xl $c
    if [ "$RC" != 1 ] || ! printf '%s' "$ERR" | grep -q "nosuch"; then
        fails="$fails [$c: $RC $ERR]"
    fi
done
is "$fails" "" "every command on an unknown domain: exit 1, the domain named on stderr"
xl domname 99
like "$RC:$ERR" "^1:.*domain 99" "domname of an unknown id"
xl destroy 0
like "$RC:$ERR" "^1:.*Domain-0" "destroy 0 is refused"
tap_end
