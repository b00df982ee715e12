/*
 * The guest of the console test: frontends/kernel's console ring
 * (xenkern/consring.h) served by xenconsoled.  Roles (command line):
 *   role=main     brings the ring up (printf then also goes there), prints
 *                 "hello before attach" and MAIN-READY, then echoes every
 *                 input line as "echo: <line>" until the line "quit";
 *                 the line "corrupt-in" moves in_cons past in_prod.
 *   role=flood    prints 60 numbered lines (3 KiB, more than the ring and
 *                 the daemon's buffer), waits until the daemon took them,
 *                 then prints FLOOD-DONE.
 *   role=corrupt  prints a line, then moves out_prod 5000 bytes ahead of
 *                 out_cons (more than the 2 KiB ring) and notifies: the
 *                 daemon must disconnect this console only.
 *   role=storm    notifies the console port 20000 times with nothing in
 *                 the ring, then prints AFTER-STORM.
 *   role=badbackend  test_console.c itself is the backend (no daemon):
 *                 a 3000-byte write blocks on the full ring until the test
 *                 consumes; a write nobody takes times out and stalls the
 *                 ring, and the next output that gets through names the
 *                 bytes lost; then the test corrupts out_cons and later
 *                 in_prod, which the frontend must refuse (-XEN_EIO).
 *                 Its TAP is printed at the end (the ring is the test's
 *                 data); BB-* progress marks go to CONSOLEIO_write only.
 * Everything printed also goes to CONSOLEIO_write, which test_console.c
 * reads to know where the guest is.
 */
#include <stdint.h>
#include <xen/errno.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/io/console.h>

#include "xenkern/boot.h"
#include "xenkern/console.h"
#include "xenkern/consring.h"
#include "xenkern/evtchn.h"
#include "xenkern/hypercall.h"
#include "xenkern/lib.h"
#include "xenkern/pvclock.h"
#include "xenkern/sched.h"
#include "xenkern/test.h"

#define SEC 1000000000ULL

/* Move the ring's in_cons 3000 bytes past in_prod (a broken guest). */
static void corrupt_in_cons(void)
{
    struct xen_hvm_param pfn = {.domid = DOMID_SELF,
                                .index = HVM_PARAM_CONSOLE_PFN};
    volatile struct xencons_interface *r;

    if (HYPERVISOR_hvm_op(HVMOP_get_param, &pfn))
        return;
    r = (volatile struct xencons_interface *)(uintptr_t)(pfn.value << 12);
    r->in_cons = r->in_prod + 3000;
    printf("CORRUPTED-IN\n");
}

static void role_main(void)
{
    char line[128];
    int quit = 0;

    tap_plan(3);
    is_int(consring_init(), 0, "consring_init");
    printf("hello before attach\n");
    printf("MAIN-READY\n");
    for (int i = 0; i < 50 && !quit; i++) {
        long n = consring_read_line(line, sizeof(line), 120 * SEC);

        if (n < 0) {
            diag("read_line: %ld", n);
            break;
        }
        if (!strcmp(line, "quit\n"))
            quit = 1;
        else if (!strcmp(line, "corrupt-in\n"))
            corrupt_in_cons();
        else
            printf("echo: %s", line);
    }
    ok(quit, "the line \"quit\" came through the in ring");
    is_int(consring_flush(5 * SEC), 0, "the daemon took all output");
}

static void role_flood(void)
{
    tap_plan(2);
    is_int(consring_init(), 0, "consring_init");
    for (int i = 0; i < 60; i++)
        printf("flood line %02d ...................................\n", i);
    is_int(consring_flush(10 * SEC), 0, "the daemon took the flood");
    printf("FLOOD-DONE\n");
}

