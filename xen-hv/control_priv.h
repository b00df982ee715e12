/*
 * control_priv.h — what the files of the control interface server
 * (control.h) share; only they include it:
 *   control.c         the socket server: connections, requests, dispatch
 *   control_evtchn.c  the domains clients act as, their event channels
 *   control_gnttab.c  grant operations and memory for clients
 *   control_domain.c  the hosted domains: create, build, destroy, list
 *
 * Every connection acts as a domain (struct vdom): uid 0 as domain 0,
 * shared by all uid-0 connections; any other uid as a process domain of
 * its own, one per process (SO_PEERCRED pid), shared by that process's
 * connections (its libxenevtchn and libxengnttab handles are one domain,
 * as on Xen), and destroyed with its last connection: its ports close
 * (peers see them unbound) and its grant mappings are released.
 *
 * Lock order: event channel lock, then c->lock; nothing holding c->lock
 * calls into evtchn.c or gnttab.c.
 */
#ifndef XENHV_CONTROL_PRIV_H
#define XENHV_CONTROL_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>

#include "domain_priv.h"
#include "xenhv_privcmd.h"

struct evtchn_domain;
struct evtchn_world;
struct gnttab;

#define VDOM_MAX_PORTS      1024
#define CONN_MAX_GRANT_MAPS 1024
#define PDOM_FIRST_DOMID    100

struct conn;

struct vdom {
    struct control *c;
    domid_t domid;
    pid_t pid; /* process domains: the process; 0 for domain 0 */
    int refs;  /* connections acting as it [c->lock] */
    struct evtchn_domain *evd;
    struct gnttab *gt;
    struct shared_info *shared;         /* private page */
    struct conn *owner[VDOM_MAX_PORTS]; /* [c->lock] */
    /*
     * Our end of each owned port's doorbell (xenhv_privcmd.h
     * EVTCHN_BELLS), -1 when the port has none [c->lock].
     */
    int bell[VDOM_MAX_PORTS];
    struct vdom *next; /* [c->lock] */
    /*
     * A process domain's own memory (XENHV_OP_PDOM_MEMORY) and the struct
     * domain other domains' grant operations see of it (no vCPUs): its
     * grant table and that memory.  Freed under doms_lock held exclusive.
     */
    struct domain *as_domain;
};

struct conn {
    struct control *c;
    struct vdom *vd;                    /* NULL before HELLO */
    uint32_t maps[CONN_MAX_GRANT_MAPS]; /* grant handles it holds */
    unsigned int nr_maps;
    int fd;
    int ev_fd;  /* our end of the event socket, -1 before HELLO */
    bool bells; /* EVTCHN_BELLS: its ports get doorbells */
    bool privileged;
    pid_t pid;
    struct event *ev;
    struct conn *next;
};

/* A hosted PVH domain. */
struct hosted {
    struct domain *d;
    bool built, started;
    struct hosted *next;
};

#define GUEST_MAX_DOMID (PDOM_FIRST_DOMID - 1)

struct control {
    pthread_mutex_t lock; /* vdoms, their owner[] and refs, conns */
    /*
     * The hosted domains.  Readers (requests, guests' grant operations on
     * other domains) hold it shared for as long as they use a domain;
     * destroy unlinks a domain holding it exclusive, then frees it.
     */
    pthread_rwlock_t doms_lock;
    struct hosted *doms;
    const struct kvm_host *kvm;
    struct domain *d;          /* the launcher's own domain, or NULL */
    struct domain_peers peers; /* what hosted domains see of each other */
    struct event_base *base;
    int listen_fd;
    struct event *listen_ev;
    char path[108];
    struct evtchn_world *world;
    struct vdom *dom0;
    struct vdom *pdoms;
    domid_t next_pdom;
    domid_t domid_rover; /* the last id DOMAIN_CREATE chose itself */
    struct conn *conns;
};

/* control.c */

