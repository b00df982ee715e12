/*
 * start_info.c — the PVH start of day block (start_info.h), version 1 of
 * struct hvm_start_info as <xen/arch-x86/hvm/start_info.h> and Xen's
 * docs/misc/pvh.pandoc describe it.
 *
 * The whole block is computed first (start_info_layout), zeroed, then
 * filled, so every padding and reserved byte the guest sees is 0.
 */
#include <errno.h>
#include <string.h>

#include "start_info.h"

#define SI_ALIGN(x) (((x) + 7) & ~(uint64_t)7)

/* Offsets from base of each part; see the layout in start_info.h. */
struct si_layout {
    uint64_t modlist;
    uint64_t memmap;
    uint64_t cmdline;     /* kernel cmdline, if any */
    uint64_t mod_cmdline; /* first module cmdline */
    uint64_t total;
};

static uint64_t si_strsize(const char *s)
{
    return s ? SI_ALIGN((uint64_t)strlen(s) + 1) : 0;
}

static void si_layout(const struct start_info_request *req, struct si_layout *l)
{
    uint64_t off = SI_ALIGN(sizeof(struct hvm_start_info));
    unsigned int i;

    l->modlist = off;
    off += (uint64_t)req->nr_modules * sizeof(struct hvm_modlist_entry);
    l->memmap = off;
    off += (uint64_t)req->nr_memmap * sizeof(struct hvm_memmap_table_entry);
    l->cmdline = off;
    off += si_strsize(req->cmdline);
    l->mod_cmdline = off;
    for (i = 0; i < req->nr_modules; i++)
        off += si_strsize(req->modules[i].cmdline);
    l->total = off;
}

uint64_t start_info_size(const struct start_info_request *req)
{
    struct si_layout l;

    if (!req)
        return 0;
    si_layout(req, &l);
    return l.total;
}

int start_info_build(const struct gmem *mem, gpa_t base, uint64_t max_len,
                     const struct start_info_request *req, uint64_t *used)
{
    struct hvm_start_info si;
    struct hvm_modlist_entry me;
    struct hvm_memmap_table_entry mm;
    struct si_layout l;
    uint64_t str_off;
    unsigned int i;
    uint8_t *blk;
    size_t n;

    if (!req || !mem || (base & 7) != 0)
        return -EINVAL;
    if ((req->nr_modules && !req->modules) || (req->nr_memmap && !req->memmap))
        return -EINVAL;
    si_layout(req, &l);
    if (l.total > max_len)
        return -ENOSPC;
    blk = gmem_ptr(mem, base, l.total);
    if (!blk)
        return -EFAULT;
    memset(blk, 0, l.total);

    memset(&si, 0, sizeof(si));
    si.magic = XEN_HVM_START_MAGIC_VALUE;
    si.version = 1;
    si.flags = 0;
    si.nr_modules = req->nr_modules;
    si.modlist_paddr = req->nr_modules ? base + l.modlist : 0;
    si.cmdline_paddr = req->cmdline ? base + l.cmdline : 0;
    si.rsdp_paddr = req->rsdp_paddr;
    si.memmap_paddr = req->nr_memmap ? base + l.memmap : 0;
    si.memmap_entries = req->nr_memmap;
    memcpy(blk, &si, sizeof(si));

    str_off = l.mod_cmdline;
    for (i = 0; i < req->nr_modules; i++) {
        const struct start_info_module *m = &req->modules[i];

        memset(&me, 0, sizeof(me));
        me.paddr = m->paddr;
        me.size = m->size;
        if (m->cmdline) {
            n = strlen(m->cmdline) + 1;
            memcpy(blk + str_off, m->cmdline, n);
            me.cmdline_paddr = base + str_off;
            str_off += SI_ALIGN(n);
        }
        memcpy(blk + l.modlist + i * sizeof(me), &me, sizeof(me));
    }

    for (i = 0; i < req->nr_memmap; i++) {
        mm = req->memmap[i];
        mm.reserved = 0; /* "must be zero" in version 1 */
        memcpy(blk + l.memmap + i * sizeof(mm), &mm, sizeof(mm));
    }

    if (req->cmdline)
        memcpy(blk + l.cmdline, req->cmdline, strlen(req->cmdline) + 1);

    if (used)
        *used = l.total;
    return 0;
}
