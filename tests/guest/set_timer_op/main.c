/*
 * set_timer_op — __HYPERVISOR_set_timer_op (Xen 4.17 xen/common/sched/
 * core.c do_set_timer_op(): absolute deadline, 0 cancels) and
 * __HYPERVISOR_vm_assist (xen/common/domain.c do_vm_assist(): an HVM
 * domain's valid mask is only VMASST_TYPE_runstate_update_flag,
 * asm/domain.h HVM_VM_ASSIST_MASK; the type is checked before the cmd).
 */
#include <stdint.h>
#include <xen/sched.h>

#include "../common.h"
#include "xenkern/evtchn.h"
#include "xenkern/sched.h"
#include "xenkern/shared.h"

void test_main(void)
{
    uint64_t t0, t1;
    long rc = 0;

    require_xen();
    tap_plan(10);

    sched_sleep_until(0); /* binds VIRQ_TIMER, which wakes SCHEDOP_block */
    t0 = time_now_ns();
    is_int(HYPERVISOR_set_timer_op(t0 + 10000000ULL), 0,
           "set_timer_op 10 ms ahead");
    /* Block until the deadline; an early wake-up blocks again. */
    while (rc == 0 && time_now_ns() < t0 + 10000000ULL) {
        rc = HYPERVISOR_sched_op(SCHEDOP_block, NULL);
        evtchn_poll(); /* consume the events, or the next one is held back */
    }
    t1 = time_now_ns();
    ok(rc == 0 && t1 - t0 >= 10000000ULL, "woke after %llu us",
       (unsigned long long)(t1 - t0) / 1000);
    is_int(HYPERVISOR_set_timer_op(time_now_ns() + 1000000000ULL), 0,
           "set_timer_op 1 s ahead");
    is_int(HYPERVISOR_set_timer_op(0), 0, "set_timer_op(0) cancels");

    is_int(HYPERVISOR_vm_assist(VMASST_CMD_enable,
                                VMASST_TYPE_runstate_update_flag),
           0, "vm_assist enable runstate_update_flag");
    is_int(HYPERVISOR_vm_assist(VMASST_CMD_disable,
                                VMASST_TYPE_runstate_update_flag),
           0, "vm_assist disable runstate_update_flag");
    is_int(HYPERVISOR_vm_assist(VMASST_CMD_enable,
                                VMASST_TYPE_writable_pagetables),
           -XEN_EINVAL, "vm_assist writable_pagetables (PV only) is -EINVAL");
    is_int(HYPERVISOR_vm_assist(VMASST_CMD_enable, 64), -XEN_EINVAL,
           "vm_assist type 64 is -EINVAL");
    is_int(HYPERVISOR_vm_assist(99, VMASST_TYPE_runstate_update_flag),
           -XEN_ENOSYS, "vm_assist unknown cmd is -ENOSYS");
    is_int(HYPERVISOR_vm_assist(99, 3), -XEN_EINVAL,
           "vm_assist unknown cmd with an invalid type is -EINVAL");
}
