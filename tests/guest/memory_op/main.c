/*
 * memory_op — __HYPERVISOR_memory_op (<xen/memory.h>) as Xen 4.17 answers
 * an HVM domU: xen/common/memory.c do_memory_op(), xen/arch/x86/mm.c
 * arch_memory_op() (XENMEM_memory_map) and xen/arch/x86/mm/p2m.c
 * xenmem_add_to_physmap_one().
 * CMDLINE memory=N (MiB, from test.conf) is the --memory given to xen-hv.
 */
#include <stdint.h>
#include <xen/memory.h>

#include "../common.h"
#include "xenkern/boot.h"
#include "xenkern/shared.h"

/* x86 e820 entry, the element XENMEM_memory_map copies (20 bytes). */
struct e820entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} __attribute__((packed));

#define MAX_ENTRIES 32

static struct e820entry map[MAX_ENTRIES];

static long reservation(unsigned int op, domid_t domid)
{
    /* XENMEM_*_reservation take the address of a domid_t. */
    return HYPERVISOR_memory_op(op, &domid);
}

void test_main(void)
{
    struct xen_memory_map mm;
    struct xen_add_to_physmap xatp;
    const struct hvm_memmap_table_entry *si;
    unsigned int nr, i;
    bool same;
    long rc, pages, want;
    uint64_t sec;
    uint32_t nsec, ver;

    require_xen();
    tap_plan(22);

    si = boot_memmap(&nr);
    mm.nr_entries = MAX_ENTRIES;
    set_xen_guest_handle(mm.buffer, map);
    rc = HYPERVISOR_memory_op(XENMEM_memory_map, &mm);
    is_int(rc, 0, "XENMEM_memory_map");
    is_int(mm.nr_entries, nr, "as many entries as the start info memmap");
    same = mm.nr_entries == nr;
    for (i = 0; same && i < nr; i++)
        same = map[i].addr == si[i].addr && map[i].size == si[i].size &&
               map[i].type == si[i].type;
    ok(same, "entries equal the start info memmap");

    /* arch_memory_op: a short buffer gets the first entries, rc 0. */
    memset(map, 0xee, sizeof(map));
    mm.nr_entries = 1;
    rc = HYPERVISOR_memory_op(XENMEM_memory_map, &mm);
    ok(rc == 0 && mm.nr_entries == 1 && map[0].addr == si[0].addr &&
           map[1].addr == 0xeeeeeeeeeeeeeeeeULL,
       "a 1-entry buffer gets entry 0 only (rc %ld nr %u)", rc, mm.nr_entries);
    is_int(HYPERVISOR_memory_op(XENMEM_memory_map, BAD_PTR), -XEN_EFAULT,
           "XENMEM_memory_map from an unmapped address is -EFAULT");
    mm.nr_entries = MAX_ENTRIES;
    set_xen_guest_handle(mm.buffer, BAD_PTR);
    is_int(HYPERVISOR_memory_op(XENMEM_memory_map, &mm), -XEN_EFAULT,
           "XENMEM_memory_map into an unmapped buffer is -EFAULT");

    rc = HYPERVISOR_memory_op(XENMEM_maximum_ram_page, NULL);
    ok(rc > 0, "XENMEM_maximum_ram_page is positive (%ld)", rc);

    /* xen-hv counts every RAM page it gives the domain. */
    want = (long)cmdline_get_u64("memory", 32) * 256;
    pages = reservation(XENMEM_current_reservation, DOMID_SELF);
    ok(pages > 0 && pages <= want && pages >= want - 1024,
       "current_reservation %ld pages for %ld MiB (<= %ld, >= %ld)", pages,
       want / 256, want, want - 1024);
    rc = reservation(XENMEM_maximum_reservation, DOMID_SELF);
    ok(rc >= pages, "maximum_reservation %ld >= current", rc);
    is_int(reservation(XENMEM_current_reservation, DOMID_NONE), -XEN_ESRCH,
           "current_reservation of no domain is -ESRCH");
    is_int(reservation(XENMEM_current_reservation, 0), -XEN_EPERM,
           "current_reservation of domain 0 is -EPERM (XSM_TARGET)");
    is_int(HYPERVISOR_memory_op(XENMEM_current_reservation, BAD_PTR),
           -XEN_EFAULT, "current_reservation from an unmapped address");

    /* shared_info again at the same gpfn: a no-op remap, rc 0. */
    xatp = (struct xen_add_to_physmap){
        .domid = DOMID_SELF,
        .space = XENMAPSPACE_shared_info,
        .idx = 0,
        .gpfn = (unsigned long)shared_info >> 12,
    };
    is_int(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), 0,
           "add_to_physmap shared_info at its page");
    ver = READ_ONCE(shared_info->wc_version);
    ok(!(ver & 1), "wc_version %u is even", ver);
    ok(wallclock_read(&sec, &nsec) == 0 && sec > 1600000000ULL &&
           sec < 4200000000ULL && nsec < 1000000000U,
       "wallclock %llu.%09u is sane", (unsigned long long)sec, nsec);

    xatp.space = 99;
    is_int(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), -XEN_EINVAL,
           "add_to_physmap of an unknown space is -EINVAL");
    xatp.space = XENMAPSPACE_shared_info;
    xatp.idx = 1;
    is_int(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), -XEN_EINVAL,
           "add_to_physmap shared_info idx 1 is -EINVAL");
    xatp.idx = 0;
    xatp.space = XENMAPSPACE_gmfn_foreign;
    is_int(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), -XEN_ENOSYS,
           "add_to_physmap gmfn_foreign is -ENOSYS");
    /* A gfn beyond any p2m (2^40 pages = 4 PiB): p2m_set_entry -EINVAL. */
    xatp.space = XENMAPSPACE_shared_info;
    xatp.gpfn = 1ULL << 40;
    is_int(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), -XEN_EINVAL,
           "add_to_physmap at gfn 2^40 is -EINVAL");
    xatp.gpfn = (unsigned long)shared_info >> 12;
    xatp.domid = DOMID_NONE;
    is_int(HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), -XEN_ESRCH,
           "add_to_physmap for no domain is -ESRCH");
    is_int(HYPERVISOR_memory_op(XENMEM_add_to_physmap, BAD_PTR), -XEN_EFAULT,
           "add_to_physmap from an unmapped address is -EFAULT");
    is_int(HYPERVISOR_memory_op(63, NULL), -XEN_ENOSYS,
           "unknown XENMEM op is -ENOSYS");
}
