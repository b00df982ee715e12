/*
 * fuzz_xs_msg.c — libFuzzer target for xenstored's framing and dispatcher
 * (Xen docs/misc/xenstore.txt, <xen/io/xs_wire.h>), over the memory
 * transport of xs_memconn.h: no daemon, no sockets.
 *
 * Each input is a fresh store with three connections: domain 0, domain 5
 * (introduced, owning /local/domain/5) and domain 7 (not introduced).  The
 * input is a list of records; each record starts with 4 bytes
 *   sel   bits 0-1: connection (0, 5, 7; 3 = 0); bit 5: toggle "client
 *         stops reading replies"; bits 6-7 == 3: push raw bytes instead
 *   type  message type (modulo XS_TYPE_COUNT + 2: unknown types too)
 *   tx    transaction id (modulo 4, or itself when >= 0xf0)
 *   len   payload bytes taken from the rest of the input
 * A structured record becomes one request with the next req_id; a raw
 * record pushes its bytes as they are (framing: partial headers, lengths
 * beyond XENSTORE_PAYLOAD_MAX, which drop the connection).  A connection
 * that was dropped is opened again by the next record naming it.
 *
 * After every record, and at the end, the target checks:
 *   - replies come in request order, each with its request's req_id
 *     (watch events aside), and at the end every structured request of a
 *     live connection has been answered exactly once;
 *   - the tree is consistent: every node has a permission list, children
 *     names are non-empty, unique and slash-free, a walk visits exactly
 *     xs_db_count() nodes, the per-owner counts (the node quota) match a
 *     walk, every path is canonical;
 *   - each connection's counters (watches, transactions, queued output)
 *     match its lists.
 * Everything is freed at the end of each input, so LeakSanitizer (on by
 * default with -fsanitize=fuzzer,address) reports any leak.
 */
#include <stdint.h>
#include <stdio.h>

#include "xs_memconn.h"

/* Requests whose replies are still expected, per connection, in order. */
#define FZ_PENDING_MAX 2048

struct fz_conn {
    struct mc mc;
    uint32_t domid;
    uint32_t pending[FZ_PENDING_MAX];
    unsigned int npending;
    uint32_t next_req;
    bool untracked; /* raw bytes were pushed: replies are not checked */
};

static struct xs_store fz_store;
static struct fz_conn fz_conns[3];
static const uint32_t fz_domids[3] = {0, 5, 7};

/* Abort with a message: libFuzzer records the input as a crash. */
static void fz_fail(const char *what)
{
    fprintf(stderr, "fuzz_xs_msg: invariant broken: %s\n", what);
    abort();
}

/* Open (again) the connection of @fc; domain 5 is introduced. */
static void fz_open(struct fz_conn *fc)
{
    mc_open(&fz_store, &fc->mc, fc->domid);
    fc->npending = 0;
    fc->untracked = false;
    if (!fc->mc.conn)
        return;
    if (fc->domid == 5)
        xs_domain_attach_conn(&fz_store, 5, fc->mc.conn);
}

/*
 * Take the replies the connection wrote: each non-event message must
 * answer the oldest pending request.  Events are dropped.
 */
static void fz_collect(struct fz_conn *fc)
{
    unsigned int i;

    if (fc->untracked) {
        fc->mc.nmsgs = 0;
        return;
    }
    for (i = 0; i < fc->mc.nmsgs; i++) {
        const struct mc_msg *msg = &fc->mc.msgs[i];

        if (msg->hdr.type == XS_WATCH_EVENT) {
            if (msg->hdr.req_id != 0 || msg->hdr.tx_id != 0)
                fz_fail("watch event with a req_id or tx_id");
            continue;
        }
        if (fc->npending == 0)
            fz_fail("reply without a request");
        if (msg->hdr.req_id != fc->pending[0])
            fz_fail("reply out of order or with a wrong req_id");
        memmove(fc->pending, fc->pending + 1,
                (fc->npending - 1) * sizeof(fc->pending[0]));
        fc->npending--;
    }
    fc->mc.nmsgs = 0;
}

/* @path as the daemon keeps it (xenstore.txt "<path>"): absolute, legal. */
static bool fz_path_ok(const char *path)
{
    size_t len = strlen(path), i;

    if (strcmp(path, "/") == 0)
        return true;
    if (path[0] != '/' || path[len - 1] == '/' || len > XENSTORE_ABS_PATH_MAX)
        return false;
    for (i = 0; i < len; i++) {
        char c = path[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '/' || c == '_' ||
              c == '@'))
            return false;
        if (c == '/' && path[i + 1] == '/')
            return false;
    }
    return true;
}

/* Walk callback: checks one node. */
static int fz_check_node(void *opaque, const char *path,
                         const struct xs_node *node)
{
    unsigned int *count = opaque;
    unsigned int n, i, j;

    (*count)++;
    xs_node_perms(node, &n);
    if (n < 1)
        fz_fail("node without a permission list");
    for (i = 0; i < xs_node_nchildren(node); i++) {
        const char *a = xs_node_child_name(node, i);

        if (!a[0] || strchr(a, '/'))
            fz_fail("empty child name or one with a slash");
        for (j = i + 1; j < xs_node_nchildren(node); j++) {
            if (strcmp(a, xs_node_child_name(node, j)) == 0)
                fz_fail("two children with one name");
        }
    }
    if (!fz_path_ok(path))
        fz_fail("a node's path is not canonical");
    return 0;
}

