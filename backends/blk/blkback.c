/*
 * blkback — the block backend: serves the vbd devices that the toolstack
 * lists under /local/domain/0/backend/vbd/<fe-domid>/<devid> (Xen's
 * docs/misc/xenstore-paths), for any number of frontends at once.
 *
 *   blkback [-N|--no-fork] [--pid-file FILE] [--log-file FILE]
 *           [--no-direct] [--backend-root PATH]
 *
 * The xenbus handshake (<xen/io/xenbus.h>, the "Backend/Frontend XenBus
 * Nodes" of <xen/io/blkif.h>) lives here: one watch on the backend root
 * and one per frontend state node; every event re-reads the devices and
 * moves each one's XenbusState machine:
 *
 *   found  -> InitWait (feature keys published)
 *   InitWait + frontend Initialised/Connected -> Connected (rings served)
 *   Connected + frontend Closing -> Closing;  + frontend Closed -> Closed
 *   Closed + frontend Initialising (online) -> InitWait   (reconnect)
 *   state Closing written by the toolstack (xl block-detach) -> Closing,
 *     also when it comes while we publish InitWait or Connected (those
 *     are written in a transaction that leaves the toolstack's Closing)
 *   backend directory removed -> the device is released (hot-unplug)
 *   frontend domain gone (@releaseDomain) -> Closed, everything released
 *
 * The toolstack may write a device's keys one by one (no transaction):
 * a directory without frontend/frontend-id, params or mode yet is
 * waited for (the root watch fires again at each write), not refused.
 * A frontend domain that dies without closing its devices (xenstore.txt
 * "@releaseDomain"; its domain list from xc_domain_getinfolist) gets
 * them torn down: rings unmapped, grants released, the disk closed and
 * the backend state Closed, where they stay until the toolstack removes
 * the directory.
 *
 * A device whose frontend is already past Initialising when blkback finds
 * it (blkback was restarted) is first set Closed, so the frontend resets
 * and reconnects: Closed -> InitWait -> Connected.  A frontend that breaks
 * the ring protocol gets its device set Closing and logged; the other
 * devices go on.  The data path is blk_dev.c.  Prints READY when serving.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>
#include <xenctrl.h>
#include <xenstore.h>

#include "blk_dev.h"
#include "blk_log.h"

#define TOKEN         "blkback"
#define TOKEN_RELEASE "blkback-release"
#define DOMLIST_MAX   32 /* xc_domain_getinfolist gives at most this many */

struct vbd {
    struct vbd *next;
    uint32_t fe_domid, devid;
    char be_path[128];
    char fe_path[160];
    char name[48];
    int state; /* what we last wrote, -1 before anything */
    bool bad;  /* unusable configuration: logged once, ignored */
    bool seen;
    bool watching;
    bool fatal;
    bool incomplete; /* frontend/frontend-id not written yet: wait */
    bool waited;     /* "waiting for keys" logged */
    bool dom_gone;   /* the frontend domain died: nothing more */
    bool have_handle;
    uint8_t dom_handle[16]; /* the frontend domain's UUID, once seen */
    struct blk_disk disk;
    struct blk_conn *conn;
};

static struct {
    struct xs_handle *xs;
    xc_interface *xch; /* NULL: domains cannot be listed (unprivileged) */
    struct event_base *base;
    const char *be_root;
    bool direct;
    bool lost_xs;
    unsigned int submit_batch;
    struct vbd *vbds;
} g = {.be_root = "/local/domain/0/backend/vbd",
       .direct = true,
       .submit_batch = BLK_SUBMIT_BATCH};

