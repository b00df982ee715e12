/*
 * vcpu.c — the vCPU thread: KVM_RUN, and every exit KVM hands to user
 * space.  The hypercall door is an `out` to XENHV_HCALL_PORT; the guest's
 * registers come from the kvm_run sync area and rax goes back the same way
 * (one exit, no extra ioctl).  Anything a guest does that KVM cannot run —
 * a triple fault, an internal error, a failed entry — crashes this domain
 * only, with the reason in its log.
 */
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <xen/errno.h>
#include <xen/sched.h>

#include "domain_priv.h"
#include "hypercall.h"
#include "xenhv_layout.h"
#include "sched_op.h"
#include "vcpu.h"
#include "xen_cpuid.h"

#define EFER_LMA (1ULL << 10)

static void sigusr1_noop(int sig)
{
    (void)sig;
}

/* Mark v up (d->lock held): it leaves RUNSTATE_offline. */
static void vcpu_mark_up(struct vcpu *v)
{
    if (v->up)
        return;
    v->up = true;
    v->initialised = true;
    runstate_change(v, RUNSTATE_running);
}

void vcpu_serve_requests(struct vcpu *v)
{
    unsigned int req = v->requests;

    if (!req)
        return;
    v->requests = 0;
    if (req & VCPU_REQ_START) {
        int rc = kvm_vcpu_set_hvm_context(v->fd, &v->ctx);
        if (rc)
            fprintf(stderr, "xen-hv: vCPU %u: loading context: %s\n",
                    v->vcpu_id, strerror(-rc));
        else
            vcpu_mark_up(v);
    }
    if (req & VCPU_REQ_QUERY_MP_STATE) {
        int mp = kvm_vcpu_get_mp_state(v->fd);
        if (mp == KVM_MP_STATE_RUNNABLE || mp == KVM_MP_STATE_HALTED)
            vcpu_mark_up(v);
    }
    v->req_seq++;
    pthread_cond_broadcast(&v->cond);
}

static void handle_hypercall(struct vcpu *v, bool from_page)
{
    struct kvm_regs *r = &v->run->s.regs.regs;
    const struct kvm_sregs *sr = &v->run->s.regs.sregs;
    struct hypercall_args a;
    unsigned long nr;
    long ret;

    a.is_64 = (sr->efer & EFER_LMA) && sr->cs.l;
    /*
     * From the page, rip is the stub's `out` (KVM's fast PIO path) or the
     * byte after it (the instruction emulator completes an OUT before it
     * exits, as kvm_pvm does for all of guest ring 0): slot offset 0 or 2.
     */
    if (from_page)
        nr = ((r->rip & 31) == 0 || (r->rip & 31) == 2) ? (r->rip & 0xfff) >> 5
                                                        : ~0UL;
    else
        nr = a.is_64 ? r->rax : (uint32_t)r->rax;
    if (sr->ss.dpl != 0) {
        ret = -XEN_EPERM; /* hypercalls from guest user mode */
    } else if (a.is_64) {
        a.a[0] = r->rdi;
        a.a[1] = r->rsi;
        a.a[2] = r->rdx;
        a.a[3] = r->r10;
        a.a[4] = r->r8;
        ret = hypercall_dispatch(v, nr, &a);
    } else {
        a.a[0] = (uint32_t)r->rbx;
        a.a[1] = (uint32_t)r->rcx;
        a.a[2] = (uint32_t)r->rdx;
        a.a[3] = (uint32_t)r->rsi;
        a.a[4] = (uint32_t)r->rdi;
        ret = hypercall_dispatch(v, nr, &a);
    }
    r->rax = a.is_64 ? (uint64_t)ret : (uint32_t)ret;
    v->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}

/* count_port — the debug histogram of XENHV_VCPU_STATS: the first 32
 * distinct ports, and how often each exited. */
