/*
 * xenstore_cli.c — the multi-call `xenstore` tool: `xenstore <cmd> ...` or
 * a link named xenstore-<cmd> (read, write, ls, list, rm, exists, chmod,
 * watch).  Options, output, messages and exit codes are those of Xen
 * 4.17's xenstore clients (Debian's xenstore-utils), so scripts and the
 * comparison tests in tests/xenstore see no difference:
 *
 *   read [-p] [-R] key...        value (escaped unless -R), "key: " with -p
 *   write [-R] key value...      values unescaped unless -R
 *   ls [-f] [-p] [path]          tree with values; -f full paths; -p perms
 *   list [-p] key...             children, "key/child" with -p
 *   rm [-t] key...               -t also removes emptied, valueless parents
 *   exists key...                exit status only
 *   chmod [-u] [-r] key perm...  perms "n|r|w|b<domid>"; -u parents, -r kids
 *   watch [-n NR] key...         print event paths (NR events, then exit)
 *
 * Several keys of read/list/rm/exists/chmod (and several pairs of write)
 * are done in one transaction, retried on EAGAIN.  Exit status: 0, or 1
 * on any error with a message on stderr.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <xenstore.h>

#include "xs_escape.h"
#include "xs_lib_ext.h"

enum cli_mode {
    MODE_unknown,
    MODE_chmod,
    MODE_exists,
    MODE_list,
    MODE_ls,
    MODE_read,
    MODE_rm,
    MODE_write,
    MODE_watch,
};

struct cli_opts {
    enum cli_mode mode;
    int prefix;     /* -p */
    int tidy;       /* -t */
    int upto;       /* -u */
    int recurse;    /* -r */
    int raw;        /* -R */
    int nr_watches; /* -n, -1 = forever */
};

/* ls layout: as Xen's, a value is cut to fit the terminal width. */
#define LS_TAG     " = \"...\""
#define LS_TAG_LEN ((int)strlen(LS_TAG))
static int ls_max_width = 80;
static int ls_desired_width = 60;
static int ls_whole_path;

/*
 * Output of read and list is held back until the transaction commits, so
 * that a retried transaction prints once.
 */
static char *out_buf;
static size_t out_len, out_cap;

static void out_reserve(size_t more)
{
    if (out_len + more <= out_cap)
        return;
    out_cap = out_len + more + 1024;
    out_buf = realloc(out_buf, out_cap);
    if (!out_buf)
        err(1, "malloc");
}

static void out_raw(const char *data, size_t len)
{
    out_reserve(len);
    memcpy(out_buf + out_len, data, len);
    out_len += len;
}

__attribute__((format(printf, 1, 2))) static void out_printf(const char *fmt,
                                                             ...)
{
    va_list ap;
    int len;

    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        err(1, "output");
    out_reserve((size_t)len + 1);
    va_start(ap, fmt);
    vsnprintf(out_buf + out_len, (size_t)len + 1, fmt, ap);
    va_end(ap);
    out_len += (size_t)len;
}

static char *escape_or_die(const char *val, size_t len)
{
    char *s = xs_escape_value(val, len);

    if (!s)
        err(1, "malloc");
    return s;
}

/* Usage lines of Xen 4.17 (exists shares list's line there). */
__attribute__((noreturn)) static void cli_usage(enum cli_mode mode,
                                                int incl_mode, const char *prog)
{
    const char *m;

    switch (mode) {
    case MODE_read:
        m = incl_mode ? "read " : "";
        errx(1, "Usage: %s %s[-h] [-p] [-s] [-R] key [...]", prog, m);
    case MODE_write:
        m = incl_mode ? "write " : "";
        errx(1, "Usage: %s %s[-h] [-s] [-R] key value [...]", prog, m);
    case MODE_rm:
        m = incl_mode ? "rm " : "";
        errx(1, "Usage: %s %s[-h] [-s] [-t] key [...]", prog, m);
    case MODE_exists:
    case MODE_list:
        m = !incl_mode ? "" : mode == MODE_exists ? "exists " : "list ";
        errx(1, "Usage: %s %s[-h] [-p] [-s] key [...]", prog, m);
    case MODE_ls:
        m = incl_mode ? "ls " : "";
        errx(1, "Usage: %s %s[-h] [-f] [-p] [-s] [path]", prog, m);
    case MODE_chmod:
        m = incl_mode ? "chmod " : "";
        errx(1, "Usage: %s %s[-h] [-u] [-r] [-s] key <mode [modes...]>", prog,
             m);
    case MODE_watch:
        m = incl_mode ? "watch " : "";
        errx(1, "Usage: %s %s[-h] [-n NR] key", prog, m);
    default:
        errx(1, "Usage: %s <mode> [-h] [...]", prog);
    }
}

