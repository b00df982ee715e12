/*
 * gnttab_op.c — __HYPERVISOR_grant_table_op (<xen/grant_table.h>) for a
 * PVH guest, over the grant-table module (grant-tables/gnttab.h), and the
 * guest-physical side of grants: XENMEM_add_to_physmap(grant_table) and
 * GNTMAP_host_map put a frame at a guest frame number by replacing the host
 * page behind that guest address (domain_p2m_replace()), which KVM's MMU
 * notifiers carry into the guest's page tables.
 *
 * Domains: a guest sees only itself (DOMID_SELF or its own id); domain 0
 * exists but refuses it (GNTST_permission_denied), other ids are
 * GNTST_bad_domain — until the control interface brings other domains.
 * Each batch element is copied in once, done, and its status copied out.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <xen/errno.h>
#include <xen/grant_table.h>

#include "gnttab.h"
#include "guest_copy.h"
#include "hypercall.h"

#define GNTTAB_BATCH_MAX 4096 /* elements per call before -XEN_E2BIG */

static void *guest_frame_ptr(void *ctx, uint64_t gfn, bool write)
{
    struct domain *d = ctx;
    if (gfn > (UINT64_MAX >> GMEM_PAGE_SHIFT))
        return NULL;
    return gmem_ptr(&d->gmem, gfn << GMEM_PAGE_SHIFT, GMEM_PAGE_SIZE);
}

/*
 * The domain domid names for v's grant operations (peers' lock held):
 * itself, another domain of this host, or NULL (*status: GNTST_bad_domain,
 * or GNTST_permission_denied for domain 0, which always exists).
 */
static struct domain *peer_find(struct vcpu *v, domid_t domid, int16_t *status)
{
    struct domain *d = v->d, *p = NULL;

    if (domid == DOMID_SELF || domid == d->domid)
        return d;
    if (d->peers)
        p = d->peers->find(d->peers->ctx, domid);
    if (!p)
        *status = domid == 0 ? GNTST_permission_denied : GNTST_bad_domain;
    return p;
}

/*
 * The grant table of domid for operations on a table itself (query_size,
 * setup_table, get_version), which only the domain itself (or a privileged
 * one, XSM_TARGET) may do: another existing domain is
 * GNTST_permission_denied.
 */
static struct gnttab *gt_lookup(struct vcpu *v, domid_t domid, int16_t *status)
{
    struct domain *p = peer_find(v, domid, status);

    if (p == v->d)
        return p->gnttab;
    if (p)
        *status = GNTST_permission_denied;
    return NULL;
}

