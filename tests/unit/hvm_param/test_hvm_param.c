/*
 * test_hvm_param.c — unit tests of xen-hv/hvm_param.c against the rules of
 * Xen 4.17's xen/arch/x86/hvm/hvm.c (hvm_allow_get_param,
 * hvm_allow_set_param, hvm_set_param, hvm_get_param), written out here
 * index by index independently of the module's own tables.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <xen/errno.h>
#include <xen/sched.h>

#include "hvm_param.h"
#include "tap.h"

#define G HVM_PARAM_CALLER_GUEST
#define C HVM_PARAM_CALLER_CONTROL

static const char *const names[HVM_NR_PARAMS] = {
    "CALLBACK_IRQ",
    "STORE_PFN",
    "STORE_EVTCHN",
    "(3)",
    "PAE_ENABLED (deprecated)",
    "IOREQ_PFN",
    "BUFIOREQ_PFN",
    "(7)",
    "(8)",
    "VIRIDIAN",
    "TIMER_MODE",
    "HPET_ENABLED",
    "IDENT_PT",
    "DM_DOMAIN (deprecated)",
    "ACPI_S_STATE",
    "VM86_TSS",
    "VPT_ALIGN",
    "CONSOLE_PFN",
    "CONSOLE_EVTCHN",
    "ACPI_IOPORTS_LOCATION",
    "MEMORY_EVENT_CR0 (deprecated)",
    "MEMORY_EVENT_CR3 (deprecated)",
    "MEMORY_EVENT_CR4 (deprecated)",
    "MEMORY_EVENT_INT3 (deprecated)",
    "NESTEDHVM (deprecated)",
    "MEMORY_EVENT_SINGLE_STEP (deprecated)",
    "BUFIOREQ_EVTCHN (deprecated)",
    "PAGING_RING_PFN",
    "MONITOR_RING_PFN",
    "SHARING_RING_PFN",
    "MEMORY_EVENT_MSR (deprecated)",
    "TRIPLE_FAULT_REASON",
    "IOREQ_SERVER_PFN",
    "NR_IOREQ_SERVER_PAGES",
    "VM_GENERATION_ID_ADDR",
    "ALTP2M",
    "X87_FIP_WIDTH",
    "VM86_TSS_SIZED",
    "MCA_CAP",
};

static bool in(uint32_t i, const uint32_t *set, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (set[k] == i)
            return true;
    return false;
}

#define IN(i, set) in(i, set, sizeof(set) / sizeof(set[0]))

/* hvm.c: "The following parameters are deprecated." */
static const uint32_t deprecated[] = {4, 13, 20, 21, 22, 23, 24, 25, 26, 30};
/* hvm_allow_get_param(): "can be read by the guest". */
static const uint32_t guest_get[] = {0, 15, 37, 19, 34, 1, 2, 17, 18, 35, 36};
/* hvm_allow_set_param(): "can be set by the guest". */
static const uint32_t guest_set[] = {0, 15, 37, 19, 34, 2, 18, 36};

/* A value hvm_set_param() accepts for index (0 where anything goes). */
static uint64_t valid_value(uint32_t i)
{
    switch (i) {
    case HVM_PARAM_TIMER_MODE:
        return HVMPTM_no_missed_ticks_pending;
    case HVM_PARAM_VIRIDIAN:
        return HVMPV_base_freq;
    case HVM_PARAM_ACPI_S_STATE:
        return 3;
    case HVM_PARAM_ALTP2M:
        return XEN_ALTP2M_external;
    case HVM_PARAM_TRIPLE_FAULT_REASON:
        return 2;
    case HVM_PARAM_NR_IOREQ_SERVER_PAGES:
        return 4;
    case HVM_PARAM_X87_FIP_WIDTH:
        return 4;
    case HVM_PARAM_VM86_TSS:
        return 0x1000;
    case HVM_PARAM_VM86_TSS_SIZED:
        return (200ULL << 32) | 0x2000;
    case HVM_PARAM_MCA_CAP:
        return 0;
    default:
        return 0x1234;
    }
}

