/*
 * smp_sipi — start vCPU 1 the hardware way: INIT, SIPI, SIPI through the
 * LAPIC ICR to the real-mode trampoline at 0x8000 (Intel SDM vol. 3,
 * 8.4.4).  The AP reaches long mode on its own, prints and sets a flag.
 * Xen's HVM vCPUs accept this as well as VCPUOP_up.  VCPUS=2.
 */
#include <stdint.h>
#include <xen/vcpu.h>

#include "../common.h"
#include "xenkern/lapic.h"
#include "xenkern/smp.h"

static volatile int ap_ran;
static volatile unsigned int ap_id;

static void ap_main(void *arg)
{
    ap_id = smp_id();
    printf("# hello from vCPU %u (APIC id %u)\n", smp_id(), lapic_id());
    smp_mb();
    ap_ran = 1;
}

void test_main(void)
{
    uint32_t apic = smp_apic_id_of(1);
    uint64_t end;

    tap_plan(5);
    diag("vCPU 1 has APIC id %u (%s)", apic,
         lapic_x2apic() ? "x2APIC" : "xAPIC");
    if (xen_present)
        is_int(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 0,
               "vCPU 1 down before INIT/SIPI");
    else
        skip("no Xen: VCPUOP_is_up");
    is_int(smp_start_sipi(1, apic, ap_main, NULL), 0,
           "vCPU 1 came online after INIT/SIPI/SIPI");
    end = time_now_ns() + 1000000000ULL;
    while (!ap_ran && time_now_ns() < end)
        cpu_relax();
    ok(ap_ran, "vCPU 1 ran its function");
    is_int(ap_id, 1, "it read vCPU id 1");
    if (xen_present)
        is_int(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 1,
               "vCPU 1 is up after INIT/SIPI");
    else
        skip("no Xen: VCPUOP_is_up");
}
