/*
 * xldom_device.c — PV device directories and the XenbusState handshake
 * (<xen/io/xenbus.h>, docs/misc/xenstore-paths.pandoc "Frontend and
 * backend device paths"): the toolstack writes both sides, the backend
 * answers through its `state` node, the frontend through its own.
 *
 *   frontend  /local/domain/D/device/KIND/ID     owner D,  backend reads
 *   backend   /local/domain/0/backend/KIND/D/ID  owner 0,  D reads
 *
 * Waiting is done by reading the state node every WAIT_STEP_MS: simpler
 * than a watch and cheap at that rate.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xen/io/xenbus.h>

#include "xldom_priv.h"

#define WAIT_STEP_MS 20
#define BACKEND_DOM  0 /* backends run in the control domain */

static void fe_path(char *buf, size_t len, uint32_t domid, const char *kind,
                    uint32_t devid)
{
    snprintf(buf, len, "/local/domain/%u/device/%s/%u", domid, kind, devid);
}

static void be_path(char *buf, size_t len, uint32_t domid, const char *kind,
                    uint32_t devid)
{
    snprintf(buf, len, "/local/domain/%u/backend/%s/%u/%u", BACKEND_DOM, kind,
             domid, devid);
}

/* A device kind is a plain xenstore path element ("vbd", "vif", ...). */
static bool kind_valid(const char *kind)
{
    size_t n = strlen(kind);

    if (n == 0 || n > 16)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((kind[i] >= 'a' && kind[i] <= 'z') ||
              (kind[i] >= '0' && kind[i] <= '9') || kind[i] == '_'))
            return false;
    return true;
}

/* The XenbusState in node @dir/state, or -1 when absent or not a number. */
static int state_read(struct xldom_ctx *ctx, const char *dir)
{
    char path[300], *v, *end;
    unsigned int len;
    long s;

    snprintf(path, sizeof(path), "%s/state", dir);
    v = xs_read(ctx->xs, XBT_NULL, path, &len);
    if (!v)
        return -1;
    s = strtol(v, &end, 10);
    if (end == v || *end || s < 0 || s > XenbusStateReconfigured)
        s = -1;
    free(v);
    return (int)s;
}

/* Write @n key/value pairs under @dir; 0 or -errno. */
static int write_kv(struct xldom_ctx *ctx, xs_transaction_t t, const char *dir,
                    const struct xldom_kv *kv, size_t n)
{
    char path[400];

    for (size_t i = 0; i < n; i++) {
        if (!kv[i].key[0] || strchr(kv[i].key, '/') || strlen(kv[i].key) > 64)
            return xldom_fail(ctx, -EINVAL, "bad device key '%s'", kv[i].key);
        snprintf(path, sizeof(path), "%s/%s", dir, kv[i].key);
        if (!xs_write(ctx->xs, t, path, kv[i].value, strlen(kv[i].value)))
            return xldom_fail(ctx, -errno, "writing %s: %s", path,
                              strerror(errno));
    }
    return 0;
}

/* Make @dir with owner @owner and read access for @reader. */
static int dir_make(struct xldom_ctx *ctx, xs_transaction_t t, const char *dir,
                    uint32_t owner, uint32_t reader)
{
    struct xs_permissions p[2] = {
        {.id = owner, .perms = XS_PERM_NONE},
        {.id = reader, .perms = XS_PERM_READ},
    };

    if (!xs_mkdir(ctx->xs, t, dir) ||
        !xs_set_permissions(ctx->xs, t, dir, p, 2))
        return xldom_fail(ctx, -errno, "making %s: %s", dir, strerror(errno));
    return 0;
}

/* Wait until the state of @dir is >= @want (or @dir is gone when < 0). */
static int state_wait(struct xldom_ctx *ctx, const char *dir, int want,
                      int timeout_ms)
{
    for (int t = 0;; t += WAIT_STEP_MS) {
        int s = state_read(ctx, dir);

        if (want < 0 ? s < 0 : s >= want)
            return 0;
        if (t >= timeout_ms)
            return -ETIMEDOUT;
        usleep(WAIT_STEP_MS * 1000);
    }
}

/*
 * Both directories in one transaction, as libxl does: a backend watching
 * its root must never see a half-written directory (no frontend link yet)
 * and give up on it.  Retried while xenstored reports a conflict.
 */
static int dirs_write(struct xldom_ctx *ctx, uint32_t domid, const char *fdir,
                      const char *bdir, const struct xldom_kv *fe, size_t nfe,
                      const struct xldom_kv *be, size_t nbe)
{
    struct xldom_kv link[2];
    char buf[32];
    int rc = -EAGAIN;

    for (int tries = 0; rc == -EAGAIN && tries < 10; tries++) {
        xs_transaction_t t = xs_transaction_start(ctx->xs);

        if (t == XBT_NULL)
            return xldom_fail(ctx, -errno, "xenstore transaction: %s",
                              strerror(errno));
        rc = dir_make(ctx, t, bdir, BACKEND_DOM, domid);
        rc = rc ?: dir_make(ctx, t, fdir, domid, BACKEND_DOM);
        link[0] = (struct xldom_kv){"frontend", fdir};
        snprintf(buf, sizeof(buf), "%u", domid);
        link[1] = (struct xldom_kv){"frontend-id", buf};
        rc = rc ?: write_kv(ctx, t, bdir, link, 2);
        rc = rc ?: write_kv(ctx, t, bdir, be, nbe);
        link[0] = (struct xldom_kv){"backend", bdir};
        link[1] = (struct xldom_kv){"backend-id", "0"};
        rc = rc ?: write_kv(ctx, t, fdir, link, 2);
        rc = rc ?: write_kv(ctx, t, fdir, fe, nfe);
        link[0] = (struct xldom_kv){"online", "1"};
        rc = rc ?: write_kv(ctx, t, bdir, link, 1);
        link[0] = (struct xldom_kv){"state", "1"};
        rc = rc ?: write_kv(ctx, t, fdir, link, 1);
        rc = rc ?: write_kv(ctx, t, bdir, link, 1);
        if (!xs_transaction_end(ctx->xs, t, rc != 0) && !rc)
            rc = errno == EAGAIN
                     ? -EAGAIN
                     : xldom_fail(ctx, -errno, "xenstore transaction: %s",
                                  strerror(errno));
    }
    if (rc == -EAGAIN)
        rc = xldom_fail(ctx, -EAGAIN, "xenstore kept conflicting");
    return rc;
}

