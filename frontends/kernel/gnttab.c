/* gnttab.c — guest grant-table client (include/xenkern/gnttab.h). */
#include <stddef.h>
#include <stdint.h>
#include <xen/errno.h>
#include <xen/memory.h>

#include "xenkern/gnttab.h"
#include "xenkern/hypercall.h"

#define NR_REFS (GNTTAB_CLIENT_FRAMES * GNTTAB_ENTRIES_PER_FRAME)

static uint8_t frames[GNTTAB_CLIENT_FRAMES][4096]
    __attribute__((aligned(4096)));
static grant_entry_v1_t *entries;
/* Free list threaded through next_free[]; -1 ends it.  Single lock. */
static int next_free[NR_REFS];
static int free_head = -1;
static unsigned int nr_free;
static volatile int lock;

static void take(void)
{
    while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE))
        asm volatile("pause");
}

static void give(void)
{
    __atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

int gnttab_init(void)
{
    for (unsigned int i = 0; i < GNTTAB_CLIENT_FRAMES; i++) {
        struct xen_add_to_physmap xatp = {
            .domid = DOMID_SELF,
            .space = XENMAPSPACE_grant_table,
            .idx = i,
            .gpfn = (uintptr_t)frames[i] >> 12, /* identity mapped */
        };
        long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
        if (rc)
            return (int)rc;
    }
    entries = (grant_entry_v1_t *)frames;
    take();
    free_head = -1;
    nr_free = 0;
    for (int ref = NR_REFS - 1; ref >= GNTTAB_NR_RESERVED_ENTRIES; ref--) {
        next_free[ref] = free_head;
        free_head = ref;
        nr_free++;
    }
    give();
    return 0;
}

grant_entry_v1_t *gnttab_entry(grant_ref_t ref)
{
    return entries && ref < NR_REFS ? &entries[ref] : NULL;
}

unsigned int gnttab_free_count(void)
{
    return nr_free;
}

int gnttab_grant_access(domid_t domid, uint64_t gfn, int readonly)
{
    int ref;

    if (!entries)
        return -XEN_EINVAL;
    take();
    ref = free_head;
    if (ref >= 0) {
        free_head = next_free[ref];
        nr_free--;
    }
    give();
    if (ref < 0)
        return -XEN_ENOSPC;
    entries[ref].domid = domid;
    entries[ref].frame = (uint32_t)gfn;
    /* The hypervisor must see domid and frame before the flags. */
    __atomic_store_n(
        &entries[ref].flags,
        (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0)),
        __ATOMIC_RELEASE);
    return ref;
}

int gnttab_end_access(grant_ref_t ref)
{
    grant_entry_v1_t *e = gnttab_entry(ref);
    uint16_t flags;

    if (!e || ref < GNTTAB_NR_RESERVED_ENTRIES)
        return -XEN_EINVAL;
    flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
    do {
        if (flags & (GTF_reading | GTF_writing))
            return -XEN_EBUSY;
    } while (!__atomic_compare_exchange_n(&e->flags, &flags, 0, false,
                                          __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    take();
    next_free[ref] = free_head;
    free_head = (int)ref;
    nr_free++;
    give();
    return 0;
}
