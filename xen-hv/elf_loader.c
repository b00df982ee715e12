/*
 * elf_loader.c — PVH kernel loader (elf_loader.h).
 *
 * The image is parsed once into a struct elf_parsed: every header is copied
 * out of the file with memcpy (no unaligned access, no second read of a
 * field after it was checked) and normalised to 64-bit fields whatever the
 * ELF class.  elf_pvh_load() copies segments from that validated list only.
 *
 * Implements the boot protocol of Xen's docs/misc/pvh.pandoc: the entry
 * point is the XEN_ELFNOTE_PHYS32_ENTRY note (<xen/elfnote.h>), looked for
 * in PT_NOTE segments first and then in SHT_NOTE sections, as Xen's libelf
 * does; PT_LOAD segments are placed at p_paddr.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <xen/elfnote.h>

#include "elf_loader.h"

/*
 * Real kernels have a handful of PT_LOAD segments; the cap keeps the
 * pairwise overlap check cheap whatever e_phnum an image claims.
 */
#define ELF_MAX_LOAD 64

/* One PT_LOAD segment with p_memsz > 0, already checked. */
struct elf_seg {
    uint64_t paddr;
    uint64_t memsz;
    uint64_t offset;
    uint64_t filesz;
    uint32_t flags;
    unsigned int phidx; /* index in the program header table */
};

struct elf_parsed {
    bool is_64;
    uint64_t phoff, shoff;
    unsigned int phnum, shnum;
    unsigned int nr_segs;
    struct elf_seg seg[ELF_MAX_LOAD];
};

/* Program/section header fields the loader uses, class-independent. */
struct elf_phdr {
    uint32_t type, flags;
    uint64_t offset, paddr, filesz, memsz, align;
};

struct elf_shdr {
    uint32_t type;
    uint64_t offset, size, addralign;
};

__attribute__((format(printf, 4, 5))) static int
elf_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* True when [off, off + size) lies inside a file of len bytes. */
static bool elf_in_file(uint64_t off, uint64_t size, size_t len)
{
    return off <= len && size <= len - off;
}

static void elf_read_phdr(const uint8_t *image, const struct elf_parsed *e,
                          unsigned int i, struct elf_phdr *ph)
{
    if (e->is_64) {
        Elf64_Phdr p;

        memcpy(&p, image + e->phoff + (uint64_t)i * sizeof(p), sizeof(p));
        ph->type = p.p_type;
        ph->flags = p.p_flags;
        ph->offset = p.p_offset;
        ph->paddr = p.p_paddr;
        ph->filesz = p.p_filesz;
        ph->memsz = p.p_memsz;
        ph->align = p.p_align;
    } else {
        Elf32_Phdr p;

        memcpy(&p, image + e->phoff + (uint64_t)i * sizeof(p), sizeof(p));
        ph->type = p.p_type;
        ph->flags = p.p_flags;
        ph->offset = p.p_offset;
        ph->paddr = p.p_paddr;
        ph->filesz = p.p_filesz;
        ph->memsz = p.p_memsz;
        ph->align = p.p_align;
    }
}

static void elf_read_shdr(const uint8_t *image, const struct elf_parsed *e,
                          unsigned int i, struct elf_shdr *sh)
{
    if (e->is_64) {
        Elf64_Shdr s;

        memcpy(&s, image + e->shoff + (uint64_t)i * sizeof(s), sizeof(s));
        sh->type = s.sh_type;
        sh->offset = s.sh_offset;
        sh->size = s.sh_size;
        sh->addralign = s.sh_addralign;
    } else {
        Elf32_Shdr s;

        memcpy(&s, image + e->shoff + (uint64_t)i * sizeof(s), sizeof(s));
        sh->type = s.sh_type;
        sh->offset = s.sh_offset;
        sh->size = s.sh_size;
        sh->addralign = s.sh_addralign;
    }
}

/*
 * The ELF identification and file header: magic, class, data encoding,
 * version, type, machine and the program/section header tables' bounds.
 */
static int elf_parse_ehdr(const uint8_t *image, size_t len,
                          struct elf_parsed *e, char *err, size_t errlen)
{
    uint16_t type, machine, phentsize, shentsize, phnum, shnum;
    uint64_t phoff, shoff;
    uint32_t version;
    size_t phsz, shsz;

