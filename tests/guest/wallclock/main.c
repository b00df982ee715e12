/*
 * wallclock — shared_info wc_sec/wc_nsec (<xen/xen.h>, read under
 * wc_version) plus system time is within 5 s of the host's clock, passed
 * as hosttime=<date +%s> on the command line (run-guest.sh @HOSTTIME@).
 */
#include <stdint.h>
#include "../common.h"
#include "xenkern/boot.h"
#include "xenkern/shared.h"

void test_main(void)
{
    uint64_t host, sec;
    uint32_t nsec;
    long long diff;

    require_xen();
    tap_plan(3);
    host = cmdline_get_u64("hosttime", 0);
    if (!host)
        bail_out("no hosttime= on the command line");
    ok(shared_info && !(READ_ONCE(shared_info->wc_version) & 1),
       "shared_info mapped, wc_version even");
    is_int(wallclock_read(&sec, &nsec), 0, "wallclock_read");
    diff = (long long)sec - (long long)host;
    ok(diff >= -5 && diff <= 5,
       "wallclock %llu within 5 s of host %llu (diff %lld s)",
       (unsigned long long)sec, (unsigned long long)host, diff);
}
