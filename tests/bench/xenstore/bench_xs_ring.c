/*
 * bench_xs_ring.c — xenstored over a domain's ring
 * (<xen/io/xs_wire.h> struct xenstore_domain_interface,
 * docs/misc/xenstore-ring.txt) against a bare ring round trip of the same
 * message sizes, measured in the same run.  Needs root.
 *
 * The guest is a process domain (dom0-tools/README.md): a child running
 * as uid 65534 connects to `xen-hv daemon --control SOCK`, gives it a
 * memfd as its memory (XENHV_OP_PDOM_MEMORY), and allocates two unbound
 * ports for domain 0.  Page 0 with the first port is its xenstore ring:
 * this process runs xenstored (XENHV_PRIVCMD set) and INTRODUCEs the
 * child.  Page 1 with the second port is the reference: a dom0 echo
 * process maps it (xenforeignmemory), binds the port and answers each
 * request with a reply as long as xenstored's.  The child speaks the ring
 * protocol itself, notifying with xenevtchn, and times N READs of a
 * 16-byte node on each ring.  It also counts the notifications it
 * received per round trip (xenstored notifies after consuming a request
 * and after producing the reply; pending events coalesce).
 * It first checks that 20 requests written at once (more than
 * xenstored's per-iteration budget) are all answered, in order.
 * Output: `bench xenstore_ring: ...` lines, or TAP with --tap (then it is
 * tests/xenstored/test_ring_pdom.sh: correctness, not speed).
 *
 * Usage: bench_xs_ring [--tap] XEN_HV XENSTORED [N]
 */
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include <xenevtchn.h>
#include <xenforeignmemory.h>

#include "../../xenstored/xs_daemon.h"
#include "privcmd_client.h"
#include "xenhv_privcmd.h"

#define KEY "/bench/key"

struct report {
    uint32_t domid;
    uint32_t port_xs, port_echo;
};

struct result {
    double xs_ns, echo_ns;
    double xs_notify, echo_notify; /* notifications received per op */
    int ok;
    int pipelined; /* of PIPELINED requests sent at once, replies in order */
};

/* More than XS_CONN_BUDGET (8): xenstored must come back for the rest. */
#define PIPELINED 20

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Copy @len bytes into the ring @buf at producer index @prod. */
static void ring_put(char *ring, XENSTORE_RING_IDX *prod, const void *data,
                     size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        ring[MASK_XENSTORE_IDX((*prod)++)] = ((const char *)data)[i];
}

static void ring_get(const char *ring, XENSTORE_RING_IDX *cons, void *data,
                     size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        ((char *)data)[i] = ring[MASK_XENSTORE_IDX((*cons)++)];
}

/* Wait for the port to fire (blocking read of the event fd). */
static void wait_port(xenevtchn_handle *h, unsigned int *count)
{
    struct pollfd pfd = {.fd = xenevtchn_fd(h), .events = POLLIN};
    xenevtchn_port_or_error_t p;

    if (poll(&pfd, 1, 1000) != 1)
        return;
    p = xenevtchn_pending(h);

    if (p >= 0) {
        xenevtchn_unmask(h, (evtchn_port_t)p);
        (*count)++;
    }
}

/*
 * One request/reply on @intf as the guest: send READ KEY, wait for the
 * whole reply.  False on a wrong reply.
 */
static bool guest_rtt(struct xenstore_domain_interface *intf,
                      xenevtchn_handle *h, evtchn_port_t port,
                      unsigned int *notes)
{
    struct xsd_sockmsg hdr = {XS_READ, 7, 0, sizeof(KEY)};
    XENSTORE_RING_IDX prod = intf->req_prod, cons;
    char payload[64];

    ring_put(intf->req, &prod, &hdr, sizeof(hdr));
    ring_put(intf->req, &prod, KEY, sizeof(KEY));
    __atomic_store_n(&intf->req_prod, prod, __ATOMIC_RELEASE);
    xenevtchn_notify(h, port);
    for (;;) {
        cons = intf->rsp_cons;
        if (__atomic_load_n(&intf->rsp_prod, __ATOMIC_ACQUIRE) - cons >=
            sizeof(hdr)) {
            struct xsd_sockmsg r;
            XENSTORE_RING_IDX c = cons;

            ring_get(intf->rsp, &c, &r, sizeof(r));
            if (r.len > sizeof(payload))
                return false;
            if (__atomic_load_n(&intf->rsp_prod, __ATOMIC_ACQUIRE) - cons >=
                sizeof(r) + r.len) {
                ring_get(intf->rsp, &c, payload, r.len);
                __atomic_store_n(&intf->rsp_cons, c, __ATOMIC_RELEASE);
                xenevtchn_notify(h, port);
                return r.type == XS_READ && r.len == 16;
            }
        }
        wait_port(h, notes);
    }
}

