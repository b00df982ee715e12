/*
 * xs_memconn.h — a memory transport for xenstored's unit tests: requests
 * are pushed into a buffer the connection reads, replies are parsed out of
 * what it writes.  Header-only; one test program includes it once.
 */
#ifndef TESTS_XS_MEMCONN_H
#define TESTS_XS_MEMCONN_H

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "xs_core.h"

struct mc_msg {
    struct xsd_sockmsg hdr;
    char data[XENSTORE_PAYLOAD_MAX + 1]; /* NUL-terminated for tests */
};

struct mc {
    unsigned char in[2 * (XENSTORE_PAYLOAD_MAX + 16)];
    size_t in_len, in_off;
    unsigned char out[XENSTORE_PAYLOAD_MAX + 16];
    size_t out_len;
    struct mc_msg *msgs; /* complete messages written, in order */
    unsigned int nmsgs, capmsgs;
    bool blocked; /* write() takes nothing: output stays queued */
    bool gone;    /* read() reports the peer gone */
    struct xs_conn *conn;
    uint32_t next_req;
};

static ssize_t mc_read(struct xs_conn *conn, void *buf, size_t len)
{
    struct mc *m = conn->transport;
    size_t n = m->in_len - m->in_off;

    if (m->gone && n == 0)
        return -EPIPE;
    if (n > len)
        n = len;
    memcpy(buf, m->in + m->in_off, n);
    m->in_off += n;
    if (m->in_off == m->in_len)
        m->in_off = m->in_len = 0;
    return (ssize_t)n;
}

static ssize_t mc_write(struct xs_conn *conn, const void *buf, size_t len)
{
    struct mc *m = conn->transport;
    size_t n;

    if (m->blocked)
        return 0;
    n = sizeof(m->out) - m->out_len;
    if (n > len)
        n = len;
    memcpy(m->out + m->out_len, buf, n);
    m->out_len += n;
    /* Parse whole messages out of the byte stream. */
    for (;;) {
        struct xsd_sockmsg hdr;
        struct mc_msg *msg;

        if (m->out_len < sizeof(hdr))
            break;
        memcpy(&hdr, m->out, sizeof(hdr));
        if (m->out_len < sizeof(hdr) + hdr.len)
            break;
        if (m->nmsgs == m->capmsgs) {
            m->capmsgs = m->capmsgs ? m->capmsgs * 2 : 16;
            m->msgs = realloc(m->msgs, m->capmsgs * sizeof(*m->msgs));
        }
        msg = &m->msgs[m->nmsgs++];
        msg->hdr = hdr;
        memcpy(msg->data, m->out + sizeof(hdr), hdr.len);
        msg->data[hdr.len] = '\0';
        memmove(m->out, m->out + sizeof(hdr) + hdr.len,
                m->out_len - sizeof(hdr) - hdr.len);
        m->out_len -= sizeof(hdr) + hdr.len;
    }
    return (ssize_t)n;
}

static void mc_destroy(struct xs_conn *conn)
{
    struct mc *m = conn->transport;

    m->conn = NULL;
}

static const struct xs_conn_ops mc_ops = {
    .read = mc_read,
    .write = mc_write,
    .destroy = mc_destroy,
};

/* A connection acting as @domid; @m must outlive it (test-owned). */
static struct xs_conn *mc_open(struct xs_store *store, struct mc *m,
                               uint32_t domid)
{
    free(m->msgs); /* @m is reused between tests (static, zeroed first) */
    memset(m, 0, sizeof(*m));
    m->next_req = 1;
    m->conn = xs_conn_new(store, &mc_ops, m, domid);
    return m->conn;
}

/*
 * Let the connection process its input, as the daemon's loop does: again
 * while it stopped at its per-call budget (XS_CONN_BUDGET).
 */
static void mc_process(struct mc *m)
{
    struct xs_store *store;

    if (!m->conn)
        return;
    store = m->conn->store;
    do
        xs_conn_process(m->conn);
    while (!m->conn->dead && m->conn->more_input);
    xs_store_reap(store);
}

