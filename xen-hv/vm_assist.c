/*
 * vm_assist.c — __HYPERVISOR_vm_assist (<xen/xen.h> VMASST_*).
 * An HVM domain may enable only VMASST_TYPE_runstate_update_flag (Xen's
 * HVM_VM_ASSIST_MASK); other types and commands are -XEN_EINVAL.
 */
#include <stdint.h>
#include <xen/errno.h>

#include "hypercall.h"

#define HVM_VM_ASSIST_MASK (1UL << VMASST_TYPE_runstate_update_flag)

long do_vm_assist(struct vcpu *v, const struct hypercall_args *a)
{
    unsigned int cmd = (unsigned int)a->a[0];
    unsigned int type = (unsigned int)a->a[1];
    struct domain *d = v->d;

    if (type >= sizeof(unsigned long) * 8 ||
        !(HVM_VM_ASSIST_MASK & (1UL << type)))
        return -XEN_EINVAL;
    pthread_mutex_lock(&d->lock);
    switch (cmd) {
    case VMASST_CMD_enable:
        d->vm_assist |= 1UL << type;
        break;
    case VMASST_CMD_disable:
        d->vm_assist &= ~(1UL << type);
        break;
    default:
        pthread_mutex_unlock(&d->lock);
        return -XEN_ENOSYS;
    }
    pthread_mutex_unlock(&d->lock);
    return 0;
}
