/*
 * console_log.h — a domain's hypervisor console log: what it writes with
 * CONSOLEIO_write (<xen/xen.h>, __HYPERVISOR_console_io) and what xen-hv
 * says about it (crash reasons).  Bounded: when full, the oldest bytes are
 * dropped and counted, so a guest can never make xen-hv grow without limit.
 * This is what `xl dmesg` shows later; `xen-hv run` also streams it.
 */
#ifndef XENHV_CONSOLE_LOG_H
#define XENHV_CONSOLE_LOG_H

#include <pthread.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

struct console_log {
    pthread_mutex_t lock;
    char *buf; /* ring of `size` bytes */
    size_t size;
    size_t start;     /* index of the oldest byte */
    size_t len;       /* bytes held */
    uint64_t dropped; /* bytes overwritten since creation */
    int stream_fd;    /* copy every write here too, or -1 */
    char prefix[16];  /* put before each streamed line ("" = none) */
    bool mid_line;    /* the stream's last byte was not a newline */
};

/* console_log_init — size in bytes (> 0).  Returns 0 or -ENOMEM. */
int console_log_init(struct console_log *l, size_t size, int stream_fd);
void console_log_destroy(struct console_log *l);

/*
 * console_log_set_prefix — start every line copied to stream_fd with
 * prefix (at most 15 bytes; longer is cut), as Xen's console marks a
 * guest's lines "(d1) ".  The ring itself keeps the guest's bytes as they
 * are.
 */
void console_log_set_prefix(struct console_log *l, const char *prefix);

/* console_log_write — append n bytes (any content). */
void console_log_write(struct console_log *l, const char *s, size_t n);

/* console_log_clear — forget the bytes held (dropped count kept). */
void console_log_clear(struct console_log *l);

/*
 * console_log_read — copy up to max bytes, oldest first, into out.
 * Returns the number of bytes copied; *dropped (if not NULL) gets the
 * count of bytes lost to the bound so far.
 */
size_t console_log_read(struct console_log *l, char *out, size_t max,
                        uint64_t *dropped);

#endif
