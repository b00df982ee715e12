/*
 * xenbus — a guest's xenbus client (frontends/kernel/xenbus.c) end to end.
 *
 * Under `xen-hv daemon`, domain 0 sets a guest up as a toolstack would:
 * the xenstore ring at gfn XENBUS_TEST_STORE_GFN zeroed through foreign
 * memory (xenhv_layout.h), an unbound port in the guest for domain 0
 * (xc_evtchn_alloc_unbound), HVM_PARAM_STORE_PFN/STORE_EVTCHN, then
 *   - phase "bad server": no xenstored; this program answers the guest's
 *     requests on the ring itself (bad_server()), checking the bytes the
 *     client sends and feeding it odd but legal traffic, then protocol
 *     violations it must refuse, then a XENSTORE_RECONNECT;
 *   - phase "xenstored": our xenstored serves the ring after
 *     XS_INTRODUCE; the guest runs its TAP (guest.c role=main) while this
 *     program plays its part (a watched write, a conflicting write, the
 *     backend of a XenbusState handshake) and checks what the guest wrote;
 *     destroying the guest and XS_RELEASE fire @releaseDomain, and
 *     xenstored keeps serving.
 * Protocol: docs/misc/xenstore.txt, xenstore-ring.txt, <xen/io/xs_wire.h>,
 * <xen/io/xenbus.h>.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xen/errno.h>
#include <xen/sched.h>
#include <xen/hvm/params.h>
#include <xen/io/xs_wire.h>
#include <xen/io/xenbus.h>

#include "harness.h"
#include "xenhv_layout.h"
#include <xenctrl.h>
#include <xenforeignmemory.h>
#include <xenstore.h>
#include "tap.h"

/* The guest's xenstore ring: the special page libxl's layout gives it. */
#define XENBUS_TEST_STORE_GFN                                                  \
    ((unsigned int)XENHV_SPECIAL_GFN(XENHV_SPECIAL_XENSTORE))

#define GUEST_MAIN_TESTS 35
#define GUEST_BAD_TESTS  16

static xc_interface *xch;
static xenforeignmemory_handle *fmem;

/* Wait for `what` in domid's console; 1 when found within 30 s. */
static int wait_console(int domid, const char *what)
{
    static char con[32768];

    for (int i = 0; i < 1500; i++) {
        console(domid, con, sizeof(con));
        if (strstr(con, what))
            return 1;
        usleep(20000);
    }
    return 0;
}

/* Print domid's console as TAP comments (when something failed). */
static void dump_console(int domid)
{
    static char con[32768];

    console(domid, con, sizeof(con));
    for (char *l = strtok(con, "\n"); l; l = strtok(NULL, "\n"))
        tap_diag("guest %d: %s", domid, l);
}

/*
 * Two test points: guest d (role) powered off, and its console holds
 * `tests` passing TAP points.  The console goes to TAP comments when not
 * (or when $VERBOSE is set).
 */
static void guest_finished(int d, const char *role, int tests)
{
    static char con[32768];
    int passed;

    ok(wait_shutdown(d) == SHUTDOWN_poweroff, "the %s guest powered off", role);
    console(d, con, sizeof(con));
    passed = guest_tap_passed(con, tests);
    ok(passed, "the %s guest's %d TAP tests passed", role, tests);
    if (!passed || getenv("VERBOSE"))
        dump_console(d);
}

/*
 * A paused guest built with cmdline, its store ring mapped (*ring) and
 * zeroed, its store port allocated for domain 0 (*port), both HVM params
 * set.  Returns the domid or -1.
 */
static int guest_setup(const char *name, const char *cmdline,
                       struct xenstore_domain_interface **ring, int *port)
{
    xen_pfn_t gfn = XENBUS_TEST_STORE_GFN;
    int d = create(name);

