/*
 * xlcfg_corpus.h — inputs shared by the xlcfg tests (test_xlcfg.c and the
 * differential test against Xen's libxlutil, test_xlcfg_xlu.c): a full
 * config in the style of Xen's examples and a reproducible mutator.
 */
#ifndef XLCFG_CORPUS_H
#define XLCFG_CORPUS_H

#include <stdint.h>
#include <string.h>

/* A config in the style of Xen's tools/examples/xlexample.pvhlinux. */
static const char *const full_cfg =
    "# =====================================================\n"
    "# Example PVH Linux guest configuration\n"
    "# =====================================================\n"
    "\n"
    "type = \"pvh\"\n"
    "name = \"example.pvh-1\"\n"
    "uuid = \"3a0f5c1e-7d2b-4c8e-9f10-a1b2c3d4e5f6\"\n"
    "kernel = \"/boot/vmlinuz\"\n"
    "ramdisk = \"/boot/initrd.gz\"\n"
    "root = \"/dev/xvda1 ro\"\n"
    "extra = \"console=hvc0\"\n"
    "memory = 128\n"
    "maxmem = 256\n"
    "vcpus = 2\n"
    "maxvcpus = 4\n"
    "cpus = \"0-3,^2\"\n"
    "on_poweroff = 'destroy'; on_reboot = 'rename-restart'\n"
    "on_crash = 'preserve'\n"
    "on_watchdog = 'restart'\n"
    "max_grant_frames = 32\n"
    "max_event_channels = 0x100\n"
    "vif = [ 'mac=00:16:3E:74:3d:76,bridge=xenbr1,ip=10.0.0.2,"
    "rate=10Mb/s,mtu=9000', ]\n"
    "disk = [ '/dev/vg/guest-volume,raw,xvda,rw',\n"
    "         'file:/srv/data.img,xvdb,r',\n"
    "         ',,hdc,cdrom' ]\n";

static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
    /* xorshift32: reproducible without touching libc's rand(). */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* mutate: apply 1..8 random edits to @buf (length *@len, room @cap). */
static void mutate(char *buf, size_t *len, size_t cap)
{
    static const char interesting[] = "\"'\\[],;=+#\n\t x0-:^@/\x00\xff";
    unsigned int edits = 1 + rng() % 8, e;
    size_t pos;

    for (e = 0; e < edits; e++) {
        pos = *len ? rng() % *len : 0;
        switch (rng() % 5) {
        case 0: /* replace a byte */
            if (*len)
                buf[pos] = (char)rng();
            break;
        case 1: /* replace with a meaningful byte */
            if (*len)
                buf[pos] = interesting[rng() % (sizeof(interesting) - 1)];
            break;
        case 2: /* insert */
            if (*len + 1 < cap) {
                memmove(buf + pos + 1, buf + pos, *len - pos);
                buf[pos] = interesting[rng() % (sizeof(interesting) - 1)];
                (*len)++;
            }
            break;
        case 3: /* delete a run */
            if (*len) {
                size_t n = 1 + rng() % 8;

                if (n > *len - pos)
                    n = *len - pos;
                memmove(buf + pos, buf + pos + n, *len - pos - n);
                *len -= n;
            }
            break;
        case 4: /* duplicate a run */
            if (*len) {
                size_t n = 1 + rng() % 16;

                if (n > *len - pos)
                    n = *len - pos;
                if (*len + n < cap) {
                    memmove(buf + pos + n, buf + pos, *len - pos);
                    (*len) += n;
                }
            }
            break;
        }
    }
}

#endif /* XLCFG_CORPUS_H */
