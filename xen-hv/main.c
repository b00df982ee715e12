/*
 * main.c — the xen-hv command line.
 *
 *   xen-hv run KERNEL [--initrd FILE] [--cmdline STRING] [--memory MiB]
 *                     [--vcpus N] [--name NAME] [--log-bytes N] [--stats]
 *                     [--control PATH] [--keep-vmcall]
 *
 * Boots one PVH domain, streams its console (CONSOLEIO_write and the debug
 * port) to stdout and exits with the guest's shutdown reason:
 *   0 = SHUTDOWN_poweroff, 64 + reason for every other reason (reboot 65,
 *   suspend 66, crash 67, watchdog 68, soft_reset 69), 1 = xen-hv error,
 *   2 = usage error, 3 = destroyed by SIGINT/SIGTERM.
 * Until the toolstack exists this launcher is how a domain is started.
 */
#include <stdint.h>
#include <errno.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xen/sched.h>

#include "control.h"
#include "domain.h"
#include "evtchn.h"
#include "kvm_x86_64.h"

#define EXIT_XENHV_ERROR 1
#define EXIT_USAGE       2
#define EXIT_DESTROYED   3 /* SIGINT/SIGTERM destroyed the domain */
#define EXIT_REASON_BASE 64
#define MAX_IMAGE_BYTES  (512ULL << 20)

static void usage(FILE *f)
{
    fprintf(f,
            "usage: xen-hv run KERNEL [options]\n"
            "       xen-hv daemon [--control PATH]\n"
            "Boot a PVH kernel (ELF with XEN_ELFNOTE_PHYS32_ENTRY) as a "
            "domain.\n\n"
            "options:\n"
            "  --initrd FILE     load FILE as module 0 (initrd)\n"
            "  --cmdline STRING  kernel command line\n"
            "  --memory MiB      RAM (default 64)\n"
            "  --vcpus N         vCPUs (default 1, at most 32)\n"
            "  --name NAME       domain name for logs (default domU)\n"
            "  --log-bytes N     console log bound (default 65536)\n"
            "  --stats           print exit and hypercall counts to stderr\n"
            "  --control PATH    serve the control socket (privcmd) at PATH\n"
            "  --keep-vmcall     do not rewrite Linux's vmcall/vmmcall "
            "hypercalls\n"
            "                    into xen-hv's hypercall trap\n"
            "exit status: 0 poweroff, 64+reason for other SCHEDOP_shutdown "
            "reasons\n(65 reboot, 66 suspend, 67 crash, 68 watchdog, 69 "
            "soft_reset), 1 error, 2 usage,\n3 destroyed by SIGINT/SIGTERM.\n");
}

/* Read a whole file; returns NULL with a message on stderr. */
static void *read_file(const char *path, size_t *len)
{
    struct stat st;
    void *buf = NULL;
    size_t off = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        fprintf(stderr, "xen-hv: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        (unsigned long long)st.st_size > MAX_IMAGE_BYTES) {
        fprintf(stderr, "xen-hv: %s: not a regular file of at most %llu MiB\n",
                path, MAX_IMAGE_BYTES >> 20);
        goto out;
    }
    buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!buf)
        goto out;
    while (off < (size_t)st.st_size) {
        ssize_t n = read(fd, (char *)buf + off, (size_t)st.st_size - off);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            fprintf(stderr, "xen-hv: %s: short read\n", path);
            free(buf);
            buf = NULL;
            goto out;
        }
        off += (size_t)n;
    }
    *len = off;
out:
    close(fd);
    return buf;
}

/* SIGINT/SIGTERM: destroy the domain (as `xl destroy`), then clean up. */
static volatile sig_atomic_t destroyed;

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct domain *d = arg;
    destroyed = 1;
    domain_kill(d,
                sig == SIGINT ? "destroyed by SIGINT" : "destroyed by SIGTERM");
}

