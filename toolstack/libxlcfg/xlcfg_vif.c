/*
 * xlcfg_vif.c — vifspec strings (Xen's docs/man/xl-network-configuration.5
 * .pod.in), MAC addresses and the vif rate limit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlcfg_priv.h"

/* Longest interface name Linux takes (IFNAMSIZ 16 with its NUL). */
#define IFNAME_MAX 15

int xlcfg_mac_parse(const char *s, uint8_t mac[6])
{
    unsigned int i;
    int hi, lo;

    for (i = 0; i < 6; i++) {
        const char *p = s + i * 3;

        hi = xlcfg_hex_digit(p[0]);
        lo = hi < 0 ? -1 : xlcfg_hex_digit(p[1]);
        if (lo < 0)
            return -EINVAL;
        mac[i] = (uint8_t)(hi << 4 | lo);
        if (p[2] != (i == 5 ? '\0' : ':'))
            return -EINVAL;
    }
    return 0;
}

void xlcfg_mac_format(const uint8_t mac[6], char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
             mac[3], mac[4], mac[5]);
}

/* An interface name: 1..15 bytes, no '/', ':' or white space. */
static bool ifname_valid(const char *s)
{
    size_t len = strlen(s);

    return len >= 1 && len <= IFNAME_MAX && !strpbrk(s, "/: \t\n");
}

/*
 * ip_list_check: ip= holds one or more space-separated IPv4 or IPv6
 * addresses.  Returns 0, -EINVAL, or -ENOMEM.
 */
static int ip_list_check(const char *s)
{
    char *copy = strdup(s), *save = NULL, *tok;
    unsigned char addr[16];
    bool any = false;
    int rc = 0;

    if (!copy)
        return -ENOMEM;
    for (tok = strtok_r(copy, " ", &save); tok && !rc;
         tok = strtok_r(NULL, " ", &save)) {
        any = true;
        if (inet_pton(AF_INET, tok, addr) != 1 &&
            inet_pton(AF_INET6, tok, addr) != 1)
            rc = -EINVAL;
    }
    free(copy);
    return rc ? rc : any ? 0 : -EINVAL;
}

/*
 * parse_digits: the decimal number at *@p into *@v, moving *@p past its
 * digits.  False when there are no digits or it overflows.
 */
static bool parse_digits(const char **p, uint64_t *v)
{
    const char *s = *p;
    uint64_t n = 0;

    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (n > (UINT64_MAX - 9) / 10)
            return false;
        n = n * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    *v = n;
    return true;
}

/*
 * parse_rate: "RATE/s[@INTERVAL]" with RATE in bytes (GB, MB, KB, B) or bits
 * (Gb, Mb, Kb, b), decimal multiples, and INTERVAL in s, ms or us (default
 * 50 ms).  The credit per interval is rate * interval, as the network
 * configuration document describes for "1MB/s@20ms" (20,000 bytes every
 * 20,000 us).
 */
static int parse_rate(const char *s, struct xlcfg_nic *nic, char **why)
{
    const char *p = s;
    uint64_t rate, mult = 1, interval, per_interval;
    bool bits;

    if (!parse_digits(&p, &rate))
        goto bad;
    if (*p == 'G' || *p == 'M' || *p == 'K') {
        mult = *p == 'G' ? 1000000000ull : *p == 'M' ? 1000000ull : 1000ull;
        p++;
    }
    if (*p != 'B' && *p != 'b')
        goto bad;
    bits = *p == 'b';
    p++;
    if (strncmp(p, "/s", 2))
        goto bad;
    p += 2;
    if (rate > UINT64_MAX / mult)
        goto range;
    rate *= mult;
    if (bits)
        rate /= 8;
    interval = XLCFG_RATE_USECS;
    if (*p == '@') {
        p++;
        if (!parse_digits(&p, &interval))
            goto bad;
        if (!strcmp(p, "s")) {
            if (interval > UINT32_MAX / 1000000)
                goto range;
            interval *= 1000000;
        } else if (!strcmp(p, "ms")) {
            if (interval > UINT32_MAX / 1000)
                goto range;
            interval *= 1000;
        } else if (strcmp(p, "us")) {
            goto bad;
        }
        p += strlen(p);
    }
    if (*p)
        goto bad;
    if (rate == 0 || interval == 0 || interval > UINT32_MAX)
        goto range;
    if (rate > UINT64_MAX / interval)
        goto range;
    per_interval = rate * interval / 1000000;
    if (per_interval == 0)
        goto range;
    nic->rate_bytes_per_interval = per_interval;
    nic->rate_interval_usecs = (uint32_t)interval;
    return 0;
bad:
    *why = xlcfg_strdup_printf("bad rate '%s' (expected e.g. 10Mb/s, "
                               "250KB/s or 1MB/s@20ms)",
                               s);
    return *why ? -EINVAL : -ENOMEM;
range:
    *why = xlcfg_strdup_printf("rate '%s' out of range", s);
    return *why ? -EINVAL : -ENOMEM;
}

