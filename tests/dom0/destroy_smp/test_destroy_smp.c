/*
 * destroy_smp — destroying a domain with several vCPUs, while they run and
 * after the guest has shut down, leaves xen-hv serving (found through xl:
 * the second vCPU's stop kicked the first, already freed).  The guest is
 * tests/guest/evtchn_smp (2 vCPUs: vCPU 1 waits for IPIs).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xenevtchn.h>

#include "harness.h"
#include "tap.h"

#define ROUNDS 10

static int create_smp(unsigned int vcpus)
{
    struct xenhv_domain_create_req r = {.memory_mib = 32, .vcpus = vcpus};
    uint32_t domid = 0;

    snprintf(r.name, sizeof(r.name), "smp%u", vcpus);
    if (privcmd_call(&pc, XENHV_OP_DOMAIN_CREATE, &r, sizeof(r), &domid,
                     sizeof(domid), NULL, NULL))
        return -1;
    return (int)domid;
}

static int alive(void)
{
    struct xenhv_domain_info di[32];
    uint32_t n = 0;
    return privcmd_call(&pc, XENHV_OP_DOMAIN_LIST, NULL, 0, di, sizeof(di), &n,
                        NULL) == 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    static char img[512];
    int running_ok = 0, stopped_ok = 0, built = 0;
    pid_t pid;

    if (access("/dev/kvm", R_OK | W_OK) != 0)
        tap_skip_all("/dev/kvm not usable (lab.dom0-tests runs this on the lab "
                     "VM's KVM)");
    if (geteuid() != 0)
        tap_skip_all("needs root: only the control domain destroys domains");
    snprintf(img, sizeof(img), "%s/../../guest/evtchn_smp/evtchn_smp.elf", dir);
    if (access(img, R_OK) != 0)
        tap_skip_all("tests/guest/evtchn_smp not built");
    image = img;
    tap_plan(4);
    pid = start_daemon("smp");
    for (int r = 0; r < ROUNDS; r++) {
        /* Destroyed at once, while its vCPUs run. */
        int d = create_smp(2);
        if (d > 0 && build(d, "") == 0 &&
            simple(XENHV_OP_DOMAIN_UNPAUSE, d) == 0) {
            built++;
            usleep(1000 * (r % 5));
            running_ok += simple(XENHV_OP_DOMAIN_DESTROY, d) == 0 && alive();
        }
        /* Destroyed after the guest has finished and shut down. */
        d = create_smp(3);
        if (d > 0 && build(d, "") == 0 &&
            simple(XENHV_OP_DOMAIN_UNPAUSE, d) == 0) {
            built++;
            wait_shutdown(d);
            stopped_ok += simple(XENHV_OP_DOMAIN_DESTROY, d) == 0 && alive();
        }
    }
    is_int(built, 2 * ROUNDS, "built and started 2- and 3-vCPU domains");
    is_int(running_ok, ROUNDS, "destroyed while running, xen-hv still serves");
    is_int(stopped_ok, ROUNDS, "destroyed after shutdown, xen-hv still serves");
    is_int(stop_daemon(pid), 0, "xen-hv exits cleanly");
    return tap_done();
}
