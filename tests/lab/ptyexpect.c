/*
 * ptyexpect — run a command on a new pseudo-terminal and drive it like a
 * person at a keyboard: wait for text in its output, type text, wait for
 * it to exit.  The lab scenarios use it for `xl console` (a terminal
 * client: it puts its tty in raw mode, Ctrl-] detaches) and to time a
 * boot to the first line of the guest's /init.
 *
 *   ptyexpect [-t SECS] [-q] STEP... -- CMD [ARG...]
 *
 * Steps run in order:
 *   -e TEXT   wait until TEXT appears in the output after the previous
 *             match; prints "ptyexpect: matched 'TEXT' at S.SSS s" (time
 *             since CMD started) on stderr
 *   -s TEXT   type TEXT; escapes: \n \r \t \\ \xHH (e.g. \x1d is Ctrl-])
 *   -p SECS   pause (lets a shell print its prompt; fractions allowed)
 *   -w        wait until CMD exits and print its status on stderr
 *   -t SECS   timeout of each following -e and -w step (default 60)
 *   -f TEXT   (anywhere) fail any -e step as soon as TEXT appears, e.g. a
 *             guest's "Kernel panic" that would otherwise be waited out
 * After the last step CMD gets SIGTERM (then SIGKILL after 2 s) unless it
 * has exited.  Everything CMD prints is copied to stdout as it comes
 * (-q: not copied).
 *
 * Exit status: 0 every step completed (with -w: whatever CMD's status);
 * 1 a step timed out or CMD exited before TEXT appeared (stderr says
 * which); 2 usage or system error.
 *
 * POSIX pseudo-terminals: posix_openpt(3), grantpt(3), unlockpt(3),
 * ptsname(3); the slave becomes the child's controlling terminal
 * (setsid(2), TIOCSCTTY in tty_ioctl(4)).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PTYX_MAX_STEPS 256
#define PTYX_MAX_FAILS 16
/* Output kept for matching; older bytes beyond this are dropped. */
#define PTYX_KEEP_BYTES (1u << 20)

enum ptyx_kind { PTYX_EXPECT, PTYX_SEND, PTYX_PAUSE, PTYX_WAIT };

struct ptyx_step {
    enum ptyx_kind kind;
    const char *arg;
    double timeout; /* seconds, for PTYX_EXPECT and PTYX_WAIT */
};

/* The running command and what it printed so far. */
struct ptyx_run {
    int master;         /* pty master, -1 once the child side closed */
    pid_t pid;          /* the command, 0 once reaped */
    int status;         /* its wait status once reaped */
    int quiet;          /* do not copy output to stdout */
    char *buf;          /* output not yet consumed by a match */
    size_t len;         /* bytes in buf */
    struct timespec t0; /* when the command started */
    const char *fails[PTYX_MAX_FAILS]; /* -f texts */
    int nfails;
};

/* Seconds since @r's command started. */
static double ptyx_elapsed(const struct ptyx_run *r)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - r->t0.tv_sec) +
           (double)(t.tv_nsec - r->t0.tv_nsec) / 1e9;
}

/*
 * Decode the escapes of a -s argument (\n \r \t \\ \xHH) from @src into
 * @dst (at least strlen(src) + 1 bytes).  Returns the decoded length, or
 * -1 for an unknown escape or a bad \x.
 */
static long ptyx_unescape(const char *src, char *dst)
{
    size_t n = 0;

    while (*src) {
        char c = *src++;

        if (c != '\\') {
            dst[n++] = c;
            continue;
        }
        c = *src++;
        switch (c) {
        case 'n':
            dst[n++] = '\n';
            break;
        case 'r':
            dst[n++] = '\r';
            break;
        case 't':
            dst[n++] = '\t';
            break;
        case '\\':
            dst[n++] = '\\';
            break;
        case 'x': {
            char hex[3] = {0};
            char *end;

            if (!src[0] || !src[1])
                return -1;
            memcpy(hex, src, 2);
            dst[n++] = (char)strtoul(hex, &end, 16);
            if (*end)
                return -1;
            src += 2;
            break;
        }
        default:
            return -1;
        }
    }
    return (long)n;
}

/* Write all @len bytes of @p to @fd; 0 or -1. */
static int ptyx_write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Reap the command if it exited (non-blocking). */
static void ptyx_reap(struct ptyx_run *r)
{
    if (r->pid > 0 && waitpid(r->pid, &r->status, WNOHANG) == r->pid)
        r->pid = 0;
}

/*
 * Read what the command printed for at most @ms milliseconds (returns
 * after the first read).  Returns 0, or -1 when the output is closed
 * (the command and every process on its terminal are gone).
 */
