/*
 * privcmd_client.h — the client side of xen-hv's control socket
 * (include/xenhv_privcmd.h), shared by the dom0-tools libraries.
 */
#ifndef XENHV_PRIVCMD_CLIENT_H
#define XENHV_PRIVCMD_CLIENT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "xenhv_privcmd.h"

struct privcmd_conn {
    int fd;
    uint32_t seq;
    pthread_mutex_t lock; /* one request in flight per connection */
};

/*
 * privcmd_connect — connect to $XENHV_PRIVCMD or XENHV_PRIVCMD_PATH.
 * Returns 0 or -errno.
 */
int privcmd_connect(struct privcmd_conn *c);
void privcmd_disconnect(struct privcmd_conn *c);

/*
 * privcmd_call — send op with req (req_len bytes), wait for the reply,
 * copy at most rep_max payload bytes to rep (*rep_len gets the count, may
 * be NULL) and the attached fd, if any, to *fd (may be NULL: it is closed).
 * Returns the reply's rc (0 or a negative Xen errno), or -errno when the
 * connection failed.
 */
int privcmd_call(struct privcmd_conn *c, uint32_t op, const void *req,
                 uint32_t req_len, void *rep, uint32_t rep_max,
                 uint32_t *rep_len, int *fd);

/* privcmd_call_fd — privcmd_call() that also passes send_fd (SCM_RIGHTS). */
int privcmd_call_fd(struct privcmd_conn *c, uint32_t op, const void *req,
                    uint32_t req_len, int send_fd, void *rep, uint32_t rep_max,
                    uint32_t *rep_len, int *fd);

/*
 * privcmd_open — connect and say HELLO: c becomes a connection of the
 * caller's domain (domain 0 for uid 0, else its process domain).
 *   rep:       the domain and whether it is privileged
 *   ev_fd:     the event socket, or NULL to close it
 *   need_priv: refuse (-EPERM) unless privileged
 * Returns 0 or -errno (a Xen errno reply is returned as the host errno);
 * on failure nothing is left open.
 */
int privcmd_open(struct privcmd_conn *c, struct xenhv_hello_rep *rep,
                 int *ev_fd, int need_priv);

/* privcmd_errno — a Xen errno (negative) as a host errno (positive). */
int privcmd_errno(int xen_rc);

#endif
