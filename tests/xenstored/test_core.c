/*
 * test_core.c — xenstored's request handling through its dispatcher,
 * without a daemon: connections over a memory transport (xs_memconn.h)
 * acting as domain 0 or as unprivileged domains.  Covers the node tree,
 * permissions, path validation, transactions (the worked examples in
 * xs_transaction.c), watches, quotas, CONTROL and bad requests.
 */
#include <xenctrl.h>

#include "tap.h"
#include "xs_memconn.h"

static struct xs_store store;
static struct mc d0, d5, d6, d7, d8, d9, d0w;

/* The last reply's payload with NULs shown as '|'. */
static const char *bars(void)
{
    static char buf[XENSTORE_PAYLOAD_MAX + 1];
    uint32_t i;

    for (i = 0; i < mc_last.hdr.len; i++)
        buf[i] = mc_last.data[i] ? mc_last.data[i] : '|';
    buf[mc_last.hdr.len] = '\0';
    return buf;
}

static void reset_store(void)
{
    xs_store_fini(&store);
    xs_store_init(&store);
    mc_open(&store, &d0, 0);
    mc_open(&store, &d5, 5);
    mc_open(&store, &d6, 6);
    mc_open(&store, &d7, 7);
    xs_domain_attach_conn(&store, 5, d5.conn);
    xs_domain_attach_conn(&store, 6, d6.conn);
    xs_domain_attach_conn(&store, 7, d7.conn);
}

static void test_tree(void)
{
    char big[XENSTORE_ABS_PATH_MAX + 8];

    reset_store();
    is_str(W(&d0, "/a/b/c", "hello"), "OK", "write creates missing parents");
    is_int(mc_last.hdr.type, XS_WRITE, "reply type echoes WRITE");
    is_str(R(&d0, "/a/b/c"), "hello", "read back the value");
    is_str(R(&d0, "/a/b"), "", "implicit parent has an empty value");
    is_int(mc_last.hdr.len, 0, "empty value: zero-length payload");
    is_str(R(&d0, "/a/x"), "ENOENT", "missing node: ENOENT");
    is_int(mc_last.hdr.type, XS_ERROR, "error reply has type ERROR");
    is_int(mc_last.hdr.len, 7, "error string NUL-terminated");
    W(&d0, "/a/b/d", "2");
    W(&d0, "/a/b/a", "3");
    mc_call(&d0, XS_DIRECTORY, 0, "/a/b", NULL);
    is_str(bars(), "c|d|a|", "DIRECTORY lists children in creation order");
    mc_call(&d0, XS_DIRECTORY, 0, "/a/b/c", NULL);
    is_int(mc_last.hdr.len, 0, "DIRECTORY of a leaf is empty");
    is_str(mc_call(&d0, XS_MKDIR, 0, "/m/n", NULL), "OK", "MKDIR");
    is_str(R(&d0, "/m/n"), "", "MKDIR made an empty node");
    is_str(mc_call(&d0, XS_MKDIR, 0, "/a/b/c", NULL), "OK",
           "MKDIR of an existing node is OK");
    is_str(R(&d0, "/a/b/c"), "hello", "...and keeps its value");
    is_str(W(&d0, "/a/b/c", ""), "OK", "write an empty value");
    is_int(mc_last.hdr.len, 3, "OK reply is \"OK\\0\"");
    is_str(R(&d0, "/a/b/c"), "", "value now empty");
    is_str(mc_call(&d0, XS_RM, 0, "/a/b", NULL), "OK", "RM a subtree");
    is_str(R(&d0, "/a/b/d"), "ENOENT", "children removed with it");
    is_str(R(&d0, "/a"), "", "parent stays");
    is_str(mc_call(&d0, XS_RM, 0, "/a/zz", NULL), "OK",
           "RM of a missing node whose parent exists: OK");
    is_str(mc_call(&d0, XS_RM, 0, "/q/zz", NULL), "ENOENT",
           "RM of a missing node without parent: ENOENT");
    is_str(mc_call(&d0, XS_RM, 0, "/", NULL), "EINVAL", "RM / refused");
    mc_call(&d0, XS_GET_PERMS, 0, "/", NULL);
    is_str(bars(), "n0|", "root perms n0");
    is_str(mc_call(&d0, XS_GET_DOMAIN_PATH, 0, "12", NULL), "/local/domain/12",
           "GET_DOMAIN_PATH");
    is_str(mc_call(&d0, XS_GET_DOMAIN_PATH, 0, "x", NULL), "EINVAL",
           "GET_DOMAIN_PATH with a bad domid");

    /* Binary values keep their NULs. */
    mc_send(&d0, XS_WRITE, 0, "/bin\0a\0b", 8);
    mc_pop(&d0, false, &mc_last);
    R(&d0, "/bin");
    ok(mc_last.hdr.len == 3 && memcmp(mc_last.data, "a\0b", 3) == 0,
       "binary value with NULs round-trips");

    /* DIRECTORY_PART. */
    W(&d0, "/dp/one", "");
    W(&d0, "/dp/two", "");
    mc_call(&d0, XS_DIRECTORY_PART, 0, "/dp", "0", NULL);
    {
        char want[64];
        struct xs_node *n = xs_db_get(store.db, "/dp");

        snprintf(want, sizeof(want), "%" PRIu64 "|one|two||", xs_node_gen(n));
        is_str(bars(), want, "DIRECTORY_PART from 0: gen, names, end mark");
        mc_call(&d0, XS_DIRECTORY_PART, 0, "/dp", "4", NULL);
        snprintf(want, sizeof(want), "%" PRIu64 "|two||", xs_node_gen(n));
        is_str(bars(), want, "DIRECTORY_PART from a byte offset");
        mc_call(&d0, XS_DIRECTORY_PART, 0, "/dp", "99", NULL);
        snprintf(want, sizeof(want), "%" PRIu64 "||", xs_node_gen(n));
        is_str(bars(), want, "DIRECTORY_PART past the end: empty list");
    }
    is_str(mc_call(&d0, XS_DIRECTORY_PART, 0, "/dp", "-1", NULL), "EINVAL",
           "DIRECTORY_PART with a bad offset");
    /* A directory too long for one DIRECTORY reply. */
    {
        char name[64];
        unsigned int i;

        for (i = 0; i < 150; i++) {
            snprintf(name, sizeof(name),
                     "/long/child-with-a-rather-long-name-%03u", i);
            W(&d0, name, "");
        }
        is_str(mc_call(&d0, XS_DIRECTORY, 0, "/long", NULL), "E2BIG",
               "DIRECTORY larger than a payload: E2BIG");
        mc_call(&d0, XS_DIRECTORY_PART, 0, "/long", "0", NULL);
        ok(mc_last.hdr.type == XS_DIRECTORY_PART &&
               mc_last.hdr.len <= XENSTORE_PAYLOAD_MAX &&
               mc_last.hdr.len > 3000 &&
               mc_last.data[mc_last.hdr.len - 1] == '\0' &&
               mc_last.data[mc_last.hdr.len - 2] != '\0',
           "DIRECTORY_PART: a first chunk that fits, no end mark");
    }

    /* Path validation (xenstore.txt). */
    is_str(R(&d0, "/a b"), "EINVAL", "space in a path: EINVAL");
    is_str(R(&d0, "/a//b"), "EINVAL", "doubled slash: EINVAL");
    is_str(R(&d0, "/a/"), "EINVAL", "trailing slash: EINVAL");
    is_str(R(&d0, ""), "EINVAL", "empty path: EINVAL");
    is_str(R(&d0, "/a.b"), "EINVAL", "dot: EINVAL");
    is_str(R(&d0, "@introduceDomain"), "EINVAL",
           "special path outside watches: EINVAL");
    memset(big, 'x', sizeof(big));
    big[0] = '/';
    big[XENSTORE_ABS_PATH_MAX] = '\0';
    is_str(W(&d0, big, "v"), "OK", "absolute path of exactly 3072 bytes");
    big[XENSTORE_ABS_PATH_MAX] = 'x';
    big[XENSTORE_ABS_PATH_MAX + 1] = '\0';
    is_str(W(&d0, big, "v"), "EINVAL", "absolute path of 3073 bytes");
    memset(big, 'y', XENSTORE_REL_PATH_MAX + 1);
    big[XENSTORE_REL_PATH_MAX + 1] = '\0';
    is_str(W(&d0, big, "v"), "EINVAL", "relative path over 2048 bytes");
    is_str(W(&d0, "rel/node", "r"), "OK", "relative path for dom0");
    is_str(R(&d0, "/local/domain/0/rel/node"), "r",
           "relative path is under /local/domain/0");
    is_str(R(&d0, "/a-b_C9@x"), "ENOENT", "all permitted characters");
}

