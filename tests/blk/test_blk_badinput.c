/*
 * test_blk_badinput — a malicious frontend (<xen/io/blkif.h> requests
 * written raw on the ring): bad segment counts and sector ranges, bad
 * grant refs, unknown operations, bad indirect requests, an indirect page
 * that changes while blkback reads it, duplicate ids, an event storm, and
 * ring indexes that jump past the ring or go backwards.  Each request gets
 * BLKIF_RSP_ERROR or EOPNOTSUPP with its id; the index attacks get the
 * device set Closing and logged, and the frontend can reconnect.  All the
 * while a second domain does I/O on its own device, undisturbed, and
 * blkback keeps running.  Done with persistent and with copied grants.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <stdint.h>

#include "blk_harness.h"

#define DISK_BYTES (4u << 20)

struct arg {
    uint32_t devid;
    char path[128];
    bool persistent;
    volatile int *stop; /* the quiet neighbour runs until this is set */
};

/* Push req (id set here) and wait for its answer; its status or 99. */
static int one(struct bfp *f, blkif_request_t *req, uint64_t id)
{
    blkif_response_t rsp;

    req->id = id;
    bfp_raw_push(f, req, true);
    if (bfp_raw_response(f, &rsp, 15000))
        return 99;
    return rsp.id == id ? rsp.status : 98;
}

struct flipper {
    volatile struct blkif_request_segment *seg;
    volatile int stop;
};

static void *flip(void *p)
{
    struct flipper *fl = p;

    while (!fl->stop) {
        fl->seg->first_sect = 7; /* invalid: after last_sect */
        fl->seg->last_sect = 0;
        fl->seg->first_sect = 0;
        fl->seg->last_sect = 7;
    }
    return NULL;
}

