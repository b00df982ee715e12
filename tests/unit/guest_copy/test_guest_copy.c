/*
 * Unit test of guest_copy.c: linear address translation through guest
 * page tables built by the test (4-level with 4 KiB, 2 MiB and 1 GiB
 * pages, 32-bit PAE, 32-bit non-PAE with 4 MiB pages, paging off), the
 * R/W check under CR0.WP, non-canonical addresses, page tables pointing
 * outside guest memory, and copies that cross pages.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xen/errno.h>

#include "guest_copy.h"
#include "tap.h"

#define MEM_SIZE (16u << 20)
#define P        1ULL
#define RW       2ULL
#define PS       0x80ULL
#define CR0_PG   (1ULL << 31)
#define CR0_WP   (1ULL << 16)
#define CR0_PE   1ULL
#define CR4_PSE  (1ULL << 4)
#define CR4_PAE  (1ULL << 5)
#define EFER_LMA (1ULL << 10)
#define EFER_LME (1ULL << 8)

static uint8_t *mem;
static struct gmem gm;

static void put64(gpa_t a, uint64_t v)
{
    memcpy(mem + a, &v, 8);
}

static void put32(gpa_t a, uint32_t v)
{
    memcpy(mem + a, &v, 4);
}

static gpa_t tr(const struct vcpu_paging *pg, gva_t va, bool write, int *rc)
{
    gpa_t gpa = ~0ULL;
    *rc = guest_translate(&gm, pg, va, write, &gpa);
    return gpa;
}

int main(void)
{
    struct vcpu_paging pg;
    int rc;
    gpa_t g;

    mem = calloc(1, MEM_SIZE);
    gm.nr_regions = 1;
    gm.region[0] = (struct gmem_region){0, MEM_SIZE, mem};
    tap_plan(26);

    /* Paging off: linear == physical (truncated to 32 bits outside LMA). */
    pg = (struct vcpu_paging){.cr0 = CR0_PE};
    g = tr(&pg, 0x123456789ULL, false, &rc);
    ok(rc == 0 && g == 0x23456789ULL, "paging off, 32-bit: address wraps");

    /*
     * 4-level tables at 0x1000 (PML4), 0x2000 (PDPT), 0x3000 (PD),
     * 0x4000 (PT).
     *   va 0x0000_0000_0040_1000 -> 4 KiB page 0x9000 (read-only)
     *   va 0x0000_0000_0060_0000 -> 2 MiB page at 0x200000, writable
     *   va 0x4000_0000 (PML4 0, PDPT 1) -> 1 GiB page at 0
     */
    put64(0x1000, 0x2000 | P | RW);
    put64(0x2000 + 0 * 8, 0x3000 | P | RW);
    put64(0x2000 + 1 * 8, 0x0 | P | RW | PS);
    put64(0x3000 + 2 * 8, 0x4000 | P | RW);        /* 0x400000 */
    put64(0x3000 + 3 * 8, 0x200000 | P | RW | PS); /* 0x600000 */
    put64(0x4000 + 1 * 8, 0x9000 | P);             /* 0x401000, RO */
    pg = (struct vcpu_paging){.cr0 = CR0_PE | CR0_PG | CR0_WP,
                              .cr3 = 0x1000,
                              .cr4 = CR4_PAE,
                              .efer = EFER_LME | EFER_LMA};
    g = tr(&pg, 0x401234, false, &rc);
    is_int(rc, 0, "4-level 4 KiB page: read translates");
    is_u64(g, 0x9234, "4-level 4 KiB page: address");
    tr(&pg, 0x401234, true, &rc);
    is_int(rc, -XEN_EFAULT, "write to read-only page with CR0.WP faults");
    pg.cr0 &= ~CR0_WP;
    g = tr(&pg, 0x401234, true, &rc);
    ok(rc == 0 && g == 0x9234, "supervisor write ignores R/W without CR0.WP");
    pg.cr0 |= CR0_WP;
    g = tr(&pg, 0x6abcde, true, &rc);
    ok(rc == 0 && g == 0x2abcde, "2 MiB page translates (%#llx)",
       (unsigned long long)g);
    g = tr(&pg, 0x40123456ULL, false, &rc);
    ok(rc == 0 && g == 0x123456, "1 GiB page translates (%#llx)",
       (unsigned long long)g);
    tr(&pg, 0x402000, false, &rc);
    is_int(rc, -XEN_EFAULT, "not-present PTE faults");
    tr(&pg, 0x8000000000ULL, false, &rc);
    is_int(rc, -XEN_EFAULT, "not-present PML4 entry faults");
    tr(&pg, 0x0000800000000000ULL, false, &rc);
    is_int(rc, -XEN_EFAULT, "non-canonical address faults");
    tr(&pg, 0xffff800000000000ULL, false, &rc);
    is_int(rc, -XEN_EFAULT, "canonical high address, not mapped, faults");

    /* A PDE pointing outside guest memory. */
    put64(0x3000 + 4 * 8, 0x7ffff000000ULL | P | RW); /* va 0x800000 */
    tr(&pg, 0x800000, false, &rc);
    is_int(rc, -XEN_EFAULT, "page table outside guest memory faults");
    /* CR3 itself outside guest memory. */
    pg.cr3 = 0x7fff0000000ULL;
    tr(&pg, 0x401000, false, &rc);
    is_int(rc, -XEN_EFAULT, "CR3 outside guest memory faults");
    pg.cr3 = 0x1000;

    /* 32-bit PAE: PDPT at 0x5000 (32-byte aligned), PD at 0x6000. */
    put64(0x5000 + 0 * 8, 0x6000 | P);
    put64(0x6000 + 1 * 8, 0x7000 | P | RW);        /* va 0x200000 */
    put64(0x7000 + 5 * 8, 0xa000 | P | RW);        /* va 0x205000 */
    put64(0x6000 + 2 * 8, 0x400000 | P | RW | PS); /* va 0x400000 */
    pg = (struct vcpu_paging){
        .cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = 0x5000, .cr4 = CR4_PAE};
    g = tr(&pg, 0x205678, true, &rc);
    ok(rc == 0 && g == 0xa678, "PAE 4 KiB page translates (%#llx)",
       (unsigned long long)g);
    g = tr(&pg, 0x412345, false, &rc);
    ok(rc == 0 && g == 0x412345, "PAE 2 MiB page translates (%#llx)",
       (unsigned long long)g);
    tr(&pg, 0x40000000, false, &rc);
    is_int(rc, -XEN_EFAULT, "PAE: not-present PDPTE faults");

    /* 32-bit non-PAE: PD at 0xb000, PT at 0xc000; 4 MiB page with PSE. */
    put32(0xb000 + 1 * 4, 0xc000 | P | RW);        /* va 0x400000 */
    put32(0xc000 + 3 * 4, 0xd000 | P);             /* va 0x403000 RO */
    put32(0xb000 + 2 * 4, 0x800000 | P | RW | PS); /* va 0x800000 */
    pg = (struct vcpu_paging){
        .cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = 0xb000, .cr4 = CR4_PSE};
    g = tr(&pg, 0x403abc, false, &rc);
    ok(rc == 0 && g == 0xdabc, "2-level 4 KiB page translates (%#llx)",
       (unsigned long long)g);
    tr(&pg, 0x403abc, true, &rc);
    is_int(rc, -XEN_EFAULT, "2-level: write to read-only faults");
    g = tr(&pg, 0x8abcde, false, &rc);
    ok(rc == 0 && g == 0x8abcde, "2-level 4 MiB page translates (%#llx)",
       (unsigned long long)g);
    pg.cr4 = 0; /* without PSE the PS bit is ignored: a page table */
    g = tr(&pg, 0x801000, false, &rc);
    ok(rc != 0 || g != 0x801000, "without CR4.PSE, PS is not a large page");

    /* Copies through a vCPU, across a page boundary. */
    {
        struct domain *d = calloc(1, sizeof(*d) + sizeof(struct vcpu *));
        struct vcpu v;
        char buf[64];

        memset(&v, 0, sizeof(v));
        d->gmem = gm;
        v.d = d;
        /* Map va 0x400000.. -> 0x100000 and 0x401000 -> 0x300000. */
        put64(0x4000 + 0 * 8, 0x100000 | P | RW);
        put64(0x4000 + 1 * 8, 0x300000 | P | RW);
        v.paging = (struct vcpu_paging){.cr0 = CR0_PE | CR0_PG | CR0_WP,
                                        .cr3 = 0x1000,
                                        .cr4 = CR4_PAE,
                                        .efer = EFER_LME | EFER_LMA};
        memcpy(mem + 0x100ff0, "0123456789abcdef", 16);
        memcpy(mem + 0x300000, "ghijklmnopqrstuv", 16);
        memset(buf, 0, sizeof(buf));
        rc = copy_from_guest(&v, buf, 0x400ff0, 32);
        ok(rc == 0 && memcmp(buf, "0123456789abcdefghijklmnopqrstuv", 32) == 0,
           "copy_from_guest crosses a page boundary into another frame");
        rc = copy_to_guest(&v, 0x400ffc, "WXYZ1234", 8);
        ok(rc == 0 && memcmp(mem + 0x100ffc, "WXYZ", 4) == 0 &&
               memcmp(mem + 0x300000, "1234", 4) == 0,
           "copy_to_guest splits at the page boundary");
        rc = copy_from_guest(&v, buf, 0x401ff8, 16);
        is_int(rc, -XEN_EFAULT, "copy running into an unmapped page faults");
        put64(0x4000 + 1 * 8, 0x300000 | P); /* read-only now */
        rc = copy_to_guest(&v, 0x401000, "x", 1);
        is_int(rc, -XEN_EFAULT, "copy_to_guest to a read-only page faults");
        rc = copy_from_guest(&v, buf, 0x401000, 4);
        is_int(rc, 0, "copy_from_guest from a read-only page works");
        rc = copy_from_guest(&v, buf, 0xfffffffffffff000ULL, 8);
        is_int(rc, -XEN_EFAULT, "copy from an unmapped top-of-space page");
        free(d);
    }
    free(mem);
    return tap_done();
}
