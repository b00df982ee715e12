/*
 * xs_domain.c — domains known to xenstored (xenstore.txt INTRODUCE,
 * RELEASE, IS_DOMAIN_INTRODUCED, RESUME, SET_TARGET).
 *
 * INTRODUCE <domid>|<gfn>|<evtchn>| maps the domain's xenstore page with
 * xenforeignmemory (dom0-tools, over xen-hv's control socket), binds an
 * interdomain event channel to the domain's <evtchn> with xenevtchn and
 * serves the page as a ring connection acting as <domid> (xs_ring.c).
 * One xenevtchn handle serves every domain: libevent polls its fd; a port
 * that fired stays masked until we unmask it after handling.
 *
 * When the handles cannot be opened (no xen-hv running) the daemon still
 * serves its Unix socket and INTRODUCE answers EINVAL, as Xen answers an
 * unusable mfn.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <event2/event.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>

#include "xs_core.h"

struct xs_domain {
    struct xs_domain *next;
    struct xs_store *store;
    uint32_t domid;
    uint64_t gfn;
    uint32_t remote_port;
    evtchn_port_t local_port;
    void *intf;
    struct xs_conn *conn;
    uint32_t target;
    bool shutdown;
};

struct xs_domain_backend {
    xenforeignmemory_handle *fmem;
    xenevtchn_handle *xce;
    struct event *ev;
};

static struct xs_domain *domain_find(struct xs_store *store, uint32_t domid)
{
    struct xs_domain *d;

    for (d = store->domains; d; d = d->next) {
        if (d->domid == domid)
            return d;
    }
    return NULL;
}

static void domain_notify(void *opaque)
{
    struct xs_domain *d = opaque;
    struct xs_domain_backend *be = d->store->backend;

    if (be && xenevtchn_notify(be->xce, d->local_port) < 0)
        xs_log("notify domain %" PRIu32 " failed", d->domid);
}

/* The event channel fd is readable: serve the domains whose port fired. */
static void domain_evtchn_cb(evutil_socket_t fd, short what, void *arg)
{
    struct xs_store *store = arg;
    struct xs_domain_backend *be = store->backend;
    xenevtchn_port_or_error_t port = xenevtchn_pending(be->xce);
    struct xs_domain *d;

    if (port < 0)
        return;
    for (d = store->domains; d; d = d->next) {
        if (d->local_port == (evtchn_port_t)port && d->conn) {
            xs_ring_conn_check_reconnect(d->conn);
            xs_conn_process(d->conn);
            break;
        }
    }
    xenevtchn_unmask(be->xce, (evtchn_port_t)port);
    xs_store_reap(store);
}

void xs_domain_backend_open(struct xs_store *store, void *base)
{
    struct xs_domain_backend *be = calloc(1, sizeof(*be));

    if (!be)
        return;
    be->fmem = xenforeignmemory_open(NULL, 0);
    if (!be->fmem) {
        xs_log("no foreign memory access (is xen-hv running?): "
               "INTRODUCE will fail, the Unix socket is served");
        goto fail;
    }
    be->xce = xenevtchn_open(NULL, 0);
    if (!be->xce) {
        xs_log("no event channels (is xen-hv running?): "
               "INTRODUCE will fail, the Unix socket is served");
        goto fail;
    }
    be->ev = event_new(base, xenevtchn_fd(be->xce), EV_READ | EV_PERSIST,
                       domain_evtchn_cb, store);
    if (!be->ev || event_add(be->ev, NULL) < 0)
        goto fail;
    store->backend = be;
    return;

fail:
    if (be->ev)
        event_free(be->ev);
    if (be->xce)
        xenevtchn_close(be->xce);
    if (be->fmem)
        xenforeignmemory_close(be->fmem);
    free(be);
}

void xs_domain_backend_close(struct xs_store *store)
{
    struct xs_domain_backend *be = store->backend;

    if (!be)
        return;
    xs_domain_release_all(store);
    event_free(be->ev);
    xenevtchn_close(be->xce);
    xenforeignmemory_close(be->fmem);
    free(be);
    store->backend = NULL;
}

/* Undo what introduce set up, free @d (already unlinked). */
static void domain_free(struct xs_store *store, struct xs_domain *d)
{
    struct xs_domain_backend *be = store->backend;

    if (d->conn)
        xs_conn_kill(d->conn, NULL);
    if (be && d->local_port)
        xenevtchn_unbind(be->xce, d->local_port);
    if (be && d->intf)
        xenforeignmemory_unmap(be->fmem, d->intf, 1);
    free(d);
}

