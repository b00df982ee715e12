/*
 * lapic.h — the local APIC: x2APIC (MSRs 0x800+) when CPUID.1:ECX[21]
 * says so, else xAPIC MMIO at 0xfee00000 (mapped uncached by head.S).
 * Intel SDM vol. 3, chapter 10.
 */
#ifndef XENKERN_LAPIC_H
#define XENKERN_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_SPURIOUS_VECTOR 0xff

/* ICR delivery modes and shorthands (bits 8–10, 18–19 of ICR low). */
#define APIC_DM_FIXED     0x00000
#define APIC_DM_INIT      0x00500
#define APIC_DM_STARTUP   0x00600
#define APIC_LEVEL_ASSERT 0x04000
#define APIC_DEST_ALLBUT  0xc0000

/* lapic_init — this CPU: x2APIC mode if available, software enable. */
void lapic_init(void);

/* lapic_x2apic — true when x2APIC mode is in use. */
bool lapic_x2apic(void);

/* lapic_id — this CPU's APIC id. */
uint32_t lapic_id(void);

/* lapic_eoi — end of interrupt for the in-service vector. */
void lapic_eoi(void);

/* lapic_send_ipi — write ICR: icr_low (vector | APIC_DM_* | shorthand)
 * to apic_id; waits for the xAPIC delivery status to clear. */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low);

#endif
