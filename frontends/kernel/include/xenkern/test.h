/*
 * test.h — TAP test harness for guest test images (model: XTF's
 * include/xtf/report.h: success / skip / error / failure).
 *
 * A test image defines test_main().  The harness prints TAP on the
 * console: `1..N`, `ok 1 - name`, `not ok 2 - name # got X expected Y`.
 *   failure — ok(false, ...)           the code under test is wrong;
 *   skip    — skip(...)                a test point that cannot run here;
 *   error   — bail_out(...), ASSERT()  the test or its environment broke:
 *             `Bail out! reason` and SHUTDOWN_crash.
 * When test_main() returns the domain powers off (SHUTDOWN_poweroff).
 * An exception before the plan is complete prints `Bail out!`; after it,
 * only a `#` diagnostic (the exception test relies on that).
 * ok() and friends may be called from any CPU.
 */
#ifndef XENKERN_TEST_H
#define XENKERN_TEST_H

#include <stdbool.h>

/* test_main — the test image's body, on vCPU 0. */
void test_main(void);

/* tap_plan — announce n test points (print `1..n`). */
void tap_plan(unsigned int n);

/* ok — one test point; returns cond.  name is printf-formatted. */
bool ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* is_int — test point got == expected, printing both when they differ. */
bool is_int(long long got, long long expected, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* skip — one skipped test point: `ok N - # SKIP reason`. */
void skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* diag — a `# ...` comment line. */
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* skip_all — `1..0 # SKIP reason`, then power off. */
__attribute__((noreturn, format(printf, 1, 2))) void skip_all(const char *fmt,
                                                              ...);

/* bail_out — `Bail out! reason`, then SHUTDOWN_crash. */
__attribute__((noreturn, format(printf, 1, 2))) void bail_out(const char *fmt,
                                                              ...);

/* tap_count — test points reported so far. */
unsigned int tap_count(void);

#define ASSERT(cond)                                                           \
    do {                                                                       \
        if (!(cond))                                                           \
            bail_out("ASSERT(%s) failed at %s:%d", #cond, __FILE__, __LINE__); \
    } while (0)

#endif