    if (len < EI_NIDENT)
        return elf_fail(err, errlen, -ENOEXEC,
                        "truncated ELF identification (%zu bytes)", len);
    if (memcmp(image, ELFMAG, SELFMAG) != 0)
        return elf_fail(err, errlen, -ENOEXEC, "not an ELF file (bad magic)");
    if (image[EI_CLASS] == ELFCLASS64)
        e->is_64 = true;
    else if (image[EI_CLASS] == ELFCLASS32)
        e->is_64 = false;
    else
        return elf_fail(err, errlen, -ENOEXEC, "unsupported ELF class %u",
                        image[EI_CLASS]);
    if (image[EI_DATA] != ELFDATA2LSB)
        return elf_fail(err, errlen, -ENOEXEC,
                        "unsupported ELF data encoding %u (want "
                        "little-endian)",
                        image[EI_DATA]);
    if (image[EI_VERSION] != EV_CURRENT)
        return elf_fail(err, errlen, -ENOEXEC,
                        "unsupported ELF identification version %u",
                        image[EI_VERSION]);

    if (e->is_64) {
        Elf64_Ehdr h;

        if (len < sizeof(h))
            return elf_fail(err, errlen, -ENOEXEC,
                            "truncated ELF header (%zu of %zu bytes)", len,
                            sizeof(h));
        memcpy(&h, image, sizeof(h));
        type = h.e_type;
        machine = h.e_machine;
        version = h.e_version;
        phoff = h.e_phoff;
        phentsize = h.e_phentsize;
        phnum = h.e_phnum;
        shoff = h.e_shoff;
        shentsize = h.e_shentsize;
        shnum = h.e_shnum;
        phsz = sizeof(Elf64_Phdr);
        shsz = sizeof(Elf64_Shdr);
    } else {
        Elf32_Ehdr h;

        if (len < sizeof(h))
            return elf_fail(err, errlen, -ENOEXEC,
                            "truncated ELF header (%zu of %zu bytes)", len,
                            sizeof(h));
        memcpy(&h, image, sizeof(h));
        type = h.e_type;
        machine = h.e_machine;
        version = h.e_version;
        phoff = h.e_phoff;
        phentsize = h.e_phentsize;
        phnum = h.e_phnum;
        shoff = h.e_shoff;
        shentsize = h.e_shentsize;
        shnum = h.e_shnum;
        phsz = sizeof(Elf32_Phdr);
        shsz = sizeof(Elf32_Shdr);
    }

    /*
     * Either machine with either class: Xen itself is an ELF32 file with
     * e_machine EM_X86_64 (objcopy -O elf32-x86-64) and boots through PVH.
     */
    if (machine != EM_386 && machine != EM_X86_64)
        return elf_fail(err, errlen, -ENOEXEC,
                        "unsupported ELF machine %u (want EM_386 or "
                        "EM_X86_64)",
                        machine);
    if (type != ET_EXEC)
        return elf_fail(err, errlen, -ENOEXEC, "ELF type %u is not ET_EXEC",
                        type);
    if (version != EV_CURRENT)
        return elf_fail(err, errlen, -ENOEXEC, "unsupported ELF version %u",
                        version);

    if (phnum == 0)
        return elf_fail(err, errlen, -ENOEXEC, "no program headers");
    if (phnum == PN_XNUM)
        return elf_fail(err, errlen, -ENOEXEC,
                        "extended program header numbering (e_phnum "
                        "PN_XNUM) is not supported");
    if (phentsize != phsz)
        return elf_fail(err, errlen, -ENOEXEC,
                        "e_phentsize %u is not the %zu bytes of a program "
                        "header",
                        phentsize, phsz);
    if (!elf_in_file(phoff, (uint64_t)phnum * phsz, len))
        return elf_fail(err, errlen, -ENOEXEC,
                        "truncated program header table (%u entries at "
                        "offset %#" PRIx64 ", file is %zu bytes)",
                        phnum, phoff, len);
    e->phoff = phoff;
    e->phnum = phnum;

