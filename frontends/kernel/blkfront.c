/*
 * blkfront.c — PV block frontend (include/xenkern/blkfront.h).
 *
 * Protocol: <xen/io/blkif.h> (requests, indirect segments, feature keys,
 * "Multiple Queues"), <xen/io/ring.h> (the shared ring and its event
 * thresholds), <xen/io/xenbus.h> (XenbusState), Xen's
 * docs/misc/xenstore-paths (device/vbd/<devid>, backend/vbd/...).
 *
 * Layout: a device has up to BLKFRONT_MAX_QUEUES queues; a queue owns a
 * ring page, an event channel, RING_SLOTS request slots (the request id is
 * the slot index) and a pool of data pages.  A slot remembers everything
 * needed to write its request again, so requests in flight when the
 * backend goes away are resubmitted on the new rings.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/errno.h>

#include "xenkern/x86.h"

/* ring.h leaves the barriers to the includer at this interface version;
 * x86 keeps stores and loads in order, only store-load needs a fence. */
#define xen_mb()  smp_mb()
#define xen_rmb() smp_rmb()
#define xen_wmb() smp_wmb()
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>

#include "xenkern/blkfront.h"
#include "xenkern/console.h"
#include "xenkern/evtchn.h"
#include "xenkern/gnttab.h"
#include "xenkern/lib.h"
#include "xenkern/pvclock.h"
#include "xenkern/sched.h"
#include "xenkern/xenbus.h"

#define PAGE_SIZE        4096
#define SECTORS_PER_PAGE (PAGE_SIZE / BLK_SECTOR_SIZE)
#define RING_SLOTS       __CONST_RING_SIZE(blkif, PAGE_SIZE)
#define SEGS_PER_INDIRECT_PAGE                                                 \
    (PAGE_SIZE / sizeof(struct blkif_request_segment))
#define NO_PAGE 0xffff
/* How long one wait blocks before the backend's state is looked at. */
#define POLL_NS (100ULL * 1000000ULL)

_Static_assert(BLKFRONT_MAX_SEGS <= SEGS_PER_INDIRECT_PAGE,
               "one indirect page per request");
_Static_assert(BLKFRONT_POOL_PAGES > BLKFRONT_MAX_SEGS,
               "a pool holds a full indirect request");

struct blk_page {
    grant_ref_t ref;
    bool granted;
    bool ro; /* how it is granted */
};

/* One request in flight; everything to write it on a ring again. */
struct blk_slot {
    bool busy;
    uint8_t op;       /* BLKIF_OP_* put on the ring */
    uint8_t inner_op; /* READ/WRITE inside an INDIRECT, else == op */
    uint16_t nseg;
    uint16_t ind; /* pool index of the indirect page, or NO_PAGE */
    uint32_t nsectors;
    uint64_t sector;
    uint64_t nr_discard; /* sectors of a DISCARD */
    uint8_t *buf;        /* the caller's buffer (reads copy into it) */
    int *status;         /* first error of the caller's request */
    uint16_t page[BLKFRONT_MAX_SEGS];
};

struct blk_queue {
    unsigned int idx;
    blkif_front_ring_t ring;
    grant_ref_t ring_ref;
    bool ring_granted;
    int port; /* < 0: none */
    unsigned int nr_busy;
    struct blk_slot slot[RING_SLOTS];
    struct blk_page page[BLKFRONT_POOL_PAGES];
    uint16_t free[BLKFRONT_POOL_PAGES]; /* stack of free pool pages */
    unsigned int nr_free;
};

struct blk_dev {
    bool used;
    bool broken;
    volatile bool be_changed; /* the backend's state node fired */
    unsigned int mem;         /* index into ring_mem/pool_mem */
    unsigned int devid;
    unsigned int want_queues;
    unsigned int next_q;
    domid_t be_id;
    enum xenbus_state state; /* ours */
    volatile unsigned int events;
    char fe[64];
    char be[128];
    char token[24];
    struct blk_info info;
    struct blk_stats st;
    struct blk_queue q[BLKFRONT_MAX_QUEUES];
};

static struct blk_dev devs[BLKFRONT_MAX_DEVS];
static uint8_t ring_mem[BLKFRONT_MAX_DEVS][BLKFRONT_MAX_QUEUES][PAGE_SIZE]
    __attribute__((aligned(PAGE_SIZE)));
static uint8_t pool_mem[BLKFRONT_MAX_DEVS][BLKFRONT_MAX_QUEUES]
                       [BLKFRONT_POOL_PAGES][PAGE_SIZE]
    __attribute__((aligned(PAGE_SIZE)));

/*
 * Copy n bytes (a multiple of 8: whole sectors) with one rep movsq: on
 * kvm_pvm every iteration of a string instruction is emulated, so eight
 * bytes per iteration is eight times faster than memcpy's movsb.
 */
static void copy_sectors(void *dst, const void *src, size_t n)
{
    size_t words = n / 8;

    asm volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(words) : : "memory");
}

