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
#include <xenctrl.h>
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
    xc_interface *xch;       /* NULL: domain deaths are not noticed */
    evtchn_port_t virq_port; /* VIRQ_DOM_EXC, 0 when not bound */
    struct event *ev;
    struct event *kick; /* zero timer: rings left with requests to handle */
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

/*
 * Handle what @d's ring holds.  When the connection used up its budget
 * (XS_CONN_BUDGET) requests may remain with no event channel
 * notification to come: a zero timer brings us back in the next loop
 * iteration, after the other ready connections had their turn.
 */
static void domain_serve(struct xs_store *store, struct xs_domain *d)
{
    static const struct timeval now = {0, 0};
    struct xs_domain_backend *be = store->backend;

    xs_conn_process(d->conn);
    if (d->conn->more_input && be && be->kick)
        evtimer_add(be->kick, &now);
}

/* The kick timer: serve every ring that has requests left. */
static void domain_kick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct xs_store *store = arg;
    struct xs_domain *d;

    for (d = store->domains; d; d = d->next) {
        if (d->conn && !d->conn->dead && d->conn->more_input)
            domain_serve(store, d);
    }
    xs_store_reap(store);
}

/*
 * VIRQ_DOM_EXC fired: some domain shut down or died.  Ask xen-hv for the
 * state of every domain and apply it (xs_domain_check_infos()).
 */
static void domain_check_all(struct xs_store *store)
{
    struct xs_domain_backend *be = store->backend;
    xc_domaininfo_t *info = calloc(1024, sizeof(*info));
    int n = info ? xc_domain_getinfolist(be->xch, 0, 1024, info) : -1;

    if (n >= 0)
        xs_domain_check_infos(store, info, (unsigned int)n);
    else
        xs_log("cannot list domains after VIRQ_DOM_EXC");
    free(info);
}

