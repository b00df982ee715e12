/*
 * xenstored.c — main: options, the Unix socket, signals, the state file.
 *
 * Connections on the Unix socket act as domain 0 (privileged), as with
 * Xen's root-owned socket; domains reach us through their rings after
 * INTRODUCE (xs_domain.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "xs_core.h"

/*
 * A client socket.  Input is read in blocks into @rbuf, so a request
 * usually costs one recv() rather than one for its header and one for its
 * payload.  A recv() that returned less than a block found the socket
 * empty: the next read answers "nothing now" without a syscall (@drained)
 * and the level-triggered read event calls us again when data comes.
 * Requests left in @rbuf (the per-call budget ran out, or the connection
 * stalled) are not seen by epoll: the zero timer @kick runs us again.
 */
struct sock_transport {
    int fd;
    struct event *rev, *wev, *kick;
    char rbuf[4096];
    size_t rlen, roff;
    bool drained;
};

static struct xs_store store;
static const char *state_file = XENSTORED_LIBDIR_DEFAULT "/state";

static ssize_t sock_read(struct xs_conn *conn, void *buf, size_t len)
{
    struct sock_transport *st = conn->transport;
    size_t n;

    if (st->roff == st->rlen) {
        ssize_t got;

        if (st->drained) {
            st->drained = false;
            return 0;
        }
        got = recv(st->fd, st->rbuf, sizeof(st->rbuf), MSG_DONTWAIT);
        if (got == 0)
            return -EPIPE;
        if (got < 0)
            return (errno == EAGAIN || errno == EINTR) ? 0
                   : errno == ECONNRESET               ? -EPIPE
                                                       : -errno;
        st->rlen = (size_t)got;
        st->roff = 0;
        st->drained = st->rlen < sizeof(st->rbuf);
    }
    n = st->rlen - st->roff;
    if (n > len)
        n = len;
    memcpy(buf, st->rbuf + st->roff, n);
    st->roff += n;
    return (ssize_t)n;
}

static ssize_t sock_write(struct xs_conn *conn, const void *buf, size_t len)
{
    struct sock_transport *st = conn->transport;
    ssize_t n = send(st->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

    if (n < 0)
        return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
    return n;
}

static void sock_want_write(struct xs_conn *conn, bool on)
{
    struct sock_transport *st = conn->transport;

    if (!st->wev)
        return;
    if (on)
        event_add(st->wev, NULL);
    else
        event_del(st->wev);
}

static void sock_destroy(struct xs_conn *conn)
{
    struct sock_transport *st = conn->transport;

    if (st->rev)
        event_free(st->rev);
    if (st->wev)
        event_free(st->wev);
    if (st->kick)
        event_free(st->kick);
    close(st->fd);
    free(st);
}

static const struct xs_conn_ops sock_ops = {
    .read = sock_read,
    .write = sock_write,
    .want_write = sock_want_write,
    .destroy = sock_destroy,
};

/*
 * The socket is readable or writable.  While the connection is stalled
 * (too many replies queued, xs_conn_stalled()) its read event is off:
 * level-triggered, it would fire again at once for the unread requests
 * and spin.  The write event is on then (output is queued) and brings us
 * back here once the client reads, which turns reading on again.
 */
static void sock_cb(evutil_socket_t fd, short what, void *arg)
{
    static const struct timeval now = {0, 0};
    struct xs_conn *conn = arg;
    struct sock_transport *st = conn->transport;

    xs_conn_process(conn);
    if (!conn->dead) {
        if (xs_conn_stalled(conn)) {
            event_del(st->rev);
        } else {
            event_add(st->rev, NULL);
            /* Buffered requests: next loop iteration, after the others. */
            if (st->roff < st->rlen)
                evtimer_add(st->kick, &now);
        }
    }
    xs_store_reap(&store);
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
    struct event_base *base = arg;
    struct sock_transport *st;
    struct xs_conn *conn;
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0)
        return;
    st = calloc(1, sizeof(*st));
    if (!st) {
        close(fd);
        return;
    }
    st->fd = fd;
    conn = xs_conn_new(&store, &sock_ops, st, 0);
    if (!conn) {
        close(fd);
        free(st);
        return;
    }
    st->rev = event_new(base, fd, EV_READ | EV_PERSIST, sock_cb, conn);
    st->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, sock_cb, conn);
    st->kick = evtimer_new(base, sock_cb, conn);
    if (!st->rev || !st->wev || !st->kick || event_add(st->rev, NULL) < 0)
        xs_conn_kill(conn, "out of memory");
    xs_store_reap(&store);
}

/* Create the directory holding @path (one level) when it is missing. */
static void make_parent_dir(const char *path)
{
    char *dir = strdup(path), *slash;

    if (dir && (slash = strrchr(dir, '/')) && slash != dir) {
        *slash = '\0';
        mkdir(dir, 0755);
    }
    free(dir);
}

static int listen_socket(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = -1;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "xenstored: socket path too long: %s\n", path);
        goto fail;
    }
    /* e.g. /run/xenstored */
    make_parent_dir(path);
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    unlink(path); /* a stale socket of a previous run */
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
        fprintf(stderr, "xenstored: cannot listen on %s: %s\n", path,
                strerror(errno));
        goto fail;
    }
    return fd;

fail:
    if (fd >= 0)
        close(fd);
    return -1;
}

