/*
 * kvm_x86_64.h — the only place xen-hv talks to /dev/kvm.
 *
 * Thin wrappers: each returns 0 (or a file descriptor) on success and a
 * negative host errno on failure; none exits the process.  The rest of
 * xen-hv sees vCPU registers only through these and the kvm_run sync area.
 */
#ifndef XENHV_KVM_X86_64_H
#define XENHV_KVM_X86_64_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include <xen/xen.h>
#include <xen/hvm/hvm_vcpu.h>

#include "gmem.h"

/* Facts about the host KVM, read once by kvm_host_open(). */
struct kvm_host {
    int fd;                       /* /dev/kvm */
    int vcpu_mmap_size;           /* bytes of struct kvm_run mapping */
    struct kvm_cpuid2 *supported; /* KVM_GET_SUPPORTED_CPUID */
    unsigned int supported_cap;   /* entries allocated in supported */
    bool has_xen_hvm;             /* KVM_CAP_XEN_HVM (hypercall intercept) */
    bool is_kvm_pvm;              /* platform quirks apply (see README) */
};

/*
 * kvm_host_open — open /dev/kvm and check every capability xen-hv needs
 * (in-kernel irqchip, user-space MSR exits with filters, sync regs,
 * immediate exit, signal MSI, TSC frequency).
 * err: one-line reason on failure.  Returns 0, -ENOENT/-EACCES (no usable
 * /dev/kvm) or -ENOTSUP (a capability is missing; err names it).
 */
int kvm_host_open(struct kvm_host *h, char *err, size_t errlen);
void kvm_host_close(struct kvm_host *h);

/*
 * kvm_vm_create — a VM with KVM's in-kernel irqchip (LAPIC per vCPU), the
 * MSR filter that turns guest writes of msr_trap into KVM_EXIT_X86_WRMSR,
 * and the TSS/identity-map addresses KVM needs on VMX.
 * Returns the VM fd or a negative errno.
 */
int kvm_vm_create(const struct kvm_host *h, uint32_t msr_trap);

/*
 * kvm_vm_map — put host memory [host, host + size) at guest physical gpa as
 * memory slot `slot`.  size and gpa page aligned.  Returns 0 or -errno.
 */
int kvm_vm_map(int vm_fd, uint32_t slot, gpa_t gpa, uint64_t size, void *host);

/* kvm_vm_signal_msi — inject an MSI (address, data) into the VM. */
int kvm_vm_signal_msi(int vm_fd, uint64_t address, uint32_t data);

/*
 * kvm_vcpu_create — vCPU `id` (= APIC id) with its kvm_run mapping and sync
 * registers (GPRs and special registers) enabled on every exit.
 * Returns the vCPU fd (and *run) or -errno.
 */
int kvm_vcpu_create(const struct kvm_host *h, int vm_fd, unsigned int id,
                    struct kvm_run **run);
void kvm_vcpu_destroy(const struct kvm_host *h, int vcpu_fd,
                      struct kvm_run *run);

int kvm_vcpu_set_cpuid(int vcpu_fd, struct kvm_cpuid2 *cpuid);

/* kvm_vcpu_get_tsc_offset — *offset such that guest TSC = host TSC + it. */
int kvm_vcpu_get_tsc_offset(int vcpu_fd, int64_t *offset);

/* kvm_vcpu_set_tsc_offset — guest TSC = host TSC + offset (ticks). */
int kvm_vcpu_set_tsc_offset(int vcpu_fd, int64_t offset);

/*
 * kvm_vcpu_set_pvh_entry — the PVH start state of Xen's docs/misc/pvh:
 * 32-bit flat protected mode (CR0.PE, paging off), CS 32-bit code and
 * DS/ES/SS/FS/GS 32-bit data with base 0 and limit 4 GiB, a 32-bit busy
 * TSS, EFLAGS = 0x2, EIP = entry, EBX = start_info.  Returns 0 or -errno.
 */
int kvm_vcpu_set_pvh_entry(int vcpu_fd, uint32_t entry, uint32_t start_info);

/*
 * kvm_vcpu_set_hvm_context — the state VCPUOP_initialise gives an HVM vCPU
 * (<xen/hvm/hvm_vcpu.h>: VCPU_HVM_MODE_32B segments from the context, or
 * VCPU_HVM_MODE_64B flat long mode), and mp_state RUNNABLE.
 * The context must already be validated (hvm_vcpu_context_check).
 */
int kvm_vcpu_set_hvm_context(int vcpu_fd, const struct vcpu_hvm_context *c);

/*
 * hvm_vcpu_context_check — validate a guest-supplied vcpu_hvm_context the
 * way Xen's arch_set_info_hvm_guest() does (mode, segment attributes and
 * limits, CR0/CR4/EFER consistency, canonical RIP in 64-bit mode).
 * Returns 0 or -XEN_EINVAL.
 */
int hvm_vcpu_context_check(const struct vcpu_hvm_context *c);

/* kvm_vcpu_get_mp_state — KVM_MP_STATE_* of the vCPU, or -errno. */
int kvm_vcpu_get_mp_state(int vcpu_fd);

#endif
