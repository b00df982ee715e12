/*
 * xenevtchn.c — libxenevtchn over xen-hv's control socket: the functions
 * <xenevtchn.h> (Debian's libxen-dev) declares, with Xen's semantics
 * (tools/libs/evtchn): one handle = one connection = one fd to poll; a
 * port that fired is read with xenevtchn_pending() and stays masked until
 * xenevtchn_unmask().  Errors: -1 with errno set.
 *
 * notify and unmask are the hot path of every backend (one of each per
 * ring batch), so they avoid waiting for xen-hv:
 *
 * - Doorbells (xenhv_privcmd.h XENHV_OP_EVTCHN_BELLS): each port this
 *   handle binds comes with a socket xen-hv (or a peer) writes a byte to
 *   when the port fires.  The handle's fd is an epoll set of the event
 *   socket and every doorbell, each doorbell with EPOLLONESHOT: a port
 *   that fired is not polled again until xenevtchn_unmask re-arms it,
 *   which is Xen's mask, kept here; bytes that arrive meanwhile make it
 *   fire again at the unmask, as a pending masked port does.  Unmask is
 *   one epoll_ctl, no message to xen-hv.
 * - notify on a port whose peer is another control-socket domain's port
 *   writes one byte to the peer's doorbell (asked of xen-hv once per
 *   binding, XENHV_OP_EVTCHN_DOORBELL): the peer wakes without xen-hv in
 *   the path.  Other ports this handle bound (a guest peer, a peer not
 *   bound yet) are notified fire-and-forget (XENHV_OP_EVTCHN_NOTIFY_ASYNC).
 *
 * Errors stay exactly the synchronous ops': a port this handle bound with
 * bind_unbound_port or bind_interdomain can always be notified (a peer
 * that closed leaves it unbound, where Xen drops the send) and any port it
 * bound can always be unmasked.  Every other case (a VIRQ port, which Xen
 * refuses to notify; a port this handle did not bind; a port number beyond
 * the table) takes the synchronous op, so the caller gets xen-hv's errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xen/errno.h>
#include <xenevtchn.h>

#include "privcmd_client.h"

#define XCE_PORTS    4096       /* ports whose binding the handle remembers */
#define XCE_EV_SOCK  UINT64_MAX /* epoll data of the event socket */
#define BELL_UNKNOWN (-1)       /* peer doorbell not asked for yet */
#define BELL_NEVER   (-2)       /* the peer is a guest: notify via xen-hv */
#define BELL_LATER   (-3)       /* none now: ask again after XCE_RETRY */
#define XCE_RETRY    64         /* notifies between two doorbell requests */

/* What this handle bound a port as. */
enum xce_kind {
    XCE_NONE = 0, /* not bound by this handle (or not known) */
    XCE_SENDABLE, /* bind_unbound_port / bind_interdomain */
    XCE_VIRQ,     /* bind_virq: notify is refused (EINVAL) */
};

struct xce_port {
    uint8_t kind;    /* enum xce_kind */
    bool via_socket; /* last event came on the event socket: xen-hv
                        masked it, the unmask goes to xen-hv */
    uint16_t retry;  /* BELL_LATER: notifies left before asking again */
    int bell_in;     /* our doorbell (in the epoll set), -1 none */
    int bell_out;    /* the peer's doorbell, or BELL_* */
};

struct xenevtchn_handle {
    struct privcmd_conn conn;
    int ev_fd; /* one packet (uint32_t port) per event without a doorbell */
    int ep_fd; /* epoll: ev_fd and the doorbells; xenevtchn_fd() */
    pthread_mutex_t lock; /* ports[] */
    struct xce_port ports[XCE_PORTS];
};

static int fail(int rc)
{
    errno = rc < 0 && rc > -4096 ? -rc : EIO;
    return -1;
}

/* Watch (or re-arm) port's doorbell: one event, then masked. */
static int bell_arm(xenevtchn_handle *h, evtchn_port_t port, int op)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT,
                             .data.u64 = port};

    return epoll_ctl(h->ep_fd, op, h->ports[port].bell_in, &ev);
}

