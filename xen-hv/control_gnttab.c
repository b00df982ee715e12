/*
 * control_gnttab.c — grant operations of control-socket clients on other
 * domains' grants (XENHV_OP_GNTTAB_MAP/UNMAP/COPY of xenhv_privcmd.h:
 * Xen's GNTTABOP_map_grant_ref, unmap_grant_ref and copy of
 * xen/include/public/grant_table.h, through grant-tables/), and the memory
 * of process domains: the memfd one registers (XENHV_OP_PDOM_MEMORY) and
 * hands out to the control domain (XENHV_OP_FOREIGN_MEMORY).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/errno.h>

#include "control_priv.h"
#include "gnttab.h"
#include "xenhv_privcmd.h"

static void *guest_frame(void *ctx, uint64_t gfn, bool write)
{
    struct domain *d = ctx;
    (void)write;
    if (gfn > (UINT64_MAX >> 12))
        return NULL;
    return gmem_ptr(&d->gmem, gfn << 12, 4096);
}

/*
 * GNTTABOP_map_grant_ref by k's domain of a grant of the guest; the
 * mapping is k's (released when k closes).
 */
void do_gnttab_map(struct conn *k, const struct xenhv_msg *m,
                   const struct xenhv_gnttab_map_req *r)
{
    struct control *c = k->c;
    struct domain *d;
    struct xenhv_gnttab_map_rep rep = {.status = GNTST_bad_domain};
    uint32_t flags = GNTMAP_host_map | (r->readonly ? GNTMAP_readonly : 0);
    void *frame = NULL;
    grant_handle_t h;

    pthread_rwlock_rdlock(&c->doms_lock);
    d = peers_find(c, (domid_t)r->domid); /* guests and process domains */
    if (k->nr_maps == CONN_MAX_GRANT_MAPS) {
        rep.status = GNTST_no_space;
    } else if (d) {
        const struct gnttab_mem_ops mem = {guest_frame, d};
        rep.status =
            gnttab_map(k->vd->gt, d->gnttab, &mem, r->ref, flags, &h, &frame);
        if (rep.status == GNTST_okay &&
            ((uint8_t *)frame < d->mem ||
             (uint8_t *)frame >= d->mem + d->ram_bytes)) {
            /* Only RAM frames are offered; others stay unmapped. */
            gnttab_unmap(k->vd->gt, h);
            rep.status = GNTST_bad_page;
        }
        if (rep.status == GNTST_okay) {
            rep.handle = h;
            rep.offset = (uint64_t)((uint8_t *)frame - d->mem);
            k->maps[k->nr_maps++] = h;
        }
    }
    reply(k, m, 0, &rep, sizeof(rep),
          rep.status == GNTST_okay ? d->mem_fd : -1);
    pthread_rwlock_unlock(&c->doms_lock);
}

/* The caller's side of a copy: one bounce page, gfn 0. */
static void *bounce_frame(void *ctx, uint64_t gfn, bool write)
{
    (void)write;
    return gfn == 0 ? ctx : NULL;
}