static void save_state(void)
{
    int rc;

    make_parent_dir(state_file); /* e.g. /var/lib/xenstored */
    rc = xs_state_save(store.db, store.gen, state_file);

    if (rc)
        xs_log("cannot write state file %s: %s", state_file, strerror(-rc));
    else if (store.verbose)
        xs_log("state saved to %s", state_file);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct event_base *base = arg;

    save_state();
    if (sig != SIGUSR1)
        event_base_loopbreak(base);
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: xenstored [OPTIONS]\n"
            "  -N, --no-fork          run in the foreground\n"
            "  -F, --pid-file FILE    write the pid there once listening\n"
            "      --socket PATH      Unix socket (default %s)\n"
            "      --state FILE       state file (default %s)\n"
            "      --ignore-state     start empty if the state file is bad\n"
            "  -Q, --quota NAME=N     nodes, watches, transactions, "
            "node-size,\n"
            "                         outstanding, permissions\n"
            "  -V, --verbose          log more\n"
            "  -h, --help             this text\n"
            "With --no-fork, READY is printed on stdout once the socket "
            "listens.\n",
            XENSTORED_PATH_DEFAULT, XENSTORED_LIBDIR_DEFAULT "/state");
}

static int write_pid_file(const char *file)
{
    FILE *f = fopen(file, "w");

    if (!f)
        return -1;
    fprintf(f, "%ld\n", (long)getpid());
    return fclose(f);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"no-fork", no_argument, NULL, 'N'},
        {"pid-file", required_argument, NULL, 'F'},
        {"socket", required_argument, NULL, 's'},
        {"state", required_argument, NULL, 'S'},
        {"ignore-state", no_argument, NULL, 'I'},
        {"quota", required_argument, NULL, 'Q'},
        {"verbose", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *sock_path = getenv("XENSTORED_PATH");
    const char *pid_file = NULL;
    bool no_fork = false, ignore_state = false;
    struct event *lev = NULL, *sigs[3] = {NULL, NULL, NULL};
    struct event_base *base = NULL;
    int ready_pipe[2] = {-1, -1};
    int c, rc, lfd = -1, status = 1;
    unsigned int i;

    if (!sock_path || !*sock_path)
        sock_path = XENSTORED_PATH_DEFAULT;
    if (xs_store_init(&store)) {
        fprintf(stderr, "xenstored: out of memory\n");
        return 1;
    }
    while ((c = getopt_long(argc, argv, "NF:Q:Vh", opts, NULL)) != -1) {
        switch (c) {
        case 'N':
            no_fork = true;
            break;
        case 'F':
            pid_file = optarg;
            break;
        case 's':
            sock_path = optarg;
            break;
        case 'S':
            state_file = optarg;
            break;
        case 'I':
            ignore_state = true;
            break;
        case 'Q': {
            char *eq = strchr(optarg, '=');

            if (eq)
                *eq = '\0';
            if (!eq || xs_quota_set(&store.quota, optarg, eq + 1)) {
                fprintf(stderr, "xenstored: bad quota '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case 'V':
            store.verbose = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    rc = xs_state_load(&store, state_file);
    if (rc == -ENOENT) {
        if (store.verbose)
            xs_log("no state file %s: starting empty", state_file);
    } else if (rc) {
        if (!ignore_state) {
            fprintf(stderr,
                    "xenstored: state file %s is %s; refusing to start "
                    "(remove it or pass --ignore-state)\n",
                    state_file,
                    rc == -EINVAL ? "corrupt or truncated" : strerror(-rc));
            goto out;
        }
        xs_log("ignoring unusable state file %s", state_file);
    }

    if (!no_fork) {
        pid_t pid;
        char byte;

        if (pipe(ready_pipe) < 0)
            goto out;
        pid = fork();
        if (pid < 0)
            goto out;
        if (pid > 0) {
            /* Parent: exit once the child listens (or failed). */
            close(ready_pipe[1]);
            status = read(ready_pipe[0], &byte, 1) == 1 ? 0 : 1;
            _exit(status);
        }
        close(ready_pipe[0]);
        ready_pipe[0] = -1;
        setsid();
    }

    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    if (!base)
        goto out;
    store.evbase = base;
    lfd = listen_socket(sock_path);
    if (lfd < 0)
        goto out;
    lev = event_new(base, lfd, EV_READ | EV_PERSIST, accept_cb, base);
    sigs[0] = evsignal_new(base, SIGUSR1, signal_cb, base);
    sigs[1] = evsignal_new(base, SIGTERM, signal_cb, base);
    sigs[2] = evsignal_new(base, SIGINT, signal_cb, base);
    if (!lev || event_add(lev, NULL) < 0)
        goto out;
    for (i = 0; i < 3; i++) {
        if (!sigs[i] || event_add(sigs[i], NULL) < 0)
            goto out;
    }
    xs_domain_backend_open(&store, base);

    if (pid_file && write_pid_file(pid_file) < 0) {
        fprintf(stderr, "xenstored: cannot write %s: %s\n", pid_file,
                strerror(errno));
        goto out;
    }
    if (no_fork) {
        printf("READY\n");
        fflush(stdout);
    } else {
        int devnull = open("/dev/null", O_RDWR);

        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
            close(devnull);
        }
        if (write(ready_pipe[1], "R", 1) != 1)
            goto out;
        close(ready_pipe[1]);
        ready_pipe[1] = -1;
    }
    if (store.verbose)
        xs_log("listening on %s", sock_path);

    event_base_dispatch(base);
    status = 0;

out:
    if (ready_pipe[1] >= 0)
        close(ready_pipe[1]);
    xs_domain_backend_close(&store);
    xs_store_fini(&store);
    for (i = 0; i < 3; i++) {
        if (sigs[i])
            event_free(sigs[i]);
    }
    if (lev)
        event_free(lev);
    if (lfd >= 0) {
        close(lfd);
        if (status == 0)
            unlink(sock_path);
    }
    if (base)
        event_base_free(base);
    return status;
}
