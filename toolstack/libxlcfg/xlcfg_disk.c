/*
 * xlcfg_disk.c — DISKSPEC strings (Xen's docs/man/xl-disk-configuration.5
 * .pod.in) and virtual device names to Xen virtual device numbers
 * (docs/man/xen-vbd-interface.7.pandoc).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlcfg_priv.h"

/*
 * Letters to a disk number, bijective base 26 as the xvd names count:
 * a=0 .. z=25, aa=26 .. zz=701.  Accepts one or two letters (xvda..xvdzz,
 * the range our brief and xl's common use cover).  Returns the number of
 * letters consumed, 0 if none.
 */
static int letters_to_disk(const char *s, unsigned int *disk)
{
    if (s[0] < 'a' || s[0] > 'z')
        return 0;
    if (s[1] >= 'a' && s[1] <= 'z') {
        *disk =
            (unsigned int)(s[0] - 'a' + 1) * 26 + (unsigned int)(s[1] - 'a');
        return 2;
    }
    *disk = (unsigned int)(s[0] - 'a');
    return 1;
}

/* Decimal without sign or leading zero (except "0"); false if not. */
static bool parse_dec(const char *s, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;

    if (!*s || (s[0] == '0' && s[1]))
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

/*
 * The encodings of xen-vbd-interface.7 "Concrete encoding":
 *   1 << 28 | disk << 8 | partition      xvd, disks or partitions 16 on
 *   202 << 8 | disk << 4 | partition     xvd, disks and partitions < 16
 *   8 << 8 | disk << 4 | partition       sd, disks and partitions < 16
 *   3 << 8 | disk << 6 | partition       hd, disks 0..1, partitions < 64
 *   22 << 8 | (disk-2) << 6 | partition  hd, disks 2..3, partitions < 64
 */
static int encode_xvd(unsigned long disk, unsigned long part, uint32_t *devid)
{
    if (disk < 16 && part < 16) {
        *devid = (202u << 8) | (uint32_t)(disk << 4) | (uint32_t)part;
        return 0;
    }
    if (disk < (1ul << 20) && part < 256) {
        *devid = (1u << 28) | (uint32_t)(disk << 8) | (uint32_t)part;
        return 0;
    }
    return -EINVAL;
}

int xlcfg_vdev_to_devid(const char *vdev, uint32_t *devid)
{
    unsigned long disk = 0, part = 0, num;
    unsigned int d;
    const char *p;
    char *end;
    int n;

    if (!vdev || !*vdev)
        return -EINVAL;
    /* A plain number (hex, decimal or octal) is written as is. */
    if (vdev[0] >= '0' && vdev[0] <= '9') {
        errno = 0;
        num = strtoul(vdev, &end, 0);
        if (errno || *end || num == 0 || num >= (2ul << 28))
            return -EINVAL;
        *devid = (uint32_t)num;
        return 0;
    }
    /* dNpM: Xen virtual disk N partition M (p0 when omitted). */
    if (vdev[0] == 'd' && vdev[1] >= '0' && vdev[1] <= '9') {
        p = strchr(vdev, 'p');
        if (p) {
            char dbuf[16];

            if ((size_t)(p - vdev - 1) >= sizeof(dbuf))
                return -EINVAL;
            memcpy(dbuf, vdev + 1, p - vdev - 1);
            dbuf[p - vdev - 1] = '\0';
            if (!parse_dec(dbuf, (1ul << 20) - 1, &disk) ||
                !parse_dec(p + 1, 255, &part))
                return -EINVAL;
        } else if (!parse_dec(vdev + 1, (1ul << 20) - 1, &disk)) {
            return -EINVAL;
        }
        return encode_xvd(disk, part, devid);
    }
    if (!strncmp(vdev, "xvd", 3) || !strncmp(vdev, "hd", 2) ||
        !strncmp(vdev, "sd", 2)) {
        p = vdev + (vdev[0] == 'x' ? 3 : 2);
        n = letters_to_disk(p, &d);
        if (!n)
            return -EINVAL;
        disk = d;
        if (p[n] && !parse_dec(p + n, 255, &part))
            return -EINVAL;
        if (vdev[0] == 'x')
            return encode_xvd(disk, part, devid);
        if (vdev[0] == 's') {
            if (disk >= 16 || part >= 16)
                return -EINVAL;
            *devid = (8u << 8) | (uint32_t)(disk << 4) | (uint32_t)part;
            return 0;
        }
        if (disk >= 4 || part >= 64)
            return -EINVAL;
        if (disk < 2)
            *devid = (3u << 8) | (uint32_t)(disk << 6) | (uint32_t)part;
        else
            *devid = (22u << 8) | (uint32_t)((disk - 2) << 6) | (uint32_t)part;
        return 0;
    }
    return -EINVAL;
}

/* Parser state of one DISKSPEC. */
struct disk_ctx {
    struct xlcfg_disk *disk;
    char *why; /* first error, malloc'ed */
    bool oom;
    bool had_depr_prefix; /* "raw:", "file:", ...: no format positional */
    bool access_set;
    bool target_set; /* pdev_path given (may be empty) */
};

__attribute__((format(printf, 2, 3))) static void disk_err(struct disk_ctx *dc,
                                                           const char *fmt, ...)
{
    va_list ap;
    int n;

    if (dc->why || dc->oom)
        return;
    va_start(ap, fmt);
    n = vasprintf(&dc->why, fmt, ap);
    va_end(ap);
    if (n < 0) {
        dc->why = NULL;
        dc->oom = true;
    }
}

/* save: set string *@slot, refusing to replace a non-empty one. */
static void save(struct disk_ctx *dc, const char *what, char **slot,
                 const char *val)
{
    if (*slot && **slot) {
        disk_err(dc, "%s respecified ('%s')", what, val);
        return;
    }
    free(*slot);
    *slot = strdup(val);
    if (!*slot)
        dc->oom = true;
}

static void set_format(struct disk_ctx *dc, const char *s)
{
    static const struct {
        const char *name;
        enum xlcfg_disk_format f;
    } fmts[] = {
        {"", XLCFG_FORMAT_RAW},      {"raw", XLCFG_FORMAT_RAW},
        {"qcow", XLCFG_FORMAT_QCOW}, {"qcow2", XLCFG_FORMAT_QCOW2},
        {"vhd", XLCFG_FORMAT_VHD},   {"empty", XLCFG_FORMAT_EMPTY},
        {"qed", XLCFG_FORMAT_QED},
    };
    size_t i;

    for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        if (strcmp(s, fmts[i].name))
            continue;
        if (dc->disk->format != XLCFG_FORMAT_UNKNOWN &&
            dc->disk->format != fmts[i].f)
            disk_err(dc, "format respecified ('%s')", s);
        else
            dc->disk->format = fmts[i].f;
        return;
    }
    disk_err(dc, "unknown format '%s' (expected raw, qcow, qcow2, vhd, qed)",
             s);
}

