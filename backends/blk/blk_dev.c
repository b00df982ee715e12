/*
 * blk_dev.c — blkback's data path (<xen/io/blkif.h>, <xen/io/ring.h>).
 *
 * Each queue of a connection has its own back ring, event channel handle
 * and io_uring.  An event from the frontend takes every request on the
 * ring (each copied once out of the shared page, then validated), queues
 * one SQE per request (two for a barrier with data) and submits them
 * every cfg.submit_batch SQEs (default 4) and at the end of the batch.
 * Completions arrive on an eventfd; their responses are pushed together
 * and the frontend is notified once, only when it asked
 * (RING_PUSH_RESPONSES_AND_CHECK_NOTIFY).
 *
 * Grants: with feature-persistent the frontend reuses its grants, so each
 * is mapped once (xengnttab_map_domain_grant_refs, read-write) and kept in
 * a per-connection cache until disconnect; I/O goes straight to and from
 * those pages.  Without it every mapping would be one control-socket round
 * trip per request, so data goes through a bounce buffer and one
 * xengnttab_grant_copy per request (measured: tests/bench/blk).  Indirect
 * segment pages are always copied once with grant_copy and validated from
 * the copy.  xen-hv checks every grant, so no page is touched that the
 * frontend did not grant.
 *
 * Durability: FLUSH_DISKCACHE and WRITE_BARRIER are an IORING_OP_FSYNC
 * (datasync) with IOSQE_IO_DRAIN: it starts after every request submitted
 * before it completed, so by its answer each earlier acknowledged write is
 * durable.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>
#include <xenevtchn.h>
#include <xengnttab.h>

/* ring.h leaves the barriers to its user (interface version >= 3.2.8). */
#ifndef xen_mb
#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif
#include <xen/io/blkif.h>
#include <xen/io/ring.h>

#include "blk_dev.h"
#include "blk_log.h"

#define PAGE_BYTES     4096u
#define SECT_BYTES     512u
#define SECTS_PER_PAGE (PAGE_BYTES / SECT_BYTES)
#define SEGS_PER_IPAGE (PAGE_BYTES / sizeof(struct blkif_request_segment))
#define PGNT_SLOTS     2048u /* persistent-grant hash slots */
#define PGNT_MAX       896u  /* xen-hv: 1024 maps a handle, rings use <= 64 */
#define PGNT_WIN_REFS  65536u /* refs placed by number (256 MiB reserved) */
#define TAG_XFER       1u    /* user_data bit: this SQE moves r->len bytes */

struct blk_queue;

/* One request in flight: what was copied out of the ring, and its I/O. */
struct blk_req {
    struct blk_queue *q;
    uint64_t id;
    uint8_t op;    /* echoed in the response */
    uint8_t io_op; /* READ, WRITE, BARRIER, FLUSH, DISCARD */
    bool copy;     /* data through bounce and grant_copy */
    int16_t status;
    unsigned int nsegs;
    unsigned int pending; /* SQEs not completed yet */
    size_t len;           /* bytes to move */
    uint64_t offset;      /* bytes into the disk */
    uint8_t *bounce;
    struct blk_req *next_busy, *prev_busy;
    struct blkif_request_segment segs[BLK_MAX_INDIRECT_SEGS];
    struct iovec iov[BLK_MAX_INDIRECT_SEGS];
    unsigned int niov; /* iov entries used: segments, or fewer merged */
};

struct blk_queue {
    struct blk_conn *conn;
    unsigned int idx;
    xenevtchn_handle *xce;
    evtchn_port_t lport;
    struct event *ev_evtchn, *ev_uring;
    void *ring;
    unsigned int ring_pages;
    blkif_back_ring_t br;
    struct io_uring uring;
    bool uring_ok;
    int efd;
    struct blk_req *reqs; /* RING_SIZE slots */
    unsigned int *free_slots, nr_free;
    struct blk_req *busy; /* requests in flight (duplicate-id check) */
    unsigned int inflight;
    bool stopping;
};

struct pgnt {
    grant_ref_t ref;
    uint8_t *page; /* NULL: empty slot */
};

struct pgnt_area {
    void *addr;
    uint32_t count;
};

