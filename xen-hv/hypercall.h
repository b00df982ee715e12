/*
 * hypercall.h — the one hypercall dispatcher behind every door.
 *
 * Doors: (1) the hypercall page: a guest write of a page's gpa to the MSR
 * in CPUID 0x40000002 ebx makes xen-hv fill that page with 32-byte stubs
 *     out %al, $XENHV_HCALL_PORT ; ret
 * (entry __HYPERVISOR_iret is `ud2`, as Xen's HVM page).  The port-I/O
 * exit's rip is the stub's own address (or the next instruction's, when
 * KVM's emulator ran the out), and the page is 4 KiB aligned in the
 * guest's linear space as in its physical one, so (rip & 0xfff) / 32 is the
 * hypercall number; an exit from anywhere else in a 32-byte slot is
 * refused with -XEN_ENOSYS.  The registers come from the kvm_run sync area and
 * the result goes back in rax the same way: one exit, no extra ioctl, and a
 * stub as short as a bare port write.  (2) Code that has the number in eax (the
 * rewritten vmcall sites of Linux guests) uses `out %al,
 * $XENHV_HCALL_EAX_PORT`; (3) KVM_XEN_HVM_CONFIG's intercept.  All arrive
 * at hypercall_dispatch().
 *
 * Arguments follow Xen's HVM ABI: 64-bit guests pass rdi, rsi, rdx, r10,
 * r8; 32-bit guests ebx, ecx, edx, esi, edi.  Hypercalls from guest user
 * mode (CPL > 0) get -XEN_EPERM, as on Xen.
 */
#ifndef XENHV_HYPERCALL_H
#define XENHV_HYPERCALL_H

#include <stdint.h>

#include "domain_priv.h"

/* Guest arguments, already zero-extended to 64 bits. */
struct hypercall_args {
    uint64_t a[5];
    bool is_64; /* the guest was in 64-bit mode */
};

typedef long (*hypercall_fn)(struct vcpu *v, const struct hypercall_args *a);

/*
 * hypercall_dispatch — run hypercall nr for v.
 * Returns the value for the guest's rax: >= 0 or -XEN_E* (-XEN_ENOSYS for
 * unknown numbers).
 */
long hypercall_dispatch(struct vcpu *v, unsigned long nr,
                        const struct hypercall_args *a);

/* hypercall_name — "xen_version", … or NULL. */
const char *hypercall_name(unsigned long nr);

/*
 * hypercall_page_write — fill the 4 KiB host page `page` with the stubs.
 */
void hypercall_page_write(uint8_t *page);

/* Handlers, one per hypercall (files named after them). */
long do_xen_version(struct vcpu *v, const struct hypercall_args *a);
long do_console_io(struct vcpu *v, const struct hypercall_args *a);
long do_sched_op(struct vcpu *v, const struct hypercall_args *a);
long do_set_timer_op(struct vcpu *v, const struct hypercall_args *a);
long do_memory_op(struct vcpu *v, const struct hypercall_args *a);
long do_hvm_op(struct vcpu *v, const struct hypercall_args *a);
long do_vcpu_op(struct vcpu *v, const struct hypercall_args *a);
long do_vm_assist(struct vcpu *v, const struct hypercall_args *a);
long do_event_channel_op(struct vcpu *v, const struct hypercall_args *a);
long do_grant_table_op(struct vcpu *v, const struct hypercall_args *a);

#endif
