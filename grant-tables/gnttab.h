/*
 * gnttab.h — grant table v1 semantics (GNTTABOP_* of <xen/grant_table.h>)
 * as a library: one struct gnttab per domain, no KVM and no domain structs.
 *
 * The caller (xen-hv) looks domains up by domid and passes their tables to
 * each operation; a NULL table means "no such domain".  Guest memory is
 * reached only through a struct gnttab_mem_ops the caller supplies per
 * operation.  Behaviour follows Xen 4.17.7's xen/common/grant_table.c for an
 * HVM (paging_mode_external) caller: the function each operation follows is
 * named in its comment.
 *
 * Every shared entry is untrusted: it is read once into a local copy, the
 * copy is validated, and GTF_reading/GTF_writing are set with bounded
 * compare-exchange loops, as the granting guest changes entries
 * concurrently.  Operations are thread-safe; any number of threads may call
 * them on any tables.
 */
#ifndef XENHV_GNTTAB_H
#define XENHV_GNTTAB_H

#include <stdbool.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/grant_table.h>

struct gnttab;

/* Size of a shared frame, of a guest frame the mem ops return (bytes). */
#define GNTTAB_FRAME_SIZE 4096u
/* v1 shared entries per shared frame. */
#define GNTTAB_ENTRIES_PER_FRAME (GNTTAB_FRAME_SIZE / sizeof(grant_entry_v1_t))
/* Grant handles per maptrack frame (Xen's MAPTRACK_PER_PAGE). */
#define GNTTAB_MAPTRACK_PER_FRAME 256u
/* Default and highest limits for gnttab_domain_create() (frames). */
#define GNTTAB_DEFAULT_MAX_FRAMES          32
#define GNTTAB_LIMIT_MAX_FRAMES            1024
#define GNTTAB_DEFAULT_MAX_MAPTRACK_FRAMES 1024
#define GNTTAB_LIMIT_MAX_MAPTRACK_FRAMES   1024
/* "Shared frame not mapped in the guest" in setup_table's frame list. */
#define GNTTAB_INVALID_GFN (~(xen_pfn_t)0)

/*
 * gnttab_mem_ops — access to one domain's guest memory.
 * frame_ptr(ctx, gfn, write): host address of the 4 KiB guest frame gfn,
 * NULL when the domain has no such frame or (write) it may not be written.
 * The address must stay valid while a grant of the frame is pinned (mapped
 * or being copied): the caller must not free or balloon out pinned frames.
 */
struct gnttab_mem_ops {
    void *(*frame_ptr)(void *ctx, uint64_t gfn, bool write);
    void *ctx;
};

/*
 * gnttab_domain_create — the grant table of domain domid.
 * max_grant_frames: shared frames the table may grow to (< 0: 32);
 * max_maptrack_frames: this domain's mapping limit, in frames of
 * GNTTAB_MAPTRACK_PER_FRAME handles (< 0: 1024; 0: it may not map).
 * The table starts with one shared frame (INITIAL_NR_GRANT_FRAMES), v1.
 * Returns 0 and *gtp, -XEN_EINVAL (limits outside 1..1024 / 0..1024), or
 * -XEN_ENOMEM.  Follows grant_table_init().
 */
int gnttab_domain_create(domid_t domid, int max_grant_frames,
                         int max_maptrack_frames, struct gnttab **gtp);

/*
 * gnttab_release_mappings — unmap every mapping this domain (as mapper)
 * holds, dropping the pins and GTF_reading/GTF_writing on the granters'
 * entries.  For a dying domain.  Returns the number of mappings released.
 * Follows gnttab_release_mappings().
 */
int gnttab_release_mappings(struct gnttab *gt);

/*
 * gnttab_domain_destroy — release gt's mappings, then drop the domain's
 * reference.  Other domains' mappings of gt's grants keep the table (and
 * its shared frames) alive until they are unmapped; the memory those grants
 * name is the caller's to keep until then.  gt must not be passed to any
 * other call afterwards.  NULL is a no-op.  Follows grant_table_destroy().
 */
void gnttab_domain_destroy(struct gnttab *gt);

/* gnttab_domid — the domain id gt was created for. */
domid_t gnttab_domid(const struct gnttab *gt);

/*
 * gnttab_frame — host address of shared frame idx (GNTTAB_FRAME_SIZE
 * bytes, page-aligned, GNTTAB_ENTRIES_PER_FRAME grant_entry_v1_t), growing
 * the table to idx + 1 frames if needed.  NULL when idx >= the maximum or
 * memory is short.  Frame idx lives at offset idx * GNTTAB_FRAME_SIZE of
 * gnttab_frames_fd(), for callers that map it elsewhere.
 */
void *gnttab_frame(struct gnttab *gt, unsigned int idx);

/*
 * gnttab_map_frame — XENMEM_add_to_physmap(XENMAPSPACE_grant_table, idx,
 * gfn): grow to idx + 1 frames, record that the guest sees frame idx at gfn
 * (GNTTAB_INVALID_GFN: no longer mapped; reported by setup_table), return
 * its host address in *frame.  Returns 0 or -XEN_EINVAL (idx >= maximum,
 * or growing failed: Xen answers -EINVAL for both).  Follows
 * gnttab_map_frame_begin() and gnttab_get_shared_frame_mfn().
 */
int gnttab_map_frame(struct gnttab *gt, unsigned int idx, xen_pfn_t gfn,
                     void **frame);

