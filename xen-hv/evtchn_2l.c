/*
 * evtchn_2l.c — the 2-level event channel ABI (<xen/xen.h>: shared_info's
 * evtchn_pending[] and evtchn_mask[], vcpu_info's evtchn_pending_sel and
 * evtchn_upcall_pending), after Xen 4.17's xen/common/event_2l.c and x86's
 * vcpu_mark_events_pending() (xen/arch/x86/domain.c).
 *
 * The guest changes these words concurrently from its own vCPUs, so every
 * change here is one atomic read-modify-write and every step is ordered
 * (sequentially consistent) as Xen's locked bit operations are on x86:
 * the guest clears evtchn_upcall_pending before it exchanges
 * evtchn_pending_sel, and clears a mask bit before it looks at the pending
 * bit, so whichever side comes second sees the other's write and no
 * notification is lost.
 *
 * A 64-bit guest only: 64 bits per word, 64 words, 4096 ports (Xen's
 * BITS_PER_EVTCHN_WORD squared).  With no shared_info page nothing can be
 * recorded and the event is dropped; with no vcpu_info for the notified
 * vCPU the pending bit is set but no upcall is made (see evtchn.h).
 */
#include <stdint.h>

#include <xen/xen.h>

#include "evtchn.h"

#define EVTCHN_2L_WORD_BITS (sizeof(xen_ulong_t) * 8)
#define EVTCHN_2L_NR_PORTS  (EVTCHN_2L_WORD_BITS * EVTCHN_2L_WORD_BITS)

static xen_ulong_t word_bit(unsigned int bit)
{
    return (xen_ulong_t)1 << (bit % EVTCHN_2L_WORD_BITS);
}

/* Xen's guest_test_and_set_bit(): true if the bit was already set. */
static bool bit_test_and_set(xen_ulong_t *words, unsigned int bit)
{
    xen_ulong_t m = word_bit(bit);

    return __atomic_fetch_or(&words[bit / EVTCHN_2L_WORD_BITS], m,
                             __ATOMIC_SEQ_CST) &
           m;
}

/* Xen's guest_test_and_clear_bit(): true if the bit was set. */
static bool bit_test_and_clear(xen_ulong_t *words, unsigned int bit)
{
    xen_ulong_t m = word_bit(bit);

    return __atomic_fetch_and(&words[bit / EVTCHN_2L_WORD_BITS], ~m,
                              __ATOMIC_SEQ_CST) &
           m;
}

static bool bit_test(const xen_ulong_t *words, unsigned int bit)
{
    return __atomic_load_n(&words[bit / EVTCHN_2L_WORD_BITS],
                           __ATOMIC_SEQ_CST) &
           word_bit(bit);
}

/*
 * Xen's vcpu_mark_events_pending(): set evtchn_upcall_pending (bit 0) and
 * make the upcall when it was clear.
 */
static void mark_events_pending(const struct evtchn_domain *d,
                                unsigned int vcpu, struct vcpu_info *vi)
{
    if (__atomic_fetch_or(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST) & 1)
        return;
    evtchn_upcall(d, vcpu);
}

/*
 * notify_vcpu — a port of vcpu just became pending and unmasked: select its
 * word and mark events pending, as Xen does; and when evtchn_upcall_pending
 * was already set, make the upcall again.  Xen's HVM upcall is level:
 * while evtchn_upcall_pending stays set it is delivered at every VM entry
 * where the guest can take it.  Ours is an MSI, an edge, which KVM drops
 * while the guest's LAPIC is still software-disabled — and Linux registers
 * its vcpu_info (marking everything pending) and its upcall vector before
 * it enables the LAPIC, so without this its first edge is lost and no
 * event, not even a timer tick, ever reaches it.  A repeated upcall is at
 * worst spurious, which guests handle (Xen's map_vcpu_info() makes one).
 */
static void notify_vcpu(const struct evtchn_domain *d, unsigned int vcpu,
                        struct vcpu_info *vi, evtchn_port_t port)
{
    if (!bit_test_and_set(&vi->evtchn_pending_sel, port / EVTCHN_2L_WORD_BITS))
        mark_events_pending(d, vcpu, vi);
    else if (__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST) & 1)
        evtchn_upcall(d, vcpu);
}

/*
 * Xen's evtchn_2l_set_pending(): pending bit; unless it was set already or
 * the port is masked, the word's bit in vcpu's evtchn_pending_sel; if that
 * was clear, evtchn_upcall_pending.
 */
static void evtchn_2l_set_pending(struct evtchn_domain *d, unsigned int vcpu,
                                  evtchn_port_t port)
{
    struct shared_info *si = evtchn_shared_info(d);
    struct vcpu_info *vi;

    if (!si || port >= EVTCHN_2L_NR_PORTS)
        return;
    if (bit_test_and_set(si->evtchn_pending, port))
        return;
    if (bit_test(si->evtchn_mask, port))
        return;
    vi = evtchn_vcpu_info(d, vcpu);
    if (vi)
        notify_vcpu(d, vcpu, vi, port);
}

/* Xen's evtchn_2l_clear_pending(). */
static void evtchn_2l_clear_pending(struct evtchn_domain *d, evtchn_port_t port)
{
    struct shared_info *si = evtchn_shared_info(d);

    if (si && port < EVTCHN_2L_NR_PORTS)
        bit_test_and_clear(si->evtchn_pending, port);
}

/*
 * Xen's evtchn_2l_unmask(): if the port was masked and is pending, notify
 * vcpu as evtchn_2l_set_pending() would have.
 */
static void evtchn_2l_unmask(struct evtchn_domain *d, unsigned int vcpu,
                             evtchn_port_t port)
{
    struct shared_info *si = evtchn_shared_info(d);
    struct vcpu_info *vi;

    if (!si || port >= EVTCHN_2L_NR_PORTS)
        return;
    if (!bit_test_and_clear(si->evtchn_mask, port))
        return;
    if (!bit_test(si->evtchn_pending, port))
        return;
    vi = evtchn_vcpu_info(d, vcpu);
    if (vi)
        notify_vcpu(d, vcpu, vi, port);
}

/* Xen's evtchn_2l_is_pending(): false beyond the format. */
static bool evtchn_2l_is_pending(const struct evtchn_domain *d,
                                 evtchn_port_t port)
{
    const struct shared_info *si = evtchn_shared_info(d);

    return si && port < EVTCHN_2L_NR_PORTS &&
           bit_test(si->evtchn_pending, port);
}

/* Xen's evtchn_2l_is_masked(): true beyond the format. */
static bool evtchn_2l_is_masked(const struct evtchn_domain *d,
                                evtchn_port_t port)
{
    const struct shared_info *si = evtchn_shared_info(d);

    return !si || port >= EVTCHN_2L_NR_PORTS || bit_test(si->evtchn_mask, port);
}

static unsigned int evtchn_2l_max_ports(const struct evtchn_domain *d)
{
    return EVTCHN_2L_NR_PORTS;
}

const struct evtchn_port_ops evtchn_port_ops_2l = {
    .name = "2-level",
    .max_ports = evtchn_2l_max_ports,
    .set_pending = evtchn_2l_set_pending,
    .clear_pending = evtchn_2l_clear_pending,
    .unmask = evtchn_2l_unmask,
    .is_pending = evtchn_2l_is_pending,
    .is_masked = evtchn_2l_is_masked,
};
