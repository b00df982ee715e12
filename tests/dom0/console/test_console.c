/*
 * console — the PV console path end to end: the guest's console ring
 * (frontends/kernel/consring.c) served by xenconsoled
 * (backends/console/), and the xenconsole client.
 *
 * Under `xen-hv daemon`, with xenstored and xenconsoled on private
 * sockets and directories, domain 0 sets guests up as a toolstack would:
 * the console ring at gfn CONSOLE_TEST_GFN zeroed through foreign memory,
 * the console port allocated for domain 0 (xc_evtchn_alloc_unbound),
 * HVM_PARAM_CONSOLE_PFN/EVTCHN, ~/console/{ring-ref,port,type} in
 * xenstore (docs/misc/xenstore-paths), XS_INTRODUCE, unpause.  Checked:
 * output before anyone attached is read after attaching (socket and
 * pty), input reaches the guest (it echoes), a 256-byte buffer shows the
 * drop marker and the newest bytes, the log files hold everything, a
 * guest that corrupts its ring indexes is disconnected while the others
 * keep working, an event storm is survived, xenconsole attaches and
 * detaches on Ctrl-], and releasing a domain removes its console.
 * Protocol: <xen/io/console.h>, docs/misc/console.txt.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <xen/sched.h>
#include <xen/io/console.h>
#include <xen/hvm/params.h>

#include "harness.h"
#include <xenctrl.h>
#include <xenforeignmemory.h>
#include <xenstore.h>
#include "tap.h"

/*
 * The console ring: the first of the 8 special pages xen-hv reserves at
 * 0xfeff0000 (xen-hv/domain.c setup_memory); the xenstore ring is the
 * second, as in tests/dom0/xenbus.
 */
#define CONSOLE_TEST_GFN 0xfeff0
#define STORE_TEST_GFN   0xfeff1
#define BUFFER_SIZE      256

static xc_interface *xch;
static xenforeignmemory_handle *fmem;
static struct xs_handle *xs;
static char dir[128];     /* run dir, log dir, sockets, logs */
static char con_log[256]; /* xenconsoled's stdout and stderr */
static char bin_dir[512]; /* where this test's binary lives */

/* Read file path (NUL-terminated, truncated) into buf; bytes read. */
static size_t slurp(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t have = 0;
    ssize_t n;

    buf[0] = 0;
    if (fd < 0)
        return 0;
    while (have < len - 1 && (n = read(fd, buf + have, len - 1 - have)) > 0)
        have += (size_t)n;
    buf[have] = 0;
    close(fd);
    return have;
}

static int file_has(const char *path, const char *what)
{
    static char buf[65536];

    slurp(path, buf, sizeof(buf));
    return strstr(buf, what) != NULL;
}

/*
 * Poll cond(arg, want) every 20 ms for up to ms; 1 once it held.  The
 * conditions below: a path exists (want "1") or not ("0"), a file or a
 * domain's CONSOLEIO_write log holds a string.
 */
static int poll_until(int (*cond)(const void *, const char *), const void *arg,
                      const char *want, int ms)
{
    for (int i = 0; i <= ms / 20; i++) {
        if (cond(arg, want))
            return 1;
        usleep(20000);
    }
    return 0;
}

static int path_state_is(const void *path, const char *want)
{
    return (access(path, F_OK) == 0) == (want[0] == '1');
}

static int file_has_cond(const void *path, const char *what)
{
    return file_has(path, what);
}

static int console_has(const void *domid, const char *what)
{
    static char con[32768];

    console(*(const int *)domid, con, sizeof(con));
    return strstr(con, what) != NULL;
}

static int wait_path(const char *path, int want, int ms)
{
    return poll_until(path_state_is, path, want ? "1" : "0", ms);
}

static int wait_file_has(const char *path, const char *what, int ms)
{
    return poll_until(file_has_cond, path, what, ms);
}

/* Up to 30 s for `what` in domid's CONSOLEIO_write log (xen-hv's copy). */
static int wait_console(int domid, const char *what)
{
    return poll_until(console_has, &domid, what, 30000);
}

/* buf's lines as TAP comments, each after tag (buf is cut up). */
static void dump_lines(const char *tag, char *buf)
{
    for (char *l = strtok(buf, "\r\n"); l; l = strtok(NULL, "\r\n"))
        tap_diag("%s: %s", tag, l);
}

static void dump_file(const char *tag, const char *path)
{
    static char buf[65536];

    slurp(path, buf, sizeof(buf));
    dump_lines(tag, buf);
}

/*
 * Start bin with argv (argv[0] included), stdout and stderr to log; its
 * pid once the log says READY (10 s), or -1.
 */
static pid_t spawn_ready(const char *bin, char *const argv[], const char *log)
{
    pid_t pid = fork();

    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        dup2(fd, 1);
        dup2(fd, 2);
        execv(bin, argv);
        _exit(127);
    }
    for (int i = 0; pid > 0 && i < 500; i++) {
        if (file_has(log, "READY"))
            return pid;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1;
        usleep(20000);
    }
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    return -1;
}

