/*
 * xs_state.c — the state file that lets xenstored restart without losing
 * its tree.
 *
 * What survives: every node with its path, value, permissions and
 * generation count, and the generation counter.  What does not: watches,
 * transactions, connections and introduced domains (clients reconnect,
 * set their watches again and the toolstack introduces its domains again).
 *
 * Format (host byte order; the file never leaves the host):
 *   "XSHVSTA1"  8-byte magic
 *   u64         generation counter
 *   records, parents before children, "/" first:
 *     u32 path length, path bytes (no NUL)
 *     u64 generation
 *     u32 permission count (>= 1), then per entry u32 domid, u8 letter
 *     u32 value length, value bytes
 *   trailer: u32 0xffffffff, u32 record count, u64 FNV-1a hash of every
 *   byte before the trailer.
 * A file that fails any check is refused as a whole: better no daemon
 * than a silently wrong tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xs_core.h"

#define STATE_MAGIC     "XSHVSTA1"
#define STATE_END       0xffffffffu
#define STATE_MAX_BYTES (1u << 30)

struct state_buf {
    unsigned char *data;
    size_t len, cap;
    int err;
};

static void buf_put(struct state_buf *b, const void *p, size_t len)
{
    if (b->err)
        return;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        unsigned char *n;

        while (cap < b->len + len)
            cap *= 2;
        n = realloc(b->data, cap);
        if (!n) {
            b->err = -ENOMEM;
            return;
        }
        b->data = n;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, len);
    b->len += len;
}

static void buf_u32(struct state_buf *b, uint32_t v)
{
    buf_put(b, &v, sizeof(v));
}

static void buf_u64(struct state_buf *b, uint64_t v)
{
    buf_put(b, &v, sizeof(v));
}

static uint64_t state_hash(const unsigned char *p, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

struct save_ctx {
    struct state_buf buf;
    uint32_t count;
};

static int save_node(void *opaque, const char *path, const struct xs_node *node)
{
    struct save_ctx *ctx = opaque;
    const struct xs_perm *perms;
    const char *value;
    unsigned int n, i;
    size_t vlen;

    perms = xs_node_perms(node, &n);
    value = xs_node_value(node, &vlen);
    buf_u32(&ctx->buf, (uint32_t)strlen(path));
    buf_put(&ctx->buf, path, strlen(path));
    buf_u64(&ctx->buf, xs_node_gen(node));
    buf_u32(&ctx->buf, n);
    for (i = 0; i < n; i++) {
        unsigned char letter = (unsigned char)perms[i].access;

        buf_u32(&ctx->buf, perms[i].domid);
        buf_put(&ctx->buf, &letter, 1);
    }
    buf_u32(&ctx->buf, (uint32_t)vlen);
    buf_put(&ctx->buf, value, vlen);
    ctx->count++;
    return ctx->buf.err;
}

int xs_state_save(const struct xs_db *db, uint64_t gen, const char *file)
{
    struct save_ctx ctx;
    char *tmp = NULL;
    size_t off = 0;
    int fd = -1, rc;

    memset(&ctx, 0, sizeof(ctx));
    buf_put(&ctx.buf, STATE_MAGIC, 8);
    buf_u64(&ctx.buf, gen);
    rc = xs_db_walk(db, save_node, &ctx);
    if (rc)
        goto out;
    buf_u32(&ctx.buf, STATE_END);
    buf_u32(&ctx.buf, ctx.count);
    if (!ctx.buf.err)
        buf_u64(&ctx.buf, state_hash(ctx.buf.data, ctx.buf.len));
    if (ctx.buf.err) {
        rc = ctx.buf.err;
        goto out;
    }
    if (asprintf(&tmp, "%s.tmp", file) < 0) {
        tmp = NULL;
        rc = -ENOMEM;
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    while (off < ctx.buf.len) {
        ssize_t n = write(fd, ctx.buf.data + off, ctx.buf.len - off);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            goto out;
        }
        off += (size_t)n;
    }
    if (fsync(fd) < 0) {
        rc = -errno;
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, file) < 0) {
        rc = -errno;
        goto out;
    }

out:
    if (fd >= 0)
        close(fd);
    if (rc && tmp)
        unlink(tmp);
    free(tmp);
    free(ctx.buf.data);
    return rc;
}

struct state_reader {
    const unsigned char *p;
    size_t left;
};

static int rd(struct state_reader *r, void *out, size_t len)
{
    if (r->left < len)
        return -EINVAL;
    memcpy(out, r->p, len);
    r->p += len;
    r->left -= len;
    return 0;
}

/* A path as xs_path_canonical() would accept it (absolute form). */
static bool state_path_ok(const char *p, size_t len)
{
    size_t i;

    if (len == 0 || p[0] != '/' || len > XENSTORE_ABS_PATH_MAX)
        return false;
    if (len > 1 && p[len - 1] == '/')
        return false;
    for (i = 0; i < len; i++) {
        char c = p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '/' || c == '_' ||
              c == '@'))
            return false;
        if (c == '/' && i + 1 < len && p[i + 1] == '/')
            return false;
    }
    return true;
}

