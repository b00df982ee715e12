/*
 * xs.c — the client side of the xenstore protocol: the functions Debian's
 * <xenstore.h> declares, spoken over xenstored's Unix socket.
 *
 * Wire format: <xen/io/xs_wire.h> (struct xsd_sockmsg, then len bytes of
 * nul-separated strings); message semantics: docs/misc/xenstore.txt.
 *
 * Threads (the contract in xenstore.h): one handle may be used from many
 * threads.  Requests are serialised by request_lock, which is held from
 * the moment a request is sent until its reply has been taken, so at most
 * one request is on the wire.  Until a reader thread exists the requesting
 * thread reads the socket itself and queues any WATCH_EVENT it meets.
 * The first xs_watch (or a blocking xs_read_watch) starts the reader
 * thread; from then on only it reads the socket, queues watch events and
 * hands the one expected reply over through reply_lock/reply_cond.
 *
 * Lock order: request_lock, then reply_lock or watch_lock (never both).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <xenstore.h>

#include "xs_lib_ext.h"

/* One message read from the daemon: header plus a nul-terminated body. */
struct xs_msg {
    struct xs_msg *next;
    struct xsd_sockmsg hdr;
    char *body; /* hdr.len bytes, then an extra nul */
};

struct xs_handle {
    int fd;
    bool unwatch_filter; /* XS_UNWATCH_FILTER given to xs_open */
    int dead;            /* errno once the connection broke (atomic) */

    /* request_lock: one request on the wire; also guards the fields below
     * up to reply_lock. */
    pthread_mutex_t request_lock;
    uint32_t next_req_id;
    bool reader_started;
    pthread_t reader;

    /* reply_lock guards reply (filled by the reader thread). */
    pthread_mutex_t reply_lock;
    pthread_cond_t reply_cond;
    struct xs_msg *reply;

    /* watch_lock guards the event queue and the notification pipe.  The
     * pipe holds exactly one byte while the queue is not empty. */
    pthread_mutex_t watch_lock;
    pthread_cond_t watch_cond;
    struct xs_msg *watch_head;
    struct xs_msg **watch_tail;
    int watch_pipe[2];
};

static void msg_free(struct xs_msg *msg)
{
    if (msg) {
        free(msg->body);
        free(msg);
    }
}

static int handle_dead(struct xs_handle *h)
{
    return __atomic_load_n(&h->dead, __ATOMIC_ACQUIRE);
}

