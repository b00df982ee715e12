/*
 * shutdown_watchdog — SCHEDOP_shutdown(SHUTDOWN_watchdog) (<xen/sched.h>)
 * reaches the launcher as exit status 64 + SHUTDOWN_watchdog = 68.
 */
#include <stdint.h>
#include <xen/sched.h>

#include "../common.h"

void test_main(void)
{
    require_xen();
    tap_plan(1);
    ok(SHUTDOWN_watchdog + 64 == 68, "SHUTDOWN_watchdog is %d",
       SHUTDOWN_watchdog);
    kernel_shutdown(SHUTDOWN_watchdog);
}
