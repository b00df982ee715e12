/*
 * pvclock.c — the paravirtual clock record (pvclock.h), struct
 * vcpu_time_info of <xen/xen.h>.
 *
 * The scale uses the shift Xen 4.17's set_time_scale() (xen/arch/x86/
 * time.c) picks, so a guest sees the tsc_shift Xen would give it; mul is
 * then the exact quotient rounded to nearest (Xen truncates both the
 * shifted frequency and the quotient), which halves the drift.
 *
 * Ordering: the record is a seqlock.  x86 is TSO (stores are not reordered
 * with stores, loads not with loads), so the release/acquire fences below
 * compile to compiler barriers there, as smp_wmb()/smp_rmb() do in Xen and
 * Linux; on a weakly ordered host they become real fences.
 */
#include "pvclock.h"

#define NSEC_PER_SEC 1000000000ULL

#ifdef XENHV_UNIT_TEST
/*
 * Test seam: the unit test defines this to look at the record while an
 * update is in progress (stage 1: version bumped, stage 2: data written).
 */
void pvclock_test_hook(int stage, volatile struct vcpu_time_info *t);
#define PVCLOCK_TEST_HOOK(stage, t) pvclock_test_hook(stage, t)
#else
#define PVCLOCK_TEST_HOOK(stage, t) ((void)0)
#endif

void pvclock_scale_from_hz(uint64_t tsc_hz, struct pvclock_scale *s)
{
    uint64_t hz = tsc_hz;
    unsigned __int128 num, q;
    int shift = 0;

    s->mul = 0;
    s->shift = 0;
    if (tsc_hz == 0)
        return;

    /* Bring the frequency into (1 GHz, 2 GHz], as set_time_scale() does. */
    while (hz > 2 * NSEC_PER_SEC) {
        hz >>= 1;
        shift--;
    }
    while (hz <= NSEC_PER_SEC) {
        hz <<= 1;
        shift++;
    }

    /*
     * ns = ((d << shift) * mul) >> 32 with mul = 1e9 * 2^(32 - shift) /
     * tsc_hz.  shift is in [-34, 31] for any 64-bit tsc_hz, so the
     * numerator fits in 128 bits; rounded to nearest.
     */
    num = (unsigned __int128)NSEC_PER_SEC << (32 - shift);
    q = (num + tsc_hz / 2) / tsc_hz;
    /*
     * The true quotient is in (2^31 - 1, 2^32): the shifted frequency is
     * at most one dropped bit above 2 GHz, and above 1 GHz.  Rounding can
     * reach either end; keep mul in [2^31, 2^32).
     */
    if (q >= (1ULL << 32))
        q = (1ULL << 32) - 1;
    if (q < (1ULL << 31))
        q = 1ULL << 31;
    s->mul = (uint32_t)q;
    s->shift = (int8_t)shift;
}

uint64_t pvclock_scale_delta(uint64_t delta, const struct pvclock_scale *s)
{
    /* As Linux's pvclock_scale_delta(): 64-bit shift, 64x32 -> 96 bits. */
    if (s->shift < 0)
        delta >>= -s->shift;
    else
        delta <<= s->shift;
    return (uint64_t)(((unsigned __int128)delta * s->mul) >> 32);
}

void pvclock_write(volatile struct vcpu_time_info *t, uint64_t tsc,
                   uint64_t system_ns, const struct pvclock_scale *s,
                   bool stable)
{
    /*
     * The record lives in guest memory and the guest may have written
     * version: force it odd rather than trust its parity (Xen's
     * version_update_begin()).
     */
    uint32_t v = (t->version + 1) | 1;

    t->version = v;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    PVCLOCK_TEST_HOOK(1, t);
    t->tsc_timestamp = tsc;
    t->system_time = system_ns;
    t->tsc_to_system_mul = s->mul;
    t->tsc_shift = s->shift;
    t->flags = stable ? XEN_PVCLOCK_TSC_STABLE_BIT : 0;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    PVCLOCK_TEST_HOOK(2, t);
    t->version = v + 1;
}

uint64_t pvclock_read(const volatile struct vcpu_time_info *t, uint64_t tsc)
{
    struct pvclock_scale s;
    uint64_t stamp, sys;
    uint32_t v;

    do {
        v = t->version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        stamp = t->tsc_timestamp;
        sys = t->system_time;
        s.mul = t->tsc_to_system_mul;
        s.shift = t->tsc_shift;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((v & 1) || v != t->version);
    return sys + pvclock_scale_delta(tsc - stamp, &s);
}
