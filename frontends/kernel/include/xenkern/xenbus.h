/*
 * xenbus.h — the guest's xenstore client ("xenbus") over the shared ring.
 *
 * Implements the guest side of Xen's docs/misc/xenstore-ring.txt (struct
 * xenstore_domain_interface in <xen/io/xs_wire.h>: two 1 KiB byte queues
 * with free-running indexes) carrying the messages of
 * docs/misc/xenstore.txt (struct xsd_sockmsg header + payload).  The ring
 * page and its event channel come from HVM_PARAM_STORE_PFN and
 * HVM_PARAM_STORE_EVTCHN (<xen/hvm/params.h>), as a PVH Linux finds them.
 *
 * The kernel runs with interrupts off, so the client is synchronous: a
 * caller that waits blocks the vCPU (SCHEDOP_block, woken by the store
 * event channel or a timer) and moves bytes itself.  Replies are matched
 * by req_id, so several requests may be in flight (xenbus_send() +
 * xenbus_wait_reply()); XS_WATCH_EVENT messages are queued and handed to
 * watch callbacks only by xenbus_watch_dispatch()/xenbus_watch_wait().
 * One vCPU at a time may use the client (no locking).
 *
 * The synchronous calls (xenbus_read ... xenbus_transaction_end) give up
 * a request that timed out, so its slot is free for the next one.
 *
 * Errors: every function returns 0 (or a documented count/length) or a
 * negative Xen errno (<xen/errno.h>).  Errors the server reports as an
 * XS_ERROR string ("ENOENT", "EACCES", "EAGAIN", ...: the xsd_errors list
 * of <xen/io/xs_wire.h>) come back as the matching -XEN_E*.  Client-side
 * errors:
 *   -XEN_ENODEV     before xenbus_init();
 *   -XEN_ETIMEDOUT  the server did not answer within the timeout
 *                   (XENBUS_TIMEOUT_NS, see xenbus_set_timeout());
 *   -XEN_EIO        the server broke the ring protocol (indexes more than
 *                   a ring apart, a payload above XENSTORE_PAYLOAD_MAX,
 *                   the ring's error field set under
 *                   XENSTORE_SERVER_FEATURE_ERROR): the client refuses
 *                   further use until xenbus_init() or xenbus_reconnect();
 *                   also a reply of another type than its request (the
 *                   ring stays usable);
 *   -XEN_E2BIG      a request, or a caller's buffer, too small for the data;
 *   -XEN_EBUSY      XENBUS_MAX_IN_FLIGHT requests already in flight.
 */
#ifndef XENKERN_XENBUS_H
#define XENKERN_XENBUS_H

#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/io/xs_wire.h>
#include <xen/io/xenbus.h>

/* A transaction id (xsd_sockmsg.tx_id); XBT_NIL is "no transaction". */
typedef uint32_t xenbus_transaction_t;
#define XBT_NIL ((xenbus_transaction_t)0)

/*
 * How long a request waits for its reply or for ring space (ns of system
 * time), unless xenbus_set_timeout() changed it.
 */
#define XENBUS_TIMEOUT_NS (10ULL * 1000000000ULL)

/*
 * xenbus_set_timeout — the bound on each wait of a request, in ns (0
 * keeps the current one).  Returns the previous bound.
 */
uint64_t xenbus_set_timeout(uint64_t timeout_ns);

/* Requests that may be waiting for their replies at once. */
#define XENBUS_MAX_IN_FLIGHT 8

/*
 * xenbus_init — find the ring (HVM_PARAM_STORE_PFN, mapped 1:1 by the
 * kernel's page tables) and its port (HVM_PARAM_STORE_EVTCHN), attach the
 * client's handler to the port and unmask it.  Returns 0, the
 * HVMOP_get_param error, or -XEN_ENODEV when a param is 0 (no xenstore
 * for this domain).  Calling it again re-reads the params.
 */
int xenbus_init(void);

/*
 * xenbus_send — queue one request of type (XS_*) with payload (len bytes,
 * the NUL-separated strings of docs/misc/xenstore.txt) inside transaction
 * t, and notify the server.  Waits (bounded by the timeout) while
 * the request ring is full.  *req_id receives the fresh request id to
 * pass to xenbus_wait_reply().  Errors: -XEN_E2BIG (len >
 * XENSTORE_PAYLOAD_MAX), -XEN_EBUSY (XENBUS_MAX_IN_FLIGHT waiting),
 * -XEN_EIO, -XEN_ETIMEDOUT, -XEN_ENODEV.
 */
int xenbus_send(uint32_t type, xenbus_transaction_t t, const void *payload,
                size_t len, uint32_t *req_id);

/*
 * xenbus_wait_reply — wait (up to the timeout) for the reply to
 * req_id and copy its payload into buf (len bytes) followed by a NUL.
 * Returns the payload length in bytes (without the added NUL), the
 * server's XS_ERROR as -XEN_E*, -XEN_E2BIG when buf cannot hold payload +
 * NUL (the reply is consumed), -XEN_EINVAL for an unknown req_id,
 * -XEN_EIO, -XEN_ETIMEDOUT (the req_id stays pending and may be waited
 * for again).  *type, when not NULL, receives the reply's type.
 */
int xenbus_wait_reply(uint32_t req_id, char *buf, size_t len, uint32_t *type);

/*
 * xenbus_read — XS_READ of path (absolute, or relative to the domain's
 * home /local/domain/<domid>) into buf (len bytes, NUL-terminated).
 * Returns the value's length in bytes, or -errno (-XEN_ENOENT, -XEN_EACCES,
 * -XEN_E2BIG when buf is too small, ...).
 */
