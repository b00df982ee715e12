/*
 * The guest half of pdom_backend: grant one page read/write to domain 100
 * (the first process domain: the unprivileged "backend" of this test) and
 * one page to domain 0, allocate a port for domain 100, print
 * "READY port=P rw=A dom0=B", then check the backend's write after its
 * event, and that the grant cannot be revoked while it is mapped; finally
 * wait until the backend is gone (its end of the channel becomes unbound)
 * and revoke the grant.
 */
#include <stdint.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
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

#define BACKEND 100

static uint8_t page[4096] __attribute__((aligned(4096)));
static uint8_t other[4096] __attribute__((aligned(4096)));
static volatile unsigned int got;

static void sleep_ms(unsigned int ms)
{
    sched_sleep_until(time_now_ns() + ms * 1000000ULL);
}

void test_main(void)
{
    struct evtchn_status st;
    int port, a, b, i;

    tap_plan(7);
    sched_sleep_until(0); /* binds VIRQ_TIMER */
    is_int(gnttab_init(), 0, "grant table mapped");
    for (i = 0; i < 4096; i++)
        page[i] = (uint8_t)i;
    a = gnttab_grant_access(BACKEND, (uintptr_t)page >> 12, 0);
    b = gnttab_grant_access(0, (uintptr_t)other >> 12, 0);
    port = evtchn_alloc_unbound(BACKEND, evtchn_count, (void *)&got);
    ok(a > 0 && b > 0 && port > 0, "grants and a port for domain %d", BACKEND);
    printf("READY port=%d rw=%d dom0=%d\n", port, a, b);
    sched_wait_count(&got, 1, 10000000000ULL);
    ok(got >= 1, "the backend says it wrote");
    ok(((volatile uint8_t *)page)[7] == 0xb7, "its write reached our page");
    is_int(gnttab_end_access((grant_ref_t)a), -XEN_EBUSY,
           "the grant cannot be revoked while the backend maps it");
    evtchn_send((evtchn_port_t)port); /* done: the backend may go */
    /* When the backend process exits its domain dies: our port unbinds. */
    for (i = 0; i < 1000; i++) {
        evtchn_status((evtchn_port_t)port, &st);
        if (st.status == EVTCHNSTAT_unbound)
            break;
        sleep_ms(10);
    }
    ok(st.status == EVTCHNSTAT_unbound,
       "our port is unbound again once the backend's domain is gone");
    is_int(gnttab_end_access((grant_ref_t)a), 0,
           "and its mappings are gone: the grant can be revoked");
}
