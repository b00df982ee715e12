/*
 * hvm_param.h — a domain's HVM parameters (<xen/hvm/params.h>) and who may
 * read or write which, following Xen's hvm_allow_get_param() and
 * hvm_allow_set_param() (xen/arch/x86/hvm/hvm.c):
 *   - index >= HVM_NR_PARAMS: -XEN_EINVAL.
 *   - the guest itself may read only CALLBACK_IRQ, VM86_TSS,
 *     VM86_TSS_SIZED, ACPI_IOPORTS_LOCATION, VM_GENERATION_ID_ADDR,
 *     STORE_PFN, STORE_EVTCHN, CONSOLE_PFN, CONSOLE_EVTCHN, ALTP2M,
 *     X87_FIP_WIDTH; anything else is -XEN_EPERM.
 *   - the guest itself may write only CALLBACK_IRQ, VM86_TSS,
 *     VM86_TSS_SIZED, ACPI_IOPORTS_LOCATION, VM_GENERATION_ID_ADDR,
 *     STORE_EVTCHN, CONSOLE_EVTCHN, X87_FIP_WIDTH; anything else -XEN_EPERM.
 *   - write-once parameters (VIRIDIAN, IOREQ_SERVER_PFN,
 *     NR_IOREQ_SERVER_PAGES, ALTP2M, MCA_CAP): changing a non-zero value
 *     to a different one is -XEN_EEXIST, for the control domain too.
 *   - value checks: TIMER_MODE <= HVMPTM_one_missed_tick_pending,
 *     X87_FIP_WIDTH in {0, 4, 8}, otherwise -XEN_EINVAL.
 * The control domain (toolstack) may read and write every index.
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
 * Returns 0, -XEN_EINVAL, -XEN_EPERM or -XEN_EEXIST as listed above.
 */
int hvm_param_set(struct hvm_params *p, uint32_t index, uint64_t value,
                  enum hvm_param_caller who);

#endif
