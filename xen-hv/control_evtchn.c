/*
 * control_evtchn.c — the domains control-socket clients act as (struct
 * vdom, control_priv.h) and their event channels: the XENHV_OP_EVTCHN_*
 * requests of xenhv_privcmd.h, which are Xen's EVTCHNOP_* of
 * xen/include/public/event_channel.h done by a vdom through the event
 * channel core (evtchn.h), and the doorbells of EVTCHN_BELLS/DOORBELL.
 *
 * A vdom's event channels have a private shared_info page.  Each port
 * belongs to the connection that bound it.  When the core raises the
 * vdom's upcall, vdom_scan() does what Linux's evtchn driver does: for
 * every pending, unmasked port, mask it, clear it and send its number to
 * the owner's event socket; the owner unmasks it when done.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xen/errno.h>

#include "control_priv.h"
#include "evtchn.h"
#include "gnttab.h"
#include "xenhv_privcmd.h"

#define BITS 64

/* Close port's doorbell, if any (c->lock held). */
void bell_drop(struct vdom *v, uint32_t port)
{
    if (port < VDOM_MAX_PORTS && v->bell[port] >= 0) {
        close(v->bell[port]);
        v->bell[port] = -1;
    }
}

/*
 * A new doorbell for k's port: our end kept in k's vdom, the other end
 * returned for the bind reply (-1 when k asked for none or on failure).
 */
static int bell_make(struct conn *k, uint32_t port)
{
    int sv[2];

    if (!k->bells || port >= VDOM_MAX_PORTS ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) <
            0)
        return -1;
    pthread_mutex_lock(&k->c->lock);
    bell_drop(k->vd, port);
    k->vd->bell[port] = sv[0];
    pthread_mutex_unlock(&k->c->lock);
    return sv[1];
}

/* Deliver v's pending, unmasked ports to their owners' event sockets. */
static void vdom_scan(struct vdom *v)
{
    struct control *c = v->c;
    struct shared_info *s = v->shared;
    struct vcpu_info *vi = &s->vcpu_info[0];

    __atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    /*
     * Scan every word, not only the selected ones: a port whose owner was
     * not known yet stays pending and is picked up by the next scan (the
     * one after its bind, at the latest).
     */
    for (unsigned int w = 0; w < VDOM_MAX_PORTS / BITS; w++) {
        xen_ulong_t bits =
            __atomic_load_n(&s->evtchn_pending[w], __ATOMIC_ACQUIRE) &
            ~__atomic_load_n(&s->evtchn_mask[w], __ATOMIC_ACQUIRE);
        while (bits) {
            unsigned int b = (unsigned int)__builtin_ctzl(bits);
            uint32_t port = w * BITS + b;
            struct conn *o;

            bits &= bits - 1;
            pthread_mutex_lock(&c->lock);
            o = v->owner[port];
            if (o && v->bell[port] >= 0) {
                /* Doorbell: the owner's library does the masking. */
                __atomic_fetch_and(&s->evtchn_pending[w], ~(1UL << b),
                                   __ATOMIC_SEQ_CST);
                if (send(v->bell[port], "", 1, MSG_DONTWAIT | MSG_NOSIGNAL) <
                        0 &&
                    errno != EAGAIN) {
                    /* The owner dropped it: back to the event socket. */
                    bell_drop(v, port);
                    __atomic_fetch_or(&s->evtchn_pending[w], 1UL << b,
                                      __ATOMIC_SEQ_CST);
                    bits |= 1UL << b;
                }
            } else if (o && o->ev_fd >= 0) {
                __atomic_fetch_or(&s->evtchn_mask[w], 1UL << b,
                                  __ATOMIC_SEQ_CST);
                __atomic_fetch_and(&s->evtchn_pending[w], ~(1UL << b),
                                   __ATOMIC_SEQ_CST);
                /* A full socket drops the packet; the port stays masked. */
                (void)send(o->ev_fd, &port, sizeof(port),
                           MSG_DONTWAIT | MSG_NOSIGNAL);
            }
            pthread_mutex_unlock(&c->lock);
        }
    }
}