static uint8_t *page_va(struct blk_dev *dev, struct blk_queue *q,
                        unsigned int i)
{
    return pool_mem[dev->mem][q->idx][i];
}

/* ---- grants ---------------------------------------------------------- */

/* Grant pool page i to the backend (writable in persistent mode). */
static int page_grant(struct blk_dev *dev, struct blk_queue *q, unsigned int i,
                      bool ro)
{
    struct blk_page *p = &q->page[i];
    int ref;

    if (dev->info.persistent)
        ro = false;
    if (p->granted && p->ro == ro)
        return 0;
    if (p->granted && gnttab_end_access(p->ref) != 0)
        return -XEN_EBUSY;
    p->granted = false;
    ref = gnttab_grant_access(dev->be_id,
                              (uintptr_t)page_va(dev, q, i) / PAGE_SIZE, ro);
    if (ref < 0)
        return ref;
    p->ref = (grant_ref_t)ref;
    p->granted = true;
    p->ro = ro;
    dev->st.grants++;
    return 0;
}

/*
 * End page i's grant.  A backend that still maps it makes this fail; the
 * ref is then leaked (forget_busy) or kept for a later attempt.
 */
static int page_ungrant(struct blk_queue *q, unsigned int i, bool forget_busy)
{
    struct blk_page *p = &q->page[i];

    if (!p->granted)
        return 0;
    if (gnttab_end_access(p->ref) != 0) {
        if (forget_busy)
            p->granted = false;
        return -XEN_EBUSY;
    }
    p->granted = false;
    return 0;
}

/*
 * Take n pool pages into idx[].  Pages whose one-shot grant could not be
 * ended yet are skipped.  -XEN_EAGAIN when fewer are free.
 */
static int pool_take(struct blk_dev *dev, struct blk_queue *q, unsigned int n,
                     uint16_t *idx)
{
    unsigned int got = 0, tries = q->nr_free;

    if (q->nr_free < n)
        return -XEN_EAGAIN;
    while (got < n && tries--) {
        uint16_t i = q->free[--q->nr_free];

        if (!dev->info.persistent && page_ungrant(q, i, false) != 0) {
            /* still mapped: back to the bottom of the stack */
            memmove(&q->free[1], &q->free[0], q->nr_free * sizeof(q->free[0]));
            q->free[0] = i;
            q->nr_free++;
            continue;
        }
        idx[got++] = i;
    }
    if (got < n) {
        while (got)
            q->free[q->nr_free++] = idx[--got];
        return -XEN_EAGAIN;
    }
    return 0;
}

static void pool_give(struct blk_dev *dev, struct blk_queue *q, uint16_t i)
{
    if (!dev->info.persistent)
        page_ungrant(q, i, false);
    q->free[q->nr_free++] = i;
}

/* ---- rings ----------------------------------------------------------- */

static void queue_reset_pool(struct blk_queue *q)
{
    q->nr_free = 0;
    for (unsigned int i = BLKFRONT_POOL_PAGES; i-- > 0;)
        q->free[q->nr_free++] = (uint16_t)i;
}

/* A fresh ring page granted to the backend and a port it may bind. */
static int queue_setup(struct blk_dev *dev, struct blk_queue *q)
{
    blkif_sring_t *sring = (blkif_sring_t *)ring_mem[dev->mem][q->idx];
    int rc;

    memset(sring, 0, PAGE_SIZE);
    SHARED_RING_INIT(sring);
    FRONT_RING_INIT(&q->ring, sring, PAGE_SIZE);
    rc = gnttab_grant_access(dev->be_id, (uintptr_t)sring / PAGE_SIZE, 0);
    if (rc < 0)
        goto out;
    q->ring_ref = (grant_ref_t)rc;
    q->ring_granted = true;
    rc = evtchn_alloc_unbound(dev->be_id, evtchn_count, (void *)&dev->events);
    if (rc < 0)
        goto out;
    q->port = rc;
    rc = 0;
out:
    return rc;
}

/*
 * Close the port and end the ring's and the pool's grants.  A page the
 * backend still maps after ~1 s keeps its grant and its ref is leaked,
 * so the page is granted afresh next time.
 */
static int queue_teardown(struct blk_queue *q)
{
    uint64_t deadline = time_now_ns() + 1000000000ULL;
    bool busy;

    if (q->port >= 0)
        evtchn_close((evtchn_port_t)q->port);
    q->port = -1;
    do {
        busy = false;
        if (q->ring_granted && gnttab_end_access(q->ring_ref) == 0)
            q->ring_granted = false;
        busy |= q->ring_granted;
        for (unsigned int i = 0; i < BLKFRONT_POOL_PAGES; i++)
            busy |= page_ungrant(q, i, false) != 0;
        if (busy)
            sched_sleep_until(time_now_ns() + 10000000ULL);
    } while (busy && time_now_ns() < deadline);
    if (busy) {
        printf("blkfront: grants still mapped by the backend; leaked\n");
        q->ring_granted = false;
        for (unsigned int i = 0; i < BLKFRONT_POOL_PAGES; i++)
            page_ungrant(q, i, true);
    }
    return busy ? -XEN_EBUSY : 0;
}