static int ptyx_pump(struct ptyx_run *r, int ms)
{
    struct pollfd p = {.fd = r->master, .events = POLLIN};
    char chunk[4096];
    ssize_t n;

    if (r->master < 0)
        return -1;
    if (poll(&p, 1, ms) <= 0)
        return 0;
    n = read(r->master, chunk, sizeof(chunk));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0) {
        /* EIO: the slave side has no more openers. */
        close(r->master);
        r->master = -1;
        return -1;
    }
    if (!r->quiet) {
        ptyx_write_all(STDOUT_FILENO, chunk, (size_t)n);
    }
    if (r->len + (size_t)n > PTYX_KEEP_BYTES) {
        /* Keep the newer half: a pattern never spans that much. */
        size_t drop = r->len / 2;

        memmove(r->buf, r->buf + drop, r->len - drop);
        r->len -= drop;
    }
    memcpy(r->buf + r->len, chunk, (size_t)n);
    r->len += (size_t)n;
    return 0;
}

/*
 * Wait for @text in the output after the last match, for @timeout
 * seconds.  Returns 0 when seen (output up to its end is consumed), -1
 * on timeout or when the command is gone without printing it.
 */
static int ptyx_expect(struct ptyx_run *r, const char *text, double timeout)
{
    double until = ptyx_elapsed(r) + timeout;
    size_t tlen = strlen(text);

    for (;;) {
        char *hit = memmem(r->buf, r->len, text, tlen);

        if (hit) {
            size_t used = (size_t)(hit - r->buf) + tlen;

            memmove(r->buf, r->buf + used, r->len - used);
            r->len -= used;
            fprintf(stderr, "ptyexpect: matched '%s' at %.3f s\n", text,
                    ptyx_elapsed(r));
            return 0;
        }
        for (int i = 0; i < r->nfails; i++) {
            if (memmem(r->buf, r->len, r->fails[i], strlen(r->fails[i]))) {
                fprintf(stderr,
                        "ptyexpect: '%s' not seen: saw '%s' at %.3f s\n", text,
                        r->fails[i], ptyx_elapsed(r));
                return -1;
            }
        }
        if (ptyx_elapsed(r) > until) {
            fprintf(stderr, "ptyexpect: '%s' not seen in %.0f s\n", text,
                    timeout);
            return -1;
        }
        if (ptyx_pump(r, 100) < 0) {
            fprintf(stderr,
                    "ptyexpect: '%s' not seen before the command "
                    "ended\n",
                    text);
            return -1;
        }
    }
}

/*
 * Wait @timeout seconds for the command to exit, copying its output.
 * Returns 0 (status printed on stderr) or -1 on timeout.
 */
static int ptyx_wait(struct ptyx_run *r, double timeout)
{
    double until = ptyx_elapsed(r) + timeout;

    for (;;) {
        ptyx_reap(r);
        if (r->pid == 0) {
            /* Drain what is left on the terminal. */
            while (r->master >= 0 && ptyx_pump(r, 200) == 0)
                ;
            if (WIFEXITED(r->status))
                fprintf(stderr, "ptyexpect: command exited with status %d\n",
                        WEXITSTATUS(r->status));
            else
                fprintf(stderr, "ptyexpect: command killed by signal %d\n",
                        WTERMSIG(r->status));
            return 0;
        }
        if (ptyx_elapsed(r) > until) {
            fprintf(stderr, "ptyexpect: command still running after %.0f s\n",
                    timeout);
            return -1;
        }
        if (ptyx_pump(r, 100) < 0)
            usleep(100000); /* terminal closed, process not yet reaped */
    }
}

/*
 * Start @argv on a new pty as the leader of its own session.  Returns 0
 * with r->master and r->pid set, or -1 (message printed).
 */
