/*
 * test_acpi — the ACPI tables the domain builder writes
 * (toolstack/libxl/xldom_acpi.c), checked byte by byte against ACPI 6.4:
 * RSDP (5.2.5), headers and checksums (5.2.6), XSDT (5.2.8), FADT
 * (5.2.9: hardware-reduced, X_DSDT), MADT (5.2.12: a Processor Local APIC
 * per vCPU, enabled or online capable), the reset register and the
 * hardware-reduced sleep control/status registers (4.8.3.6, 4.8.3.7), a
 * DSDT holding only \_S5 (7.4.2); bad arguments.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "xldom_acpi.h"

#define GPA 0x1fff000ULL

static uint8_t buf[8192];

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static unsigned int sum(const uint8_t *p, size_t n)
{
    unsigned int s = 0;

    for (size_t i = 0; i < n; i++)
        s += p[i];
    return s & 0xff;
}

/* The table at guest address @gpa, or NULL when outside buf. */
static const uint8_t *at(uint64_t gpa)
{
    return gpa >= GPA && gpa - GPA < sizeof(buf) ? buf + (gpa - GPA) : NULL;
}

int main(void)
{
    const uint8_t *xsdt, *madt, *fadt, *dsdt;
    uint64_t rsdp = 0;
    long n;
    int good;

    tap_plan(31);
    n = xldom_acpi_build(buf, GPA, 4096, 4, 2, &rsdp);
    ok(n > 0 && n <= 4096, "tables for 4 vCPUs (2 online) fit a page: %ld", n);
    is_u64(rsdp, GPA, "the RSDP is at the start");
    ok(!memcmp(buf, "RSD PTR ", 8) && buf[15] == 2 && get32(buf + 20) == 36,
       "RSDP: signature, revision 2, length 36");
    ok(sum(buf, 20) == 0 && sum(buf, 36) == 0,
       "RSDP: both checksums (20 and 36 bytes) sum to 0");
    xsdt = at(get64(buf + 24));
    ok(xsdt && !memcmp(xsdt, "XSDT", 4) && get32(xsdt + 4) == 52 &&
           sum(xsdt, 52) == 0,
       "XSDT: signature, 2 entries, checksum");
    madt = xsdt ? at(get64(xsdt + 36)) : NULL;
    fadt = xsdt ? at(get64(xsdt + 44)) : NULL;
    ok(madt && !memcmp(madt, "APIC", 4), "XSDT entry 0 is the MADT");
    ok(fadt && !memcmp(fadt, "FACP", 4), "XSDT entry 1 is the FADT");
    if (!madt || !fadt) {
        tap_skip(20, "no MADT or FADT");
        return tap_done();
    }
    is_int(get32(madt + 4), 44 + 4 * 8, "MADT length: 44 + 8 per vCPU");
    is_int(sum(madt, get32(madt + 4)), 0, "MADT checksum");
    is_int(get32(madt + 36), 0xfee00000, "MADT local APIC address");
    is_int(get32(madt + 40), 0, "MADT flags: no PC-AT 8259s");
    good = 1;
    for (int i = 0; i < 4; i++) {
        const uint8_t *e = madt + 44 + i * 8;
        good &= e[0] == 0 && e[1] == 8 && e[2] == i && e[3] == i &&
                get32(e + 4) == (i < 2 ? 1u : 2u);
    }
    ok(good, "MADT: Processor Local APIC i with UID i and APIC id i");
    ok(get32(madt + 44 + 4) == 1 && get32(madt + 44 + 3 * 8 + 4) == 2,
       "online vCPUs are Enabled, the others Online Capable");
    is_int(get32(fadt + 4), 276, "FADT length 276");
    is_int(fadt[8], 6, "FADT revision 6");
    is_int(fadt[131], 4, "FADT minor version 4");
    is_int(sum(fadt, 276), 0, "FADT checksum");
    ok(get32(fadt + 112) & (1u << 20), "FADT: HW_REDUCED_ACPI");
    is_int(get32(fadt + 109) & 0xffff, 0x24,
           "FADT IAPC_BOOT_ARCH: no VGA, no CMOS RTC");
    dsdt = at(get64(fadt + 140));
    ok(dsdt && get32(fadt + 40) == get64(fadt + 140),
       "FADT X_DSDT and DSDT agree");
    {
        /* Name (_S5, Package (2) { 5, 0 }) in AML */
        static const uint8_t s5[] = {0x08, '_', 'S', '5', '_', 0x12,
                                     0x05, 0x02, 0x0a, 0x05, 0x00};
        ok(dsdt && !memcmp(dsdt, "DSDT", 4) && get32(dsdt + 4) == 47 &&
               sum(dsdt, 47) == 0 && !memcmp(dsdt + 36, s5, sizeof(s5)),
           "DSDT: only Name (_S5, Package { 5, 0 }), checksum");
    }
    ok(get32(fadt + 112) & (1u << 10), "FADT: RESET_REG_SUP");
    ok(fadt[116] == 1 && fadt[117] == 8 && fadt[119] == 1 &&
           get64(fadt + 120) == 0xcf9 && fadt[128] == 0x06,
       "FADT RESET_REG: SystemIO byte at 0xcf9, value 6");
    ok(fadt[244] == 1 && fadt[245] == 8 && get64(fadt + 248) == 0xb004,
       "FADT SLEEP_CONTROL_REG: SystemIO byte at 0xb004");
    ok(fadt[256] == 1 && fadt[257] == 8 && get64(fadt + 260) == 0xb005,
       "FADT SLEEP_STATUS_REG: SystemIO byte at 0xb005");

    is_int(xldom_acpi_build(buf, GPA, 4096, 128, 128, &rsdp) > 0, 1,
           "128 vCPUs fit a page");
    is_int(xldom_acpi_build(buf, GPA + 8, 4096, 1, 1, &rsdp), -EINVAL,
           "a gpa not 16-byte aligned: -EINVAL");
    is_int(xldom_acpi_build(buf, GPA, 4096, 0, 0, &rsdp), -EINVAL,
           "no vCPU: -EINVAL");
    is_int(xldom_acpi_build(buf, GPA, 4096, 2, 3, &rsdp), -EINVAL,
           "more online than max: -EINVAL");
    is_int(xldom_acpi_build(buf, GPA, 4096, 256, 1, &rsdp), -EINVAL,
           "256 vCPUs (APIC ids are 8-bit here): -EINVAL");
    is_int(xldom_acpi_build(buf, GPA, 100, 1, 1, &rsdp), -ENOSPC,
           "a buffer too small: -ENOSPC");
    return tap_done();
}
