/*
 * test_libxenstore.c — our libxenstore (xenstore/libxenstore, Debian's
 * <xenstore.h> API) against our xenstored: every function with expected
 * values, errno on errors, watches and the xs_fileno pipe, DIRECTORY_PART,
 * transactions with a conflict, and one handle shared by 4 threads.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenstore.h>

#include "tap.h"
#include "xs_lib_ext.h"
#include "xsd_harness.h"
#include "xs_test_util.h"

#define THREADS      4
#define THREAD_ITERS 1000
#define BIG_CHILDREN 400

static struct xs_handle *h;

/* True when fd becomes readable within ms milliseconds. */
static bool fd_readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* The children of path, sorted and joined with ',' (or "ERR:<errno>"). */
static char *dir_joined(struct xs_handle *xh, xs_transaction_t t,
                        const char *path)
{
    static char buf[4096];
    unsigned int n, i;
    char **v = xs_directory(xh, t, path, &n);
    size_t used = 0;

    if (!v) {
        snprintf(buf, sizeof(buf), "ERR:%d", errno);
        return buf;
    }
    qsort(v, n, sizeof(*v), cmp_str);
    buf[0] = '\0';
    for (i = 0; i < n && used < sizeof(buf); i++)
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s",
                                 i ? "," : "", v[i]);
    free(v);
    return buf;
}

static void test_helpers(void)
{
    struct xs_permissions p[3];
    char buf[MAX_STRLEN(unsigned int) + 1];
    const char strs[] = "r5\0b0\0n7";

    ok(xs_path_is_subpath("/a", "/a"), "subpath: equal");
    ok(xs_path_is_subpath("/a", "/a/b/c"), "subpath: child");
    ok(!xs_path_is_subpath("/a", "/ab"), "subpath: /ab not under /a");
    ok(!xs_path_is_subpath("/a/b", "/a"), "subpath: parent not under child");
    ok(!xs_path_is_subpath("a", "/a"), "subpath: relative vs absolute");
    ok(xs_strings_to_perms(p, 3, strs) && p[0].id == 5 &&
           p[0].perms == XS_PERM_READ && p[1].id == 0 &&
           p[1].perms == (XS_PERM_READ | XS_PERM_WRITE) && p[2].id == 7 &&
           p[2].perms == XS_PERM_NONE,
       "xs_strings_to_perms parses r5 b0 n7");
    errno = 0;
    ok(!xs_strings_to_perms(p, 1, "x5") && errno == EINVAL,
       "xs_strings_to_perms: bad letter -> EINVAL");
    errno = 0;
    ok(!xs_strings_to_perms(p, 1, "r5z") && errno == EINVAL,
       "xs_strings_to_perms: trailing junk -> EINVAL");
    errno = 0;
    ok(!xs_strings_to_perms(p, 1, "r") && errno == EINVAL,
       "xs_strings_to_perms: no domid -> EINVAL");
    p[0].id = 12;
    p[0].perms = XS_PERM_WRITE;
    ok(xs_perm_to_string(&p[0], buf, sizeof(buf)) && !strcmp(buf, "w12"),
       "xs_perm_to_string w12");
    p[0].perms = XS_PERM_READ | XS_PERM_IGNORE;
    ok(xs_perm_to_string(&p[0], buf, sizeof(buf)) && !strcmp(buf, "r12"),
       "xs_perm_to_string ignores XS_PERM_IGNORE");
    p[0].perms = 0x20;
    errno = 0;
    ok(!xs_perm_to_string(&p[0], buf, sizeof(buf)) && errno == EINVAL,
       "xs_perm_to_string: unknown bits -> EINVAL");
    is_int(xs_count_strings(strs, sizeof(strs)), 3, "xs_count_strings");
    is_str(xs_daemon_socket(), getenv("XENSTORED_PATH"),
           "xs_daemon_socket honours XENSTORED_PATH");
    {
        char *saved = strdup(getenv("XENSTORED_PATH"));

        unsetenv("XENSTORED_PATH");
        is_str(xs_daemon_socket(), XENSTORED_PATH_DEFAULT,
               "xs_daemon_socket default is Config.mk's XENSTORED_PATH");
        setenv("XENSTORED_RUNDIR", "/r", 1);
        is_str(xs_daemon_socket(), "/r/socket",
               "xs_daemon_socket: $XENSTORED_RUNDIR/socket");
        unsetenv("XENSTORED_RUNDIR");
        setenv("XENSTORED_PATH", saved, 1);
        free(saved);
    }
}

