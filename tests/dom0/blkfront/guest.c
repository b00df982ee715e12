/*
 * The guest of the blkfront test: frontends/kernel's blkfront
 * (xenkern/blkfront.h) against blkback, set up by test_blkfront.c.
 *
 * Command line: devid=<virtual-device> seed=<workload seed>
 * restart=<0|1> bad=<0|1> (bad_backend() below instead).  The guest opens the
 * vbd with two queues (when offered), runs pattern.h's writes and discards,
 * reading every range back and keeping a shadow of the whole device, reads the
 * device back in one batch, flushes, measures a small workload (diagnostics "#
 * bench ..."), optionally waits while dom0 restarts blkback (ready/restart) and
 * checks that I/O goes on after the reconnection, then closes the device. Nodes
 * under data/ tell dom0 what it should see.
 */
#include <stdint.h>
#include <xen/errno.h>
#include <xen/io/blkif.h>

#include "xenkern/blkfront.h"
#include "xenkern/boot.h"
#include "xenkern/console.h"
#include "xenkern/evtchn.h"
#include "xenkern/gnttab.h"
#include "xenkern/lib.h"
#include "xenkern/pvclock.h"
#include "xenkern/sched.h"
#include "xenkern/test.h"
#include "xenkern/xenbus.h"

/* pattern.h's word copies as one string instruction. */
#define BF_COPY_WORDS(dst, src, n)                                             \
    do {                                                                       \
        void *bf_d = (dst);                                                    \
        const void *bf_s = (src);                                              \
        unsigned long bf_n = (n);                                              \
        asm volatile("rep movsq"                                               \
                     : "+D"(bf_d), "+S"(bf_s), "+c"(bf_n)                      \
                     :                                                         \
                     : "memory");                                              \
    } while (0)
#include "pattern.h"

#define SEC      1000000000ULL
#define NR_TESTS 20

static uint8_t shadow[BF_SECTORS * BLK_SECTOR_SIZE]
    __attribute__((aligned(4096)));
static uint8_t buf[BF_SECTORS * BLK_SECTOR_SIZE] __attribute__((aligned(4096)));
static struct bf_op ops[BF_NR_OPS];

/*
 * Compare n bytes (whole sectors) with one string instruction, eight
 * bytes per iteration: kvm_pvm emulates each iteration.
 */
static int same(const void *a, const void *b, size_t n)
{
    const void *p = a, *q = b;
    size_t c = n;

    if (n == 0)
        return 1;
    c = n / 8; /* whole sectors: 8 bytes per emulated iteration */
    asm volatile("repe cmpsq" : "+S"(p), "+D"(q), "+c"(c) : : "memory", "cc");
    return ((const uint64_t *)p)[-1] == ((const uint64_t *)q)[-1];
}

/* The first byte where buf and the shadow differ from sector on. */
static void show_diff(uint64_t sector, uint32_t nsec)
{
    const uint8_t *a = buf, *b = shadow + sector * BLK_SECTOR_SIZE;

    for (size_t i = 0; i < (size_t)nsec * BLK_SECTOR_SIZE; i++)
        if (a[i] != b[i]) {
            diag("first difference at sector %llu byte %u: %02x, want %02x",
                 (unsigned long long)(sector + i / BLK_SECTOR_SIZE),
                 (unsigned int)(i % BLK_SECTOR_SIZE), a[i], b[i]);
            return;
        }
}

/* Read nsec sectors at sector into buf and compare with the shadow. */
static int check_range(struct blk_dev *dev, uint64_t sector, uint32_t nsec)
{
    int rc = blk_read(dev, sector, buf, nsec);

    if (rc) {
        diag("read %llu+%u: %d", (unsigned long long)sector, nsec, rc);
        return 0;
    }
    if (!same(buf, shadow + sector * BLK_SECTOR_SIZE,
              (size_t)nsec * BLK_SECTOR_SIZE)) {
        show_diff(sector, nsec);
        return 0;
    }
    return 1;
}