/*
 * PIPELINED READs written to the ring at once with one notification; the
 * number of replies that came back in order within 5 s.
 */
static int guest_pipelined(struct xenstore_domain_interface *intf,
                           xenevtchn_handle *h, evtchn_port_t port)
{
    XENSTORE_RING_IDX prod = intf->req_prod, cons;
    unsigned int notes = 0;
    double end = now_ns() + 5e9;
    int i, got = 0;

    for (i = 0; i < PIPELINED; i++) {
        struct xsd_sockmsg hdr = {XS_READ, 100 + (uint32_t)i, 0, sizeof(KEY)};

        ring_put(intf->req, &prod, &hdr, sizeof(hdr));
        ring_put(intf->req, &prod, KEY, sizeof(KEY));
    }
    __atomic_store_n(&intf->req_prod, prod, __ATOMIC_RELEASE);
    xenevtchn_notify(h, port);
    while (got < PIPELINED && now_ns() < end) {
        struct xsd_sockmsg r;
        char payload[64];

        cons = intf->rsp_cons;
        if (__atomic_load_n(&intf->rsp_prod, __ATOMIC_ACQUIRE) - cons <
            sizeof(r) + 16) {
            wait_port(h, &notes);
            continue;
        }
        ring_get(intf->rsp, &cons, &r, sizeof(r));
        if (r.len != 16 || r.req_id != 100 + (uint32_t)got)
            break;
        ring_get(intf->rsp, &cons, payload, r.len);
        /*
         * No notification per reply taken (20 replies fit the ring): the
         * requests beyond the budget must be served without one.
         */
        __atomic_store_n(&intf->rsp_cons, cons, __ATOMIC_RELEASE);
        got++;
    }
    xenevtchn_notify(h, port);
    return got;
}

/* The process domain: memory, ports, report, then time both rings. */
static int guest(int report, int go, int result, unsigned int n)
{
    struct privcmd_conn c = {.fd = -1};
    struct xenhv_hello_rep rep;
    uint64_t bytes = 4 * 4096;
    struct report r;
    struct result res = {0};
    xenevtchn_handle *h;
    char *mem;
    int fd;
    char b;

    if (setgid(65534) || setuid(65534))
        return 1;
    if (privcmd_open(&c, &rep, NULL, 0))
        return 2;
    fd = memfd_create("xsring", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)bytes))
        return 3;
    mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED)
        return 4;
    if (privcmd_call_fd(&c, XENHV_OP_PDOM_MEMORY, &bytes, sizeof(bytes), fd,
                        NULL, 0, NULL, NULL))
        return 5;
    h = xenevtchn_open(NULL, 0);
    if (!h)
        return 6;
    r.domid = rep.domid;
    r.port_xs = (uint32_t)xenevtchn_bind_unbound_port(h, 0);
    r.port_echo = (uint32_t)xenevtchn_bind_unbound_port(h, 0);
    if ((int)r.port_xs <= 0 || (int)r.port_echo <= 0)
        return 7;
    if (write(report, &r, sizeof(r)) != sizeof(r))
        return 8;
    if (read(go, &b, 1) != 1)
        return 9;
    res.ok = 1;
    res.pipelined = guest_pipelined((void *)mem, h, r.port_xs);
    /* Events left over from the pipelined phase are not the timed loop's. */
    for (struct pollfd pfd = {.fd = xenevtchn_fd(h), .events = POLLIN};
         poll(&pfd, 1, 50) == 1;) {
        xenevtchn_port_or_error_t p = xenevtchn_pending(h);
        if (p < 0)
            break;
        xenevtchn_unmask(h, (evtchn_port_t)p);
    }
    for (int pass = 0; pass < 2; pass++) {
        struct xenstore_domain_interface *intf =
            (void *)(mem + (pass ? 4096 : 0));
        evtchn_port_t port = pass ? r.port_echo : r.port_xs;
        unsigned int notes = 0, i;
        double best = 0;

        for (int batch = 0; batch < 5; batch++) {
            double t0 = now_ns(), t;

            for (i = 0; i < n; i++)
                res.ok &= guest_rtt(intf, h, port, &notes);
            t = (now_ns() - t0) / n;
            if (batch == 0 || t < best)
                best = t;
        }
        if (pass) {
            res.echo_ns = best;
            res.echo_notify = (double)notes / (5.0 * n);
        } else {
            res.xs_ns = best;
            res.xs_notify = (double)notes / (5.0 * n);
        }
    }
    if (write(result, &res, sizeof(res)) != sizeof(res))
        return 10;
    return 0;
}

