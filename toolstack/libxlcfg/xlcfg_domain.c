/*
 * xlcfg_domain.c — the typed domain configuration: the settings of an
 * xl.cfg (Xen's docs/man/xl.cfg.5.pod.in) read, range-checked and turned
 * into a struct xlcfg_domain, and the validation that JSON input shares.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlcfg_priv.h"

/* libxl's default memory when `memory` is absent (32 MiB). */
#define XLCFG_MEMORY_DEFAULT 32

/* State of one xlcfg_domain_build() run. */
struct build {
    struct xlcfg *cfg;
    struct xlcfg_domain *d;
    bool oom;
};

/* key_error: an error at the line of setting @s. */
__attribute__((format(printf, 3, 4))) static void
key_error(struct build *b, const struct xlcfg_setting *s, const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    xlcfg_diagf(b->cfg, true, s ? s->source : b->cfg->source, s ? s->line : 0,
                0, "%s", text);
    free(text);
}

/* setting: the setting @key, marked used; NULL when absent. */
static struct xlcfg_setting *setting(struct build *b, const char *key)
{
    struct xlcfg_setting *s = xlcfg_find(b->cfg, key);

    if (s)
        s->used = true;
    return s;
}

/*
 * get_str: the single value of @key in *@out (owned by cfg), NULL when
 * absent.  Returns false (error recorded) when it is a list.
 */
static bool get_str(struct build *b, const char *key, const char **out,
                    struct xlcfg_setting **where)
{
    struct xlcfg_setting *s = setting(b, key);

    *out = NULL;
    if (where)
        *where = s;
    if (!s)
        return true;
    if (s->value->type != XLCFG_V_STRING) {
        key_error(b, s, "%s must be a single value, not a list", key);
        return false;
    }
    if (!xlcfg_utf8_valid(s->value->str)) {
        key_error(b, s, "%s is not valid UTF-8", key);
        return false;
    }
    *out = s->value->str;
    return true;
}

/*
 * get_num: the number @key in [@min, @max] in *@out (unchanged when
 * absent).  Numbers are read as xl does (strtol base 0: 0x.. hex, 0..
 * octal).  Returns false (error recorded) when bad.
 */
static bool get_num(struct build *b, const char *key, long min, long max,
                    const char *unit, long *out, struct xlcfg_setting **where)
{
    struct xlcfg_setting *s;
    const char *v;
    char *end;
    long n;

    if (!get_str(b, key, &v, &s))
        return false;
    if (where)
        *where = s;
    if (!v)
        return true;
    if (s->appended) {
        key_error(b, s, "can't use += with the number %s", key);
        return false;
    }
    /* Digits first, as xl's NUMBER token (a '-' only for the message). */
    errno = 0;
    n = strtol(v, &end, 0);
    if (end == v || *end || !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))) {
        key_error(b, s, "%s '%s' is not a number", key, v);
        return false;
    }
    if (errno == ERANGE || n < min || n > max) {
        key_error(b, s, "%s = %s is out of range (%ld..%ld%s%s)", key, v, min,
                  max, unit ? " " : "", unit ? unit : "");
        return false;
    }
    *out = n;
    return true;
}

/* get_dup: strdup of the single value @key into *@out (NULL if absent). */
static bool get_dup(struct build *b, const char *key, char **out, bool nonempty)
{
    struct xlcfg_setting *s;
    const char *v;

    if (!get_str(b, key, &v, &s))
        return false;
    if (!v)
        return true;
    if (nonempty && !*v) {
        key_error(b, s, "%s must not be empty", key);
        return false;
    }
    *out = strdup(v);
    if (!*out)
        b->oom = true;
    return *out != NULL;
}

