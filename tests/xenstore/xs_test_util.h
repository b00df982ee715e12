/*
 * xs_test_util.h — small helpers the tests/xenstore C programs share.
 * They use only the API of <xenstore.h>, so test_compat_lib (built with
 * Debian's headers and library) includes them too.  Header-only.
 */
#ifndef TESTS_XENSTORE_XS_TEST_UTIL_H
#define TESTS_XENSTORE_XS_TEST_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

/* qsort comparator for arrays of C strings. */
static inline int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read path as a string for comparisons ("ERR:<errno>" on failure); the
 * result lives until the next call. */
static inline char *read_str(struct xs_handle *xh, xs_transaction_t t,
                             const char *path)
{
    static __thread char buf[256];
    unsigned int len;
    char *v = xs_read(xh, t, path, &len);

    if (!v) {
        snprintf(buf, sizeof(buf), "ERR:%d", errno);
        return buf;
    }
    snprintf(buf, sizeof(buf), "%s", v);
    free(v);
    return buf;
}

/* The next event from xs_read_watch as "path|token" ("NULL" on error,
 * "SHORT" for fewer than two strings); lives until the next call. */
static inline char *watch_next(struct xs_handle *xh)
{
    static __thread char buf[512];
    unsigned int num = 0;
    char **v = xs_read_watch(xh, &num);

    if (!v)
        return "NULL";
    snprintf(buf, sizeof(buf), "%s|%s", v[XS_WATCH_PATH], v[XS_WATCH_TOKEN]);
    free(v);
    return num >= 2 ? buf : "SHORT";
}

#endif /* TESTS_XENSTORE_XS_TEST_UTIL_H */
