/*
 * harness.h — helpers the tests/dom0 programs share to drive `xen-hv
 * daemon` as the control domain through its control socket
 * (dom0-tools/include/xenhv_privcmd.h).  Header-only: one test program
 * includes it once.
 */
#ifndef TESTS_DOM0_HARNESS_H
#define TESTS_DOM0_HARNESS_H

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poll.h>
#include <xenevtchn.h>

#include "privcmd_client.h"

/*
 * wait_event — the next port that fires on h within ms milliseconds,
 * unmasked again for the next event; -1 on timeout.
 */
static inline int wait_event(xenevtchn_handle *h, int ms)
{
    struct pollfd p = {.fd = xenevtchn_fd(h), .events = POLLIN};
    int port;

    if (poll(&p, 1, ms) != 1)
        return -1;
    port = xenevtchn_pending(h);
    if (port > 0)
        xenevtchn_unmask(h, (evtchn_port_t)port);
    return port;
}

static struct privcmd_conn pc __attribute__((unused));
static const char *image __attribute__((unused)); /* the kernel build() loads */

/* A new paused domain: id domid (0: xen-hv chooses); its id or -1. */
static inline int create_as(const char *name, uint32_t want)
{
    struct xenhv_domain_create_req r = {
        .memory_mib = 32, .vcpus = 1, .domid = want};
    uint32_t domid = 0;
    snprintf(r.name, sizeof(r.name), "%s", name);
    if (privcmd_call(&pc, XENHV_OP_DOMAIN_CREATE, &r, sizeof(r), &domid,
                     sizeof(domid), NULL, NULL))
        return -1;
    return (int)domid;
}

static inline int create(const char *name)
{
    return create_as(name, 0);
}

static inline int build(int domid, const char *cmdline)
{
    struct xenhv_domain_build_req r = {.domid = (uint32_t)domid};
    int fd = open(image, O_RDONLY | O_CLOEXEC), rc;

    snprintf(r.cmdline, sizeof(r.cmdline), "%s", cmdline);
    if (fd < 0)
        return -1;
    rc = privcmd_call_fd(&pc, XENHV_OP_DOMAIN_BUILD, &r, sizeof(r), fd, NULL, 0,
                         NULL, NULL);
    close(fd);
    return rc;
}

static inline int simple(uint32_t op, int domid)
{
    uint32_t d = (uint32_t)domid;
    return privcmd_call(&pc, op, &d, sizeof(d), NULL, 0, NULL, NULL);
}

/* Console of domid so far (NUL-terminated) into buf. */
static inline void console(int domid, char *buf, size_t len)
{
    uint32_t d = (uint32_t)domid, n = 0;
    privcmd_call(&pc, XENHV_OP_CONSOLE_READ, &d, sizeof(d), buf,
                 (uint32_t)len - 1, &n, NULL);
    buf[n] = 0;
}

/* domid's info (DOMAIN_LIST), or 0 when it is not there. */
static inline int domain_info_of(int domid, struct xenhv_domain_info *out)
{
    struct xenhv_domain_info info[32];
    uint32_t n = 0;

    privcmd_call(&pc, XENHV_OP_DOMAIN_LIST, NULL, 0, info, sizeof(info), &n,
                 NULL);
    for (uint32_t j = 0; j < n / sizeof(info[0]); j++)
        if ((int)info[j].domid == domid) {
            *out = info[j];
            return 1;
        }
    return 0;
}

/* Wait until domid shut down; returns its reason or -1 after 30 s. */
static inline int wait_shutdown(int domid)
{
    for (int i = 0; i < 300; i++) {
        struct xenhv_domain_info info[32];
        uint32_t n = 0;
        privcmd_call(&pc, XENHV_OP_DOMAIN_LIST, NULL, 0, info, sizeof(info), &n,
                     NULL);
        for (uint32_t j = 0; j < n / sizeof(info[0]); j++)
            if ((int)info[j].domid == domid && info[j].shutdown)
                return (int)info[j].shutdown_reason;
        usleep(100000);
    }
    return -1;
}

