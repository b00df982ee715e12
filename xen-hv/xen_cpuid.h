/*
 * xen_cpuid.h — the CPUID view of a xen-hv guest: the host KVM's supported
 * leaves with its own paravirt leaves (0x40000000–0x4fffffff, "KVMKVMKVM")
 * removed and Xen's hypervisor leaves 0x40000000–0x40000005 put in their
 * place, as <xen/arch-x86/cpuid.h> defines them and Xen 4.17's
 * cpuid_hypervisor_leaves() (xen/arch/x86/traps.c) fills them for an HVM
 * domain without Viridian.  Registers not listed are 0.
 *   0x40000000  eax = 0x40000005 (largest Xen leaf: Xen's default limit
 *               XEN_CPUID_MAX_NUM_LEAVES), ebx:ecx:edx = "XenVMMXenVMM"
 *               (XEN_CPUID_SIGNATURE_E[BCD]X)
 *   0x40000001  eax = major << 16 | minor
 *   0x40000002  eax = 1 (hypercall pages), ebx = hypercall MSR base
 *               (XENHV_HYPERCALL_MSR), ecx = edx = 0
 *   0x40000003  time leaf; sub-leaf 0: eax = bit 1 tsc_reliable | bit 2
 *               rdtscp (bit 0, vTSC, never set), ebx = 0 (tsc_mode
 *               default), ecx = guest TSC kHz, edx = 0 (incarnation);
 *               sub-leaf 1: eax:ebx = tsc_offset (low, high),
 *               ecx = tsc_to_system_mul, edx = tsc_shift sign-extended to
 *               32 bits; sub-leaf 2: eax = host TSC kHz; other sub-leaves 0
 *   0x40000004  sub-leaf 0: eax = XEN_HVM_CPUID_IOMMU_MAPPINGS |
 *               XEN_HVM_CPUID_X2APIC_VIRT (when x2apic) |
 *               XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT |
 *               XEN_HVM_CPUID_UPCALL_VECTOR, ebx = vcpu id, ecx = domid;
 *               other sub-leaves 0
 *   0x40000005  PV-only parameters: all 0 for a PVH guest
 * Leaf 1 ebx[31:24] and leaf 0xb/0x1f edx carry the vCPU's APIC id: the
 * vcpu id, the id KVM's in-kernel LAPIC has and the MADT lists (Xen itself
 * uses vcpu_id * 2 for HVM guests, with its own vLAPIC); leaf 1 ecx gets
 * the hypervisor bit (31).
 */
#ifndef XENHV_XEN_CPUID_H
#define XENHV_XEN_CPUID_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#define XENHV_HYPERCALL_MSR 0x40000000u /* Xen's own MSR base */
#define XENHV_VERSION_MAJOR 4
#define XENHV_VERSION_MINOR 17

struct xen_cpuid_params {
    uint32_t vcpu_id;
    uint16_t domid;
    uint32_t tsc_khz; /* guest TSC frequency, kHz */
    uint32_t tsc_mul; /* pvclock tsc_to_system_mul */
    int8_t tsc_shift; /* pvclock tsc_shift */
    bool x2apic;      /* the in-kernel LAPIC offers x2APIC */
    /* Added after the first version; 0/false is a valid default. */
    bool tsc_reliable;     /* host TSC invariant and synchronised */
    bool rdtscp;           /* guest has RDTSCP */
    uint32_t host_tsc_khz; /* host TSC kHz (0: same as tsc_khz) */
    uint64_t tsc_offset;   /* Xen's vtsc_offset, leaf 3 sub-leaf 1 */
};

/*
 * xen_cpuid_leaf — the Xen leaf (leaf, subleaf) for p.
 * Returns true and fills eax..edx (out[0..3]) for leaves 0x40000000–
 * 0x40000005; false (out untouched) for every other leaf.
 */
bool xen_cpuid_leaf(uint32_t leaf, uint32_t subleaf,
                    const struct xen_cpuid_params *p, uint32_t out[4]);

/*
 * xen_cpuid_build — turn the host's KVM_GET_SUPPORTED_CPUID list into one
 * vCPU's table, in place.
 *   cpuid: entries array with room for `capacity` entries; cpuid->nent is
 *          the number in use on entry and on return.
 * Removes every entry with function in 0x40000000–0x4fffffff, appends
 * Xen's leaves 0x40000000–0x40000005 (sub-leaves 0..2 of 0x40000003 and
 * sub-leaf 0 of 0x40000004 flagged KVM_CPUID_FLAG_SIGNIFCANT_INDEX, so KVM
 * answers the other sub-leaves with zeros as Xen does), patches APIC ids
 * (leaves 1, 0xb, 0x1f) and the hypervisor bit.  Other entries keep their
 * order.
 * Returns 0, -EINVAL (NULL argument, nent > capacity) or -ENOSPC when
 * capacity is too small (cpuid unchanged on any error).
 */
int xen_cpuid_build(struct kvm_cpuid2 *cpuid, unsigned int capacity,
                    const struct xen_cpuid_params *p);

#endif