/* The event channel fd is readable: serve the domains whose port fired. */
static void domain_evtchn_cb(evutil_socket_t fd, short what, void *arg)
{
    struct xs_store *store = arg;
    struct xs_domain_backend *be = store->backend;
    xenevtchn_port_or_error_t port = xenevtchn_pending(be->xce);
    struct xs_domain *d;

    if (port < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        /*
         * xen-hv went away (the event socket closed): its domains are
         * gone.  Forget them; a later INTRODUCE opens the handles again.
         */
        xs_log("lost the connection to xen-hv: releasing every domain");
        xs_domain_backend_close(store);
        xs_watch_fire(store, "@releaseDomain", false);
        xs_store_reap(store);
        return;
    }
    if (be->virq_port && (evtchn_port_t)port == be->virq_port) {
        domain_check_all(store);
        xenevtchn_unmask(be->xce, (evtchn_port_t)port);
        xs_store_reap(store);
        return;
    }
    for (d = store->domains; d; d = d->next) {
        if (d->local_port == (evtchn_port_t)port && d->conn) {
            xs_ring_conn_check_reconnect(d->conn);
            domain_serve(store, d);
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
    /* Domain deaths (Xen's xenstored does the same with VIRQ_DOM_EXC). */
    be->xch = xc_interface_open(NULL, NULL, 0);
    if (be->xch) {
        xenevtchn_port_or_error_t vp =
            xenevtchn_bind_virq(be->xce, VIRQ_DOM_EXC);

        if (vp > 0)
            be->virq_port = (evtchn_port_t)vp;
    }
    if (!be->virq_port)
        xs_log("no VIRQ_DOM_EXC: domain deaths need an explicit RELEASE");
    be->ev = event_new(base, xenevtchn_fd(be->xce), EV_READ | EV_PERSIST,
                       domain_evtchn_cb, store);
    be->kick = evtimer_new((struct event_base *)base, domain_kick_cb, store);
    if (!be->ev || !be->kick || event_add(be->ev, NULL) < 0)
        goto fail;
    store->backend = be;
    return;

fail:
    if (be->ev)
        event_free(be->ev);
    if (be->kick)
        event_free(be->kick);
    if (be->xch)
        xc_interface_close(be->xch);
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
    event_free(be->kick);
    if (be->xch)
        xc_interface_close(be->xch);
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

/*
 * INTRODUCE of a domain we know (Xen uses it after a resume to give a new
 * event channel): the same page is required; a new port is bound; a ring
 * connection dropped for a protocol error is started afresh.
 */
static int domain_reintroduce(struct xs_store *store, struct xs_domain *d,
                              uint64_t gfn, uint32_t port)
{
    struct xs_domain_backend *be = store->backend;

    if (d->gfn != gfn)
        return -EINVAL;
    if (be && d->intf && port != d->remote_port) {
        xenevtchn_port_or_error_t local =
            xenevtchn_bind_interdomain(be->xce, d->domid, port);

        if (local < 0)
            return -EINVAL;
        if (d->local_port)
            xenevtchn_unbind(be->xce, d->local_port);
        d->local_port = (evtchn_port_t)local;
        d->remote_port = port;
    }
    if (!d->conn && d->intf) {
        d->conn = xs_ring_conn_new(store, d->domid, d->intf, domain_notify, d);
        if (!d->conn)
            return -ENOMEM;
        d->conn->domain = d;
    }
    if (d->conn && d->intf) {
        xs_ring_conn_check_reconnect(d->conn);
        domain_serve(store, d);
        domain_notify(d);
    }
    return 0;
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
    if (d)
        return domain_reintroduce(store, d, gfn, port);
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
    /* A new binding starts unmasked (xen-hv's control socket, as Linux's
     * evtchn driver): nothing to unmask here. */
    d->local_port = (evtchn_port_t)local;
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
    domain_serve(store, d);
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

struct orphans {
    uint32_t domid;
    char **paths;
    unsigned int n, cap;
    const char *skip; /* a collected path: its subtree goes with it */
    int err;
};

static int orphan_collect(void *opaque, const char *path,
                          const struct xs_node *node)
{
    struct orphans *o = opaque;
    const struct xs_perm *perms;
    unsigned int n;
    size_t sl;

    if (o->skip) {
        sl = strlen(o->skip);
        if (strncmp(path, o->skip, sl) == 0 && path[sl] == '/')
            return 0;
    }
    perms = xs_node_perms(node, &n);
    if (perms[0].domid != o->domid || strcmp(path, "/") == 0)
        return 0;
    if (o->n == o->cap) {
        unsigned int cap = o->cap ? o->cap * 2 : 16;
        char **p = realloc(o->paths, cap * sizeof(*p));

        if (!p)
            return o->err = -ENOMEM;
        o->paths = p;
        o->cap = cap;
    }
    o->paths[o->n] = strdup(path);
    if (!o->paths[o->n])
        return o->err = -ENOMEM;
    o->skip = o->paths[o->n++];
    return 0;
}

void xs_domain_remove_orphans(struct xs_store *store, uint32_t domid)
{
    struct orphans o = {.domid = domid};
    unsigned int i;

    xs_db_walk(store->db, orphan_collect, &o);
    if (o.err)
        xs_log("out of memory looking for domain %" PRIu32 "'s nodes", domid);
    for (i = 0; i < o.n; i++) {
        if (xs_db_rm(store->db, o.paths[i]) == 0)
            xs_watch_fire(store, o.paths[i], true);
        free(o.paths[i]);
    }
    free(o.paths);
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
    /* Xen removes the nodes a gone domain owned, with their subtrees. */
    xs_domain_remove_orphans(store, domid);
    xs_watch_fire(store, "@releaseDomain", false);
    return 0;
}

void xs_domain_check_infos(struct xs_store *store, const void *infos,
                           unsigned int n)
{
    const xc_domaininfo_t *info = infos;
    struct xs_domain *d, *next;
    bool fire = false;

    for (d = store->domains; d; d = next) {
        const xc_domaininfo_t *found = NULL;
        unsigned int i;

        next = d->next;
        for (i = 0; i < n; i++) {
            if (info[i].domain == d->domid)
                found = &info[i];
        }
        if (!found || (found->flags & XEN_DOMINF_dying)) {
            /* Gone: as if the toolstack had sent RELEASE. */
            xs_domain_release(store, d->domid);
            continue;
        }
        if ((found->flags & XEN_DOMINF_shutdown) && !d->shutdown) {
            d->shutdown = true;
            fire = true;
        }
    }
    if (fire)
        xs_watch_fire(store, "@releaseDomain", false);
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