static int parse_uint(const char *s, unsigned long long max,
                      unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-' || v > max)
        return -1;
    *out = v;
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"initrd", required_argument, NULL, 'i'},
        {"cmdline", required_argument, NULL, 'c'},
        {"memory", required_argument, NULL, 'm'},
        {"vcpus", required_argument, NULL, 'v'},
        {"name", required_argument, NULL, 'n'},
        {"log-bytes", required_argument, NULL, 'l'},
        {"stats", no_argument, NULL, 's'},
        {"control", required_argument, NULL, 'C'},
        {"keep-vmcall", no_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct domain_config cfg = {
        .name = "domU",
        .domid = 1,
        .memory_mib = 64,
        .vcpus = 1,
        .log_bytes = 65536,
        .console_fd = STDOUT_FILENO,
    };
    const char *initrd_path = NULL, *cmdline = "", *control_path = NULL;
    struct control *control = NULL;
    void *kernel = NULL, *initrd = NULL;
    size_t klen = 0, ilen = 0;
    struct kvm_host kvm = {.fd = -1};
    struct event_base *base = NULL;
    struct domain *d = NULL;
    struct evtchn_world *world = NULL;
    struct event *sig_int = NULL, *sig_term = NULL;
    unsigned long long n;
    bool stats = false;
    char err[256] = "";
    int c, rc, status = EXIT_XENHV_ERROR;

    while ((c = getopt_long(argc, argv, "i:c:m:v:n:l:sh", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            initrd_path = optarg;
            break;
        case 'c':
            cmdline = optarg;
            break;
        case 'm':
            if (parse_uint(optarg, DOMAIN_MAX_MEM_MIB, &n) ||
                n < DOMAIN_MIN_MEM_MIB) {
                fprintf(stderr, "xen-hv: --memory must be %d..%d (MiB)\n",
                        DOMAIN_MIN_MEM_MIB, DOMAIN_MAX_MEM_MIB);
                return EXIT_USAGE;
            }
            cfg.memory_mib = n;
            break;
        case 'v':
            if (parse_uint(optarg, DOMAIN_MAX_VCPUS, &n) || n < 1) {
                fprintf(stderr, "xen-hv: --vcpus must be 1..%d\n",
                        DOMAIN_MAX_VCPUS);
                return EXIT_USAGE;
            }
            cfg.vcpus = (unsigned int)n;
            break;
        case 'n':
            cfg.name = optarg;
            break;
        case 'l':
            if (parse_uint(optarg, 64ULL << 20, &n) || n < 1) {
                fprintf(stderr, "xen-hv: --log-bytes must be 1..%llu\n",
                        64ULL << 20);
                return EXIT_USAGE;
            }
            cfg.log_bytes = n;
            break;
        case 's':
            stats = true;
            break;
        case 'K':
            cfg.keep_vmcall = true;
            break;
        case 'C':
            control_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return EXIT_USAGE;
    }

    kernel = read_file(argv[optind], &klen);
    if (!kernel)
        goto out;
    if (initrd_path) {
        initrd = read_file(initrd_path, &ilen);
        if (!initrd)
            goto out;
    }
    rc = kvm_host_open(&kvm, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "xen-hv: %s\n", err);
        goto out;
    }
    if (evthread_use_pthreads() < 0 || !(base = event_base_new())) {
        fprintf(stderr, "xen-hv: cannot set up the event loop\n");
        goto out;
    }
    world = evtchn_world_create();
    if (!world) {
        fprintf(stderr, "xen-hv: out of memory\n");
        goto out;
    }
    cfg.evtchn_world = world;
    rc = domain_create(&kvm, base, &cfg, &d, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "xen-hv: creating domain %s: %s\n", cfg.name, err);
        goto out;
    }
    rc = domain_build_pvh(d, kernel, klen, initrd, ilen, cmdline, err,
                          sizeof(err));
    if (rc) {
        fprintf(stderr, "xen-hv: %s: %s\n", argv[optind], err);
        goto out;
    }
    if (control_path) {
        control =
            control_start(control_path, base, world, &kvm, d, err, sizeof(err));
        if (!control) {
            fprintf(stderr, "xen-hv: %s\n", err);
            goto out;
        }
    }
    sig_int = evsignal_new(base, SIGINT, on_signal, d);
    sig_term = evsignal_new(base, SIGTERM, on_signal, d);
    if (sig_int)
        evsignal_add(sig_int, NULL);
    if (sig_term)
        evsignal_add(sig_term, NULL);
    if (domain_unpause(d))
        goto out;
    rc = domain_wait(d);
    if (stats) {
        uint64_t exits, hcalls;
        domain_exit_stats(d, &exits, &hcalls);
        uint64_t cns, cbytes;
        domain_copy_stats(d, &cns, &cbytes);
        fprintf(stderr,
                "xen-hv: exits=%llu hypercalls=%llu gnttab_copy_ns=%llu "
                "gnttab_copy_bytes=%llu\n",
                (unsigned long long)exits, (unsigned long long)hcalls,
                (unsigned long long)cns, (unsigned long long)cbytes);
    }
    if (destroyed)
        status = EXIT_DESTROYED;
    else if (rc == SHUTDOWN_poweroff)
        status = 0;
    else
        status = EXIT_REASON_BASE + (rc < 0 ? SHUTDOWN_crash : (rc & 0x3f));

out:
    if (sig_int)
        event_free(sig_int);
    if (sig_term)
        event_free(sig_term);
    control_stop(control);
    domain_destroy(d);
    if (world)
        evtchn_world_destroy(world);
    if (base)
        event_base_free(base);
    if (kvm.fd >= 0)
        kvm_host_close(&kvm);
    free(kernel);
    free(initrd);
    return status;
}

