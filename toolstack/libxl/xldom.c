/*
 * xldom.c — the toolstack library's context, daemon paths, domain lookup
 * and listing, and the operations on a running domain (destroy, pause,
 * shutdown request, rename, memory).  The builder is in xldom_build.c.
 * Xenstore layout: docs/misc/xenstore-paths.pandoc.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/errno.h>
#include <xen/sched.h>

#include "xldom_priv.h"

#ifndef XENHV_LIBDIR_DEFAULT
#define XENHV_LIBDIR_DEFAULT "/var/lib/xen-hv"
#endif

int xldom_fail(struct xldom_ctx *ctx, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
    va_end(ap);
    return rc;
}

const char *xldom_error(const struct xldom_ctx *ctx)
{
    return ctx->err;
}

/* The value of environment variable @name when set and not empty. */
static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);

    return v && *v ? v : dflt;
}

const char *xldom_rundir(void)
{
    return env_or("XENHV_RUNDIR", XENHV_RUNDIR);
}

const char *xldom_logdir(void)
{
    return env_or("XENHV_LOGDIR", XENHV_LOGDIR);
}

const char *xldom_libdir(void)
{
    return env_or("XENHV_LIBDIR", XENHV_LIBDIR_DEFAULT);
}

const char *xldom_privcmd(void)
{
    static char path[256];
    const char *v = getenv(XENHV_PRIVCMD_ENV);

    if (v && *v)
        return v;
    snprintf(path, sizeof(path), "%s/privcmd", xldom_rundir());
    return path;
}

const char *xldom_xs_path(void)
{
    static char path[256];
    const char *v = getenv("XENSTORED_PATH");
    const char *rundir = getenv("XENSTORED_RUNDIR");

    if (v && *v)
        return v;
    if (rundir && *rundir) {
        snprintf(path, sizeof(path), "%s/socket", rundir);
        return path;
    }
    return XENSTORED_PATH_DEFAULT;
}

/* 1 when something accepts connections on the Unix socket @path. */
static int socket_alive(const char *path, int type)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd, rc;

    if (strlen(path) >= sizeof(a.sun_path))
        return 0;
    strcpy(a.sun_path, path);
    fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
    close(fd);
    return rc == 0;
}

struct xldom_ctx *xldom_open(unsigned int need, char *err, size_t errlen)
{
    struct xldom_ctx *ctx = calloc(1, sizeof(*ctx));
    struct xenhv_hello_rep hello;
    const char *path;
    int rc;

    if (!ctx) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ctx->pc.fd = -1;
    if (need & XLDOM_NEED_XENHV) {
        path = xldom_privcmd();
        /* libxenctrl and friends find the socket through the env. */
        setenv(XENHV_PRIVCMD_ENV, path, 1);
        if (access(path, F_OK) != 0 || !socket_alive(path, SOCK_SEQPACKET)) {
            snprintf(err, errlen,
                     "xen-hv is not running (no control socket at %s)", path);
            goto fail;
        }
        rc = privcmd_open(&ctx->pc, &hello, NULL, 1);
        if (rc) {
            snprintf(err, errlen, "xen-hv at %s: %s%s", path, strerror(-rc),
                     rc == -EPERM ? " (xl must run as root)" : "");
            goto fail;
        }
        ctx->xch = xc_interface_open(NULL, NULL, 0);
        if (!ctx->xch) {
            snprintf(err, errlen, "xen-hv at %s: %s", path, strerror(errno));
            goto fail;
        }
    }
    if (need & XLDOM_NEED_XENSTORE) {
        path = xldom_xs_path();
        if (!socket_alive(path, SOCK_STREAM) || !(ctx->xs = xs_open(0))) {
            snprintf(err, errlen, "xenstored is not running (no socket at %s)",
                     path);
            goto fail;
        }
    }
    return ctx;

fail:
    xldom_close(ctx);
    return NULL;
}

void xldom_close(struct xldom_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->xs)
        xs_close(ctx->xs);
    if (ctx->xch)
        xc_interface_close(ctx->xch);
    if (ctx->pc.fd >= 0)
        privcmd_disconnect(&ctx->pc);
    free(ctx);
}

int xldom_need(struct xldom_ctx *ctx, unsigned int need)
{
    if ((need & XLDOM_NEED_XENHV) && !ctx->xch)
        return xldom_fail(ctx, -ENOTCONN,
                          "xen-hv is not running (no control socket at %s)",
                          xldom_privcmd());
    if ((need & XLDOM_NEED_XENSTORE) && !ctx->xs)
        return xldom_fail(ctx, -ENOTCONN,
                          "xenstored is not running (no socket at %s)",
                          xldom_xs_path());
    return 0;
}

