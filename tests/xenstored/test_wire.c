/*
 * test_wire.c — the real xenstored over its Unix socket, spoken to in the
 * raw wire protocol (struct xsd_sockmsg, Xen docs/misc/xenstore.txt) and
 * checked byte for byte: every message type, req_id/tx_id echo,
 * pipelining, bad input and random packets (the daemon keeps serving),
 * the state file across SIGTERM, SIGUSR1 and SIGKILL, corrupt state files
 * refused, the options (--help, --pid-file, forking).
 *
 * The daemon runs with --no-fork on a socket and state file in a private
 * mktemp directory; $XEN_ROOT locates it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <stdint.h>
#include <xen/io/xs_wire.h>

#include "tap.h"

static char dir[64], sock_path[100], state_path[128], log_path[128];
static char daemon_bin[512];
static pid_t daemon_pid = -1;
/* xen-hv's control socket for the daemon; none unless a test sets it. */
static const char *privcmd_path = "/nonexistent/privcmd";

/* Start the daemon with extra arguments; wait for READY.  0 or -1. */
static int daemon_start(const char *extra)
{
    int out[2];
    pid_t pid;
    char buf[16] = "";
    struct pollfd pfd;
    ssize_t n;

    if (pipe(out) < 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

        dup2(out[1], 1);
        if (logfd >= 0)
            dup2(logfd, 2);
        close(out[0]);
        /* Keep the daemon away from a real xen-hv unless asked. */
        setenv("XENHV_PRIVCMD", privcmd_path, 1);
        if (extra)
            execl(daemon_bin, "xenstored", "--no-fork", "--socket", sock_path,
                  "--state", state_path, extra, (char *)NULL);
        else
            execl(daemon_bin, "xenstored", "--no-fork", "--socket", sock_path,
                  "--state", state_path, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    daemon_pid = pid;
    pfd.fd = out[0];
    pfd.events = POLLIN;
    if (poll(&pfd, 1, 10000) <= 0) {
        close(out[0]);
        return -1;
    }
    n = read(out[0], buf, sizeof(buf) - 1);
    close(out[0]);
    if (n <= 0 || strncmp(buf, "READY", 5) != 0)
        return -1;
    return 0;
}

/* Signal the daemon and reap it; returns its exit status (or 128+sig). */
static int daemon_stop(int sig)
{
    int status;

    if (daemon_pid < 0)
        return -1;
    kill(daemon_pid, sig);
    if (waitpid(daemon_pid, &status, 0) < 0)
        return -1;
    daemon_pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Run the daemon expecting it to exit at start; returns its status. */
static int daemon_run_fail(const char *extra)
{
    int status;
    pid_t pid = fork();

    if (pid == 0) {
        int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

        if (logfd >= 0) {
            dup2(logfd, 2);
            dup2(logfd, 1);
        }
        setenv("XENHV_PRIVCMD", "/nonexistent/privcmd", 1);
        execl(daemon_bin, "xenstored", "--no-fork", "--socket", sock_path,
              "--state", state_path, extra, (char *)NULL);
        _exit(127);
    }
    /* A daemon that starts would block here; give it 10 s then kill. */
    for (int i = 0; i < 1000; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -2;
}

static int xs_connect(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const void *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t n = send(fd, (const char *)buf + off, len - off, MSG_NOSIGNAL);

        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

/* Receive exactly @len bytes within 5 s: 1 ok, 0 closed, -1 timeout. */
static int recv_all(int fd, void *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        ssize_t n;

        if (poll(&pfd, 1, 5000) <= 0)
            return -1;
        n = recv(fd, (char *)buf + off, len - off, 0);
        if (n == 0)
            return 0;
        if (n < 0)
            return errno == ECONNRESET ? 0 : -1;
        off += (size_t)n;
    }
    return 1;
}

struct msg {
    struct xsd_sockmsg hdr;
    char data[XENSTORE_PAYLOAD_MAX + 1];
};

/* Read one message: 1 ok, 0 connection closed, -1 timeout/error. */
static int read_msg(int fd, struct msg *m)
{
    int rc = recv_all(fd, &m->hdr, sizeof(m->hdr));

    if (rc <= 0)
        return rc;
    if (m->hdr.len > XENSTORE_PAYLOAD_MAX)
        return -1;
    rc = recv_all(fd, m->data, m->hdr.len);
    if (rc <= 0)
        return rc;
    m->data[m->hdr.len] = '\0';
    return 1;
}

/* Read the next non-event message. */
static int read_reply(int fd, struct msg *m)
{
    int rc;

    while ((rc = read_msg(fd, m)) == 1 && m->hdr.type == XS_WATCH_EVENT)
        ;
    return rc;
}

static int send_msg(int fd, uint32_t type, uint32_t req_id, uint32_t tx_id,
                    const void *payload, size_t len)
{
    char buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX + 64];
    struct xsd_sockmsg hdr = {type, req_id, tx_id, (uint32_t)len};

    memcpy(buf, &hdr, sizeof(hdr));
    memcpy(buf + sizeof(hdr), payload, len);
    return send_all(fd, buf, sizeof(hdr) + len);
}

/*
 * Send @type with payload @p/@plen (req_id @rid, tx_id @tx) and check the
 * reply is exactly @etype with payload @e/@elen and both ids echoed.
 */
static bool exact(int fd, uint32_t type, uint32_t rid, uint32_t tx,
                  const void *p, size_t plen, uint32_t etype, const void *e,
                  size_t elen, const char *name)
{
    struct msg m;
    bool good = send_msg(fd, type, rid, tx, p, plen) == 0 &&
                read_reply(fd, &m) == 1 && m.hdr.type == etype &&
                m.hdr.req_id == rid && m.hdr.tx_id == tx && m.hdr.len == elen &&
                memcmp(m.data, e, elen) == 0;

    ok(good, "%s", name);
    if (!good)
        tap_diag("  got type %u len %u \"%s\"", m.hdr.type, m.hdr.len, m.data);
    return good;
}

/* Payload literals: the length excludes C's own terminating NUL. */
#define P(s)   s, sizeof(s) - 1
#define OK3    "OK", 3
#define ERR(e) e, sizeof(e)

static void test_types(int fd)
{
    struct msg m;
    char buf[64];
    uint32_t tx;

    exact(fd, XS_WRITE, 1, 0, P("/t/a\0value"), XS_WRITE, OK3, "WRITE");
    exact(fd, XS_READ, 2, 0, P("/t/a\0"), XS_READ, P("value"), "READ");
    exact(fd, XS_MKDIR, 3, 0, P("/t/b\0"), XS_MKDIR, OK3, "MKDIR");
    exact(fd, XS_DIRECTORY, 4, 0, P("/t\0"), XS_DIRECTORY, P("a\0b\0"),
          "DIRECTORY");
    send_msg(fd, XS_DIRECTORY_PART, 5, 0,
             P("/t\0"
               "0\0"));
    read_reply(fd, &m);
    {
        size_t gl = strlen(m.data) + 1;

        ok(m.hdr.type == XS_DIRECTORY_PART && m.hdr.req_id == 5 &&
               m.hdr.len == gl + 5 && memcmp(m.data + gl, "a\0b\0\0", 5) == 0 &&
               atoll(m.data) > 0,
           "DIRECTORY_PART: gencnt, children, end mark");
    }
    exact(fd, XS_GET_PERMS, 6, 0, P("/t/a\0"), XS_GET_PERMS, P("n0\0"),
          "GET_PERMS");
    exact(fd, XS_SET_PERMS, 7, 0, P("/t/a\0n0\0r3\0"), XS_SET_PERMS, OK3,
          "SET_PERMS");
    exact(fd, XS_GET_PERMS, 8, 0, P("/t/a\0"), XS_GET_PERMS, P("n0\0r3\0"),
          "GET_PERMS after SET_PERMS");
    exact(fd, XS_WATCH, 9, 0, P("/t\0tok\0"), XS_WATCH, OK3, "WATCH");
    ok(read_msg(fd, &m) == 1 && m.hdr.type == XS_WATCH_EVENT &&
           m.hdr.req_id == 0 && m.hdr.tx_id == 0 && m.hdr.len == 7 &&
           memcmp(m.data, "/t\0tok\0", 7) == 0,
       "initial WATCH_EVENT, byte-exact");
    send_msg(fd, XS_WRITE, 10, 0, P("/t/c\0x"));
    ok(read_msg(fd, &m) == 1 && m.hdr.type == XS_WRITE && m.hdr.req_id == 10,
       "WRITE under the watch answered");
    ok(read_msg(fd, &m) == 1 && m.hdr.type == XS_WATCH_EVENT &&
           m.hdr.len == 9 && memcmp(m.data, "/t/c\0tok\0", 9) == 0,
       "WATCH_EVENT for the write, byte-exact");
    exact(fd, XS_UNWATCH, 11, 0, P("/t\0tok\0"), XS_UNWATCH, OK3, "UNWATCH");
    exact(fd, XS_RM, 12, 0, P("/t/c\0"), XS_RM, OK3, "RM");
    exact(fd, XS_READ, 13, 0, P("/t/c\0"), XS_ERROR, ERR("ENOENT"),
          "READ of a removed node: ERROR ENOENT");

    send_msg(fd, XS_TRANSACTION_START, 14, 0, P("\0"));
    read_reply(fd, &m);
    tx = (uint32_t)atoi(m.data);
    ok(m.hdr.type == XS_TRANSACTION_START && tx > 0 &&
           m.hdr.len == strlen(m.data) + 1,
       "TRANSACTION_START");
    exact(fd, XS_WRITE, 15, tx, P("/t/tx\0in"), XS_WRITE, OK3,
          "WRITE in a transaction echoes tx_id");
    exact(fd, XS_READ, 16, 0, P("/t/tx\0"), XS_ERROR, ERR("ENOENT"),
          "not visible before commit");
    exact(fd, XS_TRANSACTION_END, 17, tx, P("T\0"), XS_TRANSACTION_END, OK3,
          "TRANSACTION_END commit");
    exact(fd, XS_READ, 18, 0, P("/t/tx\0"), XS_READ, P("in"),
          "visible after commit");

    exact(fd, XS_INTRODUCE, 19, 0,
          P("5\0"
            "4096\0"
            "3\0"),
          XS_ERROR, ERR("EINVAL"), "INTRODUCE without xen-hv: EINVAL");
    exact(fd, XS_RELEASE, 20, 0, P("5\0"), XS_ERROR, ERR("ENOENT"),
          "RELEASE of an unknown domain: ENOENT");
    exact(fd, XS_GET_DOMAIN_PATH, 21, 0, P("5\0"), XS_GET_DOMAIN_PATH,
          P("/local/domain/5\0"), "GET_DOMAIN_PATH");
    exact(fd, XS_IS_DOMAIN_INTRODUCED, 22, 0, P("5\0"), XS_IS_DOMAIN_INTRODUCED,
          P("F\0"), "IS_DOMAIN_INTRODUCED 5: F");
    exact(fd, XS_IS_DOMAIN_INTRODUCED, 23, 0, P("0\0"), XS_IS_DOMAIN_INTRODUCED,
          P("T\0"), "IS_DOMAIN_INTRODUCED 0: T");
    exact(fd, XS_RESUME, 24, 0, P("5\0"), XS_ERROR, ERR("ENOENT"),
          "RESUME of an unknown domain: ENOENT");
    exact(fd, XS_SET_TARGET, 25, 0,
          P("5\0"
            "6\0"),
          XS_ERROR, ERR("ENOENT"), "SET_TARGET of unknown domains: ENOENT");
    exact(fd, XS_RESET_WATCHES, 26, 0, P("\0"), XS_RESET_WATCHES, OK3,
          "RESET_WATCHES");
    exact(fd, XS_CONTROL, 27, 0, P("print\0hello\0"), XS_CONTROL, OK3,
          "CONTROL print");
    exact(fd, XS_CONTROL, 28, 0, P("log\0on\0"), XS_CONTROL, OK3,
          "CONTROL log on");
    exact(fd, XS_CONTROL, 29, 0, P("log\0off\0"), XS_CONTROL, OK3,
          "CONTROL log off");
    exact(fd, XS_CONTROL, 30, 0,
          P("quota\0nodes\0"
            "500\0"),
          XS_CONTROL, OK3, "CONTROL quota nodes 500");
    send_msg(fd, XS_CONTROL, 31, 0, P("quota\0"));
    ok(read_reply(fd, &m) == 1 && m.hdr.type == XS_CONTROL &&
           strstr(m.data, "nodes            500\n") != NULL,
       "CONTROL quota lists the new limit");
    exact(fd, XS_WATCH_EVENT, 32, 0, P("/t\0x\0"), XS_ERROR, ERR("EINVAL"),
          "client-sent WATCH_EVENT: EINVAL");
    exact(fd, XS_ERROR, 33, 0, P("EINVAL\0"), XS_ERROR, ERR("EINVAL"),
          "client-sent ERROR: EINVAL");
    exact(fd, 0xdead, 34, 0, P("/t\0"), XS_ERROR, ERR("EINVAL"),
          "unknown type: EINVAL");
    exact(fd, XS_TYPE_COUNT, 35, 0, P(""), XS_ERROR, ERR("EINVAL"),
          "XS_TYPE_COUNT: EINVAL");
    exact(fd, XS_GET_DOMAIN_PATH, 0xfedcba98, 0x12345678, P("7\0"),
          XS_GET_DOMAIN_PATH, P("/local/domain/7\0"),
          "odd req_id and tx_id echoed by a non-transaction request");
    exact(fd, XS_READ, 36, 0x12345678, P("/t/a\0"), XS_ERROR, ERR("ENOENT"),
          "READ with an unknown tx_id: ENOENT, tx_id echoed");
    (void)buf;
}

static void test_bad_input(void)
{
    struct msg m;
    int fd = xs_connect(), fd2 = xs_connect();
    char big[XENSTORE_ABS_PATH_MAX + 16];

    exact(fd, XS_READ, 1, 0, P("/t/a"), XS_ERROR, ERR("EINVAL"),
          "path without NUL: EINVAL");
    exact(fd, XS_READ, 2, 0, P("/t/a\0junk"), XS_ERROR, ERR("EINVAL"),
          "trailing junk after the path: EINVAL");
    exact(fd, XS_READ, 3, 0, P("/t//a\0"), XS_ERROR, ERR("EINVAL"),
          "doubled slash: EINVAL");
    exact(fd, XS_READ, 4, 0, P("/t/a/\0"), XS_ERROR, ERR("EINVAL"),
          "trailing slash: EINVAL");
    exact(fd, XS_READ, 5, 0, P("/t/\x01\0"), XS_ERROR, ERR("EINVAL"),
          "control character: EINVAL");
    exact(fd, XS_WRITE, 6, 0, P("/t/nonul"), XS_ERROR, ERR("EINVAL"),
          "WRITE without path terminator: EINVAL");
    memset(big, 'x', sizeof(big));
    big[0] = '/';
    big[XENSTORE_ABS_PATH_MAX + 1] = '\0';
    exact(fd, XS_READ, 7, 0, big, XENSTORE_ABS_PATH_MAX + 2, XS_ERROR,
          ERR("EINVAL"), "path over XENSTORE_ABS_PATH_MAX: EINVAL");
    exact(fd, XS_SET_PERMS, 8, 0, P("/t/a\0q7\0"), XS_ERROR, ERR("EINVAL"),
          "bad permission string: EINVAL");
    exact(fd, XS_TRANSACTION_END, 9, 77, P("T\0"), XS_ERROR, ERR("ENOENT"),
          "unknown transaction: ENOENT");

    /* Oversized payload: the connection is closed, others carry on. */
    {
        struct xsd_sockmsg h = {XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1};

        send_all(fd, &h, sizeof(h));
        is_int(read_msg(fd, &m), 0, "len > XENSTORE_PAYLOAD_MAX: closed");
        close(fd);
    }
    exact(fd2, XS_READ, 10, 0, P("/t/a\0"), XS_READ, P("value"),
          "second client still served");

    /* Short header, then the client vanishes. */
    fd = xs_connect();
    send_all(fd, "\x02\x00\x00", 3);
    close(fd);
    /* A client vanishing mid payload. */
    fd = xs_connect();
    {
        struct xsd_sockmsg h = {XS_WRITE, 1, 0, 100};

        send_all(fd, &h, sizeof(h));
        send_all(fd, "/t/half\0", 8);
        close(fd);
    }
    /* A client vanishing with replies queued. */
    fd = xs_connect();
    for (int i = 0; i < 50; i++)
        send_msg(fd, XS_READ, (uint32_t)i, 0, P("/t/a\0"));
    close(fd);
    exact(fd2, XS_READ, 11, 0, P("/t/half\0"), XS_ERROR, ERR("ENOENT"),
          "vanished clients: half a WRITE never applied");
    exact(fd2, XS_READ, 12, 0, P("/t/a\0"), XS_READ, P("value"),
          "daemon still serving after vanishing clients");
    close(fd2);
}

static void test_pipeline(void)
{
    char buf[100 * (sizeof(struct xsd_sockmsg) + 8)];
    size_t off = 0;
    unsigned int i, good = 0;
    int fd = xs_connect();
    struct msg m;

    for (i = 0; i < 100; i++) {
        struct xsd_sockmsg h = {XS_READ, 1000 + i, 0, 5};

        memcpy(buf + off, &h, sizeof(h));
        memcpy(buf + off + sizeof(h), "/t/a\0", 5);
        off += sizeof(h) + 5;
    }
    send_all(fd, buf, off);
    for (i = 0; i < 100; i++) {
        if (read_msg(fd, &m) == 1 && m.hdr.req_id == 1000 + i &&
            m.hdr.len == 5 && memcmp(m.data, "value", 5) == 0)
            good++;
    }
    is_int(good, 100, "100 pipelined requests answered in order");
    close(fd);
}

static void test_random(void)
{
    static const uint32_t types[] = {
        XS_CONTROL,
        XS_DIRECTORY,
        XS_READ,
        XS_GET_PERMS,
        XS_WATCH,
        XS_UNWATCH,
        XS_TRANSACTION_START,
        XS_TRANSACTION_END,
        XS_INTRODUCE,
        XS_RELEASE,
        XS_GET_DOMAIN_PATH,
        XS_WRITE,
        XS_MKDIR,
        XS_RM,
        XS_SET_PERMS,
        XS_WATCH_EVENT,
        XS_ERROR,
        XS_IS_DOMAIN_INTRODUCED,
        XS_RESUME,
        XS_SET_TARGET,
        XS_RESET_WATCHES,
        XS_DIRECTORY_PART,
        99,
        0xffff,
    };
    static const char alphabet[] = "/abc0@\0-_ .T";
    unsigned int i, answered = 0, closed = 0, bad = 0;
    int fd = xs_connect();
    struct msg m;

    srand(12345);
    for (i = 0; i < 1000; i++) {
        char payload[80];
        uint32_t len = (uint32_t)(rand() % 64), j;
        uint32_t type = types[rand() % (sizeof(types) / sizeof(types[0]))];
        bool huge = rand() % 50 == 0;

        for (j = 0; j < len; j++)
            payload[j] = rand() % 3 ? alphabet[rand() % (sizeof(alphabet) - 1)]
                                    : (char)rand();
        if (type == XS_CONTROL)
            type = XS_READ; /* keep quotas and logging as they are */
        if (huge) {
            struct xsd_sockmsg h = {type, i, 0, 0x80000000u + (uint32_t)rand()};

            send_all(fd, &h, sizeof(h));
        } else {
            send_msg(fd, type, i, 0, payload, len);
        }
        switch (read_reply(fd, &m)) {
        case 1:
            if (m.hdr.req_id == i)
                answered++;
            else
                bad++;
            break;
        case 0:
            closed++;
            close(fd);
            fd = xs_connect();
            break;
        default:
            bad++;
            close(fd);
            fd = xs_connect();
            break;
        }
    }
    is_int(bad, 0, "1000 random packets: every one answered or closed");
    ok(answered > 900, "random packets answered: %u, closed: %u", answered,
       closed);
    close(fd);
    fd = xs_connect();
    exact(fd, XS_READ, 1, 0, P("/t/a\0"), XS_READ, P("value"),
          "daemon serves after the random packets");
    close(fd);
}

/* The generation count of @path from DIRECTORY_PART. */
static long long gen_of(int fd, const char *path)
{
    char p[128];
    struct msg m;
    size_t l = strlen(path) + 1;

    memcpy(p, path, l);
    memcpy(p + l, "0", 2);
    send_msg(fd, XS_DIRECTORY_PART, 1, 0, p, l + 2);
    if (read_reply(fd, &m) != 1 || m.hdr.type != XS_DIRECTORY_PART)
        return -1;
    return atoll(m.data);
}

static void test_state(void)
{
    struct stat st;
    long long gen_before;
    int fd = xs_connect(), rc;
    FILE *f;

    exact(fd, XS_WRITE, 1, 0, P("/keep/me\0kept"), XS_WRITE, OK3,
          "write a node to keep");
    exact(fd, XS_SET_PERMS, 2, 0, P("/keep/me\0n4\0r9\0"), XS_SET_PERMS, OK3,
          "with permissions");
    gen_before = gen_of(fd, "/keep");
    close(fd);
    is_int(daemon_stop(SIGTERM), 0, "SIGTERM: clean exit");
    ok(stat(state_path, &st) == 0 && st.st_size > 0, "state file written");
    ok(daemon_start(NULL) == 0, "restart");
    fd = xs_connect();
    exact(fd, XS_READ, 3, 0, P("/keep/me\0"), XS_READ, P("kept"),
          "value survives the restart");
    exact(fd, XS_GET_PERMS, 4, 0, P("/keep/me\0"), XS_GET_PERMS, P("n4\0r9\0"),
          "permissions survive");
    is_int(gen_of(fd, "/keep"), gen_before, "generation count survives");
    exact(fd, XS_READ, 5, 0, P("/t/a\0"), XS_READ, P("value"),
          "earlier nodes survive");

    /* SIGUSR1 saves while running; a SIGKILL afterwards loses nothing. */
    exact(fd, XS_WRITE, 6, 0, P("/usr1\0saved"), XS_WRITE, OK3,
          "write before SIGUSR1");
    close(fd);
    unlink(state_path);
    kill(daemon_pid, SIGUSR1);
    for (int i = 0; i < 500 && stat(state_path, &st) != 0; i++)
        usleep(10000);
    ok(stat(state_path, &st) == 0, "SIGUSR1 writes the state file");
    is_int(daemon_stop(SIGKILL), 128 + SIGKILL, "SIGKILL");
    ok(daemon_start(NULL) == 0, "restart after SIGKILL");
    fd = xs_connect();
    exact(fd, XS_READ, 7, 0, P("/usr1\0"), XS_READ, P("saved"),
          "node saved by SIGUSR1 survives a SIGKILL");
    close(fd);
    daemon_stop(SIGTERM);

    /* Truncated state file: refused. */
    stat(state_path, &st);
    rc = truncate(state_path, st.st_size - 10);
    rc = daemon_run_fail(NULL);
    ok(rc > 0, "truncated state file: refuses to start (exit %d)", rc);
    rc = daemon_start("--ignore-state");
    ok(rc == 0, "--ignore-state starts anyway");
    fd = xs_connect();
    exact(fd, XS_READ, 8, 0, P("/usr1\0"), XS_ERROR, ERR("ENOENT"),
          "...with an empty tree");
    exact(fd, XS_WRITE, 9, 0, P("/fresh\0x"), XS_WRITE, OK3, "write again");
    close(fd);
    daemon_stop(SIGINT);
    ok(stat(state_path, &st) == 0, "SIGINT saves too");

    /* One flipped byte in the middle: refused. */
    f = fopen(state_path, "r+");
    if (f) {
        int c;

        fseek(f, st.st_size / 2, SEEK_SET);
        c = fgetc(f);
        fseek(f, st.st_size / 2, SEEK_SET);
        fputc(c ^ 0x40, f);
        fclose(f);
    }
    rc = daemon_run_fail(NULL);
    ok(rc > 0, "state file with a flipped byte: refused (exit %d)", rc);
    f = fopen(state_path, "w");
    if (f) {
        fputs("not a state file at all", f);
        fclose(f);
    }
    rc = daemon_run_fail(NULL);
    ok(rc > 0, "garbage state file: refused (exit %d)", rc);
    unlink(state_path);
    ok(daemon_start(NULL) == 0, "no state file: starts empty");
}

static void test_options(void)
{
    char pidfile[160], cmd[1024], buf[32] = "";
    int status;
    FILE *f;
    long pid = 0;

    snprintf(cmd, sizeof(cmd), "%s --help >/dev/null 2>&1", daemon_bin);
    status = system(cmd);
    is_int(WEXITSTATUS(status), 0, "--help exits 0");
    snprintf(cmd, sizeof(cmd), "%s --bogus >/dev/null 2>&1", daemon_bin);
    status = system(cmd);
    is_int(WEXITSTATUS(status), 2, "unknown option exits 2");
    snprintf(cmd, sizeof(cmd), "%s -Q nodes >/dev/null 2>&1", daemon_bin);
    status = system(cmd);
    is_int(WEXITSTATUS(status), 2, "-Q without a value exits 2");

    /* Forking mode with a pid file, on a second socket. */
    snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
    snprintf(cmd, sizeof(cmd),
             "XENHV_PRIVCMD=/nonexistent %s --socket %s/s2 --state %s/st2 "
             "-F %s -Q watches=3 2>>%s",
             daemon_bin, dir, dir, pidfile, log_path);
    status = system(cmd);
    is_int(WEXITSTATUS(status), 0, "forking start returns 0 once ready");
    f = fopen(pidfile, "r");
    if (f) {
        if (fgets(buf, sizeof(buf), f))
            pid = atol(buf);
        fclose(f);
    }
    ok(pid > 0 && kill((pid_t)pid, 0) == 0, "pid file names a live daemon");
    {
        char save[100];
        int fd;
        struct msg m;

        snprintf(save, sizeof(save), "%s", sock_path);
        snprintf(sock_path, sizeof(sock_path), "%s/s2", dir);
        fd = xs_connect();
        send_msg(fd, XS_CONTROL, 1, 0, P("quota\0"));
        ok(read_reply(fd, &m) == 1 &&
               strstr(m.data, "watches          3\n") != NULL,
           "-Q watches=3 applied");
        close(fd);
        snprintf(sock_path, sizeof(sock_path), "%s", save);
    }
    if (pid > 0) {
        kill((pid_t)pid, SIGTERM);
        for (int i = 0; i < 500 && kill((pid_t)pid, 0) == 0; i++)
            usleep(10000);
    }
    ok(pid > 0 && kill((pid_t)pid, 0) != 0, "forked daemon stops on SIGTERM");
}

/* CPU time (utime + stime, clock ticks) of @pid, or -1. */
static long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut, st;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    /* Fields after the name: state ... utime is the 12th, stime 13th. */
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               &ut, &st) != 2)
        return -1;
    return (long)(ut + st);
}

