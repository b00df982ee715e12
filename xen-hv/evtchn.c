/*
 * evtchn.c — the event-channel core (evtchn.h): port table, the states a
 * port goes through and every EVTCHNOP, after Xen 4.17's
 * xen/common/event_channel.c.  The wire format (2-level bitmaps in
 * shared_info) is reached only through d->fmt (evtchn_2l.c), as Xen's core
 * reaches event_2l.c through d->evtchn_port_ops.
 *
 * Differences from Xen, none visible to a guest: one mutex per world
 * instead of Xen's per-domain event_lock, per-channel rwlocks and per-vCPU
 * virq_lock; no Xen-consumer ports (xen_consumer) and no XSM; PIRQ ports
 * exist as a state but nothing binds them (a PVH domain has no physical
 * IRQs).  Where Xen's choice of errno depends on its internal port table
 * (port_is_valid()), that table is emulated exactly: see valid_ports.
 */
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>

#include <xen/errno.h>
#include <xen/xen.h>
#include <xen/event_channel.h>

#include "evtchn.h"

/* Xen's ECS_* (xen/include/xen/sched.h): what a port is bound to. */
enum {
    ECS_FREE = 0,        /* available for use */
    ECS_RESERVED = 1,    /* port 0, never allocated */
    ECS_UNBOUND = 2,     /* waiting for remote_domid to bind to it */
    ECS_INTERDOMAIN = 3, /* connected to remote_dom:remote_port */
    ECS_PIRQ = 4,        /* a physical IRQ (never entered here) */
    ECS_VIRQ = 5,        /* a virtual IRQ of notify_vcpu (or global) */
    ECS_IPI = 6,         /* notifies notify_vcpu of its own domain */
};

/*
 * Xen allocates its port table in buckets of EVTCHNS_PER_BUCKET ports
 * (PAGE_SIZE / the power of two above sizeof(struct evtchn): 64 on an
 * x86_64 release build) and treats every port of an allocated bucket as
 * valid (port_is_valid()), free or not.  That decides -XEN_EINVAL versus
 * "closed" in EVTCHNOP_status and -XEN_EINVAL versus 0 in EVTCHNOP_unmask,
 * so the same growth is kept here.
 */
#define EVTCHN_BUCKET_PORTS 64

/* One port: Xen's struct evtchn. */
struct evtchn {
    uint8_t state;        /* ECS_* */
    uint32_t notify_vcpu; /* vCPU notified on local delivery */
    union {
        struct {
            domid_t remote_domid; /* who may bind to it */
        } unbound;                /* ECS_UNBOUND */
        struct {
            struct evtchn_domain *remote_dom;
            evtchn_port_t remote_port;
        } interdomain; /* ECS_INTERDOMAIN */
        uint32_t pirq; /* ECS_PIRQ */
        uint32_t virq; /* ECS_VIRQ */
    } u;
};

/*
 * Every field of every domain of a world, and the world's domain list, are
 * protected by the world's lock, except the constant ones (world, domid,
 * nr_vcpus, max_port, table_size, fmt, host, host_dom).
 */
struct evtchn_world {
    pthread_mutex_t lock;
    struct evtchn_domain *domains; /* singly linked through ->next */
};

struct evtchn_domain {
    struct evtchn_world *world;
    struct evtchn_domain *next;
    domid_t domid;
    unsigned int nr_vcpus;
    /* Xen's max_evtchn_port: the highest port that may be allocated. */
    unsigned int max_port;
    /* Xen's valid_evtchns: ports below this are "valid" (may be free). */
    unsigned int valid_ports;
    /* Xen's active_evtchns: ports in use, port 0 not counted. */
    unsigned int active_ports;
    unsigned int table_size; /* entries in ports[] */
    struct evtchn *ports;
    /* Xen's vcpu->virq_to_evtchn[]: nr_vcpus rows; 0 = not bound. */
    evtchn_port_t (*virq_to_port)[NR_VIRQS];
    const struct evtchn_port_ops *fmt;
    const struct evtchn_host_ops *host;
    void *host_dom;
};

/*
 * Xen's virq_is_global(): per-vCPU VIRQs bind on any vCPU, the others only
 * on vCPU 0 (x86's arch_virq_is_global() says every VIRQ_ARCH_* is global).
 */