static void handle_mark_dead(struct xs_handle *h, int err)
{
    int none = 0;

    __atomic_compare_exchange_n(&h->dead, &none, err ? err : EIO, false,
                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Map an XS_ERROR body (e.g. "ENOENT") to its errno; unknown is EINVAL. */
static int xs_error_to_errno(const char *str)
{
    size_t i;

    for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
        if (strcmp(str, xsd_errors[i].errstring) == 0)
            return xsd_errors[i].errnum;
    return EINVAL;
}

/* Read exactly len bytes; 0 or an errno (ECONNRESET on end of file). */
static int read_exact(int fd, void *buf, size_t len)
{
    char *p = buf;

    while (len > 0) {
        ssize_t n = read(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n == 0)
            return ECONNRESET;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Read one message.  A body longer than XENSTORE_PAYLOAD_MAX breaks the
 * protocol (xs_wire.h: "violating this is very bad"), so the connection
 * is given up with EIO rather than trusting the length.
 */
static int msg_read(int fd, struct xs_msg **out)
{
    struct xs_msg *msg = calloc(1, sizeof(*msg));
    int rc;

    *out = NULL;
    if (!msg)
        return ENOMEM;
    rc = read_exact(fd, &msg->hdr, sizeof(msg->hdr));
    if (rc)
        goto out;
    if (msg->hdr.len > XENSTORE_PAYLOAD_MAX) {
        rc = EIO;
        goto out;
    }
    msg->body = malloc(msg->hdr.len + 1);
    if (!msg->body) {
        rc = ENOMEM;
        goto out;
    }
    rc = read_exact(fd, msg->body, msg->hdr.len);
    if (rc)
        goto out;
    msg->body[msg->hdr.len] = '\0';
    *out = msg;
    msg = NULL;
out:
    msg_free(msg);
    return rc;
}

/* Keep the pipe in step with the queue: one byte iff events are queued
 * or the connection is dead (so a poller on xs_fileno() wakes and learns
 * it from xs_read_watch/xs_check_watch).  Called with watch_lock held. */
static void watch_pipe_sync(struct xs_handle *h, bool was_empty)
{
    bool empty = h->watch_head == NULL;
    char c = 'w';

    if (h->watch_pipe[1] < 0 || was_empty == empty)
        return;
    if (empty && handle_dead(h))
        return; /* the dead connection's byte stays */
    if (empty) {
        while (read(h->watch_pipe[0], &c, 1) == 1)
            ;
    } else {
        while (write(h->watch_pipe[1], &c, 1) < 0 && errno == EINTR)
            ;
    }
}

/*
 * Queue a WATCH_EVENT (docs/misc/xenstore.txt: <epath>|<token>|).  An
 * event without both strings is dropped: callers index the vector with
 * XS_WATCH_PATH and XS_WATCH_TOKEN.
 */
static void watch_queue(struct xs_handle *h, struct xs_msg *msg)
{
    bool was_empty;

    if (xs_count_strings(msg->body, msg->hdr.len) < 2) {
        msg_free(msg);
        return;
    }
    pthread_mutex_lock(&h->watch_lock);
    was_empty = h->watch_head == NULL;
    msg->next = NULL;
    *h->watch_tail = msg;
    h->watch_tail = &msg->next;
    watch_pipe_sync(h, was_empty);
    pthread_cond_broadcast(&h->watch_cond);
    pthread_mutex_unlock(&h->watch_lock);
}

static void *reader_main(void *arg)
{
    struct xs_handle *h = arg;

    for (;;) {
        struct xs_msg *msg;
        int rc = msg_read(h->fd, &msg);

        if (rc) {
            handle_mark_dead(h, rc);
            break;
        }
        if (msg->hdr.type == XS_WATCH_EVENT) {
            watch_queue(h, msg);
            continue;
        }
        pthread_mutex_lock(&h->reply_lock);
        /* A reply nobody asked for replaces a stale one: never leak. */
        msg_free(h->reply);
        h->reply = msg;
        pthread_cond_broadcast(&h->reply_cond);
        pthread_mutex_unlock(&h->reply_lock);
    }
    /* Wake every waiter so that it sees the connection is dead. */
    pthread_mutex_lock(&h->reply_lock);
    pthread_cond_broadcast(&h->reply_cond);
    pthread_mutex_unlock(&h->reply_lock);
    pthread_mutex_lock(&h->watch_lock);
    if (!h->watch_head && h->watch_pipe[1] >= 0) {
        char c = 'd';
        while (write(h->watch_pipe[1], &c, 1) < 0 && errno == EINTR)
            ;
    }
    pthread_cond_broadcast(&h->watch_cond);
    pthread_mutex_unlock(&h->watch_lock);
    return NULL;
}

/* Start the reader thread once.  Called with request_lock held.  Signals
 * are blocked in it so that they reach the application's threads. */
static bool reader_start(struct xs_handle *h)
{
    sigset_t all, old;
    int rc;

    if (h->reader_started)
        return true;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&h->reader, NULL, reader_main, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        errno = rc;
        return false;
    }
    h->reader_started = true;
    return true;
}

/* Send header and iovecs completely.  Called with request_lock held. */
static int msg_send(struct xs_handle *h, const struct xsd_sockmsg *hdr,
                    const struct iovec *iov, unsigned int n)
{
    struct iovec local[16], *vec = local;
    struct msghdr mh;
    unsigned int i, count = n + 1;
    int rc = 0;

    if (count > sizeof(local) / sizeof(local[0])) {
        vec = calloc(count, sizeof(*vec));
        if (!vec)
            return ENOMEM;
    }
    vec[0].iov_base = (void *)hdr;
    vec[0].iov_len = sizeof(*hdr);
    for (i = 0; i < n; i++)
        vec[i + 1] = iov[i];

    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = vec;
    mh.msg_iovlen = count;
    while (mh.msg_iovlen > 0) {
        /* MSG_NOSIGNAL: a dead daemon is an EPIPE, not a SIGPIPE. */
        ssize_t done = sendmsg(h->fd, &mh, MSG_NOSIGNAL);

        if (done < 0 && errno == EINTR)
            continue;
        if (done < 0) {
            rc = errno;
            goto out;
        }
        while (mh.msg_iovlen > 0 && (size_t)done >= mh.msg_iov->iov_len) {
            done -= (ssize_t)mh.msg_iov->iov_len;
            mh.msg_iov++;
            mh.msg_iovlen--;
        }
        if (mh.msg_iovlen > 0) {
            mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + done;
            mh.msg_iov->iov_len -= (size_t)done;
        }
    }
out:
    if (vec != local)
        free(vec);
    return rc;
}

/* Wait for the reply to the request just sent.  Called with request_lock
 * held.  Returns 0 and the message, or an errno. */
static int reply_wait(struct xs_handle *h, struct xs_msg **out)
{
    int rc = 0;

    *out = NULL;
    if (!h->reader_started) {
        for (;;) {
            struct xs_msg *msg;

            rc = msg_read(h->fd, &msg);
            if (rc)
                return rc;
            if (msg->hdr.type != XS_WATCH_EVENT) {
                *out = msg;
                return 0;
            }
            watch_queue(h, msg);
        }
    }
    pthread_mutex_lock(&h->reply_lock);
    while (!h->reply && !handle_dead(h))
        pthread_cond_wait(&h->reply_cond, &h->reply_lock);
    if (h->reply) {
        *out = h->reply;
        h->reply = NULL;
    } else {
        rc = handle_dead(h);
    }
    pthread_mutex_unlock(&h->reply_lock);
    return rc;
}

/*
 * Send one request of the given type made of n iovecs in transaction t
 * and return the reply body (malloc'ed, nul-terminated; *len gets its
 * length without that nul when len is not NULL).  Returns NULL with errno:
 * E2BIG for a request over XENSTORE_PAYLOAD_MAX, the daemon's error for
 * an XS_ERROR reply, EINVAL for a reply of another type, or the socket
 * error that broke the connection (every later call fails the same way).
 */
static void *xs_talkv(struct xs_handle *h, xs_transaction_t t,
                      enum xsd_sockmsg_type type, const struct iovec *iov,
                      unsigned int n, unsigned int *len)
{
    struct xsd_sockmsg hdr;
    struct xs_msg *reply = NULL;
    size_t total = 0;
    void *body = NULL;
    unsigned int i;
    int rc;

    for (i = 0; i < n; i++)
        total += iov[i].iov_len;
    if (total > XENSTORE_PAYLOAD_MAX) {
        errno = E2BIG;
        return NULL;
    }

    pthread_mutex_lock(&h->request_lock);
    rc = handle_dead(h);
    if (rc) {
        pthread_mutex_unlock(&h->request_lock);
        goto out;
    }
    hdr.type = type;
    hdr.req_id = h->next_req_id++;
    hdr.tx_id = t;
    hdr.len = (uint32_t)total;
    rc = msg_send(h, &hdr, iov, n);
    if (!rc)
        rc = reply_wait(h, &reply);
    if (rc)
        handle_mark_dead(h, rc);
    pthread_mutex_unlock(&h->request_lock);
    if (rc)
        goto out;

    if (reply->hdr.type == XS_ERROR) {
        rc = xs_error_to_errno(reply->body);
        goto out;
    }
    if (reply->hdr.type != type) {
        rc = EINVAL;
        goto out;
    }
    if (len)
        *len = reply->hdr.len;
    body = reply->body;
    reply->body = NULL;
out:
    msg_free(reply);
    if (!body)
        errno = rc;
    return body;
}

/* A request whose payload is one nul-terminated string. */
static void *xs_single(struct xs_handle *h, xs_transaction_t t,
                       enum xsd_sockmsg_type type, const char *str,
                       unsigned int *len)
{
    struct iovec iov = {(void *)str, strlen(str) + 1};

    return xs_talkv(h, t, type, &iov, 1, len);
}

/* Replies such as "OK" carry no information beyond success. */
static bool xs_bool(void *reply)
{
    if (!reply)
        return false;
    free(reply);
    return true;
}

/* A request whose payload is a domid as a decimal string. */
static void *xs_domid_request(struct xs_handle *h, enum xsd_sockmsg_type type,
                              unsigned int domid)
{
    char buf[MAX_STRLEN(domid) + 1];

    snprintf(buf, sizeof(buf), "%u", domid);
    return xs_single(h, XBT_NULL, type, buf, NULL);
}

struct xs_handle *xs_open(unsigned long flags)
{
    struct xs_handle *h = NULL;
    struct sockaddr_un addr;
    const char *path = xs_daemon_socket();
    int fd = -1, err = 0;

    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(addr.sun_path)) {
        err = ENAMETOOLONG;
        goto out;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = errno;
        goto out;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        err = errno;
        goto out;
    }
    h = calloc(1, sizeof(*h));
    if (!h) {
        err = ENOMEM;
        goto out;
    }
    h->fd = fd;
    fd = -1;
    /* XS_OPEN_READONLY and XS_OPEN_SOCKETONLY are accepted and ignored,
     * as in Xen 4.17: there is one socket and it is read-write. */
    h->unwatch_filter = (flags & XS_UNWATCH_FILTER) != 0;
    h->next_req_id = 1;
    h->watch_tail = &h->watch_head;
    h->watch_pipe[0] = h->watch_pipe[1] = -1;
    pthread_mutex_init(&h->request_lock, NULL);
    pthread_mutex_init(&h->reply_lock, NULL);
    pthread_cond_init(&h->reply_cond, NULL);
    pthread_mutex_init(&h->watch_lock, NULL);
    pthread_cond_init(&h->watch_cond, NULL);
out:
    if (fd >= 0)
        close(fd);
    if (!h)
        errno = err;
    return h;
}

struct xs_handle *xs_daemon_open(void)
{
    return xs_open(0);
}

struct xs_handle *xs_domain_open(void)
{
    return xs_open(0);
}

struct xs_handle *xs_daemon_open_readonly(void)
{
    return xs_open(XS_OPEN_READONLY);
}

/* Free everything but the locks; the connection is already closed. */
static void handle_free(struct xs_handle *h)
{
    struct xs_msg *msg = h->watch_head;

    while (msg) {
        struct xs_msg *next = msg->next;

        msg_free(msg);
        msg = next;
    }
    msg_free(h->reply);
    if (h->watch_pipe[0] >= 0)
        close(h->watch_pipe[0]);
    if (h->watch_pipe[1] >= 0)
        close(h->watch_pipe[1]);
    free(h);
}

void xs_daemon_close(struct xs_handle *h)
{
    if (!h)
        return;
    if (h->reader_started) {
        /* End of file wakes the reader, which then exits by itself. */
        shutdown(h->fd, SHUT_RDWR);
        pthread_join(h->reader, NULL);
    }
    close(h->fd);
    pthread_mutex_destroy(&h->request_lock);
    pthread_mutex_destroy(&h->reply_lock);
    pthread_cond_destroy(&h->reply_cond);
    pthread_mutex_destroy(&h->watch_lock);
    pthread_cond_destroy(&h->watch_cond);
    handle_free(h);
}

void xs_close(struct xs_handle *xsh)
{
    xs_daemon_close(xsh);
}

/*
 * After fork() the child has no reader thread and must not disturb the
 * parent's connection (no shutdown): just drop our copies.
 */
void xs_daemon_destroy_postfork(struct xs_handle *h)
{
    if (!h)
        return;
    close(h->fd);
    handle_free(h);
}

int xs_fileno(struct xs_handle *h)
{
    int fds[2], ret = -1;

    pthread_mutex_lock(&h->watch_lock);
    if (h->watch_pipe[0] < 0) {
        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
            goto out;
        h->watch_pipe[0] = fds[0];
        h->watch_pipe[1] = fds[1];
        /* Events queued before the pipe existed must still show. */
        watch_pipe_sync(h, true);
    }
    ret = h->watch_pipe[0];
out:
    pthread_mutex_unlock(&h->watch_lock);
    return ret;
}

/* Turn the body of a DIRECTORY-style reply (len bytes of nul-terminated
 * names) into one malloc'ed block: the pointer array, then the names. */
static char **strings_to_vector(const char *strings, unsigned int len,
                                unsigned int *num)
{
    unsigned int count = xs_count_strings(strings, len), i;
    char **vec, *copy;

    vec = malloc(count * sizeof(char *) + len + 1);
    if (!vec) {
        errno = ENOMEM;
        return NULL;
    }
    copy = (char *)(vec + count);
    memcpy(copy, strings, len);
    copy[len] = '\0';
    for (i = 0; i < count; i++) {
        vec[i] = copy;
        copy += strlen(copy) + 1;
    }
    *num = count;
    return vec;
}

/*
 * DIRECTORY_PART (docs/misc/xenstore.txt): ask for the children list from
 * a byte offset; each reply is <gencnt>|<names...>.  The list is complete
 * when the collected bytes end with an empty name (two nuls).  A changed
 * generation count means the node changed: start again from offset 0.
 */
static char **directory_part(struct xs_handle *h, xs_transaction_t t,
                             const char *path, unsigned int *num)
{
    char gen[32] = "", offstr[16];
    char *list = NULL, *reply = NULL;
    unsigned int off = 0, restarts = 0;
    char **vec = NULL;
    int err = 0;

    for (;;) {
        struct iovec iov[2];
        unsigned int rlen, glen, dlen;
        char *grown;

        snprintf(offstr, sizeof(offstr), "%u", off);
        iov[0].iov_base = (void *)path;
        iov[0].iov_len = strlen(path) + 1;
        iov[1].iov_base = offstr;
        iov[1].iov_len = strlen(offstr) + 1;
        reply = xs_talkv(h, t, XS_DIRECTORY_PART, iov, 2, &rlen);
        if (!reply) {
            /* A daemon without DIRECTORY_PART: the list is too big. */
            err = errno == ENOSYS ? E2BIG : errno;
            goto out;
        }
        glen = (unsigned int)strnlen(reply, rlen);
        if (glen == rlen || glen >= sizeof(gen)) {
            err = EIO; /* no generation count: not the protocol */
            goto out;
        }
        if (off == 0) {
            memcpy(gen, reply, glen + 1);
        } else if (strcmp(gen, reply) != 0) {
            if (++restarts > 64) {
                err = EAGAIN; /* the node never holds still */
                goto out;
            }
            free(reply);
            reply = NULL;
            off = 0;
            continue;
        }
        dlen = rlen - glen - 1;
        grown = realloc(list, off + dlen + 1);
        if (!grown) {
            err = ENOMEM;
            goto out;
        }
        list = grown;
        memcpy(list + off, reply + glen + 1, dlen);
        off += dlen;
        free(reply);
        reply = NULL;
        /* An empty part also ends the list: never loop without progress. */
        if (dlen == 0 || off < 2 || (list[off - 1] == 0 && list[off - 2] == 0))
            break;
    }
    /* Drop the empty terminating name. */
    if (off >= 1 && list[off - 1] == 0 && (off == 1 || list[off - 2] == 0))
        off--;
    vec = strings_to_vector(list ? list : "", off, num);
    if (!vec)
        err = errno;
out:
    free(reply);
    free(list);
    if (!vec)
        errno = err;
    return vec;
}

char **xs_directory(struct xs_handle *h, xs_transaction_t t, const char *path,
                    unsigned int *num)
{
    unsigned int len;
    char **vec;
    char *strings = xs_single(h, t, XS_DIRECTORY, path, &len);

    if (!strings) {
        if (errno != E2BIG)
            return NULL;
        return directory_part(h, t, path, num);
    }
    vec = strings_to_vector(strings, len, num);
    free(strings);
    return vec;
}

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path,
              unsigned int *len)
{
    return xs_single(h, t, XS_READ, path, len);
}

bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path,
              const void *data, unsigned int len)
{
    struct iovec iov[2];

    iov[0].iov_base = (void *)path;
    iov[0].iov_len = strlen(path) + 1;
    iov[1].iov_base = (void *)data;
    iov[1].iov_len = len;
    return xs_bool(xs_talkv(h, t, XS_WRITE, iov, 2, NULL));
}