/* The pattern workload: each write and discard, read back. */
static void workload(struct blk_dev *dev, uint64_t seed, bool discard)
{
    unsigned int bad_w = 0, bad_d = 0, nw = 0, nd = 0;

    bf_ops(seed, ops);
    for (unsigned int k = 0; k < BF_NR_OPS; k++) {
        struct bf_op *op = &ops[k];
        uint8_t *sh = shadow + (size_t)op->sector * BLK_SECTOR_SIZE;
        size_t bytes = (size_t)op->nsec * BLK_SECTOR_SIZE;
        int rc;

        if (op->kind == BF_DISCARD) {
            if (!discard)
                continue;
            nd++;
            rc = blk_discard(dev, op->sector, op->nsec);
            memset(sh, 0, bytes);
            if (rc || !check_range(dev, op->sector, op->nsec)) {
                diag("discard %u: %u+%u rc %d", k, op->sector, op->nsec, rc);
                bad_d++;
            }
            continue;
        }
        nw++;
        bf_fill(seed, k, op, (uint64_t *)sh);
        rc = blk_write(dev, op->sector, sh, op->nsec);
        if (rc || !check_range(dev, op->sector, op->nsec)) {
            diag("write %u: %u+%u rc %d", k, op->sector, op->nsec, rc);
            bad_w++;
        }
    }
    is_int(bad_w, 0,
           "%u pattern writes (1 to 320 sectors, odd offsets) "
           "read back equal",
           nw);
    if (discard)
        is_int(bad_d, 0, "%u discards read back as zeroes", nd);
    else
        skip("the backend offers no feature-discard");
}

/* Wait (20 s at most) until dom0 has written node (relative to home). */
static void wait_node(const char *node)
{
    for (int i = 0; i < 200; i++) {
        char v[8];

        if (xenbus_read(XBT_NIL, node, v, sizeof(v)) > 0)
            return;
        sched_sleep_until(time_now_ns() + SEC / 10);
    }
}

/* One test point: the whole device read in one call equals the shadow. */
static void whole_device(struct blk_dev *dev, const char *when)
{
    ok(check_range(dev, 0, BF_SECTORS),
       "the whole device (%u sectors) "
       "reads back as written %s",
       BF_SECTORS, when);
}

static uint64_t mbps(uint64_t bytes, uint64_t ns)
{
    return ns ? bytes * 1000 / ns : 0; /* bytes/ns * 1000 = MB/s */
}

/*
 * A small workload for the benchmark report: 1 MiB written and read in
 * 128 KiB requests, 4 KiB random reads and writes at queue depth 1 and 32.
 */
/*
 * rounds batches of qd random 4 KiB reads or writes (writes put back the
 * shadow's bytes, so the image keeps the workload); prints the IOPS and
 * returns the number of failed batches.
 */
static unsigned int rand_4k(struct blk_dev *dev, enum blk_op op,
                            unsigned int qd, unsigned int rounds, uint64_t *x)
{
    static struct blk_req reqs[32];
    unsigned int fails = 0;
    uint64_t t0 = time_now_ns(), ns;

    for (unsigned int r = 0; r < rounds && !fails; r++) {
        for (unsigned int i = 0; i < qd && i < 32; i++) {
            uint64_t sector = (bf_next(x) % (BF_SECTORS / 8)) * 8;

            reqs[i] = (struct blk_req){
                .op = op,
                .sector = sector,
                .nsectors = 8,
                .buf = op == BLK_WRITE ? shadow + sector * BLK_SECTOR_SIZE
                                       : buf + i * 4096};
        }
        fails += blk_batch(dev, reqs, qd) != 0;
    }
    ns = time_now_ns() - t0;
    diag("bench: 4 KiB random %s QD%u: %llu IOPS",
         op == BLK_WRITE ? "write" : "read", qd,
         (unsigned long long)(ns ? (uint64_t)qd * rounds * SEC / ns : 0));
    return fails;
}

