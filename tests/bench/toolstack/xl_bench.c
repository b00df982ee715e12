/*
 * xl_bench — issue 5's toolstack benchmarks, run by tests/bench/run.sh
 * against daemons `toolstack/xencommons start` runs in a private directory
 * (XENHV_PRIVCMD, XENSTORED_PATH ... in the environment).
 *
 * 1. `xl create` to the guest's first console byte, split three ways:
 *    hypervisor = the ns xen-hv spent serving requests about the domain
 *                 (control_ns of XENHV_OP_DOMAIN_LIST: create, populate,
 *                 foreign map, params, context, unpause);
 *    toolstack  = `xl create -p` wall time minus that (parse, build,
 *                 xenstore, process start-up);
 *    guest      = unpause to the first byte in xen-hv's console log.
 *    Best of ROUNDS.
 * 2. CYCLES create/destroy cycles (`xl create -p`, `xl destroy`): time per
 *    cycle, and RSS (KiB) and open fds of xen-hv, xenstored and xenconsoled
 *    before and after — after must not grow beyond noise.
 * Usage: xl_bench XL HELLO_CFG [cycles].  Prints "bench xl: ..." lines.
 */
#include <errno.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "privcmd_client.h"

#define ROUNDS 5

static struct privcmd_conn pc = {.fd = -1};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Run argv quietly; its exit status, or -1. */
static int run(char *const argv[])
{
    int status;
    pid_t pid;

    fflush(stdout); /* or the child's freopen writes our buffer again */
    pid = fork();

    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) ||
            !freopen("/dev/null", "w", stderr))
            _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The info of the (one) hosted domain named by the toolstack, newest id. */
static int newest_domain(struct xenhv_domain_info *out)
{
    struct xenhv_domain_info di[32];
    uint32_t n = 0;
    int found = 0;

    if (privcmd_call(&pc, XENHV_OP_DOMAIN_LIST, NULL, 0, di, sizeof(di), &n,
                     NULL))
        return -1;
    for (uint32_t i = 0; i < n / sizeof(di[0]); i++)
        if (!di[i].process && (!found || di[i].domid > out->domid)) {
            *out = di[i];
            found = 1;
        }
    return found ? 0 : -1;
}

