/*
 * test_start_info.c — unit tests of xen-hv/start_info.c: the exact bytes of
 * the PVH start info block (<xen/arch-x86/hvm/start_info.h>, version 1) as
 * the guest reads them, and the error cases.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "start_info.h"
#include "tap.h"

#define RAM_SIZE 0x100000ULL
#define BASE     0x10000ULL

static uint8_t *ram;
static struct gmem gm;

static uint32_t rd32(gpa_t gpa)
{
    uint32_t v;

    memcpy(&v, ram + gpa, sizeof(v));
    return v;
}

static uint64_t rd64(gpa_t gpa)
{
    uint64_t v;

    memcpy(&v, ram + gpa, sizeof(v));
    return v;
}

static bool all_bytes(gpa_t gpa, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (ram[gpa + i] != v)
            return false;
    return true;
}

static void test_abi(void)
{
    /* The public header's layout table, checked against its C struct. */
    is_int(sizeof(struct hvm_start_info), 56, "sizeof(hvm_start_info) 56");
    is_int(offsetof(struct hvm_start_info, modlist_paddr), 16,
           "offsetof modlist_paddr 16");
    is_int(offsetof(struct hvm_start_info, cmdline_paddr), 24,
           "offsetof cmdline_paddr 24");
    is_int(offsetof(struct hvm_start_info, rsdp_paddr), 32,
           "offsetof rsdp_paddr 32");
    is_int(offsetof(struct hvm_start_info, memmap_paddr), 40,
           "offsetof memmap_paddr 40");
    is_int(offsetof(struct hvm_start_info, memmap_entries), 48,
           "offsetof memmap_entries 48");
    is_int(sizeof(struct hvm_modlist_entry), 32, "sizeof modlist entry 32");
    is_int(sizeof(struct hvm_memmap_table_entry), 24, "sizeof memmap entry 24");
}