static long op_query_size(struct vcpu *v, gva_t arg)
{
    struct gnttab_query_size op;
    struct gnttab *gt;

    if (copy_from_guest(v, &op, arg, sizeof(op)))
        return -XEN_EFAULT;
    gt = gt_lookup(v, op.dom, &op.status);
    if (gt)
        op.status = gnttab_query_size(gt, &op.nr_frames, &op.max_nr_frames);
    return copy_to_guest(v, arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
}

static long op_setup_table(struct vcpu *v, gva_t arg)
{
    struct gnttab_setup_table op;
    xen_pfn_t frames[64];
    struct gnttab *gt;

    if (copy_from_guest(v, &op, arg, sizeof(op)))
        return -XEN_EFAULT;
    gt = gt_lookup(v, op.dom, &op.status);
    if (gt) {
        if (op.nr_frames > sizeof(frames) / sizeof(frames[0]))
            op.status = GNTST_general_error;
        else
            op.status = gnttab_setup_table(gt, op.nr_frames, frames);
        if (op.status == GNTST_okay &&
            copy_to_guest(v, (gva_t)(uintptr_t)op.frame_list.p, frames,
                          op.nr_frames * sizeof(frames[0])))
            op.status = GNTST_bad_virt_addr;
    }
    return copy_to_guest(v, arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
}

/*
 * GNTTABOP_copy: the ops are read GNTTAB_COPY_CHUNK at a time (one guest
 * copy, each op used from that copy only), each done, and each status
 * written back to its own op as Xen does.
 */
#define GNTTAB_COPY_CHUNK 64

static long op_copy(struct vcpu *v, gva_t arg, unsigned int count)
{
    struct gnttab_copy ops[GNTTAB_COPY_CHUNK];

    for (unsigned int base = 0; base < count; base += GNTTAB_COPY_CHUNK) {
        unsigned int n =
            count - base < GNTTAB_COPY_CHUNK ? count - base : GNTTAB_COPY_CHUNK;
        gva_t at0 = arg + (gva_t)base * sizeof(ops[0]);

        if (copy_from_guest(v, ops, at0, n * sizeof(ops[0])))
            return -XEN_EFAULT;
        for (unsigned int i = 0; i < n; i++) {
            struct gnttab_copy *op = &ops[i];
            struct domain *sdom, *ddom;
            struct gnttab_mem_ops smem = {guest_frame_ptr, NULL};
            struct gnttab_mem_ops dmem = {guest_frame_ptr, NULL};
            int16_t st = GNTST_okay;

            sdom = (op->flags & GNTCOPY_source_gref)
                       ? peer_find(v, op->source.domid, &st)
                       : v->d;
            ddom = (op->flags & GNTCOPY_dest_gref)
                       ? peer_find(v, op->dest.domid, &st)
                       : v->d;
            smem.ctx = sdom;
            dmem.ctx = ddom;
            op->status =
                gnttab_copy(v->d->gnttab, op, sdom ? sdom->gnttab : NULL, &smem,
                            ddom ? ddom->gnttab : NULL, &dmem);
            if (op->status == GNTST_okay)
                v->copy_bytes += op->len;
            if (copy_to_guest(v,
                              at0 + (gva_t)i * sizeof(ops[0]) +
                                  offsetof(struct gnttab_copy, status),
                              &op->status, sizeof(op->status)))
                return -XEN_EFAULT;
        }
    }
    return 0;
}

static long op_map(struct vcpu *v, gva_t arg, unsigned int count)
{
    struct domain *d = v->d;

    for (unsigned int i = 0; i < count; i++) {
        gva_t at = arg + (gva_t)i * sizeof(struct gnttab_map_grant_ref);
        struct gnttab_map_grant_ref op;
        struct domain *rd;
        void *frame = NULL;
        int16_t st = GNTST_okay;

        if (copy_from_guest(v, &op, at, sizeof(op)))
            return -XEN_EFAULT;
        op.handle = ~0u;
        rd = peer_find(v, op.dom, &st);
        if (!rd) {
            op.status = st;
        } else if (!(op.flags & GNTMAP_host_map) ||
                   (op.flags & GNTMAP_contains_pte) ||
                   (op.host_addr & (GMEM_PAGE_SIZE - 1)) ||
                   !gmem_ptr(&d->gmem, op.host_addr, GMEM_PAGE_SIZE)) {
            /* HVM: host_addr is the gfn (as an address) to map at. */
            op.status = (op.flags & GNTMAP_host_map) ? GNTST_bad_virt_addr
                                                     : GNTST_general_error;
        } else {
            const struct gnttab_mem_ops rmem = {guest_frame_ptr, rd};
            op.status = gnttab_map(d->gnttab, rd->gnttab, &rmem, op.ref,
                                   op.flags, &op.handle, &frame);
            /* The granter's frame lives in its memfd: show that page. */
            if (op.status == GNTST_okay &&
                ((uint8_t *)frame < rd->mem ||
                 (uint8_t *)frame >= rd->mem + rd->ram_bytes ||
                 domain_p2m_replace(d, op.host_addr, rd->mem_fd,
                                    (uint64_t)((uint8_t *)frame - rd->mem),
                                    !(op.flags & GNTMAP_readonly)))) {
                gnttab_unmap(d->gnttab, op.handle);
                op.handle = ~0u;
                op.status = GNTST_general_error;
            }
            if (op.status == GNTST_okay)
                gnttab_map_note(d, op.handle, op.host_addr);
        }
        op.dev_bus_addr = 0;
        if (copy_to_guest(v, at, &op, sizeof(op)))
            return -XEN_EFAULT;
    }
    return 0;
}

static long op_unmap(struct vcpu *v, gva_t arg, unsigned int count)
{
    struct domain *d = v->d;

    for (unsigned int i = 0; i < count; i++) {
        gva_t at = arg + (gva_t)i * sizeof(struct gnttab_unmap_grant_ref);
        struct gnttab_unmap_grant_ref op;
        gpa_t where;

        if (copy_from_guest(v, &op, at, sizeof(op)))
            return -XEN_EFAULT;
        where = gnttab_map_where(d, op.handle);
        if (where == INVALID_GPA)
            op.status = GNTST_bad_handle;
        else if (op.host_addr && op.host_addr != where)
            op.status = GNTST_bad_virt_addr;
        else {
            op.status = gnttab_unmap(d->gnttab, op.handle);
            if (op.status == GNTST_okay) {
                domain_p2m_restore(d, where);
                gnttab_map_note(d, op.handle, INVALID_GPA);
            }
        }
        if (copy_to_guest(v,
                          at + offsetof(struct gnttab_unmap_grant_ref, status),
                          &op.status, sizeof(op.status)))
            return -XEN_EFAULT;
    }
    return 0;
}

static long grant_table_op(struct vcpu *v, const struct hypercall_args *a);

long do_grant_table_op(struct vcpu *v, const struct hypercall_args *a)
{
    const struct domain_peers *p = v->d->peers;
    long rc;

    /* Other domains stay alive for the whole batch. */
    if (p)
        p->lock(p->ctx);
    rc = grant_table_op(v, a);
    if (p)
        p->unlock(p->ctx);
    return rc;
}

static long grant_table_op(struct vcpu *v, const struct hypercall_args *a)
{
    unsigned int cmd = (unsigned int)a->a[0];
    gva_t arg = a->a[1];
    unsigned int count = (unsigned int)a->a[2];
    struct gnttab *gt = v->d->gnttab;

    if (count > GNTTAB_BATCH_MAX)
        return -XEN_E2BIG;
    switch (cmd) {
    case GNTTABOP_map_grant_ref:
        return op_map(v, arg, count);
    case GNTTABOP_unmap_grant_ref:
        return op_unmap(v, arg, count);
    case GNTTABOP_setup_table:
        return count == 1 ? op_setup_table(v, arg) : -XEN_EINVAL;
    case GNTTABOP_copy: {
        /* Timed, for `xen-hv run --stats` (the copy rate xen-hv itself
         * achieves, without the exit around it). */
        struct timespec t0, t1;
        long rc;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rc = op_copy(v, arg, count);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        v->copy_ns += (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ULL +
                      (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
        return rc;
    }
    case GNTTABOP_query_size:
        return count == 1 ? op_query_size(v, arg) : -XEN_EINVAL;
    case GNTTABOP_set_version: {
        struct gnttab_set_version op;
        long rc;
        if (count != 1)
            return -XEN_EINVAL;
        if (copy_from_guest(v, &op, arg, sizeof(op)))
            return -XEN_EFAULT;
        rc = gnttab_set_version(gt, &op.version);
        if (copy_to_guest(v, arg, &op, sizeof(op)))
            return -XEN_EFAULT;
        return rc;
    }
    case GNTTABOP_get_version: {
        struct gnttab_get_version op;
        int16_t st = GNTST_okay;
        if (count != 1)
            return -XEN_EINVAL;
        if (copy_from_guest(v, &op, arg, sizeof(op)))
            return -XEN_EFAULT;
        if (!gt_lookup(v, op.dom, &st))
            return st == GNTST_bad_domain ? -XEN_ESRCH : -XEN_EPERM;
        gnttab_get_version(gt, &op.version);
        return copy_to_guest(v, arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
    }
    case GNTTABOP_cache_flush:
        for (unsigned int i = 0; i < count; i++) {
            struct gnttab_cache_flush op;
            long rc;
            if (copy_from_guest(v, &op, arg + (gva_t)i * sizeof(op),
                                sizeof(op)))
                return -XEN_EFAULT;
            rc = gnttab_cache_flush(&op);
            if (rc)
                return rc;
        }
        return 0;
    }
    return -XEN_ENOSYS;
}
