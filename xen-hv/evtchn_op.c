/*
 * evtchn_op.c — __HYPERVISOR_event_channel_op (<xen/event_channel.h>):
 * copies the argument in once, resolves domain ids the way Xen's
 * rcu_lock_domain_by_any_id() + XSM_TARGET do for an unprivileged domain
 * (domain_lookup()), calls the core in evtchn.c and copies the result out.
 * Order of checks as Xen 4.17's do_event_channel_op().  FIFO event
 * channels are not built: init_control, expand_array and set_priority
 * answer -XEN_ENOSYS as Xen does without FIFO.
 */
#include <stdint.h>
#include <string.h>

#include <xen/errno.h>
#include <xen/event_channel.h>

#include "evtchn.h"
#include "guest_copy.h"
#include "hypercall.h"

/* Copy in, run `body`, copy out when it succeeded. */
#define EVTCHN_OP_INOUT(type, body)                                            \
    do {                                                                       \
        type op;                                                               \
        if (copy_from_guest(v, &op, arg, sizeof(op)))                          \
            return -XEN_EFAULT;                                                \
        rc = (body);                                                           \
        if (rc == 0 && copy_to_guest(v, arg, &op, sizeof(op)))                 \
            rc = -XEN_EFAULT;                                                  \
        return rc;                                                             \
    } while (0)

#define EVTCHN_OP_IN(type, body)                                               \
    do {                                                                       \
        type op;                                                               \
        if (copy_from_guest(v, &op, arg, sizeof(op)))                          \
            return -XEN_EFAULT;                                                \
        return (body);                                                         \
    } while (0)

static long alloc_unbound(struct vcpu *v, struct evtchn_alloc_unbound *op)
{
    struct domain *d = v->d;
    long rc;

    if (!domain_lookup(v, op->dom, &rc))
        return rc;
    if (op->remote_dom == DOMID_SELF)
        op->remote_dom = d->domid;
    return evtchn_alloc_unbound(d->evtchn, op->remote_dom, &op->port);
}

static long bind_interdomain(struct vcpu *v, struct evtchn_bind_interdomain *op)
{
    domid_t rdom = op->remote_dom == DOMID_SELF ? v->d->domid : op->remote_dom;
    return evtchn_bind_interdomain(v->d->evtchn, rdom, op->remote_port,
                                   &op->local_port);
}

static long status(struct vcpu *v, struct evtchn_status *op)
{
    long rc;

    if (!domain_lookup(v, op->dom, &rc))
        return rc;
    return evtchn_status(v->d->evtchn, op);
}

long do_event_channel_op(struct vcpu *v, const struct hypercall_args *a)
{
    int cmd = (int)a->a[0];
    gva_t arg = a->a[1];
    struct evtchn_domain *e = v->d->evtchn;
    long rc;

    switch (cmd) {
    case EVTCHNOP_alloc_unbound:
        EVTCHN_OP_INOUT(struct evtchn_alloc_unbound, alloc_unbound(v, &op));
    case EVTCHNOP_bind_interdomain:
        EVTCHN_OP_INOUT(struct evtchn_bind_interdomain,
                        bind_interdomain(v, &op));
    case EVTCHNOP_bind_virq:
        EVTCHN_OP_INOUT(struct evtchn_bind_virq,
                        evtchn_bind_virq(e, op.virq, op.vcpu, &op.port));
    case EVTCHNOP_bind_ipi:
        EVTCHN_OP_INOUT(struct evtchn_bind_ipi,
                        evtchn_bind_ipi(e, op.vcpu, &op.port));
    case EVTCHNOP_bind_pirq: {
        struct evtchn_bind_pirq op;
        if (copy_from_guest(v, &op, arg, sizeof(op)))
            return -XEN_EFAULT;
        return -XEN_EINVAL; /* a PVH domain has no physical IRQs */
    }
    case EVTCHNOP_close:
        EVTCHN_OP_IN(struct evtchn_close, evtchn_close(e, op.port));
    case EVTCHNOP_send:
        EVTCHN_OP_IN(struct evtchn_send, evtchn_send(e, op.port));
    case EVTCHNOP_status:
        EVTCHN_OP_INOUT(struct evtchn_status, status(v, &op));
    case EVTCHNOP_bind_vcpu:
        EVTCHN_OP_IN(struct evtchn_bind_vcpu,
                     evtchn_bind_vcpu(e, op.port, op.vcpu));
    case EVTCHNOP_unmask:
        EVTCHN_OP_IN(struct evtchn_unmask, evtchn_unmask(e, op.port));
    case EVTCHNOP_reset: {
        struct evtchn_reset op;
        if (copy_from_guest(v, &op, arg, sizeof(op)))
            return -XEN_EFAULT;
        if (!domain_lookup(v, op.dom, &rc))
            return rc;
        return evtchn_reset(e);
    }
    case EVTCHNOP_init_control: {
        struct evtchn_init_control op;
        if (copy_from_guest(v, &op, arg, sizeof(op)))
            return -XEN_EFAULT;
        return -XEN_ENOSYS;
    }
    case EVTCHNOP_expand_array: {
        struct evtchn_expand_array op;
        if (copy_from_guest(v, &op, arg, sizeof(op)))
            return -XEN_EFAULT;
        return -XEN_ENOSYS;
    }
    case EVTCHNOP_set_priority: {
        struct evtchn_set_priority op;
        if (copy_from_guest(v, &op, arg, sizeof(op)))
            return -XEN_EFAULT;
        return -XEN_ENOSYS;
    }
    }
    return -XEN_ENOSYS;
}