int xldom_state_path(uint32_t domid, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/domain-%u.json", xldom_libdir(), domid);

    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

char *xldom_xs_read(struct xldom_ctx *ctx, uint32_t domid, const char *rel)
{
    char path[256];
    unsigned int len;

    if (!ctx->xs)
        return NULL;
    if (rel[0] == '/')
        snprintf(path, sizeof(path), "%s", rel);
    else
        snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, rel);
    return xs_read(ctx->xs, XBT_NULL, path, &len);
}

int xldom_xs_write(struct xldom_ctx *ctx, uint32_t domid, const char *rel,
                   const char *value)
{
    char path[256];
    int rc = xldom_need(ctx, XLDOM_NEED_XENSTORE);

    if (rc)
        return rc;
    if (rel[0] == '/')
        snprintf(path, sizeof(path), "%s", rel);
    else
        snprintf(path, sizeof(path), "/local/domain/%u/%s", domid, rel);
    if (!xs_write(ctx->xs, XBT_NULL, path, value, strlen(value)))
        return xldom_fail(ctx, -errno, "writing %s: %s", path, strerror(errno));
    return 0;
}

/* 1 when xen-hv hosts @domid. */
static int domain_exists(struct xldom_ctx *ctx, uint32_t domid)
{
    xc_domaininfo_t di;

    return ctx->xch && xc_domain_getinfolist(ctx->xch, domid, 1, &di) == 1 &&
           di.domain == domid;
}

bool xldom_name_taken(struct xldom_ctx *ctx, const char *name, uint32_t except)
{
    unsigned int n = 0;
    char **ents;
    bool taken = false;

    if (!strcmp(name, "Domain-0"))
        return true;
    ents = xs_directory(ctx->xs, XBT_NULL, "/local/domain", &n);
    for (unsigned int i = 0; ents && i < n && !taken; i++) {
        char *end, *v;
        unsigned long d = strtoul(ents[i], &end, 10);

        /* A domain xen-hv no longer has is stale: its name is free. */
        if (*end || d == except ||
            (ctx->xch && !domain_exists(ctx, (uint32_t)d)))
            continue;
        v = xldom_xs_read(ctx, (uint32_t)d, "name");
        taken = v && !strcmp(v, name);
        free(v);
    }
    free(ents);
    return taken;
}

/* Fill @out from a xc_domaininfo_t and xenstore. */
static void info_fill(struct xldom_ctx *ctx, const xc_domaininfo_t *di,
                      struct xldom_info *out)
{
    char *name;

