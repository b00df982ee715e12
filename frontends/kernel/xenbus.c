/*
 * xenbus.c — guest xenstore client (see include/xenkern/xenbus.h).
 *
 * Ring rules followed here (docs/misc/xenstore-ring.txt):
 *  - indexes are free-running 32-bit counters; a byte's slot is
 *    MASK_XENSTORE_IDX(index); the producer writes data, then (write
 *    barrier) the producer index; the consumer reads the producer index,
 *    then (read barrier) the data, then (full barrier) publishes its
 *    consumer index;
 *  - whoever moves an index notifies the event channel;
 *  - a distance of more than XENSTORE_RING_SIZE between the indexes is a
 *    broken server, as is a message longer than XENSTORE_PAYLOAD_MAX
 *    (docs/misc/xenstore.txt "Communication with xenstore").
 * The server is not trusted: every index is read once into a local and
 * checked before it is used, and a broken ring is never touched again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>

#include "xenkern/evtchn.h"
#include "xenkern/hypercall.h"
#include "xenkern/lib.h"
#include "xenkern/pvclock.h"
#include "xenkern/sched.h"
#include "xenkern/x86.h"
#include "xenkern/xenbus.h"

#define HDR_LEN sizeof(struct xsd_sockmsg)

/* One whole message: the header and its payload, plus a NUL we add. */
struct xb_msg {
    struct xsd_sockmsg hdr;
    char body[XENSTORE_PAYLOAD_MAX + 1];
};

/* A request waiting for (or holding) its reply. */
struct xb_pending {
    int in_use;
    int done;
    uint32_t req_id;
    uint32_t type;
    uint32_t len;
    char body[XENSTORE_PAYLOAD_MAX + 1];
};

struct xb_watch {
    int in_use;
    xenbus_watch_cb_t cb;
    void *arg;
    char token[XENBUS_WATCH_STR_MAX];
};

/* Watch events received but not yet dispatched. */
#define XB_EVENT_QUEUE 8

static struct xenstore_domain_interface *xb_ring;
static evtchn_port_t xb_port;
static volatile unsigned int xb_events; /* store events seen (handler) */
static int xb_broken;
static uint32_t xb_next_req_id = 1;

static struct xb_msg xb_in;   /* message being received */
static uint32_t xb_in_have;   /* bytes of xb_in received */
static unsigned int xb_stray; /* replies nobody waited for */
static struct xb_msg xb_event[XB_EVENT_QUEUE];
static unsigned int xb_event_head, xb_event_count, xb_event_dropped;
static struct xb_pending xb_pending[XENBUS_MAX_IN_FLIGHT];
static struct xb_watch xb_watches[XENBUS_MAX_WATCHES];
static int xb_dispatching;
static uint64_t xb_timeout_ns = XENBUS_TIMEOUT_NS;

/* Scratch for building request payloads and holding unwanted replies. */
static char xb_scratch[XENSTORE_PAYLOAD_MAX];
static char xb_reply[XENSTORE_PAYLOAD_MAX + 1];

/* The errno strings of <xen/io/xs_wire.h>'s xsd_errors, as Xen errnos. */
static const struct {
    const char *name;
    int err;
} xb_errors[] = {
    {"EINVAL", XEN_EINVAL},       {"EACCES", XEN_EACCES},
    {"EEXIST", XEN_EEXIST},       {"EISDIR", XEN_EISDIR},
    {"ENOENT", XEN_ENOENT},       {"ENOMEM", XEN_ENOMEM},
    {"ENOSPC", XEN_ENOSPC},       {"EIO", XEN_EIO},
    {"ENOTEMPTY", XEN_ENOTEMPTY}, {"ENOSYS", XEN_ENOSYS},
    {"EROFS", XEN_EROFS},         {"EBUSY", XEN_EBUSY},
    {"EAGAIN", XEN_EAGAIN},       {"EISCONN", XEN_EISCONN},
    {"E2BIG", XEN_E2BIG},         {"EPERM", XEN_EPERM},
};

static int xb_errno_of(const char *s)
{
    for (size_t i = 0; i < ARRAY_SIZE(xb_errors); i++)
        if (!strcmp(s, xb_errors[i].name))
            return -xb_errors[i].err;
    /* An error string we do not know is still an error. */
    return -XEN_EINVAL;
}

static void xb_handler(evtchn_port_t port, void *arg)
{
    (void)port;
    (void)arg;
    __atomic_fetch_add(&xb_events, 1, __ATOMIC_SEQ_CST);
}

