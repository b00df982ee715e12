/*
 * setup.c — kernel_start(): the C side of boot on vCPU 0, hypervisor
 * detection (<xen/arch-x86/cpuid.h>) and shutdown.
 */
#include <stdarg.h>

#include <stdint.h>
#include <xen/xen.h>
#include <xen/arch-x86/cpuid.h>

#include "xenkern/boot.h"
#include "xenkern/console.h"
#include "xenkern/hypercall.h"
#include "xenkern/kernel.h"
#include "xenkern/lapic.h"
#include "xenkern/lib.h"
#include "xenkern/shared.h"
#include "xenkern/smp.h"
#include "xenkern/traps.h"
#include "xenkern/x86.h"

#define DEBUG_EXIT_PORT 0xf4

bool xen_present;
bool hypercall_ready;
uint32_t xen_cpuid_base;

uint32_t hypercall_init(void)
{
    for (uint32_t base = XEN_CPUID_FIRST_LEAF; base < 0x40010000;
         base += 0x100) {
        struct cpuid_regs r = cpuid(base, 0);
        if (r.ebx == XEN_CPUID_SIGNATURE_EBX &&
            r.ecx == XEN_CPUID_SIGNATURE_ECX &&
            r.edx == XEN_CPUID_SIGNATURE_EDX && r.eax >= base + 2) {
            struct cpuid_regs l2 = cpuid(base + 2, 0);
            /* The hypervisor writes the stubs into the page. */
            wrmsr(l2.ebx, (uint64_t)(unsigned long)hypercall_page);
            xen_cpuid_base = base;
            hypercall_ready = true;
            return base;
        }
    }
    return 0;
}

void kernel_shutdown(unsigned int reason)
{
    struct sched_shutdown sd = {.reason = reason};

    console_flush();
    if (xen_present)
        HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
    /* QEMU's isa-debug-exit: exit status (value << 1) | 1. */
    outb(DEBUG_EXIT_PORT, (uint8_t)reason);
    halt_forever();
}

void panic(const char *fmt, ...)
{
    char buf[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    printf("PANIC: %s\n", buf);
    kernel_shutdown(SHUTDOWN_crash);
}

/* Called from head.S on the boot stack with the start info address. */
void kernel_start(uint32_t start_info_pa);
void kernel_start(uint32_t start_info_pa)
{
    boot_start_info =
        (const struct hvm_start_info *)(unsigned long)start_info_pa;
    smp_cpu_init(0);
    traps_init();
    xen_present = hypercall_init() != 0;
    if (xen_present) {
        struct cpuid_regs r = cpuid(xen_cpuid_base + 4, 0);
        if (r.eax & XEN_HVM_CPUID_VCPU_ID_PRESENT)
            smp_cpus[0].id = r.ebx; /* 0 for the boot CPU, by PVH */
        if (shared_info_map())
            printf("xenkern: cannot map shared_info\n");
    }
    lapic_init();
    smp_cpus[0].apic_id = lapic_id();
    smp_cpus[0].online = 1;
    kernel_main();
    kernel_shutdown(SHUTDOWN_poweroff);
}

/* See null_exit_stub in hypercall.h. */
asm(".text\n"
    ".globl null_exit_stub\n"
    "null_exit_stub:\n"
    "    outb %al, $0xe5\n"
    "    ret\n");
