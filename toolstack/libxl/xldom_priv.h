/*
 * xldom_priv.h — what xldom.c (context, lookup, lifecycle) and
 * xldom_build.c (the domain builder) share.
 */
#ifndef XLDOM_PRIV_H
#define XLDOM_PRIV_H

#include <stdarg.h>
#include <stdint.h>

#include <xenctrl.h>
#include <xenstore.h>

#include "privcmd_client.h"
#include "xldom.h"

struct xldom_ctx {
    xc_interface *xch;      /* NULL unless XLDOM_NEED_XENHV */
    struct privcmd_conn pc; /* fd -1 unless XLDOM_NEED_XENHV */
    struct xs_handle *xs;   /* NULL unless XLDOM_NEED_XENSTORE */
    char err[512];
};

/* xldom_fail: record a printf-style reason; returns @rc (negative). */
int xldom_fail(struct xldom_ctx *ctx, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* xldom_need: -ENOTCONN with a reason unless the daemon is connected. */
int xldom_need(struct xldom_ctx *ctx, unsigned int need);

/*
 * xldom_name_taken: true when a domain other than @except has @name in
 * xenstore.
 */
bool xldom_name_taken(struct xldom_ctx *ctx, const char *name, uint32_t except);

/*
 * xldom_state_path: the saved-config file of @domid into @buf (@len).
 * Returns 0 or -ENAMETOOLONG.
 */
int xldom_state_path(uint32_t domid, char *buf, size_t len);

/*
 * xldom_config_save: write @json as @domid's saved config (temp file, then
 * rename).  Returns 0 or -errno with the reason set.
 */
int xldom_config_save(struct xldom_ctx *ctx, uint32_t domid, const char *json);

#endif
