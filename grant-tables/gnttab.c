/*
 * gnttab.c — grant table v1: shared frames, active entries with pin
 * counts, maptrack (grant handles), map/unmap/copy and the table ops.
 * Semantics follow Xen 4.17.7's xen/common/grant_table.c for an HVM
 * caller; each function names the one it follows.  See gnttab.h.
 */
#include <stdint.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/errno.h>
#include <xen/xen.h>
#include <xen/grant_table.h>

#include "gnttab.h"
#include "gnttab_priv.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the flags/domid pair of a grant entry is handled as one LE word"
#endif

_Static_assert(sizeof(grant_entry_v1_t) == 8, "v1 entry is 8 bytes");
_Static_assert(GNTTAB_ENTRIES_PER_FRAME == 512, "512 v1 entries a frame");

/* Xen's INITIAL_NR_GRANT_FRAMES (x86). */
#define GNTTAB_INITIAL_FRAMES 1u
/* Bound on compare-exchange retries against a guest changing its entry. */
#define GNTTAB_CMPXCHG_RETRIES 4
#define MAPTRACK_TAIL          (~0u)
#define INVALID_HANDLE         (~0u)
#define PIN_WRITE_MASK                                                         \
    (GNTTAB_PIN_MASK(GNTTAB_PIN_HSTW) | GNTTAB_PIN_MASK(GNTTAB_PIN_DEVW))

/*
 * The flags and domid of an entry are read and updated together as one
 * 32-bit word (flags in the low half), as Xen's union grant_combo.
 */
typedef uint32_t __attribute__((may_alias)) combo_word;

#define COMBO(flags, domid) ((uint32_t)(flags) | ((uint32_t)(domid) << 16))
#define COMBO_FLAGS(w)      ((uint16_t)(w))
#define COMBO_DOMID(w)      ((domid_t)((w) >> 16))

/* Xen's active_grant_entry, for full-page v1 grants. */
struct gnttab_active {
    uint32_t pin;  /* GNTTAB_PIN_* counts */
    domid_t domid; /* domain holding the pins */
    bool writable; /* ptr was obtained with write access */
    uint64_t gfn;  /* granter's frame, read once at the first pin */
    void *ptr;     /* host address of gfn while pinned */
};

/* Xen's grant_mapping: one mapping this domain holds; index = handle. */
struct gnttab_maptrack {
    uint32_t flags;     /* GNTMAP_* of a live mapping; 0 = free */
    grant_ref_t ref;    /* granter's ref */
    uint32_t next;      /* free list link */
    struct gnttab *rgt; /* granter's table, referenced while live */
};

struct gnttab {
    domid_t domid;
    unsigned int max_frames;
    unsigned int max_maptrack_frames;

    /* Lifetime: the domain's reference plus one per live maptrack entry
     * (of any domain) naming this table.  Atomic; freed at zero. */
    unsigned int refcnt;

    /* Shared frames: a memfd of max_frames frames mapped once, so entry
     * ref lives at shared[ref] whatever nr_frames is.  Fixed after
     * creation; the guest writes the frames concurrently (read with
     * atomics only). */
    int memfd;
    grant_entry_v1_t *shared;

    /*
     * lock protects nr_frames, frame_gfn[] and active[] (every entry's
     * fields).  Taken without holding any other gnttab lock: an operation
     * touching two tables (map, copy) drops one before taking the other,
     * as Xen never holds two grant table locks at once.  mem ops are
     * called under it and must not call back into this table.
     */
    pthread_mutex_t lock;
    unsigned int nr_frames;
    xen_pfn_t *frame_gfn; /* [max_frames], GNTTAB_INVALID_GFN if unmapped */
    struct gnttab_active **active; /* [max_frames][ENTRIES_PER_FRAME] */

    /*
     * maptrack_lock protects maptrack[], maptrack_limit and the free list
     * (FIFO, head to tail, as Xen's put_maptrack_handle appends).  Never
     * held while taking lock.
     */
    pthread_mutex_t maptrack_lock;
    struct gnttab_maptrack **maptrack; /* [max_maptrack_frames][PER_FRAME] */
    unsigned int maptrack_limit;       /* handles allocated */
    unsigned int maptrack_head;
    unsigned int maptrack_tail;
};

