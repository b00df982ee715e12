/*
 * xenhv_privcmd.h — the control interface between xen-hv and the
 * control domain's (and later driver domains') processes: the part of
 * Xen's privcmd/evtchn/gntdev devices and domctl/sysctl that dom0-tools
 * need.
 *
 * Transport: a SOCK_SEQPACKET Unix socket, XENHV_PRIVCMD_PATH (or the
 * XENHV_PRIVCMD environment variable).  xen-hv reads the peer's
 * credentials (SO_PEERCRED): uid 0 is the control domain, domain 0; any
 * other uid becomes a process domain of its own (domids from 100 up, in
 * order of connection), with its own event channels and grant table, and
 * no privileged op (DOMAIN_LIST, FOREIGN_MEMORY, CONSOLE_READ: EPERM).
 * Every request is one packet: struct xenhv_msg followed by the op's
 * request struct; every reply is one packet: struct xenhv_msg (rc = 0 or a
 * negative Xen errno) followed by the op's reply struct, with file
 * descriptors attached (SCM_RIGHTS) where an op says so.  Requests on one
 * connection are answered in order; seq is echoed.
 *
 * Event channels: each connection owns the domain-0 ports it bound.  When
 * one becomes pending, xen-hv masks it (as Linux's /dev/xen/evtchn does),
 * clears it and writes its number (uint32_t) as one packet to the
 * connection's event socket, handed out by XENHV_OP_HELLO; the process
 * unmasks it when done (XENHV_OP_EVTCHN_UNMASK).  Closing the connection
 * closes its ports.  A connection that asked for doorbells
 * (XENHV_OP_EVTCHN_BELLS, below) gets its events on them instead, and
 * masks them itself.
 */
#ifndef XENHV_PRIVCMD_H
#define XENHV_PRIVCMD_H

#include <stdint.h>

#define XENHV_PRIVCMD_PATH XENHV_RUNDIR_DEFAULT "/privcmd"
#ifndef XENHV_RUNDIR_DEFAULT
#define XENHV_RUNDIR_DEFAULT "/run/xen-hv"
/*
 * XENHV_OP_GNTTAB_MAP: map grant `ref` of `domid` for domain 0.  rc is 0
 * when the request was understood; status is the GNTST_* of the map.  On
 * GNTST_okay the reply carries the memfd holding the granted frame and its
 * offset: mmap(fd, offset) is the mapping (PROT_READ only when readonly).
 */
struct xenhv_gnttab_map_req {
    uint32_t domid;
    uint32_t ref;
    uint32_t readonly;
};
struct xenhv_gnttab_map_rep {
    int32_t status; /* GNTST_* */
    uint32_t handle;
    uint64_t offset; /* bytes into the fd */
};
/*
 * XENHV_OP_GNTTAB_COPY: GNTTABOP_copy between grants of a hosted domain
 * and the caller's own bytes.  Request: uint32_t count, then count
 * segments, then the bytes of every segment that copies *into* a grant
 * (GNTCOPY_dest_gref), in order.  Reply: count int16_t GNTST_* statuses,
 * then the bytes of every segment that copied *out of* a grant
 * (GNTCOPY_source_gref) with status okay, in order.  Exactly one of the
 * two flags per segment; offset + len within one 4 KiB page.
 */
struct xenhv_copy_seg {
    uint32_t domid;
    uint32_t ref;
    uint16_t offset;
    uint16_t len;
    uint16_t flags; /* GNTCOPY_source_gref or GNTCOPY_dest_gref */
    uint16_t pad;
};
#define XENHV_COPY_MAX_SEGS 8

/*
 * XENHV_OP_PDOM_MEMORY: a process domain's memory: the memfd passed
 * (bytes, page multiple, at most 1 GiB), frame n = bytes [n*4096, +4096).
 * Once only; -XEN_EEXIST after.  XENHV_OP_GNTTAB_FRAMES: grow the
 * caller's grant table to `frames` frames (1..its maximum) and return the
 * fd holding them (frame i at offset i * 4096) to map and write
 * grant_entry_v1_t entries into, as a guest does.
 */

struct xenhv_gnttab_unmap_req {
    uint32_t handle;
};
struct xenhv_gnttab_unmap_rep {
    int32_t status; /* GNTST_* */
};

