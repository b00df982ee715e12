/*
 * sched.h — sleeping with the Xen singleshot timer.
 *
 * sched_sleep_until() arms VCPUOP_set_singleshot_timer (<xen/vcpu.h>) and
 * calls SCHEDOP_block (<xen/sched.h>) until system time reaches the
 * deadline.  On Xen the timer wakes a blocked vCPU only through
 * VIRQ_TIMER, so the first call on each vCPU binds it with
 * EVTCHNOP_bind_virq (<xen/event_channel.h>); -XEN_ENOSYS there is
 * ignored (xen-hv before event channels wakes the vCPU directly).
 * Interrupts stay disabled: the event is noticed, not delivered.
 */
#ifndef XENKERN_SCHED_H
#define XENKERN_SCHED_H

#include <stdint.h>

/*
 * sched_sleep_until — block until system time >= deadline_ns (ns).
 * Returns 0, or the first failing hypercall's -XEN_E* (nothing slept).
 */
int sched_sleep_until(uint64_t deadline_ns);

/*
 * sched_wait_count — block (SCHEDOP_block, woken by any event, with a
 * singleshot timer as the bound) and run event handlers with evtchn_poll()
 * until *count >= n or timeout_ns (ns of system time) have passed.
 * Returns 1 when *count reached n, 0 on timeout.  Use with
 * evtchn_count() as a port's handler and &count as its argument.
 */
int sched_wait_count(volatile unsigned int *count, unsigned int n,
                     uint64_t timeout_ns);

#endif
