/*
 * test_gnttab.c — unit tests of grant-tables/gnttab.c against Xen 4.17.7's
 * xen/common/grant_table.c (map_grant_ref, unmap_common,
 * acquire_grant_for_copy, gnttab_copy_one, gnttab_setup_table,
 * gnttab_set_version, _cache_flush, gnttab_release_mappings).  Guests are
 * played by the test: it writes grant entries into the shared frames and
 * lends fake guest memory through struct gnttab_mem_ops.
 */
#include <stdint.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xen/errno.h>
#include <xen/xen.h>
#include <xen/grant_table.h>

#include "gnttab.h"
#include "gnttab_priv.h"
#include "tap.h"

#define PAGE     GNTTAB_FRAME_SIZE
#define MEM_GFNS 16
#define PERMIT   GTF_permit_access
#define RW_BITS  (GTF_reading | GTF_writing)
#define HOST     GNTMAP_host_map
#define HOST_RO  (GNTMAP_host_map | GNTMAP_readonly)

/* A domain's guest memory: MEM_GFNS frames, some of them read-only. */
struct fake_mem {
    uint8_t *base;
    bool ro[MEM_GFNS];
    struct gnttab_mem_ops ops;
};

static void *fake_frame_ptr(void *ctx, uint64_t gfn, bool write)
{
    struct fake_mem *m = ctx;

    if (gfn >= MEM_GFNS || (write && m->ro[gfn]))
        return NULL;
    return m->base + gfn * PAGE;
}

static void mem_init(struct fake_mem *m)
{
    memset(m, 0, sizeof(*m));
    m->base = aligned_alloc(PAGE, MEM_GFNS * PAGE);
    memset(m->base, 0, MEM_GFNS * PAGE);
    m->ops.frame_ptr = fake_frame_ptr;
    m->ops.ctx = m;
}

static grant_entry_v1_t *ent(struct gnttab *gt, grant_ref_t ref)
{
    grant_entry_v1_t *f = gnttab_frame(gt, ref / GNTTAB_ENTRIES_PER_FRAME);

    return f ? f + ref % GNTTAB_ENTRIES_PER_FRAME : NULL;
}

/* The granting guest fills an entry: frame and domid first, flags last. */
static void grant(struct gnttab *gt, grant_ref_t ref, domid_t to, uint32_t gfn,
                  uint16_t flags)
{
    grant_entry_v1_t *e = ent(gt, ref);

    e->frame = gfn;
    e->domid = to;
    __atomic_store_n(&e->flags, flags, __ATOMIC_SEQ_CST);
}

static uint16_t flags_of(struct gnttab *gt, grant_ref_t ref)
{
    return __atomic_load_n(&ent(gt, ref)->flags, __ATOMIC_SEQ_CST);
}

