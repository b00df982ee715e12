/*
 * hcall_patch.h — rewrite a Linux guest's vmcall/vmmcall hypercall
 * instructions into xen-hv's hypercall trap.
 *
 * Linux since the 2024 hypercall rework (6.1.124+, 6.6.69+, 6.12.8+) has no
 * hypercall page on HVM/PVH: every hypercall is `mov $nr, %eax` and a call
 * (through a static call) to one of two tiny functions, xen_hypercall_amd
 * (`vmmcall`, 0f 01 d9) or xen_hypercall_intel (`vmcall`, 0f 01 c1), each a
 * 16-byte-aligned function that ends in `ret` or `jmp
 * __x86_return_thunk`, the second 16 bytes after the first.  Xen answers
 * those instructions itself; KVM without KVM_CAP_XEN_HVM (Debian's kvm_amd,
 * kvm_pvm) answers vmmcall with -KVM_ENOSYS and vmcall may hang.  So the
 * domain builder replaces both instructions with
 *     out %al, $XENHV_HCALL_EAX_PORT ; nop        (e6 e6 90)
 * which reaches the same dispatcher with the number in eax and the
 * arguments in rdi, rsi, rdx, r10, r8 (hypercall.h).
 *
 * The pair is recognised by shape, not by symbol (the vmlinux in a bzImage
 * has no symbol table): a vmmcall and a vmcall exactly 16 bytes apart
 * (either order), each optionally followed by `pop %rbp` (frame pointers)
 * and then by `ret` (c3) or `jmp rel32` (e9) — and when both jump, to the
 * same target.  KVM's own inline hypercalls (kvm_hypercall*, patched by
 * alternatives) never come in such a pair and are left alone.
 */
#ifndef XENHV_HCALL_PATCH_H
#define XENHV_HCALL_PATCH_H

#include <stddef.h>
#include <stdint.h>

/* out %al, $XENHV_HCALL_EAX_PORT: a hypercall whose number is in eax. */
#define XENHV_HCALL_EAX_PORT 0xe6

#define HCALL_PATCH_MAX 8 /* pairs reported (and patched) at most */

struct hcall_patch_result {
    unsigned int nr_pairs;                /* pairs found and rewritten */
    size_t amd_off[HCALL_PATCH_MAX];      /* offset of each vmmcall */
    size_t intel_off[HCALL_PATCH_MAX];    /* offset of each vmcall */
};

/*
 * hcall_patch_scan — find (and when `apply` is non-zero, rewrite) every
 * xen_hypercall_amd/_intel pair in buf.
 *   buf/len: the loaded kernel image as the guest will see it (bytes); its
 *            offsets are reported, so pass the guest-physical start too
 *            when logging.
 *   apply:   0 = only report, 1 = replace each instruction of each pair by
 *            `e6 e6 90`.
 *   res:     filled with the pairs found (at most HCALL_PATCH_MAX are
 *            recorded and rewritten; more pairs than that is -E2BIG).
 * Returns the number of pairs (0: nothing to rewrite, e.g. a kernel that
 * uses the hypercall page), or -E2BIG.
 */
int hcall_patch_scan(uint8_t *buf, size_t len, int apply,
                     struct hcall_patch_result *res);

#endif
