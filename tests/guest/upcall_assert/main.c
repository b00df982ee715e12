/*
 * upcall_assert — Xen delivers the event-channel upcall whenever
 * evtchn_upcall_pending is set and the guest can take it, not only when a
 * port becomes pending (xen/arch/x86/hvm/irq.c: the callback vector is
 * level; hvm_assert_evtchn_irq()).  Linux depends on it: its
 * VCPUOP_register_vcpu_info marks everything pending (Xen's
 * map_vcpu_info() then injects), and a guest that never got that upcall
 * sees no event — no timer tick — ever after.  Checked here:
 *   1. register_vcpu_info delivers the upcall it marks pending;
 *   2. setting HVM_PARAM_CALLBACK_IRQ with upcall_pending already set
 *      delivers it (hvm_set_callback_via() re-asserts every vCPU);
 *   3. so does HVMOP_set_evtchn_upcall_vector;
 *   4. with nothing pending, setting the vector delivers nothing.
 */
#include <stdint.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>

#include "../common.h"
#include "xenkern/shared.h"
#include "xenkern/traps.h"
#include "xenkern/x86.h"

#define VEC 0xf3

static volatile unsigned int upcalls;
static struct vcpu_info new_info __attribute__((aligned(64)));

static void upcall(struct trap_frame *f)
{
    struct vcpu_info *vi = vcpu_info_of(0);

    (void)f;
    upcalls++;
    if (vi)
        vi->evtchn_upcall_pending = 0; /* as Linux's upcall loop does */
}

static long set_callback(uint64_t via)
{
    struct xen_hvm_param p = {
        .domid = DOMID_SELF, .index = HVM_PARAM_CALLBACK_IRQ, .value = via};
    return HYPERVISOR_hvm_op(HVMOP_set_param, &p);
}

/* window: let interrupts in for a while, return how many upcalls came. */
static unsigned int window(void)
{
    unsigned int before = upcalls;

    irq_enable();
    for (volatile int i = 0; i < 200000; i++)
        cpu_relax();
    irq_disable();
    return upcalls - before;
}

void test_main(void)
{
    const uint64_t via = (2ULL << 56) | VEC; /* CALLBACK_TYPE_VECTOR */
    struct xen_hvm_evtchn_upcall_vector u = {.vcpu = 0, .vector = VEC};

    require_xen();
    irq_register(VEC, upcall);
    tap_plan(6);
    irq_disable();

    vcpu_info_of(0)->evtchn_upcall_pending = 0;
    is_int(set_callback(via), 0, "HVM_PARAM_CALLBACK_IRQ = vector 0xf3");
    is_int(window(), 0, "nothing pending: no upcall");

    is_int(vcpu_info_register(0, &new_info), 0, "register_vcpu_info");
    ok(window() == 1 && new_info.evtchn_upcall_pending == 0,
       "register_vcpu_info marks everything pending and delivers the "
       "upcall");

    new_info.evtchn_upcall_pending = 1;
    set_callback(via);
    is_int(window(), 1, "setting the callback vector with upcall_pending "
                        "set delivers it");

    new_info.evtchn_upcall_pending = 1;
    HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &u);
    is_int(window(), 1, "HVMOP_set_evtchn_upcall_vector with upcall_pending "
                        "set delivers it");
}