static void count_port(struct vcpu *v, uint16_t port)
{
    for (unsigned int i = 0; i < 32; i++) {
        if (v->top_port_n[i] && v->top_port[i] != port)
            continue;
        v->top_port[i] = port;
        v->top_port_n[i]++;
        return;
    }
}

static void handle_io(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    size_t len = (size_t)run->io.size * run->io.count;

    count_port(v, run->io.port);
    if (run->io.direction == KVM_EXIT_IO_IN) {
        /*
         * Nothing is there: all ones, as Xen's null handler answers a PVH
         * guest.  Two exceptions read 0: the ACPI sleep status register
         * (no wake-up pending), and PIT counter 2 (0x42).  Linux's quick
         * PIT calibration waits for that counter's MSB to leave 0xff for
         * up to 50,000 iterations of two reads: 100,000 exits that end in
         * "Fast TSC calibration failed" anyway.  Reading 0 ends it at the
         * first read with the same result (seconds where exits are slow).
         */
        memset(data,
               run->io.port == XENHV_ACPI_SLEEP_STATUS_PORT ||
                       run->io.port == XENHV_PIT_COUNTER2_PORT
                   ? 0
                   : 0xff,
               len);
        return;
    }
    switch (run->io.port) {
    case XENHV_HCALL_PORT:
        handle_hypercall(v, true);
        break;
    case XENHV_HCALL_EAX_PORT:
        handle_hypercall(v, false);
        break;
    case XENHV_NULL_PORT:
        break;
    case XENHV_DEBUG_PORT:
        console_log_write(&v->d->log, (const char *)data, len);
        break;
    case XENHV_ACPI_SLEEP_CONTROL_PORT:
        /* S5 (soft off) is the only sleep state the DSDT offers. */
        if ((data[0] & XENHV_ACPI_SLP_EN) &&
            ((data[0] >> 2) & 7) == XENHV_ACPI_S5_TYP)
            domain_shutdown(v->d, SHUTDOWN_poweroff);
        break;
    case XENHV_ACPI_RESET_PORT:
        if (data[0] == XENHV_ACPI_RESET_VALUE)
            domain_shutdown(v->d, SHUTDOWN_reboot);
        break;
    default:
        break; /* writes to absent devices are dropped */
    }
}

static void handle_wrmsr(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    uint64_t val = run->msr.data;

    run->msr.error = 1; /* #GP unless handled below */
    if (run->msr.index == XENHV_HYPERCALL_MSR) {
        /* Low 12 bits: page index (Xen offers one page); rest: gpa. */
        uint8_t *page = gmem_ptr(&v->d->gmem, val & ~0xfffULL, 4096);
        if ((val & 0xfff) == 0 && page) {
            hypercall_page_write(page);
            run->msr.error = 0;
        }
    }
}

static void handle_mmio(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    if (!run->mmio.is_write)
        memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
}

