/*
 * blkfront.h — the guest's PV block frontend (<xen/io/blkif.h>,
 * <xen/io/ring.h>, the XenbusState handshake of <xen/io/xenbus.h>, the
 * vbd keys of Xen's docs/misc/xenstore-paths).
 *
 * blk_open() finds device/vbd/<devid> in the domain's home, waits for the
 * backend's InitWait, sets up one ring per queue (multi-queue-num-queues
 * when the backend offers multi-queue-max-queues, blkif.h "Multiple
 * Queues"), announces feature-persistent and the x86_64 protocol, goes
 * Initialised, and once the backend is Connected reads its features and
 * goes Connected.
 *
 * Data path: every request's data is copied through pages of a per-queue
 * pool (the caller's buffer is never granted).  With the backend's
 * feature-persistent the pool pages stay granted for the device's life and
 * are reused ("persistent grants"); without it each page is granted for
 * one request and its access ended after the response.  A read or write
 * uses up to BLKIF_MAX_SEGMENTS_PER_REQUEST (11) segments directly, or up
 * to BLKFRONT_MAX_SEGS through one indirect page (BLKIF_OP_INDIRECT) when
 * the backend offers feature-max-indirect-segments.  Requests of one call
 * go round-robin over the queues and are pushed with one notification per
 * queue and batch (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY).
 *
 * Responses are validated: an index more than a ring ahead, an unknown or
 * idle id, or an operation that is not the request's marks the device
 * broken (every later call fails with -XEN_EIO).  A backend that leaves
 * Connected (Closing, Closed, or InitWait again after a restart) is
 * followed: the frontend closes, re-initialises its rings and grants,
 * waits for Connected again and resubmits the requests that were in
 * flight.
 *
 * Units: every sector number and count of this API is in 512-byte
 * sectors, as blkif.h's sector_number; when the backend's sector-size is
 * larger, starts and lengths must be multiples of it.
 *
 * The kernel runs with interrupts off: calls are synchronous, block the
 * vCPU (SCHEDOP_block) while waiting and use the xenbus client, so one
 * vCPU at a time may use blkfront.  xenbus_init() and gnttab_init() must
 * have succeeded first.
 *
 * Errors: 0 or a negative Xen errno (<xen/errno.h>).
 */
#ifndef XENKERN_BLKFRONT_H
#define XENKERN_BLKFRONT_H

#include <stdbool.h>
#include <stdint.h>
#include <xen/xen.h>

/* Devices open at once, queues per device, segments per request. */
#define BLKFRONT_MAX_DEVS   2
#define BLKFRONT_MAX_QUEUES 4
#define BLKFRONT_MAX_SEGS   32
/* Pool pages per queue: a full indirect request and 31 pages more. */
#define BLKFRONT_POOL_PAGES (BLKFRONT_MAX_SEGS + 32)

/* How long a request or a handshake step may take (ns). */
#define BLKFRONT_TIMEOUT_NS (30ULL * 1000000000ULL)

/* The byte size of a blkif sector (blkif.h: sector_number units). */
#define BLK_SECTOR_SIZE 512

struct blk_dev;

/* What the backend offered (read when it became Connected). */
struct blk_info {
    uint64_t sectors;             /* device size in 512-byte sectors */
    uint32_t sector_size;         /* logical sector size (bytes) */
    uint32_t info;                /* VDISK_* bits */
    uint32_t max_segs;            /* segments per read/write we use */
    uint32_t max_indirect;        /* feature-max-indirect-segments (0: none) */
    uint32_t nr_queues;           /* rings in use */
    uint32_t discard_granularity; /* bytes (0: not given) */
    uint32_t discard_alignment;   /* bytes */
    bool flush;                   /* feature-flush-cache */
    bool barrier;                 /* feature-barrier */
    bool discard;                 /* feature-discard */
    bool persistent;              /* feature-persistent (both ends) */
    bool readonly;                /* VDISK_READONLY or mode "r" */
};

