/*
 * xlcfg_json.c — struct xlcfg_domain to and from JSON with yajl.  Field
 * names are libxl's libxl_domain_config ones (tools/libs/light/
 * libxl_types.idl: c_info, b_info, disks, nics, on_*; enums as their
 * lowercase names, defbools as "True"/"False"), so that the state the
 * toolstack keeps reads like `xl list -l`.  Two additions of ours: each
 * disk's "devid" (its virtual device number) and b_info's "cpumap" holding
 * the `cpus` affinity of every vCPU.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "xlcfg_priv.h"

/* ---- encode ---- */

static void gen_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_key_str(yajl_gen g, const char *key, const char *val)
{
    if (!val)
        return;
    gen_str(g, key);
    gen_str(g, val);
}

static void gen_key_int(yajl_gen g, const char *key, long long val)
{
    gen_str(g, key);
    yajl_gen_integer(g, val);
}

static void gen_key_defbool(yajl_gen g, const char *key, enum xlcfg_defbool v)
{
    if (v != XLCFG_DEFAULT)
        gen_key_str(g, key, v == XLCFG_TRUE ? "True" : "False");
}

static void gen_disk(yajl_gen g, const struct xlcfg_disk *k)
{
    yajl_gen_map_open(g);
    gen_key_str(g, "backend_domname", k->backend_domname);
    gen_key_str(g, "pdev_path", k->pdev_path);
    gen_key_str(g, "vdev", k->vdev);
    gen_key_int(g, "devid", k->devid);
    gen_key_str(g, "backend", xlcfg_backend_name(k->backend));
    gen_key_str(g, "format", xlcfg_format_name(k->format));
    gen_key_str(g, "script", k->script);
    gen_key_int(g, "readwrite", k->readwrite);
    gen_key_int(g, "is_cdrom", k->is_cdrom);
    gen_str(g, "direct_io_safe");
    yajl_gen_bool(g, k->direct_io_safe);
    gen_key_defbool(g, "discard_enable", k->discard_enable);
    gen_key_defbool(g, "trusted", k->trusted);
    yajl_gen_map_close(g);
}

static void gen_nic(yajl_gen g, const struct xlcfg_nic *n)
{
    char mac[18];

    xlcfg_mac_format(n->mac, mac);
    yajl_gen_map_open(g);
    gen_key_str(g, "backend_domname", n->backend_domname);
    gen_key_int(g, "devid", n->devid);
    if (n->mtu)
        gen_key_int(g, "mtu", n->mtu);
    gen_key_str(g, "model", n->model);
    gen_key_str(g, "mac", mac);
    gen_key_str(g, "ip", n->ip);
    gen_key_str(g, "bridge", n->bridge);
    gen_key_str(g, "ifname", n->ifname);
    gen_key_str(g, "script", n->script);
    if (n->nictype != XLCFG_NIC_UNKNOWN)
        gen_key_str(g, "nictype", xlcfg_nictype_name(n->nictype));
    if (n->rate_interval_usecs) {
        gen_key_int(g, "rate_bytes_per_interval",
                    (long long)n->rate_bytes_per_interval);
        gen_key_int(g, "rate_interval_usecs", n->rate_interval_usecs);
    }
    gen_key_str(g, "gatewaydev", n->gatewaydev);
    yajl_gen_map_close(g);
}

static void gen_b_info(yajl_gen g, const struct xlcfg_domain *d)
{
    unsigned int i;

    yajl_gen_map_open(g);
    gen_key_int(g, "max_vcpus", d->max_vcpus);
    gen_str(g, "avail_vcpus");
    yajl_gen_array_open(g);
    for (i = 0; i < d->vcpus; i++)
        yajl_gen_integer(g, i);
    yajl_gen_array_close(g);
    if (d->cpumap_set) {
        gen_str(g, "cpumap");
        yajl_gen_array_open(g);
        for (i = 0; i < XLCFG_MAX_CPUS; i++)
            if (d->cpumap[i / 64] & (1ull << (i % 64)))
                yajl_gen_integer(g, i);
        yajl_gen_array_close(g);
    }
    gen_key_int(g, "max_memkb", (long long)d->max_memkb);
    gen_key_int(g, "target_memkb", (long long)d->target_memkb);
    gen_key_str(g, "kernel", d->kernel);
    gen_key_str(g, "cmdline", d->cmdline);
    gen_key_str(g, "ramdisk", d->ramdisk);
    gen_key_int(g, "max_grant_frames", d->max_grant_frames);
    gen_key_int(g, "event_channels", d->max_event_channels);
    if (d->keep_vmcall)
        gen_key_int(g, "xenhv_keep_vmcall", 1);
    yajl_gen_map_close(g);
}