static volatile sig_atomic_t daemon_stop;

static void on_daemon_signal(evutil_socket_t sig, short what, void *arg)
{
    daemon_stop = 1;
    event_base_loopbreak(arg);
}

/*
 * xen-hv daemon [--control PATH]: host domains created through the
 * control socket (default RUNDIR/privcmd) until SIGINT/SIGTERM, which
 * destroys them all.
 */
static int cmd_daemon(int argc, char **argv)
{
    static const struct option opts[] = {
        {"control", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = XENHV_RUNDIR "/privcmd";
    struct kvm_host kvm = {.fd = -1};
    struct event_base *base = NULL;
    struct evtchn_world *world = NULL;
    struct control *control = NULL;
    struct event *si = NULL, *st = NULL;
    char err[256] = "";
    int c, status = EXIT_XENHV_ERROR;

    while ((c = getopt_long(argc, argv, "C:h", opts, NULL)) != -1) {
        if (c == 'C') {
            path = optarg;
        } else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : EXIT_USAGE;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    /* Without a usable /dev/kvm the daemon still hosts what needs no
     * vCPU: domain 0's tools and process domains (event channels, grant
     * tables, xenstore rings).  Creating a guest domain then fails with
     * ENODEV, and says why. */
    if (kvm_host_open(&kvm, err, sizeof(err)))
        fprintf(stderr,
                "xen-hv: %s: no guest domains on this host; serving "
                "domain 0 and process domains only\n",
                err);
    if (evthread_use_pthreads() < 0 || !(base = event_base_new()) ||
        !(world = evtchn_world_create())) {
        fprintf(stderr, "xen-hv: cannot set up the event loop\n");
        goto out;
    }
    if (strncmp(path, XENHV_RUNDIR "/", strlen(XENHV_RUNDIR) + 1) == 0)
        mkdir(XENHV_RUNDIR, 0755);
    control = control_start(path, base, world, kvm.fd >= 0 ? &kvm : NULL, NULL,
                            err, sizeof(err));
    if (!control) {
        fprintf(stderr, "xen-hv: %s\n", err);
        goto out;
    }
    si = evsignal_new(base, SIGINT, on_daemon_signal, base);
    st = evsignal_new(base, SIGTERM, on_daemon_signal, base);
    if (si)
        evsignal_add(si, NULL);
    if (st)
        evsignal_add(st, NULL);
    /* A domain that shuts down breaks the loop too: it stays until
     * destroyed through the socket, as on Xen. */
    while (!daemon_stop)
        event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
    status = 0;
out:
    if (si)
        event_free(si);
    if (st)
        event_free(st);
    control_stop(control);
    if (world)
        evtchn_world_destroy(world);
    if (base)
        event_base_free(base);
    if (kvm.fd >= 0)
        kvm_host_close(&kvm);
    return status;
}

int main(int argc, char **argv)
{
    sigset_t set;

    /* vCPU threads unblock SIGUSR1 for themselves; nobody else takes it. */
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "daemon") == 0)
        return cmd_daemon(argc - 1, argv + 1);
    if (argc >= 2 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return EXIT_USAGE;
}
