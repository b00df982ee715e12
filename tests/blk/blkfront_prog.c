/*
 * blkfront_prog.c — the program frontend (see blkfront_prog.h): the
 * frontend half of <xen/io/blkif.h> in a process domain.  Its memory is
 * the 1 MiB xengntshr gives a process; grants go to the backend domain
 * (backend-id).  With feature-persistent a pool of pages is granted once
 * and reused, as blkif.h's "feature-persistent" describes; without it
 * each request's pages are granted for it and revoked after its answer.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "blkfront_prog.h"
#include "privcmd_client.h"

#define PAGE_BYTES      4096u
#define MAX_QUEUES      4
#define MAX_ORDER       4
#define MAX_SEGS        256
#define MAX_POOL        200
#define ALIAS_IND_PAGES 8 /* alias mode: indirect pages kept apart */

struct bfp_queue {
    uint8_t *ring;
    uint32_t ring_refs[1u << MAX_ORDER];
    evtchn_port_t port;
    blkif_front_ring_t fr;
};

/* A request in flight; its ring id is its index. */
struct bfp_slot {
    bool used;
    struct bfp_io *io;
    unsigned int npages;
    uint8_t *pages[MAX_SEGS + 1]; /* data, then the indirect page */
    uint32_t refs[MAX_SEGS + 1];
    uint16_t pool_idx[MAX_SEGS + 1];
    uint8_t *shared; /* non-persistent: the pages shared for it */
    unsigned int nshared;
    blkif_request_t req; /* as put on the ring (resubmitted on reconnect) */
};

