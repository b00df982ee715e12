/*
 * balloon — XENMEM_decrease_reservation, _increase_reservation and
 * _populate_physmap (<xen/memory.h> struct xen_memory_reservation) on the
 * calling domain, as Linux's balloon driver uses them, after Xen 4.17's
 * common/memory.c (do_memory_op(), decrease_reservation(),
 * populate_physmap(), increase_reservation(), guest_remove_page()).
 *
 * The result is the number of extents done; a bad extent stops the call
 * there.  tot_pages (XENMEM_current_reservation) moves page by page and
 * never passes max_pages (XENMEM_maximum_reservation).  xen-hv specifics
 * (xen-hv/memory_op.c): a released page's RAM goes back to the host, so a
 * guest that reads the gfn anyway sees zeros (Xen would show no page);
 * pages xen-hv itself uses (shared_info, grant frames, vcpu_info, special
 * pages) are refused.  Runs on 32 MiB; the test pages are 16..20 MiB,
 * above the image.
 */
#include <stdint.h>
#include <xen/memory.h>
#include <xen/vcpu.h>

#include "../common.h"
#include "xenkern/shared.h"

/* Not exported to guests by <xen/memory.h>. */
#define EXTENT_SHIFT 6

#define GFN_BASE    0x1000UL   /* 16 MiB */
#define GFN_2M      0x1200UL   /* 18 MiB, 2 MiB aligned */
#define GFN_OUTSIDE 0x4000UL   /* 64 MiB: no RAM in a 32 MiB domain */
#define SPECIAL_GFN 0xfeff1UL  /* xen-hv's special pages (xenstore ring) */
#define GFN_HIGH    0x100010UL /* 4 GiB + 64 KiB: nothing there */

extern char __image_end[];

static xen_pfn_t list[8];

static long memop(unsigned int cmd, xen_pfn_t *gfns, unsigned long nr,
                  unsigned int order, unsigned int flags, domid_t domid)
{
    struct xen_memory_reservation r = {
        .nr_extents = nr,
        .extent_order = order,
        .mem_flags = flags,
        .domid = domid,
    };
    set_xen_guest_handle(r.extent_start, gfns);
    return HYPERVISOR_memory_op(cmd, &r);
}

static long decrease(xen_pfn_t *gfns, unsigned long nr, unsigned int order)
{
    return memop(XENMEM_decrease_reservation, gfns, nr, order, 0, DOMID_SELF);
}

static long populate(xen_pfn_t *gfns, unsigned long nr, unsigned int order)
{
    return memop(XENMEM_populate_physmap, gfns, nr, order, 0, DOMID_SELF);
}

static long decrease1(xen_pfn_t gfn)
{
    list[0] = gfn;
    return decrease(list, 1, 0);
}

static long populate1(xen_pfn_t gfn)
{
    list[0] = gfn;
    return populate(list, 1, 0);
}

/* XENMEM_current_reservation, _maximum_reservation, _maximum_gpfn. */
static long reservation(unsigned int cmd)
{
    domid_t self = DOMID_SELF;
    return HYPERVISOR_memory_op(cmd, &self);
}

static long cur_pages(void)
{
    return reservation(XENMEM_current_reservation);
}

static long max_pages(void)
{
    return reservation(XENMEM_maximum_reservation);
}

static volatile uint64_t *page(xen_pfn_t gfn)
{
    return (volatile uint64_t *)(uintptr_t)(gfn << 12);
}

/* Fill page gfn with a pattern derived from gfn. */
static void stamp(xen_pfn_t gfn)
{
    for (unsigned int i = 0; i < 512; i++)
        page(gfn)[i] = 0x5a5a000000000000ULL | (gfn << 12) | i;
}

static bool stamped(xen_pfn_t gfn)
{
    for (unsigned int i = 0; i < 512; i++)
        if (page(gfn)[i] != (0x5a5a000000000000ULL | (gfn << 12) | i))
            return false;
    return true;
}

static bool zeroed(xen_pfn_t gfn)
{
    for (unsigned int i = 0; i < 512; i++)
        if (page(gfn)[i])
            return false;
    return true;
}

