/*
 * bench_blk — blkback measured through the program frontend (a process
 * domain: grants, event channels and the blkif ring, persistent grants)
 * next to two references on the same file in the same run, both O_DIRECT:
 * an io_uring loop (one SQE submitted per completion reaped) and fio
 * (ioengine io_uring, its default batching, which is the same).  Shapes:
 * 4 KiB random read and write IOPS at queue depth 1 and 32, 1 MiB
 * sequential read and write MB/s at depth 1; the ratio (target >= 0.9 at
 * QD32 and sequential), and event-channel sends per request in each
 * direction (target: at most one per batch).
 *
 * Each shape alternates loop, fio and frontend in SLICES slices (SECONDS
 * in all for each), so a change in the host's load (our machines are
 * shared, and their disk is virtual: its speed swings 2x from second to
 * second) falls on all alike.  The ratio is the median over the slices of
 * the frontend's slice against the mean of the two reference slices just
 * before it; the per-slice spread and the ratio of the totals against the
 * faster reference are printed too.  Besides, each shape prints the CPU
 * time and the context switches (wakeups) per I/O of the frontend path
 * (program frontend + blkback + xen-hv) and of the loop (see
 * backends/blk's README).
 * The frontend issues the same sizes at the same depth: a 1 MiB I/O is one
 * indirect request of 256 segments (a process domain can share only
 * 1 MiB, so the requests' data pages are aliased over 64 granted pages;
 * the data is not looked at), as the references issue 1 MiB per I/O.
 *
 * The QD32 shapes run a second time with copied grants (a frontend that
 * does not offer feature-persistent: blkback moves the data with
 * grant_copy through a bounce buffer), the numbers behind blkback's choice
 * of mapping persistent grants once and copying the others.
 *
 *   bench_blk [FILE_MIB]      (root; /dev/kvm; default 256 MiB)
 */
#include <dirent.h>
#include <poll.h>
#include <liburing.h>
#include <xenevtchn.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#include "blk_harness.h"

#define SECONDS 3.6
#define SLICES  12

struct shape {
    const char *name;
    uint8_t op;
    uint32_t bytes; /* per I/O */
    unsigned int depth;
    bool seq;
    unsigned int split; /* frontend requests per I/O */
};

static const struct shape shapes[] = {
    {"4k randread qd1", BLKIF_OP_READ, 4096, 1, false, 1},
    {"4k randread qd32", BLKIF_OP_READ, 4096, 32, false, 1},
    {"4k randwrite qd1", BLKIF_OP_WRITE, 4096, 1, false, 1},
    {"4k randwrite qd32", BLKIF_OP_WRITE, 4096, 32, false, 1},
    {"1m seqread", BLKIF_OP_READ, 1u << 20, 1, true, 1},
    {"1m seqwrite", BLKIF_OP_WRITE, 1u << 20, 1, true, 1},
};
#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

static uint64_t file_bytes;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t next_off(const struct shape *s, uint64_t *x, uint64_t *pos)
{
    uint64_t off;

    if (s->seq) {
        off = *pos;
        *pos = (*pos + s->bytes) % file_bytes;
        return off;
    }
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return (*x % (file_bytes / s->bytes)) * s->bytes;
}

/* The reference: io_uring, O_DIRECT, same file, for secs; I/Os done
 * (*elapsed: seconds). */
