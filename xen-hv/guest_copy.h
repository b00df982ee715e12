/*
 * guest_copy.h — copy to and from a guest's linear addresses.
 *
 * A PVH guest is an HVM guest to Xen: every guest handle in a hypercall is
 * a linear address, translated through the vCPU's current page tables
 * (Xen's copy_{from,to}_guest on HVM, hvm_copy_*_guest_linear).  This file
 * walks those tables itself (4-level and 5-level long mode, 32-bit PAE,
 * 32-bit non-PAE, paging off), checking present and, for writes, the R/W
 * bits when CR0.WP is set.  Each page is looked up through gmem_ptr(), so
 * a guest can name only its own memory.  The data is copied once: callers
 * validate the copy, never the guest's memory (no double fetch).
 */
#ifndef XENHV_GUEST_COPY_H
#define XENHV_GUEST_COPY_H

#include <stdbool.h>
#include <stddef.h>

#include "domain_priv.h"
#include "gmem.h"

/*
 * guest_translate — linear address va of a vCPU with paging state pg to a
 * guest physical address.  write: the access writes.
 * Returns 0, or -XEN_EFAULT (not present, not writable, non-canonical,
 * page tables outside guest memory).
 */
int guest_translate(const struct gmem *m, const struct vcpu_paging *pg,
                    gva_t va, bool write, gpa_t *gpa);

/*
 * copy_from_guest / copy_to_guest — len bytes between host buf and guest
 * linear address va of vCPU v (its paging state as of its latest exit;
 * only v's own thread may call these).  Returns 0 or -XEN_EFAULT; on
 * failure copy_to_guest may have written a prefix.
 */
int copy_from_guest(struct vcpu *v, void *buf, gva_t va, size_t len);
int copy_to_guest(struct vcpu *v, gva_t va, const void *buf, size_t len);

#endif