static struct shared_info *vdom_shared_info(void *host)
{
    return ((struct vdom *)host)->shared;
}

static struct vcpu_info *vdom_vcpu_info(void *host, unsigned int vcpu)
{
    return vcpu == 0 ? &((struct vdom *)host)->shared->vcpu_info[0] : NULL;
}

static void vdom_upcall(void *host, unsigned int vcpu)
{
    vdom_scan(host);
}

static const struct evtchn_host_ops vdom_host_ops = {
    .shared_info = vdom_shared_info,
    .vcpu_info = vdom_vcpu_info,
    .upcall = vdom_upcall,
};

void vdom_free(struct vdom *v)
{
    if (!v)
        return;
    if (v->as_domain) {
        struct domain *d = v->as_domain;
        munmap(d->mem, d->mem_bytes);
        close(d->mem_fd);
        free(d);
    }
    if (v->evd)
        evtchn_domain_destroy(v->evd);
    if (v->gt) {
        gnttab_release_mappings(v->gt);
        gnttab_domain_destroy(v->gt);
    }
    if (v->shared)
        munmap(v->shared, 4096);
    for (unsigned int i = 0; i < VDOM_MAX_PORTS; i++)
        if (v->bell[i] >= 0)
            close(v->bell[i]);
    free(v);
}

/* A domain with event channels and a grant table; NULL on failure. */
struct vdom *vdom_new(struct control *c, domid_t domid, pid_t pid)
{
    struct vdom *v = calloc(1, sizeof(*v));

    if (!v)
        return NULL;
    v->c = c;
    v->domid = domid;
    v->pid = pid;
    for (unsigned int i = 0; i < VDOM_MAX_PORTS; i++)
        v->bell[i] = -1;
    v->shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (v->shared == MAP_FAILED) {
        v->shared = NULL;
        goto fail;
    }
    v->evd = evtchn_domain_create(c->world, domid, 1, VDOM_MAX_PORTS,
                                  &evtchn_port_ops_2l, &vdom_host_ops, v);
    if (!v->evd || gnttab_domain_create(domid, -1, -1, &v->gt))
        goto fail;
    return v;
fail:
    vdom_free(v);
    return NULL;
}

/*
 * The domain connection k acts as: domain 0 for uid 0, else the process
 * domain of k's process (made on its first connection).  Returns 0 or a
 * negative Xen errno.
 */
