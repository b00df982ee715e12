/*
 * acpi_poweroff — the guest powers off the ACPI way, as Linux does on a
 * hardware-reduced platform (acpi_hw_extended_sleep): it reads the sleep
 * status register (0, no wake-up pending), then writes SLP_TYP = 5 (the
 * DSDT's \_S5) with SLP_EN to the sleep control register the FADT names.
 * xen-hv must take that as SHUTDOWN_poweroff: exit status 0.  A write
 * without SLP_EN, or of another sleep type, must be ignored first.
 */
#include <stdint.h>

#include "../common.h"

#define SLEEP_CONTROL 0xb004 /* xenhv_layout.h: XENHV_ACPI_SLEEP_CONTROL_PORT */
#define SLEEP_STATUS  0xb005
#define SLP_EN        0x20

void test_main(void)
{
    require_xen();
    tap_plan(3);
    is_int(inb(SLEEP_STATUS), 0, "sleep status register reads 0");
    outb(SLEEP_CONTROL, 5 << 2); /* S5 without SLP_EN: nothing happens */
    ok(true, "SLP_TYP 5 without SLP_EN is ignored");
    outb(SLEEP_CONTROL, (3 << 2) | SLP_EN); /* S3: not offered */
    ok(true, "SLP_TYP 3 with SLP_EN is ignored");
    outb(SLEEP_CONTROL, (5 << 2) | SLP_EN);
    bail_out("the S5 write to the sleep control register returned");
}
