/*
 * xenconsoled — the console backend daemon (Xen's tools/console/daemon
 * behaviour, our own code).
 *
 * Watches @introduceDomain and @releaseDomain (docs/misc/xenstore.txt
 * "special watches"); on each, lists the domains (xc_domain_getinfolist)
 * and adds a console for every new one or frees the console of every one
 * that is gone or dying.  A console connects once its domain's
 * ~/console/ring-ref and ~/console/port are written (a watch on
 * ~/console re-tries it); see console.h for what it then serves.  One
 * libevent loop, one xenevtchn handle for every console's port.
 *
 *   xenconsoled [-N|--no-fork] [--pid-file FILE] [--run-dir DIR]
 *               [--log-dir DIR] [--buffer-size BYTES]
 *
 * Prints READY on stdout once it serves.  SIGHUP reopens the log files.
 * SIGTERM/SIGINT: unlink the sockets and the pid file, exit 0.  When
 * xen-hv's control socket (event channels) or xenstored goes away: the
 * same, exit 1.  Exit 1 on a
 * start-up error, 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xenstore.h>

#include "console.h"

#define XENCONSOLED_MAX_DOMAINS 1024
#define TOKEN_INTRO             "@intro"
#define TOKEN_RELEASE           "@release"
#define TOKEN_DOM_PREFIX        "dom:"

/* Every console we know, in a list (a handful of domains). */
struct cons_entry {
    struct cons *cons;
    xen_domain_handle_t handle; /* tells a reused domid from its domain */
    struct cons_entry *next;
};

static struct cons_config cfg;
static xc_interface *xch;
static struct cons_entry *consoles;
static int lost_connection; /* xen-hv's or xenstored's connection failed */

static struct cons_entry *entry_find(uint32_t domid)
{
    for (struct cons_entry *e = consoles; e; e = e->next)
        if (cons_domid(e->cons) == domid)
            return e;
    return NULL;
}

static void dom_watch_path(uint32_t domid, char *path, size_t plen, char *token,
                           size_t tlen)
{
    snprintf(path, plen, "/local/domain/%u/console", domid);
    snprintf(token, tlen, TOKEN_DOM_PREFIX "%u", domid);
}

static void console_add(uint32_t domid, const xen_domain_handle_t handle)
{
    struct cons_entry *e = calloc(1, sizeof(*e));
    char path[64], token[32];

    if (e)
        e->cons = cons_new(&cfg, domid);
    if (!e || !e->cons) {
        fprintf(stderr, "xenconsoled: domain %u: out of memory\n", domid);
        free(e);
        return;
    }
    memcpy(e->handle, handle, sizeof(e->handle));
    e->next = consoles;
    consoles = e;
    /* The watch fires once at once, which makes the first attempt. */
    dom_watch_path(domid, path, sizeof(path), token, sizeof(token));
    if (!xs_watch(cfg.xs, path, token))
        fprintf(stderr, "xenconsoled: domain %u: watch %s: %s\n", domid, path,
                strerror(errno));
}

static void console_remove(struct cons_entry **link)
{
    struct cons_entry *e = *link;
    uint32_t domid = cons_domid(e->cons);
    char path[64], token[32];

    dom_watch_path(domid, path, sizeof(path), token, sizeof(token));
    xs_unwatch(cfg.xs, path, token);
    fprintf(stderr, "xenconsoled: domain %u: released\n", domid);
    cons_free(e->cons);
    *link = e->next;
    free(e);
}

/* The live (not dying) domain domid in info[0..n), or NULL. */
static const xc_domaininfo_t *info_find(const xc_domaininfo_t *info, int n,
                                        uint32_t domid)
{
    for (int i = 0; i < n; i++)
        if (info[i].domain == domid && !(info[i].flags & XEN_DOMINF_dying))
            return &info[i];
    return NULL;
}

/*
 * Bring the console list in line with the domains that exist.  A domid
 * whose handle changed was destroyed and reused (xen-hv hands out the
 * lowest free id): its old console goes and a new one comes.
 */
