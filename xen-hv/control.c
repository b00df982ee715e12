/*
 * control.c — the control interface server (control.h).
 *
 * Every connection acts as a domain (struct vdom): uid 0 as domain 0,
 * shared by all uid-0 connections; any other uid as a process domain of
 * its own, one per process (SO_PEERCRED pid), shared by that process's
 * connections (its libxenevtchn and libxengnttab handles are one domain,
 * as on Xen), and destroyed with its last connection: its ports close
 * (peers see them unbound) and its grant mappings are released.
 *
 * A vdom's event channels have a private shared_info page.  Each port
 * belongs to the connection that bound it.  When the core raises the
 * vdom's upcall, vdom_scan() does what Linux's evtchn driver does: for
 * every pending, unmasked port, mask it, clear it and send its number to
 * the owner's event socket; the owner unmasks it when done.
 * Lock order: event channel lock, then c->lock; nothing holding c->lock
 * calls into evtchn.c or gnttab.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/errno.h>

#include "control.h"
#include "domain_priv.h"
#include "evtchn.h"
#include "gnttab.h"
#include "xenhv_privcmd.h"

#define VDOM_MAX_PORTS      1024
#define CONN_MAX_GRANT_MAPS 1024
#define PDOM_FIRST_DOMID    100
#define BITS                64
#define KERNEL_MAX_BYTES    (512u << 20)

struct conn;

struct vdom {
    struct control *c;
    domid_t domid;
    pid_t pid; /* process domains: the process; 0 for domain 0 */
    int refs;  /* connections acting as it [c->lock] */
    struct evtchn_domain *evd;
    struct gnttab *gt;
    struct shared_info *shared;         /* private page */
    struct conn *owner[VDOM_MAX_PORTS]; /* [c->lock] */
    /*
     * Our end of each owned port's doorbell (xenhv_privcmd.h
     * EVTCHN_BELLS), -1 when the port has none [c->lock].
     */
    int bell[VDOM_MAX_PORTS];
    struct vdom *next; /* [c->lock] */
    /*
     * A process domain's own memory (XENHV_OP_PDOM_MEMORY) and the struct
     * domain other domains' grant operations see of it (no vCPUs): its
     * grant table and that memory.  Freed under doms_lock held exclusive.
     */
    struct domain *as_domain;
};

struct conn {
    struct control *c;
    struct vdom *vd;                    /* NULL before HELLO */
    uint32_t maps[CONN_MAX_GRANT_MAPS]; /* grant handles it holds */
    unsigned int nr_maps;
    int fd;
    int ev_fd;  /* our end of the event socket, -1 before HELLO */
    bool bells; /* EVTCHN_BELLS: its ports get doorbells */
    bool privileged;
    pid_t pid;
    struct event *ev;
    struct conn *next;
};

/* A hosted PVH domain. */
struct hosted {
    struct domain *d;
    bool built, started;
    struct hosted *next;
};

#define GUEST_MAX_DOMID (PDOM_FIRST_DOMID - 1)

struct control {
    pthread_mutex_t lock; /* vdoms, their owner[] and refs, conns */
    /*
     * The hosted domains.  Readers (requests, guests' grant operations on
     * other domains) hold it shared for as long as they use a domain;
     * destroy unlinks a domain holding it exclusive, then frees it.
     */
    pthread_rwlock_t doms_lock;
    struct hosted *doms;
    const struct kvm_host *kvm;
    struct domain *d;          /* the launcher's own domain, or NULL */
    struct domain_peers peers; /* what hosted domains see of each other */
    struct event_base *base;
    int listen_fd;
    struct event *listen_ev;
    char path[108];
    struct evtchn_world *world;
    struct vdom *dom0;
    struct vdom *pdoms;
    domid_t next_pdom;
    domid_t domid_rover; /* the last id DOMAIN_CREATE chose itself */
    struct conn *conns;
};

/* Close port's doorbell, if any (c->lock held). */
static void bell_drop(struct vdom *v, uint32_t port)
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

static void vdom_free(struct vdom *v)
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
static struct vdom *vdom_new(struct control *c, domid_t domid, pid_t pid)
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
static int32_t conn_attach(struct conn *k)
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

