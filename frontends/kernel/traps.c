/* traps.c — IDT, exception reports, interrupt dispatch (traps.h). */
#include <stdint.h>

#include <xen/sched.h>

#include "xenkern/console.h"
#include "xenkern/kernel.h"
#include "xenkern/lapic.h"
#include "xenkern/lib.h"
#include "xenkern/smp.h"
#include "xenkern/traps.h"
#include "xenkern/x86.h"

#define GDT_CS64    0x10
#define GATE_INTR64 0x8e /* present, DPL 0, 64-bit interrupt gate */
#define STUB_BYTES  16

struct idt_entry {
    uint16_t off_lo;
    uint16_t sel;
    uint8_t ist;
    uint8_t type;
    uint16_t off_mid;
    uint32_t off_hi;
    uint32_t reserved;
};

extern const uint8_t trap_stubs[];
void trap_dispatch(struct trap_frame *f);

static struct idt_entry idt[256] __attribute__((aligned(16)));
static irq_handler_fn irq_handlers[256];
static volatile long trap_fatal_depth;
void (*trap_fatal_hook)(const char *reason);

static const char *const exception_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
    "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
    "#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

const char *trap_vector_name(unsigned int vector)
{
    return vector < 32 ? exception_names[vector] : "irq";
}

void traps_init(void)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) desc = {sizeof(idt) - 1, (uint64_t)idt};

    /* The table is filled once, by the boot CPU. */
    if (!idt[0].type) {
        for (unsigned int v = 0; v < 256; v++) {
            uint64_t a = (uint64_t)(trap_stubs + v * STUB_BYTES);
            idt[v] = (struct idt_entry){
                .off_lo = (uint16_t)a,
                .sel = GDT_CS64,
                .type = GATE_INTR64,
                .off_mid = (uint16_t)(a >> 16),
                .off_hi = (uint32_t)(a >> 32),
            };
        }
    }
    asm volatile("lidt %0" ::"m"(desc));
}

void irq_register(unsigned int vector, irq_handler_fn fn)
{
    if (vector >= 32 && vector < 256)
        irq_handlers[vector] = fn;
}

static void trap_fatal(struct trap_frame *f, unsigned int vec)
{
    char reason[160];

    if (atomic_add(&trap_fatal_depth, 1)) {
        /* A fault while reporting one: stop without printing. */
        kernel_shutdown(SHUTDOWN_crash);
    }
    snprintf(reason, sizeof(reason),
             "exception %u %s on cpu %u: error 0x%lx rip 0x%lx cr2 0x%lx", vec,
             trap_vector_name(vec), this_cpu()->id,
             (unsigned long)f->error_code, (unsigned long)f->rip, read_cr2());
    printf("\n%s\n", reason);
    printf("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n",
           (unsigned long)f->rax, (unsigned long)f->rbx, (unsigned long)f->rcx,
           (unsigned long)f->rdx);
    printf("  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n",
           (unsigned long)f->rsi, (unsigned long)f->rdi, (unsigned long)f->rbp,
           (unsigned long)f->rsp);
    if (trap_fatal_hook)
        trap_fatal_hook(reason);
    kernel_shutdown(SHUTDOWN_crash);
}

void trap_dispatch(struct trap_frame *f)
{
    unsigned int vec = f->vector & 0xff;

    if (vec < 32) {
        trap_fatal(f, vec);
        return;
    }
    if (irq_handlers[vec])
        irq_handlers[vec](f);
    if (vec != LAPIC_SPURIOUS_VECTOR)
        lapic_eoi();
}