/* ---- xenstore -------------------------------------------------------- */

static void be_state_cb(const char *path, const char *token, void *arg)
{
    struct blk_dev *dev = arg;

    (void)path;
    (void)token;
    dev->be_changed = true;
}

/* The backend's key as an unsigned number; def when absent or bad. */
static uint64_t be_uint(struct blk_dev *dev, const char *key, uint64_t def)
{
    char path[192], v[32];
    const char *end;
    uint64_t n;

    snprintf(path, sizeof(path), "%s/%s", dev->be, key);
    if (xenbus_read(XBT_NIL, path, v, sizeof(v)) <= 0)
        return def;
    n = strtoull(v, &end, 10);
    return end == v || *end ? def : n;
}

static int set_state(struct blk_dev *dev, enum xenbus_state s)
{
    int rc = xenbus_switch_state(XBT_NIL, dev->fe, s);

    if (rc == 0)
        dev->state = s;
    return rc;
}

/*
 * Wait until the backend's state is one in mask (bits 1 << state); the
 * state, or -XEN_ETIMEDOUT / the watch error.
 */
static int be_wait(struct blk_dev *dev, unsigned int mask, uint64_t timeout_ns)
{
    uint64_t deadline = time_now_ns() + timeout_ns;

    for (;;) {
        enum xenbus_state s = xenbus_read_state(dev->be);
        uint64_t now = time_now_ns();
        int rc;

        if (mask & (1u << s))
            return (int)s;
        if (now >= deadline)
            return -XEN_ETIMEDOUT;
        rc = xenbus_watch_wait(deadline - now);
        if (rc < 0)
            return rc;
    }
}

/* Write the rings' keys and Initialised in one transaction (blkif.h). */
static int publish(struct blk_dev *dev)
{
    xenbus_transaction_t t;
    unsigned int nq = dev->info.nr_queues;
    int rc = 0;

    for (int attempt = 0; attempt < 10; attempt++) {
        rc = xenbus_transaction_start(&t);
        if (rc)
            return rc;
        if (nq == 1) {
            rc =
                xenbus_printf(t, dev->fe, "ring-ref", "%u", dev->q[0].ring_ref);
            if (!rc)
                rc = xenbus_printf(t, dev->fe, "event-channel", "%d",
                                   dev->q[0].port);
        } else {
            rc = xenbus_printf(t, dev->fe, "multi-queue-num-queues", "%u", nq);
            for (unsigned int i = 0; i < nq && !rc; i++) {
                char key[40];

                snprintf(key, sizeof(key), "queue-%u/ring-ref", i);
                rc = xenbus_printf(t, dev->fe, key, "%u", dev->q[i].ring_ref);
                snprintf(key, sizeof(key), "queue-%u/event-channel", i);
                if (!rc)
                    rc = xenbus_printf(t, dev->fe, key, "%d", dev->q[i].port);
            }
        }
        if (!rc)
            rc = xenbus_printf(t, dev->fe, "protocol", "%s",
                               XEN_IO_PROTO_ABI_X86_64);
        if (!rc)
            rc = xenbus_printf(t, dev->fe, "feature-persistent", "1");
        if (!rc)
            rc = xenbus_switch_state(t, dev->fe, XenbusStateInitialised);
        if (rc) {
            xenbus_transaction_end(t, 1);
            return rc;
        }
        rc = xenbus_transaction_end(t, 0);
        if (rc != -XEN_EAGAIN)
            break;
    }
    if (rc == 0)
        dev->state = XenbusStateInitialised;
    return rc;
}

/* Read what the backend offers once Connected (blkif.h feature keys). */
static int read_features(struct blk_dev *dev)
{
    struct blk_info *in = &dev->info;
    char path[192], mode[8] = "";
    uint64_t ss;

    in->sectors = be_uint(dev, "sectors", UINT64_MAX);
    ss = be_uint(dev, "sector-size", BLK_SECTOR_SIZE);
    if (in->sectors == UINT64_MAX || ss < BLK_SECTOR_SIZE || ss > PAGE_SIZE ||
        (ss & (ss - 1)))
        return -XEN_EIO;
    in->sector_size = (uint32_t)ss;
    in->info = (uint32_t)be_uint(dev, "info", 0);
    in->flush = be_uint(dev, "feature-flush-cache", 0) != 0;
    in->barrier = be_uint(dev, "feature-barrier", 0) != 0;
    in->discard = be_uint(dev, "feature-discard", 0) != 0;
    in->discard_granularity = (uint32_t)be_uint(dev, "discard-granularity", 0);
    in->discard_alignment = (uint32_t)be_uint(dev, "discard-alignment", 0);
    in->max_indirect =
        (uint32_t)be_uint(dev, "feature-max-indirect-segments", 0);
    in->persistent = be_uint(dev, "feature-persistent", 0) != 0;
    in->max_segs = BLKIF_MAX_SEGMENTS_PER_REQUEST;
    if (in->max_indirect > BLKIF_MAX_SEGMENTS_PER_REQUEST)
        in->max_segs = in->max_indirect < BLKFRONT_MAX_SEGS ? in->max_indirect
                                                            : BLKFRONT_MAX_SEGS;
    snprintf(path, sizeof(path), "%s/mode", dev->be);
    xenbus_read(XBT_NIL, path, mode, sizeof(mode));
    in->readonly = (in->info & VDISK_READONLY) || !strcmp(mode, "r");
    return 0;
}

