/* hello.c — demo image: greeting, Xen version, pvclock time, poweroff. */
#include <stdint.h>
#include <xen/version.h>

#include "xenkern/boot.h"
#include "xenkern/console.h"
#include "xenkern/hypercall.h"
#include "xenkern/kernel.h"
#include "xenkern/pvclock.h"
#include "xenkern/shared.h"

void kernel_main(void)
{
    xen_extraversion_t extra = {0};
    uint64_t sec;
    uint32_t nsec;
    long ver;

    printf("Hello from xenkern (cmdline \"%s\")\n", boot_cmdline());
    if (!xen_present) {
        printf("no Xen signature in CPUID: debug-port console\n");
        return;
    }
    ver = HYPERVISOR_xen_version(XENVER_version, NULL);
    HYPERVISOR_xen_version(XENVER_extraversion, extra);
    printf("Xen %ld.%ld%s (CPUID base 0x%x)\n", ver >> 16, ver & 0xffff, extra,
           xen_cpuid_base);
    printf("pvclock: %llu ns since boot\n", (unsigned long long)time_now_ns());
    if (wallclock_read(&sec, &nsec) == 0)
        printf("wallclock: %llu.%09u s since the epoch\n",
               (unsigned long long)sec, nsec);
}
