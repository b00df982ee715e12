/*
 * gnttab bench — grant-table v1 data path inside one guest
 * (<xen/grant_table.h>): the guest maps grant frame 0 with
 * XENMEM_add_to_physmap and grants PAGES of its own pages to itself.
 *
 * copy: GNTTABOP_copy of whole 4 KiB pages from a grant (source ref) to a
 * frame (dest gmfn), PAGES pages per measured unit, issued 1, 16 or 64 ops
 * per hypercall, against a guest memcpy (`rep movsb`, no SSE) of the same
 * source pages to the same destination pages in the same run.  Figures in
 * GiB/s; ratio = grant copy / memcpy throughput (target >= 0.8 at batch
 * 64).
 *
 * map: GNTTABOP_map_grant_ref (GNTMAP_host_map at a spare page) then
 * GNTTABOP_unmap_grant_ref of its handle, against a null hypercall pair
 * (xen_version) made with the same call through the hypercall page;
 * ratio = map pairs per s / null pairs per s.
 *
 * Method as in the hypercall bench: interleaved rounds, fastest round
 * kept, pvclock ns, fixed-point printing (no FPU; GiB/s with six
 * decimals, since rep movsb is slow under the emulated ring 0).
 */
#include <stdint.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/version.h>

#include "xenkern/console.h"
#include "xenkern/hypercall.h"
#include "xenkern/kernel.h"
#include "xenkern/pvclock.h"
#include "xenkern/x86.h"

#define PAGE       4096
#define PAGES      64 /* pages per measured unit = the largest batch */
#define REF0       8  /* first ref: 0-7 are reserved for the toolstack */
#define MAP_REF    (REF0 + PAGES)
#define COPY_UNITS 4   /* units per round */
#define MAP_PAIRS  200 /* map+unmap pairs per round */
#define ROUNDS     5

static uint8_t gframe[PAGE] __attribute__((aligned(PAGE)));
static uint8_t src[PAGES][PAGE] __attribute__((aligned(PAGE)));
static uint8_t dst[PAGES][PAGE] __attribute__((aligned(PAGE)));
static uint8_t mapat[PAGE] __attribute__((aligned(PAGE)));
static struct gnttab_copy ops[PAGES];

static const unsigned int batches[] = {1, 16, 64};
#define NR_BATCHES (sizeof(batches) / sizeof(batches[0]))

static uint64_t gfn_of(const void *p)
{
    return (uint64_t)(uintptr_t)p >> 12; /* identity mapped */
}

static void copy_bytes(void *to, const void *from, unsigned long n)
{
    asm volatile("rep movsb" : "+D"(to), "+S"(from), "+c"(n) : : "memory");
}

/* Print v / 1000 with three decimals. */
static void print_milli(const char *name, uint64_t milli)
{
    printf("%s=%llu.%03llu", name, (unsigned long long)(milli / 1000),
           (unsigned long long)(milli % 1000));
}

/* Print v / 1000000 with six decimals. */
static void print_micro(const char *name, uint64_t micro)
{
    printf("%s=%llu.%06llu", name, (unsigned long long)(micro / 1000000),
           (unsigned long long)(micro % 1000000));
}

/* Throughput of bytes in ns, in millionths of GiB/s. */
static uint64_t gib_per_s_micro(uint64_t bytes, uint64_t ns)
{
    unsigned __int128 v = (unsigned __int128)bytes * 1000000000ULL * 1000000ULL;

    return ns ? (uint64_t)(v / ((unsigned __int128)ns << 30)) : 0;
}

static __attribute__((noreturn)) void fail(const char *what, long rc)
{
    printf("gnttab bench: %s failed (%ld)\n", what, rc);
    kernel_shutdown(SHUTDOWN_crash);
}

/* Grant frame 0 at gframe, src[] granted as REF0.., mapat's grant last. */
static void grant_setup(void)
{
    grant_entry_v1_t *gnt = (grant_entry_v1_t *)gframe;
    struct xen_add_to_physmap xatp = {.domid = DOMID_SELF,
                                      .space = XENMAPSPACE_grant_table,
                                      .idx = 0,
                                      .gpfn = gfn_of(gframe)};
    struct cpuid_regs r = cpuid(xen_cpuid_base + 4, 0);
    domid_t self = (r.eax & XEN_HVM_CPUID_DOMID_PRESENT) ? (domid_t)r.ecx : 0;
    long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);

    if (rc)
        fail("add_to_physmap(grant_table)", rc);
    for (unsigned int i = 0; i <= PAGES; i++) {
        /* MAP_REF grants src[0] again, for the map loop. */
        gnt[REF0 + i].domid = self;
        gnt[REF0 + i].frame = (uint32_t)gfn_of(src[i % PAGES]);
        __atomic_store_n(&gnt[REF0 + i].flags, GTF_permit_access,
                         __ATOMIC_RELEASE);
    }
    for (unsigned int i = 0; i < PAGES; i++) {
        for (unsigned int j = 0; j < PAGE; j++)
            src[i][j] = (uint8_t)(i + j);
        ops[i] = (struct gnttab_copy){
            .source = {.u.ref = REF0 + i, .domid = DOMID_SELF},
            .dest = {.u.gmfn = gfn_of(dst[i]), .domid = DOMID_SELF},
            .len = PAGE,
            .flags = GNTCOPY_source_gref};
    }
}