static uint64_t ref_run(const char *path, const struct shape *s, double secs,
                        double *elapsed)
{
    struct io_uring ring;
    struct io_uring_cqe *cqe;
    uint8_t *buf;
    /* The offsets go on from slice to slice, as the frontend's do. */
    static uint64_t x = 88172645463325252ull, pos;
    uint64_t done = 0;
    unsigned int inflight = 0;
    double t0, t = 0;
    int fd = open(path, O_RDWR | O_DIRECT);

    *elapsed = 0;
    if (fd < 0 || io_uring_queue_init(64, &ring, 0) < 0)
        return 0;
    buf = aligned_alloc(4096, (size_t)s->bytes * s->depth);
    memset(buf, 0x3c, (size_t)s->bytes * s->depth);
    t0 = now_s();
    do {
        while (inflight < s->depth) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
            uint8_t *b = buf + (size_t)(done + inflight) % s->depth * s->bytes;
            if (s->op == BLKIF_OP_READ)
                io_uring_prep_read(sqe, fd, b, s->bytes, next_off(s, &x, &pos));
            else
                io_uring_prep_write(sqe, fd, b, s->bytes,
                                    next_off(s, &x, &pos));
            inflight++;
        }
        io_uring_submit(&ring);
        if (io_uring_wait_cqe(&ring, &cqe) < 0)
            break;
        io_uring_cqe_seen(&ring, cqe);
        inflight--;
        done++;
        t = now_s();
    } while (t - t0 < secs);
    while (inflight--)
        if (io_uring_wait_cqe(&ring, &cqe) == 0)
            io_uring_cqe_seen(&ring, cqe);
    io_uring_queue_exit(&ring);
    close(fd);
    free(buf);
    *elapsed = t - t0;
    return done;
}

/*
 * The second reference: fio (ioengine io_uring, direct=1, the shape's
 * block size and depth, random or sequential) on the same file for secs.
 * I/Os done by fio's own count (*elapsed: its runtime, s); 0 when fio is
 * not installed or failed.
 */
static uint64_t fio_run(const char *path, const struct shape *s, double secs,
                        double *elapsed)
{
    static const char *const rw[2][2] = {{"randread", "randwrite"},
                                         {"read", "write"}};
    bool wr = s->op != BLKIF_OP_READ;
    char cmd[512], line[4096];
    unsigned long long ios = 0, ms = 0;
    FILE *p;

    *elapsed = 0;
    snprintf(cmd, sizeof(cmd),
             "fio --name=ref --filename=%s --direct=1 --ioengine=io_uring "
             "--rw=%s --bs=%u --iodepth=%u --runtime=%ums --time_based "
             "--output-format=terse --terse-version=3 2>/dev/null",
             path, rw[s->seq][wr], s->bytes, s->depth,
             (unsigned int)(secs * 1000));
    if (!(p = popen(cmd, "r")))
        return 0;
    while (fgets(line, sizeof(line), p)) {
        /* Terse v3: read total I/O (KiB) is field 6, runtime (ms) 9;
         * write total I/O field 47, runtime 50 (fio's HOWTO). */
        char *f = line, *tok;
        unsigned int i = 1;
        unsigned long long kib = 0;

        while ((tok = strsep(&f, ";"))) {
            if (i == (wr ? 47u : 6u))
                kib = strtoull(tok, NULL, 10);
            if (i == (wr ? 50u : 9u))
                ms = strtoull(tok, NULL, 10);
            i++;
        }
        if (ms)
            ios = kib * 1024 / s->bytes;
    }
    if (pclose(p) != 0)
        return 0;
    *elapsed = ms / 1e3;
    return ios;
}

/* CPU time (ns) and context switches of a process, all its threads. */
struct pstat {
    uint64_t cpu_ns, csw;
};

static void pstat_add(const char *task_dir, struct pstat *p)
{
    char path[256], line[128];
    unsigned long long ns, n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/schedstat", task_dir);
    if ((f = fopen(path, "r"))) {
        if (fscanf(f, "%llu", &ns) == 1)
            p->cpu_ns += ns;
        fclose(f);
    }
    snprintf(path, sizeof(path), "%s/status", task_dir);
    if ((f = fopen(path, "r"))) {
        while (fgets(line, sizeof(line), f))
            if (sscanf(line, "voluntary_ctxt_switches: %llu", &n) == 1 ||
                sscanf(line, "nonvoluntary_ctxt_switches: %llu", &n) == 1)
                p->csw += n;
        fclose(f);
    }
}

/* pid's totals (pid 0: this thread only). */
static struct pstat pstat_of(pid_t pid)
{
    struct pstat p = {0, 0};
    char dir[64], sub[340];
    struct dirent *de;
    DIR *d;

    if (pid == 0) {
        pstat_add("/proc/thread-self", &p);
        return p;
    }
    snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
    d = opendir(dir);
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.') {
            snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
            pstat_add(sub, &p);
        }
    if (d)
        closedir(d);
    return p;
}