/* 26 checks. */
static void evil(struct xs_handle *xs, void *argp)
{
    struct arg *a = argp;
    struct bfp_opts o = {.persistent = a->persistent};
    struct bfp *f = bfp_open(xs, a->devid, &o);
    uint32_t refs[24], ind_ref;
    blkif_request_t r;
    blkif_request_indirect_t *ind = (void *)&r;
    struct blkif_request_segment *iseg;
    blkif_response_t rsp[2];
    uint8_t *pages;
    uint64_t sectors;
    int okays = 0, errs = 0, other = 0;
    struct flipper fl = {0};
    pthread_t th;

    if (!c_ok(f &&
                  bfp_toolstack_add(xs, (uint32_t)bfp_get_domid(f), a->devid,
                                    a->path, true) == 0 &&
                  bfp_connect(f, 15000) == 0,
              "the frontend connects"))
        return;
    sectors = bfp_sectors(f);
    pages = bfp_raw_share(f, 20, refs);
    iseg = bfp_raw_share(f, 1, &ind_ref);
    if (!pages || !iseg)
        return;

#define RW(op_, nseg_, sect_)                                                  \
    do {                                                                       \
        memset(&r, 0, sizeof(r));                                              \
        r.operation = (op_);                                                   \
        r.nr_segments = (nseg_);                                               \
        r.sector_number = (sect_);                                             \
        for (int i_ = 0; i_ < BLKIF_MAX_SEGMENTS_PER_REQUEST; i_++)            \
            r.seg[i_] = (struct blkif_request_segment){refs[i_], 0, 7};        \
    } while (0)

    RW(BLKIF_OP_READ, 1, 0);
    c_ok(one(f, &r, 1) == BLKIF_RSP_OKAY, "a good read: OKAY");
    RW(BLKIF_OP_READ, 0, 0);
    c_ok(one(f, &r, 2) == BLKIF_RSP_ERROR, "read with 0 segments: ERROR");
    RW(BLKIF_OP_WRITE, 12, 0);
    c_ok(one(f, &r, 3) == BLKIF_RSP_ERROR, "12 segments: ERROR");
    RW(BLKIF_OP_READ, 1, 0);
    r.seg[0].first_sect = 3;
    r.seg[0].last_sect = 2;
    c_ok(one(f, &r, 4) == BLKIF_RSP_ERROR, "first_sect > last_sect: ERROR");
    RW(BLKIF_OP_READ, 1, 0);
    r.seg[0].last_sect = 8;
    c_ok(one(f, &r, 5) == BLKIF_RSP_ERROR, "last_sect beyond the page: ERROR");
    RW(BLKIF_OP_READ, 2, sectors - 12);
    c_ok(one(f, &r, 6) == BLKIF_RSP_ERROR, "sectors past the end: ERROR");
    RW(BLKIF_OP_WRITE, 1, UINT64_MAX - 3);
    c_ok(one(f, &r, 7) == BLKIF_RSP_ERROR, "sector_number near 2^64: ERROR");
    RW(BLKIF_OP_READ, 2, 0);
    r.seg[1].gref = 500; /* never granted */
    c_ok(one(f, &r, 8) == BLKIF_RSP_ERROR, "a grant ref never granted: ERROR");
    RW(BLKIF_OP_RESERVED_1, 1, 0);
    c_ok(one(f, &r, 9) == BLKIF_RSP_EOPNOTSUPP, "operation 4: EOPNOTSUPP");
    RW(200, 1, 0);
    c_ok(one(f, &r, 10) == BLKIF_RSP_EOPNOTSUPP, "operation 200: EOPNOTSUPP");

    /* Indirect requests. */
    for (int i = 0; i < 20; i++)
        iseg[i] = (struct blkif_request_segment){refs[i], 0, 7};
#define IND(op_, nseg_, gref_)                                                 \
    do {                                                                       \
        memset(&r, 0, sizeof(r));                                              \
        ind->operation = BLKIF_OP_INDIRECT;                                    \
        ind->indirect_op = (op_);                                              \
        ind->nr_segments = (nseg_);                                            \
        ind->indirect_grefs[0] = (gref_);                                      \
    } while (0)
    IND(BLKIF_OP_WRITE, 20, ind_ref);
    c_ok(one(f, &r, 11) == BLKIF_RSP_OKAY, "indirect write of 20 segments");
    IND(BLKIF_OP_READ, 0, ind_ref);
    c_ok(one(f, &r, 12) == BLKIF_RSP_ERROR, "indirect, 0 segments: ERROR");
    IND(BLKIF_OP_READ, 300, ind_ref);
    c_ok(one(f, &r, 13) == BLKIF_RSP_ERROR,
         "indirect, 300 segments (limit 256): ERROR");
    IND(BLKIF_OP_FLUSH_DISKCACHE, 1, ind_ref);
    c_ok(one(f, &r, 14) == BLKIF_RSP_ERROR, "indirect_op flush: ERROR");
    IND(BLKIF_OP_READ, 4, 501);
    c_ok(one(f, &r, 15) == BLKIF_RSP_ERROR, "indirect page not granted: ERROR");
    iseg[3].first_sect = 6;
    iseg[3].last_sect = 1;
    IND(BLKIF_OP_READ, 4, ind_ref);
    c_ok(one(f, &r, 16) == BLKIF_RSP_ERROR,
         "a bad segment inside the indirect page: ERROR");
    iseg[3] = (struct blkif_request_segment){refs[3], 0, 7};

    /* The indirect page changes under blkback's feet. */
    fl.seg = &iseg[5];
    pthread_create(&th, NULL, flip, &fl);
    for (int i = 0; i < 200; i++) {
        int st;
        IND(BLKIF_OP_READ, 8, ind_ref);
        st = one(f, &r, 1000 + (uint64_t)i);
        okays += st == BLKIF_RSP_OKAY;
        errs += st == BLKIF_RSP_ERROR;
        other += st != BLKIF_RSP_OKAY && st != BLKIF_RSP_ERROR;
    }
    fl.stop = 1;
    pthread_join(th, NULL);
    iseg[5] = (struct blkif_request_segment){refs[5], 0, 7};
    c_ok(other == 0 && okays + errs == 200,
         "indirect page flipped while read: 200 answers (%d OKAY, %d ERROR)",
         okays, errs);

    /* Two requests with one id in one batch: the second is refused. */
    RW(BLKIF_OP_READ, 8, 0);
    r.id = 77;
    bfp_raw_push(f, &r, false);
    bfp_raw_push(f, &r, true);
    c_ok(bfp_raw_response(f, &rsp[0], 15000) == 0 &&
             bfp_raw_response(f, &rsp[1], 15000) == 0 && rsp[0].id == 77 &&
             rsp[1].id == 77 &&
             ((rsp[0].status == 0 && rsp[1].status == BLKIF_RSP_ERROR) ||
              (rsp[1].status == 0 && rsp[0].status == BLKIF_RSP_ERROR)),
         "duplicate id in flight: one OKAY, one ERROR");

    for (int i = 0; i < 5000; i++)
        bfp_raw_notify(f);
    RW(BLKIF_OP_READ, 1, 0);
    c_ok(one(f, &r, 20) == BLKIF_RSP_OKAY,
         "5000 empty notifications, then a read: OKAY");

    /* 2000 random requests: each answered with its id, nothing else. */
    {
        uint32_t x = 2024 + (uint32_t)a->persistent;
        int weird = 0;
#define RND() (x ^= x << 13, x ^= x >> 17, x ^= x << 5, x)
        for (int i = 0; i < 2000; i++) {
            static const uint8_t ops[] = {0, 1, 2, 3, 5, 6, 6, 4, 9};
            uint8_t *raw = (uint8_t *)&r;
            int st;
            for (size_t k = 0; k < sizeof(r); k++)
                raw[k] = (uint8_t)RND();
            r.operation = ops[RND() % sizeof(ops)];
            if (r.operation == BLKIF_OP_INDIRECT) {
                ind->indirect_op = (uint8_t)(RND() % 4);
                ind->nr_segments = (uint16_t)(RND() % 300);
                ind->sector_number = RND() % (sectors + 64);
                ind->indirect_grefs[0] = RND() % 8 ? ind_ref : RND();
                for (int k = 0; k < 20; k++)
                    iseg[k] = (struct blkif_request_segment){
                        RND() % 16 ? refs[RND() % 20] : RND(),
                        (uint8_t)(RND() % 9), (uint8_t)(RND() % 9)};
            } else {
                r.nr_segments = (uint8_t)(RND() % 14);
                r.sector_number = RND() % 4 ? RND() % (sectors + 64) : RND();
                for (int k = 0; k < BLKIF_MAX_SEGMENTS_PER_REQUEST; k++) {
                    r.seg[k].gref = RND() % 16 ? refs[RND() % 20] : RND();
                    r.seg[k].first_sect = (uint8_t)(RND() % 9);
                    r.seg[k].last_sect = (uint8_t)(RND() % 9);
                }
            }
            st = one(f, &r, 5000 + (uint64_t)i);
            weird += st != BLKIF_RSP_OKAY && st != BLKIF_RSP_ERROR &&
                     st != BLKIF_RSP_EOPNOTSUPP;
        }
#undef RND
        for (int k = 0; k < 20; k++)
            iseg[k] = (struct blkif_request_segment){refs[k], 0, 7};
        c_ok(weird == 0, "2000 random requests: each answered with its id "
                         "(OKAY, ERROR or EOPNOTSUPP)");
    }

    /* req_prod jumps past the ring. */
    bfp_raw_set_req_prod(f, bfp_raw_req_prod(f) + bfp_raw_ring_size(f) + 7);
    c_ok(bfp_wait_backend(f, XenbusStateClosing, 15000) == 0,
         "req_prod past the ring: the backend disconnects (Closing)");
    c_ok(bfp_reconnect(f, 15000) == 0, "the frontend reconnects");
    RW(BLKIF_OP_READ, 1, 0);
    c_ok(one(f, &r, 21) == BLKIF_RSP_OKAY, "and is served again");
    /* req_prod goes backwards. */
    RW(BLKIF_OP_READ, 1, 0);
    one(f, &r, 22);
    bfp_raw_set_req_prod(f, bfp_raw_req_prod(f) - 2);
    c_ok(bfp_wait_backend(f, XenbusStateClosing, 15000) == 0,
         "req_prod backwards: the backend disconnects (Closing)");
    c_ok(bfp_reconnect(f, 15000) == 0 && one(f, &r, 23) == BLKIF_RSP_OKAY,
         "reconnected and served again");
    bfp_disconnect(f, 15000);
    bfp_close(f);
}

