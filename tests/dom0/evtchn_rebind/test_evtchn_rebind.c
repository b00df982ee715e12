/*
 * evtchn_rebind — a port number that one control-domain process closed
 * while its event was still unacknowledged (masked: it fired and was never
 * unmasked) works for the next process that is given the same number.
 * Linux's /dev/xen/evtchn enables every port it binds; xen-hv's control
 * socket does the same.  Loopback channels in domain 0 (allowed by Xen's
 * EVTCHNOP_bind_interdomain with the caller's own domid) need no guest.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xenevtchn.h>

#include "harness.h"
#include "tap.h"

int main(void)
{
    xenevtchn_handle *a, *b, *c;
    int pa, pb, pa2, pc2, got;
    pid_t pid;

    if (geteuid() != 0)
        tap_skip_all("needs root: loopback channels are domain 0's");
    tap_plan(9);
    pid = start_daemon("rb");
    a = xenevtchn_open(NULL, 0);
    b = xenevtchn_open(NULL, 0);
    ok(a && b, "two domain 0 handles");
    if (!a || !b) {
        stop_daemon(pid);
        return tap_done();
    }
    pa = xenevtchn_bind_unbound_port(a, 0);
    pb = pa > 0 ? xenevtchn_bind_interdomain(b, 0, (evtchn_port_t)pa) : -1;
    ok(pa > 0 && pb > 0, "loopback channel %d <-> %d", pa, pb);
    ok(xenevtchn_notify(b, (evtchn_port_t)pb) == 0, "notify from b");
    got = -1;
    {
        struct pollfd p = {.fd = xenevtchn_fd(a), .events = POLLIN};
        if (poll(&p, 1, 2000) == 1)
            got = xenevtchn_pending(a); /* left masked on purpose */
    }
    is_int(got, pa, "a sees its port fire (and does not unmask it)");
    ok(xenevtchn_unbind(a, (evtchn_port_t)pa) == 0 &&
           xenevtchn_unbind(b, (evtchn_port_t)pb) == 0,
       "both ends unbound while a's port is still masked");
    xenevtchn_close(a);

    c = xenevtchn_open(NULL, 0);
    pa2 = c ? xenevtchn_bind_unbound_port(c, 0) : -1;
    is_int(pa2, pa, "the next binding is given the same port number");
    pc2 = pa2 > 0 ? xenevtchn_bind_interdomain(b, 0, (evtchn_port_t)pa2) : -1;
    ok(pc2 > 0 && xenevtchn_notify(b, (evtchn_port_t)pc2) == 0,
       "b binds to it and notifies");
    is_int(c ? wait_event(c, 2000) : -1, pa2,
           "the reused port delivers (it starts unmasked)");
    ok(c && xenevtchn_notify(b, (evtchn_port_t)pc2) == 0 &&
           wait_event(c, 2000) == pa2,
       "and keeps delivering after its unmask");
    if (c)
        xenevtchn_close(c);
    xenevtchn_close(b);
    stop_daemon(pid);
    return tap_done();
}
