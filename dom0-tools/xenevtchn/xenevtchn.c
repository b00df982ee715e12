/*
 * xenevtchn.c — libxenevtchn over xen-hv's control socket: the functions
 * <xenevtchn.h> (Debian's libxen-dev) declares, with Xen's semantics
 * (tools/libs/evtchn): one handle = one connection = one fd to poll; a
 * port that fired is read with xenevtchn_pending() and stays masked until
 * xenevtchn_unmask().  Errors: -1 with errno set.
 *
 * notify and unmask are the hot path of every backend (one of each per
 * ring batch), so for a port this handle bound itself they are sent
 * fire-and-forget (XENHV_OP_EVTCHN_NOTIFY_ASYNC/_UNMASK_ASYNC): one
 * sendmsg, no wait for xen-hv.  Their errors are decided here, exactly as
 * the synchronous ops would: a port this handle bound with
 * bind_unbound_port or bind_interdomain can always be notified (a peer
 * that closed leaves it unbound, where Xen drops the send) and any port it
 * bound can always be unmasked.  Every other case (a VIRQ port, which Xen
 * refuses to notify; a port this handle did not bind; a port number beyond
 * the table) takes the synchronous op, so the caller gets xen-hv's errno.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xen/errno.h>
#include <xenevtchn.h>

#include "privcmd_client.h"

#define XCE_PORTS 4096 /* ports whose binding the handle remembers */

/* What this handle bound a port as (port_kind[]). */
enum xce_kind {
    XCE_NONE = 0, /* not bound by this handle (or not known) */
    XCE_SENDABLE, /* bind_unbound_port / bind_interdomain */
    XCE_VIRQ,     /* bind_virq: notify is refused (EINVAL) */
};

struct xenevtchn_handle {
    struct privcmd_conn conn;
    int ev_fd;                    /* one packet (uint32_t port) per event */
    uint8_t port_kind[XCE_PORTS]; /* enum xce_kind, atomic accesses */
};

static int fail(int rc)
{
    errno = rc < 0 && rc > -4096 ? -rc : EIO;
    return -1;
}

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger,
                                 unsigned int flags)
{
    xenevtchn_handle *h = calloc(1, sizeof(*h));
    struct xenhv_hello_rep rep;
    int rc;

    (void)logger;
    (void)flags; /* our fds are always close-on-exec */
    if (!h) {
        errno = ENOMEM;
        return NULL;
    }
    rc = privcmd_open(&h->conn, &rep, &h->ev_fd, 0);
    if (rc) {
        free(h);
        errno = -rc;
        return NULL;
    }
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
    privcmd_disconnect(&h->conn); /* xen-hv closes the ports */
    if (h->ev_fd >= 0)
        close(h->ev_fd);
    free(h);
    return 0;
}

int xenevtchn_fd(xenevtchn_handle *h)
{
    return h->ev_fd;
}

static int evtchn_call(xenevtchn_handle *h, uint32_t op, uint32_t domid,
                       uint32_t port, uint32_t virq)
{
    struct xenhv_evtchn_req req = {.domid = domid, .port = port, .virq = virq};
    struct xenhv_evtchn_rep rep = {0};
    int rc = privcmd_call(&h->conn, op, &req, sizeof(req), &rep, sizeof(rep),
                          NULL, NULL);
    return rc ? fail(rc) : (int)rep.port;
}

static enum xce_kind port_kind_get(xenevtchn_handle *h, evtchn_port_t port)
{
    if (port >= XCE_PORTS)
        return XCE_NONE;
    return (enum xce_kind)__atomic_load_n(&h->port_kind[port],
                                          __ATOMIC_ACQUIRE);
}

static void port_kind_set(xenevtchn_handle *h, evtchn_port_t port,
                          enum xce_kind kind)
{
    if (port < XCE_PORTS)
        __atomic_store_n(&h->port_kind[port], (uint8_t)kind, __ATOMIC_RELEASE);
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

int xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t port)
{
    int rc;

    if (port_kind_get(h, port) == XCE_SENDABLE)
        return evtchn_post(h, XENHV_OP_EVTCHN_NOTIFY_ASYNC, port);
    rc = evtchn_call(h, XENHV_OP_EVTCHN_NOTIFY, 0, port, 0);
    return rc < 0 ? rc : 0;
}

/* A bind op; the new port is remembered as kind. */
static xenevtchn_port_or_error_t evtchn_bind(xenevtchn_handle *h, uint32_t op,
                                             uint32_t domid, uint32_t port,
                                             uint32_t virq, enum xce_kind kind)
{
    int rc = evtchn_call(h, op, domid, port, virq);

    if (rc >= 0)
        port_kind_set(h, (evtchn_port_t)rc, kind);
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
    port_kind_set(h, port, XCE_NONE);
    rc = evtchn_call(h, XENHV_OP_EVTCHN_UNBIND, 0, port, 0);
    return rc < 0 ? rc : 0;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *h)
{
    uint32_t port;
    ssize_t n;

    do {
        n = recv(h->ev_fd, &port, sizeof(port), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    if (n != sizeof(port)) {
        errno = n == 0 ? EPIPE : EPROTO;
        return -1;
    }
    return (xenevtchn_port_or_error_t)port;
}

int xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t port)
{
    int rc;

    if (port_kind_get(h, port) != XCE_NONE)
        return evtchn_post(h, XENHV_OP_EVTCHN_UNMASK_ASYNC, port);
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
