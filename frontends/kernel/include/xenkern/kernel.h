/*
 * kernel.h — kernel start-up and shutdown.
 *
 * An image provides kernel_main(); the kernel calls it on the boot CPU
 * once the console, traps, hypercalls, shared_info, pvclock and the LAPIC
 * are ready, and powers the domain off when it returns.  (The test
 * harness, test.c, provides a kernel_main() that runs test_main().)
 */
#ifndef XENKERN_KERNEL_H
#define XENKERN_KERNEL_H

#include <stdbool.h>

#include <stdint.h>
#include <xen/sched.h>

/* kernel_main — the image's entry point, on vCPU 0, interrupts off. */
void kernel_main(void);

/* xen_present — true when a Xen signature was found in CPUID. */
extern bool xen_present;

/*
 * kernel_shutdown — SCHEDOP_shutdown(reason) (<xen/sched.h>,
 * SHUTDOWN_poweroff, _reboot, _suspend, _crash, _watchdog, _soft_reset)
 * after flushing the console.  Without Xen: writes reason to the
 * isa-debug-exit port 0xf4 (QEMU exits with (reason << 1) | 1).
 * Does not return (SHUTDOWN_suspend is not resumed by this kernel).
 */
__attribute__((noreturn)) void kernel_shutdown(unsigned int reason);

/* panic — print "PANIC: ..." and shut down with SHUTDOWN_crash. */
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt,
                                                           ...);

#endif
