/*
 * xlcfg.h — the xl.cfg parser and the validated domain configuration it
 * produces (libxlcfg.a).
 *
 * Two layers:
 *   1. struct xlcfg: the settings of one config file plus command-line
 *      overrides, in xl's syntax (Xen's docs/man/xl.cfg.5.pod.in "Syntax",
 *      grammar learnt from tools/libs/util/libxlu_cfg_{l.l,y.y}).
 *   2. struct xlcfg_domain: the typed, range-checked domain configuration
 *      for the keys xen-hv supports, with a yajl JSON form that uses libxl's
 *      libxl_domain_config names (c_info, b_info, disks, nics, on_*).
 *
 * Every problem is recorded as a diagnostic "SOURCE:LINE[:COL]: error: ..."
 * or "...: warning: ..." in the struct xlcfg; functions return 0 or a
 * negative errno (-EINVAL for a bad config, -ENOMEM, or the errno of a
 * failed open/read).
 */
#ifndef XLCFG_H
#define XLCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits of the typed layer (xl.cfg.5 and what xen-hv supports). */
#define XLCFG_NAME_MAX   64    /* domain name length, bytes */
#define XLCFG_MEMORY_MIN 4     /* MiB */
#define XLCFG_MEMORY_MAX 65536 /* MiB (64 GiB) */
#define XLCFG_VCPUS_MAX  128
#define XLCFG_MAX_CPUS   1024 /* host CPUs a "cpus" list may name */
/*
 * max_grant_frames: xl's default is the hypervisor's (xl.conf.5), 32 in
 * xen-hv; a guest can map at most 64 frames (xen-hv/memory_op.c).
 */
#define XLCFG_GNT_FRAMES 32
#define XLCFG_GNT_MAX    64
#define XLCFG_EVTCHN     1023  /* xl's default max_event_channels */
#define XLCFG_EVTCHN_MAX 4096  /* 2-level ABI limit on 64-bit guests */
#define XLCFG_RATE_USECS 50000 /* vif rate default interval, us */

/* ---- layer 1: settings ---- */

struct xlcfg;

/*
 * xlcfg_new: an empty settings table.  Returns NULL when out of memory.
 * Free it with xlcfg_free().
 */
struct xlcfg *xlcfg_new(void);

/* xlcfg_free: release @cfg and everything it holds; NULL is accepted. */
void xlcfg_free(struct xlcfg *cfg);

/*
 * xlcfg_parse_data: parse @len bytes of xl.cfg text @data, naming it
 * @source in diagnostics, and store its settings into @cfg (a later
 * `key = v` replaces an earlier one, `key += v` appends to it as xl does).
 * Syntax errors are recorded as "SOURCE:LINE:COL: error: unexpected X,
 * expected Y" (lines and columns from 1, a tab counts one); parsing resumes
 * at the next line so that each bad line is reported, up to 50 errors.
 * Returns 0, -EINVAL after any syntax error, or -ENOMEM.
 */
int xlcfg_parse_data(struct xlcfg *cfg, const char *source, const char *data,
                     size_t len);

/*
 * xlcfg_parse_file: read the file at @path (at most 1 MiB) and parse it as
 * xlcfg_parse_data() with @path as source.  Returns 0, -EINVAL (syntax),
 * -EFBIG, -ENOMEM, or the negative errno of open/read (also recorded).
 */
int xlcfg_parse_file(struct xlcfg *cfg, const char *path);

/*
 * xlcfg_parse_override: apply one command-line `key=value` argument
 * (@arg, as `xl create cfg key=value ...`), the @argno'th (1-based), after
 * the file: same grammar, diagnostics named "<command line>:ARGNO:COL".
 * Returns as xlcfg_parse_data().
 */
int xlcfg_parse_override(struct xlcfg *cfg, const char *arg,
                         unsigned int argno);

/* xlcfg_diag_count: number of diagnostics (errors and warnings) so far. */
size_t xlcfg_diag_count(const struct xlcfg *cfg);

/*
 * xlcfg_diag: the @i'th diagnostic (0-based, in order of discovery), a
 * string owned by @cfg, or NULL when @i is out of range.
 */
const char *xlcfg_diag(const struct xlcfg *cfg, size_t i);

/* xlcfg_error_count: how many of the diagnostics are errors. */
size_t xlcfg_error_count(const struct xlcfg *cfg);

/*
 * xlcfg_get_string: the value of setting @key when it is a single value
 * (quoted string or number), else NULL (absent, or a list).  The string is
 * owned by @cfg.
 */
const char *xlcfg_get_string(const struct xlcfg *cfg, const char *key);

/*
 * xlcfg_get_list: the number of items of list setting @key, or -1 when it
 * is absent or not a list.  With @items non-NULL, *@items receives the
 * items' strings (owned by @cfg; an item that is itself a list is NULL).
 * The array stays valid until @cfg changes.
 */
