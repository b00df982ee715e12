/*
 * xldom_acpi.c — RSDP, XSDT, MADT, FADT and DSDT for a PVH guest (see
 * xldom_acpi.h).  Tables are laid out one after the other, each 16-byte
 * aligned, RSDP first:
 *
 *   RSDP (36) | XSDT (36 + 2 * 8) | MADT (44 + 8 * vCPUs) | FADT (276) |
 *   DSDT (36 + 11: the \_S5 package, AML)
 *
 * Every multi-byte field is little endian, written byte by byte so that
 * no packed struct is needed; checksums make each table sum to 0 mod 256.
 */
#include <errno.h>
#include <string.h>

#include "xldom_acpi.h"
#include "xenhv_layout.h"

#define HDR_LEN         36
#define RSDP_LEN        36
#define MADT_FIXED      (HDR_LEN + 8)
#define LAPIC_LEN       8
#define FADT_FLAGS_OFF  112
#define FADT_HW_REDUCED (1u << 20) /* Flags.HW_REDUCED_ACPI */
#define FADT_BOOT_OFF   109        /* IAPC_BOOT_ARCH */
#define FADT_NO_VGA     (1u << 2)  /* VGA Not Present */
#define FADT_NO_CMOS    (1u << 5)  /* CMOS RTC Not Present */
#define FADT_MINOR_OFF  131
#define FADT_XDSDT_OFF  140
#define FADT_DSDT_OFF   40
#define FADT_RESET_SUP  (1u << 10) /* Flags.RESET_REG_SUP */
#define FADT_RESET_REG_OFF   116   /* GAS */
#define FADT_RESET_VALUE_OFF 128
#define FADT_SLEEP_CTL_OFF   244 /* GAS, hardware-reduced ACPI */
#define FADT_SLEEP_STS_OFF   256 /* GAS */
#define GAS_SYSTEM_IO        1
#define GAS_ACCESS_BYTE      1

/*
 * DSDT body: Name (_S5, Package (2) { 5, 0 }) — SLP_TYPa for the soft-off
 * state, which the guest writes to the sleep control register (ACPI 6.4
 * 7.4.2 \_Sx; AML 20.2.5.1 DefName, 20.2.5.4 DefPackage).
 */
static const uint8_t dsdt_s5[] = {
    0x08, '_', 'S', '5', '_',           /* NameOp "_S5_" */
    0x12, 0x05, 0x02,                   /* PackageOp PkgLength(5) 2 elements */
    0x0a, XENHV_ACPI_S5_TYP, 0x00,      /* BytePrefix 5, ZeroOp */
};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* The byte that makes @len bytes at @p sum to 0 (the field is 0 first). */
static uint8_t checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;

    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return (uint8_t)-sum;
}

/* The common table header (ACPI 6.4, 5.2.6); checksum set by finish(). */
static void header(uint8_t *p, const char sig[4], uint32_t len, uint8_t rev)
{
    memcpy(p, sig, 4);
    put32(p + 4, len);
    p[8] = rev;
    memcpy(p + 10, "XENHV ", 6);   /* OEMID */
    memcpy(p + 16, "XENHVPVH", 8); /* OEM Table ID */
    put32(p + 24, 1);              /* OEM Revision */
    memcpy(p + 28, "XHVT", 4);     /* Creator ID */
    put32(p + 32, 1);              /* Creator Revision */
}

static void finish(uint8_t *p, size_t len)
{
    p[9] = checksum(p, len);
}

static size_t align16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

/* gas_io: a Generic Address Structure for one byte at I/O port `port`. */
static void gas_io(uint8_t *g, uint16_t port)
{
    g[0] = GAS_SYSTEM_IO;
    g[1] = 8; /* bit width */
    g[2] = 0; /* bit offset */
    g[3] = GAS_ACCESS_BYTE;
    put64(g + 4, port);
}

