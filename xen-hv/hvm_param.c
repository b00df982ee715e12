/*
 * hvm_param.c — HVM parameter access rules and value checks (hvm_param.h),
 * after Xen 4.17's hvm_allow_get_param(), hvm_get_param(),
 * hvm_allow_set_param() and hvm_set_param() (xen/arch/x86/hvm/hvm.c) for
 * a PVH domain.  Checks run in Xen's order: deprecated index, caller
 * permission, write-once, then the value.
 */
#include <stdint.h>

#include <xen/errno.h>
#include <xen/sched.h>

#include "hvm_param.h"

/*
 * <xen/hvm/params.h> defines the deprecated indexes only for __XEN__ and
 * __XEN_TOOLS__; their numbers are part of the ABI.
 */
#define HVM_PARAM_DEPR_PAE_ENABLED              4
#define HVM_PARAM_DEPR_DM_DOMAIN                13
#define HVM_PARAM_DEPR_MEMORY_EVENT_CR0         20
#define HVM_PARAM_DEPR_MEMORY_EVENT_CR3         21
#define HVM_PARAM_DEPR_MEMORY_EVENT_CR4         22
#define HVM_PARAM_DEPR_MEMORY_EVENT_INT3        23
#define HVM_PARAM_DEPR_NESTEDHVM                24
#define HVM_PARAM_DEPR_MEMORY_EVENT_SINGLE_STEP 25
#define HVM_PARAM_DEPR_BUFIOREQ_EVTCHN          26
#define HVM_PARAM_DEPR_MEMORY_EVENT_MSR         30

/* Xen's VM86_TSS_UPDATED (asm/hvm/support.h): internal, never shown. */
#define HVM_VM86_TSS_UPDATED (1ULL << 63)
/* sizeof(struct tss32), and the largest useful TSS: + 256-bit interrupt
 * redirection bitmap + 64 Kibit I/O bitmap + 1 padding byte. */
#define HVM_TSS32_SIZE   104ULL
#define HVM_VM86_TSS_MAX (HVM_TSS32_SIZE + 0x100 / 8 + 0x10000 / 8 + 1)
/* Xen's SHUTDOWN_MAX (<xen/sched.h>): largest shutdown reason. */
#define HVM_SHUTDOWN_MAX SHUTDOWN_MAX
/* ioreq_gfn.mask is an unsigned long in Xen: 64 pages at most. */
#define HVM_MAX_IOREQ_SERVER_PAGES 64

static bool hvm_param_deprecated(uint32_t index)
{
    switch (index) {
    case HVM_PARAM_DEPR_PAE_ENABLED:
    case HVM_PARAM_DEPR_DM_DOMAIN:
    case HVM_PARAM_DEPR_MEMORY_EVENT_CR0:
    case HVM_PARAM_DEPR_MEMORY_EVENT_CR3:
    case HVM_PARAM_DEPR_MEMORY_EVENT_CR4:
    case HVM_PARAM_DEPR_MEMORY_EVENT_INT3:
    case HVM_PARAM_DEPR_NESTEDHVM:
    case HVM_PARAM_DEPR_MEMORY_EVENT_SINGLE_STEP:
    case HVM_PARAM_DEPR_BUFIOREQ_EVTCHN:
    case HVM_PARAM_DEPR_MEMORY_EVENT_MSR:
        return true;
    }
    return false;
}

static bool hvm_param_guest_may_get(uint32_t index)
{
    switch (index) {
    case HVM_PARAM_CALLBACK_IRQ:
    case HVM_PARAM_VM86_TSS:
    case HVM_PARAM_VM86_TSS_SIZED:
    case HVM_PARAM_ACPI_IOPORTS_LOCATION:
    case HVM_PARAM_VM_GENERATION_ID_ADDR:
    case HVM_PARAM_STORE_PFN:
    case HVM_PARAM_STORE_EVTCHN:
    case HVM_PARAM_CONSOLE_PFN:
    case HVM_PARAM_CONSOLE_EVTCHN:
    case HVM_PARAM_ALTP2M:
    case HVM_PARAM_X87_FIP_WIDTH:
        return true;
    }
    return false;
}

static bool hvm_param_guest_may_set(uint32_t index)
{
    switch (index) {
    case HVM_PARAM_CALLBACK_IRQ:
    case HVM_PARAM_VM86_TSS:
    case HVM_PARAM_VM86_TSS_SIZED:
    case HVM_PARAM_ACPI_IOPORTS_LOCATION:
    case HVM_PARAM_VM_GENERATION_ID_ADDR:
    case HVM_PARAM_STORE_EVTCHN:
    case HVM_PARAM_CONSOLE_EVTCHN:
    case HVM_PARAM_X87_FIP_WIDTH:
        return true;
    }
    return false;
}

