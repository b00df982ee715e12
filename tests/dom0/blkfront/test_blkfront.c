/*
 * blkfront — the guest kernel's block frontend (frontends/kernel/
 * blkfront.c) against blkback (backends/blk/blkback), end to end.
 *
 * Under `xen-hv daemon` and our xenstored, domain 0 plays the toolstack:
 * a guest with a xenstore ring (as tests/dom0/xenbus), a private sparse
 * raw image of pattern.h's BF_SECTORS, the vbd's backend and frontend
 * directories written the way libxl does (docs/misc/xenstore-paths:
 * backend/vbd/<domid>/<devid> and device/vbd/<devid>), blkback started
 * on them.  The guest (guest.c) runs pattern.h's workload through
 * blkfront and checks every read itself; meanwhile this program kills -9
 * and restarts blkback when the guest asks (ready/restart), so the guest
 * must reconnect and resubmit.  Afterwards the image file must equal the
 * workload replayed here byte for byte, the keys must show multi-queue and
 * persistent grants negotiated, and the device must end Closed.  The
 * guest's "# bench" lines are repeated as TAP comments.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xen/sched.h>
#include <xen/hvm/params.h>
#include <xen/io/xenbus.h>
#include <xen/io/xs_wire.h>

#include "harness.h"
#include "xenhv_layout.h"
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#include <xenstore.h>
#include <xen/io/blkif.h>
#include "tap.h"

#include "pattern.h"

#define STORE_GFN   ((unsigned int)XENHV_SPECIAL_GFN(XENHV_SPECIAL_XENSTORE))
#define DEVID       51712 /* xvda: (202 << 8) | 0, xen-vbd-interface */
#define GUEST_TESTS 20
#define BAD_DEVID   51728 /* xvdb */
#define BAD_TESTS   18
#define BAD_SECTORS 256
/* The sectors at which the fake backend misbehaves (guest.c agrees). */
#define BAD_ERROR  40
#define BAD_STATUS 41
#define BAD_ID     42
#define BAD_JUMP   43
#define BAD_DEVID2 51744 /* xvdc */
#define SEED       0x5eed1234ULL

static xc_interface *xch;
static xenforeignmemory_handle *fmem;
static struct xs_handle *xs;
static char tmpdir[256];

/* ---- helpers --------------------------------------------------------- */

static int wr(const char *path, const char *value)
{
    return xs_write(xs, XBT_NULL, path, value, strlen(value)) ? 0 : -1;
}

static char *rd(const char *path)
{
    unsigned int len;

    return xs_read(xs, XBT_NULL, path, &len);
}

/* 1 when path reads want; otherwise says what it read when loud. */
static int node_eq(const char *path, const char *want, int loud)
{
    char *v = rd(path);
    int same = v && !strcmp(v, want);

    if (!same && loud)
        tap_diag("%s is '%s', expected '%s'", path, v ? v : "(none)", want);
    free(v);
    return same;
}

static int node_is(const char *path, const char *want)
{
    return node_eq(path, want, 1);
}

/* Wait until path reads want (ms, polled every 10 ms); 1 when it did. */
static int wait_node(const char *path, const char *want, int ms)
{
    for (int waited = 0; waited < ms; waited += 10) {
        if (node_eq(path, want, 0))
            return 1;
        usleep(10000);
    }
    return node_is(path, want);
}