int xldom_device_add(struct xldom_ctx *ctx, uint32_t domid, const char *kind,
                     uint32_t devid, const struct xldom_kv *fe, size_t nfe,
                     const struct xldom_kv *be, size_t nbe, int want,
                     int timeout_ms)
{
    char fdir[200], bdir[200];
    int rc = xldom_need(ctx, XLDOM_NEED_XENSTORE);
    bool made = false;

    if (rc)
        return rc;
    if (!kind_valid(kind) || domid == 0)
        return xldom_fail(ctx, -EINVAL, "bad device kind '%s' or domain %u",
                          kind, domid);
    fe_path(fdir, sizeof(fdir), domid, kind, devid);
    be_path(bdir, sizeof(bdir), domid, kind, devid);
    if (state_read(ctx, fdir) >= 0 || state_read(ctx, bdir) >= 0)
        return xldom_fail(ctx, -EEXIST, "domain %u already has %s %u", domid,
                          kind, devid);
    made = true;
    rc = dirs_write(ctx, domid, fdir, bdir, fe, nfe, be, nbe);
    if (!rc && state_wait(ctx, bdir, want, timeout_ms))
        rc = xldom_fail(ctx, -ETIMEDOUT,
                        "domain %u: %s %u: the backend did not reach state %d "
                        "within %d ms (is its backend daemon running?)",
                        domid, kind, devid, want, timeout_ms);
    if (rc && made) {
        xs_rm(ctx->xs, XBT_NULL, fdir);
        xs_rm(ctx->xs, XBT_NULL, bdir);
    }
    return rc;
}

int xldom_device_remove(struct xldom_ctx *ctx, uint32_t domid, const char *kind,
                        uint32_t devid, bool force, int timeout_ms)
{
    char fdir[200], bdir[200];
    struct xldom_kv kv[2] = {{"online", "0"}, {"state", "5"}};
    int rc = xldom_need(ctx, XLDOM_NEED_XENSTORE);

    if (rc)
        return rc;
    if (!kind_valid(kind))
        return xldom_fail(ctx, -EINVAL, "bad device kind '%s'", kind);
    fe_path(fdir, sizeof(fdir), domid, kind, devid);
    be_path(bdir, sizeof(bdir), domid, kind, devid);
    if (state_read(ctx, bdir) < 0 && state_read(ctx, fdir) < 0)
        return xldom_fail(ctx, -ENOENT, "domain %u has no %s %u", domid, kind,
                          devid);
    /* xenbus.h: the backend goes Closing -> Closed once the frontend let go. */
    rc = write_kv(ctx, XBT_NULL, bdir, kv, 2);
    if (!rc && state_wait(ctx, bdir, XenbusStateClosed, timeout_ms)) {
        rc = xldom_fail(ctx, -ETIMEDOUT,
                        "domain %u: %s %u did not close within %d ms%s", domid,
                        kind, devid, timeout_ms,
                        force ? ": removed anyway" : " (-f forces)");
    }
    /*
     * Backend first: a backend daemon releases the device when its
     * directory goes, and must not take the frontend's directory going
     * as a frontend that starts again.
     */
    if (!rc || force) {
        xs_rm(ctx->xs, XBT_NULL, bdir);
        xs_rm(ctx->xs, XBT_NULL, fdir);
    }
    return force ? 0 : rc;
}

int xldom_device_list(struct xldom_ctx *ctx, uint32_t domid, const char *kind,
                      struct xldom_device **out, size_t *n)
{
    char dir[200], path[300], **ents;
    unsigned int count = 0;
    struct xldom_device *l;
    int rc = xldom_need(ctx, XLDOM_NEED_XENSTORE);

    *out = NULL;
    *n = 0;
    if (rc)
        return rc;
    if (!kind_valid(kind))
        return xldom_fail(ctx, -EINVAL, "bad device kind '%s'", kind);
    snprintf(dir, sizeof(dir), "/local/domain/%u/device/%s", domid, kind);
    ents = xs_directory(ctx->xs, XBT_NULL, dir, &count);
    l = calloc(count + 1, sizeof(*l));
    if (!l) {
        free(ents);
        return xldom_fail(ctx, -ENOMEM, "out of memory");
    }
    for (unsigned int i = 0; i < count; i++) {
        char *end;
        unsigned long id = strtoul(ents[i], &end, 10);

        if (*end || id > UINT32_MAX)
            continue; /* not ours: a guest may not write here anyway */
        l[*n].devid = (uint32_t)id;
        snprintf(path, sizeof(path), "%s/%lu", dir, id);
        l[*n].fe_state = state_read(ctx, path);
        be_path(path, sizeof(path), domid, kind, (uint32_t)id);
        l[*n].be_state = state_read(ctx, path);
        (*n)++;
    }
    free(ents);
    *out = l;
    return 0;
}
