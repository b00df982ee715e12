/*
 * test_db.c — xenstored's node tree (xs_db.c), its permission rules
 * (xenstore.txt "Permissions") as a table, the access hook transactions
 * rely on, and the state file (xs_state.c): a round trip, then every
 * truncation and every single-bit flip refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "xs_core.h"

static uint64_t counter;

struct notes {
    char log[2048];
};

static void note_fn(void *opaque, const char *path, uint64_t gen, bool write)
{
    struct notes *n = opaque;
    size_t len = strlen(n->log);

    snprintf(n->log + len, sizeof(n->log) - len, "%s%s%s", len ? " " : "",
             write ? "W" : "R", path);
    (void)gen;
}

static int collect(void *opaque, const char *path, const struct xs_node *node)
{
    char *out = opaque;
    size_t vlen, len = strlen(out);
    const char *v = xs_node_value(node, &vlen);
    unsigned int n;
    const struct xs_perm *p = xs_node_perms(node, &n);

    snprintf(out + len, 4096 - len, "%s=%.*s(%c%u/%u)@%llu;", path, (int)vlen,
             v, p[0].access, p[0].domid, n,
             (unsigned long long)xs_node_gen(node));
    return 0;
}

static void test_tree(void)
{
    struct xs_db *db = xs_db_new(&counter), *clone;
    struct xs_node *node, *a;
    unsigned int created = 99;
    uint64_t g1, g2;
    struct notes notes = {""};
    char dump[4096] = "";

    node = xs_db_get(db, "/");
    ok(node != NULL, "new tree has /");
    {
        unsigned int n;
        const struct xs_perm *p = xs_node_perms(node, &n);

        ok(n == 1 && p[0].domid == 0 && p[0].access == 'n', "/ is n0");
    }
    is_int(xs_db_count(db), 1, "one node");
    is_int(xs_db_missing(db, "/a/b/c"), 3, "three nodes missing for /a/b/c");
    is_int(xs_db_create(db, "/a/b/c", XS_DB_INHERIT, &created, &node), 0,
           "create /a/b/c");
    is_int(created, 3, "parents made too");
    is_int(xs_db_missing(db, "/a/b/c"), 0, "nothing missing now");
    is_int(xs_db_create(db, "/a/b/c", 5, &created, &node), 0,
           "creating an existing node");
    is_int(created, 0, "...makes nothing");
    a = xs_db_get(db, "/a");
    g1 = xs_node_gen(a);
    xs_db_create(db, "/a/x", 7, &created, &node);
    g2 = xs_node_gen(a);
    ok(g2 > g1, "a new child renews the parent's generation");
    {
        unsigned int n;
        const struct xs_perm *p = xs_node_perms(node, &n);

        ok(n == 1 && p[0].domid == 7, "owner override on creation");
    }
    is_int(xs_db_count_owned(db, 7), 1, "dom7 owns one node");
    is_int(xs_db_count_owned(db, 0), 4, "dom0 owns four");
    g1 = xs_node_gen(node);
    xs_db_set_value(db, "/a/x", "v", 1);
    ok(xs_node_gen(node) > g1, "a write renews the generation");
    ok(xs_node_gen(node) > g2, "generations are never reused");
    is_int(xs_node_nchildren(a), 2, "/a has two children");
    is_str(xs_node_child_name(a, 0), "b", "first child b");
    is_str(xs_node_child_name(a, 1), "x", "second child x");
    ok(xs_node_child_name(a, 2) == NULL, "no third child");

    clone = xs_db_clone(db);
    node = xs_db_get(clone, "/a/x");
    xs_db_set_value(clone, "/a/x", "changed", 7);
    {
        size_t len;
        const char *v = xs_node_value(xs_db_get(db, "/a/x"), &len);

        ok(len == 1 && v[0] == 'v', "changing a clone leaves the original");
    }
    ok(xs_db_get(clone, "/a/b/c") == xs_db_get(db, "/a/b/c"),
       "untouched nodes stay shared between clone and original");
    ok(xs_db_get(clone, "/a/x") != xs_db_get(db, "/a/x"),
       "the changed node was copied");
    xs_db_set_value(db, "/a/b/c", "orig", 4);
    {
        size_t len;

        xs_node_value(xs_db_get(clone, "/a/b/c"), &len);
        is_int(len, 0, "changing the original leaves the clone");
    }
    is_int(xs_db_rm(clone, "/a"), 0, "rm /a in the clone");
    is_int(xs_db_count(clone), 1, "clone has only / left");
    is_int(xs_db_count(db), 5, "original still has 5 nodes");
    is_int(xs_db_rm(clone, "/a"), -ENOENT, "rm missing: -ENOENT");
    is_int(xs_db_rm(clone, "/"), -EINVAL, "rm /: -EINVAL");
    xs_db_free(clone);

    xs_db_walk(db, collect, dump);
    ok(strstr(dump, "/=(n0/1)") == dump && strstr(dump, "/a/x=v(n7/1)"),
       "walk visits / first and every node (%s)", dump);

    /* The hook transactions use. */
    xs_db_set_note(db, note_fn, &notes);
    xs_db_get(db, "/a/b");
    xs_db_get(db, "/nope");
    xs_db_create(db, "/a/b/new/leaf", XS_DB_INHERIT, NULL, &node);
    is_str(notes.log, "R/a/b R/nope W/a/b W/a/b/new W/a/b/new/leaf",
           "reads, absent reads and creations noted with their paths");
    notes.log[0] = '\0';
    xs_db_rm(db, "/a/b");
    is_str(notes.log, "W/a/b W/a/b/c W/a/b/new W/a/b/new/leaf W/a",
           "rm notes the whole subtree and the parent");
    xs_db_set_note(db, NULL, NULL);
    xs_db_free(db);
}