struct blk_conn {
    struct event_base *base;
    struct blk_disk *disk;
    struct blk_conn_cfg cfg;
    char name[64];
    xengnttab_handle *xgt;
    struct blk_queue q[BLK_MAX_QUEUES];
    unsigned int nr_queues;
    bool dead; /* protocol broken: serve nothing more */
    struct event *ev_fatal;
    void (*on_fatal)(void *arg);
    void *fatal_arg;
    struct pgnt *pgnt; /* PGNT_SLOTS, open addressing */
    unsigned int nr_pgnt;
    struct pgnt_area *areas;
    unsigned int nr_areas, max_areas;
    /* Persistent grants with refs below PGNT_WIN_REFS live at win + ref
     * pages (see pgnt_place); the rest of it is PROT_NONE.  NULL: none. */
    uint8_t *win;
    struct blk_conn_stats st;
};

/* ---- disks ---- */

int blk_disk_open(struct blk_disk *disk, const char *path, bool readonly,
                  bool direct)
{
    int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    uint64_t bytes = 0;
    struct stat sb;
    int fd = -1, rc = 0, lsz = 512;
    unsigned int psz = 512;

    memset(disk, 0, sizeof(*disk));
    disk->fd = -1;
    fd = open(path, flags | (direct ? O_DIRECT : 0));
    if (fd < 0 && direct && errno == EINVAL) {
        /* The file system has no O_DIRECT (old tmpfs): buffered. */
        blk_log("%s: no O_DIRECT here, buffered I/O", path);
        direct = false;
        fd = open(path, flags);
    }
    if (fd < 0 || fstat(fd, &sb) < 0) {
        rc = -errno;
        goto out;
    }
    if (S_ISBLK(sb.st_mode)) {
        if (ioctl(fd, BLKGETSIZE64, &bytes) < 0 ||
            ioctl(fd, BLKSSZGET, &lsz) < 0 || ioctl(fd, BLKPBSZGET, &psz) < 0) {
            rc = -errno;
            goto out;
        }
        disk->discard = !readonly;
    } else if (S_ISREG(sb.st_mode)) {
        bytes = (uint64_t)sb.st_size;
        psz = sb.st_blksize >= 512 && sb.st_blksize <= 65536
                  ? (unsigned int)sb.st_blksize
                  : 512;
        /* Punching past the end changes nothing and says if it works. */
        disk->discard =
            !readonly &&
            fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                      (off_t)((bytes + PAGE_BYTES) & ~4095ull),
                      PAGE_BYTES) == 0;
    } else {
        rc = -EINVAL;
        goto out;
    }
    if (bytes < SECT_BYTES || lsz < 512 || (lsz & (lsz - 1))) {
        rc = -EINVAL;
        goto out;
    }
    disk->fd = fd;
    fd = -1;
    disk->sectors = bytes / SECT_BYTES;
    disk->sector_size = (uint32_t)lsz;
    disk->phys_sector_size = psz < (unsigned int)lsz ? (uint32_t)lsz : psz;
    disk->readonly = readonly;
    disk->direct = direct;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

void blk_disk_close(struct blk_disk *disk)
{
    if (disk->fd >= 0)
        close(disk->fd);
    disk->fd = -1;
}

/* ---- persistent grants ---- */

static struct pgnt *pgnt_slot(struct blk_conn *c, grant_ref_t ref)
{
    unsigned int i = (ref * 2654435761u) % PGNT_SLOTS;

    while (c->pgnt[i].page && c->pgnt[i].ref != ref)
        i = (i + 1) % PGNT_SLOTS;
    return &c->pgnt[i];
}

/*
 * Move the mapping of grant ref (one page at `at`, in an area xengnttab
 * mapped) to its place in c->win, page number ref: grants with
 * consecutive refs are then consecutive in memory, whatever order they
 * were first used in, and a request over them becomes one iovec (the
 * kernel pins an O_DIRECT transfer iovec by iovec; frontends tend to take
 * their grant refs in a row).  The page's old place is reserved again
 * (PROT_NONE), so xengnttab_unmap of the area later unmaps nothing that
 * is not ours.  Returns where the page is now: `at` when it stays.
 */
static uint8_t *pgnt_place(struct blk_conn *c, grant_ref_t ref, uint8_t *at)
{
    uint8_t *slot;

    if (!c->win || ref >= PGNT_WIN_REFS)
        return at;
    slot = c->win + (size_t)ref * PAGE_BYTES;
    if (mremap(at, PAGE_BYTES, PAGE_BYTES, MREMAP_MAYMOVE | MREMAP_FIXED,
               slot) == MAP_FAILED)
        return at;
    if (mmap(at, PAGE_BYTES, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1,
             0) == MAP_FAILED) {
        /* The hole cannot be kept: put the page back where it was. */
        if (mremap(slot, PAGE_BYTES, PAGE_BYTES,
                   MREMAP_MAYMOVE | MREMAP_FIXED, at) != MAP_FAILED)
            return at;
        blk_log("%s: grant %u: cannot keep its mapping's place", c->name,
                ref);
    }
    return slot;
}

