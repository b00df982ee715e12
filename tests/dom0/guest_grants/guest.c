/*
 * The guest of guest_grants, two roles chosen on the command line:
 *   role=granter peer=D   grant a filled page to domain D (read/write),
 *                         allocate a port for it, print
 *                         "READY gref=R port=P", then sleep until
 *                         destroyed;
 *   role=mapper peer=C gref=R port=P   map C's grant at a page of its own
 *                         (GNTTABOP_map_grant_ref), copy from it
 *                         (GNTTABOP_copy), bind the port, print "MAPPED",
 *                         then wait for C to be destroyed: the port turns
 *                         unbound, the mapping still reads the page, and
 *                         unmap succeeds;
 *   role=ticker           print "tick N" every 20 ms (pause/unpause).
 */
#include <stdint.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/sched.h>
#include <xen/vcpu.h>

#include "xenkern/boot.h"
#include "xenkern/console.h"
#include "xenkern/evtchn.h"
#include "xenkern/gnttab.h"
#include "xenkern/hypercall.h"
#include "xenkern/kernel.h"
#include "xenkern/pvclock.h"
#include "xenkern/sched.h"
#include "xenkern/test.h"

static uint8_t page[4096] __attribute__((aligned(4096)));
static uint8_t mapat[4096] __attribute__((aligned(4096)));
static uint8_t copy[4096] __attribute__((aligned(4096)));

static void granter(domid_t peer)
{
    int ref, port;

    tap_plan(1);
    gnttab_init();
    for (int i = 0; i < 4096; i++)
        page[i] = (uint8_t)(i * 3);
    ref = gnttab_grant_access(peer, (uintptr_t)page >> 12, 0);
    port = evtchn_alloc_unbound(peer, NULL, NULL);
    ok(ref > 0 && port > 0, "granted ref %d and port %d", ref, port);
    printf("READY gref=%d port=%d\n", ref, port);
    for (;;)
        sched_sleep_until(time_now_ns() + 1000000000ULL);
}

static void mapper(domid_t peer)
{
    grant_ref_t ref = (grant_ref_t)cmdline_get_u64("gref", 0);
    struct gnttab_map_grant_ref m = {.host_addr = (uintptr_t)mapat,
                                     .flags = GNTMAP_host_map,
                                     .ref = ref,
                                     .dom = peer};
    struct gnttab_copy c = {
        .source = {.u.ref = ref, .domid = peer},
        .dest = {.u.gmfn = (uintptr_t)copy >> 12, .domid = DOMID_SELF},
        .len = 4096,
        .flags = GNTCOPY_source_gref};
    struct gnttab_unmap_grant_ref u = {0};
    struct evtchn_status st;
    int port, i;

    tap_plan(8);
    HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &m, 1);
    is_int(m.status, GNTST_okay, "mapped domain %u's grant %u", peer, ref);
    ok(((volatile uint8_t *)mapat)[5] == 15 &&
           ((volatile uint8_t *)mapat)[4095] == (uint8_t)(4095 * 3),
       "the mapping shows the granter's page");
    HYPERVISOR_grant_table_op(GNTTABOP_copy, &c, 1);
    ok(c.status == GNTST_okay && copy[7] == 21,
       "GNTTABOP_copy from the other guest's grant (status %d)", c.status);
    port = evtchn_bind_interdomain(
        peer, (evtchn_port_t)cmdline_get_u64("port", 0), NULL, NULL);
    ok(port > 0, "bound to its port");
    printf("MAPPED\n");
    for (i = 0; i < 3000; i++) {
        evtchn_status((evtchn_port_t)port, &st);
        if (st.status == EVTCHNSTAT_unbound)
            break;
        sched_sleep_until(time_now_ns() + 10000000ULL);
    }
    ok(st.status == EVTCHNSTAT_unbound,
       "the granter was destroyed: our port is unbound");
    ok(((volatile uint8_t *)mapat)[5] == 15,
       "the mapping still reads the page (it lives while mapped)");
    u.handle = m.handle;
    u.host_addr = m.host_addr;
    HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, &u, 1);
    is_int(u.status, GNTST_okay, "unmap after the granter is gone");
    HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &m, 1);
    is_int(m.status, GNTST_bad_domain, "mapping it again: no such domain");
}

/* role=ticker: print "tick N" every 20 ms, forever (pause tests). */
static void ticker(void)
{
    tap_plan(1);
    ok(1, "ticking");
    for (unsigned int n = 0;; n++) {
        printf("tick %u\n", n);
        sched_sleep_until(time_now_ns() + 20000000ULL);
    }
}

void test_main(void)
{
    char role[16] = "";
    domid_t peer = (domid_t)cmdline_get_u64("peer", 0);

    sched_sleep_until(0); /* binds VIRQ_TIMER */
    cmdline_get("role", role, sizeof(role));
    if (role[0] == 't')
        ticker();
    else if (role[0] == 'g')
        granter(peer);
    else
        mapper(peer);
}
