/*
 * test_hcall_patch.c — unit tests of xen-hv/hcall_patch.c: which byte
 * patterns are Linux's xen_hypercall_amd/_intel pair (rewritten to
 * `out %al, $0xe6; nop`) and which are not (KVM's inline vmcalls, lookalikes
 * with other tails or targets), and, when the lab has extracted Debian's
 * vmlinux (build/lab/l2/vmlinux), that exactly one pair is found in it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hcall_patch.h"
#include "tap.h"

static const uint8_t VMMCALL[3] = {0x0f, 0x01, 0xd9};
static const uint8_t VMCALL[3] = {0x0f, 0x01, 0xc1};
static const uint8_t TRAP[3] = {0xe6, 0xe6, 0x90};

static uint8_t buf[4096];

/* put_site: instruction ins at off, then an optional pop %rbp, then `ret`
 * (target < 0) or `jmp target` (an offset into buf). */
static void put_site(size_t off, const uint8_t *ins, int pop, long target)
{
    size_t p = off + 3;

    memcpy(buf + off, ins, 3);
    if (pop)
        buf[p++] = 0x5d;
    if (target < 0) {
        buf[p] = 0xc3;
    } else {
        int32_t rel = (int32_t)(target - (long)(p + 5));
        buf[p] = 0xe9;
        memcpy(buf + p + 1, &rel, 4);
    }
}

static void fill(void)
{
    memset(buf, 0xcc, sizeof(buf)); /* int3 padding, as in a kernel */
}

int main(void)
{
    struct hcall_patch_result res;
    uint8_t copy[sizeof(buf)];
    int n;

    tap_plan(19);

    /* 1. Debian 6.1's shape: amd at 0x100, intel at 0x110, both jmp to the
     * return thunk. */
    fill();
    put_site(0x100, VMMCALL, 0, 0x800);
    put_site(0x110, VMCALL, 0, 0x800);
    memcpy(copy, buf, sizeof(buf));
    n = hcall_patch_scan(buf, sizeof(buf), 0, &res);
    is_int(n, 1, "jmp-thunk pair found");
    ok(!memcmp(copy, buf, sizeof(buf)), "apply=0 leaves the bytes alone");
    n = hcall_patch_scan(buf, sizeof(buf), 1, &res);
    ok(n == 1 && res.amd_off[0] == 0x100 && res.intel_off[0] == 0x110,
       "offsets of vmmcall 0x100 and vmcall 0x110 reported");
    ok(!memcmp(buf + 0x100, TRAP, 3) && !memcmp(buf + 0x110, TRAP, 3),
       "both rewritten to out %%al,$0xe6; nop");
    ok(!memcmp(buf + 0x103, copy + 0x103, 5) &&
           !memcmp(buf + 0x113, copy + 0x113, 5),
       "the jmp tails are untouched");
    is_int(hcall_patch_scan(buf, sizeof(buf), 1, &res), 0,
           "a patched image has no pair left (idempotent)");

    /* 2. ret endings, and frame-pointer builds (pop %rbp before ret). */
    fill();
    put_site(0x200, VMMCALL, 0, -1);
    put_site(0x210, VMCALL, 0, -1);
    is_int(hcall_patch_scan(buf, sizeof(buf), 1, &res), 1, "ret pair found");
    fill();
    put_site(0x200, VMMCALL, 1, -1);
    put_site(0x210, VMCALL, 1, -1);
    is_int(hcall_patch_scan(buf, sizeof(buf), 1, &res), 1,
           "pop %rbp; ret pair found");

    /* 3. intel first, amd 16 bytes later. */
    fill();
    put_site(0x300, VMCALL, 0, 0x900);
    put_site(0x310, VMMCALL, 0, 0x900);
    n = hcall_patch_scan(buf, sizeof(buf), 1, &res);
    ok(n == 1 && res.amd_off[0] == 0x310 && res.intel_off[0] == 0x300,
       "reversed order: amd and intel told apart");

    /* 4. Not a pair: lone sites (KVM's inline kvm_hypercall), different
     * jump targets, mixed tails, same kind twice, wrong distance. */
    fill();
    put_site(0x100, VMMCALL, 0, 0x800);
    put_site(0x400, VMCALL, 0, 0x800);
    memcpy(copy, buf, sizeof(buf));
    is_int(hcall_patch_scan(buf, sizeof(buf), 1, &res), 0,
           "sites 0x300 apart are not a pair");
    ok(!memcmp(copy, buf, sizeof(buf)), "and nothing was written");
    fill();
    put_site(0x100, VMMCALL, 0, 0x800);
    put_site(0x110, VMCALL, 0, 0x808);
    is_int(hcall_patch_scan(buf, sizeof(buf), 1, &res), 0,
           "jumps to different targets: not a pair");
    fill();
    put_site(0x100, VMMCALL, 0, -1);
    put_site(0x110, VMCALL, 0, 0x800);
    is_int(hcall_patch_scan(buf, sizeof(buf), 1, &res), 0,
           "ret and jmp tails: not a pair");
    fill();
    put_site(0x100, VMMCALL, 0, -1);
    put_site(0x110, VMMCALL, 0, -1);
    is_int(hcall_patch_scan(buf, sizeof(buf), 1, &res), 0,
           "two vmmcalls: not a pair");
    fill();
    memcpy(buf + 0x100, VMMCALL, 3); /* vmmcall; pop %rbx; jmp: KVM inline */
    buf[0x103] = 0x5b;
    put_site(0x110, VMCALL, 0, -1);
    is_int(hcall_patch_scan(buf, sizeof(buf), 1, &res), 0,
           "a site followed by other code: not a pair");

    /* 5. Edges: a pair cut by the end of the buffer, too many pairs. */
    fill();
    put_site(sizeof(buf) - 24, VMMCALL, 0, -1);
    memcpy(buf + sizeof(buf) - 8, VMCALL, 3); /* its ret would be at -5 */
    buf[sizeof(buf) - 5] = 0xc3;
    is_int(hcall_patch_scan(buf, sizeof(buf) - 5, 1, &res), 0,
           "a tail past the end of the buffer is not read");
    fill();
    for (int i = 0; i <= HCALL_PATCH_MAX; i++) {
        put_site(0x40 * i, VMMCALL, 0, -1);
        put_site(0x40 * i + 16, VMCALL, 0, -1);
    }
    memcpy(copy, buf, sizeof(buf));
    is_int(hcall_patch_scan(buf, sizeof(buf), 1, &res), -E2BIG,
           "more than HCALL_PATCH_MAX pairs: -E2BIG");
    ok(!memcmp(copy, buf, sizeof(buf)), "and nothing was written");

    /* 6. Debian's own kernel, when the lab has it. */
    {
        FILE *f = fopen(XEN_ROOT "/build/lab/l2/vmlinux", "rb");
        uint8_t *img = NULL;
        long len = 0;

        if (f && !fseek(f, 0, SEEK_END) && (len = ftell(f)) > 0 &&
            !fseek(f, 0, SEEK_SET) && (img = malloc((size_t)len)) &&
            fread(img, 1, (size_t)len, f) == (size_t)len) {
            n = hcall_patch_scan(img, (size_t)len, 1, &res);
            ok(n == 1 && img[res.amd_off[0]] == 0xe6,
               "Debian's vmlinux: exactly one pair (%d), rewritten", n);
        } else {
            tap_skip(1, "build/lab/l2/vmlinux not extracted (the lab builds "
                        "it: tests/lab/build-lab.sh)");
        }
        free(img);
        if (f)
            fclose(f);
    }
    return tap_done();
}