#ifdef XENHV_UNIT_TEST
void (*gnttab_test_race_hook)(grant_entry_v1_t *ent);
#define RACE_HOOK(ent)                                                         \
    do {                                                                       \
        if (gnttab_test_race_hook)                                             \
            gnttab_test_race_hook(ent);                                        \
    } while (0)
#else
#define RACE_HOOK(ent) ((void)(ent))
#endif

/* ---- lifetime ---- */

static void gnttab_free(struct gnttab *gt)
{
    unsigned int i;

    if (gt->active) {
        for (i = 0; i < gt->max_frames; i++)
            free(gt->active[i]);
        free(gt->active);
    }
    if (gt->maptrack) {
        for (i = 0; i < gt->max_maptrack_frames; i++)
            free(gt->maptrack[i]);
        free(gt->maptrack);
    }
    free(gt->frame_gfn);
    if (gt->shared)
        munmap(gt->shared, (size_t)gt->max_frames * GNTTAB_FRAME_SIZE);
    if (gt->memfd >= 0)
        close(gt->memfd);
    pthread_mutex_destroy(&gt->lock);
    pthread_mutex_destroy(&gt->maptrack_lock);
    free(gt);
}

static void gnttab_get(struct gnttab *gt)
{
    __atomic_add_fetch(&gt->refcnt, 1, __ATOMIC_RELAXED);
}

static void gnttab_put(struct gnttab *gt)
{
    if (__atomic_sub_fetch(&gt->refcnt, 1, __ATOMIC_ACQ_REL) == 0)
        gnttab_free(gt);
}

/*
 * Grow to req frames (at least the initial one), allocating active entries
 * and zeroing the new shared frames.  Caller holds gt->lock and checked
 * req <= max_frames.  Follows gnttab_grow_table().
 */
static int gnttab_grow_table(struct gnttab *gt, unsigned int req)
{
    unsigned int i;

    if (req < GNTTAB_INITIAL_FRAMES)
        req = GNTTAB_INITIAL_FRAMES;
    for (i = gt->nr_frames; i < req; i++) {
        gt->active[i] = calloc(GNTTAB_ENTRIES_PER_FRAME, sizeof(**gt->active));
        if (!gt->active[i])
            goto fail;
    }
    memset((char *)gt->shared + (size_t)gt->nr_frames * GNTTAB_FRAME_SIZE, 0,
           (size_t)(req - gt->nr_frames) * GNTTAB_FRAME_SIZE);
    /* Readers of nr_frames hold the lock, so ordering is by the lock. */
    gt->nr_frames = req;
    return 0;

fail:
    for (i = gt->nr_frames; i < req; i++) {
        free(gt->active[i]);
        gt->active[i] = NULL;
    }
    return -XEN_ENOMEM;
}

int gnttab_domain_create(domid_t domid, int max_grant_frames,
                         int max_maptrack_frames, struct gnttab **gtp)
{
    struct gnttab *gt = NULL;
    size_t size;
    unsigned int i;
    int rc = -XEN_ENOMEM;

    *gtp = NULL;
    /* Negative: the default, as grant_table_init(). */
    if (max_grant_frames < 0)
        max_grant_frames = GNTTAB_DEFAULT_MAX_FRAMES;
    if (max_maptrack_frames < 0)
        max_maptrack_frames = GNTTAB_DEFAULT_MAX_MAPTRACK_FRAMES;
    if (max_grant_frames < (int)GNTTAB_INITIAL_FRAMES ||
        max_grant_frames > GNTTAB_LIMIT_MAX_FRAMES ||
        max_maptrack_frames > GNTTAB_LIMIT_MAX_MAPTRACK_FRAMES)
        return -XEN_EINVAL;

    gt = calloc(1, sizeof(*gt));
    if (!gt)
        return -XEN_ENOMEM;
    gt->memfd = -1;
    gt->domid = domid;
    gt->refcnt = 1;
    gt->max_frames = max_grant_frames;
    gt->max_maptrack_frames = max_maptrack_frames;
    gt->maptrack_head = gt->maptrack_tail = MAPTRACK_TAIL;
    pthread_mutex_init(&gt->lock, NULL);
    pthread_mutex_init(&gt->maptrack_lock, NULL);

    gt->active = calloc(gt->max_frames, sizeof(*gt->active));
    gt->frame_gfn = malloc(gt->max_frames * sizeof(*gt->frame_gfn));
    gt->maptrack = calloc(gt->max_maptrack_frames ? gt->max_maptrack_frames : 1,
                          sizeof(*gt->maptrack));
    if (!gt->active || !gt->frame_gfn || !gt->maptrack)
        goto out;
    for (i = 0; i < gt->max_frames; i++)
        gt->frame_gfn[i] = GNTTAB_INVALID_GFN;

    size = (size_t)gt->max_frames * GNTTAB_FRAME_SIZE;
    gt->memfd = memfd_create("xen-hv-gnttab", MFD_CLOEXEC);
    if (gt->memfd < 0 || ftruncate(gt->memfd, size) < 0)
        goto out;
    gt->shared =
        mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, gt->memfd, 0);
    if (gt->shared == MAP_FAILED) {
        gt->shared = NULL;
        goto out;
    }

    rc = gnttab_grow_table(gt, 0);