static enum cli_mode cli_lookup_mode(const char *m)
{
    static const struct {
        const char *name;
        enum cli_mode mode;
    } modes[] = {
        {"chmod", MODE_chmod}, {"exists", MODE_exists}, {"list", MODE_list},
        {"ls", MODE_ls},       {"read", MODE_read},     {"rm", MODE_rm},
        {"write", MODE_write}, {"watch", MODE_watch},
    };
    size_t i;

    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(m, modes[i].name) == 0)
            return modes[i].mode;
    /* The "\n" is Xen's: its message ends with an empty line. */
    errx(1, "unknown mode %s\n", m);
}

/* Print one ls line's value part; returns the new line width. */
static int ls_print_value(const char *val, unsigned int len, int linewid,
                          int show_perms)
{
    char *esc = escape_or_die(val, len);

    if (ls_max_width < linewid + (int)len + LS_TAG_LEN) {
        printf(" = \"%.*s\\...\"", ls_max_width - LS_TAG_LEN - linewid, esc);
    } else {
        linewid += printf(" = \"%s\"", esc);
        if (show_perms) {
            int limit = ls_desired_width < ls_max_width ? ls_desired_width
                                                        : ls_max_width;

            putchar(' ');
            for (linewid++; linewid < limit; linewid++)
                putchar((linewid & 1) ? '.' : ' ');
        }
    }
    free(esc);
    return linewid;
}

static void ls_print_perms(struct xs_handle *h, const char *path,
                           const char *name)
{
    char buf[MAX_STRLEN(unsigned int) + 1];
    struct xs_permissions *perms;
    unsigned int n, i;

    perms = xs_get_permissions(h, XBT_NULL, path, &n);
    if (!perms) {
        warn("\ncould not access permissions for %s", name);
        return;
    }
    fputs("  (", stdout);
    for (i = 0; i < n; i++) {
        if (i)
            putchar(',');
        if (xs_perm_to_string(&perms[i], buf, sizeof(buf)))
            fputs(buf, stdout);
    }
    putchar(')');
    free(perms);
}

/* xenstore-ls: every child of path, its value, then its own children. */
static void cli_ls(struct xs_handle *h, const char *path, int depth,
                   int show_perms)
{
    size_t plen = strlen(path);
    bool slash = plen > 0 && path[plen - 1] == '/';
    unsigned int num, i;
    char **names = xs_directory(h, XBT_NULL, path, &num);

    if (!names) {
        /* A node removed while we walk is not an error. */
        if (depth && errno == ENOENT)
            return;
        err(1, "xs_directory (%s)", path);
    }
    for (i = 0; i < num; i++) {
        unsigned int len;
        int linewid = 0;
        char *child, *val;

        if (asprintf(&child, "%s%s%s", path, slash ? "" : "/", names[i]) < 0)
            err(1, "malloc in do_ls");
        if (ls_whole_path) {
            fputs(child, stdout);
        } else {
            for (; linewid < depth; linewid++)
                putchar(' ');
            linewid +=
                printf("%.*s", ls_max_width - LS_TAG_LEN - linewid, names[i]);
        }
        val = xs_read(h, XBT_NULL, child, &len);
        if (!val)
            printf(":\n");
        else
            linewid = ls_print_value(val, len, linewid, show_perms);
        free(val);
        if (show_perms)
            ls_print_perms(h, child, names[i]);
        putchar('\n');
        cli_ls(h, child, depth + 1, show_perms);
        free(child);
    }
    free(names);
}

/* chmod on path, then (-u) its ancestors and (-r) its descendants. */
static void cli_chmod(struct xs_handle *h, xs_transaction_t t, char *path,
                      struct xs_permissions *perms, unsigned int nperms,
                      int upto, int recurse)
{
    if (!path[0])
        return;
    if (!xs_set_permissions(h, t, path, perms, nperms))
        err(1, "Error occurred setting permissions on '%s'", path);
    if (upto) {
        char *sep = strrchr(path, '/');

        if (!sep)
            errx(1, "Unable to locate path separator '%c' in '%s'", '/', path);
        *sep = '\0';
        cli_chmod(h, t, path, perms, nperms, 1, 0);
        *sep = '/';
    }
    if (recurse) {
        unsigned int n, i;
        char **kids = xs_directory(h, t, path, &n);

        for (i = 0; kids && i < n; i++) {
            char *child;

            if (asprintf(&child, "%s/%s", path, kids[i]) < 0)
                err(1, "malloc");
            cli_chmod(h, t, child, perms, nperms, 0, 1);
            free(child);
        }
        free(kids);
    }
}

