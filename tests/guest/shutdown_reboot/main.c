/*
 * shutdown_reboot — SCHEDOP_shutdown(SHUTDOWN_reboot) (<xen/sched.h>) reaches
 * the launcher as exit status 64 + SHUTDOWN_reboot = 65.
 */
#include <stdint.h>
#include <xen/sched.h>

#include "../common.h"

void test_main(void)
{
    require_xen();
    tap_plan(1);
    ok(SHUTDOWN_reboot + 64 == 65, "SHUTDOWN_reboot is %d", SHUTDOWN_reboot);
    kernel_shutdown(SHUTDOWN_reboot);
}
