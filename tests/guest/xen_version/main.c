/*
 * xen_version — __HYPERVISOR_xen_version (<xen/version.h>) as Xen 4.17's
 * do_xen_version() (xen/common/kernel.c) answers an unprivileged HVM
 * domain under the default XSM policy (xsm/dummy.h xsm_xen_version()).
 */
#include <stdint.h>
#include <xen/features.h>
#include <xen/version.h>

#include "../common.h"

/* Xen's HYPERVISOR_VIRT_START on x86_64 (asm/config.h: PML4_ADDR(256)). */
#define XEN_X86_64_VIRT_START 0xffff800000000000ULL

static bool string_ok(const char *s, size_t size)
{
    size_t n = strnlen(s, size);
    return n > 0 && n < size;
}

void test_main(void)
{
    xen_extraversion_t extra;
    xen_compile_info_t info;
    xen_capabilities_info_t caps;
    xen_changeset_info_t chg;
    xen_feature_info_t fi = {.submap_idx = 0};
    xen_platform_parameters_t pp = {0};
    xen_commandline_t cmd;
    uint8_t handle[32];
    long rc;

    require_xen();
    tap_plan(25);

    is_int(HYPERVISOR_xen_version(XENVER_version, NULL), (4 << 16) | 17,
           "XENVER_version is 4.17");

    memset(extra, 0xff, sizeof(extra));
    rc = HYPERVISOR_xen_version(XENVER_extraversion, extra);
    is_int(rc, 0, "XENVER_extraversion");
    ok(string_ok(extra, sizeof(extra)), "extraversion \"%s\" NUL-terminated",
       extra);

    memset(&info, 0xff, sizeof(info));
    rc = HYPERVISOR_xen_version(XENVER_compile_info, &info);
    is_int(rc, 0, "XENVER_compile_info");
    ok(string_ok(info.compiler, sizeof(info.compiler)) &&
           string_ok(info.compile_by, sizeof(info.compile_by)) &&
           string_ok(info.compile_domain, sizeof(info.compile_domain)) &&
           string_ok(info.compile_date, sizeof(info.compile_date)),
       "compile_info fields non-empty and NUL-terminated");

    memset(caps, 0xff, sizeof(caps));
    rc = HYPERVISOR_xen_version(XENVER_capabilities, caps);
    is_int(rc, 0, "XENVER_capabilities");
    ok(string_ok(caps, sizeof(caps)) && strstr(caps, "hvm-3.0-x86_64"),
       "capabilities \"%s\" has hvm-3.0-x86_64", caps);

    memset(chg, 0xff, sizeof(chg));
    rc = HYPERVISOR_xen_version(XENVER_changeset, chg);
    is_int(rc, 0, "XENVER_changeset");
    ok(string_ok(chg, sizeof(chg)), "changeset \"%s\" NUL-terminated", chg);

    rc = HYPERVISOR_xen_version(XENVER_platform_parameters, &pp);
    is_int(rc, 0, "XENVER_platform_parameters");
    ok(pp.virt_start == XEN_X86_64_VIRT_START,
       "virt_start is HYPERVISOR_VIRT_START (got 0x%lx)",
       (unsigned long)pp.virt_start);

    rc = HYPERVISOR_xen_version(XENVER_get_features, &fi);
    is_int(rc, 0, "XENVER_get_features submap 0");
    ok(fi.submap & (1u << XENFEAT_auto_translated_physmap),
       "XENFEAT_auto_translated_physmap (submap 0x%x)", fi.submap);
    ok(fi.submap & (1u << XENFEAT_hvm_callback_vector),
       "XENFEAT_hvm_callback_vector");
    ok(fi.submap & (1u << XENFEAT_hvm_safe_pvclock),
       "XENFEAT_hvm_safe_pvclock");
    ok(!(fi.submap & (1u << XENFEAT_dom0)), "not XENFEAT_dom0");

    fi.submap_idx = 1;
    is_int(HYPERVISOR_xen_version(XENVER_get_features, &fi), -XEN_EINVAL,
           "get_features submap 1 is -EINVAL");

    is_int(HYPERVISOR_xen_version(XENVER_pagesize, NULL), 4096,
           "XENVER_pagesize is 4096");
    /* kernel.c: a non-NULL handle is -EINVAL. */
    is_int(HYPERVISOR_xen_version(XENVER_pagesize, handle), -XEN_EINVAL,
           "XENVER_pagesize with a buffer is -EINVAL");

    memset(handle, 0xa5, sizeof(handle));
    rc = HYPERVISOR_xen_version(XENVER_guest_handle, handle);
    ok(rc == 0 && handle[16] == 0xa5 && handle[31] == 0xa5,
       "XENVER_guest_handle writes 16 bytes (rc %ld)", rc);

    /* XSM_PRIV for a domU: the text is xen_deny(), "<denied>". */
    memset(cmd, 0xff, sizeof(cmd));
    rc = HYPERVISOR_xen_version(XENVER_commandline, cmd);
    ok(rc == 0 && !strcmp(cmd, "<denied>"),
       "XENVER_commandline is \"<denied>\" (rc %ld)", rc);

    is_int(HYPERVISOR_xen_version(XENVER_build_id, NULL), -XEN_EPERM,
           "XENVER_build_id is -EPERM");
    is_int(HYPERVISOR_xen_version(0x7f, NULL), -XEN_ENOSYS,
           "unknown sub-op is -ENOSYS");
    is_int(HYPERVISOR_xen_version(XENVER_extraversion, BAD_PTR), -XEN_EFAULT,
           "extraversion to an unmapped address is -EFAULT");
    is_int(HYPERVISOR_xen_version(XENVER_get_features, BAD_PTR), -XEN_EFAULT,
           "get_features from an unmapped address is -EFAULT");
}