/*
 * Start `xen-hv daemon` on a fresh socket and connect to it as domain 0
 * (sets XENHV_PRIVCMD for the dom0-tools libraries too).  Returns the
 * daemon's pid; pc is connected (pc.fd >= 0) unless it failed.
 */
static inline pid_t start_daemon(const char *tag)
{
    const char *xenhv = getenv("XENHV");
    static char sock[256];
    pid_t pid;

    if (!xenhv)
        xenhv = "../../../xen-hv/xen-hv";
    snprintf(sock, sizeof(sock), "/tmp/xenhv-%s-%d.sock", tag, (int)getpid());
    pid = fork();
    if (pid == 0) {
        execl(xenhv, xenhv, "daemon", "--control", sock, (char *)NULL);
        _exit(127);
    }
    setenv(XENHV_PRIVCMD_ENV, sock, 1);
    pc.fd = -1;
    for (int i = 0; i < 100 && privcmd_connect(&pc) != 0; i++)
        usleep(50000);
    if (pc.fd >= 0 &&
        privcmd_call(&pc, XENHV_OP_HELLO, NULL, 0, NULL, 0, NULL, NULL) != 0)
        privcmd_disconnect(&pc);
    return pid;
}

/* Stop the daemon (SIGTERM destroys what is left); its exit status. */
static inline int stop_daemon(pid_t pid)
{
    int status;

    if (pc.fd >= 0)
        privcmd_disconnect(&pc);
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The control socket of the xen-hv that start_run() started. */
static char run_sock[100] __attribute__((unused)); /* fits sun_path */

/*
 * start_run — `xen-hv run IMAGE --memory 32 --control SOCK`, its output
 * on a pipe read through *out; XENHV_PRIVCMD points the dom0-tools
 * libraries at SOCK (run_sock).  Returns the pid.
 */
static inline pid_t start_run(const char *tag, const char *img, FILE **out)
{
    const char *xenhv = getenv("XENHV");
    int pipefd[2];
    pid_t pid;

    *out = NULL;
    if (!xenhv)
        xenhv = "../../../xen-hv/xen-hv";
    snprintf(run_sock, sizeof(run_sock), "/tmp/xenhv-%s-%d.sock", tag,
             (int)getpid());
    if (pipe(pipefd) < 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        execl(xenhv, xenhv, "run", img, "--memory", "32", "--control", run_sock,
              (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    *out = fdopen(pipefd[0], "r");
    setenv(XENHV_PRIVCMD_ENV, run_sock, 1);
    return pid;
}

/*
 * read_ready — append output lines to acc until one holds "READY";
 * returns that line (until the next call) or NULL at end of output.
 */
static inline const char *read_ready(FILE *out, char *acc, size_t len)
{
    static char line[512];

    while (fgets(line, sizeof(line), out)) {
        strncat(acc, line, len - strlen(acc) - 1);
        if (strstr(line, "READY"))
            return strstr(line, "READY");
    }
    return NULL;
}

/* drain — append the rest of the output to acc. */
static inline void drain(FILE *out, char *acc, size_t len)
{
    char line[512];

    while (fgets(line, sizeof(line), out))
        strncat(acc, line, len - strlen(acc) - 1);
}

/* wait_exit — the exit status of pid, -1 when it did not exit normally. */
static inline int wait_exit(pid_t pid)
{
    int status;

    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * guest_tap_passed — the guest's TAP in acc reached "ok last" with no
 * "not ok" and no "Bail out!".
 */
static inline int guest_tap_passed(const char *acc, int last)
{
    char want[32];

    snprintf(want, sizeof(want), "ok %d", last);
    return !strstr(acc, "\nnot ok") && strstr(acc, want) &&
           !strstr(acc, "Bail out");
}

#endif