static bool build_type(struct build *b)
{
    struct xlcfg_setting *s;
    const char *v;

    if (!get_str(b, "type", &v, &s))
        return false;
    if (v && strcmp(v, "pvh")) {
        if (!strcmp(v, "pv") || !strcmp(v, "hvm"))
            key_error(b, s,
                      "type \"%s\" is not supported: xen-hv runs PVH "
                      "domains only (type = \"pvh\")",
                      v);
        else
            key_error(b, s, "unknown type \"%s\" (expected \"pvh\")", v);
        return false;
    }
    /* The pre-4.10 way to ask for HVM or PV. */
    if (!get_str(b, "builder", &v, &s))
        return false;
    if (v) {
        key_error(b, s,
                  "builder \"%s\" is not supported: xen-hv runs PVH domains "
                  "only (type = \"pvh\")",
                  v);
        return false;
    }
    return true;
}

static bool build_name(struct build *b)
{
    struct xlcfg_setting *s;
    const char *v;

    if (!get_str(b, "name", &v, &s))
        return false;
    if (!v) {
        key_error(b, NULL, "name is required");
        return false;
    }
    if (!xlcfg_name_valid(v)) {
        key_error(b, s, "name '%s' is invalid (1..%d of A-Z a-z 0-9 _ . -)", v,
                  XLCFG_NAME_MAX);
        return false;
    }
    b->d->name = strdup(v);
    if (!b->d->name)
        b->oom = true;
    return b->d->name != NULL;
}

