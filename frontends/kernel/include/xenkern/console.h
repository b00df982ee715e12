/*
 * console.h — kernel console output.
 *
 * Output goes to the hypervisor with CONSOLEIO_write (<xen/xen.h>,
 * __HYPERVISOR_console_io), or to the debug port 0xe9 when no Xen was
 * found; once consring_init() brought the PV console ring up
 * (consring.h), to the ring as well.  printf is line buffered per CPU: a
 * line leaves in one write.
 */
#ifndef XENKERN_CONSOLE_H
#define XENKERN_CONSOLE_H

#include <stddef.h>

/* printf — format (see vsnprintf in lib.h) and write; returns bytes. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* console_write — write len bytes now, unbuffered. */
void console_write(const char *buf, size_t len);

/* console_flush — write this CPU's pending partial line. */
void console_flush(void);

#endif