int xs_domain_introduce(struct xs_store *store, uint32_t domid, uint64_t gfn,
                        uint32_t port)
{
    struct xs_domain_backend *be = store->backend;
    struct xs_domain *d = domain_find(store, domid);
    xen_pfn_t pfn = (xen_pfn_t)gfn;
    xenevtchn_port_or_error_t local;
    int err = 0, rc;

    if (!be && store->evbase && domid != 0) {
        /* xen-hv may have started after us: try again. */
        xs_domain_backend_open(store, store->evbase);
        be = store->backend;
    }
    if (d) {
        /* Xen: introducing the same page again is harmless. */
        return d->gfn == gfn && d->remote_port == port ? 0 : -EINVAL;
    }
    if (domid == 0 || !be) {
        xs_log("INTRODUCE of domain %" PRIu32 " refused: %s", domid,
               domid == 0 ? "domain 0 uses the socket"
                          : "no xen-hv to map its page");
        return -EINVAL;
    }
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->store = store;
    d->domid = domid;
    d->gfn = gfn;
    d->remote_port = port;
    d->target = XS_DB_INHERIT;
    d->intf = xenforeignmemory_map(be->fmem, domid, PROT_READ | PROT_WRITE, 1,
                                   &pfn, &err);
    if (!d->intf || err) {
        xs_log("INTRODUCE %" PRIu32 ": cannot map gfn %#" PRIx64 ": %s", domid,
               gfn, strerror(err ? err : errno));
        if (d->intf)
            xenforeignmemory_unmap(be->fmem, d->intf, 1);
        d->intf = NULL;
        rc = -EINVAL;
        goto fail;
    }
    local = xenevtchn_bind_interdomain(be->xce, domid, port);
    if (local < 0) {
        xs_log("INTRODUCE %" PRIu32 ": cannot bind event channel %" PRIu32
               ": %s",
               domid, port, strerror(errno));
        rc = -EINVAL;
        goto fail;
    }
    d->local_port = (evtchn_port_t)local;
    /*
     * A new binding must be able to fire, as Linux's evtchn driver
     * unmasks on bind; a port number reused from an earlier binding may
     * still carry that binding's mask bit.
     */
    xenevtchn_unmask(be->xce, d->local_port);
    d->conn = xs_ring_conn_new(store, domid, d->intf, domain_notify, d);
    if (!d->conn) {
        rc = -ENOMEM;
        goto fail;
    }
    d->conn->domain = d;
    d->next = store->domains;
    store->domains = d;
    xs_log("introduced domain %" PRIu32 " (gfn %#" PRIx64 ", port %" PRIu32 ")",
           domid, gfn, port);
    xs_watch_fire(store, "@introduceDomain", false);
    /* The guest may have queued requests before we were told about it. */
    xs_ring_conn_check_reconnect(d->conn);
    xs_conn_process(d->conn);
    domain_notify(d);
    return 0;

fail:
    domain_free(store, d);
    return rc;
}

static void domain_unlink(struct xs_store *store, struct xs_domain *d)
{
    struct xs_domain **pp;

    for (pp = &store->domains; *pp; pp = &(*pp)->next) {
        if (*pp == d) {
            *pp = d->next;
            return;
        }
    }
}

int xs_domain_release(struct xs_store *store, uint32_t domid)
{
    struct xs_domain *d = domain_find(store, domid);

    if (!d)
        return -ENOENT;
    domain_unlink(store, d);
    if (d->conn) {
        /* Watches and transactions go with the connection. */
        xs_txn_abort_all(d->conn);
        xs_watch_remove_all(d->conn);
        d->conn->domain = NULL;
    }
    domain_free(store, d);
    xs_log("released domain %" PRIu32, domid);
    xs_watch_fire(store, "@releaseDomain", false);
    return 0;
}

bool xs_domain_introduced(struct xs_store *store, uint32_t domid)
{
    return domain_find(store, domid) != NULL;
}

int xs_domain_resume(struct xs_store *store, uint32_t domid)
{
    struct xs_domain *d = domain_find(store, domid);

    if (!d)
        return -ENOENT;
    d->shutdown = false;
    return 0;
}

int xs_domain_set_target(struct xs_store *store, uint32_t domid,
                         uint32_t target)
{
    struct xs_domain *d = domain_find(store, domid);

    if (!d || !xs_domain_introduced(store, target))
        return -ENOENT;
    d->target = target;
    if (d->conn)
        d->conn->target = target;
    return 0;
}

void xs_domain_release_all(struct xs_store *store)
{
    while (store->domains) {
        struct xs_domain *d = store->domains;

        store->domains = d->next;
        if (d->conn)
            d->conn->domain = NULL;
        domain_free(store, d);
    }
}

void xs_domain_conn_gone(struct xs_conn *conn)
{
    if (conn->domain)
        conn->domain->conn = NULL;
    conn->domain = NULL;
}

int xs_domain_attach_conn(struct xs_store *store, uint32_t domid,
                          struct xs_conn *conn)
{
    struct xs_domain *d;

    if (domain_find(store, domid))
        return -EEXIST;
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->store = store;
    d->domid = domid;
    d->target = XS_DB_INHERIT;
    d->conn = conn;
    conn->domain = d;
    d->next = store->domains;
    store->domains = d;
    xs_watch_fire(store, "@introduceDomain", false);
    return 0;
}
