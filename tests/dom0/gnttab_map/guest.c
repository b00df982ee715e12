/*
 * The guest half of gnttab_map: grant one page read/write and one
 * read-only to domain 0, and one page to domain 5; print the refs and an
 * event channel port for domain 0 ("READY port=P rw=A ro=B other=C"),
 * then, on domain 0's first event, check what it wrote through its mapping
 * and that the page cannot be revoked while mapped; on the second event
 * (domain 0 unmapped) revoke both grants.
 */
#include <stdint.h>
#include <xen/errno.h>
#include <xen/grant_table.h>
#include <xen/sched.h>
#include <xen/vcpu.h>

#include "xenkern/console.h"
#include "xenkern/evtchn.h"
#include "xenkern/gnttab.h"
#include "xenkern/hypercall.h"
#include "xenkern/kernel.h"
#include "xenkern/pvclock.h"
#include "xenkern/sched.h"
#include "xenkern/test.h"

static uint8_t rw_page[4096] __attribute__((aligned(4096)));
static uint8_t ro_page[4096] __attribute__((aligned(4096)));
static volatile unsigned int got;

void test_main(void)
{
    int port, a, b, c;

    tap_plan(8);
    sched_sleep_until(0); /* binds VIRQ_TIMER */
    is_int(gnttab_init(), 0, "grant table mapped");
    for (int i = 0; i < 4096; i++) {
        rw_page[i] = (uint8_t)(i * 7);
        ro_page[i] = (uint8_t)(255 - i);
    }
    a = gnttab_grant_access(0, (uintptr_t)rw_page >> 12, 0);
    b = gnttab_grant_access(0, (uintptr_t)ro_page >> 12, 1);
    c = gnttab_grant_access(5, (uintptr_t)ro_page >> 12, 0);
    port = evtchn_alloc_unbound(0, evtchn_count, (void *)&got);
    ok(a > 0 && b > 0 && c > 0 && port > 0, "granted refs and a port");
    printf("READY port=%d rw=%d ro=%d other=%d\n", port, a, b, c);

    /* Event 1: "written"; event 2: "unmapped". */
    ok(sched_wait_count(&got, 1, 10000000000ULL), "domain 0 says it wrote");
    ok(rw_page[0] == 0xd0 && rw_page[4095] == 0x0d && rw_page[1] == 7,
       "its writes through the mapping reached our page");
    ok((gnttab_entry((grant_ref_t)a)->flags & (GTF_reading | GTF_writing)) ==
           (GTF_reading | GTF_writing),
       "GTF_reading|GTF_writing are set while domain 0 maps it");
    is_int(gnttab_end_access((grant_ref_t)a), -XEN_EBUSY,
           "revoking a mapped grant is refused");
    evtchn_send((evtchn_port_t)port);
    ok(sched_wait_count(&got, 2, 10000000000ULL), "domain 0 says it unmapped");
    ok(gnttab_end_access((grant_ref_t)a) == 0 &&
           gnttab_end_access((grant_ref_t)b) == 0,
       "both grants can be revoked now");
}
