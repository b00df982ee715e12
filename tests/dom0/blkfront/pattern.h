/*
 * pattern.h — the blkfront test's workload, shared by the guest (which
 * runs it) and the dom0 program (which replays it to know what the image
 * file must hold).  Header-only, freestanding (stdint only).
 *
 * The workload is a list of writes and discards over a device of
 * BF_SECTORS 512-byte sectors, drawn from a seeded xorshift generator;
 * the data of write k is bf_fill()'s.  Discards are 64 KiB aligned so that any
 * discard-granularity up to that gives zeroes over the whole range.
 */
#ifndef TESTS_DOM0_BLKFRONT_PATTERN_H
#define TESTS_DOM0_BLKFRONT_PATTERN_H

#include <stdint.h>

#define BF_SECTORS       4096 /* the image: 2 MiB */
#define BF_NR_OPS        40
#define BF_DISCARD_ALIGN 128 /* sectors: 64 KiB */

enum { BF_WRITE, BF_DISCARD };

struct bf_op {
    int kind;
    uint32_t sector;
    uint32_t nsec;
};

static inline uint64_t bf_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/*
 * Word w (0..63) of sector s written by op k: a per-sector hash plus an
 * odd step per word, so filling costs an add per word (the guest runs
 * emulated).
 */
static inline uint64_t bf_word(uint64_t seed, unsigned int k, uint64_t s,
                               unsigned int w)
{
    return (seed ^ ((uint64_t)k << 48) ^ (s << 8)) * 0x9e3779b97f4a7c15ULL +
           w * 0xd1b54a32d192ed03ULL;
}

/*
 * The op list: fixed sizes around the protocol's limits first (1 sector,
 * 7, one page, 11 pages = the direct maximum, 12 pages = the first that
 * needs an indirect request, 32 pages, 300 sectors = two requests), at
 * odd offsets, then random sizes and offsets; every 8th op a discard.
 */
static inline void bf_ops(uint64_t seed, struct bf_op *ops)
{
    static const uint32_t fixed[] = {1, 7, 8, 88, 89, 96, 256, 300};
    uint64_t x = seed | 1;

    for (unsigned int k = 0; k < BF_NR_OPS; k++) {
        uint32_t n;

        if (k % 8 == 7) {
            uint32_t blocks = 1 + (uint32_t)(bf_next(&x) % 4);

            n = blocks * BF_DISCARD_ALIGN;
            ops[k].kind = BF_DISCARD;
            ops[k].nsec = n;
            ops[k].sector = (uint32_t)(bf_next(&x) %
                                       ((BF_SECTORS - n) / BF_DISCARD_ALIGN)) *
                            BF_DISCARD_ALIGN;
            continue;
        }
        n = k < sizeof(fixed) / sizeof(fixed[0])
                ? fixed[k]
                : 1 + (uint32_t)(bf_next(&x) % 320);
        ops[k].kind = BF_WRITE;
        ops[k].nsec = n;
        ops[k].sector = (uint32_t)(bf_next(&x) % (BF_SECTORS - n + 1));
    }
}

/*
 * BF_COPY_WORDS(dst, src, n) copies n 64-bit words; the guest defines it
 * as one string instruction (its per-word loops run emulated).
 */
#ifndef BF_COPY_WORDS
#define BF_COPY_WORDS(dst, src, n)                                             \
    do {                                                                       \
        for (unsigned int bf_i = 0; bf_i < (n); bf_i++)                        \
            (dst)[bf_i] = (src)[bf_i];                                         \
    } while (0)
#endif

/*
 * Fill buf with the data of write op k (ops[k]): word 0 of each sector is
 * bf_word(seed, k, sector, 0), unique per sector and op (a sector written
 * at the wrong place shows); words 1..63 are bf_word(seed, k,
 * op->sector, w), the same in every sector of the op.
 */
static inline void bf_fill(uint64_t seed, unsigned int k,
                           const struct bf_op *op, uint64_t *buf)
{
    uint64_t tmpl[64];

    for (unsigned int w = 1; w < 64; w++)
        tmpl[w] = bf_word(seed, k, op->sector, w);
    for (uint32_t i = 0; i < op->nsec; i++) {
        buf[i * 64] = bf_word(seed, k, op->sector + i, 0);
        BF_COPY_WORDS(&buf[i * 64 + 1], &tmpl[1], 63);
    }
}

#endif
