/*
 * smp.c — per-CPU data and AP start-up (smp.h).
 *
 * One AP starts at a time (smp_boot_lock): head.S's AP entries take their
 * stack from ap_boot_stack, which the starter sets.
 */
#include <stdint.h>
#include <xen/errno.h>
#include <xen/vcpu.h>
#include <xen/hvm/hvm_vcpu.h>
#include <xen/arch-x86/cpuid.h>

#include "xenkern/boot.h"
#include "xenkern/console.h"
#include "xenkern/hypercall.h"
#include "xenkern/kernel.h"
#include "xenkern/lapic.h"
#include "xenkern/lib.h"
#include "xenkern/pvclock.h"
#include "xenkern/smp.h"
#include "xenkern/traps.h"
#include "xenkern/x86.h"

#define TRAMPOLINE_BASE   0x8000UL /* trampoline.S */
#define TRAMPOLINE_VECTOR (TRAMPOLINE_BASE >> 12)
#define START_TIMEOUT_NS  1000000000ULL

#define CR0_PE   0x00000001UL
#define CR0_MP   0x00000002UL
#define CR0_ET   0x00000010UL
#define CR0_NE   0x00000020UL
#define CR0_WP   0x00010000UL
#define CR0_PG   0x80000000UL
#define CR4_PAE  0x00000020UL
#define EFER_LME 0x00000100UL
#define EFER_LMA 0x00000400UL

extern uint8_t pml4[];
extern const uint8_t trampoline_start[], trampoline_end[];
extern uint64_t ap_boot_stack;
extern const uint8_t ap_start64[];
void smp_ap_main(void);

struct cpu smp_cpus[SMP_MAX_CPUS];
static uint8_t ap_stacks[SMP_MAX_CPUS][SMP_STACK_BYTES]
    __attribute__((aligned(4096), section(".bss.stack")));
static spinlock_t smp_boot_lock = SPINLOCK_INIT;

unsigned int smp_read_vcpu_id(void)
{
    if (xen_cpuid_base) {
        struct cpuid_regs r = cpuid(xen_cpuid_base + 4, 0);
        if (r.eax & XEN_HVM_CPUID_VCPU_ID_PRESENT)
            return r.ebx;
    }
    if (cpuid(1, 0).ecx & (1u << 21))
        return cpuid(0xb, 0).edx; /* x2APIC id */
    return cpuid(1, 0).ebx >> 24;
}

void smp_cpu_init(unsigned int id)
{
    struct cpu *c = &smp_cpus[id];

    c->self = c;
    c->id = id;
    wrmsr(MSR_GS_BASE, (uint64_t)c);
}

/* First C code of an AP, on its own stack (head.S ap_start64). */
void smp_ap_main(void)
{
    unsigned int id = smp_read_vcpu_id();
    struct cpu *c;

    if (id >= SMP_MAX_CPUS)
        halt_forever();
    smp_cpu_init(id);
    c = &smp_cpus[id];
    traps_init();
    lapic_init();
    c->apic_id = lapic_id();
    smp_mb();
    c->online = 1;
    if (c->fn)
        c->fn(c->arg);
    console_flush();
    smp_mb();
    c->done = 1;
    halt_forever();
}

static void *stack_top(unsigned int id)
{
    return ap_stacks[id] + SMP_STACK_BYTES;
}

static int wait_online(struct cpu *c)
{
    uint64_t end = time_now_ns() + START_TIMEOUT_NS;

    while (!READ_ONCE(c->online)) {
        if (time_now_ns() > end)
            return -XEN_ETIMEDOUT;
        cpu_relax();
    }
    return 0;
}

static int prepare(unsigned int id, smp_fn fn, void *arg)
{
    struct cpu *c;

    if (id == 0 || id >= SMP_MAX_CPUS || smp_cpus[id].online)
        return -XEN_EINVAL;
    c = &smp_cpus[id];
    c->fn = fn;
    c->arg = arg;
    c->done = 0;
    ap_boot_stack = (uint64_t)stack_top(id);
    smp_mb();
    return 0;
}

int smp_start_sipi(unsigned int id, uint32_t apic_id, smp_fn fn, void *arg)
{
    int rc;

    spin_lock(&smp_boot_lock);
    rc = prepare(id, fn, arg);
    if (rc)
        goto out;
    memcpy((void *)TRAMPOLINE_BASE, trampoline_start,
           (size_t)(trampoline_end - trampoline_start));
    smp_mb();
    lapic_send_ipi(apic_id, APIC_DM_INIT | APIC_LEVEL_ASSERT);
    time_spin_ns(1000000); /* 1 ms; the SDM asks for 10 on hardware */
    lapic_send_ipi(apic_id, APIC_DM_STARTUP | TRAMPOLINE_VECTOR);
    time_spin_ns(200000);
    if (!READ_ONCE(smp_cpus[id].online))
        lapic_send_ipi(apic_id, APIC_DM_STARTUP | TRAMPOLINE_VECTOR);
    rc = wait_online(&smp_cpus[id]);
out:
    spin_unlock(&smp_boot_lock);
    return rc;
}

