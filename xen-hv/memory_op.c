/*
 * memory_op.c — __HYPERVISOR_memory_op (<xen/memory.h>) for a PVH guest:
 * XENMEM_memory_map, maximum_ram_page, current_reservation,
 * maximum_reservation, maximum_gpfn and add_to_physmap
 * (XENMAPSPACE_shared_info).  Semantics from Xen 4.17's common/memory.c
 * and arch/x86/mm.c.
 */
#include <stdint.h>
#include <string.h>

#include <xen/errno.h>
#include <xen/memory.h>

#include "guest_copy.h"
#include "gnttab.h"
#include "hypercall.h"

/* <xen/memory.h> keeps these for Xen and tools builds only. */
#ifndef MEMOP_EXTENT_SHIFT
#define MEMOP_EXTENT_SHIFT 6
#define MEMOP_CMD_MASK     ((1 << MEMOP_EXTENT_SHIFT) - 1)
#endif

/* Xen's x86 e820 entry as XENMEM_memory_map returns it (20 bytes). */
struct __attribute__((packed)) xen_e820entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
};

static long memory_map(struct vcpu *v, gva_t arg)
{
    struct domain *d = v->d;
    struct xen_memory_map map;
    struct xen_e820entry e[MEMMAP_MAX];

    if (copy_from_guest(v, &map, arg, sizeof(map)))
        return -XEN_EFAULT;
    if (map.nr_entries > d->nr_memmap)
        map.nr_entries = d->nr_memmap;
    for (unsigned int i = 0; i < map.nr_entries; i++) {
        e[i].addr = d->memmap[i].addr;
        e[i].size = d->memmap[i].size;
        e[i].type = d->memmap[i].type;
    }
    if (copy_to_guest(v, (gva_t)(uintptr_t)map.buffer.p, e,
                      map.nr_entries * sizeof(e[0])) ||
        copy_to_guest(v, arg, &map, sizeof(map)))
        return -XEN_EFAULT;
    return 0;
}

/* The highest gfn the guest has memory at (RAM or special pages). */
static uint64_t max_gpfn(const struct domain *d)
{
    uint64_t top = 0;
    for (unsigned int i = 0; i < d->gmem.nr_regions; i++) {
        const struct gmem_region *r = &d->gmem.region[i];
        uint64_t end = (r->gpa_base + r->size) >> GMEM_PAGE_SHIFT;
        if (end > top)
            top = end;
    }
    return top ? top - 1 : 0;
}

/*
 * Map the shared_info page at gpfn.  xen-hv backs it with the guest's own
 * RAM page there (as KVM's Xen support does): the private page's contents
 * move into it and from now on both sides use that page.  A gpfn outside
 * RAM is refused with -XEN_EINVAL (Xen would map the page into the hole;
 * xen-hv will do so when a guest needs it).
 */
static long map_shared_info(struct domain *d, uint64_t gpfn)
{
    struct shared_info *newp;

    if (gpfn > (UINT64_MAX >> GMEM_PAGE_SHIFT))
        return -XEN_EINVAL;
    newp = gmem_ptr(&d->gmem, gpfn << GMEM_PAGE_SHIFT, GMEM_PAGE_SIZE);
    if (!newp)
        return -XEN_EINVAL;
    pthread_mutex_lock(&d->lock);
    if ((void *)newp != (void *)d->shared_info) {
        memcpy(newp, d->shared_info, GMEM_PAGE_SIZE);
        d->shared_info = newp;
        d->shared_info_gpa = gpfn << GMEM_PAGE_SHIFT;
    }
    time_update_wallclock(d);
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        if (d->vcpus[i]->vcpu_info_gpa == INVALID_GPA)
            time_update_vcpu(d->vcpus[i]);
    pthread_mutex_unlock(&d->lock);
    return 0;
}

