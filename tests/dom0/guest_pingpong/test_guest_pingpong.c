/*
 * guest_pingpong — `xen-hv daemon` hosts two guests created, built and
 * started through the control socket; they exchange events over an
 * interdomain channel.  Then both are destroyed and a later create gets a
 * working domain again (with the next id: a freed id is not handed out
 * again at once, as on Xen), and bad requests (build
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

#include "harness.h"
#include "tap.h"

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    char img[512], cmd[256], con[16384];
    int a, b, e, port = -1;
    struct xenhv_domain_info before, sa, cb;
    pid_t pid;

    if (access("/dev/kvm", R_OK | W_OK) != 0)
        tap_skip_all("/dev/kvm not usable (lab.dom0-tests runs this on the lab "
                     "VM's KVM)");
    if (geteuid() != 0)
        tap_skip_all("needs root: only the control domain creates domains");
    snprintf(img, sizeof(img), "%s/guest.elf", dir);
    image = img;
    tap_plan(20);
    pid = start_daemon("p");
    ok(pc.fd >= 0, "connected to the daemon as domain 0");
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
    /* The server now only waits: count both sides' exits from here. */
    domain_info_of(a, &before);
    snprintf(cmd, sizeof(cmd), "role=client peer=%d port=%d", a, port);
    ok(build(b, cmd) == 0 && simple(XENHV_OP_DOMAIN_UNPAUSE, b) == 0,
       "client built and running");
    is_int(wait_shutdown(b), SHUTDOWN_poweroff, "the client finished");
    is_int(wait_shutdown(a), SHUTDOWN_poweroff, "the server finished");
    if (domain_info_of(a, &sa) && domain_info_of(b, &cb))
        tap_diag("bench guest_guest_exits_per_rtt=%.2f "
                 "hypercalls_per_rtt=%.2f (both guests, waits and the "
                 "client's boot included)",
                 (double)(sa.nr_exits - before.nr_exits + cb.nr_exits) / 20,
                 (double)(sa.nr_hypercalls - before.nr_hypercalls +
                          cb.nr_hypercalls) /
                     20);
    console(a, con, sizeof(con));
    ok(!strstr(con, "not ok") && strstr(con, "ok 2"), "server's TAP passed");
    ok(strstr(con, "store_pfn=feff0 maxres=16384") != NULL,
       "the guest saw the HVM param and the maximum reservation we set");
    {
        uint32_t d = (uint32_t)a, n = 0;
        char tmp[64];
        ok(privcmd_call(&pc, XENHV_OP_CONSOLE_CLEAR, &d, sizeof(d), tmp,
                        sizeof(tmp), &n, NULL) == 0 &&
               n > 0,
           "console clear returns what was there");
        console(a, con, sizeof(con));
        ok(con[0] == 0, "and leaves the log empty");
    }
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
    ok(e == b + 1 && build(e, cmd) == 0 &&
           simple(XENHV_OP_DOMAIN_UNPAUSE, e) == 0,
       "a later create gets the next id (%d), not a freed one, and runs", e);
    tap_diag("daemon exit status %d", stop_daemon(pid));
    return tap_done();
}