static void test_perms(void)
{
    reset_store();
    W(&d0, "/p", "secret");
    is_str(R(&d5, "/p"), "EACCES", "n0: other domain cannot read");
    is_str(W(&d5, "/p", "x"), "EACCES", "n0: other domain cannot write");
    is_str(mc_call(&d0, XS_SET_PERMS, 0, "/p", "n0", "r5", NULL), "OK",
           "SET_PERMS by dom0");
    mc_call(&d0, XS_GET_PERMS, 0, "/p", NULL);
    is_str(bars(), "n0|r5|", "GET_PERMS shows both entries");
    is_str(R(&d5, "/p"), "secret", "r5: dom5 reads");
    is_str(W(&d5, "/p", "x"), "EACCES", "r5: dom5 cannot write");
    is_str(R(&d6, "/p"), "EACCES", "r5: dom6 falls back to n");
    mc_call(&d0, XS_SET_PERMS, 0, "/p", "n0", "w5", NULL);
    is_str(W(&d5, "/p", "x"), "OK", "w5: dom5 writes");
    is_str(R(&d5, "/p"), "EACCES", "w5: dom5 cannot read");
    mc_call(&d0, XS_SET_PERMS, 0, "/p", "n0", "b5", NULL);
    is_str(R(&d5, "/p"), "x", "b5: dom5 reads");
    is_str(W(&d5, "/p", "y"), "OK", "b5: dom5 writes");
    mc_call(&d0, XS_SET_PERMS, 0, "/p", "r0", "n5", NULL);
    is_str(R(&d6, "/p"), "y", "r0: every other domain reads");
    is_str(W(&d6, "/p", "z"), "EACCES", "r0: but may not write");
    is_str(R(&d5, "/p"), "EACCES", "n5 entry overrides the default");
    is_str(R(&d0, "/p"), "y", "dom0 reads regardless");
    is_str(R(&d6, "/p/missing"), "ENOENT",
           "missing below a readable node: ENOENT");
    is_str(R(&d5, "/p/missing"), "EACCES",
           "missing below an unreadable node: EACCES, existence hidden");
    is_str(mc_call(&d6, XS_RM, 0, "/p/missing", NULL), "EACCES",
           "RM of a missing node below an unwritable one: EACCES");
    is_str(mc_call(&d0, XS_RM, 0, "/p/missing", NULL), "OK",
           "...while dom0 gets OK");

    /* Ownership. */
    mc_call(&d0, XS_SET_PERMS, 0, "/p", "n5", NULL);
    is_str(R(&d5, "/p"), "y", "owner reads");
    is_str(W(&d5, "/p", "o"), "OK", "owner writes");
    is_str(R(&d6, "/p"), "EACCES", "non-owner with n default");
    is_str(mc_call(&d5, XS_SET_PERMS, 0, "/p", "n5", "r6", NULL), "OK",
           "owner changes the ACL");
    is_str(R(&d6, "/p"), "o", "...and dom6 reads");
    is_str(mc_call(&d5, XS_SET_PERMS, 0, "/p", "n6", NULL), "EPERM",
           "owner may not give the node away");
    is_str(mc_call(&d6, XS_SET_PERMS, 0, "/p", "n6", NULL), "EACCES",
           "reader may not change permissions");
    is_str(mc_call(&d0, XS_SET_PERMS, 0, "/p", "x5", NULL), "EINVAL",
           "bad permission letter");
    is_str(mc_call(&d0, XS_SET_PERMS, 0, "/p", "r", NULL), "EINVAL",
           "permission without domid");
    is_str(mc_call(&d0, XS_SET_PERMS, 0, "/p", NULL), "EINVAL",
           "SET_PERMS without permissions");
    is_str(mc_call(&d0, XS_SET_PERMS, 0, "/nope", "n0", NULL), "ENOENT",
           "SET_PERMS on a missing node");

    /* Creation by an unprivileged domain: inherits, owner replaced. */
    W(&d0, "/shared", "");
    mc_call(&d0, XS_SET_PERMS, 0, "/shared", "n0", "w5", NULL);
    is_str(W(&d5, "/shared/mine/leaf", "v"), "OK",
           "dom5 creates below a node it may write");
    mc_call(&d0, XS_GET_PERMS, 0, "/shared/mine/leaf", NULL);
    is_str(bars(), "n5|w5|", "new nodes: parent's perms, dom5 owner");
    is_str(R(&d5, "/shared/mine/leaf"), "v", "dom5 reads what it owns");
    is_str(W(&d6, "/shared/x", "v"), "EACCES",
           "dom6 may not create under /shared");
    is_str(W(&d5, "/other/x", "v"), "EACCES", "dom5 may not create under /");
    W(&d0, "/dom0made/x", "");
    mc_call(&d0, XS_GET_PERMS, 0, "/dom0made/x", NULL);
    is_str(bars(), "n0|", "dom0 keeps the inherited owner");

    /* Relative paths of a domain. */
    W(&d0, "/local/domain/5", "");
    mc_call(&d0, XS_SET_PERMS, 0, "/local/domain/5", "n5", NULL);
    is_str(W(&d5, "data/x", "rel"), "OK", "relative write by dom5");
    is_str(R(&d0, "/local/domain/5/data/x"), "rel",
           "...lands under /local/domain/5");

    /* Privileged operations. */
    is_str(mc_call(&d5, XS_INTRODUCE, 0, "9", "1", "1", NULL), "EACCES",
           "INTRODUCE from a domain: EACCES");
    is_str(mc_call(&d5, XS_RELEASE, 0, "6", NULL), "EACCES",
           "RELEASE from a domain: EACCES");
    is_str(mc_call(&d5, XS_CONTROL, 0, "print", "x", NULL), "EACCES",
           "CONTROL from a domain: EACCES");
    is_str(mc_call(&d5, XS_SET_TARGET, 0, "5", "7", NULL), "EACCES",
           "SET_TARGET from a domain: EACCES");
    is_str(mc_call(&d5, XS_GET_DOMAIN_PATH, 0, "5", NULL), "/local/domain/5",
           "GET_DOMAIN_PATH is for everyone");

    /* SET_TARGET: dom5 gets dom7's rights. */
    W(&d0, "/t7", "of seven");
    mc_call(&d0, XS_SET_PERMS, 0, "/t7", "n7", NULL);
    is_str(R(&d5, "/t7"), "EACCES", "before SET_TARGET: no access");
    is_str(mc_call(&d0, XS_SET_TARGET, 0, "5", "7", NULL), "OK",
           "SET_TARGET 5 7");
    is_str(R(&d5, "/t7"), "of seven", "dom5 acts as its target's owner");
    is_str(W(&d5, "/t7", "changed"), "OK", "...and writes");
    is_str(R(&d6, "/t7"), "EACCES", "dom6 still has no access");
    is_str(mc_call(&d0, XS_SET_TARGET, 0, "5", "99", NULL), "ENOENT",
           "SET_TARGET to an unknown domain");
}

