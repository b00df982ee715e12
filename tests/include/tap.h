/*
 * tap.h — a tiny header-only TAP (Test Anything Protocol) producer for host
 * test programs.  One test program = one translation unit including this.
 *
 *   tap_plan(n)              print the plan "1..n" (optional: without it
 *                            tap_done() prints the plan at the end)
 *   ok(cond, fmt, ...)       one test; returns cond
 *   is_int(got, exp, name)   signed integers equal
 *   is_u64(got, exp, name)   unsigned 64-bit integers equal (shown in hex)
 *   is_str(got, exp, name)   strings equal (NULL only equals NULL)
 *   tap_skip(n, reason)      n tests reported as "ok # skip reason"
 *   tap_diag(fmt, ...)       a "# ..." comment line
 *   tap_skip_all(reason)     "1..0 # SKIP reason", exit(77)
 *   tap_done()               exit status for main(): 0 only when every test
 *                            passed and the count matches the plan
 *
 * Output goes to stdout (unbuffered, so a crash loses nothing printed).
 */
#ifndef TESTS_TAP_H
#define TESTS_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned int tap_run_count;
static unsigned int tap_fail_count;
static unsigned int tap_planned;
static bool tap_has_plan;

static inline void tap_init_output(void)
{
    static bool done;

    if (!done) {
        setvbuf(stdout, NULL, _IONBF, 0);
        done = true;
    }
}

static inline void tap_plan(unsigned int n)
{
    tap_init_output();
    tap_planned = n;
    tap_has_plan = true;
    printf("1..%u\n", n);
}

__attribute__((format(printf, 1, 2))) static inline void
tap_diag(const char *fmt, ...)
{
    va_list ap;

    tap_init_output();
    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static inline bool tap_vok(bool cond, const char *fmt, va_list ap)
{
    tap_init_output();
    tap_run_count++;
    if (!cond)
        tap_fail_count++;
    printf("%sok %u - ", cond ? "" : "not ", tap_run_count);
    vprintf(fmt, ap);
    printf("\n");
    return cond;
}

__attribute__((format(printf, 2, 3))) static inline bool
ok(bool cond, const char *fmt, ...)
{
    va_list ap;
    bool r;

    va_start(ap, fmt);
    r = tap_vok(cond, fmt, ap);
    va_end(ap);
    return r;
}

static inline bool is_int(long long got, long long exp, const char *name)
{
    bool r = ok(got == exp, "%s", name);

    if (!r)
        tap_diag("  got %lld, expected %lld", got, exp);
    return r;
}

static inline bool is_u64(uint64_t got, uint64_t exp, const char *name)
{
    bool r = ok(got == exp, "%s", name);

    if (!r)
        tap_diag("  got %#" PRIx64 ", expected %#" PRIx64, got, exp);
    return r;
}

static inline bool is_str(const char *got, const char *exp, const char *name)
{
    bool same =
        (got == NULL || exp == NULL) ? got == exp : strcmp(got, exp) == 0;
    bool r = ok(same, "%s", name);

    if (!r)
        tap_diag("  got \"%s\", expected \"%s\"", got ? got : "(null)",
                 exp ? exp : "(null)");
    return r;
}

static inline void tap_skip(unsigned int n, const char *reason)
{
    tap_init_output();
    while (n--)
        printf("ok %u # skip %s\n", ++tap_run_count, reason);
}

__attribute__((noreturn)) static inline void tap_skip_all(const char *reason)
{
    tap_init_output();
    printf("1..0 # SKIP %s\n", reason);
    exit(77);
}

static inline int tap_done(void)
{
    tap_init_output();
    if (!tap_has_plan)
        printf("1..%u\n", tap_run_count);
    else if (tap_run_count != tap_planned) {
        tap_diag("planned %u tests but ran %u", tap_planned, tap_run_count);
        return 1;
    }
    if (tap_fail_count) {
        tap_diag("failed %u of %u tests", tap_fail_count, tap_run_count);
        return 1;
    }
    return 0;
}

#endif
