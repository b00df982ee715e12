/* evtchn.c — guest event channel layer (see include/xenkern/evtchn.h). */
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>

#include "xenkern/evtchn.h"
#include "xenkern/hypercall.h"
#include "xenkern/shared.h"
#include "xenkern/smp.h"

#define BITS_PER_WORD 64

static struct {
    evtchn_handler_t fn;
    void *arg;
} handlers[EVTCHN_2L_NR_PORTS];

void evtchn_set_handler(evtchn_port_t port, evtchn_handler_t h, void *arg)
{
    if (port < EVTCHN_2L_NR_PORTS) {
        handlers[port].arg = arg;
        __atomic_store_n(&handlers[port].fn, h, __ATOMIC_RELEASE);
    }
}

void evtchn_count(evtchn_port_t port, void *arg)
{
    (void)port;
    __atomic_fetch_add((volatile unsigned int *)arg, 1, __ATOMIC_SEQ_CST);
}

static int bound(long rc, evtchn_port_t port, evtchn_handler_t h, void *arg)
{
    if (rc < 0)
        return (int)rc;
    evtchn_set_handler(port, h, arg);
    return (int)port;
}

int evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_handler_t h,
                     void *arg)
{
    struct evtchn_bind_virq op = {.virq = virq, .vcpu = vcpu};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &op);
    return bound(rc, op.port, h, arg);
}

int evtchn_bind_ipi(uint32_t vcpu, evtchn_handler_t h, void *arg)
{
    struct evtchn_bind_ipi op = {.vcpu = vcpu};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &op);
    return bound(rc, op.port, h, arg);
}

int evtchn_alloc_unbound(domid_t remote_dom, evtchn_handler_t h, void *arg)
{
    struct evtchn_alloc_unbound op = {.dom = DOMID_SELF,
                                      .remote_dom = remote_dom};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &op);
    return bound(rc, op.port, h, arg);
}

int evtchn_bind_interdomain(domid_t remote_dom, evtchn_port_t remote_port,
                            evtchn_handler_t h, void *arg)
{
    struct evtchn_bind_interdomain op = {.remote_dom = remote_dom,
                                         .remote_port = remote_port};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &op);
    return bound(rc, op.local_port, h, arg);
}

int evtchn_send(evtchn_port_t port)
{
    struct evtchn_send op = {.port = port};
    return (int)HYPERVISOR_event_channel_op(EVTCHNOP_send, &op);
}

int evtchn_close(evtchn_port_t port)
{
    struct evtchn_close op = {.port = port};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_close, &op);
    if (rc == 0)
        evtchn_set_handler(port, NULL, NULL);
    return (int)rc;
}

int evtchn_bind_vcpu(evtchn_port_t port, uint32_t vcpu)
{
    struct evtchn_bind_vcpu op = {.port = port, .vcpu = vcpu};
    return (int)HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &op);
}

void evtchn_mask(evtchn_port_t port)
{
    if (shared_info && port < EVTCHN_2L_NR_PORTS)
        __atomic_fetch_or(&shared_info->evtchn_mask[port / BITS_PER_WORD],
                          1UL << (port % BITS_PER_WORD), __ATOMIC_SEQ_CST);
}

int evtchn_unmask(evtchn_port_t port)
{
    struct evtchn_unmask op = {.port = port};
    return (int)HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &op);
}

int evtchn_status(evtchn_port_t port, struct evtchn_status *st)
{
    st->dom = DOMID_SELF;
    st->port = port;
    return (int)HYPERVISOR_event_channel_op(EVTCHNOP_status, st);
}

static int test_word_bit(const xen_ulong_t *words, evtchn_port_t port)
{
    if (!shared_info || port >= EVTCHN_2L_NR_PORTS)
        return 0;
    return (__atomic_load_n(&words[port / BITS_PER_WORD], __ATOMIC_ACQUIRE) >>
            (port % BITS_PER_WORD)) &
           1;
}

int evtchn_is_pending(evtchn_port_t port)
{
    return shared_info ? test_word_bit(shared_info->evtchn_pending, port) : 0;
}

int evtchn_is_masked(evtchn_port_t port)
{
    return shared_info ? test_word_bit(shared_info->evtchn_mask, port) : 0;
}

unsigned int evtchn_poll(void)
{
    struct vcpu_info *vi = vcpu_info_of(smp_id());
    unsigned int handled = 0;
    xen_ulong_t sel;

    if (!vi || !shared_info)
        return 0;
    __atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (sel) {
        unsigned int w = (unsigned int)__builtin_ctzl(sel);
        xen_ulong_t bits;

        sel &= sel - 1;
        bits =
            __atomic_load_n(&shared_info->evtchn_pending[w], __ATOMIC_ACQUIRE) &
            ~__atomic_load_n(&shared_info->evtchn_mask[w], __ATOMIC_ACQUIRE);
        /* Claim exactly the bits we will handle. */
        bits &= __atomic_fetch_and(&shared_info->evtchn_pending[w], ~bits,
                                   __ATOMIC_SEQ_CST);
        while (bits) {
            unsigned int b = (unsigned int)__builtin_ctzl(bits);
            evtchn_port_t port = w * BITS_PER_WORD + b;
            evtchn_handler_t fn =
                __atomic_load_n(&handlers[port].fn, __ATOMIC_ACQUIRE);

            bits &= bits - 1;
            handled++;
            if (fn)
                fn(port, handlers[port].arg);
        }
    }
    return handled;
}