static void test_transactions(void)
{
    char tx[16], tx2[16];
    uint32_t t1, t2;

    reset_store();
    W(&d0, "/a", "1");
    W(&d0, "/b", "2");
    snprintf(tx, sizeof(tx), "%s",
             mc_call(&d0, XS_TRANSACTION_START, 0, "", NULL));
    t1 = (uint32_t)atoi(tx);
    ok(t1 > 0, "TRANSACTION_START returns an id (%s)", tx);
    is_int(mc_last.hdr.len, (long long)strlen(tx) + 1, "id is NUL-terminated");
    is_str(TW(&d0, t1, "/a", "in-tx"), "OK", "write in the transaction");
    is_int(mc_last.hdr.tx_id, t1, "reply echoes tx_id");
    is_str(TR(&d0, t1, "/a"), "in-tx", "transaction sees its write");
    is_str(R(&d0, "/a"), "1", "others do not see it before commit");
    is_str(TW(&d0, t1, "/n/new", "x"), "OK", "create in the transaction");
    is_str(R(&d0, "/n/new"), "ENOENT", "not visible outside");
    is_str(mc_call(&d0, XS_TRANSACTION_END, t1, "T", NULL), "OK", "commit");
    is_str(R(&d0, "/a"), "in-tx", "committed value visible");
    is_str(R(&d0, "/n/new"), "x", "committed creation visible");
    is_str(TR(&d0, t1, "/a"), "ENOENT", "ended transaction id: ENOENT");

    /* Abort. */
    t1 = (uint32_t)atoi(mc_call(&d0, XS_TRANSACTION_START, 0, "", NULL));
    TW(&d0, t1, "/a", "aborted");
    mc_call(&d0, XS_RM, t1, "/b", NULL);
    is_str(mc_call(&d0, XS_TRANSACTION_END, t1, "F", NULL), "OK", "abort");
    is_str(R(&d0, "/a"), "in-tx", "aborted write discarded");
    is_str(R(&d0, "/b"), "2", "aborted RM discarded");

    /* Snapshot isolation: a later outside write is not seen inside. */
    t1 = (uint32_t)atoi(mc_call(&d0, XS_TRANSACTION_START, 0, "", NULL));
    W(&d5.conn ? &d0 : &d0, "/b", "outside");
    is_str(TR(&d0, t1, "/b"), "2", "transaction reads its snapshot");
    mc_call(&d0, XS_TRANSACTION_END, t1, "F", NULL);

    /* Example 1: no overlap -> commit succeeds. */
    W(&d0, "/a", "1");
    W(&d0, "/b", "2");
    t1 = (uint32_t)atoi(mc_call(&d0, XS_TRANSACTION_START, 0, "", NULL));
    TR(&d0, t1, "/a");
    TW(&d0, t1, "/b", "3");
    W(&d6.conn ? &d0 : &d0, "/c", "x");
    is_str(mc_call(&d0, XS_TRANSACTION_END, t1, "T", NULL), "OK",
           "example 1: unrelated outside change, commit OK");
    is_str(R(&d0, "/b"), "3", "example 1: value committed");

    /* Example 2: read node changed outside -> EAGAIN. */
    t1 = (uint32_t)atoi(mc_call(&d0, XS_TRANSACTION_START, 0, "", NULL));
    TR(&d0, t1, "/a");
    W(&d0, "/a", "1"); /* same value still counts as a change */
    TW(&d0, t1, "/b", "lost");
    is_str(mc_call(&d0, XS_TRANSACTION_END, t1, "T", NULL), "EAGAIN",
           "example 2: node read was rewritten: EAGAIN");
    is_str(R(&d0, "/b"), "3", "example 2: nothing applied");

    /* Example 3: two writers of the same node, second loses. */
    snprintf(tx, sizeof(tx), "%s",
             mc_call(&d0, XS_TRANSACTION_START, 0, "", NULL));
    snprintf(tx2, sizeof(tx2), "%s",
             mc_call(&d5, XS_TRANSACTION_START, 0, "", NULL));
    t1 = (uint32_t)atoi(tx);
    t2 = (uint32_t)atoi(tx2);
    W(&d0, "/w", "");
    mc_call(&d0, XS_SET_PERMS, 0, "/a", "b5", NULL);
    mc_call(&d5, XS_TRANSACTION_END, t2, "F", NULL);
    t2 = (uint32_t)atoi(mc_call(&d5, XS_TRANSACTION_START, 0, "", NULL));
    mc_call(&d0, XS_TRANSACTION_END, t1, "F", NULL);
    t1 = (uint32_t)atoi(mc_call(&d0, XS_TRANSACTION_START, 0, "", NULL));
    TR(&d0, t1, "/a");
    TR(&d5, t2, "/a");
    TW(&d0, t1, "/a", "first");
    TW(&d5, t2, "/a", "second");
    is_str(mc_call(&d0, XS_TRANSACTION_END, t1, "T", NULL), "OK",
           "example 3: first committer wins");
    is_str(mc_call(&d5, XS_TRANSACTION_END, t2, "T", NULL), "EAGAIN",
           "example 3: second committer gets EAGAIN");
    is_str(R(&d0, "/a"), "first", "example 3: no lost update");

    /* Example 4: absence read, then created outside. */
    t1 = (uint32_t)atoi(mc_call(&d0, XS_TRANSACTION_START, 0, "", NULL));
    is_str(TR(&d0, t1, "/new4"), "ENOENT", "example 4: absent in snapshot");
    W(&d0, "/new4", "appeared");
    TW(&d0, t1, "/other4", "x");
    is_str(mc_call(&d0, XS_TRANSACTION_END, t1, "T", NULL), "EAGAIN",
           "example 4: node created outside: EAGAIN");

    /* Example 5: two creations under the same parent. */
    t1 = (uint32_t)atoi(mc_call(&d0, XS_TRANSACTION_START, 0, "", NULL));
    TW(&d0, t1, "/d/e", "x");
    W(&d0, "/f", "y");
    is_str(mc_call(&d0, XS_TRANSACTION_END, t1, "T", NULL), "EAGAIN",
           "example 5: parent's children changed: EAGAIN");
    is_str(R(&d0, "/d"), "ENOENT", "example 5: /d not created");

    /* Example 6: removal of a subtree changed outside. */
    W(&d0, "/s/x", "1");
    t1 = (uint32_t)atoi(mc_call(&d0, XS_TRANSACTION_START, 0, "", NULL));
    mc_call(&d0, XS_RM, t1, "/s", NULL);
    W(&d0, "/s/x", "2");
    is_str(mc_call(&d0, XS_TRANSACTION_END, t1, "T", NULL), "EAGAIN",
           "example 6: subtree changed under a RM: EAGAIN");
    is_str(R(&d0, "/s/x"), "2", "example 6: subtree kept");
    t1 = (uint32_t)atoi(mc_call(&d0, XS_TRANSACTION_START, 0, "", NULL));
    mc_call(&d0, XS_RM, t1, "/s", NULL);
    is_str(TR(&d0, t1, "/s/x"), "ENOENT", "RM inside: gone in the snapshot");
    is_str(mc_call(&d0, XS_TRANSACTION_END, t1, "T", NULL), "OK",
           "RM commit without conflict");
    is_str(R(&d0, "/s"), "ENOENT", "subtree removed at commit");

    /* Perms set inside a transaction are committed. */
    t1 = (uint32_t)atoi(mc_call(&d0, XS_TRANSACTION_START, 0, "", NULL));
    TW(&d0, t1, "/pp", "v");
    mc_call(&d0, XS_SET_PERMS, t1, "/pp", "n0", "r6", NULL);
    mc_call(&d0, XS_TRANSACTION_END, t1, "T", NULL);
    mc_call(&d0, XS_GET_PERMS, 0, "/pp", NULL);
    is_str(bars(), "n0|r6|", "permissions set in a transaction committed");

    /* Protocol errors. */
    is_str(mc_call(&d0, XS_TRANSACTION_END, 0, "T", NULL), "ENOENT",
           "TRANSACTION_END without a transaction");
    is_str(mc_call(&d0, XS_READ, 4242, "/a", NULL), "ENOENT",
           "unknown tx_id: ENOENT");
    t1 = (uint32_t)atoi(mc_call(&d0, XS_TRANSACTION_START, 0, "", NULL));
    is_str(mc_call(&d0, XS_TRANSACTION_START, t1, "", NULL), "EBUSY",
           "nested TRANSACTION_START: EBUSY");
    is_str(mc_call(&d0, XS_TRANSACTION_END, t1, "X", NULL), "EINVAL",
           "TRANSACTION_END with neither T nor F");
    is_str(mc_call(&d6, XS_TRANSACTION_END, t1, "F", NULL), "ENOENT",
           "another connection's transaction id: ENOENT");
    is_str(mc_call(&d0, XS_TRANSACTION_END, t1, "F", NULL), "OK",
           "still open after the bad END");
    is_str(mc_call(&d0, XS_GET_DOMAIN_PATH, 999, "3", NULL), "/local/domain/3",
           "tx_id ignored by non-transaction requests");
    is_int(mc_last.hdr.tx_id, 999, "...but echoed");
}

