/*
 * xs_core.h — internals shared by xenstored's modules: the store (global
 * daemon state), connections and their transport operations, requests,
 * and the entry points of the transaction, watch, domain and state-file
 * modules.  Protocol: Xen docs/misc/xenstore.txt and <xen/io/xs_wire.h>.
 *
 * Error convention: functions return 0 (or a count) on success and a
 * negative errno on failure; the errno is turned into Xen's error string
 * (xsd_errors) only when a reply is sent.
 */
#ifndef XS_CORE_H
#define XS_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <xen/io/xs_wire.h>

#include "xs_db.h"

struct xs_conn;
struct xs_txn;
struct xs_domain;
struct xs_domain_backend;

/*
 * A transport.  The core never knows whether bytes come from a Unix socket
 * or a domain's ring page.
 *   read:  copy up to @len bytes; >0 bytes read, 0 when nothing is
 *          available now, <0 (negative errno) when the peer is gone or
 *          broke the transport's rules (the connection is then dropped).
 *   write: same contract for sending; 0 means "try again later".
 *   want_write: (optional) asked to call xs_conn_process() when the
 *          transport can take more output (@on) or to stop asking.
 *   destroy: free the transport's state; the connection is going away.
 *   kick: (optional) called once the core has finished a batch of reads
 *          and writes, so that a transport that must wake its peer (a
 *          ring's event channel) does it once per batch, not per message.
 */
struct xs_conn_ops {
    ssize_t (*read)(struct xs_conn *conn, void *buf, size_t len);
    ssize_t (*write)(struct xs_conn *conn, const void *buf, size_t len);
    void (*want_write)(struct xs_conn *conn, bool on);
    void (*destroy)(struct xs_conn *conn);
    void (*kick)(struct xs_conn *conn);
};

/* Per-domain limits (dom0 is never limited, as in Xen). */
struct xs_quota {
    unsigned int nodes;        /* nodes a domain may own */
    unsigned int watches;      /* watches per connection */
    unsigned int transactions; /* open transactions per connection */
    unsigned int node_size;    /* bytes in one node's value */
    unsigned int outstanding;  /* replies queued before input stalls */
    unsigned int permissions;  /* entries in one permission list */
};

/* One queued message: header and payload, sent from @off on. */
struct xs_msg {
    struct xs_msg *next;
    size_t len, off;
    unsigned char data[];
};

struct xs_watch {
    struct xs_watch *next;
    char *path; /* canonical absolute path, or "@special" */
    char *token;
    bool relative; /* registered relative: events drop the domain prefix */
    struct xs_conn *conn; /* owner, for the store's index */
    uint64_t seq;         /* registration order: ties in the index */
};

struct xs_conn {
    struct xs_conn *next;
    struct xs_store *store;
    const struct xs_conn_ops *ops;
    void *transport;
    uint32_t domid;
    uint32_t target; /* SET_TARGET: domain this one acts for; else none */
    bool dead;
    /* Input: a header, then its payload. */
    struct xsd_sockmsg hdr;
    size_t hdr_used;
    char *in;
    size_t in_used;
    /* Output queue. */
    struct xs_msg *out_head, *out_tail;
    unsigned int out_count;
    struct xs_watch *watches;
    unsigned int nwatches;
    struct xs_txn *txns;
    unsigned int ntxns;
    uint32_t next_txid;
    struct xs_domain *domain; /* NULL for a socket connection */
    bool events_dropped;      /* logged once: watch event backlog full */
    /*
     * xs_conn_process() stopped after XS_CONN_BUDGET requests: more may be
     * waiting in the transport, and the caller must come back (a socket's
     * level-triggered read event does; a ring needs a kick).
     */
    bool more_input;
    bool in_process; /* inside xs_conn_process(): kick once at its end */
};

