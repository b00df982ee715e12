/*
 * gnttab_client — the guest grant-table client (frontends/kernel gnttab.h)
 * against xen-hv: grants come from a free list above the reserved refs,
 * a page mapped by its grantee cannot be revoked (end_access refuses with
 * the entry still granted, because GTF_reading/GTF_writing are set), and
 * after the unmap it can; the freed ref is reused.
 */
#include <stdint.h>
#include <xen/errno.h>
#include <xen/grant_table.h>
#include <xen/arch-x86/cpuid.h>

#include "../common.h"
#include "xenkern/gnttab.h"

static uint8_t page[4096] __attribute__((aligned(4096)));
static uint8_t spare[4096] __attribute__((aligned(4096)));

void test_main(void)
{
    struct cpuid_regs r;
    domid_t self;
    unsigned int nfree;
    int ref, ref2;

    require_xen();
    tap_plan(11);
    r = cpuid(xen_cpuid_base + 4, 0);
    self = (domid_t)r.ecx;
    is_int(gnttab_init(), 0, "gnttab_init maps the grant frames");
    nfree = gnttab_free_count();
    is_int(nfree, GNTTAB_CLIENT_FRAMES * GNTTAB_ENTRIES_PER_FRAME - 8,
           "every ref above the 8 reserved ones is free");
    ref = gnttab_grant_access(self, (uintptr_t)page >> 12, 0);
    ok(ref >= GNTTAB_NR_RESERVED_ENTRIES, "grant_access gives ref %d", ref);
    ok(gnttab_entry(ref)->flags == GTF_permit_access &&
           gnttab_entry(ref)->domid == self,
       "the entry permits our domid");

    {
        struct gnttab_map_grant_ref m = {.host_addr = (uintptr_t)spare,
                                         .flags = GNTMAP_host_map,
                                         .ref = (grant_ref_t)ref,
                                         .dom = DOMID_SELF};
        struct gnttab_unmap_grant_ref u = {0};

        HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &m, 1);
        is_int(m.status, GNTST_okay, "the grantee (ourselves) maps it");
        is_int(gnttab_end_access((grant_ref_t)ref), -XEN_EBUSY,
               "end_access while mapped is refused");
        ok(gnttab_entry(ref)->flags & GTF_permit_access,
           "and the entry stays granted");
        u.handle = m.handle;
        u.host_addr = m.host_addr;
        HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, &u, 1);
        is_int(u.status, GNTST_okay, "unmap");
    }
    is_int(gnttab_end_access((grant_ref_t)ref), 0, "now end_access works");
    ok(gnttab_entry(ref)->flags == 0 && gnttab_free_count() == nfree,
       "the entry is clear and the ref is free again");
    ref2 = gnttab_grant_access(self, (uintptr_t)page >> 12, 1);
    is_int(ref2, ref, "the freed ref is handed out again");
}