static int stop(pid_t pid)
{
    int status;

    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * xenstored on a private socket and state file (names end in tag), which
 * XENSTORED_PATH then points at: its pid, -2 when it is not built, -1
 * when it did not say READY.
 */
static pid_t start_xenstored(const char *tag)
{
    char bin[640], sock[192], state[192], log[192];

    snprintf(bin, sizeof(bin), "%s/../../../xenstore/xenstored/xenstored",
             bin_dir);
    snprintf(sock, sizeof(sock), "%s/xenstored%s.sock", dir, tag);
    snprintf(state, sizeof(state), "%s/xenstored%s.state", dir, tag);
    snprintf(log, sizeof(log), "%s/xenstored%s.log", dir, tag);
    if (access(bin, X_OK) != 0)
        return -2;
    setenv("XENSTORED_PATH", sock, 1);
    return spawn_ready(
        bin,
        (char *const[]){bin, "-N", "--socket", sock, "--state", state, NULL},
        log);
}

static pid_t start_xenconsoled(void)
{
    char bin[640], size[16];

    snprintf(bin, sizeof(bin), "%s/../../../backends/console/xenconsoled",
             bin_dir);
    snprintf(size, sizeof(size), "%d", BUFFER_SIZE);
    snprintf(con_log, sizeof(con_log), "%s/xenconsoled.log", dir);
    return spawn_ready(bin,
                       (char *const[]){bin, "-N", "--run-dir", dir, "--log-dir",
                                       dir, "--buffer-size", size, NULL},
                       con_log);
}

static int wr_t(xs_transaction_t t, int d, const char *rel, const char *value)
{
    char path[128];

    snprintf(path, sizeof(path), "/local/domain/%d/%s", d, rel);
    return xs_write(xs, t, path, value, strlen(value)) ? 0 : -1;
}

static int wr(int d, const char *rel, const char *value)
{
    return wr_t(XBT_NULL, d, rel, value);
}

/* guest_setup()'s domid: 0, xen-hv chooses (never a freed id at once). */
static uint32_t reuse_domid;

/* How guest_setup() writes ~/console (NULL fields: the right values). */
struct console_nodes {
    const char *ring_ref, *port, *type;
    const char *limit; /* console/limit, when not NULL */
    int none;          /* write no console nodes at all */
    int paused;        /* leave the guest paused */
};

/*
 * Write d's ~/console nodes (n's values, or the good ones for cport) in
 * one transaction, as a toolstack does: the daemon sees all or none.
 */
static int write_nodes(int d, int cport, const struct console_nodes *n)
{
    char gfn[32], port[32];

    snprintf(gfn, sizeof(gfn), "%d", CONSOLE_TEST_GFN);
    snprintf(port, sizeof(port), "%d", cport);
    for (int tries = 0; tries < 10; tries++) {
        xs_transaction_t t = xs_transaction_start(xs);
        int rc = 0;

        if (t == XBT_NULL)
            return -1;
        rc |= wr_t(t, d, "console/ring-ref",
                   n && n->ring_ref ? n->ring_ref : gfn);
        rc |= wr_t(t, d, "console/port", n && n->port ? n->port : port);
        rc |=
            wr_t(t, d, "console/type", n && n->type ? n->type : "xenconsoled");
        if (n && n->limit)
            rc |= wr_t(t, d, "console/limit", n->limit);
        if (xs_transaction_end(xs, t, rc != 0) && !rc)
            return 0;
        if (rc || errno != EAGAIN)
            return -1;
    }
    return -1;
}

/*
 * Create and build a guest with cmdline, set its console up as a
 * toolstack would (nodes as n says; n NULL: all good), introduce it and
 * unpause it (unless n->paused).  Returns the domid or -1; *cport_out
 * (may be NULL) gets the console port.
 */
static int guest_setup(const char *name, const char *cmdline,
                       const struct console_nodes *n, int *cport_out)
{
    struct xs_permissions home = {.perms = XS_PERM_NONE};
    xen_pfn_t gfns[2] = {CONSOLE_TEST_GFN, STORE_TEST_GFN};
    char path[64];
    int d = create_as(name, reuse_domid), cport, sport, rc = 0;
    void *pages;

    if (d <= 0 || build(d, cmdline) != 0)
        return -1;
    pages = xenforeignmemory_map(fmem, (uint32_t)d, PROT_READ | PROT_WRITE, 2,
                                 gfns, NULL);
    if (!pages)
        return -1;
    memset(pages, 0, 2 * 4096);
    xenforeignmemory_unmap(fmem, pages, 2);
    cport = xc_evtchn_alloc_unbound(xch, (uint32_t)d, 0);
    sport = xc_evtchn_alloc_unbound(xch, (uint32_t)d, 0);
    if (cport_out)
        *cport_out = cport;
    if (cport <= 0 || sport <= 0 ||
        xc_hvm_param_set(xch, (uint32_t)d, HVM_PARAM_CONSOLE_PFN,
                         CONSOLE_TEST_GFN) ||
        xc_hvm_param_set(xch, (uint32_t)d, HVM_PARAM_CONSOLE_EVTCHN,
                         (uint64_t)cport) ||
        xc_hvm_param_set(xch, (uint32_t)d, HVM_PARAM_STORE_PFN,
                         STORE_TEST_GFN) ||
        xc_hvm_param_set(xch, (uint32_t)d, HVM_PARAM_STORE_EVTCHN,
                         (uint64_t)sport))
        return -1;
    /* docs/misc/xenstore-paths: the guest's home and its console nodes. */
    home.id = (unsigned int)d;
    snprintf(path, sizeof(path), "/local/domain/%d", d);
    rc |= !xs_mkdir(xs, XBT_NULL, path);
    rc |= !xs_set_permissions(xs, XBT_NULL, path, &home, 1);
    if (!n || !n->none)
        rc |= write_nodes(d, cport, n);
    rc |= wr(d, "name", name);
    if (rc ||
        !xs_introduce_domain(xs, (unsigned int)d, STORE_TEST_GFN,
                             (evtchn_port_t)sport) ||
        (!(n && n->paused) && simple(XENHV_OP_DOMAIN_UNPAUSE, d) != 0))
        return -1;
    return d;
}

static int guest_start(const char *name, const char *cmdline)
{
    return guest_setup(name, cmdline, NULL, NULL);
}

static const char *sock_of(int d)
{
    static char path[4][192];
    static unsigned int next;
    char *p = path[next++ % 4];

    snprintf(p, 192, "%s/console-%d.sock", dir, d);
    return p;
}

static const char *log_of(int d)
{
    static char path[192];

    snprintf(path, sizeof(path), "%s/guest-console-%d.log", dir, d);
    return path;
}

static int sock_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        tap_diag("connect %s: %s", path, strerror(errno));
        close(fd);
        fd = -1;
    }
    return fd;
}

