/*
 * test_xen_cpuid.c — unit tests of xen-hv/xen_cpuid.c: every register of
 * Xen's hypervisor leaves as Xen 4.17's cpuid_hypervisor_leaves() gives
 * them to an HVM guest, and the per-vCPU table built from a made-up
 * KVM_GET_SUPPORTED_CPUID list.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/arch-x86/cpuid.h>

#include "xen_cpuid.h"
#include "tap.h"

#define CAP 64

static const struct xen_cpuid_params base_params = {
    .vcpu_id = 3,
    .domid = 7,
    .tsc_khz = 2100000,
    .tsc_mul = 0xf3cf3cf4,
    .tsc_shift = -1,
    .x2apic = true,
};

static void expect_leaf(uint32_t leaf, uint32_t sub,
                        const struct xen_cpuid_params *p, uint32_t a,
                        uint32_t b, uint32_t c, uint32_t d, const char *name)
{
    uint32_t out[4] = {0xdeadbeef, 0xdeadbeef, 0xdeadbeef, 0xdeadbeef};
    bool r = xen_cpuid_leaf(leaf, sub, p, out);

    if (!ok(r && out[0] == a && out[1] == b && out[2] == c && out[3] == d,
            "leaf %#x.%u: %s", leaf, sub, name))
        tap_diag("  got %d {%#x, %#x, %#x, %#x}, want {%#x, %#x, %#x, %#x}", r,
                 out[0], out[1], out[2], out[3], a, b, c, d);
}

static void test_leaves(void)
{
    struct xen_cpuid_params p = base_params;
    uint32_t out[4];
    char sig[13];

    expect_leaf(0x40000000, 0, &p, 0x40000005, 0x566e6558, 0x65584d4d,
                0x4d4d566e, "max leaf 0x40000005 and signature");
    xen_cpuid_leaf(0x40000000, 0, &p, out);
    memcpy(sig, &out[1], 4);
    memcpy(sig + 4, &out[2], 4);
    memcpy(sig + 8, &out[3], 4);
    sig[12] = '\0';
    is_str(sig, "XenVMMXenVMM", "ebx:ecx:edx spell XenVMMXenVMM");
    expect_leaf(0x40000000, 5, &p, 0x40000005, 0x566e6558, 0x65584d4d,
                0x4d4d566e, "sub-leaf ignored");

    expect_leaf(0x40000001, 0, &p, 0x00040011, 0, 0, 0, "version 4.17");
    expect_leaf(0x40000002, 0, &p, 1, 0x40000000, 0, 0,
                "1 hypercall page, MSR 0x40000000, no features");

    expect_leaf(0x40000003, 0, &p, 0, 0, 2100000, 0,
                "time: no vTSC, tsc_mode 0, 2.1 GHz, incarnation 0");
    p.tsc_reliable = true;
    p.rdtscp = true;
    expect_leaf(0x40000003, 0, &p, 6, 0, 2100000, 0,
                "time: reliable TSC (bit 1) and RDTSCP (bit 2)");
    expect_leaf(0x40000003, 1, &p, 0, 0, 0xf3cf3cf4, 0xffffffff,
                "scale: mul, shift -1 sign-extended");
    p.tsc_shift = 2;
    p.tsc_offset = 0x1122334455667788ULL;
    expect_leaf(0x40000003, 1, &p, 0x55667788, 0x11223344, 0xf3cf3cf4, 2,
                "scale: offset low/high, shift 2");
    expect_leaf(0x40000003, 2, &p, 2100000, 0, 0, 0,
                "host kHz in eax (defaults to guest kHz)");
    p.host_tsc_khz = 3000000;
    expect_leaf(0x40000003, 2, &p, 3000000, 0, 0, 0, "host kHz in eax");
    expect_leaf(0x40000003, 3, &p, 0, 0, 0, 0, "sub-leaf 3 empty");

    p = base_params;
    expect_leaf(0x40000004, 0, &p,
                XEN_HVM_CPUID_X2APIC_VIRT | XEN_HVM_CPUID_IOMMU_MAPPINGS |
                    XEN_HVM_CPUID_VCPU_ID_PRESENT |
                    XEN_HVM_CPUID_DOMID_PRESENT | XEN_HVM_CPUID_UPCALL_VECTOR,
                3, 7, 0, "HVM flags 0x5e, vcpu id 3, domid 7");
    expect_leaf(0x40000004, 0, &p, 0x5e, 3, 7, 0, "  ... as a number");
    p.x2apic = false;
    expect_leaf(0x40000004, 0, &p, 0x5c, 3, 7, 0, "no x2APIC: flags 0x5c");
    expect_leaf(0x40000004, 1, &p, 0, 0, 0, 0, "sub-leaf 1 empty");
    expect_leaf(0x40000005, 0, &p, 0, 0, 0, 0, "PV leaf empty for PVH");

    memset(out, 0x55, sizeof(out));
    ok(!xen_cpuid_leaf(0x40000006, 0, &p, out) &&
           !xen_cpuid_leaf(0x3fffffff, 0, &p, out) &&
           !xen_cpuid_leaf(0, 0, &p, out) &&
           !xen_cpuid_leaf(0x40000100, 0, &p, out) &&
           !xen_cpuid_leaf(0x80000000, 0, &p, out),
       "other leaves: false");
    ok(out[0] == 0x55555555 && out[3] == 0x55555555,
       "other leaves: out untouched");
}

static struct kvm_cpuid2 *alloc_cpuid(void)
{
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + CAP * sizeof(c->entries[0]));

    if (!c)
        abort();
    return c;
}

static void add(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx, uint32_t flags,
                uint32_t a, uint32_t b, uint32_t cx, uint32_t d)
{
    struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];

    memset(e, 0, sizeof(*e));
    e->function = fn;
    e->index = idx;
    e->flags = flags;
    e->eax = a;
    e->ebx = b;
    e->ecx = cx;
    e->edx = d;
}

/* A KVM_GET_SUPPORTED_CPUID-like list with KVM's own PV leaves. */
static void fill_host(struct kvm_cpuid2 *c)
{
    const uint32_t sig = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;

    c->nent = 0;
    add(c, 0, 0, 0, 0xd, 0x68747541, 0x444d4163, 0x69746e65);
    add(c, 1, 0, 0, 0x00a00f11, 0x12345678, 0x7ed8320b, 0x178bfbff);
    add(c, 0x40000000, 0, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d);
    add(c, 0xb, 0, sig, 1, 2, 0x100, 7);
    add(c, 0xb, 1, sig, 4, 8, 0x201, 7);
    add(c, 0x40000001, 0, 0, 0x01007afb, 0, 0, 0);
    add(c, 0x1f, 0, sig, 1, 2, 0x100, 9);
    add(c, 0x4fffffff, 0, 0, 1, 2, 3, 4);
    add(c, 0x50000000, 0, 0, 5, 6, 7, 8);
    add(c, 0x3fffffff, 0, 0, 9, 10, 11, 12);
    add(c, 0x80000000, 0, 0, 0x80000021, 0, 0, 0);
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid2 *c,
                                           uint32_t fn, uint32_t idx)
{
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == fn && c->entries[i].index == idx)
            return &c->entries[i];
    return NULL;
}