int32_t conn_attach(struct conn *k)
{
    struct control *c = k->c;
    struct vdom *v = NULL;
    domid_t id;

    if (k->privileged) {
        pthread_mutex_lock(&c->lock);
        c->dom0->refs++;
        k->vd = c->dom0;
        pthread_mutex_unlock(&c->lock);
        return 0;
    }
    pthread_mutex_lock(&c->lock);
    for (v = c->pdoms; v; v = v->next)
        if (v->pid == k->pid) {
            v->refs++;
            k->vd = v;
            pthread_mutex_unlock(&c->lock);
            return 0;
        }
    id = c->next_pdom++;
    pthread_mutex_unlock(&c->lock);
    if (id >= DOMID_FIRST_RESERVED)
        return -XEN_ENOSPC;
    v = vdom_new(c, id, k->pid);
    if (!v)
        return -XEN_ENOMEM;
    pthread_mutex_lock(&c->lock);
    v->refs = 1;
    v->next = c->pdoms;
    c->pdoms = v;
    k->vd = v;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

static bool owns(struct conn *k, uint32_t port)
{
    bool r;
    pthread_mutex_lock(&k->c->lock);
    r = port < VDOM_MAX_PORTS && k->vd->owner[port] == k;
    pthread_mutex_unlock(&k->c->lock);
    return r;
}

static void own(struct conn *k, uint32_t port, struct conn *who)
{
    pthread_mutex_lock(&k->c->lock);
    if (port < VDOM_MAX_PORTS)
        k->vd->owner[port] = who;
    pthread_mutex_unlock(&k->c->lock);
}

/*
 * An event-channel op of k.  0 or a negative Xen errno; a new binding's
 * doorbell end goes to *bell (-1 when none; bell may be NULL).
 */
int32_t do_evtchn(struct conn *k, uint32_t op, const struct xenhv_evtchn_req *r,
                  struct xenhv_evtchn_rep *out, int *bell)
{
    struct evtchn_domain *e = k->vd->evd;
    evtchn_port_t port = 0;
    int rc;

    switch (op) {
    case XENHV_OP_EVTCHN_BIND_UNBOUND:
        rc = evtchn_alloc_unbound(e, (domid_t)r->domid, &port);
        break;
    case XENHV_OP_EVTCHN_BIND_INTERDOMAIN:
        rc = evtchn_bind_interdomain(e, (domid_t)r->domid, r->port, &port);
        break;
    case XENHV_OP_EVTCHN_BIND_VIRQ:
        rc = evtchn_bind_virq(e, r->virq, 0, &port);
        break;
    case XENHV_OP_EVTCHN_NOTIFY:
        return owns(k, r->port) ? evtchn_send(e, r->port) : -XEN_EINVAL;
    case XENHV_OP_EVTCHN_UNMASK:
        return owns(k, r->port) ? evtchn_unmask(e, r->port) : -XEN_EINVAL;
    case XENHV_OP_EVTCHN_UNBIND:
        if (!owns(k, r->port))
            return -XEN_EINVAL;
        rc = evtchn_close(e, r->port);
        if (rc == 0) {
            own(k, r->port, NULL);
            pthread_mutex_lock(&k->c->lock);
            bell_drop(k->vd, r->port);
            pthread_mutex_unlock(&k->c->lock);
        }
        return rc;
    default:
        return -XEN_ENOSYS;
    }
    if (rc)
        return rc;
    if (port >= VDOM_MAX_PORTS) {
        evtchn_close(e, port);
        return -XEN_ENOSPC;
    }
    own(k, port, k);
    out->port = port;
    if (bell)
        *bell = bell_make(k, port);
    /*
     * A new binding starts unmasked, as Linux's /dev/xen/evtchn enables a
     * port it binds: a port number reused after an owner closed it while
     * masked (it fired and was never unmasked) must not stay deaf.
     */
    evtchn_unmask(e, port);
    /* An event that arrived before the owner was known: deliver it now. */
    vdom_scan(k->vd);
    return 0;
}

/* The control-socket domain domid, or NULL (c->lock held). */
static struct vdom *vdom_find(struct control *c, uint32_t domid)
{
    if (domid == 0)
        return c->dom0;
    for (struct vdom *v = c->pdoms; v; v = v->next)
        if (v->domid == domid)
            return v;
    return NULL;
}

/*
 * EVTCHN_DOORBELL: a copy of the doorbell of the peer of k's port in
 * *bell.  0, -XEN_EINVAL (not k's port), -XEN_ENOENT (the peer is not a
 * control-socket domain: never), -XEN_EAGAIN (none now).
 */
int32_t peer_doorbell(struct conn *k, uint32_t port, int *bell)
{
    struct control *c = k->c;
    struct evtchn_status st = {.port = port};
    struct vdom *rv;
    uint32_t rdom, rport = 0;
    int32_t rc = -XEN_EAGAIN;

    if (!owns(k, port) || evtchn_status(k->vd->evd, &st))
        return -XEN_EINVAL;
    if (st.status == EVTCHNSTAT_interdomain) {
        rdom = st.u.interdomain.dom;
        rport = st.u.interdomain.port;
    } else if (st.status == EVTCHNSTAT_unbound) {
        rdom = st.u.unbound.dom;
    } else {
        return -XEN_EINVAL; /* a VIRQ or IPI port has no peer */
    }
    pthread_mutex_lock(&c->lock);
    rv = vdom_find(c, rdom);
    if (!rv)
        rc = -XEN_ENOENT;
    else if (st.status == EVTCHNSTAT_interdomain && rport < VDOM_MAX_PORTS &&
             rv->bell[rport] >= 0) {
        /* A copy made under the lock: the port may close right after. */
        *bell = fcntl(rv->bell[rport], F_DUPFD_CLOEXEC, 0);
        rc = *bell >= 0 ? 0 : -XEN_ENOMEM;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}
