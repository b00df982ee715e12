/*
 * control.c — the control interface server (control.h): the listening
 * socket, one connection per client (SO_PEERCRED says which domain it acts
 * as), reading each request with the fd it may pass, dispatching it
 * (handle()) to the parts below and replying; control_start/control_stop.
 *
 * The parts share control_priv.h: control_evtchn.c (the domains clients
 * act as, their event channels and doorbells), control_gnttab.c (grant
 * operations and memory for clients) and control_domain.c (the hosted
 * domains: create, build, destroy, list).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/errno.h>

#include "control.h"
#include "control_priv.h"
#include "evtchn.h"
#include "gnttab.h"
#include "xenhv_privcmd.h"

void reply(struct conn *k, const struct xenhv_msg *req, int32_t rc,
           const void *payload, uint32_t len, int fd)
{
    uint8_t buf[XENHV_MSG_MAX];
    struct xenhv_msg *m = (struct xenhv_msg *)buf;
    struct iovec iov;
    struct msghdr mh;
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } cm;

    if (len > sizeof(buf) - sizeof(*m))
        len = 0, rc = -XEN_E2BIG;
    m->op = req->op;
    m->seq = req->seq;
    m->rc = rc;
    m->len = len;
    if (len)
        memcpy(buf + sizeof(*m), payload, len);
    iov.iov_base = buf;
    iov.iov_len = sizeof(*m) + len;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (fd >= 0) {
        memset(&cm, 0, sizeof(cm));
        mh.msg_control = cm.b;
        mh.msg_controllen = sizeof(cm.b);
        struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(h), &fd, sizeof(int));
    }
    (void)sendmsg(k->fd, &mh, MSG_NOSIGNAL);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Ops that are never answered (xenhv_privcmd.h: fire-and-forget). */
static bool op_no_reply(uint32_t op)
{
    return op == XENHV_OP_EVTCHN_NOTIFY_ASYNC ||
           op == XENHV_OP_EVTCHN_UNMASK_ASYNC;
}