static void test_basic(void)
{
    unsigned int len = 99;
    char *v;
    char big[XENSTORE_PAYLOAD_MAX + 16];

    ok(xs_write(h, XBT_NULL, "/t/a", "hello", 5), "xs_write /t/a");
    v = xs_read(h, XBT_NULL, "/t/a", &len);
    ok(v && len == 5 && memcmp(v, "hello", 6) == 0,
       "xs_read /t/a = hello, len 5, nul-terminated");
    free(v);
    ok(xs_write(h, XBT_NULL, "/t/bin", "a\0b", 3), "xs_write binary value");
    v = xs_read(h, XBT_NULL, "/t/bin", &len);
    ok(v && len == 3 && memcmp(v, "a\0b", 3) == 0, "binary value read back");
    free(v);
    ok(xs_write(h, XBT_NULL, "/t/empty", "", 0), "xs_write empty value");
    v = xs_read(h, XBT_NULL, "/t/empty", &len);
    ok(v && len == 0 && v[0] == '\0', "empty value read back");
    free(v);
    is_str(read_str(h, XBT_NULL, "/t/nope"), "ERR:2",
           "xs_read missing -> ENOENT");
    errno = 0;
    ok(!xs_write(h, XBT_NULL, "/t/bad path!", "x", 1) && errno == EINVAL,
       "xs_write invalid path -> EINVAL");
    errno = 0;
    ok(!xs_read(h, XBT_NULL, "/t//a", NULL) && errno == EINVAL,
       "xs_read path with // -> EINVAL");
    memset(big, 'x', sizeof(big));
    errno = 0;
    ok(!xs_write(h, XBT_NULL, "/t/big", big, sizeof(big)) && errno == E2BIG,
       "xs_write over XENSTORE_PAYLOAD_MAX -> E2BIG");

    ok(xs_mkdir(h, XBT_NULL, "/t/d"), "xs_mkdir new");
    ok(xs_mkdir(h, XBT_NULL, "/t/d"), "xs_mkdir existing succeeds");
    is_str(read_str(h, XBT_NULL, "/t/d"), "", "mkdir node has empty value");
    ok(xs_write(h, XBT_NULL, "/t/d/x", "1", 1) &&
           xs_write(h, XBT_NULL, "/t/d/y", "2", 1) &&
           xs_write(h, XBT_NULL, "/t/d/z/deep", "3", 1),
       "children written");
    is_str(dir_joined(h, XBT_NULL, "/t/d"), "x,y,z", "xs_directory /t/d");
    is_str(dir_joined(h, XBT_NULL, "/t/empty"), "",
           "xs_directory of a leaf: none");
    is_str(dir_joined(h, XBT_NULL, "/t/none"), "ERR:2",
           "xs_directory missing -> ENOENT");
    ok(xs_rm(h, XBT_NULL, "/t/d/z"), "xs_rm subtree");
    is_str(read_str(h, XBT_NULL, "/t/d/z/deep"), "ERR:2",
           "removed subtree's child gone");
    errno = 0;
    ok(!xs_rm(h, XBT_NULL, "/t/none/deeper") && errno == ENOENT,
       "xs_rm under a missing parent -> ENOENT");
}

static void test_perms(void)
{
    struct xs_permissions set[2] = {{.id = 0, .perms = XS_PERM_NONE},
                                    {.id = 5, .perms = XS_PERM_READ}};
    struct xs_permissions bad = {.id = 0, .perms = 0x40};
    struct xs_permissions *got;
    unsigned int n = 0;

    got = xs_get_permissions(h, XBT_NULL, "/t/a", &n);
    ok(got && n == 1 && got[0].id == 0 && got[0].perms == XS_PERM_NONE,
       "default permissions of a dom0 node: n0");
    free(got);
    ok(xs_set_permissions(h, XBT_NULL, "/t/a", set, 2), "xs_set_permissions");
    got = xs_get_permissions(h, XBT_NULL, "/t/a", &n);
    ok(got && n == 2 && got[0].id == 0 && got[0].perms == XS_PERM_NONE &&
           got[1].id == 5 && got[1].perms == XS_PERM_READ,
       "permissions read back: n0,r5");
    free(got);
    errno = 0;
    ok(!xs_get_permissions(h, XBT_NULL, "/t/nope", &n) && errno == ENOENT,
       "xs_get_permissions missing -> ENOENT");
    errno = 0;
    ok(!xs_set_permissions(h, XBT_NULL, "/t/nope", set, 2) && errno == ENOENT,
       "xs_set_permissions missing -> ENOENT");
    errno = 0;
    ok(!xs_set_permissions(h, XBT_NULL, "/t/a", &bad, 1) && errno == EINVAL,
       "xs_set_permissions unknown perm bits -> EINVAL");
}