/* Forget port's doorbells (h->lock held). */
static void bells_close(xenevtchn_handle *h, evtchn_port_t port)
{
    struct xce_port *p = &h->ports[port];

    if (p->bell_in >= 0) {
        epoll_ctl(h->ep_fd, EPOLL_CTL_DEL, p->bell_in, NULL);
        close(p->bell_in);
    }
    if (p->bell_out >= 0)
        close(p->bell_out);
    p->bell_in = -1;
    p->bell_out = BELL_UNKNOWN;
    p->via_socket = false;
}

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger,
                                 unsigned int flags)
{
    xenevtchn_handle *h = calloc(1, sizeof(*h));
    struct xenhv_hello_rep rep;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = XCE_EV_SOCK};
    int rc;

    (void)logger;
    (void)flags; /* our fds are always close-on-exec */
    if (!h) {
        errno = ENOMEM;
        return NULL;
    }
    for (unsigned int i = 0; i < XCE_PORTS; i++) {
        h->ports[i].bell_in = -1;
        h->ports[i].bell_out = BELL_UNKNOWN;
    }
    rc = privcmd_open(&h->conn, &rep, &h->ev_fd, 0);
    if (rc) {
        free(h);
        errno = -rc;
        return NULL;
    }
    h->ep_fd = epoll_create1(EPOLL_CLOEXEC);
    if (h->ep_fd < 0 || epoll_ctl(h->ep_fd, EPOLL_CTL_ADD, h->ev_fd, &ev)) {
        rc = errno;
        if (h->ep_fd >= 0)
            close(h->ep_fd);
        close(h->ev_fd);
        privcmd_disconnect(&h->conn);
        free(h);
        errno = rc;
        return NULL;
    }
    pthread_mutex_init(&h->lock, NULL);
    /* Without doorbells (an older xen-hv) every event is a packet. */
    (void)privcmd_call(&h->conn, XENHV_OP_EVTCHN_BELLS, NULL, 0, NULL, 0, NULL,
                       NULL);
    return h;
}

xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger, int fd,
                                   unsigned open_flags)
{
    (void)logger;
    (void)fd;
    (void)open_flags;
    errno = EOPNOTSUPP; /* there is no evtchn device to adopt */
    return NULL;
}

int xenevtchn_close(xenevtchn_handle *h)
{
    if (!h)
        return 0;
    for (unsigned int i = 0; i < XCE_PORTS; i++)
        bells_close(h, i);
    privcmd_disconnect(&h->conn); /* xen-hv closes the ports */
    if (h->ev_fd >= 0)
        close(h->ev_fd);
    close(h->ep_fd);
    pthread_mutex_destroy(&h->lock);
    free(h);
    return 0;
}

int xenevtchn_fd(xenevtchn_handle *h)
{
    return h->ep_fd;
}

/* A synchronous op; its reply's fd (a doorbell) to *fd if fd. */
static int evtchn_call_fd(xenevtchn_handle *h, uint32_t op, uint32_t domid,
                          uint32_t port, uint32_t virq, int *fd)
{
    struct xenhv_evtchn_req req = {.domid = domid, .port = port, .virq = virq};
    struct xenhv_evtchn_rep rep = {0};
    int rc = privcmd_call(&h->conn, op, &req, sizeof(req), &rep, sizeof(rep),
                          NULL, fd);
    return rc ? fail(rc) : (int)rep.port;
}

static int evtchn_call(xenevtchn_handle *h, uint32_t op, uint32_t domid,
                       uint32_t port, uint32_t virq)
{
    return evtchn_call_fd(h, op, domid, port, virq, NULL);
}

static enum xce_kind port_kind_get(xenevtchn_handle *h, evtchn_port_t port)
{
    if (port >= XCE_PORTS)
        return XCE_NONE;
    return (enum xce_kind)__atomic_load_n(&h->ports[port].kind,
                                          __ATOMIC_ACQUIRE);
}

/*
 * Send op for port without waiting for an answer (the caller decided it
 * cannot fail).  0, or -1 with errno when the connection is broken.
 */
