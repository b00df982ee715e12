/*
 * xldom.h — the toolstack library behind `xl` (libxldom.a): domain
 * create (the PVH domain builder), destroy, pause, unpause, shutdown
 * requests, rename, memory targets, lookup and listing, on top of
 * dom0-tools (libxenctrl, libxenforeignmemory, xen-hv's control socket)
 * and libxenstore.
 *
 * Implements the toolstack's part of:
 *   - docs/misc/pvh.pandoc (start of day: hvm_start_info, memmap, modules);
 *   - docs/misc/xenstore-paths.pandoc (the /local/domain/N, /vm/UUID and
 *     /libxl/N layout, with libxl's permissions);
 *   - docs/misc/xenstore.txt (XS_INTRODUCE / XS_RELEASE);
 *   - docs/man/xl.1.pod.in (what the commands do).
 *
 * Every function returns 0 or a negative errno and, on error, leaves a
 * one-line reason naming the domain in the context (xldom_error()).
 * Daemons: xen-hv's control socket is $XENHV_PRIVCMD, else
 * $XENHV_RUNDIR/privcmd, else Config.mk's RUNDIR/privcmd; xenstored's
 * socket is $XENSTORED_PATH, else $XENSTORED_RUNDIR/socket, else
 * Config.mk's XENSTORED_PATH; saved configs live in $XENHV_LIBDIR (else
 * Config.mk's XENHV_LIBDIR).
 */
#ifndef XLDOM_H
#define XLDOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xlcfg.h"

struct xldom_ctx;

/* What xldom_open() must connect to. */
#define XLDOM_NEED_XENHV    1u /* xen-hv's control socket */
#define XLDOM_NEED_XENSTORE 2u /* xenstored */

/*
 * xldom_open: a context connected to the daemons @need names.  On
 * failure returns NULL and writes the reason into @err (@errlen bytes),
 * e.g. "xen-hv is not running (no control socket at /run/xen-hv/privcmd)"
 * or "xenstored is not running (no socket at /run/xenstored/socket)".
 */
struct xldom_ctx *xldom_open(unsigned int need, char *err, size_t errlen);

/* xldom_close: disconnect and free; NULL is accepted. */
void xldom_close(struct xldom_ctx *ctx);

/* xldom_error: the reason of the last failure ("" when none). */
const char *xldom_error(const struct xldom_ctx *ctx);

/* Paths the library and xl use (environment, then Config.mk). */
const char *xldom_rundir(void);  /* xen-hv's run dir (sockets) */
const char *xldom_logdir(void);  /* daemon logs */
const char *xldom_libdir(void);  /* saved domain configs */
const char *xldom_privcmd(void); /* xen-hv's control socket */
const char *xldom_xs_path(void); /* xenstored's socket */

/* Flags of xldom_create(). */
#define XLDOM_CREATE_PAUSED 1u /* leave the domain paused (xl create -p) */

/*
 * xldom_create: build and start the domain @cfg describes:
 * xc_domain_create (PVH, @cfg's UUID, vCPUs, grant frames and event
 * channels) -> setmaxmem -> populate its RAM (xenhv_layout.h) -> load the
 * kernel (and the ramdisk as module 0) through a foreign mapping ->
 * hvm_start_info, memmap and cmdline -> vCPU 0's PVH entry state ->
 * console and xenstore pages zeroed, their ports allocated for domain 0,
 * HVM params CONSOLE_PFN/EVTCHN and STORE_PFN/EVTCHN -> xenstore nodes ->
 * saved config -> XS_INTRODUCE -> unpause (unless XLDOM_CREATE_PAUSED).
 * Atomic: on any failure everything made so far is undone (no domain, no
 * xenstore node, no saved config) and the reason names the step.
 * @json: the config's JSON as `xl list -l` prints it (saved as is).
 * Returns 0 with *@domid set, -EEXIST (name in use), -ENOENT (a file),
 * -ENOEXEC (kernel), -ENOMEM (memory), or another -errno.
 */
