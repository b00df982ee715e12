/* guest_copy.c — linear address translation and copies (guest_copy.h). */
#include <stdint.h>
#include <string.h>

#include <xen/errno.h>

#include "guest_copy.h"

#define PTE_P     (1ULL << 0)
#define PTE_RW    (1ULL << 1)
#define PTE_PS    (1ULL << 7)
#define CR0_PG    (1ULL << 31)
#define CR0_WP    (1ULL << 16)
#define CR4_PSE   (1ULL << 4)
#define CR4_PAE   (1ULL << 5)
#define CR4_LA57  (1ULL << 12)
#define EFER_LMA  (1ULL << 10)
#define ADDR_MASK 0x000ffffffffff000ULL /* bits 51:12 */

static int read_pte(const struct gmem *m, gpa_t table, unsigned int idx,
                    unsigned int size, uint64_t *pte)
{
    const uint8_t *p = gmem_ptr(m, table + (uint64_t)idx * size, size);
    if (!p)
        return -XEN_EFAULT;
    if (size == 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        *pte = v;
    } else {
        uint32_t v;
        memcpy(&v, p, 4);
        *pte = v;
    }
    return 0;
}

int guest_translate(const struct gmem *m, const struct vcpu_paging *pg,
                    gva_t va, bool write, gpa_t *gpa)
{
    bool wp = (pg->cr0 & CR0_WP) != 0;
    uint64_t pte;
    gpa_t table;
    int levels, level;

    if (!(pg->cr0 & CR0_PG)) {
        *gpa = (pg->efer & EFER_LMA) ? va : (uint32_t)va;
        return 0;
    }
    if (pg->efer & EFER_LMA) {
        int bits = (pg->cr4 & CR4_LA57) ? 57 : 48;
        /* Canonical: bits 63..bits-1 all equal (no signed shifts: UB). */
        uint64_t top = va >> (bits - 1);
        if (top != 0 && top != (~0ULL >> (bits - 1)))
            return -XEN_EFAULT;
        levels = (pg->cr4 & CR4_LA57) ? 5 : 4;
        table = pg->cr3 & ADDR_MASK;
        for (level = levels; level >= 1; level--) {
            unsigned int shift = 12 + 9 * (level - 1);
            if (read_pte(m, table, (va >> shift) & 0x1ff, 8, &pte))
                return -XEN_EFAULT;
            if (!(pte & PTE_P))
                return -XEN_EFAULT;
            if (write && wp && !(pte & PTE_RW))
                return -XEN_EFAULT;
            if (level <= 3 && level >= 2 && (pte & PTE_PS)) {
                uint64_t mask = (1ULL << shift) - 1;
                *gpa = ((pte & ADDR_MASK) & ~mask) | (va & mask);
                return 0;
            }
            table = pte & ADDR_MASK;
        }
        *gpa = table | (va & 0xfff);
        return 0;
    }
    va = (uint32_t)va;
    if (pg->cr4 & CR4_PAE) {
        /* PDPTEs have no R/W bit; 3 levels of 2 + 9 + 9 bits. */
        if (read_pte(m, pg->cr3 & 0xffffffe0ULL, va >> 30, 8, &pte) ||
            !(pte & PTE_P))
            return -XEN_EFAULT;
        table = pte & ADDR_MASK;
        if (read_pte(m, table, (va >> 21) & 0x1ff, 8, &pte) || !(pte & PTE_P))
            return -XEN_EFAULT;
        if (write && wp && !(pte & PTE_RW))
            return -XEN_EFAULT;
        if (pte & PTE_PS) {
            *gpa = ((pte & ADDR_MASK) & ~0x1fffffULL) | (va & 0x1fffff);
            return 0;
        }
        table = pte & ADDR_MASK;
        if (read_pte(m, table, (va >> 12) & 0x1ff, 8, &pte) || !(pte & PTE_P))
            return -XEN_EFAULT;
        if (write && wp && !(pte & PTE_RW))
            return -XEN_EFAULT;
        *gpa = (pte & ADDR_MASK) | (va & 0xfff);
        return 0;
    }
    /* 32-bit two-level paging, 4 MiB pages with CR4.PSE. */
    if (read_pte(m, pg->cr3 & 0xfffff000ULL, va >> 22, 4, &pte) ||
        !(pte & PTE_P))
        return -XEN_EFAULT;
    if (write && wp && !(pte & PTE_RW))
        return -XEN_EFAULT;
    if ((pg->cr4 & CR4_PSE) && (pte & PTE_PS)) {
        *gpa = (pte & 0xffc00000ULL) | ((pte & 0x1fe000ULL) << 19) |
               (va & 0x3fffff);
        return 0;
    }
    table = pte & 0xfffff000ULL;
    if (read_pte(m, table, (va >> 12) & 0x3ff, 4, &pte) || !(pte & PTE_P))
        return -XEN_EFAULT;
    if (write && wp && !(pte & PTE_RW))
        return -XEN_EFAULT;
    *gpa = (pte & 0xfffff000ULL) | (va & 0xfff);
    return 0;
}

static int copy_guest(struct vcpu *v, gva_t va, void *buf, size_t len,
                      bool write)
{
    const struct gmem *m = &v->d->gmem;
    uint8_t *b = buf;

    while (len) {
        size_t chunk = GMEM_PAGE_SIZE - (va & (GMEM_PAGE_SIZE - 1));
        gpa_t gpa;
        uint8_t *host;

        if (chunk > len)
            chunk = len;
        if (guest_translate(m, &v->paging, va, write, &gpa))
            return -XEN_EFAULT;
        host = gmem_ptr(m, gpa, chunk);
        if (!host)
            return -XEN_EFAULT;
        if (write)
            memcpy(host, b, chunk);
        else
            memcpy(b, host, chunk);
        va += chunk;
        b += chunk;
        len -= chunk;
    }
    return 0;
}

int copy_from_guest(struct vcpu *v, void *buf, gva_t va, size_t len)
{
    return copy_guest(v, va, buf, len, false);
}

int copy_to_guest(struct vcpu *v, gva_t va, const void *buf, size_t len)
{
    return copy_guest(v, va, (void *)buf, len, true);
}
