/*
 * gnttab_priv.h — internals of gnttab.c that its unit test inspects.
 * Not for xen-hv: its code uses gnttab.h only.
 */
#ifndef XENHV_GNTTAB_PRIV_H
#define XENHV_GNTTAB_PRIV_H

#include <stdint.h>

#include "gnttab.h"

/*
 * Pin counts of an active entry, as Xen's act->pin: four 8-bit counters
 * (host write, host read, device write, device read) in one word, so that
 * "pinned at all" is one test.  Device pins are never taken here (an HVM
 * mapper may not device_map) but keep Xen's layout and overflow rule.
 */
#define GNTTAB_PIN_HSTW    (1u << 0)
#define GNTTAB_PIN_HSTR    (1u << 8)
#define GNTTAB_PIN_DEVW    (1u << 16)
#define GNTTAB_PIN_DEVR    (1u << 24)
#define GNTTAB_PIN_MASK(c) ((c)*0xffu)
/* A counter at 128 or more refuses further pins of its kind. */
#define GNTTAB_PIN_OFLOW(incs) ((incs) << 7)

/* gnttab_active_pin — the pin word of rgt's entry ref (0 when unused). */
uint32_t gnttab_active_pin(struct gnttab *gt, grant_ref_t ref);

#ifdef XENHV_UNIT_TEST
/*
 * Called in the compare-exchange loops after the shared entry was read and
 * before it is updated, so a test can act as a granter racing the update.
 */
extern void (*gnttab_test_race_hook)(grant_entry_v1_t *ent);
#endif

#endif
