/*
 * console.h — one guest's PV console as xenconsoled serves it.
 *
 * Implements the backend side of <xen/io/console.h> (struct
 * xencons_interface: the guest produces into `out`, consumes from `in`)
 * with the xenstore nodes of Xen's docs/misc/xenstore-paths:
 * ~/console/ring-ref (the ring's gfn), ~/console/port (the guest's event
 * channel for dom0), ~/console/type (only "xenconsoled" or absent is
 * ours), ~/console/limit (output bytes kept, overriding --buffer-size),
 * and ~/console/tty, which we write with the pty's name.
 *
 * A connected console offers the guest's output on a pty and on a Unix
 * socket <run_dir>/console-<domid>.sock (one client at a time); output
 * nobody has read yet waits in a bounded queue per sink (cons_buf.h), and
 * goes to <log_dir>/guest-console-<domid>.log when logging is on.  Input
 * from either goes to the guest's `in` ring.
 *
 * The guest is not trusted: an index it owns that is more than a ring
 * away from ours, or a ring-ref outside its memory, disconnects the
 * console (logged on stderr; the socket goes away) and it stays
 * disconnected until the domain is released.  An event storm is
 * throttled: past CONS_RATE_EVENTS events in CONS_RATE_PERIOD_MS the port
 * stays masked until the period ends.
 */
#ifndef CONSOLE_CONSOLE_H
#define CONSOLE_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xenstore.h>

#define CONS_RATE_EVENTS    500
#define CONS_RATE_PERIOD_MS 100

/* What every console shares; owned by the daemon's main(). */
struct cons_config {
    const char *run_dir; /* where console-<domid>.sock live */
    const char *log_dir; /* NULL: no log files */
    size_t buffer_size;  /* bytes of unread output kept per sink */
    struct event_base *base;
    xenevtchn_handle *xce; /* one handle for every console's port */
    xenforeignmemory_handle *fmem;
    struct xs_handle *xs;
};

struct cons;

/* cons_new — a console for domid, not connected yet; NULL on ENOMEM. */
struct cons *cons_new(const struct cons_config *cfg, uint32_t domid);

/*
 * cons_connect — read the domain's console nodes and, when they are
 * there, map the ring, bind the port and open the pty, socket and log.
 * Returns 0 (connected, or already connected), -EAGAIN when the nodes
 * are not written yet or the console is not ours (try again when they
 * change), -EIO when the guest gave bad values (the console is then
 * broken), or another -errno from the host (also left broken).
 */
int cons_connect(struct cons *c);

/*
 * cons_handle_event — the console's port fired: move output and input,
 * then unmask the port (unless throttled or broken).
 */
void cons_handle_event(struct cons *c);

/*
 * cons_reopen_log — close and reopen the log file (after logrotate moved
 * it: SIGHUP, as Xen's daemon); nothing when not connected or not
 * logging.
 */
void cons_reopen_log(struct cons *c);

/* cons_free — disconnect (unlinking the socket) and free. */
void cons_free(struct cons *c);

/* cons_domid — the console's domain. */
uint32_t cons_domid(const struct cons *c);

/* cons_local_port — dom0's end of the console port, -1 when not bound. */
int cons_local_port(const struct cons *c);

#endif