/* 2 checks: a neighbour doing I/O the whole time. */
static void quiet(struct xs_handle *xs, void *argp)
{
    struct arg *a = argp;
    struct bfp_opts o = {.persistent = true};
    struct bfp *f = bfp_open(xs, a->devid, &o);
    static uint8_t buf[8][8 * 4096];
    struct bfp_io io[8];
    int rounds = 0;
    bool good = true;

    if (!c_ok(f &&
                  bfp_toolstack_add(xs, (uint32_t)bfp_get_domid(f), a->devid,
                                    a->path, true) == 0 &&
                  bfp_connect(f, 15000) == 0,
              "the neighbour connects"))
        return;
    while (!*a->stop && rounds < 100000) {
        for (int i = 0; i < 8; i++)
            io[i] =
                (struct bfp_io){.op = i & 1 ? BLKIF_OP_READ : BLKIF_OP_WRITE,
                                .sector = (uint64_t)i * 64,
                                .nsects = 64,
                                .buf = buf[i]};
        good &= bfp_run(f, io, 8, 8, 15000) == 0;
        for (int i = 0; i < 8; i++)
            good &= io[i].status == BLKIF_RSP_OKAY;
        rounds++;
        usleep(2000);
    }
    c_ok(good && rounds > 0, "%d rounds of I/O, every answer OKAY", rounds);
    bfp_disconnect(f, 15000);
    bfp_close(f);
}

