/*
 * gnttab_map — a control-domain program maps a guest's grants through
 * libxengnttab (dom0-tools) and xen-hv's control socket: read/write and
 * read-only grants map and show the guest's bytes, writes reach the guest,
 * and the refusals (a read-only grant for writing, a grant made for
 * another domain, an out-of-range ref, an unknown domain) fail.  Events
 * (libxenevtchn) pace the guest.  Prints TAP; checks the guest's TAP too.
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
#include <xengnttab.h>

#include "harness.h"
#include "tap.h"

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    char img[512], guest_out[16384] = "";
    int status, port = -1, a = -1, b = -1, c = -1, local = -1;
    xenevtchn_handle *eh = NULL;
    xengnttab_handle *gh = NULL;
    uint8_t *rw = NULL, *ro = NULL;
    pid_t pid;
    FILE *out;

    if (access("/dev/kvm", R_OK | W_OK) != 0)
        tap_skip_all("/dev/kvm not usable (lab.dom0-tests runs this on the lab "
                     "VM's KVM)");
    snprintf(img, sizeof(img), "%s/guest.elf", dir);
    tap_plan(16);
    pid = start_run("gm", img, &out);
    {
        const char *r = read_ready(out, guest_out, sizeof(guest_out));
        if (r)
            sscanf(r, "READY port=%d rw=%d ro=%d other=%d", &port, &a, &b, &c);
    }
    ok(port > 0 && a > 0 && b > 0 && c > 0, "the guest granted %d %d %d", a, b,
       c);
    eh = xenevtchn_open(NULL, 0);
    gh = xengnttab_open(NULL, 0);
    ok(eh && gh, "libxenevtchn and libxengnttab connect as domain 0");
    if (!eh || !gh || port <= 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return tap_done();
    }
    local = xenevtchn_bind_interdomain(eh, 1, (evtchn_port_t)port);
    ok(local > 0 && wait_event(eh, 5000) == local, "event channel bound");

    rw = xengnttab_map_grant_ref(gh, 1, (uint32_t)a, PROT_READ | PROT_WRITE);
    ok(rw != NULL && rw[1] == 7 && rw[100] == (uint8_t)700,
       "read/write grant maps and shows the guest's bytes");
    ro = xengnttab_map_grant_ref(gh, 1, (uint32_t)b, PROT_READ);
    ok(ro != NULL && ro[0] == 255 && ro[10] == 245,
       "read-only grant maps read-only");
    ok(xengnttab_map_grant_ref(gh, 1, (uint32_t)b, PROT_READ | PROT_WRITE) ==
               NULL &&
           errno == EINVAL,
       "a read-only grant cannot be mapped for writing");
    ok(xengnttab_map_grant_ref(gh, 1, (uint32_t)c, PROT_READ) == NULL,
       "a grant made for domain 5 cannot be mapped by domain 0");
    ok(xengnttab_map_grant_ref(gh, 1, 100000, PROT_READ) == NULL,
       "an out-of-range ref cannot be mapped");
    ok(xengnttab_map_grant_ref(gh, 42, (uint32_t)a, PROT_READ) == NULL,
       "a grant of an unknown domain cannot be mapped");
    {
        /* GNTTABOP_copy both ways through libxengnttab. */
        uint8_t buf[16], src[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        xengnttab_grant_copy_segment_t seg[3] = {
            {.source.foreign = {.ref = (uint32_t)a, .offset = 100, .domid = 1},
             .dest.virt = buf,
             .len = 16,
             .flags = GNTCOPY_source_gref},
            {.source.virt = src,
             .dest.foreign = {.ref = (uint32_t)a, .offset = 300, .domid = 1},
             .len = 8,
             .flags = GNTCOPY_dest_gref},
            {.source.virt = src,
             .dest.foreign = {.ref = (uint32_t)b, .offset = 0, .domid = 1},
             .len = 8,
             .flags = GNTCOPY_dest_gref},
        };
        ok(xengnttab_grant_copy(gh, 3, seg) == 0 &&
               seg[0].status == GNTST_okay && buf[0] == (uint8_t)700 &&
               buf[15] == (uint8_t)(115 * 7),
           "grant_copy out of the guest's grant");
        ok(seg[1].status == GNTST_okay && rw && rw[300] == 1 && rw[307] == 8,
           "grant_copy into the guest's grant (seen through our mapping)");
        is_int(seg[2].status, GNTST_general_error,
               "grant_copy into a read-only grant fails (general_error)");
    }
    if (rw) {
        rw[0] = 0xd0;
        rw[4095] = 0x0d;
    }
    {
        int n = xenevtchn_notify(eh, (evtchn_port_t)local);
        int e = n == 0 ? wait_event(eh, 10000) : -2;
        ok(n == 0 && e == local,
           "the guest checked the page and answered (notify %d, event %d)", n,
           e);
    }
    ok((!rw || xengnttab_unmap(gh, rw, 1) == 0) &&
           (!ro || xengnttab_unmap(gh, ro, 1) == 0),
       "both mappings unmapped");
    xenevtchn_notify(eh, (evtchn_port_t)local);
    xengnttab_close(gh);
    xenevtchn_close(eh);
    drain(out, guest_out, sizeof(guest_out));
    waitpid(pid, &status, 0);
    is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
           "the guest powered off");
    ok(strstr(guest_out, "\nnot ok") == NULL && strstr(guest_out, "ok 8") &&
           !strstr(guest_out, "Bail out"),
       "the guest's own tests passed");
    if (tap_fail_count)
        for (char *l = strtok(guest_out, "\n"); l; l = strtok(NULL, "\n"))
            tap_diag("guest: %s", l);
    return tap_done();
}
