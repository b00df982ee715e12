/*
 * xs_db.c — the node tree behind xenstored (see xs_db.h).
 *
 * Nodes keep their children in insertion order, as Xen's xenstored does,
 * so DIRECTORY lists children in the order they were created.  Paths are
 * walked component by component; each node also keeps the indexes of its
 * children sorted by name, so a step is a binary search: /local/domain
 * has one child per domain, thousands on a big host.
 *
 * Each tree counts its nodes per owner (the first permission entry) in a
 * small hash table, kept up to date by every change, so the node quota
 * check of a create is a lookup, not a walk of the whole tree.  A clone
 * copies the table (a few bytes per domain that owns nodes).
 *
 * Clones share nodes: every node has a reference count, a clone takes a
 * reference to the root (O(1), so a transaction's snapshot costs nothing
 * up front), and a change first makes the nodes from the root down to the
 * changed one private to the tree being changed (copy on write: a shared
 * node is copied, its children gaining a reference).  Nodes therefore have
 * no parent pointer, and a node pointer returned by a lookup is only good
 * until the next change of that tree.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xs_wire.h>

#include "xs_db.h"

struct xs_node {
    unsigned int refs; /* trees and parents holding this node */
    char *name;        /* leaf name; "" for the root */
    struct xs_node **children;
    unsigned int *order; /* indexes into children, sorted by name */
    unsigned int nchildren, capchildren;
    char *value;
    size_t vlen;
    struct xs_perm *perms;
    unsigned int nperms;
    uint64_t gen;
};

/* Nodes of one owner in a tree; a free slot has domid DB_OWNER_FREE. */
struct db_owner {
    uint32_t domid;
    uint32_t count;
};
#define DB_OWNER_FREE UINT32_MAX

struct xs_db {
    struct xs_node *root;
    struct db_owner *owners; /* open addressing, capowners a power of 2 */
    unsigned int nowners, capowners;
    unsigned int total; /* nodes in the tree, "/" included */
    uint64_t *gen_counter;
    xs_db_note_fn *note;
    void *note_opaque;
};

static void node_unref(struct xs_node *node)
{
    unsigned int i;

    if (!node || --node->refs > 0)
        return;
    for (i = 0; i < node->nchildren; i++)
        node_unref(node->children[i]);
    free(node->children);
    free(node->order);
    free(node->name);
    free(node->value);
    free(node->perms);
    free(node);
}

static struct xs_node *node_alloc(const char *name, size_t namelen,
                                  const struct xs_perm *perms,
                                  unsigned int nperms)
{
    struct xs_node *node = calloc(1, sizeof(*node));

    if (!node)
        return NULL;
    node->refs = 1;
    node->name = strndup(name, namelen);
    node->perms = malloc(nperms * sizeof(*perms));
    if (!node->name || !node->perms) {
        node_unref(node);
        return NULL;
    }
    memcpy(node->perms, perms, nperms * sizeof(*perms));
    node->nperms = nperms;
    return node;
}

static uint64_t db_next_gen(struct xs_db *db)
{
    return ++*db->gen_counter;
}

static void db_note(struct xs_db *db, const char *path, uint64_t gen,
                    bool write)
{
    if (db->note)
        db->note(db->note_opaque, path, gen, write);
}

/* The slot of @domid in @db's table, or the free slot it would take. */
static struct db_owner *db_owner_slot(const struct xs_db *db, uint32_t domid)
{
    unsigned int mask = db->capowners - 1;
    unsigned int i = (domid * 2654435761u) & mask;

    while (db->owners[i].domid != domid && db->owners[i].domid != DB_OWNER_FREE)
        i = (i + 1) & mask;
    return &db->owners[i];
}