out:
    if (rc)
        gnttab_free(gt);
    else
        *gtp = gt;
    return rc;
}

domid_t gnttab_domid(const struct gnttab *gt)
{
    return gt->domid;
}

int gnttab_frames_fd(const struct gnttab *gt)
{
    return gt->memfd;
}

/* ---- shared frames ---- */

void *gnttab_frame(struct gnttab *gt, unsigned int idx)
{
    void *frame = NULL;

    pthread_mutex_lock(&gt->lock);
    if (idx >= gt->max_frames)
        goto out;
    if (idx >= gt->nr_frames && gnttab_grow_table(gt, idx + 1))
        goto out;
    frame = (char *)gt->shared + (size_t)idx * GNTTAB_FRAME_SIZE;
out:
    pthread_mutex_unlock(&gt->lock);
    return frame;
}

int gnttab_map_frame(struct gnttab *gt, unsigned int idx, xen_pfn_t gfn,
                     void **frame)
{
    int rc = -XEN_EINVAL;

    pthread_mutex_lock(&gt->lock);
    /* As gnttab_get_shared_frame_mfn(): a failed growth is -EINVAL too. */
    if (idx >= gt->nr_frames && idx < gt->max_frames)
        gnttab_grow_table(gt, idx + 1);
    if (idx >= gt->nr_frames)
        goto out;
    gt->frame_gfn[idx] = gfn;
    *frame = (char *)gt->shared + (size_t)idx * GNTTAB_FRAME_SIZE;
    rc = 0;
out:
    pthread_mutex_unlock(&gt->lock);
    return rc;
}

/* ---- active entries and shared entry flags ---- */

static unsigned int nr_grant_entries(const struct gnttab *gt)
{
    return gt->nr_frames * GNTTAB_ENTRIES_PER_FRAME;
}

static struct gnttab_active *active_entry(struct gnttab *gt, grant_ref_t ref)
{
    return &gt->active[ref / GNTTAB_ENTRIES_PER_FRAME]
                      [ref % GNTTAB_ENTRIES_PER_FRAME];
}

uint32_t gnttab_active_pin(struct gnttab *gt, grant_ref_t ref)
{
    uint32_t pin = 0;

    pthread_mutex_lock(&gt->lock);
    if (ref < nr_grant_entries(gt))
        pin = active_entry(gt, ref)->pin;
    pthread_mutex_unlock(&gt->lock);
    return pin;
}

static uint32_t pin_incr_for(uint32_t flags)
{
    uint32_t incr = 0;
    bool ro = flags & GNTMAP_readonly;

    if (flags & GNTMAP_device_map)
        incr += ro ? GNTTAB_PIN_DEVR : GNTTAB_PIN_DEVW;
    if (flags & GNTMAP_host_map)
        incr += ro ? GNTTAB_PIN_HSTR : GNTTAB_PIN_HSTW;
    return incr;
}

