/* sched.c — sleeping with the singleshot timer (sched.h). */
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/vcpu.h>

#include "xenkern/evtchn.h"
#include "xenkern/hypercall.h"
#include "xenkern/pvclock.h"
#include "xenkern/sched.h"
#include "xenkern/shared.h"
#include "xenkern/smp.h"

static uint8_t virq_timer_bound[SMP_MAX_CPUS];

static void bind_virq_timer(unsigned int id)
{
    if (id >= SMP_MAX_CPUS || virq_timer_bound[id])
        return;
    /* Xen delivers the singleshot timer as VIRQ_TIMER: bind it once. */
    if (evtchn_bind_virq(VIRQ_TIMER, id, NULL, NULL) >= 0)
        virq_timer_bound[id] = 1;
}

int sched_sleep_until(uint64_t deadline_ns)
{
    unsigned int id = smp_id();

    bind_virq_timer(id);
    while (time_now_ns() < deadline_ns) {
        struct vcpu_set_singleshot_timer t = {.timeout_abs_ns = deadline_ns};
        long rc = HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, id, &t);

        if (rc)
            return (int)rc;
        rc = HYPERVISOR_sched_op(SCHEDOP_block, NULL);
        if (rc)
            return (int)rc;
        /* Interrupts are off: consume the events ourselves. */
        evtchn_poll();
    }
    return 0;
}

int sched_wait_count(volatile unsigned int *count, unsigned int n,
                     uint64_t timeout_ns)
{
    unsigned int id = smp_id();
    uint64_t deadline = time_now_ns() + timeout_ns;
    struct vcpu_set_singleshot_timer t = {.timeout_abs_ns = deadline};

    bind_virq_timer(id);
    while (*count < n && time_now_ns() < deadline) {
        HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, id, &t);
        HYPERVISOR_sched_op(SCHEDOP_block, NULL);
        evtchn_poll();
    }
    return *count >= n;
}
