/*
 * foreignmem — the control domain maps a guest's frames with
 * libxenforeignmemory (dom0-tools): the bytes are the guest's, writes
 * reach the guest, per-page errors follow Xen's err[] rules, an unknown
 * domain is ESRCH, and an unprivileged process (uid 65534) is refused by
 * xen-hv's SO_PEERCRED check (EPERM) for foreign memory and events alike.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xenforeignmemory.h>

#include "harness.h"
#include "tap.h"

/*
 * In a child running as nobody: 0 when foreign memory is refused (EPERM)
 * while event channels open — as a process domain, not as domain 0.
 */
static int unprivileged_refused(void)
{
    pid_t p = fork();
    int st;

    if (p == 0) {
        if (setgid(65534) || setuid(65534))
            _exit(3);
        xenforeignmemory_handle *f = xenforeignmemory_open(NULL, 0);
        if (f || errno != EPERM)
            _exit(1);
        xenevtchn_handle *e = xenevtchn_open(NULL, 0);
        if (!e)
            _exit(2);
        /* Its domid is not 0: binding to the guest's dom0 port fails. */
        _exit(0);
    }
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    char img[512], guest_out[16384] = "";
    int status, port = -1, local, err[2] = {-1, -1};
    unsigned long gfn = 0;
    xenforeignmemory_handle *fm;
    xenevtchn_handle *eh;
    uint8_t *p;
    pid_t pid;
    FILE *out;

    if (access("/dev/kvm", R_OK | W_OK) != 0)
        tap_skip_all("/dev/kvm not usable (lab.dom0-tests runs this on the lab "
                     "VM's KVM)");
    if (geteuid() != 0)
        tap_skip_all("needs root: the control domain is uid 0");
    snprintf(img, sizeof(img), "%s/guest.elf", dir);
    tap_plan(10);
    pid = start_run("fm", img, &out);
    {
        const char *r = read_ready(out, guest_out, sizeof(guest_out));
        if (r)
            sscanf(r, "READY port=%d gfn=%lx", &port, &gfn);
    }
    ok(port > 0 && gfn > 0, "the guest offers gfn %#lx", gfn);
    is_int(unprivileged_refused(), 0,
           "uid 65534 (SO_PEERCRED) gets no foreign memory (EPERM)");
    fm = xenforeignmemory_open(NULL, 0);
    eh = xenevtchn_open(NULL, 0);
    ok(fm && eh, "root connects as domain 0");
    if (!fm || !eh) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return tap_done();
    }
    {
        xen_pfn_t one = gfn;
        p = xenforeignmemory_map(fm, 1, PROT_READ | PROT_WRITE, 1, &one, NULL);
    }
    ok(p && p[0] == 0x5a && p[4095] == (uint8_t)(4095 ^ 0x5a),
       "the mapped frame holds the guest's bytes");
    ok(xenforeignmemory_map(fm, 42, PROT_READ, 1, (xen_pfn_t[]){gfn}, NULL) ==
               NULL &&
           errno == ESRCH,
       "an unknown domain is ESRCH");
    {
        xen_pfn_t two[2] = {gfn, 0x7ffffff};
        uint8_t *q = xenforeignmemory_map(fm, 1, PROT_READ, 2, two, err);
        ok(q && err[0] == 0 && err[1] == EINVAL && q[0] == 0x5a,
           "per-page errors: a frame outside the domain is EINVAL in err[]");
        if (q)
            xenforeignmemory_unmap(fm, q, 2);
        errno = 0;
        ok(xenforeignmemory_map(fm, 1, PROT_READ, 2, two, NULL) == NULL &&
               errno == EINVAL,
           "without err[] one bad frame fails the whole map");
    }
    if (p) {
        p[0] = 0xee;
        p[4095] = 0xff;
        xenforeignmemory_unmap(fm, p, 1);
    }
    local = xenevtchn_bind_interdomain(eh, 1, (evtchn_port_t)port);
    ok(local > 0 && xenevtchn_notify(eh, (evtchn_port_t)local) == 0,
       "told the guest");
    xenevtchn_close(eh);
    xenforeignmemory_close(fm);
    drain(out, guest_out, sizeof(guest_out));
    waitpid(pid, &status, 0);
    is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
           "the guest powered off");
    ok(strstr(guest_out, "\nnot ok") == NULL && strstr(guest_out, "ok 3") &&
           !strstr(guest_out, "Bail out"),
       "the guest's own tests passed");
    if (tap_fail_count)
        for (char *l = strtok(guest_out, "\n"); l; l = strtok(NULL, "\n"))
            tap_diag("guest: %s", l);
    return tap_done();
}
