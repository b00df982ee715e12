/*
 * The guest of the xenbus test: frontends/kernel's xenbus client
 * (xenkern/xenbus.h) against a store server, two roles chosen on the
 * command line:
 *   role=main       xenstored serves the ring; read/write/mkdir/rm/
 *                   directory, permissions, errors, watches, transactions
 *                   (commit, abort, a conflict dom0 provokes), requests in
 *                   flight, and a XenbusState handshake with dom0 as the
 *                   backend.  Nodes under ready/ tell dom0 when to act.
 *   role=badserver  test_xenbus.c itself answers on the ring, following
 *                   the script in its bad_server(): interleaved watch
 *                   events and stray replies, a reply larger than the
 *                   ring, error strings, then protocol violations the
 *                   client must refuse (-XEN_EIO), and a reconnection.
 */
#include <stdint.h>
#include <xen/errno.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>

#include "xenkern/boot.h"
#include "xenkern/console.h"
#include "xenkern/hypercall.h"
#include "xenkern/lib.h"
#include "xenkern/pvclock.h"
#include "xenkern/sched.h"
#include "xenkern/test.h"
#include "xenkern/x86.h"
#include "xenkern/xenbus.h"

#define SEC 1000000000ULL

static char buf[XENSTORE_PAYLOAD_MAX + 1];
static char huge[XENSTORE_PAYLOAD_MAX + 100];

struct seen {
    unsigned int count;
    char path[64];
    char token[32];
};

static void watch_cb(const char *path, const char *token, void *arg)
{
    struct seen *s = arg;

    s->count++;
    snprintf(s->path, sizeof(s->path), "%s", path);
    snprintf(s->token, sizeof(s->token), "%s", token);
}

/* read path and compare with want; 1 when equal. */
static int read_is(xenbus_transaction_t t, const char *path, const char *want)
{
    int rc = xenbus_read(t, path, buf, sizeof(buf));

    if (rc < 0) {
        diag("read %s: %d", path, rc);
        return 0;
    }
    if (strcmp(buf, want))
        diag("read %s: '%s', expected '%s'", path, buf, want);
    return rc == (int)strlen(want) && !strcmp(buf, want);
}

/* Wait until s->count reaches n, dispatching events; 1 when it did. */
static int wait_seen(struct seen *s, unsigned int n, uint64_t timeout_ns)
{
    uint64_t deadline = time_now_ns() + timeout_ns;

    while (s->count < n && time_now_ns() < deadline)
        if (xenbus_watch_wait(deadline - time_now_ns()) < 0)
            return 0;
    return s->count >= n;
}

/*
 * Wait until path (outside any transaction) reads want, re-reading after
 * each event of the watch behind s (watches may fire spuriously,
 * xenstore.txt).  1 when it did within timeout_ns.
 */
static int wait_value(struct seen *s, const char *path, const char *want,
                      uint64_t timeout_ns)
{
    uint64_t deadline = time_now_ns() + timeout_ns;

    for (;;) {
        unsigned int n = s->count;
        uint64_t now;

        if (xenbus_read(XBT_NIL, path, buf, sizeof(buf)) >= 0 &&
            !strcmp(buf, want))
            return 1;
        now = time_now_ns();
        if (now >= deadline || !wait_seen(s, n + 1, deadline - now))
            return 0;
    }
}

