/* hypercall.c — dispatcher table and hypercall page (hypercall.h). */
#include <stdint.h>
#include <string.h>

#include <xen/errno.h>

#include "hypercall.h"

#define HYPERCALL_SLOTS 128 /* 4096 / 32 */

static const struct {
    hypercall_fn fn;
    const char *name;
} hypercall_table[HYPERCALL_SLOTS] = {
    [__HYPERVISOR_set_timer_op] = {do_set_timer_op, "set_timer_op"},
    [__HYPERVISOR_xen_version] = {do_xen_version, "xen_version"},
    [__HYPERVISOR_console_io] = {do_console_io, "console_io"},
    [__HYPERVISOR_vm_assist] = {do_vm_assist, "vm_assist"},
    [__HYPERVISOR_vcpu_op] = {do_vcpu_op, "vcpu_op"},
    [__HYPERVISOR_sched_op] = {do_sched_op, "sched_op"},
    [__HYPERVISOR_memory_op] = {do_memory_op, "memory_op"},
    [__HYPERVISOR_hvm_op] = {do_hvm_op, "hvm_op"},
    [__HYPERVISOR_grant_table_op] = {do_grant_table_op, "grant_table_op"},
    [__HYPERVISOR_event_channel_op] = {do_event_channel_op, "event_channel_op"},
};

long hypercall_dispatch(struct vcpu *v, unsigned long nr,
                        const struct hypercall_args *a)
{
    if (nr >= HYPERCALL_SLOTS || !hypercall_table[nr].fn)
        return -XEN_ENOSYS;
    v->nr_hypercalls++;
    return hypercall_table[nr].fn(v, a);
}

const char *hypercall_name(unsigned long nr)
{
    return nr < HYPERCALL_SLOTS ? hypercall_table[nr].name : NULL;
}

void hypercall_page_write(uint8_t *page)
{
    /* Unused bytes are int3, so a jump into the middle of a stub traps. */
    memset(page, 0xcc, 4096);
    for (unsigned int i = 0; i < HYPERCALL_SLOTS; i++) {
        uint8_t *p = page + i * 32;
        /*
         * out %al, $XENHV_HCALL_PORT ; ret — the exit's rip (the out
         * itself, 4 KiB-page aligned like the page) gives the number, so
         * the stub needs no `mov $nr, %eax`: on hosts that emulate guest
         * ring 0 every instruction saved is worth several microseconds.
         * eax is clobbered by the result, as with Xen's own stubs.
         */
        p[0] = 0xe6;
        p[1] = XENHV_HCALL_PORT;
        p[2] = 0xc3;
    }
    /* HVM guests have no HYPERVISOR_iret: ud2, as on Xen. */
    page[__HYPERVISOR_iret * 32] = 0x0f;
    page[__HYPERVISOR_iret * 32 + 1] = 0x0b;
}
