/*
 * sched_op.c — __HYPERVISOR_sched_op (<xen/sched.h>), set_timer_op and the
 * per-vCPU singleshot timer (VCPUOP_set_singleshot_timer shares it).
 *
 * Timers run on the domain's libevent loop.  When one expires, VIRQ_TIMER
 * is raised on the vCPU, as Xen's send_timer_event() does; the event
 * channel upcall then wakes the vCPU from SCHEDOP_block.
 */
#include <stdint.h>
#include <sched.h>
#include <string.h>

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
    /* SCHEDOP_poll arrives with event channels (issue #3). */
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
