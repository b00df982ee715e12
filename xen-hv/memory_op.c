/*
 * memory_op.c — __HYPERVISOR_memory_op (<xen/memory.h>) for a PVH guest:
 * XENMEM_increase_reservation, decrease_reservation, populate_physmap
 * (the balloon), memory_map, maximum_ram_page, current_reservation,
 * maximum_reservation, maximum_gpfn and add_to_physmap
 * (XENMAPSPACE_shared_info, _grant_table).  Semantics from Xen 4.17's
 * common/memory.c and arch/x86/mm.c.
 *
 * The balloon under KVM.  A domain's RAM is one memfd behind fixed KVM
 * memslots; each RAM page is present or a hole (d->populated, one bit per
 * page; NULL while every page is present).  decrease_reservation punches
 * the page out of the memfd (fallocate PUNCH_HOLE): the host frees it and
 * KVM's MMU notifiers drop the guest's mapping.  The gfn stays inside its
 * memslot — KVM has no per-page holes short of one memslot per ballooned
 * page, and xen-hv's own accesses (copies, vcpu_info, grant copies) must
 * never fault — so a guest that touches a hole gets a fresh zeroed page
 * from the host kernel, which tot_pages does not count (Xen gives the
 * guest nothing there: reads ~0, writes dropped).  populate_physmap makes
 * the page present again, zeroed (punched once more), and counts it.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xen/errno.h>
#include <xen/memory.h>

#include "guest_copy.h"
#include "gnttab.h"
#include "hypercall.h"
#include "sched_op.h"

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
static uint64_t mem_top_gfn(const struct domain *d)
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
 * Xen's domain_get_maximum_gpfn() (the p2m's max_mapped_pfn): the highest
 * gfn anything is mapped at, frames placed outside guest memory (grant
 * frames in unpopulated space) included.
 */
static uint64_t max_gpfn(struct domain *d)
{
    uint64_t top = mem_top_gfn(d);

    pthread_mutex_lock(&d->lock);
    for (unsigned int i = 0; i < P2M_EXTRA_MAX; i++) {
        gpa_t gpa = d->p2m_extra[i].gpa;
        if (gpa != INVALID_GPA && (gpa >> GMEM_PAGE_SHIFT) > top)
            top = gpa >> GMEM_PAGE_SHIFT;
    }
    pthread_mutex_unlock(&d->lock);
    return top;
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

/* Xen's largest extent order for a domU on x86 (CONFIG_DOMU_MAX_ORDER). */
#define MEMOP_MAX_ORDER 9
/* Extents read from the guest, and done under one d->lock hold. */
#define MEMOP_BATCH 256

enum reservation_op { RES_INCREASE, RES_DECREASE, RES_POPULATE };

/* The memfd page index of RAM page gfn of d, or -1 (not RAM). */
static int64_t ram_index(const struct domain *d, uint64_t gfn)
{
    const uint8_t *h;

    if (!d->mem || gfn > (UINT64_MAX >> GMEM_PAGE_SHIFT))
        return -1;
    h = gmem_ptr(&d->gmem, gfn << GMEM_PAGE_SHIFT, GMEM_PAGE_SIZE);
    if (!h || h < d->mem || h + GMEM_PAGE_SIZE > d->mem + d->ram_bytes)
        return -1; /* special pages are not RAM */
    return (int64_t)((h - d->mem) >> GMEM_PAGE_SHIFT);
}

/*
 * Whether xen-hv itself uses the page at gfn (d->lock held): the
 * shared_info, a grant frame or a grant mapping placed there, a vCPU's
 * vcpu_info.  The balloon leaves such pages alone.
 */
static bool gfn_in_use(const struct domain *d, uint64_t gfn)
{
    gpa_t gpa = gfn << GMEM_PAGE_SHIFT;

    if (d->shared_info_gpa == gpa)
        return true;
    for (unsigned int i = 0; i < 64; i++)
        if (d->grant_frame_gpa[i] == gpa)
            return true;
    for (unsigned int i = 0; i < d->nr_grant_maps; i++)
        if (d->grant_maps[i].gpa == gpa)
            return true;
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        gpa_t vi = d->vcpus[i]->vcpu_info_gpa;
        if (vi != INVALID_GPA && (vi & ~(GMEM_PAGE_SIZE - 1)) == gpa)
            return true;
    }
    return false;
}

static bool page_present(const struct domain *d, int64_t idx)
{
    return !d->populated || (d->populated[idx / 64] >> (idx % 64)) & 1;
}

