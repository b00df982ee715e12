/*
 * xl.c — the `xl` command: Xen's command names, options and output
 * (docs/man/xl.1.pod.in) over the toolstack library (xldom.h).  Commands
 * may be given by any unambiguous prefix.  Exit status 0 on success, 1 on
 * failure with "xl: error: ..." on stderr naming the domain.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/xenbus.h>

#include "xl.h"

/* The version xen-hv reports to guests (xen-hv/xen_cpuid.h). */
#define XL_XEN_MAJOR 4
#define XL_XEN_MINOR 17
#define XL_XEN_EXTRA ".0-xenhv"

#define CREDIT_WEIGHT 256 /* credit scheduler defaults (xl.1 sched-credit) */
#define CREDIT_CAP    0

void xl_err(const char *fmt, ...)
{
    va_list ap;

    fputs("xl: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

struct xldom_ctx *xl_open(unsigned int need)
{
    char err[512];
    struct xldom_ctx *ctx = xldom_open(need, err, sizeof(err));

    if (!ctx)
        xl_err("%s", err);
    return ctx;
}

long xl_domid(struct xldom_ctx *ctx, const char *arg)
{
    uint32_t domid;

    if (xldom_lookup(ctx, arg, &domid)) {
        xl_err("%s", xldom_error(ctx));
        return -1;
    }
    return (long)domid;
}

/* ---- simple commands ---------------------------------------------------- */

/* Open, look up argv[optind] as a domain other than 0; -1 on failure. */
static long one_domain(struct xldom_ctx **ctx, int argc, char **argv,
                       unsigned int need, const char *cmd, int extra)
{
    long d;

    if (getopt(argc, argv, "+h") != -1 || optind + 1 + extra != argc) {
        xl_usage(cmd);
        return -1;
    }
    *ctx = xl_open(need);
    if (!*ctx)
        return -1;
    d = xl_domid(*ctx, argv[optind]);
    if (d == 0) {
        xl_err("%s: not allowed on Domain-0", cmd);
        return -1;
    }
    return d;
}

static int cmd_destroy(int argc, char **argv)
{
    struct xldom_ctx *ctx = NULL;
    long d = one_domain(&ctx, argc, argv,
                        XLDOM_NEED_XENHV | XLDOM_NEED_XENSTORE, "destroy", 0);
    int rc = 1;

    if (d > 0) {
        rc = xldom_destroy(ctx, (uint32_t)d) ? 1 : 0;
        if (rc)
            xl_err("%s", xldom_error(ctx));
    }
    xldom_close(ctx);
    return rc;
}

static int pause_common(int argc, char **argv, int pause)
{
    struct xldom_ctx *ctx = NULL;
    long d =
        one_domain(&ctx, argc, argv, XLDOM_NEED_XENHV | XLDOM_NEED_XENSTORE,
                   pause ? "pause" : "unpause", 0);
    int rc = 1;

    if (d > 0) {
        rc = (pause ? xldom_pause : xldom_unpause)(ctx, (uint32_t)d) ? 1 : 0;
        if (rc)
            xl_err("%s", xldom_error(ctx));
    }
    xldom_close(ctx);
    return rc;
}

static int cmd_pause(int argc, char **argv)
{
    return pause_common(argc, argv, 1);
}

static int cmd_unpause(int argc, char **argv)
{
    return pause_common(argc, argv, 0);
}

static int cmd_rename(int argc, char **argv)
{
    struct xldom_ctx *ctx = NULL;
    long d = one_domain(&ctx, argc, argv,
                        XLDOM_NEED_XENHV | XLDOM_NEED_XENSTORE, "rename", 1);
    int rc = 1;

    if (d > 0) {
        rc = xldom_rename(ctx, (uint32_t)d, argv[optind + 1]) ? 1 : 0;
        if (rc)
            xl_err("cannot rename domain %ld: %s", d, xldom_error(ctx));
    }
    xldom_close(ctx);
    return rc;
}

static int cmd_domid(int argc, char **argv)
{
    struct xldom_ctx *ctx;
    long d;

    if (getopt(argc, argv, "+h") != -1 || optind + 1 != argc)
        return xl_usage("domid");
    ctx = xl_open(XLDOM_NEED_XENSTORE);
    if (!ctx)
        return 1;
    d = -1;
    {
        uint32_t id;
        /* A name only: `xl domid 3` is not a lookup by number. */
        if (xldom_lookup(ctx, argv[optind], &id) == 0) {
            char *n = xldom_name(ctx, id);
            if (n && !strcmp(n, argv[optind]))
                d = id;
            free(n);
        }
    }
    if (d < 0)
        xl_err("'%s' is an invalid domain name", argv[optind]);
    else
        printf("%ld\n", d);
    xldom_close(ctx);
    return d < 0;
}

static int cmd_domname(int argc, char **argv)
{
    struct xldom_ctx *ctx;
    char *end, *name = NULL;
    unsigned long d;

    if (getopt(argc, argv, "+h") != -1 || optind + 1 != argc)
        return xl_usage("domname");
    d = strtoul(argv[optind], &end, 10);
    if (!isdigit((unsigned char)argv[optind][0]) || *end) {
        xl_err("'%s' is not a domain id", argv[optind]);
        return 1;
    }
    ctx = xl_open(XLDOM_NEED_XENSTORE);
    if (!ctx)
        return 1;
    name = xldom_name(ctx, (uint32_t)d);
    if (name)
        printf("%s\n", name);
    else
        xl_err("domain %lu does not exist", d);
    free(name);
    xldom_close(ctx);
    return !name;
}

/* Host memory from /proc/meminfo (KiB): @key "MemTotal" or "MemFree". */
static unsigned long long meminfo(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128], name[64];
    unsigned long long v = 0, kib;

    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "%63[^:]: %llu", name, &kib) == 2 &&
            !strcmp(name, key))
            v = kib;
    if (f)
        fclose(f);
    return v;
}