static void test_transactions(void)
{
    xs_transaction_t t, t2;

    t = xs_transaction_start(h);
    ok(t != XBT_NULL, "xs_transaction_start");
    ok(xs_write(h, t, "/tx/a", "in", 2), "write inside transaction");
    is_str(read_str(h, t, "/tx/a"), "in", "read inside sees it");
    is_str(read_str(h, XBT_NULL, "/tx/a"), "ERR:2",
           "outside does not see it before commit");
    ok(xs_transaction_end(h, t, false), "commit");
    is_str(read_str(h, XBT_NULL, "/tx/a"), "in", "visible after commit");

    t = xs_transaction_start(h);
    ok(xs_write(h, t, "/tx/b", "gone", 4) && xs_transaction_end(h, t, true),
       "write then abort");
    is_str(read_str(h, XBT_NULL, "/tx/b"), "ERR:2", "aborted write not seen");

    /* Conflict: t reads /tx/a, someone else changes it, t writes. */
    t = xs_transaction_start(h);
    is_str(read_str(h, t, "/tx/a"), "in", "conflict: read in transaction");
    ok(xs_write(h, XBT_NULL, "/tx/a", "other", 5), "conflict: outside write");
    ok(xs_write(h, t, "/tx/a", "mine", 4), "conflict: write in transaction");
    errno = 0;
    ok(!xs_transaction_end(h, t, false) && errno == EAGAIN,
       "conflicting commit -> EAGAIN");
    is_str(read_str(h, XBT_NULL, "/tx/a"), "other", "the other write stays");

    /* Two transactions at once on one handle. */
    t = xs_transaction_start(h);
    t2 = xs_transaction_start(h);
    ok(t && t2 && t != t2, "two transactions have distinct ids");
    ok(xs_write(h, t2, "/tx/c", "2", 1) && xs_transaction_end(h, t2, false) &&
           xs_transaction_end(h, t, false),
       "both commit (no overlap)");
    errno = 0;
    ok(!xs_transaction_end(h, t, false) && errno == ENOENT,
       "ending a finished transaction -> ENOENT");
    errno = 0;
    ok(!xs_read(h, 0x7fffffff, "/tx/a", NULL) && errno == ENOENT,
       "read in an unknown transaction -> ENOENT");
}