static void bench(struct blk_dev *dev, uint64_t seed)
{
    uint64_t x = seed | 1, t0, ns;
    unsigned int fails = 0;
    struct blk_stats a, b;

    blk_get_stats(dev, &a);
    t0 = time_now_ns();
    for (unsigned int i = 0; i < 4 && !fails; i++)
        fails += blk_write(dev, 1024, shadow + 1024 * 512, 2048) != 0;
    ns = time_now_ns() - t0;
    diag("bench: seq write 1 MiB x4 in 128 KiB requests: %llu MB/s",
         (unsigned long long)mbps(4 << 20, ns));
    t0 = time_now_ns();
    for (unsigned int i = 0; i < 4 && !fails; i++)
        fails += blk_read(dev, 1024, buf, 2048) != 0;
    ns = time_now_ns() - t0;
    diag("bench: seq read 1 MiB x4 in 128 KiB requests: %llu MB/s",
         (unsigned long long)mbps(4 << 20, ns));
    fails += rand_4k(dev, BLK_READ, 1, 64, &x);
    fails += rand_4k(dev, BLK_READ, 32, 8, &x);
    fails += rand_4k(dev, BLK_WRITE, 1, 64, &x);
    fails += rand_4k(dev, BLK_WRITE, 32, 8, &x);
    blk_get_stats(dev, &b);
    diag("bench: %llu requests, %llu notifications, %llu events "
         "(the guest kernel runs emulated: ring 0 on kvm_pvm, all of it "
         "in the lab's QEMU TCG)",
         (unsigned long long)(b.requests - a.requests),
         (unsigned long long)(b.notify - a.notify),
         (unsigned long long)(b.events - a.events));
    is_int(fails, 0, "the benchmark workload ran without errors");
    ok(b.notify - a.notify < b.requests - a.requests,
       "fewer notifications (%llu) than requests (%llu): one per batch",
       (unsigned long long)(b.notify - a.notify),
       (unsigned long long)(b.requests - a.requests));
}

/*
 * role=bad: test_blkfront.c itself is the backend, offering none of the
 * optional features and answering requests at sectors BAD_ERROR,
 * BAD_STATUS and BAD_ID with BLKIF_RSP_ERROR, a status outside blkif.h,
 * and an id that was never sent; on a second device (devid2), sector
 * BAD_JUMP makes it push rsp_prod far past what was asked.
 */
#define BAD_ERROR  40
#define BAD_STATUS 41
#define BAD_ID     42
#define BAD_JUMP   43
#define BAD_TESTS  18

static void fill_bytes(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i += 8)
        *(uint64_t *)(p + i) = bf_word(seed, 0, i / 8, 0);
}