bool xs_mkdir(struct xs_handle *h, xs_transaction_t t, const char *path)
{
    return xs_bool(xs_single(h, t, XS_MKDIR, path, NULL));
}

bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
    return xs_bool(xs_single(h, t, XS_RM, path, NULL));
}

/* Xen removed XS_RESTRICT; the function stays for the ABI and fails. */
bool xs_restrict(struct xs_handle *h, unsigned domid)
{
    errno = ENOSYS;
    return false;
}

struct xs_permissions *xs_get_permissions(struct xs_handle *h,
                                          xs_transaction_t t, const char *path,
                                          unsigned int *num)
{
    struct xs_permissions *perms = NULL;
    unsigned int len, count;
    char *strings = xs_single(h, t, XS_GET_PERMS, path, &len);
    int err = 0;

    if (!strings)
        return NULL;
    count = xs_count_strings(strings, len);
    if (count == 0) {
        err = EINVAL;
        goto out;
    }
    perms = malloc(count * sizeof(*perms));
    if (!perms) {
        err = ENOMEM;
        goto out;
    }
    if (!xs_strings_to_perms(perms, count, strings)) {
        err = EINVAL;
        free(perms);
        perms = NULL;
        goto out;
    }
    *num = count;
out:
    free(strings);
    if (!perms)
        errno = err;
    return perms;
}