#define PP_ROUNDS 1000

/* Take and unmask the events h has now (waiting 20 ms for them). */
static void drain_events(xenevtchn_handle *h)
{
    struct pollfd p = {.fd = xenevtchn_fd(h), .events = POLLIN};
    xenevtchn_port_or_error_t port;

    while (poll(&p, 1, 20) == 1 && (port = xenevtchn_pending(h)) >= 0)
        xenevtchn_unmask(h, (evtchn_port_t)port);
}

/*
 * The split driver's unavoidable extra: per batch, one event-channel hop
 * to the backend and one back (the loop's own wakeup, for the completion,
 * both have).  Measured now: a round trip between two processes over a
 * loopback event channel of domain 0 (xenevtchn doorbells, as blkback and
 * the frontend use), and a bare pipe round trip, the host's floor.  ns
 * per round trip; 0 when it could not be measured.
 */
static double hop_rtt_ns(bool pipe_only)
{
    xenevtchn_handle *a = NULL, *b = NULL;
    int pa = -1, pb = -1, p1[2] = {-1, -1}, p2[2] = {-1, -1};
    double t0, ns = 0;
    pid_t kid = -1;
    char ch = 0;

    if (pipe_only) {
        if (pipe(p1) || pipe(p2))
            goto out;
    } else {
        a = xenevtchn_open(NULL, 0);
        b = xenevtchn_open(NULL, 0);
        pa = a ? xenevtchn_bind_unbound_port(a, 0) : -1;
        pb = pa > 0 && b ? xenevtchn_bind_interdomain(b, 0, (evtchn_port_t)pa)
                         : -1;
        if (pb <= 0)
            goto out;
        /* Binding raises the new port (as Xen does, for notifications
         * the unbound end may have lost): take that event first, or the
         * two sides would play one round apart. */
        drain_events(a);
        drain_events(b);
    }
    kid = fork();
    if (kid == 0) {
        for (int i = 0; i < PP_ROUNDS; i++) {
            if (pipe_only) {
                if (read(p1[0], &ch, 1) != 1 || write(p2[1], &ch, 1) != 1)
                    _exit(1);
                continue;
            }
            if (xenevtchn_pending(b) != pb)
                _exit(1);
            xenevtchn_unmask(b, (evtchn_port_t)pb);
            xenevtchn_notify(b, (evtchn_port_t)pb);
        }
        _exit(0);
    }
    t0 = now_s();
    for (int i = 0; i < PP_ROUNDS; i++) {
        if (pipe_only) {
            if (write(p1[1], &ch, 1) != 1 || read(p2[0], &ch, 1) != 1)
                goto out;
            continue;
        }
        xenevtchn_notify(a, (evtchn_port_t)pa);
        if (xenevtchn_pending(a) != pa)
            goto out;
        xenevtchn_unmask(a, (evtchn_port_t)pa);
    }
    ns = (now_s() - t0) * 1e9 / PP_ROUNDS;
out:
    if (kid > 0) {
        kill(kid, SIGKILL);
        waitpid(kid, NULL, 0);
    }
    for (int i = 0; i < 2; i++) {
        if (p1[i] >= 0)
            close(p1[i]);
        if (p2[i] >= 0)
            close(p2[i]);
    }
    xenevtchn_close(a);
    xenevtchn_close(b);
    return ns;
}

/* The frontend path's processes: program frontend, blkback, xen-hv. */
static struct pstat path_stat(pid_t fe)
{
    struct pstat a = pstat_of(fe), b = pstat_of(env.bb),
                 c = pstat_of(env.xenhv);

    return (struct pstat){a.cpu_ns + b.cpu_ns + c.cpu_ns,
                          a.csw + b.csw + c.csw};
}

struct fe_arg {
    char path[128];
    uint32_t devid;
    int res_fd;  /* "index iops fe_sends fe_events requests" lines */
    int go_fd;   /* the parent says when the next shape may start */
    bool copied; /* no feature-persistent: blkback copies (grant_copy) */
};

