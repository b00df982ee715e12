/*
 * shutdown_crash — SCHEDOP_shutdown(SHUTDOWN_crash) (<xen/sched.h>) reaches
 * the launcher as exit status 64 + SHUTDOWN_crash = 67.
 */
#include <stdint.h>
#include <xen/sched.h>

#include "../common.h"

void test_main(void)
{
    require_xen();
    tap_plan(1);
    ok(SHUTDOWN_crash + 64 == 67, "SHUTDOWN_crash is %d", SHUTDOWN_crash);
    kernel_shutdown(SHUTDOWN_crash);
}