static void test_watches(void)
{
    uint32_t t1;

    reset_store();
    is_str(mc_call(&d0, XS_WATCH, 0, "/w", "tok", NULL), "OK", "WATCH");
    is_str(mc_event(&d0), "/w tok", "initial event on registration");
    is_int(mc_last.hdr.req_id, d0.next_req - 1, "WATCH reply req_id");
    is_str(mc_event(&d0), "(none)", "only one initial event");
    W(&d0, "/w", "1");
    is_str(mc_event(&d0), "/w tok", "write of the node fires");
    W(&d0, "/w/deep/er", "1");
    is_str(mc_event(&d0), "/w/deep/er tok", "write below fires with its path");
    W(&d0, "/wx", "1");
    is_str(mc_event(&d0), "(none)", "sibling with a common prefix: no fire");
    W(&d0, "/", "");
    is_str(mc_event(&d0), "(none)", "parent change: no fire");
    mc_call(&d0, XS_SET_PERMS, 0, "/w", "n0", "r5", NULL);
    is_str(mc_event(&d0), "/w tok", "SET_PERMS fires");
    mc_call(&d0, XS_MKDIR, 0, "/w/m", NULL);
    is_str(mc_event(&d0), "/w/m tok", "MKDIR fires");
    is_str(mc_call(&d0, XS_WATCH, 0, "/w", "tok", NULL), "EEXIST",
           "duplicate watch: EEXIST");
    is_str(mc_call(&d0, XS_WATCH, 0, "/w/deep/er", "t2", NULL), "OK",
           "second watch below");
    mc_drain_events(&d0);
    mc_call(&d0, XS_RM, 0, "/w/deep", NULL);
    {
        const char *e1 = mc_event(&d0);
        char s1[256];
        const char *e2;

        snprintf(s1, sizeof(s1), "%s", e1);
        e2 = mc_event(&d0);
        ok((strcmp(s1, "/w/deep/er t2") == 0 &&
            strcmp(e2, "/w/deep tok") == 0) ||
               (strcmp(s1, "/w/deep tok") == 0 &&
                strcmp(e2, "/w/deep/er t2") == 0),
           "RM fires above (removed path) and below (own path)");
    }
    is_str(mc_call(&d0, XS_UNWATCH, 0, "/w/deep/er", "t2", NULL), "OK",
           "UNWATCH");
    is_str(mc_call(&d0, XS_UNWATCH, 0, "/w/deep/er", "t2", NULL), "ENOENT",
           "UNWATCH of an unknown watch: ENOENT");
    W(&d0, "/w/deep/er", "x");
    is_str(mc_event(&d0), "/w/deep/er tok", "removed watch silent");
    is_str(mc_event(&d0), "(none)", "...only the remaining one fired");
    is_str(mc_call(&d0, XS_WATCH, 0, "/bad path", "t", NULL), "EINVAL",
           "WATCH on a bad path");
    is_str(mc_call(&d0, XS_WATCH, 0, "/only-one-arg", NULL), "EINVAL",
           "WATCH without token");

    /* Events from another connection's change, and permission filter. */
    mc_call(&d5, XS_WATCH, 0, "/w", "five", NULL);
    mc_call(&d6, XS_WATCH, 0, "/w", "six", NULL);
    mc_drain_events(&d5);
    mc_drain_events(&d6);
    W(&d0, "/w", "2");
    is_str(mc_event(&d5), "/w five", "dom5 (r5) sees a change by dom0");
    is_str(mc_event(&d6), "(none)", "dom6 (no read access) does not");

    /* Relative watch. */
    W(&d0, "/local/domain/5", "");
    mc_call(&d0, XS_SET_PERMS, 0, "/local/domain/5", "n5", NULL);
    mc_call(&d5, XS_WATCH, 0, "device", "rel", NULL);
    is_str(mc_event(&d5), "device rel", "relative watch: relative initial");
    W(&d0, "/local/domain/5/device/vif", "x");
    is_str(mc_event(&d5), "device/vif rel", "relative watch: relative path");

    /* Watches fire at commit, not before. */
    mc_drain_events(&d0);
    t1 = (uint32_t)atoi(mc_call(&d0, XS_TRANSACTION_START, 0, "", NULL));
    TW(&d0, t1, "/w/t", "1");
    is_str(mc_event(&d0), "(none)", "no event while the transaction runs");
    mc_call(&d0, XS_TRANSACTION_END, t1, "T", NULL);
    is_str(mc_event(&d0), "/w/t tok", "event at commit");
    t1 = (uint32_t)atoi(mc_call(&d0, XS_TRANSACTION_START, 0, "", NULL));
    TW(&d0, t1, "/w/t", "2");
    mc_call(&d0, XS_TRANSACTION_END, t1, "F", NULL);
    is_str(mc_event(&d0), "(none)", "no event for an aborted transaction");

    /* Special watches. */
    mc_call(&d0, XS_WATCH, 0, "@introduceDomain", "intro", NULL);
    mc_call(&d0, XS_WATCH, 0, "@releaseDomain", "rel", NULL);
    mc_drain_events(&d0);
    W(&d0, "/anything", "");
    is_str(mc_event(&d0), "(none)", "special watches ignore node changes");
    mc_open(&store, &d9, 9);
    xs_domain_attach_conn(&store, 9, d9.conn);
    is_str(mc_event(&d0), "@introduceDomain intro",
           "@introduceDomain fires on introduction");
    mc_call(&d0, XS_IS_DOMAIN_INTRODUCED, 0, "9", NULL);
    is_str(mc_last.data, "T", "IS_DOMAIN_INTRODUCED 9: T");
    is_str(mc_call(&d0, XS_IS_DOMAIN_INTRODUCED, 0, "10", NULL), "F",
           "IS_DOMAIN_INTRODUCED 10: F");
    is_str(mc_call(&d0, XS_RESUME, 0, "9", NULL), "OK", "RESUME known domain");
    is_str(mc_call(&d0, XS_RESUME, 0, "10", NULL), "ENOENT",
           "RESUME unknown domain");
    is_str(mc_call(&d0, XS_RELEASE, 0, "9", NULL), "OK", "RELEASE");
    is_str(mc_event(&d0), "@releaseDomain rel", "@releaseDomain fires");
    is_str(mc_call(&d0, XS_IS_DOMAIN_INTRODUCED, 0, "9", NULL), "F",
           "released domain is gone");
    is_str(mc_call(&d0, XS_RELEASE, 0, "9", NULL), "ENOENT",
           "RELEASE of an unknown domain");
    /* A released domain's watches go with it. */
    mc_call(&d7, XS_WATCH, 0, "/", "seven", NULL);
    mc_call(&d0, XS_RELEASE, 0, "7", NULL);
    xs_store_reap(&store);
    ok(d7.conn == NULL, "RELEASE drops the domain's connection");
    W(&d0, "/after", "");
    is_str(mc_event(&d7), "/ seven", "only the initial event reached dom7");

    /* Special paths have permissions: n0 keeps their events for dom0. */
    mc_call(&d5, XS_WATCH, 0, "@introduceDomain", "i5", NULL);
    mc_call(&d6, XS_WATCH, 0, "@introduceDomain", "i6", NULL);
    mc_drain_events(&d5);
    mc_drain_events(&d6);
    mc_call(&d0, XS_GET_PERMS, 0, "@introduceDomain", NULL);
    is_str(bars(), "n0|", "GET_PERMS @introduceDomain: n0");
    is_str(mc_call(&d0, XS_SET_PERMS, 0, "@introduceDomain", "n0", "r5", NULL),
           "OK", "SET_PERMS @introduceDomain n0 r5");
    mc_call(&d0, XS_GET_PERMS, 0, "@introduceDomain", NULL);
    is_str(bars(), "n0|r5|", "...read back");
    mc_open(&store, &d8, 8);
    xs_domain_attach_conn(&store, 8, d8.conn);
    is_str(mc_event(&d5), "@introduceDomain i5", "dom5 (r5) gets the event");
    is_str(mc_event(&d6), "(none)", "dom6 does not");
    is_str(mc_call(&d5, XS_SET_PERMS, 0, "@introduceDomain", "n0", "r6", NULL),
           "EACCES", "a domain may not change a special path's perms");
    is_str(mc_call(&d6, XS_GET_PERMS, 0, "@releaseDomain", NULL), "EACCES",
           "nor read them without access");
    is_str(mc_call(&d0, XS_GET_PERMS, 0, "@bogus", NULL), "ENOENT",
           "unknown special path: ENOENT");

    is_str(mc_call(&d0, XS_RESET_WATCHES, 0, "", NULL), "OK", "RESET_WATCHES");
    mc_drain_events(&d0);
    W(&d0, "/w", "3");
    is_str(mc_event(&d0), "(none)", "no watches after RESET_WATCHES");
}