static void role_corrupt(void)
{
    struct xen_hvm_param pfn = {.domid = DOMID_SELF,
                                .index = HVM_PARAM_CONSOLE_PFN};
    struct xencons_interface *r;

    if (consring_init() || HYPERVISOR_hvm_op(HVMOP_get_param, &pfn))
        bail_out("no console ring");
    printf("corrupt guest here\n");
    consring_flush(5 * SEC);
    r = (struct xencons_interface *)(uintptr_t)(pfn.value << 12);
    /* Not through consring: this is the broken guest the daemon faces. */
    r->out_prod = r->out_cons + 5000;
    evtchn_send(consring_port());
    /* Print nothing to the ring that could repair out_prod meanwhile. */
    sched_sleep_until(time_now_ns() + 3 * SEC);
    HYPERVISOR_console_io(CONSOLEIO_write, 8, "CORRUPT\n");
}

static void role_storm(void)
{
    tap_plan(2);
    is_int(consring_init(), 0, "consring_init");
    for (int i = 0; i < 20000; i++)
        evtchn_send(consring_port());
    printf("AFTER-STORM\n");
    is_int(consring_flush(10 * SEC), 0, "the daemon still serves the ring");
}

/* A progress mark on CONSOLEIO_write only (not the ring). */
static void say(const char *s)
{
    HYPERVISOR_console_io(CONSOLEIO_write, strlen(s), s);
}

static void role_badbackend(void)
{
    struct xen_hvm_param pfn = {.domid = DOMID_SELF,
                                .index = HVM_PARAM_CONSOLE_PFN};
    static char big[3000];
    volatile struct xencons_interface *r;
    long init, wrote, stall, stalled, resumed, flush, after, reinit;
    long line = -1, bad = 0;
    uint64_t t0, took;
    char buf[32] = "", tmp[4];

    init = consring_init();
    HYPERVISOR_hvm_op(HVMOP_get_param, &pfn);
    r = (volatile struct xencons_interface *)(uintptr_t)(pfn.value << 12);
    for (unsigned int i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    wrote = consring_write(big, sizeof(big));
    /* Nobody takes these: the write times out, the next fails at once. */
    stall = consring_write(big, 2100);
    t0 = time_now_ns();
    stalled = consring_write("after\n", 6);
    took = time_now_ns() - t0;
    say("BB-STALLED\n");
    consring_flush(20 * SEC);
    resumed = consring_write("resumed\n", 8);
    consring_write("Z", 1);
    flush = consring_flush(10 * SEC);
    after = consring_write("y", 1);
    say("BB-BROKEN\n");
    /* The test zeroes the page and puts "hello\n" in `in`. */
    for (int i = 0; i < 1000 && r->in_prod != 6; i++)
        sched_sleep_until(time_now_ns() + SEC / 100);
    reinit = consring_init();
    if (!reinit)
        line = consring_read_line(buf, sizeof(buf), 5 * SEC);
    say("BB-READ-OK\n");
    for (int i = 0; i < 1000 && !bad; i++) {
        bad = consring_read(tmp, 1);
        sched_sleep_until(time_now_ns() + SEC / 100);
    }
    tap_plan(9);
    is_int(init, 0, "consring_init");
    is_int(wrote, sizeof(big), "3000 bytes written through a 2 KiB ring");
    is_int(stall, 2048, "a write nobody takes times out with what fit");
    ok(stalled == -XEN_ETIMEDOUT && took < SEC / 2,
       "then the ring is stalled: a write fails at once (%ld)", stalled);
    is_int(resumed, 8, "once the backend takes output, writes go through");
    is_int(flush, -XEN_EIO, "out_cons 5000 past out_prod: EIO");
    is_int(after, -XEN_EIO, "the broken ring is not used again");
    ok(reinit == 0 && line == 6 && !strcmp(buf, "hello\n"),
       "after consring_init again, a line comes in (%ld, %ld)", reinit, line);
    is_int(bad, -XEN_EIO, "in_prod 3000 past in_cons: EIO");
}

void test_main(void)
{
    char role[32];

    if (cmdline_get("role", role, sizeof(role)) < 0)
        bail_out("no role= on the command line");
    if (!strcmp(role, "main"))
        role_main();
    else if (!strcmp(role, "flood"))
        role_flood();
    else if (!strcmp(role, "corrupt"))
        role_corrupt();
    else if (!strcmp(role, "storm"))
        role_storm();
    else if (!strcmp(role, "badbackend"))
        role_badbackend();
    else
        bail_out("unknown role %s", role);
}