/* Returns false when the vCPU must stop. */
static bool handle_exit(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    struct domain *d = v->d;

    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        handle_io(v);
        return true;
    case KVM_EXIT_X86_WRMSR:
        handle_wrmsr(v);
        return true;
    case KVM_EXIT_X86_RDMSR:
        run->msr.error = 1;
        return true;
    case KVM_EXIT_MMIO:
        handle_mmio(v);
        return true;
    case KVM_EXIT_HLT:
        return true;
    case KVM_EXIT_SHUTDOWN:
        domain_crash(d, "vCPU %u triple fault at rip %#llx", v->vcpu_id,
                     (unsigned long long)run->s.regs.regs.rip);
        return false;
    case KVM_EXIT_INTERNAL_ERROR:
        domain_crash(d, "vCPU %u: KVM internal error, suberror %u, rip %#llx%s",
                     v->vcpu_id, run->internal.suberror,
                     (unsigned long long)run->s.regs.regs.rip,
                     d->kvm->is_kvm_pvm ? " (kvm_pvm cannot run some ring-0 "
                                          "instructions: cmpxchg16b, xrstor, "
                                          "int3)"
                                        : "");
        return false;
    case KVM_EXIT_FAIL_ENTRY:
        domain_crash(
            d, "vCPU %u: VM entry failed, reason %#llx", v->vcpu_id,
            (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        return false;
    case KVM_EXIT_SYSTEM_EVENT:
        switch (run->system_event.type) {
        case KVM_SYSTEM_EVENT_RESET:
            domain_shutdown(d, SHUTDOWN_reboot);
            break;
        case KVM_SYSTEM_EVENT_CRASH:
            domain_crash(d, "vCPU %u: system crash event", v->vcpu_id);
            break;
        default:
            domain_shutdown(d, SHUTDOWN_poweroff);
            break;
        }
        return false;
    }
    domain_crash(d, "vCPU %u: unexpected KVM exit %u", v->vcpu_id,
                 run->exit_reason);
    return false;
}

void *vcpu_thread(void *arg)
{
    struct vcpu *v = arg;
    struct domain *d = v->d;
    struct sigaction sa;
    sigset_t set;
    char name[16];

    /* "d<domid>v<vcpu>": what top -H, ps -L and xl's tests see. */
    snprintf(name, sizeof(name), "d%uv%u", (unsigned int)d->domid, v->vcpu_id);
    pthread_setname_np(pthread_self(), name);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sigusr1_noop; /* no SA_RESTART: KVM_RUN returns EINTR */
    sigaction(SIGUSR1, &sa, NULL);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);

    v->schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);

    pthread_mutex_lock(&d->lock);
    if (v->vcpu_id == 0)
        vcpu_mark_up(v);
    pthread_mutex_unlock(&d->lock);

    for (;;) {
        int r;

        pthread_mutex_lock(&d->lock);
        vcpu_serve_requests(v);
        if (d->paused && !d->is_shutting_down) {
            /* Paused by the control domain: offline until unpaused. */
            int was = v->runstate.state;
            if (v->up)
                runstate_change(v, RUNSTATE_offline);
            while (d->paused && !d->is_shutting_down) {
                vcpu_serve_requests(v);
                pthread_cond_wait(&v->cond, &d->lock);
            }
            if (v->up)
                runstate_change(v, was);
        }
        if (d->is_shutting_down) {
            pthread_mutex_unlock(&d->lock);
            break;
        }
        pthread_mutex_unlock(&d->lock);

        r = ioctl(v->fd, KVM_RUN, 0);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                __atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
                continue;
            }
            domain_crash(d, "vCPU %u: KVM_RUN: %s", v->vcpu_id,
                         strerror(errno));
            break;
        }
        v->nr_exits++;
        switch (v->run->exit_reason) {
        case KVM_EXIT_IO:
            v->nr_exit_reason[0]++;
            break;
        case KVM_EXIT_MMIO:
            v->nr_exit_reason[1]++;
            break;
        case KVM_EXIT_X86_RDMSR:
        case KVM_EXIT_X86_WRMSR:
            v->nr_exit_reason[2]++;
            break;
        case KVM_EXIT_HLT:
            v->nr_exit_reason[3]++;
            break;
        default:
            v->nr_exit_reason[4]++;
            break;
        }
        {
            const struct kvm_sregs *sr = &v->run->s.regs.sregs;
            v->paging.cr0 = sr->cr0;
            v->paging.cr3 = sr->cr3;
            v->paging.cr4 = sr->cr4;
            v->paging.efer = sr->efer;
        }
        if (!v->up) {
            /* Started by INIT/SIPI inside KVM: it is running now. */
            pthread_mutex_lock(&d->lock);
            vcpu_mark_up(v);
            pthread_mutex_unlock(&d->lock);
        }
        if (!handle_exit(v))
            break;
    }

    pthread_mutex_lock(&d->lock);
    if (v->up)
        runstate_change(v, RUNSTATE_offline);
    pthread_mutex_unlock(&d->lock);
    if (v->schedstat_fd >= 0)
        close(v->schedstat_fd);
    return NULL;
}