/*
 * Fill pages[i] with the mapping of refs[i] (n of them), mapping the ones
 * not cached yet in one call.  0; -ENOSPC when the cache is full (the
 * caller copies instead); -EINVAL when a grant was refused.
 */
static int pgnt_get(struct blk_conn *c, const grant_ref_t *refs, unsigned int n,
                    uint8_t **pages)
{
    uint32_t missing[BLK_MAX_INDIRECT_SEGS];
    unsigned int nm = 0, i, j;
    uint8_t *area;

    for (i = 0; i < n; i++) {
        struct pgnt *p = pgnt_slot(c, refs[i]);
        pages[i] = p->page;
        if (p->page)
            continue;
        for (j = 0; j < nm && missing[j] != refs[i]; j++)
            ;
        if (j == nm)
            missing[nm++] = refs[i];
    }
    if (!nm)
        return 0;
    if (c->nr_pgnt + nm > PGNT_MAX)
        return -ENOSPC;
    if (c->nr_areas == c->max_areas) {
        unsigned int m = c->max_areas ? c->max_areas * 2 : 64;
        struct pgnt_area *a = realloc(c->areas, m * sizeof(*a));
        if (!a)
            return -ENOSPC;
        c->areas = a;
        c->max_areas = m;
    }
    area = xengnttab_map_domain_grant_refs(c->xgt, nm, c->cfg.fe_domid, missing,
                                           PROT_READ | PROT_WRITE);
    if (!area)
        return -EINVAL;
    c->areas[c->nr_areas++] = (struct pgnt_area){area, nm};
    for (j = 0; j < nm; j++) {
        struct pgnt *p = pgnt_slot(c, missing[j]);
        p->ref = missing[j];
        p->page = pgnt_place(c, missing[j], area + (size_t)j * PAGE_BYTES);
    }
    c->nr_pgnt += nm;
    c->st.pgrants += nm;
    for (i = 0; i < n; i++)
        pages[i] = pgnt_slot(c, refs[i])->page;
    return 0;
}

/* ---- responses ---- */

static void queue_fatal(struct blk_queue *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void queue_fatal(struct blk_queue *q, const char *fmt, ...)
{
    struct blk_conn *c = q->conn;
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->dead)
        return;
    blk_log("%s queue %u: %s: disconnecting", c->name, q->idx, msg);
    c->dead = true;
    event_active(c->ev_fatal, EV_TIMEOUT, 0);
}

static void slot_put(struct blk_queue *q, struct blk_req *r)
{
    if (r->prev_busy)
        r->prev_busy->next_busy = r->next_busy;
    else
        q->busy = r->next_busy;
    if (r->next_busy)
        r->next_busy->prev_busy = r->prev_busy;
    free(r->bounce);
    r->bounce = NULL;
    q->inflight--;
    q->free_slots[q->nr_free++] = (unsigned int)(r - q->reqs);
}

static struct blk_req *slot_get(struct blk_queue *q)
{
    struct blk_req *r;

    if (!q->nr_free)
        return NULL;
    r = &q->reqs[q->free_slots[--q->nr_free]];
    r->q = q;
    r->bounce = NULL;
    r->prev_busy = NULL;
    r->next_busy = q->busy;
    if (q->busy)
        q->busy->prev_busy = r;
    q->busy = r;
    q->inflight++;
    return r;
}

/* Answer r on the ring (pushed later, by queue_push) and free its slot. */
static void req_respond(struct blk_req *r, int16_t status)
{
    struct blk_queue *q = r->q;
    blkif_response_t *rsp;

    if (status != BLKIF_RSP_OKAY)
        q->conn->st.errors++;
    if (!q->conn->dead) {
        rsp = RING_GET_RESPONSE(&q->br, q->br.rsp_prod_pvt);
        rsp->id = r->id;
        rsp->operation = r->op;
        rsp->status = status;
        q->br.rsp_prod_pvt++;
    }
    slot_put(q, r);
}

/* Publish the responses written so far; notify only if asked. */
static void queue_push(struct blk_queue *q)
{
    int notify;

    if (q->conn->dead)
        return;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->br, notify);
    if (notify) {
        xenevtchn_notify(q->xce, q->lport);
        q->conn->st.notify_out++;
    }
}

/* ---- requests ---- */