/* One nic string field: refuse a second or an empty value. */
static int nic_str(char **slot, const char *key, const char *v, char **why)
{
    if (*slot)
        *why = xlcfg_strdup_printf("vif %s respecified", key);
    else if (!*v)
        *why = xlcfg_strdup_printf("empty vif %s", key);
    else if (!(*slot = strdup(v)))
        return -ENOMEM;
    else
        return 0;
    return *why ? -EINVAL : -ENOMEM;
}

/* nic_param: apply one `key=value` or flag @s (modified) to @nic. */
static int nic_param(struct xlcfg_nic *nic, char *s, bool *mac_set, char **why)
{
    char *eq = strchr(s, '='), *v, *end;
    unsigned long n;
    int rc;

    if (!eq) {
        *why = xlcfg_strdup_printf("unknown vif flag '%s' (expected "
                                   "key=value)",
                                   s);
        return *why ? -EINVAL : -ENOMEM;
    }
    *eq = '\0';
    v = eq + 1;
    if (!strcmp(s, "mac")) {
        if (*mac_set || xlcfg_mac_parse(v, nic->mac))
            goto bad;
        if (nic->mac[0] & 1) {
            *why = xlcfg_strdup_printf("vif mac '%s' is a multicast "
                                       "address",
                                       v);
            return *why ? -EINVAL : -ENOMEM;
        }
        *mac_set = true;
        return 0;
    }
    if (!strcmp(s, "bridge") || !strcmp(s, "vifname") ||
        !strcmp(s, "gatewaydev") || !strcmp(s, "netdev")) {
        if (!ifname_valid(v))
            goto bad;
        if (s[0] == 'b')
            return nic_str(&nic->bridge, s, v, why);
        if (s[0] == 'v')
            return nic_str(&nic->ifname, s, v, why);
        return nic_str(&nic->gatewaydev, s, v, why);
    }
    if (!strcmp(s, "ip")) {
        rc = ip_list_check(v);
        if (rc == -ENOMEM)
            return rc;
        if (rc)
            goto bad;
        return nic_str(&nic->ip, s, v, why);
    }
    if (!strcmp(s, "model"))
        return nic_str(&nic->model, s, v, why);
    if (!strcmp(s, "script"))
        return nic_str(&nic->script, s, v, why);
    if (!strcmp(s, "backend")) {
        if (!xlcfg_name_valid(v))
            goto bad;
        return nic_str(&nic->backend_domname, s, v, why);
    }
    if (!strcmp(s, "type")) {
        if (nic->nictype != XLCFG_NIC_UNKNOWN)
            goto bad;
        if (!strcmp(v, "vif"))
            nic->nictype = XLCFG_NIC_VIF;
        else if (!strcmp(v, "ioemu"))
            nic->nictype = XLCFG_NIC_VIF_IOEMU;
        else
            goto bad;
        return 0;
    }
    if (!strcmp(s, "mtu")) {
        errno = 0;
        n = strtoul(v, &end, 10);
        if (errno || end == v || *end || v[0] == '-' || n < 68 || n > 65535 ||
            nic->mtu)
            goto bad;
        nic->mtu = (uint32_t)n;
        return 0;
    }
    if (!strcmp(s, "rate")) {
        if (nic->rate_interval_usecs)
            goto bad;
        rc = parse_rate(v, nic, why);
        return rc;
    }
    *why = xlcfg_strdup_printf("unknown vif parameter '%s'", s);
    return *why ? -EINVAL : -ENOMEM;
bad:
    *why = xlcfg_strdup_printf("bad or repeated vif %s '%s'", s, v);
    return *why ? -EINVAL : -ENOMEM;
}

void xlcfg_nic_clear(struct xlcfg_nic *nic)
{
    free(nic->bridge);
    free(nic->ip);
    free(nic->model);
    free(nic->ifname);
    free(nic->script);
    free(nic->backend_domname);
    free(nic->gatewaydev);
    memset(nic, 0, sizeof(*nic));
}

int xlcfg_nic_parse(const char *spec, uint32_t devid, struct xlcfg_nic *nic,
                    char **why)
{
    char *buf = NULL, *save = NULL, *tok, *p;
    char *reason = NULL;
    bool mac_set = false;
    int rc = 0;

    memset(nic, 0, sizeof(*nic));
    nic->devid = devid;
    buf = strdup(spec);
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    for (tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        for (p = tok; *p == ' ' || *p == '\t'; p++)
            ;
        if (!*p)
            continue; /* empty parameters, as in '' or 'a=b,' */
        rc = nic_param(nic, p, &mac_set, &reason);
        if (rc)
            goto out;
    }
    if (!mac_set) {
        /* xl's default: Xen's OUI and three random bytes. */
        nic->mac[0] = 0x00;
        nic->mac[1] = 0x16;
        nic->mac[2] = 0x3e;
        xlcfg_random(nic->mac + 3, 3);
        nic->mac[3] &= 0x7f;
    }
out:
    free(buf);
    if (rc)
        xlcfg_nic_clear(nic);
    if (why)
        *why = reason;
    else
        free(reason);
    return rc;
}
