/*
 * xldom_build.c — xldom_create(): the PVH domain builder and the new
 * domain's xenstore layout.
 *
 * Build (docs/misc/pvh.pandoc): RAM as xenhv_layout.h lays it out, the
 * kernel's PT_LOAD segments at their p_paddr (xen-hv/elf_loader.c), the
 * ramdisk as module 0 on the next page, then hvm_start_info with the
 * memmap and the command line (xen-hv/start_info.c), vCPU 0 in 32-bit
 * flat protected mode at XEN_ELFNOTE_PHYS32_ENTRY with ebx = start info.
 * Xenstore (docs/misc/xenstore-paths.pandoc) with libxl's permissions:
 * the domain may read its home and owns the nodes it must write
 * (control/shutdown, control/feature-*, data, console, ...).
 *
 * Atomic: every step records what it made in struct build, and
 * build_undo() takes all of it back when a later step fails.
 */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xen/hvm/hvm_vcpu.h>
#include <xen/hvm/params.h>
#include <xenforeignmemory.h>

#include "elf_loader.h"
#include "hcall_patch.h"
#include "xldom_bzimage.h"
#include "start_info.h"
#include "xenhv_layout.h"
#include "xldom_acpi.h"
#include "xldom_priv.h"

#define IMAGE_MAX     (512ULL << 20) /* bytes of kernel or ramdisk */
#define CONSOLE_LIMIT "1048576"      /* ~/console/limit, bytes */
#define ACPI_BYTES    4096ULL        /* top page of low RAM: ACPI tables */

/* Everything xldom_create() made so far, for the undo path. */
struct build {
    struct xldom_ctx *ctx;
    const struct xlcfg_domain *cfg;
    uint32_t domid;
    bool created, xs_written, introduced, saved;
    char uuid[37];
    char home[64];
    void *kernel, *ramdisk;
    size_t kernel_len, ramdisk_len;
    void *kernel_map; /* the kernel file's mapping (image_read) */
    size_t kernel_map_len;
    void *kernel_elf; /* malloc'ed vmlinux out of a bzImage, or NULL */
    xenforeignmemory_handle *fm;
    void *ram, *special;
    size_t ram_pages;
    uint64_t low, high; /* RAM bytes below 4 GiB and above */
    uint32_t console_port, store_port;
};

/*
 * Map the file at @path (at most IMAGE_MAX bytes) read-only into *@buf:
 * the page cache's pages are used as they are, with no copy into fresh
 * memory (a 65 MB vmlinux cost a second of page faults in the lab).
 * Release with munmap(*@buf, *@len).
 */
static int image_read(struct build *b, const char *what, const char *path,
                      void **buf, size_t *len)
{
    struct stat st;
    void *p;
    int fd, rc = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return xldom_fail(b->ctx, -errno, "%s: %s %s: %s", b->cfg->name, what,
                          path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0 ||
        (uint64_t)st.st_size > IMAGE_MAX) {
        rc = xldom_fail(b->ctx, -EINVAL,
                        "%s: %s %s: not a regular file of 1 byte to %llu MiB",
                        b->cfg->name, what, path, IMAGE_MAX >> 20);
        goto out;
    }
    p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        rc = xldom_fail(b->ctx, -errno, "%s: %s %s: %s", b->cfg->name, what,
                        path, strerror(errno));
        goto out;
    }
    *buf = p;
    *len = (size_t)st.st_size;
out:
    close(fd);
    return rc;
}

/*
 * kernel_unpack — a bzImage kernel is replaced by the vmlinux inside it
 * (xldom_bzimage.h), so /boot/vmlinuz-* boots as PVH, as on Xen.
 * Returns 0 or a negative errno (recorded).
 */
static int kernel_unpack(struct build *b)
{
    char why[160] = "";
    void *elf;
    size_t elf_len;
    int rc = xldom_bzimage_unpack(b->kernel, b->kernel_len, &elf, &elf_len, why,
                                  sizeof(why));

    if (rc < 0)
        return xldom_fail(b->ctx, rc, "%s: kernel %s: %s", b->cfg->name,
                          b->cfg->kernel, why);
    if (rc == 1) {
        b->kernel_elf = elf; /* b->kernel's mapping stays until the end */
        b->kernel = elf;
        b->kernel_len = elf_len;
    }
    return 0;
}