/* BENCH_BLK_ONLY=substring: run only the shapes whose name has it. */
static bool shape_on(unsigned int k)
{
    const char *only = getenv("BENCH_BLK_ONLY");

    return !only || !*only || strstr(shapes[k].name, only);
}

/* Shapes run with copied grants too, to show why persistent is used. */
static bool copied_shape(unsigned int k)
{
    return !shapes[k].seq && shapes[k].depth > 1;
}

/* The frontend side, as a process domain: one line per slice. */
static void fe_bench(struct xs_handle *xs, void *argp)
{
    struct fe_arg *a = argp;
    struct bfp_opts o = {.persistent = true, .alias = true, .pool_pages = 72};
    struct bfp *f = bfp_open(xs, a->devid, &o);
    static struct bfp_io io[4096];
    char line[160], c;

    if (!f ||
        bfp_toolstack_add(xs, (uint32_t)bfp_get_domid(f), a->devid, a->path,
                          true) ||
        bfp_connect(f, 10000))
        return; /* the parent reads no line and says so */
    for (unsigned int sl = 0; sl < NSHAPES * SLICES; sl++) {
        unsigned int k = sl / SLICES;
        const struct shape *s = &shapes[k];
        uint32_t req_bytes = s->bytes / s->split;
        /* Its own offsets: were they the reference's, the frontend would
         * read right after it what it has just read (a warm cache below
         * the file would favour the frontend). */
        static uint64_t x = 0x9e3779b97f4a7c15ull, pos;
        uint64_t done = 0;
        struct bfp_stats st0, st1;
        double t0, t = 0;
        /* Long runs (the depth stays full but for the last few), short
         * enough to end a slice on time. */
        unsigned int batch = s->seq ? 64 * s->split : 32 * s->depth;

        if ((a->copied && !copied_shape(k)) || !shape_on(k))
            continue;
        if (read(a->go_fd, &c, 1) != 1)
            return;
        if (!pos) /* sequential: from the other half of the file */
            pos = file_bytes / 2;
        bfp_get_stats(f, &st0);
        t0 = now_s();
        do {
            /* depth I/Os in flight: depth * split requests. */
            for (unsigned int i = 0; i < batch; i += s->split) {
                uint64_t off = next_off(s, &x, &pos);
                for (unsigned int j = 0; j < s->split; j++)
                    io[i + j] = (struct bfp_io){
                        .op = s->op,
                        .sector = (off + (uint64_t)j * req_bytes) / 512,
                        .nsects = req_bytes / 512};
            }
            if (bfp_run(f, io, batch, s->depth * s->split, 5000))
                break;
            done += batch / s->split;
            t = now_s();
        } while (t - t0 < SECONDS / SLICES);
        bfp_get_stats(f, &st1);
        snprintf(line, sizeof(line), "%u %llu %.6f %llu %llu %llu\n", k,
                 (unsigned long long)done, t - t0,
                 (unsigned long long)(st1.notify_out - st0.notify_out),
                 (unsigned long long)(st1.notify_in - st0.notify_in),
                 (unsigned long long)(st1.requests - st0.requests));
        if (write(a->res_fd, line, strlen(line)) < 0)
            return;
    }
    bfp_disconnect(f, 5000);
    bfp_close(f);
}

/* blkback's counters for the device. */
static void be_counters(uint32_t devid, unsigned long long *in,
                        unsigned long long *out, unsigned long long *iov)
{
    static const char *const keys[] = {"notify_in=", "notify_out=",
                                       "iovecs="};
    unsigned long long v[3];

    blk_be_stats(devid, true, keys, 3, v);
    *in = v[0];
    *out = v[1];
    *iov = v[2];
}

/* Start the frontend child; per shape, alternate the reference and the
 * frontend slice by slice, then print the shape's lines. */
