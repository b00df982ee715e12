/*
 * gnttab — grant tables v1 from inside one guest (<xen/grant_table.h>;
 * statuses as Xen 4.17's common/grant_table.c gives them): the guest maps
 * its grant frame with XENMEM_add_to_physmap, grants a page to itself,
 * copies through the grant both ways, maps it with GNTMAP_host_map at
 * another guest frame (GTF_reading/GTF_writing set while mapped, writes
 * reach the granted page, unmap restores the frame), and every refusal:
 * another domid's grant, a revoked grant, an out-of-range ref, a read-only
 * grant as a copy destination, a bad handle, an unknown domain.
 */
#include <stdint.h>
#include <xen/errno.h>
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/arch-x86/cpuid.h>

#include "../common.h"

#define PAGE 4096
static uint8_t gframe[PAGE] __attribute__((aligned(PAGE)));
static uint8_t granted[PAGE] __attribute__((aligned(PAGE)));
static uint8_t other[PAGE] __attribute__((aligned(PAGE)));
static uint8_t mapat[PAGE] __attribute__((aligned(PAGE)));

static uint64_t gfn_of(const void *p)
{
    return (uint64_t)(uintptr_t)p >> 12; /* identity mapped */
}

static int16_t copy1(struct gnttab_copy *op)
{
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_copy, op, 1);
    return rc ? (int16_t)-1000 : op->status;
}