static void set_access(struct disk_ctx *dc, const char *s)
{
    if (!strcmp(s, "r") || !strcmp(s, "ro"))
        dc->disk->readwrite = false;
    else if (!strcmp(s, "rw") || !strcmp(s, "w") || !*s)
        dc->disk->readwrite = true;
    else
        disk_err(dc, "unknown access '%s' (expected r, ro, w or rw)", s);
}

static void set_backendtype(struct disk_ctx *dc, const char *s)
{
    static const char *const names[] = {NULL, "phy", "tap", "qdisk",
                                        "standalone"};
    size_t i;

    for (i = 1; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i]))
            continue;
        if (dc->disk->backend != XLCFG_BACKEND_UNKNOWN &&
            dc->disk->backend != (enum xlcfg_disk_backend)i)
            disk_err(dc, "backendtype respecified ('%s')", s);
        else
            dc->disk->backend = (enum xlcfg_disk_backend)i;
        return;
    }
    disk_err(dc,
             "unknown backendtype '%s' (expected phy, tap, qdisk or "
             "standalone)",
             s);
}

/*
 * vdev_devtype: the deprecated "<vdev>:<devtype>" positional.  Returns
 * false (doing nothing) when @s has no colon.
 */
static bool vdev_devtype(struct disk_ctx *dc, char *s)
{
    char *colon = strrchr(s, ':');

    if (!colon)
        return false;
    *colon++ = '\0';
    save(dc, "vdev", &dc->disk->vdev, s);
    if (!strcmp(colon, "cdrom"))
        dc->disk->is_cdrom = true;
    else if (!strcmp(colon, "disk"))
        dc->disk->is_cdrom = false;
    else
        disk_err(dc, "unknown devtype '%s' (expected cdrom or disk)", colon);
    return true;
}