/* Publish key=value (and the rest of a one-page ring), go Initialised:
 * the backend must refuse (Closing); then reset to Closed/Initialising and
 * wait for InitWait again.  0 when it refused. */
static int bad_keys(struct xs_handle *xs, struct bfp *f, const char *fe,
                    const char *key, const char *val, uint32_t ref)
{
    char p[200], v[32];
    int rc;

#define W(k_, v_)                                                              \
    do {                                                                       \
        snprintf(p, sizeof(p), "%s/%s", fe, (k_));                             \
        xs_write(xs, XBT_NULL, p, (v_), strlen(v_));                           \
    } while (0)
    snprintf(v, sizeof(v), "%u", ref);
    W("ring-ref", v);
    W("event-channel", "1");
    W("protocol", "x86_64-abi");
    W(key, val);
    W("state", "3");
    rc = bfp_wait_backend(f, XenbusStateClosing, 15000);
    snprintf(p, sizeof(p), "%s/%s", fe, key);
    xs_rm(xs, XBT_NULL, p);
    W("protocol", "x86_64-abi");
    W("state", "6");
    bfp_wait_backend(f, XenbusStateClosed, 15000);
    W("state", "1");
    if (bfp_wait_backend(f, XenbusStateInitWait, 15000))
        rc = -1;
    return rc;
#undef W
}

