/*
 * triple_fault — the guest loads an empty IDT and executes ud2: #UD cannot
 * be delivered, nor can #DF, so the CPU shuts down (a triple fault).  KVM
 * reports KVM_EXIT_SHUTDOWN; xen-hv must crash only this domain, say why
 * in its log, and the launcher must exit with SHUTDOWN_crash (67).
 */
#include <stdint.h>
#include "../common.h"

void test_main(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } empty = {0, 0};

    require_xen();
    tap_plan(1);
    ok(true, "loading an empty IDT, then ud2");
    asm volatile("lidt %0; ud2" : : "m"(empty));
    bail_out("ud2 with an empty IDT returned");
}