bool xs_set_permissions(struct xs_handle *h, xs_transaction_t t,
                        const char *path, struct xs_permissions *perms,
                        unsigned int num_perms)
{
    enum { PERM_STR = MAX_STRLEN(unsigned int) + 1 };
    struct iovec *iov = NULL;
    char *bufs = NULL;
    unsigned int i;
    bool ok = false;
    int err = 0;

    if (num_perms == 0 || num_perms > XENSTORE_PAYLOAD_MAX / 2) {
        err = EINVAL;
        goto out;
    }
    iov = calloc(num_perms + 1, sizeof(*iov));
    bufs = malloc((size_t)num_perms * PERM_STR);
    if (!iov || !bufs) {
        err = ENOMEM;
        goto out;
    }
    iov[0].iov_base = (void *)path;
    iov[0].iov_len = strlen(path) + 1;
    for (i = 0; i < num_perms; i++) {
        char *s = bufs + (size_t)i * PERM_STR;

        if (!xs_perm_to_string(&perms[i], s, PERM_STR)) {
            err = EINVAL;
            goto out;
        }
        iov[i + 1].iov_base = s;
        iov[i + 1].iov_len = strlen(s) + 1;
    }
    ok = xs_bool(xs_talkv(h, t, XS_SET_PERMS, iov, num_perms + 1, NULL));
    if (!ok)
        err = errno;
out:
    free(iov);
    free(bufs);
    if (!ok)
        errno = err;
    return ok;
}

