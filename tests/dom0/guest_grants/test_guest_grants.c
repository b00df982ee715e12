/*
 * guest_grants — under `xen-hv daemon`, one guest maps and copies another
 * guest's grant; then the granter is destroyed while the mapping and an
 * interdomain channel are live: the mapper sees its port unbound, still
 * reads its mapping, unmaps cleanly; a later create runs; and at the end
 * the daemon shuts down cleanly.
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

#include "harness.h"
#include <xenctrl.h>
#include <xen/hvm/params.h>
#include "tap.h"

/* Wait for `what` in domid's console; 1 when found within 30 s. */
static int wait_console(int domid, const char *what, char *con, size_t len)
{
    for (int i = 0; i < 1500; i++) {
        console(domid, con, len);
        if (strstr(con, what))
            return 1;
        usleep(20000);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    char img[512], cmd[256], con[16384];
    int c, d, e, gref = -1, port = -1;
    pid_t pid;

    if (access("/dev/kvm", R_OK | W_OK) != 0)
        tap_skip_all("/dev/kvm not usable (lab.dom0-tests runs this on the lab "
                     "VM's KVM)");
    if (geteuid() != 0)
        tap_skip_all("needs root: only the control domain creates domains");
    snprintf(img, sizeof(img), "%s/guest.elf", dir);
    image = img;
    tap_plan(21);
    pid = start_daemon("g");
    ok(pc.fd >= 0, "connected to the daemon as domain 0");
    c = create("granter");
    d = create("mapper");
    snprintf(cmd, sizeof(cmd), "role=granter peer=%d", d);
    ok(c > 0 && d > 0 && build(c, cmd) == 0 &&
           simple(XENHV_OP_DOMAIN_UNPAUSE, c) == 0,
       "granter %d running", c);
    if (wait_console(c, "READY", con, sizeof(con))) {
        char *p = strstr(con, "READY gref=");
        sscanf(p, "READY gref=%d port=%d", &gref, &port);
    }
    ok(gref > 0 && port > 0, "granter offers gref %d, port %d", gref, port);
    snprintf(cmd, sizeof(cmd), "role=mapper peer=%d gref=%d port=%d", c, gref,
             port);
    ok(build(d, cmd) == 0 && simple(XENHV_OP_DOMAIN_UNPAUSE, d) == 0 &&
           wait_console(d, "MAPPED", con, sizeof(con)),
       "mapper %d mapped the grant", d);
    is_int(simple(XENHV_OP_DOMAIN_DESTROY, c), 0,
           "destroyed the granter with live mappings and ports");
    is_int(wait_shutdown(d), SHUTDOWN_poweroff, "the mapper finished");
    console(d, con, sizeof(con));
    ok(!strstr(con, "not ok") && strstr(con, "ok 8"), "mapper's TAP passed");
    if (tap_fail_count)
        tap_diag("mapper console: %s", con);
    e = create("later");
    snprintf(cmd, sizeof(cmd), "role=granter peer=%d", d);
    ok(e > 0 && build(e, cmd) == 0 && simple(XENHV_OP_DOMAIN_UNPAUSE, e) == 0 &&
           wait_console(e, "READY", con, sizeof(con)),
       "a later domain %d is created and runs", e);
    {
        /* Pause holds every vCPU: the console stops growing; unpause
         * resumes it. */
        int t = create("ticker");
        size_t l1, l2, l3;
        ok(t > 0 && build(t, "role=ticker") == 0 &&
               simple(XENHV_OP_DOMAIN_UNPAUSE, t) == 0 &&
               wait_console(t, "tick 3", con, sizeof(con)),
           "a ticking domain %d runs", t);
        xc_interface *xch = xc_interface_open(NULL, NULL, 0);
        xc_domaininfo_t inf[8];
        int n;
        ok(xch != NULL, "libxenctrl: xc_interface_open as domain 0");
        n = xch ? xc_domain_getinfolist(xch, (uint32_t)t, 8, inf) : -1;
        ok(n >= 1 && inf[0].domain == t &&
               (inf[0].flags & (XEN_DOMINF_running | XEN_DOMINF_blocked)) &&
               !(inf[0].flags & XEN_DOMINF_paused) &&
               inf[0].nr_online_vcpus == 1 && inf[0].tot_pages == 32 * 256,
           "xc_domain_getinfolist: domain %d running, 1 vCPU, 8192 pages "
           "(flags %#x)",
           t, n >= 1 ? inf[0].flags : 0);
        is_int(xch ? xc_domain_pause(xch, (uint32_t)t) : -1, 0,
               "xc_domain_pause");
        n = xch ? xc_domain_getinfolist(xch, (uint32_t)t, 1, inf) : -1;
        ok(n == 1 && (inf[0].flags & XEN_DOMINF_paused),
           "getinfolist says paused");
        console(t, con, sizeof(con));
        l1 = strlen(con);
        usleep(300000);
        console(t, con, sizeof(con));
        l2 = strlen(con);
        ok(l1 == l2, "paused: no output for 300 ms (%zu, %zu bytes)", l1, l2);
        is_int(xch ? xc_domain_unpause(xch, (uint32_t)t) : -1, 0,
               "xc_domain_unpause");
        usleep(300000);
        console(t, con, sizeof(con));
        l3 = strlen(con);
        ok(l3 > l2, "unpaused: it ticks again (%zu bytes)", l3);
        {
            uint64_t v = 0;
            ok(xch &&
                   xc_hvm_param_set(xch, (uint32_t)t, HVM_PARAM_CONSOLE_PFN,
                                    0xfeff1) == 0 &&
                   xc_hvm_param_get(xch, (uint32_t)t, HVM_PARAM_CONSOLE_PFN,
                                    &v) == 0 &&
                   v == 0xfeff1,
               "xc_hvm_param_set/get");
            ok(xch && xc_domain_setmaxmem(xch, (uint32_t)t, 1 << 20) == 0 &&
                   xc_domain_getinfolist(xch, (uint32_t)t, 1, inf) == 1 &&
                   inf[0].max_pages == 262144,
               "xc_domain_setmaxmem (1 GiB = 262144 pages)");
            ok(xch && xc_domain_destroy(xch, 77) < 0 && errno == ESRCH,
               "xc_domain_destroy of a domain that does not exist: ESRCH");
            ok(xch && xc_domain_destroy(xch, (uint32_t)t) == 0 &&
                   xc_domain_getinfolist(xch, (uint32_t)t, 8, inf) == 0,
               "xc_domain_destroy; getinfolist no longer lists it");
        }
        if (xch)
            xc_interface_close(xch);
    }
    is_int(stop_daemon(pid), 0,
           "the daemon shut down cleanly (destroying what was left)");
    return tap_done();
}
