/*
 * test_blk_lifecycle — devices come and go while blkback runs: hot attach
 * and detach (the toolstack sets the backend Closing and online 0, then
 * removes the directories, as xl block-detach does) while idle and while
 * the frontend is busy; then durability: after a write and a flush are
 * answered, `kill -9` of blkback loses nothing (the bytes on disk are
 * checked), and a restarted blkback makes the frontend reconnect
 * (Closed -> InitWait -> Connected) and resubmit what was in flight.
 */
#include <pthread.h>
#include <stdint.h>

#include "blk_harness.h"

#define DISK_BYTES (8u << 20)
#define W1_BYTES   (1u << 20)
#define SENTINEL   55

struct arg {
    uint32_t devid;
    char path[128];
    int to_parent[2], to_child[2];
};

static void fill(uint8_t *b, size_t n, uint32_t seed)
{
    uint32_t x = seed | 1;

    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = (uint8_t)x;
    }
}

/* The toolstack's detach: backend online 0 and state Closing. */
static void detach(struct xs_handle *xs, uint32_t fe, uint32_t devid)
{
    char p[160];

    snprintf(p, sizeof(p), "/local/domain/0/backend/vbd/%u/%u/online", fe,
             devid);
    xs_write(xs, XBT_NULL, p, "0", 1);
    snprintf(p, sizeof(p), "/local/domain/0/backend/vbd/%u/%u/state", fe,
             devid);
    xs_write(xs, XBT_NULL, p, "5", 1);
}

/*
 * Watch the backend state node of fe's devid for up to 5 s: the state it
 * settles at (Closed ends the watch), or -1 when it was ever InitWait,
 * Initialised or Connected in between.
 */
static int be_state_watch(struct xs_handle *xs, uint32_t fe, uint32_t devid)
{
    char p[160], *v;
    unsigned int len;
    int st = -1;

    snprintf(p, sizeof(p), "/local/domain/0/backend/vbd/%u/%u/state", fe,
             devid);
    for (int i = 0; i < 2500 && st != XenbusStateClosed; i++) {
        v = xs_read(xs, XBT_NULL, p, &len);
        st = v ? atoi(v) : -1;
        free(v);
        if (st >= XenbusStateInitWait && st <= XenbusStateConnected)
            return -1;
        usleep(2000);
    }
    return st;
}

static bool released(int fe, uint32_t devid)
{
    char needle[64];

    snprintf(needle, sizeof(needle), "vbd/%d/%u: released", fe, devid);
    for (int i = 0; i < 1000; i++) {
        if (blk_log_has(needle))
            return true;
        usleep(10000);
    }
    return false;
}

struct busy {
    struct bfp *f;
    struct bfp_io io[256];
    int rc;
};

static void *busy_run(void *p)
{
    struct busy *b = p;

    b->rc = bfp_run(b->f, b->io, 256, 32, 2000);
    return NULL;
}

