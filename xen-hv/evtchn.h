/*
 * evtchn.h — event channels (<xen/event_channel.h>), the core that every
 * EVTCHNOP_* lands in, kept apart from the wire format the guest sees
 * (2-level bitmaps in shared_info today, FIFO later) through
 * struct evtchn_port_ops, as Xen's common/event_channel.c is apart from
 * event_2l.c/event_fifo.c.
 *
 * The core knows nothing of KVM: it reaches a domain's shared memory and
 * its vCPUs through struct evtchn_host_ops, supplied by the owner of each
 * struct evtchn_domain (xen-hv's domain.c for a PVH domain, the process
 * domain code for a host process).
 *
 * Locking: one mutex per struct evtchn_world protects every port of every
 * domain in it (interdomain operations touch two domains at once).  Host
 * callbacks are called with that mutex held and must not call back into
 * this module.
 *
 * Errors are Xen errnos, negative (-XEN_EINVAL, -XEN_ENOSPC, ...), with the
 * meanings Xen 4.17's common/event_channel.c gives them.
 */
#ifndef XENHV_EVTCHN_H
#define XENHV_EVTCHN_H

#include <stdbool.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/event_channel.h>

struct evtchn_world;
struct evtchn_domain;

/* How the host lets the core reach a domain (all called with the lock). */
struct evtchn_host_ops {
    /*
     * The domain's shared_info page (may move when the guest maps it).
     * NULL: events are dropped (nothing can record them), so a host should
     * have the page from domain creation on, as Xen does.
     */
    struct shared_info *(*shared_info)(void *host_dom);
    /*
     * vCPU vcpu's vcpu_info, or NULL when it has none: the port's pending
     * bit is still set but no upcall is made.
     */
    struct vcpu_info *(*vcpu_info)(void *host_dom, unsigned int vcpu);
    /*
     * evtchn_upcall_pending of vCPU vcpu went 0 -> 1: deliver the upcall
     * (MSI to the upcall vector, eventfd signal, wake from block...).
     */
    void (*upcall)(void *host_dom, unsigned int vcpu);
    /*
     * Optional (NULL: nothing to do).  port was just made pending, masked
     * or not: wake the vCPUs in SCHEDOP_poll on it (Xen's
     * evtchn_check_pollers(), called from evtchn_2l_set_pending()).
     */
    void (*pending)(void *host_dom, evtchn_port_t port);
};

/* The guest-visible format: Xen's event_2l.c / event_fifo.c split. */
struct evtchn_port_ops {
    const char *name;
    /* Highest port count the format can express (4096 for 2-level). */
    unsigned int (*max_ports)(const struct evtchn_domain *d);
    /* Set pending and notify vcpu unless masked (Xen's set_pending). */
    void (*set_pending)(struct evtchn_domain *d, unsigned int vcpu,
                        evtchn_port_t port);
    void (*clear_pending)(struct evtchn_domain *d, evtchn_port_t port);
    /* Clear the mask; if pending, notify vcpu again. */
    void (*unmask)(struct evtchn_domain *d, unsigned int vcpu,
                   evtchn_port_t port);
    bool (*is_pending)(const struct evtchn_domain *d, evtchn_port_t port);
    bool (*is_masked)(const struct evtchn_domain *d, evtchn_port_t port);
};

extern const struct evtchn_port_ops evtchn_port_ops_2l;

/*
 * evtchn_world_create — a set of domains that may bind to each other.
 * Returns NULL on allocation failure.
 */
struct evtchn_world *evtchn_world_create(void);
/* Destroys the domains still in w (as evtchn_domain_destroy), then w. */
void evtchn_world_destroy(struct evtchn_world *w);

/*
 * evtchn_domain_create — event channel state of one domain.
 *   domid:     its domain id (unique in w, else NULL is returned)
 *   nr_vcpus:  vCPUs (>= 1; a process domain has one notional vCPU)
 *   max_ports: quota (Xen's max_evtchns), clamped to the format's limit;
 *              a count of ports, port 0 included: Xen's max_evtchn_port
 *              (libxl's event_channels, 1023 by default) is max_ports - 1
 *   host_dom:  passed back to every host op
 * Port 0 is reserved, as in Xen (never allocated).
 */
struct evtchn_domain *evtchn_domain_create(struct evtchn_world *w,
                                           domid_t domid, unsigned int nr_vcpus,
                                           unsigned int max_ports,
                                           const struct evtchn_port_ops *fmt,
                                           const struct evtchn_host_ops *host,
                                           void *host_dom);
/*
 * evtchn_domain_destroy — close every port (interdomain peers see their
 * end become unbound, ECS_UNBOUND toward this domid, as Xen's
 * evtchn_destroy does) and free d.
 */
void evtchn_domain_destroy(struct evtchn_domain *d);

/* Lookup by domid, or NULL. */
struct evtchn_domain *evtchn_domain_find(struct evtchn_world *w, domid_t domid);
domid_t evtchn_domain_id(const struct evtchn_domain *d);
/* For port ops: the host's view of d. */
struct shared_info *evtchn_shared_info(const struct evtchn_domain *d);
struct vcpu_info *evtchn_vcpu_info(const struct evtchn_domain *d,
                                   unsigned int vcpu);