/*
 * With a real xen-hv (the daemon mode) behind INTRODUCE's handles: when
 * xen-hv exits, xenstored forgets its domains, keeps serving, and does not
 * spin on the closed event socket.
 */
static void test_xenhv_loss(void)
{
    const char *xenhv = getenv("XENHV");
    char priv[128], cmd[512];
    pid_t hv;
    long t0, t1;
    int fd, i, status;

    if (!xenhv || access(xenhv, X_OK) != 0 || geteuid() != 0) {
        tap_skip(4, "needs xen-hv ($XENHV) and root");
        return;
    }
    snprintf(priv, sizeof(priv), "%s/privcmd", dir);
    hv = fork();
    if (hv == 0) {
        int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

        if (logfd >= 0) {
            dup2(logfd, 1);
            dup2(logfd, 2);
        }
        execl(xenhv, "xen-hv", "daemon", "--control", priv, (char *)NULL);
        _exit(127);
    }
    for (i = 0; i < 500 && access(priv, F_OK) != 0; i++)
        usleep(10000);
    if (access(priv, F_OK) != 0) {
        kill(hv, SIGKILL);
        waitpid(hv, &status, 0);
        tap_skip(4, "xen-hv daemon did not start here");
        return;
    }
    daemon_stop(SIGTERM);
    privcmd_path = priv;
    ok(daemon_start(NULL) == 0, "xenstored started next to a xen-hv");
    privcmd_path = "/nonexistent/privcmd";
    kill(hv, SIGTERM);
    waitpid(hv, &status, 0);
    usleep(300000);
    t0 = cpu_ticks(daemon_pid);
    usleep(1000000);
    t1 = cpu_ticks(daemon_pid);
    ok(t0 >= 0 && t1 - t0 < 20,
       "no busy loop after xen-hv exited (%ld ticks in 1 s)", t1 - t0);
    fd = xs_connect();
    exact(fd, XS_WRITE, 1, 0, P("/after-hv\0x"), XS_WRITE, OK3,
          "still serving after xen-hv exited");
    close(fd);
    snprintf(cmd, sizeof(cmd), "grep -q 'lost the connection to xen-hv' %s",
             log_path);
    ok(system(cmd) == 0, "the loss is logged");
}