/* Make sure @domid has a slot (growing the table); -ENOMEM. */
static int db_owner_reserve(struct xs_db *db, uint32_t domid)
{
    struct db_owner *old = db->owners, *slot;
    unsigned int oldcap = db->capowners, i;

    if (db->capowners && db_owner_slot(db, domid)->domid == domid)
        return 0;
    /* Keep the table at most half full. */
    if (2 * (db->nowners + 1) > db->capowners) {
        unsigned int cap = db->capowners ? db->capowners * 2 : 16;
        struct db_owner *t = malloc(cap * sizeof(*t));

        if (!t)
            return -ENOMEM;
        for (i = 0; i < cap; i++)
            t[i] = (struct db_owner){DB_OWNER_FREE, 0};
        db->owners = t;
        db->capowners = cap;
        for (i = 0; i < oldcap; i++) {
            if (old[i].domid != DB_OWNER_FREE)
                *db_owner_slot(db, old[i].domid) = old[i];
        }
        free(old);
    }
    slot = db_owner_slot(db, domid);
    slot->domid = domid;
    slot->count = 0;
    db->nowners++;
    return 0;
}

/* Count @delta nodes for @domid (reserved before the change). */
static void db_owner_add(struct xs_db *db, uint32_t domid, int delta)
{
    struct db_owner *slot;

    if (db_owner_reserve(db, domid) < 0)
        return; /* cannot happen: the caller reserved */
    slot = db_owner_slot(db, domid);
    slot->count = (uint32_t)((int)slot->count + delta);
    db->total = (unsigned int)((int)db->total + delta);
}

/* A node and its subtree leave @db: uncount them. */
static void db_owner_uncount(struct xs_db *db, const struct xs_node *node)
{
    unsigned int i;

    db_owner_add(db, node->perms[0].domid, -1);
    for (i = 0; i < node->nchildren; i++)
        db_owner_uncount(db, node->children[i]);
}

struct xs_db *xs_db_new(uint64_t *gen_counter)
{
    static const struct xs_perm root_perm = {.domid = 0, .access = 'n'};
    struct xs_db *db = calloc(1, sizeof(*db));

    if (!db)
        return NULL;
    db->gen_counter = gen_counter;
    db->root = node_alloc("", 0, &root_perm, 1);
    if (!db->root || db_owner_reserve(db, 0) < 0) {
        xs_db_free(db);
        return NULL;
    }
    db_owner_add(db, 0, 1);
    db->root->gen = db_next_gen(db);
    return db;
}

/* A private copy of @src: its children are shared (one more reference). */
static struct xs_node *node_copy(const struct xs_node *src)
{
    struct xs_node *node =
        node_alloc(src->name, strlen(src->name), src->perms, src->nperms);
    unsigned int i;

    if (!node)
        return NULL;
    node->gen = src->gen;
    if (src->vlen) {
        node->value = malloc(src->vlen);
        if (!node->value)
            goto fail;
        memcpy(node->value, src->value, src->vlen);
        node->vlen = src->vlen;
    }
    if (src->nchildren) {
        node->children = calloc(src->nchildren, sizeof(*node->children));
        node->order = malloc(src->nchildren * sizeof(*node->order));
        if (!node->children || !node->order)
            goto fail;
        memcpy(node->order, src->order, src->nchildren * sizeof(*node->order));
        node->capchildren = src->nchildren;
        for (i = 0; i < src->nchildren; i++) {
            node->children[i] = src->children[i];
            node->children[i]->refs++;
        }
        node->nchildren = src->nchildren;
    }
    return node;

fail:
    node_unref(node);
    return NULL;
}

/* Make *@slot private to its tree (copy it if shared); NULL: no memory. */
static struct xs_node *node_unshare(struct xs_node **slot)
{
    struct xs_node *copy;

    if ((*slot)->refs == 1)
        return *slot;
    copy = node_copy(*slot);
    if (!copy)
        return NULL;
    (*slot)->refs--;
    *slot = copy;
    return copy;
}

struct xs_db *xs_db_clone(const struct xs_db *src)
{
    struct xs_db *db = calloc(1, sizeof(*db));

    if (!db)
        return NULL;
    db->owners = malloc(src->capowners * sizeof(*db->owners));
    if (!db->owners) {
        free(db);
        return NULL;
    }
    memcpy(db->owners, src->owners, src->capowners * sizeof(*db->owners));
    db->nowners = src->nowners;
    db->capowners = src->capowners;
    db->total = src->total;
    db->gen_counter = src->gen_counter;
    db->root = src->root;
    db->root->refs++;
    return db;
}

