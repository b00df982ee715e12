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
