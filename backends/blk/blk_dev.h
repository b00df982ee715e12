/*
 * blk_dev.h — blkback's data path: a disk (raw file or block device) and
 * the connection of one frontend to it (its rings, event channels and
 * grants), served with io_uring.  The xenbus handshake (blkback.c) reads
 * the frontend's keys and hands them over here; this module never touches
 * xenstore.  Implements <xen/io/blkif.h> and <xen/io/ring.h>.
 */
#ifndef BACKENDS_BLK_BLK_DEV_H
#define BACKENDS_BLK_BLK_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>

#define BLK_MAX_QUEUES          4 /* multi-queue-max-queues */
#define BLK_MAX_RING_ORDER      4 /* max-ring-page-order: 16 pages */
#define BLK_MAX_RING_PAGES      (1u << BLK_MAX_RING_ORDER)
#define BLK_MAX_INDIRECT_SEGS   256  /* feature-max-indirect-segments */
#define BLK_DISCARD_GRANULARITY 4096 /* bytes; discard-granularity */

/* An open disk.  sectors are 512-byte units, as blkif counts them. */
struct blk_disk {
    int fd;
    uint64_t sectors;
    uint32_t sector_size;      /* bytes (512) */
    uint32_t phys_sector_size; /* bytes */
    bool readonly;
    bool direct;  /* opened with O_DIRECT */
    bool discard; /* punch-hole works on this file */
};

/*
 * blk_disk_open — open path (a regular file or a block device) for
 * serving: O_DIRECT unless direct is false (or the file system refuses
 * it, then buffered I/O and disk->direct false), read-only when readonly.
 * Returns 0 or a negative errno (ENOENT, EACCES, EINVAL for a size that is
 * not a whole number of sectors...).
 */
int blk_disk_open(struct blk_disk *disk, const char *path, bool readonly,
                  bool direct);

/* blk_disk_close — close an opened disk (fd -1 afterwards). */
void blk_disk_close(struct blk_disk *disk);

/*
 * What the frontend published (blkif.h "Frontend XenBus Nodes"): per queue
 * its ring pages (ring-ref / ring-refN / queue-N/...) and the port it
 * allocated; persistent = both sides wrote feature-persistent.
 */
struct blk_conn_cfg {
    uint32_t fe_domid;
    unsigned int nr_queues;  /* 1..BLK_MAX_QUEUES */
    unsigned int ring_order; /* 0..BLK_MAX_RING_ORDER */
    grant_ref_t ring_refs[BLK_MAX_QUEUES][BLK_MAX_RING_PAGES];
    evtchn_port_t ports[BLK_MAX_QUEUES];
    bool persistent;
    /* SQEs per io_uring_submit while a ring batch is taken (0: the whole
     * batch in one submit); blkback's --submit-batch, default
     * BLK_SUBMIT_BATCH. */
    unsigned int submit_batch;
    const char *name; /* for the log: "vbd/<domid>/<devid>" */
};

/* Measured (backends/blk/README.md): 4 keeps the disk busy from the
 * first requests of a batch on; 1 costs a syscall per request. */
#define BLK_SUBMIT_BATCH 4

/* Counters of one connection (all queues). */
struct blk_conn_stats {
    uint64_t requests;   /* requests taken from the rings */
    uint64_t errors;     /* answered with BLKIF_RSP_ERROR/EOPNOTSUPP */
    uint64_t notify_in;  /* event-channel events from the frontend */
    uint64_t notify_out; /* event-channel sends to the frontend */
    uint64_t submits;    /* io_uring_submit calls */
    uint64_t pgrants;    /* persistent grants mapped */
    uint64_t iovecs;     /* iovec entries of the reads and writes queued
                            (segments, fewer where mappings touch) */
};

struct blk_conn;

/*
 * blk_conn_start — map the rings of cfg from domain cfg->fe_domid, bind
 * its event channels and serve requests on base until blk_conn_stop.
 * on_fatal(arg) is called (once, from the event loop) when the frontend
 * broke the ring protocol (indexes out of range...): the connection has
 * then stopped serving and logged why; the caller should disconnect it.
 * Returns the connection, or NULL with *err a negative errno (EINVAL bad
 * cfg, EACCES/EINVAL ring grant refused, errors of libxenevtchn).
 */
struct blk_conn *blk_conn_start(struct event_base *base, struct blk_disk *disk,
                                const struct blk_conn_cfg *cfg,
                                void (*on_fatal)(void *arg), void *arg,
                                int *err);

/*
 * blk_conn_stop — wait (at most ~5 s) for the I/O in flight, answer it,
 * then unbind, unmap every grant (rings, persistent grants) and free c.
 */
void blk_conn_stop(struct blk_conn *c);

/* blk_conn_get_stats — c's counters so far. */
void blk_conn_get_stats(const struct blk_conn *c, struct blk_conn_stats *out);

#endif