/* MemAvailable of /proc/meminfo in KiB, or UINT64_MAX when unknown. */
static uint64_t host_available_kib(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    unsigned long long kib = 0;
    int found = 0;

    if (!f)
        return UINT64_MAX;
    while (!found && fgets(line, sizeof(line), f))
        found = sscanf(line, "MemAvailable: %llu kB", &kib) == 1;
    fclose(f);
    return found ? (uint64_t)kib : UINT64_MAX;
}

/* Populate @bytes of RAM at @gpa: 2 MiB extents, then 4 KiB pages. */
static int populate(struct build *b, uint64_t gpa, uint64_t bytes)
{
    uint64_t big = bytes >> 21, small = (bytes & ((1 << 21) - 1)) >> 12;
    uint64_t n = big > small ? big : small;
    xen_pfn_t *gfns = calloc(n ? n : 1, sizeof(*gfns));
    int rc = 0;

    if (!gfns)
        return xldom_fail(b->ctx, -ENOMEM, "out of memory");
    for (uint64_t i = 0; i < big; i++)
        gfns[i] = (gpa >> 21) + i;
    if (big && xc_domain_populate_physmap_exact(b->ctx->xch, b->domid, big, 9,
                                                0, gfns) != 0)
        rc = -errno;
    for (uint64_t i = 0; !rc && i < small; i++)
        gfns[i] = ((gpa + (big << 21)) >> 12) + i;
    if (!rc && small &&
        xc_domain_populate_physmap_exact(b->ctx->xch, b->domid, small, 0, 0,
                                         gfns) != 0)
        rc = -errno;
    free(gfns);
    if (rc)
        return xldom_fail(b->ctx, rc, "%s: populating %llu MiB of RAM: %s",
                          b->cfg->name, (unsigned long long)(bytes >> 20),
                          strerror(-rc));
    return 0;
}

/* Step: the empty domain, its max memory, its RAM and the mappings. */
static int build_memory(struct build *b)
{
    const struct xlcfg_domain *c = b->cfg;
    struct xen_domctl_createdomain dc = {
        .flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap,
        .max_vcpus = c->max_vcpus,
        .max_evtchn_port = c->max_event_channels,
        .max_grant_frames = (int32_t)c->max_grant_frames,
        .max_maptrack_frames = -1,
    };
    uint64_t ram = c->target_memkb * 1024, avail;
    xen_pfn_t *pfns = NULL, special[2];
    size_t i, n = 0;
    int rc = 0;

    memcpy(dc.handle, c->uuid, 16);
    if (xc_domain_create(b->ctx->xch, &b->domid, &dc) != 0) {
        int e = errno;

        /* ENODEV: xen-hv runs without KVM (its log says why). */
        return xldom_fail(b->ctx, -e, "%s: creating the domain: %s%s", c->name,
                          strerror(e),
                          e == ENODEV ? " (xen-hv has no usable /dev/kvm "
                                        "on this host: it can host domain 0 "
                                        "and process domains only)"
                                      : "");
    }
    b->created = true;
    snprintf(b->home, sizeof(b->home), "/local/domain/%u", b->domid);
    if (xc_domain_setmaxmem(b->ctx->xch, b->domid, c->max_memkb) != 0)
        return xldom_fail(b->ctx, -errno, "%s: setmaxmem %llu KiB: %s", c->name,
                          (unsigned long long)c->max_memkb, strerror(errno));
    /* Refuse before the host has to: populating is lazy in xen-hv. */
    avail = host_available_kib();
    if (c->target_memkb > avail)
        return xldom_fail(b->ctx, -ENOMEM,
                          "%s: not enough memory: the domain needs %llu MiB, "
                          "the host has %llu MiB available",
                          c->name, (unsigned long long)(c->target_memkb >> 10),
                          (unsigned long long)(avail >> 10));
    b->low = ram < XENHV_LOWMEM_MAX ? ram : XENHV_LOWMEM_MAX;
    b->high = ram - b->low;
    rc = populate(b, 0, b->low);
    if (!rc && b->high)
        rc = populate(b, XENHV_HIGHMEM_BASE, b->high);
    if (rc)
        return rc;

    b->fm = xenforeignmemory_open(NULL, 0);
    b->ram_pages = (size_t)(ram >> 12);
    pfns = malloc(b->ram_pages * sizeof(*pfns));
    if (!b->fm || !pfns) {
        rc = xldom_fail(b->ctx, -ENOMEM, "%s: cannot map its memory: %s",
                        c->name, strerror(errno));
        goto out;
    }
    for (i = 0; i < b->low >> 12; i++)
        pfns[n++] = i;
    for (i = 0; i < b->high >> 12; i++)
        pfns[n++] = (XENHV_HIGHMEM_BASE >> 12) + i;
    b->ram = xenforeignmemory_map(b->fm, b->domid, PROT_READ | PROT_WRITE,
                                  b->ram_pages, pfns, NULL);
    special[0] = XENHV_SPECIAL_GFN(XENHV_SPECIAL_CONSOLE);
    special[1] = XENHV_SPECIAL_GFN(XENHV_SPECIAL_XENSTORE);
    if (b->ram)
        b->special = xenforeignmemory_map(
            b->fm, b->domid, PROT_READ | PROT_WRITE, 2, special, NULL);
    if (!b->ram || !b->special)
        rc = xldom_fail(b->ctx, -errno, "%s: mapping its memory: %s", c->name,
                        strerror(errno));
out:
    free(pfns);
    return rc;
}