static void test_basic(void)
{
    char path[64], dom[16];
    int rc;

    ok(read_is(XBT_NIL, "from-dom0", "hello guest"),
       "read a node dom0 wrote (relative path)");
    rc = xenbus_read(XBT_NIL, "domid", dom, sizeof(dom));
    snprintf(path, sizeof(path), "/local/domain/%s/from-dom0", dom);
    ok(rc > 0 && read_is(XBT_NIL, path, "hello guest"),
       "the same node by its absolute path %s", path);
    ok(xenbus_write(XBT_NIL, "data/greeting", "hi from the guest") == 0 &&
           read_is(XBT_NIL, "data/greeting", "hi from the guest"),
       "write and read back its own node");
    ok(xenbus_mkdir(XBT_NIL, "data/dir") == 0 &&
           xenbus_write(XBT_NIL, "data/dir/a", "1") == 0 &&
           xenbus_printf(XBT_NIL, "data/dir", "b", "%d", 2) == 0 &&
           read_is(XBT_NIL, "data/dir/b", "2"),
       "mkdir, write, xenbus_printf");
    rc = xenbus_directory(XBT_NIL, "data/dir", buf, sizeof(buf));
    ok(rc == 2 && ((!strcmp(buf, "a") && !strcmp(buf + 2, "b")) ||
                   (!strcmp(buf, "b") && !strcmp(buf + 2, "a"))),
       "directory lists a and b (%d names)", rc);
    ok(xenbus_rm(XBT_NIL, "data/dir/a") == 0 &&
           xenbus_read(XBT_NIL, "data/dir/a", buf, sizeof(buf)) ==
               -XEN_ENOENT &&
           xenbus_directory(XBT_NIL, "data/dir", buf, sizeof(buf)) == 1 &&
           !strcmp(buf, "b"),
       "rm removes a; directory lists b only");
    is_int(xenbus_read(XBT_NIL, "/tool/xenbus-test/secret", buf, sizeof(buf)),
           -XEN_EACCES, "reading a dom0-only node: EACCES");
    is_int(xenbus_write(XBT_NIL, "/tool/xenbus-test/secret", "mine"),
           -XEN_EACCES, "writing a dom0-only node: EACCES");
    is_int(xenbus_read(XBT_NIL, "no/such/node", buf, sizeof(buf)), -XEN_ENOENT,
           "reading a missing node: ENOENT");
    is_int(xenbus_read(XBT_NIL, "bad//path", buf, sizeof(buf)), -XEN_EINVAL,
           "a malformed path: EINVAL");
    is_int(xenbus_read(XBT_NIL, "from-dom0", buf, 4), -XEN_E2BIG,
           "a buffer too small for the value: E2BIG");
    /* Request and reply both larger than a ring (1 KiB) each way. */
    memset(huge, 'y', 2000);
    huge[2000] = 0;
    ok(xenbus_write(XBT_NIL, "data/long", huge) == 0 &&
           xenbus_read(XBT_NIL, "data/long", buf, sizeof(buf)) == 2000 &&
           !memcmp(buf, huge, 2001),
       "a 2000-byte value written and read back");
    memset(huge, 'x', sizeof(huge) - 1);
    is_int(xenbus_write(XBT_NIL, "data/huge", huge), -XEN_E2BIG,
           "a request above XENSTORE_PAYLOAD_MAX: E2BIG, not sent");
}

static void test_watch(void)
{
    struct seen s = {0};
    int fired;

    ok(xenbus_watch("watched", "tok-w", watch_cb, &s) == 0 &&
           wait_seen(&s, 1, 5 * SEC) && !strcmp(s.path, "watched") &&
           !strcmp(s.token, "tok-w"),
       "a new watch fires once at once (path '%s', token '%s')", s.path,
       s.token);
    is_int(xenbus_watch("other", "tok-w", watch_cb, &s), -XEN_EEXIST,
           "a token already in use: EEXIST");
    xenbus_write(XBT_NIL, "ready/watch", "1");
    /* The value may be read before its event is in: wait for both. */
    fired = wait_value(&s, "watched", "changed", 10 * SEC) &&
            wait_seen(&s, 2, 5 * SEC);
    ok(fired && s.count >= 2 && !strcmp(s.path, "watched"),
       "the watch fires on dom0's write (%u events, path '%s')", s.count,
       s.path);
    ok(xenbus_unwatch("watched", "tok-w") == 0 &&
           xenbus_unwatch("watched", "tok-w") == -XEN_ENOENT,
       "unwatch; a second unwatch: ENOENT");
}

