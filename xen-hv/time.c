/*
 * time.c — system time, pvclock, wall clock and runstate accounting.
 *
 * Every vCPU of a domain gets the same TSC offset; system time 0 is the
 * moment the domain was created, when the guest TSC read tsc_base, and
 * system time is the pvclock scale applied to (guest TSC - tsc_base).  The
 * pvclock record a guest sees (<xen/xen.h> struct vcpu_time_info) is
 * therefore constant — tsc_timestamp tsc_base, system_time 0 — and exact: no
 * rounding between updates can ever make the guest's clock step backwards.
 * xen-hv computes "now" from the host TSC with the very same arithmetic
 * (domain_system_time()).
 */
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <x86intrin.h>
#include <stddef.h>

#include <xen/errno.h>

#include "domain_priv.h"
#include "guest_copy.h"

static bool host_tsc_invariant(void)
{
    char line[4096];
    bool constant = false, nonstop = false;
    FILE *f = fopen("/proc/cpuinfo", "r");

    if (!f)
        return false;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "flags", 5))
            continue;
        constant = strstr(line, " constant_tsc") != NULL;
        nonstop = strstr(line, " nonstop_tsc") != NULL;
        break;
    }
    fclose(f);
    return constant && nonstop;
}

uint64_t domain_system_time(const struct domain *d)
{
    uint64_t guest_tsc = __rdtsc() + (uint64_t)d->tsc_offset;
    return pvclock_scale_delta(guest_tsc - d->tsc_base, &d->scale);
}

int time_init(struct domain *d)
{
    struct timespec wall;
    uint64_t now_ns, host_tsc;
    int khz, rc;

    khz = ioctl(d->vcpus[0]->fd, KVM_GET_TSC_KHZ, 0);
    if (khz <= 0)
        return khz < 0 ? -errno : -EINVAL;
    d->tsc_hz = (uint64_t)khz * 1000;
    pvclock_scale_from_hz(d->tsc_hz, &d->scale);

    /*
     * Keep the TSC offset KVM gave vCPU 0 and give the same to every other
     * vCPU, then call "now" system time 0.  (Setting an offset of our own
     * is not honoured by every host: kvm_pvm accepts it but its emulated
     * ring-0 rdtsc keeps reading the host TSC.  Reading the offset back is
     * right everywhere.)
     */
    d->tsc_stable = host_tsc_invariant();
    rc = kvm_vcpu_get_tsc_offset(d->vcpus[0]->fd, &d->tsc_offset);
    if (rc) {
        d->tsc_offset = 0;
        d->tsc_stable = false;
    }
    for (unsigned int i = 1; i < d->nr_vcpus && rc == 0; i++) {
        if (kvm_vcpu_set_tsc_offset(d->vcpus[i]->fd, d->tsc_offset))
            d->tsc_stable = false; /* each vCPU keeps its own TSC */
    }
    host_tsc = __rdtsc();
    d->tsc_base = host_tsc + (uint64_t)d->tsc_offset;

    clock_gettime(CLOCK_REALTIME, &wall);
    now_ns = domain_system_time(d);
    {
        uint64_t wall_ns = (uint64_t)wall.tv_sec * 1000000000ULL +
                           (uint64_t)wall.tv_nsec - now_ns;
        d->wc_sec = wall_ns / 1000000000ULL;
        d->wc_nsec = wall_ns % 1000000000ULL;
    }
    return 0;
}

void time_update_vcpu(struct vcpu *v)
{
    struct domain *d = v->d;
    struct vcpu_info *vi = vcpu_info_ptr(v);

    if (vi)
        pvclock_write(&vi->time, d->tsc_base, 0, &d->scale, d->tsc_stable);
    if (v->time_area_gva != INVALID_GVA &&
        pthread_equal(pthread_self(), v->thread)) {
        struct vcpu_time_info t;
        memset(&t, 0, sizeof(t));
        pvclock_write(&t, d->tsc_base, 0, &d->scale, d->tsc_stable);
        /* Odd version first, then the record, then the even version. */
        uint32_t odd = t.version - 1;
        if (copy_to_guest(v, v->time_area_gva, &odd, sizeof(odd)) == 0) {
            __atomic_thread_fence(__ATOMIC_RELEASE);
            t.version = odd;
            copy_to_guest(v, v->time_area_gva, &t, sizeof(t));
            __atomic_thread_fence(__ATOMIC_RELEASE);
            t.version = odd + 1;
            copy_to_guest(v, v->time_area_gva, &t.version, sizeof(t.version));
        }
    }
}

