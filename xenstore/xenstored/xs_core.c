/*
 * xs_core.c — connections, message framing and the request dispatcher of
 * xenstored (Xen docs/misc/xenstore.txt, <xen/io/xs_wire.h>).
 *
 * A connection reads a struct xsd_sockmsg header and then hdr.len payload
 * bytes.  A payload longer than XENSTORE_PAYLOAD_MAX breaks the protocol
 * ("Violating this is very bad", xs_wire.h): the connection is dropped.
 * Everything else that is wrong in a request gets an ERROR reply.  Each
 * request is handled to completion before the next one is read, so
 * replies leave in request order with the request's req_id and tx_id.
 *
 * The dispatcher is a table indexed by message type with flags saying
 * whether the type needs domain 0's privilege and whether it runs inside
 * a transaction (the header's tx_id names one) or ignores tx_id.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_core.h"

/* ---- per-request memory ---- */

struct xs_mem {
    struct xs_mem *next;
    max_align_t data[];
};

void *xs_req_alloc(struct xs_req *req, size_t size)
{
    struct xs_mem *m = calloc(1, sizeof(*m) + size + 1);

    if (!m)
        return NULL;
    m->next = req->mem;
    req->mem = m;
    return m->data;
}

static void req_free_mem(struct xs_req *req)
{
    while (req->mem) {
        struct xs_mem *m = req->mem;

        req->mem = m->next;
        free(m);
    }
}

static char *req_strdup(struct xs_req *req, const char *s)
{
    size_t len = strlen(s);
    char *p = xs_req_alloc(req, len + 1);

    if (p)
        memcpy(p, s, len + 1);
    return p;
}

/* ---- logging and errors ---- */

void xs_log(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "xenstored: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

const char *xs_errno_name(int err)
{
    unsigned int i;

    if (err < 0)
        err = -err;
    for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++) {
        if (xsd_errors[i].errnum == err)
            return xsd_errors[i].errstring;
    }
    return "EINVAL";
}

