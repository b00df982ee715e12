/*
 * pdom_share — a process domain grants its own memory: an unprivileged
 * process (uid 65534) shares a page with the guest through xengntshr
 * (libxengnttab's sharing side); the guest maps it, sees the bytes and
 * writes one the process then reads; while mapped the process cannot
 * revoke it (EBUSY), after the unmap it can.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <xengnttab.h>

#include "harness.h"
#include "tap.h"

/* The sharing process, as nobody.  0, or the number of the failed check. */
static int sharer(void)
{
    xengntshr_handle *s;
    uint32_t ref = 0;
    uint8_t *p;
    int i;

    if (setgid(65534) || setuid(65534))
        return 1;
    s = xengntshr_open(NULL, 0);
    if (!s)
        return 2;
    p = xengntshr_share_pages(s, 1, 1, &ref, 1);
    if (!p || ref != 8)
        return 3;
    for (i = 0; i < 4096; i++)
        p[i] = (uint8_t)(i * 5);
    for (i = 0; i < 1000 && ((volatile uint8_t *)p)[9] != 0x99; i++)
        usleep(10000);
    if (((volatile uint8_t *)p)[9] != 0x99)
        return 4; /* the guest's write never arrived */
    /* Revoking fails while the guest maps it, then works. */
    for (i = 0; i < 1000 && xengntshr_unshare(s, p, 1) != 0; i++) {
        if (errno != EBUSY)
            return 5;
        usleep(10000);
    }
    if (i == 1000)
        return 6;
    xengntshr_close(s);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    char img[512], guest_out[16384] = "";
    pid_t pid, sh;
    FILE *out;
    int st;

    if (access("/dev/kvm", R_OK | W_OK) != 0)
        tap_skip_all("/dev/kvm not usable (lab.dom0-tests runs this on the lab "
                     "VM's KVM)");
    if (geteuid() != 0)
        tap_skip_all("needs root to run the sharer as uid 65534");
    snprintf(img, sizeof(img), "%s/guest.elf", dir);
    tap_plan(4);
    pid = start_run("sh", img, &out);
    ok(read_ready(out, guest_out, sizeof(guest_out)) != NULL, "guest ready");
    sh = fork();
    if (sh == 0)
        _exit(sharer());
    waitpid(sh, &st, 0);
    is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0,
           "the unprivileged sharer's checks (0 = all passed)");
    drain(out, guest_out, sizeof(guest_out));
    is_int(wait_exit(pid), 0, "the guest powered off");
    ok(guest_tap_passed(guest_out, 4), "the guest's own tests passed");
    if (tap_fail_count)
        tap_diag("guest: %s", guest_out);
    return tap_done();
}
