/*
 * console.c — one guest's PV console in xenconsoled (see console.h).
 *
 * Ring rules (<xen/io/console.h>, docs/misc/console.txt): indexes are
 * free-running 32-bit counters; the producer writes data, then its index;
 * the consumer reads the producer index, then the data, then publishes
 * its consumer index; whoever moves an index notifies the port.  We own
 * out_cons and in_prod and keep our own copies, so whatever the guest
 * writes there is ignored; the guest's out_prod and in_cons are read once
 * into locals and checked before use.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <stdint.h>
#include <unistd.h>

#include <xen/io/console.h>

#include "cons_buf.h"
#include "console.h"

#define RING_OUT_SIZE sizeof(((struct xencons_interface *)0)->out)
#define RING_IN_SIZE  sizeof(((struct xencons_interface *)0)->in)

enum cons_state { CONS_WAITING, CONS_CONNECTED, CONS_BROKEN };

/* Where output goes: the pty master or the socket client. */
struct cons_sink {
    int fd;
    struct event *rev, *wev;
    struct cons_buf buf;
    char marker[80];
    size_t marker_len, marker_off;
};

struct cons {
    const struct cons_config *cfg;
    uint32_t domid;
    enum cons_state state;
    struct xencons_interface *ring;
    int local_port;
    XENCONS_RING_IDX out_cons; /* our copy of out_cons */
    XENCONS_RING_IDX in_prod;  /* our copy of in_prod */
    int pty_slave;             /* kept open so the master never sees EIO */
    char tty[64];
    struct cons_sink pty;
    struct cons_sink client;
    int listen_fd;
    struct event *listen_ev;
    char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int log_fd;
    int in_blocked; /* input sources paused: the guest's `in` is full */
    uint64_t window_start_ms;
    unsigned int window_events;
    int throttled;
    unsigned int storms; /* periods throttled (logged once) */
    struct event *throttle_ev;
};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sink_init(struct cons_sink *s)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
}

/*
 * Close the sink's fd and events; its queued output stays, and so does a
 * drop marker not yet sent in full: the next reader gets all of it.
 */
static void sink_close(struct cons_sink *s)
{
    if (s->rev)
        event_free(s->rev);
    if (s->wev)
        event_free(s->wev);
    s->rev = s->wev = NULL;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    if (s->marker_off < s->marker_len)
        s->marker_off = 0;
}

static void cons_disconnect(struct cons *c, const char *why);

/*
 * Write what the sink holds (a pending drop marker first) until the fd
 * would block; then wait for it to be writable.  Returns 0, or -1 when
 * the fd failed (the caller closes it).
 */
static int sink_flush(struct cons_sink *s)
{
    for (;;) {
        const char *p;
        size_t n;
        ssize_t w;
        int marker = 0;

        if (s->marker_off == s->marker_len) {
            s->marker_len =
                cons_buf_take_marker(&s->buf, s->marker, sizeof(s->marker));
            s->marker_off = 0;
        }
        if (s->marker_off < s->marker_len) {
            p = s->marker + s->marker_off;
            n = s->marker_len - s->marker_off;
            marker = 1;
        } else {
            n = cons_buf_peek(&s->buf, &p);
        }
        if (!n)
            return 0;
        w = write(s->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            event_add(s->wev, NULL);
            return 0;
        }
        if (w <= 0)
            return -1;
        if (marker)
            s->marker_off += (size_t)w;
        else
            cons_buf_consume(&s->buf, (size_t)w);
    }
}

static void client_close(struct cons *c)
{
    sink_close(&c->client);
}

static void pty_flush(struct cons *c)
{
    /*
     * With our own slave fd open the master only fails when the pty is
     * gone; its output is then dropped (the socket and log still get it).
     */
    if (c->pty.fd >= 0 && sink_flush(&c->pty) < 0)
        cons_buf_consume(&c->pty.buf, c->pty.buf.len);
}