/* Copy n bytes of indirect segment pages into r->segs, once. */
static int req_copy_indirect(struct blk_req *r, const grant_ref_t *grefs,
                             unsigned int nsegs)
{
    struct blk_conn *c = r->q->conn;
    xengnttab_grant_copy_segment_t cs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    size_t left = nsegs * sizeof(struct blkif_request_segment);
    unsigned int n = 0,
                 npages = (unsigned int)((left + PAGE_BYTES - 1) / PAGE_BYTES);
    uint8_t *pages[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    int rc;

    /* Persistent frontends grant their indirect pages persistently too:
     * read them through the cached mapping (no round trip to xen-hv). */
    rc = c->cfg.persistent ? pgnt_get(c, grefs, npages, pages) : -ENOSPC;
    if (rc == -EINVAL)
        return rc;
    if (rc == 0) {
        for (unsigned int i = 0; i < npages; i++, left -= PAGE_BYTES)
            memcpy((uint8_t *)r->segs + (size_t)i * PAGE_BYTES, pages[i],
                   left < PAGE_BYTES ? left : PAGE_BYTES);
        return 0;
    }
    while (left) {
        size_t len = left < PAGE_BYTES ? left : PAGE_BYTES;
        memset(&cs[n], 0, sizeof(cs[n]));
        cs[n].source.foreign.ref = grefs[n];
        cs[n].source.foreign.domid = (uint16_t)c->cfg.fe_domid;
        cs[n].dest.virt = (uint8_t *)r->segs + (size_t)n * PAGE_BYTES;
        cs[n].len = (uint16_t)len;
        cs[n].flags = GNTCOPY_source_gref;
        left -= len;
        n++;
    }
    if (xengnttab_grant_copy(c->xgt, n, cs) != 0)
        return -EINVAL;
    for (unsigned int i = 0; i < n; i++)
        if (cs[i].status != GNTST_okay)
            return -EINVAL;
    return 0;
}

/* grant_copy between r's bounce buffer and its grants (to_grants: read). */
static int req_copy_data(struct blk_req *r, bool to_grants)
{
    struct blk_conn *c = r->q->conn;
    xengnttab_grant_copy_segment_t *cs;
    int rc = 0;

    cs = calloc(r->nsegs, sizeof(*cs));
    if (!cs)
        return -ENOMEM;
    for (unsigned int i = 0; i < r->nsegs; i++) {
        const struct blkif_request_segment *s = &r->segs[i];
        xengnttab_grant_copy_segment_t *x = &cs[i];
        uint16_t off = (uint16_t)(s->first_sect * SECT_BYTES);

        x->len = (uint16_t)r->iov[i].iov_len;
        if (to_grants) {
            x->source.virt = r->iov[i].iov_base;
            x->dest.foreign.ref = s->gref;
            x->dest.foreign.offset = off;
            x->dest.foreign.domid = (uint16_t)c->cfg.fe_domid;
            x->flags = GNTCOPY_dest_gref;
        } else {
            x->dest.virt = r->iov[i].iov_base;
            x->source.foreign.ref = s->gref;
            x->source.foreign.offset = off;
            x->source.foreign.domid = (uint16_t)c->cfg.fe_domid;
            x->flags = GNTCOPY_source_gref;
        }
    }
    if (xengnttab_grant_copy(c->xgt, r->nsegs, cs) != 0)
        rc = -EINVAL;
    for (unsigned int i = 0; i < r->nsegs && !rc; i++)
        if (cs[i].status != GNTST_okay)
            rc = -EINVAL;
    free(cs);
    return rc;
}

/* Check r's segments against blkif's rules and the disk; set len/iov. */
static int req_check_segs(struct blk_req *r, uint64_t sector)
{
    struct blk_disk *d = r->q->conn->disk;
    uint64_t sects = 0;

    for (unsigned int i = 0; i < r->nsegs; i++) {
        const struct blkif_request_segment *s = &r->segs[i];
        if (s->first_sect > s->last_sect || s->last_sect >= SECTS_PER_PAGE)
            return -EINVAL;
        r->iov[i].iov_len =
            (size_t)(s->last_sect - s->first_sect + 1) * SECT_BYTES;
        sects += s->last_sect - s->first_sect + 1u;
    }
    if (sector > d->sectors || sects > d->sectors - sector)
        return -EINVAL;
    r->len = sects * SECT_BYTES;
    r->offset = sector * SECT_BYTES;
    return 0;
}

/* Point r->iov at the data: persistent mappings, else a bounce buffer. */
static int req_buffers(struct blk_req *r)
{
    struct blk_conn *c = r->q->conn;
    uint8_t *pages[BLK_MAX_INDIRECT_SEGS];
    grant_ref_t refs[BLK_MAX_INDIRECT_SEGS];
    int rc = -ENOSPC;

    if (c->cfg.persistent) {
        for (unsigned int i = 0; i < r->nsegs; i++)
            refs[i] = r->segs[i].gref;
        rc = pgnt_get(c, refs, r->nsegs, pages);
        if (rc == -EINVAL)
            return rc;
    }
    if (rc == 0) {
        unsigned int n = 0;

        /* Segments whose mappings touch become one iovec: the kernel
         * pins each iovec's pages in one go, so a 1 MiB request whose
         * grants were mapped together costs a few pins, not 256. */
        for (unsigned int i = 0; i < r->nsegs; i++) {
            uint8_t *base = pages[i] + r->segs[i].first_sect * SECT_BYTES;
            size_t len = r->iov[i].iov_len;

            if (n &&
                (uint8_t *)r->iov[n - 1].iov_base + r->iov[n - 1].iov_len ==
                    base)
                r->iov[n - 1].iov_len += len;
            else
                r->iov[n++] = (struct iovec){base, len};
        }
        r->niov = n;
        r->copy = false;
        return 0;
    }
    r->copy = true;
    r->niov = r->nsegs;
    r->bounce = aligned_alloc(PAGE_BYTES, (size_t)r->nsegs * PAGE_BYTES);
    if (!r->bounce)
        return -ENOMEM;
    for (unsigned int i = 0; i < r->nsegs; i++)
        r->iov[i].iov_base = r->bounce + (size_t)i * PAGE_BYTES;
    if (r->io_op != BLKIF_OP_READ)
        return req_copy_data(r, false);
    return 0;
}

static struct io_uring_sqe *queue_sqe(struct blk_queue *q)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&q->uring);

    if (!sqe) {
        /* More SQEs than the ring holds in one batch: submit early. */
        io_uring_submit(&q->uring);
        q->conn->st.submits++;
        sqe = io_uring_get_sqe(&q->uring);
    }
    return sqe;
}

