/*
 * sched_op.c — __HYPERVISOR_sched_op (<xen/sched.h>), set_timer_op and the
 * per-vCPU singleshot timer (VCPUOP_set_singleshot_timer shares it).
 *
 * SCHEDOP_poll blocks a vCPU until one of a set of event channel ports is
 * pending; sched_poll_wake(), the event channel core's `pending` host op,
 * ends it.
 *
 * Timers run on the domain's libevent loop.  When one expires, VIRQ_TIMER
 * is raised on the vCPU, as Xen's send_timer_event() does; the event
 * channel upcall then wakes the vCPU from SCHEDOP_block.
 */
#include <stdint.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include <xen/errno.h>
#include <xen/sched.h>

#include "guest_copy.h"
#include "hypercall.h"
#include "sched_op.h"
#include "evtchn.h"

void sched_timer_event(struct vcpu *v)
{
    /*
     * Xen's send_timer_event(): VIRQ_TIMER on this vCPU.  When the guest
     * has not bound it nothing happens, as on Xen.
     */
    __atomic_add_fetch(&v->nr_timer_fired, 1, __ATOMIC_RELAXED);
    evtchn_send_virq(v->d->evtchn, VIRQ_TIMER, v->vcpu_id);
}

/* A timeval for delta_ns, rounded up to whole microseconds. */
static struct timeval ns_to_tv(uint64_t delta_ns)
{
    struct timeval tv = {
        .tv_sec = (time_t)(delta_ns / 1000000000ULL),
        .tv_usec = (suseconds_t)((delta_ns % 1000000000ULL + 999) / 1000),
    };
    if (tv.tv_usec >= 1000000) {
        tv.tv_sec++;
        tv.tv_usec -= 1000000;
    }
    return tv;
}

void sched_timer_fire(evutil_socket_t fd, short what, void *arg)
{
    struct vcpu *v = arg;
    struct domain *d = v->d;
    uint64_t deadline, now;

    pthread_mutex_lock(&d->lock);
    deadline = v->singleshot_deadline;
    now = domain_system_time(d);
    if (deadline && now < deadline) {
        /*
         * libevent's clock (and its cached time) is not the guest's
         * system time: never deliver early — Xen's timers do not — but
         * wait for the rest.
         */
        struct timeval tv = ns_to_tv(deadline - now);
        pthread_mutex_unlock(&d->lock);
        evtimer_add(v->singleshot, &tv);
        return;
    }
    v->singleshot_deadline = 0;
    pthread_mutex_unlock(&d->lock);
    if (deadline)
        sched_timer_event(v);
}

void sched_periodic_fire(evutil_socket_t fd, short what, void *arg)
{
    sched_timer_event(arg);
}

void sched_periodic_set(struct vcpu *v, uint64_t period_ns)
{
    struct timeval tv = {
        .tv_sec = (time_t)(period_ns / 1000000000ULL),
        .tv_usec = (suseconds_t)((period_ns % 1000000000ULL) / 1000),
    };

    evtimer_del(v->periodic);
    if (period_ns)
        evtimer_add(v->periodic, &tv);
}

void sched_timer_set(struct vcpu *v, uint64_t deadline_ns)
{
    struct domain *d = v->d;
    uint64_t now = domain_system_time(d);
    struct timeval tv = ns_to_tv(deadline_ns > now ? deadline_ns - now : 0);

    pthread_mutex_lock(&d->lock);
    v->singleshot_deadline = deadline_ns ? deadline_ns : 1;
    pthread_mutex_unlock(&d->lock);
    evtimer_add(v->singleshot, &tv);
}

void sched_timer_stop(struct vcpu *v)
{
    struct domain *d = v->d;

    evtimer_del(v->singleshot);
    pthread_mutex_lock(&d->lock);
    v->singleshot_deadline = 0;
    pthread_mutex_unlock(&d->lock);
}

/* True when v has something to wake it: an upcall pending. */
static bool vcpu_has_wakeup(struct vcpu *v)
{
    struct vcpu_info *vi = vcpu_info_ptr(v);
    return (vi &&
            __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_ACQUIRE)) ||
           v->d->is_shutting_down;
}

/*
 * SCHEDOP_block: enable event delivery and sleep until an event is
 * pending for v (Xen's vcpu_block_enable_events()).
 */
