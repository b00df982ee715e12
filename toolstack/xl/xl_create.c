/*
 * xl_create.c — `xl create`, the per-domain monitor it leaves behind
 * (Xen's "xl-<name>" process: it applies on_poweroff/on_reboot/on_crash/
 * on_watchdog when the domain shuts down), `xl console`, and the
 * shutdown/reboot requests.  docs/man/xl.1.pod.in, docs/man/xl.cfg.5.pod.in
 * ("Event Actions").
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/xenbus.h>
#include <xen/sched.h>

#include "xl.h"

#define POLL_MS          100  /* how often the monitor and console look */
#define CONSOLE_GRACE_MS 3000 /* monitor waits this long for `create -c` */
#define FAST_RESTARTS    5    /* restarts within FAST_SECS before giving up */
#define FAST_SECS        10

static const char *reason_name(uint32_t r)
{
    static const char *const names[] = {"poweroff", "reboot",   "suspend",
                                        "crash",    "watchdog", "soft_reset"};
    return r < sizeof(names) / sizeof(names[0]) ? names[r] : "unknown";
}

static void mlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A line of the monitor's log (stderr, redirected to its log file). */
static void mlog(const char *fmt, ...)
{
    char when[32];
    time_t t = time(NULL);
    va_list ap;

    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", gmtime(&t));
    fprintf(stderr, "%s xl-monitor: ", when);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

/* Wait until @fd reads EOF (the console of `create -c` ended) or @ms. */
static void wait_eof(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char c;

    if (fd < 0)
        return;
    while (poll(&p, 1, ms) == 1 && read(fd, &c, 1) > 0)
        ;
}

/*
 * The monitor: watch @domid (polling xen-hv's domain list) and apply the
 * saved config's on_* action when it shuts down; follow restarts.  Ends
 * when the domain is destroyed, preserved, or a daemon goes away.
 */
static int monitor_run(uint32_t domid, int console_fd)
{
    struct xldom_ctx *ctx = NULL;
    char err[512];
    time_t started = time(NULL), fast_since = 0;
    int fast = 0;

    for (int i = 0; i < 50 && !ctx; i++) {
        ctx = xldom_open(XLDOM_NEED_XENHV | XLDOM_NEED_XENSTORE, err,
                         sizeof(err));
        if (!ctx)
            usleep(100000);
    }
    if (!ctx) {
        mlog("domain %u: %s", domid, err);
        return 1;
    }
    mlog("monitoring domain %u", domid);
    for (;;) {
        struct xldom_info info;
        struct xlcfg_domain *cfg = NULL;
        enum xlcfg_action act;
        char *json = NULL, *why = NULL, newname[XLCFG_NAME_MAX + 16];
        uint32_t nd;
        int rc = xldom_info(ctx, domid, &info);

        if (rc == -ESRCH) {
            mlog("domain %u is gone", domid);
            break;
        }
        if (rc) {
            mlog("domain %u: %s", domid, xldom_error(ctx));
            break;
        }
        if (!info.shutdown && !info.crashed) {
            usleep(POLL_MS * 1000);
            continue;
        }
        wait_eof(console_fd, CONSOLE_GRACE_MS);
        if (console_fd >= 0)
            close(console_fd);
        console_fd = -1;
        if (xldom_config_json(ctx, domid, &json) ||
            xlcfg_domain_from_json(json, &cfg, &why)) {
            mlog("domain %u: no usable saved config (%s): destroying it", domid,
                 why ? why : xldom_error(ctx));
            xldom_destroy(ctx, domid);
            free(json);
            free(why);
            break;
        }
        switch (info.shutdown_reason) {
        case SHUTDOWN_reboot:
            act = cfg->on_reboot;
            break;
        case SHUTDOWN_crash:
            act = cfg->on_crash;
            break;
        case SHUTDOWN_watchdog:
            act = cfg->on_watchdog;
            break;
        default:
            act = cfg->on_poweroff;
            break;
        }
        mlog("domain %u (%s) shut down: %s; action %s", domid, cfg->name,
             reason_name(info.shutdown_reason), xlcfg_action_name(act));
        if ((act == XLCFG_ACTION_RESTART ||
             act == XLCFG_ACTION_RESTART_RENAME) &&
            time(NULL) - started < FAST_SECS) {
            if (fast == 0)
                fast_since = time(NULL);
            if (++fast >= FAST_RESTARTS &&
                time(NULL) - fast_since < FAST_SECS) {
                mlog("domain %s restarts too fast (%d in %d s): destroying",
                     cfg->name, fast, FAST_SECS);
                act = XLCFG_ACTION_DESTROY;
            }
        }
        rc = 0;
        if (act == XLCFG_ACTION_DESTROY) {
            rc = xldom_destroy(ctx, domid);
        } else if (act == XLCFG_ACTION_RESTART) {
            rc = xldom_destroy(ctx, domid);
            rc = rc ?: xldom_create(ctx, cfg, json, 0, &nd);
        } else if (act == XLCFG_ACTION_RESTART_RENAME) {
            snprintf(newname, sizeof(newname), "%s-%u", cfg->name, domid);
            rc = xldom_rename(ctx, domid, newname);
            rc = rc ?: xldom_create(ctx, cfg, json, 0, &nd);
        }
        if (rc)
            mlog("domain %u: %s", domid, xldom_error(ctx));
        else if (act == XLCFG_ACTION_RESTART ||
                 act == XLCFG_ACTION_RESTART_RENAME)
            mlog("domain %s restarted as domain %u", cfg->name, nd);
        xlcfg_domain_free(cfg);
        free(json);
        free(why);
        if (rc || act == XLCFG_ACTION_DESTROY || act == XLCFG_ACTION_PRESERVE)
            break;
        domid = nd;
        started = time(NULL);
    }
    mlog("done");
    xldom_close(ctx);
    return 0;
}

/*
 * Start the monitor as a detached process before anything else (so that
 * it is forked from a process without threads).  It waits on the pipe
 * *@ctl for the domid (uint32_t) and exits quietly at EOF without one (a
 * failed create); after the domid, EOF on *@ctl tells it that the console
 * of `create -c` ended.  Its output goes to <logdir>/xl-<name>.log.
 */
static int monitor_spawn(const char *name, int *ctl)
{
    char log[PATH_MAX];
    int p[2], fd;
    uint32_t domid;
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) != 0)
        return -errno;
    pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return -e;
    }
    if (pid == 0) {
        /* A grandchild, so that the monitor is nobody's zombie. */
        close(p[1]);
        setsid();
        if (fork() != 0)
            _exit(0);
        fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 0);
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (read(p[0], &domid, sizeof(domid)) != sizeof(domid))
            _exit(0);
        mkdir(xldom_logdir(), 0755);
        snprintf(log, sizeof(log), "%s/xl-%s.log", xldom_logdir(), name);
        fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            close(fd);
        }
        if (chdir("/") != 0)
            _exit(1);
        _exit(monitor_run(domid, p[0]));
    }
    close(p[0]);
    waitpid(pid, NULL, 0);
    *ctl = p[1];
    return 0;
}

