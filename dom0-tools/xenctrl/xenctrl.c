/*
 * xenctrl.c — the domain-control part of libxenctrl over xen-hv's control
 * socket: the functions of Debian's <xenctrl.h> a toolstack uses to
 * inspect and steer domains, with Xen's semantics (tools/libs/ctrl):
 * xc_interface_open/close, xc_domain_getinfolist, xc_domain_pause,
 * xc_domain_unpause, xc_domain_destroy, xc_domain_setmaxmem,
 * xc_hvm_param_set/get.  Privileged (domain 0) only.  Errors: -1 with
 * errno (ESRCH no such domain, EINVAL, EPERM, EEXIST).
 * Not here yet: xc_domain_create and the domain builder, which come with
 * the toolstack (their memory model is the builder's).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenctrl.h>

#include "privcmd_client.h"

struct xenhv_xc {
    struct privcmd_conn conn;
};

static int fail(int rc)
{
    errno = rc < 0 && rc > -4096 ? -rc : EIO;
    return -1;
}

xc_interface *xc_interface_open(xentoollog_logger *logger,
                                xentoollog_logger *dombuild_logger,
                                unsigned open_flags)
{
    struct xenhv_xc *x = calloc(1, sizeof(*x));
    struct xenhv_hello_rep rep;
    int rc;

    (void)logger;
    (void)dombuild_logger;
    (void)open_flags;
    if (!x) {
        errno = ENOMEM;
        return NULL;
    }
    /* Domain control is domain 0's. */
    rc = privcmd_open(&x->conn, &rep, NULL, 1);
    if (rc) {
        free(x);
        errno = -rc;
        return NULL;
    }
    return (xc_interface *)x;
}

int xc_interface_close(xc_interface *xch)
{
    struct xenhv_xc *x = (struct xenhv_xc *)xch;
    if (!x)
        return 0;
    privcmd_disconnect(&x->conn);
    free(x);
    return 0;
}

static struct privcmd_conn *conn(xc_interface *xch)
{
    return &((struct xenhv_xc *)xch)->conn;
}

static int domid_op(xc_interface *xch, uint32_t op, uint32_t domid)
{
    int rc =
        privcmd_call(conn(xch), op, &domid, sizeof(domid), NULL, 0, NULL, NULL);
    return rc ? fail(rc) : 0;
}

int xc_domain_pause(xc_interface *xch, uint32_t domid)
{
    return domid_op(xch, XENHV_OP_DOMAIN_PAUSE, domid);
}

int xc_domain_unpause(xc_interface *xch, uint32_t domid)
{
    return domid_op(xch, XENHV_OP_DOMAIN_UNPAUSE, domid);
}

int xc_domain_destroy(xc_interface *xch, uint32_t domid)
{
    return domid_op(xch, XENHV_OP_DOMAIN_DESTROY, domid);
}

/*
 * Xen's XEN_SYSCTL_getdomaininfolist: the domains with id >= first, in id
 * order, at most max; returns how many were filled.
 */
