/*
 * vcpu_op — __HYPERVISOR_vcpu_op (<xen/vcpu.h>) as Xen 4.17 answers an
 * HVM vCPU: xen/arch/x86/domain.c do_vcpu_op() (bad vCPU id -ENOENT
 * first, register_vcpu_time_memory_area, get_physid) and
 * xen/common/domain.c common_vcpu_op() / map_vcpu_info().  VCPUS=2.
 */
#include <stdint.h>
#include <xen/vcpu.h>

#include "../common.h"
#include "xenkern/shared.h"

static struct vcpu_info new_info[64] __attribute__((aligned(4096)));
static struct vcpu_time_info time_area __attribute__((aligned(64)));
static struct vcpu_runstate_info rs_area __attribute__((aligned(64)));

static long reg_info(unsigned int id, unsigned long pa)
{
    struct vcpu_register_vcpu_info r = {.mfn = pa >> 12, .offset = pa & 0xfff};
    return HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, id, &r);
}

void test_main(void)
{
    struct vcpu_register_time_memory_area ta;
    struct vcpu_register_runstate_memory_area ra;
    struct vcpu_set_singleshot_timer st;
    struct vcpu_set_periodic_timer pt;
    struct vcpu_runstate_info rs;
    struct vcpu_get_physid phys;
    unsigned long page = (unsigned long)new_info;
    uint64_t t0;
    long rc;

    require_xen();
    tap_plan(26);

    /* map_vcpu_info(): offset checks are -ENXIO, before anything else. */
    is_int(reg_info(0, page + 4096 - 32), -XEN_ENXIO,
           "register_vcpu_info with vcpu_info past the page is -ENXIO");
    is_int(reg_info(0, page + 4), -XEN_ENXIO,
           "register_vcpu_info misaligned offset is -ENXIO");
    is_int(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, BAD_PTR),
           -XEN_EFAULT, "register_vcpu_info from an unmapped address");
    t0 = time_now_ns();
    is_int(vcpu_info_register(0, &new_info[1]), 0,
           "register_vcpu_info vCPU 0 at offset 64");
    ok(time_now_ns() >= t0, "pvclock continues in the new vcpu_info");
    is_int(reg_info(0, (unsigned long)&new_info[2]), -XEN_EINVAL,
           "a second register_vcpu_info is -EINVAL");

    ta.addr.v = &time_area;
    is_int(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_time_memory_area, 0, &ta), 0,
           "register_vcpu_time_memory_area");
    ok(time_area.version && !(time_area.version & 1) &&
           time_area.tsc_to_system_mul,
       "time area filled (version %u mul 0x%x)", time_area.version,
       time_area.tsc_to_system_mul);
    t0 = pvclock_read(&time_area, NULL);
    ok(t0 <= time_now_ns() + 1000000 && time_now_ns() <= t0 + 1000000000ULL,
       "time area agrees with vcpu_info time");

    ra.addr.v = &rs_area;
    is_int(HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &ra), 0,
           "register_runstate_memory_area");
    is_int(rs_area.state, RUNSTATE_running, "runstate area says running");

    is_int(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0, NULL), 1, "vCPU 0 is up");
    is_int(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 0,
           "vCPU 1 is down before it is started");
    is_int(HYPERVISOR_vcpu_op(VCPUOP_is_up, 2, NULL), -XEN_ENOENT,
           "vCPU 2 of 2 is -ENOENT");
    is_int(HYPERVISOR_vcpu_op(VCPUOP_is_up, 4096, NULL), -XEN_ENOENT,
           "vCPU 4096 is -ENOENT");

    /* common_vcpu_op(): a past deadline just fires the timer event; the
     * VCPU_SSHOTTMR_future flag is ignored (vcpu.h: "can be ignored"). */
    st.timeout_abs_ns = 1;
    st.flags = VCPU_SSHOTTMR_future;
    is_int(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &st), 0,
           "set_singleshot_timer in the past with _future returns 0");
    st.timeout_abs_ns = time_now_ns() + 1000000000ULL;
    st.flags = 0;
    is_int(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 1, &st), -XEN_EINVAL,
           "set_singleshot_timer for another vCPU is -EINVAL");
    is_int(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &st), 0,
           "set_singleshot_timer 1 s ahead");
    is_int(HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL), 0,
           "stop_singleshot_timer");
    pt.period_ns = 100000; /* below 1 ms */
    is_int(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &pt), -XEN_EINVAL,
           "set_periodic_timer of 100 us is -EINVAL");
    is_int(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0,
           "stop_periodic_timer");

    rc = HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, &rs);
    ok(rc == 0 && rs.state == RUNSTATE_running,
       "get_runstate_info vCPU 0 running (rc %ld state %d)", rc, rs.state);
    rc = HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, &rs);
    ok(rc == 0 && rs.state == RUNSTATE_offline,
       "get_runstate_info vCPU 1 offline (rc %ld state %d)", rc, rs.state);
    is_int(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, BAD_PTR),
           -XEN_EFAULT, "get_runstate_info to an unmapped address");
    is_int(HYPERVISOR_vcpu_op(VCPUOP_get_physid, 0, &phys), -XEN_EINVAL,
           "get_physid of a domU vCPU is -EINVAL");
    is_int(HYPERVISOR_vcpu_op(99, 0, NULL), -XEN_ENOSYS,
           "unknown VCPUOP is -ENOSYS");
}
