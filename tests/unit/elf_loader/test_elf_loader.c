/*
 * test_elf_loader.c — unit tests of xen-hv/elf_loader.c.
 *
 * Small ELF64 and ELF32 PVH images are written here byte by byte (headers,
 * two PT_LOAD segments, one with bss, a PT_NOTE with a XEN_ELFNOTE_GUEST_OS
 * and a XEN_ELFNOTE_PHYS32_ENTRY note, and a section header table with the
 * same notes as SHT_NOTE), then loaded and mutated into every malformed
 * shape the loader must refuse.  Each image handed to the loader sits in a
 * heap block of exactly its length, so an out-of-bounds read shows up under
 * ASan/valgrind (make asan).
 */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <xen/elfnote.h>

#include "elf_loader.h"
#include "tap.h"

#define IMG_MAX   0x400
#define TEXT_OFF  0x200
#define TEXT_SZ   0x40
#define TEXT_PA   0x100000ULL
#define DATA_OFF  0x240
#define DATA_FSZ  0x20
#define DATA_MSZ  0x1000
#define DATA_PA   0x200000ULL
#define SH_OFF    0x300
#define ENTRY     0x100010U
#define RAM_SIZE  (4ULL << 20)
#define NOTE_SIZE 0x30 /* two notes, 4-byte padding, 8-byte PHYS32 desc */

/* Offsets inside the note area of the canonical images. */
#define NOTE1_OFF 0    /* XEN_ELFNOTE_GUEST_OS "linux" */
#define NOTE2_OFF 0x18 /* XEN_ELFNOTE_PHYS32_ENTRY */

struct img {
    _Alignas(8) uint8_t b[IMG_MAX];
    size_t len;
    bool is_64;
    size_t note_off; /* file offset of the note area */
};

/*
 * Write one "Xen" note at off (a multiple of align); the descriptor and
 * the next note start at multiples of align from the note's start.
 * Returns the next note's offset.
 */
static size_t put_note(uint8_t *b, size_t off, size_t align, uint32_t type,
                       const void *desc, uint32_t descsz)
{
    Elf32_Nhdr nh = {.n_namesz = 4, .n_descsz = descsz, .n_type = type};
    size_t desc_off = (sizeof(nh) + 4 + align - 1) & ~(align - 1);

    memcpy(b + off, &nh, sizeof(nh));
    memcpy(b + off + sizeof(nh), "Xen", 4);
    memcpy(b + off + desc_off, desc, descsz);
    return off + ((desc_off + descsz + align - 1) & ~(align - 1));
}

static void fill_payload(struct img *im)
{
    for (size_t i = 0; i < TEXT_SZ; i++)
        im->b[TEXT_OFF + i] = (uint8_t)(0x90 + i);
    for (size_t i = 0; i < DATA_FSZ; i++)
        im->b[DATA_OFF + i] = (uint8_t)(0x40 + i);
}

static void build64(struct img *im)
{
    Elf64_Ehdr *eh = (Elf64_Ehdr *)im->b;
    Elf64_Phdr *ph = (Elf64_Phdr *)(im->b + sizeof(*eh));
    Elf64_Shdr *sh = (Elf64_Shdr *)(im->b + SH_OFF);
    uint64_t entry = ENTRY;
    size_t off;

    memset(im, 0, sizeof(*im));
    im->is_64 = true;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_entry = 0xffffffff81000000ULL; /* ignored: PVH uses the note */
    eh->e_phoff = sizeof(*eh);
    eh->e_shoff = SH_OFF;
    eh->e_ehsize = sizeof(*eh);
    eh->e_phentsize = sizeof(*ph);
    eh->e_phnum = 3;
    eh->e_shentsize = sizeof(*sh);
    eh->e_shnum = 2;

    ph[0] = (Elf64_Phdr){PT_LOAD, PF_R | PF_X, TEXT_OFF, 0xffffffff81000000ULL,
                         TEXT_PA, TEXT_SZ,     TEXT_SZ,  0x1000};
    ph[1] = (Elf64_Phdr){PT_LOAD, PF_R | PF_W, DATA_OFF, 0xffffffff81100000ULL,
                         DATA_PA, DATA_FSZ,    DATA_MSZ, 0x1000};
    im->note_off = sizeof(*eh) + 3 * sizeof(*ph); /* 232, 4-aligned */
    off = put_note(im->b, im->note_off, 4, XEN_ELFNOTE_GUEST_OS, "linux", 6);
    off = put_note(im->b, off, 4, XEN_ELFNOTE_PHYS32_ENTRY, &entry, 8);
    ph[2] = (Elf64_Phdr){PT_NOTE,
                         PF_R,
                         im->note_off,
                         0,
                         0,
                         off - im->note_off,
                         off - im->note_off,
                         4};

    sh[1].sh_type = SHT_NOTE;
    sh[1].sh_offset = im->note_off;
    sh[1].sh_size = off - im->note_off;
    sh[1].sh_addralign = 4;
    fill_payload(im);
    im->len = SH_OFF + 2 * sizeof(*sh);
}