int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain,
                          unsigned int max_domains, xc_domaininfo_t *info)
{
    struct xenhv_domain_info all[32];
    uint32_t len = 0, n, filled = 0;
    uint32_t next = first_domain;
    int rc = privcmd_call(conn(xch), XENHV_OP_DOMAIN_LIST, NULL, 0, all,
                          sizeof(all), &len, NULL);

    if (rc)
        return fail(rc);
    n = len / sizeof(all[0]);
    while (filled < max_domains) {
        const struct xenhv_domain_info *best = NULL;
        for (uint32_t i = 0; i < n; i++)
            if (all[i].domid >= next && (!best || all[i].domid < best->domid))
                best = &all[i];
        if (!best)
            break;
        xc_domaininfo_t *o = &info[filled++];
        memset(o, 0, sizeof(*o));
        o->domain = (domid_t)best->domid;
        /* A process domain has no vCPUs: it waits for events, blocked. */
        o->flags = best->process ? XEN_DOMINF_blocked
                                 : XEN_DOMINF_hvm_guest | XEN_DOMINF_hap;
        if (best->shutdown)
            o->flags |= XEN_DOMINF_shutdown |
                        ((best->shutdown_reason & XEN_DOMINF_shutdownmask)
                         << XEN_DOMINF_shutdownshift);
        if (best->paused)
            o->flags |= XEN_DOMINF_paused;
        else if (!best->shutdown && best->nr_online_vcpus)
            o->flags |= best->blocked ? XEN_DOMINF_blocked : XEN_DOMINF_running;
        o->tot_pages = best->tot_pages;
        o->max_pages = best->max_pages;
        o->shared_info_frame = best->shared_info_gfn;
        o->cpu_time = best->cpu_time;
        o->nr_online_vcpus = best->nr_online_vcpus;
        o->max_vcpu_id =
            best->nr_vcpus ? best->nr_vcpus - 1 : XEN_INVALID_MAX_VCPU_ID;
        memcpy(o->handle, best->handle, sizeof(o->handle));
        o->gpaddr_bits = 52;
        next = best->domid + 1;
    }
    return (int)filled;
}

int xc_domain_setmaxmem(xc_interface *xch, uint32_t domid, uint64_t max_memkb)
{
    struct xenhv_setmaxmem r = {.domid = domid, .max_kib = max_memkb};
    int rc = privcmd_call(conn(xch), XENHV_OP_DOMAIN_SETMAXMEM, &r, sizeof(r),
                          NULL, 0, NULL, NULL);
    return rc ? fail(rc) : 0;
}

int xc_hvm_param_set(xc_interface *xch, uint32_t dom, uint32_t param,
                     uint64_t value)
{
    struct xenhv_hvm_param p = {.domid = dom, .index = param, .value = value};
    int rc = privcmd_call(conn(xch), XENHV_OP_HVM_PARAM_SET, &p, sizeof(p),
                          NULL, 0, NULL, NULL);
    return rc ? fail(rc) : 0;
}

int xc_hvm_param_get(xc_interface *xch, uint32_t dom, uint32_t param,
                     uint64_t *value)
{
    struct xenhv_hvm_param p = {.domid = dom, .index = param};
    int rc = privcmd_call(conn(xch), XENHV_OP_HVM_PARAM_GET, &p, sizeof(p), &p,
                          sizeof(p), NULL, NULL);
    if (rc)
        return fail(rc);
    *value = p.value;
    return 0;
}

/*
 * xc_evtchn_alloc_unbound — EVTCHNOP_alloc_unbound for another domain
 * (<xen/event_channel.h>: `dom` other than DOMID_SELF needs privilege): a
 * new unbound port in `dom` that `remote_dom` may bind, as the toolstack
 * makes a guest's xenstore and console ports.  Returns the port, or -1 with
 * errno ESRCH (no such dom), ENOSPC (dom has no free port), EINVAL.
 */
xc_evtchn_port_or_error_t
xc_evtchn_alloc_unbound(xc_interface *xch, uint32_t dom, uint32_t remote_dom)
{
    struct xenhv_alloc_unbound r = {.dom = dom, .remote_dom = remote_dom};
    struct xenhv_evtchn_rep rep = {0};
    int rc = privcmd_call(conn(xch), XENHV_OP_EVTCHN_ALLOC_UNBOUND_FOR, &r,
                          sizeof(r), &rep, sizeof(rep), NULL, NULL);
    return rc ? fail(rc) : (xc_evtchn_port_or_error_t)rep.port;
}

