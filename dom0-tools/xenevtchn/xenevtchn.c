/*
 * xenevtchn.c — libxenevtchn over xen-hv's control socket: the functions
 * <xenevtchn.h> (Debian's libxen-dev) declares, with Xen's semantics
 * (tools/libs/evtchn): one handle = one connection = one fd to poll; a
 * port that fired is read with xenevtchn_pending() and stays masked until
 * xenevtchn_unmask().  Errors: -1 with errno set.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xen/errno.h>
#include <xenevtchn.h>

#include "privcmd_client.h"

struct xenevtchn_handle {
    struct privcmd_conn conn;
    int ev_fd; /* one packet (uint32_t port) per event */
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

int xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t port)
{
    int rc = evtchn_call(h, XENHV_OP_EVTCHN_NOTIFY, 0, port, 0);
    return rc < 0 ? rc : 0;
}

xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *h,
                                                      uint32_t domid)
{
    return evtchn_call(h, XENHV_OP_EVTCHN_BIND_UNBOUND, domid, 0, 0);
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *h,
                                                     uint32_t domid,
                                                     evtchn_port_t remote)
{
    return evtchn_call(h, XENHV_OP_EVTCHN_BIND_INTERDOMAIN, domid, remote, 0);
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *h,
                                              unsigned int virq)
{
    return evtchn_call(h, XENHV_OP_EVTCHN_BIND_VIRQ, 0, 0, virq);
}

int xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t port)
{
    int rc = evtchn_call(h, XENHV_OP_EVTCHN_UNBIND, 0, port, 0);
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
    int rc = evtchn_call(h, XENHV_OP_EVTCHN_UNMASK, 0, port, 0);
    return rc < 0 ? rc : 0;
}

int xenevtchn_restrict(xenevtchn_handle *h, domid_t domid)
{
    (void)h;
    (void)domid;
    errno = EOPNOTSUPP;
    return -1;
}
