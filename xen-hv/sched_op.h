/* sched_op.h — the singleshot timer shared by sched_op.c and vcpu_op.c. */
#ifndef XENHV_SCHED_OP_H
#define XENHV_SCHED_OP_H

#include <stdint.h>

#include <event2/event.h>

#include "domain_priv.h"

/* sched_timer_set — arm v's singleshot timer for deadline (system ns). */
void sched_timer_set(struct vcpu *v, uint64_t deadline_ns);
/* sched_timer_stop — disarm it (no event is delivered). */
void sched_timer_stop(struct vcpu *v);
/*
 * sched_timer_event — deliver v's timer event now (d->lock not held):
 * wakes v from SCHEDOP_block; VIRQ_TIMER once event channels exist.
 */
void sched_timer_event(struct vcpu *v);
/*
 * sched_periodic_set — VCPUOP_set_periodic_timer: a timer event every
 * period_ns (>= 1 ms), or none when period_ns is 0.
 */
void sched_periodic_set(struct vcpu *v, uint64_t period_ns);
/* sched_periodic_fire — libevent callback (arg = struct vcpu *). */
void sched_periodic_fire(evutil_socket_t fd, short what, void *arg);
/* sched_timer_fire — libevent callback (arg = struct vcpu *). */
void sched_timer_fire(evutil_socket_t fd, short what, void *arg);

/*
 * sched_poll_wake — the event channel host op `pending` (evtchn.h): port
 * of the domain host_dom (struct domain *) was made pending; wake its
 * vCPUs in SCHEDOP_poll on that port, or on several ports (Xen's
 * evtchn_check_pollers()).  Called with the event channel lock held;
 * takes d->lock (lock order: event channels, then d->lock).
 */
void sched_poll_wake(void *host_dom, uint32_t port);

/*
 * vcpu_serve_requests — do what other threads asked of v (vcpu.c); v's own
 * thread, d->lock held.
 */
void vcpu_serve_requests(struct vcpu *v);

#endif