static void test_access_table(void)
{
    char name[96];

    for (uint32_t i = 0; i < HVM_NR_PARAMS; i++) {
        struct hvm_params p;
        uint64_t v = 0;
        int want;

        memset(&p, 0, sizeof(p));
        want = IN(i, deprecated)  ? -XEN_EINVAL
               : IN(i, guest_get) ? 0
                                  : -XEN_EPERM;
        snprintf(name, sizeof(name), "%2u %s: guest get", i, names[i]);
        is_int(hvm_param_get(&p, i, G, &v), want, name);

        want = IN(i, deprecated)                      ? -XEN_EINVAL
               : !IN(i, guest_set)                    ? -XEN_EPERM
               : i == HVM_PARAM_ACPI_IOPORTS_LOCATION ? -XEN_ENODEV
                                                      : 0;
        snprintf(name, sizeof(name), "%2u %s: guest set", i, names[i]);
        is_int(hvm_param_set(&p, i, valid_value(i), G), want, name);

        memset(&p, 0, sizeof(p));
        want = IN(i, deprecated) ? -XEN_EINVAL : 0;
        snprintf(name, sizeof(name), "%2u %s: control get", i, names[i]);
        is_int(hvm_param_get(&p, i, C, &v), want, name);

        want = IN(i, deprecated)                      ? -XEN_EINVAL
               : i == HVM_PARAM_ACPI_IOPORTS_LOCATION ? -XEN_ENODEV
                                                      : 0;
        snprintf(name, sizeof(name), "%2u %s: control set", i, names[i]);
        is_int(hvm_param_set(&p, i, valid_value(i), C), want, name);
    }
}

static void test_range(void)
{
    struct hvm_params p;
    uint64_t v = 0xabc;

    memset(&p, 0, sizeof(p));
    is_int(hvm_param_get(&p, HVM_NR_PARAMS, C, &v), -XEN_EINVAL,
           "get index HVM_NR_PARAMS: -EINVAL");
    is_int(hvm_param_get(&p, UINT32_MAX, G, &v), -XEN_EINVAL,
           "get index 0xffffffff: -EINVAL");
    is_u64(v, 0xabc, "failed get leaves *value alone");
    is_int(hvm_param_set(&p, HVM_NR_PARAMS, 0, C), -XEN_EINVAL,
           "set index HVM_NR_PARAMS: -EINVAL");
    is_int(hvm_param_set(&p, 0x80000000u, 0, G), -XEN_EINVAL,
           "set index 0x80000000: -EINVAL");
}