/*
 * Append what fd gives to acc (NUL-terminated, len bytes) until `what`
 * is in it (1) or ms pass / end of file (0).  what NULL: read until ms of
 * silence.
 */
static int read_until(int fd, char *acc, size_t len, const char *what, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    size_t have = strlen(acc);

    for (;;) {
        ssize_t n;

        if (what && strstr(acc, what))
            return 1;
        if (poll(&p, 1, ms) != 1 || have >= len - 1)
            return what ? 0 : 1;
        n = read(fd, acc + have, len - 1 - have);
        if (n <= 0)
            return 0;
        have += (size_t)n;
        acc[have] = 0;
    }
}

/* 1 when fd reaches end of file within ms (data before it is skipped). */
static int eof_within(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char buf[256];

    while (poll(&p, 1, ms) == 1) {
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n == 0)
            return 1;
        if (n < 0)
            return 0;
    }
    return 0;
}

static int send_str(int fd, const char *s)
{
    return write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
}

/* Run xenconsole with args; its pid, *in and *out its stdin/stdout. */
static pid_t run_client(char *const argv[], int *in, int *out)
{
    int pin[2], pout[2];
    pid_t pid;

    if (pipe(pin) || pipe(pout))
        return -1;
    pid = fork();
    if (pid == 0) {
        dup2(pin[0], 0);
        dup2(pout[1], 1);
        dup2(pout[1], 2);
        close(pin[1]);
        close(pout[0]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pin[0]);
    close(pout[1]);
    *in = pin[1];
    *out = pout[0];
    return pid;
}

static int wait_exit_ms(pid_t pid, int ms)
{
    int status;

    for (int i = 0; i <= ms / 20; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        usleep(20000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -2;
}

static char acc[16384];

/* Guest d powered off and its console has `tests` passing TAP points. */
static void guest_done(int d, int tests)
{
    static char con[32768];
    int passed;

    passed = wait_shutdown(d) == SHUTDOWN_poweroff;
    console(d, con, sizeof(con));
    passed = passed && guest_tap_passed(con, tests);
    ok(passed, "guest %d powered off; its %d TAP points passed", d, tests);
    if (!passed || getenv("VERBOSE")) {
        char tag[32];

        snprintf(tag, sizeof(tag), "guest %d", d);
        dump_lines(tag, con);
    }
}

/* 58 bytes: 52 of a 2100-byte write that timed out, then "after\n". */
#define LOST_TEXT "\r\n[consring: 58 bytes lost]\r\nresumed\n"

/*
 * Wait (5 s) until `out` holds at least want's length of new bytes, then
 * consume that many; 1 when they equal want.
 */
static int ring_text_is(volatile struct xencons_interface *r,
                        xenevtchn_handle *eh, int local, const char *want)
{
    uint32_t len = (uint32_t)strlen(want);
    char got[128] = "";

    for (int i = 0; i < 500 && r->out_prod - r->out_cons < len; i++)
        usleep(10000);
    if (r->out_prod - r->out_cons < len || len >= sizeof(got))
        return 0;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    for (uint32_t k = 0; k < len; k++)
        got[k] = r->out[MASK_XENCONS_IDX(r->out_cons + k, r->out)];
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    r->out_cons += len;
    xenevtchn_notify(eh, (evtchn_port_t)local);
    if (strcmp(got, want))
        tap_diag("ring: '%s'", got);
    return !strcmp(got, want);
}

/*
 * Guest role=badbackend with this program as its console backend (no
 * daemon yet): the frontend blocks on a full ring and loses nothing, and
 * refuses a backend that corrupts out_cons or in_prod.
 */
static void test_frontend(void)
{
    xen_pfn_t gfn = CONSOLE_TEST_GFN;
    volatile struct xencons_interface *r = NULL;
    xenevtchn_handle *eh = xenevtchn_open(NULL, 0);
    static char got[3000];
    uint32_t have = 0, prod, full;
    int d = create("con-frontend"), port = -1, local = -1, good = 1;

    if (d > 0 && build(d, "role=badbackend") == 0)
        r = xenforeignmemory_map(fmem, (uint32_t)d, PROT_READ | PROT_WRITE, 1,
                                 &gfn, NULL);
    if (r) {
        memset((void *)r, 0, 4096);
        port = xc_evtchn_alloc_unbound(xch, (uint32_t)d, 0);
    }
    if (port > 0 && eh &&
        !xc_hvm_param_set(xch, (uint32_t)d, HVM_PARAM_CONSOLE_PFN, gfn) &&
        !xc_hvm_param_set(xch, (uint32_t)d, HVM_PARAM_CONSOLE_EVTCHN,
                          (uint64_t)port))
        local =
            xenevtchn_bind_interdomain(eh, (uint32_t)d, (evtchn_port_t)port);
    ok(local > 0 && simple(XENHV_OP_DOMAIN_UNPAUSE, d) == 0,
       "frontend guest %d: this program is its console backend", d);
    if (local <= 0) {
        tap_skip(7, "no guest");
        goto out;
    }
    for (int i = 0; i < 500 && r->out_prod != sizeof(r->out); i++)
        usleep(10000);
    full = r->out_prod;
    usleep(200000);
    ok(full == sizeof(r->out) && r->out_prod == full,
       "the guest filled the 2 KiB ring and waits (out_prod %u)", full);

    /* Consume in pieces of 700 bytes, notifying each time. */
    for (int i = 0; i < 1000 && have < sizeof(got); i++) {
        uint32_t n;

        prod = r->out_prod;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        n = prod - r->out_cons;
        if (n > 700)
            n = 700;
        if (n > sizeof(got) - have)
            n = sizeof(got) - have;
        for (uint32_t k = 0; k < n; k++)
            got[have + k] = r->out[MASK_XENCONS_IDX(r->out_cons + k, r->out)];
        have += n;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        r->out_cons += n;
        xenevtchn_notify(eh, (evtchn_port_t)local);
        if (!n)
            wait_event(eh, 10);
    }
    for (uint32_t k = 0; k < have; k++)
        if (got[k] != (char)('a' + k % 26))
            good = 0;
    ok(have == sizeof(got) && good, "all 3000 bytes arrived in order (%u)",
       have);

    /* Nobody consumes: the guest's next write stalls after 5 s. */
    ok(wait_console(d, "BB-STALLED") &&
           r->out_prod == sizeof(got) + sizeof(r->out),
       "a full ring nobody empties: the guest gave up waiting (out_prod %u)",
       r->out_prod);
    r->out_cons = r->out_prod;
    xenevtchn_notify(eh, (evtchn_port_t)local);
    ok(ring_text_is(r, eh, local, LOST_TEXT),
       "once consumed, its next output names the bytes lost");

    /* Corrupt out_cons once the guest wrote "Z" and waits for it. */
    for (int i = 0; i < 500 && r->out_prod != r->out_cons + 1; i++)
        usleep(10000);
    r->out_cons = r->out_prod + 5000;
    xenevtchn_notify(eh, (evtchn_port_t)local);
    ok(wait_console(d, "BB-BROKEN"), "the guest saw out_cons out of range");

    memset((void *)r, 0, 4096);
    memcpy((void *)r->in, "hello\n", 6);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    r->in_prod = 6;
    xenevtchn_notify(eh, (evtchn_port_t)local);
    ok(wait_console(d, "BB-READ-OK"), "the guest re-initialised and read");
    r->in_prod = r->in_cons + 3000;
    xenevtchn_notify(eh, (evtchn_port_t)local);
    guest_done(d, 9);
out:
    if (r)
        xenforeignmemory_unmap(fmem, (void *)r, 1);
    if (eh)
        xenevtchn_close(eh);
    if (d > 0)
        simple(XENHV_OP_DOMAIN_DESTROY, d);
}

/* Guest A (role=main): attach late, echo through socket and pty. */
static int test_main_guest(void)
{
    char tty[64] = "", path[64];
    unsigned int len;
    char *v;
    int d, fd, pty = -1;

    d = guest_start("con-main", "role=main");
    ok(d > 0, "guest %d (role=main) set up, introduced, unpaused", d);
    if (d <= 0) {
        tap_skip(5, "no guest");
        return -1;
    }
    ok(wait_console(d, "MAIN-READY") && wait_path(sock_of(d), 1, 5000),
       "the guest printed before anyone attached; %s exists", sock_of(d));
    snprintf(path, sizeof(path), "/local/domain/%d/console/tty", d);
    v = xs_read(xs, XBT_NULL, path, &len);
    if (v)
        snprintf(tty, sizeof(tty), "%s", v);
    free(v);
    ok(!strncmp(tty, "/dev/pts/", 9) && access(tty, F_OK) == 0,
       "console/tty names the pty (%s)", tty);

    fd = sock_connect(sock_of(d));
    acc[0] = 0;
    ok(fd >= 0 && read_until(fd, acc, sizeof(acc), "hello before attach", 5000),
       "output written before the attach is read after attaching (socket)");
    ok(send_str(fd, "ping 42\n") == 0 &&
           read_until(fd, acc, sizeof(acc), "echo: ping 42", 10000),
       "a line sent on the socket reaches the guest; its echo comes back");

    /* The pty got its own copy of the output and takes input too. */
    if (tty[0])
        pty = open(tty, O_RDWR | O_NOCTTY | O_CLOEXEC);
    acc[0] = 0;
    ok(pty >= 0 && read_until(pty, acc, sizeof(acc), "echo: ping 42", 5000) &&
           strstr(acc, "hello before attach") &&
           send_str(pty, "pty 7\n") == 0 &&
           read_until(pty, acc, sizeof(acc), "echo: pty 7", 10000),
       "the pty shows the same output and its input reaches the guest");
    if (pty >= 0)
        close(pty);
    if (fd >= 0)
        close(fd);
    return d;
}

/* Guest B (role=flood) against the 256-byte buffer. */
static int test_flood_guest(void)
{
    int d = guest_start("con-flood", "role=flood"), fd;
    char *marker, *last;

    ok(d > 0 && wait_console(d, "FLOOD-DONE"),
       "guest %d flooded its console with nobody attached", d);
    fd = sock_connect(sock_of(d));
    acc[0] = 0;
    read_until(fd, acc, sizeof(acc), NULL, 500);
    marker = strstr(acc, "[xenconsoled: ");
    last = strstr(acc, "flood line 59");
    ok(marker && strstr(marker, " bytes dropped]\r\n") && last &&
           marker < last && !strstr(acc, "flood line 00") &&
           strstr(acc, "FLOOD-DONE"),
       "the attach shows the drop marker, then the newest output");
    ok(strlen(acc) <= BUFFER_SIZE + 64,
       "no more than the buffer (%d bytes) and the marker (got %zu)",
       BUFFER_SIZE, strlen(acc));
    if (tap_fail_count || getenv("VERBOSE"))
        dump_lines("read", acc);
    ok(file_has(log_of(d), "flood line 00") &&
           file_has(log_of(d), "flood line 59") &&
           file_has(log_of(d), "FLOOD-DONE"),
       "%s holds all of it", log_of(d));
    if (fd >= 0)
        close(fd);
    return d;
}

/*
 * console/limit 128: that console keeps only 128 unread bytes.  Then its
 * domid is reused behind xenconsoled's back.
 */
static void test_limit(pid_t xcd)
{
    static const struct console_nodes limit = {.limit = "128"};
    int d = guest_setup("con-limit", "role=flood", &limit, NULL), fd = -1, d2;
    char *marker;

    if (d > 0 && wait_console(d, "FLOOD-DONE"))
        fd = sock_connect(sock_of(d));
    acc[0] = 0;
    if (fd >= 0)
        read_until(fd, acc, sizeof(acc), NULL, 500);
    marker = strstr(acc, " bytes dropped]\r\n");
    ok(marker && strlen(marker + 17) <= 128 && strstr(acc, "flood line 59") &&
           !strstr(acc, "flood line 58") && strstr(acc, "FLOOD-DONE"),
       "console/limit 128: only the newest 128 bytes wait (%zu after the "
       "marker)",
       marker ? strlen(marker + 17) : 0);
    if (fd >= 0)
        close(fd);
    if (d <= 0)
        return;
    /*
     * Its domid reused while xenconsoled is stopped: when it runs again
     * the id is there, but it is another domain (another handle).
     */
    kill(xcd, SIGSTOP);
    simple(XENHV_OP_DOMAIN_DESTROY, d);
    xs_release_domain(xs, (unsigned int)d);
    reuse_domid = (uint32_t)d; /* Xen would not pick it itself so soon */
    d2 = guest_start("con-reuse", "role=main");
    reuse_domid = 0;
    kill(xcd, SIGCONT);
    fd = d2 == d && wait_console(d2, "MAIN-READY") &&
                 wait_path(sock_of(d2), 1, 5000)
             ? sock_connect(sock_of(d2))
             : -1;
    acc[0] = 0;
    ok(fd >= 0 && read_until(fd, acc, sizeof(acc), "hello before attach", 5000),
       "domid %d reused while xenconsoled was stopped: the new domain is "
       "served",
       d2);
    if (fd >= 0)
        close(fd);
    if (d2 > 0) {
        simple(XENHV_OP_DOMAIN_DESTROY, d2);
        xs_release_domain(xs, (unsigned int)d2);
    }
}

/* Guests C (corrupt) and D (storm). */
static void test_bad_guests(pid_t xcd, int *c, int *s)
{
    char want[96];
    int fd;

    *c = guest_start("con-corrupt", "role=corrupt");
    snprintf(want, sizeof(want), "domain %d: out_prod out of range", *c);
    ok(*c > 0 && wait_file_has(con_log, want, 10000),
       "guest %d moved out_prod 5000 bytes ahead: disconnected", *c);
    ok(wait_path(sock_of(*c), 0, 5000) && kill(xcd, 0) == 0,
       "its socket is gone; xenconsoled still runs");
    ok(file_has(log_of(*c), "corrupt guest here"),
       "what it wrote before is in its log");

    *s = guest_start("con-storm", "role=storm");
    fd = *s > 0 && wait_path(sock_of(*s), 1, 5000) ? sock_connect(sock_of(*s))
                                                   : -1;
    acc[0] = 0;
    ok(fd >= 0 && read_until(fd, acc, sizeof(acc), "AFTER-STORM", 20000),
       "guest %d sent 20000 events: its output still arrives", *s);
    if (fd >= 0)
        close(fd);
}

/*
 * Bad ~/console nodes (guests left paused), a console whose nodes come
 * after the introduction, a second client, and a guest that corrupts
 * in_cons.
 */
static void test_bad_nodes(pid_t xcd)
{
    static const struct console_nodes far = {.ring_ref = "0x7ffff",
                                             .paused = 1},
                                      junk = {.port = "12abc", .paused = 1},
                                      unbound = {.port = "999", .paused = 1},
                                      ioemu = {.type = "ioemu", .paused = 1},
                                      late = {.none = 1};
    int d[4], l, cport = -1, fd = -1, fd2 = -1;
    char want[4][96];

    d[0] = guest_setup("con-far", "role=main", &far, NULL);
    d[1] = guest_setup("con-junk", "role=main", &junk, NULL);
    d[2] = guest_setup("con-unbound", "role=main", &unbound, NULL);
    d[3] = guest_setup("con-ioemu", "role=main", &ioemu, NULL);
    snprintf(want[0], 96, "domain %d: cannot map ring-ref 0x7ffff", d[0]);
    snprintf(want[1], 96, "domain %d: console/ring-ref or console/port", d[1]);
    snprintf(want[2], 96, "domain %d: cannot bind port 999", d[2]);
    snprintf(want[3], 96, "domain %d: connected", d[3]);
    ok(d[0] > 0 && wait_file_has(con_log, want[0], 5000) &&
           !wait_path(sock_of(d[0]), 1, 100),
       "a ring-ref outside the guest's memory: refused, logged, no socket");
    ok(d[1] > 0 && wait_file_has(con_log, want[1], 5000) &&
           !wait_path(sock_of(d[1]), 1, 100),
       "console/port \"12abc\": refused, logged");
    ok(d[2] > 0 && wait_file_has(con_log, want[2], 5000) &&
           !wait_path(sock_of(d[2]), 1, 100),
       "console/port 999 (not offered to dom0): refused, logged");
    ok(d[3] > 0 && !wait_path(sock_of(d[3]), 1, 500) &&
           !file_has(con_log, want[3]),
       "console/type \"ioemu\" is left to the device model");

    l = guest_setup("con-late", "role=main", &late, &cport);
    ok(l > 0 && wait_console(l, "MAIN-READY") &&
           !wait_path(sock_of(l), 1, 300) && write_nodes(l, cport, NULL) == 0 &&
           wait_path(sock_of(l), 1, 5000),
       "nodes written after the introduction: the console connects then");
    fd = sock_connect(sock_of(l));
    acc[0] = 0;
    if (fd >= 0 &&
        read_until(fd, acc, sizeof(acc), "hello before attach", 5000))
        fd2 = sock_connect(sock_of(l));
    acc[0] = 0;
    ok(fd2 >= 0 && read_until(fd2, acc, sizeof(acc), "already in use", 5000) &&
           eof_within(fd2, 2000),
       "a second client is told the console is in use and closed");
    acc[0] = 0;
    snprintf(want[0], 96, "domain %d: in_cons out of range", l);
    ok(fd >= 0 && send_str(fd, "corrupt-in\n") == 0 &&
           read_until(fd, acc, sizeof(acc), "CORRUPTED-IN", 5000) &&
           send_str(fd, "more\n") == 0 &&
           wait_file_has(con_log, want[0], 5000) &&
           wait_path(sock_of(l), 0, 5000) && kill(xcd, 0) == 0,
       "in_cons moved past in_prod: disconnected at the next input");
    if (fd >= 0)
        close(fd);
    if (fd2 >= 0)
        close(fd2);
    for (int i = 0; i < 4; i++)
        if (d[i] > 0) {
            simple(XENHV_OP_DOMAIN_DESTROY, d[i]);
            xs_release_domain(xs, (unsigned int)d[i]);
        }
    if (l > 0) {
        simple(XENHV_OP_DOMAIN_DESTROY, l);
        xs_release_domain(xs, (unsigned int)l);
    }
}

/* logrotate: A's log moved away, SIGHUP, new output in a new file. */
static void test_logrotate(pid_t xcd, int a)
{
    char old[256];
    int fd;

    snprintf(old, sizeof(old), "%s.old", log_of(a));
    ok(rename(log_of(a), old) == 0 && kill(xcd, SIGHUP) == 0 &&
           wait_path(log_of(a), 1, 5000),
       "SIGHUP: xenconsoled reopens the moved log file");
    fd = sock_connect(sock_of(a));
    acc[0] = 0;
    ok(fd >= 0 && send_str(fd, "ping 9\n") == 0 &&
           read_until(fd, acc, sizeof(acc), "echo: ping 9", 10000) &&
           wait_file_has(log_of(a), "echo: ping 9", 5000) &&
           !file_has(log_of(a), "hello before attach") &&
           file_has(old, "hello before attach") &&
           file_has(old, "echo: ping 42") && !file_has(old, "echo: ping 9"),
       "new output goes to the new file, the old one keeps the session");
    if (fd >= 0)
        close(fd);
}

/*
 * xenconsole in a terminal (a pty this program holds the master of):
 * the output kept while nobody was attached comes first, the terminal is
 * raw while attached and restored after Ctrl-].
 */
static void test_client_tty(const char *bin, int d)
{
    struct termios before = {0}, during = {0}, after = {0};
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), t = -1, fd;
    char dom[16], path[64], *tty;
    unsigned int len;
    pid_t pid = -1;

    snprintf(dom, sizeof(dom), "%d", d);
    if (m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0)
        t = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (t >= 0)
        tcgetattr(t, &before);
    /*
     * Output while no client is attached: the echo of a line typed on the
     * guest's pty (a client that sent it could still be attached when
     * the echo comes).
     */
    snprintf(path, sizeof(path), "/local/domain/%d/console/tty", d);
    tty = xs_read(xs, XBT_NULL, path, &len);
    fd = tty ? open(tty, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
    free(tty);
    if (fd >= 0) {
        send_str(fd, "ping 8\n");
        close(fd);
    }
    if (t >= 0 && wait_file_has(log_of(d), "echo: ping 8", 5000))
        pid = fork();
    if (pid == 0) {
        setsid();
        dup2(t, 0);
        dup2(t, 1);
        dup2(t, 2);
        execl(bin, bin, "--run-dir", dir, dom, (char *)NULL);
        _exit(127);
    }
    acc[0] = 0;
    ok(pid > 0 && read_until(m, acc, sizeof(acc), "echo: ping 8", 5000) &&
           !strncmp(acc, "echo: ping 8\n", 13),
       "xenconsole in a terminal: output kept while detached comes first");
    acc[0] = 0;
    ok(pid > 0 && send_str(m, "ping 5\n") == 0 &&
           read_until(m, acc, sizeof(acc), "echo: ping 5", 10000) &&
           tcgetattr(t, &during) == 0 && !(during.c_lflag & (ICANON | ECHO)),
       "the terminal is raw while attached; input reaches the guest");
    ok(pid > 0 && send_str(m, "\x1d") == 0 && wait_exit_ms(pid, 5000) == 0 &&
           tcgetattr(t, &after) == 0 && after.c_lflag == before.c_lflag &&
           after.c_oflag == before.c_oflag,
       "Ctrl-] detaches (exit 0) and restores the terminal mode");
    if (t >= 0)
        close(t);
    if (m >= 0)
        close(m);
}

/* xenconsole against guest A. */
static void test_client(int d)
{
    char bin[640], dom[16], *rd = dir;
    int in = -1, out = -1, status;
    pid_t pid;

    snprintf(bin, sizeof(bin), "%s/../../../backends/console/xenconsole",
             bin_dir);
    snprintf(dom, sizeof(dom), "%d", d);
    pid =
        run_client((char *const[]){bin, "--run-dir", rd, dom, NULL}, &in, &out);
    acc[0] = 0;
    ok(pid > 0 && send_str(in, "ping 3\n") == 0 &&
           read_until(out, acc, sizeof(acc), "echo: ping 3", 10000),
       "xenconsole: input reaches the guest, output comes back");
    status = send_str(in, "\x1d") == 0 ? wait_exit_ms(pid, 5000) : -3;
    is_int(status, 0, "xenconsole: Ctrl-] detaches (exit 0)");
    close(in);
    close(out);
    test_client_tty(bin, d);

    pid = run_client(
        (char *const[]){bin, "--type", "serial", "--run-dir", rd, dom, NULL},
        &in, &out);
    status = wait_exit_ms(pid, 5000);
    close(in);
    close(out);
    pid = run_client((char *const[]){bin, "--run-dir", rd, "nodomain", NULL},
                     &in, &out);
    ok(status == 1 && wait_exit_ms(pid, 5000) == 2,
       "xenconsole: no serial console (exit 1), bad domid (exit 2)");
    close(in);
    close(out);
}

/*
 * xenconsoled again, forking this time, with a pid file: the consoles of
 * the domains that are still there (b, s) are served again.
 */
static void test_restart(int b, int s)
{
    char bin[640], pidf[192], log[192], pidtxt[32] = "", *end;
    pid_t pid;
    long dpid = 0;
    int status = -1;

    snprintf(bin, sizeof(bin), "%s/../../../backends/console/xenconsoled",
             bin_dir);
    snprintf(pidf, sizeof(pidf), "%s/xenconsoled.pid", dir);
    snprintf(log, sizeof(log), "%s/xenconsoled-2.log", dir);
    pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        dup2(fd, 1);
        dup2(fd, 2);
        execl(bin, bin, "--pid-file", pidf, "--run-dir", dir, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        status = wait_exit_ms(pid, 5000);
    if (status == 0 && wait_file_has(log, "READY", 5000)) {
        slurp(pidf, pidtxt, sizeof(pidtxt));
        dpid = strtol(pidtxt, &end, 10);
    }
    ok(status == 0 && dpid > 1 && dpid != pid && kill((pid_t)dpid, 0) == 0,
       "without -N it detaches (exit 0), says READY, writes its pid (%ld)",
       dpid);
    ok(wait_path(sock_of(b), 1, 5000) && wait_path(sock_of(s), 1, 5000),
       "restarted, it serves the consoles of the domains still there");
    if (dpid > 1)
        kill((pid_t)dpid, SIGTERM);
    ok(dpid > 1 && wait_path(pidf, 0, 5000) && wait_path(sock_of(b), 0, 100),
       "SIGTERM: pid file and sockets removed");
    if (tap_fail_count)
        dump_file("xenconsoled (2)", log);
}

/*
 * One more xenconsoled (-N) on our xenstored: it must end (exit 1, not
 * spin) when xen-hv goes away at the end (*x3 for main()).
 */
static void test_third(int b, pid_t *x3)
{
    char bin[640], log3[192];

    snprintf(bin, sizeof(bin), "%s/../../../backends/console/xenconsoled",
             bin_dir);
    snprintf(log3, sizeof(log3), "%s/xenconsoled-3.log", dir);
    *x3 = spawn_ready(bin, (char *const[]){bin, "-N", "--run-dir", dir, NULL},
                      log3);
    ok(*x3 > 0 && wait_path(sock_of(b), 1, 5000),
       "a third xenconsoled serves the remaining consoles");
}

/*
 * A fourth xenconsoled on a xenstored of its own, which then stops: the
 * daemon must notice (exit 1), not sit there serving nothing.
 */
static void test_lost_xenstore(void)
{
    char bin[640], log4[192], saved[192];
    const char *env = getenv("XENSTORED_PATH");
    pid_t xsd2, x4 = -1;
    int status = -1;

    snprintf(saved, sizeof(saved), "%s", env ? env : "");
    snprintf(bin, sizeof(bin), "%s/../../../backends/console/xenconsoled",
             bin_dir);
    snprintf(log4, sizeof(log4), "%s/xenconsoled-4.log", dir);
    xsd2 = start_xenstored("-2");
    if (xsd2 > 0)
        x4 = spawn_ready(
            bin, (char *const[]){bin, "-N", "--run-dir", dir, NULL}, log4);
    setenv("XENSTORED_PATH", saved, 1);
    if (x4 > 0) {
        stop(xsd2);
        status = wait_exit_ms(x4, 5000);
    }
    ok(status == 1 && file_has(log4, "xenstore: "),
       "its xenstored stopped: xenconsoled says so and exits 1 (%d)", status);
}

int main(int argc, char **argv)
{
    pid_t hv, xsd = -1, xcd = -1, x3 = -1;
    int a = -1, b = -1, c = -1, s = -1, fd;
    char img[600];

    snprintf(bin_dir, sizeof(bin_dir), "%s", argc > 1 ? argv[1] : ".");
    if (access("/dev/kvm", R_OK | W_OK) != 0)
        tap_skip_all("/dev/kvm not usable (lab.dom0-tests runs this on the lab "
                     "VM's KVM)");
    if (geteuid() != 0)
        tap_skip_all("needs root: only the control domain creates domains");
    snprintf(img, sizeof(img), "%s/guest.elf", bin_dir);
    image = img;
    signal(SIGPIPE, SIG_IGN);
    snprintf(dir, sizeof(dir), "/tmp/console-test-%d", (int)getpid());
    if (mkdir(dir, 0700) < 0)
        tap_skip_all("cannot make the private directory in /tmp");
    tap_plan(58);
    hv = start_daemon("con");
    xch = xc_interface_open(NULL, NULL, 0);
    fmem = xenforeignmemory_open(NULL, 0);
    ok(pc.fd >= 0 && xch && fmem, "connected to xen-hv as domain 0");
    test_frontend();
    xsd = start_xenstored("");
    if (xsd == -2) {
        /* Built by make in xenstore/; a partial build skips, not fails. */
        tap_skip(47, "xenstore/xenstored/xenstored is not built");
        goto out;
    }
    xs = xsd > 0 ? xs_open(0) : NULL;
    ok(xs != NULL, "xenstored is READY and answers");
    xcd = xs ? start_xenconsoled() : -1;
    ok(xcd > 0, "xenconsoled is READY (buffer %d bytes)", BUFFER_SIZE);
    if (xcd <= 0) {
        tap_skip(45, "no xenstored or xenconsoled");
        goto out;
    }

    a = test_main_guest();
    b = test_flood_guest();
    test_limit(xcd);
    test_bad_guests(xcd, &c, &s);
    test_bad_nodes(xcd);

    /* A still works after C was disconnected. */
    fd = a > 0 ? sock_connect(sock_of(a)) : -1;
    acc[0] = 0;
    ok(fd >= 0 && send_str(fd, "ping 2\n") == 0 &&
           read_until(fd, acc, sizeof(acc), "echo: ping 2", 10000),
       "guest %d's console still works", a);
    if (fd >= 0)
        close(fd);
    test_logrotate(xcd, a);
    test_client(a);

    fd = a > 0 ? sock_connect(sock_of(a)) : -1;
    ok(fd >= 0 && send_str(fd, "quit\n") == 0 &&
           wait_shutdown(a) == SHUTDOWN_poweroff &&
           file_has(log_of(a), "echo: ping 3"),
       "guest %d quit and powered off; its new log goes on", a);
    guest_done(a, 3);
    guest_done(b, 2);
    guest_done(s, 2);
    if (fd >= 0)
        close(fd);
    ok(a > 0 && simple(XENHV_OP_DOMAIN_DESTROY, a) == 0 &&
           xs_release_domain(xs, (unsigned int)a) &&
           wait_path(sock_of(a), 0, 5000),
       "destroy + XS_RELEASE of guest %d: its console socket is gone", a);
    ok(wait_path(sock_of(b), 1, 100) && kill(xcd, 0) == 0,
       "the other consoles stay");
    is_int(stop(xcd), 0, "xenconsoled exits 0 on SIGTERM");
    xcd = -1;
    ok(access(sock_of(b), F_OK) != 0 && access(sock_of(s), F_OK) != 0,
       "and removes its sockets");
    test_restart(b, s);
    test_third(b, &x3);
    test_lost_xenstore();
out:
    if (tap_fail_count || getenv("VERBOSE"))
        dump_file("xenconsoled", con_log);
    stop(xcd);
    if (xs)
        xs_close(xs);
    stop(xsd);
    if (xch)
        xc_interface_close(xch);
    if (fmem)
        xenforeignmemory_close(fmem);
    is_int(stop_daemon(hv), 0, "xen-hv shut down cleanly");
    if (x3 > 0) {
        char log3[192];

        snprintf(log3, sizeof(log3), "%s/xenconsoled-3.log", dir);
        /*
         * xenstored is stopped just before xen-hv: whichever loss
         * xenconsoled notices first (libxenstore's fileno wakes at once
         * when its connection dies) it names, and exits 1.
         */
        ok(wait_exit_ms(x3, 5000) == 1 && (file_has(log3, "event channels: ") ||
                                           file_has(log3, "xenstore: ")),
           "xenstored and xen-hv gone: xenconsoled says so and exits 1");
    } else {
        tap_skip(1, "no third xenconsoled");
    }
    if (!tap_fail_count) {
        char cmd[256];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            tap_diag("could not remove %s", dir);
    }
    return tap_done();
}