bool xs_watch(struct xs_handle *h, const char *path, const char *token)
{
    struct iovec iov[2];
    bool started;

    pthread_mutex_lock(&h->request_lock);
    started = reader_start(h);
    pthread_mutex_unlock(&h->request_lock);
    if (!started)
        return false;
    iov[0].iov_base = (void *)path;
    iov[0].iov_len = strlen(path) + 1;
    iov[1].iov_base = (void *)token;
    iov[1].iov_len = strlen(token) + 1;
    return xs_bool(xs_talkv(h, XBT_NULL, XS_WATCH, iov, 2, NULL));
}

/*
 * Take the oldest queued event as a vector {path, token, ...} in one
 * malloc'ed block.  Blocks until one arrives unless nonblocking, in which
 * case an empty queue is EAGAIN; a broken connection is its errno.
 */
static char **watch_take(struct xs_handle *h, unsigned int *num,
                         bool nonblocking)
{
    struct xs_msg *msg = NULL;
    char **vec = NULL;
    int err = 0;

    if (!nonblocking) {
        bool started;

        /* Someone must read the socket while we sleep. */
        pthread_mutex_lock(&h->request_lock);
        started = reader_start(h);
        pthread_mutex_unlock(&h->request_lock);
        if (!started)
            return NULL;
    }
    pthread_mutex_lock(&h->watch_lock);
    while (!h->watch_head) {
        err = handle_dead(h);
        if (err)
            break;
        if (nonblocking) {
            err = EAGAIN;
            break;
        }
        pthread_cond_wait(&h->watch_cond, &h->watch_lock);
    }
    if (h->watch_head) {
        err = 0;
        msg = h->watch_head;
        h->watch_head = msg->next;
        if (!h->watch_head)
            h->watch_tail = &h->watch_head;
        watch_pipe_sync(h, false);
    }
    pthread_mutex_unlock(&h->watch_lock);
    if (!msg)
        goto out;
    vec = strings_to_vector(msg->body, msg->hdr.len, num);
    if (!vec)
        err = errno;
out:
    msg_free(msg);
    if (!vec)
        errno = err;
    return vec;
}