static void bad_backend(unsigned int devid, unsigned int devid2)
{
    const struct blk_info *in;
    struct blk_stats st;
    struct blk_dev *dev, *dev2;
    unsigned int free0;
    int rc;

    tap_plan(BAD_TESTS);
    diag("time: start at %llu ms",
         (unsigned long long)(time_now_ns() / 1000000));
    rc = blk_open(devid, 0, &dev);
    diag("time: open at %llu ms",
         (unsigned long long)(time_now_ns() / 1000000));
    is_int(rc, 0, "blk_open(%u) against a backend without features", devid);
    if (rc)
        bail_out("no device");
    in = blk_get_info(dev);
    ok(in->nr_queues == 1 && in->max_segs == BLKIF_MAX_SEGMENTS_PER_REQUEST &&
           !in->persistent && !in->flush && !in->barrier && !in->discard,
       "one ring, 11 segments, no persistent grants, flush or discard");

    free0 = gnttab_free_count();
    fill_bytes(shadow, 16 * 512, 1);
    rc = blk_write(dev, 0, shadow, 16);
    ok(rc == 0 && blk_read(dev, 0, buf, 16) == 0 && same(buf, shadow, 16 * 512),
       "16 sectors written and read back (rc %d)", rc);
    blk_get_stats(dev, &st);
    is_int(gnttab_free_count(), free0,
           "without feature-persistent every data grant was ended");

    fill_bytes(shadow, 96 * 512, 2);
    rc = blk_write(dev, 0, shadow, 96);
    ok(rc == 0 && blk_read(dev, 0, buf, 96) == 0 && same(buf, shadow, 96 * 512),
       "96 sectors (12 pages) written and read back (rc %d)", rc);
    blk_get_stats(dev, &st);
    is_int((long long)st.indirect, 0,
           "no indirect request without the feature");
    is_int(blk_flush(dev), -XEN_EOPNOTSUPP, "flush refused: no feature");
    is_int(blk_discard(dev, 0, 8), -XEN_EOPNOTSUPP,
           "discard refused: no feature");
    is_int(blk_read(dev, BAD_ERROR, buf, 1), -XEN_EIO,
           "BLKIF_RSP_ERROR fails the read with -EIO");
    rc = blk_read(dev, BAD_STATUS, buf, 1);
    blk_get_stats(dev, &st);
    ok(rc == -XEN_EIO && st.bad_status == 1,
       "a status outside blkif.h fails the read (rc %d) and is counted", rc);
    is_int(blk_read(dev, 0, buf, 8), 0, "the device still works");

    /* A second device at once; its backend breaks the ring. */
    rc = blk_open(devid2, 0, &dev2);
    is_int(rc, 0, "blk_open(%u): a second device", devid2);
    if (rc)
        bail_out("no second device");
    fill_bytes(shadow, 24 * 512, 3);
    rc = blk_write(dev2, 8, shadow, 24);
    ok(rc == 0 && blk_read(dev2, 8, buf, 24) == 0 &&
           same(buf, shadow, 24 * 512) && blk_read(dev, 0, buf, 8) == 0,
       "24 sectors through the second device; the first still answers");
    rc = blk_read(dev2, BAD_JUMP, buf, 1);
    ok(rc == -XEN_EIO && blk_read(dev2, 0, buf, 1) == -XEN_EIO,
       "rsp_prod pushed past the requests breaks the device (rc %d)", rc);
    is_int(blk_read(dev, 0, buf, 8), 0,
           "the first device goes on after the second broke");
    is_int(blk_close(dev2), 0, "blk_close of the broken second device");
    rc = blk_read(dev, BAD_ID, buf, 1);
    ok(rc == -XEN_EIO && blk_read(dev, 0, buf, 8) == -XEN_EIO,
       "an unknown response id breaks the device (rc %d); later calls fail",
       rc);
    diag("time: close at %llu ms",
         (unsigned long long)(time_now_ns() / 1000000));
    is_int(blk_close(dev), 0, "blk_close after the backend unmapped");
    diag("time: closed at %llu ms",
         (unsigned long long)(time_now_ns() / 1000000));
}

