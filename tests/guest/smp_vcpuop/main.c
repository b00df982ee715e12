/*
 * smp_vcpuop — start vCPU 1 with VCPUOP_initialise (struct
 * vcpu_hvm_context, VCPU_HVM_MODE_64B, <xen/hvm/hvm_vcpu.h>) and
 * VCPUOP_up, as Xen 4.17's common_vcpu_op() (xen/common/domain.c) and
 * arch_initialise_vcpu() (xen/arch/x86/domain.c): up before initialise is
 * -EINVAL, a second initialise -EEXIST, up of an up vCPU 0.  VCPUS=2.
 */
#include <stdint.h>
#include <xen/vcpu.h>
#include <xen/hvm/hvm_vcpu.h>

#include "../common.h"
#include "xenkern/smp.h"

static volatile int ap_ran;

static void ap_main(void *arg)
{
    printf("# hello from vCPU %u, started by VCPUOP_up\n", smp_id());
    smp_mb();
    ap_ran = 1;
}

void test_main(void)
{
    struct vcpu_hvm_context ctx;
    uint64_t end;

    require_xen();
    tap_plan(10);
    is_int(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 0,
           "vCPU 1 down before VCPUOP_up");
    is_int(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), -XEN_EINVAL,
           "VCPUOP_up without a context is -EINVAL");
    is_int(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, BAD_PTR), -XEN_EFAULT,
           "VCPUOP_initialise from an unmapped address is -EFAULT");
    is_int(smp_start_vcpuop(1, ap_main, NULL), 0,
           "VCPUOP_initialise + VCPUOP_up vCPU 1");
    end = time_now_ns() + 1000000000ULL;
    while (!ap_ran && time_now_ns() < end)
        cpu_relax();
    ok(ap_ran, "vCPU 1 ran its function");
    is_int(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 1,
           "vCPU 1 is up after VCPUOP_up");
    smp_hvm_context(1, &ctx);
    is_int(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctx), -XEN_EEXIST,
           "a second VCPUOP_initialise is -EEXIST");
    is_int(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0,
           "VCPUOP_up of a running vCPU returns 0");
    is_int(HYPERVISOR_vcpu_op(VCPUOP_initialise, 2, &ctx), -XEN_ENOENT,
           "VCPUOP_initialise of vCPU 2 of 2 is -ENOENT");
    is_int(HYPERVISOR_vcpu_op(VCPUOP_up, 2, NULL), -XEN_ENOENT,
           "VCPUOP_up of vCPU 2 of 2 is -ENOENT");
}