int xldom_create(struct xldom_ctx *ctx, const struct xlcfg_domain *cfg,
                 const char *json, unsigned int flags, uint32_t *domid);

/*
 * xldom_destroy: xc_domain_destroy, then remove /local/domain/N, /vm/UUID
 * and /libxl/N, XS_RELEASE, and delete the saved config.  A domain that
 * is already gone from xen-hv but still in xenstore is cleaned up.
 * Returns 0, -ESRCH (no such domain) or -errno.
 */
int xldom_destroy(struct xldom_ctx *ctx, uint32_t domid);

/*
 * xldom_lookup: the domid of @name_or_id, a domain name
 * (/local/domain/N/name) or a number that is a domain.  "Domain-0" and
 * "0" are domain 0.  Returns 0 or -ESRCH ("... is an invalid domain
 * identifier").
 */
int xldom_lookup(struct xldom_ctx *ctx, const char *name_or_id,
                 uint32_t *domid);

/*
 * xldom_name: the name of @domid (malloc'ed; "Domain-0" for 0), or NULL
 * with the reason set when it has none.
 */
char *xldom_name(struct xldom_ctx *ctx, uint32_t domid);

/* One line of `xl list`. */
struct xldom_info {
    uint32_t domid;
    char name[XLCFG_NAME_MAX + 1];
    uint8_t uuid[16];
    uint64_t mem_kib;   /* current pages, KiB */
    uint64_t max_kib;   /* max pages, KiB */
    uint32_t vcpus;     /* online */
    uint32_t max_vcpus; /* max vCPU id + 1 */
    double cpu_time;    /* seconds */
    bool running, blocked, paused, shutdown, crashed, dying;
    uint32_t shutdown_reason; /* SHUTDOWN_* when shutdown */
};

/*
 * xldom_list: every domain xen-hv hosts (domain 0 excluded), in domid
 * order, into a new array *@out of *@n entries (free()).  Returns 0 or
 * -errno.
 */
int xldom_list(struct xldom_ctx *ctx, struct xldom_info **out, size_t *n);

/* xldom_info: @domid's line.  Returns 0 or -ESRCH. */
int xldom_info(struct xldom_ctx *ctx, uint32_t domid, struct xldom_info *out);

/* xldom_pause / xldom_unpause: xc_domain_pause/unpause.  0 or -errno. */
int xldom_pause(struct xldom_ctx *ctx, uint32_t domid);
int xldom_unpause(struct xldom_ctx *ctx, uint32_t domid);

/*
 * xldom_shutdown_request: write control/shutdown = @reason ("poweroff",
 * "reboot", "suspend", "crash", "halt"), the PV control protocol of
 * docs/misc/xenstore-paths (~/control/shutdown).  Unless @force, the
 * guest must have said it understands (~/control/feature-poweroff or
 * feature-reboot = 1): -EOPNOTSUPP otherwise.  Returns 0 or -errno.
 */
int xldom_shutdown_request(struct xldom_ctx *ctx, uint32_t domid,
                           const char *reason, bool force);

/*
 * xldom_rename: /local/domain/N/name and /vm/UUID/name become @name (a
 * valid xl.cfg name not in use), and the saved config follows.  Returns
 * 0, -EEXIST, -EINVAL or -errno.
 */
int xldom_rename(struct xldom_ctx *ctx, uint32_t domid, const char *name);

/*
 * xldom_config_json: the saved config of @domid (as given to
 * xldom_create(), renamed as needed), malloc'ed.  Returns 0 or -ENOENT.
 */
int xldom_config_json(struct xldom_ctx *ctx, uint32_t domid, char **json);

/*
 * xldom_set_memory: `xl mem-set` (@target true: memory/target in KiB,
 * at most static-max) or `xl mem-max` (static-max; not below the current
 * target); both set the hypervisor's limit (setmaxmem) to the new size
 * plus 1 MiB, as libxl.  Returns 0, -EINVAL or -errno.
 */