static int xb_fail(void)
{
    xb_broken = 1;
    return -XEN_EIO;
}

static int xb_usable(void)
{
    if (!xb_ring)
        return -XEN_ENODEV;
    if (xb_broken)
        return -XEN_EIO;
    /*
     * The server reports its own view of a broken ring in `error`, a
     * field that only means something once it advertises the feature.
     */
    if ((READ_ONCE(xb_ring->server_features) & XENSTORE_SERVER_FEATURE_ERROR) &&
        READ_ONCE(xb_ring->error) != XENSTORE_ERROR_NONE)
        return xb_fail();
    return 0;
}

/*
 * Block until the store port fires (any event after `seen` was read) or
 * the deadline passes.  Returns -XEN_ETIMEDOUT at the deadline.
 */
static int xb_wait(unsigned int seen, uint64_t deadline)
{
    uint64_t now = time_now_ns();

    if (now >= deadline)
        return -XEN_ETIMEDOUT;
    sched_wait_count(&xb_events, seen + 1, deadline - now);
    return 0;
}

static void xb_deliver(void)
{
    uint32_t len = xb_in.hdr.len;

    xb_in.body[len] = 0;
    if (xb_in.hdr.type == XS_WATCH_EVENT) {
        unsigned int tail;

        if (xb_event_count == XB_EVENT_QUEUE) {
            xb_event_dropped++;
            return;
        }
        tail = (xb_event_head + xb_event_count) % XB_EVENT_QUEUE;
        memcpy(&xb_event[tail], &xb_in, HDR_LEN + len + 1);
        xb_event_count++;
        return;
    }
    for (unsigned int i = 0; i < XENBUS_MAX_IN_FLIGHT; i++) {
        struct xb_pending *p = &xb_pending[i];

        if (p->in_use && !p->done && p->req_id == xb_in.hdr.req_id) {
            p->type = xb_in.hdr.type;
            p->len = len;
            memcpy(p->body, xb_in.body, len + 1);
            p->done = 1;
            return;
        }
    }
    /* A reply to nothing we asked: the server's mistake, not fatal. */
    xb_stray++;
}

/*
 * Move every byte the server has produced into xb_in, delivering whole
 * messages.  Returns 0 or -XEN_EIO (the ring is then marked broken).
 */
static int xb_rx_poll(void)
{
    int consumed = 0, rc = xb_usable();

    if (rc)
        return rc;
    if (READ_ONCE(xb_ring->connection) != XENSTORE_CONNECTED)
        return 0;
    for (;;) {
        XENSTORE_RING_IDX cons = READ_ONCE(xb_ring->rsp_cons);
        XENSTORE_RING_IDX prod = READ_ONCE(xb_ring->rsp_prod);
        uint32_t avail, want, n;

        smp_rmb(); /* the data we copy is at least as new as prod */
        avail = prod - cons;
        if (avail > XENSTORE_RING_SIZE)
            return xb_fail();
        if (avail == 0)
            break;
        if (xb_in_have < HDR_LEN)
            want = HDR_LEN - xb_in_have;
        else
            want = HDR_LEN + xb_in.hdr.len - xb_in_have;
        n = avail < want ? avail : want;
        if (n > XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(cons))
            n = XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(cons);
        memcpy((char *)&xb_in + xb_in_have,
               xb_ring->rsp + MASK_XENSTORE_IDX(cons), n);
        xb_in_have += n;
        smp_mb(); /* finish reading before the server may overwrite */
        WRITE_ONCE(xb_ring->rsp_cons, cons + n);
        consumed = 1;
        if (xb_in_have == HDR_LEN && xb_in.hdr.len > XENSTORE_PAYLOAD_MAX)
            return xb_fail();
        if (xb_in_have >= HDR_LEN && xb_in_have == HDR_LEN + xb_in.hdr.len) {
            xb_deliver();
            xb_in_have = 0;
        }
    }
    if (consumed)
        evtchn_send(xb_port);
    return 0;
}

/*
 * Copy len bytes into the request ring, waiting for space until the
 * deadline (reading replies meanwhile, so a server blocked on a full
 * reply ring can make progress).  A message cut short leaves the stream
 * unusable, so a timeout here breaks the ring.
 */