/* 14 checks. */
static void hotplug(struct xs_handle *xs, void *argp)
{
    struct arg *a = argp;
    struct bfp_opts o = {.persistent = true};
    struct bfp *f = bfp_open(xs, a->devid, &o);
    static uint8_t buf[64 * 4096];
    static struct busy b;
    struct bfp_io io;
    pthread_t th;
    int dom, okays = 0, bad = 0;

    if (!f)
        return;
    dom = bfp_get_domid(f);
    c_ok(bfp_toolstack_add(xs, (uint32_t)dom, a->devid, a->path, true) == 0 &&
             bfp_connect(f, 15000) == 0,
         "attached and connected");
    io = (struct bfp_io){.op = BLKIF_OP_WRITE, .nsects = 8, .buf = buf};
    c_ok(bfp_run(f, &io, 1, 1, 15000) == 0 && io.status == 0, "a write: OKAY");
    detach(xs, (uint32_t)dom, a->devid);
    c_ok(bfp_wait_backend(f, XenbusStateClosing, 15000) == 0,
         "idle detach: the backend is Closing");
    c_ok(bfp_disconnect(f, 15000) == 0, "the frontend closes, backend Closed");
    bfp_toolstack_remove(xs, (uint32_t)dom, a->devid);
    c_ok(released(dom, a->devid), "blkback released the device");

    /* Attach again, same device number. */
    c_ok(bfp_toolstack_add(xs, (uint32_t)dom, a->devid, a->path, true) == 0 &&
             bfp_connect(f, 15000) == 0,
         "attached again and connected");
    io = (struct bfp_io){.op = BLKIF_OP_READ, .nsects = 8, .buf = buf};
    c_ok(bfp_run(f, &io, 1, 1, 15000) == 0 && io.status == 0, "a read: OKAY");

    /* Busy detach: 256 writes at depth 32 while the toolstack detaches. */
    b.f = f;
    for (int i = 0; i < 256; i++)
        b.io[i] = (struct bfp_io){.op = BLKIF_OP_WRITE,
                                  .sector = (uint64_t)i * 64,
                                  .nsects = 64,
                                  .status = SENTINEL};
    pthread_create(&th, NULL, busy_run, &b);
    usleep(20000);
    detach(xs, (uint32_t)dom, a->devid);
    pthread_join(th, NULL);
    for (int i = 0; i < 256; i++) {
        okays += b.io[i].status == BLKIF_RSP_OKAY;
        bad += b.io[i].status != BLKIF_RSP_OKAY && b.io[i].status != SENTINEL;
    }
    c_ok(bad == 0,
         "busy detach: %d writes answered OKAY, the rest never "
         "answered, none wrong",
         okays);
    c_ok(bfp_backend_state(f) == XenbusStateClosed ||
             bfp_backend_state(f) == XenbusStateClosing,
         "the backend closed under load (state %d)", bfp_backend_state(f));
    bfp_disconnect(f, 3000);
    bfp_toolstack_remove(xs, (uint32_t)dom, a->devid);
    c_ok(released(dom, a->devid), "blkback released the busy device");
    bfp_close(f);

    /* A new domain on the same file afterwards. */
    f = bfp_open(xs, a->devid + 1, &o);
    c_ok(f &&
             bfp_toolstack_add(xs, (uint32_t)bfp_get_domid(f), a->devid + 1,
                               a->path, true) == 0 &&
             bfp_connect(f, 15000) == 0,
         "another frontend attaches after that");
    io = (struct bfp_io){.op = BLKIF_OP_READ, .nsects = 64, .buf = buf};
    c_ok(f && bfp_run(f, &io, 1, 1, 15000) == 0 && io.status == 0,
         "and reads: OKAY");
    if (f)
        bfp_disconnect(f, 3000);

    /* A detach before blkback looked (xl block-attach then block-detach
     * at once): the device appears with state Closing and online 0. */
    dom = f ? bfp_get_domid(f) : -1;
    c_ok(dom > 0 &&
             bfp_toolstack_add_state(xs, (uint32_t)dom, a->devid + 2, a->path,
                                     true, XenbusStateClosing, false) == 0 &&
             be_state_watch(xs, (uint32_t)dom, a->devid + 2) ==
                 XenbusStateClosed,
         "a device that comes detached goes Closed, never InitWait");
    if (dom > 0)
        bfp_toolstack_remove(xs, (uint32_t)dom, a->devid + 2);
    c_ok(dom > 0 && released(dom, a->devid + 2),
         "and blkback releases it once the toolstack removes it");
    if (f)
        bfp_close(f);
}

/* 7 checks.  The parent kills and restarts blkback in between. */
static void durable(struct xs_handle *xs, void *argp)
{
    struct arg *a = argp;
    struct bfp_opts o = {.persistent = true};
    struct bfp *f = bfp_open(xs, a->devid, &o);
    static uint8_t w1[W1_BYTES], w2[W1_BYTES], back[W1_BYTES];
    struct bfp_io io[64];
    struct bfp_stats st;
    bool good = true;
    char c;

    if (!f)
        return;
    c_ok(bfp_toolstack_add(xs, (uint32_t)bfp_get_domid(f), a->devid, a->path,
                           true) == 0 &&
             bfp_connect(f, 15000) == 0,
         "connected");
    fill(w1, W1_BYTES, 4242);
    fill(w2, W1_BYTES, 4343);
    for (int i = 0; i < 32; i++)
        io[i] = (struct bfp_io){.op = BLKIF_OP_WRITE,
                                .sector = (uint64_t)i * 64,
                                .nsects = 64,
                                .buf = w1 + (size_t)i * 32768};
    io[32] = (struct bfp_io){.op = BLKIF_OP_FLUSH_DISKCACHE};
    good = bfp_run(f, io, 32, 8, 15000) == 0 &&
           bfp_run(f, &io[32], 1, 1, 15000) == 0;
    for (int i = 0; i <= 32; i++)
        good &= io[i].status == BLKIF_RSP_OKAY;
    c_ok(good, "1 MiB written and flushed: all OKAY");
    /* The parent kills blkback now, checks the disk, restarts it. */
    if (write(a->to_parent[1], "f", 1) != 1 || read(a->to_child[0], &c, 1) != 1)
        return;
    for (int i = 0; i < 32; i++)
        io[i] = (struct bfp_io){.op = BLKIF_OP_WRITE,
                                .sector = 2048 + (uint64_t)i * 64,
                                .nsects = 64,
                                .buf = w2 + (size_t)i * 32768,
                                .status = SENTINEL};
    good = bfp_run(f, io, 32, 32, 20000) == 0;
    for (int i = 0; i < 32; i++)
        good &= io[i].status == BLKIF_RSP_OKAY;
    bfp_get_stats(f, &st);
    c_ok(good, "writes queued while blkback was dead: all OKAY in the end");
    c_ok(st.reconnects == 1, "the frontend reconnected once (%llu)",
         (unsigned long long)st.reconnects);
    for (int i = 0; i < 32; i++)
        io[i] = (struct bfp_io){.op = BLKIF_OP_READ,
                                .sector = 2048 + (uint64_t)i * 64,
                                .nsects = 64,
                                .buf = back + (size_t)i * 32768};
    good = bfp_run(f, io, 32, 32, 15000) == 0;
    c_ok(good && memcmp(back, w2, W1_BYTES) == 0,
         "the resubmitted writes read back right");
    for (int i = 0; i < 32; i++)
        io[i] = (struct bfp_io){.op = BLKIF_OP_READ,
                                .sector = (uint64_t)i * 64,
                                .nsects = 64,
                                .buf = back + (size_t)i * 32768};
    good = bfp_run(f, io, 32, 32, 15000) == 0;
    c_ok(good && memcmp(back, w1, W1_BYTES) == 0,
         "the flushed writes read back right");
    c_ok(bfp_disconnect(f, 15000) == 0, "Closing -> Closed");
    bfp_close(f);
}

