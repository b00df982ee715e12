/*
 * xlcfg_util.c — small value syntaxes shared by the typed layer and the
 * JSON codec: domain names, UUIDs, hex digits, random bytes, enum names
 * and xl's CPU list syntax (xl.cfg.5 "cpus").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "xlcfg_priv.h"

int xlcfg_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool xlcfg_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned int cp, n, i;

    while (*p) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        if ((*p & 0xe0) == 0xc0)
            n = 1, cp = *p & 0x1f;
        else if ((*p & 0xf0) == 0xe0)
            n = 2, cp = *p & 0x0f;
        else if ((*p & 0xf8) == 0xf0)
            n = 3, cp = *p & 0x07;
        else
            return false;
        for (i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        /* Overlong forms, UTF-16 surrogates and beyond U+10FFFF. */
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
            (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += n + 1;
    }
    return true;
}

bool xlcfg_name_valid(const char *name)
{
    size_t len = strlen(name);

    if (len < 1 || len > XLCFG_NAME_MAX)
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789_.-") == len;
}

int xlcfg_uuid_parse(const char *s, uint8_t uuid[16])
{
    unsigned int i, b = 0;
    int hi, lo;

    for (i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return -EINVAL;
            i++;
            continue;
        }
        hi = xlcfg_hex_digit(s[i]);
        lo = hi < 0 ? -1 : xlcfg_hex_digit(s[i + 1]);
        if (lo < 0)
            return -EINVAL;
        uuid[b++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return s[36] ? -EINVAL : 0;
}

void xlcfg_uuid_format(const uint8_t u[16], char out[37])
{
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
             u[11], u[12], u[13], u[14], u[15]);
}

void xlcfg_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    ssize_t n;
    size_t i;

    while (len) {
        n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    /* No getrandom (old kernel, seccomp): weaker, but still varies. */
    for (i = 0; i < len; i++)
        p[i] = (uint8_t)(rand() ^ (int)time(NULL) ^ (int)getpid());
}

const char *xlcfg_action_name(enum xlcfg_action a)
{
    switch (a) {
    case XLCFG_ACTION_DESTROY:
        return "destroy";
    case XLCFG_ACTION_RESTART:
        return "restart";
    case XLCFG_ACTION_RESTART_RENAME:
        return "restart_rename";
    case XLCFG_ACTION_PRESERVE:
        return "preserve";
    }
    return NULL;
}

const char *xlcfg_format_name(enum xlcfg_disk_format f)
{
    static const char *const names[] = {"unknown", "qcow",  "qcow2", "vhd",
                                        "raw",     "empty", "qed"};

    return (unsigned int)f < sizeof(names) / sizeof(names[0]) ? names[f] : NULL;
}

const char *xlcfg_backend_name(enum xlcfg_disk_backend b)
{
    static const char *const names[] = {"unknown", "phy", "tap", "qdisk",
                                        "standalone"};

    return (unsigned int)b < sizeof(names) / sizeof(names[0]) ? names[b] : NULL;
}

const char *xlcfg_nictype_name(enum xlcfg_nic_type t)
{
    static const char *const names[] = {"unknown", "vif_ioemu", "vif"};

    return (unsigned int)t < sizeof(names) / sizeof(names[0]) ? names[t] : NULL;
}

/* A CPU number: decimal, below XLCFG_MAX_CPUS. */
static bool cpu_number(const char **p, unsigned int *cpu)
{
    const char *s = *p;
    unsigned int v = 0;

    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (unsigned int)(*s - '0');
        if (v >= XLCFG_MAX_CPUS)
            return false;
    }
    *p = s;
    *cpu = v;
    return true;
}

int xlcfg_cpus_parse(const char *s, uint64_t *map, char **why)
{
    const char *p = s, *elem;
    unsigned int first, last, cpu;
    bool neg, any = false;
    size_t i;

    memset(map, 0, XLCFG_MAX_CPUS / 8);
    for (;;) {
        elem = p;
        neg = *p == '^';
        if (neg)
            p++;
        if (!strncmp(p, "node", 4)) {
            *why = xlcfg_strdup_printf("cpus '%s': NUMA node lists are not "
                                       "supported",
                                       s);
            return *why ? -EINVAL : -ENOMEM;
        }
        if (!strncmp(p, "all", 3)) {
            p += 3;
            first = 0;
            last = XLCFG_MAX_CPUS - 1;
        } else {
            if (!cpu_number(&p, &first))
                goto bad;
            last = first;
            if (*p == '-') {
                p++;
                if (!cpu_number(&p, &last) || last < first)
                    goto bad;
            }
        }
        if (*p != ',' && *p != '\0')
            goto bad;
        for (cpu = first; cpu <= last; cpu++) {
            if (neg)
                map[cpu / 64] &= ~(1ull << (cpu % 64));
            else
                map[cpu / 64] |= 1ull << (cpu % 64);
        }
        if (!*p)
            break;
        p++;
    }
    for (i = 0; i < XLCFG_MAX_CPUS / 64; i++)
        any |= map[i] != 0;
    if (!any) {
        *why = xlcfg_strdup_printf("cpus '%s' selects no CPU", s);
        return *why ? -EINVAL : -ENOMEM;
    }
    return 0;
bad:
    *why = xlcfg_strdup_printf("bad cpus '%s' at '%s' (expected e.g. "
                               "\"all\", \"0-3,^2\" or \"5\", CPUs below %d)",
                               s, elem, XLCFG_MAX_CPUS);
    return *why ? -EINVAL : -ENOMEM;
}
