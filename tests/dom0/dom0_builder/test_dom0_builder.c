/*
 * dom0_builder — the control domain builds a PVH guest itself, as Xen's
 * toolstack does (and as `xl create` will): create an empty domain, map
 * its RAM with libxenforeignmemory, load the kernel's PT_LOAD segments and
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
    struct xenhv_domain_create_req cr = {.memory_mib = MEM_MIB, .vcpus = 1};
    uint32_t domid = 0, n = 0;
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
        tap_skip_all("/dev/kvm not usable");
    if (geteuid() != 0)
        tap_skip_all("needs root: only the control domain builds domains");
    snprintf(kpath, sizeof(kpath), "%s/../../guest/xen_version/xen_version.elf",
             dir);
    kernel = read_all(kpath, &klen);
    if (!kernel)
        tap_skip_all("tests/guest/xen_version not built");
    tap_plan(10);
    pid = start_daemon("b");
    ok(pc.fd >= 0, "connected as domain 0");
    snprintf(cr.name, sizeof(cr.name), "built-by-dom0");
    ok(privcmd_call(&pc, XENHV_OP_DOMAIN_CREATE, &cr, sizeof(cr), &domid,
                    sizeof(domid), NULL, NULL) == 0,
       "created empty domain %u", domid);

    fm = xenforeignmemory_open(NULL, 0);
    if (fm) {
        xen_pfn_t *pfns = malloc(PAGES * sizeof(*pfns));
        for (int i = 0; i < PAGES; i++)
            pfns[i] = (xen_pfn_t)i;
        ram = xenforeignmemory_map(fm, domid, PROT_READ | PROT_WRITE, PAGES,
                                   pfns, NULL);
        free(pfns);
    }
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
    xenforeignmemory_unmap(fm, ram, PAGES);
    xenforeignmemory_close(fm);
    stop_daemon(pid);
    free(kernel);
    return tap_done();
}