static void reply(struct conn *k, const struct xenhv_msg *req, int32_t rc,
                  const void *payload, uint32_t len, int fd)
{
    uint8_t buf[XENHV_MSG_MAX];
    struct xenhv_msg *m = (struct xenhv_msg *)buf;
    struct iovec iov;
    struct msghdr mh;
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } cm;

    if (len > sizeof(buf) - sizeof(*m))
        len = 0, rc = -XEN_E2BIG;
    m->op = req->op;
    m->seq = req->seq;
    m->rc = rc;
    m->len = len;
    if (len)
        memcpy(buf + sizeof(*m), payload, len);
    iov.iov_base = buf;
    iov.iov_len = sizeof(*m) + len;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (fd >= 0) {
        memset(&cm, 0, sizeof(cm));
        mh.msg_control = cm.b;
        mh.msg_controllen = sizeof(cm.b);
        struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(h), &fd, sizeof(int));
    }
    (void)sendmsg(k->fd, &mh, MSG_NOSIGNAL);
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
static int32_t do_evtchn(struct conn *k, uint32_t op,
                         const struct xenhv_evtchn_req *r,
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

/* The hosted domain domid, or NULL (doms_lock held). */
static struct domain *hosted_find(struct control *c, uint32_t domid)
{
    for (struct hosted *h = c->doms; h; h = h->next)
        if (h->d->domid == domid)
            return h->d;
    return NULL;
}

/* Hosted domains reach each other through these (grant operations). */
static void peers_lock(void *ctx)
{
    pthread_rwlock_rdlock(&((struct control *)ctx)->doms_lock);
}

static void peers_unlock(void *ctx)
{
    pthread_rwlock_unlock(&((struct control *)ctx)->doms_lock);
}

static struct domain *peers_find(void *ctx, domid_t domid)
{
    struct control *c = ctx;
    struct domain *d = hosted_find(c, domid);

    if (!d && domid >= PDOM_FIRST_DOMID) {
        pthread_mutex_lock(&c->lock);
        for (struct vdom *v = c->pdoms; v; v = v->next)
            if (v->domid == domid)
                d = v->as_domain;
        pthread_mutex_unlock(&c->lock);
    }
    return d;
}

static struct hosted *hosted_entry(struct control *c, uint32_t domid)
{
    for (struct hosted *h = c->doms; h; h = h->next)
        if (h->d->domid == domid)
            return h;
    return NULL;
}

static void *guest_frame(void *ctx, uint64_t gfn, bool write)
{
    struct domain *d = ctx;
    (void)write;
    if (gfn > (UINT64_MAX >> 12))
        return NULL;
    return gmem_ptr(&d->gmem, gfn << 12, 4096);
}

/*
 * GNTTABOP_map_grant_ref by k's domain of a grant of the guest; the
 * mapping is k's (released when k closes).
 */
static void do_gnttab_map(struct conn *k, const struct xenhv_msg *m,
                          const struct xenhv_gnttab_map_req *r)
{
    struct control *c = k->c;
    struct domain *d;
    struct xenhv_gnttab_map_rep rep = {.status = GNTST_bad_domain};
    uint32_t flags = GNTMAP_host_map | (r->readonly ? GNTMAP_readonly : 0);
    void *frame = NULL;
    grant_handle_t h;

    pthread_rwlock_rdlock(&c->doms_lock);
    d = peers_find(c, (domid_t)r->domid); /* guests and process domains */
    if (k->nr_maps == CONN_MAX_GRANT_MAPS) {
        rep.status = GNTST_no_space;
    } else if (d) {
        const struct gnttab_mem_ops mem = {guest_frame, d};
        rep.status =
            gnttab_map(k->vd->gt, d->gnttab, &mem, r->ref, flags, &h, &frame);
        if (rep.status == GNTST_okay &&
            ((uint8_t *)frame < d->mem ||
             (uint8_t *)frame >= d->mem + d->ram_bytes)) {
            /* Only RAM frames are offered; others stay unmapped. */
            gnttab_unmap(k->vd->gt, h);
            rep.status = GNTST_bad_page;
        }
        if (rep.status == GNTST_okay) {
            rep.handle = h;
            rep.offset = (uint64_t)((uint8_t *)frame - d->mem);
            k->maps[k->nr_maps++] = h;
        }
    }
    reply(k, m, 0, &rep, sizeof(rep),
          rep.status == GNTST_okay ? d->mem_fd : -1);
    pthread_rwlock_unlock(&c->doms_lock);
}

/* The caller's side of a copy: one bounce page, gfn 0. */
static void *bounce_frame(void *ctx, uint64_t gfn, bool write)
{
    (void)write;
    return gfn == 0 ? ctx : NULL;
}

static void do_gnttab_copy(struct conn *k, const struct xenhv_msg *m,
                           const uint8_t *payload)
{
    struct control *c = k->c;
    static uint8_t out[XENHV_MSG_MAX];
    static uint8_t bounce[4096] __attribute__((aligned(4096)));
    const struct xenhv_copy_seg *seg;
    uint32_t count, in_off, out_len;
    int16_t *status = (int16_t *)out;

    if (m->len < sizeof(count)) {
        reply(k, m, -XEN_EINVAL, NULL, 0, -1);
        return;
    }
    memcpy(&count, payload, sizeof(count));
    if (count == 0 || count > XENHV_COPY_MAX_SEGS ||
        m->len < sizeof(count) + count * sizeof(*seg)) {
        reply(k, m, -XEN_EINVAL, NULL, 0, -1);
        return;
    }
    seg = (const struct xenhv_copy_seg *)(payload + sizeof(count));
    in_off = sizeof(count) + count * sizeof(*seg);
    out_len = count * sizeof(int16_t);
    pthread_rwlock_rdlock(&c->doms_lock);
    for (uint32_t i = 0; i < count; i++) {
        struct xenhv_copy_seg s;
        struct domain *d;
        bool into = false;
        memcpy(&s, &seg[i], sizeof(s));
        struct gnttab_copy op = {.len = s.len, .flags = s.flags};
        struct gnttab_mem_ops local = {bounce_frame, bounce};
        d = peers_find(c, (domid_t)s.domid);
        if (s.flags == GNTCOPY_dest_gref) {
            into = true;
            if (m->len - in_off < s.len || s.len > sizeof(bounce)) {
                status[i] = GNTST_bad_copy_arg;
                continue;
            }
            memcpy(bounce, payload + in_off, s.len);
            in_off += s.len;
            op.source = (struct gnttab_copy_ptr){.domid = DOMID_SELF};
            op.dest = (struct gnttab_copy_ptr){
                .u.ref = s.ref, .domid = (domid_t)s.domid, .offset = s.offset};
        } else if (s.flags == GNTCOPY_source_gref) {
            op.source = (struct gnttab_copy_ptr){
                .u.ref = s.ref, .domid = (domid_t)s.domid, .offset = s.offset};
            op.dest = (struct gnttab_copy_ptr){.domid = DOMID_SELF};
        } else {
            status[i] = GNTST_bad_copy_arg;
            continue;
        }
        if (!d) {
            status[i] = GNTST_bad_domain;
            continue;
        }
        {
            struct gnttab_mem_ops gm = {guest_frame, d};
            status[i] = (int16_t)gnttab_copy(
                k->vd->gt, &op, into ? k->vd->gt : d->gnttab,
                into ? &local : &gm, into ? d->gnttab : k->vd->gt,
                into ? &gm : &local);
        }
        if (!into && status[i] == GNTST_okay &&
            out_len + s.len <= sizeof(out)) {
            memcpy(out + out_len, bounce, s.len);
            out_len += s.len;
        }
    }
    pthread_rwlock_unlock(&c->doms_lock);
    reply(k, m, 0, out, out_len, -1);
}

/* XENHV_OP_PDOM_MEMORY: see xenhv_privcmd.h. */
static int32_t pdom_memory(struct conn *k, const uint8_t *payload, uint32_t len,
                           int fd)
{
    struct vdom *v = k->vd;
    struct domain *d;
    uint64_t bytes;
    void *mem;

    if (k->privileged || len != sizeof(bytes) || fd < 0)
        return -XEN_EINVAL;
    memcpy(&bytes, payload, sizeof(bytes));
    if (!bytes || (bytes & 4095) || bytes > (1ULL << 30))
        return -XEN_EINVAL;
    if (v->as_domain)
        return -XEN_EEXIST;
    mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED)
        return -XEN_EINVAL;
    d = calloc(1, sizeof(*d));
    if (!d || (d->mem_fd = dup(fd)) < 0) {
        munmap(mem, bytes);
        free(d);
        return -XEN_ENOMEM;
    }
    d->domid = v->domid;
    d->gnttab = v->gt;
    d->mem = mem;
    d->mem_bytes = d->ram_bytes = bytes;
    d->gmem.nr_regions = 1;
    d->gmem.region[0] = (struct gmem_region){0, bytes, mem};
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_lock(&k->c->lock);
    v->as_domain = d;
    pthread_mutex_unlock(&k->c->lock);
    return 0;
}

