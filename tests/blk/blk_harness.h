/*
 * blk_harness.h — what the tests/blk programs share: a private host
 * (`xen-hv daemon`, xenstored and blkback on sockets and logs in a fresh
 * directory), and frontends run as process domains: a child forked by the
 * root test, which opens its xenstored connection (the toolstack's role),
 * becomes uid 65534 and reports each of its checks back over a pipe; the
 * parent turns them into TAP.  Header-only: one test program includes it.
 */
#ifndef TESTS_BLK_BLK_HARNESS_H
#define TESTS_BLK_BLK_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenstore.h>

#include "blkfront_prog.h"
#include "harness.h"
#include "tap.h"

struct blk_env {
    char dir[64];
    char bb_log[128];
    char xs_sock[128];
    pid_t xenhv, xsd, bb;
    struct xs_handle *xs;
};

static struct blk_env env;

/* Start argv (stdout on a pipe, stderr to log); its pid once it printed
 * READY, or -1. */
static inline pid_t blk_spawn_ready(char *const argv[], const char *log)
{
    int p[2], fd;
    char buf[256];
    size_t got = 0;
    pid_t pid;

    if (pipe(p))
        return -1;
    pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0)
            dup2(fd, 2);
        close(p[0]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    while (got < sizeof(buf) - 1) {
        ssize_t n = read(p[0], buf + got, sizeof(buf) - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = 0;
        if (strstr(buf, "READY"))
            break;
    }
    close(p[0]);
    if (!strstr(buf, "READY")) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

/* blkback on env's xenstored; extra options after -N. */
static inline pid_t blk_start_blkback(const char *extra)
{
    static char bin[256];
    const char *root = getenv("XEN_ROOT");

    snprintf(bin, sizeof(bin), "%s/backends/blk/blkback",
             root ? root : "../..");
    static char pidf[128];

    snprintf(pidf, sizeof(pidf), "%s/blkback.pid", env.dir);
    char *argv[] = {bin,          "-N", "--log-file",  env.bb_log,
                    "--pid-file", pidf, (char *)extra, NULL};
    return blk_spawn_ready(argv, env.bb_log);
}

/* The whole private host.  0, or a reason to skip. */
static inline const char *blk_env_start(void)
{
    const char *root = getenv("XEN_ROOT");
    char bin[256], state[128], log[128];

    if (geteuid() != 0)
        return "needs root (frontends run as uid 65534, blkback as dom0)";
    if (!root)
        root = "../..";
    snprintf(bin, sizeof(bin), "%s/backends/blk/blkback", root);
    if (access(bin, X_OK))
        return "backends/blk/blkback is not built";
    snprintf(env.dir, sizeof(env.dir), "/tmp/blk-test.XXXXXX");
    if (!mkdtemp(env.dir) || chmod(env.dir, 0755))
        return "mkdtemp failed";
    snprintf(env.bb_log, sizeof(env.bb_log), "%s/blkback.log", env.dir);
    snprintf(env.xs_sock, sizeof(env.xs_sock), "%s/xs.sock", env.dir);
    if (!getenv("XENHV")) {
        static char xenhv[256];
        snprintf(xenhv, sizeof(xenhv), "%s/xen-hv/xen-hv", root);
        setenv("XENHV", xenhv, 1);
    }
    env.xenhv = start_daemon("blk");
    if (pc.fd < 0)
        return "xen-hv daemon did not start";
    snprintf(bin, sizeof(bin), "%s/xenstore/xenstored/xenstored", root);
    snprintf(state, sizeof(state), "%s/xs.state", env.dir);
    snprintf(log, sizeof(log), "%s/xenstored.log", env.dir);
    {
        char *argv[] = {bin,       "-N",  "--socket", env.xs_sock,
                        "--state", state, NULL};
        env.xsd = blk_spawn_ready(argv, log);
    }
    if (env.xsd < 0)
        return "xenstored did not start";
    setenv("XENSTORED_PATH", env.xs_sock, 1);
    env.bb = blk_start_blkback(NULL);
    if (env.bb < 0)
        return "blkback did not start";
    return NULL;
}

static inline void blk_env_stop(void)
{
    int st;

    if (env.bb > 0) {
        kill(env.bb, SIGTERM);
        waitpid(env.bb, &st, 0);
    }
    if (env.xsd > 0) {
        kill(env.xsd, SIGTERM);
        waitpid(env.xsd, &st, 0);
    }
    if (env.xenhv > 0)
        stop_daemon(env.xenhv);
    if (!getenv("BLK_KEEP")) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", env.dir);
        if (system(cmd))
            fprintf(stderr, "# could not remove %s\n", env.dir);
    }
}

/* blkback's log so far (its first MiB), NUL-terminated; "" if none. */
static inline const char *blk_log_read(void)
{
    static char buf[1 << 20];
    int fd = open(env.bb_log, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;

    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

/* The pid blkback wrote to its --pid-file, or -1. */
static inline int blk_pid_file(void)
{
    char path[128];
    int pid = -1;
    FILE *f;

    snprintf(path, sizeof(path), "%s/blkback.pid", env.dir);
    f = fopen(path, "r");
    if (f && fscanf(f, "%d", &pid) != 1)
        pid = -1;
    if (f)
        fclose(f);
    return pid;
}

/* Wait up to 10 s for needle in blkback's log. */
static inline bool blk_log_wait(const char *needle)
{
    for (int i = 0; i < 1000; i++) {
        if (strstr(blk_log_read(), needle))
            return true;
        usleep(10000);
    }
    return false;
}

/*
 * blkback's counters for device devid, from the last "stats
 * vbd/<fe>/<devid> requests=N ..." line of its log: vals[i] gets the
 * number after keys[i] ("iovecs=", "notify_in=", ...), 0 when absent.
 * blkback logs the line when the device disconnects and, for every
 * connected device, on SIGUSR1: with ask, this sends it first (root
 * only; the frontends run as another user).
 */
static inline void blk_be_stats(uint32_t devid, bool ask,
                                const char *const *keys, unsigned int n,
                                unsigned long long *vals)
{
    const char *buf, *p = NULL, *q, *end;
    char needle[48];

    for (unsigned int i = 0; i < n; i++)
        vals[i] = 0;
    if (ask) {
        kill(env.bb, SIGUSR1);
        usleep(100000);
    }
    buf = blk_log_read();
    snprintf(needle, sizeof(needle), "/%u requests=", devid);
    for (q = buf; (q = strstr(q, needle)); q++)
        p = q;
    if (!p)
        return;
    end = strchr(p, '\n');
    for (unsigned int i = 0; i < n; i++)
        if ((q = strstr(p, keys[i])) && (!end || q < end))
            vals[i] = strtoull(q + strlen(keys[i]), NULL, 10);
}

/* Is blkback's log showing needle? */
static inline bool blk_log_has(const char *needle)
{
    return strstr(blk_log_read(), needle) != NULL;
}

/* A file of bytes with seeded pseudo-random content; 0 or -1. */
static inline int blk_make_file(const char *path, size_t bytes, uint32_t seed)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    uint32_t x = seed | 1;
    uint8_t *b = malloc(bytes);

    if (fd < 0 || !b)
        return -1;
    for (size_t i = 0; i < bytes; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = (uint8_t)x;
    }
    if (write(fd, b, bytes) != (ssize_t)bytes)
        return -1;
    free(b);
    fsync(fd);
    return close(fd);
}

/* ---- checks reported by a child frontend ---- */

static int blk_check_fd = -1;

__attribute__((format(printf, 2, 3))) static inline bool
c_ok(bool cond, const char *fmt, ...)
{
    char line[300];
    va_list ap;
    int n;

    n = snprintf(line, sizeof(line), "%d ", cond ? 1 : 0);
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    if (write(blk_check_fd, line, (size_t)n) != n)
        _exit(99);
    return cond;
}

struct blk_child {
    pid_t pid;
    int rfd;
};

/* Run fn(xs, arg) as a process domain (uid 65534) with a dom0 xenstore
 * connection opened before the switch. */
static inline struct blk_child
blk_child_start(void (*fn)(struct xs_handle *, void *), void *arg)
{
    struct blk_child c = {.pid = -1, .rfd = -1};
    int p[2];

    if (pipe(p))
        return c;
    fflush(stdout);
    c.pid = fork();
    if (c.pid == 0) {
        struct xs_handle *xs;
        close(p[0]);
        blk_check_fd = p[1];
        xs = xs_open(0);
        if (!xs || setgid(65534) || setuid(65534))
            _exit(98);
        fn(xs, arg);
        xs_close(xs);
        _exit(0);
    }
    close(p[1]);
    c.rfd = p[0];
    return c;
}

/* Wait for the child and report its checks; expected: how many it makes
 * (missing ones are failures, so the plan stays right). */
static inline void blk_child_finish(struct blk_child c, unsigned int expected,
                                    const char *what)
{
    FILE *f = c.rfd >= 0 ? fdopen(c.rfd, "r") : NULL;
    char line[320];
    unsigned int got = 0;
    int st = -1;

    while (f && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        if (got < expected)
            ok(line[0] == '1', "%s: %s", what, line + 2);
        got++;
    }
    if (f)
        fclose(f);
    if (c.pid > 0)
        waitpid(c.pid, &st, 0);
    if (got != expected)
        tap_diag("%s: %u checks of %u, exit status %#x", what, got, expected,
                 st);
    for (; got < expected; got++)
        ok(false, "%s: check %u (the frontend ended early)", what, got + 1);
}

#endif
