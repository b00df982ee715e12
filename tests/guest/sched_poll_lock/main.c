/*
 * sched_poll_lock — a PV spinlock as Linux's (arch/x86/xen/spinlock.c:
 * xen_qlock_wait() polls the CPU's masked kicker IPI port with
 * SCHEDOP_poll, xen_qlock_kick() sends to it) on two vCPUs hammering one
 * lock.  A kick that SCHEDOP_poll misses (the race between the waiter's
 * last look at the lock and its sleep, <xen/sched.h> SCHEDOP_poll "the
 * vCPU is woken by a send even to a masked port") shows up as a poll that
 * ends only at its 200 ms safety timeout; none may.
 */
#include <stdint.h>
#include <xen/sched.h>

#include "../common.h"
#include "xenkern/evtchn.h"
#include "xenkern/shared.h"
#include "xenkern/smp.h"

#define ROUNDS    3000
#define SAFETY_NS 200000000ULL /* 200 ms */

static volatile int locked;
static volatile int waiting[2];
static evtchn_port_t kicker[2];
static volatile long counter;
static volatile unsigned int polls[2], timeouts[2], done[2];

static void clear_pending(evtchn_port_t port)
{
    __atomic_fetch_and(&shared_info->evtchn_pending[port / 64],
                       ~(1UL << (port % 64)), __ATOMIC_SEQ_CST);
}

static void lock(unsigned int me)
{
    while (__atomic_exchange_n(&locked, 1, __ATOMIC_ACQUIRE)) {
        struct sched_poll p = {.nr_ports = 1};
        uint64_t deadline;

        /* Say we wait, then look again: the holder kicks waiters only. */
        waiting[me] = 1;
        smp_mb();
        clear_pending(kicker[me]);
        if (!__atomic_load_n(&locked, __ATOMIC_SEQ_CST)) {
            waiting[me] = 0;
            continue;
        }
        set_xen_guest_handle(p.ports, &kicker[me]);
        deadline = time_now_ns() + SAFETY_NS;
        p.timeout = deadline;
        HYPERVISOR_sched_op(SCHEDOP_poll, &p);
        polls[me]++;
        if (time_now_ns() >= deadline)
            timeouts[me]++;
        waiting[me] = 0;
    }
}

static void unlock(unsigned int me)
{
    __atomic_store_n(&locked, 0, __ATOMIC_SEQ_CST);
    if (waiting[!me])
        evtchn_send(kicker[!me]);
}

static void worker(unsigned int me)
{
    for (unsigned int i = 0; i < ROUNDS; i++) {
        lock(me);
        counter++;
        /* Hold the lock a little, so the other vCPU has to wait. */
        for (volatile int k = 0; k < 50; k++)
            ;
        unlock(me);
    }
    done[me] = 1;
}

static void ap_main(void *arg)
{
    (void)arg;
    worker(1);
}

void test_main(void)
{
    int p0, p1;
    uint64_t end;

    require_xen();
    tap_plan(5);
    p0 = evtchn_bind_ipi(0, NULL, NULL);
    p1 = evtchn_bind_ipi(1, NULL, NULL);
    if (p0 <= 0 || p1 <= 0)
        bail_out("kicker ports: %d %d", p0, p1);
    kicker[0] = (evtchn_port_t)p0;
    kicker[1] = (evtchn_port_t)p1;
    evtchn_mask(kicker[0]);
    evtchn_mask(kicker[1]);

    is_int(smp_start_sipi(1, smp_apic_id_of(1), ap_main, NULL), 0,
           "vCPU 1 is up");
    worker(0);
    end = time_now_ns() + 300 * SAFETY_NS;
    while (!done[1] && time_now_ns() < end)
        asm volatile("pause");
    ok(done[0] && done[1], "both vCPUs finished %d rounds", ROUNDS);
    is_int(counter, 2 * ROUNDS, "the lock kept the counter exact");
    /*
     * Contention needs the two vCPUs to run at the same time; on a host
     * with one CPU (the lab VM) they take turns and the lock may never be
     * contended: then there is nothing to check, said as a skip.
     */
    if (polls[0] + polls[1] == 0 && counter == 2 * ROUNDS)
        skip("no contention arose: the vCPUs did not run in parallel (one "
             "host CPU?)");
    else
        ok(polls[0] + polls[1] > 0,
           "the slow path polled (%u + %u polls): the lock was contended",
           polls[0], polls[1]);
    is_int(timeouts[0] + timeouts[1], 0,
           "no poll waited for its safety timeout (no kick was lost)");
}
