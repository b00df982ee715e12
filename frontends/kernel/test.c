/* test.c — TAP harness and the kernel_main() of test images (test.h). */
#include <stdarg.h>

#include <stdint.h>
#include <xen/sched.h>

#include "xenkern/console.h"
#include "xenkern/kernel.h"
#include "xenkern/lib.h"
#include "xenkern/smp.h"
#include "xenkern/test.h"
#include "xenkern/traps.h"

static spinlock_t tap_lock = SPINLOCK_INIT;
static unsigned int tap_planned;
static unsigned int tap_done;
static unsigned int tap_failed;

unsigned int tap_count(void)
{
    return tap_done;
}

void tap_plan(unsigned int n)
{
    tap_planned = n;
    printf("1..%u\n", n);
}

/* Print one result line; the lock keeps numbers and lines in order. */
static void tap_result(bool pass, const char *directive, const char *fmt,
                       va_list ap)
{
    char name[128];

    vsnprintf(name, sizeof(name), fmt, ap);
    spin_lock(&tap_lock);
    tap_done++;
    if (!pass)
        tap_failed++;
    printf("%s %u - %s%s\n", pass ? "ok" : "not ok", tap_done, name,
           directive ? directive : "");
    console_flush();
    spin_unlock(&tap_lock);
}

bool ok(bool cond, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tap_result(cond, NULL, fmt, ap);
    va_end(ap);
    return cond;
}

bool is_int(long long got, long long expected, const char *fmt, ...)
{
    char directive[64];
    va_list ap;

    snprintf(directive, sizeof(directive), " # got %lld expected %lld", got,
             expected);
    va_start(ap, fmt);
    tap_result(got == expected, got == expected ? NULL : directive, fmt, ap);
    va_end(ap);
    return got == expected;
}

void skip(const char *fmt, ...)
{
    char reason[128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    spin_lock(&tap_lock);
    tap_done++;
    printf("ok %u - # SKIP %s\n", tap_done, reason);
    console_flush();
    spin_unlock(&tap_lock);
}

void diag(const char *fmt, ...)
{
    char buf[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    printf("# %s\n", buf);
}

void skip_all(const char *fmt, ...)
{
    char buf[128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    printf("1..0 # SKIP %s\n", buf);
    kernel_shutdown(SHUTDOWN_poweroff);
}

void bail_out(const char *fmt, ...)
{
    char buf[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    printf("Bail out! %s\n", buf);
    kernel_shutdown(SHUTDOWN_crash);
}

/* An exception: an error unless every planned point was reported. */
static void test_fatal(const char *reason)
{
    if (tap_planned && tap_done >= tap_planned)
        printf("# after the plan: %s\n", reason);
    else
        printf("Bail out! %s\n", reason);
}

void kernel_main(void)
{
    trap_fatal_hook = test_fatal;
    test_main();
    if (!tap_planned)
        printf("1..%u\n", tap_done);
    else if (tap_done != tap_planned)
        printf("# planned %u test points, ran %u\n", tap_planned, tap_done);
    if (tap_failed)
        printf("# %u of %u failed\n", tap_failed, tap_done);
}