    memset(out, 0, sizeof(*out));
    out->domid = di->domain;
    name = xldom_xs_read(ctx, di->domain, "name");
    snprintf(out->name, sizeof(out->name), "%s", name ? name : "(null)");
    free(name);
    memcpy(out->uuid, di->handle, 16);
    out->mem_kib = di->tot_pages * 4;
    out->max_kib = di->max_pages * 4;
    out->vcpus = di->nr_online_vcpus;
    out->max_vcpus = di->max_vcpu_id + 1;
    out->cpu_time = (double)di->cpu_time / 1e9;
    out->running = di->flags & XEN_DOMINF_running;
    out->blocked = di->flags & XEN_DOMINF_blocked;
    out->paused = di->flags & XEN_DOMINF_paused;
    out->dying = di->flags & XEN_DOMINF_dying;
    if (di->flags & XEN_DOMINF_shutdown) {
        out->shutdown_reason =
            (di->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
        out->crashed = out->shutdown_reason == SHUTDOWN_crash;
        out->shutdown = !out->crashed;
    }
}

int xldom_list(struct xldom_ctx *ctx, struct xldom_info **out, size_t *n)
{
    xc_domaininfo_t di[64];
    struct xldom_info *list = NULL;
    int got, rc = xldom_need(ctx, XLDOM_NEED_XENHV);

    *out = NULL;
    *n = 0;
    if (rc)
        return rc;
    got = xc_domain_getinfolist(ctx->xch, 1, 64, di);
    if (got < 0)
        return xldom_fail(ctx, -errno, "listing domains: %s", strerror(errno));
    list = calloc((size_t)got + 1, sizeof(*list));
    if (!list)
        return xldom_fail(ctx, -ENOMEM, "out of memory");
    for (int i = 0; i < got; i++)
        info_fill(ctx, &di[i], &list[i]);
    *out = list;
    *n = (size_t)got;
    return 0;
}

int xldom_info(struct xldom_ctx *ctx, uint32_t domid, struct xldom_info *out)
{
    xc_domaininfo_t di;
    int rc = xldom_need(ctx, XLDOM_NEED_XENHV);

    if (rc)
        return rc;
    if (xc_domain_getinfolist(ctx->xch, domid, 1, &di) != 1 ||
        di.domain != domid)
        return xldom_fail(ctx, -ESRCH, "domain %u does not exist", domid);
    info_fill(ctx, &di, out);
    return 0;
}

int xldom_lookup(struct xldom_ctx *ctx, const char *s, uint32_t *domid)
{
    unsigned int n = 0;
    char **ents, *end;
    unsigned long d;
    int found = 0;

    if (!strcmp(s, "Domain-0") || !strcmp(s, "0")) {
        *domid = 0;
        return 0;
    }
    d = strtoul(s, &end, 10);
    if (*s >= '0' && *s <= '9' && !*end && d < DOMID_FIRST_RESERVED) {
        char *name = xldom_xs_read(ctx, (uint32_t)d, "name");

        found = name || domain_exists(ctx, (uint32_t)d);
        free(name);
        if (found) {
            *domid = (uint32_t)d;
            return 0;
        }
    }
    if (ctx->xs) {
        ents = xs_directory(ctx->xs, XBT_NULL, "/local/domain", &n);
        for (unsigned int i = 0; ents && i < n && !found; i++) {
            char *v;

            d = strtoul(ents[i], &end, 10);
            if (*end)
                continue;
            v = xldom_xs_read(ctx, (uint32_t)d, "name");
            if (v && !strcmp(v, s)) {
                *domid = (uint32_t)d;
                found = 1;
            }
            free(v);
        }
        free(ents);
    }
    if (found)
        return 0;
    return xldom_fail(ctx, -ESRCH, "'%s' is an invalid domain identifier", s);
}

char *xldom_name(struct xldom_ctx *ctx, uint32_t domid)
{
    char *name;

    if (domid == 0)
        return strdup("Domain-0");
    name = xldom_xs_read(ctx, domid, "name");
    if (!name)
        xldom_fail(ctx, -ESRCH, "domain %u has no name (no such domain?)",
                   domid);
    return name;
}

/* Remove every backend directory of @domid (/local/domain/0/backend/K/D). */
static void backends_rm(struct xldom_ctx *ctx, uint32_t domid)
{
    unsigned int n = 0;
    char **kinds =
        xs_directory(ctx->xs, XBT_NULL, "/local/domain/0/backend", &n);
    char path[300];

    for (unsigned int i = 0; kinds && i < n; i++) {
        snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u", kinds[i],
                 domid);
        xs_rm(ctx->xs, XBT_NULL, path);
    }
    free(kinds);
}

int xldom_destroy(struct xldom_ctx *ctx, uint32_t domid)
{
    char path[256], *vm = NULL;
    int exists, in_xs, rc = xldom_need(ctx, XLDOM_NEED_XENHV);

    if (rc)
        return rc;
    if (domid == 0)
        return xldom_fail(ctx, -EPERM, "domain 0 cannot be destroyed");
    exists = domain_exists(ctx, domid);
    vm = xldom_xs_read(ctx, domid, "vm");
    in_xs = vm != NULL;
    if (!exists && !in_xs) {
        rc = xldom_fail(ctx, -ESRCH, "domain %u does not exist", domid);
        goto out;
    }
    if (exists && xc_domain_destroy(ctx->xch, domid) != 0 && errno != ESRCH) {
        rc = xldom_fail(ctx, -errno, "destroying domain %u: %s", domid,
                        strerror(errno));
        goto out;
    }
    if (ctx->xs) {
        /* /vm/UUID only when it is ours (a well-formed /vm/ path). */
        if (vm && !strncmp(vm, "/vm/", 4) && !strchr(vm + 4, '/'))
            xs_rm(ctx->xs, XBT_NULL, vm);
        snprintf(path, sizeof(path), "/local/domain/%u", domid);
        xs_rm(ctx->xs, XBT_NULL, path);
        snprintf(path, sizeof(path), "/libxl/%u", domid);
        xs_rm(ctx->xs, XBT_NULL, path);
        backends_rm(ctx, domid);
        xs_release_domain(ctx->xs, domid);
    }
    if (xldom_state_path(domid, path, sizeof(path)) == 0)
        unlink(path);
out:
    free(vm);
    return rc;
}

