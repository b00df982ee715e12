/*
 * xengnttab.c — libxengnttab's mapping side over xen-hv's control socket:
 * the functions of Debian's <xengnttab.h> that map and unmap other
 * domains' grants (Xen's tools/libs/gnttab semantics).  A map asks xen-hv
 * to map each grant for domain 0 (GNTTABOP_map_grant_ref: GTF_reading and,
 * unless read-only, GTF_writing are set in the granter's entry until the
 * unmap), receives the memfd that holds the granted frame and maps it into
 * this process.  Errors: NULL / -1 with errno (EINVAL for a refused grant,
 * as gntdev's ioctl does, ENOMEM, …).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/grant_table.h>
#include <xengnttab.h>

#include "privcmd_client.h"

#define SHR_PAGES 256 /* 1 MiB of memory a process can share */
#define SHR_REFS  (4096 / sizeof(grant_entry_v1_t)) /* one frame */

struct gnt_mapping {
    uint8_t *addr;
    uint32_t count;
    uint32_t *handles;
    struct gnt_mapping *next;
};

/* One handle type for both sides, as in <xengnttab.h>. */
struct xengntdev_handle {
    struct privcmd_conn conn;
    struct gnt_mapping *maps;
    /* Sharing side (xengntshr_*): this process's domain memory. */
    uint8_t *mem;            /* SHR_PAGES pages, a memfd given to xen-hv */
    uint8_t used[SHR_PAGES]; /* pages shared */
    grant_ref_t ref_of[SHR_PAGES];
    grant_entry_v1_t *entries; /* our grant table frame */
    int next_ref;              /* refs handed out so far, from 8 */
    grant_ref_t free_refs[SHR_REFS];
    unsigned int nr_free_refs;
};

xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger,
                                 unsigned open_flags)
{
    xengnttab_handle *h = calloc(1, sizeof(*h));
    struct xenhv_hello_rep rep;
    int rc;

    (void)logger;
    (void)open_flags;
    if (!h) {
        errno = ENOMEM;
        return NULL;
    }
    rc = privcmd_open(&h->conn, &rep, NULL, 0);
    if (rc) {
        free(h);
        errno = -rc;
        return NULL;
    }
    return h;
}

static void unmap_handles(xengnttab_handle *h, const uint32_t *handles,
                          uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        struct xenhv_gnttab_unmap_req r = {.handle = handles[i]};
        struct xenhv_gnttab_unmap_rep rep;
        privcmd_call(&h->conn, XENHV_OP_GNTTAB_UNMAP, &r, sizeof(r), &rep,
                     sizeof(rep), NULL, NULL);
    }
}

int xengnttab_close(xengnttab_handle *h)
{
    if (!h)
        return 0;
    while (h->maps) {
        struct gnt_mapping *m = h->maps;
        h->maps = m->next;
        munmap(m->addr, (size_t)m->count * 4096);
        free(m->handles);
        free(m);
    }
    privcmd_disconnect(&h->conn); /* xen-hv drops what is still mapped */
    free(h);
    return 0;
}

int xengnttab_fd(xengnttab_handle *h)
{
    return h->conn.fd;
}

void *xengnttab_map_grant_refs(xengnttab_handle *h, uint32_t count,
                               uint32_t *domids, uint32_t *refs, int prot)
{
    struct gnt_mapping *m = NULL;
    uint8_t *area = MAP_FAILED;
    uint32_t done = 0;
    int err = EINVAL;

    if (count == 0 || count > 1024 || (prot & ~(PROT_READ | PROT_WRITE))) {
        errno = EINVAL;
        return NULL;
    }
    m = calloc(1, sizeof(*m));
    if (!m || !(m->handles = calloc(count, sizeof(uint32_t)))) {
        err = ENOMEM;
        goto fail;
    }
    /* One contiguous range, each page replaced by its granted frame. */
    area = mmap(NULL, (size_t)count * 4096, PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) {
        err = ENOMEM;
        goto fail;
    }
    for (; done < count; done++) {
        struct xenhv_gnttab_map_req r = {
            .domid = domids[done],
            .ref = refs[done],
            .readonly = !(prot & PROT_WRITE),
        };
        struct xenhv_gnttab_map_rep rep;
        int fd = -1;
        int rc = privcmd_call(&h->conn, XENHV_OP_GNTTAB_MAP, &r, sizeof(r),
                              &rep, sizeof(rep), NULL, &fd);
        if (rc || rep.status != GNTST_okay || fd < 0) {
            if (fd >= 0)
                close(fd);
            err = rc ? privcmd_errno(rc) : EINVAL;
            goto fail;
        }
        m->handles[done] = rep.handle;
        if (mmap(area + (size_t)done * 4096, 4096, prot, MAP_SHARED | MAP_FIXED,
                 fd, (off_t)rep.offset) == MAP_FAILED) {
            err = errno;
            close(fd);
            done++;
            goto fail;
        }
        close(fd);
    }
    m->addr = area;
    m->count = count;
    m->next = h->maps;
    h->maps = m;
    return area;

fail:
    if (m)
        unmap_handles(h, m->handles, done);
    if (area != MAP_FAILED)
        munmap(area, (size_t)count * 4096);
    if (m)
        free(m->handles);
    free(m);
    errno = err;
    return NULL;
}