static void build32(struct img *im)
{
    Elf32_Ehdr *eh = (Elf32_Ehdr *)im->b;
    Elf32_Phdr *ph = (Elf32_Phdr *)(im->b + sizeof(*eh));
    Elf32_Shdr *sh = (Elf32_Shdr *)(im->b + SH_OFF);
    uint32_t entry = ENTRY;
    size_t off;

    memset(im, 0, sizeof(*im));
    im->is_64 = false;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS32;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_386;
    eh->e_version = EV_CURRENT;
    eh->e_entry = ENTRY;
    eh->e_phoff = sizeof(*eh);
    eh->e_shoff = SH_OFF;
    eh->e_ehsize = sizeof(*eh);
    eh->e_phentsize = sizeof(*ph);
    eh->e_phnum = 3;
    eh->e_shentsize = sizeof(*sh);
    eh->e_shnum = 2;

    ph[0] = (Elf32_Phdr){PT_LOAD, TEXT_OFF, TEXT_PA,     TEXT_PA,
                         TEXT_SZ, TEXT_SZ,  PF_R | PF_X, 0x1000};
    ph[1] = (Elf32_Phdr){PT_LOAD,  DATA_OFF, DATA_PA,     DATA_PA,
                         DATA_FSZ, DATA_MSZ, PF_R | PF_W, 0x1000};
    im->note_off = sizeof(*eh) + 3 * sizeof(*ph); /* 148 */
    off = put_note(im->b, im->note_off, 4, XEN_ELFNOTE_GUEST_OS, "linux", 6);
    off = put_note(im->b, off, 4, XEN_ELFNOTE_PHYS32_ENTRY, &entry, 4);
    ph[2] = (Elf32_Phdr){PT_NOTE,
                         im->note_off,
                         0,
                         0,
                         off - im->note_off,
                         off - im->note_off,
                         PF_R,
                         4};

    sh[1].sh_type = SHT_NOTE;
    sh[1].sh_offset = im->note_off;
    sh[1].sh_size = off - im->note_off;
    sh[1].sh_addralign = 4;
    fill_payload(im);
    im->len = SH_OFF + 2 * sizeof(*sh);
}

static Elf64_Ehdr *eh64(struct img *im)
{
    return (Elf64_Ehdr *)im->b;
}

static Elf64_Phdr *ph64(struct img *im, int i)
{
    return (Elf64_Phdr *)(im->b + sizeof(Elf64_Ehdr)) + i;
}

static Elf32_Phdr *ph32(struct img *im, int i)
{
    return (Elf32_Phdr *)(im->b + sizeof(Elf32_Ehdr)) + i;
}

static Elf32_Nhdr *note(struct img *im, size_t note_rel)
{
    return (Elf32_Nhdr *)(im->b + im->note_off + note_rel);
}

/* A heap copy of exactly len bytes, so ASan sees any over-read. */
static int probe_exact(const void *src, size_t len, gpa_t ram_end,
                       struct elf_pvh_info *info, char *err, size_t errlen)
{
    void *copy = malloc(len ? len : 1);
    int rc;

    if (!copy)
        abort();
    memcpy(copy, src, len);
    rc = elf_pvh_probe(copy, len, ram_end, info, err, errlen);
    free(copy);
    return rc;
}

