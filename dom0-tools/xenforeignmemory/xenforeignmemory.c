/*
 * xenforeignmemory.c — libxenforeignmemory over xen-hv's control socket:
 * the functions of Debian's <xenforeignmemory.h> that map another domain's
 * guest frames, privileged callers only (domain 0), with Xen's per-page
 * error semantics (tools/libs/foreignmemory): xen-hv hands over the
 * domain's guest memory (its memfd and where each guest-physical range
 * lives in it) once per domain; each gfn is then mapped from that fd.
 * Errors: NULL / -1 with errno (EPERM unprivileged, ESRCH no such domain,
 * EINVAL a gfn outside the domain's memory).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenforeignmemory.h>

#include "privcmd_client.h"

struct dom_mem {
    int fd;
    struct xenhv_foreign_rep layout;
};

struct xenforeignmemory_handle {
    struct privcmd_conn conn;
};

xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *lg,
                                               unsigned open_flags)
{
    xenforeignmemory_handle *h = calloc(1, sizeof(*h));
    struct xenhv_hello_rep rep;
    int rc;

    (void)lg;
    (void)open_flags;
    if (!h) {
        errno = ENOMEM;
        return NULL;
    }
    /* Foreign memory is the control domain's alone. */
    rc = privcmd_open(&h->conn, &rep, NULL, 1);
    if (rc) {
        free(h);
        errno = -rc;
        return NULL;
    }
    return h;
}

int xenforeignmemory_close(xenforeignmemory_handle *h)
{
    if (!h)
        return 0;
    privcmd_disconnect(&h->conn);
    free(h);
    return 0;
}

/*
 * The memory of domid as it is now, asked for at every map: a domid is
 * reused after a destroy and a domain's memory appears at its first
 * populate, so nothing about it may be remembered between calls.  The
 * mappings keep the memfd alive; m->fd is closed by the caller.
 * Returns 0 or -1 with errno.
 */
static int dom_mem(xenforeignmemory_handle *h, uint32_t domid,
                   struct dom_mem *m)
{
    int fd = -1, rc;

    memset(m, 0, sizeof(*m));
    rc = privcmd_call(&h->conn, XENHV_OP_FOREIGN_MEMORY, &domid, sizeof(domid),
                      &m->layout, sizeof(m->layout), NULL, &fd);
    if (rc || fd < 0) {
        if (fd >= 0)
            close(fd);
        errno = rc ? privcmd_errno(rc) : EINVAL;
        return -1;
    }
    m->fd = fd;
    return 0;
}

/* fd offset of guest frame gfn, or -1. */
static int64_t gfn_offset(const struct dom_mem *m, uint64_t gfn)
{
    uint64_t gpa = gfn << 12;

    if (gfn > (UINT64_MAX >> 12))
        return -1;
    for (uint32_t i = 0; i < m->layout.nr_regions && i < 4; i++) {
        const struct xenhv_mem_region *r = &m->layout.region[i];
        if (gpa >= r->gpa && gpa - r->gpa < r->size)
            return (int64_t)(r->offset + (gpa - r->gpa));
    }
    return -1;
}

void *xenforeignmemory_map2(xenforeignmemory_handle *h, uint32_t dom,
                            void *addr, int prot, int flags, size_t pages,
                            const xen_pfn_t arr[], int err[])
{
    struct dom_mem m;
    uint8_t *area;
    int first_err = 0;

    if (pages == 0 || (prot & ~(PROT_READ | PROT_WRITE))) {
        errno = EINVAL;
        return NULL;
    }
    if (dom_mem(h, dom, &m))
        return NULL;
    area = mmap(addr, pages * 4096, PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS | (flags & MAP_FIXED), -1, 0);
    if (area == MAP_FAILED) {
        close(m.fd);
        return NULL;
    }
    /*
     * One mmap per run of frames that are consecutive both in arr[] and
     * in the memfd: a toolstack maps a whole domain's RAM (131072 frames
     * for 512 MiB) in one call, and one syscall per frame cost seconds
     * where syscalls are slow.
     */
    for (size_t i = 0; i < pages;) {
        int64_t off = gfn_offset(&m, arr[i]);
        size_t run = 1;
        int e = 0;

        if (off >= 0)
            while (i + run < pages &&
                   gfn_offset(&m, arr[i + run]) == off + (int64_t)run * 4096)
                run++;
        if (off < 0)
            e = EINVAL;
        else if (mmap(area + i * 4096, run * 4096, prot, MAP_SHARED | MAP_FIXED,
                      m.fd, (off_t)off) == MAP_FAILED)
            e = errno;
        for (size_t k = 0; k < run; k++)
            if (err)
                err[i + k] = e;
        if (e && !first_err)
            first_err = e;
        i += run;
    }
    close(m.fd);
    if (first_err && !err) {
        munmap(area, pages * 4096);
        errno = first_err;
        return NULL;
    }
    return area;
}

void *xenforeignmemory_map(xenforeignmemory_handle *h, uint32_t dom, int prot,
                           size_t pages, const xen_pfn_t arr[], int err[])
{
    return xenforeignmemory_map2(h, dom, NULL, prot, 0, pages, arr, err);
}

int xenforeignmemory_unmap(xenforeignmemory_handle *h, void *addr, size_t pages)
{
    (void)h;
    return munmap(addr, pages * 4096);
}

int xenforeignmemory_restrict(xenforeignmemory_handle *h, domid_t domid)
{
    (void)h;
    (void)domid;
    errno = EOPNOTSUPP;
    return -1;
}
