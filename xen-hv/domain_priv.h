/*
 * domain_priv.h — struct domain and struct vcpu, shared by the files of
 * xen-hv that implement hypercalls.  Nothing outside xen-hv/ includes it;
 * the public face of a domain is domain.h.
 *
 * Locking:
 *   d->lock protects every field marked [D] below, of the domain and of all
 *   its vCPUs.  Fields marked [V] belong to the vCPU's own thread and are
 *   touched by no other thread.  [C] fields are constant after creation.
 *   Lock order: d->lock, then d->log.lock.  Never call into KVM for another
 *   vCPU while holding d->lock.
 */
#ifndef XENHV_DOMAIN_PRIV_H
#define XENHV_DOMAIN_PRIV_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <linux/kvm.h>

#include <xen/xen.h>
#include <xen/vcpu.h>
#include <xen/hvm/hvm_vcpu.h>
#include <xen/arch-x86/hvm/start_info.h>

#include "console_log.h"
#include "domain.h"
#include "hcall_patch.h"
#include "gmem.h"
#include "hvm_param.h"
#include "kvm_x86_64.h"
#include "pvclock.h"

/* Port numbers of the hypercall trap (see hypercall.h). */
#define XENHV_HCALL_PORT                                                       \
    0xe4 /* out %al from the hypercall page: the stub's                        \
            offset in the page names the hypercall */
/* XENHV_HCALL_EAX_PORT (0xe6, out %al anywhere: eax names it): hcall_patch.h */
#define XENHV_NULL_PORT      0xe5 /* answered doing nothing (benchmarks) */
#define XENHV_DEBUG_PORT     0xe9 /* byte-wise debug console, as Bochs/QEMU */
#define XENHV_PIT_COUNTER2_PORT 0x42 /* absent PIT: reads 0 (vcpu.c) */

#define INVALID_GPA (~0ULL)
#define P2M_EXTRA_MAX   96 /* grant frames (64) and a few more */
#define P2M_EXTRA_SLOT0 16 /* KVM slots below are RAM and special pages */
#define INVALID_GVA (~0ULL)

/* Snapshot of a vCPU's paging state, for linear address translation. */
struct vcpu_paging {
    uint64_t cr0, cr3, cr4, efer;
};

/* What another thread asked a vCPU thread to do at its next exit. */
enum vcpu_request {
    VCPU_REQ_NONE = 0,
    VCPU_REQ_QUERY_MP_STATE = 1 << 0, /* refresh v->up from KVM */
    VCPU_REQ_START = 1 << 1,          /* load v->ctx and run (VCPUOP_up) */
    VCPU_REQ_PAUSE = 1 << 2,          /* leave KVM_RUN: the domain pauses */
};

struct vcpu {
    struct domain *d;     /* [C] */
    unsigned int vcpu_id; /* [C] also the APIC id */
    int fd;               /* [C] KVM vCPU fd */
    struct kvm_run *run;  /* [C] its kvm_run mapping */
    pthread_t thread;     /* [C] */
    bool thread_started;  /* [C] */
    /* Host CPUs the thread may run on (XEN_DOMCTL_setvcpuaffinity, hard);
     * applied when the thread starts if set before.  [D] */
    cpu_set_t affinity;
    bool has_affinity; /* [D] */
    int schedstat_fd;  /* [V] /proc/thread-self/schedstat */

    /* Xen's vCPU state */
    bool up;                     /* [D] !_VPF_down */
    bool initialised;            /* [D] VCPUOP_initialise done or running */
    struct vcpu_hvm_context ctx; /* [D] context for VCPUOP_up */
    unsigned int requests;       /* [D] enum vcpu_request bits */
    unsigned int req_seq;        /* [D] bumped when requests are served */
    pthread_cond_t cond;         /* [D] wakes block and request waiters */

    gpa_t vcpu_info_gpa;   /* [D] registered vcpu_info, or INVALID_GPA */
    gva_t time_area_gva;   /* [D] secondary vcpu_time_info, or INVALID_GVA */
    gva_t runstate_gva;    /* [D] registered runstate area, or INVALID_GVA */
    uint8_t upcall_vector; /* [D] HVMOP_set_evtchn_upcall_vector, 0 = none */
    struct vcpu_paging paging; /* [V] as of the latest exit */

    /* Timers (sched_op.c) */
    struct event *singleshot;     /* [C] libevent timer */
    uint64_t singleshot_deadline; /* [D] system time ns, 0 = not armed */
    struct event *periodic;       /* [C] libevent persistent timer */
    bool blocked;                 /* [D] inside SCHEDOP_block or _poll */

    /* SCHEDOP_poll (sched_op.c) */
    bool polling;             /* [D] inside SCHEDOP_poll */
    bool poll_woken;          /* [D] a polled port became pending */
    uint32_t poll_port;       /* [D] the one port polled, 0 = several */

    /* Runstate (time.c) */
    struct vcpu_runstate_info runstate;   /* [D] */
    uint64_t sched_run_ns, sched_wait_ns; /* [D] schedstat at last update */
    bool sched_valid;                     /* [D] */