/* Step: kernel, ramdisk, start info, memmap, vCPU 0's entry state. */
/*
 * build_rewrite_hypercalls — rewrite the loaded kernel's vmcall/vmmcall
 * hypercall pair into xen-hv's hypercall trap (xen-hv/hcall_patch.h), as
 * xen-hv's own builder does, unless the config says xenhv_keep_vmcall = 1.
 * Each pair is logged on stderr (libxl's log).  Returns 0 or -ENOEXEC.
 */
static int build_rewrite_hypercalls(struct build *b,
                                    const struct elf_pvh_info *info)
{
    const struct xlcfg_domain *c = b->cfg;
    struct hcall_patch_result res;
    int n =
        hcall_patch_scan((uint8_t *)b->ram + info->load_lo,
                         info->load_hi - info->load_lo, !c->keep_vmcall, &res);

    if (n < 0)
        return xldom_fail(b->ctx, -ENOEXEC,
                          "%s: kernel %s: more than %d vmcall/vmmcall "
                          "hypercall pairs",
                          c->name, c->kernel, HCALL_PATCH_MAX);
    for (int i = 0; i < n; i++)
        fprintf(stderr,
                "libxl: %s: %s xen_hypercall_amd (vmmcall at %#llx) and "
                "xen_hypercall_intel (vmcall at %#llx)%s\n",
                c->name, c->keep_vmcall ? "kept" : "rewrote",
                (unsigned long long)(info->load_lo + res.amd_off[i]),
                (unsigned long long)(info->load_lo + res.intel_off[i]),
                c->keep_vmcall ? " (xenhv_keep_vmcall = 1)"
                               : " into the hypercall trap");
    return 0;
}

