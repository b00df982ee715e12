/*
 * xs_transaction.c — xenstore transactions (xenstore.txt
 * TRANSACTION_START / TRANSACTION_END).
 *
 * How isolation and conflicts work
 * --------------------------------
 * TRANSACTION_START takes a snapshot: a copy of the whole tree that
 * shares its nodes with the store until either side changes them (copy on
 * write in xs_db.c, so starting a transaction costs O(1) and a change
 * copies only the nodes from the root to the changed one).  Every request
 * carrying the transaction's tx_id reads and changes only that copy, so
 * the transaction sees the store as it was at its start plus its own
 * changes (snapshot isolation), and nobody else sees its changes before
 * the commit.
 *
 * Every node carries a generation count, drawn from one counter shared by
 * the store and all snapshots, and renewed on every change of the node:
 * its value, its permissions or its list of children.  Counts are never
 * reused, so "same count" means "not changed".  A node that does not
 * exist has count 0.
 *
 * While the transaction runs, the tree tells it (xs_db_set_note) every
 * node it looks at or changes, with the node's count in the snapshot
 * *before* the transaction first touched it.  Only the first access of a
 * path is kept: that is the count the transaction's view was based on.
 *
 * At TRANSACTION_END "T" each recorded path is looked up in the store's
 * tree.  If any count differs from the recorded one, someone changed (or
 * created, or removed) a node this transaction depended on: the commit
 * fails with EAGAIN and nothing is applied; the client retries.
 * Otherwise every path the transaction changed is copied from the
 * snapshot into the store (shortest paths first, so parents exist before
 * their children; a path absent from the snapshot is removed from the
 * store with its subtree) and the recorded watch events fire.
 *
 * Worked examples (store: /a = "1", count 10; /b = "2", count 11):
 *
 *  1. T1 reads /a, writes /b = "3".  Meanwhile a plain WRITE sets
 *     /c = "x" (creating /c; "/" changes too as it gains a child).
 *     T1 recorded /a@10 and /b@11; both unchanged: the commit succeeds.
 *     (T1 never listed "/", so the new child does not concern it.)
 *
 *  2. T1 reads /a.  A plain WRITE sets /a = "5" (count 12).  T1 writes
 *     /b.  Commit: /a is 12, T1 recorded 10 -> EAGAIN.  Even a write of
 *     the same value conflicts: counts say "changed", not "different".
 *
 *  3. T1 and T2 both start, both read /a and write /a.  T1 commits
 *     first: /a gets count 13.  T2's commit finds 13 != 10 -> EAGAIN.
 *     The second writer always loses, so no update is lost.
 *
 *  4. T1 reads /new (absent: recorded count 0).  A plain WRITE creates
 *     /new.  T1's commit finds /new with a count != 0 -> EAGAIN: T1
 *     decided something based on "/new does not exist", which is no
 *     longer true.
 *
 *  5. T1 creates /d/e (and the missing /d).  It records "/" (whose list
 *     of children changes), /d@0 and /d/e@0.  T2, meanwhile, creates
 *     /f and commits: "/" changed, so T1 gets EAGAIN.  This is coarser
 *     than necessary (Xen's xenstored behaves alike for a parent's
 *     children list) but never wrong.
 *
 *  6. T1 removes /a while a plain WRITE changes /a/x below it.  T1
 *     recorded every node of the removed subtree as it was: /a/x's
 *     count moved, so the commit fails with EAGAIN rather than deleting
 *     a value T1 never saw.
 *
 * Aborting ("F") just drops the snapshot.  A connection going away aborts
 * its transactions.  Each connection may hold quota.transactions open
 * transactions (dom0: unlimited); one more is ENOSPC, as in Xen.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xs_core.h"

struct txn_access {
    char *path;
    uint64_t gen;
    bool written;
};

struct xs_txn {
    struct xs_txn *next;
    uint32_t id;
    struct xs_db *db;
    struct txn_access *acc;
    unsigned int nacc, capacc;
    struct xs_event *events, *events_tail;
    bool failed; /* out of memory while recording: commit must fail */
};

static struct txn_access *txn_access_find(struct xs_txn *txn, const char *path)
{
    unsigned int i;

    for (i = 0; i < txn->nacc; i++) {
        if (strcmp(txn->acc[i].path, path) == 0)
            return &txn->acc[i];
    }
    return NULL;
}

/* The tree's hook: remember the first count seen for every path. */
static void txn_note(void *opaque, const char *path, uint64_t gen, bool write)
{
    struct xs_txn *txn = opaque;
    struct txn_access *a = txn_access_find(txn, path);

    if (a) {
        a->written |= write;
        return;
    }
    if (txn->nacc == txn->capacc) {
        unsigned int cap = txn->capacc ? txn->capacc * 2 : 16;
        struct txn_access *n = realloc(txn->acc, cap * sizeof(*n));

        if (!n) {
            txn->failed = true;
            return;
        }
        txn->acc = n;
        txn->capacc = cap;
    }
    a = &txn->acc[txn->nacc];
    a->path = strdup(path);
    if (!a->path) {
        txn->failed = true;
        return;
    }
    a->gen = gen;
    a->written = write;
    txn->nacc++;
}