char **xs_check_watch(struct xs_handle *h)
{
    unsigned int num;

    return watch_take(h, &num, true);
}

char **xs_read_watch(struct xs_handle *h, unsigned int *num)
{
    return watch_take(h, num, false);
}

/* XS_UNWATCH_FILTER: drop queued events of this token under this path. */
static void watch_filter(struct xs_handle *h, const char *path,
                         const char *token)
{
    struct xs_msg **link, *msg;

    pthread_mutex_lock(&h->watch_lock);
    link = &h->watch_head;
    h->watch_tail = &h->watch_head;
    while ((msg = *link) != NULL) {
        const char *epath = msg->body;
        const char *etoken = epath + strlen(epath) + 1;

        if (strcmp(etoken, token) == 0 && xs_path_is_subpath(path, epath)) {
            *link = msg->next;
            msg_free(msg);
            continue;
        }
        link = &msg->next;
        h->watch_tail = link;
    }
    watch_pipe_sync(h, false);
    pthread_mutex_unlock(&h->watch_lock);
}

bool xs_unwatch(struct xs_handle *h, const char *path, const char *token)
{
    struct iovec iov[2];
    bool ok;

    iov[0].iov_base = (void *)path;
    iov[0].iov_len = strlen(path) + 1;
    iov[1].iov_base = (void *)token;
    iov[1].iov_len = strlen(token) + 1;
    ok = xs_bool(xs_talkv(h, XBT_NULL, XS_UNWATCH, iov, 2, NULL));
    if (h->unwatch_filter)
        watch_filter(h, path, token);
    return ok;
}

