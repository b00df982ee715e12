/*
 * test_blk_harden — blkback against toolstacks and frontends that do
 * things in an awkward order:
 *   1. the backend directory appears before its frontend/frontend-id keys
 *      (a toolstack writing key by key, no transaction): blkback waits for
 *      them and connects, instead of ignoring the device for good;
 *   2. reconnects: a frontend that closes (Closing, Closed) and starts
 *      again (Initialising) finds the backend in InitWait and connects;
 *      the same after the toolstack detached the device (online 0, state
 *      Closing) and attached it again (online 1);
 *   3. a frontend domain that dies without closing (kill -9 of the
 *      process domain, introduced to xenstored as the toolstack does, so
 *      xenstored fires @releaseDomain): blkback tears the device down —
 *      the backend state goes Closed and stays so, the disk file is
 *      closed, the granted pages are unmapped.
 */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>

#include <xenevtchn.h>

#include "blk_harness.h"

#define DISK_BYTES (4u << 20)

struct arg {
    uint32_t devid;
    char path[128];
    int to_parent[2];
};

static void be_path(char *buf, size_t len, int dom, uint32_t devid,
                    const char *key)
{
    snprintf(buf, len, "/local/domain/0/backend/vbd/%d/%u/%s", dom, devid, key);
}

static void be_write(struct xs_handle *xs, int dom, uint32_t devid,
                     const char *key, const char *val)
{
    char p[160];

    be_path(p, sizeof(p), dom, devid, key);
    xs_write(xs, XBT_NULL, p, val, strlen(val));
}

/* The backend's state node, -1 when absent. */
static int be_state(struct xs_handle *xs, int dom, uint32_t devid)
{
    char p[160], *v;
    unsigned int len;
    int st;

    be_path(p, sizeof(p), dom, devid, "state");
    v = xs_read(xs, XBT_NULL, p, &len);
    st = v ? atoi(v) : -1;
    free(v);
    return st;
}

/* Wait up to ms for the backend state want; true if it came. */
static bool be_wait(struct xs_handle *xs, int dom, uint32_t devid, int want,
                    int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (be_state(xs, dom, devid) == want)
            return true;
        usleep(10000);
    }
    return false;
}

/* One write and its read-back through the ring; true if both match. */
static bool io_roundtrip(struct bfp *f, uint64_t sector, uint8_t seed)
{
    static uint8_t w[8192], r[8192];
    struct bfp_io io;

    memset(w, seed, sizeof(w));
    memset(r, 0, sizeof(r));
    io = (struct bfp_io){
        .op = BLKIF_OP_WRITE, .sector = sector, .nsects = 16, .buf = w};
    if (bfp_run(f, &io, 1, 1, 10000) || io.status != BLKIF_RSP_OKAY)
        return false;
    io = (struct bfp_io){
        .op = BLKIF_OP_READ, .sector = sector, .nsects = 16, .buf = r};
    return bfp_run(f, &io, 1, 1, 10000) == 0 && io.status == BLKIF_RSP_OKAY &&
           memcmp(w, r, sizeof(w)) == 0;
}

/* A frontend (persistent grants, a small pool) for a->devid. */
static struct bfp *fe_open(struct xs_handle *xs, struct arg *a, int *dom)
{
    struct bfp_opts o = {.persistent = true, .pool_pages = 16};
    struct bfp *f = bfp_open(xs, a->devid, &o);

    *dom = f ? bfp_get_domid(f) : -1;
    return f;
}

/* Close the frontend, remove both directories, release it. */
static void fe_close(struct xs_handle *xs, struct bfp *f, int dom,
                     uint32_t devid)
{
    bfp_disconnect(f, 5000);
    bfp_toolstack_remove(xs, (uint32_t)dom, devid);
    bfp_close(f);
}

