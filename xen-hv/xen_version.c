/*
 * xen_version.c — __HYPERVISOR_xen_version (<xen/version.h>), with the
 * answers Xen 4.17 gives an unprivileged HVM domain under its default XSM
 * policy: version, platform_parameters and get_features always; the
 * strings, pagesize and guest_handle too; commandline (and any sub-op
 * that needs privilege) gets "<denied>".
 */
#include <stdint.h>
#include <string.h>

#include <xen/errno.h>
#include <xen/features.h>
#include <xen/version.h>

#include "xen_cpuid.h"
#include "guest_copy.h"
#include "hypercall.h"

#define XENHV_EXTRAVERSION ".0-xenhv"
#define XENHV_CHANGESET    "xen-hv " XENHV_GIT_VERSION
#define XENHV_CAPABILITIES "hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64"
#define XEN_DENY           "<denied>"

#ifndef XENHV_GIT_VERSION
#define XENHV_GIT_VERSION "unknown"
#endif

/*
 * The XENFEAT bits xen-hv honours for a PVH guest: guest page tables are
 * its own (writable_page_tables), it sees guest frames only
 * (auto_translated_physmap), events may arrive on a vector
 * (hvm_callback_vector), and its pvclock is usable before any Xen setup
 * (hvm_safe_pvclock).
 */
static uint32_t xen_features_submap0(const struct domain *d)
{
    return (1u << XENFEAT_writable_page_tables) |
           (1u << XENFEAT_auto_translated_physmap) |
           (1u << XENFEAT_hvm_callback_vector) |
           (1u << XENFEAT_hvm_safe_pvclock);
}

static long copy_string(struct vcpu *v, gva_t arg, const char *s, size_t size)
{
    char buf[1024];

    memset(buf, 0, sizeof(buf));
    strncpy(buf, s, size - 1);
    return copy_to_guest(v, arg, buf, size) ? -XEN_EFAULT : 0;
}

long do_xen_version(struct vcpu *v, const struct hypercall_args *a)
{
    int cmd = (int)a->a[0];
    gva_t arg = a->a[1];
    bool deny = true; /* every domain is unprivileged until dom0 exists */

    switch (cmd) {
    case XENVER_version:
        return (XENHV_VERSION_MAJOR << 16) | XENHV_VERSION_MINOR;

    case XENVER_extraversion:
        return copy_string(v, arg, XENHV_EXTRAVERSION,
                           sizeof(xen_extraversion_t));

    case XENVER_compile_info: {
        xen_compile_info_t info;
        memset(&info, 0, sizeof(info));
        strncpy(info.compiler, "gcc " __VERSION__, sizeof(info.compiler) - 1);
        strncpy(info.compile_by, "xen-hv", sizeof(info.compile_by) - 1);
        strncpy(info.compile_domain, "localdomain",
                sizeof(info.compile_domain) - 1);
        strncpy(info.compile_date, __DATE__ " " __TIME__,
                sizeof(info.compile_date) - 1);
        return copy_to_guest(v, arg, &info, sizeof(info)) ? -XEN_EFAULT : 0;
    }

    case XENVER_capabilities:
        return copy_string(v, arg, XENHV_CAPABILITIES,
                           sizeof(xen_capabilities_info_t));

    case XENVER_changeset:
        return copy_string(v, arg, XENHV_CHANGESET,
                           sizeof(xen_changeset_info_t));

    case XENVER_platform_parameters: {
        /* Xen 4.17 answers HYPERVISOR_VIRT_START whatever the guest. */
        xen_platform_parameters_t p = {.virt_start = 0xffff800000000000UL};
        if (!a->is_64) {
            uint32_t p32 = 0;
            return copy_to_guest(v, arg, &p32, sizeof(p32)) ? -XEN_EFAULT : 0;
        }
        return copy_to_guest(v, arg, &p, sizeof(p)) ? -XEN_EFAULT : 0;
    }

    case XENVER_get_features: {
        xen_feature_info_t fi;
        if (copy_from_guest(v, &fi, arg, sizeof(fi)))
            return -XEN_EFAULT;
        if (fi.submap_idx != 0)
            return -XEN_EINVAL;
        fi.submap = xen_features_submap0(v->d);
        return copy_to_guest(v, arg, &fi, sizeof(fi)) ? -XEN_EFAULT : 0;
    }

    case XENVER_pagesize:
        return arg != 0 ? -XEN_EINVAL : (long)GMEM_PAGE_SIZE;

    case XENVER_guest_handle:
        return copy_to_guest(v, arg, v->d->handle, sizeof(v->d->handle))
                   ? -XEN_EFAULT
                   : 0;

    case XENVER_commandline:
        if (deny)
            return copy_to_guest(v, arg, XEN_DENY, sizeof(XEN_DENY))
                       ? -XEN_EFAULT
                       : 0;
        return copy_string(v, arg, v->d->xen_cmdline ? v->d->xen_cmdline : "",
                           sizeof(xen_commandline_t));

    case XENVER_build_id:
        return -XEN_EPERM; /* XSM_PRIV in Xen's default policy */
    }
    return -XEN_ENOSYS;
}