static void state_flags(const struct xldom_info *i, char out[7])
{
    out[0] = i->running ? 'r' : '-';
    out[1] = i->blocked ? 'b' : '-';
    out[2] = i->paused ? 'p' : '-';
    out[3] = i->shutdown ? 's' : '-';
    out[4] = i->crashed ? 'c' : '-';
    out[5] = i->dying ? 'd' : '-';
    out[6] = 0;
}

static void list_row(const struct xldom_info *i, int verbose)
{
    char st[7], uuid[37];

    state_flags(i, st);
    printf("%-40s %5u %5llu %5u     %s %8.1f", i->name, i->domid,
           (unsigned long long)(i->mem_kib >> 10), i->vcpus, st, i->cpu_time);
    if (verbose) {
        xlcfg_uuid_format(i->uuid, uuid);
        printf(" %s %5x", uuid,
               (i->shutdown || i->crashed) ? i->shutdown_reason : 0);
    }
    putchar('\n');
}

/* xl list -l: [{"domid": N, "config": {...}}, ...] as libxl prints. */
static int list_long(struct xldom_ctx *ctx, struct xldom_info *l, size_t n)
{
    int first = 1, rc = 0;

    printf("[\n");
    for (size_t i = 0; i < n; i++) {
        char *json = NULL;

        if (xldom_config_json(ctx, l[i].domid, &json)) {
            xl_err("%s", xldom_error(ctx));
            rc = 1;
            continue;
        }
        printf("%s    {\n        \"domid\": %u,\n        \"config\": %s\n    }",
               first ? "" : ",\n", l[i].domid, json);
        first = 0;
        free(json);
    }
    printf("\n]\n");
    return rc;
}