    *ring = NULL;
    *port = -1;
    if (d <= 0 || build(d, cmdline) != 0)
        return -1;
    /*
     * A fresh handle per guest: libxenforeignmemory keeps a domain's
     * memory per handle by domid, and xen-hv gives a destroyed domain's
     * id to the next one.
     */
    if (fmem)
        xenforeignmemory_close(fmem);
    fmem = xenforeignmemory_open(NULL, 0);
    if (!fmem)
        return -1;
    *ring = xenforeignmemory_map(fmem, (uint32_t)d, PROT_READ | PROT_WRITE, 1,
                                 &gfn, NULL);
    if (!*ring)
        return -1;
    memset(*ring, 0, 4096);
    *port = xc_evtchn_alloc_unbound(xch, (uint32_t)d, 0);
    if (*port <= 0 ||
        xc_hvm_param_set(xch, (uint32_t)d, HVM_PARAM_STORE_PFN, gfn) ||
        xc_hvm_param_set(xch, (uint32_t)d, HVM_PARAM_STORE_EVTCHN,
                         (uint64_t)*port))
        return -1;
    return d;
}

/* ---- phase 1: this program is the store server ---------------------- */

struct srv {
    volatile struct xenstore_domain_interface *r;
    xenevtchn_handle *eh;
    evtchn_port_t local;
};

static void srv_notify(struct srv *s)
{
    xenevtchn_notify(s->eh, s->local);
}

/* Wait until cond(s) or 10 s; the guest's notifications wake us early. */
static int srv_wait(struct srv *s, int (*cond)(struct srv *, void *), void *arg)
{
    for (int i = 0; i < 1000; i++) {
        if (cond(s, arg))
            return 1;
        wait_event(s->eh, 10);
    }
    return cond(s, arg);
}

static int req_avail(struct srv *s, void *arg)
{
    uint32_t want = *(uint32_t *)arg;

    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return s->r->req_prod - s->r->req_cons >= want;
}

/* Copy len request bytes out of the ring (len <= ring size). */
static int srv_take(struct srv *s, void *dst, uint32_t len)
{
    char *d = dst;

    if (!srv_wait(s, req_avail, &len))
        return -1;
    for (uint32_t i = 0; i < len; i++)
        d[i] = s->r->req[MASK_XENSTORE_IDX(s->r->req_cons + i)];
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    s->r->req_cons += len;
    srv_notify(s);
    return 0;
}

/* The next request: header into *h, payload (NUL-terminated) into body. */
static int srv_get(struct srv *s, struct xsd_sockmsg *h, char *body, size_t len)
{
    if (srv_take(s, h, sizeof(*h)) || h->len >= len ||
        h->len > XENSTORE_RING_SIZE || srv_take(s, body, h->len))
        return -1;
    body[h->len] = 0;
    return 0;
}

static int rsp_room(struct srv *s, void *arg)
{
    (void)arg;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return s->r->rsp_prod - s->r->rsp_cons < XENSTORE_RING_SIZE;
}

/* Write len bytes to the reply ring, waiting for the guest to make room. */
static int srv_put(struct srv *s, const void *src, size_t len)
{
    const char *p = src;

    while (len) {
        if (!srv_wait(s, rsp_room, NULL))
            return -1;
        while (len && s->r->rsp_prod - s->r->rsp_cons < XENSTORE_RING_SIZE) {
            s->r->rsp[MASK_XENSTORE_IDX(s->r->rsp_prod)] = *p++;
            __atomic_thread_fence(__ATOMIC_RELEASE);
            s->r->rsp_prod++;
            len--;
        }
        srv_notify(s);
    }
    return 0;
}

static int srv_reply(struct srv *s, uint32_t type, uint32_t req_id,
                     const void *body, uint32_t len)
{
    struct xsd_sockmsg h = {.type = type, .req_id = req_id, .len = len};

    return srv_put(s, &h, sizeof(h)) || srv_put(s, body, len) ? -1 : 0;
}

/* Expect an XS_READ of path; its req_id, or 0. */
static uint32_t srv_expect_read(struct srv *s, const char *path)
{
    struct xsd_sockmsg h;
    char body[256];

    if (srv_get(s, &h, body, sizeof(body)) || h.type != XS_READ ||
        h.tx_id != 0 || h.len != strlen(path) + 1 || strcmp(body, path)) {
        tap_diag("expected XS_READ %s", path);
        return 0;
    }
    return h.req_id;
}

static int conn_is(struct srv *s, void *arg)
{
    return s->r->connection == *(uint32_t *)arg;
}

static void srv_reset(struct srv *s)
{
    memset((void *)s->r, 0, 4096);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    srv_notify(s);
}