static void do_gnttab_unmap(struct conn *k, const struct xenhv_msg *m,
                            const struct xenhv_gnttab_unmap_req *r)
{
    struct xenhv_gnttab_unmap_rep rep = {.status = GNTST_bad_handle};

    for (unsigned int i = 0; i < k->nr_maps; i++) {
        if (k->maps[i] != r->handle)
            continue;
        rep.status = gnttab_unmap(k->vd->gt, r->handle);
        k->maps[i] = k->maps[--k->nr_maps];
        break;
    }
    reply(k, m, 0, &rep, sizeof(rep), -1);
}

/* Read a whole kernel image from fd (at most KERNEL_MAX_BYTES). */
static void *read_fd(int fd, size_t *len)
{
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);

    while (buf) {
        ssize_t r = pread(fd, buf + n, cap - n, (off_t)n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap) {
            char *nb = cap >= KERNEL_MAX_BYTES ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    *len = n;
    return buf;
}

/*
 * started: the domain has been unpaused once.  Until then it is paused, as
 * Xen creates every domain paused by its controller (XEN_DOMINF_paused).
 */
static void domain_info(struct domain *d, bool started,
                        struct xenhv_domain_info *info)
{
    memset(info, 0, sizeof(*info));
    pthread_mutex_lock(&d->lock);
    info->domid = d->domid;
    info->nr_vcpus = d->nr_vcpus;
    info->tot_pages = d->tot_pages;
    info->max_pages = d->max_pages;
    info->shutdown = d->is_shutting_down;
    info->shutdown_reason =
        d->is_shutting_down ? (uint32_t)d->shutdown_reason : 0;
    snprintf(info->name, sizeof(info->name), "%s", d->name);
    info->paused = d->paused || !started;
    info->control_ns = d->control_ns;
    info->blocked = 1;
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        if (!v->up)
            continue;
        info->nr_online_vcpus++;
        if (!v->blocked)
            info->blocked = 0;
        info->cpu_time += v->runstate.time[RUNSTATE_running];
    }
    info->shared_info_gfn = d->shared_info_gpa == INVALID_GPA
                                ? ~0ULL
                                : d->shared_info_gpa >> GMEM_PAGE_SHIFT;
    memcpy(info->handle, d->handle, sizeof(info->handle));
    pthread_mutex_unlock(&d->lock);
    /* [V] counters: a racy but harmless read of each vCPU's total. */
    domain_exit_stats(d, &info->nr_exits, &info->nr_hypercalls);
}

/*
 * XENHV_OP_FOREIGN_MEMORY of a process domain (doms_lock held shared, so
 * its memory stays): the memfd it registered, one region from gpa 0.
 * -XEN_ESRCH when there is no such domain or it has no memory yet.
 */
static void pdom_foreign_memory(struct conn *k, const struct xenhv_msg *m,
                                uint32_t domid)
{
    struct control *c = k->c;
    struct xenhv_foreign_rep rep;
    struct domain *d = NULL;

    pthread_mutex_lock(&c->lock);
    for (struct vdom *v = c->pdoms; v; v = v->next)
        if (v->domid == domid)
            d = v->as_domain;
    pthread_mutex_unlock(&c->lock);
    if (!d) {
        reply(k, m, -XEN_ESRCH, NULL, 0, -1);
        return;
    }
    memset(&rep, 0, sizeof(rep));
    rep.nr_regions = 1;
    rep.region[0].size = d->ram_bytes;
    reply(k, m, 0, &rep, sizeof(rep), d->mem_fd);
}