static int cmd_list(int argc, char **argv)
{
    static const struct option opts[] = {
        {"long", no_argument, NULL, 'l'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct xldom_info *l = NULL, d0 = {0}, *sel = NULL;
    struct xldom_ctx *ctx;
    int lng = 0, verbose = 0, c, rc = 0;
    size_t n = 0, ns = 0;

    while ((c = getopt_long(argc, argv, "+lvhZcn", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            lng = 1;
            break;
        case 'v':
            verbose = 1;
            break;
        case 'Z':
        case 'c':
        case 'n':
            break; /* security labels, cpupools, NUMA: nothing to show */
        case 'h':
            xl_usage("list");
            return 0;
        default:
            return xl_usage("list");
        }
    }
    ctx = xl_open(XLDOM_NEED_XENHV | XLDOM_NEED_XENSTORE);
    if (!ctx)
        return 1;
    if (xldom_list(ctx, &l, &n)) {
        xl_err("%s", xldom_error(ctx));
        xldom_close(ctx);
        return 1;
    }
    sel = calloc(n + 1, sizeof(*sel));
    if (!sel) {
        xl_err("out of memory");
        rc = 1;
        goto out;
    }
    /* Domain-0 is the host (the control domain). */
    snprintf(d0.name, sizeof(d0.name), "Domain-0");
    d0.mem_kib = meminfo("MemTotal");
    d0.vcpus = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
    d0.running = true;
    if (optind == argc) {
        if (!lng)
            sel[ns++] = d0;
        for (size_t i = 0; i < n; i++)
            sel[ns++] = l[i];
    }
    for (int a = optind; a < argc; a++) {
        uint32_t id;
        size_t i;

        if (xldom_lookup(ctx, argv[a], &id)) {
            xl_err("%s", xldom_error(ctx));
            rc = 1;
            goto out;
        }
        for (i = 0; i < n && l[i].domid != id; i++)
            ;
        if (id == 0 && !lng)
            sel[ns++] = d0;
        else if (i < n && ns <= n)
            sel[ns++] = l[i];
    }
    if (lng) {
        rc = list_long(ctx, sel, ns);
        goto out;
    }
    printf("Name                                        ID   Mem VCPUs\tState"
           "\tTime(s)%s\n",
           verbose ? "   UUID                            Reason-Code" : "");
    for (size_t i = 0; i < ns; i++)
        list_row(&sel[i], verbose);
out:
    free(sel);
    free(l);
    xldom_close(ctx);
    return rc;
}

static int cmd_info(int argc, char **argv)
{
    struct utsname u;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    struct xldom_ctx *ctx;

    if (getopt(argc, argv, "+hn") == 'h')
        return xl_usage("info"), 0;
    ctx = xl_open(XLDOM_NEED_XENHV);
    if (!ctx)
        return 1;
    uname(&u);
    printf("host                   : %s\n", u.nodename);
    printf("release                : %s\n", u.release);
    printf("version                : %s\n", u.version);
    printf("machine                : %s\n", u.machine);
    printf("nr_cpus                : %ld\n", ncpu);
    printf("max_cpu_id             : %ld\n", ncpu - 1);
    printf("nr_nodes               : 1\n");
    printf("cores_per_socket       : %ld\n", ncpu);
    printf("threads_per_core       : 1\n");
    printf("virt_caps              : pvh hap\n");
    printf("total_memory           : %llu\n", meminfo("MemTotal") >> 10);
    printf("free_memory            : %llu\n", meminfo("MemAvailable") >> 10);
    printf("xen_major              : %d\n", XL_XEN_MAJOR);
    printf("xen_minor              : %d\n", XL_XEN_MINOR);
    printf("xen_extra              : %s\n", XL_XEN_EXTRA);
    printf("xen_version            : %d.%d%s\n", XL_XEN_MAJOR, XL_XEN_MINOR,
           XL_XEN_EXTRA);
    printf("xen_caps               : hvm-3.0-x86_32 hvm-3.0-x86_64\n");
    printf("xen_scheduler          : credit\n");
    printf("xen_pagesize           : 4096\n");
    printf("xen_commandline        : xen-hv daemon --control %s\n",
           xldom_privcmd());
    printf("xend_config_format     : 4\n");
    xldom_close(ctx);
    return 0;
}

static int cmd_dmesg(int argc, char **argv)
{
    char path[512], buf[4096];
    int clear = 0, c;
    size_t n;
    FILE *f;

    while ((c = getopt(argc, argv, "+hc")) != -1) {
        if (c == 'c')
            clear = 1;
        else
            return xl_usage("dmesg") * (c != 'h');
    }
    snprintf(path, sizeof(path), "%s/xen-hv.log", xldom_logdir());
    f = fopen(path, "r");
    if (!f) {
        xl_err("no xen-hv log at %s (%s; xencommons start writes it)", path,
               strerror(errno));
        return 1;
    }
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        fwrite(buf, 1, n, stdout);
    fclose(f);
    if (clear && truncate(path, 0) != 0) {
        xl_err("clearing %s: %s", path, strerror(errno));
        return 1;
    }
    return 0;
}

static int cmd_uptime(int argc, char **argv)
{
    struct xldom_info *l = NULL;
    struct xldom_ctx *ctx;
    size_t n = 0;
    int rc = 0;
    time_t now = time(NULL);

    if (getopt(argc, argv, "+hs") == 'h')
        return xl_usage("uptime"), 0;
    ctx = xl_open(XLDOM_NEED_XENHV | XLDOM_NEED_XENSTORE);
    if (!ctx)
        return 1;
    if (xldom_list(ctx, &l, &n)) {
        xl_err("%s", xldom_error(ctx));
        xldom_close(ctx);
        return 1;
    }
    printf("%-33s %4s %s\n", "Name", "ID", "Uptime");
    for (int a = optind; a < argc; a++) {
        uint32_t id;
        if (xldom_lookup(ctx, argv[a], &id)) {
            xl_err("%s", xldom_error(ctx));
            rc = 1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        char *vm = xldom_xs_read(ctx, l[i].domid, "vm"), path[128], *st;
        long up = 0;
        int want = optind == argc;

        for (int a = optind; a < argc && !want; a++) {
            uint32_t id;
            want = xldom_lookup(ctx, argv[a], &id) == 0 && id == l[i].domid;
        }
        snprintf(path, sizeof(path), "%s/start_time", vm ? vm : "/none");
        st = xldom_xs_read(ctx, 0, path);
        if (st)
            up = (long)(now - strtol(st, NULL, 10));
        if (want)
            printf("%-33s %4u %ld:%02ld:%02ld\n", l[i].name, l[i].domid,
                   up / 3600, up / 60 % 60, up % 60);
        free(vm);
        free(st);
    }
    free(l);
    xldom_close(ctx);
    return rc;
}

/*
 * xl's memory sizes: a number with b, k, m, g or t; a bare number is MiB,
 * as Xen's parse_mem_size_kb() (tools/xl/xl_parse.c).
 */
static int mem_parse(const char *s, uint64_t *kib)
{
    char *end;
    unsigned long long v;
    int shift = 0; /* relative to KiB; bytes are -10 */

    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    switch (tolower((unsigned char)*end)) {
    case 'k':
        break;
    case 'b':
        shift = -10;
        break;
    case 0:
    case 'm':
        shift = 10;
        break;
    case 'g':
        shift = 20;
        break;
    case 't':
        shift = 30;
        break;
    default:
        return -1;
    }
    if (*end && end[1])
        return -1;
    if (shift > 0 && v > (UINT64_MAX >> shift))
        return -1;
    *kib = shift >= 0 ? (uint64_t)v << shift : (uint64_t)v >> 10;
    return 0;
}

static int mem_common(int argc, char **argv, int target)
{
    const char *cmd = target ? "mem-set" : "mem-max";
    struct xldom_ctx *ctx = NULL;
    long d = one_domain(&ctx, argc, argv,
                        XLDOM_NEED_XENHV | XLDOM_NEED_XENSTORE, cmd, 1);
    uint64_t kib;
    int rc = 1;

    if (d > 0) {
        if (mem_parse(argv[optind + 1], &kib))
            xl_err("%s: invalid memory size '%s'", cmd, argv[optind + 1]);
        else if (xldom_set_memory(ctx, (uint32_t)d, kib, target))
            xl_err("%s", xldom_error(ctx));
        else
            rc = 0;
    }
    xldom_close(ctx);
    return rc;
}

static int cmd_mem_set(int argc, char **argv)
{
    return mem_common(argc, argv, 1);
}

static int cmd_mem_max(int argc, char **argv)
{
    return mem_common(argc, argv, 0);
}

static int cmd_vcpu_list(int argc, char **argv)
{
    struct xldom_info *l = NULL;
    struct xldom_ctx *ctx;
    size_t n = 0;
    int rc = 0;
    long only = -1;

    if (getopt(argc, argv, "+h") != -1 || argc - optind > 1)
        return xl_usage("vcpu-list");
    ctx = xl_open(XLDOM_NEED_XENHV | XLDOM_NEED_XENSTORE);
    if (!ctx)
        return 1;
    if (optind < argc && (only = xl_domid(ctx, argv[optind])) < 0) {
        xldom_close(ctx);
        return 1;
    }
    if (xldom_list(ctx, &l, &n)) {
        xl_err("%s", xldom_error(ctx));
        xldom_close(ctx);
        return 1;
    }
    printf("%-32s %5s %5s %5s %5s %9s %s\n", "Name", "ID", "VCPU", "CPU",
           "State", "Time(s)", "Affinity (Hard / Soft)");
    for (size_t i = 0; i < n; i++) {
        if (only >= 0 && l[i].domid != (uint32_t)only)
            continue;
        for (uint32_t v = 0; v < l[i].max_vcpus; v++) {
            char path[128], *pin, st[4] = "---";
            snprintf(path, sizeof(path), "/libxl/%u/vcpu-pin/%u", l[i].domid,
                     v);
            pin = xldom_xs_read(ctx, l[i].domid, path);
            if (v >= l[i].vcpus)
                st[0] = '-';
            else if (l[i].running)
                st[0] = 'r';
            else if (l[i].blocked)
                st[1] = 'b';
            if (l[i].paused)
                st[2] = 'p';
            printf("%-32s %5u %5u %5s %5s %9.1f %s / all\n", l[i].name,
                   l[i].domid, v, "-", st, v == 0 ? l[i].cpu_time : 0.0,
                   pin ? pin : "all");
            free(pin);
        }
    }
    free(l);
    xldom_close(ctx);
    return rc;
}

static int cmd_vcpu_pin(int argc, char **argv)
{
    struct xldom_ctx *ctx = NULL;
    long d = one_domain(&ctx, argc, argv,
                        XLDOM_NEED_XENHV | XLDOM_NEED_XENSTORE, "vcpu-pin", 2);
    uint64_t map[XLCFG_MAX_CPUS / 64];
    struct xldom_info info;
    char path[128], *why = NULL, *end;
    int rc = 1;
    uint32_t first = 0, last = 0;

    if (d <= 0 || argc - optind > 4)
        goto out;
    if (xldom_info(ctx, (uint32_t)d, &info)) {
        xl_err("%s", xldom_error(ctx));
        goto out;
    }
    if (!strcmp(argv[optind + 1], "all")) {
        last = info.max_vcpus - 1;
    } else {
        first = last = (uint32_t)strtoul(argv[optind + 1], &end, 10);
        if (*end || !isdigit((unsigned char)argv[optind + 1][0]) ||
            first >= info.max_vcpus) {
            xl_err("domain %ld has no vCPU '%s'", d, argv[optind + 1]);
            goto out;
        }
    }
    if (xlcfg_cpus_parse(argv[optind + 2], map, &why)) {
        xl_err("vcpu-pin: invalid cpu list '%s': %s", argv[optind + 2],
               why ? why : "?");
        goto out;
    }
    /* xen-hv pins the vCPU threads; the text is kept for vcpu-list. */
    for (uint32_t v = first; v <= last; v++) {
        if (xldom_vcpu_pin(ctx, (uint32_t)d, v, map)) {
            xl_err("vcpu-pin: %s", xldom_error(ctx));
            goto out;
        }
        snprintf(path, sizeof(path), "/libxl/%ld/vcpu-pin/%u", d, v);
        if (xldom_xs_write(ctx, (uint32_t)d, path, argv[optind + 2])) {
            xl_err("%s", xldom_error(ctx));
            goto out;
        }
    }
    rc = 0;
out:
    free(why);
    xldom_close(ctx);
    return rc;
}

/* Read the stored credit parameter @what of @domid (default @dflt). */
static long credit_get(struct xldom_ctx *ctx, uint32_t domid, const char *what,
                       long dflt)
{
    char path[128], *v;
    long r;

    snprintf(path, sizeof(path), "/libxl/%u/sched-credit/%s", domid, what);
    v = xldom_xs_read(ctx, domid, path);
    r = v ? strtol(v, NULL, 10) : dflt;
    free(v);
    return r;
}

static int cmd_sched_credit(int argc, char **argv)
{
    const char *dom = NULL, *w = NULL, *cap = NULL;
    struct xldom_info *l = NULL;
    struct xldom_ctx *ctx;
    size_t n = 0;
    int c, rc = 1;

    while ((c = getopt(argc, argv, "+hd:w:c:p:s")) != -1) {
        switch (c) {
        case 'd':
            dom = optarg;
            break;
        case 'w':
            w = optarg;
            break;
        case 'c':
            cap = optarg;
            break;
        case 'p':
        case 's':
            break; /* one pool, fixed scheduler parameters */
        default:
            return xl_usage("sched-credit") * (c != 'h');
        }
    }
    if ((w || cap) && !dom) {
        xl_err("sched-credit: -w and -c need -d DOMAIN");
        return 1;
    }
    ctx = xl_open(XLDOM_NEED_XENHV | XLDOM_NEED_XENSTORE);
    if (!ctx)
        return 1;
    if (dom) {
        long d = xl_domid(ctx, dom);
        struct xldom_info info;
        char path[128], *end;
        long v;

        if (d < 0)
            goto out;
        if (d == 0 || xldom_info(ctx, (uint32_t)d, &info)) {
            xl_err("sched-credit: domain %s is not a guest", dom);
            goto out;
        }
        if (w) {
            v = strtol(w, &end, 10);
            if (*end || !*w || v < 1 || v > 65535) {
                xl_err("sched-credit: weight '%s' is not 1..65535", w);
                goto out;
            }
            snprintf(path, sizeof(path), "/libxl/%ld/sched-credit/weight", d);
            if (xldom_xs_write(ctx, (uint32_t)d, path, w))
                goto fail;
        }
        if (cap) {
            v = strtol(cap, &end, 10);
            if (*end || !*cap || v < 0 || v > 100L * info.max_vcpus) {
                xl_err("sched-credit: cap '%s' is not 0..%u", cap,
                       100 * info.max_vcpus);
                goto out;
            }
            snprintf(path, sizeof(path), "/libxl/%ld/sched-credit/cap", d);
            if (xldom_xs_write(ctx, (uint32_t)d, path, cap))
                goto fail;
        }
        if (!w && !cap) {
            printf("%-33s %4s %6s %4s\n", "Name", "ID", "Weight", "Cap");
            printf("%-33s %4ld %6ld %4ld\n", info.name, d,
                   credit_get(ctx, (uint32_t)d, "weight", CREDIT_WEIGHT),
                   credit_get(ctx, (uint32_t)d, "cap", CREDIT_CAP));
        }
        rc = 0;
        goto out;
    }
    if (xldom_list(ctx, &l, &n))
        goto fail;
    printf(
        "Cpupool Pool-0: tslice=30ms ratelimit=1000us migration-delay=0us\n");
    printf("%-33s %4s %6s %4s\n", "Name", "ID", "Weight", "Cap");
    printf("%-33s %4d %6d %4d\n", "Domain-0", 0, CREDIT_WEIGHT, CREDIT_CAP);
    for (size_t i = 0; i < n; i++)
        printf("%-33s %4u %6ld %4ld\n", l[i].name, l[i].domid,
               credit_get(ctx, l[i].domid, "weight", CREDIT_WEIGHT),
               credit_get(ctx, l[i].domid, "cap", CREDIT_CAP));
    rc = 0;
    goto out;
fail:
    xl_err("%s", xldom_error(ctx));
out:
    free(l);
    xldom_close(ctx);
    return rc;
}

int xl_device_timeout_ms(void)
{
    const char *v = getenv("XL_DEVICE_TIMEOUT");
    int s = v ? atoi(v) : 10;

    return (s > 0 ? s : 10) * 1000;
}

static const char *disk_backend_type(const struct xlcfg_disk *d)
{
    switch (d->backend) {
    case XLCFG_BACKEND_QDISK:
        return "qdisk";
    case XLCFG_BACKEND_TAP:
        return "tap";
    default:
        return "phy";
    }
}

int xl_vbd_add(struct xldom_ctx *ctx, uint32_t domid,
               const struct xlcfg_disk *disk, int want)
{
    const char *dtype = disk->is_cdrom ? "cdrom" : "disk";
    char devid[16];
    const struct xldom_kv fe[] = {{"virtual-device", devid},
                                  {"device-type", dtype}};
    const struct xldom_kv be[] = {
        {"params", disk->pdev_path ? disk->pdev_path : ""},
        {"type", disk_backend_type(disk)},
        {"mode", disk->readwrite ? "w" : "r"},
        {"dev", disk->vdev},
        {"device-type", dtype},
        {"removable", disk->is_cdrom ? "1" : "0"},
        {"bootable", "1"},
    };

    snprintf(devid, sizeof(devid), "%u", disk->devid);
    return xldom_device_add(ctx, domid, "vbd", disk->devid, fe, 2, be,
                            sizeof(be) / sizeof(be[0]), want,
                            xl_device_timeout_ms());
}

/*
 * xl block-attach DOMAIN DISKSPEC...: a vbd (xl-disk-configuration.5;
 * several arguments are one spec joined by commas) with the frontend and
 * backend keys of docs/misc/xenstore-paths and <xen/io/blkif.h>.
 */
static int cmd_block_attach(int argc, char **argv)
{
    struct xldom_ctx *ctx = NULL;
    struct xlcfg_disk disk = {0};
    struct xldom_info info;
    char spec[1024] = "", *why = NULL;
    long d;
    int rc = 1;

    if (getopt(argc, argv, "+h") != -1 || argc - optind < 2)
        return xl_usage("block-attach");
    for (int i = optind + 1; i < argc; i++) {
        if (strlen(spec) + strlen(argv[i]) + 2 > sizeof(spec)) {
            xl_err("block-attach: disk spec too long");
            return 1;
        }
        if (spec[0])
            strcat(spec, ",");
        strcat(spec, argv[i]);
    }
    ctx = xl_open(XLDOM_NEED_XENHV | XLDOM_NEED_XENSTORE);
    if (!ctx)
        return 1;
    d = xl_domid(ctx, argv[optind]);
    if (d <= 0 || xldom_info(ctx, (uint32_t)d, &info)) {
        if (d == 0)
            xl_err("block-attach: not on Domain-0");
        goto out;
    }
    if (xlcfg_disk_parse(spec, &disk, &why)) {
        xl_err("block-attach: invalid disk spec '%s': %s", spec,
               why ? why : "?");
        goto out;
    }
    /* A paused guest cannot answer: the backend being ready will do. */
    if (xl_vbd_add(ctx, (uint32_t)d, &disk,
                   info.paused ? XenbusStateInitWait : XenbusStateConnected)) {
        xl_err("%s", xldom_error(ctx));
        goto out;
    }
    rc = 0;
out:
    xlcfg_disk_clear(&disk);
    free(why);
    xldom_close(ctx);
    return rc;
}

static int cmd_block_detach(int argc, char **argv)
{
    struct xldom_ctx *ctx = NULL;
    uint32_t devid;
    int force = 0, c, rc = 1;
    long d;

    while ((c = getopt(argc, argv, "+hf")) != -1) {
        if (c != 'f')
            return xl_usage("block-detach") * (c != 'h');
        force = 1;
    }
    if (argc - optind != 2)
        return xl_usage("block-detach");
    if (xlcfg_vdev_to_devid(argv[optind + 1], &devid)) {
        xl_err("block-detach: '%s' is not a device id or vdev",
               argv[optind + 1]);
        return 1;
    }
    ctx = xl_open(XLDOM_NEED_XENHV | XLDOM_NEED_XENSTORE);
    if (!ctx)
        return 1;
    d = xl_domid(ctx, argv[optind]);
    if (d >= 0 && xldom_device_remove(ctx, (uint32_t)d, "vbd", devid, force,
                                      xl_device_timeout_ms()) == 0)
        rc = 0;
    else if (d >= 0)
        xl_err("%s", xldom_error(ctx));
    xldom_close(ctx);
    return rc;
}

static int cmd_block_list(int argc, char **argv)
{
    struct xldom_ctx *ctx;
    int rc = 0;

    if (getopt(argc, argv, "+h") != -1 || argc - optind < 1)
        return xl_usage("block-list");
    ctx = xl_open(XLDOM_NEED_XENHV | XLDOM_NEED_XENSTORE);
    if (!ctx)
        return 1;
    printf("%-5s %-3s %-6s %-5s %-6s %-8s %-30s\n", "Vdev", "BE", "handle",
           "state", "evt-ch", "ring-ref", "BE-path");
    for (int a = optind; a < argc; a++) {
        struct xldom_device *l = NULL;
        size_t n = 0;
        long d = xl_domid(ctx, argv[a]);

        if (d < 0 || xldom_device_list(ctx, (uint32_t)d, "vbd", &l, &n)) {
            if (d >= 0)
                xl_err("%s", xldom_error(ctx));
            rc = 1;
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            char rel[96], *evt, *ring, be[96];

            snprintf(rel, sizeof(rel), "device/vbd/%u/event-channel",
                     l[i].devid);
            evt = xldom_xs_read(ctx, (uint32_t)d, rel);
            snprintf(rel, sizeof(rel), "device/vbd/%u/ring-ref", l[i].devid);
            ring = xldom_xs_read(ctx, (uint32_t)d, rel);
            snprintf(be, sizeof(be), "/local/domain/0/backend/vbd/%ld/%u", d,
                     l[i].devid);
            printf("%-5u %-3d %-6u %-5d %-6s %-8s %-30s\n", l[i].devid, 0,
                   l[i].devid, l[i].fe_state, evt ? evt : "-1",
                   ring ? ring : "-1", be);
            free(evt);
            free(ring);
        }
        free(l);
    }
    xldom_close(ctx);
    return rc;
}

static int cmd_unsupported(int argc, char **argv)
{
    (void)argc;
    xl_err("%s: not yet supported by xen-hv's toolstack (the network "
           "backend is a later issue)",
           argv[0]);
    return 1;
}

static int cmd_help(int argc, char **argv);

/* ---- command table ------------------------------------------------------ */

struct xl_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
    const char *usage;
};

static const struct xl_cmd cmds[] = {
    {"create", xl_cmd_create, "Create a domain from config file <filename>",
     "[options] <ConfigFile> [vars]\n"
     "  -h   Print this help.\n"
     "  -p   Leave the domain paused after it is created.\n"
     "  -c   Connect to the console after the domain is created.\n"
     "  -f FILE, --defconfig=FILE\n"
     "       Use the given configuration file.\n"
     "  -n, --dryrun  Dry run - prints the resulting configuration in JSON.\n"
     "  -q, --quiet   Quiet.\n"
     "  vars are key=value settings applied after the file."},
    {"list", cmd_list, "List information about all/some domains",
     "[options] [Domain]\n"
     "  -l, --long     Output all VM details (JSON)\n"
     "  -v, --verbose  Prints out UUIDs and the shutdown reason code"},
    {"destroy", cmd_destroy, "Terminate a domain immediately", "<Domain>"},
    {"shutdown", xl_cmd_shutdown, "Issue a shutdown signal to a domain",
     "[options] <Domain>\n"
     "  -w   Wait for the guest to shut down.\n"
     "  -F   Force: without PV control, destroy it after a timeout\n"
     "       ($XL_SHUTDOWN_TIMEOUT seconds, default 10)."},
    {"reboot", xl_cmd_reboot, "Issue a reboot signal to a domain",
     "[options] <Domain>\n"
     "  -w   Wait for the guest to reboot.\n"
     "  -F   Force: without PV control, destroy it after a timeout."},
    {"console", xl_cmd_console, "Attach to domain's console",
     "[options] <Domain>\n"
     "  -t <type>  console type, pv or serial\n"
     "  -n <number> console number (0)\n"
     "Ctrl-] detaches."},
    {"pause", cmd_pause, "Pause execution of a domain", "<Domain>"},
    {"unpause", cmd_unpause, "Unpause a paused domain", "<Domain>"},
    {"rename", cmd_rename, "Rename a domain", "<Domain> <NewDomainName>"},
    {"info", cmd_info, "Get information about Xen host", ""},
    {"dmesg", cmd_dmesg, "Read and/or clear dmesg buffer",
     "[-c]\n  -c   Clear dmesg buffer as well as printing it"},
    {"domid", cmd_domid, "Convert a domain name to domain id", "<DomainName>"},
    {"domname", cmd_domname, "Convert a domain id to domain name",
     "<DomainId>"},
    {"uptime", cmd_uptime, "Print uptime for all/some domains", "[Domain ...]"},
    {"mem-set", cmd_mem_set, "Set the current memory usage for a domain",
     "<Domain> <MemKB{k,m,g,t}>"},
    {"mem-max", cmd_mem_max, "Set the maximum amount reservation for a domain",
     "<Domain> <MemKB{k,m,g,t}>"},
    {"vcpu-list", cmd_vcpu_list, "List the VCPUs for all/some domains",
     "[Domain]"},
    {"vcpu-pin", cmd_vcpu_pin, "Set which CPUs a VCPU can use",
     "<Domain> <VCPU|all> <CPUs|all> [soft affinity]"},
    {"sched-credit", cmd_sched_credit, "Get/set credit scheduler parameters",
     "[-d <Domain> [-w[=WEIGHT]|-c[=CAP]]]\n"
     "  -d DOMAIN, --domain=DOMAIN  Domain to modify\n"
     "  -w WEIGHT, --weight=WEIGHT  Weight (int, 1..65535)\n"
     "  -c CAP, --cap=CAP           Cap (int, 0..100 per vCPU)\n"
     "(stored; enforcement comes with the scheduler issue)"},
    {"block-attach", cmd_block_attach, "Create a new virtual block device",
     "<Domain> <disk-spec>"},
    {"block-detach", cmd_block_detach,
     "Destroy a domain's virtual block device",
     "[-f] <Domain> <DevId|vdev>\n  -f  remove it even if the backend does not "
     "close"},
    {"block-list", cmd_block_list, "List virtual block devices for a domain",
     "<Domain>"},
    {"network-attach", cmd_unsupported, "Create a new virtual network device",
     "<Domain> [vif-spec]"},
    {"network-detach", cmd_unsupported,
     "Destroy a domain's virtual network device", "<Domain> <DevId|mac>"},
    {"network-list", cmd_unsupported,
     "List virtual network interfaces for a domain", "<Domain>"},
    {"help", cmd_help, "Print this help", "[command]"},
};
#define NR_CMDS (sizeof(cmds) / sizeof(cmds[0]))

/* The command @name names: exact, else a unique prefix; NULL otherwise. */
static const struct xl_cmd *cmd_find(const char *name, int *ambiguous)
{
    const struct xl_cmd *found = NULL;
    size_t len = strlen(name);
    int n = 0;

    *ambiguous = 0;
    for (size_t i = 0; i < NR_CMDS; i++) {
        if (!strcmp(cmds[i].name, name))
            return &cmds[i];
        if (len && !strncmp(cmds[i].name, name, len)) {
            found = &cmds[i];
            n++;
        }
    }
    *ambiguous = n > 1;
    return n == 1 ? found : NULL;
}

int xl_usage(const char *name)
{
    int amb;
    const struct xl_cmd *c = cmd_find(name, &amb);

    if (c)
        fprintf(stderr, "Usage: xl %s %s\n\n%s.\n", c->name, c->usage,
                c->summary);
    return 1;
}

static void help_all(FILE *f)
{
    fprintf(f, "Usage xl [-v] [-h] <subcommand> [args]\n\n"
               "xl full list of subcommands:\n\n");
    for (size_t i = 0; i < NR_CMDS; i++)
        fprintf(f, " %-20s%s\n", cmds[i].name, cmds[i].summary);
    fprintf(f, "\nAny unambiguous prefix of a subcommand is accepted.\n");
}

static int cmd_help(int argc, char **argv)
{
    const struct xl_cmd *c;
    int amb;

    if (argc < 2) {
        help_all(stdout);
        return 0;
    }
    c = cmd_find(argv[1], &amb);
    if (!c) {
        xl_err("'%s' is not an xl command", argv[1]);
        return 1;
    }
    printf("Usage: xl %s %s\n\n%s.\n", c->name, c->usage, c->summary);
    return 0;
}

int main(int argc, char **argv)
{
    const struct xl_cmd *c;
    int opt, amb;

    while ((opt = getopt(argc, argv, "+hvNtTf")) != -1) {
        if (opt == 'h') {
            help_all(stdout);
            return 0;
        }
        if (opt == '?') {
            help_all(stderr);
            return 1;
        }
        /* -v, -N, -t, -T, -f: xl's global flags; nothing to change. */
    }
    if (optind >= argc) {
        help_all(stderr);
        return 1;
    }
    c = cmd_find(argv[optind], &amb);
    if (!c) {
        if (amb)
            xl_err("'%s' is an ambiguous command prefix", argv[optind]);
        else
            xl_err("'%s' is not an xl command (xl help lists them)",
                   argv[optind]);
        return 1;
    }
    argv += optind;
    argc -= optind;
    argv[0] = (char *)c->name;
    optind = 0; /* GNU getopt: start again, permuting options */
    return c->fn(argc, argv) ? 1 : 0;
}
