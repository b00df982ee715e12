/*
 * evtchn bench — event round trip inside one guest over a loopback
 * interdomain channel (<xen/event_channel.h>): ports a and b, made with
 * EVTCHNOP_alloc_unbound(DOMID_SELF) and EVTCHNOP_bind_interdomain to
 * ourselves.  One round trip is: send on a (b becomes pending), poll runs
 * b's handler, send on b, poll runs a's handler; 2 hypercalls, the polls
 * make none (they read and clear the shared_info bitmaps).
 *
 * The sends go through the hypercall page with the same call as the
 * reference: a `call` to `out %al, $0xe5; ret` (XENHV_NULL_PORT, which
 * xen-hv answers doing nothing) with the same argument registers, made
 * twice per round trip.  ratio = evtchn_rtt / raw_exit_pair is the figure
 * asked for, but the host emulates guest ring 0, so the two polls (tens of
 * instructions, locked ones among them) dominate it.  Hence a matched
 * pair as well: both loops set the pending bits the way xen-hv does on a
 * send (mark_pending; a no-op after a real send) and poll, and differ only
 * in the called stub.  matched_rtt - matched_raw is xen-hv's event channel
 * work over two bare exits; send_pair = raw_exit_pair + that difference,
 * and send_pair_ratio = send_pair / raw_exit_pair is the hypervisor-side
 * ratio.  guest_side = matched_raw - raw_exit_pair.  Method as in the
 * hypercall bench: interleaved rounds, fastest round kept, pvclock ns,
 * fixed-point printing (no FPU).
 *
 * Command line: extra_rtts=K runs K more round trips after the measured
 * ones, so that run.sh can take exits per round trip from xen-hv's
 * --stats as a difference between two runs; evtchn_rtt_count is the total.
 */
#include <stdint.h>
#include <xen/event_channel.h>

#include "xenkern/boot.h"
#include "xenkern/console.h"
#include "xenkern/evtchn.h"
#include "xenkern/hypercall.h"
#include "xenkern/kernel.h"
#include "xenkern/pvclock.h"
#include "xenkern/shared.h"

#define N      8000
#define ROUNDS 8

static volatile unsigned long handled;

static void count(evtchn_port_t port, void *arg)
{
    (void)port;
    (void)arg;
    handled++;
}

/* Print v / 1000 with three decimals. */
static void print_milli(const char *name, uint64_t milli)
{
    printf("%s=%llu.%03llu", name, (unsigned long long)(milli / 1000),
           (unsigned long long)(milli % 1000));
}

/* What xen-hv does for a send to an unmasked port, done by the guest. */
static void mark_pending(evtchn_port_t port)
{
    struct vcpu_info *vi = vcpu_info_of(0);

    __atomic_fetch_or(&shared_info->evtchn_pending[port / 64],
                      1UL << (port % 64), __ATOMIC_SEQ_CST);
    __atomic_fetch_or(&vi->evtchn_pending_sel, 1UL << (port / 64),
                      __ATOMIC_SEQ_CST);
    __atomic_store_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
}

