/* lapic.c — local APIC access, x2APIC or xAPIC (lapic.h). */
#include "xenkern/lapic.h"
#include "xenkern/x86.h"

#define XAPIC_BASE        0xfee00000UL
#define APIC_BASE_EN      (1ULL << 11)
#define APIC_BASE_EXTD    (1ULL << 10)
#define CPUID1_ECX_X2APIC (1u << 21)

/* Register offsets (xAPIC MMIO); the x2APIC MSR is 0x800 + off / 16. */
#define APIC_ID         0x020
#define APIC_EOI        0x0b0
#define APIC_SVR        0x0f0
#define APIC_ICR_LO     0x300
#define APIC_ICR_HI     0x310
#define APIC_SVR_ENABLE 0x100
#define APIC_ICR_BUSY   0x01000

static bool use_x2apic;

static inline volatile uint32_t *xapic_reg(unsigned int off)
{
    return (volatile uint32_t *)(XAPIC_BASE + off);
}

static uint32_t lapic_read(unsigned int off)
{
    if (use_x2apic)
        return (uint32_t)rdmsr(0x800 + off / 16);
    return *xapic_reg(off);
}

static void lapic_write(unsigned int off, uint32_t v)
{
    if (use_x2apic)
        wrmsr(0x800 + off / 16, v);
    else
        *xapic_reg(off) = v;
}

void lapic_init(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);

    use_x2apic = cpuid(1, 0).ecx & CPUID1_ECX_X2APIC;
    base |= APIC_BASE_EN;
    if (use_x2apic)
        base |= APIC_BASE_EXTD;
    wrmsr(MSR_APIC_BASE, base);
    lapic_write(APIC_SVR, APIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
}

bool lapic_x2apic(void)
{
    return use_x2apic;
}

uint32_t lapic_id(void)
{
    uint32_t id = lapic_read(APIC_ID);
    return use_x2apic ? id : id >> 24;
}

void lapic_eoi(void)
{
    lapic_write(APIC_EOI, 0);
}

void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
    if (use_x2apic) {
        wrmsr(0x830, ((uint64_t)apic_id << 32) | icr_low);
        return;
    }
    *xapic_reg(APIC_ICR_HI) = apic_id << 24;
    *xapic_reg(APIC_ICR_LO) = icr_low;
    while (*xapic_reg(APIC_ICR_LO) & APIC_ICR_BUSY)
        cpu_relax();
}