static void client_flush(struct cons *c)
{
    if (c->client.fd >= 0 && sink_flush(&c->client) < 0)
        client_close(c);
}

static void on_sink_writable(evutil_socket_t fd, short what, void *arg)
{
    struct cons *c = arg;

    (void)what;
    if (fd == c->client.fd)
        client_flush(c);
    else
        pty_flush(c);
}

/* Pause or resume reading the input sources. */
static void cons_input_enable(struct cons *c, int on)
{
    struct event *evs[2] = {c->pty.rev, c->client.rev};

    c->in_blocked = !on;
    for (int i = 0; i < 2; i++)
        if (evs[i]) {
            if (on)
                event_add(evs[i], NULL);
            else
                event_del(evs[i]);
        }
}

/*
 * Free bytes in the guest's `in` ring, or -1 when in_cons is out of
 * range (the console is then disconnected).
 */
static long cons_in_room(struct cons *c)
{
    XENCONS_RING_IDX cons =
        __atomic_load_n(&c->ring->in_cons, __ATOMIC_ACQUIRE);
    uint32_t used = c->in_prod - cons;

    if (used > RING_IN_SIZE) {
        cons_disconnect(c, "in_cons out of range");
        return -1;
    }
    return (long)(RING_IN_SIZE - used);
}

/* A source has input: move what fits into `in`. */
static void on_input(evutil_socket_t fd, short what, void *arg)
{
    struct cons *c = arg;
    char tmp[RING_IN_SIZE];
    long room;
    ssize_t n;

    (void)what;
    if (c->state != CONS_CONNECTED)
        return;
    room = cons_in_room(c);
    if (room < 0)
        return;
    if (room == 0) {
        cons_input_enable(c, 0);
        return;
    }
    n = read(fd, tmp, (size_t)room);
    if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == EWOULDBLOCK))
        return;
    if (n <= 0) {
        /* The client went away (the pty master cannot, we hold its slave). */
        if (fd == c->client.fd)
            client_close(c);
        return;
    }
    for (ssize_t i = 0; i < n; i++)
        c->ring->in[MASK_XENCONS_IDX(c->in_prod + (XENCONS_RING_IDX)i,
                                     c->ring->in)] = tmp[i];
    __atomic_thread_fence(__ATOMIC_RELEASE); /* data before the index */
    c->in_prod += (XENCONS_RING_IDX)n;
    __atomic_store_n(&c->ring->in_prod, c->in_prod, __ATOMIC_RELEASE);
    xenevtchn_notify(c->cfg->xce, (evtchn_port_t)c->local_port);
}

/* Resume input when the guest made room in `in`. */
static void cons_resume_input(struct cons *c)
{
    long room;

    if (!c->in_blocked || c->state != CONS_CONNECTED)
        return;
    room = cons_in_room(c);
    if (room > 0)
        cons_input_enable(c, 1);
}

/* Move everything the guest produced in `out` to the sinks and the log. */
static void cons_pull_output(struct cons *c)
{
    char tmp[RING_OUT_SIZE];
    XENCONS_RING_IDX prod;
    uint32_t n;

    if (c->state != CONS_CONNECTED)
        return;
    prod = __atomic_load_n(&c->ring->out_prod, __ATOMIC_ACQUIRE);
    n = prod - c->out_cons;
    if (n > RING_OUT_SIZE) {
        cons_disconnect(c, "out_prod out of range");
        return;
    }
    if (!n)
        return;
    for (uint32_t i = 0; i < n; i++)
        tmp[i] = c->ring->out[MASK_XENCONS_IDX(c->out_cons + i, c->ring->out)];
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* read before we free slots */
    c->out_cons += n;
    __atomic_store_n(&c->ring->out_cons, c->out_cons, __ATOMIC_RELEASE);
    xenevtchn_notify(c->cfg->xce, (evtchn_port_t)c->local_port);

    if (c->log_fd >= 0 && write(c->log_fd, tmp, n) != (ssize_t)n) {
        fprintf(stderr, "xenconsoled: domain %u: log write failed: %s\n",
                c->domid, strerror(errno));
        close(c->log_fd);
        c->log_fd = -1;
    }
    cons_buf_put(&c->pty.buf, tmp, n);
    cons_buf_put(&c->client.buf, tmp, n);
    pty_flush(c);
    client_flush(c);
}