static int build_image(struct build *b)
{
    const struct xlcfg_domain *c = b->cfg;
    struct hvm_memmap_table_entry mm[6];
    struct start_info_module mod = {0};
    struct start_info_request req = {0};
    struct xenhv_vcpu_setcontext sc = {0};
    struct vcpu_hvm_context v = {0};
    struct elf_pvh_info info;
    struct gmem g = {0};
    char why[200] = "";
    uint64_t next, used = 0, acpi = b->low - ACPI_BYTES, rsdp = 0;
    unsigned int nmm = 0;
    long alen;
    int rc;

    g.region[g.nr_regions++] = (struct gmem_region){0, b->low, b->ram};
    if (b->high)
        g.region[g.nr_regions++] = (struct gmem_region){
            XENHV_HIGHMEM_BASE, b->high, (uint8_t *)b->ram + b->low};
    /* The tables take the top page of low RAM, reported as ACPI. */
    alen = xldom_acpi_build((uint8_t *)b->ram + acpi, acpi, ACPI_BYTES,
                            c->max_vcpus, c->vcpus, &rsdp);
    if (alen < 0)
        return xldom_fail(b->ctx, (int)alen, "%s: ACPI tables: %s", c->name,
                          strerror((int)-alen));
    rc = elf_pvh_load(b->kernel, b->kernel_len, &g, acpi, &info, why,
                      sizeof(why));
    if (rc)
        return xldom_fail(b->ctx, rc, "%s: kernel %s: %s", c->name, c->kernel,
                          why);
    rc = build_rewrite_hypercalls(b, &info);
    if (rc)
        return rc;
    next = (info.load_hi + 4095) & ~4095ULL;
    if (b->ramdisk) {
        if (b->ramdisk_len > acpi || next > acpi - b->ramdisk_len)
            return xldom_fail(b->ctx, -ENOMEM,
                              "%s: ramdisk %s (%zu bytes) does not fit in "
                              "its RAM after the kernel",
                              c->name, c->ramdisk, b->ramdisk_len);
        memcpy((uint8_t *)b->ram + next, b->ramdisk, b->ramdisk_len);
        mod.paddr = next;
        mod.size = b->ramdisk_len;
        req.modules = &mod;
        req.nr_modules = 1;
        next = (next + b->ramdisk_len + 4095) & ~4095ULL;
    }
    /* The memory map xen-hv's own builder gives (xenhv_layout.h). */
    mm[nmm++] = (struct hvm_memmap_table_entry){
        .addr = 0, .size = acpi, .type = XEN_HVM_MEMMAP_TYPE_RAM};
    mm[nmm++] = (struct hvm_memmap_table_entry){
        .addr = acpi, .size = ACPI_BYTES, .type = XEN_HVM_MEMMAP_TYPE_ACPI};
    mm[nmm++] =
        (struct hvm_memmap_table_entry){.addr = XENHV_SPECIAL_GPA,
                                        .size = XENHV_NR_SPECIAL * 4096ULL,
                                        .type = XEN_HVM_MEMMAP_TYPE_RESERVED};
    mm[nmm++] =
        (struct hvm_memmap_table_entry){.addr = 0xfeffc000ULL,
                                        .size = 0x1000,
                                        .type = XEN_HVM_MEMMAP_TYPE_RESERVED};
    mm[nmm++] =
        (struct hvm_memmap_table_entry){.addr = 0xfffbd000ULL,
                                        .size = 0x3000,
                                        .type = XEN_HVM_MEMMAP_TYPE_RESERVED};
    if (b->high)
        mm[nmm++] =
            (struct hvm_memmap_table_entry){.addr = XENHV_HIGHMEM_BASE,
                                            .size = b->high,
                                            .type = XEN_HVM_MEMMAP_TYPE_RAM};
    req.cmdline = c->cmdline ? c->cmdline : "";
    req.memmap = mm;
    req.nr_memmap = nmm;
    req.rsdp_paddr = rsdp;
    if (next >= acpi ||
        start_info_build(&g, next, acpi - next, &req, &used) != 0)
        return xldom_fail(b->ctx, -ENOMEM,
                          "%s: no room for the start info after the kernel",
                          c->name);

    /* docs/misc/pvh.pandoc: 32-bit flat protected mode, no paging. */
    v.mode = VCPU_HVM_MODE_32B;
    v.cpu_regs.x86_32.eip = info.phys32_entry;
    v.cpu_regs.x86_32.ebx = (uint32_t)next;
    v.cpu_regs.x86_32.eflags = 0x2;
    v.cpu_regs.x86_32.cr0 = 0x11; /* PE | ET */
    v.cpu_regs.x86_32.cs_limit = v.cpu_regs.x86_32.ds_limit = ~0u;
    v.cpu_regs.x86_32.ss_limit = v.cpu_regs.x86_32.es_limit = ~0u;
    v.cpu_regs.x86_32.tr_limit = 0x67;
    v.cpu_regs.x86_32.cs_ar = 0xc9b; /* 32-bit code, present */
    v.cpu_regs.x86_32.ds_ar = v.cpu_regs.x86_32.ss_ar =
        v.cpu_regs.x86_32.es_ar = 0xc93; /* 32-bit data, present */
    v.cpu_regs.x86_32.tr_ar = 0x8b;      /* busy 32-bit TSS */
    sc.domid = b->domid;
    sc.vcpu = 0;
    memcpy(sc.ctx, &v, sizeof(v));
    rc = privcmd_call(&b->ctx->pc, XENHV_OP_VCPU_SETCONTEXT, &sc, sizeof(sc),
                      NULL, 0, NULL, NULL);
    if (rc)
        return xldom_fail(b->ctx, -privcmd_errno(rc),
                          "%s: setting vCPU 0's state: %s", c->name,
                          strerror(privcmd_errno(rc)));
    return 0;
}