    /* Statistics */
    uint64_t nr_exits;      /* [V] */
    uint64_t copy_ns;       /* [V] time inside GNTTABOP_copy */
    uint64_t copy_bytes;    /* [V] bytes it copied (status okay) */
    uint64_t nr_hypercalls; /* [V] */
    /* Event and timer counts (atomic), printed at destroy with
     * XENHV_VCPU_STATS=1 in the environment: where a guest's events go. */
    uint64_t nr_timer_set;   /* VCPUOP_set_singleshot_timer calls */
    uint64_t nr_timer_fired; /* VIRQ_TIMER sends */
    uint64_t nr_upcalls;     /* upcall vectors injected */
    uint64_t nr_exit_reason[8]; /* [V] io, mmio, msr, hlt, other */
    uint16_t top_port[32];      /* [V] first I/O ports seen (debug) */
    uint64_t top_port_n[32];    /* [V] exits on each */
};

#define MEMMAP_MAX 8

struct domain {
    domid_t domid;              /* [C] */
    xen_domain_handle_t handle; /* [C] UUID */
    char name[64];              /* [C] */
    bool keep_vmcall;           /* [C] domain_config.keep_vmcall */
    pthread_mutex_t lock;
    const struct kvm_host *kvm; /* [C] */
    int vm_fd;                  /* [C] */
    struct event_base *evbase;  /* [C] timers and the main loop */

    /* Memory: RAM and the special pages share one memfd. */
    int mem_fd;         /* [C] */
    uint8_t *mem;       /* [C] host mapping of the whole memfd */
    uint64_t mem_bytes; /* [C] */
    uint64_t ram_bytes; /* [C] */
    struct gmem gmem;   /* [C] guest physical view */
    uint64_t tot_pages; /* [D] pages of RAM the domain has */
    uint64_t max_pages; /* [D] XENMEM_maximum_reservation */
    /*
     * Domains created without memory (domain_populate_physmap): RAM pages
     * populated so far, one bit per page of RAM; NULL for the others.
     * mem/mem_fd/gmem/memmap are set once, by the first populate, on the
     * control thread before the domain ever runs, and constant after.
     */
    uint64_t *populated; /* [D] */
    uint64_t control_ns; /* [D] time the control socket spent on it, ns */
    struct hvm_memmap_table_entry memmap[MEMMAP_MAX]; /* [C] */
    unsigned int nr_memmap;                           /* [C] */

    /* shared_info: a private page until the guest maps it into its RAM. */
    struct shared_info *shared_info;      /* [D] current location (host ptr) */
    struct shared_info *shared_info_priv; /* [C] page before any mapping */
    gpa_t shared_info_gpa;                /* [D] INVALID_GPA while private */

    struct hvm_params params;     /* [D] */
    uint8_t callback_vector;      /* [D] HVM_PARAM_CALLBACK_IRQ type vector */
    struct evtchn_domain *evtchn; /* [C] its event channels (own lock) */
    struct gnttab *gnttab;        /* [C] its grant table (own lock) */
    const struct domain_peers *peers;  /* [C] other domains, or NULL */
    gpa_t grant_frame_gpa[64];         /* [D] where the guest sees each frame */
    /*
     * Frames mapped at gfns outside RAM (Linux's PVH guests put grant
     * frames in unpopulated address space): each is a 1-page KVM memory
     * slot of its own, slots P2M_EXTRA_SLOT0 + i.
     */
    struct p2m_extra {
        gpa_t gpa;  /* INVALID_GPA: free entry */
        void *host; /* the page's host mapping */
    } p2m_extra[P2M_EXTRA_MAX]; /* [D] */
    struct grant_map_note *grant_maps; /* [D] handle -> gpa it maps at */
    unsigned int nr_grant_maps, grant_maps_cap; /* [D] */
    unsigned long vm_assist; /* [D] VMASST_TYPE_* bits enabled */
    unsigned int nr_polling; /* [D] vCPUs in SCHEDOP_poll (atomic read) */

    /* Time: guest TSC = host TSC + tsc_offset; system time 0 = tsc_base. */
    uint64_t tsc_hz;            /* [C] */
    int64_t tsc_offset;         /* [C] */
    uint64_t tsc_base;          /* [C] guest TSC at system time 0 */
    struct pvclock_scale scale; /* [C] */
    bool tsc_stable;            /* [C] invariant TSC, one offset for all */
    uint64_t wc_sec, wc_nsec;   /* [C] host wall clock at system time 0 */

    /* Shutdown (SCHEDOP_shutdown, crashes) */
    bool is_shutting_down;     /* [D] */
    bool paused;               /* [D] by the control domain (domain_pause) */
    int shutdown_reason;       /* [D] SHUTDOWN_* or -1 */
    int shutdown_code;         /* [D] SCHEDOP_shutdown_code, -1 = none */
    struct event *shutdown_ev; /* [C] activated once on shutdown */

    char *xen_cmdline;      /* [C] what XENVER_commandline reports to dom0 */
    struct console_log log; /* own lock */

    unsigned int nr_vcpus; /* [C] */
    struct vcpu *vcpus[];  /* [C] */
};

