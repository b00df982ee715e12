/*
 * blkfront_prog.h — a blkif frontend as a plain program: a process domain
 * (an unprivileged host process with its own domid, grant table and event
 * channels, see dom0-tools/README.md) that drives blkback through the real
 * ring, grants and event channels (<xen/io/blkif.h>, <xen/io/ring.h>,
 * the XenbusState handshake of <xen/io/xenbus.h>).
 *
 * Xenstore: a process domain has no xenstore ring, so the program uses a
 * xenstored connection its root parent opened before dropping privileges
 * (the toolstack's role); it writes only its own device/vbd/<devid> keys.
 * bfp_toolstack_add/remove write and remove the backend and frontend
 * directories as libxl lays them out.
 *
 * The raw calls (bfp_raw_*) put anything on the ring, for malicious-
 * frontend tests.
 */
#ifndef TESTS_BLK_BLKFRONT_PROG_H
#define TESTS_BLK_BLKFRONT_PROG_H

#include <stdbool.h>
#include <stdint.h>

#include <xenstore.h>

#ifndef xen_mb
#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif
#include <xen/io/blkif.h>
#include <xen/io/ring.h>
#include <xen/io/xenbus.h>

/* What to ask for at connect time. */
struct bfp_opts {
    bool persistent;         /* write feature-persistent=1 */
    unsigned int order;      /* ring-page-order (0: one page, ring-ref) */
    unsigned int nr_queues;  /* >1: multi-queue-num-queues, queue-N/ keys;
                                the I/O calls use queue 0 */
    unsigned int pool_pages; /* persistent data pages (default 128) */
    bool alias; /* benchmarks (persistent, buf NULL): requests take pool
                   pages round-robin without owning them, so more data can
                   be in flight than the 1 MiB a process domain shares;
                   the last ALIAS_IND_PAGES pool pages are indirect pages,
                   one per slot id modulo that count (pool_pages must be
                   above it) */
};

/* One I/O for bfp_run.  buf NULL: the granted pages are used as they are
 * (benchmarks); else data is copied from buf (write) or into it (read). */
struct bfp_io {
    uint8_t op;      /* BLKIF_OP_READ, WRITE, FLUSH_DISKCACHE, ... */
    uint64_t sector; /* 512-byte sectors */
    uint32_t nsects; /* sectors (rw: at most 256 pages' worth) */
    void *buf;
    int16_t status; /* BLKIF_RSP_* after bfp_run */
};

/* Counters of one frontend. */
struct bfp_stats {
    uint64_t requests, notify_out, notify_in, reconnects;
    uint64_t bad_rsp_op; /* responses naming another operation: ERROR */
};

struct bfp;

/*
 * bfp_toolstack_add — as root (xs a dom0 connection): write the backend
 * directory /local/domain/0/backend/vbd/<fe>/<devid> (frontend,
 * frontend-id, params=path, mode "w"/"r", online 1, state 1) and the
 * frontend's device/vbd/<devid> (backend, backend-id 0, state 1), with
 * the frontend directory writable by domain fe.  0 or -1.
 */
int bfp_toolstack_add(struct xs_handle *xs, uint32_t fe, uint32_t devid,
                      const char *path, bool writable);

/*
 * bfp_toolstack_add_state — the same in one transaction, but with the
 * backend's state node be_state (XenbusState) and online 0 or 1: a
 * toolstack that detaches before the backend looked.  0 or -1.
 */
int bfp_toolstack_add_state(struct xs_handle *xs, uint32_t fe, uint32_t devid,
                            const char *path, bool writable, int be_state,
                            bool online);

/* bfp_toolstack_remove — remove both directories (hot-unplug). */
void bfp_toolstack_remove(struct xs_handle *xs, uint32_t fe, uint32_t devid);

/*
 * bfp_domid — this process's domain id (a process domain once it has
 * opened the grant/event libraries), or -1.
 */
int bfp_domid(void);

/*
 * bfp_open — become the frontend of device devid: open the sharing and
 * event-channel handles (as the calling process's domain).  xs is the
 * connection bfp writes device/vbd/<devid> with (bfp_connect reads its
 * backend key, so bfp_toolstack_add may come after bfp_open).  NULL on
 * error (errno).
 */
struct bfp *bfp_open(struct xs_handle *xs, uint32_t devid,
                     const struct bfp_opts *opts);

/* bfp_get_domid — the frontend's own domain id. */
int bfp_get_domid(const struct bfp *f);

/*
 * bfp_connect — the handshake: wait (timeout_ms) for backend InitWait,
 * share and publish the ring(s) and event channel(s), state Initialised,
 * wait for Connected, state Connected.  0, or -1 (timeout, refused).
 */
int bfp_connect(struct bfp *f, int timeout_ms);

/* Backend facts read at connect: sectors, info, feature flags. */
uint64_t bfp_sectors(const struct bfp *f);
unsigned int bfp_info(const struct bfp *f);
unsigned int bfp_max_indirect(const struct bfp *f);
bool bfp_feature(const struct bfp *f, const char *key);

/*
 * bfp_run — do n I/Os, at most depth in flight, each one request (rw
 * above 11 segments as BLKIF_OP_INDIRECT); fills each status.  If the
 * backend goes away (state not Connected) the frontend reconnects and
 * resubmits what was in flight.  Returns 0 when every request got a
 * response (any status), -1 on timeout (timeout_ms without progress) or
 * when there is no ring (never connected).
 */
int bfp_run(struct bfp *f, struct bfp_io *io, unsigned int n,
            unsigned int depth, int timeout_ms);

/*
 * bfp_disconnect — state Closing, wait for the backend to close, state
 * Closed; unshare what was shared.  0 or -1 on timeout.
 */
int bfp_disconnect(struct bfp *f, int timeout_ms);

/*
 * bfp_reconnect — what the frontend does when the backend went away or
 * disconnected it: drop the rings, state Closed then Initialising, the
 * handshake again (timeout_ms), and put every request still in flight on
 * the new ring.  0 or -1.
 */
int bfp_reconnect(struct bfp *f, int timeout_ms);

/* bfp_close — release everything (the backend may still map pages). */
void bfp_close(struct bfp *f);

void bfp_get_stats(const struct bfp *f, struct bfp_stats *out);

/* The backend's state node, -1 when absent. */
int bfp_backend_state(struct bfp *f);

/* Wait until the backend state is want; 0, or -1 after timeout_ms. */
int bfp_wait_backend(struct bfp *f, int want, int timeout_ms);

/* ---- raw access for malicious tests (queue 0) ---- */

/* Share n fresh pages (writable), refs out; their address, or NULL. */
void *bfp_raw_share(struct bfp *f, unsigned int n, uint32_t *refs);

/* Copy req into the next ring slot and publish it (req_prod + 1); notify
 * when notify.  No check at all. */
void bfp_raw_push(struct bfp *f, const blkif_request_t *req, bool notify);

/* Write req_prod as is (indexes that go backwards or jump) and notify. */
void bfp_raw_set_req_prod(struct bfp *f, RING_IDX prod);

/* req_prod as we last published it. */
RING_IDX bfp_raw_req_prod(const struct bfp *f);

/* The next response within timeout_ms: 0 and *rsp, or -1. */
int bfp_raw_response(struct bfp *f, blkif_response_t *rsp, int timeout_ms);

/* Notify the backend once (no request). */
void bfp_raw_notify(struct bfp *f);

/* RING_SIZE of queue 0's ring. */
unsigned int bfp_raw_ring_size(const struct bfp *f);

#endif
