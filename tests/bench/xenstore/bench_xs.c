/*
 * bench_xs.c — xenstored over its Unix socket against a bare Unix-socket
 * round trip of the same message sizes, measured in the same run.
 *
 * The reference is a trivial echo server (a forked process): it reads a
 * struct xsd_sockmsg header and its payload, and answers with a message
 * whose payload length the client put in tx_id — the length xenstored's
 * reply to the same request has.  The client code is the same for both
 * (xsd_call(): one write, a header read and a payload read).
 *
 * Operations (Xen docs/misc/xenstore.txt):
 *   read   READ /bench/key (16-byte value)
 *   write  WRITE /bench/key, 16 bytes
 *   dir    DIRECTORY /bench/dir (10 children)
 *   txn    TRANSACTION_START, READ, WRITE, TRANSACTION_END: one
 *          read-modify-write; the reference is 4 echo round trips
 *   watch  a WRITE by one client until the WATCH_EVENT reaches another;
 *          the reference is one echo round trip
 * Each runs with client and server pinned to one CPU (cpus=1: every round
 * trip is two context switches) and to two different CPUs (cpus=2: two
 * wake-ups across CPUs).  Figures: the best of 5 batches of N operations.
 * Output: `bench xenstore: ...` lines (tests/bench/run.sh prints them).
 *
 * Usage: bench_xs [XENSTORED] [N]
 */
#include <sched.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>

#include "../../xenstored/xs_daemon.h"

#define KEY   "/bench/key"
#define VALUE "0123456789abcdef"

static char reply[XENSTORE_PAYLOAD_MAX + 1];

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void pin(pid_t pid, int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(pid, sizeof(set), &set);
}

/* The echo server: one client, blocking reads and one write per reply. */
static void echo_serve(int lfd)
{
    static char buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
    struct xsd_sockmsg hdr;
    int fd = accept(lfd, NULL, NULL);

    if (fd < 0)
        _exit(1);
    while (xsd_recv(fd, &hdr, buf + sizeof(hdr)) == 0) {
        hdr.len = hdr.tx_id; /* the reply length the client asked for */
        memcpy(buf, &hdr, sizeof(hdr));
        memset(buf + sizeof(hdr), 'e', hdr.len);
        if (xsd_write_all(fd, buf, sizeof(hdr) + hdr.len) < 0)
            break;
    }
    _exit(0);
}

