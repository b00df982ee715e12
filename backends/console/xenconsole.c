/*
 * xenconsole — attach the terminal to a domain's console (the semantics
 * of Xen's `xl console`, tools/console/client; our own code).
 *
 *   xenconsole [--type pv|serial] [--run-dir DIR] DOMID
 *
 * Connects to xenconsoled's <run-dir>/console-<DOMID>.sock (waiting up
 * to 5 s for it to appear), shows the output the daemon kept while nobody
 * was attached, then copies the terminal (raw mode when it is a tty) to
 * the guest and the guest to the terminal.  Ctrl-] (0x1d) detaches.
 * Exit: 0 detached or the console closed, 1 error, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define ESCAPE_CHAR 0x1d /* Ctrl-] */

static struct termios saved_tio;
static int tio_saved;

static void term_restore(void)
{
    if (tio_saved)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
}

static void term_raw(void)
{
    struct termios t;

    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tio) < 0)
        return;
    tio_saved = 1;
    atexit(term_restore);
    t = saved_tio;
    cfmakeraw(&t);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
}

/* Connect to path, retrying for 5 s; the fd or -1 (errno set). */
static int console_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = -1;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, path);
    for (int i = 0; i < 50; i++) {
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return fd;
        close(fd);
        fd = -1;
        if (errno != ENOENT && errno != ECONNREFUSED)
            break;
        usleep(100000);
    }
    return -1;
}

/* Write all of buf; 0 or -1. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Copy both ways until Ctrl-], the console closing or an error. */
static int console_loop(int sock)
{
    struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                          {.fd = sock, .events = POLLIN}};
    char buf[4096];

    for (;;) {
        ssize_t n;

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        if (p[1].revents) {
            n = read(sock, buf, sizeof(buf));
            if (n <= 0)
                return 0; /* the daemon closed the console */
            if (write_all(STDOUT_FILENO, buf, (size_t)n))
                return 1;
        }
        if (p[0].revents) {
            char *esc;

            n = read(STDIN_FILENO, buf, sizeof(buf));
            if (n <= 0) {
                /* No more input: keep showing output. */
                p[0].fd = -1;
                continue;
            }
            esc = memchr(buf, ESCAPE_CHAR, (size_t)n);
            if (esc)
                n = esc - buf;
            if (n > 0 && write_all(sock, buf, (size_t)n))
                return 1;
            if (esc)
                return 0;
        }
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: xenconsole [--type pv|serial] [--run-dir DIR] DOMID\n"
               "Ctrl-] detaches.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"type", required_argument, NULL, 't'},
        {"run-dir", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *run_dir = XENHV_RUNDIR, *type = "pv";
    char path[256], *end;
    unsigned long domid;
    int opt, sock, rc;

    while ((opt = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
        switch (opt) {
        case 't':
            type = optarg;
            break;
        case 'r':
            run_dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind + 1 != argc || (strcmp(type, "pv") && strcmp(type, "serial"))) {
        usage(stderr);
        return 2;
    }
    errno = 0;
    domid = strtoul(argv[optind], &end, 10);
    if (errno || *end || end == argv[optind] || domid >= 0x7ff0) {
        fprintf(stderr, "xenconsole: bad domain id '%s'\n", argv[optind]);
        return 2;
    }
    if (!strcmp(type, "serial")) {
        /* A PVH domain has no emulated UART: only the PV console exists. */
        fprintf(stderr, "xenconsole: domain %lu has no serial console\n",
                domid);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/console-%lu.sock", run_dir, domid);
    sock = console_connect(path);
    if (sock < 0) {
        fprintf(stderr, "xenconsole: %s: %s\n", path, strerror(errno));
        return 1;
    }
    term_raw();
    rc = console_loop(sock);
    close(sock);
    return rc;
}