static int xb_tx_write(const void *data, size_t len, uint64_t deadline)
{
    const char *src = data;

    while (len) {
        unsigned int seen = xb_events;
        XENSTORE_RING_IDX prod = READ_ONCE(xb_ring->req_prod);
        XENSTORE_RING_IDX cons = READ_ONCE(xb_ring->req_cons);
        uint32_t used = prod - cons, n;
        int rc;

        if (used > XENSTORE_RING_SIZE)
            return xb_fail();
        if (used == XENSTORE_RING_SIZE) {
            rc = xb_rx_poll();
            if (!rc)
                rc = xb_wait(seen, deadline);
            if (rc == -XEN_ETIMEDOUT)
                xb_broken = 1;
            if (rc)
                return rc;
            continue;
        }
        smp_mb(); /* the server has read the slots we are reusing */
        n = XENSTORE_RING_SIZE - used;
        if (n > len)
            n = (uint32_t)len;
        if (n > XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(prod))
            n = XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(prod);
        memcpy(xb_ring->req + MASK_XENSTORE_IDX(prod), src, n);
        smp_wmb(); /* data before the index that publishes it */
        WRITE_ONCE(xb_ring->req_prod, prod + n);
        evtchn_send(xb_port);
        src += n;
        len -= n;
    }
    return 0;
}

int xenbus_init(void)
{
    struct xen_hvm_param pfn = {.domid = DOMID_SELF,
                                .index = HVM_PARAM_STORE_PFN};
    struct xen_hvm_param evt = {.domid = DOMID_SELF,
                                .index = HVM_PARAM_STORE_EVTCHN};
    long rc;

    xb_ring = NULL;
    rc = HYPERVISOR_hvm_op(HVMOP_get_param, &pfn);
    if (!rc)
        rc = HYPERVISOR_hvm_op(HVMOP_get_param, &evt);
    if (rc)
        goto out;
    if (!pfn.value || !evt.value) {
        rc = -XEN_ENODEV;
        goto out;
    }
    /* The kernel maps the first 4 GiB 1:1; a ring above is unreachable. */
    if (pfn.value >= (1ULL << 20) || evt.value >= EVTCHN_2L_NR_PORTS) {
        rc = -XEN_ERANGE;
        goto out;
    }
    xb_port = (evtchn_port_t)evt.value;
    xb_broken = 0;
    xb_in_have = 0;
    xb_event_count = 0;
    memset(xb_pending, 0, sizeof(xb_pending));
    evtchn_set_handler(xb_port, xb_handler, NULL);
    evtchn_unmask(xb_port);
    xb_ring = (struct xenstore_domain_interface *)(uintptr_t)(pfn.value << 12);
out:
    return (int)rc;
}

uint64_t xenbus_set_timeout(uint64_t timeout_ns)
{
    uint64_t old = xb_timeout_ns;

    if (timeout_ns)
        xb_timeout_ns = timeout_ns;
    return old;
}

evtchn_port_t xenbus_store_port(void)
{
    return xb_ring ? xb_port : 0;
}

/*
 * Wait while a reconnection is in progress; 0 or -XEN_ETIMEDOUT.  Read
 * even without the feature bit: a dom0less guest may find the state set
 * before the server advertises anything (xenstore-ring.txt), and a
 * toolstack-zeroed page reads "connected".
 */
static int xb_wait_connected(uint64_t deadline)
{
    for (;;) {
        unsigned int seen = xb_events;
        int rc;

        if (READ_ONCE(xb_ring->connection) == XENSTORE_CONNECTED)
            return 0;
        rc = xb_wait(seen, deadline);
        if (rc)
            return rc;
    }
}

int xenbus_send(uint32_t type, xenbus_transaction_t t, const void *payload,
                size_t len, uint32_t *req_id)
{
    uint64_t deadline = time_now_ns() + xb_timeout_ns;
    struct xb_pending *p = NULL;
    struct xsd_sockmsg hdr;
    int rc = xb_usable();

    if (rc)
        goto out;
    rc = -XEN_E2BIG;
    if (len > XENSTORE_PAYLOAD_MAX)
        goto out;
    rc = -XEN_EBUSY;
    for (unsigned int i = 0; i < XENBUS_MAX_IN_FLIGHT && !p; i++)
        if (!xb_pending[i].in_use)
            p = &xb_pending[i];
    if (!p)
        goto out;
    rc = xb_wait_connected(deadline);
    if (rc)
        goto out;
    /* req_id 0 is what watch events carry: never hand it out. */
    if (xb_next_req_id == 0)
        xb_next_req_id = 1;
    hdr = (struct xsd_sockmsg){
        .type = type, .req_id = xb_next_req_id++, .tx_id = t, .len = len};
    p->req_id = hdr.req_id;
    p->done = 0;
    p->in_use = 1;
    rc = xb_tx_write(&hdr, HDR_LEN, deadline);
    if (!rc)
        rc = xb_tx_write(payload, len, deadline);
    if (rc) {
        p->in_use = 0;
        goto out;
    }
    *req_id = hdr.req_id;
out:
    return rc;
}

