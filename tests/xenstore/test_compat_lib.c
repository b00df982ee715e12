/*
 * test_compat_lib.c — a libxenstore client built against DEBIAN's headers
 * and linked with Debian's /usr/lib/x86_64-linux-gnu/libxenstore.so.4
 * (never ours; checked with dladdr) talks to OUR xenstored: reads,
 * writes, directory, permissions, watches through xs_read_watch and
 * xs_fileno, a transaction and a conflicting one (EAGAIN).
 *
 * With XS_EXPECT_LIB=<path> the same binary checks that it runs with that
 * library instead (test_compat_ours_lib.sh runs it with our
 * libxenstore.so.4 through LD_LIBRARY_PATH: ABI compatibility).
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "tap.h"
#include "xsd_harness.h"
#include "xs_test_util.h"

#define DEBIAN_LIB "/usr/lib/x86_64-linux-gnu/libxenstore.so.4"

int main(void)
{
    const char *expect = getenv("XS_EXPECT_LIB");
    struct xs_permissions perms[2] = {{0, XS_PERM_NONE}, {3, XS_PERM_WRITE}};
    struct xs_permissions *got;
    struct xsd_run run;
    struct xs_handle *h;
    struct pollfd pfd;
    xs_transaction_t t;
    unsigned int n = 0;
    char **dir, real[PATH_MAX], want[PATH_MAX];
    Dl_info info;

    if (!expect || !*expect)
        expect = DEBIAN_LIB;
    if (xsd_start(&run) != 0) {
        ok(false, "xenstored starts and prints READY");
        xsd_stop(&run);
        return tap_done();
    }
    ok(dladdr((void *)xs_open, &info) && realpath(info.dli_fname, real) &&
           realpath(expect, want) && strcmp(real, want) == 0,
       "xs_open comes from %s", expect);
    tap_diag("library in use: %s", info.dli_fname ? info.dli_fname : "?");

    h = xs_open(0);
    if (!ok(h != NULL, "xs_open(0) reaches our xenstored via XENSTORED_PATH")) {
        xsd_stop(&run);
        return tap_done();
    }
    ok(xs_write(h, XBT_NULL, "/compat/a", "alpha", 5), "xs_write");
    is_str(read_str(h, XBT_NULL, "/compat/a"), "alpha", "xs_read");
    is_str(read_str(h, XBT_NULL, "/compat/none"), "ERR:2",
           "xs_read missing -> ENOENT");
    ok(xs_write(h, XBT_NULL, "/compat/b", "beta", 4) &&
           xs_mkdir(h, XBT_NULL, "/compat/c"),
       "xs_write + xs_mkdir");
    dir = xs_directory(h, XBT_NULL, "/compat", &n);
    if (dir)
        qsort(dir, n, sizeof(*dir), cmp_str);
    ok(dir && n == 3 && !strcmp(dir[0], "a") && !strcmp(dir[1], "b") &&
           !strcmp(dir[2], "c"),
       "xs_directory /compat = a b c");
    free(dir);
    ok(xs_set_permissions(h, XBT_NULL, "/compat/a", perms, 2),
       "xs_set_permissions n0,w3");
    got = xs_get_permissions(h, XBT_NULL, "/compat/a", &n);
    ok(got && n == 2 && got[1].id == 3 && got[1].perms == XS_PERM_WRITE,
       "xs_get_permissions returns n0,w3");
    free(got);
    ok(xs_rm(h, XBT_NULL, "/compat/c"), "xs_rm");
    is_str(read_str(h, XBT_NULL, "/compat/c"), "ERR:2", "removed");

    ok(xs_watch(h, "/compat", "ctok"), "xs_watch /compat ctok");
    is_str(watch_next(h), "/compat|ctok", "initial watch event");
    ok(xs_write(h, XBT_NULL, "/compat/b", "beta2", 5), "change");
    pfd.fd = xs_fileno(h);
    pfd.events = POLLIN;
    ok(pfd.fd >= 0 && poll(&pfd, 1, 2000) == 1, "xs_fileno becomes readable");
    is_str(watch_next(h), "/compat/b|ctok", "xs_read_watch: path, token");
    ok(xs_unwatch(h, "/compat", "ctok"), "xs_unwatch");

    t = xs_transaction_start(h);
    ok(t != XBT_NULL && xs_write(h, t, "/compat/t", "tx", 2),
       "transaction write");
    is_str(read_str(h, XBT_NULL, "/compat/t"), "ERR:2", "not seen outside");
    ok(xs_transaction_end(h, t, false), "commit");
    is_str(read_str(h, XBT_NULL, "/compat/t"), "tx", "seen after commit");
    t = xs_transaction_start(h);
    is_str(read_str(h, t, "/compat/a"), "alpha", "conflict: read in t");
    ok(xs_write(h, XBT_NULL, "/compat/a", "changed", 7),
       "conflict: write outside");
    ok(xs_write(h, t, "/compat/a", "mine", 4), "conflict: write in t");
    errno = 0;
    ok(!xs_transaction_end(h, t, false) && errno == EAGAIN,
       "conflicting commit -> EAGAIN");
    is_str(read_str(h, XBT_NULL, "/compat/a"), "changed", "outside write kept");
    xs_close(h);
    xsd_stop(&run);
    return tap_done();
}