static bool one_line(const char *s)
{
    return s[0] != '\0' && strchr(s, '\n') == NULL;
}

/* Expect probe to fail with rc and an error mentioning `want`. */
static void expect_fail(struct img *im, gpa_t ram_end, int rc_want,
                        const char *want, const char *name)
{
    struct elf_pvh_info info;
    char err[256] = "";
    int rc;

    rc = probe_exact(im->b, im->len, ram_end, &info, err, sizeof(err));
    if (!is_int(rc, rc_want, name))
        tap_diag("  error text: %s", err);
    if (!ok(strstr(err, want) != NULL && one_line(err),
            "%s: error text mentions \"%s\"", name, want))
        tap_diag("  error text: %s", err);
}

static void expect_probe_ok(struct img *im, uint32_t entry, const char *name)
{
    struct elf_pvh_info info;
    char err[256] = "";
    int rc;

    rc = probe_exact(im->b, im->len, RAM_SIZE, &info, err, sizeof(err));
    if (!is_int(rc, 0, name))
        tap_diag("  error text: %s", err);
    is_u64(info.phys32_entry, entry, "  ... entry");
}

static uint8_t *ram;
static struct gmem gm;

static void ram_reset(void)
{
    memset(ram, 0xAA, RAM_SIZE);
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

static void test_good(struct img *im, const char *cls)
{
    struct elf_pvh_info info;
    char err[256] = "";
    char name[128];
    int rc;

    memset(&info, 0x5a, sizeof(info));
    rc = probe_exact(im->b, im->len, RAM_SIZE, &info, err, sizeof(err));
    snprintf(name, sizeof(name), "%s good image: probe returns 0", cls);
    if (!is_int(rc, 0, name))
        tap_diag("  error text: %s", err);
    is_u64(info.phys32_entry, ENTRY, "  probe: phys32_entry");
    is_u64(info.load_lo, TEXT_PA, "  probe: load_lo");
    is_u64(info.load_hi, DATA_PA + DATA_MSZ, "  probe: load_hi");
    is_int(info.is_64, im->is_64, "  probe: is_64");
    is_int(info.nr_segments, 2, "  probe: nr_segments");

    ram_reset();
    memset(&info, 0, sizeof(info));
    rc = elf_pvh_load(im->b, im->len, &gm, RAM_SIZE, &info, err, sizeof(err));
    snprintf(name, sizeof(name), "%s good image: load returns 0", cls);
    if (!is_int(rc, 0, name))
        tap_diag("  error text: %s", err);
    is_u64(info.phys32_entry, ENTRY, "  load: phys32_entry");
    ok(memcmp(ram + TEXT_PA, im->b + TEXT_OFF, TEXT_SZ) == 0,
       "  load: text bytes at p_paddr 0x%llx", (unsigned long long)TEXT_PA);
    ok(memcmp(ram + DATA_PA, im->b + DATA_OFF, DATA_FSZ) == 0,
       "  load: data bytes at p_paddr 0x%llx", (unsigned long long)DATA_PA);
    ok(all_bytes(ram + DATA_PA + DATA_FSZ, DATA_MSZ - DATA_FSZ, 0),
       "  load: bss (p_memsz - p_filesz = 0x%x bytes) zeroed",
       DATA_MSZ - DATA_FSZ);
    ok(ram[TEXT_PA - 1] == 0xAA && ram[TEXT_PA + TEXT_SZ] == 0xAA &&
           ram[DATA_PA - 1] == 0xAA && ram[DATA_PA + DATA_MSZ] == 0xAA,
       "  load: bytes around the segments untouched");
    ok(all_bytes(ram, TEXT_PA, 0xAA), "  load: nothing written below load_lo");
}

static void test_prefixes(struct img *im, const char *cls)
{
    struct elf_pvh_info info;
    char err[256];
    size_t bad = 0, first_bad = 0;

    for (size_t n = 0; n < im->len; n++) {
        int rc;

        err[0] = '\0';
        rc = probe_exact(im->b, n, RAM_SIZE, &info, err, sizeof(err));
        if (rc != -ENOEXEC || !one_line(err)) {
            if (!bad++)
                first_bad = n;
        }
    }
    if (!ok(bad == 0,
            "%s: each of the %zu truncated prefixes rejected (-ENOEXEC, "
            "one-line reason)",
            cls, im->len))
        tap_diag("  %zu accepted or badly reported, first at length %zu", bad,
                 first_bad);
}

/* Fixed-seed byte mutations: never a crash; a success stays consistent. */
static void test_mutations(const struct img *good, const char *cls)
{
    uint64_t seed = 0x2545f4914f6cdd1dULL;
    unsigned int accepted = 0, inconsistent = 0;
    struct img im;

    for (int iter = 0; iter < 20000; iter++) {
        struct elf_pvh_info info;
        char err[256];
        int nflip;

        im = *good;
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        nflip = 1 + (int)((seed >> 60) & 3);
        for (int k = 0; k < nflip; k++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            /* Mostly the headers and notes, where the parser looks. */
            size_t pos = (size_t)(seed >> 33) % 0x120;
            im.b[pos] = (uint8_t)(seed >> 17);
        }
        if (probe_exact(im.b, im.len, RAM_SIZE, &info, err, sizeof(err)) == 0) {
            accepted++;
            if (info.load_lo >= info.load_hi || info.load_hi > RAM_SIZE ||
                info.phys32_entry < info.load_lo ||
                info.phys32_entry >= info.load_hi)
                inconsistent++;
        }
    }
    ok(inconsistent == 0,
       "%s: 20000 random header mutations: no crash, %u accepted, all "
       "consistent",
       cls, accepted);
}

static void test_malformed64(void)
{
    struct img im;

    build64(&im);
    memcpy(im.b,
           "\x7f"
           "ELG",
           4);
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "magic", "bad magic");

    build64(&im);
    im.b[EI_CLASS] = 3;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "class", "bad class");

    build64(&im);
    im.b[EI_DATA] = ELFDATA2MSB;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "encoding", "big-endian");

    build64(&im);
    eh64(&im)->e_machine = EM_ARM;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "machine", "bad machine (EM_ARM)");

    build64(&im);
    eh64(&im)->e_type = ET_DYN;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "ET_EXEC", "ET_DYN refused");

    build64(&im);
    eh64(&im)->e_phnum = 0;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "no program headers", "e_phnum 0");

    build64(&im);
    eh64(&im)->e_phnum = 1000;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "truncated program header table",
                "e_phnum 1000 (table past end of file)");

    build64(&im);
    eh64(&im)->e_phnum = PN_XNUM;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "PN_XNUM", "e_phnum PN_XNUM");

    build64(&im);
    eh64(&im)->e_phentsize = sizeof(Elf32_Phdr);
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "e_phentsize",
                "e_phentsize 32 in an ELF64 file");

    build64(&im);
    eh64(&im)->e_phentsize = 0xffff;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "e_phentsize", "e_phentsize 0xffff");

    build64(&im);
    eh64(&im)->e_phoff = UINT64_MAX;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "truncated program header table",
                "e_phoff 0xffffffffffffffff");

    build64(&im);
    eh64(&im)->e_phoff = UINT64_MAX - 8;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "truncated program header table",
                "e_phoff + table size wraps");

    build64(&im);
    eh64(&im)->e_shnum = 500;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "truncated section header table",
                "e_shnum 500 (table past end of file)");

    build64(&im);
    eh64(&im)->e_shentsize = 40;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "e_shentsize",
                "e_shentsize 40 in an ELF64 file");

    build64(&im);
    ph64(&im, 0)->p_offset = im.len - 8;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "beyond the end of the file",
                "p_offset + p_filesz beyond the file");

    build64(&im);
    ph64(&im, 1)->p_offset = UINT64_MAX - 0x10;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "beyond the end of the file",
                "p_offset 0xffffffffffffffef (+p_filesz wraps)");

    build64(&im);
    ph64(&im, 1)->p_filesz = UINT64_MAX;
    ph64(&im, 1)->p_memsz = UINT64_MAX;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "beyond the end of the file",
                "p_filesz 0xffffffffffffffff");

    build64(&im);
    ph64(&im, 1)->p_filesz = DATA_MSZ + 1;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "larger than p_memsz",
                "p_filesz > p_memsz");

    build64(&im);
    ph64(&im, 1)->p_paddr = UINT64_MAX - 0x7ff;
    expect_fail(&im, UINT64_MAX, -ENOEXEC, "wraps",
                "p_paddr + p_memsz wraps the 64-bit space");

    build64(&im);
    ph64(&im, 1)->p_memsz = UINT64_MAX;
    expect_fail(&im, UINT64_MAX, -ENOEXEC, "wraps", "p_memsz 0xffff...ff");

    build64(&im);
    ph64(&im, 1)->p_paddr = RAM_SIZE - 0x800;
    expect_fail(&im, RAM_SIZE, -ERANGE, "outside RAM",
                "segment straddling ram_end");

    build64(&im);
    ph64(&im, 1)->p_paddr = RAM_SIZE;
    expect_fail(&im, RAM_SIZE, -ERANGE, "outside RAM",
                "segment starting at ram_end");

    build64(&im);
    expect_fail(&im, DATA_PA + DATA_MSZ - 1, -ERANGE, "segment 1",
                "ram_end one byte short of the bss end");

    build64(&im);
    ph64(&im, 1)->p_paddr = TEXT_PA + 0x20;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "segments 0 and 1 overlap",
                "overlapping PT_LOAD segments");

    build64(&im);
    ph64(&im, 1)->p_paddr = TEXT_PA - DATA_MSZ + 1;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "overlap",
                "bss overlapping the next segment's first byte");

    build64(&im);
    ph64(&im, 1)->p_paddr = TEXT_PA + TEXT_SZ; /* adjacent, not overlapping */
    expect_probe_ok(&im, ENTRY, "adjacent PT_LOAD segments accepted");

    build64(&im);
    ph64(&im, 0)->p_type = PT_NULL;
    ph64(&im, 1)->p_type = PT_NULL;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "no PT_LOAD", "no PT_LOAD segment");

    build64(&im);
    ph64(&im, 2)->p_type = PT_NULL;
    eh64(&im)->e_shnum = 0;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "no XEN_ELFNOTE_PHYS32_ENTRY",
                "no note at all");

    build64(&im);
    ph64(&im, 2)->p_type = PT_NULL;
    expect_probe_ok(&im, ENTRY, "note found in the SHT_NOTE section");

    build64(&im);
    note(&im, NOTE2_OFF)->n_type = XEN_ELFNOTE_ENTRY;
    eh64(&im)->e_shnum = 0;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "no XEN_ELFNOTE_PHYS32_ENTRY",
                "notes present but no PHYS32_ENTRY");

    build64(&im);
    memcpy(im.b + im.note_off + NOTE2_OFF + 12, "Xem", 4);
    eh64(&im)->e_shnum = 0;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "no XEN_ELFNOTE_PHYS32_ENTRY",
                "PHYS32_ENTRY type with owner other than \"Xen\"");

    build64(&im);
    note(&im, NOTE2_OFF)->n_descsz = 2;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "want 4 or 8",
                "PHYS32_ENTRY n_descsz 2");

    build64(&im);
    note(&im, NOTE2_OFF)->n_descsz = 12;
    ph64(&im, 2)->p_filesz += 4;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "want 4 or 8",
                "PHYS32_ENTRY n_descsz 12");

    build64(&im);
    note(&im, NOTE1_OFF)->n_namesz = UINT32_MAX;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "n_namesz", "n_namesz 0xffffffff");

    build64(&im);
    note(&im, NOTE1_OFF)->n_descsz = UINT32_MAX;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "n_descsz", "n_descsz 0xffffffff");

    build64(&im);
    note(&im, NOTE2_OFF)->n_descsz = 0x20;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "n_descsz",
                "last note's n_descsz past the segment");

    build64(&im);
    ph64(&im, 2)->p_filesz = NOTE2_OFF + 8;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "truncated note header",
                "PT_NOTE ends inside a note header");

    build64(&im);
    ph64(&im, 2)->p_offset = im.len - 4;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "beyond the end of the file",
                "PT_NOTE past the end of the file");

    build64(&im);
    ph64(&im, 2)->p_offset += 1;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "aligned", "PT_NOTE at an odd offset");

    build64(&im);
    {
        uint64_t v = 0x100000010ULL;

        memcpy(im.b + im.note_off + NOTE2_OFF + 16, &v, 8);
    }
    expect_fail(&im, UINT64_MAX, -ENOEXEC, "above 4 GiB",
                "8-byte PHYS32_ENTRY above 4 GiB");

    build64(&im);
    {
        uint64_t v = 0x300000;

        memcpy(im.b + im.note_off + NOTE2_OFF + 16, &v, 8);
    }
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "entry 0x300000",
                "entry outside every segment");

    build64(&im);
    {
        uint64_t v = DATA_PA + 4;

        memcpy(im.b + im.note_off + NOTE2_OFF + 16, &v, 8);
    }
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "executable",
                "entry inside a non-executable segment");

    build64(&im);
    {
        uint64_t v = TEXT_PA + TEXT_SZ;

        memcpy(im.b + im.note_off + NOTE2_OFF + 16, &v, 8);
    }
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "entry",
                "entry one past the end of the text");

    /* 8-byte note alignment (p_align 8): name and desc padded to 8. */
    build64(&im);
    {
        uint64_t entry = ENTRY;
        size_t off;

        memset(im.b + im.note_off, 0, NOTE_SIZE + 8);
        off = put_note(im.b, im.note_off, 8, XEN_ELFNOTE_GUEST_OS, "linux", 6);
        off = put_note(im.b, off, 8, XEN_ELFNOTE_PHYS32_ENTRY, &entry, 8);
        ph64(&im, 2)->p_filesz = off - im.note_off;
        ph64(&im, 2)->p_align = 8;
        eh64(&im)->e_shnum = 0;
    }
    ok(im.note_off % 8 == 0, "note area is 8-aligned for the next case");
    expect_probe_ok(&im, ENTRY, "notes with 8-byte alignment (p_align 8)");

    /* A zero-length PT_LOAD is ignored (not counted, not placed). */
    build64(&im);
    ph64(&im, 2)->p_type = PT_LOAD;
    ph64(&im, 2)->p_filesz = 0;
    ph64(&im, 2)->p_memsz = 0;
    ph64(&im, 2)->p_paddr = UINT64_MAX;
    {
        struct elf_pvh_info info;
        char err[256] = "";
        int rc = probe_exact(im.b, im.len, RAM_SIZE, &info, err, sizeof(err));

        is_int(rc, 0, "empty PT_LOAD ignored (note from the section)");
        is_int(info.nr_segments, 2, "  ... nr_segments still 2");
    }

    /* NULL error buffer. */
    build64(&im);
    im.b[0] = 0;
    {
        struct elf_pvh_info info;

        is_int(elf_pvh_probe(im.b, im.len, RAM_SIZE, &info, NULL, 0), -ENOEXEC,
               "NULL error buffer: still -ENOEXEC, no crash");
    }
    {
        struct elf_pvh_info info;
        char err[8];

        build64(&im);
        eh64(&im)->e_machine = EM_ARM;
        elf_pvh_probe(im.b, im.len, RAM_SIZE, &info, err, sizeof(err));
        ok(strlen(err) == sizeof(err) - 1, "short error buffer truncated");
    }
}

