/*
 * The guest half of evtchn_pingpong: allocate a port for domain 0, say so
 * on the console ("READY port=N"), then answer each event from domain 0
 * with one back, ROUNDS times.  Waits in SCHEDOP_block; a 10 s
 * singleshot timer (VIRQ_TIMER) bounds every wait.
 */
#include <stdint.h>
#include <xen/errno.h>
#include <xen/sched.h>
#include <xen/vcpu.h>

#include "xenkern/console.h"
#include "xenkern/evtchn.h"
#include "xenkern/hypercall.h"
#include "xenkern/kernel.h"
#include "xenkern/pvclock.h"
#include "xenkern/sched.h"
#include "xenkern/test.h"

#define ROUNDS 20

static volatile unsigned int got;

void test_main(void)
{
    unsigned int answered = 0;
    int port;

    tap_plan(3);
    sched_sleep_until(0); /* binds VIRQ_TIMER */
    port = evtchn_alloc_unbound(0, evtchn_count, (void *)&got);
    ok(port > 0, "alloc_unbound for domain 0 gives port %d", port);
    printf("READY port=%d\n", port);
    while (answered < ROUNDS) {
        if (!sched_wait_count(&got, answered + 1, 10000000000ULL))
            break;
        answered++;
        evtchn_send((evtchn_port_t)port);
    }
    is_int(answered, ROUNDS, "answered every event from domain 0");
    is_int(got, ROUNDS, "received exactly %d events", ROUNDS);
}
