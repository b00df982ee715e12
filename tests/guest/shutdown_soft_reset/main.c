/*
 * shutdown_soft_reset — SCHEDOP_shutdown(SHUTDOWN_soft_reset) (<xen/sched.h>)
 * reaches the launcher as exit status 64 + SHUTDOWN_soft_reset = 69.
 */
#include <stdint.h>
#include <xen/sched.h>

#include "../common.h"

void test_main(void)
{
    require_xen();
    tap_plan(1);
    ok(SHUTDOWN_soft_reset + 64 == 69, "SHUTDOWN_soft_reset is %d",
       SHUTDOWN_soft_reset);
    kernel_shutdown(SHUTDOWN_soft_reset);
}
