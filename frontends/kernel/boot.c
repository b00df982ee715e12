/* boot.c — start info accessors and command-line options (boot.h). */
#include "xenkern/boot.h"
#include "xenkern/lib.h"

/* head.S compares the magic with this literal. */
_Static_assert(XEN_HVM_START_MAGIC_VALUE == 0x336ec578, "head.S magic");

const struct hvm_start_info *boot_start_info;

const char *boot_cmdline(void)
{
    if (!boot_start_info || !boot_start_info->cmdline_paddr)
        return "";
    return (const char *)(unsigned long)boot_start_info->cmdline_paddr;
}

const struct hvm_memmap_table_entry *boot_memmap(unsigned int *nr)
{
    if (!boot_start_info || boot_start_info->version < 1 ||
        !boot_start_info->memmap_paddr) {
        *nr = 0;
        return NULL;
    }
    *nr = boot_start_info->memmap_entries;
    return (const struct hvm_memmap_table_entry *)(unsigned long)
        boot_start_info->memmap_paddr;
}

const struct hvm_modlist_entry *boot_module(unsigned int i)
{
    const struct hvm_modlist_entry *m;

    if (!boot_start_info || i >= boot_start_info->nr_modules)
        return NULL;
    m = (const void *)(unsigned long)boot_start_info->modlist_paddr;
    return &m[i];
}

int cmdline_get(const char *key, char *buf, size_t len)
{
    const char *p = boot_cmdline();
    size_t klen = strlen(key);

    while (*p) {
        const char *w = p;
        size_t wlen = 0;

        while (*p == ' ')
            p++;
        w = p;
        while (p[wlen] && p[wlen] != ' ')
            wlen++;
        p += wlen;
        if (wlen >= klen && !strncmp(w, key, klen) &&
            (wlen == klen || w[klen] == '=')) {
            size_t vlen = wlen > klen ? wlen - klen - 1 : 0;
            if (len) {
                if (vlen > len - 1)
                    vlen = len - 1;
                memcpy(buf, w + klen + (wlen > klen), vlen);
                buf[vlen] = '\0';
            }
            return 0;
        }
    }
    return -1;
}

uint64_t cmdline_get_u64(const char *key, uint64_t dflt)
{
    char buf[32];
    const char *end;
    uint64_t v;

    if (cmdline_get(key, buf, sizeof(buf)) || !buf[0])
        return dflt;
    v = strtoull(buf, &end, 0);
    return *end ? dflt : v;
}
