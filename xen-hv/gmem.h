/*
 * gmem.h — guest physical memory as xen-hv sees it.
 *
 * Guest addresses get their own types so that host code says which space
 * an address lives in.  A gpa_t is never dereferenced directly: it goes
 * through gmem_ptr(), which checks the whole range [gpa, gpa + len) lies in
 * the guest's RAM mapping.  A gva_t (guest linear address) must first be
 * translated through the vCPU's page tables (see guest_copy.h).
 */
#ifndef XENHV_GMEM_H
#define XENHV_GMEM_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t gpa_t; /* guest physical address, bytes */
typedef uint64_t gva_t; /* guest linear (virtual) address, bytes */
typedef uint64_t gfn_t; /* guest frame number (gpa >> XEN_PAGE_SHIFT) */

#define GMEM_PAGE_SHIFT 12
#define GMEM_PAGE_SIZE  (1ULL << GMEM_PAGE_SHIFT)

/*
 * One contiguous guest-physical range backed by host memory.
 * gpa_base: first guest physical address; size: bytes; host: host mapping.
 */
struct gmem_region {
    gpa_t gpa_base;
    uint64_t size;
    uint8_t *host;
};

/* A guest's physical address space: up to GMEM_MAX_REGIONS disjoint ranges. */
#define GMEM_MAX_REGIONS 4
struct gmem {
    unsigned int nr_regions;
    struct gmem_region region[GMEM_MAX_REGIONS];
};

/*
 * gmem_ptr — host pointer for the guest range [gpa, gpa + len).
 * Returns NULL when any byte of the range is outside one region (ranges
 * that straddle two regions are refused too) or when gpa + len overflows.
 * len 0 is treated as 1 byte.
 */
static inline void *gmem_ptr(const struct gmem *m, gpa_t gpa, uint64_t len)
{
    if (len == 0)
        len = 1;
    for (unsigned int i = 0; i < m->nr_regions; i++) {
        const struct gmem_region *r = &m->region[i];
        if (gpa >= r->gpa_base && gpa - r->gpa_base < r->size &&
            len <= r->size - (gpa - r->gpa_base))
            return r->host + (gpa - r->gpa_base);
    }
    return NULL;
}

#endif
