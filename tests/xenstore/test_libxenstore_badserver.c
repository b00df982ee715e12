/*
 * test_libxenstore_badserver.c — our libxenstore against a scripted fake
 * daemon on a private Unix socket: every error string of xsd_errors
 * (<xen/io/xs_wire.h>) maps to its errno (EACCES among them, which a
 * privileged socket client cannot provoke from the real daemon), unknown
 * strings are EINVAL, and a daemon that breaks the protocol (reply of the
 * wrong type, oversized length, connection closed mid-message, malformed
 * DIRECTORY_PART, transaction id or permission replies) gives an error,
 * never a crash or a hang.  Also: watch events that arrive before a reply
 * are queued, a one-string event is dropped, and DIRECTORY_PART restarts
 * when the generation count changes.  Needs no xenstored.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xenstore.h>

#include "tap.h"

/* What the fake daemon does with each request of a connection. */
enum scenario {
    SC_ERROR,         /* XS_ERROR with the request's payload as string */
    SC_WRONG_TYPE,    /* reply with type XS_DIRECTORY to anything */
    SC_HUGE_LEN,      /* header claims 100000 bytes */
    SC_HALF_CLOSE,    /* half a header, then close */
    SC_WATCH_FIRST,   /* two watch events (one malformed) before the reply */
    SC_DIR_PART,      /* DIRECTORY: E2BIG; DIRECTORY_PART: changing gen */
    SC_DIR_NOSYS,     /* DIRECTORY: E2BIG; DIRECTORY_PART: ENOSYS */
    SC_DIR_BADPART,   /* DIRECTORY: E2BIG; DIRECTORY_PART: no gencnt */
    SC_GARBAGE_REPLY, /* reply of the right type with "zz" */
};

static int listen_fd = -1;
static enum scenario scenario;
static unsigned int part_calls;

static void send_msg(int fd, uint32_t type, uint32_t req_id, const void *body,
                     uint32_t len)
{
    struct xsd_sockmsg hdr = {.type = type, .req_id = req_id, .len = len};

    if (write(fd, &hdr, sizeof(hdr)) != sizeof(hdr) ||
        (len && write(fd, body, len) != (ssize_t)len))
        tap_diag("fake daemon: short write");
}

static bool read_all(int fd, void *buf, size_t len)
{
    char *p = buf;

    while (len) {
        ssize_t n = read(fd, p, len);

        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Answer one request; false closes the connection. */
static bool serve_one(int fd, const struct xsd_sockmsg *hdr, const char *body)
{
    static const char ev_ok[] = "/ev/path\0evtok";
    static const char ev_bad[] = "/only-one-string";
    struct xsd_sockmsg half = {0};

    switch (scenario) {
    case SC_ERROR:
        send_msg(fd, XS_ERROR, hdr->req_id, body, hdr->len);
        return true;
    case SC_WRONG_TYPE:
        send_msg(fd, XS_DIRECTORY, hdr->req_id, "x", 2);
        return true;
    case SC_HUGE_LEN: {
        struct xsd_sockmsg big = {.type = hdr->type, .len = 100000};

        if (write(fd, &big, sizeof(big)) != sizeof(big))
            tap_diag("fake daemon: short write");
        return true;
    }
    case SC_HALF_CLOSE:
        if (write(fd, &half, sizeof(half) / 2) < 0)
            tap_diag("fake daemon: short write");
        return false;
    case SC_WATCH_FIRST:
        send_msg(fd, XS_WATCH_EVENT, 0, ev_bad, sizeof(ev_bad));
        send_msg(fd, XS_WATCH_EVENT, 0, ev_ok, sizeof(ev_ok));
        send_msg(fd, hdr->type, hdr->req_id, "value", 5);
        return true;
    case SC_DIR_PART:
    case SC_DIR_NOSYS:
    case SC_DIR_BADPART:
        if (hdr->type == XS_DIRECTORY) {
            send_msg(fd, XS_ERROR, hdr->req_id, "E2BIG", 6);
        } else if (scenario == SC_DIR_NOSYS) {
            send_msg(fd, XS_ERROR, hdr->req_id, "ENOSYS", 7);
        } else if (scenario == SC_DIR_BADPART) {
            send_msg(fd, hdr->type, hdr->req_id, "nogen", 5);
        } else {
            /* Offsets: body is "<path>\0<offset>\0".  The first listing
             * changes generation half way; the second is stable. */
            const char *off = body + strlen(body) + 1;
            unsigned int call = part_calls++;

            if (strcmp(off, "0") == 0 && call == 0)
                send_msg(fd, hdr->type, hdr->req_id, "7\0a\0b\0", 6);
            else if (strcmp(off, "0") == 0)
                send_msg(fd, hdr->type, hdr->req_id, "8\0c\0d\0", 6);
            else if (call == 1)
                send_msg(fd, hdr->type, hdr->req_id, "9\0zz\0\0", 6);
            else
                send_msg(fd, hdr->type, hdr->req_id, "8\0e\0\0", 5);
        }
        return true;
    case SC_GARBAGE_REPLY:
        send_msg(fd, hdr->type, hdr->req_id, "zz", 3);
        return true;
    }
    return false;
}

static void *server_main(void *arg)
{
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);

        if (fd < 0)
            break;
        for (;;) {
            struct xsd_sockmsg hdr;
            char body[XENSTORE_PAYLOAD_MAX + 1];

            if (!read_all(fd, &hdr, sizeof(hdr)) ||
                hdr.len > XENSTORE_PAYLOAD_MAX || !read_all(fd, body, hdr.len))
                break;
            body[hdr.len] = '\0';
            if (!serve_one(fd, &hdr, body))
                break;
        }
        close(fd);
    }
    return NULL;
}