static int evtchn_post(xenevtchn_handle *h, uint32_t op, evtchn_port_t port)
{
    struct {
        struct xenhv_msg m;
        struct xenhv_evtchn_req req;
    } pkt = {.m = {.op = op, .len = sizeof(struct xenhv_evtchn_req)},
             .req = {.port = port}};
    ssize_t n;

    do {
        n = send(h->conn.fd, &pkt, sizeof(pkt), MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof(pkt))
        return 0;
    if (n >= 0)
        errno = EIO;
    return -1;
}

/*
 * Ring the peer's doorbell of port (h->lock held), asking xen-hv for it
 * first if need be.  true when rung (or already ringing: a full doorbell
 * is a pending port); false: notify through xen-hv.
 */
static bool bell_ring(xenevtchn_handle *h, evtchn_port_t port)
{
    struct xce_port *p = &h->ports[port];
    int fd = -1, rc;

    if (p->bell_out == BELL_LATER && --p->retry == 0)
        p->bell_out = BELL_UNKNOWN;
    if (p->bell_out == BELL_UNKNOWN) {
        rc = evtchn_call_fd(h, XENHV_OP_EVTCHN_DOORBELL, 0, port, 0, &fd);
        if (rc == 0 && fd >= 0) {
            p->bell_out = fd;
        } else if (rc < 0 && errno == ENOENT) {
            p->bell_out = BELL_NEVER;
        } else {
            p->bell_out = BELL_LATER;
            p->retry = XCE_RETRY;
        }
    }
    if (p->bell_out < 0)
        return false;
    if (send(p->bell_out, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1 ||
        errno == EAGAIN)
        return true;
    /* The peer's port closed: ask again next time. */
    close(p->bell_out);
    p->bell_out = BELL_UNKNOWN;
    return false;
}

int xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t port)
{
    bool rung;
    int rc;

    if (port_kind_get(h, port) == XCE_SENDABLE) {
        pthread_mutex_lock(&h->lock);
        rung = bell_ring(h, port);
        pthread_mutex_unlock(&h->lock);
        return rung ? 0 : evtchn_post(h, XENHV_OP_EVTCHN_NOTIFY_ASYNC, port);
    }
    rc = evtchn_call(h, XENHV_OP_EVTCHN_NOTIFY, 0, port, 0);
    return rc < 0 ? rc : 0;
}

/* A bind op; the new port is remembered as kind, with its doorbell. */
static xenevtchn_port_or_error_t evtchn_bind(xenevtchn_handle *h, uint32_t op,
                                             uint32_t domid, uint32_t port,
                                             uint32_t virq, enum xce_kind kind)
{
    int bell = -1;
    int rc = evtchn_call_fd(h, op, domid, port, virq, &bell);
    struct xce_port *p;

    if (rc < 0 || rc >= XCE_PORTS) {
        /* Not tracked: xen-hv sees the doorbell closed and falls back. */
        if (bell >= 0)
            close(bell);
        return rc;
    }
    p = &h->ports[rc];
    pthread_mutex_lock(&h->lock);
    bells_close(h, (evtchn_port_t)rc);
    p->bell_in = bell;
    if (bell >= 0 && bell_arm(h, (evtchn_port_t)rc, EPOLL_CTL_ADD)) {
        close(bell);
        p->bell_in = -1;
    }
    __atomic_store_n(&p->kind, (uint8_t)kind, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&h->lock);
    return rc;
}

xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *h,
                                                      uint32_t domid)
{
    return evtchn_bind(h, XENHV_OP_EVTCHN_BIND_UNBOUND, domid, 0, 0,
                       XCE_SENDABLE);
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *h,
                                                     uint32_t domid,
                                                     evtchn_port_t remote)
{
    return evtchn_bind(h, XENHV_OP_EVTCHN_BIND_INTERDOMAIN, domid, remote, 0,
                       XCE_SENDABLE);
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *h,
                                              unsigned int virq)
{
    return evtchn_bind(h, XENHV_OP_EVTCHN_BIND_VIRQ, 0, 0, virq, XCE_VIRQ);
}

int xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t port)
{
    int rc;

    /* Forgotten first: a notify racing with the unbind asks xen-hv. */
    if (port < XCE_PORTS) {
        pthread_mutex_lock(&h->lock);
        __atomic_store_n(&h->ports[port].kind, (uint8_t)XCE_NONE,
                         __ATOMIC_RELEASE);
        bells_close(h, port);
        pthread_mutex_unlock(&h->lock);
    }
    rc = evtchn_call(h, XENHV_OP_EVTCHN_UNBIND, 0, port, 0);
    return rc < 0 ? rc : 0;
}

/* The next packet of the event socket: a port, or -1 (EAGAIN: none). */
static xenevtchn_port_or_error_t socket_pending(xenevtchn_handle *h)
{
    uint32_t port;
    ssize_t n;

    do {
        n = recv(h->ev_fd, &port, sizeof(port), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    if (n != sizeof(port)) {
        errno = n == 0 ? EPIPE : EPROTO;
        return -1;
    }
    if (port < XCE_PORTS) {
        pthread_mutex_lock(&h->lock);
        h->ports[port].via_socket = true;
        pthread_mutex_unlock(&h->lock);
    }
    return (xenevtchn_port_or_error_t)port;
}

/* port's doorbell fired: take its bytes (the port stays disarmed). */
static void bell_drain(xenevtchn_handle *h, evtchn_port_t port)
{
    char buf[64];
    ssize_t n;
    int fd;

    pthread_mutex_lock(&h->lock);
    fd = port < XCE_PORTS ? h->ports[port].bell_in : -1;
    do {
        n = fd >= 0 ? recv(fd, buf, sizeof(buf), MSG_DONTWAIT) : -1;
    } while (n == (ssize_t)sizeof(buf) || (n < 0 && errno == EINTR));
    if (n == 0) {
        /* xen-hv and every peer let go of it: events come as packets. */
        epoll_ctl(h->ep_fd, EPOLL_CTL_DEL, fd, NULL);
        close(fd);
        h->ports[port].bell_in = -1;
    }
    pthread_mutex_unlock(&h->lock);
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *h)
{
    struct epoll_event ev;
    xenevtchn_port_or_error_t port;
    int n;

    for (;;) {
        n = epoll_wait(h->ep_fd, &ev, 1, 0);
        if (n == 0) {
            /* Nothing yet: block, unless the caller made the fd
             * non-blocking (as read() on Xen's evtchn device). */
            if (fcntl(h->ep_fd, F_GETFL) & O_NONBLOCK) {
                errno = EAGAIN;
                return -1;
            }
            n = epoll_wait(h->ep_fd, &ev, 1, -1);
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            continue;
        if (ev.data.u64 == XCE_EV_SOCK) {
            port = socket_pending(h);
            if (port < 0 && errno == EAGAIN)
                continue; /* another thread took it */
            return port;
        }
        port = (xenevtchn_port_or_error_t)ev.data.u64;
        bell_drain(h, (evtchn_port_t)port);
        return port;
    }
}

int xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t port)
{
    enum xce_kind kind = port_kind_get(h, port);
    bool to_xenhv = true;
    int rc = 0;

    if (kind != XCE_NONE) {
        struct xce_port *p = &h->ports[port];
        pthread_mutex_lock(&h->lock);
        if (p->bell_in >= 0)
            rc = bell_arm(h, port, EPOLL_CTL_MOD);
        /* Masked by xen-hv only when it came as a packet. */
        to_xenhv = p->via_socket || p->bell_in < 0;
        p->via_socket = false;
        pthread_mutex_unlock(&h->lock);
        if (rc)
            return -1;
        return to_xenhv ? evtchn_post(h, XENHV_OP_EVTCHN_UNMASK_ASYNC, port)
                        : 0;
    }
    rc = evtchn_call(h, XENHV_OP_EVTCHN_UNMASK, 0, port, 0);
    return rc < 0 ? rc : 0;
}

int xenevtchn_restrict(xenevtchn_handle *h, domid_t domid)
{
    (void)h;
    (void)domid;
    errno = EOPNOTSUPP;
    return -1;
}
