/*
 * xldom_acpi.h — the minimal ACPI tables the domain builder gives a PVH
 * guest (docs/misc/pvh.pandoc: hvm_start_info.rsdp_paddr), so that a
 * guest finds its vCPUs as on Xen: RSDP (revision 2) -> XSDT -> MADT (one
 * Processor Local APIC per vCPU) and a hardware-reduced FADT -> an empty
 * DSDT.  Layouts: ACPI 6.4 sections 5.2.5 (RSDP), 5.2.6 (header), 5.2.8
 * (XSDT), 5.2.9 (FADT), 5.2.12 (MADT).  Pure: no I/O, unit-tested.
 */
#ifndef XLDOM_ACPI_H
#define XLDOM_ACPI_H

#include <stddef.h>
#include <stdint.h>

#define XLDOM_ACPI_LAPIC_BASE 0xfee00000u /* MADT local APIC address */
#define XLDOM_ACPI_FADT_LEN   276         /* FADT revision 6 */
#define XLDOM_ACPI_MAX_VCPUS  255         /* 8-bit APIC ids in type 0 */

/*
 * xldom_acpi_build: write the tables into @buf, which the guest sees at
 * guest physical address @gpa (16-byte aligned), at most @len bytes.
 * @max_vcpus Local APIC entries (ACPI processor UID and APIC id = vCPU
 * id, as KVM numbers them); the first @online are enabled, the others
 * "online capable" (hot-pluggable).  *@rsdp gets the RSDP's address
 * (= @gpa).  Returns the bytes used, -EINVAL (bad arguments) or -ENOSPC.
 */
long xldom_acpi_build(void *buf, uint64_t gpa, size_t len,
                      unsigned int max_vcpus, unsigned int online,
                      uint64_t *rsdp);

#endif