static void txn_free(struct xs_txn *txn)
{
    unsigned int i;

    while (txn->events) {
        struct xs_event *ev = txn->events;

        txn->events = ev->next;
        free(ev->path);
        free(ev);
    }
    for (i = 0; i < txn->nacc; i++)
        free(txn->acc[i].path);
    free(txn->acc);
    xs_db_free(txn->db);
    free(txn);
}

long xs_txn_start(struct xs_conn *conn)
{
    struct xs_txn *txn;
    uint32_t id;

    if (!xs_conn_privileged(conn) &&
        conn->ntxns >= conn->store->quota.transactions)
        return -ENOSPC;
    txn = calloc(1, sizeof(*txn));
    if (!txn)
        return -ENOMEM;
    txn->db = xs_db_clone(conn->store->db);
    if (!txn->db) {
        free(txn);
        return -ENOMEM;
    }
    xs_db_set_note(txn->db, txn_note, txn);
    /* Ids are per connection, never 0, skipping ones still open. */
    do {
        id = conn->next_txid++;
        if (conn->next_txid == 0 || conn->next_txid > 0x7fffffff)
            conn->next_txid = 1;
    } while (id == 0 || xs_txn_find(conn, id));
    txn->id = id;
    txn->next = conn->txns;
    conn->txns = txn;
    conn->ntxns++;
    return (long)id;
}

struct xs_txn *xs_txn_find(struct xs_conn *conn, uint32_t id)
{
    struct xs_txn *txn;

    for (txn = conn->txns; txn; txn = txn->next) {
        if (txn->id == id)
            return txn;
    }
    return NULL;
}

struct xs_db *xs_txn_db(struct xs_txn *txn)
{
    return txn->db;
}

int xs_txn_add_event(struct xs_txn *txn, const char *path, bool rm)
{
    struct xs_event *ev = calloc(1, sizeof(*ev));

    if (!ev)
        return -ENOMEM;
    ev->path = strdup(path);
    if (!ev->path) {
        free(ev);
        return -ENOMEM;
    }
    ev->rm = rm;
    if (txn->events_tail)
        txn->events_tail->next = ev;
    else
        txn->events = ev;
    txn->events_tail = ev;
    return 0;
}

static void txn_unlink(struct xs_conn *conn, struct xs_txn *txn)
{
    struct xs_txn **pp;

    for (pp = &conn->txns; *pp; pp = &(*pp)->next) {
        if (*pp == txn) {
            *pp = txn->next;
            conn->ntxns--;
            return;
        }
    }
}

static int access_cmp(const void *a, const void *b)
{
    const struct txn_access *x = a, *y = b;
    size_t lx = strlen(x->path), ly = strlen(y->path);

    if (lx != ly)
        return lx < ly ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* Copy one changed path from the snapshot into the store's tree. */
static int txn_apply_path(struct xs_db *store, struct xs_db *snap,
                          const char *path)
{
    const struct xs_perm *perms;
    struct xs_node *src, *dst;
    const char *value;
    unsigned int n;
    size_t len;
    int rc;

    /* Reads of the snapshot must not be recorded any more. */
    src = xs_db_get(snap, path);
    if (!src) {
        rc = xs_db_rm(store, path);
        return rc == -ENOENT ? 0 : rc;
    }
    if (strcmp(path, "/") == 0) {
        dst = xs_db_get(store, path);
    } else {
        rc = xs_db_create(store, path, XS_DB_INHERIT, NULL, &dst);
        if (rc)
            return rc;
    }
    value = xs_node_value(src, &len);
    perms = xs_node_perms(src, &n);
    rc = xs_db_set_value(store, path, value, len);
    if (!rc)
        rc = xs_db_set_perms(store, path, perms, n);
    return rc;
}

int xs_txn_end(struct xs_conn *conn, struct xs_txn *txn, bool commit)
{
    struct xs_store *store = conn->store;
    struct xs_event *ev;
    unsigned int i;
    int rc = 0;

    txn_unlink(conn, txn);
    xs_db_set_note(txn->db, NULL, NULL);
    if (!commit)
        goto out;
    if (txn->failed) {
        rc = -ENOMEM;
        goto out;
    }
    for (i = 0; i < txn->nacc; i++) {
        struct xs_node *node = xs_db_get(store->db, txn->acc[i].path);
        uint64_t now = node ? xs_node_gen(node) : 0;

        if (now != txn->acc[i].gen) {
            rc = -EAGAIN;
            goto out;
        }
    }
    /* qsort() must not see the NULL array of a transaction that read nothing.
     */
    if (txn->nacc)
        qsort(txn->acc, txn->nacc, sizeof(*txn->acc), access_cmp);
    for (i = 0; i < txn->nacc; i++) {
        if (!txn->acc[i].written)
            continue;
        rc = txn_apply_path(store->db, txn->db, txn->acc[i].path);
        if (rc) {
            /* Only memory exhaustion gets here; the tree stays valid. */
            xs_log("transaction commit failed half way: %s", xs_errno_name(rc));
            goto out;
        }
    }
    for (ev = txn->events; ev; ev = ev->next)
        xs_watch_fire(store, ev->path, ev->rm);

out:
    txn_free(txn);
    return rc;
}

void xs_txn_abort_all(struct xs_conn *conn)
{
    while (conn->txns) {
        struct xs_txn *txn = conn->txns;

        conn->txns = txn->next;
        conn->ntxns--;
        txn_free(txn);
    }
}