void do_gnttab_copy(struct conn *k, const struct xenhv_msg *m,
                    const uint8_t *payload)
{
    struct control *c = k->c;
    static uint8_t out[XENHV_MSG_MAX];
    static uint8_t bounce[4096] __attribute__((aligned(4096)));
    const struct xenhv_copy_seg *seg;
    uint32_t count, in_off, out_len;
    int16_t *status = (int16_t *)out;

    if (m->len < sizeof(count)) {
        reply(k, m, -XEN_EINVAL, NULL, 0, -1);
        return;
    }
    memcpy(&count, payload, sizeof(count));
    if (count == 0 || count > XENHV_COPY_MAX_SEGS ||
        m->len < sizeof(count) + count * sizeof(*seg)) {
        reply(k, m, -XEN_EINVAL, NULL, 0, -1);
        return;
    }
    seg = (const struct xenhv_copy_seg *)(payload + sizeof(count));
    in_off = sizeof(count) + count * sizeof(*seg);
    out_len = count * sizeof(int16_t);
    pthread_rwlock_rdlock(&c->doms_lock);
    for (uint32_t i = 0; i < count; i++) {
        struct xenhv_copy_seg s;
        struct domain *d;
        bool into = false;
        memcpy(&s, &seg[i], sizeof(s));
        struct gnttab_copy op = {.len = s.len, .flags = s.flags};
        struct gnttab_mem_ops local = {bounce_frame, bounce};
        d = peers_find(c, (domid_t)s.domid);
        if (s.flags == GNTCOPY_dest_gref) {
            into = true;
            if (m->len - in_off < s.len || s.len > sizeof(bounce)) {
                status[i] = GNTST_bad_copy_arg;
                continue;
            }
            memcpy(bounce, payload + in_off, s.len);
            in_off += s.len;
            op.source = (struct gnttab_copy_ptr){.domid = DOMID_SELF};
            op.dest = (struct gnttab_copy_ptr){
                .u.ref = s.ref, .domid = (domid_t)s.domid, .offset = s.offset};
        } else if (s.flags == GNTCOPY_source_gref) {
            op.source = (struct gnttab_copy_ptr){
                .u.ref = s.ref, .domid = (domid_t)s.domid, .offset = s.offset};
            op.dest = (struct gnttab_copy_ptr){.domid = DOMID_SELF};
        } else {
            status[i] = GNTST_bad_copy_arg;
            continue;
        }
        if (!d) {
            status[i] = GNTST_bad_domain;
            continue;
        }
        {
            struct gnttab_mem_ops gm = {guest_frame, d};
            status[i] = (int16_t)gnttab_copy(
                k->vd->gt, &op, into ? k->vd->gt : d->gnttab,
                into ? &local : &gm, into ? d->gnttab : k->vd->gt,
                into ? &gm : &local);
        }
        if (!into && status[i] == GNTST_okay &&
            out_len + s.len <= sizeof(out)) {
            memcpy(out + out_len, bounce, s.len);
            out_len += s.len;
        }
    }
    pthread_rwlock_unlock(&c->doms_lock);
    reply(k, m, 0, out, out_len, -1);
}

/* XENHV_OP_PDOM_MEMORY: see xenhv_privcmd.h. */
int32_t pdom_memory(struct conn *k, const uint8_t *payload, uint32_t len,
                    int fd)
{
    struct vdom *v = k->vd;
    struct domain *d;
    uint64_t bytes;
    void *mem;

    if (k->privileged || len != sizeof(bytes) || fd < 0)
        return -XEN_EINVAL;
    memcpy(&bytes, payload, sizeof(bytes));
    if (!bytes || (bytes & 4095) || bytes > (1ULL << 30))
        return -XEN_EINVAL;
    if (v->as_domain)
        return -XEN_EEXIST;
    mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED)
        return -XEN_EINVAL;
    d = calloc(1, sizeof(*d));
    if (!d || (d->mem_fd = dup(fd)) < 0) {
        munmap(mem, bytes);
        free(d);
        return -XEN_ENOMEM;
    }
    d->domid = v->domid;
    d->gnttab = v->gt;
    d->mem = mem;
    d->mem_bytes = d->ram_bytes = bytes;
    d->gmem.nr_regions = 1;
    d->gmem.region[0] = (struct gmem_region){0, bytes, mem};
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_lock(&k->c->lock);
    v->as_domain = d;
    pthread_mutex_unlock(&k->c->lock);
    return 0;
}

void do_gnttab_unmap(struct conn *k, const struct xenhv_msg *m,
                     const struct xenhv_gnttab_unmap_req *r)
{
    struct xenhv_gnttab_unmap_rep rep = {.status = GNTST_bad_handle};

    for (unsigned int i = 0; i < k->nr_maps; i++) {
        if (k->maps[i] != r->handle)
            continue;
        rep.status = gnttab_unmap(k->vd->gt, r->handle);
        k->maps[i] = k->maps[--k->nr_maps];
        break;
    }
    reply(k, m, 0, &rep, sizeof(rep), -1);
}

/*
 * XENHV_OP_FOREIGN_MEMORY of a process domain (doms_lock held shared, so
 * its memory stays): the memfd it registered, one region from gpa 0.
 * -XEN_ESRCH when there is no such domain or it has no memory yet.
 */
void pdom_foreign_memory(struct conn *k, const struct xenhv_msg *m,
                         uint32_t domid)
{
    struct control *c = k->c;
    struct xenhv_foreign_rep rep;
    struct domain *d = NULL;

    pthread_mutex_lock(&c->lock);
    for (struct vdom *v = c->pdoms; v; v = v->next)
        if (v->domid == domid)
            d = v->as_domain;
    pthread_mutex_unlock(&c->lock);
    if (!d) {
        reply(k, m, -XEN_ESRCH, NULL, 0, -1);
        return;
    }
    memset(&rep, 0, sizeof(rep));
    rep.nr_regions = 1;
    rep.region[0].size = d->ram_bytes;
    reply(k, m, 0, &rep, sizeof(rep), d->mem_fd);
}