/*
 * Validate the request copied into req and queue its SQEs; a request that
 * breaks a rule is answered at once.  Returns nothing: every outcome is a
 * response.
 */
static void req_start(struct blk_queue *q, struct blk_req *r,
                      const blkif_request_t *req)
{
    struct blk_disk *d = q->conn->disk;
    struct io_uring_sqe *sqe, *sqe2;
    int16_t status = BLKIF_RSP_ERROR;
    uint64_t sector = req->sector_number;

    r->id = req->id;
    r->op = req->operation;
    r->io_op = req->operation;
    r->nsegs = 0;
    r->niov = 0;
    r->pending = 0;
    r->copy = false;
    r->status = BLKIF_RSP_OKAY;
    for (struct blk_req *o = q->busy; o; o = o->next_busy)
        if (o != r && o->id == r->id) {
            blk_log("%s: duplicate request id %#llx", q->conn->name,
                    (unsigned long long)r->id);
            goto fail;
        }
    switch (req->operation) {
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
    case BLKIF_OP_WRITE_BARRIER:
        r->nsegs = req->nr_segments;
        if (r->nsegs > BLKIF_MAX_SEGMENTS_PER_REQUEST ||
            (r->nsegs == 0 && req->operation != BLKIF_OP_WRITE_BARRIER))
            goto fail;
        memcpy(r->segs, req->seg, r->nsegs * sizeof(r->segs[0]));
        break;
    case BLKIF_OP_INDIRECT: {
        const blkif_request_indirect_t *ind = (const void *)req;
        r->io_op = ind->indirect_op;
        r->nsegs = ind->nr_segments;
        sector = ind->sector_number;
        if (r->io_op != BLKIF_OP_READ && r->io_op != BLKIF_OP_WRITE)
            goto fail;
        /* The response names the operation done, READ or WRITE, not
         * INDIRECT: Linux's blkfront (blkif_interrupt) disables the
         * device on any other, and Linux's blkback answers so. */
        r->op = r->io_op;
        if (r->nsegs == 0 || r->nsegs > BLK_MAX_INDIRECT_SEGS)
            goto fail;
        if (req_copy_indirect(r, ind->indirect_grefs, r->nsegs))
            goto fail;
        break;
    }
    case BLKIF_OP_FLUSH_DISKCACHE:
        break;
    case BLKIF_OP_DISCARD: {
        const blkif_request_discard_t *dis = (const void *)req;
        uint64_t gran = BLK_DISCARD_GRANULARITY / SECT_BYTES;
        if (!d->discard) {
            status = BLKIF_RSP_EOPNOTSUPP;
            goto fail;
        }
        if (d->readonly || dis->sector_number % gran ||
            dis->nr_sectors % gran || dis->nr_sectors == 0 ||
            dis->sector_number > d->sectors ||
            dis->nr_sectors > d->sectors - dis->sector_number)
            goto fail;
        r->offset = dis->sector_number * SECT_BYTES;
        r->len = dis->nr_sectors * SECT_BYTES;
        break;
    }
    default:
        status = BLKIF_RSP_EOPNOTSUPP;
        goto fail;
    }
    if (d->readonly && r->io_op != BLKIF_OP_READ &&
        r->io_op != BLKIF_OP_FLUSH_DISKCACHE)
        goto fail;
    if (r->nsegs && (req_check_segs(r, sector) || req_buffers(r)))
        goto fail;

    sqe = queue_sqe(q);
    if (!sqe)
        goto fail;
    q->conn->st.iovecs += r->niov;
    switch (r->io_op) {
    case BLKIF_OP_READ:
        io_uring_prep_readv(sqe, d->fd, r->iov, r->niov, r->offset);
        io_uring_sqe_set_data(sqe, (void *)((uintptr_t)r | TAG_XFER));
        break;
    case BLKIF_OP_WRITE:
        io_uring_prep_writev(sqe, d->fd, r->iov, r->niov, r->offset);
        io_uring_sqe_set_data(sqe, (void *)((uintptr_t)r | TAG_XFER));
        break;
    case BLKIF_OP_DISCARD:
        io_uring_prep_fallocate(sqe, d->fd,
                                FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                r->offset, r->len);
        io_uring_sqe_set_data(sqe, r);
        break;
    case BLKIF_OP_WRITE_BARRIER:
        if (r->nsegs) {
            /* Data first, after everything before; then the sync. */
            io_uring_prep_writev(sqe, d->fd, r->iov, r->niov, r->offset);
            io_uring_sqe_set_data(sqe, (void *)((uintptr_t)r | TAG_XFER));
            sqe->flags |= IOSQE_IO_DRAIN | IOSQE_IO_LINK;
            r->pending++;
            sqe2 = queue_sqe(q);
            if (!sqe2) {
                /* The write is queued: let its completion answer. */
                r->status = BLKIF_RSP_ERROR;
                return;
            }
            sqe = sqe2;
        }
        /* fall through */
    case BLKIF_OP_FLUSH_DISKCACHE:
        io_uring_prep_fsync(sqe, d->fd, IORING_FSYNC_DATASYNC);
        io_uring_sqe_set_data(sqe, r);
        sqe->flags |= IOSQE_IO_DRAIN;
        break;
    }
    r->pending++;
    return;
fail:
    req_respond(r, status);
}

