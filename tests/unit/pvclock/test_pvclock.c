/*
 * test_pvclock.c — unit tests of xen-hv/pvclock.c: the tsc->ns scale
 * against an exact 128-bit reference, the guest's formula, and the
 * vcpu_time_info seqlock (version odd while an update is in progress,
 * observed through the XENHV_UNIT_TEST hook and by a concurrent reader).
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "pvclock.h"
#include "tap.h"

#define NSEC_PER_SEC 1000000000ULL

/* ns = delta * 1e9 / hz, exactly (truncated). */
static uint64_t ref_ns(uint64_t delta, uint64_t hz)
{
    return (uint64_t)((unsigned __int128)delta * NSEC_PER_SEC / hz);
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 11;
}

/*
 * Max error over deltas up to one hour: at most 1 ns per second of delta,
 * and at most 1 ns (the formula's truncations) below one second.
 */
static void check_precision(uint64_t hz, const char *name)
{
    struct pvclock_scale s;
    uint64_t seed = hz, bad_delta = 0;
    uint64_t fixed[] = {0,        1,  7,      1000,    hz / 1000,
                        hz - 1,   hz, hz + 1, 60 * hz, 3599 * hz + hz / 3,
                        3600 * hz};
    const unsigned int nfixed = sizeof(fixed) / sizeof(fixed[0]);
    double worst_rate = 0; /* ns of error per second, deltas >= 1 s */
    bool in_tol = true;

    pvclock_scale_from_hz(hz, &s);
    ok(s.mul >= (1ULL << 31), "%s: mul %#x >= 2^31 (shift %d)", name, s.mul,
       s.shift);
    for (unsigned int i = 0; i < 20000 + nfixed; i++) {
        uint64_t d = i < nfixed ? fixed[i] : lcg(&seed) % (3600 * hz + 1);
        uint64_t exact = ref_ns(d, hz), got = pvclock_scale_delta(d, &s);
        uint64_t diff = got > exact ? got - exact : exact - got;
        uint64_t secs = exact / NSEC_PER_SEC;

        if (diff > (secs ? secs : 1)) {
            if (in_tol)
                bad_delta = d;
            in_tol = false;
        }
        if (secs && (double)diff / (double)secs > worst_rate)
            worst_rate = (double)diff / (double)secs;
    }
    if (!ok(in_tol,
            "%s: error <= 1 ns/s (<= 1 ns below 1 s) for deltas up to 1 h; "
            "worst %.3f ns/s",
            name, worst_rate))
        tap_diag("  at delta %llu: got %llu exact %llu",
                 (unsigned long long)bad_delta,
                 (unsigned long long)pvclock_scale_delta(bad_delta, &s),
                 (unsigned long long)ref_ns(bad_delta, hz));
}

static void test_scales(void)
{
    static const struct {
        uint64_t hz;
        int shift;
        uint32_t mul;
        const char *name;
    } t[] = {
        /*
         * mul = round(1e9 * 2^(32 - shift) / hz); Xen's set_time_scale()
         * truncates instead (4090445043 for 2.1 GHz, 3435973836 for 10 GHz).
         */
        {1000000000ULL, 1, 0x80000000u, "1 GHz"},
        {2100000000ULL, -1, 4090445044u, "2.1 GHz"},
        {3600000000ULL, -1, 2386092942u, "3.6 GHz"},
        {1800000000ULL, 0, 2386092942u, "1.8 GHz"},
        {100000000ULL, 4, 2684354560u, "100 MHz"},
        {10000000000ULL, -3, 3435973837u, "10 GHz"},
    };
    struct pvclock_scale s;

    for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        pvclock_scale_from_hz(t[i].hz, &s);
        is_int(s.shift, t[i].shift, t[i].name);
        is_u64(s.mul, t[i].mul, "  ... mul");
        check_precision(t[i].hz, t[i].name);
    }
    /* Awkward frequencies, including ones that lose a bit when halved. */
    check_precision(2899999999ULL, "2.899999999 GHz");
    check_precision(1000000001ULL, "1.000000001 GHz");
    check_precision(4000000001ULL, "4.000000001 GHz");
    check_precision(19200000ULL, "19.2 MHz");

    pvclock_scale_from_hz(0, &s);
    ok(s.mul == 0 && s.shift == 0, "0 Hz: mul 0, shift 0");
    pvclock_scale_from_hz(1, &s);
    ok(s.mul >= (1ULL << 31) && s.shift == 30, "1 Hz: shift 30, mul in range");
    pvclock_scale_from_hz(UINT64_MAX, &s);
    ok(s.mul >= (1ULL << 31) && s.shift == -34,
       "2^64-1 Hz: shift -34, mul in range");
}

static void test_formula(void)
{
    struct pvclock_scale s = {.mul = 0x80000000u, .shift = 1};

    is_u64(pvclock_scale_delta(12345, &s), 12345, "identity scale");
    s = (struct pvclock_scale){.mul = 0xffffffffu, .shift = -3};
    is_u64(pvclock_scale_delta(1ULL << 63, &s), (1ULL << 60) - (1ULL << 28),
           "96-bit product: (2^60 * (2^32 - 1)) >> 32");
    s = (struct pvclock_scale){.mul = 3u << 30, .shift = 2};
    is_u64(pvclock_scale_delta(1000, &s), 3000, "left shift then mul");
    s = (struct pvclock_scale){.mul = 0x80000000u, .shift = -1};
    is_u64(pvclock_scale_delta(7, &s), 1, "right shift truncates: (7>>1)/2");
    s = (struct pvclock_scale){.mul = 0x80000000u, .shift = 1};
    is_u64(pvclock_scale_delta(1ULL << 63, &s), 0,
           "64-bit left shift loses the top bit, as the guest's does");
}