long xlcfg_get_list(const struct xlcfg *cfg, const char *key,
                    const char *const **items);

/* ---- layer 2: the typed domain configuration ---- */

/* libxl_action_on_shutdown values (libxl_types.idl). */
enum xlcfg_action {
    XLCFG_ACTION_DESTROY = 1,
    XLCFG_ACTION_RESTART = 2,
    XLCFG_ACTION_RESTART_RENAME = 3,
    XLCFG_ACTION_PRESERVE = 4,
};

/* libxl_disk_format values. */
enum xlcfg_disk_format {
    XLCFG_FORMAT_UNKNOWN = 0,
    XLCFG_FORMAT_QCOW = 1,
    XLCFG_FORMAT_QCOW2 = 2,
    XLCFG_FORMAT_VHD = 3,
    XLCFG_FORMAT_RAW = 4,
    XLCFG_FORMAT_EMPTY = 5,
    XLCFG_FORMAT_QED = 6,
};

/* libxl_disk_backend values. */
enum xlcfg_disk_backend {
    XLCFG_BACKEND_UNKNOWN = 0,
    XLCFG_BACKEND_PHY = 1,
    XLCFG_BACKEND_TAP = 2,
    XLCFG_BACKEND_QDISK = 3,
    XLCFG_BACKEND_STANDALONE = 4,
};

/* libxl_nic_type values. */
enum xlcfg_nic_type {
    XLCFG_NIC_UNKNOWN = 0,
    XLCFG_NIC_VIF_IOEMU = 1,
    XLCFG_NIC_VIF = 2,
};

/* A tri-state (libxl_defbool): unset, false, true. */
enum xlcfg_defbool {
    XLCFG_DEFAULT = 0,
    XLCFG_FALSE = 1,
    XLCFG_TRUE = 2,
};

/* One `disk` entry (docs/man/xl-disk-configuration.5.pod.in). */
struct xlcfg_disk {
    char *pdev_path;       /* target; NULL for an empty cdrom */
    char *vdev;            /* as written: xvda, hdc, sdb1, d1p2, 51712 */
    uint32_t devid;        /* its Xen virtual device number (vbd-interface) */
    char *backend_domname; /* NULL: domain 0 */
    char *script;          /* NULL: none */
    enum xlcfg_disk_format format;
    enum xlcfg_disk_backend backend;
    bool readwrite;
    bool is_cdrom;
    bool direct_io_safe;
    enum xlcfg_defbool discard_enable;
    enum xlcfg_defbool trusted;
};

/* One `vif` entry (docs/man/xl-network-configuration.5.pod.in). */
struct xlcfg_nic {
    uint32_t devid; /* index in the vif list */
    uint8_t mac[6]; /* given, or random 00:16:3e:xx:xx:xx as xl */
    char *bridge;   /* NULL: xenbr0 at attach time */
    char *ip;
    char *model;
    char *ifname; /* vifname= */
    char *script;
    char *backend_domname; /* backend=; NULL: domain 0 */
    char *gatewaydev;
    enum xlcfg_nic_type nictype;
    uint32_t mtu;                     /* 0: default (bridge's, or 1500) */
    uint64_t rate_bytes_per_interval; /* 0: unlimited */
    uint32_t rate_interval_usecs;     /* 0 when no rate */
};

/* The validated configuration of one PVH domain. */
struct xlcfg_domain {
    /* c_info */
    char *name;
    uint8_t uuid[16]; /* given, or a random version-4 UUID */
    /* b_info */
    uint32_t max_vcpus;    /* maxvcpus, default vcpus */
    uint32_t vcpus;        /* vCPUs online at boot (avail_vcpus) */
    uint64_t max_memkb;    /* maxmem (default memory) * 1024 */
    uint64_t target_memkb; /* memory * 1024 */
    bool cpumap_set;       /* false: no affinity (all CPUs) */
    uint64_t cpumap[XLCFG_MAX_CPUS / 64];
    char *kernel;
    char *ramdisk; /* NULL: none */
    char *cmdline; /* NULL: empty */
    uint32_t max_grant_frames;
    uint32_t max_event_channels;
    /*
     * xenhv_keep_vmcall = 1 (our extension, default 0): the builder leaves
     * the kernel's vmcall/vmmcall hypercall pair alone instead of
     * rewriting it into xen-hv's hypercall trap (xen-hv/hcall_patch.h).
     */
    bool keep_vmcall;
    enum xlcfg_action on_poweroff, on_reboot, on_crash, on_watchdog;
    struct xlcfg_disk *disks;
    size_t num_disks;
    struct xlcfg_nic *nics;
    size_t num_nics;
};