/* Domain deaths: orphaned nodes, VIRQ_DOM_EXC's domain list. */
static void test_domain_life(void)
{
    static struct mc d11, d12, d13;
    xc_domaininfo_t info[2];

    reset_store();
    W(&d0, "/o7/a/b", "x");
    mc_call(&d0, XS_SET_PERMS, 0, "/o7", "n7", NULL);
    W(&d0, "/keep/sub", "x");
    mc_call(&d0, XS_SET_PERMS, 0, "/keep/sub", "n7", NULL);
    mc_call(&d0, XS_WATCH, 0, "/o7/a/b", "orph", NULL);
    mc_drain_events(&d0);
    is_str(mc_call(&d0, XS_RELEASE, 0, "7", NULL), "OK", "RELEASE 7");
    is_str(R(&d0, "/o7/a/b"), "ENOENT", "nodes owned by 7 removed");
    is_str(R(&d0, "/o7"), "ENOENT", "...with the subtree's root");
    is_str(R(&d0, "/keep/sub"), "ENOENT", "owned node below dom0's removed");
    is_str(R(&d0, "/keep"), "", "dom0's node stays");
    is_str(mc_event(&d0), "/o7/a/b orph", "watch in a removed subtree fires");

    mc_open(&store, &d11, 11);
    mc_open(&store, &d12, 12);
    mc_open(&store, &d13, 13);
    xs_domain_attach_conn(&store, 11, d11.conn);
    xs_domain_attach_conn(&store, 12, d12.conn);
    xs_domain_attach_conn(&store, 13, d13.conn);
    is_str(mc_call(&d0, XS_INTRODUCE, 0, "11", "0", "4", NULL), "OK",
           "INTRODUCE again with the same page: OK");
    is_str(mc_call(&d0, XS_INTRODUCE, 0, "11", "77", "4", NULL), "EINVAL",
           "INTRODUCE again with another page: EINVAL");
    mc_call(&d0, XS_WATCH, 0, "@releaseDomain", "rel", NULL);
    mc_drain_events(&d0);
    memset(info, 0, sizeof(info));
    info[0].domain = 11;
    info[0].flags = XEN_DOMINF_running;
    info[1].domain = 12;
    info[1].flags = XEN_DOMINF_shutdown;
    /* 5, 6 and 13 are not in the list: gone. */
    xs_domain_check_infos(&store, info, 2);
    is_str(mc_call(&d0, XS_IS_DOMAIN_INTRODUCED, 0, "13", NULL), "F",
           "a domain missing from the list is released");
    is_str(mc_call(&d0, XS_IS_DOMAIN_INTRODUCED, 0, "12", NULL), "T",
           "a shut-down domain stays introduced");
    is_str(mc_call(&d0, XS_IS_DOMAIN_INTRODUCED, 0, "11", NULL), "T",
           "a running domain stays");
    is_str(mc_event(&d0), "@releaseDomain rel", "@releaseDomain fired");
    mc_drain_events(&d0);
    xs_domain_check_infos(&store, info, 2);
    is_str(mc_event(&d0), "(none)", "the same shutdown fires only once");
    mc_call(&d0, XS_RESUME, 0, "12", NULL);
    xs_domain_check_infos(&store, info, 2);
    is_str(mc_event(&d0), "@releaseDomain rel",
           "after RESUME a new shutdown fires again");
    info[1].flags |= XEN_DOMINF_dying;
    xs_domain_check_infos(&store, info, 2);
    is_str(mc_call(&d0, XS_IS_DOMAIN_INTRODUCED, 0, "12", NULL), "F",
           "a dying domain is released");
    xs_store_reap(&store);
    ok(d12.conn == NULL && d13.conn == NULL, "their connections are gone");
    free(d11.msgs);
    free(d12.msgs);
    free(d13.msgs);
}

