/*
 * hypercall.h — Xen hypercalls through the hypercall page.
 *
 * Transport (Xen x86_64 ABI, xen/include/public/arch-x86/xen-x86_64.h):
 * `call hypercall_page + nr * 32` with arguments in rdi, rsi, rdx, r10,
 * r8 and the result in rax.  The page is filled by the hypervisor when the
 * guest writes its physical address to the MSR from CPUID leaf base + 2
 * (<xen/arch-x86/cpuid.h>); hypercall_init() in setup does that.
 *
 * Every wrapper returns what the hypervisor returns: >= 0 on success, a
 * negative Xen errno (<xen/errno.h>, e.g. -XEN_EFAULT) on failure, and
 * -XEN_ENOSYS when no hypervisor was found (QEMU TCG fallback).
 * Pointers are guest virtual addresses; the kernel maps the first 4 GiB
 * 1:1, so they are also guest physical addresses.
 */
#ifndef XENKERN_HYPERCALL_H
#define XENKERN_HYPERCALL_H

#include <stdbool.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/errno.h>

/* The 4 KiB page the hypervisor fills with 32-byte stubs (kernel.ld). */
extern uint8_t hypercall_page[4096];

/* True once the hypercall page is filled (a Xen signature was found). */
extern bool hypercall_ready;

/*
 * hypercall_stub5 — call the stub at `stub` (a hypercall page entry, or
 * null_exit_stub) with the x86_64 hypercall registers: rdi, rsi, rdx, r10,
 * r8 in, rax out.  No checks: benchmarks use it to run the very same
 * instructions against different stubs.
 */
static inline long hypercall_stub5(const void *stub, unsigned long a1,
                                   unsigned long a2, unsigned long a3,
                                   unsigned long a4, unsigned long a5)
{
    register unsigned long r10 asm("r10") = a4;
    register unsigned long r8 asm("r8") = a5;
    long ret;

    asm volatile("call *%[stub]"
                 : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                 : [stub] "r"(stub)
                 : "memory", "rcx", "r9", "r11", "cc");
    return ret;
}

/*
 * null_exit_stub — `out %al, $0xe5; ret`: shaped like a hypercall page
 * entry, but xen-hv answers port 0xe5 doing nothing.  The raw exit cost a
 * hypercall is measured against.
 */
extern const uint8_t null_exit_stub[];

/*
 * hypercall5 — hypercall `nr` with five arguments (unused ones are
 * ignored by the hypervisor).  For tests of arbitrary numbers:
 * nr >= 128 is outside the page and returns -XEN_ENOSYS without a call.
 */
static inline long hypercall5(unsigned int nr, unsigned long a1,
                              unsigned long a2, unsigned long a3,
                              unsigned long a4, unsigned long a5)
{
    if (!hypercall_ready || nr >= 4096 / 32)
        return -XEN_ENOSYS;
    return hypercall_stub5(hypercall_page + nr * 32, a1, a2, a3, a4, a5);
}

#define hypercall2(nr, a, b)                                                   \
    hypercall5(nr, (unsigned long)(a), (unsigned long)(b), 0, 0, 0)
#define hypercall3(nr, a, b, c)                                                \
    hypercall5(nr, (unsigned long)(a), (unsigned long)(b), (unsigned long)(c), \
               0, 0)

/* xen_version(cmd, arg): XENVER_* of <xen/version.h>.  XENVER_version
 * returns (major << 16) | minor; others fill *arg and return 0. */
static inline long HYPERVISOR_xen_version(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_xen_version, cmd, arg);
}

/* console_io(cmd, count, buf): CONSOLEIO_write writes count bytes;
 * CONSOLEIO_read is for the hardware domain only (<xen/xen.h>). */
static inline long HYPERVISOR_console_io(int cmd, unsigned int count,
                                         const void *buf)
{
    return hypercall3(__HYPERVISOR_console_io, cmd, count, buf);
}

/* sched_op(cmd, arg): SCHEDOP_* of <xen/sched.h>. */
static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_sched_op, cmd, arg);
}

/* memory_op(cmd, arg): XENMEM_* of <xen/memory.h>. */
static inline long HYPERVISOR_memory_op(unsigned int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_memory_op, cmd, arg);
}

/* grant_table_op(cmd, arg, count): GNTTABOP_* of <xen/grant_table.h>. */
static inline long HYPERVISOR_grant_table_op(unsigned int cmd, void *arg,
                                             unsigned int count)
{
    return hypercall3(__HYPERVISOR_grant_table_op, cmd, arg, count);
}

/* hvm_op(op, arg): HVMOP_* of <xen/hvm/hvm_op.h>. */
static inline long HYPERVISOR_hvm_op(unsigned long op, void *arg)
{
    return hypercall2(__HYPERVISOR_hvm_op, op, arg);
}

/* vcpu_op(cmd, vcpuid, extra): VCPUOP_* of <xen/vcpu.h>. */
static inline long HYPERVISOR_vcpu_op(int cmd, unsigned int vcpuid, void *extra)
{
    return hypercall3(__HYPERVISOR_vcpu_op, cmd, vcpuid, extra);
}

/* set_timer_op(deadline): absolute system time in ns; 0 cancels. */
static inline long HYPERVISOR_set_timer_op(uint64_t deadline_ns)
{
    return hypercall2(__HYPERVISOR_set_timer_op, deadline_ns, 0);
}

/* vm_assist(cmd, type): VMASST_CMD_enable/disable, VMASST_TYPE_*. */
static inline long HYPERVISOR_vm_assist(unsigned int cmd, unsigned int type)
{
    return hypercall2(__HYPERVISOR_vm_assist, cmd, type);
}

/* event_channel_op(cmd, arg): EVTCHNOP_* of <xen/event_channel.h>. */
static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_event_channel_op, cmd, arg);
}

/*
 * hypercall_init — look for "XenVMMXenVMM" at CPUID 0x40000000 +
 * k * 0x100 (k < 256) and, when found, write the hypercall page's
 * physical address to the MSR of leaf base + 2.  Returns the leaf base
 * (0x40000000 on xen-hv) or 0 when there is no Xen.
 */
uint32_t hypercall_init(void);

/* xen_cpuid_base — the leaf base hypercall_init() found, or 0. */
extern uint32_t xen_cpuid_base;

#endif