/* Parse "n|r|w|b<domid>" words; the domid is read as atoi() does. */
static struct xs_permissions *cli_parse_perms(char **words, unsigned int n)
{
    struct xs_permissions *perms = calloc(n ? n : 1, sizeof(*perms));
    unsigned int i;

    if (!perms)
        err(1, "malloc");
    for (i = 0; i < n; i++) {
        perms[i].id = (unsigned int)atoi(words[i] + 1);
        if (!xs_perm_from_letter(words[i][0], &perms[i].perms))
            errx(1, "Invalid permission specification: '%c'", words[i][0]);
    }
    return perms;
}

static void cli_watch(struct xs_handle *h, int max_events)
{
    int count;

    for (count = 0; max_events == -1 || count < max_events; count++) {
        unsigned int num;
        char **vec = xs_read_watch(h, &num);

        if (!vec) {
            /* Unlike Xen's loop, a dead connection ends the tool. */
            if (errno == EINTR || errno == EAGAIN)
                continue;
            err(1, "xs_read_watch");
        }
        printf("%s\n", vec[XS_WATCH_PATH]);
        fflush(stdout);
        free(vec);
    }
}

/* rm -t: remove path, then each parent left empty and without a value. */
static int cli_rm_tidy(struct xs_handle *h, xs_transaction_t t,
                       const char *path)
{
    char *p = strdup(path), *slash;

    if (!p)
        return 1;
    for (;;) {
        unsigned int len, num;
        char *val;
        char **kids;
        bool again = false;

        if (!xs_rm(h, t, p)) {
            warnx("could not remove path %s", p);
            free(p);
            return 1;
        }
        slash = strrchr(p, '/');
        if (!slash)
            break;
        *slash = '\0';
        val = xs_read(h, t, p, &len);
        if (val && len == 0) {
            kids = xs_directory(h, t, p, &num);
            again = kids && num == 0;
            free(kids);
        }
        free(val);
        if (!again)
            break;
    }
    free(p);
    return 0;
}

/* One key (or key/value pair) of a non-ls, non-watch mode; 0 or 1. */
static int cli_one(struct xs_handle *h, xs_transaction_t t,
                   const struct cli_opts *o, char **argv, int *idx, int argc)
{
    const char *key = argv[*idx];
    unsigned int len, num, i;

    switch (o->mode) {
    case MODE_read: {
        char *val = xs_read(h, t, key, &len), *esc;

        if (!val) {
            warnx("couldn't read path %s", key);
            return 1;
        }
        if (o->prefix)
            out_printf("%s: ", key);
        if (o->raw) {
            out_raw(val, len);
        } else {
            esc = escape_or_die(val, len);
            out_printf("%s\n", esc);
            free(esc);
        }
        free(val);
        *idx += 1;
        return 0;
    }
    case MODE_write: {
        const char *spec = argv[*idx + 1];
        size_t vlen = strlen(spec);
        char *val = malloc(vlen + 1);
        bool ok;

        if (!val)
            err(1, "malloc");
        if (o->raw)
            memcpy(val, spec, vlen + 1);
        else
            xs_unescape_value(spec, val, &vlen);
        ok = xs_write(h, t, key, val, (unsigned int)vlen);
        free(val);
        if (!ok) {
            warnx("could not write path %s", key);
            return 1;
        }
        *idx += 2;
        return 0;
    }
    case MODE_rm:
        if (o->tidy) {
            if (cli_rm_tidy(h, t, key))
                return 1;
        } else if (!xs_rm(h, t, key)) {
            warnx("could not remove path %s", key);
            return 1;
        }
        *idx += 1;
        return 0;
    case MODE_exists: {
        char *val = xs_read(h, t, key, NULL);

        if (!val)
            return 1;
        free(val);
        *idx += 1;
        return 0;
    }
    case MODE_list: {
        char **kids = xs_directory(h, t, key, &num);

        if (!kids) {
            warnx("could not list path %s", key);
            return 1;
        }
        for (i = 0; i < num; i++) {
            if (o->prefix)
                out_printf("%s/", key);
            out_printf("%s\n", kids[i]);
        }
        free(kids);
        *idx += 1;
        return 0;
    }
    case MODE_chmod: {
        /* The first word is the path, every other word a permission. */
        unsigned int n = (unsigned int)(argc - *idx - 1);
        struct xs_permissions *perms = cli_parse_perms(argv + *idx + 1, n);
        char *path = strdup(key);

        if (!path)
            err(1, "malloc");
        cli_chmod(h, t, path, perms, n, o->upto, o->recurse);
        free(path);
        free(perms);
        *idx = argc;
        return 0;
    }
    default:
        errx(1, "invalid mode %d", o->mode);
    }
}

