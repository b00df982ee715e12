/*
 * shutdown_suspend — SCHEDOP_shutdown(SHUTDOWN_suspend) (<xen/sched.h>) reaches
 * the launcher as exit status 64 + SHUTDOWN_suspend = 66.
 */
#include <stdint.h>
#include <xen/sched.h>

#include "../common.h"

void test_main(void)
{
    require_xen();
    tap_plan(1);
    ok(SHUTDOWN_suspend + 64 == 66, "SHUTDOWN_suspend is %d", SHUTDOWN_suspend);
    kernel_shutdown(SHUTDOWN_suspend);
}
