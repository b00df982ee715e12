/*
 * vcpu_op.c — __HYPERVISOR_vcpu_op (<xen/vcpu.h>) for PVH vCPUs, following
 * Xen 4.17's do_vcpu_op() (common/domain.c) and arch_initialise_vcpu():
 * a bad vCPU id is -XEN_ENOENT before anything else; unknown ops
 * -XEN_ENOSYS.
 */
#include <stdint.h>
#include <string.h>

#include <xen/errno.h>
#include <xen/vcpu.h>

#include "guest_copy.h"
#include "hypercall.h"
#include "sched_op.h"

/* Xen's largest timer delta (s_time_t >> 2). */
#define STIME_DELTA_MAX (~0ULL >> 2)

static long vcpuop_initialise(struct vcpu *v, struct vcpu *target, gva_t arg)
{
    struct domain *d = v->d;
    struct vcpu_hvm_context ctx;
    long rc;

    if (copy_from_guest(v, &ctx, arg, sizeof(ctx)))
        return -XEN_EFAULT;
    pthread_mutex_lock(&d->lock);
    if (target->initialised) {
        rc = -XEN_EEXIST;
    } else {
        rc = hvm_vcpu_context_check(&ctx);
        if (rc == 0) {
            target->ctx = ctx;
            target->initialised = true;
        }
    }
    pthread_mutex_unlock(&d->lock);
    return rc;
}

static long vcpuop_up(struct vcpu *v, struct vcpu *target)
{
    struct domain *d = v->d;
    bool start;

    pthread_mutex_lock(&d->lock);
    if (!target->initialised) {
        pthread_mutex_unlock(&d->lock);
        return -XEN_EINVAL;
    }
    start = !target->up;
    pthread_mutex_unlock(&d->lock);
    if (start)
        return vcpu_request(v, target, VCPU_REQ_START);
    return 0;
}

static long vcpuop_is_up(struct vcpu *v, struct vcpu *target)
{
    struct domain *d = v->d;
    bool up;

    pthread_mutex_lock(&d->lock);
    up = target->up;
    pthread_mutex_unlock(&d->lock);
    if (!up && target != v) {
        /* It may have been started by INIT/SIPI inside KVM: ask it. */
        if (vcpu_request(v, target, VCPU_REQ_QUERY_MP_STATE))
            return -XEN_ESRCH;
        pthread_mutex_lock(&d->lock);
        up = target->up;
        pthread_mutex_unlock(&d->lock);
    }
    return up ? 1 : 0;
}

static long vcpuop_register_vcpu_info(struct vcpu *v, struct vcpu *target,
                                      gva_t arg)
{
    struct domain *d = v->d;
    struct vcpu_register_vcpu_info info;
    struct vcpu_info *oldp, *newp;
    gpa_t gpa;
    long rc = 0;

    if (copy_from_guest(v, &info, arg, sizeof(info)))
        return -XEN_EFAULT;
    /* Xen 4.17 map_vcpu_info(): a bad offset or alignment is ENXIO. */
    if (info.offset > GMEM_PAGE_SIZE - sizeof(struct vcpu_info) ||
        (info.offset & (_Alignof(struct vcpu_info) - 1)))
        return -XEN_ENXIO;
    if (info.mfn > (UINT64_MAX >> GMEM_PAGE_SHIFT))
        return -XEN_EINVAL;
    gpa = (info.mfn << GMEM_PAGE_SHIFT) + info.offset;
    pthread_mutex_lock(&d->lock);
    if (target->vcpu_info_gpa != INVALID_GPA || (target != v && target->up)) {
        rc = -XEN_EINVAL;
        goto out;
    }
    newp = gmem_ptr(&d->gmem, gpa, sizeof(*newp));
    if (!newp) {
        rc = -XEN_EINVAL;
        goto out;
    }
    oldp = vcpu_info_ptr(target);
    if (oldp)
        memmove(newp, oldp, sizeof(*newp));
    else
        memset(newp, 0, sizeof(*newp));
    target->vcpu_info_gpa = gpa;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    /* As Xen: mark everything pending so that nothing is lost. */
    newp->evtchn_pending_sel = ~0UL;
    newp->evtchn_upcall_pending = 1;
    time_update_vcpu(target);
out:
    pthread_mutex_unlock(&d->lock);
    if (rc == 0)
        domain_assert_evtchn_irq(target); /* Xen: arch_evtchn_inject() */
    return rc;
}