int xlcfg_domain_to_json(const struct xlcfg_domain *d, char **json)
{
    const unsigned char *buf;
    char uuid[37], *why;
    size_t len, i;
    yajl_gen g;
    int rc;

    *json = NULL;
    rc = xlcfg_domain_validate(d, &why);
    free(why);
    if (rc)
        return rc;
    rc = -ENOMEM;
    g = yajl_gen_alloc(NULL);
    if (!g)
        return -ENOMEM;
    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_gen_config(g, yajl_gen_indent_string, "    ");
    /* Strings were checked when built; this keeps bad JSON from leaving. */
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    xlcfg_uuid_format(d->uuid, uuid);
    yajl_gen_map_open(g);
    gen_str(g, "c_info");
    yajl_gen_map_open(g);
    gen_key_str(g, "type", "pvh");
    gen_key_str(g, "name", d->name);
    gen_key_str(g, "uuid", uuid);
    yajl_gen_map_close(g);
    gen_str(g, "b_info");
    gen_b_info(g, d);
    gen_str(g, "disks");
    yajl_gen_array_open(g);
    for (i = 0; i < d->num_disks; i++)
        gen_disk(g, &d->disks[i]);
    yajl_gen_array_close(g);
    gen_str(g, "nics");
    yajl_gen_array_open(g);
    for (i = 0; i < d->num_nics; i++)
        gen_nic(g, &d->nics[i]);
    yajl_gen_array_close(g);
    gen_key_str(g, "on_poweroff", xlcfg_action_name(d->on_poweroff));
    gen_key_str(g, "on_reboot", xlcfg_action_name(d->on_reboot));
    gen_key_str(g, "on_watchdog", xlcfg_action_name(d->on_watchdog));
    gen_key_str(g, "on_crash", xlcfg_action_name(d->on_crash));
    yajl_gen_map_close(g);
    if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
        rc = -EINVAL;
        goto out;
    }
    *json = strndup((const char *)buf, len);
    if (*json)
        rc = 0;
out:
    yajl_gen_free(g);
    return rc;
}

/* ---- decode ---- */

struct dec {
    char *err; /* first error */
    bool oom;
};

__attribute__((format(printf, 2, 3))) static void dec_err(struct dec *dc,
                                                          const char *fmt, ...)
{
    va_list ap;

    if (dc->err || dc->oom)
        return;
    va_start(ap, fmt);
    if (vasprintf(&dc->err, fmt, ap) < 0) {
        dc->err = NULL;
        dc->oom = true;
    }
    va_end(ap);
}

/* field: member @key of object @obj, NULL when absent. */
static yajl_val field(yajl_val obj, const char *key)
{
    size_t i;

    if (!YAJL_IS_OBJECT(obj))
        return NULL;
    for (i = 0; i < obj->u.object.len; i++)
        if (!strcmp(obj->u.object.keys[i], key))
            return obj->u.object.values[i];
    return NULL;
}

/* dec_str: optional string member into *@out (malloc'ed). */
static void dec_str(struct dec *dc, yajl_val obj, const char *key, char **out)
{
    yajl_val v = field(obj, key);

    if (!v || YAJL_IS_NULL(v))
        return;
    if (!YAJL_IS_STRING(v)) {
        dec_err(dc, "%s must be a string", key);
        return;
    }
    free(*out);
    *out = strdup(v->u.string);
    if (!*out)
        dc->oom = true;
}

