/*
 * xl.h — what the `xl` command files share: each command is
 * `int xl_cmd_<name>(int argc, char **argv)` returning the exit code
 * (0 success, 1 failure; errors on stderr naming the domain), as Xen's
 * docs/man/xl.1.pod.in describes the commands.
 */
#ifndef XL_H
#define XL_H

#include <stdint.h>

#include "xldom.h"

/*
 * xl_open: a library context connected to the daemons @need names
 * (XLDOM_NEED_*); on failure prints "xl: <reason>" and returns NULL.
 */
struct xldom_ctx *xl_open(unsigned int need);

/*
 * xl_domid: the domid of @arg (name or number); on failure prints the
 * library's reason and returns -1.
 */
long xl_domid(struct xldom_ctx *ctx, const char *arg);

/* xl_err: print "xl: error: ..." on stderr. */
void xl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* xl_usage: the usage of command @name on stderr; returns 1. */
int xl_usage(const char *name);

/*
 * xl_console_attach: show @domid's console on stdout until the domain
 * shuts down or goes, or Ctrl-] (0x1d) on a terminal stdin.  @type is
 * "pv" (xenconsoled's socket, both directions), "serial" (xen-hv's
 * console_io log, output only) or NULL (auto: the console_io log until
 * the first byte from xenconsoled's socket, then that socket; our test
 * kernels print with CONSOLEIO_write and only some bring the ring up).
 * @unpause: unpause the domain once attached (xl create -c).  Returns the exit
 * code.
 */
int xl_console_attach(struct xldom_ctx *ctx, uint32_t domid, const char *type,
                      int unpause);

/* xl_device_timeout_ms: how long device commands wait for a backend
 * ($XL_DEVICE_TIMEOUT seconds, default 10), in ms. */
int xl_device_timeout_ms(void);

/*
 * xl_vbd_add: add @disk to @domid as a vbd (frontend and backend keys of
 * docs/misc/xenstore-paths, <xen/io/blkif.h>) and wait until its backend
 * reaches XenbusState @want.  Returns 0 or -errno (reason in the ctx).
 */
int xl_vbd_add(struct xldom_ctx *ctx, uint32_t domid,
               const struct xlcfg_disk *disk, int want);

int xl_cmd_create(int argc, char **argv);
int xl_cmd_console(int argc, char **argv);
int xl_cmd_shutdown(int argc, char **argv);
int xl_cmd_reboot(int argc, char **argv);

#endif