static void bad_server(void)
{
    struct srv s = {0};
    uint32_t id1, id, req_prod, reconnect = XENSTORE_RECONNECT;
    struct xenstore_domain_interface *ring;
    char big[1500];
    int d, port;

    int local = -1;

    d = guest_setup("badserver", "role=badserver", &ring, &port);
    s.r = ring;
    s.eh = xenevtchn_open(NULL, 0);
    if (d > 0 && s.eh)
        local =
            xenevtchn_bind_interdomain(s.eh, (uint32_t)d, (evtchn_port_t)port);
    s.local = (evtchn_port_t)local;
    ok(local > 0, "bad server: guest %d, ring at gfn %#x, port %d bound", d,
       XENBUS_TEST_STORE_GFN, port);
    if (local <= 0) {
        tap_skip(11, "no guest");
        return;
    }
    simple(XENHV_OP_DOMAIN_UNPAUSE, d);

    /* A reply behind a watch event (req_id 0) and a stray reply. */
    id1 = srv_expect_read(&s, "one");
    ok(id1 != 0,
       "the guest's first request on the wire: XS_READ \"one\", "
       "len 4, tx 0, req_id %u",
       id1);
    srv_reply(&s, XS_WATCH_EVENT, 0, "one\0tok", 8);
    srv_reply(&s, XS_READ, id1 + 1000, "zzz", 3);
    srv_reply(&s, XS_READ, id1, "v1", 2);

    /* A reply longer than the ring: it must be consumed while written. */
    id = srv_expect_read(&s, "two");
    ok(id != 0 && id != id1, "the next request has a fresh req_id %u", id);
    for (int i = 0; i < (int)sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    srv_reply(&s, XS_READ, id, big, sizeof(big));

    id = srv_expect_read(&s, "three");
    srv_reply(&s, XS_ERROR, id, "EACCES", 7);
    id = srv_expect_read(&s, "four");
    srv_reply(&s, XS_ERROR, id, "EWHATEVER", 10);
    id = srv_expect_read(&s, "wrongtype");
    srv_reply(&s, XS_DIRECTORY, id, "a", 2);

    /* XS_WATCH: the event every new watch fires, then a malformed event
     * (no NUL between path and token), then the reply. */
    {
        struct xsd_sockmsg h;
        char body[64];

        ok(srv_get(&s, &h, body, sizeof(body)) == 0 && h.type == XS_WATCH &&
               h.len == 7 && !memcmp(body, "w\0tokw", 7),
           "XS_WATCH on the wire: path NUL token NUL");
        srv_reply(&s, XS_WATCH_EVENT, 0, "w\0tokw", 7);
        srv_reply(&s, XS_WATCH_EVENT, 0, "garbage", 7);
        srv_reply(&s, XS_WATCH, h.req_id, "OK", 3);
    }

    /* A reply that comes after the client gave up. */
    id1 = srv_expect_read(&s, "slow");
    wait_console(d, "TIMEDOUT");
    srv_reply(&s, XS_READ, id1, "stale", 5);
    id = srv_expect_read(&s, "after");
    ok(id1 && id && id != id1,
       "a request after a timeout has its own req_id (%u, then %u)", id1, id);
    srv_reply(&s, XS_READ, id, "fresh", 5);

    /* Protocol violation 1: a payload above XENSTORE_PAYLOAD_MAX. */
    id = srv_expect_read(&s, "five");
    {
        struct xsd_sockmsg h = {.type = XS_READ, .req_id = id, .len = 5000};
        srv_put(&s, &h, sizeof(h));
    }
    req_prod = s.r->req_prod;
    ok(wait_console(d, "RESET1") && s.r->req_prod == req_prod,
       "after an oversized reply the guest sends nothing more");
    srv_reset(&s);

    /* Protocol violation 2: rsp_prod more than a ring ahead. */
    id = srv_expect_read(&s, "seven");
    ok(id != 0, "the guest uses the ring again after its re-init");
    s.r->rsp_prod = s.r->rsp_cons + 2000;
    srv_notify(&s);

    /* A reconnection the guest asks for (xenstore-ring.txt). */
    ok(wait_console(d, "RESET2"), "the guest saw rsp_prod out of range");
    srv_reset(&s);
    s.r->server_features = XENSTORE_SERVER_FEATURE_RECONNECTION;
    ok(srv_wait(&s, conn_is, &reconnect), "the guest set XENSTORE_RECONNECT");
    s.r->req_cons = s.r->req_prod = s.r->rsp_cons = s.r->rsp_prod = 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    s.r->connection = XENSTORE_CONNECTED;
    srv_notify(&s);
    id = srv_expect_read(&s, "eight");
    srv_reply(&s, XS_READ, id, "ok8", 3);

    /* The connection error indicator (XENSTORE_SERVER_FEATURE_ERROR). */
    wait_console(d, "WAIT-ERROR");
    req_prod = s.r->req_prod;
    s.r->server_features |= XENSTORE_SERVER_FEATURE_ERROR;
    s.r->error = XENSTORE_ERROR_COMM;
    srv_notify(&s);

    guest_finished(d, "bad-server", GUEST_BAD_TESTS);
    ok(s.r->req_prod == req_prod,
       "with the error indicator set the guest sent nothing");
    xenforeignmemory_unmap(fmem, ring, 1);
    /*
     * The guest is off, so no event can follow: leave our port unmasked.
     * xen-hv keeps domain 0's mask bit across unbind and a later bind of
     * the same port number (xenstored's, next) would never see an event.
     */
    while (wait_event(s.eh, 0) > 0)
        ;
    xenevtchn_unmask(s.eh, s.local);
    xenevtchn_close(s.eh);
    simple(XENHV_OP_DOMAIN_DESTROY, d);
}

/* ---- phase 2: xenstored -------------------------------------------- */

static struct xs_handle *xs;

/* Wait until path reads want (10 s); 1 when it did. */
static int wait_node(const char *path, const char *want)
{
    for (int i = 0; i < 1000; i++) {
        unsigned int len;
        char *v = xs_read(xs, XBT_NULL, path, &len);
        int same = v && !strcmp(v, want);

        free(v);
        if (same)
            return 1;
        usleep(10000);
    }
    return 0;
}

/* 1 when path reads want (NULL: when path does not exist). */
static int node_is(const char *path, const char *want)
{
    unsigned int len;
    char *v = xs_read(xs, XBT_NULL, path, &len);
    int same = want ? v && !strcmp(v, want) : !v;

    if (!same)
        tap_diag("%s is '%s', expected '%s'", path, v ? v : "(none)",
                 want ? want : "(none)");
    free(v);
    return same;
}

static int wr(const char *path, const char *value)
{
    return xs_write(xs, XBT_NULL, path, value, strlen(value)) ? 0 : -1;
}

/*
 * The path of rel in domain d's home (/local/domain/d/rel), or in d's
 * vtest backend directory when be; each call has its own buffer among 4
 * (enough for one expression).
 */
static const char *node(int d, int be, const char *rel)
{
    static char paths[4][256];
    static unsigned int next;
    char *p = paths[next++ % 4];

    if (be)
        snprintf(p, 256, "/local/domain/0/backend/vtest/%d/0/%s", d, rel);
    else
        snprintf(p, 256, "/local/domain/%d/%s", d, rel);
    return p;
}
#define HOME(d, rel) node(d, 0, rel)
#define BACK(d, rel) node(d, 1, rel)

/* Wait for a watch event of token; 1 when it came within ms. */
static int watch_fired(const char *token, int ms)
{
    struct pollfd p = {.fd = xs_fileno(xs), .events = POLLIN};

    for (;;) {
        unsigned int n;
        char **ev;

        if (poll(&p, 1, ms) != 1)
            return 0;
        ev = xs_read_watch(xs, &n);
        if (ev && !strcmp(ev[XS_WATCH_TOKEN], token)) {
            free(ev);
            return 1;
        }
        free(ev);
    }
}

static char xsd_log[128];

/* xenstored's output so far as TAP comments. */
static void dump_xenstored_log(void)
{
    char line[512];
    FILE *f = fopen(xsd_log, "r");

    while (f && fgets(line, sizeof(line), f))
        tap_diag("xenstored: %s", strtok(line, "\n") ? line : "");
    if (f)
        fclose(f);
}

/*
 * Start xenstored on a private socket and state file, its output in
 * xsd_log; its pid once it said READY, or -1.
 */
static pid_t start_xenstored(const char *dir, char *sock, size_t len)
{
    const char *bin = getenv("XENSTORED");
    char path[512], state[128], acc[4096];
    pid_t pid;

    if (!bin) {
        snprintf(path, sizeof(path), "%s/../../../xenstore/xenstored/xenstored",
                 dir);
        bin = path;
    }
    if (access(bin, X_OK) != 0)
        return -1;
    snprintf(sock, len, "/tmp/xenbus-test-%d.xs", (int)getpid());
    snprintf(state, sizeof(state), "/tmp/xenbus-test-%d.state", (int)getpid());
    snprintf(xsd_log, sizeof(xsd_log), "/tmp/xenbus-test-%d.log",
             (int)getpid());
    unlink(state);
    pid = fork();
    if (pid == 0) {
        int fd = open(xsd_log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        dup2(fd, 1);
        dup2(fd, 2);
        execl(bin, bin, "-N", "--socket", sock, "--state", state, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        FILE *f = fopen(xsd_log, "r");
        size_t n = f ? fread(acc, 1, sizeof(acc) - 1, f) : 0;

        if (f)
            fclose(f);
        acc[n] = 0;
        if (strstr(acc, "READY")) {
            setenv("XENSTORED_PATH", sock, 1);
            return pid;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid)
            break;
        usleep(10000);
    }
    tap_diag("xenstored did not say READY");
    dump_xenstored_log();
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return -1;
}

static void with_xenstored(const char *dir)
{
    struct xs_permissions home[1], be[2];
    struct xenstore_domain_interface *ring;
    char sock[128], path[256], bepath[128];
    int d, port;
    pid_t xsd;

    xsd = start_xenstored(dir, sock, sizeof(sock));
    if (xsd < 0) {
        tap_skip(15, "xenstored (xenstore/xenstored) not built or not ready");
        return;
    }
    xs = xs_open(0);
    ok(xs != NULL, "connected to xenstored at %s", sock);
    d = guest_setup("xenbus", "role=main", &ring, &port);
    ok(d > 0, "guest %d built, store port %d", d, port);
    if (!xs || d <= 0) {
        tap_skip(13, "no xenstored connection or no guest");
        goto out;
    }
    /* The guest's home, owned by it (xenstore-paths: ~ is the domain's). */
    home[0] = (struct xs_permissions){.id = (unsigned)d, .perms = XS_PERM_NONE};
    snprintf(path, sizeof(path), "/local/domain/%d", d);
    snprintf(bepath, sizeof(bepath), "/local/domain/0/backend/vtest/%d/0", d);
    be[0] = (struct xs_permissions){.id = 0, .perms = XS_PERM_NONE};
    be[1] = (struct xs_permissions){.id = (unsigned)d, .perms = XS_PERM_READ};
    {
        char dom[16];
        int rc = 0;

        snprintf(dom, sizeof(dom), "%d", d);
        rc |= !xs_mkdir(xs, XBT_NULL, path);
        rc |= !xs_set_permissions(xs, XBT_NULL, path, home, 1);
        rc |= wr(HOME(d, "domid"), dom);
        rc |= wr(HOME(d, "from-dom0"), "hello guest");
        rc |= wr(HOME(d, "watched"), "initial");
        rc |= wr(HOME(d, "conflict"), "initial");
        rc |= wr(HOME(d, "device/vtest/0/backend"), bepath);
        rc |= wr(HOME(d, "device/vtest/0/backend-id"), "0");
        rc |= wr(HOME(d, "device/vtest/0/state"), "1");
        rc |= !xs_mkdir(xs, XBT_NULL, bepath);
        rc |= !xs_set_permissions(xs, XBT_NULL, bepath, be, 2);
        snprintf(path, sizeof(path), "/local/domain/%d/device/vtest/0", d);
        rc |= wr(BACK(d, "frontend"), path);
        rc |= wr(BACK(d, "frontend-id"), dom);
        rc |= wr(BACK(d, "state"), "1");
        rc |= !xs_write(xs, XBT_NULL, "/tool/xenbus-test/secret", "s", 1);
        ok(rc == 0, "wrote the guest's home, device and backend nodes");
    }
    ok(xs_introduce_domain(xs, (unsigned)d, XENBUS_TEST_STORE_GFN,
                           (evtchn_port_t)port),
       "XS_INTRODUCE domain %d (gfn %#x, port %d)", d, XENBUS_TEST_STORE_GFN,
       port);
    xs_watch(xs, "@releaseDomain", "rel");
    while (watch_fired("rel", 200))
        ; /* the event every new watch fires at once */
    is_int(simple(XENHV_OP_DOMAIN_UNPAUSE, d), 0, "unpaused");

    ok(wait_node(HOME(d, "ready/watch"), "1") &&
           wr(HOME(d, "watched"), "changed") == 0,
       "the guest watches; dom0 writes the watched node");
    ok(wait_node(HOME(d, "ready/conflict"), "1") &&
           wr(HOME(d, "conflict"), "dom0") == 0,
       "the guest's transaction is open; dom0 writes the node it read");

    /* dom0 as the backend: InitWait, then Connected once the frontend is
     * Initialised (<xen/io/xenbus.h>). */
    ok(wr(BACK(d, "state"), "2") == 0 &&
           wait_node(HOME(d, "device/vtest/0/state"), "3") &&
           node_is(HOME(d, "device/vtest/0/ring-ref"), "123"),
       "backend InitWait; the frontend became Initialised with ring-ref 123");
    ok(wr(BACK(d, "state"), "4") == 0 &&
           wait_node(HOME(d, "device/vtest/0/state"), "4"),
       "backend Connected; the frontend became Connected");

    ok(wait_node(HOME(d, "ready/done"), "1"),
       "the guest finished its xenstore work");
    ok(node_is(HOME(d, "data/greeting"), "hi from the guest") &&
           node_is(HOME(d, "data/tx2"), "two") &&
           node_is(HOME(d, "conflict"), "dom0") &&
           node_is(HOME(d, "data/dir/a"), NULL),
       "dom0 sees what the guest wrote, committed and removed");
    guest_finished(d, "main", GUEST_MAIN_TESTS);
    if (tap_fail_count)
        tap_diag("ring: req cons %u prod %u, rsp cons %u prod %u, "
                 "features %#x connection %u error %u",
                 ring->req_cons, ring->req_prod, ring->rsp_cons, ring->rsp_prod,
                 ring->server_features, ring->connection, ring->error);
    xenforeignmemory_unmap(fmem, ring, 1);
    ok(simple(XENHV_OP_DOMAIN_DESTROY, d) == 0 &&
           xs_release_domain(xs, (unsigned)d) && watch_fired("rel", 5000),
       "destroy + XS_RELEASE: @releaseDomain fired");
    {
        unsigned int len;
        char *v = xs_read(xs, XBT_NULL, "/tool/xenbus-test/secret", &len);
        ok(v && !strcmp(v, "s"), "xenstored still serves");
        free(v);
    }
out:
    if (xs)
        xs_close(xs);
    kill(xsd, SIGTERM);
    waitpid(xsd, NULL, 0);
    if (tap_fail_count)
        dump_xenstored_log();
    unlink(xsd_log);
    unlink(sock);
    snprintf(path, sizeof(path), "/tmp/xenbus-test-%d.state", (int)getpid());
    unlink(path);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    char img[512];
    pid_t pid;

    if (access("/dev/kvm", R_OK | W_OK) != 0)
        tap_skip_all("/dev/kvm not usable (lab.dom0-tests runs this on the lab "
                     "VM's KVM)");
    if (geteuid() != 0)
        tap_skip_all("needs root: only the control domain creates domains");
    snprintf(img, sizeof(img), "%s/guest.elf", dir);
    image = img;
    signal(SIGPIPE, SIG_IGN);
    tap_plan(29);
    pid = start_daemon("xb");
    xch = xc_interface_open(NULL, NULL, 0);
    fmem = xenforeignmemory_open(NULL, 0);
    ok(pc.fd >= 0 && xch && fmem, "connected to the daemon as domain 0");
    bad_server();
    with_xenstored(dir);
    if (xch)
        xc_interface_close(xch);
    if (fmem)
        xenforeignmemory_close(fmem);
    is_int(stop_daemon(pid), 0, "the daemon shut down cleanly");
    return tap_done();
}
