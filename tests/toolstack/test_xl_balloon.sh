#!/bin/sh
# test_xl_balloon.sh — xl mem-set and mem-max on a running guest with a
# balloon driver (tests/guest/balloon_target: XENMEM_decrease_reservation
# and populate_physmap, as Linux's balloon does): memory/target moves,
# the guest gives pages back or takes them again, and xen-hv's tot_pages
# (XEN_DOMCTL_getdomaininfo, xl list's Mem column) follows; max_pages,
# which xl sets to the new size + 1 MiB as libxl does, bounds what the
# guest can take back even when memory/target asks for more.
. "$(dirname "$0")/lib.sh"

IMG=$XEN_ROOT/tests/guest/balloon_target/balloon_target.elf
XSWRITE=$XEN_ROOT/xenstore/tools/xenstore-write
host_check
[ -f "$IMG" ] || skip_all "tests/guest/balloon_target not built"
host_start
tap_plan 22

# mem_of NAME: the Mem column (MiB) of xl list
mem_of() { "$XL" list 2>/dev/null | awk -v n="$1" '$1 == n { print $3 }'; }
# mem_is NAME MiB: xl list shows it (waits up to 20 s)
mem_is() { wait_for 20 sh -c "[ \"\$(\"$XL\" list 2>/dev/null | awk '\$1==\"$1\"{print \$3}')\" = '$2' ]"; }
# pages_is N: the guest wrote N to data/balloon-pages (waits up to 20 s)
pages_is() { wait_for 20 sh -c "[ \"\$(\"$XSREAD\" /local/domain/$D/data/balloon-pages 2>/dev/null)\" = '$1' ]"; }

cfg "$T/b.cfg" bal "$IMG" 'vcpus = 1'
xl create -q "$T/b.cfg"
is "$RC" 0 "create bal (32 MiB)"
D=$("$XL" domid bal)
is "$(mem_of bal)" 32 "xl list: 32 MiB at start"
ok "$(pages_is 8192; echo $?)" \
    "the guest's balloon driver read memory/target: 8192 pages"

xl mem-set bal 24m
is "$RC" 0 "mem-set 24m"
ok "$(mem_is bal 24; echo $?)" "the guest gives 8 MiB back: xl list shows 24"
ok "$(pages_is 6144; echo $?)" "the guest counts 6144 pages, as xen-hv does"

xl mem-set bal 30m
ok "$(mem_is bal 30; echo $?)" "mem-set 30m: it takes 6 MiB again (30)"
xl mem-set bal 12m
ok "$(mem_is bal 20; echo $?)" \
    "mem-set 12m: it lends what it can (12 MiB) and stops at 20"
xl mem-set bal 28
ok "$(mem_is bal 28; echo $?)" "mem-set 28: a bare number is MiB, as Xen's xl"
xl mem-set bal 32m
ok "$(mem_is bal 32; echo $?)" "mem-set 32m: back to 32"

# max_pages bounds populate_physmap, whatever memory/target says: xl
# sets it to the new size + 1 MiB (libxl's LIBXL_MAXMEM_CONSTANT).
xl mem-set bal 20m
ok "$(mem_is bal 20; echo $?)" "mem-set 20m"
"$XSWRITE" "/local/domain/$D/memory/target" 32768
ok "$(mem_is bal 21; echo $?)" \
    "memory/target written past xl after mem-set 20m: the guest gets 21 MiB (max_pages)"
ok "$(pages_is 5376; echo $?)" "... and says so (5376 pages)"
xl mem-set bal 20m
ok "$(mem_is bal 20; echo $?)" "mem-set 20m again: back to 20"
xl mem-max bal 24m
is "$RC" 0 "mem-max 24m"
xl mem-set bal 32m
like "$RC:$ERR" "^1:.*above maxmem" "mem-set above maxmem is refused by xl"
xl mem-set bal 24m
ok "$(mem_is bal 24; echo $?)" "mem-set 24m: 24"
"$XSWRITE" "/local/domain/$D/memory/target" 32768
ok "$(mem_is bal 25; echo $?)" \
    "memory/target written past xl after mem-max 24m: 25 MiB (max_pages)"
ok "$(pages_is 6400; echo $?)" "... and says so (6400 pages)"
is "$(mem_of bal)" 25 "xen-hv's tot_pages stays at max_pages"

xl destroy bal
is "$RC" 0 "destroy bal"
ok "$(nothing_left; echo $?)" "nothing left"
tap_end