static void handle(struct conn *k, const struct xenhv_msg *m,
                   const uint8_t *payload, int fd)
{
    struct control *c = k->c;
    uint64_t t0;

    if (m->op != XENHV_OP_HELLO && k->ev_fd < 0) {
        if (!op_no_reply(m->op))
            reply(k, m, -XEN_EINVAL, NULL, 0, -1); /* HELLO first */
        return;
    }
    switch (m->op) {
    case XENHV_OP_EVTCHN_NOTIFY_ASYNC:
    case XENHV_OP_EVTCHN_UNMASK_ASYNC: {
        struct xenhv_evtchn_req r;
        struct xenhv_evtchn_rep rep = {0};
        if (m->len != sizeof(r))
            return;
        memcpy(&r, payload, sizeof(r));
        /* No reply: a port this connection does not own is dropped. */
        (void)do_evtchn(k,
                        m->op == XENHV_OP_EVTCHN_NOTIFY_ASYNC
                            ? XENHV_OP_EVTCHN_NOTIFY
                            : XENHV_OP_EVTCHN_UNMASK,
                        &r, &rep, NULL);
        return;
    }
    case XENHV_OP_EVTCHN_BELLS:
        k->bells = true;
        reply(k, m, 0, NULL, 0, -1);
        return;
    case XENHV_OP_EVTCHN_DOORBELL: {
        struct xenhv_evtchn_req r;
        int bell = -1;
        int32_t rc;
        if (m->len != sizeof(r)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        memcpy(&r, payload, sizeof(r));
        rc = peer_doorbell(k, r.port, &bell);
        reply(k, m, rc, NULL, 0, bell);
        if (bell >= 0)
            close(bell);
        return;
    }
    case XENHV_OP_HELLO: {
        struct xenhv_hello_rep rep;
        int32_t rc;
        int sv[2];
        if (k->ev_fd >= 0) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
            reply(k, m, -XEN_ENOMEM, NULL, 0, -1);
            return;
        }
        rc = conn_attach(k);
        if (rc) {
            close(sv[0]);
            close(sv[1]);
            reply(k, m, rc, NULL, 0, -1);
            return;
        }
        rep.domid = k->vd->domid;
        rep.privileged = k->privileged;
        k->ev_fd = sv[0];
        reply(k, m, 0, &rep, sizeof(rep), sv[1]);
        close(sv[1]);
        return;
    }
    case XENHV_OP_EVTCHN_BIND_UNBOUND:
    case XENHV_OP_EVTCHN_BIND_INTERDOMAIN:
    case XENHV_OP_EVTCHN_BIND_VIRQ:
    case XENHV_OP_EVTCHN_NOTIFY:
    case XENHV_OP_EVTCHN_UNMASK:
    case XENHV_OP_EVTCHN_UNBIND: {
        struct xenhv_evtchn_req r;
        struct xenhv_evtchn_rep rep = {0};
        int32_t rc;
        if (m->len != sizeof(r)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        int bell = -1;
        memcpy(&r, payload, sizeof(r));
        rc = do_evtchn(k, m->op, &r, &rep, &bell);
        reply(k, m, rc, &rep, rc == 0 ? sizeof(rep) : 0, bell);
        if (bell >= 0)
            close(bell);
        return;
    }
    case XENHV_OP_GNTTAB_MAP: {
        struct xenhv_gnttab_map_req r;
        if (m->len != sizeof(r)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        memcpy(&r, payload, sizeof(r));
        do_gnttab_map(k, m, &r);
        return;
    }
    case XENHV_OP_GNTTAB_COPY:
        do_gnttab_copy(k, m, payload);
        return;
    case XENHV_OP_PDOM_MEMORY:
        reply(k, m, pdom_memory(k, payload, m->len, fd), NULL, 0, -1);
        return;
    case XENHV_OP_GNTTAB_FRAMES: {
        uint32_t n;
        if (m->len != sizeof(n)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        memcpy(&n, payload, sizeof(n));
        if (n == 0 || !gnttab_frame(k->vd->gt, n - 1)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        reply(k, m, 0, &n, sizeof(n), gnttab_frames_fd(k->vd->gt));
        return;
    }
    case XENHV_OP_GNTTAB_UNMAP: {
        struct xenhv_gnttab_unmap_req r;
        if (m->len != sizeof(r)) {
            reply(k, m, -XEN_EINVAL, NULL, 0, -1);
            return;
        }
        memcpy(&r, payload, sizeof(r));
        do_gnttab_unmap(k, m, &r);
        return;
    }
    case XENHV_OP_DOMAIN_CREATE:
    case XENHV_OP_DOMAIN_DESTROY:
        if (!k->privileged) {
            reply(k, m, -XEN_EPERM, NULL, 0, -1);
        } else if (m->op == XENHV_OP_DOMAIN_CREATE) {
            uint32_t domid;
            t0 = now_ns();
            domid = domain_create_op(k, m, payload);
            if (domid) {
                pthread_rwlock_rdlock(&c->doms_lock);
                account(c, domid, now_ns() - t0);
                pthread_rwlock_unlock(&c->doms_lock);
            }
        } else
            domain_destroy_op(k, m, payload);
        return;
    case XENHV_OP_DOMAIN_LIST:
    case XENHV_OP_FOREIGN_MEMORY:
    case XENHV_OP_CONSOLE_READ:
    case XENHV_OP_CONSOLE_CLEAR:
    case XENHV_OP_DOMAIN_BUILD:
    case XENHV_OP_DOMAIN_UNPAUSE:
    case XENHV_OP_DOMAIN_PAUSE:
    case XENHV_OP_HVM_PARAM_GET:
    case XENHV_OP_HVM_PARAM_SET:
    case XENHV_OP_DOMAIN_SETMAXMEM:
    case XENHV_OP_VCPU_SETCONTEXT:
    case XENHV_OP_EVTCHN_ALLOC_UNBOUND_FOR:
    case XENHV_OP_POPULATE_PHYSMAP:
    case XENHV_OP_VCPU_SETAFFINITY:
        if (!k->privileged) {
            reply(k, m, -XEN_EPERM, NULL, 0, -1);
            return;
        }
        break;
    default:
        reply(k, m, -XEN_ENOSYS, NULL, 0, -1);
        return;
    }
    t0 = now_ns();
    pthread_rwlock_rdlock(&c->doms_lock);
    priv_op(k, m, payload, fd);
    /* Every privileged op about one domain names it first. */
    if (m->len >= sizeof(uint32_t) && m->op != XENHV_OP_DOMAIN_LIST) {
        uint32_t domid;
        memcpy(&domid, payload, sizeof(domid));
        account(c, domid, now_ns() - t0);
    }
    pthread_rwlock_unlock(&c->doms_lock);
}

static void conn_free(struct conn *k)
{
    struct control *c = k->c;
    struct vdom *v = k->vd, *dead = NULL;
    evtchn_port_t mine[VDOM_MAX_PORTS];
    unsigned int n = 0;

    pthread_mutex_lock(&c->lock);
    if (v) {
        for (unsigned int p = 0; p < VDOM_MAX_PORTS; p++)
            if (v->owner[p] == k) {
                v->owner[p] = NULL;
                bell_drop(v, p);
                mine[n++] = p;
            }
        if (--v->refs == 0 && v != c->dom0) {
            for (struct vdom **pp = &c->pdoms; *pp; pp = &(*pp)->next)
                if (*pp == v) {
                    *pp = v->next;
                    break;
                }
            dead = v;
        }
    }
    for (struct conn **pp = &c->conns; *pp; pp = &(*pp)->next)
        if (*pp == k) {
            *pp = k->next;
            break;
        }
    pthread_mutex_unlock(&c->lock);
    if (v) {
        for (unsigned int i = 0; i < n; i++)
            evtchn_close(v->evd, mine[i]);
        /* A process that goes away releases its grant maps, as gntdev. */
        for (unsigned int i = 0; i < k->nr_maps; i++)
            gnttab_unmap(v->gt, k->maps[i]);
    }
    /* A process domain dies with its last connection: peers see unbound. */
    if (dead && dead->as_domain) {
        /* Guests' grant operations may be using it: wait them out. */
        pthread_rwlock_wrlock(&c->doms_lock);
        pthread_rwlock_unlock(&c->doms_lock);
    }
    vdom_free(dead);
    /* Tell the control domain a domain died, as Xen does on destruction. */
    if (dead && c->dom0)
        evtchn_send_global_virq(c->dom0->evd, 0, VIRQ_DOM_EXC);
    event_free(k->ev);
    close(k->fd);
    if (k->ev_fd >= 0)
        close(k->ev_fd);
    free(k);
}

/* One request of k: 1 handled, 0 none waiting, -1 k was freed. */
static int conn_read_one(struct conn *k, int fd)
{
    uint8_t buf[XENHV_MSG_MAX];
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * 4)];
    } cm;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = cm.b,
                        .msg_controllen = sizeof(cm.b)};
    struct xenhv_msg m;
    int rfd = -1;
    ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

    if (n <= 0) {
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            return 0;
        conn_free(k);
        return -1;
    }
    /* Keep the first fd passed; close any others. */
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
        if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
            continue;
        size_t nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < nfd; i++) {
            int f;
            memcpy(&f, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
            if (rfd < 0)
                rfd = f;
            else
                close(f);
        }
    }
    if ((size_t)n < sizeof(m)) {
        if (rfd >= 0)
            close(rfd);
        conn_free(k); /* not our protocol: drop the connection */
        return -1;
    }
    memcpy(&m, buf, sizeof(m));
    if (m.len != (size_t)n - sizeof(m)) {
        if (!op_no_reply(m.op))
            reply(k, &m, -XEN_EINVAL, NULL, 0, -1);
    } else {
        handle(k, &m, buf + sizeof(m), rfd);
    }
    if (rfd >= 0)
        close(rfd);
    return 1;
}