/* A plain decimal number (no sign, no spaces) not above @max. */
static int parse_decimal(const char *s, unsigned long long max,
                         unsigned long long *out)
{
    unsigned long long v;
    char *end;

    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int xs_parse_domid(const char *s, uint32_t *domid)
{
    unsigned long long v;
    /* Below DOMID_FIRST_RESERVED (0x7ff0, <xen/xen.h>). */
    int rc = parse_decimal(s, 0x7fef, &v);

    if (!rc)
        *domid = (uint32_t)v;
    return rc;
}

/* ---- store ---- */

int xs_store_init(struct xs_store *store)
{
    memset(store, 0, sizeof(*store));
    /* Xen's defaults (tools/xenstored): dom0 is never limited. */
    store->quota.nodes = 1000;
    store->quota.watches = 128;
    store->quota.transactions = 10;
    store->quota.node_size = 2048;
    store->quota.outstanding = 20;
    store->quota.permissions = 5;
    store->special[0].name = "@introduceDomain";
    store->special[1].name = "@releaseDomain";
    for (unsigned int i = 0; i < 2; i++) {
        store->special[i].perms[0].domid = 0;
        store->special[i].perms[0].access = 'n';
        store->special[i].n = 1;
    }
    store->db = xs_db_new(&store->gen);
    return store->db ? 0 : -ENOMEM;
}

struct xs_special *xs_special_find(struct xs_store *store, const char *path)
{
    unsigned int i;

    for (i = 0; i < 2; i++) {
        if (strcmp(store->special[i].name, path) == 0)
            return &store->special[i];
    }
    return NULL;
}

static void conn_free(struct xs_conn *conn)
{
    struct xs_msg *m;

    xs_txn_abort_all(conn);
    xs_watch_remove_all(conn);
    while ((m = conn->out_head)) {
        conn->out_head = m->next;
        free(m);
    }
    free(conn->in);
    xs_domain_conn_gone(conn);
    if (conn->ops->destroy)
        conn->ops->destroy(conn);
    free(conn);
}

void xs_store_fini(struct xs_store *store)
{
    struct xs_conn *conn;

    xs_domain_release_all(store);
    while ((conn = store->conns)) {
        store->conns = conn->next;
        conn_free(conn);
    }
    xs_db_free(store->db);
    store->db = NULL;
    free(store->widx);
    store->widx = NULL;
    store->nwidx = store->capwidx = 0;
}

void xs_store_reap(struct xs_store *store)
{
    struct xs_conn **pp = &store->conns;

    /* Called after every event: no walk of every connection for nothing. */
    if (!store->ndead)
        return;
    store->ndead = 0;
    while (*pp) {
        struct xs_conn *conn = *pp;

        if (conn->dead) {
            *pp = conn->next;
            conn_free(conn);
        } else {
            pp = &conn->next;
        }
    }
}

/* ---- connections ---- */

struct xs_conn *xs_conn_new(struct xs_store *store,
                            const struct xs_conn_ops *ops, void *transport,
                            uint32_t domid)
{
    struct xs_conn *conn = calloc(1, sizeof(*conn));

    if (!conn)
        return NULL;
    conn->store = store;
    conn->ops = ops;
    conn->transport = transport;
    conn->domid = domid;
    conn->target = XS_DB_INHERIT;
    conn->next_txid = 1;
    conn->next = store->conns;
    store->conns = conn;
    return conn;
}

void xs_conn_kill(struct xs_conn *conn, const char *why)
{
    if (conn->dead)
        return;
    if (why)
        xs_log("dropping connection of domain %" PRIu32 ": %s", conn->domid,
               why);
    conn->dead = true;
    conn->store->ndead++;
    if (conn->ops->want_write)
        conn->ops->want_write(conn, false);
}

bool xs_conn_privileged(const struct xs_conn *conn)
{
    return conn->domid == 0;
}

void xs_conn_reset(struct xs_conn *conn)
{
    struct xs_msg *m;

    xs_txn_abort_all(conn);
    xs_watch_remove_all(conn);
    while ((m = conn->out_head)) {
        conn->out_head = m->next;
        free(m);
    }
    conn->out_tail = NULL;
    conn->out_count = 0;
    free(conn->in);
    conn->in = NULL;
    conn->in_used = 0;
    conn->hdr_used = 0;
}

/* Send queued output until the transport takes no more. */
static void conn_flush(struct xs_conn *conn)
{
    while (!conn->dead && conn->out_head) {
        struct xs_msg *m = conn->out_head;
        ssize_t n = conn->ops->write(conn, m->data + m->off, m->len - m->off);

        if (n < 0) {
            xs_conn_kill(conn, n == -EIO ? "ring index out of range"
                                         : "write failed");
            return;
        }
        if (n == 0)
            break;
        m->off += (size_t)n;
        if (m->off == m->len) {
            conn->out_head = m->next;
            if (!conn->out_head)
                conn->out_tail = NULL;
            conn->out_count--;
            free(m);
        }
    }
    if (!conn->dead && conn->ops->want_write)
        conn->ops->want_write(conn, conn->out_head != NULL);
    /* A message sent outside request handling (a watch event). */
    if (!conn->dead && !conn->in_process && conn->ops->kick)
        conn->ops->kick(conn);
}

int xs_conn_send(struct xs_conn *conn, uint32_t type, uint32_t req_id,
                 uint32_t tx_id, const void *data, size_t len)
{
    struct xsd_sockmsg hdr = {
        .type = type, .req_id = req_id, .tx_id = tx_id, .len = (uint32_t)len};
    struct xs_msg *m;

    if (conn->dead)
        return 0;
    if (len > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    m = malloc(sizeof(*m) + sizeof(hdr) + len);
    if (!m)
        return -ENOMEM;
    m->next = NULL;
    m->len = sizeof(hdr) + len;
    m->off = 0;
    memcpy(m->data, &hdr, sizeof(hdr));
    if (len)
        memcpy(m->data + sizeof(hdr), data, len);
    if (conn->out_tail)
        conn->out_tail->next = m;
    else
        conn->out_head = m;
    conn->out_tail = m;
    conn->out_count++;
    conn_flush(conn);
    return 0;
}

/* ---- paths ---- */

int xs_path_canonical(struct xs_req *req, const char *path, bool special,
                      char **out, bool *relative)
{
    size_t len = strlen(path), i;
    char prefix[32];
    char *res;

    if (len == 0)
        return -EINVAL;
    if (path[0] == '@') {
        /* Special watch paths: "@<wspecial>", any syntax (xenstore.txt). */
        if (!special || len > XENSTORE_REL_PATH_MAX)
            return -EINVAL;
        *out = req_strdup(req, path);
        *relative = false;
        return *out ? 0 : -ENOMEM;
    }
    for (i = 0; i < len; i++) {
        char c = path[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '/' || c == '_' ||
              c == '@'))
            return -EINVAL;
        if (c == '/' && path[i + 1] == '/')
            return -EINVAL;
    }
    if (path[0] == '/') {
        if (len > XENSTORE_ABS_PATH_MAX || (len > 1 && path[len - 1] == '/'))
            return -EINVAL;
        *out = req_strdup(req, path);
        *relative = false;
        return *out ? 0 : -ENOMEM;
    }
    if (len > XENSTORE_REL_PATH_MAX || path[len - 1] == '/')
        return -EINVAL;
    snprintf(prefix, sizeof(prefix), "/local/domain/%" PRIu32 "/",
             req->conn->domid);
    res = xs_req_alloc(req, strlen(prefix) + len + 1);
    if (!res)
        return -ENOMEM;
    strcpy(res, prefix);
    strcat(res, path);
    *out = res;
    *relative = true;
    return 0;
}

/* ---- request helpers ---- */

/* Split the payload into NUL-terminated strings; returns how many. */
static unsigned int req_strings(const struct xs_req *req, const char **vec,
                                unsigned int max)
{
    unsigned int n = 0;
    size_t off = 0;

    while (off < req->hdr.len) {
        const char *s = req->payload + off;
        size_t l = strnlen(s, req->hdr.len - off);

        if (l == req->hdr.len - off)
            break; /* not terminated: not a string */
        if (n < max)
            vec[n] = s;
        n++;
        off += l + 1;
    }
    return n;
}

/*
 * Exactly one NUL-terminated argument (Xen's "onearg"): the whole
 * payload, terminated by its last byte.
 */
static const char *req_onearg(const struct xs_req *req)
{
    if (req->hdr.len == 0 || req->payload[req->hdr.len - 1] != '\0' ||
        strlen(req->payload) != req->hdr.len - 1)
        return NULL;
    return req->payload;
}

static int req_reply(struct xs_req *req, const void *data, size_t len)
{
    return xs_conn_send(req->conn, req->hdr.type, req->hdr.req_id,
                        req->hdr.tx_id, data, len);
}

static int req_ack(struct xs_req *req)
{
    return req_reply(req, "OK", 3);
}

static int req_event(struct xs_req *req, const char *path, bool rm)
{
    struct xs_event *ev;

    if (req->txn)
        return xs_txn_add_event(req->txn, path, rm);
    ev = xs_req_alloc(req, sizeof(*ev));
    if (!ev)
        return -ENOMEM;
    ev->path = req_strdup(req, path);
    if (!ev->path)
        return -ENOMEM;
    ev->rm = rm;
    /* Keep request order: append. */
    {
        struct xs_event **pp = &req->events;

        while (*pp)
            pp = &(*pp)->next;
        *pp = ev;
    }
    return 0;
}

/*
 * Finish a request that changed @path: @rc is the change's result; on
 * success announce it to watchers (at commit inside a transaction) and
 * answer OK.
 */
static int req_changed(struct xs_req *req, const char *path, bool rm, int rc)
{
    if (rc)
        return rc;
    rc = req_event(req, path, rm);
    if (rc)
        return rc;
    return req_ack(req);
}

/* Access mask of the request's connection on a permission list. */
static unsigned int req_perm_list(const struct xs_req *req,
                                  const struct xs_perm *perms, unsigned int n)
{
    if (xs_conn_privileged(req->conn))
        return XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;
    return xs_perm_mask(perms, n, req->conn->domid, req->conn->target);
}

/* Access mask of the request's connection on @node. */
static unsigned int req_perm(const struct xs_req *req,
                             const struct xs_node *node)
{
    unsigned int n;
    const struct xs_perm *perms = xs_node_perms(node, &n);

    return req_perm_list(req, perms, n);
}

/*
 * Look @path (canonical) up needing @perm: -ENOENT when absent, -EACCES
 * when not accessible (or absent below a node that is not).
 */
static int req_get_node(struct xs_req *req, const char *path, unsigned int perm,
                        struct xs_node **out)
{
    struct xs_node *node = xs_db_get(req->db, path);

    if (!node) {
        /*
         * As Xen: a domain that lacks @perm on the nearest existing
         * ancestor learns only EACCES, not whether the node exists.
         */
        node = xs_db_get_existing(req->db, path);
        return (req_perm(req, node) & perm) == perm ? -ENOENT : -EACCES;
    }
    if ((req_perm(req, node) & perm) != perm)
        return -EACCES;
    *out = node;
    return 0;
}

/* Canonicalise the single path argument of a request. */
static int req_path_arg(struct xs_req *req, char **path)
{
    const char *arg = req_onearg(req);
    bool rel;

    if (!arg)
        return -EINVAL;
    return xs_path_canonical(req, arg, false, path, &rel);
}

/*
 * Create @path (and missing parents) for the request's domain, checking
 * write access on the nearest existing ancestor and the node quota.
 */
static int req_create(struct xs_req *req, const char *path,
                      struct xs_node **out)
{
    struct xs_conn *conn = req->conn;
    struct xs_node *parent = xs_db_get_existing(req->db, path);
    unsigned int missing = xs_db_missing(req->db, path);
    bool priv = xs_conn_privileged(conn);
    int rc;

    if (!(req_perm(req, parent) & XS_PERM_WRITE))
        return -EACCES;
    if (!priv && xs_db_count_owned(req->db, conn->domid) + missing >
                     conn->store->quota.nodes)
        return -ENOSPC;
    rc = xs_db_create(req->db, path, priv ? XS_DB_INHERIT : conn->domid, NULL,
                      out);
    return rc;
}

/* ---- handlers: each returns 0 after replying, or a negative errno ---- */

static int do_read(struct xs_req *req)
{
    struct xs_node *node;
    const char *value;
    char *path;
    size_t len;
    int rc = req_path_arg(req, &path);

    if (rc)
        return rc;
    rc = req_get_node(req, path, XS_PERM_READ, &node);
    if (rc)
        return rc;
    value = xs_node_value(node, &len);
    return req_reply(req, value, len);
}

static int do_write(struct xs_req *req)
{
    struct xs_node *node = NULL;
    size_t plen = strnlen(req->payload, req->hdr.len);
    const char *value = req->payload + plen + 1;
    size_t vlen;
    char *path;
    bool rel;
    int rc;

    if (plen == req->hdr.len)
        return -EINVAL; /* the path is not NUL-terminated */
    vlen = req->hdr.len - plen - 1;
    rc = xs_path_canonical(req, req->payload, false, &path, &rel);
    if (rc)
        return rc;
    if (!xs_conn_privileged(req->conn) &&
        vlen > req->conn->store->quota.node_size)
        return -ENOSPC;
    rc = req_get_node(req, path, XS_PERM_WRITE, &node);
    if (rc == -ENOENT)
        rc = req_create(req, path, &node);
    if (rc)
        return rc;
    return req_changed(req, path, false,
                       xs_db_set_value(req->db, path, value, vlen));
}

static int do_mkdir(struct xs_req *req)
{
    struct xs_node *node = NULL;
    char *path;
    int rc = req_path_arg(req, &path);

    if (rc)
        return rc;
    rc = req_get_node(req, path, XS_PERM_WRITE, &node);
    if (rc == -ENOENT) {
        rc = req_create(req, path, &node);
        if (!rc)
            rc = req_event(req, path, false);
    }
    if (rc)
        return rc;
    return req_ack(req);
}

static int do_rm(struct xs_req *req)
{
    struct xs_node *node;
    char *path, *parent;
    int rc = req_path_arg(req, &path);

    if (rc)
        return rc;
    rc = req_get_node(req, path, XS_PERM_WRITE, &node);
    if (rc == -ENOENT) {
        /* Xen: removing a missing node is fine if its parent exists. */
        parent = req_strdup(req, path);
        if (!parent)
            return -ENOMEM;
        if (strrchr(parent, '/') == parent)
            parent[1] = '\0';
        else
            *strrchr(parent, '/') = '\0';
        if (xs_db_get(req->db, parent))
            return req_ack(req);
        return -ENOENT;
    }
    if (rc)
        return rc;
    if (strcmp(path, "/") == 0)
        return -EINVAL;
    return req_changed(req, path, true, xs_db_rm(req->db, path));
}

/* Children of @node as "name\0name\0..." in @req's memory. */
static char *node_children(struct xs_req *req, const struct xs_node *node,
                           size_t *len)
{
    unsigned int i, n = xs_node_nchildren(node);
    size_t total = 0;
    char *buf, *p;

    for (i = 0; i < n; i++)
        total += strlen(xs_node_child_name(node, i)) + 1;
    buf = xs_req_alloc(req, total + 1);
    if (!buf)
        return NULL;
    p = buf;
    for (i = 0; i < n; i++) {
        size_t l = strlen(xs_node_child_name(node, i)) + 1;

        memcpy(p, xs_node_child_name(node, i), l);
        p += l;
    }
    *len = total;
    return buf;
}

static int do_directory(struct xs_req *req)
{
    struct xs_node *node;
    char *path, *list;
    size_t len;
    int rc = req_path_arg(req, &path);

    if (rc)
        return rc;
    rc = req_get_node(req, path, XS_PERM_READ, &node);
    if (rc)
        return rc;
    list = node_children(req, node, &len);
    if (!list)
        return -ENOMEM;
    if (len > XENSTORE_PAYLOAD_MAX)
        return -E2BIG; /* the client should use DIRECTORY_PART */
    return req_reply(req, list, len);
}

/*
 * DIRECTORY_PART <path>|<offset>| -> <gencnt>|<child>|*: children from
 * byte @offset of the full list, as many whole names as fit; when the
 * list ends in this reply an empty string (one more NUL) marks the end.
 */
static int do_directory_part(struct xs_req *req)
{
    const char *vec[2];
    struct xs_node *node;
    char *path, *list, *out;
    char gen[24];
    size_t len, genlen, off, used = 0, max;
    unsigned long long v;
    bool rel;
    int rc;

    if (req_strings(req, vec, 2) != 2)
        return -EINVAL;
    rc = xs_path_canonical(req, vec[0], false, &path, &rel);
    if (rc)
        return rc;
    rc = parse_decimal(vec[1], UINT32_MAX, &v);
    if (rc)
        return rc;
    rc = req_get_node(req, path, XS_PERM_READ, &node);
    if (rc)
        return rc;
    list = node_children(req, node, &len);
    if (!list)
        return -ENOMEM;
    genlen =
        (size_t)snprintf(gen, sizeof(gen), "%" PRIu64, xs_node_gen(node)) + 1;
    off = v > len ? len : (size_t)v;
    max = XENSTORE_PAYLOAD_MAX - genlen - 1;
    while (off + used < len) {
        size_t l = strlen(list + off + used) + 1;

        if (used + l > max)
            break;
        used += l;
    }
    out = xs_req_alloc(req, genlen + used + 1);
    if (!out)
        return -ENOMEM;
    memcpy(out, gen, genlen);
    memcpy(out + genlen, list + off, used);
    if (off + used == len) {
        out[genlen + used] = '\0';
        used++;
    }
    return req_reply(req, out, genlen + used);
}

/*
 * The permission list of @path (a node, or a special path) for a request
 * needing @need: -ENOENT, -EACCES.  *@node is NULL for a special path.
 */
static int req_perms_of(struct xs_req *req, const char *path, unsigned int need,
                        const struct xs_perm **perms, unsigned int *n,
                        struct xs_node **node)
{
    struct xs_special *sp;
    int rc;

    *node = NULL;
    if (path[0] == '@') {
        sp = xs_special_find(req->conn->store, path);
        if (!sp)
            return -ENOENT;
        if ((req_perm_list(req, sp->perms, sp->n) & need) != need)
            return -EACCES;
        *perms = sp->perms;
        *n = sp->n;
        return 0;
    }
    rc = req_get_node(req, path, need, node);
    if (rc)
        return rc;
    *perms = xs_node_perms(*node, n);
    return 0;
}

static int do_get_perms(struct xs_req *req)
{
    const char *arg = req_onearg(req);
    const struct xs_perm *perms;
    struct xs_node *node;
    unsigned int n, i;
    char *path, *out;
    size_t len = 0;
    bool rel;
    int rc;

    if (!arg)
        return -EINVAL;
    rc = xs_path_canonical(req, arg, true, &path, &rel);
    if (!rc)
        rc = req_perms_of(req, path, XS_PERM_READ, &perms, &n, &node);
    if (rc)
        return rc;
    out = xs_req_alloc(req, (size_t)n * 8);
    if (!out)
        return -ENOMEM;
    for (i = 0; i < n; i++)
        len += (size_t)sprintf(out + len, "%c%" PRIu32, perms[i].access,
                               perms[i].domid) +
               1;
    return req_reply(req, out, len);
}

static int do_set_perms(struct xs_req *req)
{
    const char *vec[1];
    unsigned int n = req_strings(req, vec, 1), i, on;
    const struct xs_perm *old;
    struct xs_perm *perms;
    struct xs_node *node;
    const char *s;
    char *path;
    bool rel;
    int rc;

    /* The payload is "<path>|<perm>|+" and must end with a NUL. */
    if (n < 2 || req->payload[req->hdr.len - 1] != '\0')
        return -EINVAL;
    n--;
    if (!xs_conn_privileged(req->conn) &&
        n > req->conn->store->quota.permissions)
        return -ENOSPC;
    perms = xs_req_alloc(req, n * sizeof(*perms));
    if (!perms)
        return -ENOMEM;
    s = req->payload + strlen(req->payload) + 1;
    for (i = 0; i < n; i++) {
        rc = xs_perm_parse(s, &perms[i]);
        if (rc)
            return rc;
        s += strlen(s) + 1;
    }
    rc = xs_path_canonical(req, req->payload, true, &path, &rel);
    if (!rc)
        rc = req_perms_of(req, path, XS_PERM_WRITE | XS_PERM_OWNER, &old, &on,
                          &node);
    if (rc)
        return rc;
    /* Only the control domain may change an owner. */
    if (!xs_conn_privileged(req->conn) && perms[0].domid != old[0].domid)
        return -EPERM;
    if (!node) {
        struct xs_special *sp = xs_special_find(req->conn->store, path);

        if (n > XS_SPECIAL_PERMS_MAX)
            return -ENOSPC;
        memcpy(sp->perms, perms, n * sizeof(*perms));
        sp->n = n;
        return req_ack(req);
    }
    return req_changed(req, path, false,
                       xs_db_set_perms(req->db, path, perms, n));
}

static int do_watch(struct xs_req *req)
{
    const char *vec[3];
    unsigned int n = req_strings(req, vec, 3);
    const struct xs_watch *w;
    char *path;
    bool rel;
    int rc;

    if (n != 2)
        return -EINVAL;
    rc = xs_path_canonical(req, vec[0], true, &path, &rel);
    if (rc)
        return rc;
    rc = xs_watch_add(req->conn, path, vec[1], rel);
    if (rc)
        return rc;
    rc = req_ack(req);
    /* The initial event (xenstore.txt: a watch fires once when set). */
    w = req->conn->watches;
    if (!rc && w)
        xs_watch_send(req->conn, w, path);
    return rc;
}

static int do_unwatch(struct xs_req *req)
{
    const char *vec[2];
    char *path;
    bool rel;
    int rc;

    if (req_strings(req, vec, 2) != 2)
        return -EINVAL;
    rc = xs_path_canonical(req, vec[0], true, &path, &rel);
    if (rc)
        return rc;
    rc = xs_watch_remove(req->conn, path, vec[1]);
    if (rc)
        return rc;
    return req_ack(req);
}

static int do_reset_watches(struct xs_req *req)
{
    xs_watch_remove_all(req->conn);
    xs_txn_abort_all(req->conn);
    return req_ack(req);
}

static int do_transaction_start(struct xs_req *req)
{
    char buf[24];
    long id;

    /* Xen: no nested transactions. */
    if (req->hdr.tx_id)
        return -EBUSY;
    id = xs_txn_start(req->conn);
    if (id < 0)
        return (int)id;
    snprintf(buf, sizeof(buf), "%ld", id);
    return req_reply(req, buf, strlen(buf) + 1);
}

static int do_transaction_end(struct xs_req *req)
{
    const char *arg = req_onearg(req);
    bool commit;
    int rc;

    if (!arg)
        return -EINVAL;
    if (strcmp(arg, "T") == 0)
        commit = true;
    else if (strcmp(arg, "F") == 0)
        commit = false;
    else
        return -EINVAL;
    rc = xs_txn_end(req->conn, req->txn, commit);
    req->txn = NULL;
    if (rc)
        return rc;
    return req_ack(req);
}

/* Parse a single "<domid>|" argument. */
static int req_domid_arg(struct xs_req *req, uint32_t *domid)
{
    const char *arg = req_onearg(req);

    if (!arg)
        return -EINVAL;
    return xs_parse_domid(arg, domid);
}

static int do_introduce(struct xs_req *req)
{
    const char *vec[4];
    unsigned long long gfn;
    uint32_t domid, port;
    int rc;

    if (req_strings(req, vec, 4) < 3)
        return -EINVAL;
    rc = xs_parse_domid(vec[0], &domid);
    if (rc)
        return rc;
    rc = parse_decimal(vec[1], UINT64_MAX, &gfn);
    if (rc)
        return rc;
    rc = xs_parse_domid(vec[2], &port); /* small decimal, like a domid */
    if (rc)
        return rc;
    rc = xs_domain_introduce(req->conn->store, domid, gfn, port);
    if (rc)
        return rc;
    return req_ack(req);
}

/* A "<domid>|" request answered OK when @op succeeds on the domain. */
static int req_domid_op(struct xs_req *req,
                        int (*op)(struct xs_store *store, uint32_t domid))
{
    uint32_t domid;
    int rc = req_domid_arg(req, &domid);

    if (rc)
        return rc;
    rc = op(req->conn->store, domid);
    if (rc)
        return rc;
    return req_ack(req);
}

static int do_release(struct xs_req *req)
{
    return req_domid_op(req, xs_domain_release);
}

static int do_get_domain_path(struct xs_req *req)
{
    char buf[32];
    uint32_t domid;
    int rc = req_domid_arg(req, &domid);

    if (rc)
        return rc;
    snprintf(buf, sizeof(buf), "/local/domain/%" PRIu32, domid);
    return req_reply(req, buf, strlen(buf) + 1);
}

static int do_is_domain_introduced(struct xs_req *req)
{
    uint32_t domid;
    int rc = req_domid_arg(req, &domid);

    if (rc)
        return rc;
    /* Domain 0 is always there (it is the socket side). */
    if (domid == 0 || xs_domain_introduced(req->conn->store, domid))
        return req_reply(req, "T", 2);
    return req_reply(req, "F", 2);
}

static int do_resume(struct xs_req *req)
{
    return req_domid_op(req, xs_domain_resume);
}

static int do_set_target(struct xs_req *req)
{
    const char *vec[2];
    uint32_t domid, target;
    int rc;

    if (req_strings(req, vec, 2) != 2)
        return -EINVAL;
    rc = xs_parse_domid(vec[0], &domid);
    if (!rc)
        rc = xs_parse_domid(vec[1], &target);
    if (rc)
        return rc;
    rc = xs_domain_set_target(req->conn->store, domid, target);
    if (rc)
        return rc;
    return req_ack(req);
}

/* CONTROL quota [<name> [<value>]]: show or set the limits. */
static const struct {
    const char *name;
    size_t offset;
} quota_names[] = {
    {"nodes", offsetof(struct xs_quota, nodes)},
    {"watches", offsetof(struct xs_quota, watches)},
    {"transactions", offsetof(struct xs_quota, transactions)},
    {"node-size", offsetof(struct xs_quota, node_size)},
    {"outstanding", offsetof(struct xs_quota, outstanding)},
    {"permissions", offsetof(struct xs_quota, permissions)},
};

int xs_quota_set(struct xs_quota *quota, const char *name, const char *value)
{
    unsigned long long v;
    unsigned int i;

    if (parse_decimal(value, 0x7fffffff, &v))
        return -EINVAL;
    for (i = 0; i < sizeof(quota_names) / sizeof(quota_names[0]); i++) {
        if (strcmp(name, quota_names[i].name) == 0) {
            *(unsigned int *)((char *)quota + quota_names[i].offset) =
                (unsigned int)v;
            return 0;
        }
    }
    return -EINVAL;
}

static int control_quota(struct xs_req *req, const char **vec, unsigned int n)
{
    struct xs_quota *q = &req->conn->store->quota;
    char buf[512];
    size_t len = 0;
    unsigned int i;
    int rc;

    if (n == 3) {
        rc = xs_quota_set(q, vec[1], vec[2]);
        if (rc)
            return rc;
        return req_ack(req);
    }
    if (n != 1)
        return -EINVAL;
    for (i = 0; i < sizeof(quota_names) / sizeof(quota_names[0]); i++)
        len += (size_t)snprintf(
            buf + len, sizeof(buf) - len, "%-16s %u\n", quota_names[i].name,
            *(unsigned int *)((char *)q + quota_names[i].offset));
    return req_reply(req, buf, len + 1);
}

static int control_print(struct xs_req *req, const char *s)
{
    xs_log("print: %s", s);
    return req_ack(req);
}

static int do_control(struct xs_req *req)
{
    const char *vec[4];
    unsigned int n = req_strings(req, vec, 4);

    if (n == 0)
        return -EINVAL;
    if (strcmp(vec[0], "log") == 0 && n == 2) {
        if (strcmp(vec[1], "on") == 0)
            req->conn->store->trace = true;
        else if (strcmp(vec[1], "off") == 0)
            req->conn->store->trace = false;
        else
            return -EINVAL;
        return req_ack(req);
    }
    if (strcmp(vec[0], "print") == 0 && n == 2)
        return control_print(req, vec[1]);
    if (strcmp(vec[0], "quota") == 0 && n <= 3)
        return control_quota(req, vec, n);
    if (strcmp(vec[0], "help") == 0 && n == 1) {
        static const char help[] = "log on|off\nprint <string>\n"
                                   "quota [<name> <value>]\nhelp\n";

        return req_reply(req, help, sizeof(help));
    }
    return -EINVAL;
}

/* ---- dispatch ---- */

#define XS_FLAG_PRIV 1u /* needs domain 0's privilege */
#define XS_FLAG_TXN  2u /* runs in the transaction named by tx_id */

static const struct {
    const char *name;
    int (*fn)(struct xs_req *req);
    unsigned int flags;
} dispatch[XS_TYPE_COUNT] = {
    [XS_CONTROL] = {"CONTROL", do_control, XS_FLAG_PRIV},
    [XS_DIRECTORY] = {"DIRECTORY", do_directory, XS_FLAG_TXN},
    [XS_READ] = {"READ", do_read, XS_FLAG_TXN},
    [XS_GET_PERMS] = {"GET_PERMS", do_get_perms, XS_FLAG_TXN},
    [XS_WATCH] = {"WATCH", do_watch, 0},
    [XS_UNWATCH] = {"UNWATCH", do_unwatch, 0},
    [XS_TRANSACTION_START] = {"TRANSACTION_START", do_transaction_start, 0},
    [XS_TRANSACTION_END] = {"TRANSACTION_END", do_transaction_end, XS_FLAG_TXN},
    [XS_INTRODUCE] = {"INTRODUCE", do_introduce, XS_FLAG_PRIV},
    [XS_RELEASE] = {"RELEASE", do_release, XS_FLAG_PRIV},
    [XS_GET_DOMAIN_PATH] = {"GET_DOMAIN_PATH", do_get_domain_path, 0},
    [XS_WRITE] = {"WRITE", do_write, XS_FLAG_TXN},
    [XS_MKDIR] = {"MKDIR", do_mkdir, XS_FLAG_TXN},
    [XS_RM] = {"RM", do_rm, XS_FLAG_TXN},
    [XS_SET_PERMS] = {"SET_PERMS", do_set_perms, XS_FLAG_TXN},
    [XS_IS_DOMAIN_INTRODUCED] = {"IS_DOMAIN_INTRODUCED",
                                 do_is_domain_introduced, 0},
    [XS_RESUME] = {"RESUME", do_resume, XS_FLAG_PRIV},
    [XS_SET_TARGET] = {"SET_TARGET", do_set_target, XS_FLAG_PRIV},
    [XS_RESET_WATCHES] = {"RESET_WATCHES", do_reset_watches, 0},
    [XS_DIRECTORY_PART] = {"DIRECTORY_PART", do_directory_part, XS_FLAG_TXN},
};

static void conn_handle(struct xs_conn *conn)
{
    struct xs_req req = {.conn = conn, .hdr = conn->hdr};
    uint32_t type = conn->hdr.type;
    struct xs_event *ev;
    int rc;

    req.payload = conn->in;
    req.db = conn->store->db;
    if (conn->store->trace)
        xs_log("domain %" PRIu32 " request type %" PRIu32 " req_id %" PRIu32
               " tx_id %" PRIu32 " len %" PRIu32,
               conn->domid, type, conn->hdr.req_id, conn->hdr.tx_id,
               conn->hdr.len);
    if (type >= XS_TYPE_COUNT || !dispatch[type].fn) {
        rc = -EINVAL;
        goto out;
    }
    if ((dispatch[type].flags & XS_FLAG_PRIV) && !xs_conn_privileged(conn)) {
        rc = -EACCES;
        goto out;
    }
    if ((dispatch[type].flags & XS_FLAG_TXN) && req.hdr.tx_id) {
        req.txn = xs_txn_find(conn, req.hdr.tx_id);
        if (!req.txn) {
            rc = -ENOENT;
            goto out;
        }
        req.db = xs_txn_db(req.txn);
    } else if (type == XS_TRANSACTION_END) {
        rc = -ENOENT; /* ending "no transaction" */
        goto out;
    }
    rc = dispatch[type].fn(&req);

out:
    if (rc)
        xs_conn_send(conn, XS_ERROR, req.hdr.req_id, req.hdr.tx_id,
                     xs_errno_name(rc), strlen(xs_errno_name(rc)) + 1);
    for (ev = req.events; ev; ev = ev->next)
        xs_watch_fire(conn->store, ev->path, ev->rm);
    req_free_mem(&req);
}

/*
 * Read more input; returns 1 when a whole request is ready, 0 when no
 * more data is available now, -1 when the connection was killed.
 */
static int conn_read(struct xs_conn *conn)
{
    for (;;) {
        bool in_hdr = conn->hdr_used < sizeof(conn->hdr);
        char *dst = in_hdr ? (char *)&conn->hdr + conn->hdr_used
                           : conn->in + conn->in_used;
        size_t want = in_hdr ? sizeof(conn->hdr) - conn->hdr_used
                             : conn->hdr.len - conn->in_used;
        ssize_t n = want ? conn->ops->read(conn, dst, want) : 0;

        if (n < 0) {
            xs_conn_kill(conn, n == -EIO     ? "ring index out of range"
                               : n != -EPIPE ? "read failed"
                               : (conn->hdr_used || conn->in_used)
                                   ? "peer gone mid message"
                                   : NULL);
            return -1;
        }
        if (in_hdr) {
            conn->hdr_used += (size_t)n;
            if (conn->hdr_used < sizeof(conn->hdr)) {
                if (n == 0)
                    return 0;
                continue;
            }
            if (conn->hdr.len > XENSTORE_PAYLOAD_MAX) {
                xs_conn_kill(conn, "payload longer than XENSTORE_PAYLOAD_MAX");
                return -1;
            }
            conn->in = malloc(conn->hdr.len + 1);
            if (!conn->in) {
                xs_conn_kill(conn, "out of memory");
                return -1;
            }
            conn->in_used = 0;
            continue;
        }
        conn->in_used += (size_t)n;
        if (conn->in_used == conn->hdr.len)
            break;
        if (n == 0)
            return 0;
    }
    conn->in[conn->hdr.len] = '\0';
    return 1;
}

bool xs_conn_stalled(const struct xs_conn *conn)
{
    return conn->out_count >= conn->store->quota.outstanding;
}

void xs_conn_process(struct xs_conn *conn)
{
    unsigned int handled = 0;

    conn->in_process = true;
    conn_flush(conn);
    conn->more_input = false;
    while (!conn->dead) {
        int rc;

        /* Outstanding-reply quota: stop reading until output drains. */
        if (xs_conn_stalled(conn))
            break;
        /* Fairness: other connections get their turn first. */
        if (handled == XS_CONN_BUDGET) {
            conn->more_input = true;
            break;
        }
        handled++;
        rc = conn_read(conn);
        if (rc <= 0)
            break;
        conn_handle(conn);
        free(conn->in);
        conn->in = NULL;
        conn->in_used = 0;
        conn->hdr_used = 0;
    }
    conn->in_process = false;
    /* One wake-up for everything consumed and produced in this batch. */
    if (!conn->dead && conn->ops->kick)
        conn->ops->kick(conn);
}
