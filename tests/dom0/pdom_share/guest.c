/*
 * The guest half of pdom_share: an unprivileged process (process domain
 * 100, the first) shares one of its own pages with us as grant ref 8.
 * Keep trying to map it (GNTTABOP_map_grant_ref, dom 100) until it is
 * there, check its bytes, write one back, unmap.
 */
#include <stdint.h>
#include <xen/grant_table.h>

#include "xenkern/console.h"
#include "xenkern/hypercall.h"
#include "xenkern/kernel.h"
#include "xenkern/pvclock.h"
#include "xenkern/sched.h"
#include "xenkern/test.h"

static uint8_t mapat[4096] __attribute__((aligned(4096)));

void test_main(void)
{
    struct gnttab_map_grant_ref m = {.host_addr = (uintptr_t)mapat,
                                     .flags = GNTMAP_host_map,
                                     .ref = 8,
                                     .dom = 100};
    struct gnttab_unmap_grant_ref u = {0};
    volatile uint8_t *p = mapat;

    tap_plan(4);
    sched_sleep_until(0); /* binds VIRQ_TIMER */
    printf("READY\n");
    for (int i = 0; i < 1000; i++) {
        HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &m, 1);
        if (m.status == GNTST_okay)
            break;
        sched_sleep_until(time_now_ns() + 10000000ULL);
    }
    is_int(m.status, GNTST_okay, "mapped process domain 100's grant 8");
    ok(p[1] == 5 && p[4095] == (uint8_t)(4095 * 5),
       "it holds the process's bytes");
    p[9] = 0x99;
    u.handle = m.handle;
    u.host_addr = m.host_addr;
    HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, &u, 1);
    is_int(u.status, GNTST_okay, "unmapped");
    ok(mapat[1] != 5 || mapat[4095] != (uint8_t)(4095 * 5),
       "our page shows its own contents again");
}
