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

#endif
