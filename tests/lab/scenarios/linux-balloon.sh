#!/bin/sh
# Lab scenario linux-balloon (issue 7, acceptance 5): `xl mem-set linux
# 384` on a 512 MiB guest writes memory/target (KiB) in xenstore; the
# guest's balloon driver (CONFIG_XEN_BALLOON=y in Debian's kernel) hands
# the difference back with XENMEM_decrease_reservation: the guest's
# MemTotal (printed by tests/lab/l2-init, l2.mode=wait, whenever it
# changes) and xen-hv's accounting (`xl list` Mem: tot_pages) both fall by
# about 128 MiB.
. tests/lab/scenarios/l2lib.sh
echo "1..10"
out=/tmp/linux-balloon.out
DROP_KB=131072 # 512 MiB - 384 MiB

l2_daemons_start
ok_if '[ $st -eq 0 ]' "xencommons start (status $st)"

# xl list Mem (MiB) of domain linux, or nothing.
xl_mem() {
    $XL list linux 2>/dev/null | awk '$1 == "linux" { print $3 }'
}
# The guest's last MemTotal line (kB), or nothing.
guest_mem() {
    tr -d '\r' <"$out" | sed -n 's/^l2: MemTotal: \([0-9]*\) kB$/\1/p' |
        tail -n 1
}

l2_cfg /tmp/linux-balloon.cfg 512 1 "l2.mode=wait"
$XL create -c /tmp/linux-balloon.cfg >"$out" 2>&1 &
xpid=$!
l2_wait "$out" "l2: ready" 150 && l2_reached=1
l2_check '[ $l2_reached = 1 ]' "the guest boots to its /init (l2: ready)"
m0=$(xl_mem)
g0=$(guest_mem)
echo "# before: xl list Mem ${m0:-?} MiB, guest MemTotal ${g0:-?} kB"
l2_check '[ -n "$m0" ] && [ "$m0" -ge 504 ] && [ "$m0" -le 512 ]' \
    "xl list: Mem about 512 before mem-set (${m0:-?}, 504-512)"

domid=$($XL domid linux 2>/dev/null)
$XL mem-set linux 384 >/tmp/memset.out 2>&1
mst=$?
sed 's/^/# xl mem-set: /' /tmp/memset.out
ok_if '[ $mst -eq 0 ]' "xl mem-set linux 384 exits 0"
target=$(xenstore/tools/xenstore read "/local/domain/$domid/memory/target" 2>&1)
ok_if '[ "$target" = 393216 ]' \
    "xenstore /local/domain/$domid/memory/target is 393216 KiB ($target)"

# The balloon driver works in steps: wait until both figures settle.
g1= m1=
i=0
while [ $i -lt 300 ]; do
    g1=$(guest_mem)
    m1=$(xl_mem)
    if [ -n "$g0" ] && [ -n "$g1" ] && [ $((g0 - g1)) -ge $((DROP_KB * 9 / 10)) ] &&
        [ -n "$m1" ] && [ "$m1" -le 392 ]; then
        sleep 2 # let it finish the last step
        g1=$(guest_mem)
        m1=$(xl_mem)
        break
    fi
    grep -qE "$L2_PANIC_RE" "$out" && break
    [ "$l2_reached" = 1 ] || break
    sleep 0.2
    i=$((i + 1))
done
echo "# after: xl list Mem ${m1:-?} MiB, guest MemTotal ${g1:-?} kB"
tr -d '\r' <"$out" | grep '^l2: MemTotal' | sed 's/^/# console: /'
drop=$((${g0:-0} - ${g1:-0}))
l2_check '[ -n "$g1" ] && [ $drop -ge $((DROP_KB * 9 / 10)) ] && [ $drop -le $((DROP_KB * 11 / 10)) ]' \
    "the guest's MemTotal falls by about 128 MiB (${drop} kB, 90-110% of $DROP_KB)"
l2_check '[ -n "$m1" ] && [ "$m1" -ge 376 ] && [ "$m1" -le 392 ]' \
    "xen-hv's accounting: xl list Mem about 384 (${m1:-?}, 376-392)"
l2_check 'tr -d "\r" <"$out" | grep -q "^l2: dmesg check: clean$"' \
    "dmesg: no WARNING:, BUG:, Oops or xen fail/error line at boot"

$XL destroy linux >/tmp/destroy.out 2>&1
dst=$?
l2_gone 10
gone=$?
l2_reap $xpid 10
ok_if '[ $dst -eq 0 ] && [ $gone -eq 0 ]' "xl destroy: the domain is gone"
l2_clean "$out"
l2_show "$out.txt" console
l2_daemons_stop
ok_if '[ $st -eq 0 ]' "xencommons stop (status $st)"