/*
 * reply — answer k's request req (same op and seq) with rc (0 or a
 * negative Xen errno), len bytes of payload and, when fd >= 0, a copy of
 * fd (SCM_RIGHTS).  A payload larger than a message (XENHV_MSG_MAX) is
 * dropped and rc becomes -XEN_E2BIG.  Send errors are ignored: a client
 * that has gone is noticed when its connection is read.
 */
void reply(struct conn *k, const struct xenhv_msg *req, int32_t rc,
           const void *payload, uint32_t len, int fd);

/* control_evtchn.c */

/* bell_drop — close v's doorbell of port, if any; v->c->lock held. */
void bell_drop(struct vdom *v, uint32_t port);

/*
 * vdom_new — a domain for control-socket clients: its own shared_info
 * page, VDOM_MAX_PORTS 2-level event channels in c->world and a grant
 * table.  domid: its id; pid: the process of a process domain, 0 for
 * domain 0.  Returns NULL on failure.
 */
struct vdom *vdom_new(struct control *c, domid_t domid, pid_t pid);

/*
 * vdom_free — free v (NULL: nothing), unlinked by the caller: its ports
 * close, its grant mappings are released, its doorbells and a process
 * domain's registered memory go.  No lock held.
 */
void vdom_free(struct vdom *v);

/*
 * conn_attach — make k act as domain 0 (a privileged k) or as the process
 * domain of k's pid, created with the first connection of that process.
 * Returns 0, -XEN_ENOSPC (no domid left) or -XEN_ENOMEM.
 */
int32_t conn_attach(struct conn *k);

/*
 * do_evtchn — the event-channel request op (XENHV_OP_EVTCHN_BIND_*,
 * NOTIFY, UNMASK, UNBIND: Xen's EVTCHNOP_* of event_channel.h) of k with
 * arguments r; a bind's new port goes to out->port and its doorbell end
 * to *bell (-1 when none; bell may be NULL).  Returns 0, -XEN_EINVAL (a
 * port k does not own), -XEN_ENOSPC (port past VDOM_MAX_PORTS),
 * -XEN_ENOSYS (another op) or the event channel core's error.
 */
int32_t do_evtchn(struct conn *k, uint32_t op, const struct xenhv_evtchn_req *r,
                  struct xenhv_evtchn_rep *out, int *bell);

/*
 * peer_doorbell — XENHV_OP_EVTCHN_DOORBELL: a copy of the doorbell of the
 * peer of k's port in *bell.  Returns 0, -XEN_EINVAL (not k's port, or a
 * port without a peer), -XEN_ENOENT (the peer is not a control-socket
 * domain), -XEN_EAGAIN (the peer has no doorbell now), -XEN_ENOMEM.
 */
int32_t peer_doorbell(struct conn *k, uint32_t port, int *bell);

/* control_gnttab.c: each replies to k's request m itself. */

/*
 * do_gnttab_map — XENHV_OP_GNTTAB_MAP (GNTTABOP_map_grant_ref of Xen's
 * grant_table.h, GNTMAP_host_map) by k of grant r->ref of domain r->domid,
 * a hosted or a process domain.  Replies rc 0 with a GNTST_* status; on
 * GNTST_okay also the handle, the frame's byte offset in the granter's
 * memory and that memory's memfd.  The mapping is k's until it unmaps it
 * or closes.
 */
void do_gnttab_map(struct conn *k, const struct xenhv_msg *m,
                   const struct xenhv_gnttab_map_req *r);

/*
 * do_gnttab_copy — XENHV_OP_GNTTAB_COPY (GNTTABOP_copy) by k: payload
 * (m->len bytes) is a segment count, the segments (struct xenhv_copy_seg)
 * and the bytes of the segments copied into grants.  Replies one int16_t
 * GNTST_* status per segment, then the bytes copied out of grants;
 * -XEN_EINVAL for a malformed request.
 */