/* domain.c */

struct evtchn_domain;

/*
 * How a domain reaches the other domains of its host (the control
 * interface's registry) for grant operations: find() is valid between
 * lock() and unlock(), during which no domain is destroyed.
 */
struct domain_peers {
    void (*lock)(void *ctx);
    void (*unlock)(void *ctx);
    struct domain *(*find)(void *ctx, domid_t domid);
    void *ctx;
};

/*
 * domain_lookup — the domain `domid` names for v's domain, which may act
 * on itself only (Xen's rcu_lock_domain_by_any_id() + XSM_TARGET for an
 * unprivileged caller).  DOMID_SELF and v's own id give v->d.  Otherwise
 * NULL with *rc = -XEN_EPERM (domain 0 always exists) or -XEN_ESRCH.
 */
struct domain *domain_lookup(struct vcpu *v, domid_t domid, long *rc);

/*
 * domain_p2m_replace — make guest page gpa (in RAM) show page `offset`
 * (bytes, page aligned) of fd instead of its own RAM, by remapping the host
 * page behind it (KVM's MMU notifiers update the guest's mapping); the RAM
 * page's contents stay in the memfd for domain_p2m_restore().
 * domain_p2m_replace_host — the same for a host page of d's own RAM
 * mapping.  Return 0 or -XEN_EINVAL (gpa not page-aligned RAM, ptr not in
 * d's RAM, mmap failure).
 */
int domain_p2m_replace(struct domain *d, gpa_t gpa, int fd, uint64_t offset,
                       bool writable);
int domain_p2m_replace_host(struct domain *d, gpa_t gpa, void *host,
                            bool writable);
/* domain_p2m_restore — guest page gpa shows its own RAM again. */
int domain_p2m_restore(struct domain *d, gpa_t gpa);

/* Grant mappings a guest made (GNTMAP_host_map), by handle (gnttab_op.c). */
struct grant_map_note {
    uint32_t handle;
    gpa_t gpa;
};
/* gnttab_map_note — remember (gpa) or forget (INVALID_GPA) a mapping. */
void gnttab_map_note(struct domain *d, uint32_t handle, gpa_t gpa);
/* gnttab_map_where — the gpa handle maps at, or INVALID_GPA. */
gpa_t gnttab_map_where(struct domain *d, uint32_t handle);

/*
 * domain_shutdown — record `reason` (SHUTDOWN_*) once and stop every vCPU.
 * Safe from any thread; later calls keep the first reason.
 */
void domain_shutdown(struct domain *d, int reason);

/*
 * domain_crash — log why (printf-style) to the domain's console log and
 * stderr, then domain_shutdown(d, SHUTDOWN_crash).
 */
void domain_crash(struct domain *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* vcpu_kick — make v's thread leave KVM_RUN soon (any thread). */
void vcpu_kick(struct vcpu *v);

/*
 * vcpu_request — ask target's thread to serve `req` and wait until it has
 * (caller must not hold d->lock; current is the calling vCPU or NULL).
 * Returns 0, or -XEN_ESRCH when the domain is shutting down.
 */
int vcpu_request(struct vcpu *current, struct vcpu *target,
                 enum vcpu_request req);

/* vcpu_info_ptr — host pointer to v's vcpu_info (d->lock held). */
struct vcpu_info *vcpu_info_ptr(struct vcpu *v);

/*
 * domain_assert_evtchn_irq — when v's vcpu_info has evtchn_upcall_pending
 * set, deliver the upcall now (Xen's hvm_assert_evtchn_irq()).  Our upcall
 * is an edge (an MSI), raised when upcall_pending goes 0 -> 1; Xen's
 * callback vector is level (re-injected while upcall_pending is set), so
 * every place where upcall_pending can be set, or the vector changes,
 * without such an edge calls this: VCPUOP_register_vcpu_info (which marks
 * everything pending), HVM_PARAM_CALLBACK_IRQ, HVMOP_set_evtchn_upcall_vector.
 * Caller must not hold d->lock or the event channel lock.
 */
void domain_assert_evtchn_irq(struct vcpu *v);

/* time.c */

/* domain_system_time — ns since the domain's system time 0. */
uint64_t domain_system_time(const struct domain *d);

/*
 * time_init — pick the TSC scale and offset and the wall clock for d.
 * Returns 0 or -errno.
 */
int time_init(struct domain *d);

/* time_update_vcpu — rewrite v's pvclock in its vcpu_info (d->lock held). */
void time_update_vcpu(struct vcpu *v);

/* time_update_wallclock — write wc_* into the shared_info (d->lock held). */
void time_update_wallclock(struct domain *d);

/*
 * runstate_change — account the time since the last change to v's
 * current state, split by the thread's scheduler statistics, then enter
 * `state` (RUNSTATE_*).  Called by v's own thread with d->lock held;
 * writes the guest's runstate area if one is registered.
 */
void runstate_change(struct vcpu *v, int state);

/* runstate_refresh — runstate_change(v, v->runstate.state). */
void runstate_refresh(struct vcpu *v);

#endif