static void domains_scan(void)
{
    static xc_domaininfo_t info[XENCONSOLED_MAX_DOMAINS];
    int n = xc_domain_getinfolist(xch, 0, XENCONSOLED_MAX_DOMAINS, info);

    if (n < 0) {
        fprintf(stderr, "xenconsoled: listing domains: %s\n", strerror(errno));
        return;
    }
    for (struct cons_entry **link = &consoles; *link;) {
        const xc_domaininfo_t *d =
            info_find(info, n, cons_domid((*link)->cons));

        if (d && !memcmp(d->handle, (*link)->handle, sizeof(d->handle)))
            link = &(*link)->next;
        else
            console_remove(link);
    }
    for (int i = 0; i < n; i++)
        if (info[i].domain != 0 && !(info[i].flags & XEN_DOMINF_dying) &&
            !entry_find(info[i].domain))
            console_add(info[i].domain, info[i].handle);
}

static void on_xenstore(evutil_socket_t fd, short what, void *arg)
{
    char **ev;

    (void)fd;
    (void)what;
    (void)arg;
    while ((ev = xs_check_watch(cfg.xs))) {
        const char *token = ev[XS_WATCH_TOKEN];

        if (!strcmp(token, TOKEN_INTRO) || !strcmp(token, TOKEN_RELEASE)) {
            domains_scan();
        } else if (!strncmp(token, TOKEN_DOM_PREFIX,
                            strlen(TOKEN_DOM_PREFIX))) {
            struct cons_entry *e =
                entry_find((uint32_t)strtoul(token + 4, NULL, 10));

            if (e)
                cons_connect(e->cons);
        }
        free(ev);
    }
    if (errno != EAGAIN && errno != EINTR && errno != ENOMEM) {
        /* xenstored went away: without it no console can be found. */
        fprintf(stderr, "xenconsoled: xenstore: %s; exiting\n",
                strerror(errno));
        lost_connection = 1;
        event_base_loopbreak(cfg.base);
    }
}

/* One pending port per call (the fd is level-triggered and blocking). */
static void on_evtchn(evutil_socket_t fd, short what, void *arg)
{
    struct cons_entry *e;
    int port;

    (void)fd;
    (void)what;
    (void)arg;
    port = xenevtchn_pending(cfg.xce);
    if (port < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return;
        /* The hypervisor's control socket is gone: nothing left to serve. */
        fprintf(stderr, "xenconsoled: event channels: %s; exiting\n",
                strerror(errno));
        lost_connection = 1;
        event_base_loopbreak(cfg.base);
        return;
    }
    for (e = consoles; e; e = e->next)
        if (cons_local_port(e->cons) == port)
            break;
    /* A port with no console left was unbound: nothing to unmask. */
    if (e)
        cons_handle_event(e->cons);
}

