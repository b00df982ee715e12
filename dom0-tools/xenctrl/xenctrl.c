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
        o->flags = XEN_DOMINF_hvm_guest | XEN_DOMINF_hap;
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
