/*
 * console_io.c — __HYPERVISOR_console_io (<xen/xen.h> CONSOLEIO_*).
 *
 * CONSOLEIO_write appends to the domain's bounded console log (the later
 * `xl dmesg`).  Xen's default policy lets only the console domain use this
 * hypercall unless Xen is built with CONFIG_VERBOSE_DEBUG; xen-hv behaves
 * like such a debug build for CONSOLEIO_write (every domain may log) and
 * like the default for everything else: the XSM check comes first, so
 * CONSOLEIO_read and unknown commands are -XEN_EPERM for every guest (only
 * the control domain reads the hypervisor console).
 */
#include <stdint.h>
#include <xen/errno.h>

#include "guest_copy.h"
#include "hypercall.h"

#define CONSOLEIO_CHUNK 128

long do_console_io(struct vcpu *v, const struct hypercall_args *a)
{
    unsigned int cmd = (unsigned int)a->a[0];
    unsigned int count = (unsigned int)a->a[1];
    gva_t buf = a->a[2];
    char kbuf[CONSOLEIO_CHUNK];

    if (cmd != CONSOLEIO_write)
        return -XEN_EPERM; /* xsm_console_io(): XSM_PRIV */

    switch (cmd) {
    case CONSOLEIO_write:
        while (count > 0) {
            unsigned int n = count < sizeof(kbuf) ? count : sizeof(kbuf);
            if (copy_from_guest(v, kbuf, buf, n))
                return -XEN_EFAULT;
            console_log_write(&v->d->log, kbuf, n);
            buf += n;
            count -= n;
            if (v->d->is_shutting_down)
                break;
        }
        return 0;
    }
    return -XEN_ENOSYS;
}