void test_main(void)
{
    struct xen_add_to_physmap xatp;
    struct vcpu_register_vcpu_info vri;
    xen_pfn_t si_gfn = (uintptr_t)shared_info >> 12;
    long cur0, max0, cur, rc;
    uint64_t wc;

    require_xen();
    if ((uintptr_t)__image_end > (GFN_BASE << 12))
        bail_out("image ends at %p, above the test pages", __image_end);
    tap_plan(54);

    cur0 = cur_pages();
    max0 = max_pages();
    ok(cur0 > 0 && cur0 == max0,
       "at boot current_reservation %ld == maximum_reservation %ld", cur0,
       max0);

    /* decrease_reservation: one page, its RAM goes. */
    stamp(GFN_BASE);
    is_int(decrease1(GFN_BASE), 1, "decrease_reservation of one page is 1");
    is_int(cur_pages(), cur0 - 1, "current_reservation is one page less");
    ok(zeroed(GFN_BASE), "the released gfn no longer shows its old contents");
    is_int(decrease1(GFN_BASE), 0,
           "decreasing the same gfn again does nothing (already a hole)");
    is_int(cur_pages(), cur0 - 1, "... and current_reservation stays");

    /* A batch of 8, as Linux's balloon sends its frame list. */
    for (unsigned int i = 0; i < 8; i++) {
        list[i] = GFN_BASE + 1 + i;
        stamp(list[i]);
    }
    is_int(decrease(list, 8, 0), 8, "a batch of 8 gfns: 8 done");
    is_int(cur_pages(), cur0 - 9, "current_reservation is 9 pages less");

    /* A bad extent stops the call: the count of those before it. */
    stamp(GFN_BASE + 0x10);
    stamp(GFN_BASE + 0x11);
    list[0] = GFN_BASE + 0x10;
    list[1] = GFN_OUTSIDE;
    list[2] = GFN_BASE + 0x11;
    is_int(decrease(list, 3, 0), 1,
           "[good, outside RAM, good]: 1 done, the call stops at the bad one");
    ok(stamped(GFN_BASE + 0x11) && zeroed(GFN_BASE + 0x10),
       "the gfn after the bad one keeps its contents");
    is_int(cur_pages(), cur0 - 10, "current_reservation counts only the one");

    /* Continuation index (cmd >> MEMOP_EXTENT_SHIFT): start at extent 1. */
    stamp(GFN_BASE + 0x12);
    stamp(GFN_BASE + 0x13);
    list[0] = GFN_BASE + 0x12;
    list[1] = GFN_BASE + 0x13;
    is_int(memop(XENMEM_decrease_reservation | (1 << EXTENT_SHIFT), list, 2, 0,
                 0, DOMID_SELF),
           2, "start_extent 1 of 2: the result is the index after the last");
    ok(stamped(GFN_BASE + 0x12) && zeroed(GFN_BASE + 0x13),
       "only extent 1 was released");
    cur = cur_pages();
    is_int(cur, cur0 - 11, "current_reservation is 11 pages less");

    /* What must be refused, leaving everything as it was. */
    is_int(decrease1(GFN_OUTSIDE), 0, "a gfn outside RAM is refused");
    is_int(decrease1(1ULL << 40), 0, "gfn 2^40 is refused");
    is_int(decrease1(~0ULL), 0, "gfn ~0 is refused");
    is_int(decrease1(SPECIAL_GFN), 0, "a special page (xenstore) is refused");
    wc = READ_ONCE(shared_info->wc_sec);
    is_int(decrease1(si_gfn), 0, "the shared_info page is refused");
    ok(wc != 0 && READ_ONCE(shared_info->wc_sec) == wc,
       "shared_info still holds the wallclock");

    xatp = (struct xen_add_to_physmap){.domid = DOMID_SELF,
                                       .space = XENMAPSPACE_grant_table,
                                       .idx = 0,
                                       .gpfn = GFN_BASE + 0x20};
    ASSERT(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp) == 0);
    is_int(decrease1(GFN_BASE + 0x20), 0, "a grant-table frame is refused");
    is_int(populate1(GFN_BASE + 0x20), 0,
           "populate_physmap over a grant-table frame is refused");

    /* A grant frame in unpopulated space, where Linux's PVH puts them. */
    xatp.idx = 1;
    xatp.gpfn = GFN_HIGH;
    ASSERT(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp) == 0);
    is_int(reservation(XENMEM_maximum_gpfn), GFN_HIGH,
           "maximum_gpfn counts a grant frame mapped above all RAM");
    is_int(decrease1(GFN_HIGH), 0, "that frame cannot be decreased");
    is_int(populate1(GFN_HIGH), 0, "nor populated over");

    vri =
        (struct vcpu_register_vcpu_info){.mfn = GFN_BASE + 0x21, .offset = 64};
    ASSERT(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &vri) == 0);
    is_int(decrease1(GFN_BASE + 0x21), 0, "the vcpu_info page is refused");

    list[0] = GFN_BASE + 0x30;
    is_int(decrease(list, 1, 10), 0, "extent order 10 (above Xen's 9)");
    /* An order-1 extent running off the end of RAM: all of it stays. */
    stamp((uint64_t)cur0 - 1);
    list[0] = (uint64_t)cur0 - 1;
    is_int(decrease(list, 1, 1), 0,
           "an order-1 extent with its 2nd page outside RAM is refused");
    ok(stamped((uint64_t)cur0 - 1), "... and its first page keeps its data");
    is_int(memop(XENMEM_decrease_reservation, list, 1, 0, 0, 0), 0,
           "domain 0's reservation: nothing done");
    is_int(memop(XENMEM_decrease_reservation, list, 1, 0, 0, DOMID_NONE), 0,
           "no such domain: nothing done");
    is_int(HYPERVISOR_memory_op(XENMEM_decrease_reservation, BAD_PTR), 0,
           "an unreadable reservation: nothing done");
    is_int(decrease(BAD_PTR, 2, 0), 0, "an unreadable extent list");
    is_int(cur_pages(), cur, "nothing refused changed current_reservation");

    /* An order-9 extent: 2 MiB at once. */
    list[0] = GFN_2M;
    is_int(decrease(list, 1, 9), 1, "an order-9 extent (2 MiB) is 1 done");
    cur -= 512;
    is_int(cur_pages(), cur, "... 512 pages less");

    /* populate_physmap gives zeroed RAM back and counts it. */
    page(GFN_BASE)[7] = 0x1234; /* a guest touching a hole anyway */
    is_int(populate1(GFN_BASE), 1, "populate_physmap of a hole is 1 done");
    is_int(cur_pages(), cur + 1, "current_reservation one page more");
    ok(zeroed(GFN_BASE), "the populated page reads as zeros");
    stamp(GFN_BASE + 0x11);
    is_int(populate1(GFN_BASE + 0x11), 1,
           "populate_physmap of a present page replaces it");
    ok(zeroed(GFN_BASE + 0x11) && cur_pages() == cur + 1,
       "... with a zeroed page, current_reservation unchanged");
    cur += 1;

    cur = cur_pages();
    is_int(populate1(GFN_OUTSIDE), 0,
           "populate_physmap outside RAM is refused (no memslot there)");
    is_int(populate1(SPECIAL_GFN), 0,
           "populate_physmap of a special page is refused");
    is_int(populate1(si_gfn), 0, "populate_physmap of shared_info is refused");
    list[0] = GFN_BASE + 1;
    is_int(memop(XENMEM_populate_physmap, list, 1, 0,
                 XENMEMF_populate_on_demand, DOMID_SELF),
           0, "populate-on-demand on oneself is refused, as Xen");
    is_int(memop(XENMEM_populate_physmap, list, 1, 0, XENMEMF_address_bits(12),
                 DOMID_SELF),
           0, "address_bits 12 cannot be honoured: nothing done");
    is_int(memop(XENMEM_populate_physmap, list, 1, 0, XENMEMF_exact_node(0),
                 DOMID_SELF),
           0, "an exact node request from a domU is refused, as Xen");
    ok(cur_pages() == cur && wc == READ_ONCE(shared_info->wc_sec),
       "refused populates changed nothing");

    /* increase_reservation: HVM pages at no gfn, counted up to the max. */
    rc = memop(XENMEM_increase_reservation, NULL,
               (unsigned long)(max0 - cur) + 5, 0, 0, DOMID_SELF);
    is_int(rc, max0 - cur, "increase_reservation stops at maximum_reservation");
    is_int(cur_pages(), max0, "current_reservation is the maximum");
    is_int(populate1(GFN_BASE + 1), 0,
           "populate_physmap beyond maximum_reservation: nothing done");
    /* Two holes for one free page: the first is done, then -ENOMEM. */
    ASSERT(decrease1(GFN_BASE + 0x40) == 1);
    list[0] = GFN_BASE + 1;
    list[1] = GFN_BASE + 2;
    is_int(populate(list, 2, 0), 1,
           "two holes with room for one: 1 done (partial success)");
    is_int(cur_pages(), max0, "current_reservation stays at the maximum");
    is_int(max_pages(), max0, "maximum_reservation never moved");
}