static bool build_uuid(struct build *b)
{
    struct xlcfg_setting *s;
    const char *v;

    if (!get_str(b, "uuid", &v, &s))
        return false;
    if (!v) {
        /* xl makes one when absent: a random (version 4) UUID. */
        xlcfg_random(b->d->uuid, 16);
        b->d->uuid[6] = (b->d->uuid[6] & 0x0f) | 0x40;
        b->d->uuid[8] = (b->d->uuid[8] & 0x3f) | 0x80;
        return true;
    }
    if (xlcfg_uuid_parse(v, b->d->uuid)) {
        key_error(b, s,
                  "uuid '%s' is invalid (expected "
                  "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                  v);
        return false;
    }
    return true;
}

/* cmdline as xl builds it: cmdline, else "root=<root> <extra>". */
static bool build_cmdline(struct build *b)
{
    struct xlcfg_setting *sc, *sr, *se;
    const char *cmdline, *root, *extra;
    char *out = NULL;

    /* '|', not '||': all three are read (and marked used) either way. */
    if (!get_str(b, "cmdline", &cmdline, &sc) |
        !get_str(b, "root", &root, &sr) | !get_str(b, "extra", &extra, &se))
        return false;
    if (cmdline) {
        if (root || extra)
            xlcfg_diagf(b->cfg, false, sc->source, sc->line, 0,
                        "ignoring root= and extra= in favour of cmdline=");
        out = strdup(cmdline);
    } else if (root && extra) {
        out = xlcfg_strdup_printf("root=%s %s", root, extra);
    } else if (root) {
        out = xlcfg_strdup_printf("root=%s", root);
    } else if (extra) {
        out = strdup(extra);
    } else {
        return true;
    }
    if (!out)
        b->oom = true;
    b->d->cmdline = out;
    return out != NULL;
}

static bool build_memory_vcpus(struct build *b)
{
    struct xlcfg_setting *smax, *svmax;
    long mem = XLCFG_MEMORY_DEFAULT, maxmem = -1, vcpus = 1, maxvcpus = -1;
    bool ok = true;

    ok &= get_num(b, "memory", XLCFG_MEMORY_MIN, XLCFG_MEMORY_MAX, "MiB", &mem,
                  NULL);
    ok &= get_num(b, "maxmem", XLCFG_MEMORY_MIN, XLCFG_MEMORY_MAX, "MiB",
                  &maxmem, &smax);
    ok &= get_num(b, "vcpus", 1, XLCFG_VCPUS_MAX, NULL, &vcpus, NULL);
    ok &= get_num(b, "maxvcpus", 1, XLCFG_VCPUS_MAX, NULL, &maxvcpus, &svmax);
    if (!ok)
        return false;
    if (maxmem < 0) {
        maxmem = mem;
    } else if (maxmem < mem) {
        key_error(b, smax, "maxmem (%ld MiB) is below memory (%ld MiB)", maxmem,
                  mem);
        ok = false;
    }
    if (maxvcpus < 0) {
        maxvcpus = vcpus;
    } else if (maxvcpus < vcpus) {
        key_error(b, svmax, "maxvcpus (%ld) is below vcpus (%ld)", maxvcpus,
                  vcpus);
        ok = false;
    }
    b->d->target_memkb = (uint64_t)mem * 1024;
    b->d->max_memkb = (uint64_t)maxmem * 1024;
    b->d->vcpus = (uint32_t)vcpus;
    b->d->max_vcpus = (uint32_t)maxvcpus;
    return ok;
}

static bool build_cpus(struct build *b)
{
    struct xlcfg_setting *s = setting(b, "cpus");
    char *why = NULL;
    int rc;

    if (!s)
        return true;
    if (s->value->type == XLCFG_V_LIST) {
        key_error(b, s,
                  "per-vCPU cpus lists are not supported (use one string, "
                  "e.g. cpus = \"0-3\")");
        return false;
    }
    /* "all" alone is no pinning at all: leave cpumap unset. */
    if (!strcmp(s->value->str, "all"))
        return true;
    rc = xlcfg_cpus_parse(s->value->str, b->d->cpumap, &why);
    if (rc == -ENOMEM)
        b->oom = true;
    else if (rc)
        key_error(b, s, "%s", why);
    free(why);
    b->d->cpumap_set = rc == 0;
    return rc == 0;
}

static bool build_action(struct build *b, const char *key,
                         enum xlcfg_action dflt, enum xlcfg_action *out)
{
    static const char *const names[] = {NULL, "destroy", "restart",
                                        "rename-restart", "preserve"};
    struct xlcfg_setting *s;
    const char *v;
    size_t i;

    *out = dflt;
    if (!get_str(b, key, &v, &s))
        return false;
    if (!v)
        return true;
    for (i = 1; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(v, names[i])) {
            *out = (enum xlcfg_action)i;
            return true;
        }
    if (!strcmp(v, "coredump-destroy") || !strcmp(v, "coredump-restart") ||
        !strcmp(v, "soft-reset"))
        key_error(b, s, "%s = \"%s\" is not supported by xen-hv", key, v);
    else
        key_error(b, s,
                  "%s = \"%s\" is unknown (expected destroy, restart, "
                  "rename-restart or preserve)",
                  key, v);
    return false;
}

/*
 * list_items: the list setting @key as strings; *@n 0 when absent.  False
 * (error recorded) when it is not a list or an item is a list.
 */
static bool list_items(struct build *b, const char *key,
                       struct xlcfg_setting **where, size_t *n)
{
    struct xlcfg_setting *s = setting(b, key);
    size_t i;

    *where = s;
    *n = 0;
    if (!s)
        return true;
    if (s->value->type != XLCFG_V_LIST) {
        key_error(b, s, "%s must be a list, e.g. %s = [ '...' ]", key, key);
        return false;
    }
    for (i = 0; i < s->value->n; i++) {
        if (s->value->items[i]->type != XLCFG_V_STRING) {
            key_error(b, s, "%s[%zu] must be a string, not a list", key, i);
            return false;
        }
        if (!xlcfg_utf8_valid(s->value->items[i]->str)) {
            key_error(b, s, "%s[%zu] is not valid UTF-8", key, i);
            return false;
        }
    }
    *n = s->value->n;
    return true;
}

/*
 * One list item parser: parse @spec, item @i of its list, into the next
 * free entry of @d's array and count it.  Returns 0, -EINVAL with *@why
 * set, or -ENOMEM.
 */
typedef int (*item_fn)(struct xlcfg_domain *d, size_t i, const char *spec,
                       char **why);

static int disk_item(struct xlcfg_domain *d, size_t i, const char *spec,
                     char **why)
{
    struct xlcfg_disk *k = &d->disks[d->num_disks];
    size_t j;
    int rc;

    rc = xlcfg_disk_parse(spec, k, why);
    if (rc)
        return rc;
    for (j = 0; j < d->num_disks; j++)
        if (d->disks[j].devid == k->devid) {
            *why = xlcfg_strdup_printf("vdev %s is already used", k->vdev);
            xlcfg_disk_clear(k);
            return *why ? -EINVAL : -ENOMEM;
        }
    d->num_disks++;
    return 0;
}

static int nic_item(struct xlcfg_domain *d, size_t i, const char *spec,
                    char **why)
{
    struct xlcfg_nic *nic = &d->nics[d->num_nics];
    size_t j;
    int rc;

    rc = xlcfg_nic_parse(spec, (uint32_t)i, nic, why);
    if (rc)
        return rc;
    for (j = 0; j < d->num_nics; j++)
        if (!memcmp(d->nics[j].mac, nic->mac, 6)) {
            *why = xlcfg_strdup_printf("mac is already used");
            xlcfg_nic_clear(nic);
            return *why ? -EINVAL : -ENOMEM;
        }
    d->num_nics++;
    return 0;
}

/*
 * build_devices: list setting @key (disk or vif), each item parsed by @fn
 * into *@array (allocated here, @size bytes an entry).
 */
static bool build_devices(struct build *b, const char *key, void **array,
                          size_t size, item_fn fn)
{
    struct xlcfg_setting *s;
    char *why = NULL;
    bool ok = true;
    size_t i, n;
    int rc;

    if (!list_items(b, key, &s, &n))
        return false;
    if (!n)
        return true;
    *array = calloc(n, size);
    if (!*array) {
        b->oom = true;
        return false;
    }
    for (i = 0; i < n; i++) {
        const char *spec = s->value->items[i]->str;

        rc = fn(b->d, i, spec, &why);
        if (rc == -ENOMEM) {
            b->oom = true;
            return false;
        }
        if (rc) {
            key_error(b, s, "%s[%zu] '%s': %s", key, i, spec, why);
            ok = false;
        }
        free(why);
        why = NULL;
    }
    return ok;
}

/* Settings xen-hv does not support are warned about, each once. */
static void warn_unused(struct build *b)
{
    size_t i;

    for (i = 0; i < b->cfg->nsettings; i++) {
        struct xlcfg_setting *s = &b->cfg->settings[i];

        if (!s->used)
            xlcfg_diagf(b->cfg, false, s->source, s->line, 0,
                        "unknown or unsupported setting '%s' ignored", s->name);
    }
}

int xlcfg_domain_build(struct xlcfg *cfg, struct xlcfg_domain **out)
{
    struct build b = {.cfg = cfg};
    struct xlcfg_domain *d;
    long gnt = XLCFG_GNT_FRAMES, evtchn = XLCFG_EVTCHN, keep = 0;
    bool ok = true;
    char *why;
    int rc;

    *out = NULL;
    if (!cfg->source) {
        cfg->source = strdup("<config>");
        if (!cfg->source)
            return -ENOMEM;
    }
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    b.d = d;
    /* Every check runs so that all errors are reported at once. */
    ok &= build_type(&b);
    ok &= build_name(&b);
    ok &= build_uuid(&b);
    ok &= get_dup(&b, "kernel", &d->kernel, true);
    if (!d->kernel && !xlcfg_find(cfg, "kernel")) {
        key_error(&b, NULL,
                  "kernel is required (xen-hv boots PVH kernels directly)");
        ok = false;
    }
    ok &= get_dup(&b, "ramdisk", &d->ramdisk, true);
    ok &= build_cmdline(&b);
    ok &= build_memory_vcpus(&b);
    ok &= build_cpus(&b);
    ok &=
        build_action(&b, "on_poweroff", XLCFG_ACTION_DESTROY, &d->on_poweroff);
    ok &= build_action(&b, "on_reboot", XLCFG_ACTION_RESTART, &d->on_reboot);
    ok &= build_action(&b, "on_crash", XLCFG_ACTION_DESTROY, &d->on_crash);
    ok &=
        build_action(&b, "on_watchdog", XLCFG_ACTION_DESTROY, &d->on_watchdog);
    ok &= build_devices(&b, "disk", (void **)&d->disks, sizeof(*d->disks),
                        disk_item);
    ok &=
        build_devices(&b, "vif", (void **)&d->nics, sizeof(*d->nics), nic_item);
    ok &= get_num(&b, "max_grant_frames", 1, XLCFG_GNT_MAX, NULL, &gnt, NULL);
    ok &= get_num(&b, "max_event_channels", 1, XLCFG_EVTCHN_MAX, NULL, &evtchn,
                  NULL);
    d->max_grant_frames = (uint32_t)gnt;
    d->max_event_channels = (uint32_t)evtchn;
    ok &= get_num(&b, "xenhv_keep_vmcall", 0, 1, NULL, &keep, NULL);
    d->keep_vmcall = keep != 0;
    warn_unused(&b);
    if (b.oom || cfg->oom) {
        rc = -ENOMEM;
        goto out;
    }
    if (!ok || cfg->nerrors) {
        rc = -EINVAL;
        goto out;
    }
    /* The per-key checks above cover these; this is the safety net. */
    rc = xlcfg_domain_validate(d, &why);
    if (rc) {
        if (why)
            xlcfg_diagf(cfg, true, cfg->source, 0, 0, "%s", why);
        free(why);
        goto out;
    }
    *out = d;
    d = NULL;
    rc = 0;
out:
    xlcfg_domain_free(d);
    return rc;
}

void xlcfg_domain_free(struct xlcfg_domain *d)
{
    size_t i;

    if (!d)
        return;
    for (i = 0; i < d->num_disks; i++)
        xlcfg_disk_clear(&d->disks[i]);
    for (i = 0; i < d->num_nics; i++)
        xlcfg_nic_clear(&d->nics[i]);
    free(d->disks);
    free(d->nics);
    free(d->name);
    free(d->kernel);
    free(d->ramdisk);
    free(d->cmdline);
    free(d);
}

/* fail: set *@why to the formatted reason; -EINVAL, or -ENOMEM. */
__attribute__((format(printf, 2, 3))) static int fail(char **why,
                                                      const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vasprintf(why, fmt, ap);
    va_end(ap);
    if (n < 0) {
        *why = NULL;
        return -ENOMEM;
    }
    return -EINVAL;
}

/* utf8_ok: NULL or valid UTF-8 (JSON carries nothing else). */
static bool utf8_ok(const char *s)
{
    return !s || xlcfg_utf8_valid(s);
}

static int validate_disk(const struct xlcfg_disk *k, size_t i, char **why)
{
    uint32_t devid;

    if (!utf8_ok(k->pdev_path) || !utf8_ok(k->vdev) ||
        !utf8_ok(k->backend_domname) || !utf8_ok(k->script))
        return fail(why, "disk %zu: string not UTF-8", i);
    if (!k->vdev || xlcfg_vdev_to_devid(k->vdev, &devid) || devid != k->devid)
        return fail(why, "disk %zu: bad vdev or devid", i);
    if (!k->pdev_path && !k->is_cdrom)
        return fail(why, "disk %zu: no target", i);
    if (!xlcfg_format_name(k->format) || k->format == XLCFG_FORMAT_UNKNOWN ||
        !xlcfg_backend_name(k->backend))
        return fail(why, "disk %zu: bad format or backend", i);
    if ((unsigned int)k->discard_enable > XLCFG_TRUE ||
        (unsigned int)k->trusted > XLCFG_TRUE)
        return fail(why, "disk %zu: bad flag", i);
    return 0;
}

static int validate_nic(const struct xlcfg_nic *n, size_t i, char **why)
{
    if (!utf8_ok(n->bridge) || !utf8_ok(n->ip) || !utf8_ok(n->model) ||
        !utf8_ok(n->ifname) || !utf8_ok(n->script) ||
        !utf8_ok(n->backend_domname) || !utf8_ok(n->gatewaydev))
        return fail(why, "nic %zu: string not UTF-8", i);
    if (n->mac[0] & 1)
        return fail(why, "nic %zu: multicast mac", i);
    if (n->devid != i)
        return fail(why, "nic %zu: devid %u", i, n->devid);
    if (!xlcfg_nictype_name(n->nictype))
        return fail(why, "nic %zu: bad nictype", i);
    if (n->mtu && (n->mtu < 68 || n->mtu > 65535))
        return fail(why, "nic %zu: mtu %u", i, n->mtu);
    if ((n->rate_interval_usecs == 0) != (n->rate_bytes_per_interval == 0))
        return fail(why, "nic %zu: bad rate", i);
    return 0;
}

int xlcfg_domain_validate(const struct xlcfg_domain *d, char **why)
{
    uint64_t min = (uint64_t)XLCFG_MEMORY_MIN * 1024;
    uint64_t max = (uint64_t)XLCFG_MEMORY_MAX * 1024;
    size_t i;
    int rc;

    if (!d->name || !xlcfg_name_valid(d->name))
        return fail(why, "bad or missing name");
    if (!d->kernel || !*d->kernel)
        return fail(why, "missing kernel");
    if (!utf8_ok(d->kernel) || !utf8_ok(d->ramdisk) || !utf8_ok(d->cmdline))
        return fail(why, "kernel, ramdisk or cmdline not UTF-8");
    if (d->target_memkb < min || d->target_memkb > max ||
        d->target_memkb % 1024)
        return fail(why, "target_memkb %llu out of range",
                    (unsigned long long)d->target_memkb);
    if (d->max_memkb < d->target_memkb || d->max_memkb > max ||
        d->max_memkb % 1024)
        return fail(why, "max_memkb %llu out of range",
                    (unsigned long long)d->max_memkb);
    if (d->vcpus < 1 || d->vcpus > d->max_vcpus ||
        d->max_vcpus > XLCFG_VCPUS_MAX)
        return fail(why, "vcpus %u / max_vcpus %u out of range", d->vcpus,
                    d->max_vcpus);
    if (d->max_grant_frames < 1 || d->max_grant_frames > XLCFG_GNT_MAX)
        return fail(why, "max_grant_frames %u out of range",
                    d->max_grant_frames);
    if (d->max_event_channels < 1 || d->max_event_channels > XLCFG_EVTCHN_MAX)
        return fail(why, "event_channels %u out of range",
                    d->max_event_channels);
    if (d->cpumap_set) {
        bool any = false;

        for (i = 0; i < XLCFG_MAX_CPUS / 64; i++)
            any |= d->cpumap[i] != 0;
        if (!any)
            return fail(why, "cpumap selects no CPU");
    }
    if (!xlcfg_action_name(d->on_poweroff) ||
        !xlcfg_action_name(d->on_reboot) || !xlcfg_action_name(d->on_crash) ||
        !xlcfg_action_name(d->on_watchdog))
        return fail(why, "bad on_* action");
    for (i = 0; i < d->num_disks; i++)
        if ((rc = validate_disk(&d->disks[i], i, why)))
            return rc;
    for (i = 0; i < d->num_nics; i++)
        if ((rc = validate_nic(&d->nics[i], i, why)))
            return rc;
    *why = NULL;
    return 0;
}
