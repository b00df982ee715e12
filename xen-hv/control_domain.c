/*
 * control_domain.c — the hosted domains of the control socket (struct
 * hosted, control_priv.h): the privileged requests that create, build,
 * start, pause, list and destroy them (the domctl-like ops of
 * xenhv_privcmd.h; DOMAIN_CREATE picks ids as Xen's
 * XEN_DOMCTL_createdomain), the struct domain_peers through which hosted
 * domains find each other, and the time charged to them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xen/errno.h>

#include "control_priv.h"
#include "evtchn.h"
#include "xenhv_privcmd.h"

#define KERNEL_MAX_BYTES (512u << 20)

/* The hosted domain domid, or NULL (doms_lock held). */
static struct domain *hosted_find(struct control *c, uint32_t domid)
{
    for (struct hosted *h = c->doms; h; h = h->next)
        if (h->d->domid == domid)
            return h->d;
    return NULL;
}

/* Hosted domains reach each other through these (grant operations). */
void peers_lock(void *ctx)
{
    pthread_rwlock_rdlock(&((struct control *)ctx)->doms_lock);
}

void peers_unlock(void *ctx)
{
    pthread_rwlock_unlock(&((struct control *)ctx)->doms_lock);
}

struct domain *peers_find(void *ctx, domid_t domid)
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

/* Privileged requests about hosted domains (doms_lock held shared). */
void priv_op(struct conn *k, const struct xenhv_msg *m, const uint8_t *payload,
             int fd)
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
uint32_t domain_create_op(struct conn *k, const struct xenhv_msg *m,
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
void domain_destroy_op(struct conn *k, const struct xenhv_msg *m,
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

/* Charge ns of control-socket work to hosted domain domid (doms_lock held). */
void account(struct control *c, uint32_t domid, uint64_t ns)
{
    struct domain *d = hosted_find(c, domid);

    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->control_ns += ns;
    pthread_mutex_unlock(&d->lock);
}