static void run_frontend(struct fe_arg *a, bool copied)
{
    int res[2], go[2];
    unsigned long long bin0 = 0, bout0 = 0, bin1 = 0, bout1 = 0, biov0 = 0,
                       biov1 = 0;
    const char *mode = copied ? "copied grants" : "persistent";
    struct blk_child c;
    FILE *rf;

    if (pipe(res) || pipe(go))
        return;
    a->res_fd = res[1];
    a->go_fd = go[0];
    c = blk_child_start(fe_bench, a);
    close(res[1]);
    close(go[0]);
    rf = fdopen(res[0], "r");
    for (unsigned int k = 0; k < NSHAPES; k++) {
        const struct shape *s = &shapes[k];
        unsigned int idx;
        double ref_t = 0, fe_t = 0, fio_t = 0, el, iops, ref, fio, best, med;
        unsigned long long sends = 0, reqs = 0, ops, sn, ev, rq;
        uint64_t ref_ops = 0, fe_ops = 0, fio_ops = 0;
        struct pstat r0, r1, p0, p1, rs = {0, 0};
        char line[200];
        bool failed = false;
        /* Per slice: the frontend's rate over the references' mean. */
        double sl_ratio[SLICES];
        unsigned int nsl = 0;

        if ((copied && !copied_shape(k)) || !shape_on(k))
            continue;
        be_counters(a->devid, &bin0, &bout0, &biov0);
        p0 = path_stat(c.pid);
        for (unsigned int sl = 0; sl < SLICES && !failed; sl++) {
            uint64_t n1, n2;
            double e1, e2, refs;
            int nref;

            r0 = pstat_of(0);
            n1 = ref_run(a->path, s, SECONDS / SLICES, &e1);
            r1 = pstat_of(0);
            rs.cpu_ns += r1.cpu_ns - r0.cpu_ns;
            rs.csw += r1.csw - r0.csw;
            ref_ops += n1;
            ref_t += e1;
            n2 = fio_run(a->path, s, SECONDS / SLICES, &e2);
            fio_ops += n2;
            fio_t += e2;
            if (write(go[1], "g", 1) != 1 || !fgets(line, sizeof(line), rf) ||
                sscanf(line, "%u %llu %lf %llu %llu %llu", &idx, &ops, &el, &sn,
                       &ev, &rq) != 6) {
                failed = true;
                break;
            }
            fe_ops += ops;
            fe_t += el;
            /* The mean rate of the references that ran (fio may not). */
            nref = (e1 > 0) + (e2 > 0);
            refs =
                nref ? ((e1 > 0 ? n1 / e1 : 0) + (e2 > 0 ? n2 / e2 : 0)) / nref
                     : 0;
            if (refs > 0 && el > 0)
                sl_ratio[nsl++] = ops / el / refs;
            sends += sn;
            reqs += rq;
        }
        p1 = path_stat(c.pid);
        if (failed) {
            printf("bench blk: %s, %s: the frontend failed\n", s->name, mode);
            break;
        }
        be_counters(a->devid, &bin1, &bout1, &biov1);
        iops = fe_t > 0 ? fe_ops / fe_t : 0;
        ref = ref_t > 0 ? ref_ops / ref_t : 0;
        fio = fio_t > 0 ? fio_ops / fio_t : 0;
        /* The host's disk swings by 2x from second to second (it is
         * virtual), so the ratio is the median over the slices of the
         * frontend's slice against the two references' slices just
         * before it (their mean); the spread is printed, and so is the
         * ratio of the totals against the faster reference. */
        for (unsigned int i = 1; i < nsl; i++)
            for (unsigned int j = i; j > 0 && sl_ratio[j - 1] > sl_ratio[j];
                 j--) {
                double t = sl_ratio[j];
                sl_ratio[j] = sl_ratio[j - 1];
                sl_ratio[j - 1] = t;
            }
        med = !nsl      ? 0
              : nsl % 2 ? sl_ratio[nsl / 2]
                        : (sl_ratio[nsl / 2 - 1] + sl_ratio[nsl / 2]) / 2;
        best = fio > ref ? fio : ref;
        if (s->seq)
            printf("bench blk: %-18s %-13s frontend %8.1f MB/s  io_uring "
                   "%8.1f MB/s  fio %8.1f MB/s  ratio %.2f%s\n",
                   s->name, mode, iops * s->bytes / 1e6, ref * s->bytes / 1e6,
                   fio * s->bytes / 1e6, med, " (target >= 0.9)");
        else
            printf("bench blk: %-18s %-13s frontend %8.0f IOPS  io_uring "
                   "%8.0f IOPS  fio %8.0f IOPS  ratio %.2f%s\n",
                   s->name, mode, iops, ref, fio, med,
                   s->depth > 1 && !copied ? " (target >= 0.9)" : "");
        printf("bench blk: %-18s %-13s ratio per slice %.2f-%.2f (%u "
               "slices); totals against the faster reference %.2f\n",
               s->name, mode, nsl ? sl_ratio[0] : 0,
               nsl ? sl_ratio[nsl - 1] : 0, nsl, best > 0 ? iops / best : 0);
        printf("bench blk: %-18s %-13s event-channel sends per request: "
               "frontend->backend %.3f, backend->frontend %.3f (requests "
               "%llu, depth %u; target <= 1 per batch)\n",
               s->name, mode, reqs ? (double)sends / reqs : 0,
               reqs ? (double)(bout1 - bout0) / reqs : 0, reqs,
               s->depth * s->split);
        {
            /* ceiling = the loop's batch time over the same plus the two
             * hops a split driver adds to each batch (depth requests). */
            double hop = hop_rtt_ns(false), bare = hop_rtt_ns(true);
            double batch_ns = ref > 0 ? 1e9 / ref * s->depth : 0;
            printf("bench blk: %-18s %-13s ceiling_ratio=%.2f (loop batch "
                   "%.0f us + event-channel round trip %.0f us; bare pipe "
                   "round trip %.0f us)\n",
                   s->name, mode,
                   batch_ns > 0 && hop > 0 ? batch_ns / (batch_ns + hop) : 0,
                   batch_ns / 1e3, hop / 1e3, bare / 1e3);
        }
        /* The kernel pins an O_DIRECT transfer's pages iovec by iovec:
         * fewer where blkback's mappings of the grants touch. */
        printf("bench blk: %-18s %-13s iovecs per request %.1f (segments "
               "%u)\n",
               s->name, mode, reqs ? (double)(biov1 - biov0) / reqs : 0,
               (s->bytes / s->split + 4095) / 4096);
        printf("bench blk: %-18s %-13s per I/O: CPU %.1f us, %.2f context "
               "switches (frontend + blkback + xen-hv); io_uring loop: CPU "
               "%.1f us, %.2f context switches\n",
               s->name, mode,
               fe_ops ? (p1.cpu_ns - p0.cpu_ns) / 1e3 / fe_ops : 0,
               fe_ops ? (double)(p1.csw - p0.csw) / fe_ops : 0,
               ref_ops ? rs.cpu_ns / 1e3 / ref_ops : 0,
               ref_ops ? (double)rs.csw / ref_ops : 0);
    }
    close(go[1]);
    blk_child_finish(c, 0, "bench frontend");
    if (rf)
        fclose(rf);
}

int main(int argc, char **argv)
{
    const char *why = blk_env_start();
    unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
    struct fe_arg a = {.devid = 51712};

    tap_init_output();
    if (why) {
        printf("bench blk: nothing measured: %s\n", why);
        return 0;
    }
    if (mib < 16 || mib > 4096)
        mib = 256;
    file_bytes = (uint64_t)mib << 20;
    snprintf(a.path, sizeof(a.path), "/var/tmp/bench-blk-%d.img",
             (int)getpid());
    if (blk_make_file(a.path, file_bytes, 5)) {
        printf("bench blk: cannot write %s\n", a.path);
        blk_env_stop();
        return 0;
    }
    printf("bench blk: file %lu MiB on %s, O_DIRECT both sides, %.0f s per "
           "shape each, in %d alternating slices; frontend = program frontend "
           "(process domain) -> blkback; "
           "reference = io_uring loop\n",
           mib, "/var/tmp", SECONDS, SLICES);
    run_frontend(&a, false);
    a.devid = 51728;
    a.copied = true;
    run_frontend(&a, true);
    unlink(a.path);
    blk_env_stop();
    return 0;
}