/*
 * From a backend in InitWait to Connected: rings, keys, Initialised, the
 * backend's Connected, features, Connected.
 */
static int dev_connect(struct blk_dev *dev)
{
    uint64_t offered = be_uint(dev, "multi-queue-max-queues", 1);
    unsigned int nq = dev->want_queues ? dev->want_queues : BLKFRONT_MAX_QUEUES;
    int rc;

    if (offered < nq)
        nq = offered ? (unsigned int)offered : 1;
    if (nq > BLKFRONT_MAX_QUEUES)
        nq = BLKFRONT_MAX_QUEUES;
    /* A reconnection keeps the queues that hold requests. */
    for (unsigned int i = nq; i < dev->info.nr_queues; i++)
        if (dev->q[i].nr_busy)
            return -XEN_EIO;
    dev->info.nr_queues = nq;
    for (unsigned int i = 0; i < nq; i++) {
        rc = queue_setup(dev, &dev->q[i]);
        if (rc)
            goto out;
    }
    rc = publish(dev);
    if (rc)
        goto out;
    rc = be_wait(dev, 1u << XenbusStateConnected, BLKFRONT_TIMEOUT_NS);
    if (rc < 0)
        goto out;
    rc = read_features(dev);
    if (rc)
        goto out;
    rc = set_state(dev, XenbusStateConnected);
out:
    dev->be_changed = false;
    return rc;
}

/* ---- requests -------------------------------------------------------- */

/* Write slot s of q on the ring (granting its pages); not yet pushed. */
static int slot_put(struct blk_dev *dev, struct blk_queue *q, unsigned int s)
{
    struct blk_slot *sl = &q->slot[s];
    blkif_request_t *req = RING_GET_REQUEST(&q->ring, q->ring.req_prod_pvt);
    struct blkif_request_segment *seg = req->seg;
    bool ro = sl->inner_op == BLKIF_OP_WRITE;
    uint32_t left = sl->nsectors;
    int rc;

    memset(req, 0, sizeof(*req));
    if (sl->op == BLKIF_OP_DISCARD) {
        blkif_request_discard_t *d = (blkif_request_discard_t *)req;

        d->operation = BLKIF_OP_DISCARD;
        d->handle = (blkif_vdev_t)dev->devid;
        d->id = s;
        d->sector_number = sl->sector;
        d->nr_sectors = sl->nr_discard;
        goto queued;
    }
    if (sl->op == BLKIF_OP_INDIRECT) {
        blkif_request_indirect_t *ir = (blkif_request_indirect_t *)req;

        rc = page_grant(dev, q, sl->ind, true);
        if (rc)
            return rc;
        ir->operation = BLKIF_OP_INDIRECT;
        ir->indirect_op = sl->inner_op;
        ir->nr_segments = sl->nseg;
        ir->id = s;
        ir->sector_number = sl->sector;
        ir->handle = (blkif_vdev_t)dev->devid;
        ir->indirect_grefs[0] = q->page[sl->ind].ref;
        seg = (struct blkif_request_segment *)page_va(dev, q, sl->ind);
        dev->st.indirect++;
    } else {
        req->operation = sl->op;
        req->nr_segments = (uint8_t)sl->nseg;
        req->handle = (blkif_vdev_t)dev->devid;
        req->id = s;
        req->sector_number = sl->sector;
    }
    for (unsigned int i = 0; i < sl->nseg; i++) {
        uint32_t n = left < SECTORS_PER_PAGE ? left : SECTORS_PER_PAGE;

        rc = page_grant(dev, q, sl->page[i], ro);
        if (rc)
            return rc;
        seg[i].gref = q->page[sl->page[i]].ref;
        seg[i].first_sect = 0;
        seg[i].last_sect = (uint8_t)(n - 1);
        left -= n;
    }
queued:
    q->ring.req_prod_pvt++;
    dev->st.requests++;
    return 0;
}

static void queue_push(struct blk_dev *dev, struct blk_queue *q)
{
    int notify;

    if (q->port < 0)
        return;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->ring, notify);
    if (notify) {
        evtchn_send((evtchn_port_t)q->port);
        dev->st.notify++;
    }
}

static void push_all(struct blk_dev *dev)
{
    for (unsigned int i = 0; i < dev->info.nr_queues; i++)
        queue_push(dev, &dev->q[i]);
}

static void set_status(int *status, int rc)
{
    if (status && rc && !*status)
        *status = rc;
}