/* positional: the next unspecified of target, format, vdev, access. */
static void positional(struct disk_ctx *dc, char *s)
{
    struct xlcfg_disk *d = dc->disk;

    if (!dc->target_set) {
        dc->target_set = true;
        save(dc, "target", &d->pdev_path, s);
    } else if (!dc->had_depr_prefix && d->format == XLCFG_FORMAT_UNKNOWN) {
        /* xend's ",hdc:cdrom,r": no target, so this is the vdev. */
        if (!*d->pdev_path && vdev_devtype(dc, s))
            d->format = XLCFG_FORMAT_EMPTY;
        else
            set_format(dc, s);
    } else if (!d->vdev) {
        if (!vdev_devtype(dc, s))
            save(dc, "vdev", &d->vdev, s);
    } else if (!dc->access_set) {
        dc->access_set = true;
        set_access(dc, s);
    } else {
        disk_err(dc, "too many positional parameters at '%s'", s);
    }
}

/*
 * depr_prefix: strip one deprecated "prefix:" from *@s (the legacy
 * "[<format>:][<target>],<vdev>[:<devtype>],<access>" syntax).  Returns
 * true if one was stripped.
 */
static bool depr_prefix(struct disk_ctx *dc, char **s)
{
    static const char *const ignored[] = {"tapdisk", "tap2", "tap", "aio",
                                          "ioemu",   "file", "phy"};
    static const char *const scripts[] = {"iscsi", "nbd", "enbd", "drbd"};
    static const char *const formats[] = {"raw", "qcow", "qcow2", "vhd"};
    char *p = *s, *colon, name[16], *script;
    bool known = false;
    size_t i, len;

    if (*p < 'a' || *p > 'z')
        return false;
    for (colon = p;
         (*colon >= 'a' && *colon <= 'z') || (*colon >= '0' && *colon <= '9');
         colon++)
        ;
    if (*colon != ':')
        return false;
    len = (size_t)(colon - p);
    if (len < sizeof(name)) {
        memcpy(name, p, len);
        name[len] = '\0';
        for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
            known |= !strcmp(name, formats[i]);
        for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
            known |= !strcmp(name, scripts[i]);
        for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
            known |= !strcmp(name, ignored[i]);
    }
    /*
     * A known prefix is stripped whatever follows; an unknown word before
     * a colon is an error only when no letter or digit follows, since
     * "hdc:cdrom" is a vdev with its devtype.
     */
    if (!known) {
        if ((colon[1] >= 'a' && colon[1] <= 'z') ||
            (colon[1] >= '0' && colon[1] <= '9'))
            return false;
        disk_err(dc, "unknown deprecated disk prefix '%.*s:'", (int)len, p);
        return false;
    }
    *s = colon + 1;
    dc->had_depr_prefix = true;
    for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (!strcmp(name, formats[i])) {
            set_format(dc, name);
            return true;
        }
    for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
        if (!strcmp(name, scripts[i])) {
            script = xlcfg_strdup_printf("block-%s", name);
            if (!script) {
                dc->oom = true;
                return true;
            }
            save(dc, "script", &dc->disk->script, script);
            free(script);
            return true;
        }
    return true; /* an ignored prefix */
}

