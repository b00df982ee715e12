/*
 * xenhv_layout.h — the guest physical layout xen-hv gives a PVH domain of
 * a given RAM size, shared by xen-hv (which backs it) and by domain
 * builders in the control domain (which populate it, write its memory map
 * and place the xenstore and console rings), as libxl and Xen agree on
 * theirs (libxl's X86_HVM_END_SPECIAL_REGION and special pages).
 *
 *   [0, min(ram, XENHV_LOWMEM_MAX))           RAM
 *   [XENHV_SPECIAL_GPA, +XENHV_NR_SPECIAL pages) special pages (reserved)
 *   0xfeffc000 (1 page), 0xfffbd000 (3 pages)  reserved for KVM (VMX
 *                                               identity map, real-mode TSS)
 *   [XENHV_HIGHMEM_BASE, + ram - lowmem)       RAM above 4 GiB
 *
 * Special pages by index (gfn = XENHV_SPECIAL_GPA / 4096 + index).
 */
#ifndef XENHV_LAYOUT_H
#define XENHV_LAYOUT_H

#define XENHV_LOWMEM_MAX    0xe0000000ULL /* RAM above this goes above 4 GiB */
#define XENHV_HIGHMEM_BASE  0x100000000ULL
#define XENHV_SPECIAL_GPA   0xfeff0000ULL
#define XENHV_NR_SPECIAL    8
#define XENHV_SPECIAL_GFN(i) ((XENHV_SPECIAL_GPA >> 12) + (i))

#define XENHV_SPECIAL_CONSOLE  0 /* HVM_PARAM_CONSOLE_PFN */
#define XENHV_SPECIAL_XENSTORE 1 /* HVM_PARAM_STORE_PFN */

/*
 * The ACPI hardware-reduced registers the FADT names (ACPI 6.4 4.8.3.7
 * Sleep Control and Status Registers, 4.8.3.6 Reset Register), one byte
 * each in I/O space, served by xen-hv (vcpu.c):
 *  - a write of SLP_EN (bit 5) with SLP_TYP (bits 4:2) = XENHV_ACPI_S5_TYP
 *    to the sleep control register is SHUTDOWN_poweroff (the DSDT's \_S5);
 *  - the sleep status register reads 0 (WAK_STS never set: no wake-up);
 *  - a write of XENHV_ACPI_RESET_VALUE to the reset register is
 *    SHUTDOWN_reboot (0xcf9, the port PC firmware uses for a reset).
 */
#define XENHV_ACPI_SLEEP_CONTROL_PORT 0xb004
#define XENHV_ACPI_SLEEP_STATUS_PORT  0xb005
#define XENHV_ACPI_S5_TYP             5
#define XENHV_ACPI_SLP_EN             0x20
#define XENHV_ACPI_RESET_PORT         0xcf9
#define XENHV_ACPI_RESET_VALUE        0x06

#endif