static void test_malformed32(void)
{
    struct img im;

    build32(&im);
    ((Elf32_Ehdr *)im.b)->e_phentsize = sizeof(Elf64_Phdr);
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "e_phentsize",
                "ELF32: e_phentsize 56");

    build32(&im);
    ph32(&im, 1)->p_paddr = 0xfffff000u;
    ph32(&im, 1)->p_memsz = 0x2000;
    expect_fail(&im, UINT64_MAX, -ENOEXEC, "wraps the 32-bit",
                "ELF32: segment wraps 4 GiB");

    build32(&im);
    ph32(&im, 1)->p_offset = 0xffffffe0u;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "beyond the end of the file",
                "ELF32: p_offset 0xffffffe0");

    build32(&im);
    ph32(&im, 1)->p_paddr = TEXT_PA + 0x3f;
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "overlap", "ELF32: overlapping");

    build32(&im);
    note(&im, 0x18)->n_descsz = 8; /* reads 4 bytes past the value */
    expect_fail(&im, RAM_SIZE, -ENOEXEC, "n_descsz",
                "ELF32: 8-byte PHYS32 desc past the segment");

    build32(&im);
    ((Elf32_Ehdr *)im.b)->e_machine = EM_X86_64; /* elf32-x86-64, as Xen */
    expect_probe_ok(&im, ENTRY, "ELF32 with EM_X86_64 accepted");
}