/* Step: console and xenstore pages, their ports and HVM params. */
static int build_rings(struct build *b)
{
    xc_interface *xch = b->ctx->xch;
    int cport, sport;

    memset(b->special, 0, 2 * 4096);
    cport = xc_evtchn_alloc_unbound(xch, b->domid, 0);
    sport = xc_evtchn_alloc_unbound(xch, b->domid, 0);
    if (cport <= 0 || sport <= 0)
        return xldom_fail(b->ctx, -errno,
                          "%s: allocating its console/xenstore ports: %s",
                          b->cfg->name, strerror(errno));
    b->console_port = (uint32_t)cport;
    b->store_port = (uint32_t)sport;
    if (xc_hvm_param_set(xch, b->domid, HVM_PARAM_CONSOLE_PFN,
                         XENHV_SPECIAL_GFN(XENHV_SPECIAL_CONSOLE)) ||
        xc_hvm_param_set(xch, b->domid, HVM_PARAM_CONSOLE_EVTCHN,
                         b->console_port) ||
        xc_hvm_param_set(xch, b->domid, HVM_PARAM_STORE_PFN,
                         XENHV_SPECIAL_GFN(XENHV_SPECIAL_XENSTORE)) ||
        xc_hvm_param_set(xch, b->domid, HVM_PARAM_STORE_EVTCHN, b->store_port))
        return xldom_fail(b->ctx, -errno, "%s: setting HVM params: %s",
                          b->cfg->name, strerror(errno));
    return 0;
}

/* @home/@rel, @home for "", or @rel itself when absolute. */
static void node_path(const struct build *b, const char *rel, char *path,
                      size_t len)
{
    if (rel[0] == '/')
        snprintf(path, len, "%s", rel);
    else if (!rel[0])
        snprintf(path, len, "%s", b->home);
    else
        snprintf(path, len, "%s/%s", b->home, rel);
}

/* Write @value at node_path(@rel). */
static int put(struct build *b, const char *rel, const char *value)
{
    char path[256];

    node_path(b, rel, path, sizeof(path));
    if (!xs_write(b->ctx->xs, XBT_NULL, path, value, strlen(value)))
        return xldom_fail(b->ctx, -errno, "%s: writing %s: %s", b->cfg->name,
                          path, strerror(errno));
    return 0;
}

/* Set the permissions of @home/@rel: owner @owner, others as given. */
static int perm(struct build *b, const char *rel, bool domain_owns)
{
    struct xs_permissions p[2];
    unsigned int n = 0;
    char path[256];

    node_path(b, rel, path, sizeof(path));
    if (domain_owns) {
        p[n++] = (struct xs_permissions){.id = b->domid, .perms = XS_PERM_NONE};
    } else {
        /* libxl's "roperm": dom0 owns it, the domain may read. */
        p[n++] = (struct xs_permissions){.id = 0, .perms = XS_PERM_NONE};
        p[n++] = (struct xs_permissions){.id = b->domid, .perms = XS_PERM_READ};
    }
    if (!xs_set_permissions(b->ctx->xs, XBT_NULL, path, p, n))
        return xldom_fail(b->ctx, -errno, "%s: permissions of %s: %s",
                          b->cfg->name, path, strerror(errno));
    return 0;
}