/*
 * xlcfg_domain_build: turn the settings of @cfg into a validated domain
 * configuration (xl.cfg.5 semantics for name, uuid, type, kernel, ramdisk,
 * cmdline/root/extra, memory, maxmem, vcpus, maxvcpus, cpus, on_*, disk,
 * vif, max_grant_frames, max_event_channels; and xen-hv's own
 * xenhv_keep_vmcall).  Each bad value is recorded
 * as an error "SOURCE:LINE: error: ..." at the line of its key; each
 * unknown key as one warning.  On success *@out is a new domain (free with
 * xlcfg_domain_free()).  Returns 0, -EINVAL (errors recorded) or -ENOMEM.
 */
int xlcfg_domain_build(struct xlcfg *cfg, struct xlcfg_domain **out);

/* xlcfg_domain_free: release @d and its strings; NULL is accepted. */
void xlcfg_domain_free(struct xlcfg_domain *d);

/*
 * xlcfg_domain_to_json: encode @d as pretty-printed JSON (libxl's
 * libxl_domain_config field names) into a new malloc'ed string *@json.
 * Returns 0, -EINVAL when @d is not a valid configuration (the checks of
 * xlcfg_domain_build(): a hand-made struct could hold anything), or
 * -ENOMEM.
 */
int xlcfg_domain_to_json(const struct xlcfg_domain *d, char **json);

/*
 * xlcfg_domain_from_json: decode JSON produced by xlcfg_domain_to_json()
 * (absent fields take their defaults) and validate it as
 * xlcfg_domain_build() does.  On error returns -EINVAL and, when @err is
 * non-NULL, a malloc'ed message in *@err.  Returns 0, -EINVAL or -ENOMEM.
 */
int xlcfg_domain_from_json(const char *json, struct xlcfg_domain **out,
                           char **err);

/* xlcfg_domain_equal: true when @a and @b describe the same domain. */
bool xlcfg_domain_equal(const struct xlcfg_domain *a,
                        const struct xlcfg_domain *b);

/*
 * xlcfg_vdev_to_devid: the Xen virtual device number of disk name @vdev
 * (docs/man/xen-vbd-interface.7.pandoc: xvdX[N], hdX[N], sdX[N], dNpM, or
 * a plain number).  Returns 0 with *@devid set, or -EINVAL.
 */
int xlcfg_vdev_to_devid(const char *vdev, uint32_t *devid);

/*
 * xlcfg_disk_parse: parse one DISKSPEC @spec (xl-disk-configuration.5:
 * positional, keyword and deprecated prefix forms) into @disk (zeroed and
 * filled; free with xlcfg_disk_clear()).  On error returns -EINVAL and a
 * malloc'ed reason in *@why (when non-NULL); -ENOMEM when out of memory.
 */
int xlcfg_disk_parse(const char *spec, struct xlcfg_disk *disk, char **why);

/* xlcfg_disk_clear: free @disk's strings and zero it. */
void xlcfg_disk_clear(struct xlcfg_disk *disk);

/*
 * xlcfg_nic_parse: parse one vifspec @spec (xl-network-configuration.5)
 * into @nic (zeroed and filled; free with xlcfg_nic_clear()), @devid being
 * its index in the vif list.  A missing mac gets a random one in Xen's OUI
 * 00:16:3e.  Errors as xlcfg_disk_parse().
 */
int xlcfg_nic_parse(const char *spec, uint32_t devid, struct xlcfg_nic *nic,
                    char **why);

/* xlcfg_nic_clear: free @nic's strings and zero it. */
void xlcfg_nic_clear(struct xlcfg_nic *nic);

/*
 * xlcfg_cpus_parse: parse xl's cpu list syntax @s ("all", "0-3,^2", "5")
 * into the bitmap @map of XLCFG_MAX_CPUS bits.  "nodes:" lists are
 * rejected (no NUMA information here).  Errors as xlcfg_disk_parse().
 */
int xlcfg_cpus_parse(const char *s, uint64_t *map, char **why);

/*
 * xlcfg_uuid_parse: 36-character "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
 * text @s (hex of either case) into @uuid.  Returns 0 or -EINVAL.
 */
int xlcfg_uuid_parse(const char *s, uint8_t uuid[16]);

/* xlcfg_uuid_format: @uuid as lowercase 8-4-4-4-12 text, NUL-terminated. */
void xlcfg_uuid_format(const uint8_t uuid[16], char out[37]);

/*
 * xlcfg_mac_parse: "xx:xx:xx:xx:xx:xx" (hex of either case) into @mac.
 * Returns 0 or -EINVAL.
 */
int xlcfg_mac_parse(const char *s, uint8_t mac[6]);

/* xlcfg_mac_format: @mac as lowercase "xx:xx:xx:xx:xx:xx". */
void xlcfg_mac_format(const uint8_t mac[6], char out[18]);

/*
 * xlcfg_action_name: libxl's JSON name of @a ("destroy", "restart",
 * "restart_rename", "preserve"), NULL when out of range.
 */
const char *xlcfg_action_name(enum xlcfg_action a);

#endif /* XLCFG_H */