static void test_quotas(void)
{
    char path[64], tok[16];
    unsigned int i, okcount = 0;
    char big[3000];
    const char *r;

    reset_store();
    store.quota.nodes = 10;
    W(&d0, "/local/domain/5", "");
    mc_call(&d0, XS_SET_PERMS, 0, "/local/domain/5", "n5", NULL);
    /* dom5 owns /local/domain/5 already: 9 more nodes fit. */
    for (i = 0; i < 12; i++) {
        snprintf(path, sizeof(path), "n%u", i);
        r = W(&d5, path, "x");
        if (strcmp(r, "OK") == 0)
            okcount++;
        else
            break;
    }
    is_int(okcount, 9, "node quota: 10 nodes owned in all");
    is_str(r, "ENOSPC", "node over quota: ENOSPC");
    is_str(W(&d5, "n0", "rewrite"), "OK", "rewriting an owned node is fine");
    is_str(W(&d0, "/local/domain/5/by-dom0", "x"), "OK", "dom0 is not limited");
    is_str(W(&d5, "a/b", "x"), "ENOSPC",
           "implicit parents count against the quota");

    memset(big, 'v', sizeof(big));
    big[2048] = '\0';
    is_str(W(&d5, "n0", big), "OK", "value of 2048 bytes fits");
    big[2048] = 'v';
    big[2049] = '\0';
    is_str(W(&d5, "n0", big), "ENOSPC", "value of 2049 bytes: ENOSPC");
    is_str(W(&d0, "/big", big), "OK", "dom0 may write big values");

    for (i = 0; i < 128; i++) {
        snprintf(tok, sizeof(tok), "t%u", i);
        if (strcmp(mc_call(&d6, XS_WATCH, 0, "/", tok, NULL), "OK"))
            break;
    }
    is_int(i, 128, "128 watches allowed");
    is_str(mc_call(&d6, XS_WATCH, 0, "/", "one-more", NULL), "ENOSPC",
           "watch 129: ENOSPC");
    mc_drain_events(&d6);
    mc_call(&d6, XS_RESET_WATCHES, 0, "", NULL);

    for (i = 0; i < 10; i++) {
        if (atoi(mc_call(&d6, XS_TRANSACTION_START, 0, "", NULL)) <= 0)
            break;
    }
    is_int(i, 10, "10 transactions allowed");
    is_str(mc_call(&d6, XS_TRANSACTION_START, 0, "", NULL), "ENOSPC",
           "transaction 11: ENOSPC");
    for (i = 0; i < 12; i++)
        mc_call(&d0, XS_TRANSACTION_START, 0, "", NULL);
    ok(atoi(mc_last.data) > 0, "dom0 opens more than 10 transactions");

    is_str(mc_call(&d5, XS_SET_PERMS, 0, "/local/domain/5", "n5", "r1", "r2",
                   "r3", "r4", "r6", NULL),
           "ENOSPC", "6 permission entries from a domain: ENOSPC");
    is_str(mc_call(&d5, XS_SET_PERMS, 0, "/local/domain/5", "n5", "r1", "r2",
                   "r3", "r4", NULL),
           "OK", "5 entries fit");

    /* Outstanding replies: a stalled reader stops being served. */
    d7.blocked = true;
    for (i = 0; i < 30; i++)
        mc_send(&d7, XS_GET_DOMAIN_PATH, 0, "1", 2);
    is_int(d7.conn->out_count, 20, "20 replies queued, input stalls");
    d7.blocked = false;
    mc_process(&d7);
    is_int(d7.nmsgs, 30, "all 30 answered once the reader drains");

    /*
     * Fairness: one call handles at most XS_CONN_BUDGET requests and says
     * more may wait; the daemon's loop serves the others meanwhile.
     */
    d7.nmsgs = 0;
    {
        struct xsd_sockmsg h = {XS_GET_DOMAIN_PATH, 1, 0, 2};
        unsigned char buf[12 * (sizeof(h) + 2)];

        for (i = 0; i < 12; i++) {
            memcpy(buf + i * (sizeof(h) + 2), &h, sizeof(h));
            memcpy(buf + i * (sizeof(h) + 2) + sizeof(h), "1", 2);
        }
        memcpy(d7.in, buf, sizeof(buf));
        d7.in_len = sizeof(buf);
        xs_conn_process(d7.conn);
        ok(d7.nmsgs == XS_CONN_BUDGET && d7.conn->more_input,
           "one call handles %u of 12 pipelined requests, more_input set",
           d7.nmsgs);
        xs_conn_process(d7.conn);
        ok(d7.nmsgs == 12 && !d7.conn->more_input,
           "the next call handles the other 4 (%u), more_input clear",
           d7.nmsgs);
        d7.nmsgs = 0;
    }

    /* Domain 0's sockets stall too: replies cannot pile up without bound. */
    d0.blocked = true;
    for (i = 0; i < 30; i++)
        mc_send(&d0, XS_GET_DOMAIN_PATH, 0, "1", 2);
    is_int(d0.conn->out_count, 20, "dom0: 20 replies queued, input stalls");
    d0.blocked = false;
    mc_process(&d0);
    is_int(d0.nmsgs, 30, "dom0: all 30 answered once it reads");
    d0.nmsgs = 0;

    /* A domain that never reads its events cannot make us queue forever. */
    W(&d0, "/flood", "");
    mc_call(&d0, XS_SET_PERMS, 0, "/flood", "n0", "r6", NULL);
    mc_call(&d6, XS_WATCH, 0, "/flood", "flood", NULL);
    mc_drain_events(&d6);
    d6.blocked = true;
    for (i = 0; i < 1500; i++)
        W(&d0, "/flood", "x");
    ok(d6.conn->out_count == store.quota.outstanding + XS_WATCH_EVENT_BACKLOG,
       "unread watch events capped at %u (outstanding + backlog)",
       d6.conn->out_count);
    d6.blocked = false;
    mc_process(&d6);
    mc_drain_events(&d6);
    W(&d0, "/flood", "y");
    is_str(mc_event(&d6), "/flood flood", "events flow again once drained");
    W(&d0, "/flood", "z");
    for (i = 0; i < 1500; i++)
        W(&d0, "/flood", "x");
    mc_drain_events(&d6);
    ok(d0.conn->out_count == 0, "dom0 unaffected");

    /* A socket client of dom0 that never reads its events is dropped. */
    mc_open(&store, &d0w, 0);
    mc_call(&d0w, XS_WATCH, 0, "/flood", "w0", NULL);
    d0w.blocked = true;
    for (i = 0; i < 1100 && d0w.conn; i++)
        W(&d0, "/flood", "x");
    ok(d0w.conn == NULL,
       "dom0 client not reading its events: dropped after "
       "%u writes",
       i);
    free(d0w.msgs);
    d0w.msgs = NULL;

    /* CONTROL quota. */
    is_str(mc_call(&d0, XS_CONTROL, 0, "quota", "watches", "2", NULL), "OK",
           "CONTROL quota watches 2");
    is_int(store.quota.watches, 2, "quota changed");
    mc_call(&d0, XS_CONTROL, 0, "quota", NULL);
    ok(strstr(mc_last.data, "watches") && strstr(mc_last.data, " 2\n"),
       "CONTROL quota lists the limits");
    is_str(mc_call(&d0, XS_CONTROL, 0, "quota", "bogus", "2", NULL), "EINVAL",
           "CONTROL quota with an unknown name");
    is_str(mc_call(&d0, XS_CONTROL, 0, "quota", "nodes", "-1", NULL), "EINVAL",
           "CONTROL quota with a bad number");
    is_str(mc_call(&d0, XS_CONTROL, 0, "log", "on", NULL), "OK",
           "CONTROL log on");
    ok(store.trace, "tracing on");
    is_str(mc_call(&d0, XS_CONTROL, 0, "log", "off", NULL), "OK",
           "CONTROL log off");
    is_str(mc_call(&d0, XS_CONTROL, 0, "print", "hello from test", NULL), "OK",
           "CONTROL print");
    is_str(mc_call(&d0, XS_CONTROL, 0, "frobnicate", NULL), "EINVAL",
           "unknown CONTROL command");
}

