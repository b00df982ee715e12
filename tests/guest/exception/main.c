/*
 * exception — a deliberate #UD (ud2) after the TAP plan is complete: the
 * kernel prints vector, error code, RIP and CR2 and ends the domain with
 * SHUTDOWN_crash (launcher exit 67).  Because every planned point was
 * reported first, the harness prints a `#` line, not `Bail out!`.
 */
#include <stdint.h>
#include "../common.h"

void test_main(void)
{
    tap_plan(1);
    ok(true, "about to execute ud2");
    asm volatile("ud2");
    bail_out("ud2 returned");
}