xs_transaction_t xs_transaction_start(struct xs_handle *h)
{
    unsigned long id;
    char *end, *reply = xs_single(h, XBT_NULL, XS_TRANSACTION_START, "", NULL);

    if (!reply)
        return XBT_NULL;
    errno = 0;
    id = strtoul(reply, &end, 10);
    if (*reply == '\0' || *end != '\0' || errno || id > UINT32_MAX) {
        free(reply);
        errno = EINVAL;
        return XBT_NULL;
    }
    free(reply);
    return (xs_transaction_t)id;
}

bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abort)
{
    return xs_bool(
        xs_single(h, t, XS_TRANSACTION_END, abort ? "F" : "T", NULL));
}

bool xs_introduce_domain(struct xs_handle *h, unsigned int domid,
                         unsigned long mfn, unsigned int eventchn)
{
    char d[MAX_STRLEN(domid) + 1], m[MAX_STRLEN(mfn) + 1];
    char e[MAX_STRLEN(eventchn) + 1];
    struct iovec iov[3];

    snprintf(d, sizeof(d), "%u", domid);
    snprintf(m, sizeof(m), "%lu", mfn);
    snprintf(e, sizeof(e), "%u", eventchn);
    iov[0] = (struct iovec){d, strlen(d) + 1};
    iov[1] = (struct iovec){m, strlen(m) + 1};
    iov[2] = (struct iovec){e, strlen(e) + 1};
    return xs_bool(xs_talkv(h, XBT_NULL, XS_INTRODUCE, iov, 3, NULL));
}