/*
 * Requests one connection may have handled per xs_conn_process() call.
 * The daemon serves every ready connection in turn (one libevent loop
 * iteration), so a client that pipelines requests delays another one's
 * request by at most this many requests' work, not by its whole backlog.
 */
#define XS_CONN_BUDGET 8

/* Watch events queued beyond quota.outstanding before more are dropped. */
#define XS_WATCH_EVENT_BACKLOG 1024

/*
 * A special watch path (xenstore.txt: "@introduceDomain", "@releaseDomain")
 * with its own permissions: only domains that may read it get its events.
 */
#define XS_SPECIAL_PERMS_MAX 64
struct xs_special {
    const char *name;
    struct xs_perm perms[XS_SPECIAL_PERMS_MAX];
    unsigned int n;
};

struct xs_store {
    struct xs_db *db;
    uint64_t gen;
    struct xs_conn *conns;
    struct xs_quota quota;
    struct xs_domain *domains;
    struct xs_domain_backend *backend; /* NULL: no xen-hv to talk to */
    void *evbase; /* struct event_base * of the daemon; NULL in tests */
    bool verbose;
    bool trace;                   /* CONTROL log on: every request is logged */
    struct xs_special special[2]; /* "n0" at start: dom0 only */
    /*
     * Every watch of every connection sorted by (path, seq), so that a
     * change finds its watchers by binary search (xs_watch.c) instead of
     * visiting every connection and watch.
     */
    struct xs_watch **widx;
    unsigned int nwidx, capwidx;
    uint64_t wseq;
    /* Connections marked dead and not yet freed: reaping is free if 0. */
    unsigned int ndead;
};

/* The special path named @path, or NULL. */
struct xs_special *xs_special_find(struct xs_store *store, const char *path);

/* A request being handled; memory from xs_req_alloc() lives until done. */
struct xs_req {
    struct xs_conn *conn;
    struct xsd_sockmsg hdr;
    char *payload; /* hdr.len bytes plus a NUL the core appends */
    struct xs_txn *txn;
    struct xs_db *db; /* the transaction's view, or the store's tree */
    struct xs_mem *mem;
    /* Changes to announce to watchers once the reply is queued. */
    struct xs_event *events;
};

struct xs_event {
    struct xs_event *next;
    char *path;
    bool rm;
};

/* ---- xs_core.c ---- */

/* Initialise @store with an empty tree and Xen's default quotas. */
int xs_store_init(struct xs_store *store);

/* Drop every connection and free the tree. */
void xs_store_fini(struct xs_store *store);

/* Log a line to stderr (always) prefixed with "xenstored: ". */
void xs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Make a connection acting as domain @domid over @ops/@transport and add
 * it to @store.  NULL on allocation failure.
 */
struct xs_conn *xs_conn_new(struct xs_store *store,
                            const struct xs_conn_ops *ops, void *transport,
                            uint32_t domid);

/*
 * Move data: send queued output, then read and handle up to
 * XS_CONN_BUDGET complete requests (setting conn->more_input when the
 * budget ran out), stalling while the outstanding-reply quota is reached
 * (xs_conn_stalled()).  Errors mark the connection dead.
 */
void xs_conn_process(struct xs_conn *conn);

/*
 * True while @conn has quota.outstanding or more messages queued for its
 * client: its input is not read until the client takes some.  Applies to
 * every connection, domain 0's sockets too, so that a client that sends
 * without reading cannot make the daemon queue replies without bound.
 */
bool xs_conn_stalled(const struct xs_conn *conn);

/* Mark @conn dead (freed by xs_store_reap()); @why is logged. */
void xs_conn_kill(struct xs_conn *conn, const char *why);

/* Free every dead connection (call when no handler is running). */
void xs_store_reap(struct xs_store *store);

/* Discard watches, transactions, pending input and output (ring reset). */
void xs_conn_reset(struct xs_conn *conn);

