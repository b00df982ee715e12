/* cons_buf.c — bounded console output queue (see cons_buf.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cons_buf.h"

int cons_buf_init(struct cons_buf *b, size_t size)
{
    memset(b, 0, sizeof(*b));
    if (!size)
        return -EINVAL;
    b->data = malloc(size);
    if (!b->data)
        return -ENOMEM;
    b->size = size;
    return 0;
}

void cons_buf_free(struct cons_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void cons_buf_put(struct cons_buf *b, const char *p, size_t n)
{
    size_t room, tail, chunk;

    if (n > b->size) {
        /* Only the newest size bytes can be kept. */
        b->dropped += n - b->size;
        p += n - b->size;
        n = b->size;
    }
    room = b->size - b->len;
    if (n > room) {
        b->dropped += n - room;
        cons_buf_consume(b, n - room);
    }
    while (n) {
        tail = (b->head + b->len) % b->size;
        chunk = b->size - tail;
        if (chunk > n)
            chunk = n;
        memcpy(b->data + tail, p, chunk);
        b->len += chunk;
        p += chunk;
        n -= chunk;
    }
}

size_t cons_buf_peek(const struct cons_buf *b, const char **p)
{
    size_t n = b->size - b->head;

    *p = b->data + b->head;
    return b->len < n ? b->len : n;
}

void cons_buf_consume(struct cons_buf *b, size_t n)
{
    if (n > b->len)
        n = b->len;
    b->head = b->len == n ? 0 : (b->head + n) % b->size;
    b->len -= n;
}

size_t cons_buf_take_marker(struct cons_buf *b, char *out, size_t len)
{
    int n;

    if (!b->dropped)
        return 0;
    n = snprintf(out, len, CONS_BUF_MARKER, (unsigned long long)b->dropped);
    b->dropped = 0;
    if (n < 0)
        return 0;
    return (size_t)n < len ? (size_t)n : len - 1;
}