int xenbus_wait_reply(uint32_t req_id, char *buf, size_t len, uint32_t *type)
{
    uint64_t deadline = time_now_ns() + xb_timeout_ns;
    struct xb_pending *p = NULL;
    int rc = -XEN_EINVAL;

    for (unsigned int i = 0; i < XENBUS_MAX_IN_FLIGHT && !p; i++)
        if (xb_pending[i].in_use && xb_pending[i].req_id == req_id)
            p = &xb_pending[i];
    if (!p)
        goto out;
    for (;;) {
        unsigned int seen = xb_events;

        rc = xb_rx_poll();
        if (rc)
            goto out;
        if (p->done)
            break;
        rc = xb_wait(seen, deadline);
        if (rc)
            goto out;
    }
    p->in_use = 0;
    if (type)
        *type = p->type;
    if (p->type == XS_ERROR) {
        rc = xb_errno_of(p->body);
        goto out;
    }
    rc = -XEN_E2BIG;
    if (p->len + 1 > len)
        goto out;
    memcpy(buf, p->body, p->len + 1);
    rc = (int)p->len;
out:
    return rc;
}

/*
 * Give up on req_id: its slot is free again and a late reply counts as
 * stray (xb_deliver() matches only slots in use).
 */
static void xb_pending_abandon(uint32_t req_id)
{
    for (unsigned int i = 0; i < XENBUS_MAX_IN_FLIGHT; i++)
        if (xb_pending[i].in_use && xb_pending[i].req_id == req_id)
            xb_pending[i].in_use = 0;
}

/*
 * One request of NUL-separated strings: s1 NUL [s2 [NUL if s2_nul]],
 * answered into reply (rlen bytes; the shared scratch when NULL).
 * Returns the reply's length or -errno; a reply of another type than
 * the request (and not XS_ERROR) is a protocol error, -XEN_EIO.
 */
static int xb_request(uint32_t type, xenbus_transaction_t t, const char *s1,
                      const char *s2, int s2_nul, char *reply, size_t rlen)
{
    size_t l1 = strlen(s1), l2 = s2 ? strlen(s2) + (s2_nul ? 1 : 0) : 0;
    uint32_t req_id, rtype = 0;
    int rc = -XEN_E2BIG;

    if (l1 + 1 + l2 > sizeof(xb_scratch))
        goto out;
    memcpy(xb_scratch, s1, l1 + 1);
    if (s2)
        memcpy(xb_scratch + l1 + 1, s2, l2);
    rc = xenbus_send(type, t, xb_scratch, l1 + 1 + l2, &req_id);
    if (rc)
        goto out;
    if (!reply) {
        reply = xb_reply;
        rlen = sizeof(xb_reply);
    }
    rc = xenbus_wait_reply(req_id, reply, rlen, &rtype);
    if (rc == -XEN_ETIMEDOUT)
        xb_pending_abandon(req_id); /* nobody will wait for it again */
    if (rc >= 0 && rtype != type)
        rc = -XEN_EIO;
out:
    return rc;
}

int xenbus_read(xenbus_transaction_t t, const char *path, char *buf, size_t len)
{
    return xb_request(XS_READ, t, path, NULL, 0, buf, len);
}

int xenbus_write(xenbus_transaction_t t, const char *path, const char *value)
{
    /* WRITE's value is raw bytes: no NUL after it (xenstore.txt). */
    int rc = xb_request(XS_WRITE, t, path, value, 0, NULL, 0);
    return rc < 0 ? rc : 0;
}

int xenbus_mkdir(xenbus_transaction_t t, const char *path)
{
    int rc = xb_request(XS_MKDIR, t, path, NULL, 0, NULL, 0);
    return rc < 0 ? rc : 0;
}

int xenbus_rm(xenbus_transaction_t t, const char *path)
{
    int rc = xb_request(XS_RM, t, path, NULL, 0, NULL, 0);
    return rc < 0 ? rc : 0;
}