/* Hook state: what the record looked like at each stage of the write. */
static struct {
    unsigned int calls;
    uint32_t version[3];
    uint64_t system_time[3];
    uint8_t flags[3];
} hk;

void pvclock_test_hook(int stage, volatile struct vcpu_time_info *t);
void pvclock_test_hook(int stage, volatile struct vcpu_time_info *t)
{
    hk.calls++;
    if (stage >= 1 && stage <= 2) {
        hk.version[stage] = t->version;
        hk.system_time[stage] = t->system_time;
        hk.flags[stage] = t->flags;
    }
}

static void test_write_read(void)
{
    struct vcpu_time_info t;
    struct pvclock_scale s;
    const uint64_t hz = 2100000000ULL;

    memset(&t, 0, sizeof(t));
    pvclock_scale_from_hz(hz, &s);
    memset(&hk, 0, sizeof(hk));
    pvclock_write(&t, 1000, 5 * NSEC_PER_SEC, &s, true);
    is_int(hk.calls, 2, "hook ran at both stages");
    is_u64(hk.version[1], 1, "stage 1 (before data): version 1, odd");
    is_u64(hk.system_time[1], 0, "stage 1: data not yet written");
    is_u64(hk.version[2], 1, "stage 2 (data written): version still odd");
    is_u64(hk.system_time[2], 5 * NSEC_PER_SEC, "stage 2: data written");
    is_u64(t.version, 2, "after write: version 2, even");
    is_u64(t.tsc_timestamp, 1000, "tsc_timestamp");
    is_u64(t.system_time, 5 * NSEC_PER_SEC, "system_time");
    is_u64(t.tsc_to_system_mul, s.mul, "tsc_to_system_mul");
    is_int(t.tsc_shift, s.shift, "tsc_shift");
    is_int(t.flags, XEN_PVCLOCK_TSC_STABLE_BIT, "flags: TSC_STABLE");
    is_u64(pvclock_read(&t, 1000), 5 * NSEC_PER_SEC, "read at tsc_timestamp");
    is_u64(pvclock_read(&t, 1000 + hz), 6 * NSEC_PER_SEC,
           "read one second of ticks later");
    {
        uint64_t r = pvclock_read(&t, 1000 + 3600 * hz);
        uint64_t want = 3605 * NSEC_PER_SEC;
        uint64_t diff = r > want ? r - want : want - r;

        ok(diff <= 3600, "read one hour of ticks later: %llu ns off (<= 3600)",
           (unsigned long long)diff);
    }

    pvclock_write(&t, 2000, 7, &s, false);
    is_u64(t.version, 4, "second write: version 4");
    is_int(t.flags, 0, "flags: not stable");
    is_u64(hk.version[1], 3, "second write: odd (3) in progress");

    /* A guest may have scribbled an odd version: still odd, then even. */
    t.version = 7;
    pvclock_write(&t, 0, 0, &s, false);
    ok(hk.version[1] % 2 == 1 && hk.version[1] > 7,
       "guest-written odd version 7: odd (%u) during the update",
       hk.version[1]);
    ok(t.version % 2 == 0 && t.version > hk.version[1],
       "guest-written odd version 7: even (%u) after", t.version);
    t.version = UINT32_MAX - 1;
    pvclock_write(&t, 0, 0, &s, false);
    ok(hk.version[1] == UINT32_MAX && t.version == 0,
       "version wraps: 0xfffffffe -> 0xffffffff (odd) -> 0");
}

/*
 * Seqlock under concurrency: a writer publishes k with system_time =
 * 1000 k and tsc_timestamp = k on an identity scale; a reader at TSC 2^40
 * gets 2^40 + 999 k.  A torn record (system_time from one k, the stamp
 * from another) is not of that form when the two differ by less than 999.
 */
static volatile struct vcpu_time_info shared_t;
static volatile int stop_writer;

static void *writer(void *arg)
{
    const struct pvclock_scale id = {.mul = 0x80000000u, .shift = 1};

    for (uint64_t k = 1; !stop_writer; k++)
        pvclock_write(&shared_t, k, 1000 * k, &id, true);
    return arg;
}

static void test_concurrent(void)
{
    const struct pvclock_scale id = {.mul = 0x80000000u, .shift = 1};
    uint64_t torn = 0, backwards = 0, prev = 0;
    pthread_t th;
    const int reads = 300000;

    pvclock_write(&shared_t, 0, 0, &id, true);
    stop_writer = 0;
    if (pthread_create(&th, NULL, writer, NULL) != 0) {
        tap_skip(1, "pthread_create failed");
        return;
    }
    for (int i = 0; i < reads; i++) {
        uint64_t r = pvclock_read(&shared_t, 1ULL << 40) - (1ULL << 40);

        if (r % 999 != 0)
            torn++;
        else if (r / 999 < prev)
            backwards++;
        else
            prev = r / 999;
    }
    stop_writer = 1;
    pthread_join(th, NULL);
    ok(torn == 0 && backwards == 0,
       "%d reads during concurrent writes: %llu torn, %llu backwards", reads,
       (unsigned long long)torn, (unsigned long long)backwards);
}

int main(void)
{
    test_scales();
    test_formula();
    test_write_read();
    test_concurrent();
    return tap_done();
}