/* Counters since blk_open(). */
struct blk_stats {
    uint64_t requests;    /* ring requests pushed (resubmits included) */
    uint64_t indirect;    /* of which BLKIF_OP_INDIRECT */
    uint64_t notify;      /* event channel sends to the backend */
    uint64_t events;      /* events received from the backend */
    uint64_t grants;      /* gnttab_grant_access() calls for data pages */
    uint64_t reconnects;  /* completed reconnections */
    uint64_t resubmitted; /* requests resubmitted after a reconnection */
    uint64_t bad_status;  /* responses with a status outside blkif.h's */
};

/*
 * One request of a batch (blk_batch): op BLK_READ/BLK_WRITE of nsectors
 * 512-byte sectors at sector from/to buf; status receives 0 or -errno.
 */
enum blk_op { BLK_READ, BLK_WRITE };
struct blk_req {
    enum blk_op op;
    uint64_t sector;
    uint32_t nsectors;
    void *buf;
    int status;
};

/*
 * blk_open — connect to device/vbd/<devid> (devid: the Xen virtual-device
 * number, docs/man/xen-vbd-interface) using at most max_queues rings (0:
 * as many as the backend offers, capped at BLKFRONT_MAX_QUEUES).  *out
 * receives the device.  Errors: -XEN_ENOENT (no such device), -XEN_ENOSPC
 * (BLKFRONT_MAX_DEVS open, or no grant refs), -XEN_ETIMEDOUT (the backend
 * did not reach InitWait/Connected within BLKFRONT_TIMEOUT_NS), -XEN_EIO
 * (bad backend keys), or the xenbus/evtchn error.
 */
int blk_open(unsigned int devid, unsigned int max_queues, struct blk_dev **out);

/* blk_get_info — the backend's offer and what is in use. */
const struct blk_info *blk_get_info(const struct blk_dev *dev);

/* blk_get_stats — the counters into *st. */
void blk_get_stats(const struct blk_dev *dev, struct blk_stats *st);

/*
 * blk_read / blk_write — nsectors 512-byte sectors at sector into/from
 * buf (any address; nsectors * 512 bytes).  Split into requests of up to
 * max_segs pages, in flight together.  Errors: -XEN_EINVAL (beyond the
 * device's end, or not aligned to sector-size), -XEN_EROFS (write to a
 * read-only device), -XEN_EIO (the backend answered BLKIF_RSP_ERROR, or
 * the device is broken), -XEN_ETIMEDOUT, -XEN_ENODEV (the backend closed
 * for good: its directory is gone, or it is Closed with online = 0, as
 * xl block-detach leaves it; later calls give -XEN_EIO).
 */
int blk_read(struct blk_dev *dev, uint64_t sector, void *buf,
             uint32_t nsectors);
int blk_write(struct blk_dev *dev, uint64_t sector, const void *buf,
              uint32_t nsectors);

/*
 * blk_batch — n independent requests in flight together (the queue depth
 * is n, up to what the rings and pools hold); each gets its own status.
 * Returns 0 when all succeeded, else the first failure's -errno.
 */
int blk_batch(struct blk_dev *dev, struct blk_req *reqs, unsigned int n);

/*
 * blk_flush — make every completed write durable: BLKIF_OP_FLUSH_DISKCACHE
 * (or a WRITE_BARRIER without segments when only feature-barrier is
 * offered).  -XEN_EOPNOTSUPP when neither is offered or the backend
 * answers BLKIF_RSP_EOPNOTSUPP; -XEN_EIO, -XEN_ETIMEDOUT.
 */
int blk_flush(struct blk_dev *dev);

/*
 * blk_discard — BLKIF_OP_DISCARD of nsectors 512-byte sectors at sector
 * (blkif.h "feature-discard"; the range should follow
 * discard-granularity/alignment).  -XEN_EOPNOTSUPP without the feature,
 * -XEN_EINVAL beyond the end, -XEN_EROFS, -XEN_EIO, -XEN_ETIMEDOUT.
 */
int blk_discard(struct blk_dev *dev, uint64_t sector, uint64_t nsectors);

/*
 * blk_close — go Closing, wait (bounded) for the backend's Closing or
 * Closed, go Closed, end every grant and free the device.  Returns 0 or
 * -XEN_EBUSY when the backend kept a page mapped (that grant is leaked).
 */
int blk_close(struct blk_dev *dev);

#endif
