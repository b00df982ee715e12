/*
 * The guest of guest_pingpong, two roles chosen on the command line:
 *   role=server peer=D   allocate a port for domain D, print
 *                        "READY port=P", answer ROUNDS events from it;
 *   role=client peer=D port=P   bind to domain D's port P, send ROUNDS
 *                        events, each answered before the next.
 * Both print TAP and power off.
 */
#include <stdint.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/vcpu.h>

#include "xenkern/boot.h"
#include "xenkern/console.h"
#include "xenkern/evtchn.h"
#include "xenkern/hypercall.h"
#include "xenkern/kernel.h"
#include "xenkern/pvclock.h"
#include "xenkern/sched.h"
#include "xenkern/test.h"

#define ROUNDS 20

/* One raw exit, as a hypercall costs (null_exit_stub in hypercall.h). */
static inline void null_exit(void)
{
    hypercall_stub5(null_exit_stub, 0, 0, 0, 0, 0);
}

static volatile unsigned int got;

void test_main(void)
{
    char role[16] = "";
    domid_t peer = (domid_t)cmdline_get_u64("peer", 0);
    unsigned int done = 0;
    int port;

    tap_plan(2);
    sched_sleep_until(0); /* binds VIRQ_TIMER */
    cmdline_get("role", role, sizeof(role));
    {
        /* What the control domain set before we started. */
        struct xen_hvm_param hp = {.domid = DOMID_SELF,
                                   .index = HVM_PARAM_STORE_PFN};
        domid_t self = DOMID_SELF;
        HYPERVISOR_hvm_op(HVMOP_get_param, &hp);
        printf("# store_pfn=%llx maxres=%ld\n", (unsigned long long)hp.value,
               HYPERVISOR_memory_op(XENMEM_maximum_reservation, &self));
    }
    if (role[0] == 's') {
        port = evtchn_alloc_unbound(peer, evtchn_count, (void *)&got);
        ok(port > 0, "server: port %d for domain %u", port, peer);
        printf("READY port=%d\n", port);
        while (done < ROUNDS &&
               sched_wait_count(&got, done + 1, 10000000000ULL)) {
            evtchn_send((evtchn_port_t)port);
            done++;
        }
        is_int(done, ROUNDS, "server answered every event");
    } else {
        port = evtchn_bind_interdomain(
            peer, (evtchn_port_t)cmdline_get_u64("port", 0), evtchn_count,
            (void *)&got);
        uint64_t t0, t1, t2;
        ok(port > 0, "client: bound to domain %u, local port %d", peer, port);
        evtchn_poll(); /* the event Xen raises on a fresh binding */
        got = 0;
        t0 = time_now_ns();
        while (done < ROUNDS) {
            evtchn_send((evtchn_port_t)port);
            if (!sched_wait_count(&got, done + 1, 10000000000ULL))
                break;
            done++;
        }
        t1 = time_now_ns();
        for (int i = 0; i < ROUNDS; i++) {
            null_exit();
            null_exit();
        }
        t2 = time_now_ns();
        is_int(done, ROUNDS, "client got an answer to every event");
        /* For make bench: guest<->guest round trip, raw exit pair. */
        printf("# bench rtt_ns=%llu raw_exit_pair_ns=%llu\n",
               (unsigned long long)((t1 - t0) / ROUNDS),
               (unsigned long long)((t2 - t1) / ROUNDS));
    }
}