void *xengnttab_map_grant_ref(xengnttab_handle *h, uint32_t domid, uint32_t ref,
                              int prot)
{
    return xengnttab_map_grant_refs(h, 1, &domid, &ref, prot);
}

void *xengnttab_map_domain_grant_refs(xengnttab_handle *h, uint32_t count,
                                      uint32_t domid, uint32_t *refs, int prot)
{
    uint32_t *domids = malloc(count * sizeof(uint32_t));
    void *p;

    if (!domids) {
        errno = ENOMEM;
        return NULL;
    }
    for (uint32_t i = 0; i < count; i++)
        domids[i] = domid;
    p = xengnttab_map_grant_refs(h, count, domids, refs, prot);
    free(domids);
    return p;
}

int xengnttab_unmap(xengnttab_handle *h, void *start, uint32_t count)
{
    for (struct gnt_mapping **pp = &h->maps; *pp; pp = &(*pp)->next) {
        struct gnt_mapping *m = *pp;
        if (m->addr != start || m->count != count)
            continue;
        munmap(m->addr, (size_t)m->count * 4096);
        unmap_handles(h, m->handles, m->count);
        *pp = m->next;
        free(m->handles);
        free(m);
        return 0;
    }
    errno = EINVAL;
    return -1;
}

int xengnttab_set_max_grants(xengnttab_handle *h, uint32_t nr_grants)
{
    (void)h;
    (void)nr_grants; /* xen-hv bounds mappings per connection (1024) */
    return 0;
}

/*
 * xengnttab_grant_copy — Xen's GNTTABOP_copy between grants and this
 * process's memory: each segment copies from a grant into seg->dest.virt
 * (GNTCOPY_source_gref) or from seg->source.virt into a grant
 * (GNTCOPY_dest_gref).  seg->status gets each GNTST_*; returns 0, or -1
 * with errno when the request itself failed.  Sent in batches of
 * XENHV_COPY_MAX_SEGS.
 */
int xengnttab_grant_copy(xengnttab_handle *h, uint32_t count,
                         xengnttab_grant_copy_segment_t *segs)
{
    uint8_t req[XENHV_MSG_MAX - sizeof(struct xenhv_msg)];
    uint8_t rep[XENHV_MSG_MAX - sizeof(struct xenhv_msg)];

    for (uint32_t base = 0; base < count; base += XENHV_COPY_MAX_SEGS) {
        uint32_t n = count - base < XENHV_COPY_MAX_SEGS ? count - base
                                                        : XENHV_COPY_MAX_SEGS;
        uint32_t off = sizeof(n) + n * sizeof(struct xenhv_copy_seg);
        uint32_t got = 0, roff;
        int rc;

        memcpy(req, &n, sizeof(n));
        for (uint32_t i = 0; i < n; i++) {
            xengnttab_grant_copy_segment_t *s = &segs[base + i];
            struct xenhv_copy_seg w = {.len = s->len, .flags = s->flags};
            if (s->flags == GNTCOPY_dest_gref) {
                w.domid = s->dest.foreign.domid;
                w.ref = s->dest.foreign.ref;
                w.offset = s->dest.foreign.offset;
                if (off + s->len > sizeof(req)) {
                    errno = E2BIG;
                    return -1;
                }
                memcpy(req + off, s->source.virt, s->len);
                off += s->len;
            } else {
                w.domid = s->source.foreign.domid;
                w.ref = s->source.foreign.ref;
                w.offset = s->source.foreign.offset;
            }
            memcpy(req + sizeof(n) + i * sizeof(w), &w, sizeof(w));
        }
        rc = privcmd_call(&h->conn, XENHV_OP_GNTTAB_COPY, req, off, rep,
                          sizeof(rep), &got, NULL);
        if (rc) {
            errno = privcmd_errno(rc);
            return -1;
        }
        if (got < n * sizeof(int16_t)) {
            errno = EPROTO;
            return -1;
        }
        roff = n * sizeof(int16_t);
        for (uint32_t i = 0; i < n; i++) {
            xengnttab_grant_copy_segment_t *s = &segs[base + i];
            int16_t st;
            memcpy(&st, rep + i * sizeof(st), sizeof(st));
            s->status = st;
            if (s->flags == GNTCOPY_source_gref && st == GNTST_okay) {
                if (roff + s->len > got) {
                    errno = EPROTO;
                    return -1;
                }
                memcpy(s->dest.virt, rep + roff, s->len);
                roff += s->len;
            }
        }
    }
    return 0;
}

/*
 * The sharing side: this process becomes (or already is) a process domain,
 * hands xen-hv SHR_PAGES pages of memory and maps its grant table frame;
 * sharing a page writes a grant entry for it, as a guest would.
 */
