/*
 * console_buf — xenconsoled's bounded output queue
 * (backends/console/cons_buf.c) on its own: order across the wrap, the
 * oldest bytes dropped and counted, the drop marker's text, and 20000
 * random operations checked against a plain model.  No KVM or root.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cons_buf.h"
#include "tap.h"

/* Everything the queue holds, oldest first, into out; its length. */
static size_t drain(struct cons_buf *b, char *out, size_t len)
{
    size_t have = 0;

    for (;;) {
        const char *p;
        size_t n = cons_buf_peek(b, &p);

        if (!n || have + n > len)
            return have;
        memcpy(out + have, p, n);
        have += n;
        cons_buf_consume(b, n);
    }
}

/* Random puts/consumes against a model: the newest `size` bytes. */
static int random_ops(void)
{
    enum { SIZE = 61, OPS = 20000 };
    static char model[SIZE * 4];
    struct cons_buf b;
    size_t mlen = 0;
    unsigned long long dropped = 0, next = 0;
    unsigned int seed = 12345;

    if (cons_buf_init(&b, SIZE))
        return 0;
    for (int op = 0; op < OPS; op++) {
        size_t n = (size_t)(rand_r(&seed) % (SIZE + 20));
        char data[SIZE + 20];

        if (rand_r(&seed) % 3) {
            for (size_t i = 0; i < n; i++)
                data[i] = (char)(next++ % 251);
            cons_buf_put(&b, data, n);
            memcpy(model + mlen, data, n);
            mlen += n;
            if (mlen > SIZE) {
                dropped += mlen - SIZE;
                memmove(model, model + mlen - SIZE, SIZE);
                mlen = SIZE;
            }
        } else {
            const char *p;
            size_t got = cons_buf_peek(&b, &p);

            if (got > n)
                got = n;
            if (got > mlen || memcmp(p, model, got))
                return 0;
            cons_buf_consume(&b, got);
            memmove(model, model + got, mlen - got);
            mlen -= got;
        }
        if (b.len != mlen || b.dropped != dropped)
            return 0;
    }
    {
        char out[SIZE];
        int same =
            drain(&b, out, sizeof(out)) == mlen && !memcmp(out, model, mlen);

        cons_buf_free(&b);
        return same;
    }
}

int main(void)
{
    struct cons_buf b;
    char out[64], marker[80];
    const char *p;

    tap_plan(11);
    is_int(cons_buf_init(&b, 0), -EINVAL, "a zero-size queue is refused");

    is_int(cons_buf_init(&b, 8), 0, "an 8-byte queue");
    cons_buf_put(&b, "abcdef", 6);
    cons_buf_consume(&b, 4);
    cons_buf_put(&b, "ghijk", 5);
    ok(cons_buf_peek(&b, &p) == 4 && !memcmp(p, "efgh", 4),
       "after the wrap, peek gives the contiguous part first");
    ok(drain(&b, out, sizeof(out)) == 7 && !memcmp(out, "efghijk", 7) &&
           b.dropped == 0,
       "the rest follows in order, nothing dropped");

    cons_buf_put(&b, "123456", 6);
    cons_buf_put(&b, "789", 3);
    ok(b.len == 8 && b.dropped == 1 && drain(&b, out, sizeof(out)) == 8 &&
           !memcmp(out, "23456789", 8),
       "one byte too many: the oldest is dropped and counted");

    cons_buf_put(&b, "0123456789AB", 12);
    ok(b.len == 8 && b.dropped == 5 && drain(&b, out, sizeof(out)) == 8 &&
           !memcmp(out, "456789AB", 8),
       "a write larger than the queue keeps its newest bytes");

    is_int((long long)cons_buf_take_marker(&b, marker, sizeof(marker)),
           (long long)strlen("\r\n[xenconsoled: 5 bytes dropped]\r\n"),
           "the marker's length");
    is_str(marker, "\r\n[xenconsoled: 5 bytes dropped]\r\n",
           "the marker names the bytes dropped");
    ok(cons_buf_take_marker(&b, marker, sizeof(marker)) == 0 && b.dropped == 0,
       "taken once: no marker until more is dropped");

    cons_buf_put(&b, "0123456789", 10);
    ok(cons_buf_take_marker(&b, marker, 10) == 9 && strlen(marker) == 9,
       "a marker cut to a small buffer stays NUL-terminated");
    cons_buf_free(&b);

    ok(random_ops(), "20000 random puts and consumes match the model");
    return tap_done();
}
