/*
 * blkdemo.c — demo image for blkfront (xenkern/blkfront.h): opens the
 * vbd given as vbd=<virtual-device> (default 51712, xvda), prints what
 * the backend offers, reads the first sector and prints its first bytes;
 * with write=1 it writes a stamped line to the device's last sector,
 * flushes and reads it back.  Exits with a crash when anything fails.
 */
#include <stdint.h>
#include <xen/errno.h>
#include <xen/sched.h>

#include "xenkern/blkfront.h"
#include "xenkern/boot.h"
#include "xenkern/console.h"
#include "xenkern/evtchn.h"
#include "xenkern/gnttab.h"
#include "xenkern/kernel.h"
#include "xenkern/lib.h"
#include "xenkern/pvclock.h"
#include "xenkern/xenbus.h"

static uint8_t sector[BLK_SECTOR_SIZE] __attribute__((aligned(64)));
static uint8_t check[BLK_SECTOR_SIZE] __attribute__((aligned(64)));

/* Print the first n bytes of p as hex and as text. */
static void dump(const uint8_t *p, unsigned int n)
{
    char text[33];

    for (unsigned int i = 0; i < n && i < 32; i++) {
        printf("%02x ", p[i]);
        text[i] = p[i] >= 32 && p[i] < 127 ? (char)p[i] : '.';
        text[i + 1] = 0;
    }
    printf(" |%s|\n", text);
}

void kernel_main(void)
{
    unsigned int vbd = (unsigned int)cmdline_get_u64("vbd", 51712);
    const struct blk_info *in;
    struct blk_dev *dev;
    int rc;

    rc = xenbus_init();
    if (!rc)
        rc = gnttab_init();
    if (!rc)
        rc = blk_open(vbd, 0, &dev);
    if (rc)
        panic("blkdemo: vbd %u: %d", vbd, rc);
    in = blk_get_info(dev);
    printf("vbd %u: %llu sectors (%llu KiB), %s, %u queue(s), %u segments "
           "per request, persistent grants %s, flush %s, discard %s\n",
           vbd, (unsigned long long)in->sectors,
           (unsigned long long)in->sectors / 2,
           in->readonly ? "read-only" : "read-write", in->nr_queues,
           in->max_segs, in->persistent ? "yes" : "no",
           in->flush || in->barrier ? "yes" : "no", in->discard ? "yes" : "no");
    rc = blk_read(dev, 0, sector, 1);
    if (rc)
        panic("blkdemo: read sector 0: %d", rc);
    printf("sector 0: ");
    dump(sector, 32);
    if (cmdline_get_u64("write", 0) && !in->readonly) {
        uint64_t last = in->sectors - 1;

        memset(sector, 0, sizeof(sector));
        snprintf((char *)sector, sizeof(sector),
                 "xenkern blkdemo was here at %llu ns\n",
                 (unsigned long long)time_now_ns());
        rc = blk_write(dev, last, sector, 1);
        if (!rc)
            rc = blk_flush(dev);
        if (!rc || rc == -XEN_EOPNOTSUPP)
            rc = blk_read(dev, last, check, 1);
        if (rc || memcmp(sector, check, sizeof(check)))
            panic("blkdemo: write/read-back of sector %llu: %d",
                  (unsigned long long)last, rc);
        printf("sector %llu written, flushed and read back: ",
               (unsigned long long)last);
        dump(check, 32);
    }
    rc = blk_close(dev);
    printf("closed (%d)\n", rc);
}
