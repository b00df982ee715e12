/*
 * console_io — __HYPERVISOR_console_io (<xen/xen.h>) as Xen 4.17's
 * do_console_io() (xen/drivers/char/console.c) answers a domU.  Xen lets a
 * domU write only in CONFIG_VERBOSE_DEBUG builds; xen-hv documents that
 * it behaves like one, where xsm_console_io() (xsm/dummy.h) still
 * denies every other command with -EPERM before the switch.
 */
#include <stdint.h>
#include "../common.h"

void test_main(void)
{
    static const char msg[] = "# console_io: a line written directly\n";
    char buf[16];

    require_xen();
    tap_plan(6);
    console_flush();
    is_int(HYPERVISOR_console_io(CONSOLEIO_write, sizeof(msg) - 1, msg), 0,
           "CONSOLEIO_write returns 0");
    is_int(HYPERVISOR_console_io(CONSOLEIO_write, 0, msg), 0,
           "CONSOLEIO_write of 0 bytes returns 0");
    is_int(HYPERVISOR_console_io(CONSOLEIO_write, 0, BAD_PTR), 0,
           "CONSOLEIO_write of 0 bytes ignores the pointer");
    is_int(HYPERVISOR_console_io(CONSOLEIO_write, 8, BAD_PTR), -XEN_EFAULT,
           "CONSOLEIO_write from an unmapped address is -EFAULT");
    is_int(HYPERVISOR_console_io(CONSOLEIO_read, sizeof(buf), buf), -XEN_EPERM,
           "CONSOLEIO_read from a domU is -EPERM");
    is_int(HYPERVISOR_console_io(99, 0, NULL), -XEN_EPERM,
           "unknown command from a domU is -EPERM (XSM first)");
}