void test_main(void)
{
    unsigned int devid = (unsigned int)cmdline_get_u64("devid", 51712);
    uint64_t seed = cmdline_get_u64("seed", 1);
    bool restart = cmdline_get_u64("restart", 0) != 0;
    const struct blk_info *in;
    struct blk_stats st;
    struct blk_dev *dev;
    int rc;

    rc = xenbus_init();
    if (rc == 0)
        rc = gnttab_init();
    if (rc)
        bail_out("xenbus_init/gnttab_init: %d", rc);
    if (cmdline_get_u64("bad", 0)) {
        bad_backend(devid, (unsigned int)cmdline_get_u64("devid2", 0));
        return;
    }
    tap_plan(NR_TESTS);
    rc = blk_open(devid, 2, &dev);
    is_int(rc, 0, "blk_open(%u): the handshake reached Connected", devid);
    if (rc)
        bail_out("no device");
    in = blk_get_info(dev);
    diag("vbd %u: %llu sectors of %u, info 0x%x, queues %u, indirect %u, "
         "persistent %d, flush %d, barrier %d, discard %d (granularity %u)",
         devid, (unsigned long long)in->sectors, in->sector_size, in->info,
         in->nr_queues, in->max_indirect, in->persistent, in->flush,
         in->barrier, in->discard, in->discard_granularity);
    is_int((long long)in->sectors, BF_SECTORS, "sectors as the image file");
    is_int(in->sector_size, 512, "sector-size 512");
    ok(!in->readonly, "the device is writable");
    xenbus_printf(XBT_NIL, "data", "queues", "%u", in->nr_queues);

    diag("time: connected at %llu ms",
         (unsigned long long)(time_now_ns() / 1000000));
    workload(dev, seed, in->discard);
    diag("time: workload done at %llu ms",
         (unsigned long long)(time_now_ns() / 1000000));
    whole_device(dev, "in one call");
    diag("time: whole device at %llu ms",
         (unsigned long long)(time_now_ns() / 1000000));

    blk_get_stats(dev, &st);
    if (in->max_indirect > BLKIF_MAX_SEGMENTS_PER_REQUEST)
        ok(st.indirect > 0 && in->max_segs > BLKIF_MAX_SEGMENTS_PER_REQUEST,
           "requests above 11 segments went indirect (%llu of %llu, up to "
           "%u segments)",
           (unsigned long long)st.indirect, (unsigned long long)st.requests,
           in->max_segs);
    else
        skip("the backend offers no feature-max-indirect-segments");
    if (in->flush || in->barrier)
        is_int(blk_flush(dev), 0, "flush acknowledged");
    else
        is_int(blk_flush(dev), -XEN_EOPNOTSUPP,
               "flush refused without the feature");

    /* Requests the frontend refuses before the ring. */
    is_int(blk_read(dev, BF_SECTORS - 1, buf, 2), -XEN_EINVAL,
           "a read past the end is refused");
    is_int(blk_read(dev, BF_SECTORS, buf, 0), 0,
           "a read of 0 sectors at the end is a no-op");
    ok(blk_get_info(dev)->nr_queues >= 1, "queues in use: %u",
       blk_get_info(dev)->nr_queues);

    bench(dev, seed);
    diag("time: bench done at %llu ms",
         (unsigned long long)(time_now_ns() / 1000000));
    blk_get_stats(dev, &st);
    if (in->persistent)
        ok(st.grants <= in->nr_queues * BLKFRONT_POOL_PAGES &&
               st.grants < st.requests,
           "persistent grants: %llu data grants (at most %u) for %llu "
           "requests",
           (unsigned long long)st.grants, in->nr_queues * BLKFRONT_POOL_PAGES,
           (unsigned long long)st.requests);
    else
        skip("the backend offers no feature-persistent");
    xenbus_printf(XBT_NIL, "data", "written", "1");

    if (restart) {
        uint64_t before = st.reconnects;

        /* dom0 kills and restarts blkback now; the next call follows. */
        xenbus_printf(XBT_NIL, "ready", "restart", "1");
        wait_node("ready/restarted");
        rc = blk_write(dev, 0, shadow, 64);
        blk_get_stats(dev, &st);
        ok(rc == 0 && st.reconnects > before,
           "I/O after blkback restarted: rc %d, %llu reconnection(s)", rc,
           (unsigned long long)(st.reconnects - before));
        whole_device(dev, "after the reconnection");
    } else {
        skip("blkback is not restarted in this run");
        skip("blkback is not restarted in this run");
    }
    if (restart) {
        /* dom0 detaches the vbd now, as xl block-detach does. */
        xenbus_printf(XBT_NIL, "ready", "detach", "1");
        wait_node("ready/detached");
        is_int(blk_read(dev, 0, buf, 8), -XEN_ENODEV,
               "after a detach (online 0, backend Closing) I/O fails: "
               "no device");
        is_int(blk_flush(dev), -XEN_EIO, "and later calls fail too");
    } else {
        skip("the vbd is not detached in this run");
        skip("the vbd is not detached in this run");
    }
    is_int(blk_close(dev), 0, "blk_close: every grant ended");
    xenbus_printf(XBT_NIL, "ready", "done", "1");
}