/* The log after the last "serving" shows Closed, InitWait, Connected for
 * name, in that order. */
static bool restart_sequence(const char *name)
{
    const char *want[3] = {": state 6", ": state 2", ": state 4"};
    const char *p = blk_log_read();
    char needle[80];

    for (const char *q; (q = strstr(p, "serving"));)
        p = q + 1;
    for (int i = 0; i < 3; i++) {
        snprintf(needle, sizeof(needle), "%s%s", name, want[i]);
        p = strstr(p, needle);
        if (!p)
            return false;
    }
    return true;
}

int main(void)
{
    const char *why = blk_env_start();
    static uint8_t w1[W1_BYTES], disk[W1_BYTES];
    struct arg a[2];
    struct blk_child c;
    char ch, name[48];
    int fd, st;

    if (why)
        tap_skip_all(why);
    tap_plan(14 + 7 + 5);
    for (int i = 0; i < 2; i++) {
        a[i] = (struct arg){.devid = 51712 + 16 * (uint32_t)i};
        snprintf(a[i].path, sizeof(a[i].path), "%s/disk%d.img", env.dir, i);
        blk_make_file(a[i].path, DISK_BYTES, 7 + (uint32_t)i);
        if (pipe(a[i].to_parent) || pipe(a[i].to_child))
            return 1;
    }
    c = blk_child_start(hotplug, &a[0]);
    blk_child_finish(c, 14, "hot-plug");

    c = blk_child_start(durable, &a[1]);
    if (read(a[1].to_parent[0], &ch, 1) == 1) {
        kill(env.bb, SIGKILL);
        waitpid(env.bb, &st, 0);
        ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "blkback killed (-9)");
        fill(w1, W1_BYTES, 4242);
        fd = open(a[1].path, O_RDONLY);
        ok(fd >= 0 && pread(fd, disk, W1_BYTES, 0) == W1_BYTES &&
               memcmp(disk, w1, W1_BYTES) == 0,
           "every acknowledged, flushed byte is on disk");
        close(fd);
        if (write(a[1].to_child[1], "k", 1) != 1)
            return 1;
        usleep(300000); /* the frontend queues writes to nobody */
        /* The second life serves buffered I/O: the same protocol. */
        env.bb = blk_start_blkback("--no-direct");
        ok(env.bb > 0 && blk_log_has("(buffered I/O)"),
           "blkback restarted (--no-direct)");
    } else {
        ok(false, "blkback killed (-9)");
        ok(false, "every acknowledged, flushed byte is on disk");
        ok(false, "blkback restarted (--no-direct)");
    }
    blk_child_finish(c, 7, "kill -9 and restart");
    snprintf(name, sizeof(name), "/%u", a[1].devid);
    ok(restart_sequence(name),
       "after the restart: Closed, InitWait, Connected");
    ok(env.bb > 0 && kill(env.bb, 0) == 0, "blkback still runs");
    blk_env_stop();
    return tap_done();
}