static bool virq_is_global(uint32_t virq)
{
    switch (virq) {
    case VIRQ_TIMER:
    case VIRQ_DEBUG:
    case VIRQ_XENOPROF:
    case VIRQ_XENPMU:
        return false;
    }
    return true;
}

/* Xen's evtchn_usable() without Xen consumers: bound to something. */
static bool port_usable(const struct evtchn *chn)
{
    return chn->state > ECS_RESERVED;
}

/* Xen's _evtchn_from_port(): the port's entry if port_is_valid(), else NULL */
static struct evtchn *port_lookup(const struct evtchn_domain *d,
                                  evtchn_port_t port)
{
    return port < d->valid_ports ? &d->ports[port] : NULL;
}

/* Xen's evtchn_port_set_pending(). */
static void port_set_pending(struct evtchn_domain *d, unsigned int vcpu,
                             evtchn_port_t port)
{
    if (!port_usable(&d->ports[port]))
        return;
    d->fmt->set_pending(d, vcpu, port);
    if (d->host->pending)
        d->host->pending(d->host_dom, port);
}

/*
 * Xen's evtchn_allocate_port() (the bucket-growing part): take `port` if
 * it is free, growing valid_ports to cover it.  -XEN_ENOSPC beyond the
 * quota, -XEN_EBUSY in use.
 */
static int port_allocate(struct evtchn_domain *d, evtchn_port_t port)
{
    if (port > d->max_port || port >= d->fmt->max_ports(d))
        return -XEN_ENOSPC;

    if (port < d->valid_ports) {
        if (d->ports[port].state != ECS_FREE)
            return -XEN_EBUSY;
    } else {
        unsigned int valid = d->valid_ports;

        do
            valid += EVTCHN_BUCKET_PORTS;
        while (port >= valid);
        d->valid_ports = valid;
    }
    d->active_ports++;
    return 0;
}

/* Xen's get_free_port(): the lowest free port, or -XEN_ENOSPC. */
static int port_get_free(struct evtchn_domain *d)
{
    unsigned int port;

    for (port = 0; port <= d->max_port; port++) {
        int rc = port_allocate(d, port);

        if (rc == 0)
            return (int)port;
        if (rc != -XEN_EBUSY)
            return rc;
    }
    return -XEN_ENOSPC;
}

/*
 * Xen's check_free_port(): on an exit path, give back a port taken by
 * port_get_free() that was left ECS_FREE.
 */
static void port_check_free(struct evtchn_domain *d, evtchn_port_t port)
{
    const struct evtchn *chn = port_lookup(d, port);

    if (chn && chn->state == ECS_FREE)
        d->active_ports--;
}

/*
 * Xen's evtchn_free(): clear a stale pending bit so that a later binding of
 * the port does not see it, and return the port to ECS_FREE, vCPU 0.
 */
static void port_free(struct evtchn_domain *d, evtchn_port_t port)
{
    struct evtchn *chn = &d->ports[port];

    if (port_usable(chn))
        d->fmt->clear_pending(d, port);
    d->active_ports--;
    chn->state = ECS_FREE;
    chn->notify_vcpu = 0;
}

static struct evtchn_domain *domain_find_locked(struct evtchn_world *w,
                                                domid_t domid)
{
    struct evtchn_domain *d;

    for (d = w->domains; d; d = d->next)
        if (d->domid == domid)
            return d;
    return NULL;
}

/*
 * Xen's evtchn_close() for a guest caller (the world lock already held).
 * An interdomain peer goes back to ECS_UNBOUND, bindable again by d1's
 * domid; its own pending bit is left alone (an event sent before the close
 * is still a real one).
 */
static int close_locked(struct evtchn_domain *d1, evtchn_port_t port1)
{
    struct evtchn *chn1 = port_lookup(d1, port1);
    struct evtchn_domain *d2;
    struct evtchn *chn2;
    int rc = 0;

    if (!chn1)
        return -XEN_EINVAL;

    switch (chn1->state) {
    case ECS_FREE:
    case ECS_RESERVED:
        rc = -XEN_EINVAL;
        goto out;

    case ECS_UNBOUND:
    case ECS_PIRQ:
    case ECS_IPI:
        break;

    case ECS_VIRQ: {
        uint32_t v = virq_is_global(chn1->u.virq) ? 0 : chn1->notify_vcpu;

        d1->virq_to_port[v][chn1->u.virq] = 0;
        break;
    }

    case ECS_INTERDOMAIN:
        d2 = chn1->u.interdomain.remote_dom;
        chn2 = &d2->ports[chn1->u.interdomain.remote_port];
        port_free(d1, port1);
        chn2->state = ECS_UNBOUND;
        chn2->u.unbound.remote_domid = d1->domid;
        goto out;
    }

    port_free(d1, port1);

out:
    return rc;
}