/* dec_int: integer member in [@min, @max] into *@out (kept if absent). */
static void dec_int(struct dec *dc, yajl_val obj, const char *key,
                    long long min, long long max, long long *out)
{
    yajl_val v = field(obj, key);

    if (!v)
        return;
    if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < min ||
        YAJL_GET_INTEGER(v) > max) {
        dec_err(dc, "%s must be an integer in %lld..%lld", key, min, max);
        return;
    }
    *out = YAJL_GET_INTEGER(v);
}

/* dec_enum: string member naming one of @name(0..@n-1) into *@out. */
static void dec_enum(struct dec *dc, yajl_val obj, const char *key,
                     const char *(*name)(int), int lo, int hi, int *out)
{
    yajl_val v = field(obj, key);
    int i;

    if (!v)
        return;
    if (YAJL_IS_STRING(v))
        for (i = lo; i <= hi; i++)
            if (name(i) && !strcmp(name(i), v->u.string)) {
                *out = i;
                return;
            }
    dec_err(dc, "%s: unknown value", key);
}

static const char *action_name_int(int i)
{
    return xlcfg_action_name((enum xlcfg_action)i);
}

static const char *format_name_int(int i)
{
    return xlcfg_format_name((enum xlcfg_disk_format)i);
}

static const char *backend_name_int(int i)
{
    return xlcfg_backend_name((enum xlcfg_disk_backend)i);
}

static const char *nictype_name_int(int i)
{
    return xlcfg_nictype_name((enum xlcfg_nic_type)i);
}

static const char *defbool_name_int(int i)
{
    static const char *const names[] = {"<default>", "False", "True"};

    return i >= 0 && i <= 2 ? names[i] : NULL;
}

static void dec_bool(struct dec *dc, yajl_val obj, const char *key, bool *out)
{
    yajl_val v = field(obj, key);

    if (!v)
        return;
    if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
        *out = YAJL_IS_TRUE(v);
    else
        dec_err(dc, "%s must be true or false", key);
}

static void dec_disk(struct dec *dc, yajl_val o, struct xlcfg_disk *k)
{
    long long n;
    int e;

    if (!YAJL_IS_OBJECT(o)) {
        dec_err(dc, "disks entries must be objects");
        return;
    }
    dec_str(dc, o, "backend_domname", &k->backend_domname);
    dec_str(dc, o, "pdev_path", &k->pdev_path);
    dec_str(dc, o, "vdev", &k->vdev);
    dec_str(dc, o, "script", &k->script);
    n = 0;
    dec_int(dc, o, "devid", 0, UINT32_MAX, &n);
    k->devid = (uint32_t)n;
    e = XLCFG_FORMAT_RAW;
    dec_enum(dc, o, "format", format_name_int, 1, 6, &e);
    k->format = (enum xlcfg_disk_format)e;
    e = XLCFG_BACKEND_UNKNOWN;
    dec_enum(dc, o, "backend", backend_name_int, 0, 4, &e);
    k->backend = (enum xlcfg_disk_backend)e;
    n = 1;
    dec_int(dc, o, "readwrite", 0, 1, &n);
    k->readwrite = n;
    n = 0;
    dec_int(dc, o, "is_cdrom", 0, 1, &n);
    k->is_cdrom = n;
    dec_bool(dc, o, "direct_io_safe", &k->direct_io_safe);
    e = XLCFG_DEFAULT;
    dec_enum(dc, o, "discard_enable", defbool_name_int, 0, 2, &e);
    k->discard_enable = (enum xlcfg_defbool)e;
    e = XLCFG_DEFAULT;
    dec_enum(dc, o, "trusted", defbool_name_int, 0, 2, &e);
    k->trusted = (enum xlcfg_defbool)e;
}