static void test_values(void)
{
    struct hvm_params p, before;
    uint64_t v = 0;

    memset(&p, 0, sizeof(p));
#define SET(idx, val, who, want, name)                                         \
    is_int(hvm_param_set(&p, idx, val, who), want, name)

    SET(HVM_PARAM_STORE_PFN, 0xfeffc, C, 0, "control sets STORE_PFN");
    hvm_param_get(&p, HVM_PARAM_STORE_PFN, G, &v);
    is_u64(v, 0xfeffc, "guest reads STORE_PFN back");
    SET(HVM_PARAM_STORE_PFN, 0xfeffd, C, 0, "STORE_PFN is not write-once");
    SET(HVM_PARAM_CALLBACK_IRQ, (2ULL << 56) | 0xf3, G, 0,
        "guest sets CALLBACK_IRQ vector 0xf3");
    hvm_param_get(&p, HVM_PARAM_CALLBACK_IRQ, C, &v);
    is_u64(v, (2ULL << 56) | 0xf3, "control reads CALLBACK_IRQ back");

    SET(HVM_PARAM_TIMER_MODE, HVMPTM_one_missed_tick_pending, C, 0,
        "TIMER_MODE 3");
    SET(HVM_PARAM_TIMER_MODE, 4, C, -XEN_EINVAL, "TIMER_MODE 4: -EINVAL");
    SET(HVM_PARAM_X87_FIP_WIDTH, 0, G, 0, "X87_FIP_WIDTH 0");
    SET(HVM_PARAM_X87_FIP_WIDTH, 8, G, 0, "X87_FIP_WIDTH 8");
    SET(HVM_PARAM_X87_FIP_WIDTH, 2, G, -XEN_EINVAL, "X87_FIP_WIDTH 2");
    SET(HVM_PARAM_X87_FIP_WIDTH, 16, C, -XEN_EINVAL, "X87_FIP_WIDTH 16");
    SET(HVM_PARAM_ACPI_S_STATE, 0, C, 0, "ACPI_S_STATE 0");
    SET(HVM_PARAM_ACPI_S_STATE, 1, C, -XEN_EINVAL, "ACPI_S_STATE 1");
    SET(HVM_PARAM_TRIPLE_FAULT_REASON, SHUTDOWN_MAX, C, 0,
        "TRIPLE_FAULT_REASON SHUTDOWN_MAX");
    SET(HVM_PARAM_TRIPLE_FAULT_REASON, SHUTDOWN_MAX + 1, C, -XEN_EINVAL,
        "TRIPLE_FAULT_REASON SHUTDOWN_MAX + 1");
    SET(HVM_PARAM_MCA_CAP, XEN_HVM_MCA_CAP_LMCE, C, -XEN_EINVAL,
        "MCA_CAP LMCE (not offered)");
    SET(HVM_PARAM_MCA_CAP, 2, C, -XEN_EINVAL, "MCA_CAP bit outside mask");
    SET(HVM_PARAM_ACPI_IOPORTS_LOCATION, 1, C, -XEN_ENODEV,
        "ACPI_IOPORTS_LOCATION 1: -ENODEV (no PM timer in PVH)");

    memset(&p, 0, sizeof(p));
    SET(HVM_PARAM_VIRIDIAN, 0, C, -XEN_EINVAL,
        "VIRIDIAN without base_freq: -EINVAL");
    SET(HVM_PARAM_VIRIDIAN, HVMPV_base_freq | (1ULL << 40), C, -XEN_EINVAL,
        "VIRIDIAN bit outside feature mask: -EINVAL");
    SET(HVM_PARAM_ALTP2M, XEN_ALTP2M_limited + 1, C, -XEN_EINVAL,
        "ALTP2M > limited: -EINVAL");
    SET(HVM_PARAM_NR_IOREQ_SERVER_PAGES, 0, C, -XEN_EINVAL,
        "NR_IOREQ_SERVER_PAGES 0");
    SET(HVM_PARAM_NR_IOREQ_SERVER_PAGES, 65, C, -XEN_EINVAL,
        "NR_IOREQ_SERVER_PAGES 65");
    SET(HVM_PARAM_NR_IOREQ_SERVER_PAGES, 64, C, 0, "NR_IOREQ_SERVER_PAGES 64");

    /* A refused set changes nothing. */
    before = p;
    SET(HVM_PARAM_TIMER_MODE, 99, C, -XEN_EINVAL, "TIMER_MODE 99");
    SET(HVM_PARAM_STORE_PFN, 1, G, -XEN_EPERM, "guest STORE_PFN: -EPERM");
    SET(4, 1, C, -XEN_EINVAL, "deprecated PAE_ENABLED: -EINVAL");
    ok(memcmp(&before, &p, sizeof(p)) == 0, "refused sets left the table");
#undef SET
}

