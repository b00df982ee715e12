/*
 * pvh_build.c — the PVH domain builder (domain.h: domain_build_pvh).
 *
 * Layout in guest RAM, following Xen's docs/misc/pvh and what libxl does:
 * the kernel's PT_LOAD segments at their physical addresses; then, page
 * aligned, the initrd (module 0); then the start-of-day block (struct
 * hvm_start_info, module list, memory map, command lines).  vCPU 0 starts
 * at XEN_ELFNOTE_PHYS32_ENTRY in 32-bit flat protected mode, ebx = the
 * block's address.
 */
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "domain_priv.h"
#include "elf_loader.h"
#include "start_info.h"

#define PAGE_ALIGN(x) (((x) + GMEM_PAGE_SIZE - 1) & ~(GMEM_PAGE_SIZE - 1))

/*
 * pvh_rewrite_hypercalls — turn the loaded kernel's vmcall/vmmcall
 * hypercall pair into the hypercall trap (hcall_patch.h), unless the
 * domain keeps them.  Logged on the domain's console log and stderr, so
 * the rewrite is never silent.  Returns 0 or -ENOEXEC (too many pairs: not
 * a kernel we understand).
 */
static int pvh_rewrite_hypercalls(struct domain *d,
                                  const struct elf_pvh_info *info, char *err,
                                  size_t errlen)
{
    struct hcall_patch_result res;
    uint8_t *img = gmem_ptr(&d->gmem, info->load_lo,
                            info->load_hi - info->load_lo);
    char msg[160];
    int n;

    if (!img)
        return 0; /* segments split across regions: nothing to scan */
    n = hcall_patch_scan(img, info->load_hi - info->load_lo, !d->keep_vmcall,
                         &res);
    if (n < 0) {
        snprintf(err, errlen,
                 "more than %d vmcall/vmmcall hypercall pairs in the kernel",
                 HCALL_PATCH_MAX);
        return -ENOEXEC;
    }
    for (int i = 0; i < n; i++) {
        snprintf(msg, sizeof(msg),
                 "(XEN) d%u: %s vmmcall at %#llx and vmcall at %#llx "
                 "(xen_hypercall_amd/intel)\n",
                 d->domid,
                 d->keep_vmcall ? "kept" : "rewrote into the hypercall trap",
                 (unsigned long long)(info->load_lo + res.amd_off[i]),
                 (unsigned long long)(info->load_lo + res.intel_off[i]));
        fputs(msg, stderr);
    }
    return 0;
}

int domain_build_pvh(struct domain *d, const void *kernel, size_t klen,
                     const void *initrd, size_t ilen, const char *cmdline,
                     char *err, size_t errlen)
{
    const struct gmem_region *low = &d->gmem.region[0]; /* RAM from 0 */
    struct elf_pvh_info info;
    struct start_info_module mod;
    struct start_info_request req;
    gpa_t next, si_base;
    uint64_t need, used;
    uint8_t *dst;
    int rc;

    rc = elf_pvh_load(kernel, klen, &d->gmem, low->size, &info, err, errlen);
    if (rc)
        return rc;
    rc = pvh_rewrite_hypercalls(d, &info, err, errlen);
    if (rc)
        return rc;
    next = PAGE_ALIGN(info.load_hi);

    memset(&req, 0, sizeof(req));
    req.cmdline = cmdline;
    req.memmap = d->memmap;
    req.nr_memmap = d->nr_memmap;
    if (initrd) {
        if (ilen > low->size || next > low->size - ilen) {
            snprintf(err, errlen,
                     "initrd of %zu bytes does not fit in RAM after the "
                     "kernel (ends at %#llx)",
                     ilen, (unsigned long long)next);
            return -ENOSPC;
        }
        dst = gmem_ptr(&d->gmem, next, ilen);
        if (!dst) {
            snprintf(err, errlen, "initrd outside guest memory");
            return -ERANGE;
        }
        memcpy(dst, initrd, ilen);
        mod.paddr = next;
        mod.size = ilen;
        mod.cmdline = NULL;
        req.modules = &mod;
        req.nr_modules = 1;
        next = PAGE_ALIGN(next + ilen);
    }

    si_base = next;
    need = start_info_size(&req);
    if (si_base >= low->size || need > low->size - si_base) {
        snprintf(err, errlen, "no room for the start info (%llu bytes) in RAM",
                 (unsigned long long)need);
        return -ENOSPC;
    }
    rc = start_info_build(&d->gmem, si_base, low->size - si_base, &req, &used);
    if (rc) {
        snprintf(err, errlen, "writing the start info: %s", strerror(-rc));
        return rc;
    }

    rc = kvm_vcpu_set_pvh_entry(d->vcpus[0]->fd, info.phys32_entry,
                                (uint32_t)si_base);
    if (rc) {
        snprintf(err, errlen, "setting vCPU 0 entry state: %s", strerror(-rc));
        return rc;
    }
    pthread_mutex_lock(&d->lock);
    d->vcpus[0]->initialised = true;
    pthread_mutex_unlock(&d->lock);
    return 0;
}
