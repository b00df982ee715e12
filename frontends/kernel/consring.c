/*
 * consring.c — PV console ring frontend (see include/xenkern/consring.h).
 *
 * Ring rules (<xen/io/console.h>, docs/misc/console.txt): the producer
 * writes data, then (write barrier) its index; the consumer reads the
 * producer index, then (read barrier) the data, then (full barrier)
 * publishes its consumer index.  We own out_prod and in_cons and keep our
 * own copies of them, so the backend can only move the indexes it owns;
 * those are read once into a local and checked before use.
 */
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/io/console.h>

#include "xenkern/consring.h"
#include "xenkern/evtchn.h"
#include "xenkern/hypercall.h"
#include "xenkern/lib.h"
#include "xenkern/pvclock.h"
#include "xenkern/sched.h"
#include "xenkern/smp.h"
#include "xenkern/x86.h"

static struct xencons_interface *cr_ring;
static evtchn_port_t cr_port;
static volatile unsigned int cr_events; /* port events seen (handler) */
static int cr_broken;
static XENCONS_RING_IDX cr_out_prod; /* our copy of out_prod */
static XENCONS_RING_IDX cr_in_cons;  /* our copy of in_cons */
static int cr_stalled;               /* a write timed out: do not wait */
static uint64_t cr_lost;             /* bytes not written since then */

/*
 * One writer/reader at a time.  cr_owner is the CPU holding the lock, so
 * an event handler on that CPU that prints while we wait gets -XEN_EBUSY
 * instead of a deadlock (its text still leaves through CONSOLEIO_write).
 */
static spinlock_t cr_lock = SPINLOCK_INIT;
static struct cpu *volatile cr_owner;

static int cr_lock_take(void)
{
    if (cr_owner == this_cpu())
        return -XEN_EBUSY;
    spin_lock(&cr_lock);
    cr_owner = this_cpu();
    return 0;
}

static void cr_lock_drop(void)
{
    cr_owner = NULL;
    spin_unlock(&cr_lock);
}

static int cr_usable(void)
{
    if (!cr_ring)
        return -XEN_ENODEV;
    return cr_broken ? -XEN_EIO : 0;
}

/* Take the lock of a usable ring: 0, or the error (lock not taken). */
static int cr_enter(void)
{
    int rc = cr_usable();

    return rc ? rc : cr_lock_take();
}

/* HVM param index of this domain into *value (HVMOP_get_param). */
static long cr_param(uint32_t index, uint64_t *value)
{
    struct xen_hvm_param p = {.domid = DOMID_SELF, .index = index};
    long rc = HYPERVISOR_hvm_op(HVMOP_get_param, &p);

    *value = rc ? 0 : p.value;
    return rc;
}

int consring_init(void)
{
    uint64_t gfn, port;
    long rc;

    cr_ring = NULL;
    rc = cr_param(HVM_PARAM_CONSOLE_PFN, &gfn);
    if (!rc)
        rc = cr_param(HVM_PARAM_CONSOLE_EVTCHN, &port);
    if (!rc && (!gfn || !port))
        rc = -XEN_ENODEV;
    /* The kernel maps the first 4 GiB 1:1; a ring above is unreachable. */
    else if (!rc && (gfn >= (1ULL << 20) || port >= EVTCHN_2L_NR_PORTS))
        rc = -XEN_ERANGE;
    if (rc)
        return (int)rc;
    cr_port = (evtchn_port_t)port;
    cr_broken = 0;
    cr_events = 0;
    cr_stalled = 0;
    cr_lost = 0;
    cr_ring = (struct xencons_interface *)(uintptr_t)(gfn << 12);
    /* Start from what is on the page: our own indexes as we left them. */
    cr_out_prod = READ_ONCE(cr_ring->out_prod);
    cr_in_cons = READ_ONCE(cr_ring->in_cons);
    evtchn_set_handler(cr_port, evtchn_count, (void *)&cr_events);
    evtchn_unmask(cr_port);
    return 0;
}

int consring_ready(void)
{
    return cr_usable() == 0;
}

uint32_t consring_port(void)
{
    return cr_ring ? cr_port : 0;
}

/* Mark the ring broken; the backend's index was out of range. */
static int cr_fail(void)
{
    cr_broken = 1;
    return -XEN_EIO;
}

/* Bytes of `out` in use, or -XEN_EIO when out_cons is out of range. */
static long cr_out_used(void)
{
    XENCONS_RING_IDX cons = READ_ONCE(cr_ring->out_cons);
    uint32_t used = cr_out_prod - cons;

    if (used > sizeof(cr_ring->out))
        return cr_fail();
    return used;
}

/* Block until the port fires after `seen` or the deadline; 0/-ETIMEDOUT. */
static int cr_wait(unsigned int seen, uint64_t deadline)
{
    uint64_t now = time_now_ns();

    if (now >= deadline)
        return -XEN_ETIMEDOUT;
    sched_wait_count(&cr_events, seen + 1, deadline - now);
    return 0;
}