/* Step: the xenstore layout of docs/misc/xenstore-paths.pandoc. */
static int build_xenstore(struct build *b)
{
    static const char *const rw[] = {"control/shutdown",
                                     "control/feature-poweroff",
                                     "control/feature-reboot",
                                     "control/feature-suspend",
                                     "control/sysrq",
                                     "data",
                                     "drivers",
                                     "feature",
                                     "attr",
                                     "error",
                                     "console"};
    const struct xlcfg_domain *c = b->cfg;
    char vm[64], buf[64], path[128], state[256];
    int rc;

    snprintf(vm, sizeof(vm), "/vm/%s", b->uuid);
    b->xs_written = true;
    rc = put(b, "", "");
    rc = rc ?: perm(b, "", false);
    rc = rc ?: put(b, vm, "");
    rc = rc ?: perm(b, vm, false);
    snprintf(path, sizeof(path), "%s/name", vm);
    rc = rc ?: put(b, path, c->name);
    snprintf(path, sizeof(path), "%s/uuid", vm);
    rc = rc ?: put(b, path, b->uuid);
    snprintf(path, sizeof(path), "%s/start_time", vm);
    snprintf(buf, sizeof(buf), "%ld", (long)time(NULL));
    rc = rc ?: put(b, path, buf);

    rc = rc ?: put(b, "name", c->name);
    snprintf(buf, sizeof(buf), "%u", b->domid);
    rc = rc ?: put(b, "domid", buf);
    rc = rc ?: put(b, "vm", vm);
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)c->max_memkb);
    rc = rc ?: put(b, "memory/static-max", buf);
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)c->target_memkb);
    rc = rc ?: put(b, "memory/target", buf);
    rc = rc ?: put(b, "memory/videoram", "-1");
    for (uint32_t i = 0; !rc && i < c->max_vcpus; i++) {
        snprintf(path, sizeof(path), "cpu/%u/availability", i);
        rc = put(b, path, i < c->vcpus ? "online" : "offline");
    }
    rc = rc ?: put(b, "device", "");
    rc = rc ?: put(b, "control/platform-feature-multiprocessor-suspend", "1");
    rc = rc ?: put(b, "control/platform-feature-xs_reset_watches", "1");
    for (size_t i = 0; !rc && i < sizeof(rw) / sizeof(rw[0]); i++) {
        rc = put(b, rw[i], "");
        rc = rc ?: perm(b, rw[i], true);
    }
    snprintf(buf, sizeof(buf), "%llu",
             (unsigned long long)XENHV_SPECIAL_GFN(XENHV_SPECIAL_XENSTORE));
    rc = rc ?: put(b, "store/ring-ref", buf);
    snprintf(buf, sizeof(buf), "%u", b->store_port);
    rc = rc ?: put(b, "store/port", buf);
    snprintf(buf, sizeof(buf), "%llu",
             (unsigned long long)XENHV_SPECIAL_GFN(XENHV_SPECIAL_CONSOLE));
    rc = rc ?: put(b, "console/ring-ref", buf);
    snprintf(buf, sizeof(buf), "%u", b->console_port);
    rc = rc ?: put(b, "console/port", buf);
    rc = rc ?: put(b, "console/type", "xenconsoled");
    rc = rc ?: put(b, "console/limit", CONSOLE_LIMIT);
    rc = rc ?: put(b, "console/output", "pty");

    snprintf(path, sizeof(path), "/libxl/%u", b->domid);
    rc = rc ?: put(b, path, "");
    if (!rc) {
        struct xs_permissions p = {.id = 0, .perms = XS_PERM_NONE};
        if (!xs_set_permissions(b->ctx->xs, XBT_NULL, path, &p, 1))
            rc = xldom_fail(b->ctx, -errno, "%s: permissions of %s: %s",
                            c->name, path, strerror(errno));
    }
    snprintf(path, sizeof(path), "/libxl/%u/type", b->domid);
    rc = rc ?: put(b, path, "pvh");
    xldom_state_path(b->domid, state, sizeof(state));
    snprintf(path, sizeof(path), "/libxl/%u/config-file", b->domid);
    rc = rc ?: put(b, path, state);
    return rc;
}

/*
 * Tests make a step fail on purpose ($XLDOM_FAIL_STEP = memory, image,
 * rings, xenstore, save or introduce: the step has run, then fails) to
 * check that the undo path leaves nothing behind.
 */
