/*
 * test_bzimage — toolstack/libxl/xldom_bzimage.c: the vmlinux inside a
 * bzImage (boot protocol 2.08+ payload fields), from bzImages this test
 * builds around a known ELF with gzip (zlib) and xz (liblzma) payloads,
 * the refusals (truncated, old protocol, payload outside the file,
 * unknown compression, corrupt data, a payload that is not ELF), and,
 * when the lab has fetched it, Debian's own vmlinuz against the vmlinux
 * the lab extracted from it.
 */
#include <errno.h>
#include <lzma.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tap.h"
#include "xldom_bzimage.h"

#define SETUP_SECTS 3
#define PM_START    ((SETUP_SECTS + 1) * 512)

static uint8_t elf_img[100000];

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* make_bz — a bzImage with payload at PM_START + 64; returns its size. */
static size_t make_bz(uint8_t *bz, size_t cap, const uint8_t *payload,
                      size_t plen, uint16_t version)
{
    size_t n = PM_START + 64 + plen + 4;

    if (n > cap)
        return 0;
    memset(bz, 0, n);
    bz[0x1f1] = SETUP_SECTS;
    memcpy(bz + 0x202, "HdrS", 4);
    bz[0x206] = (uint8_t)version;
    bz[0x207] = (uint8_t)(version >> 8);
    put32(bz + 0x248, 64);
    put32(bz + 0x24c, (uint32_t)plen);
    memcpy(bz + PM_START + 64, payload, plen);
    put32(bz + PM_START + 64 + plen, (uint32_t)sizeof(elf_img)); /* as Linux */
    return n;
}

static size_t gzip(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    deflateEnd(&z);
    return z.total_out;
}

static size_t xz(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    size_t pos = 0;
    if (lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, len, out, &pos,
                                cap) != LZMA_OK)
        return 0;
    return pos;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *p = NULL;
    long n;

    if (!f)
        return NULL;
    if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET) &&
        (p = malloc((size_t)n)) && fread(p, 1, (size_t)n, f) == (size_t)n)
        *len = (size_t)n;
    else {
        free(p);
        p = NULL;
    }
    fclose(f);
    return p;
}

int main(void)
{
    static uint8_t payload[200000], bz[300000];
    char why[160];
    void *elf = NULL;
    size_t elf_len = 0, plen, n;
    int rc;

    tap_plan(13);
    memcpy(elf_img, "\177ELF\2\1\1", 7);
    for (size_t i = 7; i < sizeof(elf_img); i++)
        elf_img[i] = (uint8_t)(i * 7 + (i >> 9)); /* compressible-ish */

    is_int(xldom_bzimage_unpack(elf_img, sizeof(elf_img), &elf, &elf_len, why,
                                sizeof(why)),
           0, "an ELF file is not a bzImage: used as it is");

    plen = gzip(elf_img, sizeof(elf_img), payload, sizeof(payload));
    n = make_bz(bz, sizeof(bz), payload, plen, 0x20f);
    rc = xldom_bzimage_unpack(bz, n, &elf, &elf_len, why, sizeof(why));
    ok(rc == 1 && elf_len == sizeof(elf_img) &&
           !memcmp(elf, elf_img, sizeof(elf_img)),
       "gzip payload: the ELF back, byte for byte (%d)", rc);
    if (rc == 1)
        free(elf);

    plen = xz(elf_img, sizeof(elf_img), payload, sizeof(payload));
    n = make_bz(bz, sizeof(bz), payload, plen, 0x20f);
    rc = xldom_bzimage_unpack(bz, n, &elf, &elf_len, why, sizeof(why));
    ok(rc == 1 && elf_len == sizeof(elf_img) &&
           !memcmp(elf, elf_img, sizeof(elf_img)),
       "xz payload (trailing size word ignored): the ELF back (%d)", rc);
    if (rc == 1)
        free(elf);

    is_int(xldom_bzimage_unpack(bz, 0x240, &elf, &elf_len, why, sizeof(why)),
           0, "a file cut before the header's end is not a bzImage");
    is_int(xldom_bzimage_unpack(bz, n - plen / 2, &elf, &elf_len, why,
                                sizeof(why)),
           -ENOEXEC, "payload past the end of the file: -ENOEXEC");
    ok(strstr(why, "outside the file") != NULL, "  reason: %s", why);

    n = make_bz(bz, sizeof(bz), payload, plen, 0x207);
    is_int(xldom_bzimage_unpack(bz, n, &elf, &elf_len, why, sizeof(why)),
           -ENOEXEC, "boot protocol 2.07 (no payload fields): -ENOEXEC");

    n = make_bz(bz, sizeof(bz), (const uint8_t *)"BZh91AY&SY", 10, 0x20f);
    is_int(xldom_bzimage_unpack(bz, n, &elf, &elf_len, why, sizeof(why)),
           -ENOEXEC, "bzip2 payload: -ENOEXEC (unknown compression)");

    plen = xz(elf_img, sizeof(elf_img), payload, sizeof(payload));
    payload[plen / 2] ^= 0x55;
    n = make_bz(bz, sizeof(bz), payload, plen, 0x20f);
    is_int(xldom_bzimage_unpack(bz, n, &elf, &elf_len, why, sizeof(why)),
           -ENOEXEC, "corrupt xz payload: -ENOEXEC");

    plen = gzip((const uint8_t *)"not an ELF at all", 17, payload,
                sizeof(payload));
    n = make_bz(bz, sizeof(bz), payload, plen, 0x20f);
    is_int(xldom_bzimage_unpack(bz, n, &elf, &elf_len, why, sizeof(why)),
           -ENOEXEC, "a payload that is not ELF: -ENOEXEC");
    ok(strstr(why, "not an ELF") != NULL, "  reason: %s", why);

    {
        size_t zlen = 0, vlen = 0;
        uint8_t *z = read_file(XEN_ROOT "/build/lab/vmlinuz", &zlen);
        uint8_t *v = read_file(XEN_ROOT "/build/lab/l2/vmlinux", &vlen);

        if (z && v) {
            rc = xldom_bzimage_unpack(z, zlen, &elf, &elf_len, why,
                                      sizeof(why));
            ok(rc == 1 && elf_len == vlen && !memcmp(elf, v, vlen),
               "Debian's vmlinuz: the same vmlinux the lab extracts (%zu "
               "bytes)",
               elf_len);
            is_int(rc == 1, 1, "  unpacked");
            if (rc == 1)
                free(elf);
        } else {
            tap_skip(2, "build/lab/vmlinuz and l2/vmlinux not fetched (the "
                        "lab does: tests/lab/build-lab.sh)");
        }
        free(z);
        free(v);
    }
    return tap_done();
}