bool xs_set_target(struct xs_handle *h, unsigned int domid, unsigned int target)
{
    char d[MAX_STRLEN(domid) + 1], tg[MAX_STRLEN(target) + 1];
    struct iovec iov[2];

    snprintf(d, sizeof(d), "%u", domid);
    snprintf(tg, sizeof(tg), "%u", target);
    iov[0] = (struct iovec){d, strlen(d) + 1};
    iov[1] = (struct iovec){tg, strlen(tg) + 1};
    return xs_bool(xs_talkv(h, XBT_NULL, XS_SET_TARGET, iov, 2, NULL));
}

bool xs_resume_domain(struct xs_handle *h, unsigned int domid)
{
    return xs_bool(xs_domid_request(h, XS_RESUME, domid));
}

bool xs_release_domain(struct xs_handle *h, unsigned int domid)
{
    return xs_bool(xs_domid_request(h, XS_RELEASE, domid));
}

char *xs_get_domain_path(struct xs_handle *h, unsigned int domid)
{
    return xs_domid_request(h, XS_GET_DOMAIN_PATH, domid);
}

bool xs_is_domain_introduced(struct xs_handle *h, unsigned int domid)
{
    char *reply = xs_domid_request(h, XS_IS_DOMAIN_INTRODUCED, domid);
    bool introduced;

    if (!reply)
        return false;
    introduced = strcmp(reply, "F") != 0;
    free(reply);
    return introduced;
}

char *xs_control_command(struct xs_handle *h, const char *cmd, void *data,
                         unsigned int len)
{
    struct iovec iov[2];

    iov[0].iov_base = (void *)cmd;
    iov[0].iov_len = strlen(cmd) + 1;
    iov[1].iov_base = data;
    iov[1].iov_len = len;
    return xs_talkv(h, XBT_NULL, XS_CONTROL, iov, 2, NULL);
}

char *xs_debug_command(struct xs_handle *h, const char *cmd, void *data,
                       unsigned int len)
{
    return xs_control_command(h, cmd, data, len);
}

/* The suspend event channel a guest advertises (xenstore-paths.pandoc:
 * ~/device/suspend/event-channel), or -1. */
int xs_suspend_evtchn_port(int domid)
{
    char path[64], *value = NULL, *end;
    struct xs_handle *h;
    long port = -1;

    snprintf(path, sizeof(path),
             "/local/domain/%d/device/suspend/event-channel", domid);
    h = xs_open(0);
    if (!h)
        return -1;
    value = xs_read(h, XBT_NULL, path, NULL);
    if (value) {
        port = strtol(value, &end, 10);
        if (*value == '\0' || *end != '\0' || port < 0 || port > INT_MAX)
            port = -1;
    }
    free(value);
    xs_close(h);
    return (int)port;
}
