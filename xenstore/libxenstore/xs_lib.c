/*
 * xs_lib.c — the helpers Debian's <xenstore_lib.h> declares (daemon
 * socket paths, permission strings, write loop) plus the two of
 * xs_lib_ext.h.  Permission strings follow docs/misc/xenstore.txt
 * (GET_PERMS/SET_PERMS: a letter n/r/w/b followed by a decimal domid).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenstore.h>

#include "xs_lib_ext.h"

#ifndef XENSTORED_PATH_DEFAULT
#define XENSTORED_PATH_DEFAULT "/run/xenstored/socket"
#endif

/*
 * The run directory: $XENSTORED_RUNDIR, else the directory of the default
 * socket.  Returns a string valid until the next call from any thread that
 * changes the environment.
 */
const char *xs_daemon_rundir(void)
{
    static __thread char dir[PATH_MAX];
    const char *env = getenv("XENSTORED_RUNDIR");
    const char *slash;
    size_t len;

    if (env && *env)
        return env;
    slash = strrchr(XENSTORED_PATH_DEFAULT, '/');
    len = slash ? (size_t)(slash - XENSTORED_PATH_DEFAULT) : 0;
    if (len == 0 || len >= sizeof(dir))
        return "/";
    memcpy(dir, XENSTORED_PATH_DEFAULT, len);
    dir[len] = '\0';
    return dir;
}

/*
 * The daemon socket: $XENSTORED_PATH, else $XENSTORED_RUNDIR/socket when
 * that variable is set (as Xen's clients do), else XENSTORED_PATH_DEFAULT
 * from Config.mk.
 */
const char *xs_daemon_socket(void)
{
    static __thread char buf[PATH_MAX];
    const char *env = getenv("XENSTORED_PATH");
    const char *rundir = getenv("XENSTORED_RUNDIR");

    if (env && *env)
        return env;
    if (rundir && *rundir) {
        if (snprintf(buf, sizeof(buf), "%s/socket", rundir) >= (int)sizeof(buf))
            return XENSTORED_PATH_DEFAULT;
        return buf;
    }
    return XENSTORED_PATH_DEFAULT;
}

/* There is no separate read-only socket any more (Xen 4.17 and later). */
const char *xs_daemon_socket_ro(void)
{
    return xs_daemon_socket();
}

bool xs_write_all(int fd, const void *data, unsigned int len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t done = write(fd, p, len);

        if (done < 0 && errno == EINTR)
            continue;
        if (done <= 0)
            return false;
        p += done;
        len -= (unsigned int)done;
    }
    return true;
}

bool xs_perm_from_letter(char letter, unsigned int *perms)
{
    switch (letter) {
    case 'n':
        *perms = XS_PERM_NONE;
        return true;
    case 'r':
        *perms = XS_PERM_READ;
        return true;
    case 'w':
        *perms = XS_PERM_WRITE;
        return true;
    case 'b':
        *perms = XS_PERM_READ | XS_PERM_WRITE;
        return true;
    default:
        return false;
    }
}

/*
 * Parse num permission strings laid out back to back, each nul-terminated
 * (a GET_PERMS reply body).  Each must be a known letter followed by a
 * whole decimal domid; anything else is EINVAL.
 */
bool xs_strings_to_perms(struct xs_permissions *perms, unsigned int num,
                         const char *strings)
{
    const char *p = strings;
    unsigned int i;

    for (i = 0; i < num; i++) {
        unsigned long id;
        char *end;

        if (!xs_perm_from_letter(*p, &perms[i].perms)) {
            errno = EINVAL;
            return false;
        }
        p++;
        if (*p < '0' || *p > '9') {
            errno = EINVAL;
            return false;
        }
        errno = 0;
        id = strtoul(p, &end, 0);
        if (*end != '\0' || errno || id > UINT_MAX) {
            errno = EINVAL;
            return false;
        }
        perms[i].id = (unsigned int)id;
        p = end + 1;
    }
    return true;
}

bool xs_perm_to_string(const struct xs_permissions *perm, char *buf,
                       size_t buf_len)
{
    char letter;
    int n;

    switch (perm->perms & ~(unsigned int)XS_PERM_IGNORE) {
    case XS_PERM_NONE:
        letter = 'n';
        break;
    case XS_PERM_READ:
        letter = 'r';
        break;
    case XS_PERM_WRITE:
        letter = 'w';
        break;
    case XS_PERM_READ | XS_PERM_WRITE:
        letter = 'b';
        break;
    default:
        errno = EINVAL;
        return false;
    }
    n = snprintf(buf, buf_len, "%c%u", letter, perm->id);
    if (n < 0 || (size_t)n >= buf_len) {
        errno = ENOSPC;
        return false;
    }
    return true;
}

unsigned int xs_count_strings(const char *strings, unsigned int len)
{
    unsigned int i, num = 0;

    for (i = 0; i < len; i++)
        if (strings[i] == '\0')
            num++;
    return num;
}

/* Plain string prefix test on whole path components (see xenstore.h). */
bool xs_path_is_subpath(const char *parent, const char *child)
{
    size_t plen = strlen(parent);

    if (strncmp(parent, child, plen) != 0)
        return false;
    return child[plen] == '\0' || child[plen] == '/';
}
