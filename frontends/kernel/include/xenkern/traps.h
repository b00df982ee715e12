/*
 * traps.h — the IDT: 256 vectors.
 *
 * Exceptions (vectors 0–31) print the vector, error code, RIP and CR2 and
 * end the domain with SHUTDOWN_crash (after trap_fatal_hook, which the
 * test harness uses to print its TAP verdict).  Vectors 32–255 call the
 * handler registered with irq_register(), then send the LAPIC EOI.
 */
#ifndef XENKERN_TRAPS_H
#define XENKERN_TRAPS_H

#include <stdint.h>

/* The stack as head.S's trap_common leaves it. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector; /* low 8 bits */
    uint64_t error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler_fn)(struct trap_frame *f);

/* traps_init — load the IDT on this CPU (the table is shared). */
void traps_init(void);

/* irq_register — handle vector (32..254); NULL unregisters. */
void irq_register(unsigned int vector, irq_handler_fn fn);

/* trap_fatal_hook — called with a one-line reason before the crash. */
extern void (*trap_fatal_hook)(const char *reason);

/* trap_vector_name — "#UD" etc. for vectors < 32, else "irq". */
const char *trap_vector_name(unsigned int vector);

#endif
