/*
 * guest_pingpong — `xen-hv daemon` hosts two guests created, built and
 * started through the control socket; they exchange events over an
 * interdomain channel.  Then both are destroyed and a later create gets a
 * working domain again (domain ids are reused), and bad requests (build
 * twice, unpause before build, unknown domain) fail cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xen/errno.h>
#include <xen/sched.h>
#include <xen/hvm/params.h>

#include "privcmd_client.h"
#include "tap.h"

static struct privcmd_conn pc;
static const char *image;

static int create(const char *name)
{
    struct xenhv_domain_create_req r = {.memory_mib = 32, .vcpus = 1};
    uint32_t domid = 0;
    snprintf(r.name, sizeof(r.name), "%s", name);
    if (privcmd_call(&pc, XENHV_OP_DOMAIN_CREATE, &r, sizeof(r), &domid,
                     sizeof(domid), NULL, NULL))
        return -1;
    return (int)domid;
}

static int build(int domid, const char *cmdline)
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

static int simple(uint32_t op, int domid)
{
    uint32_t d = (uint32_t)domid;
    return privcmd_call(&pc, op, &d, sizeof(d), NULL, 0, NULL, NULL);
}

/* Console of domid so far (NUL-terminated) into buf. */
static void console(int domid, char *buf, size_t len)
{
    uint32_t d = (uint32_t)domid, n = 0;
    privcmd_call(&pc, XENHV_OP_CONSOLE_READ, &d, sizeof(d), buf,
                 (uint32_t)len - 1, &n, NULL);
    buf[n] = 0;
}

/* Wait until domid shut down; returns its reason or -1 after 30 s. */
static int wait_shutdown(int domid)
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

int main(int argc, char **argv)
{
    const char *xenhv = getenv("XENHV");
    const char *dir = argc > 1 ? argv[1] : ".";
    char sock[256], img[512], cmd[256], con[16384];
    int a, b, e, port = -1, status;
    pid_t pid;

    if (access("/dev/kvm", R_OK | W_OK) != 0)
        tap_skip_all("/dev/kvm not usable");
    if (geteuid() != 0)
        tap_skip_all("needs root: only the control domain creates domains");
    if (!xenhv)
        xenhv = "../../../xen-hv/xen-hv";
    snprintf(sock, sizeof(sock), "/tmp/xenhv-d-%d.sock", (int)getpid());
    snprintf(img, sizeof(img), "%s/guest.elf", dir);
    image = img;
    tap_plan(18);
    pid = fork();
    if (pid == 0) {
        execl(xenhv, xenhv, "daemon", "--control", sock, (char *)NULL);
        _exit(127);
    }
    setenv(XENHV_PRIVCMD_ENV, sock, 1);
    for (int i = 0; i < 100 && privcmd_connect(&pc) != 0; i++)
        usleep(50000);
    ok(pc.fd >= 0 &&
           privcmd_call(&pc, XENHV_OP_HELLO, NULL, 0, NULL, 0, NULL, NULL) == 0,
       "connected to the daemon as domain 0");
    a = create("server");
    b = create("client");
    ok(a == 1 && b == 2, "created domains %d and %d", a, b);
    is_int(simple(XENHV_OP_DOMAIN_UNPAUSE, b), -XEN_EINVAL,
           "unpause before build is refused");
    {
        struct xenhv_hvm_param hp = {.domid = (uint32_t)a,
                                     .index = HVM_PARAM_STORE_PFN,
                                     .value = 0xfeff0};
        struct xenhv_setmaxmem mm = {.domid = (uint32_t)a, .max_kib = 65536};
        struct xenhv_hvm_param got = {0};
        ok(privcmd_call(&pc, XENHV_OP_HVM_PARAM_SET, &hp, sizeof(hp), NULL, 0,
                        NULL, NULL) == 0 &&
               privcmd_call(&pc, XENHV_OP_HVM_PARAM_GET, &hp, sizeof(hp), &got,
                            sizeof(got), NULL, NULL) == 0 &&
               got.value == 0xfeff0,
           "the control domain sets and reads HVM_PARAM_STORE_PFN");
        hp.index = HVM_NR_PARAMS;
        is_int(privcmd_call(&pc, XENHV_OP_HVM_PARAM_SET, &hp, sizeof(hp), NULL,
                            0, NULL, NULL),
               -XEN_EINVAL, "an index beyond HVM_NR_PARAMS is EINVAL");
        is_int(privcmd_call(&pc, XENHV_OP_DOMAIN_SETMAXMEM, &mm, sizeof(mm),
                            NULL, 0, NULL, NULL),
               0, "setmaxmem 64 MiB");
    }
    snprintf(cmd, sizeof(cmd), "role=server peer=%d", b);
    is_int(build(a, cmd), 0, "built the server");
    is_int(build(a, cmd), -XEN_EEXIST, "building it twice is refused");
    is_int(simple(XENHV_OP_DOMAIN_UNPAUSE, a), 0, "server running");
    for (int i = 0; i < 300 && port < 0; i++) {
        char *p;
        console(a, con, sizeof(con));
        p = strstr(con, "READY port=");
        if (p)
            port = atoi(p + 11);
        else
            usleep(20000);
    }
    ok(port > 0, "the server offers port %d", port);
    snprintf(cmd, sizeof(cmd), "role=client peer=%d port=%d", a, port);
    ok(build(b, cmd) == 0 && simple(XENHV_OP_DOMAIN_UNPAUSE, b) == 0,
       "client built and running");
    is_int(wait_shutdown(b), SHUTDOWN_poweroff, "the client finished");
    is_int(wait_shutdown(a), SHUTDOWN_poweroff, "the server finished");
    console(a, con, sizeof(con));
    ok(!strstr(con, "not ok") && strstr(con, "ok 2"), "server's TAP passed");
    ok(strstr(con, "store_pfn=feff0 maxres=16384") != NULL,
       "the guest saw the HVM param and the maximum reservation we set");
    console(b, con, sizeof(con));
    ok(!strstr(con, "not ok") && strstr(con, "ok 2"), "client's TAP passed");
    {
        char *p = strstr(con, "# bench ");
        if (p)
            tap_diag("guest<->guest %.*s", (int)strcspn(p + 8, "\n"), p + 8);
    }
    if (tap_fail_count)
        tap_diag("client console: %s", con);
    ok(simple(XENHV_OP_DOMAIN_DESTROY, a) == 0 &&
           simple(XENHV_OP_DOMAIN_DESTROY, b) == 0 &&
           simple(XENHV_OP_DOMAIN_DESTROY, b) == -XEN_ESRCH,
       "both destroyed; destroying again is ESRCH");
    e = create("again");
    snprintf(cmd, sizeof(cmd), "role=server peer=0");
    ok(e == 1 && build(e, cmd) == 0 && simple(XENHV_OP_DOMAIN_UNPAUSE, e) == 0,
       "a later create reuses id 1 and runs");
    privcmd_disconnect(&pc);
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    tap_diag("daemon exit status %d",
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return tap_done();
}