static int cli_perform(struct xs_handle *h, xs_transaction_t t,
                       const struct cli_opts *o, int idx, int argc, char **argv)
{
    static char root[] = "/";
    char *root_argv[] = {root, NULL};
    int i;

    switch (o->mode) {
    case MODE_ls:
        if (idx == argc) {
            argv = root_argv;
            idx = 0;
            argc = 1;
        }
        for (; idx < argc; idx++)
            cli_ls(h, argv[idx], 0, o->prefix);
        return 0;
    case MODE_watch:
        for (i = idx; i < argc; i++)
            if (!xs_watch(h, argv[i], argv[i]))
                errx(1, "Unable to add watch on %s\n", argv[i]);
        cli_watch(h, o->nr_watches);
        return 0;
    default:
        while (idx < argc)
            if (cli_one(h, t, o, argv, &idx, argc))
                return 1;
        return 0;
    }
}

int main(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"flat", no_argument, NULL, 'f'},
        {"prefix", no_argument, NULL, 'p'},
        {"tidy", no_argument, NULL, 't'},
        {"upto", no_argument, NULL, 'u'},
        {"recurse", no_argument, NULL, 'r'},
        {"number", required_argument, NULL, 'n'},
        {"raw", no_argument, NULL, 'R'},
        {NULL, 0, NULL, 0},
    };
    struct cli_opts o = {.nr_watches = -1};
    const char *base = strrchr(argv[0], '/');
    const char *command;
    struct xs_handle *h;
    xs_transaction_t t = XBT_NULL;
    struct winsize ws;
    int shift, nargs, transaction, ret, c;
    char **args;

    base = base ? base + 1 : argv[0];
    if (strncmp(base, "xenstore-", 9) == 0) {
        shift = 0;
        command = base + 9;
    } else if (argc < 2) {
        cli_usage(MODE_unknown, 0, argv[0]);
    } else {
        shift = 1;
        command = argv[1];
    }
    o.mode = cli_lookup_mode(command);
    /* getopt sees the mode word (or the program) as its argv[0]. */
    args = argv + shift;
    nargs = argc - shift;

    /* -s (the old socket-only switch) is still accepted and ignored. */
    while ((c = getopt_long(nargs, args, "hfspturn:R", long_opts, NULL)) !=
           -1) {
        bool allowed = true;

        switch (c) {
        case 'h':
            allowed = false;
            break;
        case 'f':
            allowed = o.mode == MODE_ls;
            ls_max_width = INT_MAX / 2;
            ls_desired_width = 0;
            ls_whole_path = 1;
            break;
        case 'p':
            allowed =
                o.mode == MODE_read || o.mode == MODE_list || o.mode == MODE_ls;
            o.prefix = 1;
            break;
        case 't':
            allowed = o.mode == MODE_rm;
            o.tidy = 1;
            break;
        case 'u':
            allowed = o.mode == MODE_chmod;
            o.upto = 1;
            break;
        case 'r':
            allowed = o.mode == MODE_chmod;
            o.recurse = 1;
            break;
        case 'n':
            allowed = o.mode == MODE_watch;
            o.nr_watches = atoi(optarg);
            break;
        case 'R':
            allowed = o.mode == MODE_read || o.mode == MODE_write;
            o.raw = 1;
            break;
        default:
            break;
        }
        if (!allowed)
            cli_usage(o.mode, shift, argv[0]);
    }

    if (o.mode == MODE_write && (nargs - optind) % 2 == 1)
        cli_usage(o.mode, shift, argv[0]);
    if (o.mode != MODE_ls && optind == nargs)
        cli_usage(o.mode, shift, argv[0]);

    switch (o.mode) {
    case MODE_read:
        transaction = nargs - optind > 1;
        break;
    case MODE_write:
        transaction = nargs - optind > 2;
        break;
    case MODE_ls:
    case MODE_watch:
        transaction = 0;
        break;
    default:
        transaction = 1;
        break;
    }

    if (o.mode == MODE_ls) {
        memset(&ws, 0, sizeof(ws));
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
            ls_max_width = ws.ws_col - 2;
    }

    h = xs_open(0);
    if (!h)
        err(1, "xs_open");
again:
    if (transaction) {
        t = xs_transaction_start(h);
        if (t == XBT_NULL)
            errx(1, "couldn't start transaction");
    }
    ret = cli_perform(h, t, &o, optind, nargs, args);
    if (transaction && !xs_transaction_end(h, t, ret)) {
        if (ret == 0 && errno == EAGAIN) {
            out_len = 0;
            goto again;
        }
        errx(1, "couldn't end transaction");
    }
    if (out_len)
        fwrite(out_buf, 1, out_len, stdout);
    free(out_buf);
    xs_close(h);
    return ret;
}
