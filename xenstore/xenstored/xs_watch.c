/*
 * xs_watch.c — watches (xenstore.txt "WATCH", "UNWATCH", "WATCH_EVENT",
 * "RESET_WATCHES").
 *
 * A watch on <wpath> fires when <wpath> or any node below it changes
 * (created, written, permissions changed, removed).  When a subtree is
 * removed, watches set on nodes inside it fire too, with their own path:
 * their node went away.  Events go out as WATCH_EVENT <path>|<token>|
 * with req_id and tx_id 0.  A watch registered with a relative path gets
 * relative event paths.  Special paths ("@introduceDomain",
 * "@releaseDomain") only match themselves.
 *
 * The store keeps every watch in one array sorted by path (then by
 * registration order).  A change of /a/b/c looks up the watches on "/",
 * "/a", "/a/b" and "/a/b/c" by binary search, and a removal also takes
 * the contiguous range of paths starting with "/a/b/c/": the cost of a
 * change is O(depth * log(watches) + events sent), not O(watches), which
 * matters with thousands of domains watching their own nodes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_core.h"

/* First index slot whose path compares >= @path (@len bytes of it). */
static unsigned int widx_lower(const struct xs_store *store, const char *path,
                               size_t len)
{
    unsigned int lo = 0, hi = store->nwidx;

    while (lo < hi) {
        unsigned int mid = lo + (hi - lo) / 2;
        const char *wp = store->widx[mid]->path;
        int c = strncmp(wp, path, len);

        /* A longer watch path with @path as prefix sorts after it. */
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Insert @w after every watch with the same path (seq order). */
static int widx_insert(struct xs_store *store, struct xs_watch *w)
{
    unsigned int pos;
    size_t len = strlen(w->path);

    if (store->nwidx == store->capwidx) {
        unsigned int cap = store->capwidx ? store->capwidx * 2 : 64;
        struct xs_watch **n = realloc(store->widx, cap * sizeof(*n));

        if (!n)
            return -ENOMEM;
        store->widx = n;
        store->capwidx = cap;
    }
    pos = widx_lower(store, w->path, len + 1);
    while (pos < store->nwidx && strcmp(store->widx[pos]->path, w->path) == 0)
        pos++;
    memmove(&store->widx[pos + 1], &store->widx[pos],
            (store->nwidx - pos) * sizeof(*store->widx));
    store->widx[pos] = w;
    store->nwidx++;
    return 0;
}

static void widx_remove(struct xs_store *store, const struct xs_watch *w)
{
    unsigned int pos = widx_lower(store, w->path, strlen(w->path) + 1);

    while (pos < store->nwidx && store->widx[pos] != w)
        pos++;
    if (pos == store->nwidx)
        return; /* not indexed: cannot happen */
    memmove(&store->widx[pos], &store->widx[pos + 1],
            (store->nwidx - pos - 1) * sizeof(*store->widx));
    store->nwidx--;
}

int xs_watch_add(struct xs_conn *conn, const char *path, const char *token,
                 bool relative)
{
    struct xs_watch *w;

    for (w = conn->watches; w; w = w->next) {
        if (strcmp(w->path, path) == 0 && strcmp(w->token, token) == 0)
            return -EEXIST;
    }
    if (!xs_conn_privileged(conn) &&
        conn->nwatches >= conn->store->quota.watches)
        return -ENOSPC;
    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->path = strdup(path);
    w->token = strdup(token);
    if (!w->path || !w->token) {
        free(w->path);
        free(w->token);
        free(w);
        return -ENOMEM;
    }
    w->relative = relative;
    w->conn = conn;
    w->seq = ++conn->store->wseq;
    if (widx_insert(conn->store, w) < 0) {
        free(w->path);
        free(w->token);
        free(w);
        return -ENOMEM;
    }
    /* Newest first: the WATCH handler sends the initial event for it. */
    w->next = conn->watches;
    conn->watches = w;
    conn->nwatches++;
    return 0;
}

static void watch_free(struct xs_watch *w)
{
    widx_remove(w->conn->store, w);
    free(w->path);
    free(w->token);
    free(w);
}

int xs_watch_remove(struct xs_conn *conn, const char *path, const char *token)
{
    struct xs_watch **pp;

    for (pp = &conn->watches; *pp; pp = &(*pp)->next) {
        struct xs_watch *w = *pp;

        if (strcmp(w->path, path) == 0 && strcmp(w->token, token) == 0) {
            *pp = w->next;
            conn->nwatches--;
            watch_free(w);
            return 0;
        }
    }
    return -ENOENT;
}

void xs_watch_remove_all(struct xs_conn *conn)
{
    while (conn->watches) {
        struct xs_watch *w = conn->watches;

        conn->watches = w->next;
        watch_free(w);
    }
    conn->nwatches = 0;
}

void xs_watch_send(struct xs_conn *conn, const struct xs_watch *w,
                   const char *path)
{
    char prefix[32];
    size_t plen, tlen, len;
    char *buf;

    /*
     * A client that stops reading must not make us queue events without
     * bound.  Past the backlog limit a domain's events are dropped (it
     * cannot be disconnected: its ring stays); a socket client of domain 0
     * is disconnected instead, because silently missing events would
     * leave a privileged tool acting on stale state.
     */
    if (conn->out_count >=
        conn->store->quota.outstanding + XS_WATCH_EVENT_BACKLOG) {
        if (xs_conn_privileged(conn) && !conn->domain) {
            xs_conn_kill(conn, "does not read its watch events");
            return;
        }
        if (!conn->events_dropped)
            xs_log("domain %" PRIu32 " does not read its watch events: "
                   "dropping them",
                   conn->domid);
        conn->events_dropped = true;
        return;
    }
    if (w->relative) {
        plen = (size_t)snprintf(prefix, sizeof(prefix),
                                "/local/domain/%" PRIu32 "/", conn->domid);
        if (strncmp(path, prefix, plen) == 0)
            path += plen;
    }
    plen = strlen(path) + 1;
    tlen = strlen(w->token) + 1;
    len = plen + tlen;
    if (len > XENSTORE_PAYLOAD_MAX)
        return; /* cannot happen with checked path and token lengths */
    buf = malloc(len);
    if (!buf)
        return;
    memcpy(buf, path, plen);
    memcpy(buf + plen, w->token, tlen);
    xs_conn_send(conn, XS_WATCH_EVENT, 0, 0, buf, len);
    free(buf);
}

/* May @conn learn that @path changed?  It must read the nearest node. */
static bool watch_may_see(struct xs_conn *conn, const char *path)
{
    const struct xs_perm *perms;
    struct xs_node *node;
    unsigned int n;

    if (xs_conn_privileged(conn))
        return true;
    if (path[0] == '@') {
        struct xs_special *sp = xs_special_find(conn->store, path);

        return sp &&
               (xs_perm_mask(sp->perms, sp->n, conn->domid, conn->target) &
                XS_PERM_READ);
    }
    node = xs_db_get_existing(conn->store->db, path);
    perms = xs_node_perms(node, &n);
    return xs_perm_mask(perms, n, conn->domid, conn->target) & XS_PERM_READ;
}

/* Send @path (or the watch's own path) to @w's connection if it may see. */
static void watch_fire_one(struct xs_watch *w, const char *changed,
                           const char *event_path)
{
    if (w->conn->dead || !watch_may_see(w->conn, changed))
        return;
    xs_watch_send(w->conn, w, event_path);
}

/* Fire every watch set exactly on the first @len bytes of @path. */
static void watch_fire_exact(struct xs_store *store, const char *path,
                             size_t len)
{
    unsigned int pos = widx_lower(store, path, len);

    for (; pos < store->nwidx; pos++) {
        struct xs_watch *w = store->widx[pos];

        if (strncmp(w->path, path, len) != 0 || w->path[len] != '\0')
            break;
        watch_fire_one(w, path, path);
    }
}

void xs_watch_fire(struct xs_store *store, const char *path, bool rm)
{
    size_t len = strlen(path), i;
    char *below;
    unsigned int pos;

    if (path[0] == '@') {
        watch_fire_exact(store, path, len);
        return;
    }
    /* Watches on @path and on each of its ancestors, "/" first. */
    watch_fire_exact(store, path, 1);
    for (i = 1; i < len; i++) {
        if (path[i] == '/')
            watch_fire_exact(store, path, i);
    }
    if (len > 1)
        watch_fire_exact(store, path, len);
    if (!rm)
        return;
    /* A removal also fires watches inside the subtree, with their path. */
    below = malloc(len + 2);
    if (!below)
        return;
    memcpy(below, path, len);
    if (len == 1)
        below[1] = '\0'; /* "/": everything but "/" itself */
    else
        memcpy(below + len, "/", 2);
    for (pos = widx_lower(store, below, strlen(below)); pos < store->nwidx;
         pos++) {
        struct xs_watch *w = store->widx[pos];

        if (strncmp(w->path, below, strlen(below)) != 0)
            break;
        if (strcmp(w->path, "/") != 0)
            watch_fire_one(w, path, w->path);
    }
    free(below);
}
