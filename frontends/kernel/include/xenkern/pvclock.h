/*
 * pvclock.h — Xen system time and wallclock.
 *
 * System time is read from a struct vcpu_time_info (<xen/xen.h>): the
 * hypervisor publishes (tsc_timestamp, system_time, tsc_to_system_mul,
 * tsc_shift); the guest reads under the odd/even `version` protocol and
 * extrapolates with its own rdtsc.  The wallclock is shared_info's
 * wc_sec, wc_nsec (time of system time 0) plus system time.
 */
#ifndef XENKERN_PVCLOCK_H
#define XENKERN_PVCLOCK_H

#include <stdint.h>

#include <xen/xen.h>

/*
 * pvclock_read — system time in ns from t.  Retries while the version is
 * odd or changed across the read.  flags (may be NULL) receives
 * t->flags of the consistent snapshot (XEN_PVCLOCK_TSC_STABLE_BIT).
 */
uint64_t pvclock_read(const volatile struct vcpu_time_info *t, uint8_t *flags);

/*
 * pvclock_scale — (delta << shift or >> -shift) * mul / 2^32 computed as
 * a 64x32 -> 96-bit product in general registers (no FPU, no __int128).
 */
uint64_t pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift);

/*
 * time_now_ns — system time (ns since the domain started) from this
 * CPU's vcpu_info.  Without Xen: TSC ticks, taken as ns (timeouts only).
 */
uint64_t time_now_ns(void);

/* time_spin_ns — busy-wait at least ns nanoseconds of system time. */
void time_spin_ns(uint64_t ns);

/*
 * wallclock_read — Unix time now: shared_info wc_sec (+ wc_sec_hi << 32)
 * and wc_nsec read under wc_version, plus system time.  Returns 0 and
 * fills sec and nsec, or -XEN_ENODEV without shared_info.
 */
int wallclock_read(uint64_t *sec, uint32_t *nsec);

#endif
