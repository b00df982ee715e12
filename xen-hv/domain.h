/*
 * domain.h — create, build, run and destroy a PVH domain (one KVM VM, guest
 * RAM in a memfd, one thread per vCPU, KVM's in-kernel LAPIC).
 *
 * The builder half (domain_build_pvh) is what the toolstack's domain
 * builder will do through foreign mappings once it exists; until then the
 * launcher (`xen-hv run`) calls it directly.
 */
#ifndef XENHV_DOMAIN_H
#define XENHV_DOMAIN_H

#include <stddef.h>
#include <sched.h>
#include <stdint.h>

#include <event2/event.h>

#include "kvm_x86_64.h"

struct domain;
struct evtchn_world;

/* Limits of this implementation. */
#define DOMAIN_MAX_VCPUS                                                       \
    32 /* vcpu_info in shared_info: XEN_LEGACY_MAX_VCPUS                       \
        */
#define DOMAIN_MIN_MEM_MIB 4
#define DOMAIN_MAX_MEM_MIB (64 * 1024)

struct domain_config {
    const char *name; /* for logs */
    uint16_t domid;
    /*
     * RAM, MiB, DOMAIN_MIN_MEM_MIB..DOMAIN_MAX_MEM_MIB; 0 = none yet, as a
     * domain Xen's XEN_DOMCTL_createdomain made: memory comes with
     * domain_populate_physmap() up to the max set by the toolstack.
     */
    uint64_t memory_mib;
    unsigned int vcpus;      /* 1..DOMAIN_MAX_VCPUS */
    size_t log_bytes;        /* console log bound, bytes */
    int console_fd;          /* stream the console log here, or -1 */
    bool console_prefix;     /* mark streamed lines "(d<domid>) " as Xen */
    const char *xen_cmdline; /* reported by XENVER_commandline to dom0 */
    struct evtchn_world *evtchn_world; /* domains that may bind each other */
    unsigned int max_grant_frames;     /* 0 = 32 (xl default), at most 64 */
    unsigned int max_event_channels; /* ports incl. 0; 0 = 1024 (xl default) */
    /*
     * Leave the kernel's vmcall/vmmcall hypercall pair as it is instead of
     * rewriting it into the hypercall trap (hcall_patch.h): for hosts whose
     * KVM forwards those instructions (KVM_CAP_XEN_HVM), or to see what an
     * unpatched guest does.
     */
    bool keep_vmcall;
};

/*
 * domain_create — the VM, its memory, vCPUs (not yet running) and timers.
 * base: the event loop that runs the domain's timers (thread-safe:
 *       evthread_use_pthreads() must have been called).
 * Returns 0 and *out, or -errno with a reason in err.  On failure nothing
 * is left behind.
 */
int domain_create(const struct kvm_host *h, struct event_base *base,
                  const struct domain_config *cfg, struct domain **out,
                  char *err, size_t errlen);

/*
 * domain_build_pvh — load a PVH kernel (ELF with XEN_ELFNOTE_PHYS32_ENTRY),
 * an optional initrd (module 0) and the command line, write hvm_start_info
 * and the memory map, and set vCPU 0's entry state (docs/misc/pvh).
 * kernel/klen, initrd/ilen: file contents (bytes), initrd may be NULL.
 * Returns 0, or -ENOEXEC (bad image), -ERANGE/-ENOSPC (does not fit in
 * RAM) with the reason in err.
 */
int domain_build_pvh(struct domain *d, const void *kernel, size_t klen,
                     const void *initrd, size_t ilen, const char *cmdline,
                     char *err, size_t errlen);

/*
 * domain_populate_physmap — XENMEM_populate_physmap done by the control
 * domain for d (xc_domain_populate_physmap_exact): give d the nr extents of
 * 2^order pages at gfns[i] << order.  A domain created without memory gets
 * its RAM (a memfd of max_pages pages, laid out as domain_create would for
 * that size; nothing is allocated on the host until written) at the first
 * call, which must come before the domain is built.  Each gfn must lie in
 * RAM; tot_pages counts pages populated once (a repeat is a no-op, as Xen
 * replaces the page).  Returns 0, -XEN_ENOMEM (max_pages unset or outside
 * DOMAIN_MIN/MAX_MEM_MIB, or tot_pages would pass max_pages), -XEN_EINVAL
 * (gfn outside RAM, order > 18, nr too big), -XEN_EBUSY (memory must be set
 * up but the domain already has memory from domain_create).
 */
int domain_populate_physmap(struct domain *d, const uint64_t *gfns,
                            unsigned long nr, unsigned int order);

/*
 * domain_vcpu_set_affinity — XEN_DOMCTL_setvcpuaffinity (hard affinity):
 * vCPU vcpu of d runs only on the host CPUs in set from now on (its thread
 * is pinned; a vCPU not started yet is pinned when it starts).
 * Returns 0, -XEN_ENOENT (no such vcpu), -XEN_EINVAL (no online host CPU
 * in set).
 */
int domain_vcpu_set_affinity(struct domain *d, unsigned int vcpu,
                             const cpu_set_t *set);

/*
 * domain_pause — stop every vCPU (they leave KVM_RUN and wait, runstate
 * offline) before returning, as Xen's domain_pause().  Returns 0 or
 * -ESRCH when the domain is shutting down.
 */
int domain_pause(struct domain *d);

/*
 * domain_unpause — start the vCPU threads the first time; later, resume a
 * paused domain.  Returns 0 or -errno.
 */
int domain_unpause(struct domain *d);

/*
 * domain_wait — run the event loop until the domain shuts down and every
 * vCPU thread has stopped.  Returns the shutdown reason (SHUTDOWN_*).
 */
int domain_wait(struct domain *d);

/*
 * domain_kill — stop the domain now, from outside (`xl destroy`): its log
 * and stderr say why; domain_wait() then returns SHUTDOWN_crash.  Safe
 * from any thread.
 */
void domain_kill(struct domain *d, const char *why);

/* domain_destroy — free everything domain_create made (threads stopped). */
void domain_destroy(struct domain *d);

/*
 * domain_copy_stats — time spent inside GNTTABOP_copy (ns) and the bytes
 * it copied, over all vCPUs.
 */
void domain_copy_stats(const struct domain *d, uint64_t *ns, uint64_t *bytes);

/* domain_exit_stats — total VM exits and hypercalls over all vCPUs. */
void domain_exit_stats(const struct domain *d, uint64_t *exits,
                       uint64_t *hypercalls);

#endif
