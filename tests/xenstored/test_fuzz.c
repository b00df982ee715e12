/*
 * test_fuzz.c — random requests through xenstored's dispatcher (memory
 * transport, no daemon), from domain 0 and from an unprivileged domain,
 * with transactions and watches in play.  Every request must get exactly
 * one reply carrying its req_id (watch events aside), the tree must stay
 * walkable, and nothing may crash (run it under `make asan` too).
 */
#include "tap.h"
#include "xs_memconn.h"

static struct xs_store store;
static struct mc m0, m5;

static int count_nodes(void *opaque, const char *path,
                       const struct xs_node *node)
{
    (*(unsigned int *)opaque)++;
    return path[0] == '/' ? 0 : -1;
}

/* A random string mostly made of path characters, some bytes anything. */
static size_t random_payload(char *buf, size_t max)
{
    static const char *words[] = {"/a", "/a/b",  "/local/domain/5",
                                  "x",  "/@",    "T",
                                  "F",  "n0",    "r5",
                                  "b5", "quota", "log",
                                  "0",  "5",     "@releaseDomain"};
    size_t len = 0;
    unsigned int parts = (unsigned int)(rand() % 4);

    while (parts-- && len + 32 < max) {
        if (rand() % 4) {
            const char *w = words[rand() % (sizeof(words) / sizeof(words[0]))];

            memcpy(buf + len, w, strlen(w));
            len += strlen(w);
        } else {
            unsigned int n = (unsigned int)(rand() % 16);

            while (n-- && len < max)
                buf[len++] = (char)rand();
        }
        if (rand() % 5)
            buf[len++] = '\0';
    }
    return len;
}

/* A well-formed request for @type on one of a few paths. */
static size_t structured_payload(uint32_t type, char *buf)
{
    static const char *paths[] = {"/a",  "/a/b", "/a/b/c", "/local/domain/5/x",
                                  "x/y", "/a/d"};
    static const char *perms[] = {"n0", "r5", "b5", "n5", "w5"};
    const char *p = paths[rand() % (sizeof(paths) / sizeof(paths[0]))];
    size_t len = strlen(p) + 1;

    memcpy(buf, p, len);
    switch (type) {
    case XS_WRITE:
        len += (size_t)sprintf(buf + len, "v%d", rand() % 100);
        break;
    case XS_SET_PERMS:
        len += (size_t)sprintf(buf + len, "%s", perms[rand() % 5]) + 1;
        if (rand() % 2)
            len += (size_t)sprintf(buf + len, "%s", perms[rand() % 5]) + 1;
        break;
    case XS_WATCH:
    case XS_UNWATCH:
        len += (size_t)sprintf(buf + len, "t%d", rand() % 3) + 1;
        break;
    case XS_DIRECTORY_PART:
        len += (size_t)sprintf(buf + len, "%d", rand() % 8) + 1;
        break;
    case XS_TRANSACTION_START:
    case XS_RESET_WATCHES:
        buf[0] = '\0';
        len = 1;
        break;
    case XS_TRANSACTION_END:
        memcpy(buf, rand() % 2 ? "T" : "F", 2);
        len = 2;
        break;
    default:
        break;
    }
    return len;
}

int main(void)
{
    unsigned int i, lost = 0, wrong = 0, nodes = 0, errors = 0, sent = 0;
    char payload[256];

    tap_plan(5);
    srand(4242);
    xs_store_init(&store);
    mc_open(&store, &m0, 0);
    mc_open(&store, &m5, 5);
    xs_domain_attach_conn(&store, 5, m5.conn);
    W(&m0, "/local/domain/5", "");
    mc_call(&m0, XS_SET_PERMS, 0, "/local/domain/5", "n5", NULL);
    mc_call(&m0, XS_CONTROL, 0, "log", "off", NULL);

    for (i = 0; i < 20000; i++) {
        struct mc *m = rand() % 2 ? &m0 : &m5;
        uint32_t type = (uint32_t)(rand() % (XS_TYPE_COUNT + 2));
        uint32_t tx = rand() % 3 ? 0 : (uint32_t)(1 + rand() % 3);
        size_t len = rand() % 3 ? structured_payload(type, payload)
                                : random_payload(payload, sizeof(payload));
        uint32_t rid;
        struct mc_msg r;

        if (!m->conn)
            continue;
        if (type == XS_RELEASE || type == XS_CONTROL)
            type = XS_READ; /* keep both connections and settings alive */
        rid = mc_send(m, type, tx, payload, len);
        sent++;
        if (!mc_pop(m, false, &r))
            lost++;
        else if (r.hdr.req_id != rid)
            wrong++;
        else if (r.hdr.type == XS_ERROR)
            errors++;
        mc_drain_events(m);
        m->nmsgs = 0;
    }
    tap_diag("%u sent, %u error replies, %u successes", sent, errors,
             sent - errors - lost - wrong);
    is_int(lost, 0, "20000 random requests: every one answered");
    is_int(wrong, 0, "...with its own req_id");
    ok(m0.conn != NULL && m5.conn != NULL, "both connections alive");
    xs_db_walk(store.db, count_nodes, &nodes);
    ok(nodes >= 1 && nodes == xs_db_count(store.db), "tree walkable (%u nodes)",
       nodes);
    is_str(R(&m0, "/local/domain/5"), mc_last.data, "store still answers");
    xs_store_fini(&store);
    free(m0.msgs);
    free(m5.msgs);
    return tap_done();
}