void blk_log(const char *fmt, ...)
{
    char when[32];
    struct tm tm;
    time_t now = time(NULL);
    va_list ap;

    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s blkback: ", when);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

/* ---- xenstore helpers ---- */

/* The value at dir/key, malloc'ed, or NULL. */
static char *xs_get(const char *dir, const char *key)
{
    char path[256];
    unsigned int len;

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xs_read(g.xs, XBT_NULL, path, &len);
}

/* dir/key as an unsigned number up to max; def when absent; -1 if bad. */
static long long xs_get_uint(const char *dir, const char *key, long long def,
                             unsigned long long max)
{
    char *v = xs_get(dir, key), *end;
    unsigned long long n;
    long long rc = def;

    if (!v)
        return def;
    errno = 0;
    n = strtoull(v, &end, 10);
    rc = (errno || end == v || *end || v[0] == '-' || n > max) ? -1
                                                               : (long long)n;
    free(v);
    return rc;
}

static int be_printf(struct vbd *v, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int be_printf(struct vbd *v, const char *key, const char *fmt, ...)
{
    char path[256], val[64];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    snprintf(path, sizeof(path), "%s/%s", v->be_path, key);
    return xs_write(g.xs, XBT_NULL, path, val, strlen(val)) ? 0 : -1;
}

static void vbd_disconnect(struct vbd *v);

/*
 * Write our XenbusState.  InitWait and Connected are written in a
 * transaction that first reads the node: when it says Closing and we did
 * not write that, the toolstack is detaching (xl block-detach writes
 * online 0 and state Closing, maybe while we were still publishing our
 * keys), so the node is left as it is and we take Closing instead; the
 * caller's state machine goes on from there.  Closing and Closed are
 * written as they are.  Nothing is written once the toolstack removed
 * the directory (no "frontend" node): that would make it again.
 */
static void vbd_set_state(struct vbd *v, int state)
{
    char path[256], fpath[256], val[16], *cur;
    bool wrote = false, yield = false, gone = false;
    unsigned int len;

    if (v->state == state)
        return;
    snprintf(path, sizeof(path), "%s/state", v->be_path);
    snprintf(fpath, sizeof(fpath), "%s/frontend", v->be_path);
    snprintf(val, sizeof(val), "%d", state);
    for (int tries = 0; tries < 10; tries++) {
        xs_transaction_t t = xs_transaction_start(g.xs);

        if (t == XBT_NULL)
            break;
        yield = false;
        gone = false;
        if (state == XenbusStateInitWait || state == XenbusStateConnected) {
            cur = xs_read(g.xs, t, path, &len);
            yield = cur && atoi(cur) == XenbusStateClosing &&
                    v->state != XenbusStateClosing;
            free(cur);
        }
        /* The toolstack removed the directory (detach done): writing
         * would make it again; the root watch releases the device. */
        cur = xs_read(g.xs, t, fpath, &len);
        gone = !cur;
        free(cur);
        wrote = yield || gone || xs_write(g.xs, t, path, val, strlen(val));
        if (xs_transaction_end(g.xs, t, false))
            break;
        wrote = false;
        if (errno != EAGAIN)
            break;
    }
    if (gone) {
        blk_log("%s: directory removed: state %d not written", v->name,
                state);
        v->state = state;
        return;
    }
    if (yield) {
        blk_log("%s: the toolstack set Closing: not %d", v->name, state);
        vbd_disconnect(v);
        v->state = XenbusStateClosing;
        return;
    }
    v->state = state;
    if (!wrote)
        blk_log("%s: writing state %d: %s", v->name, state, strerror(errno));
    else
        blk_log("%s: state %d", v->name, state);
}

/* ---- the state machine ---- */

/* One "stats" line (the benchmark reads notify_in/notify_out). */
static void vbd_log_stats(struct vbd *v)
{
    struct blk_conn_stats st;

    blk_conn_get_stats(v->conn, &st);
    blk_log("stats %s requests=%llu errors=%llu notify_in=%llu "
            "notify_out=%llu submits=%llu pgrants=%llu iovecs=%llu",
            v->name, (unsigned long long)st.requests,
            (unsigned long long)st.errors, (unsigned long long)st.notify_in,
            (unsigned long long)st.notify_out, (unsigned long long)st.submits,
            (unsigned long long)st.pgrants, (unsigned long long)st.iovecs);
}

static void vbd_disconnect(struct vbd *v)
{
    if (!v->conn)
        return;
    vbd_log_stats(v);
    blk_conn_stop(v->conn);
    v->conn = NULL;
}

static void vbd_on_fatal(void *arg)
{
    struct vbd *v = arg;

    /* The watch this write fires stops the connection, outside it. */
    v->fatal = true;
    vbd_set_state(v, XenbusStateClosing);
}

/* Open the disk and publish what blkif.h's backend nodes describe. */
static void vbd_initwait(struct vbd *v)
{
    char *params = NULL, *mode = NULL, *path;
    bool ro;
    int rc;

    if (v->disk.fd < 0) {
        params = xs_get(v->be_path, "params");
        mode = xs_get(v->be_path, "mode");
        if (!params || !mode) {
            /* Not written yet: the root watch fires again when it is. */
            if (!v->waited)
                blk_log("%s: waiting for params and mode", v->name);
            v->waited = true;
            goto out;
        }
        path = params;
        /* libxl may write "format:path" ("aio:/img", "raw:/img"). */
        if (path && path[0] != '/' && strchr(path, ':'))
            path = strchr(path, ':') + 1;
        ro = !mode || mode[0] != 'w';
        rc = path && path[0] ? blk_disk_open(&v->disk, path, ro, g.direct)
                             : -EINVAL;
        if (rc) {
            blk_log("%s: cannot open '%s': %s", v->name,
                    params ? params : "(no params)", strerror(-rc));
            v->bad = true;
            goto out;
        }
    }
    be_printf(v, "sectors", "%llu", (unsigned long long)v->disk.sectors);
    be_printf(v, "sector-size", "%u", v->disk.sector_size);
    be_printf(v, "physical-sector-size", "%u", v->disk.phys_sector_size);
    be_printf(v, "info", "%u", v->disk.readonly ? VDISK_READONLY : 0u);
    be_printf(v, "mode", "%s", v->disk.readonly ? "r" : "w");
    be_printf(v, "feature-flush-cache", "1");
    be_printf(v, "feature-barrier", "1");
    be_printf(v, "feature-discard", "%d", v->disk.discard ? 1 : 0);
    if (v->disk.discard) {
        be_printf(v, "discard-granularity", "%u", BLK_DISCARD_GRANULARITY);
        be_printf(v, "discard-alignment", "0");
        be_printf(v, "discard-secure", "0");
    }
    be_printf(v, "feature-persistent", "1");
    be_printf(v, "feature-max-indirect-segments", "%u", BLK_MAX_INDIRECT_SEGS);
    be_printf(v, "multi-queue-max-queues", "%u", BLK_MAX_QUEUES);
    be_printf(v, "max-ring-page-order", "%u", BLK_MAX_RING_ORDER);
    v->fatal = false;
    vbd_set_state(v, XenbusStateInitWait);
out:
    free(params);
    free(mode);
}

/* Read the frontend's ring keys of queue q (dir is its key directory). */
static int read_queue(struct vbd *v, const char *dir, unsigned int order,
                      struct blk_conn_cfg *cfg, unsigned int q)
{
    long long n;
    char key[32];

    for (unsigned int i = 0; i < (1u << order); i++) {
        if (order == 0)
            snprintf(key, sizeof(key), "ring-ref");
        else
            snprintf(key, sizeof(key), "ring-ref%u", i);
        n = xs_get_uint(dir, key, -1, UINT32_MAX);
        if (n < 0) {
            blk_log("%s: bad or missing %s/%s", v->name, dir, key);
            return -EINVAL;
        }
        cfg->ring_refs[q][i] = (grant_ref_t)n;
    }
    n = xs_get_uint(dir, "event-channel", -1, UINT32_MAX);
    if (n <= 0) {
        blk_log("%s: bad or missing %s/event-channel", v->name, dir);
        return -EINVAL;
    }
    cfg->ports[q] = (evtchn_port_t)n;
    return 0;
}

static void vbd_connect(struct vbd *v)
{
    struct blk_conn_cfg cfg = {.fe_domid = v->fe_domid,
                               .name = v->name,
                               .submit_batch = g.submit_batch};
    char *proto = xs_get(v->fe_path, "protocol");
    long long nq, order, pers;
    char dir[200];
    int rc = -EINVAL;

    if (proto && strcmp(proto, XEN_IO_PROTO_ABI_NATIVE) != 0) {
        blk_log("%s: protocol '%s' not served", v->name, proto);
        goto out;
    }
    nq = xs_get_uint(v->fe_path, "multi-queue-num-queues", 1, BLK_MAX_QUEUES);
    order = xs_get_uint(v->fe_path, "ring-page-order", 0, BLK_MAX_RING_ORDER);
    pers = xs_get_uint(v->fe_path, "feature-persistent", 0, 1);
    if (nq < 1 || order < 0 || pers < 0) {
        blk_log("%s: bad multi-queue-num-queues, ring-page-order or "
                "feature-persistent",
                v->name);
        goto out;
    }
    cfg.nr_queues = (unsigned int)nq;
    cfg.ring_order = (unsigned int)order;
    cfg.persistent = pers == 1;
    for (unsigned int q = 0; q < cfg.nr_queues; q++) {
        if (nq == 1)
            snprintf(dir, sizeof(dir), "%s", v->fe_path);
        else
            snprintf(dir, sizeof(dir), "%s/queue-%u", v->fe_path, q);
        if (read_queue(v, dir, cfg.ring_order, &cfg, q))
            goto out;
    }
    v->conn = blk_conn_start(g.base, &v->disk, &cfg, vbd_on_fatal, v, &rc);
    if (!v->conn) {
        blk_log("%s: connecting: %s", v->name, strerror(-rc));
        goto out;
    }
    blk_log("%s: connected: %u queue(s), ring order %u, %s grants%s", v->name,
            cfg.nr_queues, cfg.ring_order,
            cfg.persistent ? "persistent" : "copied",
            v->disk.direct ? ", O_DIRECT" : "");
    be_printf(v, "sectors", "%llu", (unsigned long long)v->disk.sectors);
    vbd_set_state(v, XenbusStateConnected);
    rc = 0;
out:
    if (rc) /* the frontend published something we cannot serve */
        vbd_set_state(v, XenbusStateClosing);
    free(proto);
}

static void vbd_find_frontend(struct vbd *v);

/* One step of the state machine (see the top of this file). */
static void vbd_step(struct vbd *v)
{
    long long fe, be, online;

    fe = xs_get_uint(v->fe_path, "state", XenbusStateUnknown, 255);
    be = xs_get_uint(v->be_path, "state", -1, 255);
    /* Absent is not online: the directory is going (xl block-detach
     * removes it after our Closed), no reconnect then. */
    online = xs_get_uint(v->be_path, "online", 0, 1);
    if (v->fatal && v->conn)
        vbd_disconnect(v);
    /* xl block-detach: the toolstack sets our state to Closing. */
    if (be == XenbusStateClosing && v->state != XenbusStateClosing &&
        v->state >= 0) {
        blk_log("%s: closing on request", v->name);
        vbd_disconnect(v);
        v->state = XenbusStateClosing;
    }
    switch (v->state) {
    case -1:
        if (fe == XenbusStateUnknown || fe == XenbusStateInitialising ||
            fe == XenbusStateClosed)
            vbd_initwait(v);
        else /* left over from an earlier blkback: make it reset */
            vbd_set_state(v, XenbusStateClosed);
        break;
    case XenbusStateInitWait:
        if (fe == XenbusStateInitialised || fe == XenbusStateConnected)
            vbd_connect(v);
        else if (fe == XenbusStateClosing || fe == XenbusStateClosed)
            vbd_set_state(v, XenbusStateClosed);
        break;
    case XenbusStateConnected:
        if (fe == XenbusStateClosing) {
            vbd_disconnect(v);
            vbd_set_state(v, XenbusStateClosing);
        } else if (fe != XenbusStateConnected && fe != XenbusStateInitialised) {
            vbd_disconnect(v);
            vbd_set_state(v, XenbusStateClosed);
        }
        break;
    case XenbusStateClosing:
        vbd_disconnect(v);
        /* Closed only once the frontend is done, even when the toolstack
         * detaches (online 0): it waits for our Closed, the frontend for
         * our Closing. */
        if (fe == XenbusStateClosed || fe == XenbusStateUnknown ||
            fe == XenbusStateInitialising)
            vbd_set_state(v, XenbusStateClosed);
        break;
    case XenbusStateClosed:
        break;
    }
    /* Reconnect: a frontend that starts again finds us waiting. */
    if (v->state == XenbusStateClosed && online &&
        (fe == XenbusStateInitialising || fe == XenbusStateUnknown))
        vbd_initwait(v);
}

/*
 * A watch fired: step the device until its state holds (a step may lead
 * to another with no further event, e.g. a detach found while publishing
 * InitWait goes on to Closed).
 */
static void vbd_update(struct vbd *v)
{
    if (v->incomplete)
        vbd_find_frontend(v);
    if (v->bad || v->incomplete || v->dom_gone)
        return;
    {
        /* Removed (the root watch frees it): nothing to write there. */
        char *fe = xs_get(v->be_path, "frontend");

        free(fe);
        if (!fe)
            return;
    }
    for (int i = 0; i < 4; i++) {
        int before = v->state;

        vbd_step(v);
        if (v->state == before || v->bad || v->dom_gone)
            break;
    }
}

/* ---- devices ---- */

static void vbd_free(struct vbd *v)
{
    char path[200];

    vbd_disconnect(v);
    blk_disk_close(&v->disk);
    if (v->watching) {
        snprintf(path, sizeof(path), "%s/state", v->fe_path);
        xs_unwatch(g.xs, path, TOKEN);
    }
    blk_log("%s: released", v->name);
    free(v);
}

/*
 * Read the device's frontend and frontend-id (written by the toolstack,
 * maybe one at a time): set v->incomplete while either is missing (the
 * root watch fires again when they come), v->bad when they are there but
 * do not name the directory's domain; else watch the frontend's state.
 */
static void vbd_find_frontend(struct vbd *v)
{
    char *fe = xs_get(v->be_path, "frontend"), path[200];
    long long feid = xs_get_uint(v->be_path, "frontend-id", -1, 0x7fef);

    v->incomplete = false;
    if (!fe || xs_get_uint(v->be_path, "frontend-id", -2, UINT32_MAX) == -2) {
        if (!v->waited)
            blk_log("%s: waiting for frontend and frontend-id", v->name);
        v->waited = true;
        v->incomplete = true;
        goto out;
    }
    snprintf(path, sizeof(path), "/local/domain/%u/", v->fe_domid);
    if (feid != (long long)v->fe_domid ||
        strncmp(fe, path, strlen(path)) != 0 ||
        strlen(fe) >= sizeof(v->fe_path) - 8) {
        blk_log("%s: frontend/frontend-id not domain %u's; ignored", v->name,
                v->fe_domid);
        v->bad = true;
        goto out;
    }
    snprintf(v->fe_path, sizeof(v->fe_path), "%s", fe);
    snprintf(path, sizeof(path), "%s/state", v->fe_path);
    v->watching = xs_watch(g.xs, path, TOKEN);
    v->waited = false;
    blk_log("%s: found (frontend %s)", v->name, v->fe_path);
out:
    free(fe);
}

static struct vbd *vbd_new(uint32_t domid, uint32_t devid)
{
    struct vbd *v = calloc(1, sizeof(*v));

    if (!v)
        return NULL;
    v->fe_domid = domid;
    v->devid = devid;
    v->state = -1;
    v->disk.fd = -1;
    snprintf(v->be_path, sizeof(v->be_path), "%s/%u/%u", g.be_root, domid,
             devid);
    snprintf(v->name, sizeof(v->name), "vbd/%u/%u", domid, devid);
    vbd_find_frontend(v);
    return v;
}

/* The frontend domain died without closing: release everything now. */
static void vbd_release_dead(struct vbd *v)
{
    char path[200];

    blk_log("%s: frontend domain %u is gone: tearing the device down", v->name,
            v->fe_domid);
    vbd_disconnect(v); /* rings unmapped, grants released, port closed */
    blk_disk_close(&v->disk);
    if (v->watching) {
        snprintf(path, sizeof(path), "%s/state", v->fe_path);
        xs_unwatch(g.xs, path, TOKEN);
        v->watching = false;
    }
    v->dom_gone = true;
    /* As Xen's backends: Closed, for the toolstack to remove. */
    vbd_set_state(v, XenbusStateClosed);
}

/*
 * @releaseDomain fired: a domain went away (xenstore.txt).  Every device
 * whose frontend domain is no longer listed, is dying, or is a new domain
 * with a reused domid (another handle) is torn down.
 */
static void vbds_check_domains(void)
{
    static xc_domaininfo_t info[DOMLIST_MAX];
    int n;

    if (!g.xch)
        return;
    n = xc_domain_getinfolist(g.xch, 0, DOMLIST_MAX, info);
    if (n < 0) {
        blk_log("listing domains: %s", strerror(errno));
        return;
    }
    for (struct vbd *v = g.vbds; v; v = v->next) {
        const xc_domaininfo_t *d = NULL;

        if (v->dom_gone || v->fe_domid == 0)
            continue;
        for (int i = 0; i < n; i++)
            if (info[i].domain == v->fe_domid)
                d = &info[i];
        if (!d && n >= DOMLIST_MAX)
            continue; /* the list may be cut short: do not guess */
        if (d && !(d->flags & XEN_DOMINF_dying) &&
            (!v->have_handle ||
             !memcmp(d->handle, v->dom_handle, sizeof(v->dom_handle)))) {
            memcpy(v->dom_handle, d->handle, sizeof(v->dom_handle));
            v->have_handle = true;
            continue;
        }
        vbd_release_dead(v);
    }
}

static bool parse_id(const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long n;

    errno = 0;
    n = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || n > max)
        return false;
    *out = (uint32_t)n;
    return true;
}

/* Re-read the backend directories: new devices, gone ones, each state. */
static void vbds_scan(void)
{
    unsigned int nd = 0, nv = 0;
    char **doms, **devs, dir[160];
    struct vbd **link, *v;
    uint32_t domid, devid;

    for (v = g.vbds; v; v = v->next)
        v->seen = false;
    doms = xs_directory(g.xs, XBT_NULL, g.be_root, &nd);
    for (unsigned int i = 0; doms && i < nd; i++) {
        if (!parse_id(doms[i], 0x7fef, &domid))
            continue;
        snprintf(dir, sizeof(dir), "%s/%s", g.be_root, doms[i]);
        devs = xs_directory(g.xs, XBT_NULL, dir, &nv);
        for (unsigned int j = 0; devs && j < nv; j++) {
            if (!parse_id(devs[j], UINT32_MAX, &devid))
                continue;
            for (v = g.vbds; v; v = v->next)
                if (v->fe_domid == domid && v->devid == devid)
                    break;
            if (!v) {
                v = vbd_new(domid, devid);
                if (!v)
                    continue;
                v->next = g.vbds;
                g.vbds = v;
            }
            v->seen = true;
        }
        free(devs);
    }
    free(doms);
    for (link = &g.vbds; (v = *link);) {
        if (!v->seen) {
            *link = v->next;
            vbd_free(v);
        } else {
            vbd_update(v);
            link = &v->next;
        }
    }
}

/* ---- main ---- */

static void on_xenstore(evutil_socket_t fd, short what, void *arg)
{
    char **ev;
    int n = 0;
    bool released = false;

    (void)fd;
    (void)what;
    (void)arg;
    while ((ev = xs_check_watch(g.xs))) {
        released |= !strcmp(ev[XS_WATCH_TOKEN], TOKEN_RELEASE);
        free(ev);
        n++;
    }
    if (errno != EAGAIN && errno != EINTR && errno != ENOMEM) {
        blk_log("xenstore: %s; exiting", strerror(errno));
        g.lost_xs = true;
        event_base_loopbreak(g.base);
        return;
    }
    if (n)
        vbds_scan();
    if (released)
        vbds_check_domains();
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    (void)arg;
    if (sig == SIGUSR1) {
        for (struct vbd *v = g.vbds; v; v = v->next)
            if (v->conn)
                vbd_log_stats(v);
        return;
    }
    event_base_loopbreak(g.base);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: blkback [-N|--no-fork] [--pid-file FILE] "
            "[--log-file FILE]\n"
            "               [--no-direct] [--backend-root PATH] "
            "[--submit-batch N]\n"
            "  --no-direct     buffered I/O instead of O_DIRECT\n"
            "  --backend-root  default /local/domain/0/backend/vbd\n"
            "  --submit-batch  SQEs per io_uring submit within a ring "
            "batch (0: the whole\n"
            "                  batch at once; default %u)\n",
            BLK_SUBMIT_BATCH);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"no-fork", no_argument, NULL, 'N'},
        {"pid-file", required_argument, NULL, 'p'},
        {"log-file", required_argument, NULL, 'l'},
        {"no-direct", no_argument, NULL, 'd'},
        {"backend-root", required_argument, NULL, 'b'},
        {"submit-batch", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct event *ev_xs = NULL, *ev_sig[4] = {NULL};
    static const int sigs[4] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
    const char *pid_file = NULL, *log_file = NULL;
    int no_fork = 0, opt, rc = 1, pid_written = 0, fd;

    while ((opt = getopt_long(argc, argv, "Nh", opts, NULL)) != -1) {
        switch (opt) {
        case 'N':
            no_fork = 1;
            break;
        case 'p':
            pid_file = optarg;
            break;
        case 'l':
            log_file = optarg;
            break;
        case 'd':
            g.direct = false;
            break;
        case 'b':
            g.be_root = optarg;
            break;
        case 's': {
            char *end;
            unsigned long n = strtoul(optarg, &end, 10);
            if (!*optarg || *end || n > 4096) {
                fprintf(stderr,
                        "blkback: --submit-batch %s: want a number "
                        "0..4096\n",
                        optarg);
                return 2;
            }
            g.submit_batch = (unsigned int)n;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (log_file) {
        fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0 || dup2(fd, 2) < 0) {
            fprintf(stderr, "blkback: %s: %s\n", log_file, strerror(errno));
            return 1;
        }
        close(fd);
    }
    /* Before any thread (libxenstore's reader) exists. */
    if (!no_fork) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("blkback: fork");
            return 1;
        }
        if (pid > 0)
            _exit(0);
        setsid();
        if (chdir("/") < 0)
            return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    g.xs = xs_open(0);
    g.base = event_base_new();
    /* Only to see frontend domains die; a driver domain goes without. */
    g.xch = xc_interface_open(NULL, NULL, 0);
    if (!g.xch)
        blk_log("cannot list domains (%s): dead frontends are not noticed",
                strerror(errno));
    if (!g.xs || !g.base) {
        blk_log("cannot open %s: %s", !g.xs ? "xenstore" : "libevent",
                strerror(errno));
        goto out;
    }
    ev_xs = event_new(g.base, xs_fileno(g.xs), EV_READ | EV_PERSIST,
                      on_xenstore, NULL);
    if (!ev_xs || event_add(ev_xs, NULL))
        goto out;
    for (int i = 0; i < 4; i++) {
        ev_sig[i] = evsignal_new(g.base, sigs[i], on_signal, NULL);
        if (!ev_sig[i] || event_add(ev_sig[i], NULL))
            goto out;
    }
    if (!xs_watch(g.xs, g.be_root, TOKEN) ||
        !xs_watch(g.xs, "@releaseDomain", TOKEN_RELEASE)) {
        blk_log("watching %s: %s", g.be_root, strerror(errno));
        goto out;
    }
    if (pid_file) {
        FILE *f = fopen(pid_file, "w");

        if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
            blk_log("%s: %s", pid_file, strerror(errno));
            goto out;
        }
        pid_written = 1;
    }
    blk_log("serving %s%s", g.be_root, g.direct ? "" : " (buffered I/O)");
    vbds_scan();
    printf("READY\n");
    fflush(stdout);
    event_base_dispatch(g.base);
    rc = g.lost_xs ? 1 : 0;
out:
    while (g.vbds) {
        struct vbd *v = g.vbds;
        g.vbds = v->next;
        vbd_free(v);
    }
    if (pid_written)
        unlink(pid_file);
    if (ev_xs)
        event_free(ev_xs);
    for (int i = 0; i < 4; i++)
        if (ev_sig[i])
            event_free(ev_sig[i]);
    if (g.xs)
        xs_close(g.xs);
    if (g.xch)
        xc_interface_close(g.xch);
    if (g.base)
        event_base_free(g.base);
    return rc;
}
