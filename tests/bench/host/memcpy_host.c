/*
 * memcpy_host — the host-side reference for the GNTTABOP_copy benchmark:
 * memcpy of 4 KiB pages, 1 MiB per round as the guest bench copies, best
 * of ROUNDS rounds.  Prints `host_memcpy_gib_s=<f>`.  (The guest's own
 * memcpy is no reference on hosts that emulate guest ring 0.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BYTES  (1u << 20)
#define ROUNDS 50

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
    uint8_t *src = aligned_alloc(4096, BYTES), *dst = aligned_alloc(4096, BYTES);
    double best = 1e9;

    if (!src || !dst)
        return 1;
    memset(src, 0x5a, BYTES);
    memset(dst, 0, BYTES);
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now();
        for (unsigned int off = 0; off < BYTES; off += 4096)
            memcpy(dst + off, src + off, 4096);
        __asm__ volatile("" : : "r"(dst) : "memory");
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    printf("host_memcpy_gib_s=%.6f\n", (double)BYTES / best / (1u << 30));
    free(src);
    free(dst);
    return 0;
}