/*
 * Set GTF_reading (and GTF_writing unless readonly) in the shared entry,
 * checking, when the entry is not pinned yet, that it is a
 * GTF_permit_access grant (without GTF_sub_page for a map) to ldomid, and
 * always that a write pin does not meet GTF_readonly.  The checks run on
 * the value the compare-exchange then installs over, so a granter changing
 * the entry meanwhile makes the exchange fail and the new value is checked
 * again; after five failures the entry is "unstable".  Caller holds the
 * table lock.  Follows _set_status_v1().
 */
static int gnttab_set_status(grant_entry_v1_t *ent,
                             const struct gnttab_active *act, bool readonly,
                             bool mapflag, domid_t ldomid)
{
    combo_word *word = (combo_word *)ent;
    uint16_t mask = GTF_type_mask | (mapflag ? GTF_sub_page : 0);
    uint32_t cur = __atomic_load_n(word, __ATOMIC_ACQUIRE);
    int retries = 0;

    for (;;) {
        uint16_t flags = COMBO_FLAGS(cur);
        uint16_t nflags = flags | GTF_reading;

        if (!act->pin &&
            ((flags & mask) != GTF_permit_access || COMBO_DOMID(cur) != ldomid))
            return GNTST_general_error;
        if (!readonly) {
            nflags |= GTF_writing;
            if (flags & GTF_readonly)
                return GNTST_general_error;
        }
        RACE_HOOK(ent);
        /* On failure cur becomes the value found: check that one. */
        if (__atomic_compare_exchange_n(word, &cur,
                                        COMBO(nflags, COMBO_DOMID(cur)), false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE))
            return GNTST_okay;
        if (retries++ == GNTTAB_CMPXCHG_RETRIES)
            return GNTST_general_error;
    }
}

/*
 * Drop the status bits the remaining pins no longer justify: GTF_reading
 * when nothing is pinned, GTF_writing after a write pin when no write pin
 * is left.  Caller holds the table lock.  Follows reduce_status_for_pin().
 */
static void reduce_status_for_pin(grant_entry_v1_t *ent,
                                  const struct gnttab_active *act,
                                  bool readonly)
{
    uint16_t clear = act->pin ? 0 : GTF_reading;

    if (!readonly && !(act->pin & PIN_WRITE_MASK))
        clear |= GTF_writing;
    if (clear)
        __atomic_fetch_and(&ent->flags, (uint16_t)~clear, __ATOMIC_SEQ_CST);
}

/*
 * Read the entry's frame once (after the status exchange, as Xen) and look
 * it up in the granter's memory.  Returns GNTST_okay or GNTST_bad_page.
 * Follows get_paged_frame().
 */
static int get_granted_frame(const grant_entry_v1_t *ent,
                             const struct gnttab_mem_ops *mem, bool readonly,
                             uint64_t *gfn, void **ptr)
{
    *gfn = __atomic_load_n(&ent->frame, __ATOMIC_ACQUIRE);
    *ptr = mem ? mem->frame_ptr(mem->ctx, *gfn, !readonly) : NULL;
    return *ptr ? GNTST_okay : GNTST_bad_page;
}

/* ---- maptrack ---- */

static struct gnttab_maptrack *maptrack_entry(struct gnttab *gt,
                                              grant_handle_t h)
{
    return &gt->maptrack[h / GNTTAB_MAPTRACK_PER_FRAME]
                        [h % GNTTAB_MAPTRACK_PER_FRAME];
}

/*
 * Take a free handle, adding a maptrack frame when the free list is empty
 * and the limit allows.  INVALID_HANDLE when full.  Follows
 * get_maptrack_handle() (one free list: there are no vCPUs here).
 */
