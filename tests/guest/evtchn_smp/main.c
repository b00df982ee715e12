/*
 * evtchn_smp — event channels across vCPUs: an IPI port bound to vCPU 1
 * wakes it from SCHEDOP_block and runs its handler there; a loopback
 * interdomain port moved to vCPU 1 with EVTCHNOP_bind_vcpu is delivered
 * there (pending_sel/upcall_pending of vCPU 1, not 0), while vCPU 1 also
 * sleeps on its own per-vCPU VIRQ_TIMER; bind_vcpu of an IPI port is -EINVAL
 * and of a bad vCPU -ENOENT.
 */
#include <stdint.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/vcpu.h>

#include "../common.h"
#include "xenkern/evtchn.h"
#include "xenkern/sched.h"
#include "xenkern/shared.h"
#include "xenkern/smp.h"

static volatile unsigned int on_cpu[2][EVTCHN_2L_NR_PORTS];
static volatile int ap_ready, ap_stop;

static void count(evtchn_port_t port, void *arg)
{
    (void)arg;
    on_cpu[smp_id() & 1][port]++;
}

/* vCPU 1: block and handle events until told to stop. */
static void ap_main(void *arg)
{
    (void)arg;
    sched_sleep_until(0); /* binds VIRQ_TIMER on this vCPU */
    ap_ready = 1;
    while (!ap_stop) {
        struct vcpu_set_singleshot_timer t = {.timeout_abs_ns =
                                                  time_now_ns() + 5000000ULL};
        HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 1, &t);
        HYPERVISOR_sched_op(SCHEDOP_block, NULL);
        evtchn_poll();
    }
}

static int wait_for(volatile unsigned int *v, unsigned int n)
{
    uint64_t end = time_now_ns() + 2000000000ULL;
    while (*v < n && time_now_ns() < end)
        sched_sleep_until(time_now_ns() + 1000000ULL);
    return *v >= n;
}

void test_main(void)
{
    int ipi, a, b;

    require_xen();
    tap_plan(8);
    is_int(smp_start_sipi(1, smp_apic_id_of(1), ap_main, NULL), 0,
           "vCPU 1 is up");
    while (!ap_ready)
        smp_mb();

    ipi = evtchn_bind_ipi(1, count, NULL);
    ok(ipi > 0, "IPI port for vCPU 1: %d", ipi);
    evtchn_send((evtchn_port_t)ipi);
    ok(wait_for(&on_cpu[1][ipi > 0 ? ipi : 0], 1) && on_cpu[0][ipi] == 0,
       "the IPI woke vCPU 1 and its handler ran there");
    is_int(evtchn_bind_vcpu((evtchn_port_t)ipi, 0), -XEN_EINVAL,
           "bind_vcpu of an IPI port is -EINVAL");

    a = evtchn_alloc_unbound(DOMID_SELF, count, NULL);
    b = evtchn_bind_interdomain(DOMID_SELF, (evtchn_port_t)a, count, NULL);
    evtchn_poll(); /* the new port's initial event, here on vCPU 0 */
    is_int(evtchn_bind_vcpu((evtchn_port_t)a, 1), 0,
           "bind_vcpu moves the interdomain port to vCPU 1");
    is_int(evtchn_bind_vcpu((evtchn_port_t)a, 9), -XEN_ENOENT,
           "bind_vcpu to a vCPU that does not exist is -ENOENT");
    evtchn_send((evtchn_port_t)b);
    ok(wait_for(&on_cpu[1][a], 1) && on_cpu[0][a] == 0,
       "an event on the moved port is handled on vCPU 1");
    evtchn_send((evtchn_port_t)ipi);
    ok(wait_for(&on_cpu[1][ipi], 2), "a second IPI is delivered too");
    ap_stop = 1;
}
