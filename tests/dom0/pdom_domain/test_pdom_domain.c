/*
 * pdom_domain — a process domain is a domain to the control domain, as
 * every domain is on Xen: xc_domain_getinfolist lists it (blocked, no
 * vCPUs, its registered memory as pages), dom0 maps its frames with
 * libxenforeignmemory (how xenstored reaches a driver domain's xenstore
 * ring), and its death raises VIRQ_DOM_EXC in domain 0, after which it is
 * gone from the list and its frames cannot be mapped.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>

#include "harness.h"
#include "tap.h"

#define PDOM_BYTES (64 * 4096)

/* The process domain, as nobody: register memory, mark page 3, report. */
static int child(int report, int go)
{
    struct privcmd_conn c = {.fd = -1};
    struct xenhv_hello_rep rep;
    uint64_t bytes = PDOM_BYTES;
    uint32_t *mem;
    int fd;
    char b;

    if (setgid(65534) || setuid(65534))
        return 1;
    if (privcmd_open(&c, &rep, NULL, 0))
        return 2;
    fd = memfd_create("pdom", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, PDOM_BYTES))
        return 3;
    mem = mmap(NULL, PDOM_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED)
        return 4;
    mem[3 * 1024] = 0x9d0d0003;
    if (privcmd_call_fd(&c, XENHV_OP_PDOM_MEMORY, &bytes, sizeof(bytes), fd,
                        NULL, 0, NULL, NULL))
        return 5;
    if (write(report, &rep.domid, sizeof(rep.domid)) != sizeof(rep.domid))
        return 6;
    if (read(go, &b, 1) != 1) /* dom0 has looked: die */
        return 7;
    return 0;
}

int main(void)
{
    int rp[2], gp[2], status, virq = -1;
    uint32_t domid = 0;
    xc_interface *xch;
    xenforeignmemory_handle *fm;
    xenevtchn_handle *xce;
    xc_domaininfo_t info[8];
    pid_t pid, kid;
    int n, found = 0;
    uint32_t *page;
    xen_pfn_t pfn = 3, far = 64;
    int err = 0;

    if (geteuid() != 0)
        tap_skip_all("needs root to start the process domain as uid 65534");
    tap_plan(9);
    pid = start_daemon("pdd");
    xch = xc_interface_open(NULL, NULL, 0);
    fm = xenforeignmemory_open(NULL, 0);
    xce = xenevtchn_open(NULL, 0);
    virq = xce ? xenevtchn_bind_virq(xce, VIRQ_DOM_EXC) : -1;
    ok(xch && fm && virq > 0, "dom0 handles, VIRQ_DOM_EXC bound");
    if (pipe(rp) || pipe(gp))
        return 1;
    kid = fork();
    if (kid == 0)
        _exit(child(rp[1], gp[0]));
    n = (int)read(rp[0], &domid, sizeof(domid));
    ok(n == sizeof(domid) && domid >= 100, "process domain %u has memory",
       domid);

    n = xch ? xc_domain_getinfolist(xch, domid, 8, info) : -1;
    for (int i = 0; i < n; i++)
        if (info[i].domain == domid)
            found = (info[i].flags & XEN_DOMINF_blocked) &&
                            !(info[i].flags & XEN_DOMINF_hvm_guest) &&
                            info[i].tot_pages == PDOM_BYTES / 4096 &&
                            info[i].max_vcpu_id == XEN_INVALID_MAX_VCPU_ID
                        ? 1
                        : -1;
    is_int(found, 1, "getinfolist: blocked, not hvm, 64 pages, no vCPUs");

    page =
        fm ? xenforeignmemory_map(fm, domid, PROT_READ, 1, &pfn, NULL) : NULL;
    ok(page && page[0] == 0x9d0d0003, "dom0 maps its page 3 and reads it");
    if (page)
        xenforeignmemory_unmap(fm, page, 1);
    page =
        fm ? xenforeignmemory_map(fm, domid, PROT_READ, 1, &far, &err) : NULL;
    ok(page && err == EINVAL, "a frame past its memory: err EINVAL");
    if (page)
        xenforeignmemory_unmap(fm, page, 1);

    /* Let it die. */
    if (write(gp[1], "x", 1) != 1)
        return 1;
    waitpid(kid, &status, 0);
    is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
           "the process domain exited cleanly");
    is_int(xce ? wait_event(xce, 5000) : -1, virq,
           "its death raised VIRQ_DOM_EXC in domain 0");
    found = 0;
    n = xch ? xc_domain_getinfolist(xch, domid, 8, info) : -1;
    for (int i = 0; i < n; i++)
        found |= info[i].domain == domid;
    ok(n >= 0 && !found, "it is gone from the domain list");
    page =
        fm ? xenforeignmemory_map(fm, domid, PROT_READ, 1, &pfn, NULL) : NULL;
    ok(!page && errno == ESRCH, "its frames cannot be mapped (ESRCH)");

    xenevtchn_close(xce);
    xenforeignmemory_close(fm);
    xc_interface_close(xch);
    stop_daemon(pid);
    return tap_done();
}