static grant_handle_t maptrack_get(struct gnttab *gt)
{
    struct gnttab_maptrack *mt;
    grant_handle_t h = INVALID_HANDLE;
    unsigned int i, nr;

    pthread_mutex_lock(&gt->maptrack_lock);
    if (gt->maptrack_head == MAPTRACK_TAIL) {
        nr = gt->maptrack_limit / GNTTAB_MAPTRACK_PER_FRAME;
        if (nr >= gt->max_maptrack_frames)
            goto out;
        mt = calloc(GNTTAB_MAPTRACK_PER_FRAME, sizeof(*mt));
        if (!mt)
            goto out;
        for (i = 0; i < GNTTAB_MAPTRACK_PER_FRAME; i++)
            mt[i].next = gt->maptrack_limit + i + 1;
        mt[i - 1].next = MAPTRACK_TAIL;
        gt->maptrack[nr] = mt;
        gt->maptrack_head = gt->maptrack_limit;
        gt->maptrack_tail = gt->maptrack_limit + i - 1;
        gt->maptrack_limit += GNTTAB_MAPTRACK_PER_FRAME;
    }
    h = gt->maptrack_head;
    mt = maptrack_entry(gt, h);
    gt->maptrack_head = mt->next;
    if (gt->maptrack_head == MAPTRACK_TAIL)
        gt->maptrack_tail = MAPTRACK_TAIL;
    mt->next = MAPTRACK_TAIL;
out:
    pthread_mutex_unlock(&gt->maptrack_lock);
    return h;
}

/* Return handle h (flags already 0) to the tail of the free list. */
static void maptrack_put(struct gnttab *gt, grant_handle_t h)
{
    struct gnttab_maptrack *mt;

    pthread_mutex_lock(&gt->maptrack_lock);
    mt = maptrack_entry(gt, h);
    mt->flags = 0;
    mt->rgt = NULL;
    mt->next = MAPTRACK_TAIL;
    if (gt->maptrack_tail == MAPTRACK_TAIL)
        gt->maptrack_head = h;
    else
        maptrack_entry(gt, gt->maptrack_tail)->next = h;
    gt->maptrack_tail = h;
    pthread_mutex_unlock(&gt->maptrack_lock);
}

/*
 * Claim live mapping h for unmapping: its flags are cleared under the
 * maptrack lock, so of two racing unmaps one sees a free handle.  Returns
 * false for an unknown or free handle.
 */
static bool maptrack_claim(struct gnttab *gt, grant_handle_t h,
                           struct gnttab_maptrack *copy)
{
    struct gnttab_maptrack *mt;
    bool live = false;

    pthread_mutex_lock(&gt->maptrack_lock);
    if (h >= gt->maptrack_limit)
        goto out;
    mt = maptrack_entry(gt, h);
    if (!mt->flags)
        goto out;
    *copy = *mt;
    mt->flags = 0;
    live = true;
out:
    pthread_mutex_unlock(&gt->maptrack_lock);
    return live;
}

/* ---- map and unmap ---- */