int xenbus_directory(xenbus_transaction_t t, const char *path, char *buf,
                     size_t len)
{
    int rc = xb_request(XS_DIRECTORY, t, path, NULL, 0, buf, len);
    int names = 0;

    if (rc < 0)
        return rc;
    /* The reply is name NUL name NUL ...; count the terminators. */
    for (int i = 0; i < rc; i++)
        if (buf[i] == 0)
            names++;
    if (rc > 0 && buf[rc - 1] != 0)
        names++; /* a last name without its NUL: ours ends it */
    return names;
}

int xenbus_printf(xenbus_transaction_t t, const char *dir, const char *node,
                  const char *fmt, ...)
{
    char path[XENBUS_WATCH_STR_MAX], value[256];
    va_list ap;
    int n;

    if (dir && dir[0])
        n = snprintf(path, sizeof(path), "%s/%s", dir, node);
    else
        n = snprintf(path, sizeof(path), "%s", node);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -XEN_E2BIG;
    va_start(ap, fmt);
    n = vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(value))
        return -XEN_E2BIG;
    return xenbus_write(t, path, value);
}

static struct xb_watch *xb_watch_find(const char *token)
{
    for (unsigned int i = 0; i < XENBUS_MAX_WATCHES; i++)
        if (xb_watches[i].in_use && !strcmp(xb_watches[i].token, token))
            return &xb_watches[i];
    return NULL;
}

int xenbus_watch(const char *path, const char *token, xenbus_watch_cb_t cb,
                 void *arg)
{
    struct xb_watch *w = NULL;
    int rc = -XEN_E2BIG;

    if (strlen(path) >= XENBUS_WATCH_STR_MAX ||
        strlen(token) >= XENBUS_WATCH_STR_MAX)
        goto out;
    rc = -XEN_EEXIST;
    if (xb_watch_find(token))
        goto out;
    rc = -XEN_ENOSPC;
    for (unsigned int i = 0; i < XENBUS_MAX_WATCHES && !w; i++)
        if (!xb_watches[i].in_use)
            w = &xb_watches[i];
    if (!w)
        goto out;
    /* Registered first: the event the server fires at once finds it. */
    memcpy(w->token, token, strlen(token) + 1);
    w->cb = cb;
    w->arg = arg;
    w->in_use = 1;
    rc = xb_request(XS_WATCH, XBT_NIL, path, token, 1, NULL, 0);
    if (rc < 0)
        w->in_use = 0;
    else
        rc = 0;
out:
    return rc;
}

/* Drop queued events of token (the watch is going away). */
static void xb_events_drop(const char *token)
{
    unsigned int kept = 0;

    for (unsigned int i = 0; i < xb_event_count; i++) {
        struct xb_msg *m = &xb_event[(xb_event_head + i) % XB_EVENT_QUEUE];
        size_t plen = strnlen(m->body, m->hdr.len);
        const char *tok = m->body + plen + 1;

        if (plen < m->hdr.len && !strcmp(tok, token))
            continue;
        if (kept != i)
            memcpy(&xb_event[(xb_event_head + kept) % XB_EVENT_QUEUE], m,
                   HDR_LEN + m->hdr.len + 1);
        kept++;
    }
    xb_event_count = kept;
}

int xenbus_unwatch(const char *path, const char *token)
{
    struct xb_watch *w = xb_watch_find(token);
    int rc = -XEN_ENOENT;

    if (!w)
        goto out;
    rc = xb_request(XS_UNWATCH, XBT_NIL, path, token, 1, NULL, 0);
    if (rc < 0)
        goto out;
    w->in_use = 0;
    xb_events_drop(token);
    rc = 0;
out:
    return rc;
}

unsigned int xenbus_watch_dropped(void)
{
    return xb_event_dropped;
}

int xenbus_watch_dispatch(void)
{
    static struct xb_msg m; /* not reentrant: guarded by xb_dispatching */
    int run = 0, rc = xb_rx_poll();

    if (rc)
        return rc;
    if (xb_dispatching)
        return 0;
    xb_dispatching = 1;
    while (xb_event_count) {
        struct xb_msg *q = &xb_event[xb_event_head];
        size_t plen;
        struct xb_watch *w;

        memcpy(&m, q, HDR_LEN + q->hdr.len + 1);
        xb_event_head = (xb_event_head + 1) % XB_EVENT_QUEUE;
        xb_event_count--;
        /* Payload is path NUL token NUL; anything else is ignored. */
        plen = strnlen(m.body, m.hdr.len);
        if (plen >= m.hdr.len)
            continue;
        w = xb_watch_find(m.body + plen + 1);
        if (!w)
            continue;
        w->cb(m.body, w->token, w->arg);
        run++;
    }
    xb_dispatching = 0;
    return run;
}