    /*
     * Section headers are optional (only used to look for the entry note
     * when no PT_NOTE carries it), but a table that is declared must be
     * whole: a file cut short there is truncated like any other.  With
     * extended numbering (e_shoff set, e_shnum 0) the count lives in
     * section 0; the loader then ignores sections.
     */
    e->shoff = 0;
    e->shnum = 0;
    if (shoff != 0 && shnum != 0) {
        if (shentsize != shsz)
            return elf_fail(err, errlen, -ENOEXEC,
                            "e_shentsize %u is not the %zu bytes of a "
                            "section header",
                            shentsize, shsz);
        if (!elf_in_file(shoff, (uint64_t)shnum * shsz, len))
            return elf_fail(err, errlen, -ENOEXEC,
                            "truncated section header table (%u entries at "
                            "offset %#" PRIx64 ", file is %zu bytes)",
                            shnum, shoff, len);
        e->shoff = shoff;
        e->shnum = shnum;
    }
    return 0;
}

/*
 * Every PT_LOAD: file bounds, filesz <= memsz, no wrap of the address
 * space, inside [0, ram_end), no overlap with another PT_LOAD.
 */
static int elf_parse_segments(const uint8_t *image, size_t len, gpa_t ram_end,
                              struct elf_parsed *e, char *err, size_t errlen)
{
    uint64_t addr_limit = e->is_64 ? UINT64_MAX : UINT32_MAX;
    struct elf_phdr ph;
    unsigned int i, j;

    e->nr_segs = 0;
    for (i = 0; i < e->phnum; i++) {
        elf_read_phdr(image, e, i, &ph);
        if (ph.type == PT_NOTE && !elf_in_file(ph.offset, ph.filesz, len))
            return elf_fail(err, errlen, -ENOEXEC,
                            "note segment %u: [%#" PRIx64 ", +%#" PRIx64
                            ") beyond the end of the file (%zu bytes)",
                            i, ph.offset, ph.filesz, len);
        if (ph.type != PT_LOAD)
            continue;
        if (ph.filesz > ph.memsz)
            return elf_fail(err, errlen, -ENOEXEC,
                            "segment %u: p_filesz %#" PRIx64
                            " larger than p_memsz %#" PRIx64,
                            i, ph.filesz, ph.memsz);
        if (!elf_in_file(ph.offset, ph.filesz, len))
            return elf_fail(err, errlen, -ENOEXEC,
                            "segment %u: file range [%#" PRIx64 ", +%#" PRIx64
                            ") beyond the end of the file (%zu bytes)",
                            i, ph.offset, ph.filesz, len);
        if (ph.memsz == 0)
            continue;
        if (ph.memsz - 1 > addr_limit - ph.paddr)
            return elf_fail(err, errlen, -ENOEXEC,
                            "segment %u: p_paddr %#" PRIx64
                            " + p_memsz %#" PRIx64
                            " wraps the %d-bit address space",
                            i, ph.paddr, ph.memsz, e->is_64 ? 64 : 32);
        if (ph.paddr >= ram_end || ph.memsz > ram_end - ph.paddr)
            return elf_fail(err, errlen, -ERANGE,
                            "segment %u [%#" PRIx64 ", %#" PRIx64
                            ") outside RAM [0, %#" PRIx64 ")",
                            i, ph.paddr, ph.paddr + ph.memsz, ram_end);
        if (e->nr_segs == ELF_MAX_LOAD)
            return elf_fail(err, errlen, -ENOEXEC,
                            "more than %d non-empty PT_LOAD segments",
                            ELF_MAX_LOAD);
        e->seg[e->nr_segs++] = (struct elf_seg){
            .paddr = ph.paddr,
            .memsz = ph.memsz,
            .offset = ph.offset,
            .filesz = ph.filesz,
            .flags = ph.flags,
            .phidx = i,
        };
    }
    if (e->nr_segs == 0)
        return elf_fail(err, errlen, -ENOEXEC,
                        "no PT_LOAD segment with a non-zero p_memsz");

    /* Ranges are [paddr, paddr + memsz) and known not to wrap. */
    for (i = 0; i < e->nr_segs; i++) {
        for (j = i + 1; j < e->nr_segs; j++) {
            const struct elf_seg *a = &e->seg[i], *b = &e->seg[j];

            if (a->paddr < b->paddr + b->memsz &&
                b->paddr < a->paddr + a->memsz)
                return elf_fail(
                    err, errlen, -ENOEXEC,
                    "segments %u and %u overlap ([%#" PRIx64 ", %#" PRIx64
                    ") and [%#" PRIx64 ", %#" PRIx64 "))",
                    a->phidx, b->phidx, a->paddr, a->paddr + a->memsz, b->paddr,
                    b->paddr + b->memsz);
        }
    }
    return 0;
}

