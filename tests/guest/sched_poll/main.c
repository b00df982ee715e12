/*
 * sched_poll — SCHEDOP_poll (<xen/sched.h> struct sched_poll) as Xen
 * 4.17's do_poll() (xen/common/sched/core.c) and evtchn_port_poll()
 * (xen/include/xen/event.h): block until one of the ports is pending or
 * system time reaches the timeout (0 = none), returning 0; at once when a
 * port is pending already; -EINVAL for more than 128 ports or a port that
 * is not bound (in order, up to the first pending one); -EFAULT for
 * unreadable arguments.  A send wakes a vCPU polling that port even when
 * it is masked — what Linux's PV spinlocks rely on (xen_qlock_wait polls
 * the masked per-CPU kicker IPI port) — and a send to a port it does not
 * poll does not.  An upcall the vCPU can take (interrupts on) ends the
 * poll too, as Xen's vcpu_kick() does, so the interrupt is not held up.
 */
#include <stdint.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/hvm/hvm_op.h>
#include <xen/sched.h>
#include <xen/vcpu.h>

#include "../common.h"
#include "xenkern/evtchn.h"
#include "xenkern/shared.h"
#include "xenkern/smp.h"
#include "xenkern/traps.h"

#define MS            1000000ULL
#define UPCALL_VECTOR 0xf3

/* Work for vCPU 1: poll these ports with this timeout, report back. */
static evtchn_port_t ap_ports[2];
static volatile unsigned int ap_nr;
static volatile uint64_t ap_timeout;
static volatile int ap_go, ap_done, ap_stop, ap_irq;
static volatile unsigned int upcalls;
static volatile long ap_rc;
static volatile uint64_t ap_start, ap_end;

static long poll_ports(evtchn_port_t *ports, unsigned int nr, uint64_t timeout)
{
    struct sched_poll p = {.nr_ports = nr, .timeout = timeout};
    set_xen_guest_handle(p.ports, ports);
    return HYPERVISOR_sched_op(SCHEDOP_poll, &p);
}

static long poll1(evtchn_port_t port, uint64_t timeout)
{
    return poll_ports(&port, 1, timeout);
}

static void clear_pending(evtchn_port_t port)
{
    __atomic_fetch_and(&shared_info->evtchn_pending[port / 64],
                       ~(1UL << (port % 64)), __ATOMIC_SEQ_CST);
}

/* vCPU 1's upcall vector: handle its events (clears upcall_pending). */
static void upcall(struct trap_frame *f)
{
    (void)f;
    upcalls++;
    evtchn_poll();
}

static void ap_main(void *arg)
{
    (void)arg;
    while (!ap_stop) {
        if (!ap_go) {
            asm volatile("pause");
            continue;
        }
        ap_go = 0;
        ap_start = time_now_ns();
        if (ap_irq)
            irq_enable();
        ap_rc = poll_ports(ap_ports, ap_nr, ap_timeout);
        ap_end = time_now_ns();
        /*
         * As a real guest, keep interrupts on a while: the poll may end
         * as the upcall is raised, a moment before its interrupt lands.
         */
        while (ap_irq && !upcalls && time_now_ns() - ap_end < 1000 * MS)
            asm volatile("pause");
        irq_disable();
        ap_done = 1;
    }
}

/* Start a poll on vCPU 1 and wait until it is blocked in it. */
static bool ap_poll(unsigned int nr, uint64_t timeout)
{
    struct vcpu_runstate_info rs;
    uint64_t end = time_now_ns() + 2000 * MS;

    ap_nr = nr;
    ap_timeout = timeout;
    ap_done = 0;
    smp_mb();
    ap_go = 1;
    while (time_now_ns() < end) {
        if (HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, &rs) == 0 &&
            rs.state == RUNSTATE_blocked)
            return true;
        if (ap_done)
            return false;
    }
    return false;
}

static bool ap_wait(uint64_t ms)
{
    uint64_t end = time_now_ns() + ms * MS;
    while (!ap_done && time_now_ns() < end)
        asm volatile("pause");
    return ap_done;
}