int xenbus_watch_wait(uint64_t timeout_ns)
{
    uint64_t deadline = time_now_ns() + timeout_ns;

    for (;;) {
        unsigned int seen = xb_events;
        int rc = xb_rx_poll();

        if (rc)
            return rc;
        if (xb_event_count)
            return xenbus_watch_dispatch();
        if (xb_wait(seen, deadline))
            return 0;
    }
}

int xenbus_transaction_start(xenbus_transaction_t *t)
{
    char id[32];
    const char *end;
    int rc;

    /* The payload is an empty string (xenstore.txt TRANSACTION_START). */
    rc = xb_request(XS_TRANSACTION_START, XBT_NIL, "", NULL, 0, id, sizeof(id));
    if (rc < 0)
        return rc;
    *t = (xenbus_transaction_t)strtoull(id, &end, 10);
    return end == id || *t == XBT_NIL ? -XEN_EIO : 0;
}

int xenbus_transaction_end(xenbus_transaction_t t, int abort)
{
    int rc =
        xb_request(XS_TRANSACTION_END, t, abort ? "F" : "T", NULL, 0, NULL, 0);
    return rc < 0 ? rc : 0;
}

int xenbus_switch_state(xenbus_transaction_t t, const char *dir,
                        enum xenbus_state state)
{
    return xenbus_printf(t, dir, "state", "%d", (int)state);
}

enum xenbus_state xenbus_read_state(const char *dir)
{
    char path[XENBUS_WATCH_STR_MAX], v[16];
    const char *end;
    unsigned long long s;

    if ((size_t)snprintf(path, sizeof(path), "%s/state", dir) >= sizeof(path))
        return XenbusStateUnknown;
    if (xenbus_read(XBT_NIL, path, v, sizeof(v)) <= 0)
        return XenbusStateUnknown;
    s = strtoull(v, &end, 10);
    if (end == v || *end || s > XenbusStateReconfigured)
        return XenbusStateUnknown;
    return (enum xenbus_state)s;
}

static void xb_state_changed(const char *path, const char *token, void *arg)
{
    (void)path;
    (void)token;
    (*(unsigned int *)arg)++;
}

int xenbus_wait_for_state(const char *otherend, enum xenbus_state wanted,
                          uint64_t timeout_ns)
{
    static unsigned int serial;
    uint64_t deadline = time_now_ns() + timeout_ns;
    char path[XENBUS_WATCH_STR_MAX], token[32];
    unsigned int fired = 0;
    int rc;

    if ((size_t)snprintf(path, sizeof(path), "%s/state", otherend) >=
        sizeof(path))
        return -XEN_E2BIG;
    snprintf(token, sizeof(token), "xenbus-state-%u", serial++);
    rc = xenbus_watch(path, token, xb_state_changed, &fired);
    if (rc)
        return rc;
    /* Read after the watch is set: a change in between still fires. */
    while (xenbus_read_state(otherend) != wanted) {
        uint64_t now = time_now_ns();

        rc = -XEN_ETIMEDOUT;
        if (now >= deadline)
            break;
        rc = xenbus_watch_wait(deadline - now);
        if (rc < 0)
            break;
        rc = 0;
    }
    xenbus_unwatch(path, token);
    return rc;
}

int xenbus_reconnect(void)
{
    uint64_t deadline = time_now_ns() + xb_timeout_ns;
    int rc = -XEN_ENODEV;

    /* A broken ring may be reconnected: that is the way back. */
    if (!xb_ring)
        goto out;
    rc = -XEN_EOPNOTSUPP;
    if (!(READ_ONCE(xb_ring->server_features) &
          XENSTORE_SERVER_FEATURE_RECONNECTION))
        goto out;
    WRITE_ONCE(xb_ring->connection, XENSTORE_RECONNECT);
    smp_mb();
    evtchn_send(xb_port);
    rc = xb_wait_connected(deadline);
    if (rc)
        goto out;
    /*
     * The server has emptied both queues and dropped our watches and
     * transactions: start from a clean stream, with no watches.
     */
    xb_broken = 0;
    xb_in_have = 0;
    xb_event_count = 0;
    memset(xb_pending, 0, sizeof(xb_pending));
    memset(xb_watches, 0, sizeof(xb_watches));
out:
    return rc;
}
