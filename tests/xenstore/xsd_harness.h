/*
 * xsd_harness.h — start our xenstored for a tests/xenstore C program:
 * `xenstored --no-fork --socket DIR/socket --state DIR/state` in a private
 * mktemp directory, wait for its READY line, export XENSTORED_PATH so
 * that libxenstore (ours or Debian's) connects to it.  Header-only: one
 * test program includes it once, after tap.h.
 */
#ifndef TESTS_XENSTORE_XSD_HARNESS_H
#define TESTS_XENSTORE_XSD_HARNESS_H

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct xsd_run {
    pid_t pid;
    int out_fd; /* the daemon's stdout, kept open so it never gets EPIPE */
    char dir[64];
    char socket[PATH_MAX];
};

/* The daemon binary: $XEN_ROOT/xenstore/xenstored/xenstored, XEN_ROOT
 * defaulting to two levels above this test's directory. */
static inline void xsd_binary(char *buf, size_t len)
{
    const char *root = getenv("XEN_ROOT");
    char exe[PATH_MAX];
    ssize_t n;

    if (root && *root) {
        snprintf(buf, len, "%s/xenstore/xenstored/xenstored", root);
        return;
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    snprintf(buf, len, "%s/../../xenstore/xenstored/xenstored",
             n > 0 ? dirname(exe) : ".");
}

/*
 * Start the daemon (skips the whole test when it is not built).  Returns
 * 0 when it printed READY within 10 s, else -1 (and it is stopped).
 */
static inline int xsd_start(struct xsd_run *r)
{
    char bin[PATH_MAX], state[PATH_MAX + 8], line[256];
    size_t used = 0;
    int fds[2];
    struct timespec t0, now;

    memset(r, 0, sizeof(*r));
    r->pid = -1;
    r->out_fd = -1;
    xsd_binary(bin, sizeof(bin));
    if (access(bin, X_OK) != 0)
        tap_skip_all("xenstored is not built (xenstore/xenstored/xenstored)");
    snprintf(r->dir, sizeof(r->dir), "/tmp/xs-test.XXXXXX");
    if (!mkdtemp(r->dir) || pipe(fds) < 0)
        return -1;
    snprintf(r->socket, sizeof(r->socket), "%s/socket", r->dir);
    snprintf(state, sizeof(state), "%s/state", r->dir);
    r->pid = fork();
    if (r->pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(bin, bin, "--no-fork", "--socket", r->socket, "--state", state,
              (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    r->out_fd = fds[0];
    if (r->pid < 0)
        return -1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd p = {.fd = r->out_fd, .events = POLLIN};
        ssize_t n;

        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec > 10)
            break;
        if (poll(&p, 1, 200) <= 0)
            continue;
        n = read(r->out_fd, line + used, sizeof(line) - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
        line[used] = '\0';
        if (strstr(line, "READY")) {
            setenv("XENSTORED_PATH", r->socket, 1);
            return 0;
        }
        if (used == sizeof(line) - 1)
            used = 0;
    }
    tap_diag("xenstored did not print READY");
    kill(r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
    r->pid = -1;
    return -1;
}

/* Stop the daemon and remove its directory; returns its wait status. */
static inline int xsd_stop(struct xsd_run *r)
{
    char cmd[128];
    int status = -1;

    if (r->pid > 0) {
        kill(r->pid, SIGTERM);
        waitpid(r->pid, &status, 0);
        r->pid = -1;
    }
    if (r->out_fd >= 0)
        close(r->out_fd);
    r->out_fd = -1;
    if (r->dir[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
        if (system(cmd) != 0)
            tap_diag("could not remove %s", r->dir);
    }
    return status;
}

#endif /* TESTS_XENSTORE_XSD_HARNESS_H */
