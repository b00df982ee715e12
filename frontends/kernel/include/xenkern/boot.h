/*
 * boot.h — the PVH start info (<xen/arch-x86/hvm/start_info.h>,
 * Xen docs/misc/pvh.pandoc): command line, memory map, modules.
 */
#ifndef XENKERN_BOOT_H
#define XENKERN_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include <xen/arch-x86/hvm/start_info.h>

/* The start info %ebx pointed at on entry. */
extern const struct hvm_start_info *boot_start_info;

/* boot_cmdline — the command line ("" when none). */
const char *boot_cmdline(void);

/* boot_memmap — the memmap entries (version >= 1) and their count. */
const struct hvm_memmap_table_entry *boot_memmap(unsigned int *nr);

/* boot_module — module i (NULL when i >= nr_modules). */
const struct hvm_modlist_entry *boot_module(unsigned int i);

/*
 * cmdline_get — value of `key=value` on the command line into buf
 * (NUL-terminated, truncated to len - 1).  A bare `key` yields "".
 * Returns 0, or -1 when the key is absent.
 */
int cmdline_get(const char *key, char *buf, size_t len);

/* cmdline_get_u64 — numeric value of key (0x prefix for hex), or dflt. */
uint64_t cmdline_get_u64(const char *key, uint64_t dflt);

#endif