void time_update_wallclock(struct domain *d)
{
    struct shared_info *s = d->shared_info;
    volatile uint32_t *ver = &s->wc_version;

    *ver = *ver + 1 + (*ver & 1); /* odd */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    s->wc_sec = (uint32_t)d->wc_sec;
    s->wc_nsec = (uint32_t)d->wc_nsec;
    s->wc_sec_hi = (uint32_t)(d->wc_sec >> 32);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    *ver = *ver + 1; /* even */
}

/* Read this thread's run and run-queue wait times (ns). */
static bool read_schedstat(struct vcpu *v, uint64_t *run, uint64_t *wait)
{
    char buf[128];
    ssize_t n;
    unsigned long long r, w;

    if (v->schedstat_fd < 0)
        return false;
    n = pread(v->schedstat_fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return false;
    buf[n] = 0;
    if (sscanf(buf, "%llu %llu", &r, &w) != 2)
        return false;
    *run = r;
    *wait = w;
    return true;
}

static void runstate_write_guest(struct vcpu *v)
{
    struct domain *d = v->d;
    struct vcpu_runstate_info rs = v->runstate;
    bool flag = d->vm_assist & (1UL << VMASST_TYPE_runstate_update_flag);
    size_t off = offsetof(struct vcpu_runstate_info, state_entry_time);

    if (v->runstate_gva == INVALID_GVA ||
        !pthread_equal(pthread_self(), v->thread))
        return;
    if (flag) {
        /* Xen's protocol: flag set, data, flag clear, with barriers. */
        uint64_t t = rs.state_entry_time | XEN_RUNSTATE_UPDATE;
        if (copy_to_guest(v, v->runstate_gva + off, &t, sizeof(t)))
            return;
        __atomic_thread_fence(__ATOMIC_RELEASE);
        rs.state_entry_time = t;
        if (copy_to_guest(v, v->runstate_gva, &rs, sizeof(rs)))
            return;
        __atomic_thread_fence(__ATOMIC_RELEASE);
        t &= ~XEN_RUNSTATE_UPDATE;
        copy_to_guest(v, v->runstate_gva + off, &t, sizeof(t));
    } else {
        copy_to_guest(v, v->runstate_gva, &rs, sizeof(rs));
    }
}

void runstate_change(struct vcpu *v, int state)
{
    struct vcpu_runstate_info *rs = &v->runstate;
    uint64_t now = domain_system_time(v->d);
    uint64_t elapsed =
        now > rs->state_entry_time ? now - rs->state_entry_time : 0;
    uint64_t run = 0, wait = 0;
    bool have = read_schedstat(v, &run, &wait);

    if (rs->state == RUNSTATE_offline) {
        rs->time[RUNSTATE_offline] += elapsed;
    } else if (have && v->sched_valid) {
        /*
         * Split the interval by what the thread really did: on a CPU
         * (running), waiting for one (runnable: steal time), asleep in
         * SCHEDOP_block or in the in-kernel HLT (blocked).
         */
        uint64_t dwait = wait - v->sched_wait_ns;
        uint64_t drun = run - v->sched_run_ns;
        if (dwait > elapsed)
            dwait = elapsed;
        if (drun > elapsed - dwait)
            drun = elapsed - dwait;
        rs->time[RUNSTATE_runnable] += dwait;
        rs->time[RUNSTATE_running] += drun;
        rs->time[RUNSTATE_blocked] += elapsed - dwait - drun;
    } else {
        rs->time[rs->state] += elapsed;
    }
    if (have) {
        v->sched_run_ns = run;
        v->sched_wait_ns = wait;
        v->sched_valid = true;
    }
    rs->state = state;
    rs->state_entry_time = now;
    runstate_write_guest(v);
}

void runstate_refresh(struct vcpu *v)
{
    runstate_change(v, v->runstate.state);
}
