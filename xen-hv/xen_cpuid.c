/*
 * xen_cpuid.c — Xen's hypervisor CPUID leaves and the per-vCPU CPUID table
 * (xen_cpuid.h).
 *
 * Leaf contents follow Xen 4.17's cpuid_hypervisor_leaves()
 * (xen/arch/x86/traps.c) for an HVM domain without Viridian: the leaves
 * start at 0x40000000, the default limit is XEN_CPUID_MAX_NUM_LEAVES, and
 * a register Xen does not set is 0 (guest_cpuid() starts from an empty
 * leaf).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/arch-x86/cpuid.h>

#include "xen_cpuid.h"

#define XEN_LEAF_LAST         XEN_CPUID_LEAF(XEN_CPUID_MAX_NUM_LEAVES)
#define HV_RANGE_FIRST        0x40000000u /* Intel reserves up to 0x4fffffff */
#define HV_RANGE_LAST         0x4fffffffu
#define CPUID1_ECX_HYPERVISOR (1u << 31)

/*
 * The entries xen_cpuid_build() appends: (function, index, flags).  Leaf 3
 * has three meaningful sub-leaves and leaf 4 answers only sub-leaf 0, so
 * they are marked index-significant: KVM then answers other sub-leaves
 * with zeros, as Xen does.
 */
static const struct {
    uint32_t function, index, flags;
} xen_leaves[] = {
    {XEN_CPUID_LEAF(0), 0, 0},
    {XEN_CPUID_LEAF(1), 0, 0},
    {XEN_CPUID_LEAF(2), 0, 0},
    {XEN_CPUID_LEAF(3), 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX},
    {XEN_CPUID_LEAF(3), 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX},
    {XEN_CPUID_LEAF(3), 2, KVM_CPUID_FLAG_SIGNIFCANT_INDEX},
    {XEN_CPUID_LEAF(4), 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX},
    {XEN_CPUID_LEAF(5), 0, 0},
};

#define NR_XEN_LEAVES (sizeof(xen_leaves) / sizeof(xen_leaves[0]))

bool xen_cpuid_leaf(uint32_t leaf, uint32_t subleaf,
                    const struct xen_cpuid_params *p, uint32_t out[4])
{
    if (leaf < XEN_CPUID_FIRST_LEAF || leaf > XEN_LEAF_LAST)
        return false;
    memset(out, 0, 4 * sizeof(out[0]));

    switch (leaf - XEN_CPUID_FIRST_LEAF) {
    case 0:
        out[0] = XEN_LEAF_LAST;
        out[1] = XEN_CPUID_SIGNATURE_EBX;
        out[2] = XEN_CPUID_SIGNATURE_ECX;
        out[3] = XEN_CPUID_SIGNATURE_EDX;
        break;
    case 1:
        out[0] = (uint32_t)XENHV_VERSION_MAJOR << 16 | XENHV_VERSION_MINOR;
        break;
    case 2:
        out[0] = 1; /* hypercall pages */
        out[1] = XENHV_HYPERCALL_MSR;
        /* ecx: XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD is PV-only. */
        break;
    case 3:
        switch (subleaf) {
        case 0:
            /* bit 0 (vTSC) stays clear: the guest reads the real TSC. */
            out[0] =
                (p->tsc_reliable ? 1u << 1 : 0) | (p->rdtscp ? 1u << 2 : 0);
            out[1] = 0; /* tsc_mode default */
            out[2] = p->tsc_khz;
            out[3] = 0; /* incarnation: never migrated */
            break;
        case 1:
            out[0] = (uint32_t)p->tsc_offset;
            out[1] = (uint32_t)(p->tsc_offset >> 32);
            out[2] = p->tsc_mul;
            /* Xen stores (s8)shift in a 32-bit register: sign-extended. */
            out[3] = (uint32_t)(int32_t)p->tsc_shift;
            break;
        case 2:
            out[0] = p->host_tsc_khz ? p->host_tsc_khz : p->tsc_khz;
            break;
        }
        break;
    case 4:
        if (subleaf != 0)
            break;
        out[0] = XEN_HVM_CPUID_IOMMU_MAPPINGS | XEN_HVM_CPUID_VCPU_ID_PRESENT |
                 XEN_HVM_CPUID_DOMID_PRESENT | XEN_HVM_CPUID_UPCALL_VECTOR;
        if (p->x2apic)
            out[0] |= XEN_HVM_CPUID_X2APIC_VIRT;
        out[1] = p->vcpu_id;
        out[2] = p->domid;
        break;
    case 5:
        /* PV-specific parameters: all zeros for an HVM domain. */
        break;
    }
    return true;
}

static bool xen_cpuid_hv_range(uint32_t function)
{
    return function >= HV_RANGE_FIRST && function <= HV_RANGE_LAST;
}

int xen_cpuid_build(struct kvm_cpuid2 *cpuid, unsigned int capacity,
                    const struct xen_cpuid_params *p)
{
    struct kvm_cpuid_entry2 *e;
    unsigned int i, n, removed = 0;
    uint32_t out[4];

    if (!cpuid || !p || cpuid->nent > capacity)
        return -EINVAL;
    for (i = 0; i < cpuid->nent; i++)
        if (xen_cpuid_hv_range(cpuid->entries[i].function))
            removed++;
    if (cpuid->nent - removed + NR_XEN_LEAVES > capacity)
        return -ENOSPC;

    /* Drop KVM's paravirt leaves, keeping the order of the rest. */
    n = 0;
    for (i = 0; i < cpuid->nent; i++) {
        if (xen_cpuid_hv_range(cpuid->entries[i].function))
            continue;
        if (n != i)
            cpuid->entries[n] = cpuid->entries[i];
        n++;
    }

    for (i = 0; i < n; i++) {
        e = &cpuid->entries[i];
        switch (e->function) {
        case 1:
            /* ebx[31:24] initial APIC id; KVM's LAPIC id is the vcpu id. */
            e->ebx = (e->ebx & 0x00ffffffu) | (p->vcpu_id & 0xffu) << 24;
            e->ecx |= CPUID1_ECX_HYPERVISOR;
            break;
        case 0xb:
        case 0x1f:
            e->edx = p->vcpu_id; /* x2APIC id, every sub-leaf */
            break;
        }
    }

    for (i = 0; i < NR_XEN_LEAVES; i++) {
        e = &cpuid->entries[n++];
        memset(e, 0, sizeof(*e));
        e->function = xen_leaves[i].function;
        e->index = xen_leaves[i].index;
        e->flags = xen_leaves[i].flags;
        xen_cpuid_leaf(e->function, e->index, p, out);
        e->eax = out[0];
        e->ebx = out[1];
        e->ecx = out[2];
        e->edx = out[3];
    }
    cpuid->nent = n;
    return 0;
}