/* One unit: PAGES page copies in hypercalls of batch ops each. */
static void copy_unit(const void *gnttab_stub, unsigned int batch)
{
    for (unsigned int i = 0; i < PAGES; i += batch) {
        long rc = hypercall_stub5(gnttab_stub, GNTTABOP_copy,
                                  (unsigned long)&ops[i], batch, 0, 0);
        if (rc || ops[i].status != GNTST_okay)
            fail("GNTTABOP_copy", rc ? rc : ops[i].status);
    }
}

static void memcpy_unit(void)
{
    for (unsigned int i = 0; i < PAGES; i++)
        copy_bytes(dst[i], src[i], PAGE);
}

void kernel_main(void)
{
    const void *gnttab_stub = hypercall_page + __HYPERVISOR_grant_table_op * 32;
    const void *version_stub = hypercall_page + __HYPERVISOR_xen_version * 32;
    struct gnttab_map_grant_ref m = {.host_addr = gfn_of(mapat) << 12,
                                     .flags = GNTMAP_host_map,
                                     .ref = MAP_REF,
                                     .dom = DOMID_SELF};
    struct gnttab_unmap_grant_ref u = {.host_addr = m.host_addr};
    uint64_t copy_ns[NR_BATCHES], mcpy_ns, map_ns, null_ns;
    const uint64_t bytes = (uint64_t)COPY_UNITS * PAGES * PAGE;

    if (!xen_present) {
        printf("gnttab bench: no Xen, nothing to measure\n");
        return;
    }
    grant_setup();
    copy_unit(gnttab_stub, PAGES);
    if (dst[PAGES - 1][PAGE - 1] != (uint8_t)(PAGES - 1 + PAGE - 1))
        fail("GNTTABOP_copy contents", 0);

    for (unsigned int b = 0; b < NR_BATCHES; b++)
        copy_ns[b] = ~0ULL;
    mcpy_ns = map_ns = null_ns = ~0ULL;
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t t0, d;

        for (unsigned int b = 0; b < NR_BATCHES; b++) {
            t0 = time_now_ns();
            for (int k = 0; k < COPY_UNITS; k++)
                copy_unit(gnttab_stub, batches[b]);
            d = time_now_ns() - t0;
            copy_ns[b] = d < copy_ns[b] ? d : copy_ns[b];
        }

        /*
         * The same bytes between the same pages, once a round: every
         * batch size is compared with it.  (Under an emulated ring 0,
         * rep movsb is slow and dominates the run time.)
         */
        t0 = time_now_ns();
        for (int k = 0; k < COPY_UNITS; k++)
            memcpy_unit();
        d = time_now_ns() - t0;
        mcpy_ns = d < mcpy_ns ? d : mcpy_ns;

        t0 = time_now_ns();
        for (int i = 0; i < MAP_PAIRS; i++) {
            hypercall_stub5(gnttab_stub, GNTTABOP_map_grant_ref,
                            (unsigned long)&m, 1, 0, 0);
            u.handle = m.handle;
            hypercall_stub5(gnttab_stub, GNTTABOP_unmap_grant_ref,
                            (unsigned long)&u, 1, 0, 0);
            if (m.status != GNTST_okay || u.status != GNTST_okay)
                fail("map/unmap", m.status ? m.status : u.status);
        }
        d = time_now_ns() - t0;
        map_ns = d < map_ns ? d : map_ns;

        /* Same instructions: the handle copy and the status test too. */
        t0 = time_now_ns();
        for (int i = 0; i < MAP_PAIRS; i++) {
            hypercall_stub5(version_stub, XENVER_version, (unsigned long)&m, 1,
                            0, 0);
            u.handle = m.handle;
            hypercall_stub5(version_stub, XENVER_version, (unsigned long)&u, 1,
                            0, 0);
            if (m.status != GNTST_okay || u.status != GNTST_okay)
                fail("null pair", m.status ? m.status : u.status);
        }
        d = time_now_ns() - t0;
        null_ns = d < null_ns ? d : null_ns;
    }

    for (unsigned int b = 0; b < NR_BATCHES; b++) {
        printf("copy_batch=%u ", batches[b]);
        print_micro("gnttab_copy_gib_s", gib_per_s_micro(bytes, copy_ns[b]));
        printf(" ");
        print_micro("memcpy_gib_s", gib_per_s_micro(bytes, mcpy_ns));
        printf(" ");
        print_milli("ratio", copy_ns[b] ? mcpy_ns * 1000 / copy_ns[b] : 0);
        printf(" bytes=%llu\n", (unsigned long long)bytes);
    }
    print_milli("map_unmap_pairs_per_s",
                map_ns ? (uint64_t)MAP_PAIRS * 1000000000000ULL / map_ns : 0);
    printf(" ");
    print_milli("null_hypercall_pairs_per_s",
                null_ns ? (uint64_t)MAP_PAIRS * 1000000000000ULL / null_ns : 0);
    printf(" ");
    print_milli("ratio", map_ns ? null_ns * 1000 / map_ns : 0);
    printf("\n");
}