/* Linux's gnttab_end_foreign_access_ref (v1): refused while in use. */
static bool guest_end_access(grant_entry_v1_t *e)
{
    uint16_t flags = __atomic_load_n(&e->flags, __ATOMIC_SEQ_CST);

    do {
        if (flags & (GTF_reading | GTF_writing))
            return false;
    } while (!__atomic_compare_exchange_n(&e->flags, &flags, 0, false,
                                          __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    return true;
}

static struct fake_mem mem1, mem2, mem3;
static struct gnttab *d1, *d2, *d3; /* granter, mapper, another domain */

/* ---- race hooks ---- */

static int hook_calls;
static void hook_set_readonly(grant_entry_v1_t *e)
{
    if (hook_calls++ == 0)
        __atomic_fetch_or(&e->flags, GTF_readonly, __ATOMIC_SEQ_CST);
}
static void hook_change_domid(grant_entry_v1_t *e)
{
    if (hook_calls++ == 0)
        __atomic_store_n(&e->domid, 3, __ATOMIC_SEQ_CST);
}
static void hook_toggle(grant_entry_v1_t *e)
{
    hook_calls++;
    __atomic_fetch_xor(&e->flags, GTF_PWT, __ATOMIC_SEQ_CST);
}
static void hook_once_pcd(grant_entry_v1_t *e)
{
    if (hook_calls++ == 0)
        __atomic_fetch_or(&e->flags, GTF_PCD, __ATOMIC_SEQ_CST);
}
static void hook_revoke(grant_entry_v1_t *e)
{
    if (hook_calls++ == 0)
        __atomic_store_n(&e->flags, 0, __ATOMIC_SEQ_CST);
}

static void test_create_and_table_ops(void)
{
    struct gnttab *gt = NULL, *small = NULL;
    uint32_t nr = 0, max = 0, v;
    xen_pfn_t list[40];
    struct gnttab_cache_flush cf;
    void *p = NULL;
    unsigned int i;
    char buf[8];

    is_int(gnttab_domain_create(9, 0, -1, &gt), -XEN_EINVAL,
           "create: 0 grant frames is EINVAL (grant_table_init)");
    ok(gt == NULL, "create: failure leaves *gtp NULL");
    is_int(gnttab_domain_create(9, GNTTAB_LIMIT_MAX_FRAMES + 1, -1, &gt),
           -XEN_EINVAL, "create: frames above the limit is EINVAL");
    is_int(
        gnttab_domain_create(9, -1, GNTTAB_LIMIT_MAX_MAPTRACK_FRAMES + 1, &gt),
        -XEN_EINVAL, "create: maptrack above the limit is EINVAL");
    is_int(gnttab_domain_create(9, -1, -1, &gt), 0, "create: defaults");
    is_int(gnttab_domid(gt), 9, "create: domid kept");
    is_int(gnttab_query_size(gt, &nr, &max), GNTST_okay, "query_size ok");
    is_int(nr, 1, "query_size: starts with INITIAL_NR_GRANT_FRAMES = 1");
    is_int(max, GNTTAB_DEFAULT_MAX_FRAMES, "query_size: default max 32");
    is_int(gnttab_query_size(NULL, &nr, &max), GNTST_bad_domain,
           "query_size: no domain -> bad_domain");

    /* Versions (gnttab_set_version / gnttab_get_version, max_version 1). */
    is_int(gnttab_get_version(gt, &v), 0, "get_version ok");
    is_int(v, 1, "get_version: 1");
    is_int(gnttab_get_version(NULL, &v), -XEN_ESRCH,
           "get_version: no domain -> ESRCH");
    v = 1;
    is_int(gnttab_set_version(gt, &v), 0, "set_version(1) -> 0");
    v = 2;
    is_int(gnttab_set_version(gt, &v), -XEN_ENOSYS,
           "set_version(2) with v2 disabled -> ENOSYS");
    is_int(v, 1, "set_version(2): version written back as 1");
    v = 0;
    is_int(gnttab_set_version(gt, &v), -XEN_EINVAL, "set_version(0) EINVAL");
    v = 3;
    is_int(gnttab_set_version(gt, &v), -XEN_EINVAL, "set_version(3) EINVAL");
    is_int(v, 1, "set_version(3): version written back");

    /* Growth: frames, setup_table, XENMAPSPACE_grant_table. */
    p = gnttab_frame(gt, 1);
    ok(p && ((uintptr_t)p % PAGE) == 0, "frame 1: page-aligned host frame");
    gnttab_query_size(gt, &nr, &max);
    is_int(nr, 2, "frame 1 grows the table to 2");
    is_int(gnttab_setup_table(gt, 4, list), GNTST_okay, "setup_table(4)");
    gnttab_query_size(gt, &nr, &max);
    is_int(nr, 4, "setup_table(4) grows to 4");
    ok(list[0] == GNTTAB_INVALID_GFN && list[3] == GNTTAB_INVALID_GFN,
       "setup_table: unmapped frames listed as invalid gfn");
    is_int(gnttab_map_frame(gt, 6, 0x1234, &p), 0, "map_frame(6) ok");
    ok(p == gnttab_frame(gt, 6), "map_frame: the same host frame");
    gnttab_query_size(gt, &nr, &max);
    is_int(nr, 7, "map_frame(6) grows to 7");
    is_int(gnttab_setup_table(gt, 7, list), GNTST_okay, "setup_table(7)");
    is_u64(list[6], 0x1234, "setup_table: frame 6 at the gfn it was mapped");
    is_int(gnttab_setup_table(gt, 2, list), GNTST_okay,
           "setup_table below nr_frames: ok, no shrink");
    gnttab_query_size(gt, &nr, &max);
    is_int(nr, 7, "setup_table(2): still 7 frames");
    ok(gnttab_frame(gt, 31) != NULL, "frame 31 (max - 1) ok");
    gnttab_query_size(gt, &nr, &max);
    is_int(nr, 32, "grown to the maximum");
    ok(gnttab_frame(gt, 32) == NULL, "frame 32 (= max) refused");
    is_int(gnttab_map_frame(gt, 32, 1, &p), -XEN_EINVAL,
           "map_frame beyond max -> EINVAL");
    is_int(gnttab_map_frame(gt, ~0u, 1, &p), -XEN_EINVAL,
           "map_frame(~0) -> EINVAL");
    is_int(gnttab_setup_table(gt, 33, list), GNTST_general_error,
           "setup_table(max + 1) -> general_error");
    is_int(gnttab_setup_table(gt, 32, list), GNTST_okay, "setup_table(max)");
    is_int(gnttab_setup_table(NULL, 1, list), GNTST_bad_domain,
           "setup_table: no domain -> bad_domain");

    /* The memfd shows the frames at idx * 4096. */
    grant(gt, 5 * GNTTAB_ENTRIES_PER_FRAME + 3, 7, 0xabcd, PERMIT);
    ok(pread(gnttab_frames_fd(gt), buf, 8,
             5 * PAGE + 3 * sizeof(grant_entry_v1_t)) == 8 &&
           memcmp(buf, ent(gt, 5 * GNTTAB_ENTRIES_PER_FRAME + 3), 8) == 0,
       "frames fd holds frame 5 at offset 5 * 4096");

    is_int(gnttab_domain_create(9, 2, 0, &small), 0, "create: max 2 frames");
    is_int(gnttab_setup_table(small, 3, list), GNTST_general_error,
           "setup_table(3) on a 2-frame table -> general_error");
    for (i = 0; i < 2; i++)
        ok(gnttab_frame(small, i) != NULL, "small: frame %u", i);
    ok(gnttab_frame(small, 2) == NULL, "small: frame 2 refused");
    gnttab_domain_destroy(small);
    gnttab_domain_destroy(gt);
    gnttab_domain_destroy(NULL);

    /* Cache flush validation (_cache_flush). */
    memset(&cf, 0, sizeof(cf));
    cf.length = PAGE;
    cf.op = GNTTAB_CACHE_CLEAN | GNTTAB_CACHE_INVAL;
    is_int(gnttab_cache_flush(&cf), 0, "cache_flush: whole page ok");
    cf.offset = PAGE;
    cf.length = 0;
    is_int(gnttab_cache_flush(&cf), -XEN_EINVAL, "cache_flush: offset 4096");
    cf.offset = 0;
    cf.length = PAGE + 1;
    is_int(gnttab_cache_flush(&cf), -XEN_EINVAL, "cache_flush: length 4097");
    cf.offset = 4000;
    cf.length = 200;
    is_int(gnttab_cache_flush(&cf), -XEN_EINVAL,
           "cache_flush: offset + length past the page");
    cf.offset = 0;
    cf.length = 16;
    cf.op = 4;
    is_int(gnttab_cache_flush(&cf), -XEN_EINVAL, "cache_flush: unknown op");
    cf.op = GNTTAB_CACHE_SOURCE_GREF | GNTTAB_CACHE_CLEAN;
    is_int(gnttab_cache_flush(&cf), -XEN_EINVAL,
           "cache_flush: SOURCE_GREF fails the mask -> EINVAL");
    cf.op = 0;
    is_int(gnttab_cache_flush(&cf), 0, "cache_flush: op 0 is a no-op");
}

static void test_map_basics(void)
{
    grant_handle_t h1 = 0, h2 = 0, h3 = 0;
    void *p1 = NULL, *p2 = NULL, *p = NULL;
    grant_ref_t r = 10;

    grant(d1, r, 2, 5, PERMIT);
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST, &h1, &p1), GNTST_okay,
           "map: writable grant to the mapper");
    ok(p1 == mem1.base + 5 * PAGE, "map: host pointer of the granted gfn");
    is_int(flags_of(d1, r), PERMIT | RW_BITS,
           "map rw: GTF_reading|GTF_writing set");
    is_int(gnttab_active_pin(d1, r), GNTTAB_PIN_HSTW, "map rw: one hstw pin");
    memcpy(p1, "hello", 6);
    ok(memcmp(mem1.base + 5 * PAGE, "hello", 6) == 0,
       "map: writes land in the granter's frame");

    is_int(gnttab_map(d3, d1, &mem3.ops, r, HOST_RO, &h3, &p),
           GNTST_general_error, "map by another domain -> general_error");
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST_RO, &h2, &p2), GNTST_okay,
           "second map (ro) of the same ref");
    ok(p2 == p1 && h2 != h1, "second map: same frame, new handle");
    is_int(gnttab_active_pin(d1, r), GNTTAB_PIN_HSTW + GNTTAB_PIN_HSTR,
           "two maps share the active entry: hstw + hstr");
    ok(!guest_end_access(ent(d1, r)), "guest end-access refused while mapped");
    is_int(gnttab_unmap(d2, h1), GNTST_okay, "unmap the rw mapping");
    is_int(flags_of(d1, r), PERMIT | GTF_reading,
           "last write pin gone: GTF_writing cleared, GTF_reading kept");
    is_int(gnttab_unmap(d2, h2), GNTST_okay, "unmap the ro mapping");
    is_int(flags_of(d1, r), PERMIT, "last pin gone: GTF_reading cleared");
    is_int(gnttab_active_pin(d1, r), 0, "no pins left");
    is_int(gnttab_unmap(d2, h2), GNTST_bad_handle,
           "stale handle (already unmapped) -> bad_handle");
    is_int(gnttab_unmap(d2, 1000000), GNTST_bad_handle,
           "handle beyond the maptrack -> bad_handle");
    is_int(gnttab_unmap(d2, 200), GNTST_bad_handle,
           "never-issued handle in the maptrack -> bad_handle");
    ok(guest_end_access(ent(d1, r)), "guest end-access works after unmap");
}