void smp_hvm_context(unsigned int id, struct vcpu_hvm_context *c)
{
    memset(c, 0, sizeof(*c));
    c->mode = VCPU_HVM_MODE_64B;
    c->cpu_regs.x86_64.rip = (uint64_t)ap_start64;
    c->cpu_regs.x86_64.rsp = (uint64_t)stack_top(id);
    c->cpu_regs.x86_64.rflags = 0x2;
    c->cpu_regs.x86_64.cr0 =
        CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    c->cpu_regs.x86_64.cr3 = (uint64_t)pml4;
    c->cpu_regs.x86_64.cr4 = CR4_PAE;
    c->cpu_regs.x86_64.efer = EFER_LME | EFER_LMA;
}

int smp_start_vcpuop(unsigned int id, smp_fn fn, void *arg)
{
    struct vcpu_hvm_context ctx;
    long rc;

    spin_lock(&smp_boot_lock);
    rc = prepare(id, fn, arg);
    if (rc)
        goto out;
    smp_hvm_context(id, &ctx);
    rc = HYPERVISOR_vcpu_op(VCPUOP_initialise, id, &ctx);
    if (rc)
        goto out;
    rc = HYPERVISOR_vcpu_op(VCPUOP_up, id, NULL);
    if (rc)
        goto out;
    rc = wait_online(&smp_cpus[id]);
out:
    spin_unlock(&smp_boot_lock);
    return (int)rc;
}

/* ---- ACPI MADT: APIC ids in processor order (ACPI 6.x, 5.2.12) ---- */
struct acpi_header {
    char sig[4];
    uint32_t length;
    uint8_t revision, checksum;
    char oem[6], oem_table[8];
    uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

struct acpi_rsdp {
    char sig[8];
    uint8_t checksum;
    char oem[6];
    uint8_t revision;
    uint32_t rsdt;
    uint32_t length;
    uint64_t xsdt;
} __attribute__((packed));

static const struct acpi_rsdp *find_rsdp(void)
{
    if (boot_start_info && boot_start_info->rsdp_paddr)
        return (const void *)(unsigned long)boot_start_info->rsdp_paddr;
    /* No pointer (QEMU's PVH boot): scan the BIOS area. */
    for (unsigned long a = 0xe0000; a < 0x100000; a += 16)
        if (!memcmp((const void *)a, "RSD PTR ", 8))
            return (const void *)a;
    return NULL;
}

static const struct acpi_header *find_madt(void)
{
    const struct acpi_rsdp *rsdp = find_rsdp();
    const struct acpi_header *root;
    unsigned int entry_size, n;

    if (!rsdp)
        return NULL;
    if (rsdp->revision >= 2 && rsdp->xsdt) {
        root = (const void *)(unsigned long)rsdp->xsdt;
        entry_size = 8;
    } else {
        root = (const void *)(unsigned long)rsdp->rsdt;
        entry_size = 4;
    }
    if (!root || root->length < sizeof(*root))
        return NULL;
    n = (root->length - sizeof(*root)) / entry_size;
    for (unsigned int i = 0; i < n; i++) {
        const uint8_t *e = (const uint8_t *)(root + 1) + i * entry_size;
        uint64_t pa = 0;
        memcpy(&pa, e, entry_size);
        if (pa && pa < (4ULL << 30) &&
            !memcmp(((const struct acpi_header *)pa)->sig, "APIC", 4))
            return (const void *)pa;
    }
    return NULL;
}

uint32_t smp_apic_id_of(unsigned int id)
{
    const struct acpi_header *madt = find_madt();
    const uint8_t *p, *end;
    unsigned int n = 0;

    if (!madt)
        return id;
    p = (const uint8_t *)madt + sizeof(*madt) + 8; /* lapic addr, flags */
    end = (const uint8_t *)madt + madt->length;
    while (p + 2 <= end && p[1] >= 2) {
        if (p[0] == 0 && p[1] >= 8 && (p[4] & 1)) { /* local APIC */
            if (n++ == id)
                return p[3];
        } else if (p[0] == 9 && p[1] >= 16 && (p[8] & 1)) { /* x2APIC */
            if (n++ == id) {
                uint32_t x;
                memcpy(&x, p + 4, 4);
                return x;
            }
        }
        p += p[1];
    }
    return id;
}