/* dom0's echo over page 1: a reply of 16 bytes per request. */
static int echo(uint32_t domid, uint32_t remote_port)
{
    xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
    xenevtchn_handle *h = xenevtchn_open(NULL, 0);
    xen_pfn_t pfn = 1;
    struct xenstore_domain_interface *intf;
    xenevtchn_port_or_error_t port;
    unsigned int notes = 0;

    if (!fm || !h)
        return 1;
    intf =
        xenforeignmemory_map(fm, domid, PROT_READ | PROT_WRITE, 1, &pfn, NULL);
    port = xenevtchn_bind_interdomain(h, domid, remote_port);
    if (!intf || port < 0)
        return 2;
    for (;;) {
        XENSTORE_RING_IDX cons = intf->req_cons, prod;
        struct xsd_sockmsg hdr;
        char payload[4096];

        if (__atomic_load_n(&intf->req_prod, __ATOMIC_ACQUIRE) - cons <
            sizeof(hdr)) {
            wait_port(h, &notes);
            continue;
        }
        ring_get(intf->req, &cons, &hdr, sizeof(hdr));
        if (hdr.len > sizeof(payload))
            return 3;
        while (__atomic_load_n(&intf->req_prod, __ATOMIC_ACQUIRE) -
                   intf->req_cons <
               sizeof(hdr) + hdr.len)
            wait_port(h, &notes);
        ring_get(intf->req, &cons, payload, hdr.len);
        __atomic_store_n(&intf->req_cons, cons, __ATOMIC_RELEASE);
        /* The reply: as xenstored's to READ KEY, 16 bytes. */
        hdr.len = 16;
        prod = intf->rsp_prod;
        ring_put(intf->rsp, &prod, &hdr, sizeof(hdr));
        ring_put(intf->rsp, &prod, "0123456789abcdef", 16);
        __atomic_store_n(&intf->rsp_prod, prod, __ATOMIC_RELEASE);
        xenevtchn_notify(h, (evtchn_port_t)port);
    }
}