/* 6 checks: the frontend's xenstore keys are input too. */
static void evil_keys(struct xs_handle *xs, void *argp)
{
    struct arg *a = argp;
    struct bfp_opts o = {.persistent = true};
    struct bfp *f = bfp_open(xs, a->devid, &o);
    char fe[96];
    uint32_t ref = 0;

    if (!f ||
        bfp_toolstack_add(xs, (uint32_t)bfp_get_domid(f), a->devid, a->path,
                          true) ||
        bfp_wait_backend(f, XenbusStateInitWait, 15000) ||
        !bfp_raw_share(f, 1, &ref))
        return;
    snprintf(fe, sizeof(fe), "/local/domain/%d/device/vbd/%u", bfp_get_domid(f),
             a->devid);
    c_ok(bad_keys(xs, f, fe, "ring-ref", "4000", ref) == 0,
         "ring-ref not granted: Closing, then InitWait again");
    c_ok(bad_keys(xs, f, fe, "protocol", "x86_32-abi", ref) == 0,
         "protocol x86_32-abi: Closing");
    c_ok(bad_keys(xs, f, fe, "multi-queue-num-queues", "9", ref) == 0,
         "9 queues (limit 4): Closing");
    c_ok(bad_keys(xs, f, fe, "ring-page-order", "12", ref) == 0,
         "ring-page-order 12 (limit 4): Closing");
    c_ok(bad_keys(xs, f, fe, "event-channel", "99999", ref) == 0,
         "an event channel that is not there: Closing");
    c_ok(bfp_connect(f, 15000) == 0, "then a proper handshake connects");
    bfp_disconnect(f, 15000);
    bfp_close(f);
}

int main(void)
{
    const char *why = blk_env_start();
    volatile int *stop;
    struct arg a[3];
    struct blk_child ev, nb;
    struct xs_handle *xs;

    if (why)
        tap_skip_all(why);
    tap_plan(26 * 2 + 6 + 2 + 5);
    stop = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                -1, 0);
    for (int i = 0; i < 3; i++) {
        a[i] = (struct arg){.devid = 51712 + 16 * (uint32_t)i,
                            .persistent = i == 0,
                            .stop = stop};
        snprintf(a[i].path, sizeof(a[i].path), "%s/disk%d.img", env.dir, i);
        blk_make_file(a[i].path, DISK_BYTES, 99 + (uint32_t)i);
    }
    nb = blk_child_start(quiet, &a[2]);
    ev = blk_child_start(evil, &a[0]);
    blk_child_finish(ev, 26, "persistent grants");
    ev = blk_child_start(evil, &a[1]);
    blk_child_finish(ev, 26, "copied grants");
    ev = blk_child_start(evil_keys, &a[1]);
    blk_child_finish(ev, 6, "xenstore keys");
    *stop = 1;
    blk_child_finish(nb, 2, "neighbour");
    /* Bad toolstack input: a missing image, a frontend that is not the
     * backend directory's domain, directory names that are not numbers. */
    xs = xs_open(0);
    if (xs) {
        bfp_toolstack_add(xs, 150, 777, "/nonexistent/disk.img", true);
        xs_write(xs, XBT_NULL, "/local/domain/0/backend/vbd/151/778/frontend",
                 "/local/domain/152/device/vbd/778", 32);
        xs_write(xs, XBT_NULL,
                 "/local/domain/0/backend/vbd/151/778/frontend-id", "152", 3);
        xs_write(xs, XBT_NULL, "/local/domain/0/backend/vbd/abc/-1/params",
                 "/etc/passwd", 11);
    }
    ok(blk_log_wait("vbd/150/777: cannot open"),
       "a missing image: logged, the device left alone");
    ok(blk_log_wait("vbd/151/778: frontend/frontend-id not domain"),
       "frontend-id of another domain: logged, ignored");
    if (xs)
        xs_close(xs);
    ok(kill(env.bb, 0) == 0, "blkback still runs");
    ok(blk_log_has("out of range"), "the index attacks are logged");
    ok(blk_log_has("duplicate request id"), "the duplicate id is logged");
    blk_env_stop();
    return tap_done();
}
