/*
 * blk_log.h — blkback's log: one line per event, with a UTC timestamp, to
 * stderr (or the --log-file blkback opened there).
 */
#ifndef BACKENDS_BLK_BLK_LOG_H
#define BACKENDS_BLK_BLK_LOG_H

/* blk_log — printf-style message, a newline is added. */
void blk_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
