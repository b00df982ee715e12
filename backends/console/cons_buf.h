/*
 * cons_buf.h — a bounded byte queue for console output nobody has read
 * yet.  When more output arrives than fits, the oldest bytes are dropped
 * and counted; the reader is told how many with a marker line
 * (CONS_BUF_MARKER) placed where the gap is, i.e. before the oldest byte
 * still kept.
 */
#ifndef CONSOLE_CONS_BUF_H
#define CONSOLE_CONS_BUF_H

#include <stddef.h>
#include <stdint.h>

/* The marker's format: the number of bytes dropped. */
#define CONS_BUF_MARKER "\r\n[xenconsoled: %llu bytes dropped]\r\n"

struct cons_buf {
    char *data;
    size_t size;      /* capacity in bytes */
    size_t head;      /* index of the oldest byte */
    size_t len;       /* bytes kept */
    uint64_t dropped; /* bytes dropped since the last marker was taken */
};

/* cons_buf_init — an empty queue of size bytes (> 0); 0 or -ENOMEM. */
int cons_buf_init(struct cons_buf *b, size_t size);

/* cons_buf_free — release the storage (the struct may be reused). */
void cons_buf_free(struct cons_buf *b);

/*
 * cons_buf_put — append n bytes, dropping the oldest bytes (counted in
 * dropped) when they do not all fit; only the newest size bytes of a
 * larger write are kept.
 */
void cons_buf_put(struct cons_buf *b, const char *p, size_t n);

/*
 * cons_buf_peek — the oldest kept bytes that are contiguous in memory:
 * *p and the length returned (0 when empty).
 */
size_t cons_buf_peek(const struct cons_buf *b, const char **p);

/* cons_buf_consume — forget the n oldest bytes (n <= len). */
void cons_buf_consume(struct cons_buf *b, size_t n);

/*
 * cons_buf_take_marker — when bytes were dropped, format the marker into
 * out (len bytes) and reset the count; returns the marker's length, or 0
 * when nothing was dropped.
 */
size_t cons_buf_take_marker(struct cons_buf *b, char *out, size_t len);

#endif