/* 4 checks: the toolstack's keys come one at a time, frontend last. */
static void late_keys(struct xs_handle *xs, void *argp)
{
    struct arg *a = argp;
    int dom;
    struct bfp *f = fe_open(xs, a, &dom);

    if (!f)
        return;
    be_write(xs, dom, a->devid, "params", a->path);
    usleep(200000);
    c_ok(be_state(xs, dom, a->devid) == -1,
         "only params written: blkback waits (no state)");
    be_write(xs, dom, a->devid, "mode", "w");
    be_write(xs, dom, a->devid, "frontend", "/local/domain/0/nowhere");
    usleep(200000);
    c_ok(be_state(xs, dom, a->devid) == -1,
         "frontend without frontend-id: still waiting");
    /* The rest of the keys (frontend, frontend-id, state, the frontend's
     * directory) as libxl lays them out. */
    c_ok(bfp_toolstack_add(xs, (uint32_t)dom, a->devid, a->path, true) == 0 &&
             bfp_connect(f, 10000) == 0,
         "once every key is there: InitWait, then Connected");
    c_ok(io_roundtrip(f, 64, 0x5a), "a write reads back");
    fe_close(xs, f, dom, a->devid);
}

/* 10 checks: Closed -> Initialising, then detach (online 0) and attach. */
static void reconnects(struct xs_handle *xs, void *argp)
{
    struct arg *a = argp;
    int dom;
    struct bfp *f = fe_open(xs, a, &dom);

    if (!f)
        return;
    c_ok(bfp_toolstack_add(xs, (uint32_t)dom, a->devid, a->path, true) == 0 &&
             bfp_connect(f, 10000) == 0 && io_roundtrip(f, 0, 1),
         "connected, I/O works");
    c_ok(bfp_disconnect(f, 5000) == 0 && be_state(xs, dom, a->devid) == 6,
         "frontend Closing then Closed: backend Closed");
    c_ok(bfp_reconnect(f, 10000) == 0,
         "frontend Initialising again: backend InitWait, Connected");
    c_ok(io_roundtrip(f, 128, 2), "I/O after the reconnect");
    c_ok(bfp_reconnect(f, 10000) == 0 && io_roundtrip(f, 256, 3),
         "a Connected -> Closed -> Initialising cycle at once: connected, "
         "I/O works");

    /* xl block-detach: online 0 and state Closing from the toolstack. */
    be_write(xs, dom, a->devid, "online", "0");
    be_write(xs, dom, a->devid, "state", "5");
    c_ok(be_wait(xs, dom, a->devid, 5, 10000), "detach: backend Closing");
    c_ok(bfp_disconnect(f, 5000) == 0 && be_wait(xs, dom, a->devid, 6, 5000),
         "the frontend closes: backend Closed");
    usleep(300000);
    c_ok(be_state(xs, dom, a->devid) == 6, "offline: the backend stays Closed");
    /* Attach again on the same directory: online 1, then the frontend. */
    be_write(xs, dom, a->devid, "online", "1");
    c_ok(bfp_reconnect(f, 10000) == 0,
         "online again, frontend Initialising: InitWait, Connected");
    c_ok(io_roundtrip(f, 512, 4), "I/O after the re-attach");
    fe_close(xs, f, dom, a->devid);
}

/* 2 checks, then the parent kills this process domain. */
static void doomed(struct xs_handle *xs, void *argp)
{
    struct arg *a = argp;
    int dom, n;
    struct bfp *f = fe_open(xs, a, &dom);
    xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
    xenevtchn_port_or_error_t port = -1;
    char line[64];

    if (!f || !xce)
        return;
    c_ok(bfp_toolstack_add(xs, (uint32_t)dom, a->devid, a->path, true) == 0 &&
             bfp_connect(f, 10000) == 0 && io_roundtrip(f, 0, 9),
         "connected, I/O works");
    /* A port for xenstored: the toolstack introduces this domain. */
    port = xenevtchn_bind_unbound_port(xce, 0);
    c_ok(port > 0, "an unbound port for domain 0 (%d)", port);
    n = snprintf(line, sizeof(line), "%d %d\n", dom, port);
    if (write(a->to_parent[1], line, (size_t)n) != n)
        return;
    for (;;)
        pause(); /* until kill -9: no Closing, no Closed */
}