static int inject(struct build *b, const char *step)
{
    const char *v = getenv("XLDOM_FAIL_STEP");

    if (!v || strcmp(v, step))
        return 0;
    return xldom_fail(b->ctx, -EIO, "%s: step '%s' failed (XLDOM_FAIL_STEP)",
                      b->cfg->name, step);
}

/* Take back everything @b made (a failed create). */
static void build_undo(struct build *b)
{
    char path[256];

    if (b->introduced)
        xs_release_domain(b->ctx->xs, b->domid);
    if (b->xs_written) {
        snprintf(path, sizeof(path), "/vm/%s", b->uuid);
        xs_rm(b->ctx->xs, XBT_NULL, path);
        xs_rm(b->ctx->xs, XBT_NULL, b->home);
        snprintf(path, sizeof(path), "/libxl/%u", b->domid);
        xs_rm(b->ctx->xs, XBT_NULL, path);
    }
    if (b->saved && xldom_state_path(b->domid, path, sizeof(path)) == 0)
        unlink(path);
    if (b->created)
        xc_domain_destroy(b->ctx->xch, b->domid);
}

int xldom_create(struct xldom_ctx *ctx, const struct xlcfg_domain *cfg,
                 const char *json, unsigned int flags, uint32_t *domid)
{
    struct build b = {.ctx = ctx, .cfg = cfg};
    int rc = xldom_need(ctx, XLDOM_NEED_XENHV | XLDOM_NEED_XENSTORE);

    *domid = 0;
    ctx->err[0] = 0;
    if (rc)
        return rc;
    xlcfg_uuid_format(cfg->uuid, b.uuid);
    if (xldom_name_taken(ctx, cfg->name, ~0u))
        return xldom_fail(ctx, -EEXIST, "domain with name '%s' already exists",
                          cfg->name);
    rc = image_read(&b, "kernel", cfg->kernel, &b.kernel, &b.kernel_len);
    if (!rc) {
        b.kernel_map = b.kernel;
        b.kernel_map_len = b.kernel_len;
        rc = kernel_unpack(&b);
    }
    if (!rc && cfg->ramdisk)
        rc =
            image_read(&b, "ramdisk", cfg->ramdisk, &b.ramdisk, &b.ramdisk_len);
    if (!rc && mkdir(xldom_libdir(), 0755) != 0 && errno != EEXIST)
        rc = xldom_fail(ctx, -errno, "%s: %s", xldom_libdir(), strerror(errno));
    rc = rc ?: build_memory(&b);
    rc = rc ?: inject(&b, "memory");
    rc = rc ?: build_image(&b);
    rc = rc ?: inject(&b, "image");
    rc = rc ?: build_rings(&b);
    rc = rc ?: inject(&b, "rings");
    rc = rc ?: build_xenstore(&b);
    rc = rc ?: inject(&b, "xenstore");
    if (!rc) {
        b.saved = true;
        rc = xldom_config_save(ctx, b.domid, json);
    }
    rc = rc ?: inject(&b, "save");
    if (!rc) {
        b.introduced = true;
        if (!xs_introduce_domain(ctx->xs, b.domid,
                                 XENHV_SPECIAL_GFN(XENHV_SPECIAL_XENSTORE),
                                 b.store_port))
            rc = xldom_fail(ctx, -errno, "%s: XS_INTRODUCE: %s", cfg->name,
                            strerror(errno));
    }
    rc = rc ?: inject(&b, "introduce");
    if (!rc && !(flags & XLDOM_CREATE_PAUSED) &&
        xc_domain_unpause(ctx->xch, b.domid) != 0)
        rc = xldom_fail(ctx, -errno, "%s: unpausing: %s", cfg->name,
                        strerror(errno));
    if (b.ram)
        xenforeignmemory_unmap(b.fm, b.ram, b.ram_pages);
    if (b.special)
        xenforeignmemory_unmap(b.fm, b.special, 2);
    if (b.fm)
        xenforeignmemory_close(b.fm);
    if (rc)
        build_undo(&b);
    else
        *domid = b.domid;
    if (b.kernel_map)
        munmap(b.kernel_map, b.kernel_map_len);
    free(b.kernel_elf);
    if (b.ramdisk)
        munmap(b.ramdisk, b.ramdisk_len);
    return rc;
}
