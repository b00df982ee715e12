/*
 * dom0_builder — the control domain builds a PVH guest itself, as Xen's
 * toolstack does (and as `xl create` will): create an empty domain with
 * libxenctrl (xc_domain_create, then xc_domain_setmaxmem and
 * xc_domain_populate_physmap_exact give it its RAM; the refusals of each
 * are checked), make its xenstore-style event channel
 * (xc_evtchn_alloc_unbound, bound by dom0 with libxenevtchn), map its RAM
 * with libxenforeignmemory, load the kernel's PT_LOAD segments and
 * write hvm_start_info with xen-hv's own pure modules (elf_loader.c,
 * start_info.c) into that mapping, set vCPU 0's PVH entry state
 * (XENHV_OP_VCPU_SETCONTEXT, a VCPU_HVM_MODE_32B vcpu_hvm_context) and
 * unpause.  The guest is tests/guest/xen_version, whose own TAP must pass.
 * Also: a bad context is refused, and so is a context once it runs.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xen/errno.h>
#include <xen/sched.h>
#include <xen/hvm/hvm_vcpu.h>
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>

#include "elf_loader.h"
#include "harness.h"
#include "start_info.h"
#include "tap.h"

#define MEM_MIB 32
#define PAGES   (MEM_MIB * 256)

static int setcontext(uint32_t domid, uint32_t vcpu,
                      const struct vcpu_hvm_context *ctx)
{
    struct xenhv_vcpu_setcontext r = {.domid = domid, .vcpu = vcpu};
    memcpy(r.ctx, ctx, sizeof(*ctx));
    return privcmd_call(&pc, XENHV_OP_VCPU_SETCONTEXT, &r, sizeof(r), NULL, 0,
                        NULL, NULL);
}

static void *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    char kpath[512], err[256] = "", con[16384];
    struct xen_domctl_createdomain cfg = {
        .flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap,
        .max_vcpus = 1,
        .max_evtchn_port = 1023,
        .max_grant_frames = -1,
        .max_maptrack_frames = -1,
        .handle = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                   12}};
    uint32_t domid = 0, n = 0, other;
    xc_interface *xch = NULL;
    xenevtchn_handle *xce = NULL;
    xc_domaininfo_t dinfo;
    xen_pfn_t *pfns = NULL;
    xenforeignmemory_handle *fm = NULL;
    struct elf_pvh_info info;
    struct gmem g;
    void *kernel, *ram = NULL;
    size_t klen = 0;
    uint64_t used = 0;
    gpa_t si;
    int reason = -1;
    pid_t pid;

    if (access("/dev/kvm", R_OK | W_OK) != 0)
        tap_skip_all("/dev/kvm not usable (lab.dom0-tests runs this on the lab "
                     "VM's KVM)");
    if (geteuid() != 0)
        tap_skip_all("needs root: only the control domain builds domains");
    snprintf(kpath, sizeof(kpath), "%s/../../guest/xen_version/xen_version.elf",
             dir);
    kernel = read_all(kpath, &klen);
    if (!kernel)
        tap_skip_all("tests/guest/xen_version not built");
    tap_plan(31);
    pid = start_daemon("b");
    ok(pc.fd >= 0, "connected as domain 0");
    xch = xc_interface_open(NULL, NULL, 0);
    ok(xch != NULL, "xc_interface_open");
    if (!xch) {
        stop_daemon(pid);
        return tap_done();
    }

    /* xc_domain_create: Xen's createdomain rules. */
    cfg.flags = 0;
    ok(xc_domain_create(xch, &domid, &cfg) == -1 && errno == EOPNOTSUPP,
       "a PV domain is refused (EOPNOTSUPP)");
    cfg.flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap;
    cfg.max_vcpus = 0;
    ok(xc_domain_create(xch, &domid, &cfg) == -1 && errno == EINVAL,
       "max_vcpus 0 is refused (EINVAL)");
    cfg.max_vcpus = 1;
    domid = 0;
    n = (uint32_t)xc_domain_create(xch, &domid, &cfg);
    ok(n == 0 && domid >= 1, "xc_domain_create made empty domain %u", domid);
    other = domid;
    ok(xc_domain_create(xch, &other, &cfg) == -1 && errno == EEXIST,
       "asking for a domid in use is refused (EEXIST)");
    ok(xc_domain_getinfolist(xch, domid, 1, &dinfo) == 1 &&
           dinfo.domain == domid && dinfo.tot_pages == 0 &&
           memcmp(dinfo.handle, cfg.handle, 16) == 0 &&
           (dinfo.flags & XEN_DOMINF_paused) &&
           (dinfo.flags & XEN_DOMINF_hvm_guest),
       "getinfolist: no pages yet, its handle, paused, hvm");
    ok(xc_domain_max_vcpus(xch, domid, 1) == 0,
       "xc_domain_max_vcpus(1) agrees");
    ok(xc_domain_max_vcpus(xch, domid, 2) == -1 && errno == EINVAL,
       "xc_domain_max_vcpus(2) after create: EINVAL (fixed at create)");

    /* Memory: max first, then populate, as libxl's builder. */
    pfns = malloc(PAGES * sizeof(*pfns));
    for (int i = 0; i < PAGES; i++)
        pfns[i] = (xen_pfn_t)i;
    ok(xc_domain_populate_physmap_exact(xch, domid, 1, 0, 0, pfns) == -1 &&
           errno == ENOMEM,
       "populate before a max is set: ENOMEM");
    ok(xc_domain_setmaxmem(xch, domid, MEM_MIB * 1024) == 0,
       "xc_domain_setmaxmem %d MiB", MEM_MIB);
    {
        xen_pfn_t bad = 0x7fff0;
        ok(xc_domain_populate_physmap_exact(xch, domid, 1, 0, 0, &bad) == -1 &&
               errno == EINVAL,
           "populate a gfn outside RAM: EINVAL");
    }
    ok(xc_domain_populate_physmap_exact(xch, domid, PAGES / 512, 9, 0, pfns) ==
           0,
       "populated %d MiB as 2 MiB extents", MEM_MIB);
    ok(xc_domain_populate_physmap_exact(xch, domid, 16, 0, 0, pfns) == 0,
       "populating the same pages again is a no-op");
    n = (uint32_t)xc_domain_getinfolist(xch, domid, 1, &dinfo);
    ok(n == 1 && dinfo.tot_pages == PAGES && dinfo.max_pages == PAGES,
       "tot_pages %llu, max_pages %llu", (unsigned long long)dinfo.tot_pages,
       (unsigned long long)dinfo.max_pages);

    /* Event channel the toolstack makes for the guest's xenstore ring. */
    {
        int port = xc_evtchn_alloc_unbound(xch, domid, 0);
        int wrong = xc_evtchn_alloc_unbound(xch, domid, 7);
        ok(port > 0, "xc_evtchn_alloc_unbound(dom %u, remote 0): port %d",
           domid, port);
        ok(xc_evtchn_alloc_unbound(xch, 99, 0) == -1 && errno == ESRCH,
           "alloc_unbound in a missing domain: ESRCH");
        xce = xenevtchn_open(NULL, 0);
        ok(xce &&
               xenevtchn_bind_interdomain(xce, domid, (evtchn_port_t)port) > 0,
           "dom0 binds the port made for it");
        ok(wrong > 0 && xce &&
               xenevtchn_bind_interdomain(xce, domid, (evtchn_port_t)wrong) <
                   0 &&
               errno == EINVAL,
           "dom0 cannot bind a port made for domain 7 (EINVAL)");
    }

    fm = xenforeignmemory_open(NULL, 0);
    if (fm)
        ram = xenforeignmemory_map(fm, domid, PROT_READ | PROT_WRITE, PAGES,
                                   pfns, NULL);
    free(pfns);
    ok(ram != NULL, "mapped its %d MiB of RAM", MEM_MIB);
    if (!ram) {
        stop_daemon(pid);
        return tap_done();
    }
    g.nr_regions = 1;
    g.region[0] = (struct gmem_region){0, (uint64_t)MEM_MIB << 20, ram};
    ok(elf_pvh_load(kernel, klen, &g, (uint64_t)MEM_MIB << 20, &info, err,
                    sizeof(err)) == 0,
       "loaded the kernel through the mapping %s", err);
    {
        const struct hvm_memmap_table_entry mm[2] = {
            {.addr = 0,
             .size = (uint64_t)MEM_MIB << 20,
             .type = XEN_HVM_MEMMAP_TYPE_RAM},
            {.addr = 0xfeff0000ULL,
             .size = 8 * 4096,
             .type = XEN_HVM_MEMMAP_TYPE_RESERVED},
        };
        struct start_info_request req = {
            .cmdline = "built_by=dom0", .memmap = mm, .nr_memmap = 2};
        si = (info.load_hi + 4095) & ~4095ULL;
        ok(start_info_build(&g, si, ((uint64_t)MEM_MIB << 20) - si, &req,
                            &used) == 0,
           "wrote hvm_start_info at %#llx", (unsigned long long)si);
    }
    {
        struct vcpu_hvm_context c;
        memset(&c, 0, sizeof(c));
        c.mode = 7;
        is_int(setcontext(domid, 0, &c), -XEN_EINVAL,
               "a context with a bad mode is refused");
        c.mode = VCPU_HVM_MODE_32B;
        c.cpu_regs.x86_32.eip = info.phys32_entry;
        c.cpu_regs.x86_32.ebx = (uint32_t)si;
        c.cpu_regs.x86_32.eflags = 0x2;
        c.cpu_regs.x86_32.cr0 = 0x11; /* PE | ET, no paging (docs/misc/pvh) */
        c.cpu_regs.x86_32.cs_limit = c.cpu_regs.x86_32.ds_limit = ~0u;
        c.cpu_regs.x86_32.ss_limit = c.cpu_regs.x86_32.es_limit = ~0u;
        c.cpu_regs.x86_32.tr_limit = 0x67;
        c.cpu_regs.x86_32.cs_ar = 0xc9b; /* 32-bit code */
        c.cpu_regs.x86_32.ds_ar = c.cpu_regs.x86_32.ss_ar =
            c.cpu_regs.x86_32.es_ar = 0xc93; /* 32-bit data */
        c.cpu_regs.x86_32.tr_ar = 0x8b;      /* busy TSS */
        is_int(setcontext(domid, 0, &c), 0, "set vCPU 0's PVH entry state");
        is_int(privcmd_call(&pc, XENHV_OP_DOMAIN_UNPAUSE, &domid, sizeof(domid),
                            NULL, 0, NULL, NULL),
               0, "unpaused");
        {
            xen_pfn_t one = 5;
            ok(xc_domain_populate_physmap_exact(xch, domid, 1, 0, 0, &one) == 0,
               "populating a RAM page of a running domain: no-op");
        }
        is_int(setcontext(domid, 0, &c), -XEN_EBUSY,
               "setting a context once it runs is refused");
    }
    for (int i = 0; i < 600 && reason < 0; i++) {
        struct xenhv_domain_info di[32];
        privcmd_call(&pc, XENHV_OP_DOMAIN_LIST, NULL, 0, di, sizeof(di), &n,
                     NULL);
        for (uint32_t j = 0; j < n / sizeof(di[0]); j++)
            if (di[j].domid == domid && di[j].shutdown)
                reason = (int)di[j].shutdown_reason;
        if (reason < 0)
            usleep(50000);
    }
    n = 0;
    privcmd_call(&pc, XENHV_OP_CONSOLE_READ, &domid, sizeof(domid), con,
                 sizeof(con) - 1, &n, NULL);
    con[n] = 0;
    ok(reason == SHUTDOWN_poweroff && strstr(con, "1..") &&
           !strstr(con, "not ok") && !strstr(con, "Bail out"),
       "the guest ran its xen_version tests and powered off (reason %d)",
       reason);
    if (tap_fail_count)
        tap_diag("guest console: %s", con);
    ((uint32_t *)ram)[0] = 0xdeadbeef; /* marks the old domain's page 0 */
    xenforeignmemory_unmap(fm, ram, PAGES);
    if (xce)
        xenevtchn_close(xce);
    ok(xc_domain_destroy(xch, domid) == 0, "xc_domain_destroy");

    /*
     * A new domain created with the freed domid (asked for: xen-hv, as
     * Xen, does not hand it out again at once by itself); the same
     * foreign-memory handle must map the new domain's (zeroed) pages, not
     * the old ones (a long-lived dom0 process such as xenstored keeps its
     * handle).
     */
    other = domid;
    n = (uint32_t)xc_domain_create(xch, &other, &cfg);
    ok(n == 0 && other == domid, "a new domain with the same domid %u", other);
    {
        xen_pfn_t p = 0;
        uint32_t *page = NULL;
        if (xc_domain_setmaxmem(xch, other, MEM_MIB * 1024) == 0 &&
            xc_domain_populate_physmap_exact(xch, other, 1, 0, 0, &p) == 0)
            page = xenforeignmemory_map(fm, other, PROT_READ, 1, &p, NULL);
        /* The old domain's page 0 holds a marker; the new one is 0. */
        ok(page && page[0] == 0 && page[1] == 0 && page[1023] == 0,
           "the same handle maps the new domain's memory, not the old");
        if (page)
            xenforeignmemory_unmap(fm, page, 1);
    }
    xc_domain_destroy(xch, other);
    xenforeignmemory_close(fm);
    xc_interface_close(xch);
    stop_daemon(pid);
    free(kernel);
    return tap_done();
}
