/*
 * hypercall bench — cost of a null hypercall through the hypercall page
 * (xen_version(XENVER_version, NULL)) against the raw exit it is built
 * on: a `call` to `out %al, $0xe5; ret` (XENHV_NULL_PORT, which xen-hv
 * answers doing nothing) with the same argument registers, and a bare
 * `out %al, $0xe5` loop.  The judged ratio is hypercall / raw call: both
 * loops run identical guest instructions (a call to a 2-instruction stub)
 * and differ only in xen-hv's handling of the exit.  wrapper_hypercall is
 * the same hypercall through HYPERVISOR_xen_version(), whose extra
 * hypercall_ready check is guest-side cost.  Times are pvclock ns;
 * printing is fixed-point (no FPU in the guest).
 */
#include <stdint.h>
#include <xen/version.h>

#include "xenkern/console.h"
#include "xenkern/hypercall.h"
#include "xenkern/kernel.h"
#include "xenkern/pvclock.h"

#define N      20000
#define ROUNDS 10

/* Print v / 1000 with three decimals. */
static void print_milli(const char *name, uint64_t milli)
{
    printf("%s=%llu.%03llu", name, (unsigned long long)(milli / 1000),
           (unsigned long long)(milli % 1000));
}

void kernel_main(void)
{
    uint64_t t0, hc, hc_wrapper, pio_call, pio;
    const void *xen_version_stub =
        hypercall_page + __HYPERVISOR_xen_version * 32;

    if (!xen_present) {
        printf("hypercall bench: no Xen, nothing to measure\n");
        return;
    }
    /*
     * ROUNDS rounds of N / ROUNDS operations, the loops interleaved, and
     * the fastest round of each kept: a busy host slows whole rounds, and
     * interleaving gives both loops the same chances.
     */
    hc = hc_wrapper = pio_call = pio = ~0ULL;
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t d;

        t0 = time_now_ns();
        for (int i = 0; i < N / ROUNDS; i++)
            hypercall_stub5(xen_version_stub, XENVER_version, 0, 0, 0, 0);
        d = (time_now_ns() - t0) * ROUNDS;
        hc = d < hc ? d : hc;

        t0 = time_now_ns();
        for (int i = 0; i < N / ROUNDS; i++)
            hypercall_stub5(null_exit_stub, XENVER_version, 0, 0, 0, 0);
        d = (time_now_ns() - t0) * ROUNDS;
        pio_call = d < pio_call ? d : pio_call;

        t0 = time_now_ns();
        for (int i = 0; i < N / ROUNDS; i++)
            HYPERVISOR_xen_version(XENVER_version, NULL);
        d = (time_now_ns() - t0) * ROUNDS;
        hc_wrapper = d < hc_wrapper ? d : hc_wrapper;

        t0 = time_now_ns();
        for (int i = 0; i < N / ROUNDS; i++)
            asm volatile("outb %%al, $0xe5" ::"a"(0) : "memory");
        d = (time_now_ns() - t0) * ROUNDS;
        pio = d < pio ? d : pio;
    }

    print_milli("hypercall_ns_per_op", hc * 1000 / N);
    printf(" ");
    print_milli("raw_pio_call_ns_per_op", pio_call * 1000 / N);
    printf(" ");
    print_milli("raw_pio_ns_per_op", pio * 1000 / N);
    printf(" ");
    print_milli("wrapper_hypercall_ns_per_op", hc_wrapper * 1000 / N);
    printf(" ");
    print_milli("ratio", pio_call ? hc * 1000 / pio_call : 0);
    printf("\n");
}