/* Pause (@pause) or unpause @domid: xc_domain_pause/unpause. */
static int pause_op(struct xldom_ctx *ctx, uint32_t domid, bool pause)
{
    const char *what = pause ? "pause" : "unpause";
    int rc = xldom_need(ctx, XLDOM_NEED_XENHV);

    if (rc)
        return rc;
    if (domid == 0 || !domain_exists(ctx, domid))
        return xldom_fail(ctx, -ESRCH, "domain %u cannot be %sd%s", domid, what,
                          domid ? ": it does not exist" : "");
    rc = pause ? xc_domain_pause(ctx->xch, domid)
               : xc_domain_unpause(ctx->xch, domid);
    if (rc != 0)
        return xldom_fail(ctx, -errno, "%sing domain %u: %s",
                          pause ? "paus" : "unpaus", domid, strerror(errno));
    return 0;
}

int xldom_pause(struct xldom_ctx *ctx, uint32_t domid)
{
    return pause_op(ctx, domid, true);
}

int xldom_unpause(struct xldom_ctx *ctx, uint32_t domid)
{
    return pause_op(ctx, domid, false);
}

int xldom_shutdown_request(struct xldom_ctx *ctx, uint32_t domid,
                           const char *reason, bool force)
{
    char feature[64], *v;
    bool has;
    int rc = xldom_need(ctx, XLDOM_NEED_XENSTORE | XLDOM_NEED_XENHV);

    if (rc)
        return rc;
    if (domid == 0 || !domain_exists(ctx, domid))
        return xldom_fail(ctx, -ESRCH, "domain %u does not exist", domid);
    snprintf(feature, sizeof(feature), "control/feature-%s", reason);
    v = xldom_xs_read(ctx, domid, feature);
    has = v && !strcmp(v, "1");
    free(v);
    if (!has && !force)
        return xldom_fail(ctx, -EOPNOTSUPP,
                          "domain %u: PV control interface not available "
                          "(no control/feature-%s): external graceful %s not "
                          "possible; use -F to force",
                          domid, reason, reason);
    return xldom_xs_write(ctx, domid, "control/shutdown", reason);
}

/* Read the whole file @path into a new NUL-terminated buffer. */
static char *file_read(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (16L << 20) &&
        fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else if (buf) {
            buf[n] = 0;
        }
    }
    fclose(f);
    return buf;
}

int xldom_config_json(struct xldom_ctx *ctx, uint32_t domid, char **json)
{
    char path[256];

    *json = NULL;
    if (xldom_state_path(domid, path, sizeof(path)) == 0)
        *json = file_read(path);
    if (!*json)
        return xldom_fail(ctx, -ENOENT, "domain %u has no saved config (%s)",
                          domid, path);
    return 0;
}

int xldom_config_save(struct xldom_ctx *ctx, uint32_t domid, const char *json)
{
    char path[256], tmp[300];
    FILE *f;
    int ok;

    if (xldom_state_path(domid, path, sizeof(path)))
        return xldom_fail(ctx, -ENAMETOOLONG, "state path too long");
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f)
        return xldom_fail(ctx, -errno, "saving the config to %s: %s", tmp,
                          strerror(errno));
    ok = fputs(json, f) >= 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return xldom_fail(ctx, -EIO, "saving the config to %s failed", path);
    }
    return 0;
}

int xldom_rename(struct xldom_ctx *ctx, uint32_t domid, const char *name)
{
    struct xlcfg_domain *d = NULL;
    char *json = NULL, *vm = NULL, *out = NULL, *why = NULL, path[300];
    int rc = xldom_need(ctx, XLDOM_NEED_XENSTORE);

    if (rc)
        return rc;
    if (!*name || strlen(name) > XLCFG_NAME_MAX || strchr(name, '/'))
        return xldom_fail(ctx, -EINVAL, "'%s' is not a valid domain name",
                          name);
    if (domid == 0)
        return xldom_fail(ctx, -EPERM, "Domain-0 cannot be renamed");
    if (xldom_name_taken(ctx, name, domid))
        return xldom_fail(ctx, -EEXIST, "domain with name '%s' already exists",
                          name);
    vm = xldom_xs_read(ctx, domid, "vm");
    if (!vm) {
        rc = xldom_fail(ctx, -ESRCH, "domain %u does not exist", domid);
        goto out;
    }
    rc = xldom_xs_write(ctx, domid, "name", name);
    if (rc)
        goto out;
    snprintf(path, sizeof(path), "%s/name", vm);
    xs_write(ctx->xs, XBT_NULL, path, name, strlen(name));
    /* The saved config follows, so that a restart keeps the new name. */
    if (xldom_config_json(ctx, domid, &json) == 0 &&
        xlcfg_domain_from_json(json, &d, &why) == 0) {
        free(d->name);
        d->name = strdup(name);
        if (d->name && xlcfg_domain_to_json(d, &out) == 0)
            xldom_config_save(ctx, domid, out);
    }
    ctx->err[0] = 0;
out:
    xlcfg_domain_free(d);
    free(json);
    free(out);
    free(why);
    free(vm);
    return rc;
}

