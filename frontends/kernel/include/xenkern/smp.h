/*
 * smp.h — per-CPU data, spinlocks, atomics and starting APs.
 *
 * CPUs are indexed by vCPU id: CPUID leaf base + 4 EBX when
 * XEN_HVM_CPUID_VCPU_ID_PRESENT (<xen/arch-x86/cpuid.h>), else the APIC id.
 * %gs points at the CPU's struct cpu.
 *
 * Two ways to start an AP:
 *   smp_start_sipi()   — INIT, SIPI, SIPI through the LAPIC ICR to the
 *                        real-mode trampoline at 0x8000 (as on hardware);
 *   smp_start_vcpuop() — VCPUOP_initialise with a VCPU_HVM_MODE_64B
 *                        struct vcpu_hvm_context (<xen/hvm/hvm_vcpu.h>),
 *                        then VCPUOP_up (<xen/vcpu.h>).
 * Both run fn(arg) on the new CPU once its IDT, LAPIC and %gs are set up;
 * the AP halts when fn returns.
 */
#ifndef XENKERN_SMP_H
#define XENKERN_SMP_H

#include <stdbool.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/hvm/hvm_vcpu.h>

#define SMP_MAX_CPUS    32
#define SMP_STACK_BYTES 16384
#define SMP_LINE_BYTES  160

typedef void (*smp_fn)(void *arg);

struct cpu {
    struct cpu *self; /* %gs:0 */
    unsigned int id;  /* vCPU id */
    uint32_t apic_id;
    volatile int online;
    volatile int done; /* fn returned */
    smp_fn fn;
    void *arg;
    unsigned int line_len; /* console line buffer */
    char line[SMP_LINE_BYTES];
};

extern struct cpu smp_cpus[SMP_MAX_CPUS];

/* this_cpu — the running CPU's struct cpu. */
static inline struct cpu *this_cpu(void)
{
    struct cpu *c;
    asm volatile("mov %%gs:0, %0" : "=r"(c));
    return c;
}

static inline unsigned int smp_id(void)
{
    return this_cpu()->id;
}

/* smp_read_vcpu_id — vCPU id of the running CPU from CPUID. */
unsigned int smp_read_vcpu_id(void);

/* smp_cpu_init — set %gs to smp_cpus[id] on the running CPU. */
void smp_cpu_init(unsigned int id);

/*
 * smp_start_sipi — start vCPU id (APIC id apic_id) with INIT/SIPI/SIPI.
 * Waits up to 1 s of system time for it to come online.
 * Returns 0, -XEN_EINVAL (bad id) or -XEN_ETIMEDOUT.
 */
int smp_start_sipi(unsigned int id, uint32_t apic_id, smp_fn fn, void *arg);

/*
 * smp_start_vcpuop — start vCPU id with VCPUOP_initialise + VCPUOP_up.
 * Returns 0, the hypercall's -XEN_E*, or -XEN_ETIMEDOUT.
 */
int smp_start_vcpuop(unsigned int id, smp_fn fn, void *arg);

/* smp_hvm_context — fill c as smp_start_vcpuop() does for vCPU id (64-bit
 * mode, entry ap_start64, id's stack); for tests of VCPUOP_initialise. */
void smp_hvm_context(unsigned int id, struct vcpu_hvm_context *c);

/* smp_apic_id_of — APIC id of vCPU id from the ACPI MADT (processor
 * order), or id itself when there is no MADT. */
uint32_t smp_apic_id_of(unsigned int id);

/* ---- spinlocks and atomics (lock-prefixed, no cmpxchg16b) ---- */
typedef struct {
    volatile int locked;
} spinlock_t;
#define SPINLOCK_INIT                                                          \
    {                                                                          \
        0                                                                      \
    }

static inline void spin_lock(spinlock_t *l)
{
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        while (l->locked)
            asm volatile("pause");
}

static inline void spin_unlock(spinlock_t *l)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* atomic_add — lock xadd; returns the old value. */
static inline long atomic_add(volatile long *p, long v)
{
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}

/* atomic_cmpxchg — lock cmpxchg; returns the value found at *p. */
static inline long atomic_cmpxchg(volatile long *p, long old, long new_val)
{
    __atomic_compare_exchange_n(p, &old, new_val, 0, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
    return old;
}

#endif