/* SIGTERM/SIGINT end the loop; SIGHUP reopens the log files. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    if (sig == SIGHUP) {
        for (struct cons_entry *e = consoles; e; e = e->next)
            cons_reopen_log(e->cons);
        return;
    }
    event_base_loopbreak(arg);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: xenconsoled [-N|--no-fork] [--pid-file FILE]\n"
            "                   [--run-dir DIR] [--log-dir DIR]\n"
            "                   [--buffer-size BYTES]\n"
            "  --run-dir      console-<domid>.sock sockets (default %s)\n"
            "  --log-dir      write guest-console-<domid>.log files there\n"
            "  --buffer-size  unread output kept per console (default "
            "65536)\n",
            XENHV_RUNDIR);
}

/* Detach from the terminal: the parent exits, the child goes on. */
static int daemonize(void)
{
    pid_t pid = fork();

    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    setsid();
    return chdir("/");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"no-fork", no_argument, NULL, 'N'},
        {"pid-file", required_argument, NULL, 'p'},
        {"run-dir", required_argument, NULL, 'r'},
        {"log-dir", required_argument, NULL, 'l'},
        {"buffer-size", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct event *ev_xs = NULL, *ev_evtchn = NULL, *ev_term = NULL,
                 *ev_int = NULL, *ev_hup = NULL, *ev_xs_check = NULL;
    /*
     * libxenstore marks a handle dead when xenstored goes, but its
     * xs_fileno() pipe does not wake us then: look every 2 s too.
     */
    const struct timeval xs_check_period = {2, 0};
    const char *pid_file = NULL;
    int no_fork = 0, opt, rc = 1, pid_written = 0;
    char *end;

    cfg.run_dir = XENHV_RUNDIR;
    cfg.buffer_size = 65536;
    while ((opt = getopt_long(argc, argv, "Nh", opts, NULL)) != -1) {
        switch (opt) {
        case 'N':
            no_fork = 1;
            break;
        case 'p':
            pid_file = optarg;
            break;
        case 'r':
            cfg.run_dir = optarg;
            break;
        case 'l':
            cfg.log_dir = optarg;
            break;
        case 'b':
            errno = 0;
            cfg.buffer_size = strtoul(optarg, &end, 0);
            if (errno || *end || optarg[0] == '-' || cfg.buffer_size < 64 ||
                cfg.buffer_size > (1UL << 30)) {
                fprintf(stderr, "xenconsoled: --buffer-size: 64 to 1 GiB\n");
                return 2;
            }
            break;
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
    /* Before any thread (libxenstore's reader) exists. */
    if (!no_fork && daemonize() < 0) {
        perror("xenconsoled: fork");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (mkdir(cfg.run_dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "xenconsoled: %s: %s\n", cfg.run_dir, strerror(errno));
        goto out;
    }
    xch = xc_interface_open(NULL, NULL, 0);
    cfg.xce = xenevtchn_open(NULL, 0);
    cfg.fmem = xenforeignmemory_open(NULL, 0);
    cfg.xs = xs_open(0);
    cfg.base = event_base_new();
    if (!xch || !cfg.xce || !cfg.fmem || !cfg.xs || !cfg.base) {
        fprintf(stderr,
                "xenconsoled: cannot open %s (is xen-hv/xenstored "
                "running?): %s\n",
                !xch        ? "libxenctrl"
                : !cfg.xce  ? "libxenevtchn"
                : !cfg.fmem ? "libxenforeignmemory"
                : !cfg.xs   ? "xenstore"
                            : "libevent",
                strerror(errno));
        goto out;
    }
    ev_xs = event_new(cfg.base, xs_fileno(cfg.xs), EV_READ | EV_PERSIST,
                      on_xenstore, NULL);
    ev_evtchn = event_new(cfg.base, xenevtchn_fd(cfg.xce), EV_READ | EV_PERSIST,
                          on_evtchn, NULL);
    ev_term = evsignal_new(cfg.base, SIGTERM, on_signal, cfg.base);
    ev_int = evsignal_new(cfg.base, SIGINT, on_signal, cfg.base);
    ev_hup = evsignal_new(cfg.base, SIGHUP, on_signal, cfg.base);
    ev_xs_check = event_new(cfg.base, -1, EV_PERSIST, on_xenstore, NULL);
    if (!ev_xs || !ev_evtchn || !ev_term || !ev_int || !ev_hup ||
        !ev_xs_check || event_add(ev_xs, NULL) || event_add(ev_evtchn, NULL) ||
        event_add(ev_term, NULL) || event_add(ev_int, NULL) ||
        event_add(ev_hup, NULL) || event_add(ev_xs_check, &xs_check_period)) {
        fprintf(stderr, "xenconsoled: libevent set-up failed\n");
        goto out;
    }
    if (!xs_watch(cfg.xs, "@introduceDomain", TOKEN_INTRO) ||
        !xs_watch(cfg.xs, "@releaseDomain", TOKEN_RELEASE)) {
        fprintf(stderr, "xenconsoled: watching domains: %s\n", strerror(errno));
        goto out;
    }
    if (pid_file) {
        FILE *f = fopen(pid_file, "w");

        if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
            fprintf(stderr, "xenconsoled: %s: %s\n", pid_file, strerror(errno));
            goto out;
        }
        pid_written = 1;
    }
    domains_scan();
    printf("READY\n");
    fflush(stdout);
    event_base_dispatch(cfg.base);
    rc = lost_connection ? 1 : 0;
out:
    while (consoles)
        console_remove(&consoles);
    if (pid_written)
        unlink(pid_file);
    if (ev_xs)
        event_free(ev_xs);
    if (ev_evtchn)
        event_free(ev_evtchn);
    if (ev_term)
        event_free(ev_term);
    if (ev_int)
        event_free(ev_int);
    if (ev_hup)
        event_free(ev_hup);
    if (ev_xs_check)
        event_free(ev_xs_check);
    if (cfg.xs)
        xs_close(cfg.xs);
    if (cfg.fmem)
        xenforeignmemory_close(cfg.fmem);
    if (cfg.xce)
        xenevtchn_close(cfg.xce);
    if (xch)
        xc_interface_close(xch);
    if (cfg.base)
        event_base_free(cfg.base);
    return rc;
}
