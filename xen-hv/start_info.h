/*
 * start_info.h — build the PVH start of day block of Xen's docs/misc/pvh.pandoc
 * and <xen/arch-x86/hvm/start_info.h>: struct hvm_start_info (version 1),
 * followed in the same guest area by the module list, the memory map and
 * the NUL-terminated command line strings.
 */
#ifndef XENHV_START_INFO_H
#define XENHV_START_INFO_H

#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/arch-x86/hvm/start_info.h>

#include "gmem.h"

/* A module (initrd) already placed in guest memory. */
struct start_info_module {
    gpa_t paddr;         /* guest physical address of the first byte */
    uint64_t size;       /* bytes */
    const char *cmdline; /* may be NULL */
};

struct start_info_request {
    const char *cmdline; /* kernel command line, may be NULL */
    const struct start_info_module *modules;
    unsigned int nr_modules;
    const struct hvm_memmap_table_entry *memmap; /* sorted by addr */
    unsigned int nr_memmap;
    gpa_t rsdp_paddr; /* 0 when there are no ACPI tables */
};

/*
 * start_info_build — write the block at guest physical address base.
 *   mem:     guest memory; the block must fit in [base, base + max_len).
 *   base:    8-byte aligned gpa of struct hvm_start_info (this is ebx at
 * entry). req:     what to describe. used:    on success, bytes written from
 * base. Layout (all offsets from base, each item 8-byte aligned):
 *   hvm_start_info | modlist[nr_modules] | memmap[nr_memmap] |
 *   kernel cmdline | module cmdlines.
 * magic = XEN_HVM_START_MAGIC_VALUE, version = 1, flags = 0,
 * nr_modules/modlist_paddr, cmdline_paddr (0 when none), rsdp_paddr,
 * memmap_paddr/memmap_entries (0 when none).
 * Returns 0, -EINVAL (misaligned base, NULL req), -ENOSPC (does not fit in
 * max_len) or -EFAULT (mem does not back [base, base + needed)).
 */
int start_info_build(const struct gmem *mem, gpa_t base, uint64_t max_len,
                     const struct start_info_request *req, uint64_t *used);

/*
 * start_info_size — bytes start_info_build() needs for req (same layout).
 */
uint64_t start_info_size(const struct start_info_request *req);

#endif