void xs_db_set_counter(struct xs_db *db, uint64_t *gen_counter)
{
    db->gen_counter = gen_counter;
}

void xs_db_free(struct xs_db *db)
{
    if (!db)
        return;
    node_unref(db->root);
    free(db->owners);
    free(db);
}

void xs_db_set_note(struct xs_db *db, xs_db_note_fn *fn, void *opaque)
{
    db->note = fn;
    db->note_opaque = opaque;
}

/* strcmp(@cname, the @len bytes of @name) in sign. */
static int name_cmp(const char *cname, const char *name, size_t len)
{
    int c = strncmp(cname, name, len);

    return c ? c : cname[len] != '\0';
}

/*
 * Position in @node->order of the first child whose name is not below
 * @name (@len bytes): where the child is, or where it would go.
 */
static unsigned int node_order_pos(const struct xs_node *node, const char *name,
                                   size_t len)
{
    unsigned int lo = 0, hi = node->nchildren;

    while (lo < hi) {
        unsigned int mid = lo + (hi - lo) / 2;

        if (name_cmp(node->children[node->order[mid]]->name, name, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Index of the child called @name (@len bytes) of @node, or -1. */
static int node_child_index(const struct xs_node *node, const char *name,
                            size_t len)
{
    unsigned int pos = node_order_pos(node, name, len);

    if (pos < node->nchildren &&
        name_cmp(node->children[node->order[pos]]->name, name, len) == 0)
        return (int)node->order[pos];
    return -1;
}

static struct xs_node *node_child(const struct xs_node *node, const char *name,
                                  size_t len)
{
    int i = node_child_index(node, name, len);

    return i < 0 ? NULL : node->children[i];
}

/*
 * Walk @path from the root.  Returns the deepest node reached; *@rest
 * points at the first component not found ("" when the whole path exists).
 */
static struct xs_node *db_walk_path(const struct xs_db *db, const char *path,
                                    const char **rest)
{
    struct xs_node *node = db->root;
    const char *p = path;

    while (*p == '/')
        p++;
    while (*p) {
        size_t len = strcspn(p, "/");
        struct xs_node *child = node_child(node, p, len);

        if (!child)
            break;
        node = child;
        p += len;
        while (*p == '/')
            p++;
    }
    *rest = p;
    return node;
}

/*
 * Like db_walk_path(), but first makes every node on the way private to
 * @db, so the node returned may be changed.  NULL when out of memory.
 */
static struct xs_node *db_walk_path_mut(struct xs_db *db, const char *path,
                                        const char **rest)
{
    struct xs_node **slot = &db->root;
    struct xs_node *node = node_unshare(slot);
    const char *p = path;

    while (*p == '/')
        p++;
    while (node && *p) {
        size_t len = strcspn(p, "/");
        int i = node_child_index(node, p, len);

        if (i < 0)
            break;
        slot = &node->children[i];
        node = node_unshare(slot);
        p += len;
        while (*p == '/')
            p++;
    }
    *rest = p;
    return node;
}

struct xs_node *xs_db_get(struct xs_db *db, const char *path)
{
    const char *rest;
    struct xs_node *node = db_walk_path(db, path, &rest);

    if (*rest) {
        db_note(db, path, 0, false);
        return NULL;
    }
    db_note(db, path, node->gen, false);
    return node;
}

/* Length of the prefix of @path that names @rest's parent. */
static size_t path_prefix_len(const char *path, const char *rest)
{
    size_t len = (size_t)(rest - path);

    /* Drop the separator in front of @rest, but keep the root's "/". */
    if (len > 1 && path[len - 1] == '/')
        len--;
    return len;
}

struct xs_node *xs_db_get_existing(struct xs_db *db, const char *path)
{
    const char *rest;
    struct xs_node *node = db_walk_path(db, path, &rest);
    char buf[XENSTORE_ABS_PATH_MAX + 1];
    size_t len = path_prefix_len(path, rest);

    if (len > XENSTORE_ABS_PATH_MAX)
        len = XENSTORE_ABS_PATH_MAX;
    memcpy(buf, path, len);
    buf[len] = '\0';
    db_note(db, *rest ? buf : path, node->gen, false);
    return node;
}

static int node_add_child(struct xs_node *parent, struct xs_node *child)
{
    unsigned int pos;

    if (parent->nchildren == parent->capchildren) {
        unsigned int cap = parent->capchildren ? parent->capchildren * 2 : 4;
        struct xs_node **c =
            realloc(parent->children, cap * sizeof(*parent->children));
        unsigned int *o;

        if (!c)
            return -ENOMEM;
        parent->children = c;
        o = realloc(parent->order, cap * sizeof(*parent->order));
        if (!o)
            return -ENOMEM;
        parent->order = o;
        parent->capchildren = cap;
    }
    pos = node_order_pos(parent, child->name, strlen(child->name));
    memmove(&parent->order[pos + 1], &parent->order[pos],
            (parent->nchildren - pos) * sizeof(*parent->order));
    parent->order[pos] = parent->nchildren;
    parent->children[parent->nchildren++] = child;
    return 0;
}

/* Take child @i out of @parent's arrays (the caller drops its reference). */
static void node_remove_child(struct xs_node *parent, unsigned int i)
{
    unsigned int k, n = 0;

    memmove(&parent->children[i], &parent->children[i + 1],
            (parent->nchildren - i - 1) * sizeof(*parent->children));
    /* Drop @i from the sorted order; later children moved down by one. */
    for (k = 0; k < parent->nchildren; k++) {
        unsigned int o = parent->order[k];

        if (o != i)
            parent->order[n++] = o > i ? o - 1 : o;
    }
    parent->nchildren--;
}

int xs_db_create(struct xs_db *db, const char *path, uint32_t owner,
                 unsigned int *created, struct xs_node **out)
{
    const char *rest;
    struct xs_node *node;
    unsigned int count = 0;
    int rc = 0;

    if (owner != XS_DB_INHERIT && db_owner_reserve(db, owner) < 0) {
        rc = -ENOMEM;
        goto out;
    }
    node = xs_db_missing(db, path) ? db_walk_path_mut(db, path, &rest)
                                   : db_walk_path(db, path, &rest);
    if (!node) {
        rc = -ENOMEM;
        goto out;
    }
    if (*rest) {
        /* The deepest existing node gains a child: it changes. */
        size_t plen = path_prefix_len(path, rest);
        char *parent_path = strndup(path, plen);

        if (!parent_path) {
            rc = -ENOMEM;
            goto out;
        }
        db_note(db, parent_path, node->gen, true);
        free(parent_path);
        node->gen = db_next_gen(db);
    }
    while (*rest) {
        size_t len = strcspn(rest, "/");
        struct xs_node *child =
            node_alloc(rest, len, node->perms, node->nperms);
        char *child_path;

        if (!child) {
            rc = -ENOMEM;
            goto out;
        }
        if (owner != XS_DB_INHERIT)
            child->perms[0].domid = owner;
        rc = node_add_child(node, child);
        if (rc) {
            node_unref(child);
            goto out;
        }
        db_owner_add(db, child->perms[0].domid, 1);
        count++;
        child_path = strndup(path, (size_t)(rest - path) + len);
        if (child_path) {
            db_note(db, child_path, 0, true);
            free(child_path);
        }
        child->gen = db_next_gen(db);
        node = child;
        rest += len;
        while (*rest == '/')
            rest++;
    }
    if (out)
        *out = node;

out:
    if (created)
        *created = count;
    return rc;
}

/* The node at @path made private to @db for a change; NULL: -errno. */
static struct xs_node *db_get_mut(struct xs_db *db, const char *path, int *rc)
{
    const char *rest;
    struct xs_node *node = db_walk_path(db, path, &rest);

    if (*rest) {
        *rc = -ENOENT;
        return NULL;
    }
    node = db_walk_path_mut(db, path, &rest);
    *rc = node ? 0 : -ENOMEM;
    return node;
}

int xs_db_set_value(struct xs_db *db, const char *path, const void *value,
                    size_t len)
{
    struct xs_node *node;
    char *copy = NULL;
    int rc;

    if (len) {
        copy = malloc(len);
        if (!copy)
            return -ENOMEM;
        memcpy(copy, value, len);
    }
    node = db_get_mut(db, path, &rc);
    if (!node) {
        free(copy);
        return rc;
    }
    db_note(db, path, node->gen, true);
    free(node->value);
    node->value = copy;
    node->vlen = len;
    node->gen = db_next_gen(db);
    return 0;
}

int xs_db_set_perms(struct xs_db *db, const char *path,
                    const struct xs_perm *perms, unsigned int n)
{
    struct xs_node *node;
    struct xs_perm *copy;
    int rc;

    if (n == 0)
        return -EINVAL;
    if (db_owner_reserve(db, perms[0].domid) < 0)
        return -ENOMEM;
    copy = malloc(n * sizeof(*perms));
    if (!copy)
        return -ENOMEM;
    memcpy(copy, perms, n * sizeof(*perms));
    node = db_get_mut(db, path, &rc);
    if (!node) {
        free(copy);
        return rc;
    }
    db_note(db, path, node->gen, true);
    db_owner_add(db, node->perms[0].domid, -1);
    db_owner_add(db, copy[0].domid, 1);
    free(node->perms);
    node->perms = copy;
    node->nperms = n;
    node->gen = db_next_gen(db);
    return 0;
}

/* Note every node of a subtree about to be removed as written. */
static void db_note_subtree(struct xs_db *db, struct xs_node *node, char *path,
                            size_t len, size_t cap)
{
    unsigned int i;

    db_note(db, path, node->gen, true);
    for (i = 0; i < node->nchildren; i++) {
        size_t nlen = strlen(node->children[i]->name);

        if (len + 1 + nlen >= cap)
            continue;
        path[len] = '/';
        memcpy(path + len + 1, node->children[i]->name, nlen + 1);
        db_note_subtree(db, node->children[i], path, len + 1 + nlen, cap);
        path[len] = '\0';
    }
}

int xs_db_rm(struct xs_db *db, const char *path)
{
    const char *rest;
    struct xs_node *node = db_walk_path(db, path, &rest);
    struct xs_node *parent;
    char *buf = NULL, *slash;
    size_t cap = XENSTORE_ABS_PATH_MAX * 2;
    int rc = 0, i;

    if (*rest) {
        db_note(db, path, 0, false);
        return -ENOENT;
    }
    if (node == db->root)
        return -EINVAL;
    buf = malloc(cap);
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    if (db->note) {
        snprintf(buf, cap, "%s", path);
        db_note_subtree(db, node, buf, strlen(buf), cap);
    }
    /* The parent's list of children changes: make it private. */
    snprintf(buf, cap, "%s", path);
    slash = strrchr(buf, '/');
    if (slash == buf)
        buf[1] = '\0';
    else if (slash)
        *slash = '\0';
    parent = db_walk_path_mut(db, buf, &rest);
    if (!parent) {
        rc = -ENOMEM;
        goto out;
    }
    db_note(db, buf, parent->gen, true);
    slash = strrchr(path, '/');
    i = node_child_index(parent, slash + 1, strlen(slash + 1));
    node = parent->children[i];
    node_remove_child(parent, (unsigned int)i);
    parent->gen = db_next_gen(db);
    db_owner_uncount(db, node);
    node_unref(node);

out:
    free(buf);
    return rc;
}

const char *xs_node_value(const struct xs_node *node, size_t *len)
{
    *len = node->vlen;
    return node->value ? node->value : "";
}

const struct xs_perm *xs_node_perms(const struct xs_node *node, unsigned int *n)
{
    *n = node->nperms;
    return node->perms;
}

uint64_t xs_node_gen(const struct xs_node *node)
{
    return node->gen;
}

unsigned int xs_node_nchildren(const struct xs_node *node)
{
    return node->nchildren;
}

const char *xs_node_child_name(const struct xs_node *node, unsigned int i)
{
    return i < node->nchildren ? node->children[i]->name : NULL;
}

unsigned int xs_db_missing(const struct xs_db *db, const char *path)
{
    const char *rest;
    unsigned int n = 0;

    db_walk_path(db, path, &rest);
    while (*rest) {
        n++;
        rest += strcspn(rest, "/");
        while (*rest == '/')
            rest++;
    }
    return n;
}

static unsigned int node_count(const struct xs_node *node, uint32_t domid,
                               bool any)
{
    unsigned int i, n = (any || node->perms[0].domid == domid) ? 1 : 0;

    for (i = 0; i < node->nchildren; i++)
        n += node_count(node->children[i], domid, any);
    return n;
}

unsigned int xs_db_count_owned(const struct xs_db *db, uint32_t domid)
{
    const struct db_owner *slot = db_owner_slot(db, domid);

    return slot->domid == domid ? slot->count : 0;
}

unsigned int xs_db_count(const struct xs_db *db)
{
    return db->total;
}

unsigned int xs_db_count_walk(const struct xs_db *db, uint32_t domid, bool any)
{
    return node_count(db->root, domid, any);
}

static int node_walk(const struct xs_node *node, char *path, size_t len,
                     size_t cap, xs_db_walk_fn *fn, void *opaque)
{
    unsigned int i;
    int rc = fn(opaque, len ? path : "/", node);

    for (i = 0; !rc && i < node->nchildren; i++) {
        size_t nlen = strlen(node->children[i]->name);

        if (len + 1 + nlen >= cap)
            return -ENAMETOOLONG;
        path[len] = '/';
        memcpy(path + len + 1, node->children[i]->name, nlen + 1);
        rc =
            node_walk(node->children[i], path, len + 1 + nlen, cap, fn, opaque);
        path[len] = '\0';
    }
    return rc;
}

int xs_db_walk(const struct xs_db *db, xs_db_walk_fn *fn, void *opaque)
{
    size_t cap = XENSTORE_ABS_PATH_MAX * 2;
    char *path = calloc(1, cap);
    int rc;

    if (!path)
        return -ENOMEM;
    rc = node_walk(db->root, path, 0, cap, fn, opaque);
    free(path);
    return rc;
}

int xs_db_restore_gen(struct xs_db *db, const char *path, uint64_t gen)
{
    int rc;
    struct xs_node *node = db_get_mut(db, path, &rc);

    if (!node)
        return rc;
    node->gen = gen;
    if (*db->gen_counter < gen)
        *db->gen_counter = gen;
    return 0;
}

int xs_perm_parse(const char *s, struct xs_perm *perm)
{
    unsigned long id;
    char *end;

    if (!strchr("nrwb", s[0]) || s[0] == '\0' || s[1] < '0' || s[1] > '9')
        return -EINVAL;
    errno = 0;
    id = strtoul(s + 1, &end, 10);
    if (errno || *end || id > 0xffff)
        return -EINVAL;
    perm->access = s[0];
    perm->domid = (uint32_t)id;
    return 0;
}

static unsigned int perm_letter_mask(char access)
{
    switch (access) {
    case 'r':
        return XS_PERM_READ;
    case 'w':
        return XS_PERM_WRITE;
    case 'b':
        return XS_PERM_READ | XS_PERM_WRITE;
    default:
        return XS_PERM_NONE;
    }
}

unsigned int xs_perm_mask(const struct xs_perm *perms, unsigned int n,
                          uint32_t domid, uint32_t target)
{
    unsigned int i;

    if (n == 0)
        return XS_PERM_NONE;
    if (perms[0].domid == domid ||
        (target != XS_DB_INHERIT && perms[0].domid == target))
        return XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;
    for (i = 1; i < n; i++) {
        if (perms[i].domid == domid ||
            (target != XS_DB_INHERIT && perms[i].domid == target))
            return perm_letter_mask(perms[i].access);
    }
    return perm_letter_mask(perms[0].access);
}