static void on_throttle_end(evutil_socket_t fd, short what, void *arg)
{
    struct cons *c = arg;

    (void)fd;
    (void)what;
    c->throttled = 0;
    c->window_events = 0;
    c->window_start_ms = now_ms();
    if (c->state != CONS_CONNECTED)
        return;
    cons_pull_output(c);
    cons_resume_input(c);
    if (c->state == CONS_CONNECTED)
        xenevtchn_unmask(c->cfg->xce, (evtchn_port_t)c->local_port);
}

void cons_handle_event(struct cons *c)
{
    uint64_t now = now_ms();

    if (c->state != CONS_CONNECTED || c->throttled)
        return;
    if (now - c->window_start_ms >= CONS_RATE_PERIOD_MS) {
        c->window_start_ms = now;
        c->window_events = 0;
    }
    cons_pull_output(c);
    cons_resume_input(c);
    if (c->state != CONS_CONNECTED)
        return;
    if (++c->window_events > CONS_RATE_EVENTS) {
        /* An event storm: leave the port masked for the period's rest. */
        struct timeval tv = {0, 0};
        uint64_t left = CONS_RATE_PERIOD_MS - (now - c->window_start_ms);

        tv.tv_usec = (suseconds_t)(left * 1000);
        c->throttled = 1;
        if (!c->storms++)
            fprintf(stderr,
                    "xenconsoled: domain %u: event storm, port throttled\n",
                    c->domid);
        evtimer_add(c->throttle_ev, &tv);
        return;
    }
    xenevtchn_unmask(c->cfg->xce, (evtchn_port_t)c->local_port);
}

