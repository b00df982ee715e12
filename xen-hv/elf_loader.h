/*
 * elf_loader.h — load a PVH kernel image (ELF32 or ELF64, x86) into guest
 * memory, as described by Xen's docs/misc/pvh.pandoc: the entry point is
 * the 32-bit physical address in the XEN_ELFNOTE_PHYS32_ENTRY note
 * (<xen/elfnote.h>), PT_LOAD segments are placed at their p_paddr.
 *
 * Every field of the file is untrusted: sizes, offsets and counts are
 * checked against the image length before use, so a truncated or malformed
 * file gives an error, never an out-of-bounds read.
 *
 * Details: either class goes with either machine (EM_386 or EM_X86_64;
 * Xen itself is an ELF32 EM_X86_64 file); e_phentsize/e_shentsize must be
 * the class's header size; a declared section header table must lie inside
 * the file; at most 64 non-empty PT_LOAD segments; the note is looked for
 * in PT_NOTE segments, then in SHT_NOTE sections (notes 4-byte aligned, or
 * 8 when p_align/sh_addralign is 8); its value is 4 or 8 bytes and below
 * 4 GiB; the entry must fall in the file bytes of a PF_X PT_LOAD segment.
 */
#ifndef XENHV_ELF_LOADER_H
#define XENHV_ELF_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gmem.h"

struct elf_pvh_info {
    uint32_t phys32_entry;    /* from XEN_ELFNOTE_PHYS32_ENTRY */
    gpa_t load_lo;            /* lowest byte loaded (inclusive) */
    gpa_t load_hi;            /* end of the highest segment (exclusive) */
    bool is_64;               /* ELFCLASS64 */
    unsigned int nr_segments; /* PT_LOAD segments with p_memsz > 0 */
};

/*
 * elf_pvh_probe — validate an image without loading it.
 *   image/len: the whole file in host memory (bytes).
 *   ram_end:   guest physical address one past the last byte a segment may
 *              occupy (segments must lie entirely in [0, ram_end)).
 *   info:      filled on success.
 *   err/errlen: on failure a one-line reason ("truncated program header
 *              table", "no XEN_ELFNOTE_PHYS32_ENTRY note", "segment 2
 *              [0x..,0x..) outside RAM", "segments 0 and 1 overlap", ...).
 * Returns 0, or -ENOEXEC (not a loadable x86 ELF: bad magic/class/machine/
 * type, truncated or inconsistent headers, overlapping segments, missing
 * PHYS32_ENTRY note or entry not inside a loaded segment) or -ERANGE (a
 * segment outside [0, ram_end)).
 */
int elf_pvh_probe(const void *image, size_t len, gpa_t ram_end,
                  struct elf_pvh_info *info, char *err, size_t errlen);

/*
 * elf_pvh_load — elf_pvh_probe(), then copy every PT_LOAD segment's file
 * bytes to its p_paddr in mem and zero the rest of p_memsz (bss).
 * Same arguments and errors as elf_pvh_probe(); additionally -ERANGE when
 * mem does not back a segment's range.  On error mem may be partly written.
 */
int elf_pvh_load(const void *image, size_t len, const struct gmem *mem,
                 gpa_t ram_end, struct elf_pvh_info *info, char *err,
                 size_t errlen);

#endif