/*
 * Walk the notes in the file range [off, off + size) (already known to be
 * inside the file).  Each note is an Elf32_Nhdr (Elf64_Nhdr has the same
 * layout), the name, then the descriptor; the descriptor and the next note
 * start at multiples of `align` (4, or 8 for 8-aligned note sections)
 * counted from the note's start.
 * Returns 1 and sets *entry when the PHYS32_ENTRY note is found, 0 when
 * the area has none, or a negative errno for a malformed note.
 * `what` names the area in error messages ("note segment 3", ...).
 */
static int elf_scan_notes(const uint8_t *image, uint64_t off, uint64_t size,
                          uint64_t align, const char *what, uint32_t *entry,
                          char *err, size_t errlen)
{
    static const char xen_name[] = "Xen"; /* namesz 4, with the NUL */
    uint64_t pos = 0, left, desc_off, next;
    const uint8_t *note;
    unsigned int n = 0;
    Elf32_Nhdr nh;

    if (off % align != 0)
        return elf_fail(err, errlen, -ENOEXEC,
                        "%s: notes at offset %#" PRIx64 " not %" PRIu64
                        "-byte aligned",
                        what, off, align);
    while (pos < size) {
        left = size - pos;
        note = image + off + pos;
        if (left < sizeof(nh))
            return elf_fail(err, errlen, -ENOEXEC,
                            "%s: truncated note header %u", what, n);
        memcpy(&nh, note, sizeof(nh));
        /* 32-bit sizes in 64-bit arithmetic: the sums cannot wrap. */
        desc_off =
            (sizeof(nh) + (uint64_t)nh.n_namesz + align - 1) & ~(align - 1);
        if (desc_off > left)
            return elf_fail(err, errlen, -ENOEXEC,
                            "%s: note %u: n_namesz %" PRIu32
                            " runs past the end of the notes",
                            what, n, nh.n_namesz);
        if (nh.n_descsz > left - desc_off)
            return elf_fail(err, errlen, -ENOEXEC,
                            "%s: note %u: n_descsz %" PRIu32
                            " runs past the end of the notes",
                            what, n, nh.n_descsz);
        if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY &&
            nh.n_namesz == sizeof(xen_name) &&
            memcmp(note + sizeof(nh), xen_name, sizeof(xen_name)) == 0) {
            uint64_t v64;
            uint32_t v32;

            if (nh.n_descsz == 4) {
                memcpy(&v32, note + desc_off, 4);
                *entry = v32;
            } else if (nh.n_descsz == 8) {
                memcpy(&v64, note + desc_off, 8);
                if (v64 > UINT32_MAX)
                    return elf_fail(err, errlen, -ENOEXEC,
                                    "%s: XEN_ELFNOTE_PHYS32_ENTRY %#" PRIx64
                                    " above 4 GiB",
                                    what, v64);
                *entry = (uint32_t)v64;
            } else {
                return elf_fail(err, errlen, -ENOEXEC,
                                "%s: XEN_ELFNOTE_PHYS32_ENTRY has n_descsz "
                                "%" PRIu32 " (want 4 or 8)",
                                what, nh.n_descsz);
            }
            return 1;
        }
        /* The last note's descriptor may omit its trailing padding. */
        next = (desc_off + nh.n_descsz + align - 1) & ~(align - 1);
        pos += next < left ? next : left;
        n++;
    }
    return 0;
}

/* Notes are 4-byte aligned unless the segment/section asks for 8. */
static uint64_t elf_note_align(uint64_t align)
{
    return align == 8 ? 8 : 4;
}