struct bfp {
    struct xs_handle *xs;
    uint32_t devid, be_domid;
    int domid;
    char fe_path[96], be_path[128];
    struct bfp_opts opts;
    xengntshr_handle *shr;
    xenevtchn_handle *xce;
    struct bfp_queue q[MAX_QUEUES];
    unsigned int nq;
    bool connected;
    /* persistent pool */
    uint8_t *pool;
    uint32_t pool_refs[MAX_POOL];
    uint16_t pool_free[MAX_POOL];
    unsigned int pool_n, pool_nfree;
    struct bfp_slot *slots;
    unsigned int nslots, inflight;
    uint64_t sectors;
    unsigned int info, max_indirect;
    struct bfp_stats st;
    evtchn_port_t masked; /* fired, not unmasked yet */
};

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int xs_printf(struct xs_handle *xs, xs_transaction_t t, const char *dir,
                     const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int xs_printf(struct xs_handle *xs, xs_transaction_t t, const char *dir,
                     const char *key, const char *fmt, ...)
{
    char path[256], val[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xs_write(xs, t, path, val, strlen(val)) ? 0 : -1;
}

static long long xs_num(struct xs_handle *xs, const char *dir, const char *key,
                        long long def)
{
    char path[256], *v, *end;
    unsigned int len;
    long long n;

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    v = xs_read(xs, XBT_NULL, path, &len);
    if (!v)
        return def;
    n = strtoll(v, &end, 10);
    if (end == v)
        n = def;
    free(v);
    return n;
}

int bfp_toolstack_add(struct xs_handle *xs, uint32_t fe, uint32_t devid,
                      const char *path, bool writable)
{
    return bfp_toolstack_add_state(xs, fe, devid, path, writable,
                                   XenbusStateInitialising, true);
}

int bfp_toolstack_add_state(struct xs_handle *xs, uint32_t fe, uint32_t devid,
                            const char *path, bool writable, int be_state,
                            bool online)
{
    char be[128], fr[96];
    struct xs_permissions perms[2] = {
        {.id = fe, .perms = XS_PERM_NONE},
        {.id = 0, .perms = XS_PERM_READ},
    };
    xs_transaction_t t;
    int tries = 0;

    snprintf(be, sizeof(be), "/local/domain/0/backend/vbd/%u/%u", fe, devid);
    snprintf(fr, sizeof(fr), "/local/domain/%u/device/vbd/%u", fe, devid);
    do {
        int rc = 0;
        t = xs_transaction_start(xs);
        if (!t)
            return -1;
        rc |= xs_printf(xs, t, be, "frontend", "%s", fr);
        rc |= xs_printf(xs, t, be, "frontend-id", "%u", fe);
        rc |= xs_printf(xs, t, be, "params", "%s", path);
        rc |= xs_printf(xs, t, be, "mode", "%s", writable ? "w" : "r");
        rc |= xs_printf(xs, t, be, "type", "phy");
        rc |= xs_printf(xs, t, be, "online", "%d", online);
        rc |= xs_printf(xs, t, be, "state", "%d", be_state);
        rc |= xs_printf(xs, t, fr, "backend", "%s", be);
        rc |= xs_printf(xs, t, fr, "backend-id", "0");
        rc |= xs_printf(xs, t, fr, "state", "%d", XenbusStateInitialising);
        /* The frontend directory belongs to the frontend's domain. */
        if (!xs_set_permissions(xs, t, fr, perms, 2))
            rc = -1;
        if (rc) {
            xs_transaction_end(xs, t, true);
            return -1;
        }
        if (xs_transaction_end(xs, t, false))
            return 0;
    } while (errno == EAGAIN && ++tries < 10);
    return -1;
}

void bfp_toolstack_remove(struct xs_handle *xs, uint32_t fe, uint32_t devid)
{
    char p[128];

    snprintf(p, sizeof(p), "/local/domain/0/backend/vbd/%u/%u", fe, devid);
    xs_rm(xs, XBT_NULL, p);
    snprintf(p, sizeof(p), "/local/domain/%u/device/vbd/%u", fe, devid);
    xs_rm(xs, XBT_NULL, p);
}

int bfp_domid(void)
{
    struct privcmd_conn c = {.fd = -1};
    struct xenhv_hello_rep rep;

    if (privcmd_open(&c, &rep, NULL, 0))
        return -1;
    privcmd_disconnect(&c);
    return (int)rep.domid;
}

struct bfp *bfp_open(struct xs_handle *xs, uint32_t devid,
                     const struct bfp_opts *opts)
{
    struct bfp *f = calloc(1, sizeof(*f));

    if (!f)
        return NULL;
    f->xs = xs;
    f->devid = devid;
    if (opts)
        f->opts = *opts;
    if (f->opts.nr_queues == 0)
        f->opts.nr_queues = 1;
    if (f->opts.pool_pages == 0)
        f->opts.pool_pages = 128;
    if (f->opts.nr_queues > MAX_QUEUES || f->opts.order > MAX_ORDER ||
        f->opts.pool_pages > MAX_POOL ||
        (f->opts.alias && f->opts.pool_pages <= ALIAS_IND_PAGES))
        goto fail;
    f->shr = xengntshr_open(NULL, 0);
    f->xce = xenevtchn_open(NULL, 0);
    f->domid = bfp_domid();
    if (!f->shr || !f->xce || f->domid < 0)
        goto fail;
    snprintf(f->fe_path, sizeof(f->fe_path), "/local/domain/%d/device/vbd/%u",
             f->domid, devid);
    return f;
fail:
    bfp_close(f);
    return NULL;
}

int bfp_get_domid(const struct bfp *f)
{
    return f->domid;
}

/* The backend directory and domain, from device/vbd/<devid>/backend. */
static int find_backend(struct bfp *f)
{
    char path[160], *be;
    unsigned int len;

    snprintf(path, sizeof(path), "%s/backend", f->fe_path);
    be = xs_read(f->xs, XBT_NULL, path, &len);
    if (!be || strlen(be) >= sizeof(f->be_path)) {
        free(be);
        return -1;
    }
    snprintf(f->be_path, sizeof(f->be_path), "%s", be);
    free(be);
    f->be_domid = (uint32_t)xs_num(f->xs, f->fe_path, "backend-id", 0);
    return 0;
}

int bfp_backend_state(struct bfp *f)
{
    if (!f->be_path[0] && find_backend(f))
        return -1;
    return (int)xs_num(f->xs, f->be_path, "state", -1);
}

int bfp_wait_backend(struct bfp *f, int want, int timeout_ms)
{
    long long end = now_ms() + timeout_ms;

    do {
        if (bfp_backend_state(f) == want)
            return 0;
        usleep(2000);
    } while (now_ms() < end);
    return -1;
}

static void set_state(struct bfp *f, int state)
{
    xs_printf(f->xs, XBT_NULL, f->fe_path, "state", "%d", state);
}

/* Drop the rings and ports (not the pool or requests in flight). */
static void rings_teardown(struct bfp *f)
{
    for (unsigned int i = 0; i < f->nq; i++) {
        struct bfp_queue *q = &f->q[i];
        if (q->port)
            xenevtchn_unbind(f->xce, q->port);
        q->port = 0;
        /* The backend may still map it (EBUSY): then it is leaked. */
        if (q->ring)
            xengntshr_unshare(f->shr, q->ring, 1u << f->opts.order);
        q->ring = NULL;
    }
    f->nq = 0;
    f->masked = 0;
    f->connected = false;
}

/* Share and publish the rings, state Initialised. */
static int rings_setup(struct bfp *f)
{
    unsigned int npages = 1u << f->opts.order;
    char dir[160];
    int rc = 0;

    f->nq = f->opts.nr_queues;
    for (unsigned int i = 0; i < f->nq; i++) {
        struct bfp_queue *q = &f->q[i];
        xenevtchn_port_or_error_t p;
        q->ring = xengntshr_share_pages(f->shr, f->be_domid, (int)npages,
                                        q->ring_refs, 1);
        p = xenevtchn_bind_unbound_port(f->xce, f->be_domid);
        if (!q->ring || p < 0)
            return -1;
        q->port = (evtchn_port_t)p;
        memset(q->ring, 0, (size_t)npages * PAGE_BYTES);
        SHARED_RING_INIT((blkif_sring_t *)q->ring);
        FRONT_RING_INIT(&q->fr, (blkif_sring_t *)q->ring, npages * PAGE_BYTES);
        if (f->nq == 1)
            snprintf(dir, sizeof(dir), "%s", f->fe_path);
        else
            snprintf(dir, sizeof(dir), "%s/queue-%u", f->fe_path, i);
        for (unsigned int j = 0; j < npages; j++) {
            if (f->opts.order == 0)
                rc |= xs_printf(f->xs, XBT_NULL, dir, "ring-ref", "%u",
                                q->ring_refs[0]);
            else {
                char key[24];
                snprintf(key, sizeof(key), "ring-ref%u", j);
                rc |=
                    xs_printf(f->xs, XBT_NULL, dir, key, "%u", q->ring_refs[j]);
            }
        }
        rc |= xs_printf(f->xs, XBT_NULL, dir, "event-channel", "%u", q->port);
    }
    if (f->opts.order)
        rc |= xs_printf(f->xs, XBT_NULL, f->fe_path, "ring-page-order", "%u",
                        f->opts.order);
    if (f->nq > 1)
        rc |= xs_printf(f->xs, XBT_NULL, f->fe_path, "multi-queue-num-queues",
                        "%u", f->nq);
    rc |= xs_printf(f->xs, XBT_NULL, f->fe_path, "protocol", "%s",
                    XEN_IO_PROTO_ABI_NATIVE);
    rc |= xs_printf(f->xs, XBT_NULL, f->fe_path, "feature-persistent", "%d",
                    f->opts.persistent ? 1 : 0);
    set_state(f, XenbusStateInitialised);
    return rc ? -1 : 0;
}

static int handshake(struct bfp *f, int timeout_ms)
{
    if (bfp_wait_backend(f, XenbusStateInitWait, timeout_ms))
        return -1;
    if (rings_setup(f))
        return -1;
    if (bfp_wait_backend(f, XenbusStateConnected, timeout_ms))
        return -1;
    f->sectors = (uint64_t)xs_num(f->xs, f->be_path, "sectors", 0);
    f->info = (unsigned int)xs_num(f->xs, f->be_path, "info", 0);
    f->max_indirect = (unsigned int)xs_num(f->xs, f->be_path,
                                           "feature-max-indirect-segments", 0);
    set_state(f, XenbusStateConnected);
    f->connected = true;
    return 0;
}

int bfp_connect(struct bfp *f, int timeout_ms)
{
    if (!f->be_path[0] && find_backend(f))
        return -1;
    if (!f->slots) {
        unsigned int n = __CONST_RING_SIZE(blkif, PAGE_BYTES << f->opts.order);
        f->slots = calloc(n, sizeof(*f->slots));
        if (!f->slots)
            return -1;
        f->nslots = n;
    }
    if (f->opts.persistent && !f->pool) {
        f->pool = xengntshr_share_pages(
            f->shr, f->be_domid, (int)f->opts.pool_pages, f->pool_refs, 1);
        if (!f->pool)
            return -1;
        f->pool_n = f->opts.pool_pages;
        for (unsigned int i = 0; i < f->pool_n; i++)
            f->pool_free[f->pool_nfree++] = (uint16_t)(f->pool_n - 1 - i);
    }
    return handshake(f, timeout_ms);
}

uint64_t bfp_sectors(const struct bfp *f)
{
    return f->sectors;
}

unsigned int bfp_info(const struct bfp *f)
{
    return f->info;
}

unsigned int bfp_max_indirect(const struct bfp *f)
{
    return f->max_indirect;
}

bool bfp_feature(const struct bfp *f, const char *key)
{
    return xs_num(f->xs, f->be_path, key, 0) == 1;
}

/* ---- requests ---- */

/* Pages for slot s (npages data + ind indirect), or -1 (none free now). */
static int slot_pages(struct bfp *f, struct bfp_slot *s, unsigned int total)
{
    if (f->opts.persistent && f->opts.alias) {
        /* Data spread over the pool but its last ALIAS_IND_PAGES (small
         * requests get pages of their own; a big one may use a page
         * twice); an indirect page of its own per slot id, so no read
         * lands on a segment list blkback has yet to copy. */
        unsigned int slot = (unsigned int)(s - f->slots);
        unsigned int ndata = f->pool_n - ALIAS_IND_PAGES;
        unsigned int nseg =
            total > BLKIF_MAX_SEGMENTS_PER_REQUEST ? total - 1 : total;
        unsigned int base = slot * nseg % ndata;
        for (unsigned int i = 0; i < nseg; i++) {
            unsigned int k = (base + i) % ndata;
            s->pages[i] = f->pool + (size_t)k * PAGE_BYTES;
            s->refs[i] = f->pool_refs[k];
        }
        if (nseg < total) {
            unsigned int k = ndata + slot % ALIAS_IND_PAGES;
            s->pages[nseg] = f->pool + (size_t)k * PAGE_BYTES;
            s->refs[nseg] = f->pool_refs[k];
        }
        return 0;
    }
    if (f->opts.persistent) {
        if (f->pool_nfree < total)
            return -1;
        for (unsigned int i = 0; i < total; i++) {
            uint16_t k = f->pool_free[--f->pool_nfree];
            s->pool_idx[i] = k;
            s->pages[i] = f->pool + (size_t)k * PAGE_BYTES;
            s->refs[i] = f->pool_refs[k];
        }
        return 0;
    }
    s->shared =
        xengntshr_share_pages(f->shr, f->be_domid, (int)total, s->refs, 1);
    if (!s->shared)
        return -1;
    s->nshared = total;
    for (unsigned int i = 0; i < total; i++)
        s->pages[i] = s->shared + (size_t)i * PAGE_BYTES;
    return 0;
}

static void slot_release(struct bfp *f, struct bfp_slot *s)
{
    if (f->opts.persistent && f->opts.alias) {
        /* nothing was taken from the pool */
    } else if (f->opts.persistent) {
        for (unsigned int i = 0; i < s->npages; i++)
            f->pool_free[f->pool_nfree++] = s->pool_idx[i];
    } else if (s->shared) {
        xengntshr_unshare(f->shr, s->shared, s->nshared);
        s->shared = NULL;
    }
    s->npages = 0;
    s->used = false;
    f->inflight--;
}

/* Build io's request in a free slot; 1 queued, 0 no room now, -1 bad io. */
static int io_queue(struct bfp *f, struct bfp_io *io)
{
    struct bfp_queue *q = &f->q[0];
    unsigned int id, nseg = 0, total;
    struct bfp_slot *s = NULL;
    blkif_request_t *req;

    if (RING_FULL(&q->fr))
        return 0;
    for (id = 0; id < f->nslots && f->slots[id].used; id++)
        ;
    if (id == f->nslots)
        return 0;
    s = &f->slots[id];
    memset(&s->req, 0, sizeof(s->req));
    s->req.operation = io->op;
    s->req.id = id;
    s->req.sector_number = io->sector;
    if (io->op == BLKIF_OP_DISCARD) {
        blkif_request_discard_t *d = (void *)&s->req;
        d->nr_sectors = io->nsects;
    } else if (io->op == BLKIF_OP_READ || io->op == BLKIF_OP_WRITE) {
        nseg = (io->nsects + 7) / 8;
        if (nseg == 0 || nseg > MAX_SEGS ||
            (nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST && nseg > f->max_indirect))
            return -1;
        total = nseg + (nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST ? 1 : 0);
        if (slot_pages(f, s, total))
            return 0;
        s->npages = total;
        for (unsigned int i = 0; i < nseg; i++) {
            uint32_t left = io->nsects - i * 8;
            struct blkif_request_segment seg = {
                .gref = s->refs[i],
                .first_sect = 0,
                .last_sect = (uint8_t)((left < 8 ? left : 8) - 1),
            };
            if (io->buf && io->op == BLKIF_OP_WRITE)
                memcpy(s->pages[i], (uint8_t *)io->buf + (size_t)i * 4096,
                       (seg.last_sect + 1u) * 512);
            if (nseg <= BLKIF_MAX_SEGMENTS_PER_REQUEST)
                s->req.seg[i] = seg;
            else
                ((struct blkif_request_segment *)s->pages[nseg])[i] = seg;
        }
        s->req.nr_segments = (uint8_t)nseg;
        if (nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
            blkif_request_indirect_t *ind = (void *)&s->req;
            memset(ind, 0, sizeof(*ind));
            ind->operation = BLKIF_OP_INDIRECT;
            ind->indirect_op = io->op;
            ind->nr_segments = (uint16_t)nseg;
            ind->id = id;
            ind->sector_number = io->sector;
            ind->indirect_grefs[0] = s->refs[nseg];
        }
    }
    s->used = true;
    s->io = io;
    f->inflight++;
    req = RING_GET_REQUEST(&q->fr, q->fr.req_prod_pvt);
    *req = s->req;
    q->fr.req_prod_pvt++;
    f->st.requests++;
    return 1;
}

static void push(struct bfp *f)
{
    struct bfp_queue *q = &f->q[0];
    int notify;

    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->fr, notify);
    if (notify) {
        xenevtchn_notify(f->xce, q->port);
        f->st.notify_out++;
    }
}

/* Take the responses there are; the number of requests finished. */
static unsigned int reap(struct bfp *f)
{
    struct bfp_queue *q = &f->q[0];
    unsigned int done = 0;
    int more;

    do {
        RING_IDX rp = q->fr.sring->rsp_prod;
        xen_rmb();
        while (q->fr.rsp_cons != rp) {
            blkif_response_t rsp;
            struct bfp_slot *s;
            RING_COPY_RESPONSE(&q->fr, q->fr.rsp_cons, &rsp);
            q->fr.rsp_cons++;
            if (rsp.id >= f->nslots || !f->slots[rsp.id].used)
                continue; /* not ours: ignore */
            s = &f->slots[rsp.id];
            s->io->status = rsp.status;
            /* As Linux's blkfront: the response names the operation done
             * (READ or WRITE for an indirect request); any other is an
             * error, counted. */
            if (rsp.operation != s->io->op) {
                s->io->status = BLKIF_RSP_ERROR;
                f->st.bad_rsp_op++;
            }
            if (rsp.status == BLKIF_RSP_OKAY && s->io->buf &&
                s->io->op == BLKIF_OP_READ)
                for (unsigned int i = 0; i * 8 < s->io->nsects; i++) {
                    uint32_t left = s->io->nsects - i * 8;
                    memcpy((uint8_t *)s->io->buf + (size_t)i * 4096,
                           s->pages[i], (left < 8 ? left : 8) * 512u);
                }
            slot_release(f, s);
            done++;
        }
        RING_FINAL_CHECK_FOR_RESPONSES(&q->fr, more);
    } while (more);
    return done;
}

/* Wait for an event up to ms; 1 if one came.  The port stays masked
 * until unmask_pending (after the ring was looked at: the unmask is a
 * round trip to xen-hv, kept off the path to the responses). */
static int wait_evtchn(struct bfp *f, int ms)
{
    struct pollfd p = {.fd = xenevtchn_fd(f->xce), .events = POLLIN};
    xenevtchn_port_or_error_t port;

    if (poll(&p, 1, ms) != 1)
        return 0;
    port = xenevtchn_pending(f->xce);
    if (port >= 0) {
        f->masked = (evtchn_port_t)port;
        f->st.notify_in++;
    }
    return 1;
}

static void unmask_pending(struct bfp *f)
{
    if (f->masked) {
        xenevtchn_unmask(f->xce, f->masked);
        f->masked = 0;
    }
}

int bfp_reconnect(struct bfp *f, int timeout_ms)
{
    struct bfp_queue *q;

    rings_teardown(f);
    set_state(f, XenbusStateClosed);
    usleep(10000);
    set_state(f, XenbusStateInitialising);
    if (handshake(f, timeout_ms))
        return -1;
    f->st.reconnects++;
    q = &f->q[0];
    for (unsigned int id = 0; id < f->nslots; id++)
        if (f->slots[id].used) {
            *RING_GET_REQUEST(&q->fr, q->fr.req_prod_pvt) = f->slots[id].req;
            q->fr.req_prod_pvt++;
        }
    push(f);
    return 0;
}

int bfp_run(struct bfp *f, struct bfp_io *io, unsigned int n,
            unsigned int depth, int timeout_ms)
{
    unsigned int next = 0, done = 0;
    long long last = now_ms();

    if (depth == 0)
        depth = 1;
    if (!f->nq)
        return -1; /* never connected, or disconnected: no ring */
    while (done < n) {
        bool queued = false;
        unsigned int got;
        while (next < n && f->inflight < depth) {
            int rc = io_queue(f, &io[next]);
            if (rc == 0)
                break;
            if (rc < 0) {
                io[next].status = BLKIF_RSP_ERROR;
                done++;
            } else {
                queued = true;
            }
            next++;
        }
        if (queued)
            push(f);
        got = reap(f);
        done += got;
        if (got) {
            last = now_ms();
            continue;
        }
        if (f->masked) {
            unmask_pending(f);
            continue; /* look again before sleeping */
        }
        if (wait_evtchn(f, 50))
            continue;
        if (bfp_backend_state(f) != XenbusStateConnected) {
            if (bfp_reconnect(f, timeout_ms))
                return -1;
            last = now_ms();
        } else if (now_ms() - last > timeout_ms) {
            return -1;
        }
    }
    return 0;
}

int bfp_disconnect(struct bfp *f, int timeout_ms)
{
    int rc = 0;

    set_state(f, XenbusStateClosing);
    if (bfp_wait_backend(f, XenbusStateClosing, timeout_ms) &&
        bfp_backend_state(f) != XenbusStateClosed)
        rc = -1;
    set_state(f, XenbusStateClosed);
    if (bfp_wait_backend(f, XenbusStateClosed, timeout_ms))
        rc = -1;
    rings_teardown(f);
    return rc;
}

void bfp_close(struct bfp *f)
{
    if (!f)
        return;
    if (f->xce) {
        for (unsigned int i = 0; i < f->nq; i++)
            if (f->q[i].port)
                xenevtchn_unbind(f->xce, f->q[i].port);
        xenevtchn_close(f->xce);
    }
    if (f->shr)
        xengntshr_close(f->shr);
    free(f->slots);
    free(f);
}

void bfp_get_stats(const struct bfp *f, struct bfp_stats *out)
{
    *out = f->st;
}

/* ---- raw ---- */

void *bfp_raw_share(struct bfp *f, unsigned int n, uint32_t *refs)
{
    return xengntshr_share_pages(f->shr, f->be_domid, (int)n, refs, 1);
}

void bfp_raw_push(struct bfp *f, const blkif_request_t *req, bool notify)
{
    struct bfp_queue *q = &f->q[0];

    memcpy(RING_GET_REQUEST(&q->fr, q->fr.req_prod_pvt), req, sizeof(*req));
    q->fr.req_prod_pvt++;
    xen_wmb();
    q->fr.sring->req_prod = q->fr.req_prod_pvt;
    if (notify) {
        xenevtchn_notify(f->xce, q->port);
        f->st.notify_out++;
    }
}

void bfp_raw_set_req_prod(struct bfp *f, RING_IDX prod)
{
    struct bfp_queue *q = &f->q[0];

    xen_wmb();
    q->fr.sring->req_prod = prod;
    xenevtchn_notify(f->xce, q->port);
}

RING_IDX bfp_raw_req_prod(const struct bfp *f)
{
    return f->q[0].fr.req_prod_pvt;
}

int bfp_raw_response(struct bfp *f, blkif_response_t *rsp, int timeout_ms)
{
    struct bfp_queue *q = &f->q[0];
    long long end = now_ms() + timeout_ms;

    for (;;) {
        RING_IDX rp = q->fr.sring->rsp_prod;
        xen_rmb();
        if (q->fr.rsp_cons != rp) {
            RING_COPY_RESPONSE(&q->fr, q->fr.rsp_cons, rsp);
            q->fr.rsp_cons++;
            return 0;
        }
        q->fr.sring->rsp_event = q->fr.rsp_cons + 1;
        xen_mb();
        if (q->fr.sring->rsp_prod != rp)
            continue;
        if (now_ms() >= end)
            return -1;
        unmask_pending(f);
        wait_evtchn(f, 20);
    }
}

void bfp_raw_notify(struct bfp *f)
{
    xenevtchn_notify(f->xce, f->q[0].port);
    f->st.notify_out++;
}

unsigned int bfp_raw_ring_size(const struct bfp *f)
{
    return RING_SIZE(&f->q[0].fr);
}
