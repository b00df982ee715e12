/*
 * pvclock — system time from struct vcpu_time_info (<xen/xen.h>):
 * monotonic on one vCPU, XEN_PVCLOCK_TSC_STABLE_BIT constant, and
 * monotonic across two vCPUs that take turns reading it (VCPUS=2).
 */
#include <stdint.h>
#include <xen/vcpu.h>

#include "../common.h"
#include "xenkern/shared.h"
#include "xenkern/smp.h"

#define READS  1000
#define ROUNDS 200

static volatile uint64_t last_seen;
static volatile int turn; /* 0: vCPU 0 reads next, 1: vCPU 1 */
static volatile long backwards;

/* Each vCPU, on its turn, reads the clock and checks it did not go back. */
static void alternate(unsigned int me)
{
    for (int i = 0; i < ROUNDS; i++) {
        while (READ_ONCE(turn) != (int)me)
            cpu_relax();
        uint64_t t = time_now_ns();
        if (t < last_seen)
            backwards++;
        last_seen = t;
        smp_mb();
        WRITE_ONCE(turn, !me);
    }
}

static void ap_main(void *arg)
{
    alternate(1);
}

void test_main(void)
{
    struct vcpu_info *vi;
    uint64_t prev = 0, t;
    unsigned int drops = 0, flag_changes = 0;
    uint8_t flags, first_flags = 0;

    require_xen();
    tap_plan(5);
    vi = vcpu_info_of(0);
    ASSERT(vi);
    for (int i = 0; i < READS; i++) {
        t = pvclock_read(&vi->time, &flags);
        if (i == 0)
            first_flags = flags;
        if (t < prev)
            drops++;
        if (flags != first_flags)
            flag_changes++;
        prev = t;
    }
    is_int(drops, 0, "%d reads on vCPU 0 never go backwards", READS);
    is_int(flag_changes, 0, "flags constant (0x%x, TSC_STABLE %s)", first_flags,
           (first_flags & XEN_PVCLOCK_TSC_STABLE_BIT) ? "set" : "clear");
    ok(prev > 0, "system time %llu ns is positive", (unsigned long long)prev);

    if (!ok(smp_start_vcpuop(1, ap_main, NULL) == 0, "vCPU 1 started")) {
        skip("no second vCPU");
        return;
    }
    alternate(0);
    is_int(backwards, 0, "%d alternating reads on 2 vCPUs never go backwards",
           2 * ROUNDS);
}
