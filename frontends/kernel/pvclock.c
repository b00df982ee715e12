/* pvclock.c — system time and wallclock (pvclock.h). */
#include <stdint.h>
#include <stddef.h>
#include <xen/errno.h>

#include "xenkern/kernel.h"
#include "xenkern/pvclock.h"
#include "xenkern/shared.h"
#include "xenkern/smp.h"
#include "xenkern/x86.h"

uint64_t pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift)
{
    uint64_t lo, hi;

    if (shift < 0)
        delta >>= -shift;
    else
        delta <<= shift;
    /* (delta * mul) >> 32 with delta split in 32-bit halves: 96 bits. */
    lo = ((delta & 0xffffffffULL) * mul) >> 32;
    hi = (delta >> 32) * mul;
    return hi + lo;
}

uint64_t pvclock_read(const volatile struct vcpu_time_info *t, uint8_t *flags)
{
    uint32_t version;
    uint64_t ns;
    uint8_t f;

    do {
        version = t->version;
        smp_rmb();
        uint64_t tsc = rdtsc();
        uint64_t stamp = t->tsc_timestamp;
        ns = t->system_time +
             pvclock_scale(tsc - stamp, t->tsc_to_system_mul, t->tsc_shift);
        f = t->flags;
        smp_rmb();
    } while ((version & 1) || version != t->version);
    if (flags)
        *flags = f;
    return ns;
}

uint64_t time_now_ns(void)
{
    struct vcpu_info *vi = xen_present ? vcpu_info_of(smp_id()) : NULL;

    if (!vi)
        return rdtsc();
    return pvclock_read(&vi->time, NULL);
}

void time_spin_ns(uint64_t ns)
{
    uint64_t end = time_now_ns() + ns;

    while (time_now_ns() < end)
        cpu_relax();
}

int wallclock_read(uint64_t *sec, uint32_t *nsec)
{
    volatile struct shared_info *s = shared_info;
    uint32_t version, wc_nsec;
    uint64_t wc_sec, now, ns;

    if (!s)
        return -XEN_ENODEV;
    do {
        version = s->wc_version;
        smp_rmb();
        wc_sec = s->wc_sec | ((uint64_t)s->wc_sec_hi << 32);
        wc_nsec = s->wc_nsec;
        smp_rmb();
    } while ((version & 1) || version != s->wc_version);
    now = time_now_ns();
    ns = (uint64_t)wc_nsec + now % 1000000000ULL;
    *sec = wc_sec + now / 1000000000ULL + ns / 1000000000ULL;
    *nsec = (uint32_t)(ns % 1000000000ULL);
    return 0;
}
