/*
 * acpi_reset — the guest resets through the FADT's reset register
 * (SystemIO 0xcf9, value 6), as Linux's acpi_reboot() does: xen-hv must take
 * it as SHUTDOWN_reboot (exit status 65).  Other values are ignored.
 */
#include <stdint.h>

#include "../common.h"

#define RESET_PORT 0xcf9 /* xenhv_layout.h: XENHV_ACPI_RESET_PORT */

void test_main(void)
{
    require_xen();
    tap_plan(1);
    outb(RESET_PORT, 0x02);
    ok(true, "a write of 2 to the reset register is ignored");
    outb(RESET_PORT, 0x06);
    bail_out("the reset register write returned");
}
