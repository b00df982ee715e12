/*
 * evtchn_pingpong — a control-domain program and a guest exchange events
 * over an interdomain channel, through libxenevtchn (dom0-tools) and
 * xen-hv's control socket: the guest allocates a port for domain 0 and
 * prints it; we bind to it, then notify / wait for the answer ROUNDS
 * times.  Also checks libxenevtchn's errors.  Prints TAP; the guest's own
 * TAP lines are checked too.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <stdint.h>
#include <xen/xen.h>
#include <xenevtchn.h>

#include "harness.h"
#include "tap.h"

#define ROUNDS 20

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    char img[512], guest_out[16384] = "";
    int status, port = -1, local, rounds = 0, fails = 0;
    int domexc = -1;
    xenevtchn_handle *h;
    uint64_t t0, t1;
    pid_t pid;
    FILE *out;

    if (access("/dev/kvm", R_OK | W_OK) != 0)
        tap_skip_all("/dev/kvm not usable (lab.dom0-tests runs this on the lab "
                     "VM's KVM)");
    snprintf(img, sizeof(img), "%s/guest.elf", dir);
    tap_plan(12);
    pid = start_run("pp", img, &out);
    {
        const char *r = read_ready(out, guest_out, sizeof(guest_out));
        if (r)
            sscanf(r, "READY port=%d", &port);
    }
    ok(port > 0, "the guest allocated port %d for domain 0", port);

    h = xenevtchn_open(NULL, 0);
    ok(h != NULL, "xenevtchn_open connects as domain 0 (%s)",
       h ? "ok" : strerror(errno));
    if (!h || port <= 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return tap_done();
    }
    ok(xenevtchn_bind_interdomain(h, 1, 4000) < 0 && errno == EINVAL,
       "binding to a port that is not unbound fails with EINVAL");
    ok(xenevtchn_bind_interdomain(h, 77, (evtchn_port_t)port) < 0 &&
           errno == ESRCH,
       "binding to a domain that does not exist fails with ESRCH");
    domexc = xenevtchn_bind_virq(h, VIRQ_DOM_EXC);
    local = xenevtchn_bind_interdomain(h, 1, (evtchn_port_t)port);
    ok(local > 0, "bind_interdomain to the guest's port gives port %d", local);
    /* Xen makes a freshly bound port pending once. */
    ok(wait_event(h, 5000) == local && xenevtchn_unmask(h, local) == 0,
       "the new port fires once, then is unmasked");
    ok(xenevtchn_notify(h, 999) < 0 && errno == EINVAL,
       "notify on a port we do not own fails with EINVAL");

    t0 = now_ns();
    for (rounds = 0; rounds < ROUNDS; rounds++) {
        if (xenevtchn_notify(h, local) < 0)
            break;
        if (wait_event(h, 10000) != local)
            break;
        if (xenevtchn_unmask(h, local) < 0)
            break;
    }
    t1 = now_ns();
    is_int(rounds, ROUNDS, "event round trips with the guest");
    tap_diag("round trip %.1f us (dom0 <-> guest, kvm exits included)",
             rounds ? (double)(t1 - t0) / rounds / 1000.0 : 0.0);
    /* The guest powers off after its last answer: VIRQ_DOM_EXC says so. */
    ok(domexc > 0 && wait_event(h, 10000) == domexc,
       "VIRQ_DOM_EXC (port %d) fired when the guest shut down", domexc);
    xenevtchn_close(h);

    drain(out, guest_out, sizeof(guest_out));
    waitpid(pid, &status, 0);
    is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
           "the guest powered off");
    ok(strstr(guest_out, "\nnot ok") == NULL && strstr(guest_out, "ok 3") &&
           !strstr(guest_out, "Bail out"),
       "the guest's own tests passed");
    ok(access(run_sock, F_OK) != 0, "xen-hv removed its control socket");
    if (tap_fail_count) {
        for (char *l = strtok(guest_out, "\n"); l; l = strtok(NULL, "\n"))
            tap_diag("guest: %s", l);
    }
    (void)fails;
    return tap_done();
}
