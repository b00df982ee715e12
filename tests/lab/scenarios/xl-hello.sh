#!/bin/sh
# Lab scenario xl-hello: the README's main command on standard KVM —
# toolstack/xencommons start, then toolstack/xl/xl create examples/hello.cfg
# -c — and the demo kernel's console output.  Runs in XEN_ROOT.
echo "1..9"
n=0
check() {
    n=$((n + 1))
    if eval "$1"; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
out=/tmp/xl-hello.out
toolstack/xencommons start >/tmp/xencommons.out 2>&1
st=$?
sed 's/^/# xencommons: /' /tmp/xencommons.out
check '[ $st -eq 0 ]' "xencommons start (status $st)"
if [ $st -ne 0 ]; then
    for f in /var/log/xen-hv/*; do
        [ -f "$f" ] && tail -n 20 "$f" | sed "s|^|# $f: |"
    done
fi
toolstack/xencommons status >/dev/null 2>&1
st=$?
check '[ $st -eq 0 ]' "xencommons status: the daemons run (status $st)"

read -r t0 _ </proc/uptime
timeout 120 toolstack/xl/xl create examples/hello.cfg -c </dev/null >"$out" 2>&1
st=$?
read -r t1 _ </proc/uptime
sed 's/^/# xl: /' "$out"
echo "# xl create -c took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
check '[ $st -eq 0 ]' "xl create examples/hello.cfg -c exits 0 (status $st)"
check 'grep -q "^Hello from xenkern" "$out"' "console: the greeting"
check 'grep -Eq "^Xen [0-9]+\.[0-9]+" "$out"' "console: the Xen version"
check 'grep -Eq "^pvclock: [0-9]+ ns since boot" "$out"' "console: the pvclock time"

# on_poweroff = "destroy": the domain goes away (allow the monitor 5 s).
i=0
while toolstack/xl/xl list 2>/dev/null | grep -q '^hello '; do
    i=$((i + 1))
    [ $i -gt 50 ] && break
    sleep 0.1
done
toolstack/xl/xl list >/tmp/xl-list.out 2>&1
st=$?
sed 's/^/# xl list: /' /tmp/xl-list.out
check '[ $st -eq 0 ] && ! grep -q "^hello " /tmp/xl-list.out' \
    "xl list: hello destroyed after poweroff"
check 'grep -q "^Domain-0 " /tmp/xl-list.out' "xl list: Domain-0 listed"
toolstack/xencommons stop >/tmp/xencommons.out 2>&1
st=$?
sed 's/^/# xencommons: /' /tmp/xencommons.out
check '[ $st -eq 0 ]' "xencommons stop (status $st)"