static void test_build(void)
{
    struct kvm_cpuid2 *c = alloc_cpuid(), *ref = alloc_cpuid();
    const struct xen_cpuid_params *p = &base_params;
    const size_t sz = sizeof(*c) + CAP * sizeof(c->entries[0]);
    static const uint32_t keep[] = {0,    1,          0xb,        0xb,
                                    0x1f, 0x50000000, 0x3fffffff, 0x80000000};
    static const struct {
        uint32_t fn, idx, flags;
    } xen[] = {
        {0x40000000, 0, 0},
        {0x40000001, 0, 0},
        {0x40000002, 0, 0},
        {0x40000003, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX},
        {0x40000003, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX},
        {0x40000003, 2, KVM_CPUID_FLAG_SIGNIFCANT_INDEX},
        {0x40000004, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX},
        {0x40000005, 0, 0},
    };
    const struct kvm_cpuid_entry2 *e;
    bool order_ok = true, xen_ok = true, regs_ok = true;
    uint32_t out[4];
    int rc;

    fill_host(c);
    rc = xen_cpuid_build(c, CAP, p);
    is_int(rc, 0, "build returns 0");
    is_int(c->nent, 11 - 3 + 8, "nent: 11 - 3 KVM-range + 8 Xen = 16");

    for (unsigned int i = 0; i < 8; i++)
        order_ok = order_ok && c->entries[i].function == keep[i];
    ok(order_ok, "non-hypervisor entries kept, in their order, first");
    for (unsigned int i = 0; i < 8; i++) {
        e = &c->entries[8 + i];
        xen_ok = xen_ok && e->function == xen[i].fn && e->index == xen[i].idx &&
                 e->flags == xen[i].flags;
        xen_cpuid_leaf(e->function, e->index, p, out);
        regs_ok = regs_ok && e->eax == out[0] && e->ebx == out[1] &&
                  e->ecx == out[2] && e->edx == out[3];
    }
    ok(xen_ok, "Xen leaves appended: functions, indexes, index flags");
    ok(regs_ok, "appended registers equal xen_cpuid_leaf()");
    ok(find(c, 0x4fffffff, 0) == NULL, "0x4fffffff (hypervisor range) gone");
    e = find(c, 0x40000000, 0);
    ok(e && e->ebx == 0x566e6558 && e->eax == 0x40000005,
       "0x40000000 is Xen's, not KVMKVMKVM");
    e = find(c, 0x40000001, 0);
    ok(e && e->eax == 0x00040011, "0x40000001 is Xen's version, not KVM's "
                                  "feature bits");

    e = find(c, 1, 0);
    is_u64(e->ebx, 0x03345678, "leaf 1 ebx: APIC id 3 in [31:24], rest kept");
    is_u64(e->ecx, 0x7ed8320bu | 0x80000000u,
           "leaf 1 ecx: hypervisor bit set, rest kept");
    is_u64(e->eax, 0x00a00f11, "leaf 1 eax unchanged");
    is_u64(e->edx, 0x178bfbff, "leaf 1 edx unchanged");
    e = find(c, 0xb, 0);
    ok(e->edx == 3 && e->eax == 1 && e->ebx == 2 && e->ecx == 0x100,
       "leaf 0xb.0: edx = x2APIC id 3, rest kept");
    e = find(c, 0xb, 1);
    ok(e->edx == 3 && e->ecx == 0x201, "leaf 0xb.1: edx = 3");
    e = find(c, 0x1f, 0);
    is_u64(e->edx, 3, "leaf 0x1f.0: edx = 3");
    e = find(c, 0x50000000, 0);
    ok(e && e->eax == 5 && e->edx == 8, "0x50000000 (outside range) kept");

    /* Building again from the result gives the same table. */
    memcpy(ref, c, sz);
    is_int(xen_cpuid_build(c, CAP, p), 0, "rebuild returns 0");
    ok(memcmp(ref, c, sz) == 0, "rebuild is idempotent");

    /* Capacity: exactly enough, one short. */
    fill_host(c);
    is_int(xen_cpuid_build(c, 16, p), 0, "capacity exactly 16: 0");
    fill_host(c);
    memcpy(ref, c, sz);
    is_int(xen_cpuid_build(c, 15, p), -ENOSPC, "capacity 15: -ENOSPC");
    ok(memcmp(ref, c, sz) == 0, "-ENOSPC: table unchanged");
    is_int(xen_cpuid_build(c, 5, p), -EINVAL, "nent 11 > capacity 5: -EINVAL");
    ok(memcmp(ref, c, sz) == 0, "-EINVAL: table unchanged");

    /* vcpu id above 255: leaf 1 has only 8 bits, 0xb has 32. */
    {
        struct xen_cpuid_params q = base_params;

        q.vcpu_id = 0x1ff;
        fill_host(c);
        xen_cpuid_build(c, CAP, &q);
        is_u64(find(c, 1, 0)->ebx, 0xff345678, "vcpu 0x1ff: leaf 1 [31:24]");
        is_u64(find(c, 0xb, 0)->edx, 0x1ff, "vcpu 0x1ff: leaf 0xb edx");
        is_u64(find(c, 0x40000004, 0)->ebx, 0x1ff,
               "vcpu 0x1ff: 0x40000004 ebx");
    }

    /* An empty host list still gets Xen's leaves. */
    c->nent = 0;
    is_int(xen_cpuid_build(c, 8, p), 0, "empty host list: 0");
    is_int(c->nent, 8, "empty host list: 8 Xen entries");

    free(c);
    free(ref);
}

int main(void)
{
    test_leaves();
    test_build();
    return tap_done();
}
