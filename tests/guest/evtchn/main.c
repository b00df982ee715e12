/*
 * evtchn — event channels from inside a guest (<xen/event_channel.h>,
 * semantics of Xen 4.17's common/event_channel.c and event_2l.c):
 * VIRQ_TIMER fires within the requested time, a loopback interdomain pair
 * (alloc_unbound + bind_interdomain to ourselves) carries events both
 * ways, status reports each state, close leaves the peer unbound, masking
 * holds the upcall back and unmask re-raises it, IPIs, and the errors.
 */
#include <stdint.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/vcpu.h>

#include "../common.h"
#include "xenkern/evtchn.h"
#include "xenkern/shared.h"
#include "xenkern/smp.h"

static volatile unsigned int hits[EVTCHN_2L_NR_PORTS];

static void count(evtchn_port_t port, void *arg)
{
    (void)arg;
    hits[port]++;
}

static long block_until(uint64_t deadline)
{
    struct vcpu_set_singleshot_timer t = {.timeout_abs_ns = deadline};
    long rc = HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
    if (rc)
        return rc;
    return HYPERVISOR_sched_op(SCHEDOP_block, NULL);
}

void test_main(void)
{
    struct evtchn_status st;
    struct vcpu_info *vi;
    int timer, a, b, ipi;
    uint64_t t0, t1;

    require_xen();
    tap_plan(30);
    vi = vcpu_info_of(0);

    /* VIRQ_TIMER (per vCPU). */
    timer = evtchn_bind_virq(VIRQ_TIMER, 0, count, NULL);
    ok(timer > 0, "bind VIRQ_TIMER on vCPU 0 gives a port (%d)", timer);
    is_int(evtchn_bind_virq(VIRQ_TIMER, 0, count, NULL), -XEN_EEXIST,
           "binding VIRQ_TIMER twice is -EEXIST");
    is_int(evtchn_bind_virq(VIRQ_TIMER, 7, count, NULL), -XEN_ENOENT,
           "VIRQ on a vCPU that does not exist is -ENOENT");
    is_int(evtchn_bind_virq(VIRQ_CONSOLE, 1, count, NULL), -XEN_EINVAL,
           "a global VIRQ on a vCPU other than 0 is -EINVAL (checked first)");
    evtchn_poll();
    t0 = time_now_ns();
    is_int(block_until(t0 + 5000000), 0, "block with a timer 5 ms ahead");
    t1 = time_now_ns();
    ok(evtchn_poll() >= 1 && timer > 0 && hits[timer] == 1,
       "VIRQ_TIMER was delivered to its port (%u)",
       timer > 0 ? hits[timer] : 0);
    ok(t1 - t0 >= 5000000 && t1 - t0 < 200000000,
       "it fired after %llu us (>= 5000, < 200000)",
       (unsigned long long)((t1 - t0) / 1000));

    /* A loopback interdomain channel. */
    a = evtchn_alloc_unbound(DOMID_SELF, count, NULL);
    ok(a > 0, "alloc_unbound for ourselves gives a port (%d)", a);
    is_int(evtchn_status(a, &st), 0, "status of the unbound port");
    ok(st.status == EVTCHNSTAT_unbound, "it is unbound (%u)", st.status);
    b = evtchn_bind_interdomain(DOMID_SELF, a, count, NULL);
    ok(b > 0 && b != a, "bind_interdomain to it gives another port (%d)", b);
    evtchn_status(a, &st);
    ok(st.status == EVTCHNSTAT_interdomain &&
           st.u.interdomain.port == (evtchn_port_t)b,
       "status: interdomain, peer port %u", st.u.interdomain.port);
    is_int(evtchn_send(b), 0, "send on one end");
    ok(evtchn_is_pending(a) && vi->evtchn_upcall_pending,
       "the other end is pending and an upcall is pending");
    evtchn_poll(); /* also the pending a new interdomain port starts with */
    ok(hits[a] == 1 && !evtchn_is_pending(a), "its handler ran once");
    {
        unsigned int before = hits[b];
        evtchn_send(a);
        evtchn_poll();
        ok(hits[b] == before + 1, "and the reverse direction works");
    }

    /* Masking. */
    evtchn_mask(a);
    evtchn_send(b);
    ok(evtchn_is_pending(a) && !vi->evtchn_upcall_pending,
       "a masked port becomes pending without an upcall");
    is_int(evtchn_unmask(a), 0, "unmask");
    ok(vi->evtchn_upcall_pending, "unmask of a pending port re-raises");
    evtchn_poll();
    ok(hits[a] == 2, "the held-back event is delivered");

    /* Close: the peer becomes unbound, sends are dropped. */
    is_int(evtchn_close(b), 0, "close one end");
    evtchn_status(a, &st);
    ok(st.status == EVTCHNSTAT_unbound, "the peer is unbound again (%u)",
       st.status);
    is_int(evtchn_send(a), 0, "send on an unbound port is 0 and does nothing");

    /* IPI to ourselves. */
    evtchn_poll();
    ipi = evtchn_bind_ipi(0, count, NULL);
    ok(ipi > 0, "bind_ipi on vCPU 0 gives a port (%d)", ipi);
    {
        /* The port number may be one closed above: count from here. */
        unsigned int before = ipi > 0 ? hits[ipi] : 0;
        ok(ipi > 0 && evtchn_send(ipi) == 0 && evtchn_poll() >= 1 &&
               hits[ipi] == before + 1,
           "an IPI port notifies its vCPU");
    }

    /* Errors. */
    is_int(evtchn_send(4000), -XEN_EINVAL, "send on a free port is -EINVAL");
    is_int(evtchn_close(0), -XEN_EINVAL, "close port 0 is -EINVAL");
    {
        struct evtchn_init_control ic = {0};
        is_int(HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &ic),
               -XEN_ENOSYS, "FIFO init_control is -ENOSYS (2-level only)");
    }
    is_int(HYPERVISOR_event_channel_op(EVTCHNOP_send, BAD_PTR), -XEN_EFAULT,
           "an argument at an unmapped address is -EFAULT");
    is_int(HYPERVISOR_event_channel_op(99, NULL), -XEN_ENOSYS,
           "an unknown EVTCHNOP is -ENOSYS");
}
