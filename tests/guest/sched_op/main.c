/*
 * sched_op — __HYPERVISOR_sched_op (<xen/sched.h>) as Xen 4.17's
 * do_sched_op() (xen/common/sched/core.c).  Ends with the domain's
 * shutdown: SCHEDOP_shutdown_code set SHUTDOWN_reboot first, and Xen's
 * domain_shutdown() (common/domain.c) lets a set code win over the reason
 * of the later SCHEDOP_shutdown(poweroff): the launcher sees reboot (65).
 */
#include <stdint.h>
#include <xen/sched.h>
#include <xen/vcpu.h>

#include "../common.h"
#include "xenkern/sched.h"

void test_main(void)
{
    struct sched_shutdown sd;
    struct sched_remote_shutdown rsd;
    struct vcpu_set_singleshot_timer st = {0};
    uint64_t t0, t1, deadline;

    require_xen();
    tap_plan(11);

    is_int(HYPERVISOR_sched_op(SCHEDOP_yield, NULL), 0,
           "SCHEDOP_yield returns 0");

    t0 = time_now_ns();
    is_int(sched_sleep_until(t0 + 10000000ULL), 0,
           "SCHEDOP_block with a singleshot timer 10 ms ahead returns 0");
    t1 = time_now_ns();
    ok(t1 - t0 >= 10000000ULL, "blocked for %llu us (>= 10000)",
       (unsigned long long)(t1 - t0) / 1000);

    /* One block, nothing else pending: the timer event ends it, and a
     * Xen timer never fires before its deadline (sched/core.c). */
    deadline = time_now_ns() + 5000000ULL;
    st.timeout_abs_ns = deadline;
    HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &st);
    HYPERVISOR_sched_op(SCHEDOP_block, NULL);
    t1 = time_now_ns();
    ok(t1 >= deadline,
       "one SCHEDOP_block ends at or after the deadline "
       "(%lld us after)",
       ((long long)t1 - (long long)deadline) / 1000);

    is_int(HYPERVISOR_sched_op(99, NULL), -XEN_ENOSYS,
           "unknown command is -ENOSYS");
    is_int(HYPERVISOR_sched_op(SCHEDOP_shutdown, BAD_PTR), -XEN_EFAULT,
           "SCHEDOP_shutdown from an unmapped address is -EFAULT");
    is_int(HYPERVISOR_sched_op(SCHEDOP_shutdown_code, BAD_PTR), -XEN_EFAULT,
           "SCHEDOP_shutdown_code from an unmapped address is -EFAULT");

    rsd.domain_id = DOMID_NONE;
    rsd.reason = SHUTDOWN_poweroff;
    is_int(HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rsd), -XEN_ESRCH,
           "SCHEDOP_remote_shutdown of no domain is -ESRCH");
    rsd.domain_id = 0;
    is_int(HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rsd), -XEN_EPERM,
           "SCHEDOP_remote_shutdown of domain 0 is -EPERM");

    sd.reason = SHUTDOWN_reboot;
    is_int(HYPERVISOR_sched_op(SCHEDOP_shutdown_code, &sd), 0,
           "SCHEDOP_shutdown_code(reboot) returns 0");
    sd.reason = SHUTDOWN_crash; /* ignored: the first code stays */
    is_int(HYPERVISOR_sched_op(SCHEDOP_shutdown_code, &sd), 0,
           "a second SCHEDOP_shutdown_code returns 0");
    /* The harness now shuts down with SHUTDOWN_poweroff: reboot wins. */
}