/* Make a file path of the config absolute (the monitor runs in /). */
static int absolutize(char **path)
{
    char *abs;

    if (!*path || (*path)[0] == '/')
        return 0;
    abs = realpath(*path, NULL);
    if (!abs)
        return 0; /* the builder reports the missing file */
    free(*path);
    *path = abs;
    return 0;
}

int xl_cmd_create(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"defconfig", required_argument, NULL, 'f'},
        {"dryrun", no_argument, NULL, 'n'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    const char *file = NULL;
    int console = 0, paused = 0, quiet = 0, dry = 0, c, rc = 1, argno = 1;
    int ctl = -1;
    struct xlcfg *cfg = NULL;
    struct xlcfg_domain *d = NULL;
    struct xldom_ctx *ctx = NULL;
    char *json = NULL;
    uint32_t domid;

    while ((c = getopt_long(argc, argv, "hcpf:nqeFdV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            console = 1;
            break;
        case 'p':
            paused = 1;
            break;
        case 'f':
            file = optarg;
            break;
        case 'n':
            dry = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'e':
        case 'F':
        case 'd':
        case 'V':
            break; /* accepted as xl does; no effect here */
        case 'h':
            xl_usage("create");
            return 0;
        default:
            return xl_usage("create");
        }
    }
    if (!file && optind < argc && !strchr(argv[optind], '='))
        file = argv[optind++];
    if (!file) {
        xl_err("create: no config file (xl create [options] FILE "
               "[key=value...])");
        return xl_usage("create");
    }
    cfg = xlcfg_new();
    if (!cfg) {
        xl_err("out of memory");
        return 1;
    }
    rc = xlcfg_parse_file(cfg, file) ? 1 : 0;
    for (int i = optind; i < argc; i++)
        if (xlcfg_parse_override(cfg, argv[i], (unsigned)argno++))
            rc = 1;
    if (!rc && xlcfg_domain_build(cfg, &d))
        rc = 1;
    for (size_t k = 0; k < xlcfg_diag_count(cfg); k++)
        fprintf(stderr, "%s\n", xlcfg_diag(cfg, k));
    if (rc) {
        xl_err("failed to parse config file %s", file);
        goto out;
    }
    absolutize(&d->kernel);
    absolutize(&d->ramdisk);
    if (xlcfg_domain_to_json(d, &json)) {
        xl_err("out of memory");
        rc = 1;
        goto out;
    }
    if (dry) {
        /* xl create -n: the config as libxl would get it, nothing made. */
        printf("%s\n", json);
        rc = 0;
        goto out;
    }
    if (d->num_nics) {
        xl_err("%s: vif devices are not yet supported by xen-hv's toolstack "
               "(remove them from the config)",
               d->name);
        rc = 1;
        goto out;
    }
    if (!quiet)
        fprintf(stderr, "Parsing config from %s\n", file);
    rc = monitor_spawn(d->name, &ctl);
    if (rc) {
        xl_err("domain '%s': cannot start its monitor: %s", d->name,
               strerror(-rc));
        rc = 1;
        goto out;
    }
    ctx = xl_open(XLDOM_NEED_XENHV | XLDOM_NEED_XENSTORE);
    if (!ctx) {
        rc = 1;
        goto out;
    }
    rc = xldom_create(ctx, d, json, XLDOM_CREATE_PAUSED, &domid);
    if (rc) {
        xl_err("cannot create domain: %s", xldom_error(ctx));
        rc = 1;
        goto out;
    }
    /* Disks while it is paused: each backend must be ready (InitWait). */
    for (size_t i = 0; i < d->num_disks; i++) {
        if (xl_vbd_add(ctx, domid, &d->disks[i], XenbusStateInitWait)) {
            xl_err("cannot create domain: %s: disk %s: %s", d->name,
                   d->disks[i].vdev, xldom_error(ctx));
            xldom_destroy(ctx, domid);
            rc = 1;
            goto out;
        }
    }
    if (write(ctl, &domid, sizeof(domid)) != sizeof(domid)) {
        xl_err("domain '%s': its monitor did not start", d->name);
        xldom_destroy(ctx, domid);
        rc = 1;
        goto out;
    }
    if (!quiet)
        fprintf(stderr, "Started domain %s (id=%u)\n", d->name, domid);
    if (console) {
        rc = xl_console_attach(ctx, domid, NULL, !paused);
        goto out;
    }
    if (!paused && xldom_unpause(ctx, domid)) {
        xl_err("domain '%s': %s", d->name, xldom_error(ctx));
        xldom_destroy(ctx, domid);
        rc = 1;
        goto out;
    }
    rc = 0;
out:
    if (ctl >= 0)
        close(ctl);
    xldom_close(ctx);
    free(json);
    xlcfg_domain_free(d);
    xlcfg_free(cfg);
    return rc;
}

/* ---- console ----------------------------------------------------------- */

static struct termios saved_tio;
static int tio_saved;

static void tty_restore(void)
{
    if (tio_saved)
        tcsetattr(0, TCSANOW, &saved_tio);
    tio_saved = 0;
}

/* Raw stdin (when a terminal) so that Ctrl-] reaches us as a byte. */
static void tty_raw(void)
{
    struct termios t;

    if (!isatty(0) || tcgetattr(0, &saved_tio) != 0)
        return;
    t = saved_tio;
    cfmakeraw(&t);
    t.c_oflag |= OPOST | ONLCR; /* keep "\n" -> "\r\n" on output */
    if (tcsetattr(0, TCSANOW, &t) == 0) {
        tio_saved = 1;
        atexit(tty_restore);
    }
}

/* Connect to xenconsoled's socket of @domid; -1 when it is not there. */
static int pv_connect(uint32_t domid)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd;

    snprintf(a.sun_path, sizeof(a.sun_path), "%s/console-%u.sock",
             xldom_rundir(), domid);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Write all of @buf to @fd; -1 on error. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* 1 when @domid is still up (not shut down, not gone). */
static int domain_up(struct xldom_ctx *ctx, uint32_t domid)
{
    struct xldom_info info;

    return xldom_info(ctx, domid, &info) == 0 && !info.shutdown &&
           !info.crashed;
}

/*
 * Read stdin when it has data; 1 when Ctrl-] asked to detach.  Other
 * bytes go to @out (-1: dropped).
 */
static int stdin_pump(int out)
{
    char buf[256];
    ssize_t n = read(0, buf, sizeof(buf));
    char *esc;

    if (n <= 0)
        return -1;
    esc = memchr(buf, 0x1d, (size_t)n);
    if (esc)
        n = esc - buf;
    if (out >= 0 && n > 0)
        write_all(out, buf, (size_t)n);
    return esc ? 1 : 0;
}

/* Where the serial reader is in xen-hv's bounded console_io log. */
struct serial_view {
    size_t shown;  /* bytes of the log shown last time */
    char tail[64]; /* the last bytes shown, to find our place */
    size_t tail_len;
};

/*
 * Print what is new in @log (@n bytes, oldest first).  The log is bounded:
 * once full its length stays the same while old bytes fall out, so our
 * place is found again by the tail we showed last, not by the length.
 */
static void serial_show(const char *log, size_t n, struct serial_view *v)
{
    size_t from = 0;

    if (v->tail_len && v->shown <= n && v->shown >= v->tail_len &&
        !memcmp(log + v->shown - v->tail_len, v->tail, v->tail_len)) {
        from = v->shown;
    } else if (v->tail_len) {
        const char *p = NULL, *q = log;

        /* The last place the tail stands in the log. */
        while ((q = memmem(q, n - (size_t)(q - log), v->tail, v->tail_len))) {
            p = q;
            q++;
        }
        if (p) {
            from = (size_t)(p - log) + v->tail_len;
        } else {
            static const char gap[] = "\n[xl: console output dropped]\n";
            write_all(1, gap, sizeof(gap) - 1);
        }
    }
    if (from < n)
        write_all(1, log + from, n - from);
    v->shown = n;
    v->tail_len = n < sizeof(v->tail) ? n : sizeof(v->tail);
    memcpy(v->tail, log + n - v->tail_len, v->tail_len);
}

/*
 * The guest shut down: what it wrote last (an echo, its goodbye) may
 * still be on its way through xenconsoled.  Show what comes on @fd until
 * it closes or @ms (milliseconds) pass without a byte.
 */
static void pv_drain(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char buf[4096];
    ssize_t r;

    while (poll(&p, 1, ms) > 0 && (r = read(fd, buf, sizeof(buf))) > 0)
        write_all(1, buf, (size_t)r);
}

int xl_console_attach(struct xldom_ctx *ctx, uint32_t domid, const char *type,
                      int unpause)
{
    static char log[65536];
    struct serial_view sv = {0};
    int fd = -1, in_open = 1, rc = 0, pv_seen = 0;
    long n;

    if (!type || !strcmp(type, "pv")) {
        /* xenconsoled connects once it saw the domain introduced. */
        for (int i = 0; i < (type ? 30 : 10) && fd < 0; i++) {
            fd = pv_connect(domid);
            if (fd < 0)
                usleep(100000);
        }
        if (fd < 0 && type) {
            xl_err("domain %u: no PV console (is xenconsoled running? no "
                   "socket %s/console-%u.sock)",
                   domid, xldom_rundir(), domid);
            return 1;
        }
    }
    tty_raw();
    if (unpause && xldom_unpause(ctx, domid)) {
        tty_restore();
        xl_err("%s", xldom_error(ctx));
        return 1;
    }
    for (;;) {
        struct pollfd p[2] = {{.fd = in_open ? 0 : -1, .events = POLLIN},
                              {.fd = fd, .events = POLLIN}};
        int up;

        if (poll(p, 2, POLL_MS) < 0 && errno != EINTR)
            break;
        if (p[0].revents & (POLLIN | POLLHUP)) {
            int s = stdin_pump(fd);
            if (s == 1)
                break; /* Ctrl-] */
            if (s < 0)
                in_open = 0;
        }
        if (fd >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
            char buf[4096];
            ssize_t r = read(fd, buf, sizeof(buf));
            if (r <= 0)
                break; /* xenconsoled let go: the domain is gone */
            pv_seen = 1;
            write_all(1, buf, (size_t)r);
            continue;
        }
        up = domain_up(ctx, domid);
        /*
         * serial, or auto until the guest's PV ring speaks: xen-hv's
         * console_io log, shown from where we were.
         */
        if (!pv_seen && (!type || !strcmp(type, "serial"))) {
            n = xldom_console_read(ctx, domid, log, sizeof(log));
            if (n < 0)
                break;
            serial_show(log, (size_t)n, &sv);
        }
        if (!up) {
            if (fd >= 0)
                pv_drain(fd, 300);
            break;
        }
    }
    if (fd >= 0)
        close(fd);
    tty_restore();
    return rc;
}

int xl_cmd_console(int argc, char **argv)
{
    const char *type = NULL;
    struct xldom_ctx *ctx;
    long domid;
    int c, rc;

    while ((c = getopt(argc, argv, "+ht:n:")) != -1) {
        switch (c) {
        case 't':
            if (strcmp(optarg, "pv") && strcmp(optarg, "serial")) {
                xl_err("console type '%s' is not pv or serial", optarg);
                return 1;
            }
            type = optarg;
            break;
        case 'n':
            if (strcmp(optarg, "0")) {
                xl_err("console %s: only console 0 exists", optarg);
                return 1;
            }
            break;
        case 'h':
            xl_usage("console");
            return 0;
        default:
            return xl_usage("console");
        }
    }
    if (optind + 1 != argc)
        return xl_usage("console");
    ctx = xl_open(XLDOM_NEED_XENHV | XLDOM_NEED_XENSTORE);
    if (!ctx)
        return 1;
    domid = xl_domid(ctx, argv[optind]);
    rc = domid < 0 ? 1 : xl_console_attach(ctx, (uint32_t)domid, type, 0);
    xldom_close(ctx);
    return rc;
}

/* ---- shutdown / reboot ------------------------------------------------- */

/* Seconds `shutdown -F` waits for the guest before it destroys it. */
static int force_timeout(void)
{
    const char *v = getenv("XL_SHUTDOWN_TIMEOUT");
    int s = v ? atoi(v) : 10;

    return s >= 0 ? s : 10;
}

/* Wait until @domid is gone (ms); 1 when it is. */
static int wait_gone(struct xldom_ctx *ctx, uint32_t domid, long ms)
{
    struct xldom_info info;

    for (long t = 0; t <= ms; t += POLL_MS) {
        if (xldom_info(ctx, domid, &info) == -ESRCH)
            return 1;
        usleep(POLL_MS * 1000);
    }
    return 0;
}

/* Wait until @domid shut down or is gone (ms); 1 when it did. */
static int wait_down(struct xldom_ctx *ctx, uint32_t domid, long ms)
{
    for (long t = 0; t <= ms; t += POLL_MS) {
        if (!domain_up(ctx, domid))
            return 1;
        usleep(POLL_MS * 1000);
    }
    return 0;
}

static int shutdown_common(int argc, char **argv, const char *reason)
{
    int wait = 0, force = 0, c, rc = 1;
    struct xldom_ctx *ctx;
    long domid;

    while ((c = getopt(argc, argv, "+hwFa")) != -1) {
        switch (c) {
        case 'w':
            wait = 1;
            break;
        case 'F':
            force = 1;
            break;
        case 'a':
            xl_err("%s -a is not yet supported", argv[0]);
            return 1;
        case 'h':
            xl_usage(argv[0]);
            return 0;
        default:
            return xl_usage(argv[0]);
        }
    }
    if (optind + 1 != argc)
        return xl_usage(argv[0]);
    ctx = xl_open(XLDOM_NEED_XENHV | XLDOM_NEED_XENSTORE);
    if (!ctx)
        return 1;
    domid = xl_domid(ctx, argv[optind]);
    if (domid < 0)
        goto out;
    if (domid == 0) {
        xl_err("Domain-0 cannot be shut down by xl");
        goto out;
    }
    if (xldom_shutdown_request(ctx, (uint32_t)domid, reason, force)) {
        xl_err("%s", xldom_error(ctx));
        goto out;
    }
    if (force && !wait_down(ctx, (uint32_t)domid, force_timeout() * 1000L)) {
        /* No PV drivers and no ACPI: the only way left is destroy. */
        fprintf(stderr,
                "Domain %ld did not %s within %d s: destroying it (-F)\n",
                domid, reason, force_timeout());
        if (xldom_destroy(ctx, (uint32_t)domid) && errno != ESRCH) {
            xl_err("%s", xldom_error(ctx));
            goto out;
        }
    }
    if (wait) {
        fprintf(stderr, "Waiting for 1 domains\n");
        /* Shut down, then gone unless on_* preserves it. */
        wait_down(ctx, (uint32_t)domid, 3600L * 1000);
        wait_gone(ctx, (uint32_t)domid, CONSOLE_GRACE_MS + 2000);
        fprintf(stderr, "Domain %ld has been %s\n", domid,
                strcmp(reason, "reboot") ? "shut down" : "rebooted");
    }
    rc = 0;
out:
    xldom_close(ctx);
    return rc;
}

int xl_cmd_shutdown(int argc, char **argv)
{
    return shutdown_common(argc, argv, "poweroff");
}

int xl_cmd_reboot(int argc, char **argv)
{
    return shutdown_common(argc, argv, "reboot");
}