#endif
#define XENHV_PRIVCMD_ENV "XENHV_PRIVCMD"
#define XENHV_MSG_MAX     65536 /* bytes in one packet, header included */

enum xenhv_op {
    /* -> domid of the caller; 1 fd: the event socket. */
    XENHV_OP_HELLO = 1,
    /* Event channels of the caller's domain (domain 0 for uid 0). */
    XENHV_OP_EVTCHN_BIND_UNBOUND = 10,     /* req: domid   rep: port */
    XENHV_OP_EVTCHN_BIND_INTERDOMAIN = 11, /* req: domid, port  rep: port */
    XENHV_OP_EVTCHN_BIND_VIRQ = 12,        /* req: virq    rep: port */
    XENHV_OP_EVTCHN_NOTIFY = 13,           /* req: port */
    XENHV_OP_EVTCHN_UNMASK = 14,           /* req: port */
    XENHV_OP_EVTCHN_UNBIND = 15,           /* req: port */
    /* Domains (privileged). */
    XENHV_OP_DOMAIN_LIST = 20,    /* rep: n x struct xenhv_domain_info */
    XENHV_OP_FOREIGN_MEMORY = 21, /* req: domid  rep: regions; 1 fd */
    XENHV_OP_CONSOLE_READ = 22,   /* req: domid  rep: bytes */
    /* req: xenhv_console_clear: read, then empty the log (`xl dmesg -c`) */
    XENHV_OP_CONSOLE_CLEAR = 37,
    /* Domain life cycle (privileged; `xen-hv daemon` hosts many). */
    XENHV_OP_DOMAIN_CREATE = 23,    /* req: domain_create_req  rep: domid */
    XENHV_OP_DOMAIN_BUILD = 24,     /* req: domain_build_req + kernel fd */
    XENHV_OP_DOMAIN_UNPAUSE = 25,   /* req: domid */
    XENHV_OP_DOMAIN_DESTROY = 26,   /* req: domid */
    XENHV_OP_DOMAIN_PAUSE = 27,     /* req: domid (UNPAUSE resumes) */
    XENHV_OP_HVM_PARAM_GET = 28,    /* req: hvm_param  rep: hvm_param */
    XENHV_OP_HVM_PARAM_SET = 29,    /* req: hvm_param */
    XENHV_OP_DOMAIN_SETMAXMEM = 32, /* req: setmaxmem */
    XENHV_OP_VCPU_SETCONTEXT = 33,  /* req: vcpu_setcontext */
    /* Grants, mapped by domain 0 (gntdev-like). */
    XENHV_OP_GNTTAB_MAP = 30,   /* req: gnttab_map_req  rep: _rep; 1 fd */
    XENHV_OP_GNTTAB_UNMAP = 31, /* req: handle */
    XENHV_OP_GNTTAB_COPY = 34,  /* req: copy segments + data  rep: see below */
    /* Process domains that grant their own pages (xengntshr). */
    XENHV_OP_PDOM_MEMORY = 35,   /* req: uint64_t bytes + memfd */
    XENHV_OP_GNTTAB_FRAMES = 36, /* req: uint32_t frames  rep: 1 fd */
    /* privileged domain control (see the structs below) */
    XENHV_OP_EVTCHN_ALLOC_UNBOUND_FOR = 38, /* req: alloc_unbound rep: port */
    XENHV_OP_POPULATE_PHYSMAP = 39,         /* req: populate_req + gfns */
    XENHV_OP_VCPU_SETAFFINITY = 40,         /* req: vcpu_affinity */
    /*
     * Fire-and-forget EVTCHN_NOTIFY and EVTCHN_UNMASK: the same request
     * (struct xenhv_evtchn_req, port), no reply at all, so the caller
     * does not wait for xen-hv.  Requests on one connection still run in
     * order.  A port the connection does not own, or a send that fails,
     * is dropped: libxenevtchn uses these only for ports it bound itself
     * (where the synchronous ops cannot fail) and the synchronous ops for
     * anything else, so its callers still get every error.
     */
    XENHV_OP_EVTCHN_NOTIFY_ASYNC = 41, /* req: port;  no reply */
    XENHV_OP_EVTCHN_UNMASK_ASYNC = 42, /* req: port;  no reply */
    /*
     * Doorbells: event delivery between control-socket domains without
     * xen-hv in the path.  After EVTCHN_BELLS (no payload), every port the
     * connection binds comes with a doorbell: the bind reply carries one
     * end of an AF_UNIX stream socketpair (SCM_RIGHTS).  Bytes on it mean
     * "the port fired" (any number of them: events coalesce); xen-hv
     * writes one when the port becomes pending instead of sending the
     * port number on the event socket, and leaves the port unmasked (the
     * library masks by not polling the doorbell until xenevtchn_unmask).
     * EVTCHN_DOORBELL (req: struct xenhv_evtchn_req, port = a port the
     * connection owns) answers with the doorbell of the port's
     * interdomain peer when that peer is a control-socket domain's port
     * (1 fd): writing a byte to it is a notify that does not go through
     * xen-hv.  -XEN_ENOENT: the peer is a guest (never a doorbell for this
     * binding); -XEN_EAGAIN: not bound yet or no doorbell now; -XEN_EINVAL
     * not the connection's port.  A doorbell whose port was closed has
     * its other end closed: writes fail (EPIPE), ask again.
     */
    XENHV_OP_EVTCHN_BELLS = 43,    /* no payload */
    XENHV_OP_EVTCHN_DOORBELL = 44, /* req: port  rep: 1 fd */
};

