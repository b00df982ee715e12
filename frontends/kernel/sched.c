/* sched.c — sleeping with the singleshot timer (sched.h). */
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/vcpu.h>

#include "xenkern/hypercall.h"
#include "xenkern/pvclock.h"
#include "xenkern/sched.h"
#include "xenkern/shared.h"
#include "xenkern/smp.h"

static uint8_t virq_timer_bound[SMP_MAX_CPUS];

static void bind_virq_timer(unsigned int id)
{
    struct evtchn_bind_virq bind = {.virq = VIRQ_TIMER, .vcpu = id};

    if (id >= SMP_MAX_CPUS || virq_timer_bound[id])
        return;
    /* The port stays masked-or-not as Xen creates it; we only poll. */
    HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bind);
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
        /* Nothing is delivered (IF=0): consume the wake-up ourselves. */
        struct vcpu_info *vi = vcpu_info_of(id);
        if (vi)
            vi->evtchn_upcall_pending = 0;
    }
    return 0;
}