void evtchn_upcall(const struct evtchn_domain *d, unsigned int vcpu);

/*
 * The operations.  `d` is the calling domain (DOMID_SELF already resolved
 * by the caller, privilege already checked by the caller where Xen's XSM
 * would).  Each mirrors the EVTCHNOP of the same name:
 *
 * evtchn_alloc_unbound — a new port in d, ECS_UNBOUND, that remote_dom
 *   may bind to.  -XEN_ENOSPC when d's quota is used up.
 * evtchn_bind_interdomain — bind a new port of d to remote_port of
 *   remote_dom, which must be ECS_UNBOUND and allow d's domid.
 *   -XEN_ESRCH no such domain, -XEN_EINVAL bad or unsuitable remote port,
 *   -XEN_ENOSPC (checked before the remote port, as Xen).  Binding to
 *   one's own domain is allowed (loopback).  The new local port is made
 *   pending once, as Xen does for sends dropped while it was unbound.
 * evtchn_bind_virq — virq (VIRQ_*) to vcpu; per-vCPU VIRQs (VIRQ_TIMER,
 *   VIRQ_DEBUG, ...) bind per vCPU, global ones only to vCPU 0 (Xen:
 *   -XEN_EINVAL otherwise); -XEN_EEXIST if already bound on that vCPU;
 *   -XEN_ENOENT bad vcpu; -XEN_EINVAL bad virq.
 * evtchn_bind_ipi — a port that notifies vcpu (-XEN_ENOENT bad vcpu).
 * evtchn_send — notify the other end: interdomain -> the peer's port,
 *   IPI -> own vCPU; unbound ports: 0 (nothing to notify, as Xen);
 *   virq ports: -XEN_EINVAL; bad port -XEN_EINVAL.
 * evtchn_close — ECS_FREE; an interdomain peer becomes ECS_UNBOUND toward
 *   d; -XEN_EINVAL bad port.
 * evtchn_status — fill st (st->port in; status, vcpu and the u member of
 *   that status out; st->dom untouched).  A free port inside Xen's
 *   allocated port buckets (64 ports each), and port 0, are
 *   EVTCHNSTAT_closed; beyond them -XEN_EINVAL.
 * evtchn_bind_vcpu — notify vcpu from now on (interdomain, unbound,
 *   global virq ports; per-vCPU virq and IPI: -XEN_EINVAL).
 * evtchn_unmask — clear the mask, re-raise if pending.  As Xen: a free
 *   port or port 0 inside the allocated buckets answers 0 and is left
 *   alone; beyond them -XEN_EINVAL.
 * evtchn_reset — close every port of d.
 * evtchn_send_virq — raise virq on vcpu if bound (host side: timers, …);
 *   global virqs go to whichever vCPU they are bound on (vcpu ignored).
 *   Returns 0, -XEN_ENOENT when nothing is bound (or bad vcpu for a
 *   per-vCPU virq), -XEN_EINVAL when virq >= NR_VIRQS.
 */
int evtchn_alloc_unbound(struct evtchn_domain *d, domid_t remote_dom,
                         evtchn_port_t *port);
int evtchn_bind_interdomain(struct evtchn_domain *d, domid_t remote_dom,
                            evtchn_port_t remote_port,
                            evtchn_port_t *local_port);
int evtchn_bind_virq(struct evtchn_domain *d, uint32_t virq, uint32_t vcpu,
                     evtchn_port_t *port);
int evtchn_bind_ipi(struct evtchn_domain *d, uint32_t vcpu,
                    evtchn_port_t *port);
int evtchn_send(struct evtchn_domain *d, evtchn_port_t port);
int evtchn_close(struct evtchn_domain *d, evtchn_port_t port);
int evtchn_status(struct evtchn_domain *d, struct evtchn_status *st);
int evtchn_bind_vcpu(struct evtchn_domain *d, evtchn_port_t port,
                     uint32_t vcpu);
int evtchn_unmask(struct evtchn_domain *d, evtchn_port_t port);
int evtchn_reset(struct evtchn_domain *d);
int evtchn_send_virq(struct evtchn_domain *d, uint32_t virq, uint32_t vcpu);

/*
 * evtchn_send_global_virq — raise global virq (e.g. VIRQ_DOM_EXC) in
 * domain domid of from's world, as Xen's send_global_virq() does for the
 * domain that handles it.  Returns 0, -XEN_ENOENT (no such domain, or the
 * virq is not bound there) or -XEN_EINVAL (not a global virq).
 */
int evtchn_send_global_virq(struct evtchn_domain *from, domid_t domid,
                            uint32_t virq);

/*
 * evtchn_poll_port — Xen's evtchn_port_poll() for SCHEDOP_poll: 1 when
 * port of d is pending, 0 when not, -XEN_EINVAL when the port is beyond
 * the valid buckets, free, or the reserved port 0.
 */
int evtchn_poll_port(struct evtchn_domain *d, evtchn_port_t port);

/* Ports in use, reserved port 0 not counted (Xen's active_evtchns). */
unsigned int evtchn_ports_in_use(struct evtchn_domain *d);

#endif