void kernel_main(void)
{
    const void *evtchn_stub =
        hypercall_page + __HYPERVISOR_event_channel_op * 32;
    struct evtchn_send send_a, send_b;
    uint64_t extra = cmdline_get_u64("extra_rtts", 0);
    uint64_t t0, rtt, raw, rtt_m, raw_m, sends, rtts = 0;
    unsigned long want;
    int a, b;

    if (!xen_present) {
        printf("evtchn bench: no Xen, nothing to measure\n");
        return;
    }
    a = evtchn_alloc_unbound(DOMID_SELF, count, NULL);
    b = a > 0 ? evtchn_bind_interdomain(DOMID_SELF, a, count, NULL) : a;
    if (a <= 0 || b <= 0) {
        printf("evtchn bench: loopback channel failed (%d, %d)\n", a, b);
        kernel_shutdown(SHUTDOWN_crash);
    }
    evtchn_poll(); /* the pending a fresh interdomain port starts with */
    send_a.port = (evtchn_port_t)a;
    send_b.port = (evtchn_port_t)b;
    handled = 0;

    rtt = raw = rtt_m = raw_m = ~0ULL;
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t d;

        t0 = time_now_ns();
        for (int i = 0; i < N / ROUNDS; i++) {
            hypercall_stub5(evtchn_stub, EVTCHNOP_send, (unsigned long)&send_a,
                            0, 0, 0);
            evtchn_poll();
            hypercall_stub5(evtchn_stub, EVTCHNOP_send, (unsigned long)&send_b,
                            0, 0, 0);
            evtchn_poll();
        }
        d = (time_now_ns() - t0) * ROUNDS;
        rtt = d < rtt ? d : rtt;

        t0 = time_now_ns();
        for (int i = 0; i < N / ROUNDS; i++) {
            hypercall_stub5(null_exit_stub, EVTCHNOP_send,
                            (unsigned long)&send_a, 0, 0, 0);
            hypercall_stub5(null_exit_stub, EVTCHNOP_send,
                            (unsigned long)&send_b, 0, 0, 0);
        }
        d = (time_now_ns() - t0) * ROUNDS;
        raw = d < raw ? d : raw;

        /* The matched pair: identical guest instructions, see above. */
        t0 = time_now_ns();
        for (int i = 0; i < N / ROUNDS; i++) {
            hypercall_stub5(evtchn_stub, EVTCHNOP_send, (unsigned long)&send_a,
                            0, 0, 0);
            mark_pending((evtchn_port_t)b);
            evtchn_poll();
            hypercall_stub5(evtchn_stub, EVTCHNOP_send, (unsigned long)&send_b,
                            0, 0, 0);
            mark_pending((evtchn_port_t)a);
            evtchn_poll();
        }
        d = (time_now_ns() - t0) * ROUNDS;
        rtt_m = d < rtt_m ? d : rtt_m;

        t0 = time_now_ns();
        for (int i = 0; i < N / ROUNDS; i++) {
            hypercall_stub5(null_exit_stub, EVTCHNOP_send,
                            (unsigned long)&send_a, 0, 0, 0);
            mark_pending((evtchn_port_t)b);
            evtchn_poll();
            hypercall_stub5(null_exit_stub, EVTCHNOP_send,
                            (unsigned long)&send_b, 0, 0, 0);
            mark_pending((evtchn_port_t)a);
            evtchn_poll();
        }
        d = (time_now_ns() - t0) * ROUNDS;
        raw_m = d < raw_m ? d : raw_m;
    }
    rtts = N;
    for (uint64_t i = 0; i < extra; i++) {
        evtchn_send((evtchn_port_t)a);
        evtchn_poll();
        evtchn_send((evtchn_port_t)b);
        evtchn_poll();
    }
    rtts += extra;

    /* Every send and every guest-made pending ran one handler. */
    want = (unsigned long)(6 * N + 2 * extra);
    if (handled != want) {
        printf("evtchn bench: %lu events handled, expected %lu\n", handled,
               want);
        kernel_shutdown(SHUTDOWN_crash);
    }
    /* Two sends as xen-hv handles them, guest work cancelled out. */
    sends = raw + (rtt_m > raw_m ? rtt_m - raw_m : 0);
    print_milli("evtchn_rtt_ns", rtt * 1000 / N);
    printf(" ");
    print_milli("raw_exit_pair_ns", raw * 1000 / N);
    printf(" ");
    print_milli("ratio", raw ? rtt * 1000 / raw : 0);
    printf(" hypercalls_per_rtt=2 evtchn_rtt_count=%llu\n",
           (unsigned long long)rtts);
    print_milli("matched_rtt_ns", rtt_m * 1000 / N);
    printf(" ");
    print_milli("matched_raw_ns", raw_m * 1000 / N);
    printf(" ");
    print_milli("guest_side_ns", (raw_m > raw ? raw_m - raw : 0) * 1000 / N);
    printf(" ");
    print_milli("send_pair_ns", sends * 1000 / N);
    printf(" ");
    print_milli("send_pair_ratio", raw ? sends * 1000 / raw : 0);
    printf("\n");
}
