/*
 * evtchn_doorbell — libxenevtchn's Xen semantics with doorbells
 * (dom0-tools/xenevtchn: a port that fired is masked until unmask, events
 * while masked coalesce into one, notify/unmask errors as Xen's) on
 * loopback channels of domain 0, where notify rings the peer's doorbell
 * without xen-hv in the path (a round trip works with xen-hv stopped);
 * and a doorbell that went stale when the
 * peer's port closed is replaced, so a notify reaches the new peer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xenevtchn.h>

#include "harness.h"
#include "tap.h"

/* The next event of h within ms, or -1. */
static int next_event(xenevtchn_handle *h, int ms)
{
    struct pollfd p = {.fd = xenevtchn_fd(h), .events = POLLIN};

    if (poll(&p, 1, ms) != 1)
        return -1;
    return xenevtchn_pending(h);
}

int main(void)
{
    xenevtchn_handle *a, *b, *c;
    int pa, pb, pn, pv, fl, got = 0, rounds = 0;
    pid_t pid;

    if (geteuid() != 0)
        tap_skip_all("needs root: loopback channels are domain 0's");
    tap_plan(17);
    pid = start_daemon("db");
    a = xenevtchn_open(NULL, 0);
    b = xenevtchn_open(NULL, 0);
    c = xenevtchn_open(NULL, 0);
    ok(a && b && c, "three domain 0 handles");
    if (!a || !b || !c) {
        stop_daemon(pid);
        return tap_done();
    }
    pa = xenevtchn_bind_unbound_port(a, 0);
    pb = pa > 0 ? xenevtchn_bind_interdomain(b, 0, (evtchn_port_t)pa) : -1;
    ok(pa > 0 && pb > 0, "loopback channel %d <-> %d", pa, pb);

    for (int i = 0; i < 5; i++)
        got |= xenevtchn_notify(b, (evtchn_port_t)pb);
    is_int(got, 0, "five notifies from b: 0 each");
    is_int(next_event(a, 2000), pa, "a sees its port fire");
    is_int(next_event(a, 100), -1,
           "once: the five coalesced, the port is masked");
    xenevtchn_notify(b, (evtchn_port_t)pb);
    is_int(next_event(a, 100), -1, "a notify while masked is held");
    ok(xenevtchn_unmask(a, (evtchn_port_t)pa) == 0, "unmask: 0");
    is_int(next_event(a, 2000), pa, "the held event comes at the unmask");
    xenevtchn_unmask(a, (evtchn_port_t)pa);
    is_int(next_event(a, 100), -1, "nothing more: no spurious event");

    /* 200 round trips a <-> b, each side unmasking as it goes. */
    for (int i = 0; i < 200; i++) {
        if (xenevtchn_notify(a, (evtchn_port_t)pa) ||
            next_event(b, 2000) != pb ||
            xenevtchn_unmask(b, (evtchn_port_t)pb) ||
            xenevtchn_notify(b, (evtchn_port_t)pb) ||
            next_event(a, 2000) != pa || xenevtchn_unmask(a, (evtchn_port_t)pa))
            break;
        rounds++;
    }
    is_int(rounds, 200, "200 ping-pongs, none lost");

    /* The doorbells are known now: xen-hv is not needed for a round. */
    kill(pid, SIGSTOP);
    ok(xenevtchn_notify(b, (evtchn_port_t)pb) == 0 &&
           next_event(a, 2000) == pa &&
           xenevtchn_unmask(a, (evtchn_port_t)pa) == 0 &&
           xenevtchn_notify(a, (evtchn_port_t)pa) == 0 &&
           next_event(b, 2000) == pb &&
           xenevtchn_unmask(b, (evtchn_port_t)pb) == 0,
       "with xen-hv stopped (SIGSTOP) a round trip still works");
    kill(pid, SIGCONT);

    /* Errors as Xen's: a VIRQ port cannot be notified; foreign ports. */
    pv = xenevtchn_bind_virq(a, VIRQ_DOM_EXC);
    errno = 0;
    ok(pv > 0 && xenevtchn_notify(a, (evtchn_port_t)pv) == -1 &&
           errno == EINVAL,
       "notify on a VIRQ port: -1 EINVAL");
    errno = 0;
    ok(xenevtchn_notify(a, 1000) == -1 && errno == EINVAL,
       "notify on a port the handle did not bind: -1 EINVAL");
    errno = 0;
    ok(xenevtchn_unmask(c, (evtchn_port_t)pa) == -1 && errno == EINVAL,
       "unmask of another handle's port: -1 EINVAL");

    /* b's end goes, c binds a's port: a's notify must reach c. */
    ok(xenevtchn_unbind(b, (evtchn_port_t)pb) == 0 &&
           xenevtchn_notify(a, (evtchn_port_t)pa) == 0,
       "peer unbound: a notify is still 0 (dropped, as Xen)");
    pn = xenevtchn_bind_interdomain(c, 0, (evtchn_port_t)pa);
    xenevtchn_notify(a, (evtchn_port_t)pa);
    is_int(pn > 0 ? next_event(c, 2000) : -2, pn,
           "the new peer gets a's notify (stale doorbell replaced)");

    fl = fcntl(xenevtchn_fd(c), F_GETFL);
    fcntl(xenevtchn_fd(c), F_SETFL, fl | O_NONBLOCK);
    errno = 0;
    ok(xenevtchn_pending(c) == -1 && errno == EAGAIN,
       "pending on a non-blocking fd with nothing: -1 EAGAIN");

    xenevtchn_close(a);
    xenevtchn_close(b);
    xenevtchn_close(c);
    stop_daemon(pid);
    return tap_done();
}