struct xenhv_msg {
    uint32_t op;  /* enum xenhv_op */
    uint32_t seq; /* echoed */
    int32_t rc;   /* reply: 0 or -XEN_E* */
    uint32_t len; /* bytes of payload after this header */
};

struct xenhv_evtchn_req {
    uint32_t domid; /* remote domain (bind_unbound, bind_interdomain) */
    uint32_t port;  /* remote port (bind_interdomain) or own port */
    uint32_t virq;  /* bind_virq */
};

struct xenhv_evtchn_rep {
    uint32_t port;
};

struct xenhv_hello_rep {
    uint32_t domid;
    uint32_t privileged;
};

struct xenhv_domain_info {
    uint32_t domid;
    uint32_t nr_vcpus;
    uint64_t tot_pages;
    uint64_t max_pages;
    uint32_t shutdown;        /* 1 when shut down or shutting down */
    uint32_t shutdown_reason; /* SHUTDOWN_* when shutdown */
    char name[64];
    uint32_t paused;          /* paused by the control domain */
    uint32_t nr_online_vcpus; /* vCPUs up */
    uint32_t blocked;         /* every up vCPU is blocked */
    uint32_t pad;
    uint64_t cpu_time;        /* ns the vCPUs spent running */
    uint64_t shared_info_gfn; /* ~0 until the guest maps it */
    uint8_t handle[16];       /* UUID */
    uint64_t nr_exits;        /* VM exits so far, all vCPUs */
    uint64_t nr_hypercalls;   /* hypercalls so far, all vCPUs */
    uint32_t process;         /* a process domain (no vCPUs) */
    uint32_t pad2;
    /*
     * ns xen-hv spent serving the control domain's requests about this
     * domain (its create, populate, build, params, context, unpause...):
     * the hypervisor's share of making it, for the toolstack's benchmark.
     */
    uint64_t control_ns;
};

/*
 * XENHV_OP_DOMAIN_CREATE: a paused, empty PVH domain (XEN_DOMCTL_createdomain).
 * memory_mib 0: no memory yet; XENHV_OP_POPULATE_PHYSMAP gives it, up to
 * the max set with XENHV_OP_DOMAIN_SETMAXMEM (the xc_domain_create path).
 * domid 0: the lowest free id; else that id or -XEN_EEXIST (as Xen).
 * handle all-zero: a random UUID.  rep: uint32_t domid.
 */
struct xenhv_domain_create_req {
    char name[64];
    uint32_t memory_mib;
    uint32_t vcpus;
    uint32_t max_grant_frames;   /* 0: 32 */
    uint32_t max_event_channels; /* 0: 1024 */
    uint32_t domid;
    uint8_t handle[16];
};