static void test_map_refusals(void)
{
    grant_handle_t h = 0, h2 = 0;
    void *p = NULL, *p2 = NULL;
    grant_ref_t r = 11;
    uint32_t nr, max;

    grant(d1, r, 2, 6, PERMIT);
    is_int(gnttab_map(d2, d1, &mem1.ops, r, 0, &h, &p), GNTST_bad_gntref,
           "map flags 0 -> bad_gntref");
    is_int(gnttab_map(d2, d1, &mem1.ops, r, GNTMAP_readonly, &h, &p),
           GNTST_bad_gntref, "map readonly without host/device -> bad_gntref");
    is_int(gnttab_map(d2, d1, &mem1.ops, r, GNTMAP_device_map, &h, &p),
           GNTST_general_error, "device_map by an HVM domain -> general_error");
    is_int(
        gnttab_map(d2, d1, &mem1.ops, r, HOST | GNTMAP_application_map, &h, &p),
        GNTST_general_error, "application_map -> general_error");
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST | GNTMAP_contains_pte, &h, &p),
           GNTST_general_error, "contains_pte -> general_error");
    is_int(gnttab_map(d2, NULL, &mem1.ops, r, HOST, &h, &p), GNTST_bad_domain,
           "no granter -> bad_domain");
    is_int(flags_of(d1, r), PERMIT, "refused maps left the entry alone");

    gnttab_query_size(d1, &nr, &max);
    is_int(gnttab_map(d2, d1, &mem1.ops, nr * GNTTAB_ENTRIES_PER_FRAME, HOST,
                      &h, &p),
           GNTST_bad_gntref, "ref just past the current frames -> bad_gntref");
    is_int(gnttab_map(d2, d1, &mem1.ops, ~0u, HOST, &h, &p), GNTST_bad_gntref,
           "ref ~0 -> bad_gntref");

    /* Revoked / wrong type / sub_page / wrong domid. */
    grant(d1, r, 2, 6, 0);
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST, &h, &p), GNTST_general_error,
           "revoked grant (permit cleared) refused");
    grant(d1, r, 2, 6, GTF_accept_transfer);
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST, &h, &p), GNTST_general_error,
           "accept_transfer entry refused for map");
    grant(d1, r, 2, 6, PERMIT | GTF_sub_page);
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST_RO, &h, &p),
           GNTST_general_error, "v1 entry with GTF_sub_page refused for map");
    grant(d1, r, 3, 6, PERMIT);
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST_RO, &h, &p),
           GNTST_general_error, "grant to domain 3 refused to domain 2");
    is_int(flags_of(d1, r), PERMIT, "refused: no GTF_reading left behind");

    /* Read-only grant. */
    grant(d1, r, 2, 6, PERMIT | GTF_readonly);
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST, &h, &p), GNTST_general_error,
           "write map of a read-only grant -> general_error (as Xen)");
    is_int(flags_of(d1, r), PERMIT | GTF_readonly,
           "refused write map: no GTF_reading/writing");
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST_RO, &h, &p), GNTST_okay,
           "ro map of a read-only grant ok");
    is_int(flags_of(d1, r), PERMIT | GTF_readonly | GTF_reading,
           "ro map: GTF_reading only");
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST, &h2, &p2),
           GNTST_general_error,
           "write map of a pinned read-only grant -> general_error");
    is_int(flags_of(d1, r), PERMIT | GTF_readonly | GTF_reading,
           "still GTF_reading only");
    is_int(gnttab_unmap(d2, h), GNTST_okay, "unmap ro");
    is_int(flags_of(d1, r), PERMIT | GTF_readonly, "unmapped: clean");

    /* Frames the granter's memory refuses. */
    grant(d1, r, 2, MEM_GFNS + 3, PERMIT);
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST, &h, &p), GNTST_bad_page,
           "grant of a frame the granter lacks -> bad_page");
    is_int(flags_of(d1, r), PERMIT, "bad_page: GTF_reading/writing taken back");
    mem1.ro[7] = true;
    grant(d1, r, 2, 7, PERMIT);
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST, &h, &p), GNTST_bad_page,
           "write map of a frame that is read-only in memory -> bad_page");
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST_RO, &h, &p), GNTST_okay,
           "ro map of that frame ok");
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST, &h2, &p2), GNTST_bad_page,
           "write map added to a ro pin of a ro frame -> bad_page");
    is_int(flags_of(d1, r), PERMIT | GTF_reading,
           "GTF_writing taken back, GTF_reading kept");
    is_int(gnttab_unmap(d2, h), GNTST_okay, "unmap");
    mem1.ro[7] = false;
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST_RO, &h, &p), GNTST_okay,
           "ro map, frame writable");
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST, &h2, &p2), GNTST_okay,
           "upgrade with a write map");
    is_int(flags_of(d1, r), PERMIT | RW_BITS, "both bits while rw-mapped");
    is_int(gnttab_unmap(d2, h2), GNTST_okay, "unmap rw");
    is_int(gnttab_unmap(d2, h), GNTST_okay, "unmap ro");
    is_int(flags_of(d1, r), PERMIT, "clean after both");
}