static long sched_block(struct vcpu *v)
{
    struct domain *d = v->d;
    struct vcpu_info *vi;

    pthread_mutex_lock(&d->lock);
    vi = vcpu_info_ptr(v);
    if (vi)
        vi->evtchn_upcall_mask = 0;
    if (!vcpu_has_wakeup(v)) {
        v->blocked = true;
        runstate_change(v, RUNSTATE_blocked);
        while (!vcpu_has_wakeup(v)) {
            vcpu_serve_requests(v);
            if (vcpu_has_wakeup(v))
                break;
            pthread_cond_wait(&v->cond, &d->lock);
        }
        v->blocked = false;
        runstate_change(v, RUNSTATE_running);
    }
    pthread_mutex_unlock(&d->lock);
    return 0;
}

/* Xen's limit on sched_poll.nr_ports (do_poll(): "fairly arbitrary"). */
#define SCHED_POLL_MAX_PORTS 128
#define X86_RFLAGS_IF        (1ULL << 9)

void sched_poll_wake(void *host_dom, uint32_t port)
{
    struct domain *d = host_dom;

    /* Sends far outnumber polls: no lock while nobody polls. */
    if (!__atomic_load_n(&d->nr_polling, __ATOMIC_ACQUIRE))
        return;
    pthread_mutex_lock(&d->lock);
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        if (v->polling && (v->poll_port == 0 || v->poll_port == port)) {
            v->poll_woken = true;
            pthread_cond_broadcast(&v->cond);
        }
    }
    pthread_mutex_unlock(&d->lock);
}

/*
 * Xen's local_events_need_delivery() for an HVM vCPU: an upcall is
 * pending, it has a vector to arrive by (HVMOP_set_evtchn_upcall_vector
 * or HVM_PARAM_CALLBACK_IRQ), and the guest could take the interrupt now
 * (RFLAGS.IF at the hypercall exit; v's own thread, d->lock held).  With
 * IF clear it stays pending, so it does not end a poll.
 */
static bool poll_events_deliverable(struct vcpu *v)
{
    struct vcpu_info *vi = vcpu_info_ptr(v);

    return vi && (v->upcall_vector || v->d->callback_vector) &&
           __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_ACQUIRE) &&
           (v->run->s.regs.regs.rflags & X86_RFLAGS_IF);
}