static void dec_nic(struct dec *dc, yajl_val o, size_t idx, struct xlcfg_nic *n)
{
    yajl_val mac = field(o, "mac");
    long long v;
    int e;

    if (!YAJL_IS_OBJECT(o)) {
        dec_err(dc, "nics entries must be objects");
        return;
    }
    v = (long long)idx;
    dec_int(dc, o, "devid", 0, UINT32_MAX, &v);
    n->devid = (uint32_t)v;
    v = 0;
    dec_int(dc, o, "mtu", 0, 65535, &v);
    n->mtu = (uint32_t)v;
    dec_str(dc, o, "model", &n->model);
    dec_str(dc, o, "ip", &n->ip);
    dec_str(dc, o, "bridge", &n->bridge);
    dec_str(dc, o, "ifname", &n->ifname);
    dec_str(dc, o, "script", &n->script);
    dec_str(dc, o, "backend_domname", &n->backend_domname);
    dec_str(dc, o, "gatewaydev", &n->gatewaydev);
    if (!YAJL_IS_STRING(mac) || xlcfg_mac_parse(mac->u.string, n->mac))
        dec_err(dc, "nic %zu: mac missing or invalid", idx);
    e = XLCFG_NIC_UNKNOWN;
    dec_enum(dc, o, "nictype", nictype_name_int, 0, 2, &e);
    n->nictype = (enum xlcfg_nic_type)e;
    v = 0;
    dec_int(dc, o, "rate_bytes_per_interval", 0, INT64_MAX, &v);
    n->rate_bytes_per_interval = (uint64_t)v;
    v = 0;
    dec_int(dc, o, "rate_interval_usecs", 0, UINT32_MAX, &v);
    n->rate_interval_usecs = (uint32_t)v;
}

static void dec_b_info(struct dec *dc, yajl_val b, struct xlcfg_domain *d)
{
    yajl_val avail = field(b, "avail_vcpus"), map = field(b, "cpumap");
    long long n;
    size_t i;

    if (!YAJL_IS_OBJECT(b)) {
        dec_err(dc, "b_info must be an object");
        return;
    }
    n = 0;
    dec_int(dc, b, "max_vcpus", 1, XLCFG_VCPUS_MAX, &n);
    d->max_vcpus = (uint32_t)n;
    /* avail_vcpus: vCPUs 0..vcpus-1, the only shape xl.cfg can give. */
    if (!YAJL_IS_ARRAY(avail) || avail->u.array.len > XLCFG_VCPUS_MAX) {
        dec_err(dc, "b_info.avail_vcpus must be an array");
    } else {
        for (i = 0; i < avail->u.array.len; i++)
            if (!YAJL_IS_INTEGER(avail->u.array.values[i]) ||
                YAJL_GET_INTEGER(avail->u.array.values[i]) != (long long)i)
                dec_err(dc, "b_info.avail_vcpus must be 0..vcpus-1");
        d->vcpus = (uint32_t)avail->u.array.len;
    }
    if (map) {
        if (!YAJL_IS_ARRAY(map))
            dec_err(dc, "b_info.cpumap must be an array");
        for (i = 0; YAJL_IS_ARRAY(map) && i < map->u.array.len; i++) {
            yajl_val c = map->u.array.values[i];

            if (!YAJL_IS_INTEGER(c) || YAJL_GET_INTEGER(c) < 0 ||
                YAJL_GET_INTEGER(c) >= XLCFG_MAX_CPUS) {
                dec_err(dc, "b_info.cpumap entries must be CPUs below %d",
                        XLCFG_MAX_CPUS);
                break;
            }
            n = YAJL_GET_INTEGER(c);
            d->cpumap[n / 64] |= 1ull << (n % 64);
            d->cpumap_set = true;
        }
        if (!d->cpumap_set)
            dec_err(dc, "b_info.cpumap selects no CPU");
    }
    n = 0;
    dec_int(dc, b, "max_memkb", 0, INT64_MAX, &n);
    d->max_memkb = (uint64_t)n;
    n = 0;
    dec_int(dc, b, "target_memkb", 0, INT64_MAX, &n);
    d->target_memkb = (uint64_t)n;
    dec_str(dc, b, "kernel", &d->kernel);
    dec_str(dc, b, "cmdline", &d->cmdline);
    dec_str(dc, b, "ramdisk", &d->ramdisk);
    n = XLCFG_GNT_FRAMES;
    dec_int(dc, b, "max_grant_frames", 0, UINT32_MAX, &n);
    d->max_grant_frames = (uint32_t)n;
    n = XLCFG_EVTCHN;
    dec_int(dc, b, "event_channels", 0, UINT32_MAX, &n);
    d->max_event_channels = (uint32_t)n;
    n = 0;
    dec_int(dc, b, "xenhv_keep_vmcall", 0, 1, &n);
    d->keep_vmcall = n != 0;
}