/*
 * XENHV_OP_POPULATE_PHYSMAP: XENMEM_populate_physmap for domid
 * (xc_domain_populate_physmap_exact): nr_extents extents of 2^extent_order
 * pages at gfn[i] << extent_order, gfn[] following this struct (at most
 * XENHV_POPULATE_MAX).  rc 0 when all were populated, else the first error
 * (-XEN_ENOMEM past max_pages, -XEN_EINVAL outside RAM, -XEN_EBUSY).
 */
struct xenhv_populate_req {
    uint32_t domid;
    uint32_t nr_extents;
    uint32_t extent_order;
    uint32_t pad;
    /* uint64_t gfn[nr_extents]; */
};
#define XENHV_POPULATE_MAX 4096

/*
 * XENHV_OP_DOMAIN_BUILD: load the PVH kernel passed as a file descriptor
 * into domain domid (paused, not yet built) with cmdline.  On failure the
 * reply's payload is a one-line reason.  (Stands in for the toolstack's
 * domain builder until it builds through foreign mappings.)
 */
struct xenhv_domain_build_req {
    uint32_t domid;
    char cmdline[1024];
};

/*
 * XENHV_OP_HVM_PARAM_GET/SET: HVM_PARAM_* of domid as the control domain
 * sees them (every index; the write-once and value rules of
 * xen-hv/hvm_param.h still apply: -XEN_EEXIST, -XEN_EINVAL).
 */
struct xenhv_hvm_param {
    uint32_t domid;
    uint32_t index;
    uint64_t value;
};

/* XENHV_OP_DOMAIN_SETMAXMEM: xc_domain_setmaxmem (KiB). */
struct xenhv_setmaxmem {
    uint32_t domid;
    uint32_t pad;
    uint64_t max_kib;
};

/*
 * XENHV_OP_VCPU_SETCONTEXT: the initial state of vCPU vcpu of a domain
 * that has not run yet (<xen/hvm/hvm_vcpu.h> struct vcpu_hvm_context, as
 * XEN_DOMCTL_sethvmcontext/VCPUOP_initialise take it).  Setting vCPU 0
 * marks the domain built: a builder that loaded the kernel through
 * FOREIGN_MEMORY then unpauses it.  -XEN_EINVAL for a bad context,
 * -XEN_EBUSY once the domain runs, -XEN_ENOENT for a bad vcpu.
 */
struct xenhv_vcpu_setcontext {
    uint32_t domid;
    uint32_t vcpu;
    uint8_t ctx[128]; /* struct vcpu_hvm_context (bytes used: its size) */
};

/*
 * XENHV_OP_EVTCHN_ALLOC_UNBOUND_FOR: EVTCHNOP_alloc_unbound with `dom` not
 * DOMID_SELF, which Xen allows only a privileged caller: a new unbound port
 * in domain `dom` that domain `remote_dom` may bind (how the toolstack makes
 * a guest's xenstore and console ports).  rc -XEN_ESRCH no such dom,
 * -XEN_ENOSPC no free port; reply: struct xenhv_evtchn_rep.
 */
struct xenhv_alloc_unbound {
    uint32_t dom;
    uint32_t remote_dom;
};

/*
 * XENHV_OP_VCPU_SETAFFINITY: XEN_DOMCTL_setvcpuaffinity (hard): the host
 * CPUs vCPU vcpu of domid may run on, a bitmap (bit n = CPU n).
 * rc -XEN_ESRCH, -XEN_ENOENT (no such vcpu), -XEN_EINVAL (no online CPU).
 */
struct xenhv_vcpu_affinity {
    uint32_t domid;
    uint32_t vcpu;
    uint64_t cpumap[16]; /* 1024 host CPUs */
};

/* XENHV_OP_CONSOLE_CLEAR: the log's bytes come back, then it is empty. */
struct xenhv_console_clear {
    uint32_t domid;
};

/* XENHV_OP_FOREIGN_MEMORY: where each gpa range lives in the memfd. */
struct xenhv_mem_region {
    uint64_t gpa;
    uint64_t size;   /* bytes */
    uint64_t offset; /* in the memfd */
};
struct xenhv_foreign_rep {
    uint32_t nr_regions;
    uint32_t pad;
    struct xenhv_mem_region region[4];
};

#endif