static void test_full(void)
{
    static const char cmdline[] = "console=hvc0 root=/dev/xvda"; /* 27 */
    const struct start_info_module mods[2] = {
        {.paddr = 0x200000, .size = 0x1234, .cmdline = "initrd"},
        {.paddr = 0x300000, .size = 5, .cmdline = NULL},
    };
    const struct hvm_memmap_table_entry mm[3] = {
        {.addr = 0, .size = 0xa0000, .type = XEN_HVM_MEMMAP_TYPE_RAM},
        {.addr = 0xfc000000,
         .size = 0x1000,
         .type = XEN_HVM_MEMMAP_TYPE_RESERVED,
         .reserved = 0xdead},
        {.addr = 0x100000, .size = 0x7f00000, .type = XEN_HVM_MEMMAP_TYPE_RAM},
    };
    struct start_info_request req = {
        .cmdline = cmdline,
        .modules = mods,
        .nr_modules = 2,
        .memmap = mm,
        .nr_memmap = 3,
        .rsdp_paddr = 0xfe000,
    };
    /* 56 | 2 * 32 = 64 | 3 * 24 = 72 | 28 -> 32 | "initrd" 7 -> 8 */
    const uint64_t modlist = BASE + 56, memmap = BASE + 120, cmd = BASE + 192,
                   mcmd = BASE + 224, total = 232;
    uint64_t used = 0;
    int rc;

    memset(ram, 0xAA, RAM_SIZE);
    is_u64(start_info_size(&req), total, "size: 232 bytes for the full req");
    rc = start_info_build(&gm, BASE, 0x1000, &req, &used);
    is_int(rc, 0, "build returns 0");
    is_u64(used, total, "used = 232");

    is_u64(rd32(BASE + 0), XEN_HVM_START_MAGIC_VALUE, "magic 0x336ec578");
    ok(memcmp(ram + BASE, "\x78\xc5\x6e\x33", 4) == 0,
       "magic bytes little-endian 78 c5 6e 33");
    is_u64(rd32(BASE + 4), 1, "version 1");
    is_u64(rd32(BASE + 8), 0, "flags 0");
    is_u64(rd32(BASE + 12), 2, "nr_modules 2");
    is_u64(rd64(BASE + 16), modlist, "modlist_paddr = base + 56");
    is_u64(rd64(BASE + 24), cmd, "cmdline_paddr = base + 192");
    is_u64(rd64(BASE + 32), 0xfe000, "rsdp_paddr");
    is_u64(rd64(BASE + 40), memmap, "memmap_paddr = base + 120");
    is_u64(rd32(BASE + 48), 3, "memmap_entries 3");
    is_u64(rd32(BASE + 52), 0, "reserved 0");

    is_u64(rd64(modlist + 0), 0x200000, "mod 0 paddr");
    is_u64(rd64(modlist + 8), 0x1234, "mod 0 size");
    is_u64(rd64(modlist + 16), mcmd, "mod 0 cmdline_paddr = base + 224");
    is_u64(rd64(modlist + 24), 0, "mod 0 reserved 0");
    is_u64(rd64(modlist + 32), 0x300000, "mod 1 paddr");
    is_u64(rd64(modlist + 40), 5, "mod 1 size");
    is_u64(rd64(modlist + 48), 0, "mod 1 cmdline_paddr 0 (none)");
    is_u64(rd64(modlist + 56), 0, "mod 1 reserved 0");

    for (int i = 0; i < 3; i++) {
        gpa_t e = memmap + 24 * i;

        ok(rd64(e) == mm[i].addr && rd64(e + 8) == mm[i].size &&
               rd32(e + 16) == mm[i].type && rd32(e + 20) == 0,
           "memmap %d: addr/size/type copied, reserved 0", i);
    }

    is_str((const char *)ram + cmd, cmdline, "kernel cmdline string");
    ok(all_bytes(cmd + sizeof(cmdline), 32 - sizeof(cmdline), 0),
       "cmdline padding zeroed");
    is_str((const char *)ram + mcmd, "initrd", "module 0 cmdline string");
    is_int(ram[mcmd + 7], 0, "module cmdline padding zeroed");
    ok(all_bytes(BASE + total, 64, 0xAA), "nothing written after the block");
    ok(all_bytes(BASE - 64, 64, 0xAA), "nothing written before base");
}

static void test_empty(void)
{
    struct start_info_request req = {.rsdp_paddr = 0};
    uint64_t used = 0;

    memset(ram, 0xAA, RAM_SIZE);
    is_u64(start_info_size(&req), 56, "empty req: 56 bytes");
    is_int(start_info_build(&gm, BASE, 56, &req, &used), 0,
           "empty req: fits in exactly 56");
    is_u64(used, 56, "empty req: used 56");
    is_u64(rd32(BASE + 12), 0, "empty: nr_modules 0");
    is_u64(rd64(BASE + 16), 0, "empty: modlist_paddr 0");
    is_u64(rd64(BASE + 24), 0, "empty: cmdline_paddr 0");
    is_u64(rd64(BASE + 32), 0, "empty: rsdp_paddr 0");
    is_u64(rd64(BASE + 40), 0, "empty: memmap_paddr 0");
    is_u64(rd32(BASE + 48), 0, "empty: memmap_entries 0");
    is_int(ram[BASE + 56], 0xAA, "empty: byte 56 untouched");
    is_u64(start_info_size(NULL), 0, "size(NULL) 0");
}