/*
 * XENMAPSPACE_grant_table: grant frame idx appears at gpfn (the frame that
 * was there before, if the guest moves it, goes back to RAM).  v1 has no
 * status frames (XENMAPIDX_grant_table_status: -XEN_EINVAL, as Xen).
 */
static long map_grant_frame(struct domain *d, xen_ulong_t idx, uint64_t gpfn)
{
    void *frame;
    gpa_t gpa, old;
    long rc;

    if ((idx & XENMAPIDX_grant_table_status) || idx >= 64 ||
        gpfn > (UINT64_MAX >> GMEM_PAGE_SHIFT))
        return -XEN_EINVAL;
    gpa = gpfn << GMEM_PAGE_SHIFT;
    rc = gnttab_map_frame(d->gnttab, (unsigned int)idx, gpfn, &frame);
    if (rc)
        return rc;
    rc = domain_p2m_replace(d, gpa, gnttab_frames_fd(d->gnttab),
                            idx * GMEM_PAGE_SIZE, true);
    if (rc)
        return rc;
    pthread_mutex_lock(&d->lock);
    old = d->grant_frame_gpa[idx];
    d->grant_frame_gpa[idx] = gpa;
    pthread_mutex_unlock(&d->lock);
    if (old != INVALID_GPA && old != gpa)
        domain_p2m_restore(d, old);
    return 0;
}

static long add_to_physmap(struct vcpu *v, gva_t arg)
{
    struct xen_add_to_physmap xatp;
    struct domain *d;
    long rc = -XEN_ESRCH;

    if (copy_from_guest(v, &xatp, arg, sizeof(xatp)))
        return -XEN_EFAULT;
    /* Foreign mappings only via add_to_physmap_batch (Xen 4.17). */
    if (xatp.space == XENMAPSPACE_gmfn_foreign)
        return -XEN_ENOSYS;
    if (xatp.space == XENMAPSPACE_gmfn_range)
        return -XEN_ENOSYS; /* XENMAPSPACE_gmfn* need a p2m with holes */
    d = domain_lookup(v, xatp.domid, &rc);
    if (!d)
        return rc;
    switch (xatp.space) {
    case XENMAPSPACE_grant_table:
        return map_grant_frame(d, xatp.idx, xatp.gpfn);
    case XENMAPSPACE_shared_info:
        if (xatp.idx != 0)
            return -XEN_EINVAL;
        return map_shared_info(d, xatp.gpfn);
    }
    /* Unknown or not yet supported spaces find no frame: Xen says EINVAL. */
    return -XEN_EINVAL;
}

long do_memory_op(struct vcpu *v, const struct hypercall_args *a)
{
    unsigned long cmd = (unsigned long)a->a[0];
    unsigned int op = cmd & MEMOP_CMD_MASK;
    unsigned long start_extent = cmd >> MEMOP_EXTENT_SHIFT;
    gva_t arg = a->a[1];
    domid_t domid;
    struct domain *d;
    long rc = -XEN_ESRCH;

    switch (op) {
    case XENMEM_memory_map:
        return memory_map(v, arg);

    case XENMEM_maximum_ram_page:
        if (start_extent)
            return -XEN_EINVAL;
        /* Xen returns its max_page; a guest here sees only its own RAM. */
        return (long)(max_gpfn(v->d) + 1);

    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
    case XENMEM_maximum_gpfn:
        if (start_extent)
            return -XEN_EINVAL;
        if (copy_from_guest(v, &domid, arg, sizeof(domid)))
            return -XEN_EFAULT;
        d = domain_lookup(v, domid, &rc);
        if (!d)
            return rc;
        if (op == XENMEM_current_reservation)
            return (long)d->tot_pages;
        if (op == XENMEM_maximum_reservation)
            return (long)d->max_pages;
        return (long)max_gpfn(d);

    case XENMEM_add_to_physmap:
        if (start_extent)
            return -XEN_ENOSYS;
        return add_to_physmap(v, arg);
    }
    return -XEN_ENOSYS;
}