/* dec_array: the array member @key (absent = empty) and its length. */
static yajl_val dec_array(struct dec *dc, yajl_val root, const char *key,
                          size_t *len)
{
    yajl_val v = field(root, key);

    *len = 0;
    if (!v)
        return NULL;
    if (!YAJL_IS_ARRAY(v)) {
        dec_err(dc, "%s must be an array", key);
        return NULL;
    }
    *len = v->u.array.len;
    return v;
}

static void dec_devices(struct dec *dc, yajl_val root, struct xlcfg_domain *d)
{
    yajl_val disks, nics;
    size_t i, nd, nn;

    disks = dec_array(dc, root, "disks", &nd);
    nics = dec_array(dc, root, "nics", &nn);
    /* calloc(0) may return NULL: allocate at least one entry. */
    d->disks = calloc(nd ? nd : 1, sizeof(*d->disks));
    d->nics = calloc(nn ? nn : 1, sizeof(*d->nics));
    if (!d->disks || !d->nics) {
        dc->oom = true;
        return;
    }
    d->num_disks = nd;
    d->num_nics = nn;
    for (i = 0; i < nd; i++)
        dec_disk(dc, disks->u.array.values[i], &d->disks[i]);
    for (i = 0; i < nn; i++)
        dec_nic(dc, nics->u.array.values[i], i, &d->nics[i]);
}

/* How deep our JSON nests: the document, b_info, a cpumap or a device. */
#define JSON_DEPTH_MAX 8

/*
 * json_depth_ok: @json nests objects and arrays at most @max deep.  yajl's
 * tree is built and freed recursively, so a document of a million '['
 * would exhaust the stack before any field check could refuse it.
 */
static bool json_depth_ok(const char *json, unsigned int max)
{
    unsigned int depth = 0;
    bool in_string = false;
    const char *p;

    for (p = json; *p; p++) {
        if (in_string) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                in_string = false;
        } else if (*p == '"') {
            in_string = true;
        } else if (*p == '[' || *p == '{') {
            if (++depth > max)
                return false;
        } else if ((*p == ']' || *p == '}') && depth) {
            depth--;
        }
    }
    return true;
}

int xlcfg_domain_from_json(const char *json, struct xlcfg_domain **out,
                           char **err)
{
    struct xlcfg_domain *d = NULL;
    struct dec dc = {0};
    yajl_val root, c_info, uuid, type;
    char ebuf[256] = "";
    int e, rc;

    *out = NULL;
    root = NULL;
    if (!json_depth_ok(json, JSON_DEPTH_MAX)) {
        dec_err(&dc, "JSON nested deeper than %d", JSON_DEPTH_MAX);
        goto out;
    }
    root = yajl_tree_parse(json, ebuf, sizeof(ebuf));
    if (!root) {
        /* yajl adds lines that point at the error: keep the first. */
        ebuf[strcspn(ebuf, "\n")] = '\0';
        dec_err(&dc, "bad JSON: %s", ebuf);
        goto out;
    }
    if (!YAJL_IS_OBJECT(root)) {
        dec_err(&dc, "top level must be an object");
        goto out;
    }
    d = calloc(1, sizeof(*d));
    if (!d) {
        dc.oom = true;
        goto out;
    }
    c_info = field(root, "c_info");
    if (!YAJL_IS_OBJECT(c_info)) {
        dec_err(&dc, "c_info must be an object");
        goto out;
    }
    type = field(c_info, "type");
    if (type && (!YAJL_IS_STRING(type) || strcmp(type->u.string, "pvh")))
        dec_err(&dc, "c_info.type must be \"pvh\"");
    dec_str(&dc, c_info, "name", &d->name);
    uuid = field(c_info, "uuid");
    if (!YAJL_IS_STRING(uuid) || xlcfg_uuid_parse(uuid->u.string, d->uuid))
        dec_err(&dc, "c_info.uuid missing or invalid");
    dec_b_info(&dc, field(root, "b_info"), d);
    dec_devices(&dc, root, d);
    e = XLCFG_ACTION_DESTROY;
    dec_enum(&dc, root, "on_poweroff", action_name_int, 1, 4, &e);
    d->on_poweroff = (enum xlcfg_action)e;
    e = XLCFG_ACTION_RESTART;
    dec_enum(&dc, root, "on_reboot", action_name_int, 1, 4, &e);
    d->on_reboot = (enum xlcfg_action)e;
    e = XLCFG_ACTION_DESTROY;
    dec_enum(&dc, root, "on_watchdog", action_name_int, 1, 4, &e);
    d->on_watchdog = (enum xlcfg_action)e;
    e = XLCFG_ACTION_DESTROY;
    dec_enum(&dc, root, "on_crash", action_name_int, 1, 4, &e);
    d->on_crash = (enum xlcfg_action)e;
    if (!dc.err && !dc.oom && xlcfg_domain_validate(d, &dc.err) == -ENOMEM)
        dc.oom = true;
out:
    yajl_tree_free(root);
    rc = dc.oom ? -ENOMEM : dc.err ? -EINVAL : 0;
    if (rc) {
        xlcfg_domain_free(d);
        d = NULL;
    }
    *out = d;
    if (err)
        *err = dc.err;
    else
        free(dc.err);
    return rc;
}

