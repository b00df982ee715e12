/*
 * absent_ports — a PVH guest has no legacy devices: reads of unclaimed
 * I/O ports return all ones (Xen's null handler), writes are dropped.  One
 * deliberate exception: PIT counter 2 (0x42) reads 0, so that Linux's
 * quick PIT calibration gives up at its first read rather than after
 * 100,000 exits (xen-hv/vcpu.c).
 */
#include <stdint.h>

#include "../common.h"
#include "xenkern/x86.h"

static uint16_t inw(uint16_t port)
{
    uint16_t v;
    asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

void test_main(void)
{
    require_xen();
    tap_plan(5);
    is_int(inb(0x40), 0xff, "PIT counter 0 (0x40) reads 0xff: absent");
    is_int(inb(0x61), 0xff, "port 0x61 reads 0xff: absent");
    outb(0x42, 0xff); /* dropped */
    is_int(inb(0x42), 0, "PIT counter 2 (0x42) reads 0");
    is_int(inw(0x1234), 0xffff, "a 16-bit read of port 0x1234 is 0xffff");
    is_int(inb(0x3f8 + 5), 0xff, "no UART at 0x3f8 (LSR reads 0xff)");
}
