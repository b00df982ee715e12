/* xldom_bzimage.c — a bzImage's vmlinux, decompressed (xldom_bzimage.h). */
#include <errno.h>
#include <lzma.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "xldom_bzimage.h"

#define OFF_SETUP_SECTS 0x1f1
#define OFF_MAGIC       0x202
#define OFF_VERSION     0x206
#define OFF_PAYLOAD     0x248
#define OFF_PAYLOAD_LEN 0x24c
#define HDR_END         0x250

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/*
 * grow — make room for more output: double *cap (at most the bound).
 * Returns 0, -EFBIG or -ENOMEM.
 */
static int grow(uint8_t **out, size_t *cap)
{
    size_t ncap = *cap * 2;
    uint8_t *n;

    if (*cap >= XLDOM_BZIMAGE_MAX_ELF)
        return -EFBIG;
    if (ncap > XLDOM_BZIMAGE_MAX_ELF)
        ncap = XLDOM_BZIMAGE_MAX_ELF;
    n = realloc(*out, ncap);
    if (!n)
        return -ENOMEM;
    *out = n;
    *cap = ncap;
    return 0;
}

/* xz, with liblzma; the stream may be followed by Linux's size word. */
static int unxz(const uint8_t *in, size_t len, uint8_t **out, size_t *olen)
{
    lzma_stream s = LZMA_STREAM_INIT;
    size_t cap = len * 4;
    int rc = 0;

    *out = malloc(cap);
    if (!*out)
        return -ENOMEM;
    if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK)
        return -ENOMEM;
    s.next_in = in;
    s.avail_in = len;
    for (;;) {
        lzma_ret r;

        s.next_out = *out + s.total_out;
        s.avail_out = cap - s.total_out;
        r = lzma_code(&s, LZMA_FINISH);
        if (r == LZMA_STREAM_END)
            break;
        if (r == LZMA_OK && s.avail_out == 0) {
            rc = grow(out, &cap);
            if (rc)
                break;
            continue;
        }
        rc = r == LZMA_MEM_ERROR ? -ENOMEM : -ENOEXEC;
        break;
    }
    *olen = s.total_out;
    lzma_end(&s);
    return rc;
}

/* gzip, with zlib. */
static int ungzip(const uint8_t *in, size_t len, uint8_t **out, size_t *olen)
{
    z_stream z;
    size_t cap = len * 4;
    int rc = 0;

    memset(&z, 0, sizeof(z));
    *out = malloc(cap);
    if (!*out)
        return -ENOMEM;
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return -ENOMEM;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    for (;;) {
        int r;

        z.next_out = *out + z.total_out;
        z.avail_out = (uInt)(cap - z.total_out);
        r = inflate(&z, Z_FINISH);
        if (r == Z_STREAM_END)
            break;
        if ((r == Z_OK || r == Z_BUF_ERROR) && z.avail_out == 0) {
            rc = grow(out, &cap);
            if (rc)
                break;
            continue;
        }
        rc = r == Z_MEM_ERROR ? -ENOMEM : -ENOEXEC;
        break;
    }
    *olen = z.total_out;
    inflateEnd(&z);
    return rc;
}

int xldom_bzimage_unpack(const void *img, size_t len, void **elf,
                         size_t *elf_len, char *why, size_t whylen)
{
    static const uint8_t xz_magic[6] = {0xfd, '7', 'z', 'X', 'Z', 0};
    const uint8_t *b = img;
    uint8_t *out = NULL;
    size_t sects, start, plen, olen = 0;
    int rc;

    if (len < HDR_END || memcmp(b + OFF_MAGIC, "HdrS", 4))
        return 0;
    if ((b[OFF_VERSION] | b[OFF_VERSION + 1] << 8) < 0x208) {
        snprintf(why, whylen, "bzImage boot protocol older than 2.08 "
                              "(no payload fields)");
        return -ENOEXEC;
    }
    sects = b[OFF_SETUP_SECTS] ? b[OFF_SETUP_SECTS] : 4;
    start = (sects + 1) * 512 + get32(b + OFF_PAYLOAD);
    plen = get32(b + OFF_PAYLOAD_LEN);
    if (start >= len || plen > len - start || plen < 8) {
        snprintf(why, whylen, "bzImage payload [%zu, +%zu) outside the file "
                              "(%zu bytes)", start, plen, len);
        return -ENOEXEC;
    }
    if (!memcmp(b + start, xz_magic, sizeof(xz_magic))) {
        rc = unxz(b + start, plen, &out, &olen);
    } else if (b[start] == 0x1f && b[start + 1] == 0x8b) {
        rc = ungzip(b + start, plen, &out, &olen);
    } else {
        snprintf(why, whylen, "bzImage payload is neither xz nor gzip "
                              "(starts %02x %02x)", b[start], b[start + 1]);
        return -ENOEXEC;
    }
    if (rc == 0 && (olen < 4 || memcmp(out, "\177ELF", 4)))
        rc = -ENOEXEC;
    if (rc) {
        snprintf(why, whylen, "bzImage payload: %s",
                 rc == -EFBIG   ? "decompresses to more than 256 MiB"
                 : rc == -ENOMEM ? "out of memory"
                                 : "corrupt, or not an ELF kernel");
        free(out);
        return rc;
    }
    *elf = out;
    *elf_len = olen;
    return 1;
}