/* Slot s is answered with rc: copy a read out, free its pages. */
static void slot_done(struct blk_dev *dev, struct blk_queue *q, unsigned int s,
                      int rc)
{
    struct blk_slot *sl = &q->slot[s];

    if (rc == 0 && sl->inner_op == BLKIF_OP_READ) {
        uint32_t left = sl->nsectors;

        for (unsigned int i = 0; i < sl->nseg; i++) {
            uint32_t n = left < SECTORS_PER_PAGE ? left : SECTORS_PER_PAGE;

            copy_sectors(sl->buf + (size_t)i * PAGE_SIZE,
                         page_va(dev, q, sl->page[i]), n * BLK_SECTOR_SIZE);
            left -= n;
        }
    }
    for (unsigned int i = 0; i < sl->nseg; i++)
        pool_give(dev, q, sl->page[i]);
    if (sl->ind != NO_PAGE)
        pool_give(dev, q, sl->ind);
    set_status(sl->status, rc);
    sl->busy = false;
    q->nr_busy--;
}

/* Fail every request in flight (the device is broken or gone). */
static void fail_all(struct blk_dev *dev, int rc)
{
    for (unsigned int qi = 0; qi < BLKFRONT_MAX_QUEUES; qi++)
        for (unsigned int s = 0; s < RING_SLOTS; s++)
            if (dev->q[qi].slot[s].busy)
                slot_done(dev, &dev->q[qi], s, rc);
}

static int status_rc(int16_t st, struct blk_dev *dev)
{
    switch (st) {
    case BLKIF_RSP_OKAY:
        return 0;
    case BLKIF_RSP_EOPNOTSUPP:
        return -XEN_EOPNOTSUPP;
    case BLKIF_RSP_ERROR:
        return -XEN_EIO;
    default:
        dev->st.bad_status++;
        return -XEN_EIO;
    }
}

/*
 * Consume q's responses (ring.h: rsp_prod, rsp_event).  Returns how many,
 * or -XEN_EIO when the backend broke the protocol.
 */
static int queue_poll(struct blk_dev *dev, struct blk_queue *q)
{
    int done = 0, more;

    if (q->port < 0)
        return 0;
    do {
        RING_IDX rp = READ_ONCE(q->ring.sring->rsp_prod);

        smp_rmb(); /* responses after the index that covers them */
        /* Never more answers than requests pushed and not answered. */
        if (rp - q->ring.rsp_cons > q->ring.req_prod_pvt - q->ring.rsp_cons) {
            printf("blkfront: rsp_prod %u out of range (cons %u, prod %u)\n",
                   rp, q->ring.rsp_cons, q->ring.req_prod_pvt);
            return -XEN_EIO;
        }
        for (RING_IDX i = q->ring.rsp_cons; i != rp; i++) {
            blkif_response_t r = *RING_GET_RESPONSE(&q->ring, i);
            struct blk_slot *sl;

            if (r.id >= RING_SLOTS || !q->slot[r.id].busy) {
                printf("blkfront: response with bad id %llu\n",
                       (unsigned long long)r.id);
                return -XEN_EIO;
            }
            sl = &q->slot[r.id];
            /* The operation done: an indirect request's inner one (as
             * Linux's blkfront checks, blkif_interrupt). */
            if (r.operation != sl->inner_op) {
                printf("blkfront: response op %u for request op %u/%u\n",
                       r.operation, sl->op, sl->inner_op);
                return -XEN_EIO;
            }
            q->ring.rsp_cons = i + 1;
            slot_done(dev, q, (unsigned int)r.id, status_rc(r.status, dev));
            done++;
        }
        RING_FINAL_CHECK_FOR_RESPONSES(&q->ring, more);
    } while (more);
    return done;
}

/* Poll every queue; the number answered or -XEN_EIO (device broken). */
static int poll_all(struct blk_dev *dev)
{
    int total = 0;

    for (unsigned int i = 0; i < dev->info.nr_queues; i++) {
        int n = queue_poll(dev, &dev->q[i]);

        if (n < 0) {
            dev->broken = true;
            fail_all(dev, -XEN_EIO);
            return n;
        }
        total += n;
    }
    return total;
}

static unsigned int busy_count(struct blk_dev *dev)
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < BLKFRONT_MAX_QUEUES; i++)
        n += dev->q[i].nr_busy;
    return n;
}

/*
 * The backend left Connected: close our side if it is closing, set up new
 * rings when it is back in InitWait, and resubmit what was in flight
 * (blkif.h requests are idempotent reads/writes of whole sectors).
 */