static void test_revoke_while_mapped(void)
{
    grant_handle_t h = 0, h2 = 0, h3 = 0;
    void *p = NULL, *p2 = NULL;
    grant_ref_t r = 12;

    grant(d1, r, 2, 8, PERMIT);
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST_RO, &h, &p), GNTST_okay,
           "map before the guest misbehaves");
    /* A guest that ignores the protocol wipes its entry. */
    __atomic_store_n(&ent(d1, r)->flags, 0, __ATOMIC_SEQ_CST);
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST_RO, &h2, &p2), GNTST_okay,
           "pinned entry: a further ro map still works (no recheck, as Xen)");
    ok(p2 == p, "same frame as the first mapping");
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST, &h3, &p2), GNTST_okay,
           "pinned entry: a write map only checks GTF_readonly (as Xen)");
    is_int(gnttab_unmap(d2, h3), GNTST_okay, "unmap the write map");
    is_int(gnttab_unmap(d2, h2), GNTST_okay, "unmap the second");
    is_int(gnttab_unmap(d2, h), GNTST_okay, "unmap the first");
    is_int(gnttab_active_pin(d1, r), 0, "unpinned");
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST_RO, &h, &p),
           GNTST_general_error, "once unpinned, the revoked grant is refused");

    /* Pinned by domain 2, re-granted by the guest to domain 3. */
    grant(d1, r, 2, 8, PERMIT);
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST_RO, &h, &p), GNTST_okay,
           "map by 2");
    __atomic_store_n(&ent(d1, r)->domid, 3, __ATOMIC_SEQ_CST);
    is_int(gnttab_map(d3, d1, &mem3.ops, r, HOST_RO, &h2, &p2),
           GNTST_general_error, "entry pinned by 2 refused to 3");
    is_int(gnttab_unmap(d2, h), GNTST_okay, "unmap by 2");
}

