/*
 * pvclock.h — Xen's paravirtual clock (struct vcpu_time_info in
 * <xen/xen.h>): a guest computes
 *     system_time + scale(tsc - tsc_timestamp)
 * where scale(d) = ((shift >= 0 ? d << shift : d >> -shift) * mul) >> 32,
 * and must see `version` odd while the record is being updated.
 */
#ifndef XENHV_PVCLOCK_H
#define XENHV_PVCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <xen/xen.h>

struct pvclock_scale {
    uint32_t mul; /* tsc_to_system_mul, 32.32 fixed point ns per shifted tick */
    int8_t shift; /* tsc_shift */
};

/*
 * pvclock_scale_from_hz — mul/shift converting ticks of a tsc_hz clock to ns.
 * Picks the shift that keeps mul in [2^31, 2^32) (best precision), as Xen's
 * set_time_scale does.  tsc_hz must be > 0 (0 yields mul = 0).
 */
void pvclock_scale_from_hz(uint64_t tsc_hz, struct pvclock_scale *s);

/* pvclock_scale_delta — ns for delta ticks, the guest's formula exactly. */
uint64_t pvclock_scale_delta(uint64_t delta, const struct pvclock_scale *s);

/*
 * pvclock_write — update a guest-visible vcpu_time_info:
 * version++ (odd), write barrier, tsc_timestamp = tsc, system_time = ns,
 * mul/shift, flags (XEN_PVCLOCK_TSC_STABLE_BIT iff stable), write barrier,
 * version++ (even).
 */
void pvclock_write(volatile struct vcpu_time_info *t, uint64_t tsc,
                   uint64_t system_ns, const struct pvclock_scale *s,
                   bool stable);

/*
 * pvclock_read — the reader's side (retry while version is odd or
 * changed): system time in ns at TSC value tsc.
 */
uint64_t pvclock_read(const volatile struct vcpu_time_info *t, uint64_t tsc);

#endif