int main(void)
{
    const char *root = getenv("XEN_ROOT");
    const char *bin = getenv("XENSTORED"); /* e.g. a sanitizer build */
    int fd;

    if (bin)
        snprintf(daemon_bin, sizeof(daemon_bin), "%s", bin);
    else
        snprintf(daemon_bin, sizeof(daemon_bin),
                 "%s/xenstore/xenstored/xenstored", root ? root : XEN_ROOT);
    if (access(daemon_bin, X_OK) != 0)
        tap_skip_all("xenstored not built");
    snprintf(dir, sizeof(dir), "/tmp/xsd-wire-XXXXXX");
    if (!mkdtemp(dir))
        tap_skip_all("cannot make a temporary directory");
    snprintf(sock_path, sizeof(sock_path), "%s/socket", dir);
    snprintf(state_path, sizeof(state_path), "%s/state", dir);
    snprintf(log_path, sizeof(log_path), "%s/log", dir);
    signal(SIGPIPE, SIG_IGN);

    ok(daemon_start(NULL) == 0, "daemon starts and prints READY");
    fd = xs_connect();
    ok(fd >= 0, "connect to the socket");
    test_types(fd);
    close(fd);
    test_bad_input();
    test_pipeline();
    test_random();
    test_state();
    test_options();
    test_xenhv_loss();
    is_int(daemon_stop(SIGTERM), 0, "final clean exit");

    if (tap_fail_count) {
        char cmd[256];

        snprintf(cmd, sizeof(cmd), "sed 's/^/# /' %s", log_path);
        if (system(cmd) < 0)
            tap_diag("cannot show the log");
    } else {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) < 0)
            tap_diag("cannot clean %s", dir);
    }
    return tap_done();
}
