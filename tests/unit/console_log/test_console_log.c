/*
 * Unit test of console_log.c: bounded log keeps the newest bytes, counts
 * the dropped ones, streams every byte, and reads oldest first.
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "console_log.h"
#include "tap.h"

int main(void)
{
    struct console_log l;
    char out[64];
    uint64_t dropped = 99;
    size_t n;
    int pipefd[2];

    tap_plan(15);
    is_int(console_log_init(&l, 8, -1), 0, "init with 8 bytes");
    console_log_write(&l, "abc", 3);
    n = console_log_read(&l, out, sizeof(out), &dropped);
    ok(n == 3 && memcmp(out, "abc", 3) == 0 && dropped == 0,
       "short write is kept whole");
    console_log_write(&l, "defghij", 7); /* 10 bytes: 2 dropped */
    n = console_log_read(&l, out, sizeof(out), &dropped);
    ok(n == 8 && memcmp(out, "cdefghij", 8) == 0,
       "ring keeps the newest 8 bytes in order");
    is_u64(dropped, 2, "two oldest bytes counted as dropped");
    console_log_write(&l, "0123456789ABCDEF", 16); /* larger than the ring */
    n = console_log_read(&l, out, sizeof(out), &dropped);
    ok(n == 8 && memcmp(out, "89ABCDEF", 8) == 0,
       "a write larger than the ring keeps its tail");
    is_u64(dropped, 2 + 8 + 8, "dropped counts the old contents and head");
    n = console_log_read(&l, out, 3, NULL);
    ok(n == 3 && memcmp(out, "89A", 3) == 0, "read is bounded by max");
    console_log_clear(&l);
    n = console_log_read(&l, out, sizeof(out), &dropped);
    ok(n == 0 && dropped == 18, "clear empties the log, keeps the count");
    console_log_write(&l, "xy", 2);
    n = console_log_read(&l, out, sizeof(out), NULL);
    ok(n == 2 && memcmp(out, "xy", 2) == 0, "writes after a clear");
    console_log_destroy(&l);

    ok(pipe(pipefd) == 0, "pipe");
    is_int(console_log_init(&l, 4, pipefd[1]), 0, "init with a stream fd");
    console_log_write(&l, "streamed!", 9);
    n = (size_t)read(pipefd[0], out, sizeof(out));
    ok(n == 9 && memcmp(out, "streamed!", 9) == 0,
       "every byte reaches the stream even when the ring drops it");
    n = console_log_read(&l, out, sizeof(out), &dropped);
    ok(n == 4 && memcmp(out, "med!", 4) == 0 && dropped == 5,
       "ring still bounded with a stream");
    console_log_destroy(&l);

    /* A prefix before each streamed line, also across writes. */
    is_int(console_log_init(&l, 64, pipefd[1]), 0, "init, prefix (d7)");
    console_log_set_prefix(&l, "(d7) ");
    console_log_write(&l, "ab\nc", 4);
    console_log_write(&l, "d\n\ne", 4);
    n = (size_t)read(pipefd[0], out, sizeof(out));
    ok(n == 28 && memcmp(out, "(d7) ab\n(d7) cd\n(d7) \n(d7) e", 28) == 0,
       "each streamed line starts with the prefix, across writes");
    console_log_destroy(&l);
    return tap_done();
}