static void fz_check(void)
{
    unsigned int count = 0, i;
    struct xs_conn *conn;

    if (xs_db_walk(fz_store.db, fz_check_node, &count) != 0)
        fz_fail("tree walk failed");
    if (count != xs_db_count(fz_store.db) ||
        count != xs_db_count_walk(fz_store.db, 0, true))
        fz_fail("walk and count disagree");
    /* The per-owner counters against a walk of the tree. */
    for (i = 0; i < 3; i++) {
        if (xs_db_count_owned(fz_store.db, fz_domids[i]) !=
            xs_db_count_walk(fz_store.db, fz_domids[i], false))
            fz_fail("owner count disagrees with the tree");
    }
    for (conn = fz_store.conns; conn; conn = conn->next) {
        const struct xs_watch *w;
        const struct xs_msg *m;
        uint32_t id;

        for (i = 0, w = conn->watches; w; w = w->next)
            i++;
        if (i != conn->nwatches)
            fz_fail("watch count");
        /* Transaction ids are handed out in order from 1. */
        for (i = 0, id = 1; id < conn->next_txid && id < 100000; id++)
            i += xs_txn_find(conn, id) != NULL;
        if (i != conn->ntxns)
            fz_fail("transaction count");
        for (i = 0, m = conn->out_head; m; m = m->next)
            i++;
        if (i != conn->out_count)
            fz_fail("queued output count");
    }
}

/* Push @len bytes into @fc's input, unless the input buffer is full. */
static bool fz_push(struct fz_conn *fc, const void *data, size_t len)
{
    if (fc->mc.in_len + len > sizeof(fc->mc.in))
        return false;
    mc_push(&fc->mc, data, len);
    return true;
}

static void fz_request(struct fz_conn *fc, uint32_t type, uint32_t tx,
                       const uint8_t *payload, size_t len)
{
    struct xsd_sockmsg hdr = {type, fc->next_req, tx, (uint32_t)len};
    unsigned char buf[sizeof(hdr) + 256];

    if (fc->npending == FZ_PENDING_MAX)
        fc->untracked = true;
    memcpy(buf, &hdr, sizeof(hdr));
    memcpy(buf + sizeof(hdr), payload, len);
    if (fz_push(fc, buf, sizeof(hdr) + len) && !fc->untracked)
        fc->pending[fc->npending++] = fc->next_req++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned int i;
    size_t off = 0;

    if (xs_store_init(&fz_store) != 0)
        return 0;
    for (i = 0; i < 3; i++) {
        fz_conns[i].domid = fz_domids[i];
        fz_conns[i].next_req = 1;
        fz_open(&fz_conns[i]);
    }
    /* A home for domain 5, as a toolstack makes it. */
    W(&fz_conns[0].mc, "/local/domain/5", "");
    mc_call(&fz_conns[0].mc, XS_SET_PERMS, 0, "/local/domain/5", "n5", NULL);
    fz_conns[0].mc.nmsgs = 0;

    while (size - off >= 4) {
        uint8_t sel = data[off], type = data[off + 1], tx = data[off + 2];
        size_t len = data[off + 3];
        struct fz_conn *fc = &fz_conns[(sel & 3) % 3];

        off += 4;
        if (len > size - off)
            len = size - off;
        if (!fc->mc.conn)
            fz_open(fc);
        if (!fc->mc.conn)
            break;
        if (sel & 0x20) {
            fc->mc.blocked = !fc->mc.blocked;
            if (!fc->mc.blocked)
                mc_process(&fc->mc);
        }
        if (fc->mc.conn && (sel >> 6) == 3) {
            /* Raw bytes: requests in them are not tracked. */
            fz_push(fc, data + off, len);
            fc->untracked = true;
        } else if (fc->mc.conn) {
            fz_request(fc, type % (XS_TYPE_COUNT + 2),
                       tx >= 0xf0 ? tx : tx % 4u, data + off, len);
        }
        off += len;
        for (i = 0; i < 3; i++) {
            if (!fz_conns[i].mc.conn)
                fz_conns[i].npending = 0;
            fz_collect(&fz_conns[i]);
        }
        fz_check();
    }

    /* Let every blocked client read: all tracked requests get answered. */
    for (i = 0; i < 3; i++) {
        struct fz_conn *fc = &fz_conns[i];

        if (!fc->mc.conn)
            continue;
        fc->mc.blocked = false;
        mc_process(&fc->mc);
    }
    for (i = 0; i < 3; i++) {
        struct fz_conn *fc = &fz_conns[i];

        if (!fc->mc.conn)
            continue;
        fz_collect(fc);
        if (!fc->untracked && fc->npending)
            fz_fail("a request was never answered");
    }
    fz_check();
    xs_store_fini(&fz_store);
    for (i = 0; i < 3; i++) {
        free(fz_conns[i].mc.msgs);
        fz_conns[i].mc.msgs = NULL;
        fz_conns[i].mc.nmsgs = fz_conns[i].mc.capmsgs = 0;
    }
    return 0;
}
