/* shared.c — shared_info mapping and vcpu_info lookup (shared.h). */
#include <stdint.h>
#include <stddef.h>
#include <xen/errno.h>
#include <xen/memory.h>
#include <xen/vcpu.h>

#include "xenkern/hypercall.h"
#include "xenkern/shared.h"
#include "xenkern/smp.h"

struct shared_info *shared_info;

/* The page the hypervisor's shared_info replaces in our physmap. */
static uint8_t shared_info_page[4096] __attribute__((aligned(4096)));
static struct vcpu_info *vcpu_info_registered[SMP_MAX_CPUS];

int shared_info_map(void)
{
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF,
        .space = XENMAPSPACE_shared_info,
        .idx = 0,
        .gpfn = (unsigned long)shared_info_page >> 12,
    };
    long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);

    if (rc)
        return (int)rc;
    shared_info = (struct shared_info *)shared_info_page;
    return 0;
}

struct vcpu_info *vcpu_info_of(unsigned int id)
{
    if (id < SMP_MAX_CPUS && vcpu_info_registered[id])
        return vcpu_info_registered[id];
    if (shared_info && id < XEN_LEGACY_MAX_VCPUS)
        return &shared_info->vcpu_info[id];
    return NULL;
}

int vcpu_info_register(unsigned int id, struct vcpu_info *vi)
{
    unsigned long pa = (unsigned long)vi;
    struct vcpu_register_vcpu_info info = {
        .mfn = pa >> 12,
        .offset = (uint32_t)(pa & 0xfff),
    };
    long rc = HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, id, &info);

    if (rc == 0 && id < SMP_MAX_CPUS)
        vcpu_info_registered[id] = vi;
    return (int)rc;
}
