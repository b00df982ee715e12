/* privcmd_client.c — see privcmd_client.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/errno.h>

#include "privcmd_client.h"

int privcmd_connect(struct privcmd_conn *c)
{
    const char *path = getenv(XENHV_PRIVCMD_ENV);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int rc;

    if (!path || !*path)
        path = XENHV_PRIVCMD_PATH;
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    c->seq = 0;
    c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -errno;
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        rc = -errno;
        close(c->fd);
        c->fd = -1;
        return rc;
    }
    pthread_mutex_init(&c->lock, NULL);
    return 0;
}

void privcmd_disconnect(struct privcmd_conn *c)
{
    if (c->fd >= 0) {
        close(c->fd);
        pthread_mutex_destroy(&c->lock);
    }
    c->fd = -1;
}

int privcmd_call(struct privcmd_conn *c, uint32_t op, const void *req,
                 uint32_t req_len, void *rep, uint32_t rep_max,
                 uint32_t *rep_len, int *fd)
{
    return privcmd_call_fd(c, op, req, req_len, -1, rep, rep_max, rep_len, fd);
}

int privcmd_call_fd(struct privcmd_conn *c, uint32_t op, const void *req,
                    uint32_t req_len, int send_fd, void *rep, uint32_t rep_max,
                    uint32_t *rep_len, int *fd)
{
    uint8_t buf[XENHV_MSG_MAX];
    struct xenhv_msg m = {.op = op, .len = req_len};
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } cm;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = cm.b,
                        .msg_controllen = sizeof(cm.b)};
    int got_fd = -1, rc;
    ssize_t n;

    if (req_len > sizeof(buf) - sizeof(m))
        return -E2BIG;
    if (fd)
        *fd = -1;
    pthread_mutex_lock(&c->lock);
    m.seq = ++c->seq;
    memcpy(buf, &m, sizeof(m));
    if (req_len)
        memcpy(buf + sizeof(m), req, req_len);
    {
        struct iovec siov = {.iov_base = buf, .iov_len = sizeof(m) + req_len};
        union {
            struct cmsghdr h;
            char b[CMSG_SPACE(sizeof(int))];
        } scm;
        struct msghdr smh = {.msg_iov = &siov, .msg_iovlen = 1};
        if (send_fd >= 0) {
            memset(&scm, 0, sizeof(scm));
            smh.msg_control = scm.b;
            smh.msg_controllen = sizeof(scm.b);
            struct cmsghdr *h = CMSG_FIRSTHDR(&smh);
            h->cmsg_level = SOL_SOCKET;
            h->cmsg_type = SCM_RIGHTS;
            h->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(h), &send_fd, sizeof(int));
        }
        if (sendmsg(c->fd, &smh, MSG_NOSIGNAL) < 0) {
            rc = -errno;
            goto out;
        }
    }
    do {
        n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < (ssize_t)sizeof(m)) {
        rc = n < 0 ? -errno : -EPROTO;
        goto out;
    }
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h))
        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
            memcpy(&got_fd, CMSG_DATA(h), sizeof(int));
    memcpy(&m, buf, sizeof(m));
    if (m.seq != c->seq || m.len != (size_t)n - sizeof(m)) {
        rc = -EPROTO;
        goto out;
    }
    if (rep_len)
        *rep_len = m.len < rep_max ? m.len : rep_max;
    if (rep)
        memcpy(rep, buf + sizeof(m), m.len < rep_max ? m.len : rep_max);
    rc = m.rc;
    if (fd) {
        *fd = got_fd;
        got_fd = -1;
    }
out:
    if (got_fd >= 0)
        close(got_fd);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int privcmd_open(struct privcmd_conn *c, struct xenhv_hello_rep *rep,
                 int *ev_fd, int need_priv)
{
    int fd = -1;
    int rc = privcmd_connect(c);

    if (rc)
        return rc;
    rc = privcmd_call(c, XENHV_OP_HELLO, NULL, 0, rep, sizeof(*rep), NULL, &fd);
    if (rc == 0 && fd < 0)
        rc = -EPROTO;
    if (rc == 0 && need_priv && !rep->privileged)
        rc = -EPERM;
    if (rc == 0 && ev_fd) {
        *ev_fd = fd;
        fd = -1;
    }
    if (fd >= 0)
        close(fd);
    if (rc) {
        privcmd_disconnect(c);
        return rc < 0 && rc > -4096 ? rc : -EIO; /* Xen errnos = Linux's */
    }
    return 0;
}

int privcmd_errno(int xen_rc)
{
    /* Xen's errno values are Linux's for every code xen-hv returns. */
    return xen_rc < 0 ? -xen_rc : EIO;
}