static int dev_recover(struct blk_dev *dev)
{
    int s = (int)xenbus_read_state(dev->be), rc = 0;

    dev->be_changed = false;
    if (s == XenbusStateConnected)
        goto out; /* a spurious watch event */
    printf("blkfront: vbd %u: backend left Connected (state %d)\n", dev->devid,
           (int)s);
    for (unsigned int i = 0; i < dev->info.nr_queues; i++)
        queue_teardown(&dev->q[i]);
    if (s == XenbusStateInitialising) /* a restarted backend, starting */
        s = be_wait(dev,
                    (1u << XenbusStateInitWait) | (1u << XenbusStateClosing) |
                        (1u << XenbusStateClosed) | (1u << XenbusStateUnknown),
                    BLKFRONT_TIMEOUT_NS);
    if (s == XenbusStateClosing || s == XenbusStateClosed) {
        /* As a frontend that saw its backend close: Closing, Closed; a
         * backend that is Closed comes back to InitWait when the frontend
         * is Initialising again. */
        set_state(dev, XenbusStateClosing);
        set_state(dev, XenbusStateClosed);
        s = be_wait(dev,
                    (1u << XenbusStateClosed) | (1u << XenbusStateInitWait) |
                        (1u << XenbusStateUnknown),
                    BLKFRONT_TIMEOUT_NS);
        /* online = 0: the toolstack is detaching the device
         * (xenstore-paths "online"); no reconnection then. */
        if (s == XenbusStateClosed && be_uint(dev, "online", 1) == 0)
            s = XenbusStateUnknown;
        if (s == XenbusStateClosed) {
            set_state(dev, XenbusStateInitialising);
            s = be_wait(
                dev, (1u << XenbusStateInitWait) | (1u << XenbusStateUnknown),
                BLKFRONT_TIMEOUT_NS);
        }
    }
    if (s != XenbusStateInitWait) {
        rc = s < 0 ? s : -XEN_ENODEV;
        goto out;
    }
    rc = dev_connect(dev);
    if (rc)
        goto out;
    for (unsigned int qi = 0; qi < dev->info.nr_queues; qi++) {
        struct blk_queue *q = &dev->q[qi];

        for (unsigned int sl = 0; sl < RING_SLOTS && !rc; sl++)
            if (q->slot[sl].busy) {
                rc = slot_put(dev, q, sl);
                dev->st.resubmitted++;
            }
    }
    if (rc)
        goto out;
    push_all(dev);
    dev->st.reconnects++;
out:
    if (rc) {
        printf("blkfront: vbd %u: no reconnection (%d)\n", dev->devid, rc);
        dev->broken = true;
        fail_all(dev, rc < 0 ? rc : -XEN_EIO);
    }
    return rc;
}

/*
 * Wait until at most `until` requests are in flight, following the
 * backend through a restart.  0, or the error that failed the rest.
 */
static int dev_wait(struct blk_dev *dev, unsigned int until)
{
    uint64_t last = time_now_ns();

    while (busy_count(dev) > until) {
        unsigned int seen = dev->events;
        int n = poll_all(dev);

        if (n < 0)
            return n;
        if (n > 0) {
            last = time_now_ns();
            continue;
        }
        if (sched_wait_count(&dev->events, seen + 1, POLL_NS))
            continue;
        /* Quiet for a while: has the backend gone? */
        xenbus_watch_dispatch();
        if (dev->be_changed) {
            int rc = dev_recover(dev);

            if (rc)
                return rc;
            last = time_now_ns();
        } else if (time_now_ns() - last > BLKFRONT_TIMEOUT_NS) {
            printf("blkfront: vbd %u: no response in %llu s\n", dev->devid,
                   BLKFRONT_TIMEOUT_NS / 1000000000ULL);
            dev->broken = true;
            fail_all(dev, -XEN_ETIMEDOUT);
            return -XEN_ETIMEDOUT;
        }
    }
    return 0;
}

/* A free slot of q, or -1. */
static int slot_find(struct blk_queue *q)
{
    if (q->nr_busy >= RING_SLOTS)
        return -1;
    for (unsigned int s = 0; s < RING_SLOTS; s++)
        if (!q->slot[s].busy)
            return (int)s;
    return -1;
}

/*
 * Put one request (op BLKIF_OP_READ/WRITE of nsec <= max_segs pages, or
 * FLUSH/BARRIER/DISCARD) on the next queue with room.  -XEN_EAGAIN when
 * every queue is full (wait for answers, then retry).
 */
