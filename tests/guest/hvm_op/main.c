/*
 * hvm_op — __HYPERVISOR_hvm_op (<xen/hvm/hvm_op.h>, <xen/hvm/params.h>)
 * as Xen 4.17's do_hvm_op() (xen/arch/x86/hvm/hvm.c): hvmop_set_param /
 * hvm_allow_set_param, hvmop_get_param / hvm_allow_get_param and
 * hvmop_set_evtchn_upcall_vector.
 */
#include <stdint.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>

#include "../common.h"
#include "xenkern/traps.h"

/* HVM_PARAM_PAE_ENABLED, deprecated: <xen/hvm/params.h> only defines it
 * for old __XEN_INTERFACE_VERSION__s; Xen 4.17 answers it -EINVAL. */
#define PARAM_PAE_ENABLED 4

static long param_set(domid_t domid, uint32_t index, uint64_t value)
{
    struct xen_hvm_param p = {.domid = domid, .index = index, .value = value};
    return HYPERVISOR_hvm_op(HVMOP_set_param, &p);
}

static long param_get(domid_t domid, uint32_t index, uint64_t *value)
{
    struct xen_hvm_param p = {.domid = domid, .index = index};
    long rc = HYPERVISOR_hvm_op(HVMOP_get_param, &p);
    if (value)
        *value = p.value;
    return rc;
}

static long upcall_vector(uint32_t vcpu, uint8_t vector)
{
    struct xen_hvm_evtchn_upcall_vector u = {.vcpu = vcpu, .vector = vector};
    return HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &u);
}

static void upcall(struct trap_frame *f)
{
    /* Nothing to do: the vector only has to be acknowledged. */
}

void test_main(void)
{
    const uint64_t via =
        (2ULL << 56) | 0xf3; /* HVM_PARAM_CALLBACK_TYPE_VECTOR */
    uint64_t v = 0;
    long rc;

    require_xen();
    irq_register(0xf3, upcall);
    tap_plan(17);

    is_int(param_set(DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, via), 0,
           "set HVM_PARAM_CALLBACK_IRQ (vector 0xf3)");
    rc = param_get(DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &v);
    ok(rc == 0 && v == via, "get HVM_PARAM_CALLBACK_IRQ round trip (0x%llx)",
       (unsigned long long)v);
    is_int(param_set(DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, 0), 0,
           "set HVM_PARAM_CALLBACK_IRQ back to 0");
    is_int(param_get(DOMID_SELF, HVM_PARAM_STORE_PFN, &v), 0,
           "get HVM_PARAM_STORE_PFN is allowed");
    is_int(param_set(DOMID_SELF, HVM_PARAM_STORE_PFN, 0x1234), -XEN_EPERM,
           "set HVM_PARAM_STORE_PFN is -EPERM");
    is_int(param_get(DOMID_SELF, HVM_PARAM_IDENT_PT, NULL), -XEN_EPERM,
           "get HVM_PARAM_IDENT_PT is -EPERM");
    is_int(param_set(DOMID_SELF, PARAM_PAE_ENABLED, 1), -XEN_EINVAL,
           "set deprecated HVM_PARAM_PAE_ENABLED is -EINVAL");
    is_int(param_set(DOMID_SELF, HVM_NR_PARAMS, 0), -XEN_EINVAL,
           "set index HVM_NR_PARAMS is -EINVAL");
    is_int(param_get(DOMID_SELF, HVM_NR_PARAMS, NULL), -XEN_EINVAL,
           "get index HVM_NR_PARAMS is -EINVAL");
    is_int(param_set(DOMID_NONE, HVM_PARAM_CALLBACK_IRQ, 0), -XEN_ESRCH,
           "set for no domain is -ESRCH");
    is_int(param_get(DOMID_NONE, HVM_PARAM_CALLBACK_IRQ, NULL), -XEN_ESRCH,
           "get for no domain is -ESRCH");
    is_int(HYPERVISOR_hvm_op(HVMOP_get_param, BAD_PTR), -XEN_EFAULT,
           "get_param from an unmapped address is -EFAULT");

    is_int(upcall_vector(0, 0xf3), 0,
           "HVMOP_set_evtchn_upcall_vector vCPU 0 vector 0xf3");
    is_int(upcall_vector(0, 0x0f), -XEN_EINVAL, "vector 0x0f is -EINVAL");
    is_int(upcall_vector(4096, 0xf3), -XEN_ENOENT, "vCPU 4096 is -ENOENT");
    is_int(HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, BAD_PTR),
           -XEN_EFAULT, "set_evtchn_upcall_vector from an unmapped address");
    is_int(HYPERVISOR_hvm_op(0x7f, NULL), -XEN_ENOSYS,
           "unknown HVMOP is -ENOSYS");
}
