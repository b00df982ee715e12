/*
 * x86.h — the few x86 instructions the kernel needs, as inline functions.
 *
 * Nothing here uses SSE, x87, xsave, int3 or vmcall: on kvm_pvm those can
 * stop the VM (see ../../README.md).
 */
#ifndef XENKERN_X86_H
#define XENKERN_X86_H

#include <stdint.h>

#define MSR_APIC_BASE 0x0000001b
#define MSR_EFER      0xc0000080
#define MSR_GS_BASE   0xc0000101

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

/* cpuid — execute CPUID for (leaf, subleaf). */
static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    asm volatile("cpuid"
                 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                 : "a"(leaf), "c"(subleaf));
    return r;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t val)
{
    asm volatile("wrmsr" ::"c"(msr), "a"((uint32_t)val),
                 "d"((uint32_t)(val >> 32))
                 : "memory");
}

/* rdtsc — the TSC, ordered after earlier loads (lfence). */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    asm volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}

static inline void outb(uint16_t port, uint8_t v)
{
    asm volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
    asm volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline unsigned long read_cr2(void)
{
    unsigned long v;
    asm volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static inline void cpu_relax(void)
{
    asm volatile("pause" ::: "memory");
}

static inline void barrier(void)
{
    asm volatile("" ::: "memory");
}

/* Loads and stores are not reordered with each other on x86 except
 * store→load; smp_mb() is the full fence for that case. */
static inline void smp_mb(void)
{
    asm volatile("lock addl $0, -8(%%rsp)" ::: "memory", "cc");
}
#define smp_rmb() barrier()
#define smp_wmb() barrier()

#define READ_ONCE(x)     (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

static inline void irq_enable(void)
{
    asm volatile("sti" ::: "memory");
}

static inline void irq_disable(void)
{
    asm volatile("cli" ::: "memory");
}

/* halt_forever — stop this CPU with interrupts off. */
static inline __attribute__((noreturn)) void halt_forever(void)
{
    for (;;)
        asm volatile("cli; hlt" ::: "memory");
}

#endif
