/*
 * test_ring.c — xenstored's ring transport (xs_ring.c) against a peer
 * written here: a struct xenstore_domain_interface in ordinary memory, a
 * fake notify hook, the guest side's copying done by hand.  Covers
 * wrap-around, messages larger than the ring both ways, indexes near
 * 2^32, malicious indexes (connection dropped, others unaffected), the
 * reconnection handshake of docs/misc/xenstore-ring.txt.
 */
#include <errno.h>

#include "tap.h"
#include "xs_core.h"

static struct xs_store store;
static struct xenstore_domain_interface ring;
static unsigned int notifies;

static void fake_notify(void *opaque)
{
    (*(unsigned int *)opaque)++;
}

/* Guest side: produce as much of @data as fits; returns bytes written. */
static size_t peer_put(struct xenstore_domain_interface *r, const void *data,
                       size_t len)
{
    size_t done = 0;

    while (done < len && r->req_prod - r->req_cons < XENSTORE_RING_SIZE) {
        r->req[MASK_XENSTORE_IDX(r->req_prod)] = ((const char *)data)[done];
        r->req_prod++;
        done++;
    }
    return done;
}

/* Guest side: consume up to @len response bytes. */
static size_t peer_get(struct xenstore_domain_interface *r, void *buf,
                       size_t len)
{
    size_t done = 0;

    while (done < len && r->rsp_cons != r->rsp_prod) {
        ((char *)buf)[done++] = r->rsp[MASK_XENSTORE_IDX(r->rsp_cons)];
        r->rsp_cons++;
    }
    return done;
}

/*
 * Send one request (pushing it through the ring piece by piece, with the
 * server running after each piece as an event would make it) and collect
 * the reply.  Returns the reply's payload length or -1.
 */