static void test_bad_input(void)
{
    struct xsd_sockmsg hdr = {XS_READ, 77, 0, 3};
    unsigned char buf[64];

    reset_store();
    W(&d0, "/a", "1");
    is_str(mc_call(&d0, 9999, 0, "/a", NULL), "EINVAL", "unknown type: EINVAL");
    is_str(mc_call(&d0, XS_ERROR, 0, "EINVAL", NULL), "EINVAL",
           "client-sent ERROR: EINVAL");
    is_str(mc_call(&d0, XS_WATCH_EVENT, 0, "/a", "t", NULL), "EINVAL",
           "client-sent WATCH_EVENT: EINVAL");
    is_str(mc_call(&d0, 20 /* removed XS_RESTRICT */, 0, "1", NULL), "EINVAL",
           "removed RESTRICT: EINVAL");
    mc_send(&d0, XS_READ, 0, "/a", 2);
    mc_pop(&d0, false, &mc_last);
    is_str(mc_last.data, "EINVAL", "path without its NUL: EINVAL");
    mc_send(&d0, XS_READ, 0, "/a\0/b", 6);
    mc_pop(&d0, false, &mc_last);
    is_str(mc_last.data, "EINVAL", "two strings for one argument: EINVAL");
    mc_send(&d0, XS_READ, 0, "", 0);
    mc_pop(&d0, false, &mc_last);
    is_str(mc_last.data, "EINVAL", "empty payload: EINVAL");
    mc_send(&d0, XS_WRITE, 0, "/nonul", 6);
    mc_pop(&d0, false, &mc_last);
    is_str(mc_last.data, "EINVAL", "WRITE without path terminator: EINVAL");
    is_str(mc_call(&d0, XS_INTRODUCE, 0, "5", "x", "1", NULL), "EINVAL",
           "INTRODUCE with a bad gfn");
    is_str(mc_call(&d0, XS_INTRODUCE, 0, "12", "4096", "3", NULL), "EINVAL",
           "INTRODUCE without xen-hv: EINVAL");

    /* Split delivery: header in two pieces, payload later. */
    memcpy(buf, &hdr, sizeof(hdr));
    memcpy(buf + sizeof(hdr), "/a\0", 3);
    mc_push(&d0, buf, 5);
    is_int(d0.nmsgs, 0, "partial header: nothing answered");
    mc_push(&d0, buf + 5, sizeof(hdr) - 5 + 2);
    is_int(d0.nmsgs, 0, "partial payload: nothing answered");
    mc_push(&d0, buf + sizeof(hdr) + 2, 1);
    mc_pop(&d0, false, &mc_last);
    ok(mc_last.hdr.req_id == 77 && strcmp(mc_last.data, "1") == 0,
       "request reassembled from pieces");

    /* Pipelined requests answered in order. */
    {
        unsigned char many[8 * 24];
        size_t off = 0;
        unsigned int i;
        bool inorder = true;

        for (i = 0; i < 8; i++) {
            struct xsd_sockmsg h = {XS_READ, 100 + i, 0, 3};

            memcpy(many + off, &h, sizeof(h));
            memcpy(many + off + sizeof(h), "/a\0", 3);
            off += sizeof(h) + 3;
        }
        mc_push(&d0, many, off);
        for (i = 0; i < 8; i++) {
            if (!mc_pop(&d0, false, &mc_last) || mc_last.hdr.req_id != 100 + i)
                inorder = false;
        }
        ok(inorder, "8 pipelined requests answered in order");
    }

    /* Oversized payload: the connection is dropped. */
    hdr.len = XENSTORE_PAYLOAD_MAX + 1;
    mc_push(&d5, &hdr, sizeof(hdr));
    ok(d5.conn == NULL, "payload > XENSTORE_PAYLOAD_MAX drops the connection");
    is_str(R(&d0, "/a"), "1", "other connections keep working");

    /* Peer gone mid message. */
    d6.gone = true;
    mc_push(&d6, &hdr, 8);
    ok(d6.conn == NULL, "peer gone mid header: connection freed");
}

int main(void)
{
    xs_store_init(&store);
    test_tree();
    test_perms();
    test_transactions();
    test_watches();
    test_domain_life();
    test_quotas();
    test_bad_input();
    xs_store_fini(&store);
    free(d0.msgs);
    free(d5.msgs);
    free(d6.msgs);
    free(d7.msgs);
    free(d8.msgs);
    free(d9.msgs);
    return tap_done();
}