static int submit(struct blk_dev *dev, uint8_t op, uint64_t sector,
                  uint32_t nsec, uint64_t nr_discard, uint8_t *buf, int *status)
{
    unsigned int nseg = (nsec + SECTORS_PER_PAGE - 1) / SECTORS_PER_PAGE;
    bool indirect = nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST;
    unsigned int nq = dev->info.nr_queues;

    for (unsigned int k = 0; k < nq; k++) {
        struct blk_queue *q = &dev->q[(dev->next_q + k) % nq];
        uint16_t pages[BLKFRONT_MAX_SEGS + 1];
        struct blk_slot *sl;
        int s = slot_find(q), rc;

        if (s < 0 || RING_FULL(&q->ring) ||
            pool_take(dev, q, nseg + indirect, pages) != 0)
            continue;
        sl = &q->slot[s];
        sl->busy = true;
        q->nr_busy++;
        sl->op = indirect ? BLKIF_OP_INDIRECT : op;
        sl->inner_op = op;
        sl->nseg = (uint16_t)nseg;
        sl->ind = indirect ? pages[nseg] : NO_PAGE;
        sl->nsectors = nsec;
        sl->sector = sector;
        sl->nr_discard = nr_discard;
        sl->buf = buf;
        sl->status = status;
        for (unsigned int i = 0; i < nseg; i++) {
            sl->page[i] = pages[i];
            if (op == BLKIF_OP_WRITE) {
                uint32_t done = i * SECTORS_PER_PAGE;
                uint32_t n = nsec - done < SECTORS_PER_PAGE ? nsec - done
                                                            : SECTORS_PER_PAGE;

                copy_sectors(page_va(dev, q, pages[i]),
                             buf + (size_t)i * PAGE_SIZE, n * BLK_SECTOR_SIZE);
            }
        }
        rc = slot_put(dev, q, (unsigned int)s);
        if (rc)
            slot_done(dev, q, (unsigned int)s, rc);
        dev->next_q = (dev->next_q + k + 1) % nq;
        return rc;
    }
    return -XEN_EAGAIN;
}

/* submit(), waiting for room when the rings or pools are full. */
static int submit_wait(struct blk_dev *dev, uint8_t op, uint64_t sector,
                       uint32_t nsec, uint64_t nr_discard, uint8_t *buf,
                       int *status)
{
    for (;;) {
        int rc = submit(dev, op, sector, nsec, nr_discard, buf, status);

        if (rc != -XEN_EAGAIN)
            return rc;
        if (busy_count(dev) == 0)
            return -XEN_ENOSPC; /* no grant refs, not just busy */
        push_all(dev);
        rc = dev_wait(dev, busy_count(dev) - 1);
        if (rc)
            return rc;
    }
}

/*
 * Before a call: run pending watch events (the backend may have left
 * Connected while we were idle) and follow the backend if so.
 */
static int dev_ready(struct blk_dev *dev)
{
    if (!dev || !dev->used)
        return -XEN_EINVAL;
    xenbus_watch_dispatch();
    if (dev->be_changed && !dev->broken) {
        int rc = dev_recover(dev);

        if (rc)
            return rc;
    }
    return dev->broken ? -XEN_EIO : 0;
}

/* A range of a call: inside the device, aligned to its sector size. */
static int dev_check(struct blk_dev *dev, uint64_t sector, uint64_t nsec,
                     bool write)
{
    uint64_t ss = dev->info.sector_size / BLK_SECTOR_SIZE;

    if (write && dev->info.readonly)
        return -XEN_EROFS;
    if (sector > dev->info.sectors || nsec > dev->info.sectors - sector ||
        sector % ss || nsec % ss)
        return -XEN_EINVAL;
    return 0;
}

/* ---- public API -------------------------------------------------------- */

int blk_batch(struct blk_dev *dev, struct blk_req *reqs, unsigned int n)
{
    int rc = dev_ready(dev);

    if (rc)
        return rc;
    for (unsigned int i = 0; i < n; i++) {
        bool w = reqs[i].op == BLK_WRITE;
        uint32_t chunk = dev->info.max_segs * SECTORS_PER_PAGE;

        reqs[i].status = dev_check(dev, reqs[i].sector, reqs[i].nsectors, w);
        for (uint32_t off = 0; !reqs[i].status && off < reqs[i].nsectors;
             off += chunk) {
            uint32_t len =
                reqs[i].nsectors - off < chunk ? reqs[i].nsectors - off : chunk;
            int err = submit_wait(
                dev, w ? BLKIF_OP_WRITE : BLKIF_OP_READ, reqs[i].sector + off,
                len, 0, (uint8_t *)reqs[i].buf + (size_t)off * BLK_SECTOR_SIZE,
                &reqs[i].status);

            set_status(&reqs[i].status, err);
        }
    }
    push_all(dev);
    rc = dev_wait(dev, 0);
    for (unsigned int i = 0; i < n; i++)
        if (reqs[i].status && !rc)
            rc = reqs[i].status;
    return rc;
}

int blk_read(struct blk_dev *dev, uint64_t sector, void *buf, uint32_t nsectors)
{
    struct blk_req r = {
        .op = BLK_READ, .sector = sector, .nsectors = nsectors, .buf = buf};

    return blk_batch(dev, &r, 1);
}

int blk_write(struct blk_dev *dev, uint64_t sector, const void *buf,
              uint32_t nsectors)
{
    struct blk_req r = {.op = BLK_WRITE,
                        .sector = sector,
                        .nsectors = nsectors,
                        .buf = (void *)buf};

    return blk_batch(dev, &r, 1);
}

/* One request without data (flush, barrier, discard), waited for. */
static int blk_simple(struct blk_dev *dev, uint8_t op, uint64_t sector,
                      uint64_t nr)
{
    int status = 0, rc;

    rc = submit_wait(dev, op, sector, 0, nr, NULL, &status);
    push_all(dev);
    if (!rc)
        rc = dev_wait(dev, 0);
    return rc ? rc : status;
}