struct evtchn_world *evtchn_world_create(void)
{
    struct evtchn_world *w = calloc(1, sizeof(*w));

    if (!w)
        return NULL;
    if (pthread_mutex_init(&w->lock, NULL)) {
        free(w);
        return NULL;
    }
    return w;
}

static void domain_destroy_locked(struct evtchn_domain *d);

/* Destroys every domain still in w (as evtchn_domain_destroy), then w. */
void evtchn_world_destroy(struct evtchn_world *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    while (w->domains)
        domain_destroy_locked(w->domains);
    pthread_mutex_unlock(&w->lock);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* Xen's evtchn_init(): first bucket allocated, port 0 ECS_RESERVED. */
struct evtchn_domain *evtchn_domain_create(struct evtchn_world *w,
                                           domid_t domid, unsigned int nr_vcpus,
                                           unsigned int max_ports,
                                           const struct evtchn_port_ops *fmt,
                                           const struct evtchn_host_ops *host,
                                           void *host_dom)
{
    struct evtchn_domain *d = NULL;
    unsigned int limit;

    if (!w || !fmt || !host || nr_vcpus == 0)
        return NULL;

    pthread_mutex_lock(&w->lock);
    if (domain_find_locked(w, domid))
        goto fail;

    d = calloc(1, sizeof(*d));
    if (!d)
        goto fail;
    d->world = w;
    d->domid = domid;
    d->nr_vcpus = nr_vcpus;
    d->fmt = fmt;
    d->host = host;
    d->host_dom = host_dom;

    limit = fmt->max_ports(d);
    if (max_ports > limit)
        max_ports = limit;
    if (max_ports == 0)
        max_ports = 1; /* port 0 alone, as Xen's max_evtchn_port 0 */
    d->max_port = max_ports - 1;
    d->table_size = (max_ports + EVTCHN_BUCKET_PORTS - 1) /
                    EVTCHN_BUCKET_PORTS * EVTCHN_BUCKET_PORTS;
    d->ports = calloc(d->table_size, sizeof(*d->ports));
    d->virq_to_port = calloc(nr_vcpus, sizeof(*d->virq_to_port));
    if (!d->ports || !d->virq_to_port)
        goto fail;
    d->valid_ports = EVTCHN_BUCKET_PORTS;

    if (port_get_free(d) != 0)
        goto fail;
    d->ports[0].state = ECS_RESERVED;
    d->active_ports = 0;

    d->next = w->domains;
    w->domains = d;
    pthread_mutex_unlock(&w->lock);
    return d;

fail:
    if (d) {
        free(d->ports);
        free(d->virq_to_port);
        free(d);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/*
 * Xen's evtchn_destroy(): close every port from the top down, then unlink
 * and free d.  No new port can appear meanwhile: the world lock is held.
 */
static void domain_destroy_locked(struct evtchn_domain *d)
{
    struct evtchn_domain **pp;
    unsigned int i;

    for (i = d->valid_ports; --i;)
        close_locked(d, i);

    for (pp = &d->world->domains; *pp; pp = &(*pp)->next) {
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    }
    free(d->ports);
    free(d->virq_to_port);
    free(d);
}

void evtchn_domain_destroy(struct evtchn_domain *d)
{
    struct evtchn_world *w;

    if (!d)
        return;
    w = d->world;
    pthread_mutex_lock(&w->lock);
    domain_destroy_locked(d);
    pthread_mutex_unlock(&w->lock);
}

struct evtchn_domain *evtchn_domain_find(struct evtchn_world *w, domid_t domid)
{
    struct evtchn_domain *d;

    pthread_mutex_lock(&w->lock);
    d = domain_find_locked(w, domid);
    pthread_mutex_unlock(&w->lock);
    return d;
}

domid_t evtchn_domain_id(const struct evtchn_domain *d)
{
    return d->domid;
}

struct shared_info *evtchn_shared_info(const struct evtchn_domain *d)
{
    return d->host->shared_info(d->host_dom);
}

struct vcpu_info *evtchn_vcpu_info(const struct evtchn_domain *d,
                                   unsigned int vcpu)
{
    if (vcpu >= d->nr_vcpus)
        return NULL;
    return d->host->vcpu_info(d->host_dom, vcpu);
}

void evtchn_upcall(const struct evtchn_domain *d, unsigned int vcpu)
{
    if (vcpu < d->nr_vcpus && d->host->upcall)
        d->host->upcall(d->host_dom, vcpu);
}

/* Xen's evtchn_alloc_unbound() with port 0 (any free port). */
int evtchn_alloc_unbound(struct evtchn_domain *d, domid_t remote_dom,
                         evtchn_port_t *port)
{
    struct evtchn *chn;
    int rc;

    pthread_mutex_lock(&d->world->lock);

    rc = port_get_free(d);
    if (rc < 0)
        goto out;

    chn = &d->ports[rc];
    chn->state = ECS_UNBOUND;
    chn->u.unbound.remote_domid = remote_dom;
    *port = (evtchn_port_t)rc;
    rc = 0;

out:
    pthread_mutex_unlock(&d->world->lock);
    return rc;
}

/*
 * Xen's evtchn_bind_interdomain() with lport 0: the local port is taken
 * before the remote one is looked at, so a full quota wins over a bad
 * remote port (-XEN_ENOSPC, not -XEN_EINVAL).
 */
int evtchn_bind_interdomain(struct evtchn_domain *d, domid_t remote_dom,
                            evtchn_port_t remote_port,
                            evtchn_port_t *local_port)
{
    struct evtchn_domain *rd;
    struct evtchn *lchn, *rchn;
    evtchn_port_t lport = 0;
    bool allocated = false;
    int rc;

    pthread_mutex_lock(&d->world->lock);

    rd = domain_find_locked(d->world, remote_dom);
    if (!rd) {
        rc = -XEN_ESRCH;
        goto out;
    }

    rc = port_get_free(d);
    if (rc < 0)
        goto out;
    lport = (evtchn_port_t)rc;
    allocated = true;
    rc = 0;
    lchn = &d->ports[lport];

    rchn = port_lookup(rd, remote_port);
    if (!rchn || rchn->state != ECS_UNBOUND ||
        rchn->u.unbound.remote_domid != d->domid) {
        rc = -XEN_EINVAL;
        goto out;
    }

    lchn->u.interdomain.remote_dom = rd;
    lchn->u.interdomain.remote_port = remote_port;
    lchn->state = ECS_INTERDOMAIN;

    rchn->u.interdomain.remote_dom = d;
    rchn->u.interdomain.remote_port = lport;
    rchn->state = ECS_INTERDOMAIN;

    /*
     * Sends on the remote port while it was unbound were dropped: as Xen,
     * conservatively raise the new local port once.
     */
    port_set_pending(d, lchn->notify_vcpu, lport);

    *local_port = lport;

out:
    if (allocated)
        port_check_free(d, lport);
    pthread_mutex_unlock(&d->world->lock);
    return rc;
}

/* Xen's evtchn_bind_virq() with port 0 (any free port). */
int evtchn_bind_virq(struct evtchn_domain *d, uint32_t virq, uint32_t vcpu,
                     evtchn_port_t *port)
{
    struct evtchn *chn;
    int rc;

    if (virq >= NR_VIRQS)
        return -XEN_EINVAL;
    if (virq_is_global(virq) && vcpu != 0)
        return -XEN_EINVAL;
    if (vcpu >= d->nr_vcpus)
        return -XEN_ENOENT;

    pthread_mutex_lock(&d->world->lock);

    if (d->virq_to_port[vcpu][virq]) {
        rc = -XEN_EEXIST;
        goto out;
    }

    rc = port_get_free(d);
    if (rc < 0)
        goto out;

    chn = &d->ports[rc];
    chn->state = ECS_VIRQ;
    chn->notify_vcpu = vcpu;
    chn->u.virq = virq;
    d->virq_to_port[vcpu][virq] = (evtchn_port_t)rc;
    *port = (evtchn_port_t)rc;
    rc = 0;

out:
    pthread_mutex_unlock(&d->world->lock);
    return rc;
}

/* Xen's evtchn_bind_ipi(). */
int evtchn_bind_ipi(struct evtchn_domain *d, uint32_t vcpu, evtchn_port_t *port)
{
    struct evtchn *chn;
    int rc;

    if (vcpu >= d->nr_vcpus)
        return -XEN_ENOENT;

    pthread_mutex_lock(&d->world->lock);

    rc = port_get_free(d);
    if (rc < 0)
        goto out;

    chn = &d->ports[rc];
    chn->state = ECS_IPI;
    chn->notify_vcpu = vcpu;
    *port = (evtchn_port_t)rc;
    rc = 0;

out:
    pthread_mutex_unlock(&d->world->lock);
    return rc;
}

/* Xen's evtchn_send() (no Xen-consumer ports, no XSM). */
int evtchn_send(struct evtchn_domain *d, evtchn_port_t port)
{
    struct evtchn *lchn, *rchn;
    struct evtchn_domain *rd;
    evtchn_port_t rport;
    int rc = 0;

    pthread_mutex_lock(&d->world->lock);

    lchn = port_lookup(d, port);
    if (!lchn) {
        rc = -XEN_EINVAL;
        goto out;
    }

    switch (lchn->state) {
    case ECS_INTERDOMAIN:
        rd = lchn->u.interdomain.remote_dom;
        rport = lchn->u.interdomain.remote_port;
        rchn = &rd->ports[rport];
        port_set_pending(rd, rchn->notify_vcpu, rport);
        break;
    case ECS_IPI:
        port_set_pending(d, lchn->notify_vcpu, port);
        break;
    case ECS_UNBOUND:
        /* Silently dropped, as in Xen. */
        break;
    default:
        rc = -XEN_EINVAL;
        break;
    }

out:
    pthread_mutex_unlock(&d->world->lock);
    return rc;
}

/* Xen's evtchn_close() as EVTCHNOP_close calls it (guest = true). */
int evtchn_close(struct evtchn_domain *d, evtchn_port_t port)
{
    int rc;

    pthread_mutex_lock(&d->world->lock);
    rc = close_locked(d, port);
    pthread_mutex_unlock(&d->world->lock);
    return rc;
}

/*
 * Xen's evtchn_status(): st->status, st->vcpu and, by state, st->u;
 * st->dom and st->port are left as given.  A free or reserved port of a
 * valid bucket is EVTCHNSTAT_closed; beyond them -XEN_EINVAL.
 */
int evtchn_status(struct evtchn_domain *d, struct evtchn_status *st)
{
    const struct evtchn *chn;
    int rc = 0;

    pthread_mutex_lock(&d->world->lock);

    chn = port_lookup(d, st->port);
    if (!chn) {
        rc = -XEN_EINVAL;
        goto out;
    }

    switch (chn->state) {
    case ECS_FREE:
    case ECS_RESERVED:
        st->status = EVTCHNSTAT_closed;
        break;
    case ECS_UNBOUND:
        st->status = EVTCHNSTAT_unbound;
        st->u.unbound.dom = chn->u.unbound.remote_domid;
        break;
    case ECS_INTERDOMAIN:
        st->status = EVTCHNSTAT_interdomain;
        st->u.interdomain.dom = chn->u.interdomain.remote_dom->domid;
        st->u.interdomain.port = chn->u.interdomain.remote_port;
        break;
    case ECS_PIRQ:
        st->status = EVTCHNSTAT_pirq;
        st->u.pirq = chn->u.pirq;
        break;
    case ECS_VIRQ:
        st->status = EVTCHNSTAT_virq;
        st->u.virq = chn->u.virq;
        break;
    case ECS_IPI:
        st->status = EVTCHNSTAT_ipi;
        break;
    }
    st->vcpu = chn->notify_vcpu;

out:
    pthread_mutex_unlock(&d->world->lock);
    return rc;
}

/*
 * Xen's evtchn_bind_vcpu(): the vCPU is checked before the port.  Pending
 * state is not moved: only later notifications go to the new vCPU.
 */
int evtchn_bind_vcpu(struct evtchn_domain *d, evtchn_port_t port, uint32_t vcpu)
{
    struct evtchn *chn;
    int rc = 0;

    if (vcpu >= d->nr_vcpus)
        return -XEN_ENOENT;

    pthread_mutex_lock(&d->world->lock);

    chn = port_lookup(d, port);
    if (!chn) {
        rc = -XEN_EINVAL;
        goto out;
    }

    switch (chn->state) {
    case ECS_VIRQ:
        if (virq_is_global(chn->u.virq))
            chn->notify_vcpu = vcpu;
        else
            rc = -XEN_EINVAL;
        break;
    case ECS_UNBOUND:
    case ECS_INTERDOMAIN:
    case ECS_PIRQ:
        chn->notify_vcpu = vcpu;
        break;
    default:
        rc = -XEN_EINVAL;
        break;
    }

out:
    pthread_mutex_unlock(&d->world->lock);
    return rc;
}

/*
 * Xen's evtchn_unmask(): -XEN_EINVAL only beyond the valid buckets; a free
 * or reserved port answers 0 and its mask bit is left alone
 * (evtchn_port_unmask() skips ports that are not usable).
 */
int evtchn_unmask(struct evtchn_domain *d, evtchn_port_t port)
{
    const struct evtchn *chn;
    int rc = 0;

    pthread_mutex_lock(&d->world->lock);

    chn = port_lookup(d, port);
    if (!chn) {
        rc = -XEN_EINVAL;
        goto out;
    }
    if (port_usable(chn))
        d->fmt->unmask(d, chn->notify_vcpu, port);

out:
    pthread_mutex_unlock(&d->world->lock);
    return rc;
}

int evtchn_poll_port(struct evtchn_domain *d, evtchn_port_t port)
{
    const struct evtchn *chn;
    int rc = -XEN_EINVAL;

    pthread_mutex_lock(&d->world->lock);
    chn = port_lookup(d, port);
    if (chn && port_usable(chn))
        rc = d->fmt->is_pending(d, port) ? 1 : 0;
    pthread_mutex_unlock(&d->world->lock);
    return rc;
}

/*
 * Xen's evtchn_reset() in one go (no continuation): close every port from
 * 1 up while any is in use.  The caller checked, as Xen does, that d is
 * the calling domain or paused by its controller.
 */
int evtchn_reset(struct evtchn_domain *d)
{
    unsigned int i;

    pthread_mutex_lock(&d->world->lock);
    for (i = 1; i < d->valid_ports && d->active_ports > 0; i++)
        close_locked(d, i);
    pthread_mutex_unlock(&d->world->lock);
    return 0;
}

/*
 * Xen's send_guest_vcpu_virq() for per-vCPU VIRQs (notifies `vcpu`) and
 * send_guest_global_virq() for global ones (the binding lives on vCPU 0
 * and notifies the port's notify vCPU; `vcpu` is ignored).
 */
int evtchn_send_virq(struct evtchn_domain *d, uint32_t virq, uint32_t vcpu)
{
    evtchn_port_t port;
    int rc = 0;

    if (virq >= NR_VIRQS)
        return -XEN_EINVAL;

    pthread_mutex_lock(&d->world->lock);

    if (virq_is_global(virq)) {
        port = d->virq_to_port[0][virq];
        if (!port) {
            rc = -XEN_ENOENT;
            goto out;
        }
        port_set_pending(d, d->ports[port].notify_vcpu, port);
    } else {
        if (vcpu >= d->nr_vcpus || !d->virq_to_port[vcpu][virq]) {
            rc = -XEN_ENOENT;
            goto out;
        }
        port = d->virq_to_port[vcpu][virq];
        port_set_pending(d, vcpu, port);
    }

out:
    pthread_mutex_unlock(&d->world->lock);
    return rc;
}

int evtchn_send_global_virq(struct evtchn_domain *from, domid_t domid,
                            uint32_t virq)
{
    struct evtchn_world *w = from->world;
    struct evtchn_domain *d;
    evtchn_port_t port;
    int rc = -XEN_ENOENT;

    if (virq >= NR_VIRQS || !virq_is_global(virq))
        return -XEN_EINVAL;
    pthread_mutex_lock(&w->lock);
    d = domain_find_locked(w, domid);
    if (d && (port = d->virq_to_port[0][virq]) != 0) {
        port_set_pending(d, d->ports[port].notify_vcpu, port);
        rc = 0;
    }
    pthread_mutex_unlock(&w->lock);
    return rc;
}

unsigned int evtchn_ports_in_use(struct evtchn_domain *d)
{
    unsigned int n;

    pthread_mutex_lock(&d->world->lock);
    n = d->active_ports;
    pthread_mutex_unlock(&d->world->lock);
    return n;
}
