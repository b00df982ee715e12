/*
 * xs_ring.c — the ring transport: a connection over a domain's
 * struct xenstore_domain_interface (<xen/io/xs_wire.h>, Xen
 * docs/misc/xenstore-ring.txt).
 *
 * The page holds two byte rings of XENSTORE_RING_SIZE with free-running
 * 32-bit indexes: the guest produces requests (req_prod) that we consume
 * (req_cons); we produce responses (rsp_prod) that it consumes
 * (rsp_cons).  The page is shared with an untrusted guest, so every index
 * is read once into a local, and a producer more than XENSTORE_RING_SIZE
 * ahead of its consumer is a protocol error: the connection is dropped
 * (the caller logs it) instead of copying out of bounds.
 *
 * We advertise XENSTORE_SERVER_FEATURE_RECONNECTION before touching the
 * rings; a guest that sets connection = XENSTORE_RECONNECT gets a fresh
 * ring: queued data, watches and transactions dropped, indexes zeroed,
 * connection = XENSTORE_CONNECTED, then a notification.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xs_core.h"

struct ring_transport {
    struct xenstore_domain_interface *intf;
    xs_ring_notify_fn *notify;
    void *opaque;
    /*
     * Indexes moved since the guest was last notified.  The core calls
     * ring_kick() once per batch (xs_conn_ops.kick), so a request and its
     * reply cost the guest one event, not one per header, payload and
     * reply (xenstore-ring.txt only asks for a notification after
     * consuming or producing, before waiting).
     */
    bool moved;
};

static uint32_t ring_load(const volatile uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void ring_store(volatile uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static ssize_t ring_read(struct xs_conn *conn, void *buf, size_t len)
{
    struct ring_transport *rt = conn->transport;
    struct xenstore_domain_interface *intf = rt->intf;
    XENSTORE_RING_IDX cons, prod, avail;
    size_t done = 0;

    if (ring_load(&intf->connection) != XENSTORE_CONNECTED)
        return 0; /* a reconnection is pending; handled by the caller */
    cons = ring_load(&intf->req_cons);
    prod = ring_load(&intf->req_prod);
    avail = prod - cons;
    if (avail > XENSTORE_RING_SIZE)
        return -EIO;
    while (done < len && avail) {
        size_t off = MASK_XENSTORE_IDX(cons);
        size_t chunk = XENSTORE_RING_SIZE - off;

        if (chunk > avail)
            chunk = avail;
        if (chunk > len - done)
            chunk = len - done;
        memcpy((char *)buf + done, intf->req + off, chunk);
        done += chunk;
        cons += (XENSTORE_RING_IDX)chunk;
        avail -= (XENSTORE_RING_IDX)chunk;
    }
    if (done) {
        /* The copy must complete before the guest may reuse the space. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        ring_store(&intf->req_cons, cons);
        rt->moved = true;
    }
    return (ssize_t)done;
}

static ssize_t ring_write(struct xs_conn *conn, const void *buf, size_t len)
{
    struct ring_transport *rt = conn->transport;
    struct xenstore_domain_interface *intf = rt->intf;
    XENSTORE_RING_IDX cons, prod, used, space;
    size_t done = 0;

    if (ring_load(&intf->connection) != XENSTORE_CONNECTED)
        return 0;
    cons = ring_load(&intf->rsp_cons);
    prod = ring_load(&intf->rsp_prod);
    used = prod - cons;
    if (used > XENSTORE_RING_SIZE)
        return -EIO;
    space = XENSTORE_RING_SIZE - used;
    while (done < len && space) {
        size_t off = MASK_XENSTORE_IDX(prod);
        size_t chunk = XENSTORE_RING_SIZE - off;

        if (chunk > space)
            chunk = space;
        if (chunk > len - done)
            chunk = len - done;
        memcpy(intf->rsp + off, (const char *)buf + done, chunk);
        done += chunk;
        prod += (XENSTORE_RING_IDX)chunk;
        space -= (XENSTORE_RING_IDX)chunk;
    }
    if (done) {
        /* Data before index: the guest reads rsp_prod, then the bytes. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        ring_store(&intf->rsp_prod, prod);
        rt->moved = true;
    }
    return (ssize_t)done;
}

static void ring_destroy(struct xs_conn *conn)
{
    free(conn->transport);
    conn->transport = NULL;
}

static void ring_kick(struct xs_conn *conn)
{
    struct ring_transport *rt = conn->transport;

    if (rt && rt->moved) {
        rt->moved = false;
        rt->notify(rt->opaque);
    }
}

static const struct xs_conn_ops ring_ops = {
    .read = ring_read,
    .write = ring_write,
    .want_write = NULL, /* the guest's notification re-runs us */
    .destroy = ring_destroy,
    .kick = ring_kick,
};

struct xs_conn *xs_ring_conn_new(struct xs_store *store, uint32_t domid,
                                 void *intf_page, xs_ring_notify_fn *notify,
                                 void *opaque)
{
    struct ring_transport *rt = calloc(1, sizeof(*rt));
    struct xs_conn *conn;

    if (!rt)
        return NULL;
    rt->intf = intf_page;
    rt->notify = notify;
    rt->opaque = opaque;
    conn = xs_conn_new(store, &ring_ops, rt, domid);
    if (!conn) {
        free(rt);
        return NULL;
    }
    /* Advertise before producing or consuming anything (xenstore-ring.txt). */
    ring_store(&rt->intf->server_features,
               XENSTORE_SERVER_FEATURE_RECONNECTION);
    return conn;
}

bool xs_ring_conn_check_reconnect(struct xs_conn *conn)
{
    struct ring_transport *rt = conn->transport;
    struct xenstore_domain_interface *intf;

    if (!rt || conn->dead)
        return false;
    intf = rt->intf;
    if (ring_load(&intf->connection) != XENSTORE_RECONNECT)
        return false;
    xs_conn_reset(conn);
    ring_store(&intf->req_cons, 0);
    ring_store(&intf->req_prod, 0);
    ring_store(&intf->rsp_cons, 0);
    ring_store(&intf->rsp_prod, 0);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    ring_store(&intf->connection, XENSTORE_CONNECTED);
    rt->notify(rt->opaque);
    return true;
}