static struct xs_handle *open_for(enum scenario sc)
{
    scenario = sc;
    return xs_open(0);
}

static void test_error_strings(void)
{
    struct xs_handle *h = open_for(SC_ERROR);
    unsigned int i, right = 0;

    for (i = 0; h && i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++) {
        errno = 0;
        /* The fake daemon echoes the path back as the error string. */
        if (!xs_read(h, XBT_NULL, xsd_errors[i].errstring, NULL) &&
            errno == xsd_errors[i].errnum)
            right++;
        else
            tap_diag("%s gave errno %d", xsd_errors[i].errstring, errno);
    }
    is_int(right, (long long)(sizeof(xsd_errors) / sizeof(xsd_errors[0])),
           "every xsd_errors string maps to its errno");
    errno = 0;
    ok(h && !xs_write(h, XBT_NULL, "EACCES", "v", 1) && errno == EACCES,
       "EACCES reply: xs_write false, errno EACCES");
    errno = 0;
    ok(h && !xs_read(h, XBT_NULL, "ENOTANERROR", NULL) && errno == EINVAL,
       "unknown error string -> EINVAL");
    errno = 0;
    ok(h && !xs_mkdir(h, XBT_NULL, "EEXIST") && errno == EEXIST,
       "EEXIST reply: xs_mkdir false, errno EEXIST");
    xs_close(h);
}

static void test_bad_replies(void)
{
    struct xs_handle *h;
    unsigned int num, len = 0;
    char **v, *val;

    h = open_for(SC_WRONG_TYPE);
    errno = 0;
    ok(h && !xs_read(h, XBT_NULL, "/x", NULL) && errno == EINVAL,
       "reply of another type -> EINVAL");
    xs_close(h);

    h = open_for(SC_HUGE_LEN);
    errno = 0;
    ok(h && !xs_read(h, XBT_NULL, "/x", NULL) && errno == EIO,
       "reply longer than XENSTORE_PAYLOAD_MAX -> EIO");
    errno = 0;
    ok(h && !xs_read(h, XBT_NULL, "/x", NULL) && errno == EIO,
       "the broken connection stays failed");
    xs_close(h);

    h = open_for(SC_HALF_CLOSE);
    errno = 0;
    ok(h && !xs_read(h, XBT_NULL, "/x", NULL) && errno == ECONNRESET,
       "connection closed mid-header -> ECONNRESET");
    errno = 0;
    ok(h && !xs_write(h, XBT_NULL, "/x", "v", 1) && errno == ECONNRESET,
       "later requests fail the same way");
    xs_close(h);

    h = open_for(SC_WATCH_FIRST);
    val = h ? xs_read(h, XBT_NULL, "/x", &len) : NULL;
    ok(val && len == 5 && strcmp(val, "value") == 0,
       "reply found behind two watch events");
    free(val);
    v = h ? xs_check_watch(h) : NULL;
    ok(v && strcmp(v[XS_WATCH_PATH], "/ev/path") == 0 &&
           strcmp(v[XS_WATCH_TOKEN], "evtok") == 0,
       "the well-formed event was queued");
    free(v);
    errno = 0;
    ok(h && !xs_check_watch(h) && errno == EAGAIN,
       "the one-string event was dropped");
    xs_close(h);

    h = open_for(SC_GARBAGE_REPLY);
    errno = 0;
    ok(h && xs_transaction_start(h) == XBT_NULL && errno == EINVAL,
       "non-numeric transaction id -> XBT_NULL, EINVAL");
    errno = 0;
    ok(h && !xs_get_permissions(h, XBT_NULL, "/x", &num) && errno == EINVAL,
       "garbage permissions -> EINVAL");
    xs_close(h);
}

static void test_directory_part(void)
{
    struct xs_handle *h;
    unsigned int n = 0;
    char **v;

    part_calls = 0;
    h = open_for(SC_DIR_PART);
    v = h ? xs_directory(h, XBT_NULL, "/d", &n) : NULL;
    ok(v && n == 3 && !strcmp(v[0], "c") && !strcmp(v[1], "d") &&
           !strcmp(v[2], "e"),
       "DIRECTORY_PART restarts on a new generation: c d e");
    is_int(part_calls, 4, "four DIRECTORY_PART requests");
    free(v);
    xs_close(h);

    h = open_for(SC_DIR_NOSYS);
    errno = 0;
    ok(h && !xs_directory(h, XBT_NULL, "/d", &n) && errno == E2BIG,
       "no DIRECTORY_PART support -> E2BIG");
    xs_close(h);

    h = open_for(SC_DIR_BADPART);
    errno = 0;
    ok(h && !xs_directory(h, XBT_NULL, "/d", &n) && errno == EIO,
       "DIRECTORY_PART reply without a generation -> EIO");
    xs_close(h);
}

int main(void)
{
    char dir[] = "/tmp/xs-fake.XXXXXX", path[64], cmd[96];
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    pthread_t th;

    if (!mkdtemp(dir))
        tap_skip_all("mkdtemp failed");
    snprintf(path, sizeof(path), "%s/socket", dir);
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (listen_fd < 0 ||
        bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(listen_fd, 4) < 0 ||
        pthread_create(&th, NULL, server_main, NULL) != 0) {
        ok(false, "fake daemon listens");
        return tap_done();
    }
    setenv("XENSTORED_PATH", path, 1);
    test_error_strings();
    test_bad_replies();
    test_directory_part();
    shutdown(listen_fd, SHUT_RDWR);
    close(listen_fd);
    pthread_join(th, NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", dir);
    return tap_done();
}