/*
 * Queue one message (header @type/@req_id/@tx_id, @len bytes of @data,
 * @len <= XENSTORE_PAYLOAD_MAX) and try to send it.  -ENOMEM, -E2BIG.
 */
int xs_conn_send(struct xs_conn *conn, uint32_t type, uint32_t req_id,
                 uint32_t tx_id, const void *data, size_t len);

/* True when @conn acts with domain 0's privilege. */
bool xs_conn_privileged(const struct xs_conn *conn);

/*
 * Canonicalise @path for @domid (xenstore.txt "<path>"): a relative path
 * is taken under /local/domain/<domid>.  Checks characters (alphanumerics
 * and -/_@), doubled and trailing slashes, and the lengths
 * XENSTORE_ABS_PATH_MAX / XENSTORE_REL_PATH_MAX.  A path starting with
 * '@' is accepted only when @special.  On success *@out is a string in
 * @req's memory and *@relative says whether @path was relative.
 * Errors: -EINVAL, -ENOMEM.
 */
int xs_path_canonical(struct xs_req *req, const char *path, bool special,
                      char **out, bool *relative);

/* Allocate @size zeroed bytes freed when @req is done; NULL if no memory. */
void *xs_req_alloc(struct xs_req *req, size_t size);

/* Xen's error name for a negative errno ("EINVAL" for unknown ones). */
const char *xs_errno_name(int err);

/* Parse a decimal domid (< 65536 here, DOMID_FIRST_RESERVED in Xen). */
int xs_parse_domid(const char *s, uint32_t *domid);

/*
 * Set the limit @name (nodes, watches, transactions, node-size,
 * outstanding, permissions) to the decimal @value.  -EINVAL otherwise.
 */
int xs_quota_set(struct xs_quota *quota, const char *name, const char *value);

/* ---- xs_transaction.c ---- */

/* Open a transaction on @conn; returns its id (> 0) or -ENOSPC/-ENOMEM. */
long xs_txn_start(struct xs_conn *conn);

/* The open transaction @id of @conn, or NULL. */
struct xs_txn *xs_txn_find(struct xs_conn *conn, uint32_t id);

/* The transaction's private tree (the snapshot it reads and changes). */
struct xs_db *xs_txn_db(struct xs_txn *txn);

/* Remember a change made in @txn, announced to watchers at commit. */
int xs_txn_add_event(struct xs_txn *txn, const char *path, bool rm);

/*
 * Close @txn.  With @commit, apply its changes to the store's tree unless
 * another change touched what it read or wrote (-EAGAIN: nothing applied).
 * @txn is freed in every case.  Watches fire for committed changes.
 */
int xs_txn_end(struct xs_conn *conn, struct xs_txn *txn, bool commit);

/* Abort every transaction of @conn. */
void xs_txn_abort_all(struct xs_conn *conn);

/* ---- xs_watch.c ---- */

/* Register a watch; -EEXIST (same path and token), -ENOSPC, -ENOMEM. */
int xs_watch_add(struct xs_conn *conn, const char *path, const char *token,
                 bool relative);

/* Remove a watch; -ENOENT when @conn has no such watch. */
int xs_watch_remove(struct xs_conn *conn, const char *path, const char *token);

/* Remove every watch of @conn. */
void xs_watch_remove_all(struct xs_conn *conn);

/*
 * Announce a change of @path (a canonical path or "@special") to every
 * matching watch (xenstore.txt "WATCH"): watches on @path or above it
 * fire with @path; for a removal (@rm) watches below @path fire with
 * their own path, as Xen's xenstored does.  Unprivileged watchers must be
 * able to read the (nearest existing) node.
 */
void xs_watch_fire(struct xs_store *store, const char *path, bool rm);

/* Send one WATCH_EVENT for @w on @conn with event path @path. */
void xs_watch_send(struct xs_conn *conn, const struct xs_watch *w,
                   const char *path);

/* ---- xs_domain.c ---- */