/* gnttab_frames_fd — memfd holding the maximum number of shared frames. */
int gnttab_frames_fd(const struct gnttab *gt);

/*
 * gnttab_map — GNTTABOP_map_grant_ref by the owner of lgt (the mapper) of
 * grant ref of the domain owning rgt (the granter), whose memory rmem
 * reaches.  flags: GNTMAP_host_map [| GNTMAP_readonly]; device_map,
 * application_map and contains_pte are refused as for an HVM mapper.
 * On GNTST_okay: *handle (a maptrack index of lgt) and *host_ptr (the
 * granted frame, GNTTAB_FRAME_SIZE bytes); the entry has GTF_reading and,
 * for a writable map, GTF_writing set until the last such pin goes.
 * Returns (in Xen's order of checks, map_grant_ref()):
 *   GNTST_bad_gntref      no GNTMAP_host_map/device_map in flags
 *   GNTST_general_error   device/application/pte map by an HVM domain
 *   GNTST_bad_domain      rgt is NULL
 *   GNTST_no_space        lgt's maptrack is full
 *   GNTST_bad_gntref      ref >= entries in rgt's current frames
 *   GNTST_general_error   entry pinned by another domain, 128 pins of that
 *                         kind, entry not GTF_permit_access (or sub_page),
 *                         domid not the mapper, write map of a GTF_readonly
 *                         entry, entry changing under five cmpxchgs
 *   GNTST_bad_page        rmem has no (writable) frame at the entry's gfn
 */
int gnttab_map(struct gnttab *lgt, struct gnttab *rgt,
               const struct gnttab_mem_ops *rmem, grant_ref_t ref,
               uint32_t flags, grant_handle_t *handle, void **host_ptr);

/*
 * gnttab_unmap — GNTTABOP_unmap_grant_ref of lgt's mapping handle (the
 * whole mapping: host address checks are the caller's).  Returns
 * GNTST_okay or GNTST_bad_handle (never issued, or already unmapped).
 * Follows unmap_common() + unmap_common_complete().
 */
int gnttab_unmap(struct gnttab *lgt, grant_handle_t handle);

/*
 * gnttab_copy — one GNTTABOP_copy element op, issued by the owner of lgt.
 * For each side (source, dest): sgt/dgt is the table of op->*.domid as the
 * caller looked it up (DOMID_SELF → the caller's own table, NULL: no such
 * domain) and smem/dmem that domain's memory.  A side without
 * GNTCOPY_*_gref names a gfn of the caller and must say DOMID_SELF.
 * Grant sides are pinned (GTF_reading, dest also GTF_writing) only for the
 * copy.  op->status is not written.  Returns (gnttab_copy_one() order):
 *   GNTST_permission_denied  a frame side whose domid is not DOMID_SELF
 *   GNTST_bad_domain         sgt/dgt NULL
 *   source, then dest:       statuses of acquire_grant_for_copy() —
 *       GNTST_bad_gntref (ref out of range), GNTST_general_error (as for
 *       gnttab_map; a GTF_readonly dest), GNTST_bad_page (no such frame)
 *   GNTST_bad_copy_arg       offset + len > GNTTAB_FRAME_SIZE on a side
 */
int gnttab_copy(struct gnttab *lgt, const struct gnttab_copy *op,
                struct gnttab *sgt, const struct gnttab_mem_ops *smem,
                struct gnttab *dgt, const struct gnttab_mem_ops *dmem);

/*
 * gnttab_query_size — GNTTABOP_query_size: *nr_frames and *max_nr_frames
 * (shared frames) of gt.  Returns GNTST_okay, GNTST_bad_domain (gt NULL).
 */
int gnttab_query_size(struct gnttab *gt, uint32_t *nr_frames,
                      uint32_t *max_nr_frames);

/*
 * gnttab_setup_table — GNTTABOP_setup_table: grow gt to nr_frames shared
 * frames and write their gfns (GNTTAB_INVALID_GFN where the guest has not
 * mapped the frame) to frame_list[0..nr_frames).  Returns GNTST_okay,
 * GNTST_bad_domain (gt NULL), GNTST_general_error (nr_frames > maximum or
 * no memory).  Follows gnttab_setup_table().
 */
int gnttab_setup_table(struct gnttab *gt, uint32_t nr_frames,
                       xen_pfn_t *frame_list);

/*
 * gnttab_set_version — GNTTABOP_set_version on the caller's own table.
 * *version: in, the version asked for; out, the version in force (always
 * written, as Xen does).  v2 is not offered (a table's max_version is 1, as
 * with Xen's "gnttab=max-ver:1"), so: 1 → 0; 2 → -XEN_ENOSYS; anything else
 * → -XEN_EINVAL.
 */
int gnttab_set_version(struct gnttab *gt, uint32_t *version);

/*
 * gnttab_get_version — GNTTABOP_get_version: *version of gt.  Returns 0 or
 * -XEN_ESRCH (gt NULL).
 */
int gnttab_get_version(struct gnttab *gt, uint32_t *version);

/*
 * gnttab_cache_flush — GNTTABOP_cache_flush for one element: validation
 * only, as x86 has coherent caches.  Returns -XEN_EINVAL when offset or
 * length reach past the page or op has bits other than GNTTAB_CACHE_CLEAN |
 * GNTTAB_CACHE_INVAL (GNTTAB_CACHE_SOURCE_GREF too: Xen tests the mask
 * first), else 0.  Follows _cache_flush() up to the address lookup.
 */
int gnttab_cache_flush(const struct gnttab_cache_flush *op);

#endif