static pid_t echo_start(const char *path, int *client)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    pid_t pid;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -1;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(lfd, 1) < 0)
        return -1;
    pid = fork();
    if (pid == 0)
        echo_serve(lfd);
    close(lfd);
    *client = socket(AF_UNIX, SOCK_STREAM, 0);
    if (*client < 0 || connect(*client, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return -1;
    return pid;
}

enum { OP_READ, OP_WRITE, OP_DIR, OP_TXN, OP_WATCH, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"read", "write", "directory",
                                               "txn_rmw", "watch_event"};

struct clients {
    int xs, xs2; /* xenstored: the operating client and the watcher */
    int echo;
};

/* One echo round trip: @req_len payload bytes out, @rep_len back. */
static bool echo_rtt(int fd, size_t req_len, size_t rep_len)
{
    static const char pad[XENSTORE_PAYLOAD_MAX];

    return xsd_call(fd, XS_READ, (uint32_t)rep_len, pad, req_len, reply) ==
           XS_READ;
}

/* One operation @op on xenstored (@ref false) or its echo reference. */
static bool op_once(struct clients *c, int op, bool ref)
{
    char buf[64];
    size_t wlen = xsd_write_payload(buf, KEY, VALUE);
    uint32_t tx;
    struct xsd_sockmsg hdr;

    switch (op) {
    case OP_READ:
        if (ref)
            return echo_rtt(c->echo, sizeof(KEY), 16);
        return xsd_call(c->xs, XS_READ, 0, KEY, sizeof(KEY), reply) == XS_READ;
    case OP_WRITE:
        if (ref)
            return echo_rtt(c->echo, wlen, 3);
        return xsd_call(c->xs, XS_WRITE, 0, buf, wlen, reply) == XS_WRITE;
    case OP_DIR:
        if (ref)
            return echo_rtt(c->echo, sizeof("/bench/dir"), 30);
        return xsd_call(c->xs, XS_DIRECTORY, 0, "/bench/dir",
                        sizeof("/bench/dir"), reply) == XS_DIRECTORY;
    case OP_TXN:
        if (ref)
            return echo_rtt(c->echo, 1, 4) &&
                   echo_rtt(c->echo, sizeof(KEY), 16) &&
                   echo_rtt(c->echo, wlen, 3) && echo_rtt(c->echo, 2, 3);
        if (xsd_call(c->xs, XS_TRANSACTION_START, 0, "", 1, reply) !=
            XS_TRANSACTION_START)
            return false;
        tx = (uint32_t)strtoul(reply, NULL, 10);
        return xsd_call(c->xs, XS_READ, tx, KEY, sizeof(KEY), reply) ==
                   XS_READ &&
               xsd_call(c->xs, XS_WRITE, tx, buf, wlen, reply) == XS_WRITE &&
               xsd_call(c->xs, XS_TRANSACTION_END, tx, "T", 2, reply) ==
                   XS_TRANSACTION_END;
    case OP_WATCH:
        if (ref)
            return echo_rtt(c->echo, wlen, 3);
        /* Timed: the write's send until the event is read at xs2. */
        wlen = xsd_write_payload(buf, "/bench/w", "1");
        hdr = (struct xsd_sockmsg){XS_WRITE, 1, 0, (uint32_t)wlen};
        {
            char msg[sizeof(hdr) + 64];

            memcpy(msg, &hdr, sizeof(hdr));
            memcpy(msg + sizeof(hdr), buf, wlen);
            if (xsd_write_all(c->xs, msg, sizeof(hdr) + wlen) < 0 ||
                xsd_recv(c->xs2, &hdr, reply) < 0 || hdr.type != XS_WATCH_EVENT)
                return false;
        }
        return true;
    }
    return false;
}

/* The write replies of the watch benchmark, read after the timing. */
static bool watch_replies(struct clients *c, unsigned int n)
{
    struct xsd_sockmsg hdr;

    while (n--) {
        if (xsd_recv(c->xs, &hdr, reply) < 0 || hdr.type != XS_WRITE)
            return false;
    }
    return true;
}

/* Best-of-5 mean time (ns) of @op over @n repetitions. */
static double op_time(struct clients *c, int op, bool ref, unsigned int n,
                      bool *good)
{
    double best = 0;
    int batch;

    for (batch = 0; batch < 5; batch++) {
        double t0 = now_ns(), t = 0;
        unsigned int i;

        for (i = 0; i < n; i++) {
            if (op == OP_WATCH && !ref) {
                double s = now_ns();

                *good &= op_once(c, op, ref);
                t += now_ns() - s;
                /* Keep the writer's replies from piling up. */
                *good &= watch_replies(c, 1);
            } else {
                *good &= op_once(c, op, ref);
            }
        }
        if (!(op == OP_WATCH && !ref))
            t = now_ns() - t0;
        t /= n;
        if (batch == 0 || t < best)
            best = t;
    }
    return best;
}

int main(int argc, char **argv)
{
    const char *bin =
        argc > 1 ? argv[1] : XEN_ROOT "/xenstore/xenstored/xenstored";
    unsigned int n = argc > 2 ? (unsigned int)atoi(argv[2]) : 20000;
    char dir[] = "/tmp/xs-bench-XXXXXX", path[128], buf[64];
    struct clients c;
    pid_t echo_pid;
    bool good = true;
    int cpus, op;
    size_t len;

    if (access(bin, X_OK) != 0) {
        printf("bench xenstore: %s not built, nothing measured\n", bin);
        return 0;
    }
    if (!mkdtemp(dir) || xsd_start(bin, dir) < 0) {
        printf("bench xenstore: cannot start xenstored\n");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/echo", dir);
    echo_pid = echo_start(path, &c.echo);
    c.xs = xsd_connect();
    c.xs2 = xsd_connect();
    if (echo_pid < 0 || c.xs < 0 || c.xs2 < 0) {
        printf("bench xenstore: cannot connect\n");
        xsd_stop();
        return 1;
    }
    len = xsd_write_payload(buf, KEY, VALUE);
    good &= xsd_call(c.xs, XS_WRITE, 0, buf, len, reply) == XS_WRITE;
    for (int i = 0; i < 10; i++) {
        char p[32];

        snprintf(p, sizeof(p), "/bench/dir/c%d", i);
        len = xsd_write_payload(buf, p, "");
        good &= xsd_call(c.xs, XS_WRITE, 0, buf, len, reply) == XS_WRITE;
    }
    good &= xsd_call(c.xs2, XS_WATCH, 0, "/bench/w\0t", 11, reply) == XS_WATCH;
    /* The watch's first event, sent when it is set. */
    {
        struct xsd_sockmsg hdr;

        good &= xsd_recv(c.xs2, &hdr, reply) == 0;
    }

    for (cpus = 1; cpus <= 2; cpus++) {
        pin(0, 0);
        pin(xsd_pid, cpus == 1 ? 0 : 1);
        pin(echo_pid, cpus == 1 ? 0 : 1);
        for (op = 0; op < OP_COUNT; op++) {
            unsigned int reps = op == OP_TXN ? n / 4 : n;
            double ref = op_time(&c, op, true, reps, &good);
            double t = op_time(&c, op, false, reps, &good);
            const char *target = (op == OP_READ || op == OP_WRITE) && cpus == 1
                                     ? " (target <= 1.3)"
                                     : "";

            printf("bench xenstore: %s cpus=%d ns_per_op=%.0f ops_per_s=%.0f "
                   "socket_ref_ns=%.0f ratio=%.3f%s\n",
                   op_names[op], cpus, t, 1e9 / t, ref, t / ref, target);
        }
    }
    if (!good)
        printf("bench xenstore: some replies were wrong\n");
    close(c.echo);
    close(c.xs);
    close(c.xs2);
    kill(echo_pid, SIGTERM);
    waitpid(echo_pid, NULL, 0);
    xsd_stop();
    snprintf(path, sizeof(path), "rm -rf %s", dir);
    if (system(path) != 0)
        return 1;
    return good ? 0 : 1;
}