/* Start a daemon (argv) with its output in log; its pid after READY. */
static pid_t start_ready(char *const argv[], const char *log)
{
    char acc[8192];
    pid_t pid = fork();

    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    for (int i = 0; i < 1000; i++) {
        FILE *f = fopen(log, "r");
        size_t n = f ? fread(acc, 1, sizeof(acc) - 1, f) : 0;

        if (f)
            fclose(f);
        acc[n] = 0;
        if (strstr(acc, "READY"))
            return pid;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

/* A file's lines as TAP comments, each prefixed with tag. */
static void dump_file(const char *path, const char *tag)
{
    char line[512];
    FILE *f = fopen(path, "r");

    while (f && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        tap_diag("%s: %s", tag, line);
    }
    if (f)
        fclose(f);
}

/*
 * Domain d's console lines as TAP comments: all of them (all != 0), or
 * only the guest's "# bench" lines.
 */
static void guest_console(int d, int all)
{
    static char con[65536];

    console(d, con, sizeof(con));
    for (char *l = strtok(con, "\n"); l; l = strtok(NULL, "\n"))
        if (all || strstr(l, "# bench"))
            tap_diag("guest: %s", l);
}

/* Guests retired by guest_retire(), destroyed by guests_destroy(). */
static int retired[8];
static unsigned int nr_retired;

/*
 * Retire guest d: remove its vbd backend directories (so a later blkback
 * does not find them) and keep the domain until guests_destroy().  Each
 * phase's guest so gets a fresh domid and xenstored a fresh store port: a
 * released domain's port re-bound under the same number may keep the
 * mask bit xen-hv left on it (see tests/dom0/xenbus).  0 or -1.
 */
static int guest_retire(int d)
{
    char path[64];
    int rc = 0;

    snprintf(path, sizeof(path), "/local/domain/0/backend/vbd/%d", d);
    rc |= !xs_rm(xs, XBT_NULL, path) && errno != ENOENT;
    snprintf(path, sizeof(path), "/local/domain/0/backend/vbdtest/%d", d);
    rc |= !xs_rm(xs, XBT_NULL, path) && errno != ENOENT;
    if (nr_retired < sizeof(retired) / sizeof(retired[0]))
        retired[nr_retired++] = d;
    return rc ? -1 : 0;
}

/* Destroy the retired guests and release them in xenstored; 0 or -1. */
static int guests_destroy(void)
{
    int rc = 0;

    for (unsigned int i = 0; i < nr_retired; i++) {
        char path[64];

        rc |= simple(XENHV_OP_DOMAIN_DESTROY, retired[i]);
        xs_release_domain(xs, (unsigned int)retired[i]);
        snprintf(path, sizeof(path), "/local/domain/%d", retired[i]);
        xs_rm(xs, XBT_NULL, path);
    }
    nr_retired = 0;
    return rc ? -1 : 0;
}

/*
 * A paused guest built with cmdline, its store ring zeroed, its store
 * port allocated for domain 0 and both HVM params set, then introduced to
 * xenstored with a home it owns.  Returns the domid or -1.
 */
static int guest_setup(const char *cmdline)
{
    xen_pfn_t gfn = STORE_GFN;
    struct xs_permissions home = {.perms = XS_PERM_NONE};
    char path[64], dom[16];
    void *ring;
    int d = create("blkfront"), port;

    if (d <= 0 || build(d, cmdline) != 0)
        return -1;
    /* A fresh handle per guest: it keeps a domain's memory by domid, and
     * xen-hv gives a destroyed domain's id to the next one. */
    if (fmem)
        xenforeignmemory_close(fmem);
    fmem = xenforeignmemory_open(NULL, 0);
    if (!fmem)
        return -1;
    ring = xenforeignmemory_map(fmem, (uint32_t)d, PROT_READ | PROT_WRITE, 1,
                                &gfn, NULL);
    if (!ring)
        return -1;
    memset(ring, 0, 4096);
    xenforeignmemory_unmap(fmem, ring, 1);
    port = xc_evtchn_alloc_unbound(xch, (uint32_t)d, 0);
    if (port <= 0 ||
        xc_hvm_param_set(xch, (uint32_t)d, HVM_PARAM_STORE_PFN, gfn) ||
        xc_hvm_param_set(xch, (uint32_t)d, HVM_PARAM_STORE_EVTCHN,
                         (uint64_t)port))
        return -1;
    home.id = (unsigned int)d;
    snprintf(path, sizeof(path), "/local/domain/%d", d);
    snprintf(dom, sizeof(dom), "%d", d);
    if (!xs_mkdir(xs, XBT_NULL, path) ||
        !xs_set_permissions(xs, XBT_NULL, path, &home, 1))
        return -1;
    snprintf(path, sizeof(path), "/local/domain/%d/domid", d);
    if (wr(path, dom) || !xs_introduce_domain(xs, (unsigned int)d, STORE_GFN,
                                              (evtchn_port_t)port))
        return -1;
    return d;
}

/*
 * The vbd as libxl writes it (xenstore-paths; libxl_device.c's layout):
 * the backend directory owned by domain 0 and readable by the guest, the
 * frontend directory owned by the guest and readable by domain 0.
 */
static int vbd_write(int d, const char *file, int devid, const char *type,
                     char *be, char *fe, size_t len)
{
    struct xs_permissions bep[2] = {
        {.id = 0, .perms = XS_PERM_NONE},
        {.id = (unsigned int)d, .perms = XS_PERM_READ}};
    struct xs_permissions fep[2] = {
        {.id = (unsigned int)d, .perms = XS_PERM_NONE},
        {.id = 0, .perms = XS_PERM_READ}};
    static const char *const be_keys[][2] = {
        {"params", NULL}, {"mode", "w"},      {"type", "phy"}, {"online", "1"},
        {"dev", "xvda"},  {"removable", "0"}, {"state", "1"},
    };
    char path[400], dom[16];
    int rc = 0;

    snprintf(be, len, "/local/domain/0/backend/%s/%d/%d", type, d, devid);
    snprintf(fe, len, "/local/domain/%d/device/vbd/%d", d, devid);
    snprintf(dom, sizeof(dom), "%d", d);
    rc |= !xs_mkdir(xs, XBT_NULL, be);
    rc |= !xs_set_permissions(xs, XBT_NULL, be, bep, 2);
    snprintf(path, sizeof(path), "%s/frontend", be);
    rc |= wr(path, fe);
    snprintf(path, sizeof(path), "%s/frontend-id", be);
    rc |= wr(path, dom);
    for (size_t i = 0; i < sizeof(be_keys) / sizeof(be_keys[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", be, be_keys[i][0]);
        rc |= wr(path, be_keys[i][1] ? be_keys[i][1] : file);
    }
    rc |= !xs_mkdir(xs, XBT_NULL, fe);
    rc |= !xs_set_permissions(xs, XBT_NULL, fe, fep, 2);
    snprintf(path, sizeof(path), "%s/backend", fe);
    rc |= wr(path, be);
    snprintf(path, sizeof(path), "%s/backend-id", fe);
    rc |= wr(path, "0");
    snprintf(path, sizeof(path), "%s/virtual-device", fe);
    snprintf(dom, sizeof(dom), "%d", devid);
    rc |= wr(path, dom);
    snprintf(path, sizeof(path), "%s/device-type", fe);
    rc |= wr(path, "disk");
    snprintf(path, sizeof(path), "%s/state", fe);
    rc |= wr(path, "1");
    return rc ? -1 : 0;
}

/*
 * The image the workload must leave: pattern.h's ops replayed on zeroes
 * (discards zero their range when the backend offered feature-discard).
 */
static int image_matches(const char *file, int discard)
{
    static uint8_t want[BF_SECTORS * 512], got[BF_SECTORS * 512];
    struct bf_op ops[BF_NR_OPS];
    FILE *f = fopen(file, "rb");
    size_t n = f ? fread(got, 1, sizeof(got), f) : 0;

    if (f)
        fclose(f);
    if (n != sizeof(got)) {
        tap_diag("read %zu bytes of %s", n, file);
        return 0;
    }
    memset(want, 0, sizeof(want));
    bf_ops(SEED, ops);
    for (unsigned int k = 0; k < BF_NR_OPS; k++) {
        uint8_t *at = want + (size_t)ops[k].sector * 512;

        if (ops[k].kind == BF_WRITE)
            bf_fill(SEED, k, &ops[k], (uint64_t *)at);
        else if (discard)
            memset(at, 0, (size_t)ops[k].nsec * 512);
    }
    for (size_t i = 0; i < sizeof(want); i++)
        if (want[i] != got[i]) {
            tap_diag("image differs first at sector %zu byte %zu: %02x, "
                     "want %02x",
                     i / 512, i % 512, got[i], want[i]);
            return 0;
        }
    return 1;
}

/* ---- phase 2: this program is a backend without features ------------ */

struct fake {
    int d;
    char be[256], fe[256];
    xengnttab_handle *gh;
    xenevtchn_handle *eh;
    evtchn_port_t local;
    blkif_back_ring_t ring;
    void *sring;
    uint8_t disk[BAD_SECTORS * 512];
    unsigned int served, max_segs, violations;
    int connected; /* 0 waiting, 1 serving, 2 closed */
};

static char *fe_key(struct fake *f, const char *key)
{
    char path[400];

    snprintf(path, sizeof(path), "%s/%s", f->fe, key);
    return rd(path);
}

static int be_set(struct fake *f, const char *key, const char *value)
{
    char path[400];

    snprintf(path, sizeof(path), "%s/%s", f->be, key);
    return wr(path, value);
}

/*
 * Serve one read/write: check it as a backend must (blkif.h limits),
 * map each segment's grant, copy, unmap.  Returns the status.
 */
static int16_t fake_rw(struct fake *f, const blkif_request_t *req)
{
    uint64_t sector = req->sector_number;
    int write = req->operation == BLKIF_OP_WRITE;

    if (req->nr_segments > f->max_segs)
        f->max_segs = req->nr_segments;
    if ((req->operation != BLKIF_OP_READ && !write) || req->nr_segments == 0 ||
        req->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
        f->violations++;
        return BLKIF_RSP_ERROR;
    }
    for (unsigned int i = 0; i < req->nr_segments; i++) {
        const struct blkif_request_segment *seg = &req->seg[i];
        unsigned int n = seg->last_sect - seg->first_sect + 1u;
        uint8_t *page;

        if (seg->first_sect > seg->last_sect || seg->last_sect > 7 ||
            sector + n > BAD_SECTORS) {
            f->violations++;
            return BLKIF_RSP_ERROR;
        }
        page =
            xengnttab_map_grant_ref(f->gh, (uint32_t)f->d, seg->gref,
                                    write ? PROT_READ : PROT_READ | PROT_WRITE);
        if (!page) {
            f->violations++;
            return BLKIF_RSP_ERROR;
        }
        if (write)
            memcpy(f->disk + sector * 512, page + seg->first_sect * 512,
                   n * 512);
        else
            memcpy(page + seg->first_sect * 512, f->disk + sector * 512,
                   n * 512);
        xengnttab_unmap(f->gh, page, 1);
        sector += n;
    }
    return BLKIF_RSP_OKAY;
}

/* Answer every request on the ring; the scripted sectors misbehave. */
static void fake_serve(struct fake *f)
{
    int more, notify;

    do {
        RING_IDX rp = f->ring.sring->req_prod;

        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        while (f->ring.req_cons != rp) {
            blkif_request_t req = *RING_GET_REQUEST(&f->ring, f->ring.req_cons);
            blkif_response_t *rsp =
                RING_GET_RESPONSE(&f->ring, f->ring.rsp_prod_pvt);

            f->ring.req_cons++;
            f->served++;
            rsp->id = req.id;
            rsp->operation = req.operation;
            rsp->status = fake_rw(f, &req);
            if (req.sector_number == BAD_ERROR)
                rsp->status = BLKIF_RSP_ERROR;
            else if (req.sector_number == BAD_STATUS)
                rsp->status = 7;
            else if (req.sector_number == BAD_ID)
                rsp->id = req.id + 1000;
            f->ring.rsp_prod_pvt++;
            if (req.sector_number == BAD_JUMP)
                f->ring.rsp_prod_pvt += 100; /* answers never asked for */
        }
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&f->ring, notify);
        if (notify)
            xenevtchn_notify(f->eh, f->local);
        RING_FINAL_CHECK_FOR_REQUESTS(&f->ring, more);
    } while (more);
}

/* Connect to the frontend's ring once it is Initialised; 0 or -1. */
static int fake_connect(struct fake *f)
{
    char *ref = NULL, *port = NULL;
    int rc = -1, local;

    ref = fe_key(f, "ring-ref");
    port = fe_key(f, "event-channel");
    if (!ref || !port)
        goto out;
    f->sring = xengnttab_map_grant_ref(
        f->gh, (uint32_t)f->d, (uint32_t)atoi(ref), PROT_READ | PROT_WRITE);
    local = xenevtchn_bind_interdomain(f->eh, (uint32_t)f->d,
                                       (evtchn_port_t)atoi(port));
    if (!f->sring || local < 0)
        goto out;
    f->local = (evtchn_port_t)local;
    BACK_RING_INIT(&f->ring, (blkif_sring_t *)f->sring, 4096);
    rc = be_set(f, "state", "4");
out:
    free(ref);
    free(port);
    return rc;
}

/* Set up fake vbd devid of guest d (backend keys, InitWait); 0 or -1. */
static int fake_init(struct fake *f, int d, int devid)
{
    memset(f, 0, sizeof(*f));
    f->d = d;
    f->gh = xengnttab_open(NULL, 0);
    f->eh = xenevtchn_open(NULL, 0);
    if (!f->gh || !f->eh ||
        vbd_write(d, "none", devid, "vbdtest", f->be, f->fe, sizeof(f->be)))
        return -1;
    return be_set(f, "sectors", "256") || be_set(f, "sector-size", "512") ||
                   be_set(f, "info", "0") || be_set(f, "state", "2")
               ? -1
               : 0;
}

/*
 * One step of fake vbd f: connect once the frontend is Initialised, serve
 * while it is connected, let go of the ring and go Closed once it closes.
 */
static void fake_step(struct fake *f)
{
    char *st = fe_key(f, "state");
    int fe_state = st ? atoi(st) : 0;

    free(st);
    if (f->connected == 0 && fe_state == XenbusStateInitialised)
        f->connected = fake_connect(f) == 0 ? 1 : 2;
    if (f->connected == 1) {
        fake_serve(f);
        if (fe_state == XenbusStateClosing || fe_state == XenbusStateClosed) {
            xengnttab_unmap(f->gh, f->sring, 1);
            f->sring = NULL;
            be_set(f, "state", "6");
            f->connected = 2;
        }
    }
}

static void fake_fini(struct fake *f)
{
    if (f->sring)
        xengnttab_unmap(f->gh, f->sring, 1);
    if (f->eh)
        xenevtchn_close(f->eh);
    if (f->gh)
        xengnttab_close(f->gh);
}

/*
 * Phase 2: a guest with two vbds whose backend is this program, offering
 * none of blkif.h's optional features (no persistent grants, indirect
 * segments, multi-queue, flush or discard).  The guest (bad=1) checks the
 * fallbacks and how blkfront takes bad responses, on one device while the
 * other keeps working; here, that no request broke the 11-segment limit
 * and that both frontends closed.  5 test points.
 */
static void fake_phase(void)
{
    static struct fake f[2];
    char cmd[128], path[400];
    int d;

    snprintf(cmd, sizeof(cmd), "devid=%d devid2=%d bad=1", BAD_DEVID,
             BAD_DEVID2);
    d = guest_setup(cmd);
    ok(d > 0 && fake_init(&f[0], d, BAD_DEVID) == 0 &&
           fake_init(&f[1], d, BAD_DEVID2) == 0,
       "guest %d with vbds %d and %d served by this program", d, BAD_DEVID,
       BAD_DEVID2);
    if (d <= 0 || !f[0].eh || !f[1].eh) {
        tap_skip(4, "no guest");
        goto out;
    }
    simple(XENHV_OP_DOMAIN_UNPAUSE, d);
    for (int i = 0; i < 1200 && (f[0].connected < 2 || f[1].connected < 2);
         i++) {
        wait_event(f[0].eh, 10);
        wait_event(f[1].eh, 10);
        fake_step(&f[0]);
        fake_step(&f[1]);
    }
    ok(f[0].served > 0 && f[1].served > 0 && f[0].max_segs == 11 &&
           !f[0].violations && !f[1].violations,
       "served %u + %u requests, at most %u segments, %u violations",
       f[0].served, f[1].served, f[0].max_segs,
       f[0].violations + f[1].violations);
    ok(wait_shutdown(d) == SHUTDOWN_poweroff, "the guest powered off");
    {
        static char con[65536];
        int passed;

        console(d, con, sizeof(con));
        passed = guest_tap_passed(con, BAD_TESTS);
        ok(passed, "the guest's %d TAP tests passed", BAD_TESTS);
        guest_console(d, !passed || getenv("VERBOSE"));
    }
    snprintf(path, sizeof(path), "%s/state", f[1].fe);
    ok(node_is(path, "6") &&
           node_is(strcat(strcpy(path, f[0].fe), "/state"), "6"),
       "both frontends ended Closed");
out:
    fake_fini(&f[0]);
    fake_fini(&f[1]);
    if (d > 0)
        guest_retire(d);
}

static char xsd_sock[300], xsd_state[300], xsd_log[300], bb_log[3][300];

static pid_t start_xenstored(const char *dir)
{
    char bin[512];
    char *argv[] = {bin,       "-N",      "--socket", xsd_sock,
                    "--state", xsd_state, NULL};

    snprintf(bin, sizeof(bin), "%s/../../../xenstore/xenstored/xenstored", dir);
    if (getenv("XENSTORED"))
        snprintf(bin, sizeof(bin), "%s", getenv("XENSTORED"));
    if (access(bin, X_OK) != 0)
        return -1;
    setenv("XENSTORED_PATH", xsd_sock, 1);
    return start_ready(argv, xsd_log);
}

static pid_t start_blkback(const char *dir, int n)
{
    char bin[512];
    char *argv[] = {bin, "-N", NULL};

    snprintf(bin, sizeof(bin), "%s/../../../backends/blk/blkback", dir);
    if (getenv("BLKBACK"))
        snprintf(bin, sizeof(bin), "%s", getenv("BLKBACK"));
    if (access(bin, X_OK) != 0)
        return -1;
    return start_ready(argv, bb_log[n]);
}

/* The end of a phase: destroy guest d and stop blkback bb (when > 0). */
static void phase_end(int d, pid_t bb)
{
    if (d > 0)
        guest_retire(d);
    if (bb > 0) {
        kill(bb, SIGTERM);
        waitpid(bb, NULL, 0);
    }
}

/*
 * Phase 1: blkback serves a sparse image to a guest running pattern.h's
 * workload; blkback is killed and restarted mid-run, then the vbd is
 * detached.  15 test points.
 */
static void blkback_phase(const char *dir, const char *disk)
{
    char be[256], fe[256], path[320], cmd[128];
    int d = -1, fd, discard = 0;
    pid_t bb = -1;

    fd = open(disk, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ok(fd >= 0 && ftruncate(fd, (off_t)BF_SECTORS * 512) == 0,
       "a sparse %u-sector image %s", BF_SECTORS, disk);
    if (fd >= 0)
        close(fd);
    snprintf(cmd, sizeof(cmd), "devid=%d seed=%llu restart=1", DEVID,
             (unsigned long long)SEED);
    d = guest_setup(cmd);
    ok(d > 0 && vbd_write(d, disk, DEVID, "vbd", be, fe, sizeof(be)) == 0,
       "guest %d with its store ring, vbd %d written as libxl does", d, DEVID);
    bb = start_blkback(dir, 0);
    ok(bb > 0, "blkback -N says READY");
    if (d <= 0 || bb <= 0) {
        tap_skip(12, "no guest or no blkback");
        goto out;
    }
    snprintf(path, sizeof(path), "%s/state", be);
    ok(wait_node(path, "2", 10000), "the backend went InitWait");
    snprintf(path, sizeof(path), "%s/feature-discard", be);
    {
        char *v = rd(path);
        discard = v && !strcmp(v, "1");
        free(v);
    }
    is_int(simple(XENHV_OP_DOMAIN_UNPAUSE, d), 0, "guest unpaused");

    /* The guest asks for the restart once its workload is on disk. */
    snprintf(path, sizeof(path), "/local/domain/%d/ready/restart", d);
    if (wait_node(path, "1", 60000)) {
        snprintf(path, sizeof(path), "%s/multi-queue-num-queues", fe);
        ok(node_is(path, "2"), "the frontend asked for 2 queues");
        snprintf(path, sizeof(path), "%s/feature-persistent", fe);
        ok(node_is(path, "1"), "the frontend offered feature-persistent");
        kill(bb, SIGKILL);
        waitpid(bb, NULL, 0);
        bb = start_blkback(dir, 1);
        snprintf(path, sizeof(path), "/local/domain/%d/ready/restarted", d);
        ok(bb > 0 && wr(path, "1") == 0,
           "blkback killed with SIGKILL and started again");
    } else {
        tap_skip(3, "the guest never reached the restart point");
    }
    /* xl block-detach: online 0, then the backend's state Closing. */
    snprintf(path, sizeof(path), "/local/domain/%d/ready/detach", d);
    if (wait_node(path, "1", 60000)) {
        char online[320], state[320], done[64];

        snprintf(online, sizeof(online), "%s/online", be);
        snprintf(state, sizeof(state), "%s/state", be);
        snprintf(done, sizeof(done), "/local/domain/%d/ready/detached", d);
        ok(wr(online, "0") == 0 && wr(state, "5") == 0 && wr(done, "1") == 0 &&
               wait_node(state, "6", 30000),
           "detached as xl block-detach does; blkback went Closed");
    } else {
        tap_skip(1, "the guest never reached the detach point");
    }
    ok(wait_shutdown(d) == SHUTDOWN_poweroff, "the guest powered off");
    {
        static char con[65536];
        int passed;

        console(d, con, sizeof(con));
        passed = guest_tap_passed(con, GUEST_TESTS);
        ok(passed, "the guest's %d TAP tests passed", GUEST_TESTS);
        guest_console(d, !passed || getenv("VERBOSE"));
        if (!passed) {
            dump_file(bb_log[0], "blkback-1");
            dump_file(bb_log[1], "blkback-2");
        }
    }
    ok(image_matches(disk, discard),
       "the image file holds the workload byte for byte (discards %s)",
       discard ? "zeroed" : "not offered");
    snprintf(path, sizeof(path), "%s/state", fe);
    ok(node_is(path, "6"), "the frontend ended Closed");
    snprintf(path, sizeof(path), "/local/domain/%d/data/queues", d);
    ok(node_is(path, "2"), "the guest used 2 queues");
    ok(guest_retire(d) == 0,
       "the guest retired: its backend directory removed");
    d = -1;
out:
    phase_end(d, bb);
}

/* dir/state as read (NULL when missing); the caller frees it. */
static char *fe_state_of(const char *dir)
{
    char path[400];

    snprintf(path, sizeof(path), "%s/state", dir);
    return rd(path);
}

/* 1 when the last sector of file starts with the demo's line. */
static int has_demo_line(const char *file)
{
    char line[512] = "";
    FILE *f = fopen(file, "rb");

    if (f && fseek(f, (long)(BF_SECTORS - 1) * 512, SEEK_SET) == 0)
        (void)!fgets(line, sizeof(line), f);
    if (f)
        fclose(f);
    return strncmp(line, "xenkern blkdemo was here", 24) == 0;
}

/*
 * Phase 3: two domains on two devices at once: two guests running the
 * demo image frontends/kernel/blkdemo.elf (write=1), each with vbd xvda
 * on its own image, served by one fresh blkback.  Each must power off
 * having written, flushed and read back its last sector, which must then
 * hold its line.  4 test points.
 */
static void demo_phase(const char *dir, const char *disk)
{
    static char con[65536];
    char demo[512], be[2][256], fe[2][256], disk2[320];
    const char *saved = image, *disks[2] = {disk, disk2};
    int d[2] = {-1, -1}, fd, rc = 0;
    pid_t bb = -1;

    snprintf(demo, sizeof(demo), "%s/../../../frontends/kernel/blkdemo.elf",
             dir);
    snprintf(disk2, sizeof(disk2), "%s/disk2.img", tmpdir);
    fd = open(disk2, O_RDWR | O_CREAT | O_TRUNC, 0600);
    rc |= fd < 0 || ftruncate(fd, (off_t)BF_SECTORS * 512) != 0;
    if (fd >= 0)
        close(fd);
    image = demo;
    for (int i = 0; i < 2; i++) {
        d[i] = guest_setup("vbd=51712 write=1");
        rc |= d[i] <= 0 || vbd_write(d[i], disks[i], DEVID, "vbd", be[i], fe[i],
                                     sizeof(be[i]));
    }
    image = saved;
    if (!rc)
        bb = start_blkback(dir, 2);
    ok(!rc && bb > 0,
       "two blkdemo.elf guests (%d, %d), each with vbd %d on its own image, "
       "one blkback",
       d[0], d[1], DEVID);
    if (rc || bb <= 0) {
        tap_skip(3, "no demo guests or no blkback");
        goto out;
    }
    simple(XENHV_OP_DOMAIN_UNPAUSE, d[0]);
    simple(XENHV_OP_DOMAIN_UNPAUSE, d[1]);
    for (int i = 0; i < 2; i++) {
        int reason = wait_shutdown(d[i]), wrote;

        console(d[i], con, sizeof(con));
        wrote = strstr(con, "written, flushed and read back") != NULL;
        ok(reason == SHUTDOWN_poweroff && wrote,
           "demo guest %d wrote, flushed and read back its last sector, "
           "then powered off (reason %d)",
           d[i], reason);
        if (!wrote || getenv("VERBOSE")) {
            char *fs = fe_state_of(fe[i]), *bs = fe_state_of(be[i]);

            tap_diag("frontend state %s, backend state %s", fs ? fs : "-",
                     bs ? bs : "-");
            free(fs);
            free(bs);
            guest_console(d[i], 1);
            dump_file(bb_log[2], "blkback-3");
        }
    }
    ok(has_demo_line(disk) && has_demo_line(disk2),
       "each image's last sector holds its demo's line");
out:
    if (d[1] > 0)
        guest_retire(d[1]);
    phase_end(d[0], bb);
    unlink(disk2);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    char img[512], disk[300], path[320];
    pid_t daemon, xsd = -1;

    if (access("/dev/kvm", R_OK | W_OK) != 0)
        tap_skip_all("/dev/kvm not usable (lab.dom0-tests runs this on the lab "
                     "VM's KVM)");
    if (geteuid() != 0)
        tap_skip_all("needs root: only the control domain creates domains");
    snprintf(img, sizeof(img), "%s/guest.elf", dir);
    snprintf(path, sizeof(path), "%s/../../../backends/blk/blkback", dir);
    image = img;
    signal(SIGPIPE, SIG_IGN);
    /* The image on the root filesystem: tmpfs has no O_DIRECT. */
    snprintf(tmpdir, sizeof(tmpdir), "/var/tmp/blkfront-test-%d",
             (int)getpid());
    mkdir(tmpdir, 0700);
    snprintf(disk, sizeof(disk), "%s/disk.img", tmpdir);
    snprintf(xsd_sock, sizeof(xsd_sock), "%s/xs.sock", tmpdir);
    snprintf(xsd_state, sizeof(xsd_state), "%s/xs.state", tmpdir);
    snprintf(xsd_log, sizeof(xsd_log), "%s/xenstored.log", tmpdir);
    snprintf(bb_log[0], sizeof(bb_log[0]), "%s/blkback-1.log", tmpdir);
    snprintf(bb_log[1], sizeof(bb_log[1]), "%s/blkback-2.log", tmpdir);
    snprintf(bb_log[2], sizeof(bb_log[2]), "%s/blkback-3.log", tmpdir);

    tap_plan(26);
    daemon = start_daemon("bf");
    xch = xc_interface_open(NULL, NULL, 0);
    fmem = xenforeignmemory_open(NULL, 0);
    xsd = start_xenstored(dir);
    xs = xsd > 0 ? xs_open(0) : NULL;
    ok(pc.fd >= 0 && xch && fmem && xs,
       "xen-hv daemon and xenstored up, connected as domain 0");
    if (!xs) {
        tap_skip(24, "no daemon or xenstored");
        goto out;
    }
    if (access(path, X_OK) != 0 && !getenv("BLKBACK")) {
        tap_skip(19, "blkback (backends/blk) not built");
    } else {
        blkback_phase(dir, disk);
        demo_phase(dir, disk);
    }
    fake_phase();
out:
    if (xs) {
        if (guests_destroy())
            tap_diag("destroying the guests failed");
        xs_close(xs);
    }
    if (xsd > 0) {
        kill(xsd, SIGTERM);
        waitpid(xsd, NULL, 0);
    }
    if (xch)
        xc_interface_close(xch);
    if (fmem)
        xenforeignmemory_close(fmem);
    if (tap_fail_count)
        dump_file(xsd_log, "xenstored");
    is_int(stop_daemon(daemon), 0, "the daemon shut down cleanly");
    unlink(disk);
    unlink(xsd_log);
    unlink(bb_log[0]);
    unlink(bb_log[1]);
    unlink(bb_log[2]);
    unlink(xsd_state);
    unlink(xsd_sock);
    rmdir(tmpdir);
    return tap_done();
}