static void test_races(void)
{
    grant_handle_t h = 0;
    void *p = NULL;
    grant_ref_t r = 13;
    struct gnttab_copy op;

    grant(d1, r, 2, 9, PERMIT);
    hook_calls = 0;
    gnttab_test_race_hook = hook_set_readonly;
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST, &h, &p), GNTST_general_error,
           "granter sets GTF_readonly between check and update: refused");
    is_int(hook_calls, 1, "the exchange failed and the new value was checked");
    is_int(flags_of(d1, r), PERMIT | GTF_readonly,
           "no GTF_writing on the now read-only grant");

    grant(d1, r, 2, 9, PERMIT);
    hook_calls = 0;
    gnttab_test_race_hook = hook_change_domid;
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST_RO, &h, &p),
           GNTST_general_error, "granter changes domid mid-update: refused");
    is_int(flags_of(d1, r), PERMIT, "no GTF_reading");

    grant(d1, r, 2, 9, PERMIT);
    hook_calls = 0;
    gnttab_test_race_hook = hook_revoke;
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST_RO, &h, &p),
           GNTST_general_error, "granter revokes mid-update: refused");
    is_int(flags_of(d1, r), 0, "revoked entry untouched");

    grant(d1, r, 2, 9, PERMIT);
    hook_calls = 0;
    gnttab_test_race_hook = hook_toggle;
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST, &h, &p), GNTST_general_error,
           "entry changing on every try: unstable");
    is_int(hook_calls, 5, "gave up after five exchanges (_set_status_v1)");
    ok(!(flags_of(d1, r) & RW_BITS), "unstable: no status bits set");

    grant(d1, r, 2, 9, PERMIT);
    hook_calls = 0;
    gnttab_test_race_hook = hook_once_pcd;
    is_int(gnttab_map(d2, d1, &mem1.ops, r, HOST, &h, &p), GNTST_okay,
           "a harmless concurrent change: retried and mapped");
    is_int(flags_of(d1, r), PERMIT | GTF_PCD | RW_BITS,
           "the granter's bit kept, status bits added");
    gnttab_test_race_hook = NULL;
    is_int(gnttab_unmap(d2, h), GNTST_okay, "unmap");

    /* The same race on a copy's destination. */
    grant(d1, r, 2, 9, PERMIT);
    memset(&op, 0, sizeof(op));
    op.flags = GNTCOPY_dest_gref;
    op.source.domid = DOMID_SELF;
    op.source.u.gmfn = 1;
    op.dest.domid = 1;
    op.dest.u.ref = r;
    op.len = 8;
    hook_calls = 0;
    gnttab_test_race_hook = hook_set_readonly;
    is_int(gnttab_copy(d2, &op, d2, &mem2.ops, d1, &mem1.ops),
           GNTST_general_error, "copy: dest turned read-only mid-update");
    gnttab_test_race_hook = NULL;
    is_int(flags_of(d1, r), PERMIT | GTF_readonly, "copy: no GTF_writing");
}