static void test_unbacked(void)
{
    struct gmem small = {
        .nr_regions = 1,
        .region = {{.gpa_base = 0, .size = DATA_PA + 0x800, .host = ram}}};
    struct elf_pvh_info info;
    char err[256] = "";
    struct img im;
    int rc;

    build64(&im);
    rc = elf_pvh_load(im.b, im.len, &small, RAM_SIZE, &info, err, sizeof(err));
    is_int(rc, -ERANGE, "load: segment not backed by guest memory");
    ok(strstr(err, "not backed") != NULL, "  ... error text: %s", err);
}

static void test_real_kernel(void)
{
    static const char path[] = XEN_ROOT "/frontends/kernel/hello.elf";
    struct elf_pvh_info info;
    struct gmem big;
    char err[256] = "";
    uint8_t *file = NULL, *mem = NULL;
    struct stat st;
    FILE *f;
    int rc;

    f = fopen(path, "rb");
    if (!f) {
        tap_skip(4, "frontends/kernel/hello.elf not built");
        return;
    }
    if (fstat(fileno(f), &st) != 0 || st.st_size <= 0)
        abort();
    file = malloc((size_t)st.st_size);
    if (!file || fread(file, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
        abort();
    fclose(f);

    rc = elf_pvh_probe(file, (size_t)st.st_size, 1ULL << 32, &info, err,
                       sizeof(err));
    if (!is_int(rc, 0, "hello.elf: probe"))
        tap_diag("  error text: %s", err);
    mem = rc == 0 ? calloc(1, info.load_hi) : NULL;
    big = (struct gmem){
        .nr_regions = 1,
        .region = {
            {.gpa_base = 0, .size = rc == 0 ? info.load_hi : 0, .host = mem}}};
    rc = mem ? elf_pvh_load(file, (size_t)st.st_size, &big, info.load_hi, &info,
                            err, sizeof(err))
             : -1;
    if (!is_int(rc, 0, "hello.elf: load"))
        tap_diag("  error text: %s", err);
    ok(info.phys32_entry >= info.load_lo && info.phys32_entry < info.load_hi,
       "hello.elf: entry %#x in [%#llx, %#llx)", info.phys32_entry,
       (unsigned long long)info.load_lo, (unsigned long long)info.load_hi);
    {
        size_t step = (size_t)st.st_size / 509 + 1, bad = 0, tried = 0;

        for (size_t n = 0; n < (size_t)st.st_size; n += step, tried++)
            if (probe_exact(file, n, 1ULL << 32, &info, err, sizeof(err)) !=
                -ENOEXEC)
                bad++;
        ok(bad == 0, "hello.elf: %zu truncated prefixes rejected", tried);
    }
    free(mem);
    free(file);
}

int main(void)
{
    struct img im;

    ram = malloc(RAM_SIZE);
    if (!ram)
        return 1;
    gm = (struct gmem){
        .nr_regions = 1,
        .region = {{.gpa_base = 0, .size = RAM_SIZE, .host = ram}}};

    build64(&im);
    test_good(&im, "ELF64");
    test_prefixes(&im, "ELF64");
    test_mutations(&im, "ELF64");
    build32(&im);
    test_good(&im, "ELF32");
    test_prefixes(&im, "ELF32");
    test_mutations(&im, "ELF32");
    test_malformed64();
    test_malformed32();
    test_unbacked();
    test_real_kernel();

    free(ram);
    return tap_done();
}