/* A client connects to the socket: it becomes the client, if none is. */
static void on_accept(evutil_socket_t fd, short what, void *arg)
{
    static const char busy[] = "xenconsoled: console already in use\r\n";
    struct cons *c = arg;
    int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    (void)what;
    if (cfd < 0)
        return;
    /* A client that hung up but whose EOF we have not read yet is gone. */
    if (c->client.fd >= 0) {
        struct pollfd p = {.fd = c->client.fd, .events = POLLRDHUP};

        if (poll(&p, 1, 0) == 1 &&
            (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
            client_close(c);
    }
    if (c->client.fd >= 0 || c->state != CONS_CONNECTED) {
        /* Best effort: the refused client may be gone already. */
        ssize_t ignored = write(cfd, busy, sizeof(busy) - 1);

        (void)ignored;
        close(cfd);
        return;
    }
    c->client.fd = cfd;
    c->client.rev =
        event_new(c->cfg->base, cfd, EV_READ | EV_PERSIST, on_input, c);
    c->client.wev = event_new(c->cfg->base, cfd, EV_WRITE, on_sink_writable, c);
    if (!c->client.rev || !c->client.wev) {
        client_close(c);
        return;
    }
    if (!c->in_blocked)
        event_add(c->client.rev, NULL);
    client_flush(c);
}

/* Undo whatever cons_connect() set up; the output queues stay. */
static void cons_teardown(struct cons *c)
{
    client_close(c);
    sink_close(&c->pty);
    if (c->pty_slave >= 0)
        close(c->pty_slave);
    c->pty_slave = -1;
    if (c->listen_ev)
        event_free(c->listen_ev);
    c->listen_ev = NULL;
    if (c->listen_fd >= 0) {
        close(c->listen_fd);
        unlink(c->sock_path);
    }
    c->listen_fd = -1;
    if (c->throttle_ev)
        evtimer_del(c->throttle_ev);
    c->throttled = 0;
    if (c->local_port >= 0)
        xenevtchn_unbind(c->cfg->xce, (evtchn_port_t)c->local_port);
    c->local_port = -1;
    if (c->ring)
        xenforeignmemory_unmap(c->cfg->fmem, c->ring, 1);
    c->ring = NULL;
    if (c->log_fd >= 0)
        close(c->log_fd);
    c->log_fd = -1;
}

static void cons_disconnect(struct cons *c, const char *why)
{
    fprintf(stderr, "xenconsoled: domain %u: %s; console disconnected\n",
            c->domid, why);
    cons_teardown(c);
    c->state = CONS_BROKEN;
}

/* The domain's console node rel as an unsigned number; -ENOENT/-EIO. */
static int read_node_u64(struct cons *c, xs_transaction_t t, const char *rel,
                         uint64_t *out)
{
    char path[128], *v, *end;
    unsigned int len;
    int rc = 0;

    snprintf(path, sizeof(path), "/local/domain/%u/console/%s", c->domid, rel);
    v = xs_read(c->cfg->xs, t, path, &len);
    if (!v)
        return -ENOENT;
    errno = 0;
    *out = strtoull(v, &end, 0);
    if (errno || end == v || *end || v[0] == '-')
        rc = -EIO;
    free(v);
    return rc;
}

/* Open the pty: raw, non-blocking master; we keep the slave open. */

/*
 * Write value at path (a key in a domain's console directory) only while
 * that directory still exists, in one transaction: a toolstack that
 * removed the domain's nodes meanwhile (a failed or destroyed domain)
 * must not find them made again by us.  1 written, 0 the directory is
 * gone, -1 with errno on a xenstore error.
 */
static int tty_publish(struct xs_handle *xs, const char *path,
                       const char *value)
{
    char dir[128];
    const char *slash = strrchr(path, '/');

    if (!slash || (size_t)(slash - path) >= sizeof(dir)) {
        errno = EINVAL;
        return -1;
    }
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = 0;
    for (int tries = 0; tries < 8; tries++) {
        xs_transaction_t t = xs_transaction_start(xs);
        unsigned int n;
        char **ents;
        bool ok;

        if (t == XBT_NULL)
            return -1;
        ents = xs_directory(xs, t, dir, &n);
        if (!ents) {
            int e = errno;
            xs_transaction_end(xs, t, true);
            if (e == ENOENT)
                return 0;
            errno = e;
            return -1;
        }
        free(ents);
        ok = xs_write(xs, t, path, value, strlen(value));
        if (!ok) {
            int e = errno;
            xs_transaction_end(xs, t, true);
            errno = e;
            return -1;
        }
        if (xs_transaction_end(xs, t, false))
            return 1;
        if (errno != EAGAIN)
            return -1;
    }
    errno = EAGAIN;
    return -1;
}

static int cons_open_pty(struct cons *c)
{
    struct termios t;
    int master = -1, slave = -1, rc = 0;
    char path[128];

    if (openpty(&master, &slave, c->tty, NULL, NULL) < 0) {
        rc = -errno;
        goto out;
    }
    if (tcgetattr(slave, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(slave, TCSANOW, &t);
    }
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    fcntl(master, F_SETFD, FD_CLOEXEC);
    fcntl(slave, F_SETFD, FD_CLOEXEC);
    c->pty.fd = master;
    c->pty_slave = slave;
    master = slave = -1;
    c->pty.rev =
        event_new(c->cfg->base, c->pty.fd, EV_READ | EV_PERSIST, on_input, c);
    c->pty.wev =
        event_new(c->cfg->base, c->pty.fd, EV_WRITE, on_sink_writable, c);
    if (!c->pty.rev || !c->pty.wev) {
        rc = -ENOMEM;
        goto out;
    }
    event_add(c->pty.rev, NULL);
    /* docs/misc/xenstore-paths: ~/console/tty names the pty. */
    snprintf(path, sizeof(path), "/local/domain/%u/console/tty", c->domid);
    if (tty_publish(c->cfg->xs, path, c->tty) < 0)
        fprintf(stderr, "xenconsoled: domain %u: writing %s: %s\n", c->domid,
                path, strerror(errno));
out:
    if (master >= 0)
        close(master);
    if (slave >= 0)
        close(slave);
    return rc;
}

static int cons_open_socket(struct cons *c)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = -1, rc = 0, n;

    n = snprintf(c->sock_path, sizeof(c->sock_path), "%s/console-%u.sock",
                 c->cfg->run_dir, c->domid);
    /* Bound under a temporary name, made 0600 and listening, then renamed:
     * the path appears only once a client can connect (a client that saw
     * it between bind and listen was refused), and never with wider
     * permissions. */
    if (n < 0 || (size_t)n + 4 >= sizeof(sa.sun_path) ||
        (size_t)n >= sizeof(c->sock_path)) {
        rc = -ENAMETOOLONG;
        goto out;
    }
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.new", c->sock_path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    unlink(sa.sun_path); /* left over by a daemon that died */
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        chmod(sa.sun_path, 0600) < 0 || listen(fd, 4) < 0 ||
        rename(sa.sun_path, c->sock_path) < 0) {
        rc = -errno;
        unlink(sa.sun_path);
        goto out;
    }
    c->listen_ev =
        event_new(c->cfg->base, fd, EV_READ | EV_PERSIST, on_accept, c);
    if (!c->listen_ev) {
        rc = -ENOMEM;
        goto out;
    }
    event_add(c->listen_ev, NULL);
    c->listen_fd = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

/* (Re)open the log file when logging is on; a failure is only logged. */
static void cons_open_log(struct cons *c)
{
    char path[PATH_MAX];

    if (c->log_fd >= 0)
        close(c->log_fd);
    c->log_fd = -1;
    if (!c->cfg->log_dir)
        return;
    snprintf(path, sizeof(path), "%s/guest-console-%u.log", c->cfg->log_dir,
             c->domid);
    c->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (c->log_fd < 0)
        fprintf(stderr, "xenconsoled: domain %u: %s: %s\n", c->domid, path,
                strerror(errno));
}

void cons_reopen_log(struct cons *c)
{
    if (c->state == CONS_CONNECTED)
        cons_open_log(c);
}

/*
 * Read ~/console in transaction t (XBT_NULL works too): 0 with *gfn,
 * *port and *limit (0 when absent or bad: it is only a hint); -EAGAIN
 * when the nodes are not there or the console is not ours; -EIO when
 * ring-ref or port is malformed.
 */
static int cons_read_nodes(struct cons *c, xs_transaction_t t, uint64_t *gfn,
                           uint64_t *port, uint64_t *limit)
{
    char path[128], *type;
    unsigned int len;
    int rc;

    /* docs/misc/xenstore-paths: type "ioemu" belongs to a device model. */
    snprintf(path, sizeof(path), "/local/domain/%u/console/type", c->domid);
    type = xs_read(c->cfg->xs, t, path, &len);
    rc = type && strcmp(type, "xenconsoled") ? -EAGAIN : 0;
    free(type);
    if (rc)
        return rc;
    rc = read_node_u64(c, t, "ring-ref", gfn);
    if (!rc)
        rc = read_node_u64(c, t, "port", port);
    if (rc == -ENOENT)
        return -EAGAIN;
    if (read_node_u64(c, t, "limit", limit))
        *limit = 0;
    return rc;
}

int cons_connect(struct cons *c)
{
    uint64_t gfn = 0, port = 0, limit = 0;
    xs_transaction_t t;
    xen_pfn_t pfn;
    int rc, bound;

    if (c->state == CONS_CONNECTED)
        return 0;
    if (c->state == CONS_BROKEN)
        return -EIO;
    /*
     * One read-only transaction: a snapshot of the nodes, never half of
     * what a toolstack writes in its own transaction.
     */
    t = xs_transaction_start(c->cfg->xs);
    rc = cons_read_nodes(c, t, &gfn, &port, &limit);
    if (t != XBT_NULL)
        xs_transaction_end(c->cfg->xs, t, true);
    if (rc == -EAGAIN)
        return rc;
    if (rc || port == 0 || port > UINT32_MAX || gfn > UINT32_MAX) {
        cons_disconnect(c, "console/ring-ref or console/port malformed");
        return -EIO;
    }
    if (limit > 0 && limit < c->cfg->buffer_size) {
        cons_buf_free(&c->client.buf);
        cons_buf_free(&c->pty.buf);
        if (cons_buf_init(&c->client.buf, (size_t)limit) ||
            cons_buf_init(&c->pty.buf, (size_t)limit)) {
            cons_disconnect(c, "out of memory");
            return -ENOMEM;
        }
    }

    pfn = (xen_pfn_t)gfn;
    c->ring = xenforeignmemory_map(c->cfg->fmem, c->domid,
                                   PROT_READ | PROT_WRITE, 1, &pfn, NULL);
    if (!c->ring) {
        char why[96];

        snprintf(why, sizeof(why), "cannot map ring-ref %#llx: %s",
                 (unsigned long long)gfn, strerror(errno));
        cons_disconnect(c, why);
        return -EIO;
    }
    bound =
        xenevtchn_bind_interdomain(c->cfg->xce, c->domid, (evtchn_port_t)port);
    if (bound < 0) {
        char why[96];

        snprintf(why, sizeof(why), "cannot bind port %llu: %s",
                 (unsigned long long)port, strerror(errno));
        cons_disconnect(c, why);
        return -EIO;
    }
    c->local_port = bound;
    /* Start where the guest is: what it wrote before we came is output. */
    c->out_cons = __atomic_load_n(&c->ring->out_cons, __ATOMIC_ACQUIRE);
    c->in_prod = __atomic_load_n(&c->ring->in_prod, __ATOMIC_ACQUIRE);

    rc = cons_open_pty(c);
    if (!rc)
        rc = cons_open_socket(c);
    if (!rc)
        cons_open_log(c);
    if (rc) {
        char why[96];

        snprintf(why, sizeof(why), "setting up: %s", strerror(-rc));
        cons_disconnect(c, why);
        return rc;
    }
    c->state = CONS_CONNECTED;
    c->window_start_ms = now_ms();
    fprintf(stderr,
            "xenconsoled: domain %u: connected (ring-ref %#llx, port %llu, "
            "tty %s)\n",
            c->domid, (unsigned long long)gfn, (unsigned long long)port,
            c->tty);
    cons_pull_output(c);
    if (c->state == CONS_CONNECTED)
        xenevtchn_unmask(c->cfg->xce, (evtchn_port_t)c->local_port);
    return 0;
}

struct cons *cons_new(const struct cons_config *cfg, uint32_t domid)
{
    struct cons *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->cfg = cfg;
    c->domid = domid;
    c->state = CONS_WAITING;
    c->local_port = -1;
    c->pty_slave = -1;
    c->listen_fd = -1;
    c->log_fd = -1;
    sink_init(&c->pty);
    sink_init(&c->client);
    c->throttle_ev = evtimer_new(cfg->base, on_throttle_end, c);
    if (!c->throttle_ev || cons_buf_init(&c->pty.buf, cfg->buffer_size) ||
        cons_buf_init(&c->client.buf, cfg->buffer_size)) {
        cons_free(c);
        return NULL;
    }
    return c;
}

void cons_free(struct cons *c)
{
    if (!c)
        return;
    cons_teardown(c);
    if (c->throttle_ev)
        event_free(c->throttle_ev);
    cons_buf_free(&c->pty.buf);
    cons_buf_free(&c->client.buf);
    free(c);
}

uint32_t cons_domid(const struct cons *c)
{
    return c->domid;
}

int cons_local_port(const struct cons *c)
{
    return c->local_port;
}