/* A granter following the protocol vs. a mapper, on two threads. */
static bool stop_guest;
static unsigned long guest_flips;
static void *guest_thread(void *arg)
{
    grant_entry_v1_t *e = arg;

    while (!__atomic_load_n(&stop_guest, __ATOMIC_RELAXED)) {
        uint16_t f = __atomic_load_n(&e->flags, __ATOMIC_SEQ_CST);

        /* "Changing to read-only: cmpxchg to set GTF_readonly while
         * checking !GTF_writing" (grant_table.h), and back. */
        if (!(f & GTF_writing) &&
            __atomic_compare_exchange_n(&e->flags, &f, f ^ GTF_readonly, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            guest_flips++;
    }
    return NULL;
}

static void test_concurrent_granter(void)
{
    grant_ref_t r = 14;
    pthread_t t;
    unsigned int i, maps = 0, refused = 0, bad = 0;

    grant(d1, r, 2, 10, PERMIT);
    __atomic_store_n(&stop_guest, false, __ATOMIC_RELAXED);
    pthread_create(&t, NULL, guest_thread, ent(d1, r));
    for (i = 0; i < 20000; i++) {
        grant_handle_t h;
        void *p;
        int rc = gnttab_map(d2, d1, &mem1.ops, r, HOST, &h, &p);

        if (rc == GNTST_okay) {
            maps++;
            if (flags_of(d1, r) & GTF_readonly)
                bad++;
            gnttab_unmap(d2, h);
        } else if (rc == GNTST_general_error) {
            refused++;
        } else {
            bad++;
        }
    }
    __atomic_store_n(&stop_guest, true, __ATOMIC_RELAXED);
    pthread_join(t, NULL);
    tap_diag("concurrent: %u writable maps, %u refused, %lu guest flips", maps,
             refused, guest_flips);
    is_int(bad, 0,
           "concurrent granter: never GTF_readonly under a writable map");
    is_int(flags_of(d1, r) & RW_BITS, 0, "concurrent: status bits clean");
}

static void test_pins_and_maptrack(void)
{
    struct gnttab *m = NULL, *none = NULL;
    grant_handle_t hs[300], h = 0, freed;
    void *p = NULL;
    unsigned int i, okays = 0;
    int rc;

    /* Pin counter overflow: 128 of a kind, then refused. */
    grant(d1, 20, 2, 11, PERMIT);
    for (i = 0; i < 128; i++)
        okays += gnttab_map(d2, d1, &mem1.ops, 20, HOST_RO, &hs[i], &p) ==
                 GNTST_okay;
    is_int(okays, 128, "128 ro maps of one ref");
    is_int(gnttab_map(d2, d1, &mem1.ops, 20, HOST_RO, &h, &p),
           GNTST_general_error, "129th ro pin: counter overflow refused");
    is_int(gnttab_map(d2, d1, &mem1.ops, 20, HOST, &h, &p), GNTST_okay,
           "a write pin is another counter");
    is_int(gnttab_unmap(d2, h), GNTST_okay, "unmap the write pin");
    for (i = 0; i < 128; i++)
        gnttab_unmap(d2, hs[i]);
    is_int(gnttab_active_pin(d1, 20), 0, "all 128 unpinned");
    is_int(flags_of(d1, 20), PERMIT, "status clean after overflow test");

    /* A mapper with one maptrack frame: 256 handles. */
    is_int(gnttab_domain_create(4, -1, 1, &m), 0,
           "mapper with 1 maptrack frame");
    grant(d1, 21, 4, 11, PERMIT);
    grant(d1, 22, 4, 12, PERMIT);
    okays = 0;
    for (i = 0; i < GNTTAB_MAPTRACK_PER_FRAME; i++)
        okays += gnttab_map(m, d1, &mem1.ops, i < 128 ? 21 : 22, HOST_RO,
                            &hs[i], &p) == GNTST_okay;
    is_int(okays, GNTTAB_MAPTRACK_PER_FRAME, "256 maps fill the maptrack");
    is_int(gnttab_map(m, d1, &mem1.ops, 21, HOST_RO, &h, &p), GNTST_no_space,
           "maptrack full -> GNTST_no_space");
    is_int(gnttab_map(m, d1, &mem1.ops, 50000, HOST_RO, &h, &p), GNTST_no_space,
           "full maptrack is checked before the ref");
    is_int(gnttab_map(m, NULL, &mem1.ops, 21, HOST_RO, &h, &p),
           GNTST_bad_domain, "the domain is checked before the maptrack");
    freed = hs[77];
    is_int(gnttab_unmap(m, freed), GNTST_okay, "unmap one");
    rc = gnttab_map(m, d1, &mem1.ops, 21, HOST_RO, &h, &p);
    is_int(rc, GNTST_okay, "map again after unmap");
    is_int(h, freed, "the freed handle is reused");
    hs[77] = h;
    is_int(gnttab_map(m, d1, &mem1.ops, 21, HOST_RO, &h, &p), GNTST_no_space,
           "full again");

    /* Mapper death releases everything. */
    is_int(gnttab_release_mappings(m), GNTTAB_MAPTRACK_PER_FRAME,
           "release_mappings: 256 released");
    is_int(gnttab_active_pin(d1, 21) | gnttab_active_pin(d1, 22), 0,
           "granter's pins dropped");
    is_int(flags_of(d1, 21) | flags_of(d1, 22), PERMIT,
           "granter's GTF_reading cleared");
    is_int(gnttab_unmap(m, hs[0]), GNTST_bad_handle,
           "released handle is stale");
    is_int(gnttab_release_mappings(m), 0, "nothing left to release");
    /* destroy without an explicit release */
    is_int(gnttab_map(m, d1, &mem1.ops, 21, HOST, &h, &p), GNTST_okay,
           "map rw before destroy");
    gnttab_domain_destroy(m);
    is_int(gnttab_active_pin(d1, 21), 0, "destroying the mapper unpins");
    is_int(flags_of(d1, 21), PERMIT, "destroying the mapper clears status");

    /* A domain with no maptrack may not map. */
    is_int(gnttab_domain_create(5, -1, 0, &none), 0, "mapper without maptrack");
    grant(d1, 23, 5, 11, PERMIT);
    is_int(gnttab_map(none, d1, &mem1.ops, 23, HOST_RO, &h, &p), GNTST_no_space,
           "0 maptrack frames -> GNTST_no_space");
    gnttab_domain_destroy(none);
}

static void test_copy(void)
{
    struct gnttab_copy op;
    grant_handle_t h = 0;
    void *p = NULL;
    uint8_t *g5 = mem1.base + 5 * PAGE, *l2 = mem2.base + 2 * PAGE;
    unsigned int i;

    for (i = 0; i < PAGE; i++)
        g5[i] = (uint8_t)i;
    memset(l2, 0, PAGE);

    /* grant -> local frame, with offsets */
    grant(d1, 30, 2, 5, PERMIT | GTF_readonly);
    memset(&op, 0, sizeof(op));
    op.flags = GNTCOPY_source_gref;
    op.source.domid = 1;
    op.source.u.ref = 30;
    op.source.offset = 100;
    op.dest.domid = DOMID_SELF;
    op.dest.u.gmfn = 2;
    op.dest.offset = 3000;
    op.len = 50;
    is_int(gnttab_copy(d2, &op, d1, &mem1.ops, d2, &mem2.ops), GNTST_okay,
           "copy from a read-only grant to a local frame");
    ok(memcmp(l2 + 3000, g5 + 100, 50) == 0 && l2[2999] == 0 && l2[3050] == 0,
       "copy: exactly the 50 bytes at the offsets");
    is_int(flags_of(d1, 30), PERMIT | GTF_readonly,
           "copy: temporary pin released (no GTF_reading)");
    is_int(gnttab_active_pin(d1, 30), 0, "copy: no pin left");

    /* local -> grant */
    grant(d1, 31, 2, 6, PERMIT);
    memcpy(l2 + 10, "grant copy", 10);
    memset(&op, 0, sizeof(op));
    op.flags = GNTCOPY_dest_gref;
    op.source.domid = DOMID_SELF;
    op.source.u.gmfn = 2;
    op.source.offset = 10;
    op.dest.domid = 1;
    op.dest.u.ref = 31;
    op.dest.offset = 4086;
    op.len = 10;
    is_int(gnttab_copy(d2, &op, d2, &mem2.ops, d1, &mem1.ops), GNTST_okay,
           "copy from a local frame into a writable grant, to the page end");
    ok(memcmp(mem1.base + 6 * PAGE + 4086, "grant copy", 10) == 0,
       "copy: data in the granter's frame");
    is_int(flags_of(d1, 31), PERMIT, "copy dest: status bits released");

    /* read-only grant as destination */
    op.dest.u.ref = 30;
    op.dest.offset = 0;
    is_int(gnttab_copy(d2, &op, d2, &mem2.ops, d1, &mem1.ops),
           GNTST_general_error,
           "read-only grant as dest -> general_error (as Xen)");
    is_int(flags_of(d1, 30), PERMIT | GTF_readonly, "ro dest: untouched");

    /* across the page end */
    op.dest.u.ref = 31;
    op.dest.offset = 4095;
    op.len = 2;
    is_int(gnttab_copy(d2, &op, d2, &mem2.ops, d1, &mem1.ops),
           GNTST_bad_copy_arg, "dest across the page end -> bad_copy_arg");
    is_int(flags_of(d1, 31), PERMIT, "bad_copy_arg: pins released");
    op.dest.offset = 0;
    op.source.offset = 4000;
    op.len = 200;
    is_int(gnttab_copy(d2, &op, d2, &mem2.ops, d1, &mem1.ops),
           GNTST_bad_copy_arg, "source across the page end -> bad_copy_arg");
    op.source.offset = 0;
    op.len = PAGE;
    is_int(gnttab_copy(d2, &op, d2, &mem2.ops, d1, &mem1.ops), GNTST_okay,
           "whole-page copy ok");
    op.dest.u.ref = 60000;
    op.source.offset = 4000;
    op.len = 200;
    is_int(gnttab_copy(d2, &op, d2, &mem2.ops, d1, &mem1.ops), GNTST_bad_gntref,
           "bad ref and bad offsets: the ref is checked first");

    /* domains */
    memset(&op, 0, sizeof(op));
    op.source.domid = 1; /* a frame of another domain */
    op.source.u.gmfn = 1;
    op.dest.domid = DOMID_SELF;
    op.dest.u.gmfn = 3;
    op.len = 8;
    is_int(gnttab_copy(d2, &op, d1, &mem1.ops, d2, &mem2.ops),
           GNTST_permission_denied,
           "frame side naming another domain -> permission_denied");
    is_int(gnttab_copy(d2, &op, NULL, NULL, d2, &mem2.ops),
           GNTST_permission_denied,
           "permission_denied is decided before the domain lookup");
    op.flags = GNTCOPY_source_gref;
    op.source.u.ref = 30;
    is_int(gnttab_copy(d2, &op, NULL, NULL, d2, &mem2.ops), GNTST_bad_domain,
           "no source domain -> bad_domain");
    op.dest.domid = 7;
    is_int(gnttab_copy(d2, &op, NULL, NULL, d2, &mem2.ops), GNTST_bad_domain,
           "source is checked before dest");
    op.dest.domid = DOMID_SELF;
    op.dest.u.gmfn = MEM_GFNS;
    is_int(gnttab_copy(d2, &op, d1, &mem1.ops, d2, &mem2.ops), GNTST_bad_page,
           "local frame out of memory -> bad_page");
    is_int(flags_of(d1, 30), PERMIT | GTF_readonly,
           "bad_page on dest: source pin released");
    mem2.ro[3] = true;
    op.dest.u.gmfn = 3;
    is_int(gnttab_copy(d2, &op, d1, &mem1.ops, d2, &mem2.ops), GNTST_bad_page,
           "local dest frame read-only in memory -> bad_page");
    mem2.ro[3] = false;
    grant(d1, 32, 2, MEM_GFNS + 1, PERMIT);
    op.source.u.ref = 32;
    is_int(gnttab_copy(d2, &op, d1, &mem1.ops, d2, &mem2.ops), GNTST_bad_page,
           "grant of a missing frame -> bad_page");
    is_int(flags_of(d1, 32), PERMIT, "bad_page: GTF_reading taken back");
    grant(d1, 32, 3, 5, PERMIT);
    is_int(gnttab_copy(d2, &op, d1, &mem1.ops, d2, &mem2.ops),
           GNTST_general_error, "copy of a grant to another domain refused");
    grant(d1, 32, 2, 5, 0);
    is_int(gnttab_copy(d2, &op, d1, &mem1.ops, d2, &mem2.ops),
           GNTST_general_error, "copy of a revoked grant refused");
    grant(d1, 32, 2, 5, PERMIT | GTF_sub_page);
    is_int(gnttab_copy(d2, &op, d1, &mem1.ops, d2, &mem2.ops), GNTST_okay,
           "v1 GTF_sub_page entry: copy allowed (only maps check it)");

    /* Copy through an entry a map has pinned. */
    grant(d1, 33, 2, 5, PERMIT);
    is_int(gnttab_map(d2, d1, &mem1.ops, 33, HOST_RO, &h, &p), GNTST_okay,
           "map ro, then copy from the same ref");
    op.source.u.ref = 33;
    is_int(gnttab_copy(d2, &op, d1, &mem1.ops, d2, &mem2.ops), GNTST_okay,
           "copy from a mapped ref");
    is_int(gnttab_active_pin(d1, 33), GNTTAB_PIN_HSTR,
           "copy's pin gone, the map's kept");
    /* The guest moves the frame of the pinned entry, then a write copy. */
    __atomic_store_n(&ent(d1, 33)->frame, 6, __ATOMIC_SEQ_CST);
    memset(&op, 0, sizeof(op));
    op.flags = GNTCOPY_dest_gref;
    op.source.domid = DOMID_SELF;
    op.source.u.gmfn = 2;
    op.dest.domid = 1;
    op.dest.u.ref = 33;
    op.len = 4;
    is_int(gnttab_copy(d2, &op, d2, &mem2.ops, d1, &mem1.ops),
           GNTST_general_error,
           "write copy to a pinned entry whose frame changed -> refused");
    is_int(flags_of(d1, 33), PERMIT | GTF_reading,
           "frame change: GTF_writing taken back, map's GTF_reading kept");
    is_int(gnttab_unmap(d2, h), GNTST_okay, "unmap");

    /* Same grant on both sides, overlapping. */
    grant(d1, 34, 2, 4, PERMIT);
    memcpy(mem1.base + 4 * PAGE, "abcdefgh", 8);
    memset(&op, 0, sizeof(op));
    op.flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
    op.source.domid = 1;
    op.source.u.ref = 34;
    op.dest.domid = 1;
    op.dest.u.ref = 34;
    op.dest.offset = 2;
    op.len = 6;
    is_int(gnttab_copy(d2, &op, d1, &mem1.ops, d1, &mem1.ops), GNTST_okay,
           "copy within one granted frame");
    ok(memcmp(mem1.base + 4 * PAGE, "ababcdef", 8) == 0,
       "overlapping copy moves correctly");
    is_int(flags_of(d1, 34), PERMIT, "both temporary pins released");
    is_int(gnttab_active_pin(d1, 34), 0, "no pins");
}

static void test_lifetimes(void)
{
    struct gnttab *g = NULL, *self = NULL;
    struct fake_mem memg;
    grant_handle_t h = 0, h2 = 0;
    void *p = NULL;

    /* A granter destroyed while mapped: the mapping unmaps cleanly. */
    mem_init(&memg);
    is_int(gnttab_domain_create(6, 4, -1, &g), 0, "granter 6");
    grant(g, 1, 2, 3, PERMIT);
    is_int(gnttab_map(d2, g, &memg.ops, 1, HOST, &h, &p), GNTST_okay,
           "map a grant of 6");
    gnttab_domain_destroy(g);
    ((uint8_t *)p)[0] = 0x5a;
    ok(memg.base[3 * PAGE] == 0x5a,
       "mapping still reaches the frame after granter destroy");
    is_int(gnttab_unmap(d2, h), GNTST_okay,
           "unmap after the granter was destroyed");
    free(memg.base);

    /* A domain mapping its own grant, then destroyed. */
    is_int(gnttab_domain_create(8, -1, -1, &self), 0, "domain 8");
    mem_init(&memg);
    grant(self, 2, 8, 1, PERMIT);
    is_int(gnttab_map(self, self, &memg.ops, 2, HOST, &h, &p), GNTST_okay,
           "self map");
    is_int(gnttab_map(self, self, &memg.ops, 2, HOST_RO, &h2, &p), GNTST_okay,
           "second self map");
    is_int(flags_of(self, 2), PERMIT | RW_BITS, "self map status");
    gnttab_domain_destroy(self);
    ok(true, "self-mapping domain destroyed (ASan checks the frees)");
    free(memg.base);
}

int main(void)
{
    mem_init(&mem1);
    mem_init(&mem2);
    mem_init(&mem3);
    if (gnttab_domain_create(1, -1, -1, &d1) ||
        gnttab_domain_create(2, -1, -1, &d2) ||
        gnttab_domain_create(3, -1, -1, &d3))
        tap_skip_all("cannot create grant tables (memfd?)");

    test_create_and_table_ops();
    test_map_basics();
    test_map_refusals();
    test_revoke_while_mapped();
    test_races();
    test_concurrent_granter();
    test_pins_and_maptrack();
    test_copy();
    test_lifetimes();

    gnttab_domain_destroy(d3);
    gnttab_domain_destroy(d2);
    gnttab_domain_destroy(d1);
    free(mem1.base);
    free(mem2.base);
    free(mem3.base);
    return tap_done();
}