/*
 * Copy len bytes into `out` (lock held), waiting for room until the
 * deadline.  Returns the bytes copied; *err gets 0 or why it stopped
 * (-XEN_EIO, -XEN_ETIMEDOUT).
 */
static size_t cr_put(const char *buf, size_t len, uint64_t deadline, long *err)
{
    size_t done = 0;

    *err = 0;
    while (done < len) {
        unsigned int seen = cr_events;
        long used = cr_out_used();
        uint32_t n, slot;

        if (used < 0) {
            *err = used;
            break;
        }
        if (used == sizeof(cr_ring->out)) {
            *err = cr_wait(seen, deadline);
            if (*err)
                break;
            continue;
        }
        smp_mb(); /* the backend has read the slots we are reusing */
        slot = MASK_XENCONS_IDX(cr_out_prod, cr_ring->out);
        n = sizeof(cr_ring->out) - (uint32_t)used;
        if (n > len - done)
            n = (uint32_t)(len - done);
        if (n > sizeof(cr_ring->out) - slot)
            n = sizeof(cr_ring->out) - slot;
        memcpy(cr_ring->out + slot, buf + done, n);
        smp_wmb(); /* data before the index that publishes it */
        cr_out_prod += n;
        WRITE_ONCE(cr_ring->out_prod, cr_out_prod);
        evtchn_send(cr_port);
        done += n;
    }
    return done;
}

long consring_write(const char *buf, size_t len)
{
    uint64_t deadline = time_now_ns() + CONSRING_TIMEOUT_NS;
    size_t done = 0;
    long rc = cr_enter(), used;

    if (rc)
        return rc;
    used = cr_out_used();
    if (used < 0) {
        rc = used;
        goto out;
    }
    /* Stalled: do not wait again until the backend has taken something. */
    if (cr_stalled && used == sizeof(cr_ring->out)) {
        cr_lost += len;
        rc = -XEN_ETIMEDOUT;
        goto out;
    }
    cr_stalled = 0;
    if (cr_lost) {
        char note[64];
        size_t n = (size_t)snprintf(note, sizeof(note), CONSRING_LOST_MARKER,
                                    (unsigned long long)cr_lost);

        if (cr_put(note, n, deadline, &rc) < n) {
            /* Still no room: this write is lost as well. */
            cr_stalled = rc == -XEN_ETIMEDOUT;
            cr_lost += len;
            goto out;
        }
        cr_lost = 0;
    }
    done = cr_put(buf, len, deadline, &rc);
    if (rc == -XEN_ETIMEDOUT) {
        cr_stalled = 1;
        cr_lost += len - done;
    }
out:
    cr_lock_drop();
    return done ? (long)done : rc;
}

long consring_read(char *buf, size_t len)
{
    size_t done = 0;
    long rc = cr_enter();

    if (rc)
        return rc;
    while (done < len) {
        XENCONS_RING_IDX prod = READ_ONCE(cr_ring->in_prod);
        uint32_t avail, n, slot;

        smp_rmb(); /* the data we copy is at least as new as prod */
        avail = prod - cr_in_cons;
        if (avail > sizeof(cr_ring->in)) {
            rc = cr_fail();
            break;
        }
        if (!avail)
            break;
        slot = MASK_XENCONS_IDX(cr_in_cons, cr_ring->in);
        n = avail;
        if (n > len - done)
            n = (uint32_t)(len - done);
        if (n > sizeof(cr_ring->in) - slot)
            n = sizeof(cr_ring->in) - slot;
        memcpy(buf + done, cr_ring->in + slot, n);
        done += n;
        smp_mb(); /* finish reading before the backend may overwrite */
        cr_in_cons += n;
        WRITE_ONCE(cr_ring->in_cons, cr_in_cons);
    }
    if (done)
        evtchn_send(cr_port);
    cr_lock_drop();
    return done ? (long)done : rc;
}

long consring_read_line(char *buf, size_t len, uint64_t timeout_ns)
{
    uint64_t deadline = time_now_ns() + timeout_ns;
    size_t have = 0;

    if (len < 2)
        return -XEN_EINVAL;
    /* One byte at a time: bytes after the newline stay in the ring. */
    while (have < len - 1) {
        unsigned int seen = cr_events;
        long n = consring_read(buf + have, 1);

        if (n < 0)
            return n;
        if (n == 0) {
            int rc = cr_wait(seen, deadline);

            if (rc)
                return rc;
            continue;
        }
        if (buf[have++] == '\n')
            break;
    }
    buf[have] = 0;
    return (long)have;
}

int consring_flush(uint64_t timeout_ns)
{
    uint64_t deadline = time_now_ns() + timeout_ns;

    for (;;) {
        unsigned int seen = cr_events;
        long used, rc = cr_usable();

        if (rc)
            return (int)rc;
        used = cr_out_used();
        if (used <= 0)
            return (int)used;
        rc = cr_wait(seen, deadline);
        if (rc)
            return (int)rc;
    }
}