/* keyword: a `key=value` or flag parameter; false if @s is neither. */
static bool keyword(struct disk_ctx *dc, char *s)
{
    struct xlcfg_disk *d = dc->disk;
    char *eq = strchr(s, '='), *v;

    if (!strcmp(s, "cdrom")) {
        d->is_cdrom = true;
    } else if (!strcmp(s, "direct-io-safe")) {
        d->direct_io_safe = true;
    } else if (!strcmp(s, "discard")) {
        d->discard_enable = XLCFG_TRUE;
    } else if (!strcmp(s, "no-discard")) {
        d->discard_enable = XLCFG_FALSE;
    } else if (!strcmp(s, "trusted")) {
        d->trusted = XLCFG_TRUE;
    } else if (!strcmp(s, "untrusted")) {
        d->trusted = XLCFG_FALSE;
    } else if (!eq) {
        return false;
    } else {
        *eq = '\0';
        v = eq + 1;
        if (!strcmp(s, "format"))
            set_format(dc, v);
        else if (!strcmp(s, "vdev"))
            save(dc, "vdev", &d->vdev, v);
        else if (!strcmp(s, "access"))
            set_access(dc, v);
        else if (!strcmp(s, "backend"))
            save(dc, "backend", &d->backend_domname, v);
        else if (!strcmp(s, "backendtype"))
            set_backendtype(dc, v);
        else if (!strcmp(s, "script"))
            save(dc, "script", &d->script, v);
        else if (!strcmp(s, "devtype")) {
            if (!strcmp(v, "cdrom"))
                d->is_cdrom = true;
            else if (!strcmp(v, "disk"))
                d->is_cdrom = false;
            else
                disk_err(dc, "unknown devtype '%s' (expected cdrom or disk)",
                         v);
        } else if (!strcmp(s, "specification")) {
            if (strcmp(v, "xen"))
                disk_err(dc, "specification '%s' not supported (only xen)", v);
        } else {
            disk_err(dc, "unknown disk parameter '%s'", s);
        }
    }
    return true;
}

void xlcfg_disk_clear(struct xlcfg_disk *disk)
{
    free(disk->pdev_path);
    free(disk->vdev);
    free(disk->backend_domname);
    free(disk->script);
    memset(disk, 0, sizeof(*disk));
}

int xlcfg_disk_parse(const char *spec, struct xlcfg_disk *disk, char **why)
{
    struct disk_ctx dc;
    char *buf = NULL, *p, *param, *comma;
    int rc;

    memset(disk, 0, sizeof(*disk));
    memset(&dc, 0, sizeof(dc));
    dc.disk = disk;
    disk->readwrite = true;
    buf = strdup(spec);
    if (!buf) {
        dc.oom = true;
        goto out;
    }
    p = buf;
    while (*p && !dc.why && !dc.oom) {
        /* Whitespace before a parameter is ignored. */
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        param = p;
        /*
         * target= takes the whole rest, commas included, but for one
         * trailing comma (as xl's disk lexer strips it).
         */
        if (!strncmp(param, "target=", 7)) {
            size_t len = strlen(param);

            if (len > 7 && param[len - 1] == ',')
                param[len - 1] = '\0';
            /* Replaces an empty positional target, not a given one. */
            dc.target_set = true;
            save(&dc, "target", &disk->pdev_path, param + 7);
            break;
        }
        comma = strchr(param, ',');
        if (comma) {
            *comma = '\0';
            p = comma + 1;
        } else {
            p = param + strlen(param);
            if (!*param && param != buf)
                break; /* a trailing comma */
        }
        if (keyword(&dc, param))
            continue;
        while (depr_prefix(&dc, &param) && !dc.why)
            ;
        if (!dc.why)
            positional(&dc, param);
    }
    if (dc.why || dc.oom)
        goto out;
    if (disk->format == XLCFG_FORMAT_UNKNOWN)
        disk->format = XLCFG_FORMAT_RAW;
    if (disk->is_cdrom) {
        disk->readwrite = false;
        if (!disk->pdev_path || !*disk->pdev_path)
            disk->format = XLCFG_FORMAT_EMPTY;
    }
    if (disk->pdev_path && !*disk->pdev_path) {
        free(disk->pdev_path);
        disk->pdev_path = NULL;
    }
    if (!disk->vdev || !*disk->vdev) {
        disk_err(&dc, "no vdev specified");
        goto out;
    }
    if (!disk->pdev_path && !disk->is_cdrom) {
        disk_err(&dc, "no target specified (and device not a cdrom)");
        goto out;
    }
    if (xlcfg_vdev_to_devid(disk->vdev, &disk->devid))
        disk_err(&dc,
                 "bad vdev '%s' (expected xvdX[N] up to xvdzz, hdX[N] "
                 "a..d, sdX[N] a..p, dNpM or a device number)",
                 disk->vdev);
out:
    free(buf);
    rc = dc.oom ? -ENOMEM : dc.why ? -EINVAL : 0;
    if (rc)
        xlcfg_disk_clear(disk);
    if (why)
        *why = dc.why;
    else
        free(dc.why);
    return rc;
}