static int elf_find_entry(const uint8_t *image, size_t len,
                          const struct elf_parsed *e, uint32_t *entry,
                          char *err, size_t errlen)
{
    struct elf_phdr ph;
    struct elf_shdr sh;
    char what[32];
    unsigned int i;
    int rc;

    for (i = 0; i < e->phnum; i++) {
        elf_read_phdr(image, e, i, &ph);
        if (ph.type != PT_NOTE)
            continue; /* bounds checked by elf_parse_segments() */
        snprintf(what, sizeof(what), "note segment %u", i);
        rc = elf_scan_notes(image, ph.offset, ph.filesz,
                            elf_note_align(ph.align), what, entry, err, errlen);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }

    for (i = 0; i < e->shnum; i++) {
        elf_read_shdr(image, e, i, &sh);
        if (sh.type != SHT_NOTE)
            continue;
        if (!elf_in_file(sh.offset, sh.size, len))
            return elf_fail(err, errlen, -ENOEXEC,
                            "note section %u: [%#" PRIx64 ", +%#" PRIx64
                            ") beyond the end of the file (%zu bytes)",
                            i, sh.offset, sh.size, len);
        snprintf(what, sizeof(what), "note section %u", i);
        rc = elf_scan_notes(image, sh.offset, sh.size,
                            elf_note_align(sh.addralign), what, entry, err,
                            errlen);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
    return elf_fail(err, errlen, -ENOEXEC,
                    "no XEN_ELFNOTE_PHYS32_ENTRY note (not a PVH kernel)");
}

static int elf_parse(const void *image, size_t len, gpa_t ram_end,
                     struct elf_parsed *e, struct elf_pvh_info *info, char *err,
                     size_t errlen)
{
    const uint8_t *p = image;
    uint32_t entry = 0;
    unsigned int i;
    int rc;

    if (!image)
        return elf_fail(err, errlen, -ENOEXEC, "no image");
    rc = elf_parse_ehdr(p, len, e, err, errlen);
    if (rc)
        return rc;
    rc = elf_parse_segments(p, len, ram_end, e, err, errlen);
    if (rc)
        return rc;
    rc = elf_find_entry(p, len, e, &entry, err, errlen);
    if (rc)
        return rc;

    /* The entry must be code the loader actually copies from the file. */
    for (i = 0; i < e->nr_segs; i++) {
        const struct elf_seg *s = &e->seg[i];

        if ((s->flags & PF_X) && entry >= s->paddr &&
            entry - s->paddr < s->filesz)
            break;
    }
    if (i == e->nr_segs)
        return elf_fail(err, errlen, -ENOEXEC,
                        "entry %#" PRIx32
                        " is not inside an executable segment's file bytes",
                        entry);

    memset(info, 0, sizeof(*info));
    info->phys32_entry = entry;
    info->is_64 = e->is_64;
    info->nr_segments = e->nr_segs;
    info->load_lo = UINT64_MAX;
    for (i = 0; i < e->nr_segs; i++) {
        const struct elf_seg *s = &e->seg[i];

        if (s->paddr < info->load_lo)
            info->load_lo = s->paddr;
        if (s->paddr + s->memsz > info->load_hi)
            info->load_hi = s->paddr + s->memsz;
    }
    return 0;
}

int elf_pvh_probe(const void *image, size_t len, gpa_t ram_end,
                  struct elf_pvh_info *info, char *err, size_t errlen)
{
    struct elf_parsed e;

    return elf_parse(image, len, ram_end, &e, info, err, errlen);
}

int elf_pvh_load(const void *image, size_t len, const struct gmem *mem,
                 gpa_t ram_end, struct elf_pvh_info *info, char *err,
                 size_t errlen)
{
    const uint8_t *p = image;
    struct elf_parsed e;
    unsigned int i;
    uint8_t *dst;
    int rc;

    rc = elf_parse(image, len, ram_end, &e, info, err, errlen);
    if (rc)
        return rc;
    for (i = 0; i < e.nr_segs; i++) {
        const struct elf_seg *s = &e.seg[i];

        dst = gmem_ptr(mem, s->paddr, s->memsz);
        if (!dst)
            return elf_fail(err, errlen, -ERANGE,
                            "segment %u [%#" PRIx64 ", %#" PRIx64
                            ") is not backed by guest memory",
                            s->phidx, s->paddr, s->paddr + s->memsz);
        memcpy(dst, p + s->offset, s->filesz);
        memset(dst + s->filesz, 0, s->memsz - s->filesz);
    }
    return 0;
}
