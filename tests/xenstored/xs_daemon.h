/*
 * xs_daemon.h — run the real xenstored for a wire test or a benchmark and
 * speak its Unix-socket protocol (struct xsd_sockmsg, Xen
 * docs/misc/xenstore.txt).  Header-only; one program includes it once.
 *
 *   xsd_start(bin, dir)      xenstored --no-fork on DIR/socket, state file
 *                            DIR/state, stderr to DIR/log; waits for READY
 *   xsd_stop()               SIGTERM and reap
 *   xsd_connect()            a new client socket (blocking), -1 on error
 *   xsd_call(fd, type, ...)  one request, its reply's payload (watch
 *                            events in between are skipped)
 *   xsd_rss_kib()            the daemon's VmRSS
 */
#ifndef TESTS_XS_DAEMON_H
#define TESTS_XS_DAEMON_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

static pid_t xsd_pid = -1;
static char xsd_sock[108];

/* Start @bin on a socket in @dir; 0 once it printed READY, else -1. */
__attribute__((unused)) static int xsd_start(const char *bin, const char *dir)
{
    char state[256], log[256], buf[16] = "";
    struct pollfd pfd;
    int out[2];
    ssize_t n;

    snprintf(xsd_sock, sizeof(xsd_sock), "%s/socket", dir);
    snprintf(state, sizeof(state), "%s/state", dir);
    snprintf(log, sizeof(log), "%s/log", dir);
    if (pipe(out) < 0)
        return -1;
    xsd_pid = fork();
    if (xsd_pid < 0)
        return -1;
    if (xsd_pid == 0) {
        int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

        dup2(out[1], 1);
        if (logfd >= 0)
            dup2(logfd, 2);
        close(out[0]);
        /* No xen-hv unless the caller set XENHV_PRIVCMD itself. */
        setenv("XENHV_PRIVCMD", "/nonexistent/privcmd", 0);
        execl(bin, "xenstored", "--no-fork", "--socket", xsd_sock, "--state",
              state, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    pfd.fd = out[0];
    pfd.events = POLLIN;
    n = poll(&pfd, 1, 10000) > 0 ? read(out[0], buf, sizeof(buf) - 1) : -1;
    close(out[0]);
    return n > 0 && strncmp(buf, "READY", 5) == 0 ? 0 : -1;
}

__attribute__((unused)) static void xsd_stop(void)
{
    if (xsd_pid <= 0)
        return;
    kill(xsd_pid, SIGTERM);
    waitpid(xsd_pid, NULL, 0);
    xsd_pid = -1;
}

__attribute__((unused)) static int xsd_connect(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", xsd_sock);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Read exactly @len bytes (blocking); 0, or -1 on EOF/error. */
static int xsd_read_all(int fd, void *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t n = read(fd, (char *)buf + off, len - off);

        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return -1;
        }
        off += (size_t)n;
    }
    return 0;
}

static int xsd_write_all(int fd, const void *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t n = write(fd, (const char *)buf + off, len - off);

        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return -1;
        }
        off += (size_t)n;
    }
    return 0;
}

/*
 * Read one message into @hdr and @payload (at least XENSTORE_PAYLOAD_MAX
 * + 1 bytes; NUL-terminated).  0 or -1.
 */
static int xsd_recv(int fd, struct xsd_sockmsg *hdr, char *payload)
{
    if (xsd_read_all(fd, hdr, sizeof(*hdr)) < 0 ||
        hdr->len > XENSTORE_PAYLOAD_MAX ||
        xsd_read_all(fd, payload, hdr->len) < 0)
        return -1;
    payload[hdr->len] = '\0';
    return 0;
}

/*
 * Send @type with @len payload bytes on transaction @tx and return its
 * reply's type (XS_ERROR for errors) with the payload in @reply; watch
 * events that arrive first are skipped.  -1 on a transport error.
 */
__attribute__((unused)) static int xsd_call(int fd, uint32_t type, uint32_t tx,
                                            const void *payload, size_t len,
                                            char *reply)
{
    static uint32_t req_id;
    struct xsd_sockmsg hdr = {type, ++req_id, tx, (uint32_t)len};
    char buf[sizeof(hdr) + XENSTORE_PAYLOAD_MAX];

    if (len > XENSTORE_PAYLOAD_MAX)
        return -1;
    memcpy(buf, &hdr, sizeof(hdr));
    memcpy(buf + sizeof(hdr), payload, len);
    if (xsd_write_all(fd, buf, sizeof(hdr) + len) < 0)
        return -1;
    do {
        if (xsd_recv(fd, &hdr, reply) < 0)
            return -1;
    } while (hdr.type == XS_WATCH_EVENT);
    return (int)hdr.type;
}

/* Payload of a WRITE: path, NUL, value (not terminated).  Its length. */
__attribute__((unused)) static size_t
xsd_write_payload(char *buf, const char *path, const char *value)
{
    size_t pl = strlen(path) + 1, vl = strlen(value);

    memcpy(buf, path, pl);
    memcpy(buf + pl, value, vl);
    return pl + vl;
}

/* The daemon's resident memory in KiB, or 0 when unknown. */
__attribute__((unused)) static long xsd_rss_kib(void)
{
    char path[64], line[256];
    long kib = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)xsd_pid);
    f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "VmRSS: %ld", &kib) == 1)
            break;
    }
    fclose(f);
    return kib;
}

#endif
