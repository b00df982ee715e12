/*
 * gnttab.h — the guest's grant-table client, v1 entries
 * (<xen/grant_table.h>, grant_entry_v1_t).
 *
 * gnttab_init() maps GNTTAB_CLIENT_FRAMES frames of the domain's grant
 * table with XENMEM_add_to_physmap(XENMAPSPACE_grant_table) into pages of
 * this image; refs below GNTTAB_NR_RESERVED_ENTRIES are left alone (the
 * toolstack uses them for xenstore and the console).  Granting fills an
 * entry in Xen's order (domid and frame first, then flags after a write
 * barrier); ending access clears the flags with compare-exchange and
 * refuses while the peer has the page mapped or is copying
 * (GTF_reading/GTF_writing), so a page is never reused under a mapper.
 *
 * Functions return >= 0 or a negative Xen errno.
 */
#ifndef XENKERN_GNTTAB_H
#define XENKERN_GNTTAB_H

#include <stdint.h>
#include <xen/xen.h>
#include <xen/grant_table.h>

#define GNTTAB_CLIENT_FRAMES       4
#define GNTTAB_ENTRIES_PER_FRAME   (4096 / sizeof(grant_entry_v1_t))
#define GNTTAB_NR_RESERVED_ENTRIES 8

/* gnttab_init — map the frames and build the free list; 0 or -errno. */
int gnttab_init(void);

/*
 * gnttab_grant_access — let domid access guest frame gfn (read-only when
 * readonly).  Returns the grant ref, or -XEN_ENOSPC when none is free.
 */
int gnttab_grant_access(domid_t domid, uint64_t gfn, int readonly);

/*
 * gnttab_end_access — revoke ref and free it.  Returns 0, -XEN_EBUSY while
 * the peer uses it (the entry stays granted), -XEN_EINVAL for a bad ref.
 */
int gnttab_end_access(grant_ref_t ref);

/* gnttab_entry — the shared entry of ref (NULL if out of range). */
grant_entry_v1_t *gnttab_entry(grant_ref_t ref);

/* gnttab_free_count — refs on the free list. */
unsigned int gnttab_free_count(void);

#endif