static long status_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static int fd_count(pid_t pid)
{
    char path[64];
    struct dirent *e;
    int n = 0;
    DIR *d;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    d = opendir(path);
    if (!d)
        return -1;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static pid_t pid_from(const char *file)
{
    FILE *f = fopen(file, "r");
    int pid = -1;

    if (f) {
        if (fscanf(f, "%d", &pid) != 1)
            pid = -1;
        fclose(f);
    }
    return (pid_t)pid;
}

int main(int argc, char **argv)
{
    char *xl, *cfg, name[32], nameopt[48];
    const char *rundir = getenv("XENHV_RUNDIR");
    const char *xsrun = getenv("XENSTORED_RUNDIR");
    uint64_t best_ts = ~0ULL, best_hv = ~0ULL, best_guest = ~0ULL;
    int cycles = argc > 3 ? atoi(argv[3]) : 100;
    struct {
        const char *what;
        char file[256];
        pid_t pid;
        long kib0, kib1;
        int fds0, fds1;
    } d[3] = {
        {.what = "xen-hv"}, {.what = "xenstored"}, {.what = "xenconsoled"}};
    struct xenhv_domain_info info;
    uint64_t t0, t1;

    if (argc < 3 || !rundir || !xsrun) {
        fprintf(stderr, "usage: XENHV_RUNDIR=.. XENSTORED_RUNDIR=.. "
                        "xl_bench XL HELLO_CFG [cycles]\n");
        return 2;
    }
    xl = argv[1];
    cfg = argv[2];
    struct xenhv_hello_rep hello;
    if (privcmd_open(&pc, &hello, NULL, 1)) {
        fprintf(stderr, "xl_bench: no xen-hv control socket\n");
        return 1;
    }

    for (int r = 0; r < ROUNDS; r++) {
        char con[256];
        uint32_t n = 0;
        uint64_t hv, t2;
        snprintf(nameopt, sizeof(nameopt), "name=\"bench%d\"", r);
        {
            char *argv_c[] = {xl, "create", "-p", cfg, nameopt, NULL};
            t0 = now_ns();
            if (run(argv_c) != 0) {
                fprintf(stderr, "xl_bench: xl create -p failed\n");
                return 1;
            }
            t1 = now_ns();
        }
        if (newest_domain(&info)) {
            fprintf(stderr, "xl_bench: no domain after create\n");
            return 1;
        }
        hv = info.control_ns;
        t2 = now_ns();
        if (privcmd_call(&pc, XENHV_OP_DOMAIN_UNPAUSE, &info.domid,
                         sizeof(info.domid), NULL, 0, NULL, NULL)) {
            fprintf(stderr, "xl_bench: unpause failed\n");
            return 1;
        }
        for (int i = 0; i < 200000 && n == 0; i++) {
            n = 0;
            privcmd_call(&pc, XENHV_OP_CONSOLE_READ, &info.domid,
                         sizeof(info.domid), con, sizeof(con), &n, NULL);
        }
        t1 -= t0;
        t2 = now_ns() - t2;
        if (t1 - hv < best_ts)
            best_ts = t1 - hv;
        if (hv < best_hv)
            best_hv = hv;
        if (t2 < best_guest)
            best_guest = t2;
        snprintf(name, sizeof(name), "bench%d", r);
        {
            char *argv_d[] = {xl, "destroy", name, NULL};
            run(argv_d); /* may already be gone (on_poweroff=destroy) */
        }
    }
    printf("bench xl: create_to_first_console_byte_us=%.0f toolstack_us=%.0f "
           "hypervisor_us=%.0f guest_us=%.0f (best of %d; toolstack = xl "
           "create -p wall time minus xen-hv's time on the domain)\n",
           (best_ts + best_hv + best_guest) / 1e3, best_ts / 1e3, best_hv / 1e3,
           best_guest / 1e3, ROUNDS);

    sleep(2); /* the rounds' monitors leave first */
    snprintf(d[0].file, sizeof(d[0].file), "%s/xen-hv.pid", rundir);
    snprintf(d[1].file, sizeof(d[1].file), "%s/xenstored.pid", xsrun);
    snprintf(d[2].file, sizeof(d[2].file), "%s/xenconsoled.pid", rundir);
    for (int i = 0; i < 3; i++) {
        d[i].pid = pid_from(d[i].file);
        d[i].kib0 = status_kib(d[i].pid);
        d[i].fds0 = fd_count(d[i].pid);
    }
    t0 = now_ns();
    for (int c = 0; c < cycles; c++) {
        snprintf(nameopt, sizeof(nameopt), "name=\"cycle%d\"", c);
        snprintf(name, sizeof(name), "cycle%d", c);
        char *argv_c[] = {xl, "create", "-p", cfg, nameopt, NULL};
        char *argv_d[] = {xl, "destroy", name, NULL};
        if (run(argv_c) != 0 || run(argv_d) != 0) {
            fprintf(stderr, "xl_bench: cycle %d failed\n", c);
            return 1;
        }
    }
    t1 = now_ns() - t0;
    /* xl's per-domain monitors leave when their domain is gone: wait. */
    sleep(2);
    printf("bench xl: create_destroy_cycles=%d ms_per_cycle=%.1f\n", cycles,
           t1 / 1e6 / cycles);
    for (int i = 0; i < 3; i++) {
        d[i].kib1 = status_kib(d[i].pid);
        d[i].fds1 = fd_count(d[i].pid);
        if (d[i].kib0 < 0) {
            printf("bench xl: %s not running, not measured\n", d[i].what);
            continue;
        }
        printf("bench xl: %s rss_kib_before=%ld rss_kib_after=%ld "
               "fds_before=%d fds_after=%d%s\n",
               d[i].what, d[i].kib0, d[i].kib1, d[i].fds0, d[i].fds1,
               d[i].fds1 > d[i].fds0 || d[i].kib1 > d[i].kib0 + 1024
                   ? " GROWTH"
                   : " (no growth)");
    }
    privcmd_disconnect(&pc);
    return 0;
}