static void test_transactions(void)
{
    xenbus_transaction_t t = XBT_NIL;
    struct seen s = {0};
    int rc;

    rc = xenbus_transaction_start(&t);
    ok(rc == 0 && t != XBT_NIL && xenbus_write(t, "data/tx1", "one") == 0 &&
           xenbus_write(t, "data/tx2", "two") == 0 &&
           read_is(t, "data/tx1", "one") &&
           xenbus_read(XBT_NIL, "data/tx1", buf, sizeof(buf)) == -XEN_ENOENT,
       "inside transaction %u: writes seen inside, not outside", t);
    ok(xenbus_transaction_end(t, 0) == 0 &&
           read_is(XBT_NIL, "data/tx1", "one") &&
           read_is(XBT_NIL, "data/tx2", "two"),
       "commit: both writes visible");
    ok(xenbus_transaction_start(&t) == 0 &&
           xenbus_write(t, "data/tx3", "three") == 0 &&
           xenbus_transaction_end(t, 1) == 0 &&
           xenbus_read(XBT_NIL, "data/tx3", buf, sizeof(buf)) == -XEN_ENOENT,
       "abort: the write is dropped");
    /* dom0 changes "conflict" while our transaction has read it. */
    rc = xenbus_watch("conflict", "tok-c", watch_cb, &s);
    if (!rc && !wait_seen(&s, 1, 5 * SEC))
        rc = -XEN_ETIMEDOUT;
    if (!rc)
        rc = xenbus_transaction_start(&t);
    ok(rc == 0 && read_is(t, "conflict", "initial") &&
           xenbus_write(t, "conflict", "guest") == 0,
       "transaction %u read and wrote 'conflict'", t);
    xenbus_write(XBT_NIL, "ready/conflict", "1");
    ok(wait_value(&s, "conflict", "dom0", 10 * SEC),
       "dom0 changed 'conflict' meanwhile (the watch told us)");
    rc = xenbus_transaction_end(t, 0);
    is_int(rc, -XEN_EAGAIN, "commit after the conflict: EAGAIN");
    ok(read_is(XBT_NIL, "conflict", "dom0"), "dom0's value stands");
    xenbus_unwatch("conflict", "tok-c");
}

static void test_in_flight(void)
{
    uint32_t id[4];
    char path[32], want[32];
    int good = 1, distinct = 1;

    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "data/m%d", i);
        snprintf(want, sizeof(want), "value %d", i * 11);
        xenbus_write(XBT_NIL, path, want);
    }
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "data/m%d", i);
        if (xenbus_send(XS_READ, XBT_NIL, path, strlen(path) + 1, &id[i]))
            good = 0;
        for (int j = 0; j < i; j++)
            if (id[j] == id[i])
                distinct = 0;
    }
    ok(good && distinct, "4 requests in flight, req_ids %u %u %u %u", id[0],
       id[1], id[2], id[3]);
    /* Collect in reverse: each reply must go to its own request. */
    for (int i = 3; i >= 0 && good; i--) {
        uint32_t type = 0;
        int rc = xenbus_wait_reply(id[i], buf, sizeof(buf), &type);

        snprintf(want, sizeof(want), "value %d", i * 11);
        if (rc != (int)strlen(want) || strcmp(buf, want) || type != XS_READ)
            good = 0;
    }
    ok(good, "replies collected in reverse order match their requests");
    is_int(xenbus_wait_reply(id[0], buf, sizeof(buf), NULL), -XEN_EINVAL,
           "a req_id already answered: EINVAL");
}

static void test_handshake(void)
{
    char be[128];
    int rc;

    rc = xenbus_read(XBT_NIL, "device/vtest/0/backend", be, sizeof(be));
    ok(rc > 0, "frontend finds its backend at %s", rc > 0 ? be : "?");
    ok(xenbus_switch_state(XBT_NIL, "device/vtest/0",
                           XenbusStateInitialising) == 0 &&
           xenbus_wait_for_state(be, XenbusStateInitWait, 10 * SEC) == 0,
       "backend reached InitWait");
    ok(xenbus_printf(XBT_NIL, "device/vtest/0", "ring-ref", "%d", 123) == 0 &&
           xenbus_switch_state(XBT_NIL, "device/vtest/0",
                               XenbusStateInitialised) == 0,
       "frontend published ring-ref and switched to Initialised");
    ok(xenbus_wait_for_state(be, XenbusStateConnected, 10 * SEC) == 0 &&
           xenbus_switch_state(XBT_NIL, "device/vtest/0",
                               XenbusStateConnected) == 0,
       "backend Connected; frontend Connected");
    is_int(xenbus_wait_for_state(be, XenbusStateClosing, SEC / 5),
           -XEN_ETIMEDOUT, "waiting for a state that never comes times out");
}

static void role_main(void)
{
    int rc;

    tap_plan(35);
    rc = xenbus_init();

    is_int(rc, 0, "xenbus_init (store port %u)", xenbus_store_port());
    test_basic();
    test_watch();
    test_transactions();
    test_in_flight();
    test_handshake();
    is_int(xenbus_watch_dropped(), 0, "no watch event was dropped");
    ok(xenbus_write(XBT_NIL, "ready/done", "1") == 0, "told dom0 we are done");
}

/* The ring page, as xenbus_init() finds it (HVM_PARAM_STORE_PFN). */
static volatile struct xenstore_domain_interface *store_ring(void)
{
    struct xen_hvm_param p = {.domid = DOMID_SELF,
                              .index = HVM_PARAM_STORE_PFN};

    if (HYPERVISOR_hvm_op(HVMOP_get_param, &p))
        return NULL;
    return (volatile struct xenstore_domain_interface *)(uintptr_t)(p.value
                                                                    << 12);
}