/*
 * xc_domain_create — XEN_DOMCTL_createdomain (<xen/domctl.h>): a new,
 * paused domain with no memory and config->max_vcpus vCPUs.  *pdomid 0 (or
 * >= DOMID_FIRST_RESERVED) picks the lowest free id, another value asks for
 * that id (EEXIST when taken).  Only PVH exists: flags must hold
 * XEN_DOMCTL_CDF_hvm (PV: EOPNOTSUPP).  max_evtchn_port is the highest port
 * (ports 0..max), max_grant_frames < 0 the default (32); handle is the UUID.
 * Memory follows with xc_domain_setmaxmem and
 * xc_domain_populate_physmap_exact, as libxl's builder does.
 * Returns 0 and *pdomid, or -1 with errno (EINVAL, EEXIST, ENOSPC, EPERM).
 */
int xc_domain_create(xc_interface *xch, uint32_t *pdomid,
                     struct xen_domctl_createdomain *config)
{
    struct xenhv_domain_create_req r;
    uint32_t domid = 0;
    int rc;

    if (!pdomid || !config) {
        errno = EINVAL;
        return -1;
    }
    if (!(config->flags & XEN_DOMCTL_CDF_hvm)) {
        errno = EOPNOTSUPP; /* PV domains do not exist yet */
        return -1;
    }
    if (config->max_vcpus == 0 || config->max_evtchn_port == 0 ||
        config->max_evtchn_port == UINT32_MAX) {
        errno = EINVAL;
        return -1;
    }
    memset(&r, 0, sizeof(r));
    snprintf(r.name, sizeof(r.name), "domain");
    r.vcpus = config->max_vcpus;
    r.max_grant_frames =
        config->max_grant_frames < 0 ? 0 : (uint32_t)config->max_grant_frames;
    if (config->max_grant_frames == 0) {
        errno = EINVAL;
        return -1;
    }
    r.max_event_channels = config->max_evtchn_port + 1;
    r.domid = *pdomid < DOMID_FIRST_RESERVED ? *pdomid : 0;
    memcpy(r.handle, config->handle, sizeof(r.handle));
    rc = privcmd_call(conn(xch), XENHV_OP_DOMAIN_CREATE, &r, sizeof(r), &domid,
                      sizeof(domid), NULL, NULL);
    if (rc)
        return fail(rc);
    *pdomid = domid;
    return 0;
}

/*
 * xc_domain_max_vcpus — vCPUs are fixed at creation (max_vcpus of
 * xc_domain_create, as in Xen since XEN_DOMCTL_max_vcpus was folded into
 * createdomain): 0 when max equals the domain's count, else -1 EINVAL;
 * ESRCH for no such domain.
 */