static void test_watches(void)
{
    struct xs_handle *f;
    int fd = xs_fileno(h);
    char **v;

    ok(fd >= 0, "xs_fileno gives a descriptor");
    ok(!fd_readable(fd, 0), "pipe not readable with no event");
    ok(xs_write(h, XBT_NULL, "/w/x", "0", 1), "watched tree exists");
    ok(xs_watch(h, "/w", "tok1"), "xs_watch /w tok1");
    is_str(watch_next(h), "/w|tok1", "initial event: path and token");
    errno = 0;
    ok(!xs_watch(h, "/w", "tok1") && errno == EEXIST,
       "same watch twice -> EEXIST");
    ok(xs_write(h, XBT_NULL, "/w/x", "1", 1), "change under the watch");
    ok(fd_readable(fd, 2000), "xs_fileno readable after an event");
    v = xs_check_watch(h);
    ok(v && !strcmp(v[XS_WATCH_PATH], "/w/x") &&
           !strcmp(v[XS_WATCH_TOKEN], "tok1"),
       "xs_check_watch: /w/x tok1");
    free(v);
    errno = 0;
    ok(!xs_check_watch(h) && errno == EAGAIN, "queue empty -> EAGAIN");
    ok(!fd_readable(fd, 0), "pipe drained when the queue is empty");
    ok(xs_write(h, XBT_NULL, "/other", "1", 1) && !fd_readable(fd, 200),
       "write outside the watch: no event");
    ok(xs_rm(h, XBT_NULL, "/w/x"), "remove under the watch");
    is_str(watch_next(h), "/w/x|tok1", "rm fires an event");
    ok(xs_unwatch(h, "/w", "tok1"), "xs_unwatch");
    errno = 0;
    ok(!xs_unwatch(h, "/w", "tok1") && errno == ENOENT,
       "unwatch twice -> ENOENT");
    ok(xs_write(h, XBT_NULL, "/w/y", "1", 1) && !fd_readable(fd, 200),
       "no event after unwatch");

    /* XS_UNWATCH_FILTER drops queued events of the removed watch. */
    f = xs_open(XS_UNWATCH_FILTER);
    ok(f != NULL, "xs_open(XS_UNWATCH_FILTER)");
    if (!f)
        return;
    ok(xs_watch(f, "/w", "ft") && xs_watch(f, "/w", "keep"), "two watches");
    ok(xs_write(f, XBT_NULL, "/w/y", "2", 1), "one change, four events");
    /* Wait until the 2 initial + 2 change events are all queued. */
    usleep(300 * 1000);
    ok(xs_unwatch(f, "/w", "ft"), "unwatch ft");
    is_str(watch_next(f), "/w|keep", "only keep's initial event is left");
    is_str(watch_next(f), "/w/y|keep", "and keep's change event");
    errno = 0;
    ok(!xs_check_watch(f) && errno == EAGAIN,
       "ft's queued events were filtered");
    xs_close(f);
}

static void test_big_directory(void)
{
    char path[128], name[64];
    unsigned int n = 0, i, found = 0;
    char **v;
    xs_transaction_t t = xs_transaction_start(h);

    for (i = 0; i < BIG_CHILDREN; i++) {
        snprintf(path, sizeof(path), "/big/child-with-a-long-name-%04u", i);
        if (!xs_write(h, t, path, "v", 1))
            break;
    }
    ok(i == BIG_CHILDREN && xs_transaction_end(h, t, false),
       "%d children written (names > one payload)", BIG_CHILDREN);
    v = xs_directory(h, XBT_NULL, "/big", &n);
    is_int(v ? (long long)n : -errno, BIG_CHILDREN,
           "xs_directory over DIRECTORY_PART: all children");
    for (i = 0; v && i < n; i++) {
        unsigned int k;

        if (sscanf(v[i], "child-with-a-long-name-%u", &k) == 1 &&
            k < BIG_CHILDREN) {
            snprintf(name, sizeof(name), "child-with-a-long-name-%04u", k);
            found += strcmp(name, v[i]) == 0;
        }
    }
    is_int(found, BIG_CHILDREN, "every name intact");
    free(v);
    /* Inside a transaction too. */
    t = xs_transaction_start(h);
    v = xs_directory(h, t, "/big", &n);
    ok(v && n == BIG_CHILDREN, "big directory inside a transaction");
    free(v);
    xs_transaction_end(h, t, true);
}

static struct xs_handle *thr_h; /* the handle the threads share */

static void *thread_main(void *arg)
{
    struct xs_handle *xh = thr_h;
    long id = (long)arg, bad = 0;
    char path[64], val[32], *got;
    int i;

    for (i = 0; i < THREAD_ITERS; i++) {
        unsigned int len;

        snprintf(path, sizeof(path), "/thr/%ld/%d", id, i % 10);
        snprintf(val, sizeof(val), "%ld-%d", id, i);
        if (!xs_write(xh, XBT_NULL, path, val, (unsigned int)strlen(val))) {
            bad++;
            continue;
        }
        got = xs_read(xh, XBT_NULL, path, &len);
        if (!got || strcmp(got, val) != 0)
            bad++;
        free(got);
    }
    return (void *)bad;
}

/*
 * THREADS threads share xh; how says whether its reader thread runs (then
 * the replies are handed over by it) or not (each caller reads).
 */
