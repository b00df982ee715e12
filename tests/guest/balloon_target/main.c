/*
 * balloon_target — a small balloon driver that follows a memory target
 * the way Linux's drivers/xen/balloon.c does on a PVH domain: pages are
 * given back with XENMEM_decrease_reservation and taken again with
 * XENMEM_populate_physmap (<xen/memory.h>), XENMEM_current_reservation
 * says where the domain stands.
 *
 * Under `xen-hv run` (no xenstore) it is a guest test: it balloons to a
 * series of targets and checks tot_pages after each.  Created by `xl`
 * (tests/toolstack/test_xl_balloon.sh) it is the guest half of
 * `xl mem-set`: it watches memory/target (KiB, docs/misc/xenstore-paths),
 * takes the difference between memory/static-max and its boot size as
 * Linux does, balloons to target - difference, then writes the pages it
 * has to data/balloon-pages; it runs until destroyed.
 *
 * The pages it lends are those of 16..28 MiB (the guest is 32 MiB), from
 * the top down; the image and the toolstack's tables lie elsewhere.
 */
#include <stdint.h>
#include <xen/memory.h>

#include "../common.h"
#include "xenkern/xenbus.h"

#define POOL_LO    0x1000L /* gfn of 16 MiB */
#define POOL_TOP   0x1c00L /* gfn of 28 MiB: the pool ends below it */
#define POOL_PAGES (POOL_TOP - POOL_LO)
#define BATCH      256

extern char __image_end[];

static xen_pfn_t frames[BATCH];
static long lent; /* pool pages given back: gfns POOL_TOP - lent .. top */

static long reservation(unsigned int cmd, unsigned long nr)
{
    struct xen_memory_reservation r = {
        .nr_extents = nr,
        .extent_order = 0,
        .domid = DOMID_SELF,
    };
    set_xen_guest_handle(r.extent_start, frames);
    return HYPERVISOR_memory_op(cmd, &r);
}

static long cur_pages(void)
{
    domid_t self = DOMID_SELF;
    return HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
}

static long min3(long a, long b, long c)
{
    long m = a < b ? a : b;
    return m < c ? m : c;
}

/*
 * balloon_to — give pages back or take them again until tot_pages is
 * target (or the pool is empty / full).  Returns tot_pages after.
 */
static long balloon_to(long target)
{
    long cur = cur_pages(), n, rc;

    while (cur > target && lent < POOL_PAGES) {
        n = min3(cur - target, BATCH, POOL_PAGES - lent);
        for (long i = 0; i < n; i++)
            frames[i] = (xen_pfn_t)(POOL_TOP - 1 - (lent + i));
        rc = reservation(XENMEM_decrease_reservation, (unsigned long)n);
        if (rc <= 0)
            break;
        lent += rc;
        cur = cur_pages();
    }
    while (cur < target && lent > 0) {
        n = min3(target - cur, BATCH, lent);
        for (long i = 0; i < n; i++)
            frames[i] = (xen_pfn_t)(POOL_TOP - lent + i);
        rc = reservation(XENMEM_populate_physmap, (unsigned long)n);
        if (rc <= 0)
            break;
        lent -= rc;
        cur = cur_pages();
    }
    return cur;
}

static volatile uint64_t *page(long gfn)
{
    return (volatile uint64_t *)(uintptr_t)((uint64_t)gfn << 12);
}

/* The guest test under `xen-hv run`. */
static void run_targets(void)
{
    long cur0 = cur_pages(), cur;
    bool zero = true;

    tap_plan(8);
    ok(cur0 > POOL_TOP, "boot reservation %ld pages covers the pool", cur0);
    page(POOL_LO)[0] = 0x600dULL; /* lent last: stays */
    page(POOL_TOP - 1)[0] = 0xbadULL;
    cur = balloon_to(cur0 - 2048);
    is_int(cur, cur0 - 2048, "down by 8 MiB: tot_pages %ld", cur);
    ok(page(POOL_LO)[0] == 0x600dULL, "a page it kept keeps its contents");
    is_int(balloon_to(cur0 - 100), cur0 - 100, "back up to 100 pages below");
    is_int(balloon_to(cur0 + 50), cur0,
           "a target above the boot size stops there (nothing more lent)");
    is_int(balloon_to(cur0 - POOL_PAGES - 10), cur0 - POOL_PAGES,
           "a target below what it can lend stops at the pool's size");
    is_int(balloon_to(cur0), cur0, "back to the boot size");
    for (long g = POOL_LO + 1; g < POOL_TOP; g += 97)
        zero = zero && page(g)[0] == 0 && page(g)[511] == 0;
    ok(zero && page(POOL_TOP - 1)[0] == 0, "pages it took back read as zeros");
}

static volatile int target_changed;

static void on_target(const char *path, const char *token, void *arg)
{
    (void)path;
    (void)token;
    (void)arg;
    target_changed = 1;
}

/* Under xl: follow memory/target until destroyed. */
static void follow_target(void)
{
    long boot = cur_pages(), diff = -1, target, cur;
    char buf[32];
    int rc;

    rc = xenbus_watch("memory/target", "balloon", on_target, NULL);
    if (rc)
        bail_out("watching memory/target: %d", rc);
    printf("balloon: %ld pages at boot, following memory/target\n", boot);
    for (;;) {
        xenbus_watch_wait(1000000000ULL);
        if (!target_changed)
            continue;
        target_changed = 0;
        if (xenbus_read(XBT_NIL, "memory/target", buf, sizeof(buf)) <= 0)
            continue;
        target = (long)strtoull(buf, NULL, 10) / 4;
        if (diff < 0) {
            /* Linux's watch_target(): static-max minus what it booted with. */
            diff = 0;
            if (xenbus_read(XBT_NIL, "memory/static-max", buf, sizeof(buf)) > 0)
                diff = (long)strtoull(buf, NULL, 10) / 4 - boot;
            if (diff < 0)
                diff = 0;
        }
        cur = balloon_to(target - diff);
        xenbus_printf(XBT_NIL, "data", "balloon-pages", "%ld", cur);
        printf("balloon: target %ld pages, now %ld\n", target - diff, cur);
    }
}

void test_main(void)
{
    require_xen();
    if ((uintptr_t)__image_end > ((uint64_t)POOL_LO << 12))
        bail_out("image ends at %p, above the balloon pool", __image_end);
    if (xenbus_init() == 0)
        follow_target();
    run_targets();
}