int xc_domain_max_vcpus(xc_interface *xch, uint32_t domid, unsigned int max)
{
    xc_domaininfo_t info;
    int n = xc_domain_getinfolist(xch, domid, 1, &info);

    if (n < 0)
        return -1;
    if (n == 0 || info.domain != domid) {
        errno = ESRCH;
        return -1;
    }
    if (max != info.max_vcpu_id + 1) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

/*
 * xc_domain_populate_physmap_exact — XENMEM_populate_physmap for domid as
 * the control domain (<xen/memory.h>): nr_extents extents of
 * 2^extent_order pages at extent_start[i] << extent_order.  mem_flags
 * (XENMEMF_*) are accepted and ignored (one NUMA node).  All or nothing
 * per call as far as the check goes: 0, or -1 with errno ENOMEM (past
 * xc_domain_setmaxmem's limit, or no limit set yet), EINVAL (gfn outside
 * the RAM layout), EBUSY (memory can no longer be set up), ESRCH.
 */
int xc_domain_populate_physmap_exact(xc_interface *xch, uint32_t domid,
                                     unsigned long nr_extents,
                                     unsigned int extent_order,
                                     unsigned int mem_flags,
                                     xen_pfn_t *extent_start)
{
    enum { CHUNK = 4096 };
    struct {
        struct xenhv_populate_req r;
        uint64_t gfn[CHUNK];
    } *req = NULL;
    unsigned long done = 0;
    int rc = 0;

    (void)mem_flags;
    _Static_assert(CHUNK <= XENHV_POPULATE_MAX, "chunk fits one request");
    if (nr_extents && !extent_start) {
        errno = EINVAL;
        return -1;
    }
    req = malloc(sizeof(*req));
    if (!req) {
        errno = ENOMEM;
        return -1;
    }
    while (done < nr_extents && rc == 0) {
        unsigned long n = nr_extents - done < CHUNK ? nr_extents - done : CHUNK;
        memset(&req->r, 0, sizeof(req->r));
        req->r.domid = domid;
        req->r.nr_extents = (uint32_t)n;
        req->r.extent_order = extent_order;
        for (unsigned long i = 0; i < n; i++)
            req->gfn[i] = extent_start[done + i];
        rc = privcmd_call(conn(xch), XENHV_OP_POPULATE_PHYSMAP, req,
                          (uint32_t)(sizeof(req->r) + n * sizeof(uint64_t)),
                          NULL, 0, NULL, NULL);
        done += n;
    }
    free(req);
    return rc ? fail(rc) : 0;
}

/* xc_get_max_cpus — host CPUs the hypervisor may use (configured CPUs). */
int xc_get_max_cpus(xc_interface *xch)
{
    long n = sysconf(_SC_NPROCESSORS_CONF);

    (void)xch;
    return n > 0 ? (int)(n > 1024 ? 1024 : n) : 1;
}

/* xc_get_cpumap_size — bytes of an xc_cpumap_t: one bit per host CPU. */
int xc_get_cpumap_size(xc_interface *xch)
{
    return (xc_get_max_cpus(xch) + 7) / 8;
}

/* xc_cpumap_alloc — a zeroed cpumap of xc_get_cpumap_size() bytes. */
xc_cpumap_t xc_cpumap_alloc(xc_interface *xch)
{
    return calloc(1, (size_t)xc_get_cpumap_size(xch));
}

/*
 * xc_vcpu_setaffinity — XEN_DOMCTL_setvcpuaffinity (<xen/domctl.h>): with
 * XEN_VCPUAFFINITY_HARD, vCPU vcpu of domid runs only on the host CPUs set
 * in cpumap_hard_inout (xc_get_cpumap_size() bytes, bit n = CPU n); xen-hv
 * pins that vCPU's thread.  On return the hard map holds the effective
 * affinity (the map limited to the host's CPUs), as Xen's does.  Soft
 * affinity is a scheduling hint xen-hv has no use for: accepted, its map
 * left as given.  Returns 0 or -1 with errno ESRCH, ENOENT (no such vcpu),
 * EINVAL (no online CPU in the map, or no flag).
 */
int xc_vcpu_setaffinity(xc_interface *xch, uint32_t domid, int vcpu,
                        xc_cpumap_t cpumap_hard_inout,
                        xc_cpumap_t cpumap_soft_inout, uint32_t flags)
{
    struct xenhv_vcpu_affinity r;
    int bytes = xc_get_cpumap_size(xch), rc;

    (void)cpumap_soft_inout;
    if (vcpu < 0 ||
        !(flags & (XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT)) ||
        ((flags & XEN_VCPUAFFINITY_HARD) && !cpumap_hard_inout)) {
        errno = EINVAL;
        return -1;
    }
    if (!(flags & XEN_VCPUAFFINITY_HARD))
        return 0;
    memset(&r, 0, sizeof(r));
    r.domid = domid;
    r.vcpu = (uint32_t)vcpu;
    for (int cpu = 0; cpu < bytes * 8 && cpu < 1024; cpu++)
        if (cpumap_hard_inout[cpu / 8] & (1u << (cpu % 8)))
            r.cpumap[cpu / 64] |= 1ULL << (cpu % 64);
    rc = privcmd_call(conn(xch), XENHV_OP_VCPU_SETAFFINITY, &r, sizeof(r), NULL,
                      0, NULL, NULL);
    if (rc)
        return fail(rc);
    for (int cpu = xc_get_max_cpus(xch); cpu < bytes * 8; cpu++)
        cpumap_hard_inout[cpu / 8] &= (uint8_t) ~(1u << (cpu % 8));
    return 0;
}