static void test_threads(struct xs_handle *xh, const char *how)
{
    pthread_t th[THREADS];
    long i, bad = 0;
    char path[64], exp[32];
    int right = 0;
    bool started = true;

    thr_h = xh;
    for (i = 0; i < THREADS; i++)
        started &= pthread_create(&th[i], NULL, thread_main, (void *)i) == 0;
    for (i = 0; i < THREADS; i++) {
        void *r;

        pthread_join(th[i], &r);
        bad += (long)r;
    }
    ok(started && bad == 0, "%d threads x %d write+read on one handle (%s)",
       THREADS, THREAD_ITERS, how);
    for (i = 0; i < THREADS; i++) {
        int k;

        for (k = 0; k < 10; k++) {
            snprintf(path, sizeof(path), "/thr/%ld/%d", i, k);
            snprintf(exp, sizeof(exp), "%ld-%d", i, THREAD_ITERS - 10 + k);
            right += strcmp(read_str(xh, XBT_NULL, path), exp) == 0;
        }
    }
    is_int(right, THREADS * 10, "final values are each thread's last writes");
    is_str(dir_joined(xh, XBT_NULL, "/thr"), "0,1,2,3", "one subtree a thread");
}

/* A watcher blocked in xs_read_watch while another thread writes. */
static void *blocked_reader(void *arg)
{
    return strdup(watch_next(arg));
}

static void test_thread_watch(void)
{
    struct xs_handle *w = xs_open(0);
    pthread_t th;
    void *r = NULL;

    ok(w && xs_watch(w, "/tw", "t"), "second handle watches /tw");
    if (!w)
        return;
    is_str(watch_next(w), "/tw|t", "its initial event");
    pthread_create(&th, NULL, blocked_reader, w);
    usleep(100 * 1000);
    ok(xs_write(h, XBT_NULL, "/tw/k", "v", 1), "write from the other handle");
    pthread_join(th, &r);
    is_str(r, "/tw/k|t", "blocked xs_read_watch woke with the event");
    free(r);
    xs_close(w);
}

static void test_domains(void)
{
    char *p, *reply;

    p = xs_get_domain_path(h, 3);
    is_str(p, "/local/domain/3", "xs_get_domain_path 3");
    free(p);
    ok(xs_is_domain_introduced(h, 0), "domain 0 is introduced");
    ok(!xs_is_domain_introduced(h, 77), "domain 77 is not");
    errno = 0;
    ok(!xs_release_domain(h, 77) && errno == ENOENT,
       "xs_release_domain unknown -> ENOENT");
    errno = 0;
    ok(!xs_resume_domain(h, 77) && errno == ENOENT,
       "xs_resume_domain unknown -> ENOENT");
    errno = 0;
    ok(!xs_set_target(h, 77, 78) && errno == ENOENT,
       "xs_set_target unknown -> ENOENT");
    errno = 0;
    {
        bool failed = !xs_introduce_domain(h, 0, 1, 1);
        int err = errno;

        ok(failed && err != 0, "xs_introduce_domain of domain 0 fails (%s)",
           strerror(err));
    }
    reply = xs_control_command(h, "print", "hello from the test", 20);
    is_str(reply, "OK", "xs_control_command print -> OK");
    free(reply);
    reply = xs_control_command(h, "help", NULL, 0);
    ok(reply && strstr(reply, "print") != NULL,
       "xs_control_command help lists commands");
    free(reply);
    errno = 0;
    ok(!xs_control_command(h, "no-such-command", NULL, 0) && errno == EINVAL,
       "unknown control command -> EINVAL");
    errno = 0;
    ok(!xs_restrict(h, 1), "xs_restrict always fails");
    ok(xs_suspend_evtchn_port(77) == -1, "no suspend event channel for 77");
    ok(xs_write(h, XBT_NULL, "/local/domain/77/device/suspend/event-channel",
                "12", 2) &&
           xs_suspend_evtchn_port(77) == 12,
       "xs_suspend_evtchn_port reads the advertised port");
}

