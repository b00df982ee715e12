/*
 * common.h — small helpers shared by the guest tests (not a test).
 */
#ifndef GUEST_TEST_COMMON_H
#define GUEST_TEST_COMMON_H

#include <stdint.h>

#include "xenkern/console.h"
#include "xenkern/hypercall.h"
#include "xenkern/kernel.h"
#include "xenkern/lib.h"
#include "xenkern/pvclock.h"
#include "xenkern/test.h"
#include "xenkern/x86.h"

/*
 * A canonical guest virtual address outside the kernel's 4 GiB identity
 * map (PML4 slot 1 is empty): the hypervisor's copy to or from it fails,
 * which Xen reports as -XEN_EFAULT.
 */
#define BAD_PTR ((void *)0x8000000000ULL)

/* A domid that names no domain (below DOMID_FIRST_RESERVED). */
#define DOMID_NONE 1000

/* Every test needs Xen: without it, skip everything. */
static inline void require_xen(void)
{
    if (!xen_present)
        skip_all("no Xen signature in CPUID");
}

#endif
