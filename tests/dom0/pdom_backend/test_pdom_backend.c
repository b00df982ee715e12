/*
 * pdom_backend — an unprivileged process (uid 65534) acts as a driver
 * domain: it becomes process domain 100 through the control socket, maps
 * the guest's grant made for it (libxengnttab) and exchanges an event
 * (libxenevtchn) — and reaches nothing else: a grant made for domain 0
 * and foreign memory are refused.  When it exits, its domain dies: the
 * guest sees its channel unbound and can revoke the grant.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>

#include "harness.h"
#include "tap.h"

/* The backend, as nobody.  Exit status: 0, or the number of the check. */
static int backend(int port, int rw, int dom0_ref)
{
    xenevtchn_handle *e;
    xengnttab_handle *g;
    uint8_t *p;
    int local;

    if (setgid(65534) || setuid(65534))
        return 1;
    /* Our first connection makes our domain: id 100, the guest's peer. */
    e = xenevtchn_open(NULL, 0);
    g = xengnttab_open(NULL, 0);
    if (!e || !g)
        return 3;
    if (xenforeignmemory_open(NULL, 0) != NULL || errno != EPERM)
        return 2;
    p = xengnttab_map_grant_ref(g, 1, (uint32_t)rw, PROT_READ | PROT_WRITE);
    if (!p || p[5] != 5)
        return 4;
    if (xengnttab_map_grant_ref(g, 1, (uint32_t)dom0_ref, PROT_READ))
        return 5; /* made for domain 0, not for us */
    local = xenevtchn_bind_interdomain(e, 1, (evtchn_port_t)port);
    if (local <= 0)
        return 6;
    /* Xen makes a freshly bound port pending once: take that one. */
    if (wait_event(e, 10000) != local)
        return 10;
    p[7] = 0xb7;
    if (xenevtchn_notify(e, (evtchn_port_t)local))
        return 7;
    /* Wait for the guest's answer (it checked the page), then exit with
     * the mapping still in place: xen-hv must clean up. */
    if (wait_event(e, 10000) != local)
        return 9;
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    char img[512], guest_out[16384] = "";
    int status, port = -1, rw = -1, d0 = -1;
    pid_t pid, be;
    FILE *out;

    if (access("/dev/kvm", R_OK | W_OK) != 0)
        tap_skip_all("/dev/kvm not usable (lab.dom0-tests runs this on the lab "
                     "VM's KVM)");
    if (geteuid() != 0)
        tap_skip_all("needs root to start the backend as uid 65534");
    snprintf(img, sizeof(img), "%s/guest.elf", dir);
    tap_plan(4);
    pid = start_run("pd", img, &out);
    {
        const char *r = read_ready(out, guest_out, sizeof(guest_out));
        if (r)
            sscanf(r, "READY port=%d rw=%d dom0=%d", &port, &rw, &d0);
    }
    ok(port > 0 && rw > 0 && d0 > 0, "the guest granted ref %d", rw);
    be = fork();
    if (be == 0)
        _exit(backend(port, rw, d0));
    waitpid(be, &status, 0);
    is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
           "the unprivileged backend's checks (0 = all passed)");
    drain(out, guest_out, sizeof(guest_out));
    waitpid(pid, &status, 0);
    is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
           "the guest powered off");
    ok(strstr(guest_out, "\nnot ok") == NULL && strstr(guest_out, "ok 7") &&
           !strstr(guest_out, "Bail out"),
       "the guest's own tests passed");
    if (tap_fail_count)
        for (char *l = strtok(guest_out, "\n"); l; l = strtok(NULL, "\n"))
            tap_diag("guest: %s", l);
    return tap_done();
}