static long roundtrip(struct xs_conn *conn, struct xenstore_domain_interface *r,
                      uint32_t type, uint32_t req_id, const void *payload,
                      size_t len, struct xsd_sockmsg *rhdr, char *rbuf)
{
    static char msg[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
    struct xsd_sockmsg hdr = {type, req_id, 0, (uint32_t)len};
    size_t sent = 0, total = sizeof(hdr) + len, got = 0, want;
    unsigned int spins = 0;

    memcpy(msg, &hdr, sizeof(hdr));
    memcpy(msg + sizeof(hdr), payload, len);
    want = sizeof(*rhdr);
    while (spins++ < 10000) {
        sent += peer_put(r, msg + sent, total - sent);
        xs_conn_process(conn);
        if (conn->dead)
            return -1;
        if (got < sizeof(*rhdr)) {
            got += peer_get(r, (char *)rhdr + got, sizeof(*rhdr) - got);
            if (got == sizeof(*rhdr))
                want = sizeof(*rhdr) + rhdr->len;
        }
        if (got >= sizeof(*rhdr) && got < want)
            got += peer_get(r, rbuf + got - sizeof(*rhdr), want - got);
        if (got >= sizeof(*rhdr) && got == want && sent == total)
            return (long)rhdr->len;
    }
    return -1;
}

static struct xs_conn *ring_open(struct xenstore_domain_interface *r,
                                 uint32_t domid, uint32_t start)
{
    memset(r, 0, sizeof(*r));
    r->req_cons = r->req_prod = r->rsp_cons = r->rsp_prod = start;
    return xs_ring_conn_new(&store, domid, r, fake_notify, &notifies);
}

static void give_domain_dir(uint32_t domid)
{
    struct xs_perm perm = {domid, 'n'};
    struct xs_node *node;
    char path[64];

    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    xs_db_create(store.db, path, XS_DB_INHERIT, NULL, &node);
    xs_db_set_perms(store.db, path, &perm, 1);
}

int main(void)
{
    static char value[2000], rbuf[XENSTORE_PAYLOAD_MAX + 1];
    struct xsd_sockmsg rh;
    struct xs_conn *conn, *other;
    static struct xenstore_domain_interface ring2;
    unsigned int i, good;
    char payload[4200];
    long n;

    tap_plan(34);
    xs_store_init(&store);
    give_domain_dir(3);
    conn = ring_open(&ring, 3, 0);
    is_int(ring.server_features, XENSTORE_SERVER_FEATURE_RECONNECTION,
           "server_features advertises reconnection");
    is_int(ring.connection, XENSTORE_CONNECTED, "connection field 0");

    n = roundtrip(conn, &ring, XS_GET_DOMAIN_PATH, 7, "3", 2, &rh, rbuf);
    rbuf[n > 0 ? n : 0] = '\0';
    ok(n == 16 && strcmp(rbuf, "/local/domain/3") == 0,
       "GET_DOMAIN_PATH over the ring");
    is_int(rh.req_id, 7, "req_id echoed");
    is_int(rh.type, XS_GET_DOMAIN_PATH, "reply type");
    /*
     * One event for the batch: the request consumed and the reply
     * produced (xs_ring.c ring_kick()); the guest sees both indexes moved.
     */
    ok(notifies == 1, "server notified once for consuming and producing (%u)",
       notifies);
    is_int(ring.req_cons, ring.req_prod, "all request bytes consumed");

    n = roundtrip(conn, &ring, XS_WRITE, 8, "name\0dom3", 9, &rh, rbuf);
    is_str(n == 3 ? rbuf : "", "OK", "relative WRITE acts as domain 3");
    ok(xs_db_get(store.db, "/local/domain/3/name") != NULL,
       "node created under /local/domain/3");
    n = roundtrip(conn, &ring, XS_WRITE, 9, "/forbidden\0x", 12, &rh, rbuf);
    is_str(n > 0 ? rbuf : "", "EACCES", "ring requests have domain 3's rights");

    /* Many requests: indexes run round the ring many times. */
    good = 0;
    for (i = 0; i < 300; i++) {
        char p[64];
        int len = snprintf(p, sizeof(p), "k%u", i % 7) + 1;

        len += snprintf(p + len, sizeof(p) - (size_t)len, "value-%u", i);
        n = roundtrip(conn, &ring, XS_WRITE, 100 + i, p, (size_t)len, &rh,
                      rbuf);
        if (n == 3 && rh.req_id == 100 + i && strcmp(rbuf, "OK") == 0)
            good++;
    }
    is_int(good, 300, "300 requests with wrap-around all answered");
    ok(ring.req_prod > 5 * XENSTORE_RING_SIZE, "indexes ran far (%u)",
       ring.req_prod);

    /* A request and a reply larger than the ring. */
    memset(value, 'z', sizeof(value));
    memcpy(payload, "big", 4);
    memcpy(payload + 4, value, sizeof(value));
    n = roundtrip(conn, &ring, XS_WRITE, 1, payload, 4 + sizeof(value), &rh,
                  rbuf);
    is_str(n == 3 ? rbuf : "", "OK", "2004-byte request through a 1 KiB ring");
    n = roundtrip(conn, &ring, XS_READ, 2, "big", 4, &rh, rbuf);
    ok(n == (long)sizeof(value) && memcmp(rbuf, value, sizeof(value)) == 0,
       "2000-byte reply through a 1 KiB ring");

    /* Indexes near 2^32 wrap correctly. */
    other = ring_open(&ring2, 3, 0xfffffff0u);
    n = roundtrip(other, &ring2, XS_READ, 3, "name", 5, &rh, rbuf);
    rbuf[n > 0 ? n : 0] = '\0';
    is_str(rbuf, "dom3", "request across the 2^32 index wrap");
    ok(ring2.req_prod < 0x100 && ring2.rsp_prod < 0x100,
       "indexes wrapped past zero");

    /* Reconnection (xenstore-ring.txt). */
    n = roundtrip(conn, &ring, XS_WATCH, 4, "name\0tok", 9, &rh, rbuf);
    is_str(n == 3 ? rbuf : "", "OK", "watch set before reconnect");
    is_int(conn->nwatches, 1, "one watch");
    peer_put(&ring, "\x02\x00\x00\x00garbage", 11); /* half a request */
    ring.connection = XENSTORE_RECONNECT;
    xs_conn_process(conn);
    ok(ring.req_cons != ring.req_prod, "nothing consumed while reconnecting");
    notifies = 0;
    ok(xs_ring_conn_check_reconnect(conn), "reconnection performed");
    ok(ring.req_cons == 0 && ring.req_prod == 0 && ring.rsp_cons == 0 &&
           ring.rsp_prod == 0,
       "indexes reset to 0");
    is_int(ring.connection, XENSTORE_CONNECTED, "connection back to 0");
    is_int(notifies, 1, "guest notified of the reconnection");
    is_int(conn->nwatches, 0, "watches dropped by the reconnection");
    ok(!xs_ring_conn_check_reconnect(conn), "no reconnection when connected");
    n = roundtrip(conn, &ring, XS_READ, 5, "name", 5, &rh, rbuf);
    rbuf[n > 0 ? n : 0] = '\0';
    is_str(rbuf, "dom3", "ring works after reconnection");

    /* Malicious indexes. */
    ring2.req_prod = ring2.req_cons + XENSTORE_RING_SIZE + 1;
    xs_conn_process(other);
    ok(other->dead, "req_prod more than a ring ahead: connection dropped");
    xs_store_reap(&store);
    n = roundtrip(conn, &ring, XS_READ, 6, "name", 5, &rh, rbuf);
    is_int(n, 4, "another ring keeps working");

    other = ring_open(&ring2, 3, 100);
    ring2.rsp_cons = ring2.rsp_prod + 8; /* consumer ahead of producer */
    n = roundtrip(other, &ring2, XS_READ, 7, "name", 5, &rh, rbuf);
    ok(n < 0 && other->dead, "rsp_cons beyond rsp_prod: connection dropped");
    xs_store_reap(&store);

    other = ring_open(&ring2, 3, 0);
    ring2.req_cons = 5000; /* guest scribbles on our consumer index */
    ring2.req_prod = 10;
    xs_conn_process(other);
    ok(other->dead, "garbage req_cons: connection dropped");
    xs_store_reap(&store);

    other = ring_open(&ring2, 3, 0);
    {
        struct xsd_sockmsg big = {XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1};

        peer_put(&ring2, &big, sizeof(big));
        xs_conn_process(other);
        ok(other->dead, "oversized payload on a ring: dropped");
        xs_store_reap(&store);
    }
    other = ring_open(&ring2, 3, 0);
    {
        struct xsd_sockmsg unk = {0x1234, 9, 0, 0};

        peer_put(&ring2, &unk, sizeof(unk));
        xs_conn_process(other);
        ok(!other->dead, "unknown type on a ring is not fatal");
        peer_get(&ring2, &rh, sizeof(rh));
        peer_get(&ring2, rbuf, rh.len);
        ok(rh.type == XS_ERROR && rh.req_id == 9 && strcmp(rbuf, "EINVAL") == 0,
           "...answered with ERROR EINVAL");
    }
    n = roundtrip(conn, &ring, XS_READ, 8, "name", 5, &rh, rbuf);
    is_int(n, 4, "first ring still served at the end");

    xs_store_fini(&store);
    return tap_done();
}