/* The host CLOCK_REALTIME instant when system time reaches deadline_ns. */
static struct timespec poll_deadline(struct domain *d, uint64_t deadline_ns)
{
    uint64_t now = domain_system_time(d);
    uint64_t left = deadline_ns > now ? deadline_ns - now : 0;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(left / 1000000000ULL);
    ts.tv_nsec += (long)(left % 1000000000ULL);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Whether SCHEDOP_poll of v is over (d->lock held). */
static bool poll_done(struct vcpu *v, uint64_t timeout_ns)
{
    struct domain *d = v->d;

    return v->poll_woken || d->is_shutting_down || poll_events_deliverable(v) ||
           (timeout_ns && domain_system_time(d) >= timeout_ns);
}

/*
 * SCHEDOP_poll (<xen/sched.h> struct sched_poll), as Xen 4.17's do_poll()
 * (common/sched/core.c): block v until one of the ports is pending,
 * masked or not (Linux's PV spinlocks poll a masked IPI port), until
 * system time reaches timeout (ns, 0 = none) or until an upcall can be
 * delivered.  0 in every such case, at once when a port is already
 * pending; -XEN_EINVAL for more than 128 ports or a port that is not
 * bound (checked in order, up to the first pending one); -XEN_EFAULT for
 * unreadable arguments.  v is marked polling before the ports are looked
 * at, so a send racing with the check still wakes it, as Xen sets its
 * poll_mask first.
 */
static long sched_poll(struct vcpu *v, gva_t arg)
{
    struct domain *d = v->d;
    struct sched_poll sp;
    evtchn_port_t ports[SCHED_POLL_MAX_PORTS];
    long rc = 0;
    bool early;

    if (copy_from_guest(v, &sp, arg, sizeof(sp)))
        return -XEN_EFAULT;
    if (sp.nr_ports > SCHED_POLL_MAX_PORTS)
        return -XEN_EINVAL;
    if (sp.nr_ports && copy_from_guest(v, ports, (gva_t)(uintptr_t)sp.ports.p,
                                       sp.nr_ports * sizeof(ports[0])))
        return -XEN_EFAULT;

    pthread_mutex_lock(&d->lock);
    early = poll_events_deliverable(v);
    if (!early) {
        v->polling = true;
        v->poll_woken = false;
        v->poll_port = sp.nr_ports == 1 ? ports[0] : 0;
        __atomic_add_fetch(&d->nr_polling, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&d->lock);
    if (early)
        return 0; /* Xen: local_events_need_delivery() comes first */

    /* The event channel lock comes before d->lock: not held here. */
    for (unsigned int i = 0; i < sp.nr_ports; i++) {
        int pending = evtchn_poll_port(d->evtchn, ports[i]);
        if (pending) {
            rc = pending < 0 ? -XEN_EINVAL : 0;
            pthread_mutex_lock(&d->lock);
            goto out;
        }
    }

    pthread_mutex_lock(&d->lock);
    v->blocked = true;
    runstate_change(v, RUNSTATE_blocked);
    while (!poll_done(v, sp.timeout)) {
        vcpu_serve_requests(v);
        if (poll_done(v, sp.timeout))
            break;
        if (sp.timeout) {
            struct timespec ts = poll_deadline(d, sp.timeout);
            pthread_cond_timedwait(&v->cond, &d->lock, &ts);
        } else {
            pthread_cond_wait(&v->cond, &d->lock);
        }
    }
    v->blocked = false;
    runstate_change(v, RUNSTATE_running);

out:
    v->polling = false;
    __atomic_sub_fetch(&d->nr_polling, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&d->lock);
    return rc;
}

long do_sched_op(struct vcpu *v, const struct hypercall_args *a)
{
    int cmd = (int)a->a[0];
    gva_t arg = a->a[1];
    struct domain *d = v->d;
    struct sched_shutdown sd;

    switch (cmd) {
    case SCHEDOP_yield:
        sched_yield();
        return 0;

    case SCHEDOP_block:
        return sched_block(v);

    case SCHEDOP_poll:
        return sched_poll(v, arg);

    case SCHEDOP_shutdown:
        if (copy_from_guest(v, &sd, arg, sizeof(sd)))
            return -XEN_EFAULT;
        domain_shutdown(d, (uint8_t)sd.reason);
        return 0;

    case SCHEDOP_shutdown_code:
        if (copy_from_guest(v, &sd, arg, sizeof(sd)))
            return -XEN_EFAULT;
        pthread_mutex_lock(&d->lock);
        if (d->shutdown_code < 0)
            d->shutdown_code = (uint8_t)sd.reason;
        pthread_mutex_unlock(&d->lock);
        return 0;

    case SCHEDOP_remote_shutdown: {
        struct sched_remote_shutdown rs;
        if (copy_from_guest(v, &rs, arg, sizeof(rs)))
            return -XEN_EFAULT;
        /*
         * Only domain 0 and this domain exist for it; it may shut down
         * neither (XSM_DM_PRIV: it is nobody's device model).
         */
        if (rs.domain_id != 0 && rs.domain_id != d->domid)
            return -XEN_ESRCH;
        return -XEN_EPERM;
    }
    }
    return -XEN_ENOSYS;
}

long do_set_timer_op(struct vcpu *v, const struct hypercall_args *a)
{
    int64_t timeout = (int64_t)a->a[0];
    int64_t offset;

    if (!a->is_64) /* 32-bit guests pass the 64-bit time in ebx:ecx */
        timeout = (int64_t)((a->a[1] << 32) | (a->a[0] & 0xffffffffULL));
    offset = timeout - (int64_t)domain_system_time(v->d);
    if (timeout == 0)
        sched_timer_stop(v);
    else if (timeout < 0 || (offset > 0 && (uint32_t)(offset >> 50) != 0))
        /* Xen's guard against wrapped Linux jiffies: fire in 100 ms. */
        sched_timer_set(v, domain_system_time(v->d) + 100000000ULL);
    else
        sched_timer_set(v, (uint64_t)timeout);
    return 0;
}