int blk_flush(struct blk_dev *dev)
{
    int rc = dev_ready(dev);

    if (rc)
        return rc;
    /* Earlier writes are all answered: the API waits for each call. */
    if (dev->info.flush)
        return blk_simple(dev, BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
    if (dev->info.barrier)
        return blk_simple(dev, BLKIF_OP_WRITE_BARRIER, 0, 0);
    return -XEN_EOPNOTSUPP;
}

int blk_discard(struct blk_dev *dev, uint64_t sector, uint64_t nsectors)
{
    int rc = dev_ready(dev);

    if (!rc)
        rc = dev_check(dev, sector, nsectors, true);
    if (rc)
        return rc;
    if (!dev->info.discard)
        return -XEN_EOPNOTSUPP;
    if (nsectors == 0)
        return 0;
    return blk_simple(dev, BLKIF_OP_DISCARD, sector, nsectors);
}

const struct blk_info *blk_get_info(const struct blk_dev *dev)
{
    return &dev->info;
}

void blk_get_stats(const struct blk_dev *dev, struct blk_stats *st)
{
    *st = dev->st;
    st->events = dev->events;
}

int blk_open(unsigned int devid, unsigned int max_queues, struct blk_dev **out)
{
    struct blk_dev *dev = NULL;
    char v[128], path[192];
    const char *end;
    int rc;

    *out = NULL;
    for (unsigned int i = 0; i < BLKFRONT_MAX_DEVS && !dev; i++)
        if (!devs[i].used) {
            dev = &devs[i];
            memset(dev, 0, sizeof(*dev));
            dev->mem = i;
        }
    if (!dev)
        return -XEN_ENOSPC;
    dev->used = true;
    dev->devid = devid;
    dev->want_queues = max_queues;
    for (unsigned int i = 0; i < BLKFRONT_MAX_QUEUES; i++) {
        dev->q[i].idx = i;
        dev->q[i].port = -1;
        queue_reset_pool(&dev->q[i]);
    }
    snprintf(dev->fe, sizeof(dev->fe), "device/vbd/%u", devid);
    snprintf(path, sizeof(path), "%s/backend", dev->fe);
    rc = xenbus_read(XBT_NIL, path, dev->be, sizeof(dev->be));
    if (rc <= 0) {
        rc = rc == 0 ? -XEN_EIO : rc;
        goto out;
    }
    snprintf(path, sizeof(path), "%s/backend-id", dev->fe);
    rc = xenbus_read(XBT_NIL, path, v, sizeof(v));
    if (rc <= 0) {
        rc = rc == 0 ? -XEN_EIO : rc;
        goto out;
    }
    dev->be_id = (domid_t)strtoull(v, &end, 10);
    if (end == v || *end) {
        rc = -XEN_EIO;
        goto out;
    }
    snprintf(dev->token, sizeof(dev->token), "blkfront-%u", devid);
    snprintf(path, sizeof(path), "%s/state", dev->be);
    rc = xenbus_watch(path, dev->token, be_state_cb, dev);
    if (rc)
        goto out;
    rc = set_state(dev, XenbusStateInitialising);
    if (!rc)
        rc = be_wait(dev, 1u << XenbusStateInitWait, BLKFRONT_TIMEOUT_NS);
    if (rc >= 0)
        rc = dev_connect(dev);
    if (rc < 0) {
        printf("blkfront: vbd %u: open failed (%d), our state %d, backend "
               "%s state %d\n",
               devid, rc, (int)dev->state, dev->be,
               (int)xenbus_read_state(dev->be));
        xenbus_unwatch(path, dev->token);
        for (unsigned int i = 0; i < dev->info.nr_queues; i++)
            queue_teardown(&dev->q[i]);
        goto out;
    }
    rc = 0;
    *out = dev;
out:
    if (rc)
        dev->used = false;
    return rc;
}

int blk_close(struct blk_dev *dev)
{
    char path[192];
    int rc = 0;

    if (!dev || !dev->used)
        return -XEN_EINVAL;
    if (!dev->broken)
        dev_wait(dev, 0);
    set_state(dev, XenbusStateClosing);
    be_wait(dev,
            (1u << XenbusStateClosing) | (1u << XenbusStateClosed) |
                (1u << XenbusStateUnknown),
            BLKFRONT_TIMEOUT_NS / 6);
    set_state(dev, XenbusStateClosed);
    be_wait(dev, (1u << XenbusStateClosed) | (1u << XenbusStateUnknown),
            BLKFRONT_TIMEOUT_NS / 6);
    for (unsigned int i = 0; i < dev->info.nr_queues; i++) {
        if (queue_teardown(&dev->q[i]))
            rc = -XEN_EBUSY;
    }
    fail_all(dev, -XEN_EIO);
    snprintf(path, sizeof(path), "%s/state", dev->be);
    xenbus_unwatch(path, dev->token);
    dev->used = false;
    return rc;
}