int xenbus_read(xenbus_transaction_t t, const char *path, char *buf,
                size_t len);

/* xenbus_write — XS_WRITE of the NUL-terminated value at path; 0/-errno. */
int xenbus_write(xenbus_transaction_t t, const char *path, const char *value);

/* xenbus_mkdir — XS_MKDIR (no error if it exists); 0 or -errno. */
int xenbus_mkdir(xenbus_transaction_t t, const char *path);

/* xenbus_rm — XS_RM of path and its children; 0 or -errno. */
int xenbus_rm(xenbus_transaction_t t, const char *path);

/*
 * xenbus_directory — XS_DIRECTORY of path: the children's names, each
 * NUL-terminated, one after the other in buf (len bytes).  Returns the
 * number of names, or -errno (-XEN_E2BIG when buf is too small).
 */
int xenbus_directory(xenbus_transaction_t t, const char *path, char *buf,
                     size_t len);

/*
 * xenbus_printf — write the printf-formatted value (at most 256 bytes) at
 * dir/node (node alone when dir is NULL or empty); 0 or -errno.
 */
int xenbus_printf(xenbus_transaction_t t, const char *dir, const char *node,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * A watch callback: path is the node that changed (or the watched path
 * when the watch is first set, which fires it once, xenstore.txt WATCH),
 * token the one given to xenbus_watch().
 */
typedef void (*xenbus_watch_cb_t)(const char *path, const char *token,
                                  void *arg);

/* Watches that may be registered at once. */
#define XENBUS_MAX_WATCHES 16

/*
 * xenbus_watch — XS_WATCH of path with token (unique among this client's
 * watches; both at most XENBUS_WATCH_STR_MAX - 1 bytes); cb(arg) runs for
 * each event from xenbus_watch_dispatch().  Returns 0, -XEN_EEXIST for a
 * token already in use, -XEN_ENOSPC (XENBUS_MAX_WATCHES in use),
 * -XEN_E2BIG, or the server's -errno.
 */
#define XENBUS_WATCH_STR_MAX 256
int xenbus_watch(const char *path, const char *token, xenbus_watch_cb_t cb,
                 void *arg);

/*
 * xenbus_unwatch — XS_UNWATCH; also drops queued events of token.
 * Returns 0, -XEN_ENOENT for an unknown token, or the server's -errno.
 */
int xenbus_unwatch(const char *path, const char *token);

/*
 * xenbus_watch_dispatch — run the callbacks of the watch events received
 * so far (reading the ring for new ones first, without waiting).  Returns
 * the number of callbacks run, or -XEN_EIO.
 */
int xenbus_watch_dispatch(void);

/*
 * xenbus_watch_wait — wait up to timeout_ns (ns) for at least one watch
 * event, then dispatch like xenbus_watch_dispatch().  Returns the number
 * of callbacks run (0 on timeout) or -XEN_EIO.
 */
int xenbus_watch_wait(uint64_t timeout_ns);

/* xenbus_watch_dropped — events lost because the event queue was full. */
unsigned int xenbus_watch_dropped(void);

/*
 * xenbus_transaction_start — XS_TRANSACTION_START; *t receives the id.
 * 0 or -errno.
 */
int xenbus_transaction_start(xenbus_transaction_t *t);

/*
 * xenbus_transaction_end — XS_TRANSACTION_END committing (abort == 0) or
 * discarding (abort != 0) t.  Returns 0, -XEN_EAGAIN when a commit
 * conflicted with another change (retry the whole transaction), or -errno.
 */
int xenbus_transaction_end(xenbus_transaction_t t, int abort);

/*
 * xenbus_switch_state — write state (enum xenbus_state, <xen/io/xenbus.h>)
 * to dir/state, as a frontend or backend announces its XenbusState.
 * 0 or -errno.
 */
int xenbus_switch_state(xenbus_transaction_t t, const char *dir,
                        enum xenbus_state state);

/*
 * xenbus_read_state — the XenbusState at dir/state; XenbusStateUnknown
 * when the node is missing or not a number.
 */
enum xenbus_state xenbus_read_state(const char *dir);

/*
 * xenbus_wait_for_state — watch otherend/state until it reads wanted, for
 * at most timeout_ns (ns).  Returns 0, -XEN_ETIMEDOUT, or the watch's
 * -errno.  Not from a watch callback (dispatch does not nest there).  Callbacks
 * of other watches whose events arrive meanwhile run (xenbus_watch_wait()).
 */
int xenbus_wait_for_state(const char *otherend, enum xenbus_state wanted,
                          uint64_t timeout_ns);

/*
 * xenbus_reconnect — ask the server to reset the ring
 * (xenstore-ring.txt "Connection"): set connection = XENSTORE_RECONNECT,
 * notify, wait until the server sets XENSTORE_CONNECTED.  Every pending
 * request, queued event and watch is dropped, as the server drops its
 * side (watches must be set again; open transactions are gone).  Also
 * the way back from -XEN_EIO when the server offers it.  Returns 0,
 * -XEN_EOPNOTSUPP when the server lacks XENSTORE_SERVER_FEATURE_RECONNECTION,
 * -XEN_ETIMEDOUT.
 */
int xenbus_reconnect(void);

/* xenbus_store_port — the store event channel (0 before xenbus_init). */
evtchn_port_t xenbus_store_port(void);

#endif
