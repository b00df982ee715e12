/*
 * hvm_param.h — a domain's HVM parameters (<xen/hvm/params.h>) and who may
 * read or write which, following Xen 4.17's hvm_allow_get_param(),
 * hvm_get_param(), hvm_allow_set_param() and hvm_set_param()
 * (xen/arch/x86/hvm/hvm.c) for a PVH domain.  Checks in Xen's order:
 *   - index >= HVM_NR_PARAMS: -XEN_EINVAL.
 *   - deprecated indexes (PAE_ENABLED 4, DM_DOMAIN 13, MEMORY_EVENT_CR0..
 *     INT3 20-23, NESTEDHVM 24, MEMORY_EVENT_SINGLE_STEP 25,
 *     BUFIOREQ_EVTCHN 26, MEMORY_EVENT_MSR 30): -XEN_EINVAL for every
 *     caller, read or write.
 *   - the guest itself may read only CALLBACK_IRQ, VM86_TSS,
 *     VM86_TSS_SIZED, ACPI_IOPORTS_LOCATION, VM_GENERATION_ID_ADDR,
 *     STORE_PFN, STORE_EVTCHN, CONSOLE_PFN, CONSOLE_EVTCHN, ALTP2M,
 *     X87_FIP_WIDTH; anything else is -XEN_EPERM.
 *   - the guest itself may write only CALLBACK_IRQ, VM86_TSS,
 *     VM86_TSS_SIZED, ACPI_IOPORTS_LOCATION, VM_GENERATION_ID_ADDR,
 *     STORE_EVTCHN, CONSOLE_EVTCHN, X87_FIP_WIDTH; anything else -XEN_EPERM.
 *   - write-once parameters (VIRIDIAN, IOREQ_PFN, BUFIOREQ_PFN,
 *     IOREQ_SERVER_PFN, NR_IOREQ_SERVER_PAGES, ALTP2M, MCA_CAP): changing a
 *     non-zero value to a different one is -XEN_EEXIST, for the control
 *     domain too.
 *   - value checks (-XEN_EINVAL unless said): TIMER_MODE <=
 *     HVMPTM_one_missed_tick_pending; VIRIDIAN has HVMPV_base_freq and no
 *     bit outside HVMPV_feature_mask; ACPI_S_STATE 0 or 3; ALTP2M <=
 *     XEN_ALTP2M_limited; TRIPLE_FAULT_REASON <= SHUTDOWN_MAX;
 *     NR_IOREQ_SERVER_PAGES 1..64; X87_FIP_WIDTH in {0, 4, 8};
 *     VM86_TSS below 4 GiB; VM86_TSS_SIZED size (bits 63:32) >= 104
 *     (sizeof struct tss32); MCA_CAP 0 (no LMCE offered);
 *     ACPI_IOPORTS_LOCATION is always -XEN_ENODEV (a PVH domain has no
 *     emulated PM timer: Xen's pmtimer_change_ioport()).
 *   - storage as in Xen: VM86_TSS is kept in the VM86_TSS_SIZED slot
 *     (address | 128 << 32); a VM86_TSS_SIZED size above 8329 is capped;
 *     a get of VM86_TSS returns the low 32 bits of that slot.
 * The control domain (toolstack) may read and write every other index.
 */
#ifndef XENHV_HVM_PARAM_H
#define XENHV_HVM_PARAM_H

#include <stdbool.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/hvm/params.h>

struct hvm_params {
    uint64_t value[HVM_NR_PARAMS];
};

/* Who is asking: the guest about itself, or the control domain. */
enum hvm_param_caller { HVM_PARAM_CALLER_GUEST, HVM_PARAM_CALLER_CONTROL };

/*
 * hvm_param_get — read index into *value.
 * Returns 0, -XEN_EINVAL (index out of range) or -XEN_EPERM.
 */
int hvm_param_get(const struct hvm_params *p, uint32_t index,
                  enum hvm_param_caller who, uint64_t *value);

/*
 * hvm_param_set — validate and store value at index.  Side effects
 * (callback via, upcall vectors) are the caller's job after 0 is returned.
 * Returns 0, -XEN_EINVAL, -XEN_EPERM, -XEN_EEXIST or -XEN_ENODEV as
 * listed above; the table is unchanged on error.
 */
int hvm_param_set(struct hvm_params *p, uint32_t index, uint64_t value,
                  enum hvm_param_caller who);

#endif