/* ---- equality ---- */

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static bool disk_eq(const struct xlcfg_disk *a, const struct xlcfg_disk *b)
{
    return str_eq(a->pdev_path, b->pdev_path) && str_eq(a->vdev, b->vdev) &&
           a->devid == b->devid &&
           str_eq(a->backend_domname, b->backend_domname) &&
           str_eq(a->script, b->script) && a->format == b->format &&
           a->backend == b->backend && a->readwrite == b->readwrite &&
           a->is_cdrom == b->is_cdrom &&
           a->direct_io_safe == b->direct_io_safe &&
           a->discard_enable == b->discard_enable && a->trusted == b->trusted;
}

static bool nic_eq(const struct xlcfg_nic *a, const struct xlcfg_nic *b)
{
    return a->devid == b->devid && !memcmp(a->mac, b->mac, 6) &&
           str_eq(a->bridge, b->bridge) && str_eq(a->ip, b->ip) &&
           str_eq(a->model, b->model) && str_eq(a->ifname, b->ifname) &&
           str_eq(a->script, b->script) &&
           str_eq(a->backend_domname, b->backend_domname) &&
           str_eq(a->gatewaydev, b->gatewaydev) && a->nictype == b->nictype &&
           a->mtu == b->mtu &&
           a->rate_bytes_per_interval == b->rate_bytes_per_interval &&
           a->rate_interval_usecs == b->rate_interval_usecs;
}

bool xlcfg_domain_equal(const struct xlcfg_domain *a,
                        const struct xlcfg_domain *b)
{
    size_t i;

    if (!str_eq(a->name, b->name) || memcmp(a->uuid, b->uuid, 16) ||
        a->max_vcpus != b->max_vcpus || a->vcpus != b->vcpus ||
        a->max_memkb != b->max_memkb || a->target_memkb != b->target_memkb ||
        a->cpumap_set != b->cpumap_set ||
        (a->cpumap_set && memcmp(a->cpumap, b->cpumap, sizeof(a->cpumap))) ||
        !str_eq(a->kernel, b->kernel) || !str_eq(a->ramdisk, b->ramdisk) ||
        !str_eq(a->cmdline, b->cmdline) ||
        a->max_grant_frames != b->max_grant_frames ||
        a->max_event_channels != b->max_event_channels ||
        a->keep_vmcall != b->keep_vmcall || a->on_poweroff != b->on_poweroff || a->on_reboot != b->on_reboot ||
        a->on_crash != b->on_crash || a->on_watchdog != b->on_watchdog ||
        a->num_disks != b->num_disks || a->num_nics != b->num_nics)
        return false;
    for (i = 0; i < a->num_disks; i++)
        if (!disk_eq(&a->disks[i], &b->disks[i]))
            return false;
    for (i = 0; i < a->num_nics; i++)
        if (!nic_eq(&a->nics[i], &b->nics[i]))
            return false;
    return true;
}