static int ptyx_spawn(struct ptyx_run *r, char **argv)
{
    int master = -1, rc = -1;
    const char *slave_name;
    pid_t pid;

    master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) || unlockpt(master)) {
        perror("ptyexpect: posix_openpt");
        goto out;
    }
    slave_name = ptsname(master);
    if (!slave_name) {
        perror("ptyexpect: ptsname");
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    pid = fork();
    if (pid < 0) {
        perror("ptyexpect: fork");
        goto out;
    }
    if (pid == 0) {
        int slave;

        setsid();
        slave = open(slave_name, O_RDWR);
        if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) {
            perror("ptyexpect: slave pty");
            _exit(127);
        }
        dup2(slave, STDIN_FILENO);
        dup2(slave, STDOUT_FILENO);
        dup2(slave, STDERR_FILENO);
        if (slave > STDERR_FILENO)
            close(slave);
        execvp(argv[0], argv);
        fprintf(stderr, "ptyexpect: %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    r->master = master;
    r->pid = pid;
    master = -1;
    rc = 0;
out:
    if (master >= 0)
        close(master);
    return rc;
}

/* Stop the command if it still runs: SIGTERM, SIGKILL after 2 s. */
static void ptyx_stop(struct ptyx_run *r)
{
    ptyx_reap(r);
    if (r->pid > 0) {
        kill(r->pid, SIGTERM);
        for (int i = 0; i < 20 && r->pid > 0; i++) {
            ptyx_pump(r, 100);
            ptyx_reap(r);
        }
        if (r->pid > 0) {
            kill(r->pid, SIGKILL);
            waitpid(r->pid, &r->status, 0);
            r->pid = 0;
        }
    }
    if (r->master >= 0)
        close(r->master);
    r->master = -1;
}

static void ptyx_usage(FILE *f)
{
    fprintf(f, "usage: ptyexpect [-t SECS] [-q] [-f TEXT]... [-e TEXT | -s "
               "TEXT | -p SECS "
               "| -w]... -- CMD [ARG...]\n");
}

int main(int argc, char **argv)
{
    static struct ptyx_step steps[PTYX_MAX_STEPS];
    struct ptyx_run run = {.master = -1};
    double timeout = 60;
    int nsteps = 0, opt, rc = 2;

    while ((opt = getopt(argc, argv, "+t:qe:s:p:f:wh")) != -1) {
        char *end;

        if (nsteps == PTYX_MAX_STEPS) {
            fprintf(stderr, "ptyexpect: more than %d steps\n", PTYX_MAX_STEPS);
            return 2;
        }
        switch (opt) {
        case 't':
            timeout = strtod(optarg, &end);
            if (*end || timeout <= 0) {
                fprintf(stderr, "ptyexpect: bad timeout '%s'\n", optarg);
                return 2;
            }
            break;
        case 'q':
            run.quiet = 1;
            break;
        case 'f':
            if (!*optarg || run.nfails == PTYX_MAX_FAILS) {
                fprintf(stderr, "ptyexpect: -f: empty or more than %d\n",
                        PTYX_MAX_FAILS);
                return 2;
            }
            run.fails[run.nfails++] = optarg;
            break;
        case 'e':
            if (!*optarg) {
                fprintf(stderr, "ptyexpect: -e needs a non-empty text\n");
                return 2;
            }
            steps[nsteps++] = (struct ptyx_step){PTYX_EXPECT, optarg, timeout};
            break;
        case 's':
            steps[nsteps++] = (struct ptyx_step){PTYX_SEND, optarg, timeout};
            break;
        case 'p':
            strtod(optarg, &end);
            if (*end) {
                fprintf(stderr, "ptyexpect: bad pause '%s'\n", optarg);
                return 2;
            }
            steps[nsteps++] = (struct ptyx_step){PTYX_PAUSE, optarg, timeout};
            break;
        case 'w':
            steps[nsteps++] = (struct ptyx_step){PTYX_WAIT, NULL, timeout};
            break;
        case 'h':
            ptyx_usage(stdout);
            return 0;
        default:
            ptyx_usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        ptyx_usage(stderr);
        return 2;
    }
    run.buf = malloc(PTYX_KEEP_BYTES);
    if (!run.buf) {
        fprintf(stderr, "ptyexpect: out of memory\n");
        return 2;
    }
    if (ptyx_spawn(&run, argv + optind))
        goto out;
    rc = 0;
    for (int i = 0; i < nsteps && rc == 0; i++) {
        const struct ptyx_step *s = &steps[i];

        switch (s->kind) {
        case PTYX_EXPECT:
            if (ptyx_expect(&run, s->arg, s->timeout))
                rc = 1;
            break;
        case PTYX_SEND: {
            char *bytes = malloc(strlen(s->arg) + 1);
            long n = bytes ? ptyx_unescape(s->arg, bytes) : -1;

            if (n < 0 || run.master < 0 ||
                ptyx_write_all(run.master, bytes, (size_t)n)) {
                fprintf(stderr, "ptyexpect: cannot type '%s'\n", s->arg);
                rc = 1;
            }
            free(bytes);
            break;
        }
        case PTYX_PAUSE: {
            double until = ptyx_elapsed(&run) + strtod(s->arg, NULL);

            while (ptyx_elapsed(&run) < until)
                ptyx_pump(&run, 50);
            break;
        }
        case PTYX_WAIT:
            if (ptyx_wait(&run, s->timeout))
                rc = 1;
            break;
        }
    }
out:
    ptyx_stop(&run);
    free(run.buf);
    return rc;
}
