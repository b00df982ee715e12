/*
 * control.h — xen-hv's control interface (privcmd): a SOCK_SEQPACKET Unix
 * socket on which control-domain processes (uid 0, SO_PEERCRED) bind event
 * channels as domain 0, list domains, read a domain's console log and get
 * a domain's guest memory (its memfd, SCM_RIGHTS) — the protocol is
 * dom0-tools/include/xenhv_privcmd.h.  Runs on the domain's libevent loop.
 */
#ifndef XENHV_CONTROL_H
#define XENHV_CONTROL_H

#include <event2/event.h>

struct control;
struct domain;
struct evtchn_world;

struct kvm_host;

/*
 * control_start — listen on path (an existing socket file there is
 * replaced) and serve requests.  Creates domain 0's event channels in
 * world.  d: the launcher's own domain (`xen-hv run`), listed and served
 * like any other but freed by the launcher; NULL for `xen-hv daemon`,
 * whose domains are all created (with kvm) and destroyed through the
 * socket.  kvm NULL: no guest domain can be created (DOMAIN_CREATE fails
 * with ENODEV); domain 0 and process domains are served all the same.
 * Returns NULL with a reason in err on failure.
 */
struct control *control_start(const char *path, struct event_base *base,
                              struct evtchn_world *world,
                              const struct kvm_host *kvm, struct domain *d,
                              char *err, size_t errlen);

/*
 * control_stop — close every connection (their ports too) and the socket,
 * and destroy the domains created through it.
 */
void control_stop(struct control *c);

#endif