long do_vcpu_op(struct vcpu *v, const struct hypercall_args *a)
{
    int cmd = (int)a->a[0];
    unsigned int vcpuid = (unsigned int)a->a[1];
    gva_t arg = a->a[2];
    struct domain *d = v->d;
    struct vcpu *target;

    if (vcpuid >= d->nr_vcpus)
        return -XEN_ENOENT;
    target = d->vcpus[vcpuid];

    switch (cmd) {
    case VCPUOP_initialise:
        return vcpuop_initialise(v, target, arg);

    case VCPUOP_up:
        return vcpuop_up(v, target);

    case VCPUOP_is_up:
        return vcpuop_is_up(v, target);

    case VCPUOP_get_runstate_info: {
        struct vcpu_runstate_info rs;
        uint64_t now;
        pthread_mutex_lock(&d->lock);
        rs = target->runstate;
        /*
         * Xen's vcpu_runstate_get(): the open interval is charged to the
         * current state; state_entry_time stays as it is.
         */
        now = domain_system_time(d);
        if (now > rs.state_entry_time)
            rs.time[rs.state] += now - rs.state_entry_time;
        pthread_mutex_unlock(&d->lock);
        return copy_to_guest(v, arg, &rs, sizeof(rs)) ? -XEN_EFAULT : 0;
    }

    case VCPUOP_register_runstate_memory_area: {
        struct vcpu_register_runstate_memory_area area;
        if (copy_from_guest(v, &area, arg, sizeof(area)))
            return -XEN_EFAULT;
        pthread_mutex_lock(&d->lock);
        target->runstate_gva = (gva_t)area.addr.p;
        if (target == v)
            runstate_refresh(v);
        pthread_mutex_unlock(&d->lock);
        return 0;
    }

    case VCPUOP_register_vcpu_time_memory_area: {
        struct vcpu_register_time_memory_area area;
        if (copy_from_guest(v, &area, arg, sizeof(area)))
            return -XEN_EFAULT;
        pthread_mutex_lock(&d->lock);
        target->time_area_gva = (gva_t)area.addr.p;
        time_update_vcpu(target);
        pthread_mutex_unlock(&d->lock);
        return 0;
    }

    case VCPUOP_register_vcpu_info:
        return vcpuop_register_vcpu_info(v, target, arg);

    case VCPUOP_set_singleshot_timer: {
        struct vcpu_set_singleshot_timer set;
        if (target != v)
            return -XEN_EINVAL;
        if (copy_from_guest(v, &set, arg, sizeof(set)))
            return -XEN_EFAULT;
        __atomic_add_fetch(&v->nr_timer_set, 1, __ATOMIC_RELAXED);
        /*
         * Xen 4.17 ignores VCPU_SSHOTTMR_future (vcpu.h allows it): a
         * deadline already passed delivers the timer event at once.
         */
        if (set.timeout_abs_ns < domain_system_time(d)) {
            sched_timer_stop(v);
            sched_timer_event(v);
            return 0;
        }
        sched_timer_set(v, set.timeout_abs_ns);
        return 0;
    }

    case VCPUOP_stop_singleshot_timer:
        if (target != v)
            return -XEN_EINVAL;
        sched_timer_stop(v);
        return 0;

    case VCPUOP_set_periodic_timer: {
        struct vcpu_set_periodic_timer set;
        if (copy_from_guest(v, &set, arg, sizeof(set)))
            return -XEN_EFAULT;
        if (set.period_ns < 1000000ULL || set.period_ns > STIME_DELTA_MAX)
            return -XEN_EINVAL;
        sched_periodic_set(target, set.period_ns);
        return 0;
    }

    case VCPUOP_stop_periodic_timer:
        sched_periodic_set(target, 0);
        return 0;

    case VCPUOP_get_physid:
        return -XEN_EINVAL; /* only the hardware domain's pinned vCPUs */
    }
    return -XEN_ENOSYS;
}