/* Take every request the frontend has published (copy, then validate). */
static void queue_take(struct blk_queue *q)
{
    blkif_back_ring_t *br = &q->br;
    int more = 0;

    if (q->conn->dead || q->stopping)
        return;
    do {
        RING_IDX rp = br->sring->req_prod;
        xen_rmb(); /* the requests before the index that covers them */
        if (rp - br->req_cons > RING_SIZE(br)) {
            queue_fatal(q, "req_prod %u is out of range (req_cons %u)", rp,
                        br->req_cons);
            return;
        }
        while (br->req_cons != rp &&
               !RING_REQUEST_CONS_OVERFLOW(br, br->req_cons)) {
            struct blk_req *r = slot_get(q);
            blkif_request_t req;
            if (!r)
                break;
            RING_COPY_REQUEST(br, br->req_cons, &req);
            br->req_cons++;
            q->conn->st.requests++;
            req_start(q, r, &req);
            /* Start the disk on the first requests of a long batch. */
            if (q->conn->cfg.submit_batch &&
                io_uring_sq_ready(&q->uring) >= q->conn->cfg.submit_batch) {
                io_uring_submit(&q->uring);
                q->conn->st.submits++;
            }
        }
        if (br->req_cons != rp)
            break; /* no room: completions call us again */
        RING_FINAL_CHECK_FOR_REQUESTS(br, more);
    } while (more);
    if (io_uring_sq_ready(&q->uring)) {
        io_uring_submit(&q->uring);
        q->conn->st.submits++;
    }
    queue_push(q);
}

/* A request whose SQEs all completed: copy out (read), then answer. */
static void req_done(struct blk_req *r)
{
    if (r->status == BLKIF_RSP_OKAY && r->copy && r->io_op == BLKIF_OP_READ &&
        req_copy_data(r, true))
        r->status = BLKIF_RSP_ERROR;
    req_respond(r, r->status);
}