static void test_alignment(void)
{
    const struct start_info_module mods[3] = {
        {.paddr = 0x1000, .size = 1, .cmdline = "a"},
        {.paddr = 0x2000, .size = 2, .cmdline = "bcdefghij"},
        {.paddr = 0x3000, .size = 3, .cmdline = ""},
    };
    const struct hvm_memmap_table_entry mm = {0, 0x100000, 1, 0};
    struct start_info_request req = {
        .cmdline = "x",
        .modules = mods,
        .nr_modules = 3,
        .memmap = &mm,
        .nr_memmap = 1,
    };
    uint64_t used = 0, p;
    bool aligned = true;
    int rc;

    memset(ram, 0xAA, RAM_SIZE);
    rc = start_info_build(&gm, BASE, RAM_SIZE - BASE, &req, &used);
    is_int(rc, 0, "odd string lengths: build 0");
    /* 56 + 96 + 24 + 8 ("x") + 8 + 16 + 8 */
    is_u64(used, 216, "odd string lengths: used 216");
    aligned = rd64(BASE + 16) % 8 == 0 && rd64(BASE + 24) % 8 == 0 &&
              rd64(BASE + 40) % 8 == 0;
    for (int i = 0; i < 3; i++) {
        p = rd64(BASE + 56 + 32 * i + 16);
        aligned = aligned && p % 8 == 0;
        is_str((const char *)ram + p, mods[i].cmdline,
               "module cmdline reachable through its paddr");
    }
    ok(aligned, "every paddr in the block is 8-byte aligned");
    is_u64(rd64(BASE + 56 + 16), BASE + 184, "mod 0 cmdline at base + 184");
    is_u64(rd64(BASE + 56 + 48), BASE + 192, "mod 1 cmdline at base + 192");
    is_u64(rd64(BASE + 56 + 80), BASE + 208, "mod 2 cmdline at base + 208");
}

static void test_errors(void)
{
    struct start_info_request req = {.cmdline = "console=hvc0"};
    uint64_t need = start_info_size(&req), used = 77;
    struct gmem small = {
        .nr_regions = 1,
        .region = {{.gpa_base = 0, .size = BASE + 40, .host = ram}}};

    is_u64(need, 72, "56 + 16 for a 12-byte cmdline");
    memset(ram, 0xAA, RAM_SIZE);
    is_int(start_info_build(&gm, BASE, need - 1, &req, &used), -ENOSPC,
           "max_len one short: -ENOSPC");
    ok(all_bytes(BASE, need, 0xAA), "-ENOSPC: memory untouched");
    is_u64(used, 77, "-ENOSPC: used untouched");
    is_int(start_info_build(&gm, BASE, 0, &req, &used), -ENOSPC,
           "max_len 0: -ENOSPC");
    is_int(start_info_build(&gm, BASE, need, &req, &used), 0,
           "max_len exactly enough: 0");

    memset(ram, 0xAA, RAM_SIZE);
    is_int(start_info_build(&small, BASE, 0x1000, &req, &used), -EFAULT,
           "block crossing the end of guest memory: -EFAULT");
    ok(all_bytes(BASE, need, 0xAA), "-EFAULT: memory untouched");
    is_int(start_info_build(&gm, RAM_SIZE, 0x1000, &req, &used), -EFAULT,
           "base at the end of guest memory: -EFAULT");
    is_int(start_info_build(&gm, UINT64_MAX - 7, UINT64_MAX, &req, &used),
           -EFAULT, "base + size wraps: -EFAULT");

    is_int(start_info_build(&gm, BASE + 4, 0x1000, &req, &used), -EINVAL,
           "base not 8-byte aligned: -EINVAL");
    is_int(start_info_build(&gm, BASE, 0x1000, NULL, &used), -EINVAL,
           "NULL req: -EINVAL");
    req.nr_modules = 1;
    is_int(start_info_build(&gm, BASE, 0x1000, &req, &used), -EINVAL,
           "nr_modules 1 with NULL modules: -EINVAL");
}

int main(void)
{
    ram = malloc(RAM_SIZE);
    if (!ram)
        return 1;
    gm = (struct gmem){
        .nr_regions = 1,
        .region = {{.gpa_base = 0, .size = RAM_SIZE, .host = ram}}};
    test_abi();
    test_full();
    test_empty();
    test_alignment();
    test_errors();
    free(ram);
    return tap_done();
}