int gnttab_map(struct gnttab *lgt, struct gnttab *rgt,
               const struct gnttab_mem_ops *rmem, grant_ref_t ref,
               uint32_t flags, grant_handle_t *handle, void **host_ptr)
{
    uint32_t pin_incr = pin_incr_for(flags);
    bool ro = flags & GNTMAP_readonly;
    domid_t ldomid = lgt->domid;
    struct gnttab_active *act = NULL;
    grant_entry_v1_t *ent = NULL;
    struct gnttab_maptrack *mt;
    grant_handle_t h;
    uint64_t gfn;
    void *ptr;
    int rc;

    if (!pin_incr)
        return GNTST_bad_gntref;
    /* A PVH or process domain is paging_mode_external in Xen's terms. */
    if (flags &
        (GNTMAP_device_map | GNTMAP_application_map | GNTMAP_contains_pte))
        return GNTST_general_error;
    if (!rgt)
        return GNTST_bad_domain;
    h = maptrack_get(lgt);
    if (h == INVALID_HANDLE)
        return GNTST_no_space;

    pthread_mutex_lock(&rgt->lock);
    if (ref >= nr_grant_entries(rgt)) {
        rc = GNTST_bad_gntref;
        goto unlock_out;
    }
    ent = &rgt->shared[ref];
    act = active_entry(rgt, ref);

    /* Pinned already: by this domain, without overflowing a counter. */
    if (act->pin &&
        (act->domid != ldomid || (act->pin & GNTTAB_PIN_OFLOW(pin_incr)))) {
        rc = GNTST_general_error;
        goto unlock_out;
    }

    if (!act->pin || (!ro && !(act->pin & PIN_WRITE_MASK))) {
        rc = gnttab_set_status(ent, act, ro, true, ldomid);
        if (rc != GNTST_okay)
            goto unlock_out;
        if (!act->pin) {
            rc = get_granted_frame(ent, rmem, ro, &gfn, &ptr);
            if (rc != GNTST_okay)
                goto unlock_out_clear;
            act->domid = ldomid;
            act->gfn = gfn;
            act->ptr = ptr;
            act->writable = !ro;
        } else if (!act->writable) {
            /*
             * First write pin of a frame pinned read-only so far.  Xen
             * keeps the frame of the first pin without asking again; ask
             * the memory for write access to that same frame, so a frame
             * the granter may only read is never handed out writable.
             */
            ptr = rmem ? rmem->frame_ptr(rmem->ctx, act->gfn, true) : NULL;
            if (ptr != act->ptr) {
                rc = ptr ? GNTST_general_error : GNTST_bad_page;
                goto unlock_out_clear;
            }
            act->writable = true;
        }
    }

    act->pin += pin_incr;
    ptr = act->ptr;
    pthread_mutex_unlock(&rgt->lock);

    /* Publish the mapping; until now unmap saw a free handle. */
    gnttab_get(rgt);
    pthread_mutex_lock(&lgt->maptrack_lock);
    mt = maptrack_entry(lgt, h);
    mt->ref = ref;
    mt->rgt = rgt;
    mt->flags = flags;
    pthread_mutex_unlock(&lgt->maptrack_lock);

    *handle = h;
    *host_ptr = ptr;
    return GNTST_okay;

unlock_out_clear:
    reduce_status_for_pin(ent, act, ro);
unlock_out:
    pthread_mutex_unlock(&rgt->lock);
    maptrack_put(lgt, h);
    return rc;
}

/*
 * Drop the pins of claimed mapping mt (handle h of lgt), then free the
 * handle and the reference on the granter's table.  Follows
 * unmap_common_complete() / the body of gnttab_release_mappings().
 */
static void unmap_claimed(struct gnttab *lgt, grant_handle_t h,
                          const struct gnttab_maptrack *mt)
{
    struct gnttab *rgt = mt->rgt;
    struct gnttab_active *act;

    pthread_mutex_lock(&rgt->lock);
    /* Tables never shrink, so the ref checked at map time is in range. */
    act = active_entry(rgt, mt->ref);
    act->pin -= pin_incr_for(mt->flags);
    reduce_status_for_pin(&rgt->shared[mt->ref], act,
                          mt->flags & GNTMAP_readonly);
    if (!act->pin)
        act->ptr = NULL;
    pthread_mutex_unlock(&rgt->lock);

    maptrack_put(lgt, h);
    gnttab_put(rgt);
}

int gnttab_unmap(struct gnttab *lgt, grant_handle_t handle)
{
    struct gnttab_maptrack mt;

    if (!maptrack_claim(lgt, handle, &mt))
        return GNTST_bad_handle;
    unmap_claimed(lgt, handle, &mt);
    return GNTST_okay;
}

int gnttab_release_mappings(struct gnttab *gt)
{
    struct gnttab_maptrack mt;
    grant_handle_t h, limit;
    int released = 0;

    pthread_mutex_lock(&gt->maptrack_lock);
    limit = gt->maptrack_limit;
    pthread_mutex_unlock(&gt->maptrack_lock);

    for (h = 0; h < limit; h++) {
        if (!maptrack_claim(gt, h, &mt))
            continue;
        unmap_claimed(gt, h, &mt);
        released++;
    }
    return released;
}

void gnttab_domain_destroy(struct gnttab *gt)
{
    if (!gt)
        return;
    gnttab_release_mappings(gt);
    gnttab_put(gt);
}

/* ---- copy ---- */

/* One side of a copy while it is claimed. */
struct copy_buf {
    struct gnttab *gt;
    grant_ref_t ref;
    bool have_grant;
    bool readonly;
    uint8_t *virt;
};

/*
 * Pin rgt's entry gref for a copy by ldomid and return the frame.  Returns
 * GNTST_okay, GNTST_bad_gntref, GNTST_general_error, GNTST_bad_page.
 * Follows acquire_grant_for_copy() (v1 branch).
 */
