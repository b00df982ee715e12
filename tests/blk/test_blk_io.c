/*
 * test_blk_io — blkback serving the program frontend (a process domain):
 * pattern writes with random sizes and offsets (direct and indirect
 * requests) compared with the file and read back, with persistent grants
 * and with copied grants, a multi-page ring and two queues; flush and
 * barrier (with and without data); discard zeroes; a read-only device;
 * two frontends on two devices at once.
 */
#include <stdint.h>
#include <sys/stat.h>

#include "blk_harness.h"

#define DISK_BYTES (8u << 20)

struct rw_arg {
    uint32_t devid;
    char path[128];  /* what blkback serves */
    char model[128]; /* the file holding the bytes ("" = path) */
    struct bfp_opts opts;
    uint32_t seed;
    unsigned int rounds;
};

static uint32_t rnd(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static uint8_t *read_file(const char *path, size_t bytes)
{
    uint8_t *b = malloc(bytes);
    int fd = open(path, O_RDONLY);

    if (!b || fd < 0 || pread(fd, b, bytes, 0) != (ssize_t)bytes) {
        free(b);
        b = NULL;
    }
    if (fd >= 0)
        close(fd);
    return b;
}

static struct bfp *attach(struct xs_handle *xs, uint32_t devid,
                          const char *path, bool rw,
                          const struct bfp_opts *opts)
{
    struct bfp *f = bfp_open(xs, devid, opts);

    c_ok(f != NULL, "process domain opened (grants, event channel)");
    if (!f)
        return NULL;
    c_ok(bfp_toolstack_add(xs, (uint32_t)bfp_get_domid(f), devid, path, rw) ==
             0,
         "backend and frontend directories written");
    if (!c_ok(bfp_connect(f, 15000) == 0, "handshake reaches Connected")) {
        bfp_close(f);
        return NULL;
    }
    return f;
}

/* 11 checks. */
static void rw_scenario(struct xs_handle *xs, void *argp)
{
    struct rw_arg *a = argp;
    const char *file = a->model[0] ? a->model : a->path;
    uint32_t x = a->seed;
    uint8_t *model = read_file(file, DISK_BYTES), *now;
    struct bfp_io io[8];
    uint8_t *bufs[8];
    bool all_ok = true, rd_ok = true, match = true, indirect = false,
         large = false;
    uint64_t stripe = DISK_BYTES / 512 / 8;
    struct bfp_stats st;
    struct bfp_opts o = a->opts;
    struct bfp *f;

    if (o.persistent && !o.pool_pages)
        o.pool_pages = 200; /* room for the largest request */
    f = attach(xs, a->devid, a->path, true, &o);
    if (!f || !model)
        return;
    c_ok(bfp_sectors(f) == DISK_BYTES / 512 && bfp_info(f) == 0,
         "sectors %llu, info %u (read-write)",
         (unsigned long long)bfp_sectors(f), bfp_info(f));
    for (int i = 0; i < 8; i++)
        bufs[i] = malloc(256 * 4096);
    for (unsigned int r = 0; r < a->rounds; r++) {
        /* One write per stripe: no two in flight overlap. */
        for (int i = 0; i < 8; i++) {
            /* Mostly small; some indirect (> 88 sectors); some large
             * (> 512 sectors, up to 750 KiB: 188 pages and the indirect
             * one, in a 200-page pool). */
            uint32_t cls = rnd(&x) % 8,
                     n = 1 + rnd(&x) % (cls < 4 ? 64 : cls < 7 ? 512 : 1500);
            uint64_t s = i * stripe + rnd(&x) % (stripe - n);
            for (uint32_t k = 0; k < n * 512; k++)
                bufs[i][k] = (uint8_t)rnd(&x);
            io[i] = (struct bfp_io){
                .op = BLKIF_OP_WRITE, .sector = s, .nsects = n, .buf = bufs[i]};
            memcpy(model + s * 512, bufs[i], n * 512);
            indirect |= n > 88;
            large |= n > 512;
        }
        if (bfp_run(f, io, 8, 8, 15000))
            all_ok = false;
        for (int i = 0; i < 8; i++)
            all_ok &= io[i].status == BLKIF_RSP_OKAY;
    }
    c_ok(all_ok && indirect && large,
         "%u random writes answered OKAY (some indirect, some above 256 KiB)",
         a->rounds * 8);
    now = read_file(file, DISK_BYTES);
    c_ok(now && memcmp(now, model, DISK_BYTES) == 0,
         "the file holds exactly the bytes written");
    free(now);
    for (unsigned int r = 0; r < a->rounds; r++) {
        for (int i = 0; i < 8; i++) {
            uint32_t n = 1 + rnd(&x) % (i % 4 ? 512 : 1500);
            uint64_t s = rnd(&x) % (DISK_BYTES / 512 - n);
            io[i] = (struct bfp_io){
                .op = BLKIF_OP_READ, .sector = s, .nsects = n, .buf = bufs[i]};
        }
        if (bfp_run(f, io, 8, 8, 15000))
            rd_ok = false;
        for (int i = 0; i < 8; i++) {
            rd_ok &= io[i].status == BLKIF_RSP_OKAY;
            match &= memcmp(bufs[i], model + io[i].sector * 512,
                            io[i].nsects * 512) == 0;
        }
    }
    c_ok(rd_ok, "%u random reads answered OKAY", a->rounds * 8);
    c_ok(match, "what was read is what the file holds");
    bfp_get_stats(f, &st);
    c_ok(st.bad_rsp_op == 0,
         "every response names the operation done (%llu did not): READ or "
         "WRITE for an indirect one, as Linux's blkfront requires",
         (unsigned long long)st.bad_rsp_op);
    c_ok(bfp_feature(f, "feature-persistent") &&
             bfp_feature(f, "feature-flush-cache") &&
             bfp_max_indirect(f) == 256,
         "feature-persistent, feature-flush-cache, 256 indirect segments");
    c_ok(bfp_disconnect(f, 15000) == 0, "Closing -> Closed");
    bfp_close(f);
    for (int i = 0; i < 8; i++)
        free(bufs[i]);
    free(model);
}

/*
 * 5 checks, on blkback's counters (the stats line it logs at the
 * disconnect).  Pages whose grants blkback first mapped one at a time,
 * out of order, then one request over all of them in grant-ref order:
 * with their refs consecutive it is one iovec, as blkback places
 * persistent grants by ref (blk_dev.c pgnt_place).  Then a whole ring of
 * requests behind one notification: io_uring gets them in submits of
 * --submit-batch (4) SQEs.
 */
static void merge_scenario(struct xs_handle *xs, void *argp)
{
    static const char *const keys[] = {"requests=", "iovecs=", "submits="};
    struct rw_arg *a = argp;
    struct bfp *f = attach(xs, a->devid, a->path, true, &a->opts);
    uint32_t refs[BLKIF_MAX_SEGMENTS_PER_REQUEST];
    const unsigned int n = BLKIF_MAX_SEGMENTS_PER_REQUEST;
    unsigned long long v[3];
    unsigned int ring = 0, got = 0;
    blkif_request_t r;
    blkif_response_t rsp;
    char needle[48];
    bool ok = true, seq = true;

    if (!f)
        return;
    if (!bfp_raw_share(f, n, refs))
        ok = false;
    for (unsigned int i = 1; i < n; i++)
        seq &= refs[i] == refs[0] + i;
    /* n requests of one page, in the order 0, 4, 8, 1, 5, 9, 2, ... */
    for (unsigned int i = 0; ok && i <= n; i++) {
        unsigned int k = i * 4 % n;
        memset(&r, 0, sizeof(r));
        r.operation = BLKIF_OP_READ;
        r.id = i;
        if (i < n) {
            r.nr_segments = 1;
            r.sector_number = 8 * k;
            r.seg[0] = (struct blkif_request_segment){refs[k], 0, 7};
        } else { /* then one over all n pages, in ref order */
            r.nr_segments = (uint8_t)n;
            for (unsigned int j = 0; j < n; j++)
                r.seg[j] = (struct blkif_request_segment){refs[j], 0, 7};
        }
        bfp_raw_push(f, &r, true);
        ok = bfp_raw_response(f, &rsp, 15000) == 0 &&
             rsp.status == BLKIF_RSP_OKAY;
    }
    /* A full ring of one-page reads, published together, one event. */
    ring = bfp_raw_ring_size(f);
    for (unsigned int i = 0; ok && i < ring; i++) {
        memset(&r, 0, sizeof(r));
        r.operation = BLKIF_OP_READ;
        r.id = 200 + i;
        r.nr_segments = 1;
        r.sector_number = 8 * (i % n);
        r.seg[0] = (struct blkif_request_segment){refs[i % n], 0, 7};
        bfp_raw_push(f, &r, false);
    }
    if (ok)
        bfp_raw_notify(f);
    while (ok && got < ring && bfp_raw_response(f, &rsp, 15000) == 0 &&
           rsp.status == BLKIF_RSP_OKAY)
        got++;
    bfp_disconnect(f, 15000);
    snprintf(needle, sizeof(needle), "/%u requests=", a->devid);
    blk_log_wait(needle);
    blk_be_stats(a->devid, false, keys, 3, v);
    c_ok(ok && seq && v[1] - ring == n + 1,
         "%u pages first mapped one by one out of order, then read in one "
         "request: %llu iovecs for %u requests, want %u each (refs in a "
         "row: %s)",
         n, v[1] - ring, n + 1, n + 1, seq ? "yes" : "no");
    c_ok(ok && got == ring && ring % 4 == 0 && v[0] == n + 1 + ring &&
             v[2] == n + 1 + ring / 4,
         "a ring of %u requests behind one event: %llu io_uring submits for "
         "them, want %u (--submit-batch 4; one each before: %u)",
         ring, v[2] - (n + 1), ring / 4, n + 1);
    bfp_close(f);
}

/* 12 checks. */
static void flush_scenario(struct xs_handle *xs, void *argp)
{
    struct rw_arg *a = argp;
    static uint8_t buf[16 * 4096], zero[16 * 4096];
    struct bfp *f = attach(xs, a->devid, a->path, true, &a->opts);
    struct bfp_io io[3];
    uint8_t *now;

    if (!f)
        return;
    memset(buf, 0x5a, sizeof(buf));
    io[0] = (struct bfp_io){
        .op = BLKIF_OP_WRITE, .sector = 64, .nsects = 128, .buf = buf};
    io[1] = (struct bfp_io){.op = BLKIF_OP_FLUSH_DISKCACHE};
    bfp_run(f, io, 2, 1, 15000);
    c_ok(io[0].status == 0 && io[1].status == 0, "write then flush: OKAY");
    now = read_file(a->path, DISK_BYTES);
    c_ok(now && memcmp(now + 64 * 512, buf, 128 * 512) == 0,
         "after the flush the file holds the write");
    free(now);
    memset(buf, 0xa5, sizeof(buf));
    io[0] = (struct bfp_io){.op = BLKIF_OP_WRITE_BARRIER};
    io[1] = (struct bfp_io){
        .op = BLKIF_OP_WRITE, .sector = 1024, .nsects = 8, .buf = buf};
    io[2] = (struct bfp_io){.op = BLKIF_OP_FLUSH_DISKCACHE};
    bfp_run(f, io, 3, 3, 15000);
    c_ok(io[0].status == 0 && io[1].status == 0 && io[2].status == 0,
         "barrier, write, flush in one batch: OKAY");
    c_ok(bfp_feature(f, "feature-discard"), "feature-discard advertised");
    io[0] = (struct bfp_io){.op = BLKIF_OP_DISCARD, .sector = 64, .nsects = 64};
    bfp_run(f, io, 1, 1, 15000);
    c_ok(io[0].status == 0, "aligned discard: OKAY");
    io[0] = (struct bfp_io){
        .op = BLKIF_OP_READ, .sector = 64, .nsects = 128, .buf = buf};
    bfp_run(f, io, 1, 1, 15000);
    c_ok(io[0].status == 0 && memcmp(buf, zero, 64 * 512) == 0 &&
             buf[64 * 512] == 0x5a,
         "the discarded range reads as zeroes, the rest is intact");
    now = read_file(a->path, DISK_BYTES);
    c_ok(now && memcmp(now + 64 * 512, zero, 64 * 512) == 0,
         "the file has zeroes there (punched hole)");
    free(now);
    io[0] = (struct bfp_io){.op = BLKIF_OP_DISCARD, .sector = 3, .nsects = 8};
    io[1] = (struct bfp_io){.op = BLKIF_OP_DISCARD, .sector = 8, .nsects = 5};
    io[2] = (struct bfp_io){
        .op = BLKIF_OP_DISCARD, .sector = DISK_BYTES / 512 - 8, .nsects = 16};
    bfp_run(f, io, 3, 3, 15000);
    c_ok(io[0].status == BLKIF_RSP_ERROR && io[1].status == BLKIF_RSP_ERROR,
         "discards not aligned to discard-granularity: ERROR");
    c_ok(io[2].status == BLKIF_RSP_ERROR, "a discard past the end: ERROR");
    bfp_disconnect(f, 15000);
    bfp_close(f);
}

/* 8 checks. */
static void ro_scenario(struct xs_handle *xs, void *argp)
{
    struct rw_arg *a = argp;
    static uint8_t buf[8 * 4096];
    uint8_t *before = read_file(a->path, DISK_BYTES), *now;
    struct bfp *f = attach(xs, a->devid, a->path, false, &a->opts);
    struct bfp_io io[4];

    if (!f || !before)
        return;
    c_ok(bfp_info(f) & VDISK_READONLY, "info has VDISK_READONLY");
    io[0] = (struct bfp_io){
        .op = BLKIF_OP_READ, .sector = 8, .nsects = 64, .buf = buf};
    bfp_run(f, io, 1, 1, 15000);
    c_ok(io[0].status == 0 && memcmp(buf, before + 8 * 512, 64 * 512) == 0,
         "read: OKAY, the file's bytes");
    io[0] = (struct bfp_io){
        .op = BLKIF_OP_WRITE, .sector = 8, .nsects = 8, .buf = buf};
    io[1] = (struct bfp_io){.op = BLKIF_OP_DISCARD, .sector = 0, .nsects = 8};
    io[2] = (struct bfp_io){.op = BLKIF_OP_WRITE_BARRIER};
    io[3] = (struct bfp_io){.op = BLKIF_OP_FLUSH_DISKCACHE};
    bfp_run(f, io, 4, 4, 15000);
    c_ok(io[0].status == BLKIF_RSP_ERROR && io[2].status == BLKIF_RSP_ERROR,
         "write and barrier: ERROR");
    c_ok(io[1].status == BLKIF_RSP_EOPNOTSUPP && !bfp_feature(f, "feature-"
                                                                 "discard"),
         "discard: EOPNOTSUPP (no feature-discard)");
    now = read_file(a->path, DISK_BYTES);
    c_ok(now && memcmp(now, before, DISK_BYTES) == 0, "the file is unchanged");
    free(now);
    bfp_disconnect(f, 15000);
    bfp_close(f);
    free(before);
}

static struct rw_arg loop_arg;

int main(void)
{
    const char *why = blk_env_start();
    struct rw_arg a[6];
    struct blk_child c1, c2;

    if (why)
        tap_skip_all(why);
    tap_plan(11 * 5 + 12 + 8 + 5 + 6);
    for (int i = 0; i < 6; i++) {
        a[i] = (struct rw_arg){.devid = 51712 + 16 * (uint32_t)i,
                               .seed = 1234 + (uint32_t)i,
                               .rounds = 12};
        snprintf(a[i].path, sizeof(a[i].path), "%s/disk%d.img", env.dir, i);
        blk_make_file(a[i].path, DISK_BYTES, a[i].seed);
    }
    a[0].opts = (struct bfp_opts){.persistent = true};
    c1 = blk_child_start(rw_scenario, &a[0]);
    blk_child_finish(c1, 11, "persistent grants, one-page ring");
    a[1].opts =
        (struct bfp_opts){.persistent = false, .order = 2, .nr_queues = 2};
    c1 = blk_child_start(rw_scenario, &a[1]);
    blk_child_finish(c1, 11, "copied grants, 4-page rings, 2 queues");

    a[2].opts = (struct bfp_opts){.persistent = true};
    c1 = blk_child_start(flush_scenario, &a[2]);
    blk_child_finish(c1, 12, "flush/barrier/discard");
    a[3].opts = (struct bfp_opts){.persistent = false};
    c1 = blk_child_start(ro_scenario, &a[3]);
    blk_child_finish(c1, 8, "read-only device");
    a[3].devid += 1; /* the same file again, a new device */
    a[3].opts = (struct bfp_opts){.persistent = true};
    c1 = blk_child_start(merge_scenario, &a[3]);
    blk_child_finish(c1, 5, "blkback's counters");

    /* Two domains, two devices, at the same time. */
    a[4].opts = (struct bfp_opts){.persistent = true};
    a[5].opts = (struct bfp_opts){.persistent = false};
    c1 = blk_child_start(rw_scenario, &a[4]);
    c2 = blk_child_start(rw_scenario, &a[5]);
    blk_child_finish(c1, 11, "two at once, first");
    blk_child_finish(c2, 11, "two at once, second");

    /* A block device: a loop device over a seventh file, if we can. */
    {
        char cmd[256], dev[64] = "";
        FILE *p;
        snprintf(loop_arg.path, sizeof(loop_arg.path), "%s/disk6.img", env.dir);
        blk_make_file(loop_arg.path, DISK_BYTES, 77);
        snprintf(cmd, sizeof(cmd), "losetup -f --show %s 2>/dev/null",
                 loop_arg.path);
        p = popen(cmd, "r");
        if (p && fgets(dev, sizeof(dev), p))
            dev[strcspn(dev, "\n")] = 0;
        if (p)
            pclose(p);
        if (strncmp(dev, "/dev/loop", 9) == 0) {
            loop_arg.devid = 51712 + 16 * 7;
            loop_arg.seed = 77;
            loop_arg.rounds = 12;
            loop_arg.opts = (struct bfp_opts){.persistent = true};
            memcpy(loop_arg.model, loop_arg.path, sizeof(loop_arg.model));
            snprintf(loop_arg.path, sizeof(loop_arg.path), "%s", dev);
            c1 = blk_child_start(rw_scenario, &loop_arg);
            blk_child_finish(c1, 11, "block device (loop)");
            snprintf(cmd, sizeof(cmd), "losetup -d %s", dev);
            if (system(cmd))
                tap_diag("losetup -d %s failed", dev);
        } else {
            tap_skip(11, "no loop device (losetup) to serve a block device");
        }
    }
    ok(kill(env.bb, 0) == 0, "blkback still runs");
    ok(blk_log_has("requests="), "blkback logged per-device counters");
    ok(blk_pid_file() == env.bb, "--pid-file holds blkback's pid");
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd),
                 "%s/backends/blk/blkback --bogus "
                 ">/dev/null 2>&1",
                 getenv("XEN_ROOT") ? getenv("XEN_ROOT") : "../..");
        is_int(WEXITSTATUS(system(cmd)), 2, "an unknown option: exit 2");
        snprintf(cmd, sizeof(cmd),
                 "%s/backends/blk/blkback --help "
                 "| grep -q no-direct",
                 getenv("XEN_ROOT") ? getenv("XEN_ROOT") : "../..");
        is_int(WEXITSTATUS(system(cmd)), 0, "--help lists the options");
        snprintf(cmd, sizeof(cmd),
                 "%s/backends/blk/blkback --submit-batch 4x 2>&1 "
                 "| grep -q 'submit-batch 4x: want a number'",
                 getenv("XEN_ROOT") ? getenv("XEN_ROOT") : "../..");
        is_int(WEXITSTATUS(system(cmd)), 0,
               "--submit-batch 4x: refused, saying what it wants");
    }
    blk_env_stop();
    return tap_done();
}
