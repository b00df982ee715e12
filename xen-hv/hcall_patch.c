/*
 * hcall_patch.c — rewrite Linux's vmcall/vmmcall hypercall pair
 * (hcall_patch.h).  Pure: works on a byte buffer, no KVM.
 */
#include <errno.h>
#include <string.h>

#include "hcall_patch.h"

#define PAIR_DISTANCE 16 /* each function is 16-byte aligned and < 16 bytes */

enum site_kind { SITE_NONE, SITE_AMD, SITE_INTEL };

/*
 * site_tail — check what follows a 3-byte hypercall instruction at off:
 * an optional `pop %rbp`, then `ret` or `jmp rel32`.  Returns 0 when it is
 * not such a tail, 1 for ret, 2 for jmp (with its absolute target, as an
 * offset into buf, in *target).
 */
static int site_tail(const uint8_t *buf, size_t len, size_t off,
                     int64_t *target)
{
    size_t p = off + 3;
    int32_t rel;

    if (p < len && buf[p] == 0x5d) /* pop %rbp: FRAME_END */
        p++;
    if (p >= len)
        return 0;
    if (buf[p] == 0xc3)
        return 1;
    if (buf[p] != 0xe9 || len - p < 5)
        return 0;
    memcpy(&rel, buf + p + 1, sizeof(rel));
    *target = (int64_t)(p + 5) + rel;
    return 2;
}

static enum site_kind site_kind_at(const uint8_t *buf, size_t len, size_t off)
{
    if (len - off < 3 || buf[off] != 0x0f || buf[off + 1] != 0x01)
        return SITE_NONE;
    if (buf[off + 2] == 0xd9)
        return SITE_AMD;
    if (buf[off + 2] == 0xc1)
        return SITE_INTEL;
    return SITE_NONE;
}

/* The two sites at a and b (b = a + 16) form a pair: one of each kind,
 * the same kind of tail, the same jump target. */
static int is_pair(const uint8_t *buf, size_t len, size_t a, size_t b)
{
    enum site_kind ka = site_kind_at(buf, len, a);
    enum site_kind kb = site_kind_at(buf, len, b);
    int64_t ta = -1, tb = -2;
    int tail_a, tail_b;

    if (ka == SITE_NONE || kb == SITE_NONE || ka == kb)
        return 0;
    tail_a = site_tail(buf, len, a, &ta);
    tail_b = site_tail(buf, len, b, &tb);
    if (!tail_a || tail_a != tail_b)
        return 0;
    return tail_a == 1 || ta == tb;
}

int hcall_patch_scan(uint8_t *buf, size_t len, int apply,
                     struct hcall_patch_result *res)
{
    static const uint8_t trap[3] = {0xe6, XENHV_HCALL_EAX_PORT, 0x90};
    size_t a;

    memset(res, 0, sizeof(*res));
    if (len < PAIR_DISTANCE + 4)
        return 0;
    for (a = 0; a + PAIR_DISTANCE + 3 <= len; a++) {
        size_t b;
        /* memchr: the scan covers a whole kernel image (tens of MiB) */
        const uint8_t *p =
            memchr(buf + a, 0x0f, len - PAIR_DISTANCE - 3 - a + 1);

        if (!p)
            break;
        a = (size_t)(p - buf);
        b = a + PAIR_DISTANCE;
        if (!is_pair(buf, len, a, b))
            continue;
        if (res->nr_pairs == HCALL_PATCH_MAX)
            return -E2BIG;
        if (site_kind_at(buf, len, a) == SITE_AMD) {
            res->amd_off[res->nr_pairs] = a;
            res->intel_off[res->nr_pairs] = b;
        } else {
            res->amd_off[res->nr_pairs] = b;
            res->intel_off[res->nr_pairs] = a;
        }
        res->nr_pairs++;
        a = b + 2; /* the pair's bytes are consumed */
    }
    if (apply) {
        for (unsigned int i = 0; i < res->nr_pairs; i++) {
            memcpy(buf + res->amd_off[i], trap, sizeof(trap));
            memcpy(buf + res->intel_off[i], trap, sizeof(trap));
        }
    }
    return (int)res->nr_pairs;
}