static int acquire_grant_for_copy(struct gnttab *rgt,
                                  const struct gnttab_mem_ops *rmem,
                                  grant_ref_t gref, domid_t ldomid,
                                  bool readonly, uint8_t **virt)
{
    uint32_t pin_incr = readonly ? GNTTAB_PIN_HSTR : GNTTAB_PIN_HSTW;
    struct gnttab_active *act;
    grant_entry_v1_t *ent;
    uint32_t old_pin;
    uint64_t gfn;
    void *ptr;
    int rc;

    pthread_mutex_lock(&rgt->lock);
    if (gref >= nr_grant_entries(rgt)) {
        rc = GNTST_bad_gntref;
        goto unlock_out;
    }
    ent = &rgt->shared[gref];
    act = active_entry(rgt, gref);

    if (act->pin &&
        (act->domid != ldomid || (act->pin & GNTTAB_PIN_OFLOW(pin_incr)))) {
        rc = GNTST_general_error;
        goto unlock_out;
    }

    old_pin = act->pin;
    if (!old_pin || (!readonly && !(old_pin & PIN_WRITE_MASK))) {
        rc = gnttab_set_status(ent, act, readonly, false, ldomid);
        if (rc != GNTST_okay)
            goto unlock_out;
        rc = get_granted_frame(ent, rmem, readonly, &gfn, &ptr);
        if (rc != GNTST_okay)
            goto unlock_out_clear;
        if (!act->pin) {
            act->domid = ldomid;
            act->gfn = gfn;
            act->ptr = ptr;
            act->writable = !readonly;
        } else if (ptr != act->ptr) {
            /* The granter changed the frame of a pinned entry. */
            rc = GNTST_general_error;
            goto unlock_out_clear;
        } else {
            act->writable |= !readonly;
        }
    }

    act->pin += pin_incr;
    *virt = act->ptr;
    pthread_mutex_unlock(&rgt->lock);
    return GNTST_okay;

unlock_out_clear:
    reduce_status_for_pin(ent, act, readonly);
unlock_out:
    pthread_mutex_unlock(&rgt->lock);
    return rc;
}

/* Follows release_grant_for_copy() (v1). */
static void release_grant_for_copy(struct gnttab *rgt, grant_ref_t gref,
                                   bool readonly)
{
    struct gnttab_active *act;

    pthread_mutex_lock(&rgt->lock);
    act = active_entry(rgt, gref);
    act->pin -= readonly ? GNTTAB_PIN_HSTR : GNTTAB_PIN_HSTW;
    reduce_status_for_pin(&rgt->shared[gref], act, readonly);
    if (!act->pin)
        act->ptr = NULL;
    pthread_mutex_unlock(&rgt->lock);
}

/* Follows gnttab_copy_lock_domain(). */
static int copy_check_domain(domid_t domid, bool is_gref,
                             const struct gnttab *gt)
{
    /* Only DOMID_SELF may name a frame rather than a grant. */
    if (domid != DOMID_SELF && !is_gref)
        return GNTST_permission_denied;
    return gt ? GNTST_okay : GNTST_bad_domain;
}

/* Follows gnttab_copy_claim_buf(). */
static int copy_claim_buf(const struct gnttab_copy_ptr *p, bool is_gref,
                          bool readonly, domid_t ldomid, struct gnttab *gt,
                          const struct gnttab_mem_ops *mem,
                          struct copy_buf *buf)
{
    int rc;

    buf->gt = gt;
    buf->readonly = readonly;
    if (is_gref) {
        rc = acquire_grant_for_copy(gt, mem, p->u.ref, ldomid, readonly,
                                    &buf->virt);
        if (rc != GNTST_okay)
            return rc;
        buf->ref = p->u.ref;
        buf->have_grant = true;
        return GNTST_okay;
    }
    buf->virt = mem ? mem->frame_ptr(mem->ctx, p->u.gmfn, !readonly) : NULL;
    return buf->virt ? GNTST_okay : GNTST_bad_page;
}

static void copy_release_buf(struct copy_buf *buf)
{
    if (buf->have_grant)
        release_grant_for_copy(buf->gt, buf->ref, buf->readonly);
    buf->have_grant = false;
    buf->virt = NULL;
}

