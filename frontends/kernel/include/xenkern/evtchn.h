/*
 * evtchn.h — the guest's event channel layer (<xen/event_channel.h>, the
 * 2-level ABI of shared_info/vcpu_info in <xen/xen.h>).
 *
 * Bind a port with a handler; evtchn_poll() (called after SCHEDOP_block,
 * or from an upcall vector handler) consumes the current vCPU's pending
 * events the way Xen's 2-level ABI asks: clear evtchn_upcall_pending,
 * exchange evtchn_pending_sel with 0, then for each selected word take
 * pending & ~mask, clear those pending bits atomically and run each
 * port's handler.  Handlers run on the vCPU the port notifies.
 *
 * Every function returns >= 0 (a port, or 0) or a negative Xen errno from
 * the hypercall (-XEN_EINVAL, -XEN_ENOSPC, ...).
 */
#ifndef XENKERN_EVTCHN_H
#define XENKERN_EVTCHN_H

#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>

/* 2-level on x86_64: 64 words of 64 bits. */
#define EVTCHN_2L_NR_PORTS 4096

typedef void (*evtchn_handler_t)(evtchn_port_t port, void *arg);

/* evtchn_bind_virq — VIRQ_* on vCPU vcpu; handler may be NULL. */
int evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_handler_t h,
                     void *arg);
/* evtchn_bind_ipi — a port whose sends notify vCPU vcpu. */
int evtchn_bind_ipi(uint32_t vcpu, evtchn_handler_t h, void *arg);
/* evtchn_alloc_unbound — a port remote_dom (DOMID_SELF ok) may bind. */
int evtchn_alloc_unbound(domid_t remote_dom, evtchn_handler_t h, void *arg);
/* evtchn_bind_interdomain — connect to remote_port of remote_dom. */
int evtchn_bind_interdomain(domid_t remote_dom, evtchn_port_t remote_port,
                            evtchn_handler_t h, void *arg);
/*
 * evtchn_count — a handler that counts its port's events: arg is a
 * volatile unsigned int * (see sched_wait_count()).
 */
void evtchn_count(evtchn_port_t port, void *arg);

/* evtchn_set_handler — (re)attach a handler to a bound port. */
void evtchn_set_handler(evtchn_port_t port, evtchn_handler_t h, void *arg);
int evtchn_send(evtchn_port_t port);
int evtchn_close(evtchn_port_t port);
/* evtchn_bind_vcpu — deliver port's events to vCPU vcpu. */
int evtchn_bind_vcpu(evtchn_port_t port, uint32_t vcpu);
/* evtchn_mask — set the port's mask bit (guest side, no hypercall). */
void evtchn_mask(evtchn_port_t port);
/* evtchn_unmask — clear the mask via EVTCHNOP_unmask (Xen re-raises). */
int evtchn_unmask(evtchn_port_t port);
/* evtchn_status — EVTCHNOP_status of own port into *st. */
int evtchn_status(evtchn_port_t port, struct evtchn_status *st);

/* evtchn_is_pending / evtchn_is_masked — read the shared bitmaps. */
int evtchn_is_pending(evtchn_port_t port);
int evtchn_is_masked(evtchn_port_t port);

/*
 * evtchn_poll — run the handlers of the current vCPU's pending, unmasked
 * ports.  Returns the number of events handled.
 */
unsigned int evtchn_poll(void);

#endif