void test_main(void)
{
    evtchn_port_t ports[129] = {0};
    struct sched_poll sp = {0};
    struct xen_hvm_evtchn_upcall_vector u;
    int p, q, r, s, t;
    uint64_t t0, t1, sent;
    long rc;

    require_xen();
    tap_plan(30);

    p = evtchn_bind_ipi(0, NULL, NULL);
    q = evtchn_bind_ipi(1, NULL, NULL);
    r = evtchn_bind_ipi(1, NULL, NULL);
    s = evtchn_bind_ipi(1, NULL, NULL);
    if (p <= 0 || q <= 0 || r <= 0 || s <= 0)
        bail_out("binding IPI ports: %d %d %d %d", p, q, r, s);
    evtchn_mask(p);
    evtchn_mask(q);
    evtchn_mask(r);
    evtchn_mask(s);

    /* Argument checks. */
    for (unsigned int i = 0; i < 129; i++)
        ports[i] = (evtchn_port_t)p;
    is_int(poll_ports(ports, 129, 0), -XEN_EINVAL,
           "129 ports are -EINVAL (Xen's limit is 128)");
    is_int(HYPERVISOR_sched_op(SCHEDOP_poll, BAD_PTR), -XEN_EFAULT,
           "an unreadable sched_poll is -EFAULT");
    set_xen_guest_handle(sp.ports, BAD_PTR);
    sp.nr_ports = 1;
    is_int(HYPERVISOR_sched_op(SCHEDOP_poll, &sp), -XEN_EFAULT,
           "an unreadable ports array is -EFAULT");
    is_int(poll1(0, 1), -XEN_EINVAL, "port 0 (reserved) is -EINVAL");
    is_int(poll1(60, 1), -XEN_EINVAL,
           "a free port inside the allocated bucket is -EINVAL");
    is_int(poll1(4000, 1), -XEN_EINVAL, "port 4000 (never allocated)");

    /* Timeouts, on vCPU 0. */
    t0 = time_now_ns();
    rc = poll1((evtchn_port_t)p, t0 + 20 * MS);
    t1 = time_now_ns();
    is_int(rc, 0, "poll of an idle port with a 20 ms timeout returns 0");
    ok(t1 - t0 >= 20 * MS && t1 - t0 < 1000 * MS,
       "... after %llu us (>= 20000, < 1 s)",
       (unsigned long long)(t1 - t0) / 1000);
    t0 = time_now_ns();
    is_int(poll1((evtchn_port_t)p, 1), 0, "a timeout in the past returns 0");
    ok(time_now_ns() - t0 < 100 * MS, "... at once");
    t0 = time_now_ns();
    is_int(poll_ports(ports, 0, t0 + 10 * MS), 0,
           "no ports and a 10 ms timeout returns 0");
    ok(time_now_ns() - t0 >= 10 * MS, "... after the timeout");

    /* A masked port made pending: the poll returns at once. */
    evtchn_send((evtchn_port_t)p);
    ok(evtchn_is_pending(p) && evtchn_is_masked(p),
       "a send to the masked port sets it pending");
    t0 = time_now_ns();
    is_int(poll1((evtchn_port_t)p, t0 + 2000 * MS), 0,
           "poll of a pending masked port returns 0");
    ok(time_now_ns() - t0 < 100 * MS, "... at once, not at the timeout");
    ports[0] = (evtchn_port_t)p;
    ports[1] = 0;
    is_int(poll_ports(ports, 2, 0), 0,
           "[pending, bad]: 0, the ports after a pending one are not looked "
           "at");
    ports[0] = 0;
    ports[1] = (evtchn_port_t)p;
    is_int(poll_ports(ports, 2, 0), -XEN_EINVAL, "[bad, pending]: -EINVAL");
    clear_pending((evtchn_port_t)p);

    /* vCPU 1 polls its masked kicker port; vCPU 0 kicks it. */
    is_int(smp_start_sipi(1, smp_apic_id_of(1), ap_main, NULL), 0,
           "vCPU 1 is up");
    ap_ports[0] = (evtchn_port_t)q;
    ok(ap_poll(1, 0),
       "vCPU 1 blocks in SCHEDOP_poll on a masked port (runstate blocked)");
    evtchn_send((evtchn_port_t)s); /* masked, not polled */
    t0 = time_now_ns();
    while (time_now_ns() - t0 < 30 * MS)
        asm volatile("pause");
    ok(!ap_done, "a send to a port it does not poll leaves it blocked");
    sent = time_now_ns();
    evtchn_send((evtchn_port_t)q);
    ok(ap_wait(2000) && ap_rc == 0,
       "a send to the masked polled port wakes it: rc %ld", ap_rc);
    ok(ap_done && ap_end >= sent && ap_end - sent < 1000 * MS,
       "... %llu us after the send",
       (unsigned long long)(ap_end - sent) / 1000);
    ok(evtchn_is_pending(q) && evtchn_is_masked(q),
       "the port stays pending and masked (no upcall)");
    clear_pending((evtchn_port_t)q);
    clear_pending((evtchn_port_t)s);

    /* Several ports: a send to any of them wakes the poller. */
    ap_ports[0] = (evtchn_port_t)q;
    ap_ports[1] = (evtchn_port_t)r;
    ok(ap_poll(2, time_now_ns() + 5000 * MS), "vCPU 1 polls two ports");
    evtchn_send((evtchn_port_t)r);
    ok(ap_wait(2000) && ap_rc == 0 && ap_end - ap_start < 4000 * MS,
       "a send to the second port wakes it before the timeout");
    clear_pending((evtchn_port_t)r);

    /* The timeout alone ends a poll on vCPU 1 too. */
    ap_ports[0] = (evtchn_port_t)q;
    t0 = time_now_ns() + 30 * MS;
    ok(ap_poll(1, t0) && ap_wait(2000) && ap_rc == 0,
       "vCPU 1's poll with a timeout 30 ms ahead returns 0");
    ok(ap_end >= t0 && ap_end - t0 < 1000 * MS,
       "... at or after the timeout (%lld us after)",
       ((long long)ap_end - (long long)t0) / 1000);

    /* Interrupts on: an upcall for vCPU 1 ends its poll and is taken. */
    irq_register(UPCALL_VECTOR, upcall);
    t = evtchn_bind_ipi(1, NULL, NULL);
    u = (struct xen_hvm_evtchn_upcall_vector){.vcpu = 1,
                                              .vector = UPCALL_VECTOR};
    if (t <= 0 || HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &u))
        bail_out("upcall set-up for vCPU 1 (port %d)", t);
    ap_irq = 1;
    ok(ap_poll(1, 0), "vCPU 1 polls its masked port with interrupts on");
    evtchn_send((evtchn_port_t)t); /* unmasked: an upcall for vCPU 1 */
    ok(ap_wait(2000) && ap_rc == 0,
       "an upcall it can take ends the poll (rc %ld)", ap_rc);
    t0 = time_now_ns();
    while (!upcalls && time_now_ns() - t0 < 1000 * MS)
        asm volatile("pause");
    ok(upcalls >= 1 && !evtchn_is_pending(t),
       "... and its handler ran (%u upcalls, port %spending, vCPU 1 "
       "upcall_pending %u)",
       upcalls, evtchn_is_pending(t) ? "" : "not ",
       vcpu_info_of(1)->evtchn_upcall_pending);
    ap_stop = 1;
}