/*
 * A connection is readable: serve the requests already queued, a few at a
 * time (fire-and-forget notifies and unmasks come in bursts; one wakeup
 * of the loop per request would cost more than the requests).
 */
static void conn_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    for (int i = 0; i < 16; i++)
        if (conn_read_one(arg, fd) <= 0)
            return;
}

static void accept_cb(evutil_socket_t fd, short what, void *arg)
{
    struct control *c = arg;
    struct ucred cred;
    socklen_t len = sizeof(cred);
    struct conn *k;
    int s = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (s < 0)
        return;
    if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
        !(k = calloc(1, sizeof(*k)))) {
        close(s);
        return;
    }
    k->c = c;
    k->fd = s;
    k->ev_fd = -1;
    k->privileged = cred.uid == 0;
    k->pid = cred.pid;
    k->ev = event_new(c->base, s, EV_READ | EV_PERSIST, conn_read, k);
    if (!k->ev) {
        close(s);
        free(k);
        return;
    }
    pthread_mutex_lock(&c->lock);
    k->next = c->conns;
    c->conns = k;
    pthread_mutex_unlock(&c->lock);
    event_add(k->ev, NULL);
}

struct control *control_start(const char *path, struct event_base *base,
                              struct evtchn_world *world,
                              const struct kvm_host *kvm, struct domain *d,
                              char *err, size_t errlen)
{
    struct control *c = calloc(1, sizeof(*c));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    if (!c)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->base = base;
    c->d = d;
    c->kvm = kvm;
    c->peers = (struct domain_peers){peers_lock, peers_unlock, peers_find, c};
    c->world = world;
    pthread_rwlock_init(&c->doms_lock, NULL);
    if (d) {
        struct hosted *h = calloc(1, sizeof(*h));
        if (!h) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        h->d = d;
        h->built = h->started = true;
        c->doms = h;
        d->peers = &c->peers;
    }
    c->next_pdom = PDOM_FIRST_DOMID;
    c->listen_fd = -1;
    if (strlen(path) + 4 >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "control socket path too long");
        goto fail;
    }
    snprintf(c->path, sizeof(c->path), "%s", path);
    /* Made under PATH.new and renamed once it listens, 0666: a client
     * (xencommons waits for the path, then starts xenstored) never finds
     * a socket that refuses it. */
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.new", path);
    c->dom0 = vdom_new(c, 0, 0);
    if (!c->dom0) {
        snprintf(err, errlen, "domain 0 event channels and grant table");
        goto fail;
    }
    c->listen_fd =
        socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    unlink(sa.sun_path);
    if (c->listen_fd < 0 ||
        bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(c->listen_fd, 16) < 0 ||
        /* Anyone may connect: SO_PEERCRED, not the file mode, decides. */
        chmod(sa.sun_path, 0666) < 0 || rename(sa.sun_path, path) < 0) {
        snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
        unlink(sa.sun_path);
        goto fail;
    }
    c->listen_ev =
        event_new(base, c->listen_fd, EV_READ | EV_PERSIST, accept_cb, c);
    if (!c->listen_ev || event_add(c->listen_ev, NULL) < 0) {
        snprintf(err, errlen, "control socket event");
        goto fail;
    }
    return c;
fail:
    control_stop(c);
    return NULL;
}

void control_stop(struct control *c)
{
    if (!c)
        return;
    while (c->conns)
        conn_free(c->conns);
    if (c->listen_ev)
        event_free(c->listen_ev);
    if (c->listen_fd >= 0) {
        close(c->listen_fd);
        unlink(c->path);
    }
    while (c->doms) {
        struct hosted *h = c->doms;
        c->doms = h->next;
        if (h->d != c->d)
            domain_destroy(h->d);
        else
            h->d->peers = NULL; /* the launcher frees it after us */
        free(h);
    }
    vdom_free(c->dom0);
    pthread_rwlock_destroy(&c->doms_lock);
    pthread_mutex_destroy(&c->lock);
    free(c);
}