/* Track holes from now on: every RAM page present (d->lock held). */
static int holes_track(struct domain *d)
{
    uint64_t pages = d->ram_bytes >> GMEM_PAGE_SHIFT;
    uint64_t *map;

    if (d->populated)
        return 0;
    map = calloc((pages + 63) / 64, sizeof(*map));
    if (!map)
        return -XEN_ENOMEM;
    for (uint64_t i = 0; i < pages; i++)
        map[i / 64] |= 1ULL << (i % 64);
    d->populated = map;
    return 0;
}

/*
 * Give the host back pages [idx, idx + n) of the memfd; they read as
 * zeros afterwards.  Should the file system refuse, zero them at least.
 */
static void pages_release(struct domain *d, int64_t idx, uint64_t n)
{
    off_t off = (off_t)idx << GMEM_PAGE_SHIFT;
    off_t len = (off_t)(n << GMEM_PAGE_SHIFT);

    if (fallocate(d->mem_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
                  len) < 0)
        memset(d->mem + off, 0, (size_t)len);
}

/*
 * Pages to give back, gathered while they follow each other in the memfd
 * (up or down, as a balloon's frame list often does): one fallocate, and
 * one KVM MMU invalidation, per run instead of per page.
 */
struct release_run {
    int64_t idx; /* first page of the run */
    uint64_t n;  /* pages in it, 0 = none */
};

static void release_flush(struct domain *d, struct release_run *run)
{
    if (run->n)
        pages_release(d, run->idx, run->n);
    run->n = 0;
}

static void release_add(struct domain *d, struct release_run *run, int64_t idx)
{
    if (run->n && idx == run->idx + (int64_t)run->n) {
        run->n++;
        return;
    }
    if (run->n && idx + 1 == run->idx) {
        run->idx = idx;
        run->n++;
        return;
    }
    release_flush(d, run);
    run->idx = idx;
    run->n = 1;
}

/*
 * Check every page of the extent [gfn, gfn + 2^order) (d->lock held):
 * RAM and not in use by xen-hv (else -XEN_EINVAL).  *holes: how many are
 * holes now.  The extent is checked whole before anything changes, so a
 * bad page anywhere leaves all of it as it was.
 */
static int extent_check(const struct domain *d, uint64_t gfn,
                        unsigned int order, uint64_t *holes)
{
    uint64_t n = 1ULL << order;

    *holes = 0;
    if (gfn > (UINT64_MAX >> GMEM_PAGE_SHIFT) - n)
        return -XEN_EINVAL;
    for (uint64_t j = 0; j < n; j++) {
        int64_t idx = ram_index(d, gfn + j);
        if (idx < 0 || gfn_in_use(d, gfn + j))
            return -XEN_EINVAL;
        if (!page_present(d, idx))
            (*holes)++;
    }
    return 0;
}

/*
 * One extent of decrease_reservation or populate_physmap (d->lock held);
 * its pages join run, which the caller flushes before it unlocks.
 * Returns 0, or why the hypercall stops here: -XEN_EINVAL (bad page),
 * -XEN_ENOENT (decrease: a page is a hole already, as Xen's
 * guest_remove_page()), -XEN_ENOMEM (populate: tot_pages would pass
 * max_pages, as Xen's assign_pages()).
 */
static int extent_apply(struct domain *d, enum reservation_op op, uint64_t gfn,
                        unsigned int order, struct release_run *run)
{
    uint64_t n = 1ULL << order, holes;
    int rc = extent_check(d, gfn, order, &holes);

    if (rc)
        return rc;
    if (op == RES_DECREASE) {
        if (holes)
            return -XEN_ENOENT;
        rc = holes_track(d);
        if (rc)
            return rc;
    } else if (holes && d->tot_pages + holes > d->max_pages) {
        return -XEN_ENOMEM;
    }
    for (uint64_t j = 0; j < n; j++) {
        int64_t idx = ram_index(d, gfn + j);
        uint64_t bit = 1ULL << (idx % 64);
        if (op == RES_DECREASE) {
            d->populated[idx / 64] &= ~bit;
            d->tot_pages--;
        } else if (!page_present(d, idx)) {
            d->populated[idx / 64] |= bit;
            d->tot_pages++;
        }
        /*
         * Populate gives a zeroed page, as Xen's fresh one: a present
         * page is replaced, a hole the guest touched anyway is cleared.
         */
        release_add(d, run, idx);
    }
    return 0;
}

/*
 * XENMEM_increase_reservation for an HVM domain, as Xen's
 * increase_reservation(): the pages are allocated to the domain (counted
 * in tot_pages, up to max_pages) but appear at no gfn, and nothing is
 * written to extent_start (a translated guest learns no MFN).  xen-hv
 * has nothing to allocate: it only counts them.
 */