xengntshr_handle *xengntshr_open(struct xentoollog_logger *logger,
                                 unsigned open_flags)
{
    xengntshr_handle *h = calloc(1, sizeof(*h));
    struct xenhv_hello_rep rep;
    uint64_t bytes = SHR_PAGES * 4096;
    uint32_t frames = 1;
    int mfd = -1, gfd = -1, rc;

    (void)logger;
    (void)open_flags;
    if (!h) {
        errno = ENOMEM;
        return NULL;
    }
    h->mem = MAP_FAILED;
    h->entries = MAP_FAILED;
    rc = privcmd_open(&h->conn, &rep, NULL, 0);
    if (rc)
        goto fail;
    mfd = memfd_create("xengntshr", MFD_CLOEXEC);
    if (mfd < 0 || ftruncate(mfd, (off_t)bytes) < 0) {
        rc = -errno;
        goto fail;
    }
    h->mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    if (h->mem == MAP_FAILED) {
        rc = -errno;
        goto fail;
    }
    rc = privcmd_call_fd(&h->conn, XENHV_OP_PDOM_MEMORY, &bytes, sizeof(bytes),
                         mfd, NULL, 0, NULL, NULL);
    if (rc == 0)
        rc = privcmd_call(&h->conn, XENHV_OP_GNTTAB_FRAMES, &frames,
                          sizeof(frames), NULL, 0, NULL, &gfd);
    if (rc == 0 && gfd < 0)
        rc = -EPROTO;
    if (rc)
        goto fail;
    h->entries = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, gfd, 0);
    if (h->entries == MAP_FAILED) {
        rc = -errno;
        goto fail;
    }
    close(gfd);
    close(mfd);
    h->next_ref = 8; /* refs below 8 are the toolstack's (xenstore, console) */
    return h;
fail:
    if (gfd >= 0)
        close(gfd);
    if (mfd >= 0)
        close(mfd);
    if (h->mem != MAP_FAILED)
        munmap(h->mem, bytes);
    if (h->conn.fd >= 0)
        privcmd_disconnect(&h->conn);
    free(h);
    errno = rc < 0 ? -rc : EIO;
    return NULL;
}

int xengntshr_close(xengntshr_handle *h)
{
    if (!h)
        return 0;
    if (h->entries != MAP_FAILED)
        munmap(h->entries, 4096);
    if (h->mem != MAP_FAILED)
        munmap(h->mem, SHR_PAGES * 4096);
    privcmd_disconnect(&h->conn); /* our domain (and its grants) goes */
    free(h);
    return 0;
}

static int ref_alloc(xengntshr_handle *h)
{
    if (h->nr_free_refs)
        return (int)h->free_refs[--h->nr_free_refs];
    return h->next_ref < (int)SHR_REFS ? h->next_ref++ : -1;
}

void *xengntshr_share_pages(xengntshr_handle *h, uint32_t domid, int count,
                            uint32_t *refs, int writable)
{
    int start = -1;

    if (count <= 0 || count > SHR_PAGES) {
        errno = EINVAL;
        return NULL;
    }
    for (int i = 0; i + count <= SHR_PAGES && start < 0; i++) {
        int j = 0;
        while (j < count && !h->used[i + j])
            j++;
        if (j == count)
            start = i;
    }
    if (start < 0) {
        errno = ENOMEM;
        return NULL;
    }
    for (int i = 0; i < count; i++) {
        int ref = ref_alloc(h);
        grant_entry_v1_t *e;
        if (ref < 0) {
            xengntshr_unshare(h, h->mem + (size_t)start * 4096, (uint32_t)i);
            errno = ENOSPC;
            return NULL;
        }
        e = &h->entries[ref];
        e->domid = (domid_t)domid;
        e->frame = (uint32_t)(start + i); /* our frame number */
        __atomic_store_n(
            &e->flags,
            (uint16_t)(GTF_permit_access | (writable ? 0 : GTF_readonly)),
            __ATOMIC_RELEASE);
        h->used[start + i] = 1;
        h->ref_of[start + i] = (grant_ref_t)ref;
        refs[i] = (uint32_t)ref;
    }
    return h->mem + (size_t)start * 4096;
}

/*
 * xengntshr_unshare — revoke the grants of count pages from start.  A page
 * the grantee still maps cannot be revoked: -1 with errno EBUSY, and that
 * page (and the ones after it) stay shared.
 */
int xengntshr_unshare(xengntshr_handle *h, void *start, uint32_t count)
{
    size_t first = (size_t)((uint8_t *)start - h->mem) / 4096;

    if ((uint8_t *)start < h->mem || first + count > SHR_PAGES) {
        errno = EINVAL;
        return -1;
    }
    for (uint32_t i = 0; i < count; i++) {
        size_t pg = first + i;
        grant_entry_v1_t *e = &h->entries[h->ref_of[pg]];
        uint16_t flags;
        if (!h->used[pg])
            continue;
        flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
        do {
            if (flags & (GTF_reading | GTF_writing)) {
                errno = EBUSY;
                return -1;
            }
        } while (!__atomic_compare_exchange_n(
            &e->flags, &flags, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
        h->used[pg] = 0;
        h->free_refs[h->nr_free_refs++] = h->ref_of[pg];
    }
    return 0;
}
