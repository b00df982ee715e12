/* console_log.c — bounded per-domain console log (see console_log.h). */
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console_log.h"

int console_log_init(struct console_log *l, size_t size, int stream_fd)
{
    memset(l, 0, sizeof(*l));
    l->buf = malloc(size ? size : 1);
    if (!l->buf)
        return -ENOMEM;
    l->size = size ? size : 1;
    l->stream_fd = stream_fd;
    pthread_mutex_init(&l->lock, NULL);
    return 0;
}

void console_log_destroy(struct console_log *l)
{
    free(l->buf);
    l->buf = NULL;
    pthread_mutex_destroy(&l->lock);
}

void console_log_set_prefix(struct console_log *l, const char *prefix)
{
    pthread_mutex_lock(&l->lock);
    snprintf(l->prefix, sizeof(l->prefix), "%s", prefix);
    pthread_mutex_unlock(&l->lock);
}

/* write_all — all n bytes to fd, or give up quietly (a closed stdout must
 * not stop the domain). */
static void write_all(int fd, const char *s, size_t n)
{
    size_t off = 0;

    while (off < n) {
        ssize_t w = write(fd, s + off, n - off);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            return;
        }
        off += (size_t)w;
    }
}

/* stream — copy s to stream_fd, the prefix before each line. */
static void stream(struct console_log *l, const char *s, size_t n)
{
    while (n) {
        const char *nl = memchr(s, '\n', n);
        size_t line = nl ? (size_t)(nl - s) + 1 : n;

        if (!l->mid_line && l->prefix[0])
            write_all(l->stream_fd, l->prefix, strlen(l->prefix));
        write_all(l->stream_fd, s, line);
        l->mid_line = !nl;
        s += line;
        n -= line;
    }
}

void console_log_write(struct console_log *l, const char *s, size_t n)
{
    pthread_mutex_lock(&l->lock);
    if (l->stream_fd >= 0)
        stream(l, s, n);
    if (n >= l->size) {
        /* Only the newest `size` bytes survive. */
        l->dropped += l->len + (n - l->size);
        memcpy(l->buf, s + (n - l->size), l->size);
        l->start = 0;
        l->len = l->size;
    } else {
        for (size_t i = 0; i < n; i++) {
            size_t pos = (l->start + l->len) % l->size;
            l->buf[pos] = s[i];
            if (l->len == l->size) {
                l->start = (l->start + 1) % l->size;
                l->dropped++;
            } else {
                l->len++;
            }
        }
    }
    pthread_mutex_unlock(&l->lock);
}

void console_log_clear(struct console_log *l)
{
    pthread_mutex_lock(&l->lock);
    l->start = 0;
    l->len = 0;
    pthread_mutex_unlock(&l->lock);
}

size_t console_log_read(struct console_log *l, char *out, size_t max,
                        uint64_t *dropped)
{
    size_t n;

    pthread_mutex_lock(&l->lock);
    n = l->len < max ? l->len : max;
    for (size_t i = 0; i < n; i++)
        out[i] = l->buf[(l->start + i) % l->size];
    if (dropped)
        *dropped = l->dropped;
    pthread_mutex_unlock(&l->lock);
    return n;
}