static int extent_increase(struct domain *d, unsigned int order)
{
    uint64_t n = 1ULL << order;

    if (d->tot_pages + n > d->max_pages)
        return -XEN_ENOMEM;
    d->tot_pages += n;
    return 0;
}

/*
 * Xen's construct_memop_from_reservation() for an unprivileged caller:
 * an address width of 1..12 bits, or an exact physical node, cannot be
 * honoured; anything else only steers Xen's allocator.
 */
static bool reservation_flags_ok(unsigned int flags)
{
    unsigned int bits = XENMEMF_get_address_bits(flags);

    if (bits != 0 && bits <= GMEM_PAGE_SHIFT)
        return false;
    /* No vNUMA here: a virtual node is ignored, a host node only hinted. */
    if (!(flags & XENMEMF_vnode) && XENMEMF_get_node(flags) != 0xffu &&
        (flags & XENMEMF_exact_node_request))
        return false;
    return true;
}

/*
 * XENMEM_increase_reservation, _decrease_reservation, _populate_physmap
 * (<xen/memory.h> struct xen_memory_reservation), as Xen's do_memory_op():
 * extents from start (the continuation index in cmd) up; the result is the
 * index after the last extent done, so a partial success returns the
 * count.  Bad arguments (unreadable, too many extents, another domain,
 * order above 9, flags it cannot honour, populate-on-demand on oneself)
 * do nothing and return start.  A decreased or populated extent is
 * 2^extent_order gfns from its entry in extent_start.
 */
static long memory_reservation(struct vcpu *v, enum reservation_op op,
                               unsigned long start, gva_t arg)
{
    struct xen_memory_reservation r;
    xen_pfn_t gfns[MEMOP_BATCH];
    struct release_run run = {0, 0};
    struct domain *d;
    unsigned long i = start;
    long rc = 0;

    if (copy_from_guest(v, &r, arg, sizeof(r)))
        return (long)start;
    if (r.nr_extents > (UINT_MAX >> MEMOP_EXTENT_SHIFT) ||
        start >= r.nr_extents)
        return (long)start;
    d = domain_lookup(v, r.domid, &rc);
    if (!d || !reservation_flags_ok(r.mem_flags) ||
        r.extent_order > MEMOP_MAX_ORDER)
        return (long)start;
    /* Xen: "Disallow populating PoD pages on oneself". */
    if (op == RES_POPULATE && (r.mem_flags & XENMEMF_populate_on_demand))
        return (long)start;

    while (i < r.nr_extents) {
        unsigned long n = r.nr_extents - i, k;
        bool fault = false;

        if (n > MEMOP_BATCH)
            n = MEMOP_BATCH;
        if (op != RES_INCREASE) {
            gva_t va =
                (gva_t)(uintptr_t)r.extent_start.p + i * sizeof(xen_pfn_t);
            if (copy_from_guest(v, gfns, va, n * sizeof(gfns[0]))) {
                /* Do the extents before the first unreadable one. */
                for (k = 0; k < n; k++)
                    if (copy_from_guest(v, &gfns[k], va + k * sizeof(gfns[0]),
                                        sizeof(gfns[0])))
                        break;
                n = k;
                fault = true;
            }
        }
        pthread_mutex_lock(&d->lock);
        /*
         * Xen would preempt a long call with a continuation: here the
         * domain's shutdown ends it between batches, and requests from
         * other threads (pause) are answered, so neither waits for it.
         */
        vcpu_serve_requests(v);
        if (d->is_shutting_down) {
            pthread_mutex_unlock(&d->lock);
            break;
        }
        for (k = 0; k < n; k++) {
            int err = op == RES_INCREASE
                          ? extent_increase(d, r.extent_order)
                          : extent_apply(d, op, gfns[k], r.extent_order, &run);
            if (err)
                break;
        }
        release_flush(d, &run);
        pthread_mutex_unlock(&d->lock);
        i += k;
        if (k < n || fault)
            break;
    }
    return (long)i;
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
    case XENMEM_increase_reservation:
        return memory_reservation(v, RES_INCREASE, start_extent, arg);
    case XENMEM_decrease_reservation:
        return memory_reservation(v, RES_DECREASE, start_extent, arg);
    case XENMEM_populate_physmap:
        return memory_reservation(v, RES_POPULATE, start_extent, arg);

    case XENMEM_memory_map:
        return memory_map(v, arg);

    case XENMEM_maximum_ram_page:
        if (start_extent)
            return -XEN_EINVAL;
        /* Xen returns its max_page; a guest here sees only its own RAM. */
        return (long)(mem_top_gfn(v->d) + 1);

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
