/*
 * test_scale.c — xenstored's per-request cost as the store grows, through
 * the dispatcher over the memory transport (no sockets: the figures are
 * the daemon's own work).
 *
 * The store is filled as a toolstack does for 10, then 100, then 1000
 * domains: /local/domain/<N> owned by N with ~24 nodes below it (name,
 * domid, memory, cpu, control, device/vif/0, console, data), and each
 * domain's connection sets 10 watches on its own nodes (10,000 watches
 * at 1000 domains).  At each size the time of one request is measured
 * in CPU time (the best of 5 rounds of ROUNDS requests on random
 * domains):
 *   read      dom0 READ /local/domain/K/name
 *   write     dom0 WRITE /local/domain/K/memory/target (fires K's watch)
 *   dir       dom0 DIRECTORY /local/domain/K/device/vif/0
 *   create    domain K WRITE data/n (a new node: the node quota is
 *             checked) and RM it again, per pair
 *   txn       dom0 TRANSACTION_START, READ, WRITE, TRANSACTION_END
 * With lookups by name in sorted child indexes, a per-tree owner count
 * and an index of watches by path, each should grow no faster than
 * O(log n): the test asserts time(1000) <= 3 * time(100) + 2 us.  The
 * margin absorbs cache misses (the working set at 1000 domains, ~27,000
 * nodes and 1000 connections, no longer fits the caches) and the noise
 * of other processes on this host; anything linear in the domains or
 * watches would still be caught (10x, tens of us).
 */
#include <time.h>

#include "tap.h"
#include "xs_memconn.h"

#define NDOMS  1000
#define ROUNDS 10000

static struct xs_store store;
static struct mc d0;
static struct mc doms[NDOMS];

enum { OP_READ, OP_WRITE, OP_DIR, OP_CREATE, OP_TXN, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"read", "write", "dir", "create",
                                               "txn"};