void test_main(void)
{
    grant_entry_v1_t *gnt = (grant_entry_v1_t *)gframe;
    struct gnttab_query_size qs = {.dom = DOMID_SELF};
    struct xen_add_to_physmap xatp = {.domid = DOMID_SELF,
                                      .space = XENMAPSPACE_grant_table,
                                      .idx = 0,
                                      .gpfn = gfn_of(gframe)};
    struct cpuid_regs r;
    domid_t self;
    xen_pfn_t frames[1] = {0};
    struct gnttab_setup_table st = {.dom = DOMID_SELF, .nr_frames = 1};

    require_xen();
    tap_plan(27);
    r = cpuid(xen_cpuid_base + 4, 0);
    self = (r.eax & XEN_HVM_CPUID_DOMID_PRESENT) ? (domid_t)r.ecx : 0;
    ok(self != 0, "our domid from CPUID is %u", self);

    is_int(HYPERVISOR_grant_table_op(GNTTABOP_query_size, &qs, 1), 0,
           "query_size");
    ok(qs.status == GNTST_okay && qs.nr_frames >= 1 && qs.max_nr_frames == 32,
       "status %d, %u frames of at most %u (32 by default)", qs.status,
       qs.nr_frames, qs.max_nr_frames);
    is_int(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), 0,
           "add_to_physmap(grant_table, 0) at a page of ours");
    set_xen_guest_handle(st.frame_list, frames);
    ok(HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &st, 1) == 0 &&
           st.status == GNTST_okay && frames[0] == gfn_of(gframe),
       "setup_table reports that gfn (%llx)", (unsigned long long)frames[0]);
    ok(gnt[8].flags == 0, "the frame is a grant table: entry 8 is free");

    /* Grant `granted` to ourselves, read/write, as ref 8. */
    for (int i = 0; i < PAGE; i++)
        granted[i] = (uint8_t)i;
    gnt[8].domid = self;
    gnt[8].frame = (uint32_t)gfn_of(granted);
    __atomic_store_n(&gnt[8].flags, GTF_permit_access, __ATOMIC_RELEASE);

    {
        struct gnttab_copy c = {
            .source = {.u.ref = 8, .domid = DOMID_SELF, .offset = 16},
            .dest = {.u.gmfn = gfn_of(other),
                     .domid = DOMID_SELF,
                     .offset = 100},
            .len = 32,
            .flags = GNTCOPY_source_gref};
        is_int(copy1(&c), GNTST_okay, "copy from the grant to a frame");
        ok(other[100] == 16 && other[131] == 47,
           "the bytes arrived at the offset");
        c.source = (struct gnttab_copy_ptr){
            .u.gmfn = gfn_of(other), .domid = DOMID_SELF, .offset = 100};
        c.dest = (struct gnttab_copy_ptr){
            .u.ref = 8, .domid = DOMID_SELF, .offset = 0};
        c.flags = GNTCOPY_dest_gref;
        other[100] = 0xab;
        is_int(copy1(&c), GNTST_okay, "copy from a frame into the grant");
        ok(granted[0] == 0xab, "the granted page changed");
        c.len = 8;
        c.dest.offset = PAGE - 4;
        is_int(copy1(&c), GNTST_bad_copy_arg, "copy past the page end");
        c.dest.offset = 0;
        c.dest.u.ref = 100000;
        is_int(copy1(&c), GNTST_bad_gntref, "out-of-range ref");
        c.dest.u.ref = 8;
        c.dest.domid = 7;
        is_int(copy1(&c), GNTST_bad_domain, "unknown domain");
        c.dest.domid = DOMID_SELF;
        gnt[8].flags |= GTF_readonly;
        is_int(copy1(&c), GNTST_general_error,
               "a read-only grant as destination (Xen: general_error)");
        gnt[8].flags &= ~GTF_readonly;
        gnt[8].domid = (domid_t)(self + 5);
        is_int(copy1(&c), GNTST_general_error,
               "a grant made for another domid (Xen: general_error)");
        gnt[8].domid = self;
        gnt[8].flags = 0;
        is_int(copy1(&c), GNTST_general_error, "a revoked grant");
        gnt[8].flags = GTF_permit_access;
    }

    {
        struct gnttab_map_grant_ref m = {.host_addr = gfn_of(mapat) << 12,
                                         .flags = GNTMAP_host_map,
                                         .ref = 8,
                                         .dom = DOMID_SELF};
        struct gnttab_unmap_grant_ref u = {0};

        mapat[0] = 0x5a;
        is_int(HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &m, 1), 0,
               "map_grant_ref");
        is_int(m.status, GNTST_okay, "it is mapped");
        ok((gnt[8].flags & (GTF_reading | GTF_writing)) ==
               (GTF_reading | GTF_writing),
           "GTF_reading|GTF_writing set while mapped (%#x)", gnt[8].flags);
        ok(((volatile uint8_t *)mapat)[40] == granted[40] && granted[40] == 40,
           "the mapped frame shows the granted page (%u, %u)",
           ((volatile uint8_t *)mapat)[40], granted[40]);
        ((volatile uint8_t *)mapat)[2] = 0x77;
        ok(((volatile uint8_t *)granted)[2] == 0x77,
           "a write through the mapping reaches it (%#x)",
           ((volatile uint8_t *)granted)[2]);
        u.handle = m.handle + 1000;
        HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, &u, 1);
        is_int(u.status, GNTST_bad_handle, "unmap of a bad handle");
        u.handle = m.handle;
        u.host_addr = m.host_addr;
        HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, &u, 1);
        is_int(u.status, GNTST_okay, "unmap");
        is_int(HYPERVISOR_grant_table_op(GNTTABOP_copy, BAD_PTR, 1),
               -XEN_EFAULT, "copy ops at an unmapped address: -EFAULT");
        is_int(HYPERVISOR_grant_table_op(GNTTABOP_query_size, &qs, 2),
               -XEN_EINVAL, "query_size with count 2 is -EINVAL");
        is_int(HYPERVISOR_grant_table_op(99, NULL, 0), -XEN_ENOSYS,
               "an unknown GNTTABOP is -ENOSYS");
        ok(!(gnt[8].flags & (GTF_reading | GTF_writing)) &&
               ((volatile uint8_t *)mapat)[0] == 0x5a,
           "flags cleared and the frame shows its own page again");
    }
}