static void queue_reap(struct blk_queue *q)
{
    struct io_uring_cqe *cqe;
    unsigned int head, n = 0;

    io_uring_for_each_cqe(&q->uring, head, cqe)
    {
        uintptr_t tag = (uintptr_t)io_uring_cqe_get_data(cqe);
        struct blk_req *r = (struct blk_req *)(tag & ~(uintptr_t)TAG_XFER);

        n++;
        if (cqe->res < 0) {
            r->status = cqe->res == -EOPNOTSUPP ? BLKIF_RSP_EOPNOTSUPP
                                                : BLKIF_RSP_ERROR;
            if (cqe->res != -ECANCELED)
                blk_log("%s: I/O op %u at %llu: %s", r->q->conn->name, r->io_op,
                        (unsigned long long)r->offset, strerror(-cqe->res));
        } else if ((tag & TAG_XFER) && (size_t)cqe->res != r->len) {
            r->status = BLKIF_RSP_ERROR; /* short transfer */
        }
        if (--r->pending == 0)
            req_done(r);
    }
    io_uring_cq_advance(&q->uring, n);
}

static void on_uring(evutil_socket_t fd, short what, void *arg)
{
    struct blk_queue *q = arg;
    uint64_t v;

    (void)what;
    if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        return;
    queue_reap(q);
    queue_push(q);
    queue_take(q); /* slots freed: requests may be waiting */
}

static void on_evtchn(evutil_socket_t fd, short what, void *arg)
{
    struct blk_queue *q = arg;
    xenevtchn_port_or_error_t p;

    (void)fd;
    (void)what;
    p = xenevtchn_pending(q->xce);
    if (p < 0)
        return;
    q->conn->st.notify_in++;
    /* The requests first: the unmask is a round trip to xen-hv, and
     * whatever arrives meanwhile is seen by the second look. */
    queue_take(q);
    xenevtchn_unmask(q->xce, (evtchn_port_t)p);
    queue_take(q);
}

static void on_fatal(evutil_socket_t fd, short what, void *arg)
{
    struct blk_conn *c = arg;

    (void)fd;
    (void)what;
    if (c->on_fatal)
        c->on_fatal(c->fatal_arg);
}

/* ---- connections ---- */

static int queue_start(struct blk_conn *c, struct blk_queue *q,
                       unsigned int idx)
{
    size_t ring_bytes;
    unsigned int n, entries;
    xenevtchn_port_or_error_t lp;

    q->conn = c;
    q->idx = idx;
    q->efd = -1;
    q->ring_pages = 1u << c->cfg.ring_order;
    ring_bytes = (size_t)q->ring_pages * PAGE_BYTES;
    q->ring = xengnttab_map_domain_grant_refs(
        c->xgt, q->ring_pages, c->cfg.fe_domid, c->cfg.ring_refs[idx],
        PROT_READ | PROT_WRITE);
    if (!q->ring) {
        blk_log("%s: queue %u: ring grant refused", c->name, idx);
        return -EINVAL;
    }
    BACK_RING_INIT(&q->br, (blkif_sring_t *)q->ring, ring_bytes);
    n = RING_SIZE(&q->br);
    q->reqs = calloc(n, sizeof(*q->reqs));
    q->free_slots = calloc(n, sizeof(*q->free_slots));
    if (!q->reqs || !q->free_slots)
        return -ENOMEM;
    for (unsigned int i = 0; i < n; i++)
        q->free_slots[q->nr_free++] = n - 1 - i;
    entries = 2 * n < 4096 ? 2 * n : 4096;
    if (io_uring_queue_init(entries, &q->uring, 0) < 0)
        return -ENOMEM;
    q->uring_ok = true;
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd < 0 || io_uring_register_eventfd(&q->uring, q->efd) < 0)
        return -errno ? -errno : -EIO;
    q->xce = xenevtchn_open(NULL, 0);
    if (!q->xce)
        return -errno;
    lp = xenevtchn_bind_interdomain(q->xce, c->cfg.fe_domid, c->cfg.ports[idx]);
    if (lp < 0) {
        blk_log("%s: queue %u: cannot bind port %u of domain %u: %s", c->name,
                idx, c->cfg.ports[idx], c->cfg.fe_domid, strerror(errno));
        return -errno;
    }
    q->lport = (evtchn_port_t)lp;
    q->ev_evtchn = event_new(c->base, xenevtchn_fd(q->xce),
                             EV_READ | EV_PERSIST, on_evtchn, q);
    q->ev_uring = event_new(c->base, q->efd, EV_READ | EV_PERSIST, on_uring, q);
    if (!q->ev_evtchn || !q->ev_uring || event_add(q->ev_evtchn, NULL) ||
        event_add(q->ev_uring, NULL))
        return -ENOMEM;
    return 0;
}