/* Push raw bytes as input and let the connection process them. */
static void mc_push(struct mc *m, const void *data, size_t len)
{
    memcpy(m->in + m->in_len, data, len);
    m->in_len += len;
    mc_process(m);
}

/* Send one request with an explicit payload. */
static uint32_t mc_send(struct mc *m, uint32_t type, uint32_t tx_id,
                        const void *payload, size_t len)
{
    struct xsd_sockmsg hdr = {type, m->next_req++, tx_id, (uint32_t)len};
    unsigned char buf[sizeof(hdr) + XENSTORE_PAYLOAD_MAX + 64];

    memcpy(buf, &hdr, sizeof(hdr));
    memcpy(buf + sizeof(hdr), payload, len);
    mc_push(m, buf, sizeof(hdr) + len);
    return hdr.req_id;
}

/* Pop the first queued message of @type-class (events or not). */
static bool mc_pop(struct mc *m, bool event, struct mc_msg *out)
{
    unsigned int i;

    for (i = 0; i < m->nmsgs; i++) {
        if ((m->msgs[i].hdr.type == XS_WATCH_EVENT) == event) {
            *out = m->msgs[i];
            memmove(&m->msgs[i], &m->msgs[i + 1],
                    (m->nmsgs - i - 1) * sizeof(*m->msgs));
            m->nmsgs--;
            return true;
        }
    }
    return false;
}

static struct mc_msg mc_last;

/*
 * Send @type with the NUL-terminated strings given (NULL-terminated
 * list), each followed by a NUL; return the reply's payload as a string
 * ("E..." errors come back as their name, "(none)" when no reply).
 */
static const char *mc_call(struct mc *m, uint32_t type, uint32_t tx_id, ...)
{
    char payload[XENSTORE_PAYLOAD_MAX + 64];
    size_t len = 0;
    const char *s;
    va_list ap;

    va_start(ap, tx_id);
    while ((s = va_arg(ap, const char *))) {
        size_t l = strlen(s) + 1;

        memcpy(payload + len, s, l);
        len += l;
    }
    va_end(ap);
    mc_send(m, type, tx_id, payload, len);
    if (!mc_pop(m, false, &mc_last))
        return "(none)";
    return mc_last.data;
}

/* WRITE path = value (the value is not NUL-terminated on the wire). */
__attribute__((unused)) static const char *mc_write_value(struct mc *m,
                                                          uint32_t tx_id,
                                                          const char *path,
                                                          const char *value)
{
    char payload[XENSTORE_PAYLOAD_MAX + 64];
    size_t pl = strlen(path) + 1, vl = strlen(value);

    memcpy(payload, path, pl);
    memcpy(payload + pl, value, vl);
    mc_send(m, XS_WRITE, tx_id, payload, pl + vl);
    if (!mc_pop(m, false, &mc_last))
        return "(none)";
    return mc_last.data;
}

/* Next watch event as "path token", or "(none)". */
__attribute__((unused)) static const char *mc_event(struct mc *m)
{
    static char buf[2 * XENSTORE_PAYLOAD_MAX];
    struct mc_msg ev;

    if (!mc_pop(m, true, &ev))
        return "(none)";
    snprintf(buf, sizeof(buf), "%s %s", ev.data, ev.data + strlen(ev.data) + 1);
    return buf;
}

/* Drop every queued event. */
__attribute__((unused)) static void mc_drain_events(struct mc *m)
{
    struct mc_msg ev;

    while (mc_pop(m, true, &ev))
        ;
}

#define W(m, path, value)      mc_write_value(m, 0, path, value)
#define R(m, path)             mc_call(m, XS_READ, 0, path, NULL)
#define TW(m, tx, path, value) mc_write_value(m, tx, path, value)
#define TR(m, tx, path)        mc_call(m, XS_READ, tx, path, NULL)

#endif
