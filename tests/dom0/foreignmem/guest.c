/*
 * The guest half of foreignmem: fill a page, print its frame number and a
 * port for domain 0 ("READY port=P gfn=G"), wait for domain 0's event and
 * check what it wrote into the page through its foreign mapping.
 */
#include <stdint.h>
#include <xen/sched.h>
#include <xen/vcpu.h>

#include "xenkern/console.h"
#include "xenkern/evtchn.h"
#include "xenkern/hypercall.h"
#include "xenkern/kernel.h"
#include "xenkern/pvclock.h"
#include "xenkern/sched.h"
#include "xenkern/test.h"

static uint8_t page[4096] __attribute__((aligned(4096)));
static volatile unsigned int got;

void test_main(void)
{
    int port;

    tap_plan(3);
    sched_sleep_until(0); /* binds VIRQ_TIMER */
    for (int i = 0; i < 4096; i++)
        page[i] = (uint8_t)(i ^ 0x5a);
    port = evtchn_alloc_unbound(0, evtchn_count, (void *)&got);
    ok(port > 0, "port for domain 0");
    printf("READY port=%d gfn=%lx\n", port, (unsigned long)page >> 12);
    sched_wait_count(&got, 1, 10000000000ULL);
    ok(got == 1, "domain 0 says it wrote");
    ok(((volatile uint8_t *)page)[0] == 0xee &&
           ((volatile uint8_t *)page)[4095] == 0xff &&
           ((volatile uint8_t *)page)[1] == (1 ^ 0x5a),
       "its writes through the foreign mapping reached our page");
}