static void test_write_once(void)
{
    static const struct {
        uint32_t idx;
        uint64_t a, b;
    } w[] = {
        {HVM_PARAM_VIRIDIAN, HVMPV_base_freq,
         HVMPV_base_freq | HVMPV_time_ref_count},
        {HVM_PARAM_IOREQ_PFN, 0xff000, 0xff001},
        {HVM_PARAM_BUFIOREQ_PFN, 0xff002, 0xff003},
        {HVM_PARAM_IOREQ_SERVER_PFN, 0xfe000, 0xfd000},
        {HVM_PARAM_NR_IOREQ_SERVER_PAGES, 2, 8},
        {HVM_PARAM_ALTP2M, XEN_ALTP2M_mixed, XEN_ALTP2M_external},
    };
    char name[96];

    for (unsigned int k = 0; k < sizeof(w) / sizeof(w[0]); k++) {
        struct hvm_params p;
        uint64_t v = 0;
        const char *n = names[w[k].idx];

        memset(&p, 0, sizeof(p));
        snprintf(name, sizeof(name), "%s: first set", n);
        is_int(hvm_param_set(&p, w[k].idx, w[k].a, C), 0, name);
        snprintf(name, sizeof(name), "%s: same value again", n);
        is_int(hvm_param_set(&p, w[k].idx, w[k].a, C), 0, name);
        snprintf(name, sizeof(name), "%s: different value -EEXIST", n);
        is_int(hvm_param_set(&p, w[k].idx, w[k].b, C), -XEN_EEXIST, name);
        snprintf(name, sizeof(name), "%s: back to 0 -EEXIST", n);
        is_int(hvm_param_set(&p, w[k].idx, 0, C), -XEN_EEXIST, name);
        hvm_param_get(&p, w[k].idx, C, &v);
        snprintf(name, sizeof(name), "%s: first value kept", n);
        is_u64(v, w[k].a, name);
    }
    {
        struct hvm_params p;

        memset(&p, 0, sizeof(p));
        p.value[HVM_PARAM_MCA_CAP] = 0; /* 0 is always "not yet set" */
        is_int(hvm_param_set(&p, HVM_PARAM_MCA_CAP, 0, C), 0,
               "MCA_CAP 0 twice: accepted");
    }
}

static void test_vm86_tss(void)
{
    struct hvm_params p;
    uint64_t v = 0;

    memset(&p, 0, sizeof(p));
    is_int(hvm_param_set(&p, HVM_PARAM_VM86_TSS, 0x1000, G), 0,
           "VM86_TSS 0x1000");
    hvm_param_get(&p, HVM_PARAM_VM86_TSS, G, &v);
    is_u64(v, 0x1000, "VM86_TSS reads back 0x1000");
    hvm_param_get(&p, HVM_PARAM_VM86_TSS_SIZED, G, &v);
    is_u64(v, (128ULL << 32) | 0x1000, "  ... stored as SIZED, 128 bytes");
    is_u64(p.value[HVM_PARAM_VM86_TSS], 0, "  ... VM86_TSS slot unused");
    is_int(hvm_param_set(&p, HVM_PARAM_VM86_TSS, 1ULL << 32, G), -XEN_EINVAL,
           "VM86_TSS above 4 GiB: -EINVAL");
    is_int(hvm_param_set(&p, HVM_PARAM_VM86_TSS, 0, G), 0, "VM86_TSS 0");
    hvm_param_get(&p, HVM_PARAM_VM86_TSS_SIZED, G, &v);
    is_u64(v, 0, "  ... clears SIZED");

    is_int(
        hvm_param_set(&p, HVM_PARAM_VM86_TSS_SIZED, (103ULL << 32) | 0x3000, G),
        -XEN_EINVAL, "VM86_TSS_SIZED size 103 < sizeof(tss32)");
    is_int(
        hvm_param_set(&p, HVM_PARAM_VM86_TSS_SIZED, (104ULL << 32) | 0x3000, G),
        0, "VM86_TSS_SIZED size 104");
    hvm_param_get(&p, HVM_PARAM_VM86_TSS_SIZED, G, &v);
    is_u64(v, (104ULL << 32) | 0x3000, "  ... reads back");
    is_int(hvm_param_set(&p, HVM_PARAM_VM86_TSS_SIZED,
                         (0x10000ULL << 32) | 0x5000, G),
           0, "VM86_TSS_SIZED size 0x10000");
    hvm_param_get(&p, HVM_PARAM_VM86_TSS_SIZED, G, &v);
    is_u64(v, (8329ULL << 32) | 0x5000, "  ... capped to 8329 bytes");
    hvm_param_get(&p, HVM_PARAM_VM86_TSS, G, &v);
    is_u64(v, 0x5000, "  ... VM86_TSS reads the address half");
}

int main(void)
{
    test_access_table();
    test_range();
    test_values();
    test_write_once();
    test_vm86_tss();
    return tap_done();
}