/* Privileged requests about hosted domains (doms_lock held shared). */
static void priv_op(struct conn *k, const struct xenhv_msg *m,
                    const uint8_t *payload, int fd)
{
    struct control *c = k->c;
    struct domain *d;
    struct hosted *h;
    uint32_t domid;

    if (m->op == XENHV_OP_DOMAIN_LIST) {
        struct xenhv_domain_info info[32];
        unsigned int n = 0;
        for (h = c->doms; h && n < 32; h = h->next)
            domain_info(h->d, h->started, &info[n++]);
        /*
         * Process domains are domains too (Xen lists every domain): no
         * vCPUs, their registered memory as pages, never paused.
         */
        pthread_mutex_lock(&c->lock);
        for (struct vdom *v = c->pdoms; v && n < 32; v = v->next) {
            struct xenhv_domain_info *o = &info[n++];
            memset(o, 0, sizeof(*o));
            o->domid = v->domid;
            o->tot_pages = o->max_pages =
                v->as_domain ? v->as_domain->ram_bytes >> 12 : 0;
            o->shared_info_gfn = ~0ULL;
            o->process = 1;
            snprintf(o->name, sizeof(o->name), "process-%d", (int)v->pid);
        }
        pthread_mutex_unlock(&c->lock);
        reply(k, m, 0, info, n * sizeof(info[0]), -1);
        return;
    }
    if (m->op == XENHV_OP_DOMAIN_BUILD) {
        struct xenhv_domain_build_req r;
        char err[256] = "";
        void *img;
        size_t len = 0;
        int rc;
        if (m->len != sizeof(r) || fd < 0) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        memcpy(&r, payload, sizeof(r));
        r.cmdline[sizeof(r.cmdline) - 1] = 0;
        h = hosted_entry(c, r.domid);
        if (!h || h->built) {
            reply(k, m, h ? -XEN_EEXIST : -XEN_ESRCH, NULL, 0, -1);
            return;
        }
        img = read_fd(fd, &len);
        if (!img) {
            reply(k, m, -XEN_EINVAL, "cannot read the kernel", 22, -1);
            return;
        }
        rc = domain_build_pvh(h->d, img, len, NULL, 0, r.cmdline, err,
                              sizeof(err));
        free(img);
        if (rc == 0)
            h->built = true;
        reply(k, m, rc ? -XEN_EINVAL : 0, err, rc ? strlen(err) + 1 : 0, -1);
        return;
    }
    if (m->op == XENHV_OP_HVM_PARAM_GET || m->op == XENHV_OP_HVM_PARAM_SET) {
        struct xenhv_hvm_param p;
        int rc;
        if (m->len != sizeof(p)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        memcpy(&p, payload, sizeof(p));
        d = hosted_find(c, p.domid);
        if (!d) {
            reply(k, m, -XEN_ESRCH, NULL, 0, -1);
            return;
        }
        pthread_mutex_lock(&d->lock);
        if (m->op == XENHV_OP_HVM_PARAM_SET)
            rc = hvm_param_set(&d->params, p.index, p.value,
                               HVM_PARAM_CALLER_CONTROL);
        else
            rc = hvm_param_get(&d->params, p.index, HVM_PARAM_CALLER_CONTROL,
                               &p.value);
        pthread_mutex_unlock(&d->lock);
        reply(k, m, rc, &p, rc == 0 ? sizeof(p) : 0, -1);
        return;
    }
    if (m->op == XENHV_OP_VCPU_SETCONTEXT) {
        struct xenhv_vcpu_setcontext r;
        struct vcpu_hvm_context ctx;
        int rc;
        _Static_assert(sizeof(ctx) <= sizeof(r.ctx), "context fits");
        if (m->len != sizeof(r)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        memcpy(&r, payload, sizeof(r));
        memcpy(&ctx, r.ctx, sizeof(ctx));
        h = hosted_entry(c, r.domid);
        if (!h)
            rc = -XEN_ESRCH;
        else if (h->started)
            rc = -XEN_EBUSY;
        else if (r.vcpu >= h->d->nr_vcpus)
            rc = -XEN_ENOENT;
        else
            rc = hvm_vcpu_context_check(&ctx);
        /* The vCPU thread does not exist yet: its fd is ours to use. */
        if (rc == 0 &&
            kvm_vcpu_set_hvm_context(h->d->vcpus[r.vcpu]->fd, &ctx) < 0)
            rc = -XEN_EINVAL;
        if (rc == 0) {
            struct vcpu *v = h->d->vcpus[r.vcpu];
            pthread_mutex_lock(&h->d->lock);
            v->initialised = true;
            pthread_mutex_unlock(&h->d->lock);
            if (r.vcpu == 0)
                h->built = true;
        }
        reply(k, m, rc, NULL, 0, -1);
        return;
    }
    if (m->op == XENHV_OP_DOMAIN_SETMAXMEM) {
        struct xenhv_setmaxmem r;
        if (m->len != sizeof(r)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        memcpy(&r, payload, sizeof(r));
        d = hosted_find(c, r.domid);
        if (!d) {
            reply(k, m, -XEN_ESRCH, NULL, 0, -1);
            return;
        }
        /*
         * Xen's XEN_DOMCTL_max_mem: KiB to pages, no check against what
         * the domain has (it may "ratchet" down; growing is what's refused).
         */
        pthread_mutex_lock(&d->lock);
        d->max_pages = r.max_kib / 4;
        pthread_mutex_unlock(&d->lock);
        reply(k, m, 0, NULL, 0, -1);
        return;
    }
    if (m->op == XENHV_OP_POPULATE_PHYSMAP) {
        struct xenhv_populate_req r;
        uint64_t *gfns;
        int rc;
        if (m->len < sizeof(r)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        memcpy(&r, payload, sizeof(r));
        if (r.nr_extents > XENHV_POPULATE_MAX ||
            m->len != sizeof(r) + (uint64_t)r.nr_extents * sizeof(uint64_t)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        h = hosted_entry(c, r.domid);
        gfns = malloc(r.nr_extents * sizeof(uint64_t) + 1);
        if (!h || !gfns) {
            free(gfns);
            reply(k, m, h ? -XEN_ENOMEM : -XEN_ESRCH, NULL, 0, -1);
            return;
        }
        memcpy(gfns, payload + sizeof(r), r.nr_extents * sizeof(uint64_t));
        /* Memory is set up only before the domain has been built. */
        rc = !h->d->mem && h->built
                 ? -XEN_EBUSY
                 : domain_populate_physmap(h->d, gfns, r.nr_extents,
                                           r.extent_order);
        free(gfns);
        reply(k, m, rc, NULL, 0, -1);
        return;
    }
    if (m->op == XENHV_OP_VCPU_SETAFFINITY) {
        struct xenhv_vcpu_affinity r;
        cpu_set_t set;
        int rc;
        if (m->len != sizeof(r)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        memcpy(&r, payload, sizeof(r));
        d = hosted_find(c, r.domid);
        CPU_ZERO(&set);
        for (unsigned int cpu = 0; cpu < 1024 && cpu < CPU_SETSIZE; cpu++)
            if (r.cpumap[cpu / 64] & (1ULL << (cpu % 64)))
                CPU_SET(cpu, &set);
        rc = d ? domain_vcpu_set_affinity(d, r.vcpu, &set) : -XEN_ESRCH;
        reply(k, m, rc, NULL, 0, -1);
        return;
    }
    if (m->op == XENHV_OP_EVTCHN_ALLOC_UNBOUND_FOR) {
        struct xenhv_alloc_unbound r;
        struct xenhv_evtchn_rep rep = {0};
        evtchn_port_t port = 0;
        int rc;
        if (m->len != sizeof(r)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        memcpy(&r, payload, sizeof(r));
        d = hosted_find(c, r.dom);
        if (!d || r.remote_dom >= DOMID_FIRST_RESERVED) {
            reply(k, m, d ? -XEN_EINVAL : -XEN_ESRCH, NULL, 0, -1);
            return;
        }
        rc = evtchn_alloc_unbound(d->evtchn, (domid_t)r.remote_dom, &port);
        rep.port = port;
        reply(k, m, rc, &rep, rc == 0 ? sizeof(rep) : 0, -1);
        return;
    }
    if (m->len != sizeof(domid)) {
        reply(k, m, -XEN_EINVAL, NULL, 0, -1);
        return;
    }
    memcpy(&domid, payload, sizeof(domid));
    h = hosted_entry(c, domid);
    if (!h && m->op == XENHV_OP_FOREIGN_MEMORY) {
        pdom_foreign_memory(k, m, domid);
        return;
    }
    if (!h) {
        reply(k, m, -XEN_ESRCH, NULL, 0, -1);
        return;
    }
    d = h->d;
    switch (m->op) {
    case XENHV_OP_DOMAIN_UNPAUSE: {
        int rc = 0;
        pthread_mutex_lock(&c->lock);
        if (!h->built)
            rc = -XEN_EINVAL;
        else
            h->started = true;
        pthread_mutex_unlock(&c->lock);
        if (rc == 0 && domain_unpause(d))
            rc = -XEN_ENOMEM;
        reply(k, m, rc, NULL, 0, -1);
        return;
    }
    case XENHV_OP_DOMAIN_PAUSE: {
        int rc = h->started ? domain_pause(d) : 0;
        reply(k, m, rc ? -XEN_ESRCH : 0, NULL, 0, -1);
        return;
    }
    case XENHV_OP_FOREIGN_MEMORY: {
        struct xenhv_foreign_rep rep;
        memset(&rep, 0, sizeof(rep));
        rep.nr_regions = d->gmem.nr_regions;
        for (unsigned int i = 0; i < d->gmem.nr_regions && i < 4; i++) {
            rep.region[i].gpa = d->gmem.region[i].gpa_base;
            rep.region[i].size = d->gmem.region[i].size;
            rep.region[i].offset = (uint64_t)(d->gmem.region[i].host - d->mem);
        }
        reply(k, m, 0, &rep, sizeof(rep), d->mem_fd);
        return;
    }
    case XENHV_OP_CONSOLE_READ:
    case XENHV_OP_CONSOLE_CLEAR: {
        static char buf[XENHV_MSG_MAX - sizeof(struct xenhv_msg)];
        size_t n = console_log_read(&d->log, buf, sizeof(buf), NULL);
        if (m->op == XENHV_OP_CONSOLE_CLEAR)
            console_log_clear(&d->log);
        reply(k, m, 0, buf, (uint32_t)n, -1);
        return;
    }
    }
    reply(k, m, -XEN_ENOSYS, NULL, 0, -1);
}

/*
 * XENHV_OP_DOMAIN_CREATE: a new paused domain.  Without a requested id it
 * gets the first free id after the one chosen last time, wrapping to 1
 * past GUEST_MAX_DOMID, as Xen's XEN_DOMCTL_createdomain does: a
 * destroyed domain's id is not handed out again at once, so a tool still
 * holding the old id (a console client, a watch) cannot reach the new
 * domain by mistake.
 */
/* Returns the new domid, or 0 when nothing was created. */
static uint32_t domain_create_op(struct conn *k, const struct xenhv_msg *m,
                                 const uint8_t *payload)
{
    struct control *c = k->c;
    struct xenhv_domain_create_req r;
    struct domain_config cfg;
    struct hosted *h;
    struct domain *d = NULL;
    char err[256] = "";
    uint32_t domid = 0;
    int rc;

    if (m->len != sizeof(r)) {
        reply(k, m, -XEN_EINVAL, NULL, 0, -1);
        return 0;
    }
    if (!c->kvm) {
        static const char why[] = "no usable /dev/kvm on this host: "
                                  "guest domains cannot be created";
        reply(k, m, -XEN_ENODEV, why, sizeof(why), -1);
        return 0;
    }
    memcpy(&r, payload, sizeof(r));
    r.name[sizeof(r.name) - 1] = 0;
    memset(&cfg, 0, sizeof(cfg));
    cfg.name = r.name;
    cfg.memory_mib = r.memory_mib;
    cfg.vcpus = r.vcpus;
    cfg.max_grant_frames = r.max_grant_frames;
    cfg.max_event_channels = r.max_event_channels;
    cfg.log_bytes = 65536;
    /* A domU's CONSOLEIO_write goes to xen-hv's log (`xl dmesg`), as a
     * Xen built with guest_loglvl=all prints it on its console. */
    cfg.console_fd = STDERR_FILENO;
    cfg.console_prefix = true;
    cfg.evtchn_world = c->world;
    pthread_rwlock_wrlock(&c->doms_lock);
    if (r.domid) {
        /* Xen's createdomain: a named id must be free and ordinary. */
        rc = r.domid > GUEST_MAX_DOMID ? -XEN_EINVAL
             : hosted_find(c, r.domid) ? -XEN_EEXIST
                                       : 0;
        domid = r.domid;
    } else {
        uint32_t tries;

        domid = c->domid_rover;
        for (tries = 0; tries < GUEST_MAX_DOMID; tries++) {
            domid = domid >= GUEST_MAX_DOMID ? 1 : domid + 1;
            if (!hosted_find(c, domid))
                break;
        }
        rc = tries == GUEST_MAX_DOMID ? -XEN_ENOSPC : 0;
    }
    h = rc ? NULL : calloc(1, sizeof(*h));
    if (!h) {
        pthread_rwlock_unlock(&c->doms_lock);
        reply(k, m, rc ? rc : -XEN_ENOMEM, NULL, 0, -1);
        return 0;
    }
    cfg.domid = (uint16_t)domid;
    rc = domain_create(c->kvm, c->base, &cfg, &d, err, sizeof(err));
    if (rc) {
        pthread_rwlock_unlock(&c->doms_lock);
        free(h);
        reply(k, m, -XEN_EINVAL, err, strlen(err) + 1, -1);
        return 0;
    }
    h->d = d;
    if (!r.domid)
        c->domid_rover = (domid_t)domid;
    d->peers = &c->peers;
    for (unsigned int i = 0; i < sizeof(r.handle); i++)
        if (r.handle[i]) {
            memcpy(d->handle, r.handle, sizeof(d->handle));
            break;
        }
    h->next = c->doms;
    c->doms = h;
    pthread_rwlock_unlock(&c->doms_lock);
    reply(k, m, 0, &domid, sizeof(domid), -1);
    return domid;
}

/*
 * XENHV_OP_DOMAIN_DESTROY: unlink (nobody uses it after that), then stop
 * its vCPUs and free it: its ports close (peers see them unbound), the
 * mappings it made are released, mappings others made of its grants keep
 * their pages (the memfd lives while mapped).
 */
static void domain_destroy_op(struct conn *k, const struct xenhv_msg *m,
                              const uint8_t *payload)
{
    struct control *c = k->c;
    struct hosted *h = NULL;
    uint32_t domid;

    if (m->len != sizeof(domid)) {
        reply(k, m, -XEN_EINVAL, NULL, 0, -1);
        return;
    }
    memcpy(&domid, payload, sizeof(domid));
    pthread_rwlock_wrlock(&c->doms_lock);
    for (struct hosted **pp = &c->doms; *pp; pp = &(*pp)->next)
        if ((*pp)->d->domid == domid) {
            h = *pp;
            *pp = h->next;
            break;
        }
    pthread_rwlock_unlock(&c->doms_lock);
    if (!h) {
        reply(k, m, -XEN_ESRCH, NULL, 0, -1);
        return;
    }
    if (h->d == c->d)
        domain_kill(h->d,
                    "destroyed by the control domain"); /* launcher frees */
    else
        domain_destroy(h->d);
    free(h);
    reply(k, m, 0, NULL, 0, -1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Charge ns of control-socket work to hosted domain domid (doms_lock held). */
static void account(struct control *c, uint32_t domid, uint64_t ns)
{
    struct domain *d = hosted_find(c, domid);

    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->control_ns += ns;
    pthread_mutex_unlock(&d->lock);
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
static int32_t peer_doorbell(struct conn *k, uint32_t port, int *bell)
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

/* Ops that are never answered (xenhv_privcmd.h: fire-and-forget). */
static bool op_no_reply(uint32_t op)
{
    return op == XENHV_OP_EVTCHN_NOTIFY_ASYNC ||
           op == XENHV_OP_EVTCHN_UNMASK_ASYNC;
}

static void handle(struct conn *k, const struct xenhv_msg *m,
                   const uint8_t *payload, int fd)
{
    struct control *c = k->c;
    uint64_t t0;

    if (m->op != XENHV_OP_HELLO && k->ev_fd < 0) {
        if (!op_no_reply(m->op))
            reply(k, m, -XEN_EINVAL, NULL, 0, -1); /* HELLO first */
        return;
    }
    switch (m->op) {
    case XENHV_OP_EVTCHN_NOTIFY_ASYNC:
    case XENHV_OP_EVTCHN_UNMASK_ASYNC: {
        struct xenhv_evtchn_req r;
        struct xenhv_evtchn_rep rep = {0};
        if (m->len != sizeof(r))
            return;
        memcpy(&r, payload, sizeof(r));
        /* No reply: a port this connection does not own is dropped. */
        (void)do_evtchn(k,
                        m->op == XENHV_OP_EVTCHN_NOTIFY_ASYNC
                            ? XENHV_OP_EVTCHN_NOTIFY
                            : XENHV_OP_EVTCHN_UNMASK,
                        &r, &rep, NULL);
        return;
    }
    case XENHV_OP_EVTCHN_BELLS:
        k->bells = true;
        reply(k, m, 0, NULL, 0, -1);
        return;
    case XENHV_OP_EVTCHN_DOORBELL: {
        struct xenhv_evtchn_req r;
        int bell = -1;
        int32_t rc;
        if (m->len != sizeof(r)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        memcpy(&r, payload, sizeof(r));
        rc = peer_doorbell(k, r.port, &bell);
        reply(k, m, rc, NULL, 0, bell);
        if (bell >= 0)
            close(bell);
        return;
    }
    case XENHV_OP_HELLO: {
        struct xenhv_hello_rep rep;
        int32_t rc;
        int sv[2];
        if (k->ev_fd >= 0) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
            reply(k, m, -XEN_ENOMEM, NULL, 0, -1);
            return;
        }
        rc = conn_attach(k);
        if (rc) {
            close(sv[0]);
            close(sv[1]);
            reply(k, m, rc, NULL, 0, -1);
            return;
        }
        rep.domid = k->vd->domid;
        rep.privileged = k->privileged;
        k->ev_fd = sv[0];
        reply(k, m, 0, &rep, sizeof(rep), sv[1]);
        close(sv[1]);
        return;
    }
    case XENHV_OP_EVTCHN_BIND_UNBOUND:
    case XENHV_OP_EVTCHN_BIND_INTERDOMAIN:
    case XENHV_OP_EVTCHN_BIND_VIRQ:
    case XENHV_OP_EVTCHN_NOTIFY:
    case XENHV_OP_EVTCHN_UNMASK:
    case XENHV_OP_EVTCHN_UNBIND: {
        struct xenhv_evtchn_req r;
        struct xenhv_evtchn_rep rep = {0};
        int32_t rc;
        if (m->len != sizeof(r)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        int bell = -1;
        memcpy(&r, payload, sizeof(r));
        rc = do_evtchn(k, m->op, &r, &rep, &bell);
        reply(k, m, rc, &rep, rc == 0 ? sizeof(rep) : 0, bell);
        if (bell >= 0)
            close(bell);
        return;
    }
    case XENHV_OP_GNTTAB_MAP: {
        struct xenhv_gnttab_map_req r;
        if (m->len != sizeof(r)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        memcpy(&r, payload, sizeof(r));
        do_gnttab_map(k, m, &r);
        return;
    }
    case XENHV_OP_GNTTAB_COPY:
        do_gnttab_copy(k, m, payload);
        return;
    case XENHV_OP_PDOM_MEMORY:
        reply(k, m, pdom_memory(k, payload, m->len, fd), NULL, 0, -1);
        return;
    case XENHV_OP_GNTTAB_FRAMES: {
        uint32_t n;
        if (m->len != sizeof(n)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        memcpy(&n, payload, sizeof(n));
        if (n == 0 || !gnttab_frame(k->vd->gt, n - 1)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        reply(k, m, 0, &n, sizeof(n), gnttab_frames_fd(k->vd->gt));
        return;
    }
    case XENHV_OP_GNTTAB_UNMAP: {
        struct xenhv_gnttab_unmap_req r;
        if (m->len != sizeof(r)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        memcpy(&r, payload, sizeof(r));
        do_gnttab_unmap(k, m, &r);
        return;
    }
    case XENHV_OP_DOMAIN_CREATE:
    case XENHV_OP_DOMAIN_DESTROY:
        if (!k->privileged) {
            reply(k, m, -XEN_EPERM, NULL, 0, -1);
        } else if (m->op == XENHV_OP_DOMAIN_CREATE) {
            uint32_t domid;
            t0 = now_ns();
            domid = domain_create_op(k, m, payload);
            if (domid) {
                pthread_rwlock_rdlock(&c->doms_lock);
                account(c, domid, now_ns() - t0);
                pthread_rwlock_unlock(&c->doms_lock);
            }
        } else
            domain_destroy_op(k, m, payload);
        return;
    case XENHV_OP_DOMAIN_LIST:
    case XENHV_OP_FOREIGN_MEMORY:
    case XENHV_OP_CONSOLE_READ:
    case XENHV_OP_CONSOLE_CLEAR:
    case XENHV_OP_DOMAIN_BUILD:
    case XENHV_OP_DOMAIN_UNPAUSE:
    case XENHV_OP_DOMAIN_PAUSE:
    case XENHV_OP_HVM_PARAM_GET:
    case XENHV_OP_HVM_PARAM_SET:
    case XENHV_OP_DOMAIN_SETMAXMEM:
    case XENHV_OP_VCPU_SETCONTEXT:
    case XENHV_OP_EVTCHN_ALLOC_UNBOUND_FOR:
    case XENHV_OP_POPULATE_PHYSMAP:
    case XENHV_OP_VCPU_SETAFFINITY:
        if (!k->privileged) {
            reply(k, m, -XEN_EPERM, NULL, 0, -1);
            return;
        }
        break;
    default:
        reply(k, m, -XEN_ENOSYS, NULL, 0, -1);
        return;
    }
    t0 = now_ns();
    pthread_rwlock_rdlock(&c->doms_lock);
    priv_op(k, m, payload, fd);
    /* Every privileged op about one domain names it first. */
    if (m->len >= sizeof(uint32_t) && m->op != XENHV_OP_DOMAIN_LIST) {
        uint32_t domid;
        memcpy(&domid, payload, sizeof(domid));
        account(c, domid, now_ns() - t0);
    }
    pthread_rwlock_unlock(&c->doms_lock);
}

static void conn_free(struct conn *k)
{
    struct control *c = k->c;
    struct vdom *v = k->vd, *dead = NULL;
    evtchn_port_t mine[VDOM_MAX_PORTS];
    unsigned int n = 0;

    pthread_mutex_lock(&c->lock);
    if (v) {
        for (unsigned int p = 0; p < VDOM_MAX_PORTS; p++)
            if (v->owner[p] == k) {
                v->owner[p] = NULL;
                bell_drop(v, p);
                mine[n++] = p;
            }
        if (--v->refs == 0 && v != c->dom0) {
            for (struct vdom **pp = &c->pdoms; *pp; pp = &(*pp)->next)
                if (*pp == v) {
                    *pp = v->next;
                    break;
                }
            dead = v;
        }
    }
    for (struct conn **pp = &c->conns; *pp; pp = &(*pp)->next)
        if (*pp == k) {
            *pp = k->next;
            break;
        }
    pthread_mutex_unlock(&c->lock);
    if (v) {
        for (unsigned int i = 0; i < n; i++)
            evtchn_close(v->evd, mine[i]);
        /* A process that goes away releases its grant maps, as gntdev. */
        for (unsigned int i = 0; i < k->nr_maps; i++)
            gnttab_unmap(v->gt, k->maps[i]);
    }
    /* A process domain dies with its last connection: peers see unbound. */
    if (dead && dead->as_domain) {
        /* Guests' grant operations may be using it: wait them out. */
        pthread_rwlock_wrlock(&c->doms_lock);
        pthread_rwlock_unlock(&c->doms_lock);
    }
    vdom_free(dead);
    /* Tell the control domain a domain died, as Xen does on destruction. */
    if (dead && c->dom0)
        evtchn_send_global_virq(c->dom0->evd, 0, VIRQ_DOM_EXC);
    event_free(k->ev);
    close(k->fd);
    if (k->ev_fd >= 0)
        close(k->ev_fd);
    free(k);
}

/* One request of k: 1 handled, 0 none waiting, -1 k was freed. */
static int conn_read_one(struct conn *k, int fd)
{
    uint8_t buf[XENHV_MSG_MAX];
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * 4)];
    } cm;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = cm.b,
                        .msg_controllen = sizeof(cm.b)};
    struct xenhv_msg m;
    int rfd = -1;
    ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

    if (n <= 0) {
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            return 0;
        conn_free(k);
        return -1;
    }
    /* Keep the first fd passed; close any others. */
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
        if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
            continue;
        size_t nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < nfd; i++) {
            int f;
            memcpy(&f, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
            if (rfd < 0)
                rfd = f;
            else
                close(f);
        }
    }
    if ((size_t)n < sizeof(m)) {
        if (rfd >= 0)
            close(rfd);
        conn_free(k); /* not our protocol: drop the connection */
        return -1;
    }
    memcpy(&m, buf, sizeof(m));
    if (m.len != (size_t)n - sizeof(m)) {
        if (!op_no_reply(m.op))
            reply(k, &m, -XEN_EINVAL, NULL, 0, -1);
    } else {
        handle(k, &m, buf + sizeof(m), rfd);
    }
    if (rfd >= 0)
        close(rfd);
    return 1;
}

/*
 * A connection is readable: serve the requests already queued, a few at a
 * time (fire-and-forget notifies and unmasks come in bursts; one wakeup
 * of the loop per request would cost more than the requests).
 */
static void conn_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    for (int i = 0; i < 16; i++)
        if (conn_read_one(arg, fd) <= 0)
            return;
}

static void accept_cb(evutil_socket_t fd, short what, void *arg)
{
    struct control *c = arg;
    struct ucred cred;
    socklen_t len = sizeof(cred);
    struct conn *k;
    int s = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (s < 0)
        return;
    if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
        !(k = calloc(1, sizeof(*k)))) {
        close(s);
        return;
    }
    k->c = c;
    k->fd = s;
    k->ev_fd = -1;
    k->privileged = cred.uid == 0;
    k->pid = cred.pid;
    k->ev = event_new(c->base, s, EV_READ | EV_PERSIST, conn_read, k);
    if (!k->ev) {
        close(s);
        free(k);
        return;
    }
    pthread_mutex_lock(&c->lock);
    k->next = c->conns;
    c->conns = k;
    pthread_mutex_unlock(&c->lock);
    event_add(k->ev, NULL);
}
struct control *control_start(const char *path, struct event_base *base,
                              struct evtchn_world *world,
                              const struct kvm_host *kvm, struct domain *d,
                              char *err, size_t errlen)
{
    struct control *c = calloc(1, sizeof(*c));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    if (!c)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->base = base;
    c->d = d;
    c->kvm = kvm;
    c->peers = (struct domain_peers){peers_lock, peers_unlock, peers_find, c};
    c->world = world;
    pthread_rwlock_init(&c->doms_lock, NULL);
    if (d) {
        struct hosted *h = calloc(1, sizeof(*h));
        if (!h) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        h->d = d;
        h->built = h->started = true;
        c->doms = h;
        d->peers = &c->peers;
    }
    c->next_pdom = PDOM_FIRST_DOMID;
    c->listen_fd = -1;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "control socket path too long");
        goto fail;
    }
    snprintf(c->path, sizeof(c->path), "%s", path);
    strcpy(sa.sun_path, path);
    c->dom0 = vdom_new(c, 0, 0);
    if (!c->dom0) {
        snprintf(err, errlen, "domain 0 event channels and grant table");
        goto fail;
    }
    c->listen_fd =
        socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    unlink(path);
    if (c->listen_fd < 0 ||
        bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(c->listen_fd, 16) < 0 ||
        /* Anyone may connect: SO_PEERCRED, not the file mode, decides. */
        chmod(path, 0666) < 0) {
        snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
        goto fail;
    }
    c->listen_ev =
        event_new(base, c->listen_fd, EV_READ | EV_PERSIST, accept_cb, c);
    if (!c->listen_ev || event_add(c->listen_ev, NULL) < 0) {
        snprintf(err, errlen, "control socket event");
        goto fail;
    }
    return c;
fail:
    control_stop(c);
    return NULL;
}

void control_stop(struct control *c)
{
    if (!c)
        return;
    while (c->conns)
        conn_free(c->conns);
    if (c->listen_ev)
        event_free(c->listen_ev);
    if (c->listen_fd >= 0) {
        close(c->listen_fd);
        unlink(c->path);
    }
    while (c->doms) {
        struct hosted *h = c->doms;
        c->doms = h->next;
        if (h->d != c->d)
            domain_destroy(h->d);
        else
            h->d->peers = NULL; /* the launcher frees it after us */
        free(h);
    }
    vdom_free(c->dom0);
    pthread_rwlock_destroy(&c->doms_lock);
    pthread_mutex_destroy(&c->lock);
    free(c);
}
