/*
 * xs_db.h — xenstored's in-memory node tree (Xen docs/misc/xenstore.txt,
 * "General principles": paths, values, permissions, implicit parents).
 *
 * A database is a tree of nodes rooted at "/".  Every node has a value
 * (binary, may be empty), a permission list (first entry = owner and the
 * access of every domain without an entry of its own) and a generation
 * count that changes whenever the node, its permissions or its list of
 * children changes.  Generation counts come from one counter shared by a
 * database and all its clones, so a count is never reused: transactions
 * (xs_transaction.c) compare them to detect conflicts.
 *
 * All functions take canonical absolute paths (see xs_path_canonical()
 * in xs_core.h) and return 0 or a negative errno.
 */
#ifndef XS_DB_H
#define XS_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Permission bits (xenstore.txt "GET_PERMS"/"SET_PERMS"). */
#define XS_PERM_NONE  0u
#define XS_PERM_READ  1u
#define XS_PERM_WRITE 2u
#define XS_PERM_OWNER 4u

/* One permission entry: a domain and its access as a letter n/r/w/b. */
struct xs_perm {
    uint32_t domid;
    char access;
};

struct xs_node;
struct xs_db;

/*
 * Called on every node a database operation looks at (write=false) or
 * changes (write=true), with the node's canonical path and its generation
 * before the operation (0 for a node that does not exist).  Transactions
 * use it to record what they depend on.
 */
typedef void xs_db_note_fn(void *opaque, const char *path, uint64_t gen,
                           bool write);

/*
 * Create a database holding only "/" (owned by domain 0, "n0"), drawing
 * generation counts from *gen_counter (which must outlive the database).
 * Returns NULL on allocation failure.
 */
struct xs_db *xs_db_new(uint64_t *gen_counter);

/*
 * A copy of @db sharing its generation counter, made in O(1): the two
 * trees share nodes until one of them changes (copy on write).  NULL when
 * out of memory.
 */
struct xs_db *xs_db_clone(const struct xs_db *db);

/* Make @db draw generation counts from @gen_counter from now on. */
void xs_db_set_counter(struct xs_db *db, uint64_t *gen_counter);

/* Free @db and all its nodes.  NULL is accepted. */
void xs_db_free(struct xs_db *db);

/* Install (or clear, with NULL) the access hook described above. */
void xs_db_set_note(struct xs_db *db, xs_db_note_fn *fn, void *opaque);

/*
 * Look @path up; NULL when it does not exist.  Notes a read.  Node
 * pointers returned by any function here stay valid only until the next
 * change of @db (a change may replace shared nodes by private copies).
 */
struct xs_node *xs_db_get(struct xs_db *db, const char *path);

/*
 * Look up the deepest existing node on @path (the node itself when it
 * exists, else its nearest existing ancestor; "/" always exists).
 * Notes a read of the node found.
 */
struct xs_node *xs_db_get_existing(struct xs_db *db, const char *path);

/*
 * Create @path and any missing parents (xenstore.txt: "If a particular
 * path exists, all of its parents do too").  New nodes get an empty value
 * and their parent's permissions; when @owner is not XS_DB_INHERIT the
 * first (owner) entry's domid becomes @owner, as Xen does for nodes an
 * unprivileged domain creates.  *@created (may be NULL) receives how many
 * nodes were made.  An existing @path is left alone (returns 0).
 * Errors: -ENOMEM.
 */
#define XS_DB_INHERIT UINT32_MAX
int xs_db_create(struct xs_db *db, const char *path, uint32_t owner,
                 unsigned int *created, struct xs_node **out);

/* Replace the value at @path by @len bytes; -ENOENT, -ENOMEM. */
int xs_db_set_value(struct xs_db *db, const char *path, const void *value,
                    size_t len);

/* Replace the permission list at @path; @n >= 1.  -ENOENT, -ENOMEM. */
int xs_db_set_perms(struct xs_db *db, const char *path,
                    const struct xs_perm *perms, unsigned int n);

/* Remove @path and its whole subtree.  -ENOENT if absent, -EINVAL for "/". */
int xs_db_rm(struct xs_db *db, const char *path);

/* Accessors for a node. */
const char *xs_node_value(const struct xs_node *node, size_t *len);
const struct xs_perm *xs_node_perms(const struct xs_node *node,
                                    unsigned int *n);
uint64_t xs_node_gen(const struct xs_node *node);
unsigned int xs_node_nchildren(const struct xs_node *node);
const char *xs_node_child_name(const struct xs_node *node, unsigned int i);

/*
 * How many nodes xs_db_create(@path) would make (0 when @path exists).
 * Notes nothing.
 */
unsigned int xs_db_missing(const struct xs_db *db, const char *path);

/* Number of nodes in @db whose owner (first perm entry) is @domid. */
unsigned int xs_db_count_owned(const struct xs_db *db, uint32_t domid);

/* Total number of nodes in @db, "/" included. */
unsigned int xs_db_count(const struct xs_db *db);

/*
 * The same counts found by walking the whole tree (@any: every node, else
 * those owned by @domid): for tests, to check the counters above.
 */
unsigned int xs_db_count_walk(const struct xs_db *db, uint32_t domid, bool any);

/*
 * Visit every node, parents before children, in child order.  @fn gets the
 * canonical path; a non-zero return stops the walk and is returned.
 */
typedef int xs_db_walk_fn(void *opaque, const char *path,
                          const struct xs_node *node);
int xs_db_walk(const struct xs_db *db, xs_db_walk_fn *fn, void *opaque);

/*
 * Set the generation of the node at @path directly (state file restore
 * only) and raise the shared counter so later counts stay unique.
 * -ENOENT, -ENOMEM.
 */
int xs_db_restore_gen(struct xs_db *db, const char *path, uint64_t gen);

/*
 * Parse one "<letter><domid>" permission string (xenstore.txt SET_PERMS:
 * n, r, w or b then a decimal domid below 65536).  -EINVAL when malformed.
 */
int xs_perm_parse(const char *s, struct xs_perm *perm);

/*
 * Access mask (XS_PERM_*) domain @domid has on a node with @perms, as
 * xenstore.txt "Permissions" describes: the owner (entry 0) has read,
 * write and owner rights; a domain with its own entry gets that entry;
 * every other domain gets entry 0's access.  @target, when not
 * XS_DB_INHERIT, is a domain @domid was given rights over by SET_TARGET:
 * entries for it count as entries for @domid.  Privilege (domain 0) is
 * handled by the caller.
 */
unsigned int xs_perm_mask(const struct xs_perm *perms, unsigned int n,
                          uint32_t domid, uint32_t target);

#endif