static void test_perm_table(void)
{
    static const struct {
        const char *perms[3];
        uint32_t domid, target;
        unsigned int want;
        const char *what;
    } rows[] = {
        {{"n5"}, 5, XS_DB_INHERIT, 7, "owner has read, write, owner"},
        {{"n5"}, 6, XS_DB_INHERIT, 0, "n default: nothing"},
        {{"r5"}, 6, XS_DB_INHERIT, 1, "r default: read"},
        {{"w5"}, 6, XS_DB_INHERIT, 2, "w default: write"},
        {{"b5"}, 6, XS_DB_INHERIT, 3, "b default: both"},
        {{"n5", "r6"}, 6, XS_DB_INHERIT, 1, "entry r"},
        {{"n5", "w6"}, 6, XS_DB_INHERIT, 2, "entry w"},
        {{"n5", "b6"}, 6, XS_DB_INHERIT, 3, "entry b"},
        {{"b5", "n6"}, 6, XS_DB_INHERIT, 0, "entry n overrides b default"},
        {{"n5", "r6"}, 7, XS_DB_INHERIT, 0, "other domain: default"},
        {{"n5", "r6", "w6"}, 6, XS_DB_INHERIT, 1, "first matching entry"},
        {{"n5", "n5"}, 5, XS_DB_INHERIT, 7, "owner beats its own entry"},
        {{"n5"}, 6, 5, 7, "target owner: full rights"},
        {{"n0", "r5"}, 6, 5, 1, "target's entry applies"},
        {{"n0", "r5"}, 6, 8, 0, "unrelated target: nothing"},
        {{"n0", "w6", "r5"}, 6, 5, 2, "own entry found first"},
    };
    unsigned int i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct xs_perm p[3];
        unsigned int n = 0;

        while (n < 3 && rows[i].perms[n]) {
            xs_perm_parse(rows[i].perms[n], &p[n]);
            n++;
        }
        is_int(xs_perm_mask(p, n, rows[i].domid, rows[i].target), rows[i].want,
               rows[i].what);
    }
    {
        struct xs_perm p;

        ok(xs_perm_parse("b65535", &p) == 0 && p.access == 'b' &&
               p.domid == 65535,
           "parse b65535");
        is_int(xs_perm_parse("r65536", &p), -EINVAL, "domid too big");
        is_int(xs_perm_parse("x1", &p), -EINVAL, "bad letter");
        is_int(xs_perm_parse("r", &p), -EINVAL, "no domid");
        is_int(xs_perm_parse("r-1", &p), -EINVAL, "negative domid");
        is_int(xs_perm_parse("r1a", &p), -EINVAL, "junk after domid");
        is_int(xs_perm_parse("", &p), -EINVAL, "empty");
    }
}

