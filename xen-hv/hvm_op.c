/*
 * hvm_op.c — __HYPERVISOR_hvm_op (<xen/hvm/hvm_op.h>): set_param/get_param
 * over the HVM-param table (hvm_param.h has the access rules),
 * set_evtchn_upcall_vector and get_time.  Order of checks as in Xen 4.17's
 * hvmop_set_param()/hvmop_get_param(): copy, index range, domain, access.
 */
#include <stdint.h>
#include <xen/errno.h>
#include <xen/hvm/hvm_op.h>

#include "guest_copy.h"
#include "hypercall.h"

static long hvmop_param(struct vcpu *v, gva_t arg, bool set)
{
    struct xen_hvm_param p;
    struct domain *d = v->d;
    long rc;

    if (copy_from_guest(v, &p, arg, sizeof(p)))
        return -XEN_EFAULT;
    if (p.index >= HVM_NR_PARAMS)
        return -XEN_EINVAL;
    if (p.domid != DOMID_SELF && p.domid != d->domid)
        return p.domid == 0 ? -XEN_EPERM : -XEN_ESRCH; /* dom0: XSM_TARGET */
    pthread_mutex_lock(&d->lock);
    if (set)
        rc =
            hvm_param_set(&d->params, p.index, p.value, HVM_PARAM_CALLER_GUEST);
    else
        rc = hvm_param_get(&d->params, p.index, HVM_PARAM_CALLER_GUEST,
                           &p.value);
    /* HVM_PARAM_CALLBACK_IRQ of type vector: events arrive on that vector. */
    if (rc == 0 && set && p.index == HVM_PARAM_CALLBACK_IRQ)
        d->callback_vector = (p.value >> 56) == HVM_PARAM_CALLBACK_TYPE_VECTOR
                                 ? p.value & 0xff
                                 : 0;
    pthread_mutex_unlock(&d->lock);
    if (rc)
        return rc;
    /* Xen's hvm_set_callback_via() re-asserts every vCPU's upcall. */
    if (set && p.index == HVM_PARAM_CALLBACK_IRQ)
        for (unsigned int i = 0; i < d->nr_vcpus; i++)
            domain_assert_evtchn_irq(d->vcpus[i]);
    if (!set && copy_to_guest(v, arg, &p, sizeof(p)))
        return -XEN_EFAULT;
    return 0;
}

static long hvmop_set_evtchn_upcall_vector(struct vcpu *v, gva_t arg)
{
    struct xen_hvm_evtchn_upcall_vector op;
    struct domain *d = v->d;

    if (copy_from_guest(v, &op, arg, sizeof(op)))
        return -XEN_EFAULT;
    if (op.vector < 0x10)
        return -XEN_EINVAL;
    if (op.vcpu >= d->nr_vcpus)
        return -XEN_ENOENT;
    pthread_mutex_lock(&d->lock);
    d->vcpus[op.vcpu]->upcall_vector = op.vector;
    pthread_mutex_unlock(&d->lock);
    domain_assert_evtchn_irq(d->vcpus[op.vcpu]);
    return 0;
}

long do_hvm_op(struct vcpu *v, const struct hypercall_args *a)
{
    unsigned long op = (unsigned long)a->a[0];
    gva_t arg = a->a[1];

    switch (op) {
    case HVMOP_set_param:
        return hvmop_param(v, arg, true);
    case HVMOP_get_param:
        return hvmop_param(v, arg, false);
    case HVMOP_set_evtchn_upcall_vector:
        return hvmop_set_evtchn_upcall_vector(v, arg);
    case HVMOP_get_time: {
        struct xen_hvm_get_time t = {.now = domain_system_time(v->d)};
        return copy_to_guest(v, arg, &t, sizeof(t)) ? -XEN_EFAULT : 0;
    }
    }
    return -XEN_ENOSYS;
}