long xldom_acpi_build(void *buf, uint64_t gpa, size_t len,
                      unsigned int max_vcpus, unsigned int online,
                      uint64_t *rsdp)
{
    uint8_t *b = buf;
    size_t xsdt = align16(RSDP_LEN);
    size_t madt = xsdt + align16(HDR_LEN + 2 * 8);
    size_t madt_len = MADT_FIXED + (size_t)max_vcpus * LAPIC_LEN;
    size_t fadt = madt + align16(madt_len);
    size_t dsdt = fadt + align16(XLDOM_ACPI_FADT_LEN);
    size_t dsdt_len = HDR_LEN + sizeof(dsdt_s5);
    size_t end = dsdt + dsdt_len;

    if (!buf || (gpa & 15) || max_vcpus == 0 ||
        max_vcpus > XLDOM_ACPI_MAX_VCPUS || online > max_vcpus ||
        gpa + end > (1ULL << 32))
        return -EINVAL;
    if (end > len)
        return -ENOSPC;
    memset(b, 0, end);

    /* RSDP, revision 2: checksum over 20 bytes, extended over 36. */
    memcpy(b, "RSD PTR ", 8);
    memcpy(b + 9, "XENHV ", 6);
    b[15] = 2;
    put32(b + 20, RSDP_LEN);
    put64(b + 24, gpa + xsdt);
    b[8] = checksum(b, 20);
    b[32] = checksum(b, RSDP_LEN);

    /* XSDT: the MADT and the FADT (the DSDT hangs off the FADT). */
    header(b + xsdt, "XSDT", HDR_LEN + 16, 1);
    put64(b + xsdt + HDR_LEN, gpa + madt);
    put64(b + xsdt + HDR_LEN + 8, gpa + fadt);
    finish(b + xsdt, HDR_LEN + 16);

    /* MADT: no 8259s (flags 0), a Processor Local APIC per vCPU. */
    header(b + madt, "APIC", (uint32_t)madt_len, 5);
    put32(b + madt + HDR_LEN, XLDOM_ACPI_LAPIC_BASE);
    for (unsigned int i = 0; i < max_vcpus; i++) {
        uint8_t *e = b + madt + MADT_FIXED + (size_t)i * LAPIC_LEN;

        e[0] = 0; /* Processor Local APIC */
        e[1] = LAPIC_LEN;
        e[2] = (uint8_t)i;                  /* ACPI Processor UID */
        e[3] = (uint8_t)i;                  /* APIC ID */
        put32(e + 4, i < online ? 1u : 2u); /* Enabled : Online Capable */
    }
    finish(b + madt, madt_len);

    /* FADT revision 6.4, hardware-reduced: no PM blocks, no SCI. */
    header(b + fadt, "FACP", XLDOM_ACPI_FADT_LEN, 6);
    put32(b + fadt + FADT_DSDT_OFF, (uint32_t)(gpa + dsdt));
    put16(b + fadt + FADT_BOOT_OFF, FADT_NO_VGA | FADT_NO_CMOS);
    put32(b + fadt + FADT_FLAGS_OFF, FADT_HW_REDUCED | FADT_RESET_SUP);
    gas_io(b + fadt + FADT_RESET_REG_OFF, XENHV_ACPI_RESET_PORT);
    b[fadt + FADT_RESET_VALUE_OFF] = XENHV_ACPI_RESET_VALUE;
    gas_io(b + fadt + FADT_SLEEP_CTL_OFF, XENHV_ACPI_SLEEP_CONTROL_PORT);
    gas_io(b + fadt + FADT_SLEEP_STS_OFF, XENHV_ACPI_SLEEP_STATUS_PORT);
    b[fadt + FADT_MINOR_OFF] = 4;
    put64(b + fadt + FADT_XDSDT_OFF, gpa + dsdt);
    finish(b + fadt, XLDOM_ACPI_FADT_LEN);

    /* DSDT: no ACPI devices, only \_S5 so that the guest can power off. */
    header(b + dsdt, "DSDT", (uint32_t)dsdt_len, 2);
    memcpy(b + dsdt + HDR_LEN, dsdt_s5, sizeof(dsdt_s5));
    finish(b + dsdt, dsdt_len);

    *rsdp = gpa;
    return (long)end;
}
