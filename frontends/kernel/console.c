/*
 * console.c — CONSOLEIO_write / port 0xe9 output, per-CPU lines; once
 * consring_init() brought the PV console ring up, output goes to the ring
 * too (CONSOLEIO_write keeps everything printed before that).
 */
#include <stdarg.h>

#include <stdint.h>
#include <xen/xen.h>

#include "xenkern/console.h"
#include "xenkern/consring.h"
#include "xenkern/hypercall.h"
#include "xenkern/kernel.h"
#include "xenkern/lib.h"
#include "xenkern/smp.h"
#include "xenkern/x86.h"

#define DEBUG_PORT 0xe9

void console_write(const char *buf, size_t len)
{
    if (xen_present) {
        /* Xen writes everything and returns 0 (or -XEN_EFAULT). */
        HYPERVISOR_console_io(CONSOLEIO_write, len, buf);
        if (consring_ready())
            consring_write(buf, len);
        return;
    }
    asm volatile("rep outsb"
                 : "+S"(buf), "+c"(len)
                 : "d"((uint16_t)DEBUG_PORT)
                 : "memory");
}

void console_flush(void)
{
    struct cpu *c = this_cpu();

    if (c->line_len) {
        console_write(c->line, c->line_len);
        c->line_len = 0;
    }
}

static void console_put(struct cpu *c, char ch)
{
    c->line[c->line_len++] = ch;
    if (ch == '\n' || c->line_len == sizeof(c->line))
        console_flush();
}

int printf(const char *fmt, ...)
{
    struct cpu *c = this_cpu();
    char tmp[256];
    va_list ap;
    int n, i;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(tmp) - 1)
        n = sizeof(tmp) - 1;
    for (i = 0; i < n; i++)
        console_put(c, tmp[i]);
    return n;
}