static double now_ns(void)
{
    struct timespec ts;

    /* CPU time: other processes on this 2-CPU host do not count. */
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Build domain @n's nodes and watches; false on any unexpected reply. */
static bool domain_add(unsigned int n)
{
    static const char *const leaves[] = {
        "name",
        "domid",
        "vm",
        "memory/target",
        "memory/static-max",
        "cpu/0/availability",
        "cpu/1/availability",
        "control/shutdown",
        "control/feature-poweroff",
        "device/vif/0/backend",
        "device/vif/0/backend-id",
        "device/vif/0/state",
        "device/vif/0/mac",
        "console/ring-ref",
        "console/port",
        "data/x",
    };
    static const char *const watched[] = {"control/shutdown",
                                          "memory/target",
                                          "device",
                                          "console",
                                          "data/w0",
                                          "data/w1",
                                          "data/w2",
                                          "data/w3",
                                          "cpu",
                                          "control/feature-poweroff"};
    char path[64], perm[16], token[8];
    unsigned int i;
    bool good = true;

    snprintf(path, sizeof(path), "/local/domain/%u", n);
    snprintf(perm, sizeof(perm), "n%u", n);
    good &= strcmp(W(&d0, path, ""), "OK") == 0;
    good &= strcmp(mc_call(&d0, XS_SET_PERMS, 0, path, perm, NULL), "OK") == 0;
    for (i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
        snprintf(path, sizeof(path), "/local/domain/%u/%s", n, leaves[i]);
        good &= strcmp(W(&d0, path, "1"), "OK") == 0;
    }
    if (!mc_open(&store, &doms[n], n))
        return false;
    for (i = 0; i < sizeof(watched) / sizeof(watched[0]); i++) {
        snprintf(token, sizeof(token), "t%u", i);
        good &= strcmp(mc_call(&doms[n], XS_WATCH, 0, watched[i], token, NULL),
                       "OK") == 0;
    }
    doms[n].nmsgs = 0;
    return good;
}

/* One request of kind @op on domain @k; false on an unexpected reply. */
static bool op_run(int op, unsigned int k)
{
    char path[64], id[16];
    const char *r;
    bool good;

    d0.nmsgs = 0;
    doms[k].nmsgs = 0;
    switch (op) {
    case OP_READ:
        snprintf(path, sizeof(path), "/local/domain/%u/name", k);
        return strcmp(R(&d0, path), "1") == 0;
    case OP_WRITE:
        snprintf(path, sizeof(path), "/local/domain/%u/memory/target", k);
        return strcmp(W(&d0, path, "2"), "OK") == 0;
    case OP_DIR:
        snprintf(path, sizeof(path), "/local/domain/%u/device/vif/0", k);
        r = mc_call(&d0, XS_DIRECTORY, 0, path, NULL);
        return strcmp(r, "backend") == 0;
    case OP_CREATE:
        good = strcmp(W(&doms[k], "data/n", "v"), "OK") == 0;
        return good &&
               strcmp(mc_call(&doms[k], XS_RM, 0, "data/n", NULL), "OK") == 0;
    case OP_TXN:
        r = mc_call(&d0, XS_TRANSACTION_START, 0, "", NULL);
        snprintf(id, sizeof(id), "%s", r);
        snprintf(path, sizeof(path), "/local/domain/%u/data/x", k);
        good = strcmp(TR(&d0, (uint32_t)atoi(id), path), "1") == 0;
        good &= strcmp(TW(&d0, (uint32_t)atoi(id), path, "1"), "OK") == 0;
        good &= strcmp(mc_call(&d0, XS_TRANSACTION_END, (uint32_t)atoi(id), "T",
                               NULL),
                       "OK") == 0;
        return good;
    }
    return false;
}

/* Best-of-5 time per request (ns) of @op with @ndoms domains. */
static double op_time(int op, unsigned int ndoms, bool *good)
{
    double best = 0;
    int round;

    for (round = 0; round < 5; round++) {
        double t0 = now_ns(), t;
        unsigned int i;

        for (i = 0; i < ROUNDS; i++)
            *good &= op_run(op, (unsigned int)rand() % ndoms);
        t = (now_ns() - t0) / ROUNDS;
        if (round == 0 || t < best)
            best = t;
    }
    return best;
}

int main(void)
{
    static const unsigned int sizes[3] = {10, 100, NDOMS};
    double t[3][OP_COUNT];
    unsigned int s, n = 0, nwatches;
    struct xs_conn *conn;
    bool built = true, good = true;
    int op;

    tap_plan(4 + OP_COUNT);
    srand(7);
    xs_store_init(&store);
    mc_open(&store, &d0, 0);
    mc_call(&d0, XS_CONTROL, 0, "log", "off", NULL);
    for (s = 0; s < 3; s++) {
        for (; n < sizes[s]; n++)
            built &= domain_add(n);
        for (op = 0; op < OP_COUNT; op++)
            t[s][op] = op_time(op, sizes[s], &good);
        tap_diag("%4u domains, %6u nodes: read %.0f ns, write %.0f ns, "
                 "dir %.0f ns, create+rm %.0f ns, txn %.0f ns",
                 sizes[s], xs_db_count(store.db), t[s][OP_READ], t[s][OP_WRITE],
                 t[s][OP_DIR], t[s][OP_CREATE], t[s][OP_TXN]);
    }
    ok(built, "1000 domains' nodes and watches set up");
    ok(xs_db_count(store.db) >= NDOMS * 20, "%u nodes in the store",
       xs_db_count(store.db));
    nwatches = 0;
    for (conn = store.conns; conn; conn = conn->next)
        nwatches += conn->nwatches;
    is_int(nwatches, NDOMS * 10, "10,000 watches");
    ok(good, "every measured request got the expected reply");
    for (op = 0; op < OP_COUNT; op++)
        ok(t[2][op] <= 3 * t[1][op] + 2000,
           "%s: %.0f ns at 1000 domains <= 3 x %.0f ns at 100 + 2 us "
           "(x%.2f; %.0f ns at 10)",
           op_names[op], t[2][op], t[1][op], t[2][op] / t[1][op], t[0][op]);
    xs_store_fini(&store);
    free(d0.msgs);
    for (n = 0; n < NDOMS; n++)
        free(doms[n].msgs);
    return tap_done();
}