/* Let the I/O in flight finish (~5 s at most), then free the queue. */
static void queue_stop(struct blk_queue *q)
{
    struct blk_conn *c = q->conn;

    q->stopping = true;
    if (q->ev_evtchn)
        event_free(q->ev_evtchn);
    if (q->ev_uring)
        event_free(q->ev_uring);
    for (int i = 0; q->uring_ok && q->inflight && i < 500; i++) {
        struct __kernel_timespec ts = {.tv_nsec = 10 * 1000 * 1000};
        struct io_uring_cqe *cqe;
        if (io_uring_wait_cqe_timeout(&q->uring, &cqe, &ts) == 0)
            queue_reap(q);
    }
    if (q->inflight)
        blk_log("%s: queue %u: %u requests still in flight at stop", c->name,
                q->idx, q->inflight);
    if (q->ring) /* a queue that failed to start has no ring */
        queue_push(q);
    if (q->uring_ok)
        io_uring_queue_exit(&q->uring);
    if (q->efd >= 0)
        close(q->efd);
    if (q->xce) {
        if (q->lport)
            xenevtchn_unbind(q->xce, q->lport);
        xenevtchn_close(q->xce);
    }
    if (q->ring)
        xengnttab_unmap(c->xgt, q->ring, q->ring_pages);
    /* Requests still in flight keep their slots: do not free them then. */
    if (!q->inflight) {
        free(q->reqs);
        free(q->free_slots);
    }
}

struct blk_conn *blk_conn_start(struct event_base *base, struct blk_disk *disk,
                                const struct blk_conn_cfg *cfg,
                                void (*fatal_cb)(void *arg), void *arg,
                                int *err)
{
    struct blk_conn *c = NULL;
    int rc = 0;

    if (cfg->nr_queues < 1 || cfg->nr_queues > BLK_MAX_QUEUES ||
        cfg->ring_order > BLK_MAX_RING_ORDER) {
        rc = -EINVAL;
        goto out;
    }
    c = calloc(1, sizeof(*c));
    if (!c || !(c->pgnt = calloc(PGNT_SLOTS, sizeof(*c->pgnt)))) {
        rc = -ENOMEM;
        goto out;
    }
    c->base = base;
    c->disk = disk;
    c->cfg = *cfg;
    snprintf(c->name, sizeof(c->name), "%s", cfg->name ? cfg->name : "vbd");
    c->cfg.name = c->name;
    c->on_fatal = fatal_cb;
    c->fatal_arg = arg;
    c->ev_fatal = event_new(base, -1, 0, on_fatal, c);
    c->xgt = xengnttab_open(NULL, 0);
    if (cfg->persistent) {
        /* Address space only; without it grants stay where mapped. */
        c->win = mmap(NULL, (size_t)PGNT_WIN_REFS * PAGE_BYTES, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (c->win == MAP_FAILED)
            c->win = NULL;
    }
    if (!c->ev_fatal || !c->xgt) {
        rc = -ENOMEM;
        goto out;
    }
    for (unsigned int i = 0; i < cfg->nr_queues; i++) {
        c->nr_queues = i + 1;
        rc = queue_start(c, &c->q[i], i);
        if (rc)
            goto out;
    }
    /* Requests the frontend queued before we bound the port. */
    for (unsigned int i = 0; i < c->nr_queues; i++)
        queue_take(&c->q[i]);
out:
    if (rc && c) {
        blk_conn_stop(c);
        c = NULL;
    }
    *err = rc;
    return c;
}

void blk_conn_stop(struct blk_conn *c)
{
    if (!c)
        return;
    for (unsigned int i = 0; i < c->nr_queues; i++)
        queue_stop(&c->q[i]);
    /* Our view of the placed grants goes first, then the grants. */
    if (c->win)
        munmap(c->win, (size_t)PGNT_WIN_REFS * PAGE_BYTES);
    for (unsigned int i = 0; c->xgt && i < c->nr_areas; i++)
        xengnttab_unmap(c->xgt, c->areas[i].addr, c->areas[i].count);
    if (c->xgt)
        xengnttab_close(c->xgt);
    if (c->ev_fatal)
        event_free(c->ev_fatal);
    free(c->areas);
    free(c->pgnt);
    free(c);
}

void blk_conn_get_stats(const struct blk_conn *c, struct blk_conn_stats *out)
{
    *out = c->st;
}