int gnttab_copy(struct gnttab *lgt, const struct gnttab_copy *op,
                struct gnttab *sgt, const struct gnttab_mem_ops *smem,
                struct gnttab *dgt, const struct gnttab_mem_ops *dmem)
{
    struct copy_buf src = {0}, dst = {0};
    bool src_gref = op->flags & GNTCOPY_source_gref;
    bool dst_gref = op->flags & GNTCOPY_dest_gref;
    int rc;

    /* Order of gnttab_copy_one(): domains, source, dest, then bounds. */
    rc = copy_check_domain(op->source.domid, src_gref, sgt);
    if (rc != GNTST_okay)
        goto out;
    rc = copy_check_domain(op->dest.domid, dst_gref, dgt);
    if (rc != GNTST_okay)
        goto out;

    rc = copy_claim_buf(&op->source, src_gref, true, lgt->domid, sgt, smem,
                        &src);
    if (rc != GNTST_okay)
        goto out;
    rc =
        copy_claim_buf(&op->dest, dst_gref, false, lgt->domid, dgt, dmem, &dst);
    if (rc != GNTST_okay)
        goto out;

    /* gnttab_copy_buf(); v1 grants are whole pages, so the sub-page
     * bounds Xen checks next always hold. */
    if ((unsigned int)op->source.offset + op->len > GNTTAB_FRAME_SIZE ||
        (unsigned int)op->dest.offset + op->len > GNTTAB_FRAME_SIZE) {
        rc = GNTST_bad_copy_arg;
        goto out;
    }
    /* Source and dest may be the same frame: memmove, not memcpy. */
    memmove(dst.virt + op->dest.offset, src.virt + op->source.offset, op->len);
    rc = GNTST_okay;

out:
    copy_release_buf(&src);
    copy_release_buf(&dst);
    return rc;
}

/* ---- table ops ---- */

int gnttab_query_size(struct gnttab *gt, uint32_t *nr_frames,
                      uint32_t *max_nr_frames)
{
    if (!gt)
        return GNTST_bad_domain;
    pthread_mutex_lock(&gt->lock);
    *nr_frames = gt->nr_frames;
    *max_nr_frames = gt->max_frames;
    pthread_mutex_unlock(&gt->lock);
    return GNTST_okay;
}

int gnttab_setup_table(struct gnttab *gt, uint32_t nr_frames,
                       xen_pfn_t *frame_list)
{
    uint32_t i;
    int rc = GNTST_general_error;

    if (!gt)
        return GNTST_bad_domain;
    pthread_mutex_lock(&gt->lock);
    if (nr_frames > gt->max_frames)
        goto out;
    if (nr_frames > gt->nr_frames && gnttab_grow_table(gt, nr_frames))
        goto out;
    for (i = 0; i < nr_frames; i++)
        frame_list[i] = gt->frame_gfn[i];
    rc = GNTST_okay;
out:
    pthread_mutex_unlock(&gt->lock);
    return rc;
}

int gnttab_set_version(struct gnttab *gt, uint32_t *version)
{
    int rc = -XEN_EINVAL;

    /* Order of gnttab_set_version(): range, then "v2 not allowed". */
    if (*version != 1 && *version != 2)
        goto out;
    rc = -XEN_ENOSYS;
    if (*version == 2)
        goto out;
    rc = 0;
out:
    *version = 1;
    return rc;
}

int gnttab_get_version(struct gnttab *gt, uint32_t *version)
{
    if (!gt)
        return -XEN_ESRCH;
    *version = 1;
    return 0;
}

int gnttab_cache_flush(const struct gnttab_cache_flush *op)
{
    /* _cache_flush(): the first test masks out SOURCE_GREF as well. */
    if (op->offset >= GNTTAB_FRAME_SIZE || op->length > GNTTAB_FRAME_SIZE ||
        op->offset + op->length > GNTTAB_FRAME_SIZE ||
        (op->op & ~(GNTTAB_CACHE_INVAL | GNTTAB_CACHE_CLEAN)))
        return -XEN_EINVAL;
    return 0;
}