void do_gnttab_copy(struct conn *k, const struct xenhv_msg *m,
                    const uint8_t *payload);

/*
 * do_gnttab_unmap — XENHV_OP_GNTTAB_UNMAP (GNTTABOP_unmap_grant_ref) of
 * handle r->handle of k.  Replies rc 0 with the GNTST_* status
 * (GNTST_bad_handle: k holds no such mapping).
 */
void do_gnttab_unmap(struct conn *k, const struct xenhv_msg *m,
                     const struct xenhv_gnttab_unmap_req *r);

/*
 * pdom_memory — XENHV_OP_PDOM_MEMORY: k's process domain registers fd as
 * its memory; payload (len bytes, must be 8) is its size in bytes, a
 * multiple of 4096 up to 1 GiB.  Returns 0, -XEN_EINVAL (domain 0, a bad
 * size, an fd that cannot be mapped), -XEN_EEXIST (already registered) or
 * -XEN_ENOMEM.  Does not reply.
 */
int32_t pdom_memory(struct conn *k, const uint8_t *payload, uint32_t len,
                    int fd);

/*
 * pdom_foreign_memory — XENHV_OP_FOREIGN_MEMORY of process domain domid
 * (doms_lock held shared): replies its memfd as one region from gpa 0,
 * or -XEN_ESRCH when there is no such domain or it has no memory.
 */
void pdom_foreign_memory(struct conn *k, const struct xenhv_msg *m,
                         uint32_t domid);

/* control_domain.c */

/*
 * peers_lock, peers_unlock, peers_find — c->peers (struct domain_peers of
 * domain_priv.h); ctx is the struct control.  peers_lock holds doms_lock
 * shared; peers_find, under it, returns the hosted domain domid or the
 * struct domain of process domain domid (once it has memory), else NULL.
 */
void peers_lock(void *ctx);
void peers_unlock(void *ctx);
struct domain *peers_find(void *ctx, domid_t domid);

/*
 * priv_op — a privileged request m (k privileged, doms_lock held shared)
 * about the hosted domains: DOMAIN_LIST, DOMAIN_BUILD (fd: the kernel
 * image), HVM_PARAM_GET/SET, VCPU_SETCONTEXT, DOMAIN_SETMAXMEM,
 * POPULATE_PHYSMAP, VCPU_SETAFFINITY, EVTCHN_ALLOC_UNBOUND_FOR,
 * DOMAIN_UNPAUSE/PAUSE, FOREIGN_MEMORY, CONSOLE_READ/CLEAR of
 * xenhv_privcmd.h.  Replies itself: -XEN_EINVAL for a malformed request,
 * -XEN_ESRCH for an unknown domain, -XEN_ENOSYS for another op.
 */
void priv_op(struct conn *k, const struct xenhv_msg *m, const uint8_t *payload,
             int fd);

/*
 * domain_create_op — XENHV_OP_DOMAIN_CREATE by privileged k (takes
 * doms_lock exclusive; none held).  Replies the new domid, or -XEN_EINVAL,
 * -XEN_ENODEV (no kvm), -XEN_EEXIST, -XEN_ENOSPC, -XEN_ENOMEM.  Returns
 * the new domid, 0 when nothing was created.
 */
uint32_t domain_create_op(struct conn *k, const struct xenhv_msg *m,
                          const uint8_t *payload);

/*
 * domain_destroy_op — XENHV_OP_DOMAIN_DESTROY by privileged k (takes
 * doms_lock exclusive; none held).  Replies 0, -XEN_EINVAL or -XEN_ESRCH.
 */
void domain_destroy_op(struct conn *k, const struct xenhv_msg *m,
                       const uint8_t *payload);

/*
 * account — add ns nanoseconds of control-socket work to hosted domain
 * domid's control_ns (no such domain: nothing); doms_lock held.
 */
void account(struct control *c, uint32_t domid, uint64_t ns);

#endif