/*
 * The ring transport for a domain's xenstore page
 * (<xen/io/xs_wire.h> struct xenstore_domain_interface,
 * docs/misc/xenstore-ring.txt).  @notify is called after the server
 * produced responses or consumed requests; @opaque is passed back.
 */
typedef void xs_ring_notify_fn(void *opaque);
struct xs_conn *xs_ring_conn_new(struct xs_store *store, uint32_t domid,
                                 void *intf, xs_ring_notify_fn *notify,
                                 void *opaque);

/*
 * Check the ring for a reconnection request (connection field set to
 * XENSTORE_RECONNECT) and perform it: drop watches, transactions and
 * queued data, zero the indexes, set XENSTORE_CONNECTED, notify.
 * Returns true when a reconnection happened.
 */
bool xs_ring_conn_check_reconnect(struct xs_conn *conn);

/*
 * Open the foreign-memory and event-channel handles used for INTRODUCE.
 * Failure (no xen-hv) is logged and leaves store->backend NULL; the
 * daemon then serves only its Unix socket.  @base is a struct
 * event_base * for the event channel fd.
 */
void xs_domain_backend_open(struct xs_store *store, void *base);
void xs_domain_backend_close(struct xs_store *store);

/* XS_INTRODUCE (xenstore.txt): map @gfn, bind @port, serve the ring. */
int xs_domain_introduce(struct xs_store *store, uint32_t domid, uint64_t gfn,
                        uint32_t port);

/* XS_RELEASE: drop the domain's connection, watches, transactions. */
int xs_domain_release(struct xs_store *store, uint32_t domid);

/*
 * Remove every node owned by @domid (first permission entry) with its
 * subtree, firing watches: what Xen does when a domain goes away.
 */
void xs_domain_remove_orphans(struct xs_store *store, uint32_t domid);

/*
 * Apply the domain list @infos (@n xc_domaininfo_t, as
 * xc_domain_getinfolist() returns after VIRQ_DOM_EXC): an introduced
 * domain that is missing or dying is released; one newly shut down is
 * marked so and @releaseDomain fires (xenstore.txt "@releaseDomain occurs
 * on any domain crash or shutdown").
 */
void xs_domain_check_infos(struct xs_store *store, const void *infos,
                           unsigned int n);

/* True when @domid has been introduced (IS_DOMAIN_INTRODUCED). */
bool xs_domain_introduced(struct xs_store *store, uint32_t domid);

/* XS_RESUME: clear the domain's shutdown state; -ENOENT if unknown. */
int xs_domain_resume(struct xs_store *store, uint32_t domid);

/* XS_SET_TARGET: @domid gains rights over @target; -ENOENT if unknown. */
int xs_domain_set_target(struct xs_store *store, uint32_t domid,
                         uint32_t target);

/* @conn (of a domain) is being freed: the domain forgets it. */
void xs_domain_conn_gone(struct xs_conn *conn);

/*
 * Register @domid as introduced and served by @conn, with no foreign
 * mapping or event channel: for tests that build rings in ordinary
 * memory.  Fires @introduceDomain.  -EEXIST, -ENOMEM.
 */
int xs_domain_attach_conn(struct xs_store *store, uint32_t domid,
                          struct xs_conn *conn);

/* Forget every domain (shutdown). */
void xs_domain_release_all(struct xs_store *store);

/* ---- xs_state.c ---- */

/*
 * Write every node (path, permissions, value, generation) to @file
 * atomically: a temporary file beside it, fsync, rename.  -errno.
 */
int xs_state_save(const struct xs_db *db, uint64_t gen, const char *file);

/*
 * Replace @store's tree by the one saved in @file.  -ENOENT when the file
 * does not exist (the caller starts empty), -EINVAL when it is corrupt or
 * truncated (the caller refuses to start), other -errno on I/O errors.
 */
int xs_state_load(struct xs_store *store, const char *file);

#endif