/* Does blkback have path open, or any granted page mapped? */
static void bb_holds(const char *path, bool *file, bool *grants)
{
    char dir[64], link[PATH_MAX], lp[PATH_MAX + 80], mline[512];
    struct dirent *de;
    DIR *d;
    FILE *m;

    *file = *grants = false;
    snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)env.bb);
    d = opendir(dir);
    while (d && (de = readdir(d))) {
        ssize_t n;
        snprintf(lp, sizeof(lp), "%s/%s", dir, de->d_name);
        n = readlink(lp, link, sizeof(link) - 1);
        if (n > 0) {
            link[n] = 0;
            *file |= strcmp(link, path) == 0;
        }
    }
    if (d)
        closedir(d);
    snprintf(dir, sizeof(dir), "/proc/%d/maps", (int)env.bb);
    m = fopen(dir, "r");
    while (m && fgets(mline, sizeof(mline), m))
        *grants |= strstr(mline, "xengntshr") != NULL;
    if (m)
        fclose(m);
}

/* kill -9 of an introduced frontend domain; 8 checks here + 2 child. */
static void dead_frontend(struct arg *a)
{
    struct xs_handle *xs = xs_open(0);
    struct blk_child c;
    bool file, grants;
    int dom = -1, port = -1;
    FILE *rf;

    c = blk_child_start(doomed, a);
    close(a->to_parent[1]);
    rf = fdopen(a->to_parent[0], "r");
    if (!xs || !rf || fscanf(rf, "%d %d", &dom, &port) != 2) {
        kill(c.pid, SIGKILL);
        blk_child_finish(c, 2, "dead frontend");
        for (int i = 0; i < 8; i++)
            ok(false, "dead frontend: the frontend did not start");
        return;
    }
    bb_holds(a->path, &file, &grants);
    ok(file && grants, "connected: blkback has the disk open and grants "
                       "mapped");
    /* Its xenstore ring: an unused (zero) page of its memory. */
    ok(xs_introduce_domain(xs, (unsigned int)dom, 255, (unsigned int)port),
       "the toolstack introduces domain %d to xenstored", dom);
    kill(c.pid, SIGKILL);
    blk_child_finish(c, 2, "dead frontend");
    ok(be_wait(xs, dom, a->devid, 6, 10000),
       "frontend domain killed: the backend goes Closed");
    usleep(500000);
    ok(be_state(xs, dom, a->devid) == 6,
       "and stays Closed (no InitWait for a dead domain)");
    ok(blk_log_has("is gone: tearing the device down"),
       "blkback logs the teardown");
    bb_holds(a->path, &file, &grants);
    ok(!file, "blkback closed the disk file");
    ok(!grants, "blkback unmapped the ring and the persistent grants");
    bfp_toolstack_remove(xs, (uint32_t)dom, a->devid);
    {
        char needle[64];
        snprintf(needle, sizeof(needle), "vbd/%d/%u: released", dom, a->devid);
        ok(blk_log_wait(needle), "the toolstack removes it: released");
    }
    fclose(rf);
    xs_close(xs);
}

int main(void)
{
    const char *why = blk_env_start();
    struct arg a[3];
    struct blk_child c;

    if (why)
        tap_skip_all(why);
    tap_plan(4 + 10 + 2 + 8 + 1);
    for (int i = 0; i < 3; i++) {
        a[i] = (struct arg){.devid = 51712 + 16 * (uint32_t)i};
        snprintf(a[i].path, sizeof(a[i].path), "%s/disk%d.img", env.dir, i);
        blk_make_file(a[i].path, DISK_BYTES, 17 + (uint32_t)i);
        if (pipe(a[i].to_parent))
            return 1;
    }
    c = blk_child_start(late_keys, &a[0]);
    blk_child_finish(c, 4, "late keys");
    c = blk_child_start(reconnects, &a[1]);
    blk_child_finish(c, 10, "reconnect");
    dead_frontend(&a[2]);
    ok(env.bb > 0 && kill(env.bb, 0) == 0, "blkback still runs");
    blk_env_stop();
    return tap_done();
}