/*
 * Parse one record into @db (@gens_only: only restore the generation of
 * the node already loaded); -EINVAL on anything malformed.
 */
static int load_record(struct xs_db *db, struct state_reader *r, uint32_t plen,
                       bool first, bool gens_only)
{
    char path[XENSTORE_ABS_PATH_MAX + 1];
    struct xs_perm *perms = NULL;
    struct xs_node *node = NULL;
    uint32_t nperms, vlen, i;
    const void *value;
    uint64_t gen;
    int rc = -EINVAL;

    if (plen > XENSTORE_ABS_PATH_MAX || rd(r, path, plen))
        goto out;
    path[plen] = '\0';
    if (!state_path_ok(path, plen) || (first != (strcmp(path, "/") == 0)))
        goto out;
    if (rd(r, &gen, 8) || rd(r, &nperms, 4) || nperms == 0 || nperms > 65536 ||
        (size_t)nperms * 5 > r->left)
        goto out;
    perms = calloc(nperms, sizeof(*perms));
    if (!perms) {
        rc = -ENOMEM;
        goto out;
    }
    for (i = 0; i < nperms; i++) {
        unsigned char letter;

        if (rd(r, &perms[i].domid, 4) || rd(r, &letter, 1) ||
            !strchr("nrwb", letter) || letter == 0 || perms[i].domid > 0xffff)
            goto out;
        perms[i].access = (char)letter;
    }
    if (rd(r, &vlen, 4) || vlen > r->left)
        goto out;
    value = r->p;
    r->p += vlen;
    r->left -= vlen;
    if (gens_only) {
        /*
         * Second pass: creating children renewed their parents' counts,
         * so every count is restored once the tree is complete.
         */
        rc = xs_db_restore_gen(db, path, gen) ? -EINVAL : 0;
        goto out;
    }
    if (first) {
        node = xs_db_get(db, "/");
    } else {
        unsigned int created = 0;

        /* Parents come first: exactly one node is new, else corrupt. */
        if (xs_db_missing(db, path) != 1)
            goto out;
        rc = xs_db_create(db, path, XS_DB_INHERIT, &created, &node);
        if (rc)
            goto out;
        rc = -EINVAL;
    }
    if (xs_db_set_value(db, path, value, vlen) ||
        xs_db_set_perms(db, path, perms, nperms)) {
        rc = -ENOMEM;
        goto out;
    }
    rc = 0;

out:
    free(perms);
    return rc;
}

int xs_state_load(struct xs_store *store, const char *file)
{
    unsigned char *data = NULL;
    struct state_reader r;
    struct xs_db *db = NULL;
    uint64_t gen = 0, saved_gen, hash;
    uint32_t plen, count = 0, want;
    struct stat st;
    size_t off = 0;
    int fd, rc = 0, pass;

    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if (st.st_size < 8 + 8 + 16 || st.st_size > STATE_MAX_BYTES) {
        rc = -EINVAL;
        goto out;
    }
    data = malloc((size_t)st.st_size);
    if (!data) {
        rc = -ENOMEM;
        goto out;
    }
    while (off < (size_t)st.st_size) {
        ssize_t n = read(fd, data + off, (size_t)st.st_size - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EINVAL;
            goto out;
        }
        off += (size_t)n;
    }
    memcpy(&hash, data + off - 8, 8);
    if (memcmp(data, STATE_MAGIC, 8) != 0 ||
        state_hash(data, off - 8) != hash) {
        rc = -EINVAL;
        goto out;
    }
    db = xs_db_new(&gen);
    if (!db) {
        rc = -ENOMEM;
        goto out;
    }
    for (pass = 0; pass < 2; pass++) {
        r.p = data + 8;
        r.left = off - 8 - 8; /* the hash is not a record */
        count = 0;
        if (rd(&r, &saved_gen, 8)) {
            rc = -EINVAL;
            goto out;
        }
        for (;;) {
            if (rd(&r, &plen, 4)) {
                rc = -EINVAL;
                goto out;
            }
            if (plen == STATE_END)
                break;
            rc = load_record(db, &r, plen, count == 0, pass == 1);
            if (rc)
                goto out;
            count++;
        }
        if (rd(&r, &want, 4) || want != count || r.left != 0 || count == 0) {
            rc = -EINVAL;
            goto out;
        }
    }
    /* Swap in the loaded tree; its counter becomes the store's. */
    if (gen < saved_gen)
        gen = saved_gen;
    xs_db_free(store->db);
    store->gen = gen;
    xs_db_set_counter(db, &store->gen);
    store->db = db;
    db = NULL;

out:
    xs_db_free(db);
    free(data);
    close(fd);
    return rc;
}
