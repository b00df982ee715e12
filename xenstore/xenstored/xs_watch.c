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
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_core.h"

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
    /* Newest first: the WATCH handler sends the initial event for it. */
    w->next = conn->watches;
    conn->watches = w;
    conn->nwatches++;
    return 0;
}

static void watch_free(struct xs_watch *w)
{
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

/* True when @child is @parent or below it (component-wise). */
static bool path_is_below(const char *child, const char *parent)
{
    size_t len = strlen(parent);

    if (strcmp(parent, "/") == 0)
        return child[0] == '/';
    return strncmp(child, parent, len) == 0 &&
           (child[len] == '\0' || child[len] == '/');
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

void xs_watch_fire(struct xs_store *store, const char *path, bool rm)
{
    struct xs_conn *conn;

    for (conn = store->conns; conn; conn = conn->next) {
        struct xs_watch *w;

        if (conn->dead || !watch_may_see(conn, path))
            continue;
        for (w = conn->watches; w; w = w->next) {
            if (path[0] == '@' || w->path[0] == '@') {
                if (strcmp(w->path, path) == 0)
                    xs_watch_send(conn, w, path);
            } else if (path_is_below(path, w->path)) {
                xs_watch_send(conn, w, path);
            } else if (rm && path_is_below(w->path, path)) {
                xs_watch_send(conn, w, w->path);
            }
        }
    }
}