int main(int argc, char **argv)
{
    static char reply[XENSTORE_PAYLOAD_MAX + 1];
    char dir[] = "/tmp/xs-rbench-XXXXXX", sock[160], buf[160], perm[16];
    unsigned int n = argc > 3 ? (unsigned int)atoi(argv[3]) : 5000;
    int rp[2], gp[2], sp[2], status, rc = 1;
    pid_t hv = -1, kid = -1, ek = -1;
    struct result res;
    struct report r;
    int fd = -1;
    size_t len;
    bool tap = argc > 1 && strcmp(argv[1], "--tap") == 0;

    if (tap) {
        argv++;
        argc--;
    }
    n = argc > 3 ? (unsigned int)atoi(argv[3]) : 5000;
    if (argc < 3) {
        fprintf(stderr, "usage: bench_xs_ring XEN_HV XENSTORED [N]\n");
        return 2;
    }
    if (geteuid() != 0) {
        if (tap) {
            printf("1..0 # SKIP needs root (a uid 65534 process domain)\n");
            return 0;
        }
        printf("bench xenstore_ring: needs root, nothing measured\n");
        return 0;
    }
    if (!mkdtemp(dir))
        return 1;
    snprintf(sock, sizeof(sock), "%s/xenhv.sock", dir);
    hv = fork();
    if (hv == 0) {
        int null = open("/dev/null", O_WRONLY);

        dup2(null, 2);
        execl(argv[1], argv[1], "daemon", "--control", sock, (char *)NULL);
        _exit(127);
    }
    setenv(XENHV_PRIVCMD_ENV, sock, 1);
    for (int i = 0; i < 100 && access(sock, F_OK) != 0; i++)
        usleep(50000);
    chmod(dir, 0755);
    chmod(sock, 0777);
    if (pipe(rp) || pipe(gp) || pipe(sp))
        goto out;
    kid = fork();
    if (kid == 0)
        _exit(guest(rp[1], gp[0], sp[1], n));
    if (read(rp[0], &r, sizeof(r)) != sizeof(r)) {
        printf("bench xenstore_ring: the process domain did not start\n");
        goto out;
    }
    if (xsd_start(argv[2], dir) < 0 || (fd = xsd_connect()) < 0) {
        printf("bench xenstore_ring: xenstored did not start\n");
        goto out;
    }
    len = xsd_write_payload(buf, KEY, "0123456789abcdef");
    snprintf(perm, sizeof(perm), "r%u", r.domid);
    len = xsd_call(fd, XS_WRITE, 0, buf, len, reply) == XS_WRITE ? len : 0;
    {
        char p[64];
        size_t pl = 0;

        pl += (size_t)sprintf(p, "%s", KEY) + 1;
        pl += (size_t)sprintf(p + pl, "n0") + 1;
        pl += (size_t)sprintf(p + pl, "%s", perm) + 1;
        if (!len || xsd_call(fd, XS_SET_PERMS, 0, p, pl, reply) != XS_SET_PERMS)
            goto out;
        pl = (size_t)snprintf(p, sizeof(p), "%u", r.domid) + 1;
        pl += (size_t)sprintf(p + pl, "0") + 1;
        pl += (size_t)sprintf(p + pl, "%u", r.port_xs) + 1;
        if (xsd_call(fd, XS_INTRODUCE, 0, p, pl, reply) != XS_INTRODUCE) {
            printf("bench xenstore_ring: INTRODUCE failed: %s\n", reply);
            goto out;
        }
    }
    ek = fork();
    if (ek == 0)
        _exit(echo(r.domid, r.port_echo));
    usleep(100000); /* the echo binds its port */
    if (write(gp[1], "g", 1) != 1 ||
        read(sp[0], &res, sizeof(res)) != sizeof(res)) {
        printf("bench xenstore_ring: the process domain failed\n");
        goto out;
    }
    if (tap) {
        printf("1..3\n%s 1 - %u READs over a process domain's ring served by "
               "xenstored, x5, all answered (%.0f us each)\n",
               res.ok ? "ok" : "not ok", n, res.xs_ns / 1e3);
        printf("%s 2 - %d of %d requests written at once answered in order "
               "(budget 8 per iteration, the rest after a kick)\n",
               res.pipelined == PIPELINED ? "ok" : "not ok", res.pipelined,
               PIPELINED);
        printf("%s 3 - the guest got %.2f notifications per round trip "
               "(<= 1: one per batch)\n",
               res.xs_notify <= 1.0 ? "ok" : "not ok", res.xs_notify);
        rc = res.ok && res.pipelined == PIPELINED && res.xs_notify <= 1.0 ? 0
                                                                          : 1;
        goto out;
    }
    printf("bench xenstore_ring: pipelined %d of %d requests answered in "
           "order\n",
           res.pipelined, PIPELINED);
    printf("bench xenstore_ring: read ns_per_op=%.0f ops_per_s=%.0f "
           "ring_ref_ns=%.0f ratio=%.3f%s\n",
           res.xs_ns, 1e9 / res.xs_ns, res.echo_ns, res.xs_ns / res.echo_ns,
           res.ok ? "" : " (wrong replies)");
    printf("bench xenstore_ring: notifications received by the guest per "
           "request/reply: xenstored %.2f, echo %.2f (guest sends 2: after "
           "the request and after taking the reply)\n",
           res.xs_notify, res.echo_notify);
    rc = res.ok ? 0 : 1;

out:
    if (ek > 0) {
        kill(ek, SIGKILL);
        waitpid(ek, NULL, 0);
    }
    if (kid > 0) {
        kill(kid, SIGKILL);
        waitpid(kid, &status, 0);
    }
    if (fd >= 0)
        close(fd);
    xsd_stop();
    if (hv > 0) {
        kill(hv, SIGTERM);
        waitpid(hv, NULL, 0);
    }
    snprintf(buf, sizeof(buf), "rm -rf %s", dir);
    if (system(buf) != 0)
        rc = 1;
    return rc;
}
