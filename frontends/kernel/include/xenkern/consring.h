/*
 * consring.h — the guest side of the PV console ring (<xen/io/console.h>,
 * struct xencons_interface; Xen's docs/misc/console.txt).
 *
 * As PVH Linux's hvc_xen does, the ring page and its event channel come
 * from HVM_PARAM_CONSOLE_PFN and HVM_PARAM_CONSOLE_EVTCHN
 * (<xen/hvm/params.h>); the backend (xenconsoled) maps the page and binds
 * the port.  The guest produces into `out` and consumes from `in`; the
 * indexes are free-running 32-bit counters, a byte's slot is
 * MASK_XENCONS_IDX(idx, ring), and whoever moves an index notifies the
 * port.  The backend is not trusted: an index it owns (out_cons, in_prod)
 * that is more than a ring away from ours marks the ring broken, and a
 * broken ring is never touched again until consring_init() is called.
 *
 * Errors: functions return a count (>= 0) or a negative Xen errno:
 * -XEN_ENODEV before consring_init() (or when the domain has no ring),
 * -XEN_EIO once the backend broke the ring, -XEN_ETIMEDOUT when the
 * backend did not make room within CONSRING_TIMEOUT_NS, -XEN_EBUSY when
 * called again from inside an event handler of the same vCPU.
 */
#ifndef XENKERN_CONSRING_H
#define XENKERN_CONSRING_H

#include <stddef.h>
#include <stdint.h>

/* How long a writer waits for the backend to make room (ns). */
#define CONSRING_TIMEOUT_NS (5ULL * 1000000000ULL)

/* What precedes output after bytes were lost (printf format: count). */
#define CONSRING_LOST_MARKER "\r\n[consring: %llu bytes lost]\r\n"

/*
 * consring_init — find the ring (HVM_PARAM_CONSOLE_PFN, mapped 1:1 by the
 * kernel) and its port (HVM_PARAM_CONSOLE_EVTCHN), attach the ring's
 * handler to the port and unmask it.  The page is used as the toolstack
 * left it (zeroed by the domain builder).  Returns 0, the HVMOP_get_param
 * error, -XEN_ENODEV when a param is 0, -XEN_ERANGE when the page is
 * above 4 GiB or the port beyond the 2-level ABI.
 */
int consring_init(void);

/* consring_ready — 1 when the ring is up and not broken. */
int consring_ready(void);

/*
 * consring_write — copy len bytes into `out`, notifying the backend after
 * each batch and blocking (SCHEDOP_block, woken by the port) while the
 * ring is full, up to CONSRING_TIMEOUT_NS.  Nothing is dropped silently:
 * after a timeout the ring is "stalled" and later writes fail at once
 * with -XEN_ETIMEDOUT (a guest whose backend died does not hang on every
 * line) until the backend takes something; the bytes not written are
 * counted and the next write that gets through is preceded by
 * CONSRING_LOST_MARKER with that count.  Returns the bytes written (short
 * when an error stopped it), or the error when none were written.
 */
long consring_write(const char *buf, size_t len);

/*
 * consring_read — move up to len bytes the backend produced in `in` into
 * buf without waiting, then notify.  Returns the byte count (0 when
 * nothing is there) or an error.
 */
long consring_read(char *buf, size_t len);

/*
 * consring_read_line — read bytes into buf until '\n' (kept), len - 1
 * bytes or timeout_ns (ns) pass, waiting on the port; buf is
 * NUL-terminated.  Returns the length, -XEN_ETIMEDOUT when no whole line
 * came, or another error.
 */
long consring_read_line(char *buf, size_t len, uint64_t timeout_ns);

/*
 * consring_flush — wait until the backend consumed everything in `out`
 * (out_cons == out_prod) or timeout_ns (ns) passed.  0, -XEN_ETIMEDOUT or
 * an error.
 */
int consring_flush(uint64_t timeout_ns);

/* consring_port — the console event channel, 0 before consring_init(). */
uint32_t consring_port(void);

#endif