static bool hvm_param_write_once(uint32_t index)
{
    switch (index) {
    case HVM_PARAM_VIRIDIAN:
    case HVM_PARAM_IOREQ_PFN:
    case HVM_PARAM_BUFIOREQ_PFN:
    case HVM_PARAM_IOREQ_SERVER_PFN:
    case HVM_PARAM_NR_IOREQ_SERVER_PAGES:
    case HVM_PARAM_ALTP2M:
    case HVM_PARAM_MCA_CAP:
        return true;
    }
    return false;
}

int hvm_param_get(const struct hvm_params *p, uint32_t index,
                  enum hvm_param_caller who, uint64_t *value)
{
    if (index >= HVM_NR_PARAMS || hvm_param_deprecated(index))
        return -XEN_EINVAL;
    if (who != HVM_PARAM_CALLER_CONTROL && !hvm_param_guest_may_get(index))
        return -XEN_EPERM;

    switch (index) {
    case HVM_PARAM_VM86_TSS:
        /* The address half of VM86_TSS_SIZED, where a set stored it. */
        *value = (uint32_t)p->value[HVM_PARAM_VM86_TSS_SIZED];
        break;
    case HVM_PARAM_VM86_TSS_SIZED:
        *value = p->value[HVM_PARAM_VM86_TSS_SIZED] & ~HVM_VM86_TSS_UPDATED;
        break;
    default:
        *value = p->value[index];
        break;
    }
    return 0;
}

/* hvm_set_param()'s checks on the value; may rewrite index and value. */
static int hvm_param_check_value(uint32_t *index, uint64_t *value)
{
    uint64_t v = *value, size;

    switch (*index) {
    case HVM_PARAM_TIMER_MODE:
        if (v > HVMPTM_one_missed_tick_pending)
            return -XEN_EINVAL;
        break;
    case HVM_PARAM_VIRIDIAN:
        if ((v & ~(uint64_t)HVMPV_feature_mask) || !(v & HVMPV_base_freq))
            return -XEN_EINVAL;
        break;
    case HVM_PARAM_ACPI_S_STATE:
        if (v != 0 && v != 3)
            return -XEN_EINVAL;
        break;
    case HVM_PARAM_ACPI_IOPORTS_LOCATION:
        /*
         * pmtimer_change_ioport(): a PVH domain has no emulated ACPI PM
         * block (no X86_EMU_PM), so Xen refuses any change.
         */
        return -XEN_ENODEV;
    case HVM_PARAM_ALTP2M:
        if (v > XEN_ALTP2M_limited)
            return -XEN_EINVAL;
        break;
    case HVM_PARAM_TRIPLE_FAULT_REASON:
        if (v > HVM_SHUTDOWN_MAX)
            return -XEN_EINVAL;
        break;
    case HVM_PARAM_NR_IOREQ_SERVER_PAGES:
        if (v == 0 || v > HVM_MAX_IOREQ_SERVER_PAGES)
            return -XEN_EINVAL;
        break;
    case HVM_PARAM_X87_FIP_WIDTH:
        if (v != 0 && v != 4 && v != 8)
            return -XEN_EINVAL;
        break;
    case HVM_PARAM_VM86_TSS:
        /* A 32-bit address; stored as VM86_TSS_SIZED with 128 bytes. */
        if (v != (uint32_t)v)
            return -XEN_EINVAL;
        if (v)
            v |= (128ULL << 32) | HVM_VM86_TSS_UPDATED;
        *index = HVM_PARAM_VM86_TSS_SIZED;
        break;
    case HVM_PARAM_VM86_TSS_SIZED:
        size = v >> 32;
        if (size < HVM_TSS32_SIZE)
            return -XEN_EINVAL;
        if (size > HVM_VM86_TSS_MAX)
            v = (uint32_t)v | (HVM_VM86_TSS_MAX << 32);
        v |= HVM_VM86_TSS_UPDATED;
        break;
    case HVM_PARAM_MCA_CAP:
        /*
         * vmce_enable_mca_cap(): only LMCE is defined, and xen-hv offers
         * no LMCE (Xen's lmce_support false), so only 0 is accepted.
         */
        if (v != 0)
            return -XEN_EINVAL;
        break;
    }
    *value = v;
    return 0;
}

int hvm_param_set(struct hvm_params *p, uint32_t index, uint64_t value,
                  enum hvm_param_caller who)
{
    uint64_t old;
    int rc;

    if (index >= HVM_NR_PARAMS || hvm_param_deprecated(index))
        return -XEN_EINVAL;
    if (who != HVM_PARAM_CALLER_CONTROL && !hvm_param_guest_may_set(index))
        return -XEN_EPERM;

    old = p->value[index];
    if (hvm_param_write_once(index) && old != 0 && value != old)
        return -XEN_EEXIST;

    rc = hvm_param_check_value(&index, &value);
    if (rc)
        return rc;
    p->value[index] = value;
    return 0;
}
