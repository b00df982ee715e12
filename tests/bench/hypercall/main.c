/*
 * hypercall bench — cost of a null hypercall through the hypercall page
 * (xen_version(XENVER_version, NULL)) against the raw exit it is built
 * on: a `call` to `out %al, $0xe5; ret` (XENHV_NULL_PORT, which xen-hv
 * answers doing nothing) with the same argument registers, and a bare
 * `out %al, $0xe5` loop.  Times are pvclock ns; printing is fixed-point
 * (no FPU in the guest).
 */
#include <stdint.h>
#include <xen/version.h>

#include "xenkern/console.h"
#include "xenkern/hypercall.h"
#include "xenkern/kernel.h"
#include "xenkern/pvclock.h"

#define N 20000

/* The 2-instruction stub, shaped like a hypercall page entry. */
asm(".text\n"
    ".globl null_pio_stub\n"
    "null_pio_stub:\n"
    "    outb %al, $0xe5\n"
    "    ret\n");
extern const uint8_t null_pio_stub[];

/* Same register set-up and clobbers as hypercall5() in hypercall.h. */
static inline long pio_call5(unsigned long a1, unsigned long a2,
                             unsigned long a3, unsigned long a4,
                             unsigned long a5)
{
    register unsigned long r10 asm("r10") = a4;
    register unsigned long r8 asm("r8") = a5;
    long ret;

    asm volatile("call *%[stub]"
                 : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                 : [stub] "r"(null_pio_stub)
                 : "memory", "rcx", "r9", "r11", "cc");
    return ret;
}

/* Print v / 1000 with three decimals. */
static void print_milli(const char *name, uint64_t milli)
{
    printf("%s=%llu.%03llu", name, (unsigned long long)(milli / 1000),
           (unsigned long long)(milli % 1000));
}

void kernel_main(void)
{
    uint64_t t0, hc, pio_call, pio;

    if (!xen_present) {
        printf("hypercall bench: no Xen, nothing to measure\n");
        return;
    }
    t0 = time_now_ns();
    for (int i = 0; i < N; i++)
        HYPERVISOR_xen_version(XENVER_version, NULL);
    hc = time_now_ns() - t0;

    t0 = time_now_ns();
    for (int i = 0; i < N; i++)
        pio_call5(XENVER_version, 0, 0, 0, 0);
    pio_call = time_now_ns() - t0;

    t0 = time_now_ns();
    for (int i = 0; i < N; i++)
        asm volatile("outb %%al, $0xe5" ::"a"(0) : "memory");
    pio = time_now_ns() - t0;

    print_milli("hypercall_ns_per_op", hc * 1000 / N);
    printf(" ");
    print_milli("raw_pio_call_ns_per_op", pio_call * 1000 / N);
    printf(" ");
    print_milli("raw_pio_ns_per_op", pio * 1000 / N);
    printf(" ");
    print_milli("ratio", pio_call ? hc * 1000 / pio_call : 0);
    printf("\n");
}