static int write_file(const char *path, const unsigned char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = write(fd, data, len);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

static void test_state(void)
{
    struct xs_store a, b;
    char dir[] = "/tmp/xsd-db-XXXXXX", file[64], bad[80];
    char d1[4096] = "", d2[4096] = "";
    unsigned char *data;
    struct stat st;
    struct xs_node *node;
    struct xs_perm perms[2] = {{3, 'r'}, {9, 'b'}};
    size_t i;
    unsigned int refused = 0;
    int fd;

    if (!mkdtemp(dir)) {
        tap_skip(8, "no temporary directory");
        return;
    }
    snprintf(file, sizeof(file), "%s/state", dir);
    snprintf(bad, sizeof(bad), "%s/bad", dir);
    xs_store_init(&a);
    xs_db_create(a.db, "/x/y", XS_DB_INHERIT, NULL, &node);
    xs_db_set_value(a.db, "/x/y", "bin\0ary", 7);
    xs_db_set_perms(a.db, "/x/y", perms, 2);
    xs_db_create(a.db, "/x/z", XS_DB_INHERIT, NULL, &node);
    xs_db_create(a.db, "/x/y/w", 4, NULL, &node);
    is_int(xs_state_save(a.db, a.gen, file), 0, "save");
    xs_store_init(&b);
    is_int(xs_state_load(&b, file), 0, "load");
    xs_db_walk(a.db, collect, d1);
    xs_db_walk(b.db, collect, d2);
    is_str(d2, d1, "same paths, values, owners, perm counts, generations");
    ok(b.gen >= a.gen, "generation counter restored");
    {
        size_t len;
        unsigned int n;
        const char *v = xs_node_value(xs_db_get(b.db, "/x/y"), &len);
        const struct xs_perm *p = xs_node_perms(xs_db_get(b.db, "/x/y"), &n);

        ok(len == 7 && memcmp(v, "bin\0ary", 7) == 0, "binary value kept");
        ok(n == 2 && p[1].domid == 9 && p[1].access == 'b',
           "permission list kept");
    }
    is_int(xs_state_load(&b, "/nonexistent/state"), -ENOENT,
           "missing file: -ENOENT");

    stat(file, &st);
    data = malloc((size_t)st.st_size);
    fd = open(file, O_RDONLY);
    if (read(fd, data, (size_t)st.st_size) != st.st_size)
        tap_diag("short read");
    close(fd);
    for (i = 0; i < (size_t)st.st_size; i++) {
        write_file(bad, data, i);
        if (xs_state_load(&b, bad) == -EINVAL)
            refused++;
    }
    is_int(refused, st.st_size, "every truncation refused (-EINVAL)");
    refused = 0;
    for (i = 0; i < (size_t)st.st_size * 8; i++) {
        data[i / 8] ^= (unsigned char)(1u << (i % 8));
        write_file(bad, data, (size_t)st.st_size);
        if (xs_state_load(&b, bad) == -EINVAL)
            refused++;
        data[i / 8] ^= (unsigned char)(1u << (i % 8));
    }
    is_int(refused, st.st_size * 8, "every single-bit flip refused");
    xs_db_walk(b.db, collect, (d2[0] = '\0', d2));
    is_str(d2, d1, "refused loads left the loaded tree alone");
    free(data);
    unlink(bad);
    unlink(file);
    rmdir(dir);
    xs_store_fini(&a);
    xs_store_fini(&b);
}

/*
 * Many siblings (as /local/domain on a big host): lookups by name go
 * through the sorted index, DIRECTORY order stays the creation order,
 * and removals in the middle keep both right.  The per-owner counters of
 * the node quota match a walk after random changes to a tree and clones.
 */
static void test_many_children(void)
{
    struct xs_db *db = xs_db_new(&counter), *clone;
    unsigned int i, bad_find = 0, bad_order = 0, bad_count = 0;
    struct xs_node *parent;
    char path[64];

    for (i = 0; i < 500; i++) {
        /* Names in an order unlike their sort order. */
        snprintf(path, sizeof(path), "/d/%u", (i * 7919u) % 1000u);
        xs_db_create(db, path, i % 5, NULL, NULL);
    }
    /* Which names exist: exactly the 500 made above. */
    for (i = 0; i < 1000; i++) {
        unsigned int k;
        bool made = false;

        for (k = 0; k < 500 && !made; k++)
            made = (k * 7919u) % 1000u == i;
        snprintf(path, sizeof(path), "/d/%u", i);
        bad_find += (xs_db_get(db, path) != NULL) != made;
    }
    is_int(bad_find, 0, "500 siblings: every name found, no other");
    for (i = 0; i < 500; i += 3) {
        snprintf(path, sizeof(path), "/d/%u", (i * 7919u) % 1000u);
        xs_db_rm(db, path);
    }
    parent = xs_db_get(db, "/d");
    for (i = 0; i < 500; i++) {
        unsigned int k = 0, j;

        snprintf(path, sizeof(path), "/d/%u", (i * 7919u) % 1000u);
        if (i % 3 == 0) {
            bad_find += xs_db_get(db, path) != NULL;
            continue;
        }
        bad_find += xs_db_get(db, path) == NULL;
        /* Its position among the children: creation order. */
        for (j = 0; j < i; j++)
            k += j % 3 != 0;
        snprintf(path, sizeof(path), "%u", (i * 7919u) % 1000u);
        bad_order += strcmp(xs_node_child_name(parent, k) ?: "", path) != 0;
    }
    is_int(bad_find, 0, "after removing every third: lookups right");
    is_int(bad_order, 0, "children listed in creation order");

    srand(99);
    clone = NULL;
    for (i = 0; i < 3000; i++) {
        struct xs_db *t = clone && rand() % 2 ? clone : db;
        struct xs_perm perm = {(uint32_t)(rand() % 4), 'n'};
        unsigned int d;

        snprintf(path, sizeof(path), "/r/%d/%d", rand() % 8, rand() % 8);
        switch (rand() % 4) {
        case 0:
            xs_db_create(t, path, rand() % 2 ? XS_DB_INHERIT : perm.domid, NULL,
                         NULL);
            break;
        case 1:
            xs_db_set_perms(t, path, &perm, 1);
            break;
        case 2:
            xs_db_rm(t, rand() % 3 ? path : "/r");
            break;
        default:
            if (!clone)
                clone = xs_db_clone(db);
            break;
        }
        for (d = 0; d < 5; d++)
            bad_count +=
                xs_db_count_owned(t, d) != xs_db_count_walk(t, d, false);
        bad_count += xs_db_count(t) != xs_db_count_walk(t, 0, true);
    }
    is_int(bad_count, 0,
           "3000 random changes: owner and node counts match "
           "a walk, in the tree and a clone");
    xs_db_free(clone);
    xs_db_free(db);
}

int main(void)
{
    test_tree();
    test_many_children();
    test_perm_table();
    test_state();
    return tap_done();
}