/* libxl's LIBXL_MAXMEM_CONSTANT: slack above a target, KiB. */
#define XLDOM_MAXMEM_SLACK_KIB 1024

int xldom_set_memory(struct xldom_ctx *ctx, uint32_t domid, uint64_t kib,
                     bool target)
{
    char *v, buf[32];
    uint64_t other;
    int rc = xldom_need(ctx, XLDOM_NEED_XENSTORE | XLDOM_NEED_XENHV);

    if (rc)
        return rc;
    if (domid == 0 || !domain_exists(ctx, domid))
        return xldom_fail(ctx, -ESRCH, "domain %u does not exist", domid);
    v = xldom_xs_read(ctx, domid,
                      target ? "memory/static-max" : "memory/target");
    other = v ? strtoull(v, NULL, 10) : 0;
    free(v);
    if (kib < XLCFG_MEMORY_MIN * 1024ULL)
        return xldom_fail(ctx, -EINVAL, "domain %u: %llu KiB is below %d MiB",
                          domid, (unsigned long long)kib, XLCFG_MEMORY_MIN);
    if (target && kib > other)
        return xldom_fail(
            ctx, -EINVAL, "domain %u: target %llu KiB is above maxmem %llu KiB",
            domid, (unsigned long long)kib, (unsigned long long)other);
    if (!target && kib < other)
        return xldom_fail(ctx, -EINVAL,
                          "domain %u: maxmem %llu KiB is below the current "
                          "target %llu KiB",
                          domid, (unsigned long long)kib,
                          (unsigned long long)other);
    /*
     * As libxl_set_memory_target() (enforce, as xl mem-set asks) and
     * libxl_domain_setmaxmem(): the hypervisor's limit is the new size
     * plus LIBXL_MAXMEM_CONSTANT (1 MiB), so a guest cannot balloon back
     * up past a lowered target on its own.
     */
    if (xc_domain_setmaxmem(ctx->xch, domid, kib + XLDOM_MAXMEM_SLACK_KIB) !=
        0)
        return xldom_fail(ctx, -errno, "domain %u: setmaxmem: %s", domid,
                          strerror(errno));
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)kib);
    return xldom_xs_write(ctx, domid,
                          target ? "memory/target" : "memory/static-max", buf);
}

long xldom_console_read(struct xldom_ctx *ctx, uint32_t domid, char *buf,
                        size_t len)
{
    uint32_t n = 0, d = domid;
    int rc = xldom_need(ctx, XLDOM_NEED_XENHV);

    if (rc)
        return rc;
    if (len > XENHV_MSG_MAX)
        len = XENHV_MSG_MAX;
    rc = privcmd_call(&ctx->pc, XENHV_OP_CONSOLE_READ, &d, sizeof(d), buf,
                      (uint32_t)len, &n, NULL);
    if (rc)
        return xldom_fail(ctx, -privcmd_errno(rc),
                          "domain %u: reading its console: %s", domid,
                          strerror(privcmd_errno(rc)));
    return (long)n;
}

int xldom_vcpu_pin(struct xldom_ctx *ctx, uint32_t domid, uint32_t vcpu,
                   const uint64_t *map)
{
    int bytes, rc = 0;
    xc_cpumap_t cm;

    if (!ctx->xch)
        return xldom_fail(ctx, -ENOTCONN, "xen-hv is not connected");
    bytes = xc_get_cpumap_size(ctx->xch);
    cm = xc_cpumap_alloc(ctx->xch);
    if (!cm)
        return xldom_fail(ctx, -ENOMEM, "out of memory");
    for (int cpu = 0; cpu < bytes * 8 && cpu < XLCFG_MAX_CPUS; cpu++)
        if (map[cpu / 64] & (1ULL << (cpu % 64)))
            cm[cpu / 8] |= (uint8_t)(1u << (cpu % 8));
    if (xc_vcpu_setaffinity(ctx->xch, domid, (int)vcpu, cm, NULL,
                            XEN_VCPUAFFINITY_HARD)) {
        rc = -errno;
        xldom_fail(ctx, rc, "domain %u vCPU %u: %s", domid, vcpu,
                   errno == EINVAL ? "no online host CPU in the list"
                                   : strerror(errno));
    }
    free(cm);
    return rc;
}