int xldom_set_memory(struct xldom_ctx *ctx, uint32_t domid, uint64_t kib,
                     bool target);

/*
 * xldom_xs_read / xldom_xs_write: a node of @domid's home
 * (/local/domain/N/@rel; @rel starting with '/' is an absolute path);
 * read returns malloc'ed text or NULL.  Write
 * returns 0 or -errno.  For what xl stores there (sched-credit, vcpu-pin).
 */
char *xldom_xs_read(struct xldom_ctx *ctx, uint32_t domid, const char *rel);

/*
 * xldom_vcpu_pin: hard affinity of vCPU @vcpu of @domid to the host CPUs in
 * @map (XLCFG_MAX_CPUS bits, as xlcfg_cpus_parse() fills it), through
 * xc_vcpu_setaffinity: xen-hv pins that vCPU's thread.  Needs
 * XLDOM_NEED_XENHV.  Returns 0 or -errno (-EINVAL: no online CPU in @map,
 * -ENOENT: no such vCPU) with the reason in xldom_error().
 */
int xldom_vcpu_pin(struct xldom_ctx *ctx, uint32_t domid, uint32_t vcpu,
                   const uint64_t *map);
int xldom_xs_write(struct xldom_ctx *ctx, uint32_t domid, const char *rel,
                   const char *value);

/*
 * xldom_console_read: xen-hv's console_io log of @domid (the guest's
 * CONSOLEIO_write output, bounded), up to @len bytes into @buf.  Returns
 * the byte count or -errno.
 */
long xldom_console_read(struct xldom_ctx *ctx, uint32_t domid, char *buf,
                        size_t len);

/* ---- PV devices (docs/misc/xenstore-paths, <xen/io/xenbus.h>) ---- */

/* One xenstore key of a device directory. */
struct xldom_kv {
    const char *key;
    const char *value;
};

/* One device of a domain, as xldom_device_list() sees it. */
struct xldom_device {
    uint32_t devid;
    int fe_state, be_state; /* XenbusState, -1 when the node is missing */
};

/*
 * xldom_device_add: write the backend directory
 * /local/domain/0/backend/@kind/@domid/@devid (owned by domain 0, @domid
 * may read; frontend, frontend-id, @be keys, online = 1) and the frontend
 * directory /local/domain/@domid/device/@kind/@devid (owned by @domid,
 * the backend may read; backend, backend-id, @fe keys), both state =
 * XenbusStateInitialising last, then wait up to @timeout_ms until the
 * backend's state is at least @want (XenbusStateInitWait while the guest
 * is paused, XenbusStateConnected once it runs).  On any failure, timeout
 * included, both directories are removed.  @kind: [a-z0-9_]{1,16}.
 * Returns 0, -EEXIST (device already there), -ETIMEDOUT, -EINVAL, -errno.
 */
int xldom_device_add(struct xldom_ctx *ctx, uint32_t domid, const char *kind,
                     uint32_t devid, const struct xldom_kv *fe, size_t nfe,
                     const struct xldom_kv *be, size_t nbe, int want,
                     int timeout_ms);

/*
 * xldom_device_remove: backend online = 0 and state = XenbusStateClosing,
 * wait up to @timeout_ms for XenbusStateClosed, then remove both
 * directories.  @force: remove them even after a timeout (returns 0).
 * Returns 0, -ENOENT (no such device), -ETIMEDOUT or -errno.
 */
int xldom_device_remove(struct xldom_ctx *ctx, uint32_t domid, const char *kind,
                        uint32_t devid, bool force, int timeout_ms);

/*
 * xldom_device_list: the @kind devices of @domid (frontend directories),
 * a new array *@out of *@n entries (free()).  Returns 0 or -errno.
 */
int xldom_device_list(struct xldom_ctx *ctx, uint32_t domid, const char *kind,
                      struct xldom_device **out, size_t *n);

#endif /* XLDOM_H */