/*
 * Wait (10 s at most, checking every 10 ms) until dom0 emptied the ring
 * (all four indexes 0), or, when error, set the ring's error field.
 */
static int wait_ring(int error)
{
    volatile struct xenstore_domain_interface *r = store_ring();
    uint64_t deadline = time_now_ns() + 10 * SEC;

    while (r &&
           (error ? !r->error
                  : r->req_prod || r->req_cons || r->rsp_prod || r->rsp_cons)) {
        if (time_now_ns() > deadline)
            return 0;
        sched_sleep_until(time_now_ns() + SEC / 100);
    }
    return r != NULL;
}

static void role_badserver(void)
{
    int rc, good = 1;

    tap_plan(16);
    is_int(xenbus_init(), 0, "xenbus_init");
    ok(xenbus_read(XBT_NIL, "one", buf, sizeof(buf)) == 2 && !strcmp(buf, "v1"),
       "the reply is found behind a watch event and a stray reply");
    rc = xenbus_read(XBT_NIL, "two", buf, sizeof(buf));
    for (int i = 0; i < 1500 && rc == 1500; i++)
        if (buf[i] != 'a' + i % 26)
            good = 0;
    ok(rc == 1500 && good, "a 1500-byte reply (larger than the ring) (%d)", rc);
    is_int(xenbus_read(XBT_NIL, "three", buf, sizeof(buf)), -XEN_EACCES,
           "XS_ERROR \"EACCES\" maps to -XEN_EACCES");
    is_int(xenbus_read(XBT_NIL, "four", buf, sizeof(buf)), -XEN_EINVAL,
           "an unknown error string maps to -XEN_EINVAL");
    is_int(xenbus_read(XBT_NIL, "wrongtype", buf, sizeof(buf)), -XEN_EIO,
           "a reply of another type than the request: EIO");
    {
        struct seen w = {0};

        int run;

        rc = xenbus_watch("w", "tokw", watch_cb, &w);
        run = rc ? rc : xenbus_watch_dispatch();
        ok(run == 1 && w.count == 1 && !strcmp(w.path, "w"),
           "an event that came before XS_WATCH's reply is kept; a malformed "
           "one is ignored (%u callbacks)",
           w.count);
    }
    {
        uint64_t old = xenbus_set_timeout(SEC / 5);

        is_int(xenbus_read(XBT_NIL, "slow", buf, sizeof(buf)), -XEN_ETIMEDOUT,
               "no reply within the timeout (200 ms): ETIMEDOUT");
        xenbus_set_timeout(old);
        printf("TIMEDOUT\n");
        ok(xenbus_read(XBT_NIL, "after", buf, sizeof(buf)) == 5 &&
               !strcmp(buf, "fresh"),
           "the late reply to it is not taken for the next request's");
    }
    is_int(xenbus_read(XBT_NIL, "five", buf, sizeof(buf)), -XEN_EIO,
           "a reply longer than XENSTORE_PAYLOAD_MAX: EIO");
    is_int(xenbus_read(XBT_NIL, "six", buf, sizeof(buf)), -XEN_EIO,
           "after that the client refuses to use the ring");
    printf("RESET1\n");
    ok(wait_ring(0) && xenbus_init() == 0, "dom0 reset the ring");
    is_int(xenbus_read(XBT_NIL, "seven", buf, sizeof(buf)), -XEN_EIO,
           "rsp_prod more than a ring ahead of rsp_cons: EIO");
    printf("RESET2\n");
    ok(wait_ring(0) && xenbus_reconnect() == 0,
       "a reconnection (XENSTORE_RECONNECT) mends the broken ring");
    ok(xenbus_read(XBT_NIL, "eight", buf, sizeof(buf)) == 3 &&
           !strcmp(buf, "ok8"),
       "the ring works after the reconnection");
    printf("WAIT-ERROR\n");
    ok(wait_ring(1) &&
           xenbus_read(XBT_NIL, "nine", buf, sizeof(buf)) == -XEN_EIO,
       "the server's connection error indicator: EIO, nothing sent");
}

void test_main(void)
{
    char role[16] = "";

    cmdline_get("role", role, sizeof(role));
    if (!strcmp(role, "badserver"))
        role_badserver();
    else
        role_main();
}