static void test_misc(void)
{
    struct xs_handle *f = xs_open(0);
    int fds[2], status = -1;
    char buf[8] = "";
    pid_t pid;

    ok(pipe(fds) == 0 && xs_write_all(fds[1], "abcdef", 6) &&
           read(fds[0], buf, sizeof(buf)) == 6 && memcmp(buf, "abcdef", 6) == 0,
       "xs_write_all writes every byte");
    close(fds[0]);
    close(fds[1]);
    setenv("XENSTORED_RUNDIR", "/some/run", 1);
    is_str(xs_daemon_rundir(), "/some/run", "xs_daemon_rundir honours env");
    unsetenv("XENSTORED_RUNDIR");

    /* An event queued before the first xs_fileno still shows on it. */
    ok(f && xs_watch(f, "/early", "e"), "watch before asking for the fd");
    usleep(200 * 1000);
    ok(f && fd_readable(xs_fileno(f), 1000), "fd readable for a queued event");
    is_str(f ? watch_next(f) : "", "/early|e", "and the event is there");

    /* The child drops its copy; the parent's connection is unharmed. */
    pid = fork();
    if (pid == 0) {
        xs_daemon_destroy_postfork(f);
        _exit(0);
    }
    waitpid(pid, &status, 0);
    ok(status == 0 && f && xs_write(f, XBT_NULL, "/early/x", "1", 1),
       "parent handle works after the child's destroy_postfork");
    is_str(f ? watch_next(f) : "", "/early/x|e",
           "and its watch still delivers");
    xs_close(f);
}

static void test_open_variants(void)
{
    struct xs_handle *a = xs_daemon_open(), *b = xs_daemon_open_readonly();
    struct xs_handle *c = xs_domain_open(), *d = xs_open(XS_OPEN_SOCKETONLY);
    char *saved = strdup(getenv("XENSTORED_PATH"));

    ok(a && b && c && d, "xs_daemon_open, _readonly, xs_domain_open, "
                         "XS_OPEN_SOCKETONLY all connect");
    is_str(read_str(b, XBT_NULL, "/t/a"), "hello", "read through readonly");
    xs_daemon_close(a);
    xs_close(b);
    xs_close(c);
    xs_close(d);
    xs_close(NULL);
    setenv("XENSTORED_PATH", "/nonexistent/socket", 1);
    errno = 0;
    ok(!xs_open(0) && errno == ENOENT, "no daemon at the socket -> ENOENT");
    setenv("XENSTORED_PATH", saved, 1);
    free(saved);
}

int main(void)
{
    struct xsd_run run;

    if (xsd_start(&run) != 0) {
        ok(false, "xenstored starts and prints READY");
        xsd_stop(&run);
        return tap_done();
    }
    h = xs_open(0);
    if (!ok(h != NULL, "xs_open(0) connects to $XENSTORED_PATH")) {
        xsd_stop(&run);
        return tap_done();
    }
    test_helpers();
    test_basic();
    test_perms();
    test_transactions();
    test_watches();
    test_big_directory();
    {
        struct xs_handle *direct = xs_open(0);
        unsigned int events = 0;
        char **ev;

        if (ok(direct != NULL, "a fresh handle without watches"))
            test_threads(direct, "callers read their replies");
        xs_close(direct);
        /* With a watch on the tree the replies and events interleave. */
        ok(xs_watch(h, "/thr", "thr"), "watch /thr during the threads");
        test_threads(h, "reader thread, events interleaved");
        usleep(200 * 1000);
        while ((ev = xs_check_watch(h)) != NULL) {
            events += strcmp(ev[XS_WATCH_TOKEN], "thr") == 0;
            free(ev);
        }
        is_int(events, 1 + THREADS * THREAD_ITERS,
               "every write's event arrived, plus the initial one");
        ok(xs_unwatch(h, "/thr", "thr"), "unwatch /thr");
    }
    test_thread_watch();
    test_domains();
    test_open_variants();
    test_misc();
    ok(xs_watch(h, "/end", "end") && !strcmp(watch_next(h), "/end|end"),
       "a watch before the daemon stops");
    is_int(xsd_stop(&run), 0, "xenstored exits cleanly on SIGTERM");
    {
        struct pollfd p = {.fd = xs_fileno(h), .events = POLLIN};
        ok(p.fd >= 0 && poll(&p, 1, 5000) == 1,
           "xs_fileno becomes readable when the daemon has gone");
    }
    errno = 0;
    is_str(watch_next(h), "NULL",
           "xs_read_watch returns NULL, no hang, "
           "when the daemon has gone");
    ok(!xs_read(h, XBT_NULL, "/t/a", NULL) && errno != 0,
       "requests fail once the daemon has gone");
    xs_close(h);
    return tap_done();
}
